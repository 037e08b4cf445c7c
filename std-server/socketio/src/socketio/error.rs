//! What can go wrong in the Socket.IO layer, one type per question a caller
//! asks: why did a socket disconnect, why was a connection refused. (Why an
//! emit failed, or an ack did not arrive: [`EmitError`](super::EmitError)
//! and [`AckError`](super::AckError), from `oxio-adapter`.)

use core::fmt;
use oxio_engine::CloseReason;

/// Why a socket left its namespace; the strings are Node's (they reach
/// `disconnect` handlers and logs unchanged).
///
/// ```
/// use oxio_server::engine::CloseReason;
/// use oxio_server::socketio::DisconnectReason;
///
/// assert_eq!(DisconnectReason::from(CloseReason::PingTimeout).as_str(), "ping timeout");
/// assert_eq!(DisconnectReason::ClientNamespaceDisconnect.to_string(), "client namespace disconnect");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The client sent `1[/nsp,]`.
    ClientNamespaceDisconnect,
    /// The server called [`Socket::disconnect`](super::Socket::disconnect).
    ServerNamespaceDisconnect,
    /// No heartbeat in time.
    PingTimeout,
    /// The client closed the transport.
    TransportClose,
    /// The transport failed.
    TransportError,
    /// The client broke the protocol (a decode error, or a packet the
    /// session state forbids: docs/protocol.md §3.4–3.5).
    ParseError,
    /// The server is stopping.
    ServerShuttingDown,
    /// The server closed the connection (connect timeout, a slow reader,
    /// `disconnect(true)` on another namespace of the same connection).
    ForcedClose,
}

impl DisconnectReason {
    /// The reason string Node gives.
    pub fn as_str(self) -> &'static str {
        match self {
            DisconnectReason::ClientNamespaceDisconnect => "client namespace disconnect",
            DisconnectReason::ServerNamespaceDisconnect => "server namespace disconnect",
            DisconnectReason::PingTimeout => "ping timeout",
            DisconnectReason::TransportClose => "transport close",
            DisconnectReason::TransportError => "transport error",
            DisconnectReason::ParseError => "parse error",
            DisconnectReason::ServerShuttingDown => "server shutting down",
            DisconnectReason::ForcedClose => "forced close",
        }
    }
}

impl From<CloseReason> for DisconnectReason {
    fn from(r: CloseReason) -> Self {
        match r {
            CloseReason::TransportClose => DisconnectReason::TransportClose,
            CloseReason::TransportError => DisconnectReason::TransportError,
            CloseReason::PingTimeout => DisconnectReason::PingTimeout,
            CloseReason::ParseError => DisconnectReason::ParseError,
            CloseReason::ForcedClose => DisconnectReason::ForcedClose,
            CloseReason::ServerShuttingDown => DisconnectReason::ServerShuttingDown,
        }
    }
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refusal from a connect middleware, sent to the client as
/// CONNECT_ERROR: `4[/nsp,]{"message":..,"data":..}` (v5), or the data (or
/// else the message) as a bare JSON value for v4 clients.
///
/// ```
/// use oxio_server::socketio::ConnectError;
///
/// let err = ConnectError::new("not authorized").with_data(serde_json::json!({"content": "retry later"}));
/// assert_eq!(err.message(), "not authorized");
/// assert_eq!(err.data().unwrap()["content"], "retry later");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectError {
    message: String,
    data: Option<serde_json::Value>,
}

impl ConnectError {
    /// A refusal with a message (`err.message` on the client).
    pub fn new(message: impl Into<String>) -> Self {
        ConnectError {
            message: message.into(),
            data: None,
        }
    }

    /// Adds `data` (`err.data` on the client).
    pub fn with_data(mut self, data: serde_json::Value) -> Self {
        self.data = Some(data);
        self
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The data, if any.
    pub fn data(&self) -> Option<&serde_json::Value> {
        self.data.as_ref()
    }
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConnectError {}

impl From<&str> for ConnectError {
    fn from(message: &str) -> Self {
        ConnectError::new(message)
    }
}

impl From<String> for ConnectError {
    fn from(message: String) -> Self {
        ConnectError::new(message)
    }
}
