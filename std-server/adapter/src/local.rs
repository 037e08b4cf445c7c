//! How an adapter reaches the local sockets of its namespace: the small
//! [`LocalSockets`] trait, which the Socket.IO layer implements. An
//! adapter never sees a socket object, only ids and the operations below,
//! so this crate (and every adapter built on it) stays below the Socket.IO
//! layer.

use crate::{AckError, AckSink, EmitError, Outgoing, Room, ServerEvent};
use oxio_engine::Sid;
use std::fmt;
use std::sync::{Arc, Weak};

/// The local sockets of one namespace, as its adapter reaches them.
///
/// Every call concerns one local socket by id and never waits: sends are
/// queue pushes (a packet's frames go in as one unit, all or none), and a
/// socket that is gone answers [`EmitError::Closed`] or `None`.
pub trait LocalSockets: Send + Sync + 'static {
    /// Queues `packet` for socket `sid` (`volatile`: dropped instead when
    /// its queue is full).
    fn send(&self, sid: &Sid, packet: &Outgoing, volatile: bool) -> Result<(), EmitError>;
    /// Queues `packet`, which carries ack id `ack_id`, for socket `sid` and
    /// routes its answer to `sink`.
    fn send_with_ack(
        &self,
        sid: &Sid,
        packet: &Outgoing,
        ack_id: u64,
        sink: AckSink,
        volatile: bool,
    ) -> Result<(), AckError>;
    /// Disconnects socket `sid` from the namespace (`close`: and closes its
    /// connection, every namespace of it).
    fn disconnect(&self, sid: &Sid, close: bool);
    /// Socket `sid` as other nodes see it (`fetchSockets` answers).
    fn socket_data(&self, sid: &Sid) -> Option<RemoteSocketData>;
    /// The namespace's next server ack id (for a broadcast with acks that
    /// another node asked for).
    fn next_ack_id(&self) -> u64;
    /// Hands an event from another node to the namespace's server-side
    /// listeners; returns whether one took it.
    fn server_side_event(&self, event: ServerEvent) -> bool;
    /// The server's packet format: an adapter builds the packets it hands
    /// to local sockets (from another node's message) in it.
    fn parser(&self) -> Parser {
        Parser::Json
    }
    /// Socket `sid` itself, when it is connected: an adapter may keep it
    /// (in its room index) and deliver to it without looking it up by id
    /// for every packet. `None` (the default): reach it by id.
    fn socket(&self, sid: &Sid) -> Option<SocketHandle> {
        let _ = sid;
        None
    }
}

/// One local socket, as an adapter delivers to it directly (see
/// [`LocalSockets::socket`]): the same operations as [`LocalSockets`]
/// without the lookup by id. A socket that disconnected answers
/// [`EmitError::Closed`].
pub trait LocalSocket: Send + Sync + 'static {
    /// Its id.
    fn id(&self) -> &Sid;
    /// Queues `packet` (see [`LocalSockets::send`]).
    fn send(&self, packet: &Outgoing, volatile: bool) -> Result<(), EmitError>;
    /// Queues `packet`, which carries ack id `ack_id`, and routes its
    /// answer to `sink` (see [`LocalSockets::send_with_ack`]).
    fn send_with_ack(
        &self,
        packet: &Outgoing,
        ack_id: u64,
        sink: AckSink,
        volatile: bool,
    ) -> Result<(), AckError>;
}

/// A shared handle on a [`LocalSocket`].
pub type SocketHandle = Arc<dyn LocalSocket>;

/// A server's packet format, one per server (chosen in its builder): what
/// every [`Outgoing`] of its namespaces is encoded in, and what its
/// clients must speak (Node's `parser` server option).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Parser {
    /// `socket.io-parser`: a text frame, binary attachments after it.
    #[default]
    Json,
    /// `socket.io-msgpack-parser` 3.x: each packet one binary frame, a
    /// msgpack map with bytes inline ([`oxio_codec::msgpack`]).
    Msgpack,
}

/// The adapter's handle on its namespace: the name, and the local sockets
/// (weakly: the namespace owns the adapter, not the other way round).
#[derive(Clone)]
pub struct LocalNamespace {
    name: Arc<str>,
    sockets: Weak<dyn LocalSockets>,
}

impl LocalNamespace {
    /// A handle on namespace `name` whose sockets are reached through `sockets`.
    pub fn new(name: Arc<str>, sockets: Weak<dyn LocalSockets>) -> Self {
        LocalNamespace { name, sockets }
    }

    /// A handle that reaches no socket (for tests and tools).
    ///
    /// ```
    /// use oxio_adapter::{LocalNamespace, Outgoing};
    ///
    /// let ns = LocalNamespace::detached("/chat");
    /// assert_eq!(ns.name(), "/chat");
    /// let p = Outgoing::event("/chat", None, "hi", &()).unwrap();
    /// assert!(ns.send(&"a".into(), &p, false).is_err());
    /// ```
    pub fn detached(name: &str) -> Self {
        struct Nobody;
        impl LocalSockets for Nobody {
            fn send(&self, _: &Sid, _: &Outgoing, _: bool) -> Result<(), EmitError> {
                Err(EmitError::Closed)
            }
            fn send_with_ack(
                &self,
                _: &Sid,
                _: &Outgoing,
                _: u64,
                _: AckSink,
                _: bool,
            ) -> Result<(), AckError> {
                Err(AckError::Emit(EmitError::Closed))
            }
            fn disconnect(&self, _: &Sid, _: bool) {}
            fn socket_data(&self, _: &Sid) -> Option<RemoteSocketData> {
                None
            }
            fn next_ack_id(&self) -> u64 {
                0
            }
            fn server_side_event(&self, _: ServerEvent) -> bool {
                false
            }
        }
        let none: Weak<Nobody> = Weak::new();
        LocalNamespace::new(name.into(), none)
    }

    /// The namespace name (`/`, `/admin`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// See [`LocalSockets::send`]; [`EmitError::Closed`] once the namespace is gone.
    pub fn send(&self, sid: &Sid, packet: &Outgoing, volatile: bool) -> Result<(), EmitError> {
        match self.sockets.upgrade() {
            Some(s) => s.send(sid, packet, volatile),
            None => Err(EmitError::Closed),
        }
    }

    /// See [`LocalSockets::send_with_ack`].
    pub fn send_with_ack(
        &self,
        sid: &Sid,
        packet: &Outgoing,
        ack_id: u64,
        sink: AckSink,
        volatile: bool,
    ) -> Result<(), AckError> {
        match self.sockets.upgrade() {
            Some(s) => s.send_with_ack(sid, packet, ack_id, sink, volatile),
            None => Err(AckError::Emit(EmitError::Closed)),
        }
    }

    /// See [`LocalSockets::disconnect`].
    pub fn disconnect(&self, sid: &Sid, close: bool) {
        if let Some(s) = self.sockets.upgrade() {
            s.disconnect(sid, close);
        }
    }

    /// See [`LocalSockets::socket_data`].
    pub fn socket_data(&self, sid: &Sid) -> Option<RemoteSocketData> {
        self.sockets.upgrade()?.socket_data(sid)
    }

    /// See [`LocalSockets::next_ack_id`].
    pub fn next_ack_id(&self) -> u64 {
        self.sockets.upgrade().map(|s| s.next_ack_id()).unwrap_or(0)
    }

    /// See [`LocalSockets::socket`] (`None` once the namespace is gone).
    pub fn socket(&self, sid: &Sid) -> Option<SocketHandle> {
        self.sockets.upgrade()?.socket(sid)
    }

    /// See [`LocalSockets::parser`] (the default when the namespace is gone).
    pub fn parser(&self) -> Parser {
        self.sockets
            .upgrade()
            .map(|s| s.parser())
            .unwrap_or_default()
    }

    /// See [`LocalSockets::server_side_event`].
    pub fn server_side_event(&self, event: ServerEvent) -> bool {
        match self.sockets.upgrade() {
            Some(s) => s.server_side_event(event),
            None => false,
        }
    }
}

impl fmt::Debug for LocalNamespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalNamespace")
            .field("name", &self.name)
            .finish()
    }
}

/// A socket as another node sees it: what `fetchSockets` carries across
/// a cluster (Node's `RemoteSocket` data).
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteSocketData {
    /// Its id.
    pub id: Sid,
    /// Its rooms.
    pub rooms: Vec<Room>,
    /// Its handshake, serialized as Node serializes `socket.handshake`.
    pub handshake: serde_json::Value,
    /// Its `data` (Node's `socket.data`).
    pub data: serde_json::Value,
}

/// One socket found by [`Adapter::fetch_sockets`](crate::Adapter::fetch_sockets).
#[derive(Debug, Clone, PartialEq)]
pub enum FoundSocket {
    /// A socket of this process, by id (the Socket.IO layer hands out the
    /// socket itself).
    Local(Sid),
    /// A socket on another node.
    Remote(RemoteSocketData),
}
