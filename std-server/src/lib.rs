//! # oxio-server
//!
//! A Tokio Socket.IO server on top of [`oxio_codec`]. The flow, by folder:
//! - [`engine`]: Engine.IO sessions (handshake, heartbeat, upgrade) and the
//!   contract the Socket.IO layer builds on ([`engine::EngineHandler`]).
//! - [`socketio`]: namespaces, middleware, sockets, events, acks, rooms and
//!   broadcasts: the [`socketio::SocketIo`] handler the engine drives.
//! - [`adapter`]: where broadcasts go (in memory, or across nodes).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod adapter;
pub mod engine;
pub mod socketio;
