//! Socket.IO v4 and v5: packets, events, acks and binary attachments.
//!
//! Where things happen:
//! - [`decode`]: a text frame becomes a [`Packet`]. Only the header (type,
//!   attachment count, namespace, ack id) is parsed; the JSON payload is
//!   validated and kept as a borrowed slice. [`Decoder::decode_header`] is
//!   the opt-in lazy variant: header and event name now, the arguments'
//!   validation deferred to [`Header::validate`] / [`Header::args`].
//! - [`packet`]: reading a decoded packet: event name without touching the
//!   arguments, arguments into any `T: Deserialize` on demand.
//! - [`encode`]: writing packets from `serde` values into a caller buffer.
//! - [`binary`]: the serde-friendly [`Binary`] type for byte fields.
//! - [`args`]: [`Args`], an argument list whose length is known only at
//!   run time.
//! - [`placeholder`]: checks `{"_placeholder":true,"num":N}` objects.
//! - [`reassembly`]: collects the binary frames that follow a binary
//!   packet, with limits and a deadline.
//!
//! Protocol versions: [`Version::V5`] is socket.io 3.x/4.x on Engine.IO v4;
//! [`Version::V4`] is socket.io 1.x/2.x on Engine.IO v3.

pub mod args;
pub mod binary;
pub mod decode;
pub mod encode;
pub mod error;
pub mod packet;
pub mod placeholder;
pub mod reassembly;

pub use args::Args;
pub use binary::Binary;
#[cfg(feature = "alloc")]
pub use binary::BinaryBuf;
pub use decode::{Decoder, Header};
pub use encode::{Encoded, Encoder};
pub use error::Error;
pub use packet::{ConnectError, EventName, Packet};
pub use reassembly::{AttachmentStore, Complete, Reassembler};

/// The Socket.IO protocol revision spoken on a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Version {
    /// Socket.IO protocol v4 (socket.io 1.x/2.x clients, Engine.IO v3): type
    /// 4 is `ERROR` with a string or object, event names are not checked
    /// against the reserved list, and `/` is joined implicitly.
    V4,
    /// Socket.IO protocol v5 (socket.io 3.x/4.x, Engine.IO v4).
    #[default]
    V5,
}

/// The seven Socket.IO packet types, by their wire digit.
///
/// ```
/// use oxio_codec::socketio::PacketType;
///
/// assert_eq!(PacketType::from_digit(b'5'), Some(PacketType::BinaryEvent));
/// assert_eq!(PacketType::Ack.as_digit(), b'3');
/// assert_eq!(PacketType::from_digit(b'7'), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PacketType {
    /// `0`: join a namespace (client), or accept the join (server).
    Connect,
    /// `1`: leave a namespace.
    Disconnect,
    /// `2`: an event with arguments.
    Event,
    /// `3`: the answer to an event that carried an ack id.
    Ack,
    /// `4`: the server refused a namespace join (`ERROR` in v4).
    ConnectError,
    /// `5`: an event whose arguments hold binary attachments.
    BinaryEvent,
    /// `6`: an ack whose arguments hold binary attachments.
    BinaryAck,
}

impl PacketType {
    /// The type for an ASCII digit `b'0'..=b'6'`.
    pub const fn from_digit(digit: u8) -> Option<PacketType> {
        Some(match digit {
            b'0' => PacketType::Connect,
            b'1' => PacketType::Disconnect,
            b'2' => PacketType::Event,
            b'3' => PacketType::Ack,
            b'4' => PacketType::ConnectError,
            b'5' => PacketType::BinaryEvent,
            b'6' => PacketType::BinaryAck,
            _ => return None,
        })
    }

    /// The ASCII digit written on the wire.
    pub const fn as_digit(self) -> u8 {
        match self {
            PacketType::Connect => b'0',
            PacketType::Disconnect => b'1',
            PacketType::Event => b'2',
            PacketType::Ack => b'3',
            PacketType::ConnectError => b'4',
            PacketType::BinaryEvent => b'5',
            PacketType::BinaryAck => b'6',
        }
    }

    /// Whether binary attachments follow this packet.
    pub const fn is_binary(self) -> bool {
        matches!(self, PacketType::BinaryEvent | PacketType::BinaryAck)
    }

    /// Whether this is an event, binary or not.
    pub const fn is_event(self) -> bool {
        matches!(self, PacketType::Event | PacketType::BinaryEvent)
    }

    /// Whether this is an ack, binary or not.
    pub const fn is_ack(self) -> bool {
        matches!(self, PacketType::Ack | PacketType::BinaryAck)
    }
}

/// Event names the reference server reserves for itself; a v5 packet
/// carrying one is rejected, and the encoder refuses to write one.
pub const RESERVED_EVENTS: [&str; 6] = [
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

/// Whether `name` is one of [`RESERVED_EVENTS`].
///
/// ```
/// assert!(oxio_codec::socketio::is_reserved_event("disconnect"));
/// assert!(!oxio_codec::socketio::is_reserved_event("message"));
/// ```
pub fn is_reserved_event(name: &str) -> bool {
    RESERVED_EVENTS.contains(&name)
}
