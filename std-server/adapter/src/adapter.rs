//! The adapter contract: [`Adapter`], one per namespace, and the
//! [`AdapterFactory`] that makes them.

use crate::{
    AckCollector, AdapterError, BroadcastOptions, FoundSocket, LocalNamespace, Outgoing, Room,
    ServerSideAcks,
};
use oxio_engine::Sid;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// A boxed future, for the adapter operations that may wait on other nodes.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

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
    /// The targeted sockets, local (by id) and remote (with their data).
    fn fetch_sockets(
        &self,
        opts: &BroadcastOptions,
    ) -> BoxFuture<Result<Vec<FoundSocket>, AdapterError>>;
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

    /// Connection state recovery: keeps the session of a socket that lost
    /// its connection, for [`restore_session`](Self::restore_session).
    /// An adapter that cannot recover (the default) drops it.
    fn persist_session(&self, session: PersistedSession) {
        let _ = session;
    }

    /// Connection state recovery: the session `pid`, with the packets
    /// broadcast to it after `offset`, or `None` when the session is
    /// unknown or expired or `offset` is no longer held (the client then
    /// gets a new session, silently, as in Node). The default recovers
    /// nothing.
    fn restore_session(
        &self,
        pid: &str,
        offset: &str,
    ) -> BoxFuture<Result<Option<RestoredSession>, AdapterError>> {
        let _ = (pid, offset);
        Box::pin(std::future::ready(Ok(None)))
    }

    /// Connection state recovery: called once after every successful
    /// [`restore_session`](Self::restore_session), when socket `sid` is
    /// connected (`connected`: its CONNECT reply is queued) or failed to
    /// connect. An adapter that held packets for `sid` between taking its
    /// missed packets and now (so none is lost or sent twice) delivers
    /// them, in order, or drops them. `false`: the held packets overflowed;
    /// the Socket.IO layer then closes the connection (the client recovers
    /// again, from its last offset).
    fn restore_finished(&self, sid: &Sid, connected: bool) -> bool {
        let _ = (sid, connected);
        true
    }
}

/// Makes one adapter per namespace. Closures qualify.
///
/// ```
/// use std::sync::Arc;
/// use oxio_adapter::{Adapter, LocalNamespace, MemoryAdapter};
///
/// let factory = |ns: LocalNamespace| Arc::new(MemoryAdapter::new(ns)) as Arc<dyn Adapter>;
/// // SocketIo::builder().with_adapter(factory) in oxio-server
/// # use oxio_adapter::AdapterFactory;
/// let adapter = factory.create(LocalNamespace::detached("/"));
/// assert!(adapter.socket_rooms(&"a".into()).is_empty());
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

/// What connection state recovery keeps of a socket that lost its
/// connection (Node's `SessionToPersist`).
#[derive(Debug, Clone, PartialEq)]
pub struct PersistedSession {
    /// The socket id, given back on recovery.
    pub sid: Sid,
    /// The private id the client presents to recover (`pid`).
    pub pid: Sid,
    /// The rooms it was in.
    pub rooms: Vec<Room>,
    /// Its `data` (Node's `socket.data`), as other nodes see it.
    pub data: serde_json::Value,
}

/// A recovered session (Node's `Session`): what was persisted, and the
/// packets the client missed, oldest first, each with its offset as last
/// argument. The Socket.IO layer writes them before the CONNECT reply.
#[derive(Debug, Clone, PartialEq)]
pub struct RestoredSession {
    /// The persisted session.
    pub session: PersistedSession,
    /// The packets broadcast to it after the client's offset.
    pub missed: Vec<Outgoing>,
}
