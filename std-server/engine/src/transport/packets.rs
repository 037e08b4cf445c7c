//! Between the session's owned packets and the codec's borrowed ones.

use bytes::Bytes;
use oxio_codec::engineio::{Data, Error, Packet, PacketType, Version};

use crate::contract::lies_within;
use crate::session_state::{InPacket, OutPacket};
use crate::{Message, Utf8Bytes};

/// The codec view of an outgoing packet (borrows `p`).
pub(crate) fn as_codec(p: &OutPacket) -> Packet<'_> {
    match p {
        OutPacket::Open(json) => Packet::open(json.as_str()),
        OutPacket::Close => Packet::close(),
        OutPacket::Ping => Packet::ping(),
        OutPacket::Pong => Packet::pong(),
        OutPacket::PongProbe => Packet::pong_probe(),
        OutPacket::Noop => Packet::noop(),
        OutPacket::Message(Message::Text(t)) => Packet::message_text(t.as_str()),
        OutPacket::Message(Message::Binary(b)) => Packet::message_binary(b),
    }
}

/// The bytes of `sub` as a slice of `backing` when `sub` lies inside it (no
/// copy), otherwise a copy.
pub(crate) fn sub_bytes(backing: &Bytes, sub: &[u8]) -> Bytes {
    if !sub.is_empty() && lies_within(backing, sub) {
        backing.slice_ref(sub)
    } else {
        Bytes::copy_from_slice(sub)
    }
}

/// What a decoded packet's data was decoded from: its text and binary data
/// are sliced out of it.
#[derive(Clone, Copy)]
pub(crate) enum Backing<'a> {
    /// Bytes not known to be UTF-8 (a polling body): text is checked.
    Bytes(&'a Bytes),
    /// A text frame, checked when it was read: text is not checked again.
    Text(&'a Utf8Bytes),
}

/// An owned client packet from a decoded one; text and binary data are
/// sliced out of `backing` (the frame or body they were decoded from)
/// without copying where possible. Base64 data is decoded.
pub(crate) fn to_owned(p: Packet<'_>, backing: Backing<'_>) -> Result<InPacket, Error> {
    let bytes = match backing {
        Backing::Bytes(b) => b,
        Backing::Text(t) => t.as_bytes(),
    };
    Ok(match p.packet_type {
        PacketType::Open => InPacket::Open,
        PacketType::Close => InPacket::Close,
        PacketType::Ping => InPacket::Ping {
            probe: p.data == Data::Text("probe"),
        },
        PacketType::Pong => InPacket::Pong,
        PacketType::Upgrade => InPacket::Upgrade,
        PacketType::Noop => InPacket::Noop,
        PacketType::Message => InPacket::Message(match p.data {
            Data::Text(t) => Message::Text(match backing {
                Backing::Text(whole) => whole.slice_ref(t),
                Backing::Bytes(b) => Utf8Bytes::try_from(sub_bytes(b, t.as_bytes()))
                    .map_err(|_| Error::InvalidUtf8)?,
            }),
            Data::Binary(b) => Message::Binary(sub_bytes(bytes, b)),
            Data::Base64(b) => Message::Binary(Bytes::from(b.to_vec())),
        }),
    })
}

/// Decodes a WebSocket text frame.
pub(crate) fn decode_text_frame(frame: &Utf8Bytes, version: Version) -> Result<InPacket, Error> {
    let packet = Packet::decode_text(frame.as_str(), version)?;
    to_owned(packet, Backing::Text(frame))
}

/// Decodes a WebSocket binary frame.
pub(crate) fn decode_binary_frame(frame: &Bytes, version: Version) -> Result<InPacket, Error> {
    let packet = Packet::decode_binary(frame, version)?;
    to_owned(packet, Backing::Bytes(frame))
}

/// Appends the text form of `p` to `out`.
pub(crate) fn push_text(out: &mut Vec<u8>, p: &Packet<'_>, version: Version) -> Result<(), Error> {
    let start = out.len();
    let len = p.encoded_text_len(version);
    out.resize(start.saturating_add(len), 0);
    let region = out.get_mut(start..).ok_or(Error::BufferFull)?;
    match p.encode_text(region, version) {
        Ok(_) => Ok(()),
        Err(e) => {
            out.truncate(start);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_frames_slice_the_frame() {
        let frame = Utf8Bytes::from_static("4hello");
        let p = decode_text_frame(&frame, Version::V4).unwrap();
        assert_eq!(
            p,
            InPacket::Message(Message::Text(Utf8Bytes::from("hello")))
        );
        assert_eq!(
            decode_text_frame(&Utf8Bytes::from_static("2probe"), Version::V4).unwrap(),
            InPacket::Ping { probe: true }
        );
        assert_eq!(
            decode_text_frame(&Utf8Bytes::from_static("bAQIDBA=="), Version::V4).unwrap(),
            InPacket::Message(Message::Binary(Bytes::from_static(&[1, 2, 3, 4])))
        );
        assert!(decode_text_frame(&Utf8Bytes::from_static("9"), Version::V4).is_err());
        assert!(decode_text_frame(&Utf8Bytes::default(), Version::V4).is_err());
    }

    #[test]
    fn binary_frames_by_version() {
        let v4 = decode_binary_frame(&Bytes::from_static(&[1, 2]), Version::V4).unwrap();
        assert_eq!(
            v4,
            InPacket::Message(Message::Binary(Bytes::from_static(&[1, 2])))
        );
        let v3 = decode_binary_frame(&Bytes::from_static(&[4, 1, 2]), Version::V3).unwrap();
        assert_eq!(
            v3,
            InPacket::Message(Message::Binary(Bytes::from_static(&[1, 2])))
        );
    }

    #[test]
    fn sub_bytes_copies_foreign_slices() {
        let backing = Bytes::from_static(b"abcdef");
        assert_eq!(
            sub_bytes(&backing, &backing[2..4]),
            Bytes::from_static(b"cd")
        );
        assert_eq!(sub_bytes(&backing, b"xy"), Bytes::from_static(b"xy"));
        assert_eq!(sub_bytes(&backing, b""), Bytes::new());
    }
}
