//! The HTTP error answers of docs/protocol.md §1.10.

use bytes::Bytes;
use core::fmt;
use http::{header, Response, StatusCode};

/// Why a request under the engine path is refused, with its Engine.IO error
/// code. Polling requests get `status()` with the JSON body
/// `{"code":N,"message":...}`; refused WebSocket upgrades get Node's raw
/// `400` text answer (docs/protocol.md §1.6).
///
/// ```
/// use oxio_engine::transport::RequestError;
///
/// let e = RequestError::UnknownSid;
/// assert_eq!((e.code(), e.status().as_u16()), (1, 400));
/// assert_eq!(e.json_body(), r#"{"code":1,"message":"Session ID unknown"}"#);
/// assert_eq!(RequestError::Forbidden(String::new()).status().as_u16(), 403);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestError {
    /// Code 0: `transport` missing, unknown or disabled.
    UnknownTransport,
    /// Code 1: the `sid` is not (or no longer) a session.
    UnknownSid,
    /// Code 2: a handshake with a method other than GET.
    BadHandshakeMethod,
    /// Code 3: transport mismatch, WebSocket without an Upgrade header, a
    /// bad `Origin` header.
    BadRequest,
    /// Code 4 (HTTP 403): refused by the `allow_request` hook; holds its
    /// message (empty means `Forbidden`).
    Forbidden(String),
    /// Code 5: `EIO` is not 4 (or 3 with `allow_eio3`).
    UnsupportedProtocolVersion,
}

impl RequestError {
    /// The Engine.IO error code.
    pub fn code(&self) -> u8 {
        match self {
            RequestError::UnknownTransport => 0,
            RequestError::UnknownSid => 1,
            RequestError::BadHandshakeMethod => 2,
            RequestError::BadRequest => 3,
            RequestError::Forbidden(_) => 4,
            RequestError::UnsupportedProtocolVersion => 5,
        }
    }

    /// The HTTP status: 403 for `Forbidden`, 400 otherwise.
    pub fn status(&self) -> StatusCode {
        match self {
            RequestError::Forbidden(_) => StatusCode::FORBIDDEN,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The message, as Node words it.
    pub fn message(&self) -> &str {
        match self {
            RequestError::UnknownTransport => "Transport unknown",
            RequestError::UnknownSid => "Session ID unknown",
            RequestError::BadHandshakeMethod => "Bad handshake method",
            RequestError::BadRequest => "Bad request",
            RequestError::Forbidden(m) if !m.is_empty() => m,
            RequestError::Forbidden(_) => "Forbidden",
            RequestError::UnsupportedProtocolVersion => "Unsupported protocol version",
        }
    }

    /// `{"code":N,"message":"..."}`, the message escaped as `JSON.stringify` does.
    pub fn json_body(&self) -> String {
        let mut s = format!("{{\"code\":{},\"message\":\"", self.code());
        for c in self.message().chars() {
            match c {
                '"' => s.push_str("\\\""),
                '\\' => s.push_str("\\\\"),
                '\n' => s.push_str("\\n"),
                '\r' => s.push_str("\\r"),
                '\t' => s.push_str("\\t"),
                '\u{8}' => s.push_str("\\b"),
                '\u{c}' => s.push_str("\\f"),
                c if u32::from(c) < 0x20 => s.push_str(&format!("\\u{:04x}", u32::from(c))),
                c => s.push(c),
            }
        }
        s.push_str("\"}");
        s
    }

    /// The polling answer: status, `Content-Type: application/json`, JSON body.
    pub(crate) fn to_response(&self) -> Response<Bytes> {
        let body = self.json_body();
        let mut res = Response::new(Bytes::from(body));
        *res.status_mut() = self.status();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        res
    }

    /// The refused-upgrade answer Node writes on the raw socket: always 400,
    /// `Connection: close`, `Content-Type: text/html`, the message as body.
    pub(crate) fn to_upgrade_response(&self) -> Response<Bytes> {
        upgrade_refusal(self.message().to_owned())
    }
}

/// A 400 answer to a WebSocket upgrade request, as Node and `ws` write it.
pub(crate) fn upgrade_refusal(message: String) -> Response<Bytes> {
    let mut res = Response::new(Bytes::from(message));
    *res.status_mut() = StatusCode::BAD_REQUEST;
    let h = res.headers_mut();
    h.insert(header::CONNECTION, http::HeaderValue::from_static("close"));
    h.insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/html"),
    );
    res
}

/// An empty-bodied answer (overlapping polls, v4 binary POST, 413, 500).
pub(crate) fn empty(status: StatusCode) -> Response<Bytes> {
    let mut res = Response::new(Bytes::new());
    *res.status_mut() = status;
    res
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Engine.IO request refused (code {}): {}",
            self.code(),
            self.message()
        )
    }
}

impl std::error::Error for RequestError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_of_the_table() {
        let rows: &[(RequestError, u16, &str)] = &[
            (
                RequestError::UnknownTransport,
                400,
                r#"{"code":0,"message":"Transport unknown"}"#,
            ),
            (
                RequestError::UnknownSid,
                400,
                r#"{"code":1,"message":"Session ID unknown"}"#,
            ),
            (
                RequestError::BadHandshakeMethod,
                400,
                r#"{"code":2,"message":"Bad handshake method"}"#,
            ),
            (
                RequestError::BadRequest,
                400,
                r#"{"code":3,"message":"Bad request"}"#,
            ),
            (
                RequestError::Forbidden(String::new()),
                403,
                r#"{"code":4,"message":"Forbidden"}"#,
            ),
            (
                RequestError::Forbidden("no \"way\"\n".into()),
                403,
                r#"{"code":4,"message":"no \"way\"\n"}"#,
            ),
            (
                RequestError::UnsupportedProtocolVersion,
                400,
                r#"{"code":5,"message":"Unsupported protocol version"}"#,
            ),
        ];
        for (e, status, body) in rows {
            let res = e.to_response();
            assert_eq!(res.status().as_u16(), *status, "{e}");
            assert_eq!(res.body(), body.as_bytes(), "{e}");
            assert_eq!(res.headers()[header::CONTENT_TYPE], "application/json");
        }
    }

    #[test]
    fn upgrade_refusal_is_text() {
        let res = RequestError::UnknownSid.to_upgrade_response();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert_eq!(res.body().as_ref(), b"Session ID unknown");
        assert_eq!(res.headers()[header::CONNECTION], "close");
    }
}
