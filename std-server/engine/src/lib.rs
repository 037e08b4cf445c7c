//! # oxio-engine
//!
//! Engine.IO (v4, and v3 with `allow_eio3`) on Tokio and hyper: the
//! handshake, long-polling and WebSocket transports, the heartbeat and the
//! upgrade. What it hands upward is small: a session opened, a message
//! arrived, a session closed ([`EngineHandler`]); what it offers the layer
//! above is a [`Session`] to send messages to or close.
//!
//! Inside the crate, dependencies point one way, from the bottom:
//!
//! | layer | file | imports |
//! |---|---|---|
//! | the contract with the layer above | `contract.rs`, `sid.rs` | nothing of the engine |
//! | one session's protocol logic, sans-IO: inputs (packets, time), outputs (packets, events, deadlines) | `session_state.rs` | the contract; no tokio, hyper or http |
//! | the Tokio driver: lock, held poll, timer task, ordered handler calls | `session.rs` | the core |
//! | transports: polling bodies and requests, WebSocket checks and the socket task | `transport/` | the driver |
//! | routing: handshake, sid lookup, version checks, the session map ([`Engine`]) | `router.rs` | the transports |
//! | mounting: tower [`Layer`](tower_layer::Layer)/`Service`, [`service::listen`] | `service.rs` | the router |
//! | the server loop's connection counts, idle tracking, refusal log | `limits.rs` | options |
//! | options | `config.rs` | nothing |
//! | hooks for metrics ([`observe::EngineObserver`]) | `observe.rs` | the contract |
//!
//! The driver reports a finished session upward through a small trait of
//! its own (`SessionRegistry` in `session.rs`), never through the router's type.
//!
//! ```
//! use oxio_engine::config::EngineConfig;
//! use oxio_engine::{CloseReason, Engine, EngineHandler, Message, Session};
//!
//! struct Echo;
//! impl EngineHandler for Echo {
//!     fn on_open(&self, _session: Session) {}
//!     fn on_message(&self, session: &Session, msg: Message) {
//!         let _ = session.send(msg);
//!     }
//!     fn on_close(&self, _session: &Session, _reason: CloseReason) {}
//! }
//!
//! let engine = Engine::new(EngineConfig::default(), Echo);
//! assert!(engine.serves("/socket.io/"));
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod contract;
mod limits;
pub mod observe;
mod router;
pub mod service;
mod session;
mod session_state;
mod sid;
pub mod sync;
pub mod transport;
mod wake;

pub use contract::{
    CloseReason, EngineHandler, HandshakeInfo, Message, SendError, Session, SessionHandle,
    Utf8Bytes,
};
pub use router::Engine;
pub use sid::{RandomError, Sid};
pub use transport::{BoxError, EngineBody};
