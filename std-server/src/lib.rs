//! # oxio-server
//!
//! A Tokio Socket.IO server on top of [`oxio_codec`]. The flow, by folder:
//! - [`transport`]: HTTP long-polling bodies and WebSocket frames, the HTTP
//!   error answers and CORS.
//! - [`engine`]: Engine.IO sessions (handshake, heartbeat, upgrade) and the
//!   contract the Socket.IO layer builds on ([`engine::EngineHandler`]).
//! - [`socketio`]: namespaces, middleware, sockets, events, acks, rooms and
//!   broadcasts: the [`socketio::SocketIo`] handler the engine drives.
//! - [`adapter`]: where broadcasts go (in memory, or across nodes).
//! - [`service`]: the tower `Service`/`Layer` to mount the engine on an
//!   axum or hyper app, and a standalone [`service::listen`].
//! - [`config`]: the options.
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
//! - Engine.IO session ids are 20 url-safe characters drawn from the OS
//!   CSPRNG, with no counter part.
//! - Messages queued together leave in one TCP write (TCP_NODELAY is set on
//!   every connection), where Node writes them one by one.
//! - With `allow_eio3`, a v3 client's heartbeat deadline is kept across the
//!   polling → WebSocket upgrade.
//! - The Redis adapter speaks the classic @socket.io/redis-adapter 8.x
//!   protocol; the sharded variant (`createShardedAdapter`) is not
//!   implemented.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod adapter;
pub mod config;
pub mod engine;
pub mod service;
pub mod socketio;
pub mod transport;
