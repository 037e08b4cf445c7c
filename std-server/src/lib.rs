//! # oxio-server
//!
//! A Tokio Socket.IO server on top of [`oxio_codec`]. The flow, by folder:
//! - [`engine`]: Engine.IO sessions (handshake, heartbeat, upgrade) and the
//!   contract the Socket.IO layer builds on ([`engine::EngineHandler`]).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod engine;
