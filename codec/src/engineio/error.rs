//! The one error type of the Engine.IO layer.
//!
//! Every decode error means the same thing to a session: the peer sent
//! something that is not Engine.IO, which docs/protocol.md §1.9 calls a *parse
//! error*, and the session must be closed. The variants only say *why*, for
//! logs and tests. Encode errors ([`Error::BufferFull`],
//! [`Error::BinaryNotMessage`], [`Error::NotBinary`],
//! [`Error::SeparatorInText`]) are about the caller's packets and never come
//! from peer input.

use core::fmt;

/// Why Engine.IO bytes could not be decoded or encoded.
///
/// Any error from a decoder is a parse error: close the session
/// (docs/protocol.md §1.9). No decoder error leaves partially decoded state
/// behind; payload iterators stop after their first error.
///
/// ```
/// use oxio_codec::engineio::{Error, Packet, Version};
///
/// let err = Packet::decode_text("9oops", Version::V4).unwrap_err();
/// assert_eq!(err, Error::UnknownPacketType(b'9'));
/// assert_eq!(err.to_string(), "unknown Engine.IO packet type byte 0x39");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// A packet, frame or payload is empty where at least a type is required.
    Empty,
    /// The packet type byte is not one of `0`..`6` (text) or 0..6 (a v3
    /// binary frame), or a v3 `b` packet lacks its type digit. Holds the byte.
    UnknownPacketType(u8),
    /// A `b...` packet's base64 is not canonical standard base64 with padding.
    InvalidBase64,
    /// Bytes that must be UTF-8 text are not.
    InvalidUtf8,
    /// A polling body is longer than [`Limits::max_packet_len`](crate::Limits).
    PayloadTooLarge {
        /// Length of the body, in bytes.
        len: usize,
        /// The limit it exceeds.
        max: usize,
    },
    /// A v3 payload length prefix is empty, holds a non-digit, has too many
    /// digits, overflows, or exceeds `max_packet_len`.
    InvalidLength,
    /// A v3 payload length prefix is not followed by its terminator (`:` in
    /// the text format, `0xFF` in the binary format) before the body ends.
    UnterminatedLength,
    /// A v3 payload length points past the end of the body.
    LengthOverrun,
    /// A v3 text payload length (in UTF-16 code units) ends inside a
    /// surrogate pair, so it would split a character in two.
    LengthSplitsCharacter,
    /// A v3 binary payload entry starts with a byte other than `0x00`
    /// (string) or `0x01` (binary). Holds the byte.
    InvalidPayloadKind(u8),
    /// The output buffer is too small; nothing was written past its end.
    BufferFull,
    /// Only `message` packets can carry binary data in Engine.IO v4.
    BinaryNotMessage,
    /// A binary frame was requested for a packet whose data is text.
    NotBinary,
    /// Text data holds the v4 payload separator `0x1E`, so it cannot be
    /// put in a v4 polling body (it would arrive as two packets).
    SeparatorInText,
    /// The open packet's handshake JSON is malformed or incomplete.
    InvalidHandshake(HandshakeError),
}

/// What is wrong with a handshake JSON object (see
/// [`Handshake::decode`](super::Handshake::decode)).
///
/// ```
/// use oxio_codec::engineio::{Error, Handshake, HandshakeError};
///
/// let err = Handshake::decode(r#"{"sid":"abc"}"#).unwrap_err();
/// assert_eq!(err, Error::InvalidHandshake(HandshakeError::MissingField("upgrades")));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum HandshakeError {
    /// The text is not a JSON object; the byte at this offset is unexpected
    /// (the offset equals the length when the text ended too early).
    Syntax {
        /// Byte offset of the problem.
        offset: usize,
    },
    /// A value nests arrays or objects deeper than the decoder follows (64).
    TooDeep,
    /// A required key is absent.
    MissingField(&'static str),
    /// A known key holds a value of the wrong type or range.
    InvalidField(&'static str),
    /// A known key appears twice.
    DuplicateField(&'static str),
    /// The `sid` string contains a JSON escape. Real session ids are
    /// URL-safe base64; a borrowed decoder cannot unescape, so it refuses.
    EscapedSid,
    /// The packet handed to [`Handshake::from_packet`](super::Handshake::from_packet)
    /// is not an `open` packet with text data.
    NotOpenPacket,
}

impl From<HandshakeError> for Error {
    fn from(e: HandshakeError) -> Self {
        Error::InvalidHandshake(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Empty => f.write_str("empty Engine.IO packet or payload"),
            Error::UnknownPacketType(b) => {
                write!(f, "unknown Engine.IO packet type byte {b:#04x}")
            }
            Error::InvalidBase64 => f.write_str("invalid base64 in a binary Engine.IO packet"),
            Error::InvalidUtf8 => f.write_str("Engine.IO text is not valid UTF-8"),
            Error::PayloadTooLarge { len, max } => {
                write!(
                    f,
                    "Engine.IO payload of {len} bytes exceeds the limit of {max}"
                )
            }
            Error::InvalidLength => f.write_str("invalid Engine.IO v3 payload length prefix"),
            Error::UnterminatedLength => {
                f.write_str("Engine.IO v3 payload length prefix has no terminator")
            }
            Error::LengthOverrun => {
                f.write_str("Engine.IO v3 payload length runs past the end of the body")
            }
            Error::LengthSplitsCharacter => {
                f.write_str("Engine.IO v3 payload length ends inside a UTF-16 surrogate pair")
            }
            Error::InvalidPayloadKind(b) => {
                write!(
                    f,
                    "Engine.IO v3 binary payload entry kind {b:#04x} is not 0 or 1"
                )
            }
            Error::BufferFull => f.write_str("output buffer too small for the Engine.IO data"),
            Error::BinaryNotMessage => {
                f.write_str("only message packets can carry binary data in Engine.IO v4")
            }
            Error::NotBinary => f.write_str("a binary frame needs a packet with binary data"),
            Error::SeparatorInText => {
                f.write_str("text containing 0x1E cannot be sent in an Engine.IO v4 polling body")
            }
            Error::InvalidHandshake(e) => write!(f, "invalid Engine.IO handshake: {e}"),
        }
    }
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandshakeError::Syntax { offset } => {
                write!(f, "not a JSON object (unexpected input at offset {offset})")
            }
            HandshakeError::TooDeep => f.write_str("a value is nested too deeply"),
            HandshakeError::MissingField(k) => write!(f, "missing key \"{k}\""),
            HandshakeError::InvalidField(k) => write!(f, "key \"{k}\" has an invalid value"),
            HandshakeError::DuplicateField(k) => write!(f, "key \"{k}\" appears twice"),
            HandshakeError::EscapedSid => f.write_str("the sid contains a JSON escape"),
            HandshakeError::NotOpenPacket => f.write_str("not an open packet with text data"),
        }
    }
}

impl core::error::Error for Error {}
impl core::error::Error for HandshakeError {}
