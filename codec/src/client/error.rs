//! The two error types of the client session: one for the application's
//! calls, one for what the server sends.

use crate::{engineio, socketio};
use core::fmt;

/// Why an application call ([`Session::connect`](super::Session::connect),
/// [`emit`](super::Session::emit), [`ack`](super::Session::ack),
/// [`disconnect`](super::Session::disconnect)) was refused. A refused call
/// changes nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// The namespace does not start with `/`, is longer than
    /// [`NAMESPACE_CAPACITY`](super::NAMESPACE_CAPACITY) bytes, or holds a
    /// `,` or `?`.
    InvalidNamespace,
    /// [`Session::connect`](super::Session::connect) for a namespace that is
    /// already connected or connecting, or whose DISCONNECT has not gone
    /// out yet.
    AlreadyConnected,
    /// Every namespace slot is in use.
    TooManyNamespaces,
    /// The namespace was never connected, or was left or refused.
    UnknownNamespace,
    /// [`Session::ack`](super::Session::ack) while the namespace is not
    /// connected: the server's ack id died with the connection.
    NotConnected,
    /// The [`AckRequest`](super::AckRequest) belongs to an earlier
    /// connection of its namespace.
    StaleAck,
    /// The pending-ack table is full.
    TooManyPendingAcks,
    /// The queue has no room for the packet now (while connected: wait for
    /// [`Session::poll_transmit`](super::Session::poll_transmit) to drain
    /// it; while disconnected: see [`OfflinePolicy`](super::OfflinePolicy)).
    QueueFull,
    /// The packet can never be sent: a frame would exceed
    /// [`Config::max_frame_len`](super::Config::max_frame_len), it would not
    /// fit the queue even empty, or it holds more than
    /// [`MAX_ATTACHMENTS`](super::MAX_ATTACHMENTS) attachments.
    TooLarge,
    /// A volatile emit while its namespace is not connected: volatile
    /// emits are never buffered, so it was discarded.
    VolatileDropped,
    /// The auth value is not a JSON object (v5), or not an object of
    /// strings, numbers, booleans and nulls (v3, where it becomes the
    /// namespace's query string).
    InvalidAuth,
    /// Auth for `/` in v3 mode: socket.io 2.x joins `/` implicitly, so
    /// there is no CONNECT packet to carry it. Use [`Config::query`](super::Config::query).
    AuthUnsupported,
    /// The arguments serialized differently on two passes (a `Serialize`
    /// implementation that is not deterministic).
    NondeterministicArgs,
    /// The codec refused the packet (reserved event name in v5, a value
    /// JSON cannot hold...).
    Encode(socketio::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidNamespace => f.write_str(
                "invalid namespace (must start with '/', hold no ',' or '?', and fit the slot)",
            ),
            Error::AlreadyConnected => f.write_str("namespace already connected or connecting"),
            Error::TooManyNamespaces => f.write_str("every namespace slot is in use"),
            Error::UnknownNamespace => f.write_str("namespace not connected"),
            Error::NotConnected => f.write_str("namespace not connected: the ack cannot be sent"),
            Error::StaleAck => f.write_str("ack request from an earlier connection"),
            Error::TooManyPendingAcks => f.write_str("too many emits waiting for an ack"),
            Error::QueueFull => f.write_str("send queue full"),
            Error::TooLarge => f.write_str("packet too large to send"),
            Error::VolatileDropped => f.write_str("volatile emit dropped: not connected"),
            Error::InvalidAuth => f.write_str("auth must be a JSON object"),
            Error::AuthUnsupported => {
                f.write_str("auth for '/' cannot be sent in v3 mode (it is joined implicitly)")
            }
            Error::NondeterministicArgs => {
                f.write_str("the arguments serialized differently on two passes")
            }
            Error::Encode(e) => write!(f, "cannot encode: {e}"),
        }
    }
}

impl core::error::Error for Error {}

/// Why a frame from the server was not accepted by
/// [`Session::handle_frame`](super::Session::handle_frame).
///
/// The session has already reacted when it returns one: every variant but
/// [`FrameError::TooLarge`] is a protocol violation after which the
/// transport is closed (reason [`DisconnectReason::ParseError`](super::DisconnectReason::ParseError))
/// and a reconnection scheduled; the error is for logs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum FrameError {
    /// Not an Engine.IO packet (or a bad handshake).
    EngineIo(engineio::Error),
    /// Not a Socket.IO packet, or attachments out of order.
    SocketIo(socketio::Error),
    /// An Engine.IO packet that makes no sense now: a message before the
    /// handshake, a second handshake, a binary frame before the handshake.
    Unexpected,
    /// The handshake's sid is longer than [`INFO_CAPACITY`](super::INFO_CAPACITY).
    SidTooLong,
    /// A binary packet (text and attachments) does not fit the session's
    /// reassembly buffer. The packet is skipped (its remaining attachments
    /// are discarded as they arrive) and the connection is kept.
    TooLarge {
        /// Bytes the packet needs so far.
        needed: usize,
        /// The reassembly buffer's size.
        capacity: usize,
    },
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::EngineIo(e) => write!(f, "Engine.IO parse error: {e}"),
            FrameError::SocketIo(e) => write!(f, "Socket.IO parse error: {e}"),
            FrameError::Unexpected => f.write_str("unexpected Engine.IO packet"),
            FrameError::SidTooLong => f.write_str("handshake sid too long"),
            FrameError::TooLarge { needed, capacity } => write!(
                f,
                "binary packet too large ({needed} bytes, buffer {capacity}): skipped"
            ),
        }
    }
}

impl core::error::Error for FrameError {}
