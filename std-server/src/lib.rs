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
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod adapter;
pub mod config;
pub mod engine;
pub mod service;
pub mod socketio;
pub mod transport;
