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
#[cfg(feature = "redis")]
pub mod redis;
mod rooms;
mod server_side;

pub use memory::{MemoryAdapter, MemoryAdapterFactory};
pub use rooms::RoomIndex;
pub use server_side::{ServerAck, ServerEvent, ServerSideAcks, SocketData};

use crate::socketio::{AckResponse, EmitError, Outgoing, Sid, SocketRef};
use core::fmt;
use serde::Serialize;
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
    /// Sends an event to the other nodes' server-side listeners and
    /// collects one answer per node (Node's `serverSideEmitWithAck`),
    /// within the adapter's request timeout. A single node gets none.
    fn server_side_emit_with_ack(
        &self,
        packet: &Outgoing,
    ) -> BoxFuture<Result<ServerSideAcks, AdapterError>> {
        let _ = packet;
        Box::pin(std::future::ready(Ok(ServerSideAcks::default())))
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

    /// The namespace's next server ack id (for a broadcast with acks that
    /// another node asked for).
    pub fn next_ack_id(&self) -> u64 {
        self.ns.upgrade().map(|ns| ns.next_ack_id()).unwrap_or(0)
    }

    /// Hands an event from another node to this namespace's server-side
    /// listeners (registered with `on_server_side_emit`). Returns whether a
    /// listener took it.
    pub fn server_side_event(&self, event: ServerEvent) -> bool {
        match self.ns.upgrade() {
            Some(ns) => ns.dispatch_server_side(event),
            None => false,
        }
    }

    /// The namespace's adapter, if the namespace still exists.
    pub(crate) fn adapter(&self) -> Option<Arc<dyn Adapter>> {
        Some(self.ns.upgrade()?.adapter().clone())
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
    /// The number of other nodes, for a collector that counted on it with
    /// [`AckCollector::expect_server_count_later`].
    ServerCount(usize),
}

/// Collects the answers to one broadcast with acks: the clients reached
/// locally, the nodes still to report their counts, and a channel of events.
#[derive(Debug)]
pub struct AckCollector {
    pub(crate) rx: mpsc::UnboundedReceiver<AckEvent>,
    tx: AckSink,
    pub(crate) expected: usize,
    pub(crate) servers_pending: usize,
    /// [`AckEvent::ServerCount`]s still to come.
    pub(crate) servers_unknown: usize,
    /// Nodes that reported before the node count was known.
    pub(crate) servers_early: usize,
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
            servers_unknown: 0,
            servers_early: 0,
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

    /// Counts on one [`AckEvent::ServerCount`] that will say how many
    /// nodes report (a cluster adapter asks Redis while the broadcast goes).
    /// Until it comes, the collection is not complete.
    pub fn expect_server_count_later(&mut self) {
        self.servers_unknown = self.servers_unknown.saturating_add(1);
    }

    /// Applies one event to the counts; returns the response it carried.
    pub(crate) fn apply(&mut self, event: AckEvent) -> Option<AckResponse> {
        match event {
            AckEvent::Response(r) => return Some(r),
            AckEvent::ClientCount(n) => self.expect_clients(n),
            AckEvent::ServerDone => {
                // A node may report before the count of nodes is known:
                // borrow from the count to come.
                match self.servers_pending.checked_sub(1) {
                    Some(n) => self.servers_pending = n,
                    None => self.servers_early = self.servers_early.saturating_add(1),
                }
            }
            AckEvent::ServerCount(n) => {
                self.servers_unknown = self.servers_unknown.saturating_sub(1);
                let early = std::mem::take(&mut self.servers_early);
                self.servers_pending = self.servers_pending.saturating_add(n.saturating_sub(early));
            }
        }
        None
    }

    /// Whether every node reported and `responses` answers cover every client.
    pub(crate) fn complete(&self, responses: usize) -> bool {
        self.servers_unknown == 0 && self.servers_pending == 0 && responses >= self.expected
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

    /// Makes the socket join `rooms`, wherever it is.
    pub fn join(&self, rooms: impl IntoRooms) -> Result<(), AdapterError> {
        match self {
            FetchedSocket::Local(s) => {
                s.join(rooms);
                Ok(())
            }
            FetchedSocket::Remote(r) => r.join(rooms),
        }
    }

    /// Makes the socket leave `rooms`, wherever it is.
    pub fn leave(&self, rooms: impl IntoRooms) -> Result<(), AdapterError> {
        match self {
            FetchedSocket::Local(s) => {
                s.leave(rooms);
                Ok(())
            }
            FetchedSocket::Remote(r) => r.leave(rooms),
        }
    }

    /// Disconnects the socket (`close`: and closes its connection).
    pub fn disconnect(&self, close: bool) -> Result<(), AdapterError> {
        match self {
            FetchedSocket::Local(s) if close => {
                s.disconnect_and_close();
                Ok(())
            }
            FetchedSocket::Local(s) => {
                s.disconnect();
                Ok(())
            }
            FetchedSocket::Remote(r) => r.disconnect(close),
        }
    }

    /// Sends `event` with `args` (tuple rule) to the socket.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, args: &T) -> Result<(), EmitError> {
        match self {
            FetchedSocket::Local(s) => s.emit(event, args),
            FetchedSocket::Remote(r) => r.emit(event, args),
        }
    }
}

/// A socket on another node, as a cluster adapter reports it. Acting on
/// it (`join`, `leave`, `disconnect`, `emit`) goes through the namespace's
/// adapter, targeting the room named by its id, as Node's `RemoteSocket` does.
///
/// ```
/// use oxio_server::adapter::RemoteSocket;
/// let r = RemoteSocket::new("abc".into(), vec!["abc".into()], serde_json::json!({}), serde_json::json!({"user": 1}));
/// assert_eq!(r.data["user"], 1);
/// // Made by hand, it belongs to no namespace:
/// assert!(r.join("room").is_err());
/// ```
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
    ns: RemoteHandle,
}

/// The namespace a remote socket was fetched from (not compared).
#[derive(Clone, Default)]
struct RemoteHandle(Option<LocalNamespace>);

impl PartialEq for RemoteHandle {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl fmt::Debug for RemoteHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(ns) => write!(f, "{:?}", ns.name()),
            None => f.write_str("None"),
        }
    }
}

impl RemoteSocket {
    /// A remote socket that belongs to no namespace (acting on it fails
    /// with [`AdapterError::NamespaceClosed`]).
    pub fn new(
        id: Sid,
        rooms: Vec<Room>,
        handshake: serde_json::Value,
        data: serde_json::Value,
    ) -> Self {
        RemoteSocket {
            id,
            rooms,
            handshake,
            data,
            ns: RemoteHandle(None),
        }
    }

    /// Attaches the namespace it was fetched from.
    pub fn in_namespace(mut self, ns: LocalNamespace) -> Self {
        self.ns = RemoteHandle(Some(ns));
        self
    }

    fn target(&self) -> Result<(Arc<dyn Adapter>, BroadcastOptions), AdapterError> {
        let adapter = self
            .ns
            .0
            .as_ref()
            .and_then(LocalNamespace::adapter)
            .ok_or(AdapterError::NamespaceClosed)?;
        let opts = BroadcastOptions {
            rooms: vec![self.id.as_str().into()],
            ..Default::default()
        };
        Ok((adapter, opts))
    }

    /// Makes the socket join `rooms` (Node's `remoteSocket.join`).
    pub fn join(&self, rooms: impl IntoRooms) -> Result<(), AdapterError> {
        let (adapter, opts) = self.target()?;
        adapter.add_sockets(&opts, &rooms.into_rooms())
    }

    /// Makes the socket leave `rooms`.
    pub fn leave(&self, rooms: impl IntoRooms) -> Result<(), AdapterError> {
        let (adapter, opts) = self.target()?;
        adapter.del_sockets(&opts, &rooms.into_rooms())
    }

    /// Disconnects the socket (`close`: and closes its connection).
    pub fn disconnect(&self, close: bool) -> Result<(), AdapterError> {
        let (adapter, opts) = self.target()?;
        adapter.disconnect_sockets(&opts, close)
    }

    /// Sends `event` with `args` (tuple rule) to the socket.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, args: &T) -> Result<(), EmitError> {
        let (adapter, opts) = self.target()?;
        let name = self
            .ns
            .0
            .as_ref()
            .map(|n| n.name().to_owned())
            .unwrap_or_default();
        let packet = Outgoing::event(&name, None, event, args)?;
        adapter.broadcast(&packet, &opts)?;
        Ok(())
    }
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
