//! Hooks for counting what the Socket.IO layer does: a
//! [`SocketIoObserver`] set with [`SocketIoBuilder::observe`](super::SocketIoBuilder::observe)
//! is told of sockets joining and leaving namespaces, broadcasts,
//! deliveries, dropped packets, slow readers closed and ack timeouts. The
//! Engine.IO layer has its own ([`EngineObserver`](crate::engine::observe::EngineObserver):
//! handshakes, upgrades, messages and bytes, refusals); an observer
//! usually implements both, as [`Metrics`](crate::metrics::Metrics) does.
//! Every method has an empty default; they run on the hot path and must
//! be cheap and never block.

use super::DisconnectReason;
use std::sync::Arc;

/// What the Socket.IO layer reports; see the [module](self) docs.
///
/// ```
/// use oxio_server::socketio::{observe::SocketIoObserver, SocketIo};
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use std::sync::Arc;
///
/// #[derive(Default)]
/// struct Deliveries(AtomicU64);
/// impl SocketIoObserver for Deliveries {
///     fn delivered(&self) {
///         self.0.fetch_add(1, Ordering::Relaxed);
///     }
/// }
/// impl oxio_server::engine::observe::EngineObserver for Deliveries {}
///
/// let counts = Arc::new(Deliveries::default());
/// let sio = SocketIo::builder().observe(counts.clone()).build();
/// # let _ = sio;
/// ```
pub trait SocketIoObserver: Send + Sync + 'static {
    /// A socket joined namespace `ns` (its CONNECT was accepted).
    fn socket_connected(&self, ns: &str) {
        let _ = ns;
    }
    /// A connected socket left namespace `ns`.
    fn socket_disconnected(&self, ns: &str, reason: DisconnectReason) {
        let _ = (ns, reason);
    }
    /// A broadcast (`io.emit`, `to(..).emit`, ...) was handed to the adapter.
    fn broadcast(&self) {}
    /// A packet was queued for one socket (a direct emit, or one delivery
    /// of a broadcast).
    fn delivered(&self) {}
    /// A packet was dropped because the client's queue was full
    /// (`volatile`: a volatile packet, else the `DropPacket` policy).
    fn dropped(&self, volatile: bool) {
        let _ = volatile;
    }
    /// A client was disconnected because its queue was full (the
    /// `Disconnect` overflow policy).
    fn slow_client_closed(&self) {}
    /// An emit with ack got no answer in time.
    fn ack_timeout(&self) {}
}

/// Two observers told the same things, in order (see
/// [`SocketIoBuilder::observe`](super::SocketIoBuilder::observe), which
/// pairs a second observer with the first).
pub struct Pair(pub Arc<dyn SocketIoObserver>, pub Arc<dyn SocketIoObserver>);

impl SocketIoObserver for Pair {
    fn socket_connected(&self, ns: &str) {
        self.0.socket_connected(ns);
        self.1.socket_connected(ns);
    }
    fn socket_disconnected(&self, ns: &str, reason: DisconnectReason) {
        self.0.socket_disconnected(ns, reason);
        self.1.socket_disconnected(ns, reason);
    }
    fn broadcast(&self) {
        self.0.broadcast();
        self.1.broadcast();
    }
    fn delivered(&self) {
        self.0.delivered();
        self.1.delivered();
    }
    fn dropped(&self, volatile: bool) {
        self.0.dropped(volatile);
        self.1.dropped(volatile);
    }
    fn slow_client_closed(&self) {
        self.0.slow_client_closed();
        self.1.slow_client_closed();
    }
    fn ack_timeout(&self) {
        self.0.ack_timeout();
        self.1.ack_timeout();
    }
}
