//! Where a Socket.IO text frame becomes a [`Packet`].
//!
//! The header (`<type>[<attachments>-][<nsp>,][<ack id>]`) is parsed by
//! hand in one pass; the JSON payload after it is validated (grammar, depth,
//! and the shape the packet type requires, as the reference parser's
//! `isPayloadValid` does) but not parsed into values.

use super::packet::{EventName, Packet};
use super::placeholder;
use super::{is_reserved_event, Error, PacketType, Version};
use crate::json::scan::RawStr;
use crate::json::validate::{number_end, skip_ws, string_end, validate, Kind};
use crate::json::JsonError;
use crate::Limits;
use serde::Deserialize;

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
    /// Rejects everything the reference parser rejects (docs/protocol.md §3.5)
    /// and everything over a limit; never panics, never allocates.
    pub fn decode<'a>(&self, frame: &'a str) -> Result<Packet<'a>, Error> {
        let parts = self.parse_header(frame)?;
        self.finish(parts)
    }

    /// Decodes the header and the event name of a frame and leaves the rest
    /// of the JSON payload **unvalidated** until [`Header::validate`] or
    /// [`Header::args`] is called: an opt-in for routers that look at the
    /// name first and may drop the frame without reading its arguments.
    ///
    /// What is checked here: everything [`Decoder::decode`] checks in the
    /// header (type, attachment count, namespace, ack id, limits) and, for
    /// (binary) events, the payload up to the end of the event name: `[`,
    /// a strictly valid string or number, then `,` or `]`; a reserved name
    /// is refused (v5). What is deferred: the grammar and depth of the
    /// arguments (and, for other packet types, of the whole payload), the
    /// payload shape, and the placeholders of a binary packet.
    ///
    /// A server that must close the connection on an invalid payload
    /// (docs/protocol.md §3.5) either uses [`Decoder::decode`], or calls
    /// [`Header::validate`] on every frame it keeps. Once validated, the
    /// packet is exactly what `decode` returns for the same frame; when both
    /// fail, the error variant can differ if the frame is wrong in more than
    /// one way (`decode` reports the JSON error first).
    ///
    /// ```
    /// use oxio_codec::json::JsonError;
    /// use oxio_codec::socketio::{Decoder, Error};
    ///
    /// let d = Decoder::default();
    /// // The arguments are broken, but the name is readable.
    /// let h = d.decode_header(r#"2/chat,["message",{"text":]"#).unwrap();
    /// assert_eq!(h.namespace(), "/chat");
    /// assert!(h.event_name().unwrap() == "message");
    /// // Reading the arguments validates them first.
    /// assert_eq!(
    ///     h.args::<&str>().unwrap_err(),
    ///     Error::InvalidJson(JsonError::UnexpectedByte { offset: 19 })
    /// );
    /// // `decode` refuses the same frame at once.
    /// assert!(d.decode(r#"2/chat,["message",{"text":]"#).is_err());
    ///
    /// let h = d.decode_header(r#"2["message",{"text":"hi"}]"#).unwrap();
    /// assert_eq!(h.validate().unwrap(), d.decode(r#"2["message",{"text":"hi"}]"#).unwrap());
    /// ```
    pub fn decode_header<'a>(&self, frame: &'a str) -> Result<Header<'a>, Error> {
        let parts = self.parse_header(frame)?;
        // An event without a payload (`2`) decodes with no name, as in `decode`.
        let name = match parts.payload {
            Some(p) if parts.packet_type.is_event() => Some(self.leading_event_name(p)?),
            _ => None,
        };
        Ok(Header {
            decoder: *self,
            parts,
            name,
        })
    }

    /// The header fields, in one pass; the payload is returned unlooked at.
    #[inline]
    fn parse_header<'a>(&self, frame: &'a str) -> Result<Parts<'a>, Error> {
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
        Ok(Parts {
            packet_type,
            attachment_count,
            namespace,
            ack_id,
            payload,
        })
    }

    /// The payload checks of [`Decoder::decode`], after the header.
    fn finish<'a>(&self, parts: Parts<'a>) -> Result<Packet<'a>, Error> {
        let Parts {
            packet_type,
            attachment_count,
            namespace,
            ack_id,
            payload,
        } = parts;
        if let Some(p) = payload {
            validate(p.as_bytes(), self.limits.max_depth).map_err(Error::InvalidJson)?;
        }
        // An event's name is read once here (its shape check) and kept in
        // the packet for `Packet::event_name`.
        let name = match payload {
            Some(p) if packet_type.is_event() => Some(self.leading_event_name(p)?),
            _ => {
                self.check_shape(packet_type, payload)?;
                None
            }
        };
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
        )
        .with_event_name(name))
    }

    /// The payload shapes of docs/protocol.md §3.2 (and §4 for v4). Like the
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
                return match payload {
                    Some(p) => self.leading_event_name(p).map(|_| ()),
                    None => Ok(()),
                };
            }
        };
        if ok {
            Ok(())
        } else {
            Err(Error::InvalidPayload)
        }
    }

    /// Strictly reads `[`, the first element (a string or a number), and
    /// the `,` or `]` after it; nothing further: the shape check of an
    /// event in [`Decoder::decode`] (after the whole payload is validated)
    /// and all [`Decoder::decode_header`] checks of the payload.
    fn leading_event_name<'a>(&self, text: &'a str) -> Result<EventName<'a>, Error> {
        let bytes = text.as_bytes();
        // Not a JSON value at all is a JSON error; another JSON value than
        // an array is a shape error, as in `check_shape`.
        let unexpected = |pos: usize| match bytes.get(pos) {
            None => Error::InvalidJson(JsonError::UnexpectedEnd),
            Some(_) if Kind::of(bytes.get(pos..).unwrap_or_default()).is_some() => {
                Error::InvalidPayload
            }
            Some(_) => Error::InvalidJson(JsonError::UnexpectedByte { offset: pos }),
        };
        let open = skip_ws(bytes, 0);
        if bytes.get(open) != Some(&b'[') {
            return Err(unexpected(open));
        }
        if self.limits.max_depth == 0 {
            return Err(Error::InvalidJson(JsonError::TooDeep));
        }
        let start = skip_ws(bytes, open + 1);
        let name = match bytes.get(start) {
            Some(b'"') => {
                let end = string_end(bytes, start).map_err(Error::InvalidJson)?;
                // Between the opening quote at `start` and the closing one
                // at `end - 1`.
                let inner = text.get(start + 1..end - 1).ok_or(Error::InvalidPayload)?;
                let name = RawStr::from_inner(inner);
                let reserved = match name.as_str() {
                    Some(plain) => is_reserved_event(plain),
                    None => super::RESERVED_EVENTS.iter().any(|r| name.eq_str(r)),
                };
                if reserved && self.version == Version::V5 {
                    return Err(Error::ReservedEventName);
                }
                (EventName::String(name), end)
            }
            Some(b'-' | b'0'..=b'9') => {
                let end = number_end(bytes, start).map_err(Error::InvalidJson)?;
                let literal = text.get(start..end).ok_or(Error::InvalidPayload)?;
                (EventName::Number(literal), end)
            }
            Some(b']') => return Err(Error::InvalidPayload),
            _ => return Err(unexpected(start)),
        };
        let (name, end) = name;
        let after = skip_ws(bytes, end);
        match bytes.get(after) {
            Some(b',' | b']') => Ok(name),
            None => Err(Error::InvalidJson(JsonError::UnexpectedEnd)),
            Some(_) => Err(Error::InvalidJson(JsonError::UnexpectedByte {
                offset: after,
            })),
        }
    }
}

/// The header fields of a frame, before any payload check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
struct Parts<'a> {
    packet_type: PacketType,
    attachment_count: usize,
    namespace: &'a str,
    ack_id: Option<u64>,
    payload: Option<&'a str>,
}

/// A frame decoded by [`Decoder::decode_header`]: the header and the event
/// name are checked, the rest of the payload is **not yet validated**.
///
/// It offers only what is safe to read before validation; everything that
/// reads the arguments goes through [`Header::validate`], which runs the
/// remaining checks of [`Decoder::decode`] and returns the same [`Packet`].
///
/// ```
/// use oxio_codec::socketio::{Decoder, PacketType};
///
/// let h = Decoder::default().decode_header(r#"2/chat,7["message",{"text":"hi"}]"#).unwrap();
/// assert_eq!(h.packet_type(), PacketType::Event);
/// assert_eq!((h.namespace(), h.ack_id()), ("/chat", Some(7)));
/// assert_eq!(h.event_name().unwrap().as_str(), Some("message"));
/// assert_eq!(h.unvalidated_payload(), Some(r#"["message",{"text":"hi"}]"#));
///
/// #[derive(serde::Deserialize, Debug, PartialEq)]
/// struct Msg<'a> { text: &'a str }
/// assert_eq!(h.args::<Msg>().unwrap(), Msg { text: "hi" });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Header<'a> {
    decoder: Decoder,
    parts: Parts<'a>,
    name: Option<EventName<'a>>,
}

impl<'a> Header<'a> {
    /// The packet type, as on the wire.
    pub fn packet_type(&self) -> PacketType {
        self.parts.packet_type
    }

    /// The namespace, `/` when the frame named none.
    pub fn namespace(&self) -> &'a str {
        self.parts.namespace
    }

    /// The ack id, if any.
    pub fn ack_id(&self) -> Option<u64> {
        self.parts.ack_id
    }

    /// How many binary attachments the header announces (0 unless binary);
    /// the placeholders are only checked by [`Header::validate`].
    pub fn attachment_count(&self) -> usize {
        self.parts.attachment_count
    }

    /// The event name of a (binary) event, strictly validated already;
    /// `None` for other packet types and for an event without a payload.
    pub fn event_name(&self) -> Option<EventName<'a>> {
        self.name
    }

    /// The payload as received, **not validated** past the event name: do
    /// not hand it to anything that trusts it to be JSON.
    pub fn unvalidated_payload(&self) -> Option<&'a str> {
        self.parts.payload
    }

    /// Runs the checks [`Decoder::decode_header`] deferred (JSON grammar
    /// and depth of the whole payload, its shape, binary placeholders) and
    /// returns the packet `decode` would have returned for this frame.
    pub fn validate(&self) -> Result<Packet<'a>, Error> {
        self.decoder.finish(self.parts)
    }

    /// [`Header::validate`], then [`Packet::args`]: an invalid payload is
    /// reported here, as [`Error::InvalidJson`] (or the shape error
    /// `decode` would give), before any argument is read.
    pub fn args<T: Deserialize<'a>>(&self) -> Result<T, Error> {
        self.validate()?.args()
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
