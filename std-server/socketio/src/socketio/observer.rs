//! Observers: what a monitoring tool (the admin UI, metrics) sees of the
//! server's traffic, through [`Io::observe`](super::Io::observe) or the
//! builder's [`observe`](super::SocketIoBuilder::observe) (which also
//! installs the Engine.IO layer's
//! [`EngineObserver`](crate::engine::observe::EngineObserver): handshakes,
//! upgrades, messages and bytes, refusals).
//!
//! The hooks cost one relaxed atomic load each on the hot path while no
//! observer is installed. Installed observers are called synchronously, on
//! the thread that does the work, sometimes under the server's locks:
//! they must be quick and must not call back into the server (count, or
//! queue the event for a task of their own).

use super::{DisconnectReason, Payload, Socket, SocketRef};
use oxio_adapter::{Outgoing, Room};
use oxio_engine::sync::LockExt;
use oxio_engine::{CloseReason, Message, Session};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// Hooks called by the Socket.IO layer; every method does nothing by
/// default, so an observer implements only what it needs.
///
/// ```
/// use oxio_server::engine::{Message, Session};
/// use oxio_server::socketio::{Observer, SocketIo};
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use std::sync::Arc;
///
/// #[derive(Default)]
/// struct BytesIn(AtomicU64);
///
/// impl Observer for BytesIn {
///     fn packet_in(&self, _session: &Session, msg: &Message) {
///         let n = match msg {
///             Message::Text(t) => t.as_str().len(),
///             Message::Binary(b) => b.len(),
///         };
///         self.0.fetch_add(n as u64, Ordering::Relaxed);
///     }
/// }
///
/// let io = SocketIo::builder().build().io();
/// let counter = Arc::new(BytesIn::default());
/// io.observe(counter.clone()).unwrap();
/// assert_eq!(counter.0.load(Ordering::Relaxed), 0);
/// ```
pub trait Observer: Send + Sync + 'static {
    /// An Engine.IO session opened (Node's `io.engine.on("connection")`).
    fn session_opened(&self, _session: &Session) {}
    /// An Engine.IO session closed, with its reason.
    fn session_closed(&self, _session: &Session, _reason: CloseReason) {}
    /// A message (one Engine.IO packet with data) arrived on a session.
    fn packet_in(&self, _session: &Session, _msg: &Message) {}
    /// Messages were queued for a session (one Socket.IO packet: its text
    /// frame and its binary attachments).
    fn packets_out(&self, _session: &Session, _msgs: &[Message]) {}
    /// A socket joined its namespace (its CONNECT reply sent, its
    /// connection handler started).
    fn socket_connected(&self, _socket: &SocketRef) {}
    /// A socket left its namespace (before its disconnect handler runs).
    fn socket_disconnected(&self, _socket: &SocketRef, _reason: DisconnectReason) {}
    /// A socket of this node joined a room (its own id's room included).
    fn room_joined(&self, _socket: &Socket, _room: &Room) {}
    /// A socket of this node left a room (on disconnect: every room).
    fn room_left(&self, _socket: &Socket, _room: &Room) {}
    /// An event arrived from a socket's client (Node's `socket.onAny`),
    /// before the packet middlewares; `payload.raw()` is the JSON array
    /// with the event name first.
    fn event_received(&self, _socket: &SocketRef, _payload: &Payload) {}
    /// An event packet (emit or broadcast, not an ack) was queued for a
    /// socket's client (Node's `socket.onAnyOutgoing`).
    fn event_sent(&self, _socket: &Socket, _packet: &Outgoing) {}
    /// A broadcast (`io.emit`, `to(..).emit`, ...) was handed to the adapter.
    fn broadcast(&self) {}
    /// A packet was queued for one socket (a direct emit, or one delivery
    /// of a broadcast).
    fn delivered(&self) {}
    /// A packet was dropped because the client's queue was full
    /// (`volatile`: a volatile packet, else the `DropPacket` policy).
    fn dropped(&self, _volatile: bool) {}
    /// A client was disconnected because its queue was full (the
    /// `Disconnect` overflow policy).
    fn slow_client_closed(&self) {}
    /// An emit with ack got no answer in time.
    fn ack_timeout(&self) {}
}

/// Most observers one server takes ([`Io::observe`](super::Io::observe)).
pub const MAX_OBSERVERS: usize = 8;

/// [`Io::observe`](super::Io::observe) was called more than
/// [`MAX_OBSERVERS`] times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("at most {MAX_OBSERVERS} observers can be installed")]
pub struct TooManyObservers;

/// The installed observers: append-only slots, read without a lock or a
/// reference count (a hook may even run inside another); the hot path
/// reads one atomic count.
#[derive(Default)]
pub(crate) struct Observers {
    count: AtomicUsize,
    slots: [OnceLock<Arc<dyn Observer>>; MAX_OBSERVERS],
    adding: Mutex<()>,
}

impl Observers {
    /// Whether any observer is installed.
    #[inline]
    pub(crate) fn active(&self) -> bool {
        self.count.load(Ordering::Relaxed) != 0
    }

    pub(crate) fn add(&self, observer: Arc<dyn Observer>) -> Result<(), TooManyObservers> {
        let _one_at_a_time = self.adding.locked();
        let n = self.count.load(Ordering::Acquire);
        let slot = self.slots.get(n).ok_or(TooManyObservers)?;
        slot.set(observer).map_err(|_| TooManyObservers)?;
        self.count.store(n + 1, Ordering::Release);
        Ok(())
    }

    /// Calls `f` with each observer (nothing when none is installed).
    #[inline]
    pub(crate) fn each(&self, f: impl Fn(&dyn Observer)) {
        if !self.active() {
            return;
        }
        self.each_slow(&f);
    }

    #[cold]
    fn each_slow(&self, f: &dyn Fn(&dyn Observer)) {
        let n = self.count.load(Ordering::Acquire);
        for slot in self.slots.iter().take(n) {
            if let Some(o) = slot.get() {
                f(&**o);
            }
        }
    }
}
