//! Engine.IO sessions, and the contract between them and the Socket.IO layer.
//!
//! The engine owns transports (long-polling, WebSocket), the handshake, the
//! heartbeat and the upgrade. What it hands upward is small: a session
//! opened, a message arrived, a session closed ([`EngineHandler`]); what it
//! offers downward is a [`Session`] to send messages to or close.
//!
//! | concept | file |
//! |---|---|
//! | the contract with the layer above | `contract.rs` |
//! | request routing, handshake, polling GET/POST, the session map ([`Engine`]) | `server.rs` |
//! | one session's protocol logic, sans-IO (heartbeat, upgrade, close rules) | `session_state.rs` |
//! | the Tokio glue: lock, held poll, timer task, ordered handler calls | `session.rs` |
//! | session ids | `sid.rs` |

pub mod contract;
mod server;
pub(crate) mod session;
pub(crate) mod session_state;
mod sid;

pub use contract::{
    CloseReason, EngineHandler, HandshakeInfo, Message, SendError, Session, SessionHandle,
    Utf8Bytes,
};
pub(crate) use server::EngineInner;
pub use server::{BoxError, Engine, EngineBody};
