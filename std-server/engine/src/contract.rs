//! The types the Engine.IO layer and the Socket.IO layer share.
//!
//! Kept apart from the engine's internals so the Socket.IO layer can be
//! written and unit-tested against a fake [`SessionHandle`].

use bytes::Bytes;
use bytestring::ByteString;
use core::fmt;
use oxio_codec::engineio::Version;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

/// UTF-8 text that is cheap to clone: one encoded broadcast packet is shared
/// by every session it goes to.
///
/// ```
/// use oxio_engine::Utf8Bytes;
///
/// let t = Utf8Bytes::from("2[\"hi\"]");
/// assert_eq!(t.as_str(), "2[\"hi\"]");
/// assert!(Utf8Bytes::try_from(bytes::Bytes::from_static(b"\xff")).is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Utf8Bytes(ByteString);

impl Utf8Bytes {
    /// The text (checked once, when the value was made: no check here).
    #[inline]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The underlying bytes.
    #[inline]
    pub fn as_bytes(&self) -> &Bytes {
        self.0.as_bytes()
    }

    /// Wraps bytes already known to be UTF-8 by construction.
    pub fn from_static(s: &'static str) -> Self {
        Utf8Bytes(ByteString::from_static(s))
    }

    /// The part `sub` of this text, sharing its bytes (`sub` must lie
    /// inside [`as_str`](Self::as_str); otherwise it is copied).
    ///
    /// ```
    /// use oxio_engine::Utf8Bytes;
    ///
    /// let t = Utf8Bytes::from("4hello");
    /// let hello = t.slice_ref(&t.as_str()[1..]);
    /// assert_eq!(hello.as_str(), "hello");
    /// ```
    pub fn slice_ref(&self, sub: &str) -> Self {
        if sub.is_empty() {
            Utf8Bytes::default()
        } else if lies_within(self.as_str().as_bytes(), sub.as_bytes()) {
            Utf8Bytes(self.0.slice_ref(sub))
        } else {
            Utf8Bytes::from(sub)
        }
    }
}

/// Whether `part` is a sub-slice of `whole` (same memory, not equal bytes).
pub(crate) fn lies_within(whole: &[u8], part: &[u8]) -> bool {
    let (w, p) = (whole.as_ptr_range(), part.as_ptr_range());
    w.start <= p.start && p.end <= w.end
}

impl From<String> for Utf8Bytes {
    fn from(s: String) -> Self {
        Utf8Bytes(ByteString::from(s))
    }
}

impl From<&str> for Utf8Bytes {
    fn from(s: &str) -> Self {
        Utf8Bytes(ByteString::from(s))
    }
}

impl TryFrom<Bytes> for Utf8Bytes {
    type Error = std::str::Utf8Error;
    fn try_from(b: Bytes) -> Result<Self, Self::Error> {
        ByteString::try_from(b).map(Utf8Bytes)
    }
}

impl fmt::Debug for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One Engine.IO `message` packet's data, as the Socket.IO layer sees it:
/// the Engine.IO framing (`4`, `b…`, payload separators) is already removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message (a Socket.IO packet's text part).
    Text(Utf8Bytes),
    /// A binary message (a Socket.IO binary attachment).
    Binary(Bytes),
}

/// Why a session ended, named as Node's engine.io names it (these strings
/// reach Socket.IO `disconnect` handlers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseReason {
    /// The client went away or closed the transport.
    TransportClose,
    /// The transport failed (I/O error, overlapping polls, a body too large...).
    TransportError,
    /// No pong (v4) or ping (v3) in time.
    PingTimeout,
    /// The client sent a packet that does not decode.
    ParseError,
    /// The server closed the session (`Session::close`).
    ForcedClose,
    /// The server is stopping.
    ServerShuttingDown,
}

impl CloseReason {
    /// The reason string Node uses.
    ///
    /// ```
    /// assert_eq!(oxio_engine::CloseReason::PingTimeout.as_str(), "ping timeout");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::TransportClose => "transport close",
            CloseReason::TransportError => "transport error",
            CloseReason::PingTimeout => "ping timeout",
            CloseReason::ParseError => "parse error",
            CloseReason::ForcedClose => "forced close",
            CloseReason::ServerShuttingDown => "server shutting down",
        }
    }
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why messages could not be queued. Nothing was queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The session's bounded outbound queue cannot take them (a slow reader).
    #[error("outbound queue full")]
    Full,
    /// The session is closed.
    #[error("session closed")]
    Closed,
}

/// What the handshake request carried, for Socket.IO's `socket.handshake`.
#[derive(Debug, Clone)]
pub struct HandshakeInfo {
    /// The request URI's query string, undecoded (`EIO=4&transport=polling&...`).
    pub query: String,
    /// The request headers.
    pub headers: http::HeaderMap,
    /// The peer's address, when known.
    pub remote_addr: Option<SocketAddr>,
    /// When the session was opened.
    pub issued: SystemTime,
    /// Whether the connection was TLS (as far as the server can tell).
    pub secure: bool,
    /// The request URI's path.
    pub url: String,
}

/// An open Engine.IO session, as the layer above sees it. Methods never
/// block: `send` queues into a bounded buffer and reports when it is full.
pub trait SessionHandle: Send + Sync + 'static {
    /// The Engine.IO session id (secret: whoever knows it can use the session).
    fn sid(&self) -> &str;
    /// Engine.IO v3 or v4.
    fn protocol(&self) -> Version;
    /// What the handshake request carried.
    fn info(&self) -> &HandshakeInfo;
    /// Queues messages for the client as one unit: all of them, in order,
    /// with no other message between them, or none at all when the session
    /// is closed or its queue cannot take every one (the bound is checked
    /// against the whole unit). A Socket.IO packet with binary attachments
    /// is such a unit: its text header and its attachments must never be
    /// interleaved with another packet's frames.
    fn send_many(&self, msgs: &[Message]) -> Result<(), SendError>;
    /// Queues one message (see [`send_many`](Self::send_many)).
    fn send(&self, msg: Message) -> Result<(), SendError> {
        self.send_many(std::slice::from_ref(&msg))
    }
    /// Closes the session; [`EngineHandler::on_close`] follows with `reason`.
    fn close(&self, reason: CloseReason);
    /// Whether the session is still open.
    fn is_open(&self) -> bool;
    /// The active transport's name, as Node names it (`"polling"` or
    /// `"websocket"`); `None` when the session cannot tell.
    fn transport_name(&self) -> Option<&'static str> {
        None
    }
}

/// A shared handle to a session.
pub type Session = Arc<dyn SessionHandle>;

/// The layer above the engine (Socket.IO, or a raw Engine.IO app).
///
/// Calls for one session arrive in order: `on_open`, any `on_message`s,
/// then exactly one `on_close`. Implementations must not block: spawn work
/// that waits.
pub trait EngineHandler: Send + Sync + 'static {
    /// A session completed its handshake.
    fn on_open(&self, session: Session);
    /// A message arrived on a session.
    fn on_message(&self, session: &Session, msg: Message);
    /// A session ended.
    fn on_close(&self, session: &Session, reason: CloseReason);
}
