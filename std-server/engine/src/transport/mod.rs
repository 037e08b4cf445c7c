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
pub mod ws_deflate;
pub mod ws_proto;

pub use body::{BodyDeadline, BodyTooSlow, DeadlineBody};
pub use http_error::RequestError;

/// What [`websocket_accept`] gives a request it accepts: the 101 and the
/// agreed permessage-deflate, if any.
pub type WebSocketAccept = (http::Response<bytes::Bytes>, Option<ws_deflate::Agreed>);

/// Checks a plain WebSocket upgrade request (no Engine.IO: for a raw
/// WebSocket server on the frame layer the engine serves with,
/// [`ws_proto`]) as the `ws` package does, and negotiates permessage-deflate
/// when `deflate` is set: the 101 to answer and the agreement to give
/// [`ws_proto::Receiver::new`] and [`ws_proto::Sender::new`], or the
/// refusal (400, 405), boxed.
///
/// ```
/// use http::{HeaderMap, HeaderValue, Method};
/// use oxio_engine::config::PerMessageDeflate;
///
/// let mut h = HeaderMap::new();
/// h.insert("connection", HeaderValue::from_static("Upgrade"));
/// h.insert("upgrade", HeaderValue::from_static("websocket"));
/// h.insert("sec-websocket-key", HeaderValue::from_static("dGhlIHNhbXBsZSBub25jZQ=="));
/// h.insert("sec-websocket-version", HeaderValue::from_static("13"));
/// h.insert("sec-websocket-extensions", HeaderValue::from_static("permessage-deflate"));
/// let deflate = PerMessageDeflate::default();
/// let (res, agreed) = oxio_engine::transport::websocket_accept(&Method::GET, &h, Some(&deflate)).unwrap();
/// assert_eq!(res.status(), 101);
/// assert_eq!(res.headers()["sec-websocket-extensions"], "permessage-deflate");
/// assert!(agreed.is_some());
/// ```
pub fn websocket_accept(
    method: &http::Method,
    headers: &http::HeaderMap,
    deflate: Option<&crate::config::PerMessageDeflate>,
) -> Result<WebSocketAccept, Box<http::Response<bytes::Bytes>>> {
    let accept = websocket::validate(method, headers).map_err(|e| Box::new(e.to_response()))?;
    let (agreed, header) = deflate
        .and_then(|d| ws_deflate::negotiate(headers, d))
        .map_or((None, None), |(a, h)| (Some(a), Some(h)));
    Ok((websocket::switching_protocols(accept, header), agreed))
}

/// The body of every response the engine writes (all are complete at once).
pub type EngineBody = http_body_util::Full<bytes::Bytes>;

/// A boxed error, as request bodies report them.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
