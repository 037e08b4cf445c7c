//! Where a Socket.IO text frame becomes a [`Packet`].
//!
//! The header (`<type>[<attachments>-][<nsp>,][<ack id>]`) is parsed by
//! hand in one pass; the JSON payload after it is validated (grammar, depth,
//! and the shape the packet type requires, as the reference parser's
//! `isPayloadValid` does) but not parsed into values.

use super::packet::Packet;
use super::placeholder;
use super::{is_reserved_event, Error, PacketType, Version};
use crate::json::scan::{ArrayIter, RawStr};
use crate::json::validate::{validate, Kind};
use crate::Limits;

/// Decodes Socket.IO text frames for one protocol version under one set of
/// [`Limits`]. Cheap to copy; holds no state between frames (binary
/// attachments are collected by [`Reassembler`](super::Reassembler)).
///
/// ```
/// use oxio_codec::socketio::{Decoder, Error, PacketType, Version};
/// use oxio_codec::Limits;
///
/// let decoder = Decoder::new(Version::V5, Limits::default());
/// let p = decoder.decode(r#"52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#).unwrap();
/// assert_eq!(p.packet_type(), PacketType::BinaryEvent);
/// assert_eq!(p.attachment_count(), 2);
/// assert_eq!(p.namespace(), "/admin");
///
/// assert_eq!(decoder.decode(r#"2["disconnect"]"#).unwrap_err(), Error::ReservedEventName);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Decoder {
    /// The protocol revision the peer speaks.
    pub version: Version,
    /// Bounds on what a packet may hold.
    pub limits: Limits,
}

impl Decoder {
    /// A decoder for `version` under `limits`.
    pub const fn new(version: Version, limits: Limits) -> Self {
        Decoder { version, limits }
    }

    /// Decodes one Socket.IO packet from the text of an Engine.IO message
    /// (without its leading `4`).
    ///
    /// Rejects everything the reference parser rejects (protocol.md §3.5)
    /// and everything over a limit; never panics, never allocates.
    pub fn decode<'a>(&self, frame: &'a str) -> Result<Packet<'a>, Error> {
        let bytes = frame.as_bytes();
        let first = *bytes.first().ok_or(Error::Empty)?;
        let packet_type = PacketType::from_digit(first).ok_or(Error::UnknownPacketType(first))?;
        let mut pos = 1;

        let mut attachment_count = 0;
        if packet_type.is_binary() {
            let (count, after) = attachment_prefix(bytes, pos)?;
            if count > self.limits.max_attachments {
                return Err(Error::TooManyAttachments {
                    count,
                    max: self.limits.max_attachments,
                });
            }
            attachment_count = count;
            pos = after;
        }

        let mut namespace = "/";
        if bytes.get(pos) == Some(&b'/') {
            let rest = bytes.get(pos..).unwrap_or_default();
            let len = memchr::memchr(b',', rest).unwrap_or(rest.len());
            if len > self.limits.max_namespace_len {
                return Err(Error::NamespaceTooLong);
            }
            namespace = frame.get(pos..pos + len).ok_or(Error::InvalidNamespace)?;
            pos += len;
            if bytes.get(pos) == Some(&b',') {
                pos += 1;
            }
        }

        let mut ack_id = None;
        if matches!(bytes.get(pos), Some(b'0'..=b'9')) {
            let mut id: u64 = 0;
            while let Some(d @ b'0'..=b'9') = bytes.get(pos).copied() {
                id = id
                    .checked_mul(10)
                    .and_then(|v| v.checked_add(u64::from(d - b'0')))
                    .filter(|v| *v <= self.limits.max_ack_id)
                    .ok_or(Error::AckIdTooLarge)?;
                pos += 1;
            }
            ack_id = Some(id);
        }

        let payload = match frame.get(pos..) {
            Some("") | None => None,
            Some(p) => Some(p),
        };
        if let Some(p) = payload {
            validate(p.as_bytes(), self.limits.max_depth).map_err(Error::InvalidJson)?;
        }
        self.check_shape(packet_type, payload)?;
        if let Some(p) = payload.filter(|_| packet_type.is_binary()) {
            placeholder::check(p, attachment_count)?;
        }

        Ok(Packet::from_parts(
            self.version,
            packet_type,
            namespace,
            ack_id,
            attachment_count,
            payload,
            self.limits.max_depth,
        ))
    }

    /// The payload shapes of protocol.md §3.2 (and §4 for v4). Like the
    /// reference's `isPayloadValid`, only a payload that is present is
    /// checked: `2`, `31` or `4` without one decode, with no data.
    fn check_shape(&self, packet_type: PacketType, payload: Option<&str>) -> Result<(), Error> {
        if payload.is_none() {
            return Ok(());
        }
        let kind = payload.map(|p| Kind::of(p.as_bytes()));
        let ok = match packet_type {
            PacketType::Connect => matches!(kind, None | Some(Some(Kind::Object))),
            PacketType::Disconnect => kind.is_none(),
            PacketType::Ack | PacketType::BinaryAck => kind == Some(Some(Kind::Array)),
            PacketType::ConnectError => match self.version {
                Version::V5 => kind == Some(Some(Kind::Object)),
                Version::V4 => matches!(kind, Some(Some(Kind::Object | Kind::String))),
            },
            PacketType::Event | PacketType::BinaryEvent => {
                return self.check_event(payload);
            }
        };
        if ok {
            Ok(())
        } else {
            Err(Error::InvalidPayload)
        }
    }

    fn check_event(&self, payload: Option<&str>) -> Result<(), Error> {
        let first = payload
            .and_then(ArrayIter::new)
            .and_then(|mut items| items.next())
            .ok_or(Error::InvalidPayload)?;
        match Kind::of(first.as_bytes()) {
            Some(Kind::Number) => Ok(()),
            Some(Kind::String) => {
                let name = RawStr::from_literal(first).ok_or(Error::InvalidPayload)?;
                let reserved = match name.as_str() {
                    Some(plain) => is_reserved_event(plain),
                    None => super::RESERVED_EVENTS.iter().any(|r| name.eq_str(r)),
                };
                if reserved && self.version == Version::V5 {
                    Err(Error::ReservedEventName)
                } else {
                    Ok(())
                }
            }
            _ => Err(Error::InvalidPayload),
        }
    }
}

/// Parses `<digits>-` at `pos`: returns the count and the offset after `-`.
fn attachment_prefix(bytes: &[u8], mut pos: usize) -> Result<(usize, usize), Error> {
    let start = pos;
    let mut count: usize = 0;
    while let Some(d @ b'0'..=b'9') = bytes.get(pos).copied() {
        count = count
            .saturating_mul(10)
            .saturating_add(usize::from(d - b'0'));
        pos += 1;
    }
    if pos == start || bytes.get(pos) != Some(&b'-') || count == 0 {
        return Err(Error::IllegalAttachments);
    }
    Ok((count, pos + 1))
}
