//! Where broadcasts go: the [`Adapter`] of each namespace knows which
//! socket is in which room and delivers packets to them.
//!
//! The default, [`MemoryAdapter`], serves one process. The trait is shaped
//! so a cluster adapter (the Redis adapter, protocol.md §6) can forward
//! every operation a namespace offers to other nodes: broadcasts (with
//! their [`BroadcastOptions`] as the wire carries them), broadcasts with
//! acks (responses plus each node's client count, through an
//! [`AckCollector`]), `fetch_sockets`, `sockets_join`/`sockets_leave`,
//! `disconnect_sockets`, server-side emits and the server count.
//! Operations that need answers from other nodes return futures; the
//! others are fire-and-forget and never wait on a client or a peer.

mod memory;
mod rooms;

pub use memory::{MemoryAdapter, MemoryAdapterFactory};
pub use rooms::RoomIndex;

use crate::socketio::{AckResponse, Outgoing, Sid, SocketRef};
use core::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::mpsc;

/// A room name. Every socket is in the room named by its own id.
pub type Room = Arc<str>;

/// A boxed future, for the adapter operations that may wait on other nodes.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// Who a broadcast-style operation targets: sockets in any of `rooms` (all
/// sockets when empty), minus those in any of `except`. This is the
/// `opts` object @socket.io/redis-adapter puts on the wire.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BroadcastOptions {
    /// Target rooms; empty means every socket of the namespace.
    pub rooms: Vec<Room>,
    /// Rooms whose sockets are excluded (a sender's own id for `socket.broadcast()`).
    pub except: Vec<Room>,
    /// Delivery flags.
    pub flags: BroadcastFlags,
}

/// Flags of a broadcast, as Node names them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BroadcastFlags {
    /// Drop the packet for a client whose queue is full instead of
    /// disconnecting it.
    pub volatile: bool,
    /// This node only: do not forward to other nodes.
    pub local: bool,
    /// How long a broadcast with acks waits (the server default when `None`).
    pub timeout: Option<Duration>,
}

/// An adapter failure (a cluster adapter's transport, typically).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdapterError {
    /// Other nodes could not be reached or did not answer in time.
    Unavailable(String),
    /// The namespace is gone.
    NamespaceClosed,
}

impl fmt::Display for AdapterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AdapterError::Unavailable(why) => write!(f, "adapter unavailable: {why}"),
            AdapterError::NamespaceClosed => f.write_str("namespace closed"),
        }
    }
}

impl std::error::Error for AdapterError {}

/// One namespace's room index and delivery, for one process or a cluster.
///
/// Membership calls (`add_all`, `del`, `del_all`, `socket_rooms`) concern
/// local sockets and are synchronous. Delivery calls must not wait on a
/// client: local sends are non-blocking, a slow client is disconnected or
/// (volatile) skipped by the socket itself.
pub trait Adapter: Send + Sync + 'static {
    /// Adds local socket `sid` to `rooms`.
    fn add_all(&self, sid: &Sid, rooms: &[Room]);
    /// Removes local socket `sid` from `rooms`; empty rooms are deleted.
    fn del(&self, sid: &Sid, rooms: &[Room]);
    /// Removes local socket `sid` from every room (it disconnected).
    fn del_all(&self, sid: &Sid);
    /// The rooms local socket `sid` is in.
    fn socket_rooms(&self, sid: &Sid) -> Vec<Room>;
    /// Sends `packet` (encoded once) to every targeted socket, each at most once.
    fn broadcast(&self, packet: &Outgoing, opts: &BroadcastOptions) -> Result<(), AdapterError>;
    /// Sends `packet`, which carries ack id `ack_id`, to every targeted
    /// socket and routes their answers to the returned collector, with the
    /// number of clients reached (other nodes add theirs as they report).
    fn broadcast_with_ack(
        &self,
        packet: &Outgoing,
        ack_id: u64,
        opts: &BroadcastOptions,
    ) -> Result<AckCollector, AdapterError>;
    /// The targeted sockets, local and remote.
    fn fetch_sockets(
        &self,
        opts: &BroadcastOptions,
    ) -> BoxFuture<Result<Vec<FetchedSocket>, AdapterError>>;
    /// Makes the targeted sockets join `rooms`.
    fn add_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) -> Result<(), AdapterError>;
    /// Makes the targeted sockets leave `rooms`.
    fn del_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) -> Result<(), AdapterError>;
    /// Disconnects the targeted sockets; `close` also closes their connections.
    fn disconnect_sockets(&self, opts: &BroadcastOptions, close: bool) -> Result<(), AdapterError>;
    /// Every room with at least one socket, on every node.
    fn rooms(&self) -> BoxFuture<Result<Vec<Room>, AdapterError>>;
    /// Sends an event to the other nodes' server-side listeners (Node's
    /// `serverSideEmit`). A single node has nobody to tell.
    fn server_side_emit(&self, packet: &Outgoing) -> Result<(), AdapterError> {
        let _ = packet;
        Ok(())
    }
    /// How many nodes serve this namespace.
    fn server_count(&self) -> BoxFuture<Result<usize, AdapterError>> {
        Box::pin(std::future::ready(Ok(1)))
    }
    /// The namespace is being removed (an emptied dynamic child).
    fn close(&self) {}
}

/// Makes one adapter per namespace. Closures qualify.
///
/// ```
/// use std::sync::Arc;
/// use oxio_server::adapter::{Adapter, LocalNamespace, MemoryAdapter};
/// use oxio_server::socketio::SocketIo;
///
/// let sio = SocketIo::builder()
///     .with_adapter(|ns: LocalNamespace| Arc::new(MemoryAdapter::new(ns)) as Arc<dyn Adapter>)
///     .build();
/// assert!(sio.io().of("/").is_some());
/// ```
pub trait AdapterFactory: Send + Sync + 'static {
    /// The adapter for the namespace `ns`.
    fn create(&self, ns: LocalNamespace) -> Arc<dyn Adapter>;
}

impl<F> AdapterFactory for F
where
    F: Fn(LocalNamespace) -> Arc<dyn Adapter> + Send + Sync + 'static,
{
    fn create(&self, ns: LocalNamespace) -> Arc<dyn Adapter> {
        self(ns)
    }
}

/// The adapter's view of its namespace's local sockets.
#[derive(Clone)]
pub struct LocalNamespace {
    pub(crate) ns: Weak<crate::socketio::namespace::Namespace>,
    pub(crate) name: Arc<str>,
}

impl LocalNamespace {
    /// The namespace name (`/`, `/admin`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The connected local socket `sid`.
    pub fn socket(&self, sid: &Sid) -> Option<SocketRef> {
        self.ns.upgrade()?.socket(sid)
    }

    /// Every connected local socket.
    pub fn sockets(&self) -> Vec<SocketRef> {
        self.ns.upgrade().map(|ns| ns.sockets()).unwrap_or_default()
    }
}

impl fmt::Debug for LocalNamespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalNamespace")
            .field("name", &self.name)
            .finish()
    }
}

/// What a socket answering a broadcast's ack reports through.
pub type AckSink = mpsc::UnboundedSender<AckEvent>;

/// An event on the way to a broadcast-with-ack's collector.
#[derive(Debug)]
pub enum AckEvent {
    /// One client's answer (or why none will come).
    Response(AckResponse),
    /// Another node reached this many more clients.
    ClientCount(usize),
    /// Another node finished reporting (its count is in).
    ServerDone,
}

/// Collects the answers to one broadcast with acks: the clients reached
/// locally, the nodes still to report their counts, and a channel of events.
#[derive(Debug)]
pub struct AckCollector {
    pub(crate) rx: mpsc::UnboundedReceiver<AckEvent>,
    tx: AckSink,
    pub(crate) expected: usize,
    pub(crate) servers_pending: usize,
}

impl AckCollector {
    /// An empty collector.
    ///
    /// ```
    /// let mut c = oxio_server::adapter::AckCollector::new();
    /// c.expect_clients(2);
    /// c.expect_servers(1);
    /// assert_eq!(c.expected_clients(), 2);
    /// ```
    pub fn new() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        AckCollector {
            rx,
            tx,
            expected: 0,
            servers_pending: 0,
        }
    }

    /// Where answers and remote counts are sent.
    pub fn sink(&self) -> AckSink {
        self.tx.clone()
    }

    /// Counts `n` more clients reached.
    pub fn expect_clients(&mut self, n: usize) {
        self.expected = self.expected.saturating_add(n);
    }

    /// Counts `n` more nodes that will report a [`AckEvent::ClientCount`]
    /// followed by [`AckEvent::ServerDone`].
    pub fn expect_servers(&mut self, n: usize) {
        self.servers_pending = self.servers_pending.saturating_add(n);
    }

    /// Clients known to be reached so far.
    pub fn expected_clients(&self) -> usize {
        self.expected
    }
}

impl Default for AckCollector {
    fn default() -> Self {
        Self::new()
    }
}

/// A socket returned by `fetch_sockets`: a local socket, or the data of a
/// socket on another node (act on it with `io.to(id)`).
#[derive(Debug, Clone)]
pub enum FetchedSocket {
    /// A socket of this process.
    Local(SocketRef),
    /// A socket on another node.
    Remote(RemoteSocket),
}

impl FetchedSocket {
    /// The socket id.
    pub fn id(&self) -> Sid {
        match self {
            FetchedSocket::Local(s) => s.id().clone(),
            FetchedSocket::Remote(r) => r.id.clone(),
        }
    }

    /// The rooms the socket is in.
    pub fn rooms(&self) -> Vec<Room> {
        match self {
            FetchedSocket::Local(s) => s.rooms(),
            FetchedSocket::Remote(r) => r.rooms.clone(),
        }
    }
}

/// A socket on another node, as a cluster adapter reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteSocket {
    /// Its id.
    pub id: Sid,
    /// Its rooms.
    pub rooms: Vec<Room>,
    /// Its handshake, as the other node serialized it.
    pub handshake: serde_json::Value,
    /// Its `data`, as the other node serialized it.
    pub data: serde_json::Value,
}

/// Room arguments: one name (`"a"`, a `String`, a [`Sid`]) or several
/// (`["a", "b"]`, a `Vec`, a slice).
///
/// ```
/// use oxio_server::adapter::IntoRooms;
/// assert_eq!(IntoRooms::into_rooms("a").len(), 1);
/// assert_eq!(["a", "b"].into_rooms().len(), 2);
/// assert_eq!(vec![String::from("a")].into_rooms()[0].as_ref(), "a");
/// ```
pub trait IntoRooms {
    /// The rooms.
    fn into_rooms(self) -> Vec<Room>;
}

mod sealed {
    use super::Room;
    use crate::socketio::Sid;

    /// One room name.
    pub trait OneRoom {
        fn into_room(self) -> Room;
    }
    impl OneRoom for &str {
        fn into_room(self) -> Room {
            self.into()
        }
    }
    impl OneRoom for String {
        fn into_room(self) -> Room {
            self.into()
        }
    }
    impl OneRoom for &String {
        fn into_room(self) -> Room {
            self.as_str().into()
        }
    }
    impl OneRoom for Room {
        fn into_room(self) -> Room {
            self
        }
    }
    impl OneRoom for &Room {
        fn into_room(self) -> Room {
            self.clone()
        }
    }
    impl OneRoom for Sid {
        fn into_room(self) -> Room {
            self.as_str().into()
        }
    }
    impl OneRoom for &Sid {
        fn into_room(self) -> Room {
            self.as_str().into()
        }
    }
}

impl<T: sealed::OneRoom> IntoRooms for T {
    fn into_rooms(self) -> Vec<Room> {
        vec![self.into_room()]
    }
}

impl<T: sealed::OneRoom> IntoRooms for Vec<T> {
    fn into_rooms(self) -> Vec<Room> {
        self.into_iter().map(sealed::OneRoom::into_room).collect()
    }
}

impl<T: sealed::OneRoom, const N: usize> IntoRooms for [T; N] {
    fn into_rooms(self) -> Vec<Room> {
        self.into_iter().map(sealed::OneRoom::into_room).collect()
    }
}

impl<T: sealed::OneRoom + Clone> IntoRooms for &[T] {
    fn into_rooms(self) -> Vec<Room> {
        self.iter()
            .cloned()
            .map(sealed::OneRoom::into_room)
            .collect()
    }
}
