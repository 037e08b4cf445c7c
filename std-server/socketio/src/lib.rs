//! # oxio-server
//!
//! A Tokio Socket.IO server on top of [`oxio_codec`]: the crate an
//! application depends on. Hello world, on an axum app:
//!
//! ```no_run
//! use oxio_server::socketio::{Data, SocketIo, SocketRef};
//!
//! # async fn run() -> std::io::Result<()> {
//! let (layer, io) = SocketIo::new_layer();
//! io.ns("/", |socket: SocketRef| {
//!     socket.on("message", |s: SocketRef, Data(msg): Data<String>| {
//!         let _ = s.emit("message-back", &(msg,));
//!     });
//! });
//! let app = axum::Router::new().layer(layer);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app).await
//! # }
//! ```
//!
//! The server is built in layers, one crate each, dependencies pointing
//! down:
//!
//! | crate | what | re-exported here as |
//! |---|---|---|
//! | `oxio-codec` | packets, no_std, sans-IO | [`oxio_codec`] (a dependency) |
//! | `oxio-engine` | Engine.IO: sessions, transports, the tower layer | [`engine`], [`config`], [`service`], [`transport`] |
//! | `oxio-adapter` | the adapter contract and the in-memory adapter | [`adapter`] |
//! | `oxio-server` (this one) | Socket.IO: namespaces, middleware, sockets, events, acks, rooms, broadcasts | [`socketio`] |
//! | `oxio-redis-adapter` | a Redis adapter, built on `oxio-adapter` only | (a crate of its own) |
//!
//! Operating it: [`serve_client`] (Node's `serveClient`), [`metrics`]
//! (Prometheus; feature `metrics`, on by default) and the observer traits
//! they build on ([`engine::observe`], [`socketio::Observer`]).
//!
//! ## Differences from Node's socket.io
//!
//! A Node client cannot tell oxio from Node's server in normal use (the
//! interop tests run the real npm and PyPI clients, and the official
//! protocol suites pass). Where oxio behaves differently, on purpose:
//! - Every buffer is bounded: each session's outbound queue holds at most
//!   [`config::EngineConfig::max_queued_messages`] messages and
//!   [`config::EngineConfig::max_queued_bytes`] bytes; a client that does
//!   not read is closed (volatile packets are dropped instead). Node
//!   buffers without limit.
//! - Decoding limits the reference has not: JSON nesting depth 128, ack ids
//!   up to 2^53 − 1, at most 10 attachments, 1 MB per packet (see
//!   `oxio_codec::Limits`). A `_placeholder` object must be exactly
//!   `{"_placeholder":true,"num":N}`; JavaScript `Number()` quirks in
//!   headers (white space read as digits) are refused.
//! - Time and connections are bounded where Node leaves them open or
//!   counts them differently (`config::EngineConfig::server`, with oxio's
//!   server loop `service::serve_app`): a connection with no request in
//!   progress is closed after 5 s of silence from the moment it is
//!   accepted (Node's `keepAliveTimeout` applies only after a response;
//!   before the first request Node waits for `headersTimeout`, 60 s); a
//!   request body must keep up 1024 B/s after 10 s
//!   (`EngineConfig::body_min_rate`; Node has only `requestTimeout`,
//!   300 s, which oxio applies too); a body too slow is answered 408 and
//!   its connection closed. Past 10 000 open connections or 1024
//!   handshakes in progress a new connection gets 503 (Node accepts until
//!   the descriptors run out); per-address and session limits exist, off
//!   by default.
//! - Engine.IO session ids are 20 url-safe characters drawn from the OS
//!   CSPRNG, with no counter part.
//! - Messages queued together leave in one TCP write (TCP_NODELAY is set on
//!   every connection), where Node writes them one by one.
//! - With `allow_eio3`, a v3 client's heartbeat deadline is kept across the
//!   polling → WebSocket upgrade.
//! - Connection state recovery
//!   ([`SocketIoConfig::connection_state_recovery`](socketio::SocketIoConfig::connection_state_recovery),
//!   off by default as in Node) is bounded: the replay buffer holds at most
//!   `max_packets` packets and `max_bytes` bytes per namespace, and at most
//!   `max_sessions` sessions are kept (the oldest go first; a client whose
//!   offset is gone gets a new session). Node keeps everything for
//!   `maxDisconnectionDuration`.
//! - A recovered session is used once (the in-memory adapter takes it, as
//!   Node's Redis Streams adapter does): Node's in-memory adapter keeps it,
//!   so two connections could recover the same socket id at once.
//! - Broadcasts that reach a socket while it is being recovered (after its
//!   missed packets were taken, before its CONNECT reply, e.g. while its
//!   middlewares run) are held and sent right after the CONNECT reply;
//!   Node drops them (the socket is not connected yet). A recovering
//!   client thus never loses an event nor gets one twice.
//! - With recovery on, the broadcasts of one namespace are recorded and
//!   delivered one at a time, so each client receives them in offset order
//!   (Node is single-threaded). Offsets have the shape of Node's (`yeast`)
//!   but never go back with the wall clock. A `pid` or `offset` longer than
//!   64 characters is not looked up. Engine.IO v3 clients get no `pid` (Node
//!   makes one but never sends it); the events they receive carry offsets,
//!   as in Node.
//! - `serve_client` is off by default (Node's is on): the library cannot
//!   know where the client's npm package is. It compresses with gzip only
//!   (Node also offers br and deflate).
//! - The Redis adapter (`oxio-redis-adapter`) speaks the classic
//!   @socket.io/redis-adapter 8.x protocol; the sharded variant
//!   (`createShardedAdapter`) is not implemented.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "metrics")]
pub mod metrics;
pub mod serve_client;
pub mod socketio;

#[cfg(feature = "admin-ui")]
#[cfg_attr(docsrs, doc(cfg(feature = "admin-ui")))]
pub mod admin;

/// The workspace README's code blocks (the codec's and the server's),
/// compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;

pub use oxio_engine::{config, service, sync, transport};

/// Engine.IO sessions and the contract the Socket.IO layer builds on
/// (the `oxio-engine` crate).
pub mod engine {
    pub use oxio_engine::observe;
    pub use oxio_engine::{
        BoxError, CloseReason, Engine, EngineBody, EngineHandler, HandshakeInfo, Message,
        RandomError, SendError, Session, SessionHandle, Sid, Utf8Bytes,
    };
}

/// Where broadcasts go (the `oxio-adapter` crate), and what
/// `fetch_sockets` returns.
pub mod adapter {
    pub use crate::socketio::{FetchedSocket, RemoteSocket, SocketData};
    pub use oxio_adapter::*;
}
