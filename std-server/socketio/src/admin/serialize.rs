//! Sockets as the admin UI shows them (Node's `serialize`): id, engine
//! client id (12 characters), transport, namespace, data without `_admin`,
//! the handshake without `auth`, and rooms.

use crate::socketio::{FetchedSocket, Io, Socket, SocketData};
use serde_json::{json, Map, Value};

/// The active transport of a socket's connection.
pub(super) fn transport(socket: &Socket) -> String {
    crate::socketio::transport_of(socket.session()).to_owned()
}

/// A socket's data as the UI shows it (`_admin` removed).
pub(super) fn data(socket: &Socket) -> Value {
    let data = socket
        .extensions()
        .get::<SocketData>()
        .map(|d| d.0)
        .unwrap_or_else(|| json!({}));
    without_admin(data)
}

fn without_admin(mut data: Value) -> Value {
    if let Some(o) = data.as_object_mut() {
        o.remove("_admin");
    }
    data
}

/// The handshake as the UI shows it: `auth` removed, the address taken
/// from `cf-connecting-ip` or `x-forwarded-for` when present.
fn handshake(mut h: Value) -> Value {
    let Some(o) = h.as_object_mut() else {
        return h;
    };
    o.remove("auth");
    let forwarded = o.get("headers").and_then(|headers| {
        ["cf-connecting-ip", "x-forwarded-for"]
            .iter()
            .find_map(|k| headers.get(*k).filter(|v| v.is_string()).cloned())
    });
    if let Some(addr) = forwarded {
        o.insert("address".into(), addr);
    }
    h
}

fn object(
    id: &str,
    client_id: Value,
    transport: Value,
    nsp: &str,
    data: Value,
    hs: Value,
    rooms: Vec<String>,
) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(id));
    m.insert("clientId".into(), client_id);
    m.insert("transport".into(), transport);
    m.insert("nsp".into(), json!(nsp));
    m.insert("data".into(), data);
    m.insert("handshake".into(), handshake(hs));
    m.insert("rooms".into(), json!(rooms));
    Value::Object(m)
}

/// A socket of this node.
pub(super) fn local(socket: &crate::socketio::SocketRef) -> Value {
    let remote = crate::socketio::remote_data(socket);
    let sid = socket.session().sid();
    object(
        socket.id().as_str(),
        json!(sid.get(..12).unwrap_or(sid)),
        json!(transport(socket)),
        socket.ns(),
        data(socket),
        remote.handshake,
        remote.rooms.iter().map(|r| r.to_string()).collect(),
    )
}

/// A fetched socket (this node's, or another node's from its data).
fn fetched(f: &FetchedSocket, nsp: &str) -> Value {
    match f {
        FetchedSocket::Local(s) => local(s),
        FetchedSocket::Remote(r) => {
            let admin = r.data.get("_admin");
            object(
                r.id.as_str(),
                admin
                    .and_then(|a| a.get("clientId"))
                    .cloned()
                    .unwrap_or(Value::Null),
                admin
                    .and_then(|a| a.get("transport"))
                    .cloned()
                    .unwrap_or(Value::Null),
                nsp,
                without_admin(r.data.clone()),
                r.handshake.clone(),
                r.rooms.iter().map(|x| x.to_string()).collect(),
            )
        }
    }
}

/// Every socket of every namespace of this node, fetched through the
/// adapters (so every node's sockets), for `all_sockets`.
pub(super) async fn all_sockets(io: &Io) -> Vec<Value> {
    let mut out = Vec::new();
    for name in io.namespace_names() {
        let Some(ops) = io.of(&name) else { continue };
        match ops.fetch_sockets().await {
            Ok(found) => out.extend(found.iter().map(|f| fetched(f, &name))),
            Err(e) => tracing::debug!(ns = %name, error = %e, "admin UI: sockets not fetched"),
        }
    }
    out
}
