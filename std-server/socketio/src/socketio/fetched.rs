//! What `fetch_sockets` returns: local sockets as themselves, sockets on
//! other nodes as their data with a handle to act on them; and the JSON
//! `data` a socket shows to other nodes.

use super::{EmitError, Sid, SocketRef};
use oxio_adapter::{
    Adapter, AdapterError, BroadcastOptions, IntoRooms, Outgoing, RemoteSocketData, Room,
};
use serde::Serialize;
use serde_json::{json, Value};
use std::fmt;
use std::sync::{Arc, Weak};

/// A socket returned by `fetch_sockets`: a local socket, or the data of a
/// socket on another node (act on it with `io.to(id)`).
// Fetched sockets are few and short-lived: not worth a box per remote one.
#[allow(clippy::large_enum_variant)]
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
/// use oxio_server::socketio::RemoteSocket;
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

/// The namespace a remote socket was fetched from, and its adapter (not compared).
#[derive(Clone, Default)]
struct RemoteHandle(Option<(Arc<str>, Weak<dyn Adapter>)>);

impl PartialEq for RemoteHandle {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl fmt::Debug for RemoteHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some((ns, _)) => write!(f, "{ns:?}"),
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

    /// A socket another node reported for namespace `ns`, acted on
    /// through that namespace's `adapter`.
    pub(crate) fn found(data: RemoteSocketData, ns: Arc<str>, adapter: Weak<dyn Adapter>) -> Self {
        let RemoteSocketData {
            id,
            rooms,
            handshake,
            data,
        } = data;
        RemoteSocket {
            id,
            rooms,
            handshake,
            data,
            ns: RemoteHandle(Some((ns, adapter))),
        }
    }

    fn target(&self) -> Result<(Arc<dyn Adapter>, BroadcastOptions), AdapterError> {
        let adapter = self
            .ns
            .0
            .as_ref()
            .and_then(|(_, adapter)| adapter.upgrade())
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
        let name = self.ns.0.as_ref().map(|(ns, _)| &**ns).unwrap_or("/");
        let packet = Outgoing::event(name, None, event, args)?;
        adapter.broadcast(&packet, &opts)?;
        Ok(())
    }
}

/// A local socket as other nodes see it (a `fetchSockets` answer), its
/// handshake serialized as Node serializes `socket.handshake`.
pub(crate) fn remote_data(s: &SocketRef) -> RemoteSocketData {
    let h = s.handshake();
    let mut headers = serde_json::Map::new();
    for (k, v) in &h.headers {
        if let Ok(v) = v.to_str() {
            headers.insert(k.as_str().to_owned(), Value::from(v));
        }
    }
    let query: serde_json::Map<String, Value> =
        h.query_pairs().map(|(k, v)| (k, Value::from(v))).collect();
    let issued = h
        .issued
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    let auth: Value = serde_json::from_str(h.auth_raw()).unwrap_or_else(|_| json!({}));
    let mut data = s
        .extensions()
        .get::<SocketData>()
        .map(|d| d.0)
        .unwrap_or_else(|| json!({}));
    if s.server()
        .admin_data
        .load(std::sync::atomic::Ordering::Acquire)
    {
        if let Some(o) = data.as_object_mut() {
            let sid = s.session().sid();
            o.insert(
                "_admin".into(),
                json!({
                    "clientId": sid.get(..12).unwrap_or(sid),
                    "transport": super::transport_of(s.session()),
                }),
            );
        }
    }
    RemoteSocketData {
        id: s.id().clone(),
        rooms: s.rooms(),
        handshake: json!({
            "headers": headers,
            "time": issued.to_string(),
            "address": h.address.map(|a| a.ip().to_string()).unwrap_or_default(),
            "xdomain": h.headers.contains_key(http::header::ORIGIN),
            "secure": h.secure,
            "issued": issued,
            "url": h.url,
            "query": query,
            "auth": auth,
        }),
        data,
    }
}

/// A socket's JSON `data` as other nodes' `fetchSockets` see it (Node's
/// `socket.data`): store it in the socket's extensions.
///
/// ```
/// use oxio_server::socketio::SocketData;
/// use oxio_server::socketio::SocketRef;
///
/// fn on_connect(s: SocketRef) {
///     s.extensions().insert(SocketData(serde_json::json!({"user": "ada"})));
/// }
/// # let _ = on_connect;
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SocketData(pub serde_json::Value);
