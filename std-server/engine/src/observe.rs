//! Hooks for counting what the engine does (metrics, an admin dashboard):
//! an [`EngineObserver`] set in [`EngineConfig::observer`](crate::config::EngineConfig::observer)
//! is told of handshakes, upgrades, closes, messages in and out, full
//! queues and refused requests. Every method has an empty default, so an
//! observer implements only what it counts. The engine calls them on the
//! hot path, sometimes with a session's lock held (`upgrade`): they must be
//! cheap, must not block and must not call back into the engine (an atomic
//! add is the intended cost).

use crate::contract::CloseReason;
use oxio_codec::engineio::Transport;
use std::sync::Arc;

/// Why the engine refused a request, as a metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Refusal {
    /// An Engine.IO error answer, with its code: 0 transport unknown,
    /// 1 session id unknown, 2 bad handshake method, 3 bad request,
    /// 4 forbidden, 5 unsupported protocol version.
    Code(u8),
    /// A handshake past [`EngineConfig::max_sessions`](crate::config::EngineConfig::max_sessions) (503).
    SessionLimit,
    /// A handshake while the engine shuts down (503).
    ShuttingDown,
}

impl Refusal {
    /// The label value: `"0"`..`"5"`, `"session_limit"` or `"shutting_down"`.
    ///
    /// ```
    /// use oxio_engine::observe::Refusal;
    /// assert_eq!(Refusal::Code(1).label(), "1");
    /// assert_eq!(Refusal::SessionLimit.label(), "session_limit");
    /// ```
    pub fn label(self) -> &'static str {
        match self {
            Refusal::Code(0) => "0",
            Refusal::Code(1) => "1",
            Refusal::Code(2) => "2",
            Refusal::Code(3) => "3",
            Refusal::Code(4) => "4",
            Refusal::Code(5) => "5",
            Refusal::Code(_) => "other",
            Refusal::SessionLimit => "session_limit",
            Refusal::ShuttingDown => "shutting_down",
        }
    }
}

/// What the engine reports; see the [module](self) docs.
///
/// ```
/// use oxio_engine::observe::EngineObserver;
/// use std::sync::atomic::{AtomicU64, Ordering};
///
/// #[derive(Default)]
/// struct BytesIn(AtomicU64);
/// impl EngineObserver for BytesIn {
///     fn message_in(&self, bytes: usize) {
///         self.0.fetch_add(bytes as u64, Ordering::Relaxed);
///     }
/// }
/// let config = oxio_engine::config::EngineConfig {
///     observer: Some(std::sync::Arc::new(BytesIn::default())),
///     ..Default::default()
/// };
/// # let _ = config;
/// ```
pub trait EngineObserver: Send + Sync + 'static {
    /// A session was opened on `transport` (its handshake succeeded).
    fn handshake(&self, transport: Transport) {
        let _ = transport;
    }
    /// A polling session moved to WebSocket.
    fn upgrade(&self) {}
    /// A session closed while on `transport`.
    fn session_closed(&self, transport: Transport, reason: CloseReason) {
        let _ = (transport, reason);
    }
    /// A message packet (text or binary) arrived from a client; `bytes`
    /// is its payload length.
    fn message_in(&self, bytes: usize) {
        let _ = bytes;
    }
    /// `count` message packets of `bytes` payload bytes in all were queued
    /// for a client.
    fn messages_out(&self, count: usize, bytes: usize) {
        let _ = (count, bytes);
    }
    /// A send found the session's queue full (nothing was queued).
    fn queue_full(&self) {}
    /// A request was refused.
    fn request_refused(&self, refusal: Refusal) {
        let _ = refusal;
    }
}

/// Two observers told the same things, in order: what
/// [`EngineConfig::observer`](crate::config::EngineConfig::observer) holds
/// when two parts of an application count (metrics and an admin
/// dashboard).
///
/// ```
/// use oxio_engine::observe::{EngineObserver, Pair};
/// use std::sync::Arc;
///
/// struct Nothing;
/// impl EngineObserver for Nothing {}
/// let both: Arc<dyn EngineObserver> = Arc::new(Pair(Arc::new(Nothing), Arc::new(Nothing)));
/// both.upgrade();
/// ```
pub struct Pair(pub Arc<dyn EngineObserver>, pub Arc<dyn EngineObserver>);

impl EngineObserver for Pair {
    fn handshake(&self, transport: Transport) {
        self.0.handshake(transport);
        self.1.handshake(transport);
    }
    fn upgrade(&self) {
        self.0.upgrade();
        self.1.upgrade();
    }
    fn session_closed(&self, transport: Transport, reason: CloseReason) {
        self.0.session_closed(transport, reason);
        self.1.session_closed(transport, reason);
    }
    fn message_in(&self, bytes: usize) {
        self.0.message_in(bytes);
        self.1.message_in(bytes);
    }
    fn messages_out(&self, count: usize, bytes: usize) {
        self.0.messages_out(count, bytes);
        self.1.messages_out(count, bytes);
    }
    fn queue_full(&self) {
        self.0.queue_full();
        self.1.queue_full();
    }
    fn request_refused(&self, refusal: Refusal) {
        self.0.request_refused(refusal);
        self.1.request_refused(refusal);
    }
}
