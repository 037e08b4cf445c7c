//! What can go wrong with a Socket.IO packet, and what the peer is owed.
//!
//! Every decode error means the same thing to a server: the reference
//! closes the whole Engine.IO connection with reason `parse error`
//! (docs/protocol.md §3.5). The reassembly errors are decode errors too.

use crate::json::JsonError;
use core::fmt;

/// A Socket.IO decode, encode or reassembly error.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// The frame was empty.
    Empty,
    /// The first byte is not a packet type digit `0`..`6`.
    UnknownPacketType(u8),
    /// A binary packet's attachment count is missing, not digits followed
    /// by `-`, or zero (the reference's "Illegal attachments").
    IllegalAttachments,
    /// A binary packet announces more attachments than the limit.
    TooManyAttachments {
        /// The announced count (saturated at `usize::MAX`).
        count: usize,
        /// The configured limit.
        max: usize,
    },
    /// The namespace is longer than the limit.
    NamespaceTooLong,
    /// A namespace to encode does not start with `/`.
    InvalidNamespace,
    /// The ack id is larger than the limit (2^53 − 1 by default).
    AckIdTooLarge,
    /// The payload is not valid JSON.
    InvalidJson(JsonError),
    /// A msgpack frame (see [`crate::msgpack`]) is not one well-formed
    /// msgpack value within the limits.
    InvalidMsgpack(crate::msgpack::MsgpackError),
    /// The payload is valid JSON of the wrong shape for the packet type
    /// (for example `42{}`, `42[]`, `40[]`, `41{}`, an ACK that is not an array).
    InvalidPayload,
    /// A v5 event uses a reserved name such as `disconnect`.
    ReservedEventName,
    /// A binary placeholder is malformed: `_placeholder` not exactly
    /// `true`, or `num` not an integer below the attachment count.
    InvalidPlaceholder,
    /// A text frame arrived while a binary packet still waited for attachments.
    UnexpectedText,
    /// A binary frame arrived while no binary packet was waiting for one.
    UnexpectedBinary,
    /// The attachments of one packet hold more bytes than the limit.
    AttachmentsTooLarge,
    /// A binary packet's attachments did not all arrive before its deadline.
    AttachmentTimeout,
    /// The output buffer is too small.
    BufferFull,
    /// A value could not be serialized to JSON.
    Serialize(JsonError),
    /// The payload could not be deserialized into the requested type.
    Deserialize(JsonError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Empty => f.write_str("empty packet"),
            Error::UnknownPacketType(b) => write!(f, "unknown packet type byte 0x{b:02x}"),
            Error::IllegalAttachments => f.write_str("illegal attachments"),
            Error::TooManyAttachments { count, max } => {
                write!(f, "too many attachments ({count}, limit {max})")
            }
            Error::NamespaceTooLong => f.write_str("namespace too long"),
            Error::InvalidNamespace => f.write_str("namespace must start with '/'"),
            Error::AckIdTooLarge => f.write_str("ack id too large"),
            Error::InvalidJson(e) => write!(f, "invalid payload: {e}"),
            Error::InvalidMsgpack(e) => write!(f, "invalid payload: {e}"),
            Error::InvalidPayload => f.write_str("invalid payload"),
            Error::ReservedEventName => f.write_str("reserved event name"),
            Error::InvalidPlaceholder => f.write_str("illegal attachments: invalid placeholder"),
            Error::UnexpectedText => {
                f.write_str("text packet received while waiting for binary attachments")
            }
            Error::UnexpectedBinary => {
                f.write_str("got binary data when not reconstructing a packet")
            }
            Error::AttachmentsTooLarge => f.write_str("attachments exceed the size limit"),
            Error::AttachmentTimeout => f.write_str("binary attachments did not arrive in time"),
            Error::BufferFull => f.write_str("output buffer full"),
            Error::Serialize(e) => write!(f, "cannot serialize: {e}"),
            Error::Deserialize(e) => write!(f, "cannot deserialize: {e}"),
        }
    }
}

impl core::error::Error for Error {}
