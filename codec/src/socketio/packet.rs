//! Reading a decoded Socket.IO packet.
//!
//! A [`Packet`] borrows the frame it came from. Its header fields are plain
//! values; its payload is a validated JSON slice that is only parsed when
//! asked: [`Packet::event_name`] reads one string, [`Packet::args`] runs
//! `serde` over the arguments into the type the caller names.

use super::{Error, PacketType, Version};
use crate::json::de::{self, Attachments, DeOptions};
use crate::json::scan::{ArrayIter, ObjectIter, RawStr};
use crate::json::validate::Kind;
use core::fmt;
use serde::Deserialize;

/// One decoded Socket.IO packet, borrowing its frame.
///
/// ```
/// use oxio_codec::socketio::{Decoder, PacketType};
///
/// let p = Decoder::default().decode(r#"2/chat,7["message",{"text":"hi"},3]"#).unwrap();
/// assert_eq!(p.packet_type(), PacketType::Event);
/// assert_eq!(p.namespace(), "/chat");
/// assert_eq!(p.ack_id(), Some(7));
/// assert!(p.event_name().unwrap() == "message");
///
/// #[derive(serde::Deserialize, Debug, PartialEq)]
/// struct Msg<'a> { text: &'a str }
/// let (msg, n): (Msg, u8) = p.args().unwrap();
/// assert_eq!((msg, n), (Msg { text: "hi" }, 3));
/// ```
#[derive(Clone, Copy)]
pub struct Packet<'a> {
    version: Version,
    packet_type: PacketType,
    namespace: &'a str,
    ack_id: Option<u64>,
    attachment_count: usize,
    payload: Option<&'a str>,
    max_depth: usize,
    attachments: Option<&'a dyn Attachments>,
    /// The event name when the decoder has read it already (so
    /// [`Packet::event_name`] does not scan the payload again).
    name: Option<EventName<'a>>,
}

impl<'a> Packet<'a> {
    pub(crate) fn from_parts(
        version: Version,
        packet_type: PacketType,
        namespace: &'a str,
        ack_id: Option<u64>,
        attachment_count: usize,
        payload: Option<&'a str>,
        max_depth: usize,
    ) -> Self {
        Packet {
            version,
            packet_type,
            namespace,
            ack_id,
            attachment_count,
            payload,
            max_depth,
            attachments: None,
            name: None,
        }
    }

    /// The same packet with the event name the decoder read.
    pub(crate) fn with_event_name(mut self, name: Option<EventName<'a>>) -> Self {
        self.name = name;
        self
    }

    /// The protocol revision the packet was decoded as.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The packet type, as on the wire (binary types stay binary).
    pub fn packet_type(&self) -> PacketType {
        self.packet_type
    }

    /// The namespace, `/` when the frame named none. For v4 connects this
    /// includes any `?query` (see [`Packet::namespace_path`]).
    pub fn namespace(&self) -> &'a str {
        self.namespace
    }

    /// The namespace without a v4 `?query` suffix.
    ///
    /// ```
    /// let p = oxio_codec::socketio::Decoder::default().decode("0/admin?token=abc,").unwrap();
    /// assert_eq!(p.namespace_path(), "/admin");
    /// assert_eq!(p.namespace_query(), Some("token=abc"));
    /// ```
    pub fn namespace_path(&self) -> &'a str {
        self.namespace
            .split_once('?')
            .map_or(self.namespace, |(path, _)| path)
    }

    /// The `?query` a v4 client appends to a namespace to pass auth, without `?`.
    pub fn namespace_query(&self) -> Option<&'a str> {
        self.namespace.split_once('?').map(|(_, q)| q)
    }

    /// The ack id, when the sender expects an answer (events) or is giving
    /// one (acks).
    pub fn ack_id(&self) -> Option<u64> {
        self.ack_id
    }

    /// How many binary attachments follow this packet (0 unless binary).
    pub fn attachment_count(&self) -> usize {
        self.attachment_count
    }

    /// The validated JSON payload, exactly as received.
    pub fn payload(&self) -> Option<&'a str> {
        self.payload
    }

    /// The attachments given with [`Packet::with_attachments`].
    pub fn attachments(&self) -> Option<&'a dyn Attachments> {
        self.attachments
    }

    /// The same packet with its binary attachments, so that placeholders in
    /// the arguments deserialize as the attachment bytes.
    /// [`Complete::packet`](super::Complete::packet) does this for you.
    pub fn with_attachments(mut self, attachments: &'a dyn Attachments) -> Self {
        self.attachments = Some(attachments);
        self
    }

    /// The event name, for (binary) events; read without looking at the
    /// arguments.
    pub fn event_name(&self) -> Option<EventName<'a>> {
        if !self.packet_type.is_event() {
            return None;
        }
        if self.name.is_some() {
            return self.name;
        }
        let first = ArrayIter::new(self.payload?)?.next()?;
        match Kind::of(first.as_bytes())? {
            Kind::String => RawStr::from_literal(first).map(EventName::String),
            Kind::Number => Some(EventName::Number(first)),
            _ => None,
        }
    }

    /// The arguments as raw JSON slices: an event's after its name, an
    /// ack's all of them; empty for other types.
    ///
    /// ```
    /// let p = oxio_codec::socketio::Decoder::default().decode(r#"2["m",1,{"a":2}]"#).unwrap();
    /// let args: Vec<&str> = p.raw_args().collect();
    /// assert_eq!(args, ["1", r#"{"a":2}"#]);
    /// ```
    pub fn raw_args(&self) -> RawArgs<'a> {
        let mut inner = match self.payload {
            Some(p) if self.packet_type.is_event() || self.packet_type.is_ack() => {
                ArrayIter::new(p)
            }
            _ => None,
        };
        if self.packet_type.is_event() {
            if let Some(it) = inner.as_mut() {
                it.next();
            }
        }
        RawArgs { inner }
    }

    fn args_skip(&self) -> Result<usize, Error> {
        if self.packet_type.is_event() {
            Ok(1)
        } else if self.packet_type.is_ack() {
            Ok(0)
        } else {
            Err(Error::InvalidPayload)
        }
    }

    fn de_options(&self) -> DeOptions<'a> {
        DeOptions {
            max_depth: self.max_depth,
            attachments: self.attachments,
        }
    }

    /// Deserializes the arguments of an event (after its name) or an ack.
    ///
    /// A tuple type takes the arguments in order (extra arguments are
    /// ignored, as JavaScript ignores them); [`Args`](super::Args) takes
    /// them all; any other type takes the first argument; `()` takes none. Strings borrow from the frame when they
    /// hold no escapes. Without the `alloc` feature, escaped strings need
    /// [`Packet::args_with_scratch`].
    pub fn args<T: Deserialize<'a>>(&self) -> Result<T, Error> {
        let skip = self.args_skip()?;
        let payload = self.payload.ok_or(Error::InvalidPayload)?;
        de::args_from_str(payload, skip, &self.de_options(), None).map_err(Error::Deserialize)
    }

    /// [`Packet::args`] with caller scratch space for unescaping strings.
    pub fn args_with_scratch<T: Deserialize<'a>>(&self, scratch: &mut [u8]) -> Result<T, Error> {
        let skip = self.args_skip()?;
        let payload = self.payload.ok_or(Error::InvalidPayload)?;
        de::args_from_str(payload, skip, &self.de_options(), Some(scratch))
            .map_err(Error::Deserialize)
    }

    /// Deserializes the whole payload: a CONNECT's auth object, the
    /// server's `{"sid":..}` answer, or a CONNECT_ERROR body.
    /// `Ok(None)` when there is no payload.
    ///
    /// ```
    /// #[derive(serde::Deserialize)]
    /// struct Auth<'a> { token: &'a str }
    /// let p = oxio_codec::socketio::Decoder::default().decode(r#"0/admin,{"token":"123"}"#).unwrap();
    /// let auth: Auth = p.data().unwrap().unwrap();
    /// assert_eq!(auth.token, "123");
    /// ```
    pub fn data<T: Deserialize<'a>>(&self) -> Result<Option<T>, Error> {
        match self.payload {
            None => Ok(None),
            Some(p) => de::from_str_with(p, &self.de_options(), None)
                .map(Some)
                .map_err(Error::Deserialize),
        }
    }

    /// The message and data of a CONNECT_ERROR: `{"message":..,"data":..}`,
    /// or (v4) a bare string, which is the message.
    ///
    /// ```
    /// let p = oxio_codec::socketio::Decoder::default()
    ///     .decode(r#"4/mw,{"message":"not authorized","data":{"content":"retry later"}}"#)
    ///     .unwrap();
    /// let err = p.connect_error().unwrap();
    /// assert!(err.message.unwrap() == "not authorized");
    /// assert_eq!(err.data, Some(r#"{"content":"retry later"}"#));
    /// ```
    pub fn connect_error(&self) -> Option<ConnectError<'a>> {
        if self.packet_type != PacketType::ConnectError {
            return None;
        }
        let payload = self.payload?;
        if let Some(message) = RawStr::from_literal(payload.trim()) {
            return Some(ConnectError {
                message: Some(message),
                data: None,
            });
        }
        let mut err = ConnectError {
            message: None,
            data: None,
        };
        for (key, value) in ObjectIter::new(payload)? {
            if key == "message" {
                err.message = RawStr::from_literal(value);
            } else if key == "data" {
                err.data = Some(value);
            }
        }
        Some(err)
    }
}

/// Where a decoded packet's borrowed parts lie in its frame, so a packet
/// kept with its owned frame (see [`Complete`](super::Complete)) can be
/// viewed again without decoding it a second time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    version: Version,
    packet_type: PacketType,
    /// `None` for the implicit `/`.
    namespace: Option<(usize, usize)>,
    ack_id: Option<u64>,
    attachment_count: usize,
    payload: Option<(usize, usize)>,
    max_depth: usize,
}

/// The offset range of `part` inside `frame`, if it lies there.
fn span(frame: &str, part: &str) -> Option<(usize, usize)> {
    let start = (part.as_ptr() as usize).checked_sub(frame.as_ptr() as usize)?;
    let end = start.checked_add(part.len())?;
    (end <= frame.len()).then_some((start, end))
}

impl<'a> Packet<'a> {
    /// Records where this packet's parts lie in `frame`, the text it was
    /// decoded from; `None` if they do not lie there.
    pub(crate) fn layout(&self, frame: &str) -> Option<Layout> {
        let namespace = match self.namespace {
            "/" if span(frame, self.namespace).is_none() => None,
            ns => Some(span(frame, ns)?),
        };
        let payload = match self.payload {
            None => None,
            Some(p) => Some(span(frame, p)?),
        };
        Some(Layout {
            version: self.version,
            packet_type: self.packet_type,
            namespace,
            ack_id: self.ack_id,
            attachment_count: self.attachment_count,
            payload,
            max_depth: self.max_depth,
        })
    }

    /// Views `frame` again as the packet `layout` was taken from, without
    /// decoding; `None` if the ranges do not fit `frame`.
    pub(crate) fn from_layout(frame: &'a str, layout: &Layout) -> Option<Self> {
        let namespace = match layout.namespace {
            None => "/",
            Some((start, end)) => frame.get(start..end)?,
        };
        let payload = match layout.payload {
            None => None,
            Some((start, end)) => Some(frame.get(start..end)?),
        };
        Some(Packet::from_parts(
            layout.version,
            layout.packet_type,
            namespace,
            layout.ack_id,
            layout.attachment_count,
            payload,
            layout.max_depth,
        ))
    }
}

impl PartialEq for Packet<'_> {
    /// Header fields and payload bytes; attachments are not compared.
    fn eq(&self, other: &Self) -> bool {
        self.version == other.version
            && self.packet_type == other.packet_type
            && self.namespace == other.namespace
            && self.ack_id == other.ack_id
            && self.attachment_count == other.attachment_count
            && self.payload == other.payload
    }
}

impl fmt::Debug for Packet<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Packet")
            .field("version", &self.version)
            .field("packet_type", &self.packet_type)
            .field("namespace", &self.namespace)
            .field("ack_id", &self.ack_id)
            .field("attachment_count", &self.attachment_count)
            .field("payload", &self.payload)
            .field("has_attachments", &self.attachments.is_some())
            .finish()
    }
}

/// The raw JSON arguments of a packet; see [`Packet::raw_args`].
#[derive(Debug, Clone)]
pub struct RawArgs<'a> {
    inner: Option<ArrayIter<'a>>,
}

impl<'a> Iterator for RawArgs<'a> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        self.inner.as_mut()?.next()
    }
}

/// An event name as sent: a JSON string (escapes not yet decoded) or a
/// number (socket.io allows numeric event names).
///
/// ```
/// let d = oxio_codec::socketio::Decoder::default();
/// let p = d.decode(r#"2["caf\u00e9"]"#).unwrap();
/// let name = p.event_name().unwrap();
/// assert_eq!(name.as_str(), None); // escaped: not borrowable as is
/// assert!(name == "café");
/// let p = d.decode("2[42]").unwrap();
/// assert_eq!(p.event_name().unwrap().as_str(), Some("42"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum EventName<'a> {
    /// A string name.
    String(RawStr<'a>),
    /// A numeric name, as its JSON literal.
    Number(&'a str),
}

impl<'a> EventName<'a> {
    /// The name borrowed from the frame: a string without escapes, or a
    /// number's literal (JavaScript turns numeric names into strings too).
    pub fn as_str(&self) -> Option<&'a str> {
        match self {
            EventName::String(s) => s.as_str(),
            EventName::Number(n) => Some(n),
        }
    }

    /// Compares with `name`, decoding escapes on the fly.
    pub fn eq_str(&self, name: &str) -> bool {
        match self {
            EventName::String(s) => s.eq_str(name),
            EventName::Number(n) => *n == name,
        }
    }

    /// Decodes the name into `buf`.
    pub fn unescape_into<'b>(&self, buf: &'b mut [u8]) -> Result<&'b str, Error> {
        match self {
            EventName::String(s) => s.unescape_into(buf).map_err(Error::Deserialize),
            EventName::Number(n) => {
                let dst = buf.get_mut(..n.len()).ok_or(Error::BufferFull)?;
                dst.copy_from_slice(n.as_bytes());
                core::str::from_utf8(dst).map_err(|_| Error::InvalidPayload)
            }
        }
    }
}

/// Writes the decoded name (so `to_string()` gives an owned copy).
impl fmt::Display for EventName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventName::String(s) => fmt::Display::fmt(s, f),
            EventName::Number(n) => f.write_str(n),
        }
    }
}

impl PartialEq<&str> for EventName<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.eq_str(other)
    }
}

impl PartialEq<str> for EventName<'_> {
    fn eq(&self, other: &str) -> bool {
        self.eq_str(other)
    }
}

/// The body of a CONNECT_ERROR packet, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ConnectError<'a> {
    /// `message`, if present and a string.
    pub message: Option<RawStr<'a>>,
    /// `data` as raw JSON, if present.
    pub data: Option<&'a str>,
}
