//! The client's error type.

use crate::url::UrlError;
use crate::ws::HandshakeError;
use core::fmt;
use oxio_codec::client::{CancelReason, FrameError};

/// Why a client call failed (or, for [`Client::last_error`](crate::Client::last_error),
/// why the last connection attempt or connection ended).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// The server URL is not usable.
    Url(UrlError),
    /// The session refused the call (unknown namespace, full queue, packet
    /// too large...).
    Session(oxio_codec::client::Error),
    /// The TCP connection (or name resolution) failed.
    Connect,
    /// The TLS handshake failed or the server's certificate was refused
    /// (`wss://`, feature `tls`).
    Tls(TlsError),
    /// Connecting or the WebSocket handshake took longer than the session's
    /// connection timeout.
    ConnectTimeout,
    /// A read or write on the connection failed.
    Io(embedded_io_async::ErrorKind),
    /// The server closed the connection.
    Closed,
    /// The WebSocket opening handshake failed.
    Handshake(HandshakeError),
    /// The server sent something that is not a WebSocket frame, a control
    /// frame longer than 125 bytes, or a fragmented message (not supported).
    WebSocket,
    /// A frame from the server is larger than the receive buffer.
    FrameTooLarge {
        /// The frame's payload length.
        len: u64,
        /// The receive buffer's size.
        capacity: usize,
    },
    /// A text frame that is not UTF-8.
    NotUtf8,
    /// The session refused a frame (see [`FrameError`]); it reconnects by itself.
    Protocol(FrameError),
    /// An event arrived while [`Client::emit_with_ack`](crate::Client::emit_with_ack)
    /// was waiting and did not fit the inbox: it was dropped.
    InboxFull,
    /// The acknowledgement did not come in time.
    AckTimeout,
    /// The acknowledgement will never come.
    AckCancelled(CancelReason),
    /// The emit was dropped under [`OfflinePolicy::DropNewest`](oxio_codec::client::OfflinePolicy::DropNewest).
    Dropped,
    /// The acknowledgement's arguments do not have the expected type.
    Decode(oxio_codec::socketio::Error),
    /// Nothing can happen any more: no namespace is wanted, no connection is
    /// open and no timer runs (after [`Client::disconnect`](crate::Client::disconnect)
    /// of the last namespace, or when reconnection gave up).
    Idle,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Url(e) => write!(f, "bad server URL: {e}"),
            Error::Session(e) => write!(f, "refused by the session: {e}"),
            Error::Connect => f.write_str("TCP connection failed"),
            Error::Tls(e) => write!(f, "TLS: {e}"),
            Error::ConnectTimeout => f.write_str("connection timed out"),
            Error::Io(kind) => write!(f, "connection error: {kind:?}"),
            Error::Closed => f.write_str("connection closed by the server"),
            Error::Handshake(e) => write!(f, "{e}"),
            Error::WebSocket => f.write_str("invalid or unsupported WebSocket frame"),
            Error::FrameTooLarge { len, capacity } => {
                write!(
                    f,
                    "frame of {len} bytes exceeds the {capacity}-byte receive buffer"
                )
            }
            Error::NotUtf8 => f.write_str("text frame is not UTF-8"),
            Error::Protocol(e) => write!(f, "protocol error: {e}"),
            Error::InboxFull => f.write_str("event dropped: inbox full"),
            Error::AckTimeout => f.write_str("acknowledgement timed out"),
            Error::AckCancelled(r) => write!(f, "acknowledgement cancelled: {r}"),
            Error::Dropped => f.write_str("emit dropped (offline buffer full)"),
            Error::Decode(e) => write!(f, "cannot decode the acknowledgement: {e}"),
            Error::Idle => f.write_str("client idle: no namespace, no connection"),
        }
    }
}

impl core::error::Error for Error {}

/// Why a TLS connection failed (feature `tls`; the type exists without it
/// so that [`Error`] is the same either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum TlsError {
    /// The server's certificate was refused: not signed by the trust
    /// anchor, not naming the server, no proof of its key, an unsupported
    /// algorithm, or no certificate at all.
    Certificate,
    /// The server aborted the handshake with this TLS alert (RFC 8446 §6;
    /// 40 handshake_failure, 70 protocol_version...).
    Alert(u8),
    /// The server name is longer than 64 bytes (or the host than 253).
    ServerName,
    /// A record does not fit the read record buffer.
    RecordTooLarge,
    /// The TLS exchange broke the protocol (or used something unsupported).
    Protocol,
    /// The TCP connection under TLS could not be opened.
    Tcp,
    /// The TCP connection under TLS failed or closed during the handshake.
    Io,
    /// The connection is over.
    Closed,
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsError::Certificate => f.write_str("server certificate refused"),
            TlsError::Alert(d) => write!(f, "handshake aborted by the server (alert {d})"),
            TlsError::ServerName => f.write_str("server name too long"),
            TlsError::RecordTooLarge => f.write_str("TLS record larger than the record buffer"),
            TlsError::Protocol => f.write_str("TLS protocol error"),
            TlsError::Tcp => f.write_str("TCP connection failed"),
            TlsError::Io => f.write_str("connection failed during the TLS handshake"),
            TlsError::Closed => f.write_str("TLS connection closed"),
        }
    }
}

impl core::error::Error for TlsError {}

impl embedded_io_async::Error for TlsError {
    fn kind(&self) -> embedded_io_async::ErrorKind {
        match self {
            TlsError::Io | TlsError::Closed => embedded_io_async::ErrorKind::ConnectionReset,
            _ => embedded_io_async::ErrorKind::Other,
        }
    }
}

impl From<oxio_codec::client::Error> for Error {
    fn from(e: oxio_codec::client::Error) -> Self {
        Error::Session(e)
    }
}
