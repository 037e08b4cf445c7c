//! Transports: how Engine.IO packets travel over HTTP long-polling and
//! WebSocket, and the HTTP answers around them (errors, CORS).
//!
//! | concept | file |
//! |---|---|
//! | the error answers of docs/protocol.md §1.10 ([`RequestError`]) | `http_error.rs` |
//! | query parameters | `query.rs` |
//! | CORS headers and preflight | `cors.rs` |
//! | session packets ⇄ codec packets | `packets.rs` |
//! | request bodies with a deadline (total time, minimum rate) | `body.rs` |
//! | polling bodies (GET answer, POST payload) and the GET/POST requests | `polling.rs` |
//! | WebSocket upgrade checks, 101, the socket task | `websocket.rs` |
//! | WebSocket frames, sans-IO (RFC 6455, permessage-deflate) | `ws_proto.rs` |
//! | permessage-deflate negotiation (RFC 7692) | `ws_deflate.rs` |

pub(crate) mod body;
pub(crate) mod cors;
pub(crate) mod http_error;
pub(crate) mod packets;
pub(crate) mod polling;
pub(crate) mod query;
pub(crate) mod websocket;
pub(crate) mod ws_deflate;
pub(crate) mod ws_proto;

pub use body::{BodyDeadline, BodyTooSlow, DeadlineBody};
pub use http_error::RequestError;

/// The body of every response the engine writes (all are complete at once).
pub type EngineBody = http_body_util::Full<bytes::Bytes>;

/// A boxed error, as request bodies report them.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
