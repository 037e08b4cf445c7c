//! The Socket.IO server layer (protocol v5 on Engine.IO v4, and v4 on
//! Engine.IO v3), on top of the engine's [`Session`](crate::engine::Session)s.
//!
//! The flow, by file:
//! - [`server`](SocketIo): the [`EngineHandler`](crate::engine::EngineHandler)
//!   the engine drives, its configuration, and the namespace registry.
//! - `client`: one Engine.IO session: binary reassembly, the namespaces
//!   joined, the connect timeout, the protocol rules (violations close the
//!   session with `parse error`).
//! - `namespace`: static and dynamic namespaces, connect middleware.
//! - [`Socket`]: one client in one namespace: handlers, emits, acks, rooms.
//! - `fetched`: what `fetch_sockets` returns ([`FetchedSocket`]), and the
//!   socket data other nodes see ([`SocketData`]).
//! - [`extract`]: handler arguments ([`Data`], [`AckSender`], ...).
//! - [`BroadcastOperators`]: `to` / `except` / `volatile` / ... then `emit`.
//! - [`Io`]: the handle for application code.
//!
//! ```
//! use oxio_server::socketio::{AckSender, ConnectError, Data, SocketIo, SocketRef};
//! use serde::Deserialize;
//!
//! #[derive(Deserialize)]
//! struct Auth { token: String }
//!
//! let sio = SocketIo::builder().build(); // an EngineHandler, for the engine
//! let io = sio.io();
//! io.ns("/", |socket: SocketRef| {
//!     socket.on("chat", |s: SocketRef, Data((room, text)): Data<(String, String)>| {
//!         let _ = s.to(room).emit("chat", &(text,));
//!     });
//!     socket.on("join", |s: SocketRef, Data(room): Data<String>, ack: AckSender| {
//!         s.join(room);
//!         let _ = ack.send(&("ok",));
//!     });
//! });
//! io.ns("/admin", |s: SocketRef, Data(auth): Data<Auth>| {
//!     let _ = s.emit("welcome", &(auth.token,));
//! })
//! .use_middleware(|s: SocketRef| async move {
//!     match s.handshake().auth::<Auth>() {
//!         Ok(a) if a.token == "123" => Ok(()),
//!         _ => Err(ConnectError::new("not authorized")),
//!     }
//! });
//! ```

mod ack;
mod client;
mod error;
mod extensions;
pub mod extract;
mod fetched;
mod handler;
mod handshake;
mod io;
pub(crate) mod namespace;
mod observer;
mod operators;
mod server;
mod socket;

pub use ack::{AckFuture, AckSender, BroadcastAckFuture};
pub use error::{ConnectError, DisconnectReason};
pub use extensions::Extensions;
pub use extract::{Bin, Data, Event, Extension, HandshakeRef, MaybeExtension, State, TryData};
pub use fetched::{FetchedSocket, RemoteSocket, SocketData};
pub use handler::{marker, ConnectHandler, DisconnectHandler, MessageHandler};
pub use handshake::Handshake;
pub use io::Io;
pub use namespace::{ConnectMiddleware, MiddlewareFuture, NsHandle, NsPatternError};
pub use observer::{Observer, TooManyObservers, MAX_OBSERVERS};
pub use operators::BroadcastOperators;
pub use oxio_adapter::{
    AckError, AckResponse, BroadcastAcks, ConnectionStateRecovery, EmitError, Outgoing, Parser,
    Payload,
};
pub use oxio_engine::Sid;
pub use server::{OverflowPolicy, SocketIo, SocketIoBuilder, SocketIoConfig};
pub use socket::{PacketVerdict, Socket, SocketEmitter, SocketRef};

#[cfg(feature = "admin-ui")]
pub(crate) use fetched::remote_data;
#[cfg(feature = "admin-ui")]
pub(crate) use server::spawn;

/// The active transport of a session, as Node names it.
pub(crate) fn transport_of(session: &oxio_engine::Session) -> &'static str {
    session.transport_name().unwrap_or_else(|| {
        if session.info().query.contains("transport=websocket") {
            "websocket"
        } else {
            "polling"
        }
    })
}
