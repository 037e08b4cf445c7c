//! Engine.IO sessions, and the contract between them and the Socket.IO layer.
//!
//! The engine owns transports (long-polling, WebSocket), the handshake, the
//! heartbeat and the upgrade. What it hands upward is small: a session
//! opened, a message arrived, a session closed ([`EngineHandler`]); what it
//! offers downward is a [`Session`] to send messages to or close.

pub mod contract;

pub use contract::{
    CloseReason, EngineHandler, HandshakeInfo, Message, SendError, Session, SessionHandle,
    Utf8Bytes,
};
