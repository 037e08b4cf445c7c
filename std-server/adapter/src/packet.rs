//! Packets as the Socket.IO layer holds them: [`Payload`] is a received
//! event's or ack's arguments (owned, decoded on demand), [`Outgoing`] is a
//! packet encoded once and shared by every session it goes to.

use crate::Parser;
use bytes::Bytes;
use oxio_codec::json::de::{args_from_str, DeOptions};
use oxio_codec::json::scan::ArrayIter;
use oxio_codec::socketio::{Encoder, Error as CodecError, Version};
use oxio_engine::{Message, Utf8Bytes};
use serde::de::DeserializeOwned;
use serde::Serialize;
use smallvec::SmallVec;
use std::sync::Arc;

/// The arguments of a received event or ack: the text frame and its binary
/// attachments, kept as received (no copy) and deserialized on demand.
///
/// Arguments follow the codec's tuple rule: a tuple type takes the
/// arguments in order, `()` takes none, any other type takes the first.
///
/// ```
/// use oxio_adapter::Payload;
///
/// let p = Payload::from_event_text(r#"2["chat","hi",{"n":1}]"#).unwrap();
/// let (text, obj): (String, serde_json::Value) = p.args().unwrap();
/// assert_eq!((text.as_str(), obj["n"].as_u64()), ("hi", Some(1)));
/// let first: String = p.args().unwrap();
/// assert_eq!(first, "hi");
/// assert_eq!(p.raw_args().collect::<Vec<_>>(), [r#""hi""#, r#"{"n":1}"#]);
/// ```
#[derive(Clone)]
pub struct Payload {
    text: Utf8Bytes,
    /// Byte offset of the JSON array in `text`.
    json_start: usize,
    /// Array elements before the arguments (1 for an event's name).
    skip: usize,
    attachments: Arc<[Bytes]>,
    max_depth: usize,
    /// A msgpack packet's frame and the byte range of its `data` array
    /// (then `text` is empty).
    msgpack: Option<(Bytes, std::ops::Range<usize>)>,
}

/// A frame of the server's own encoding is read back without the client
/// limits: it was valid when built.
fn own_frames() -> oxio_codec::msgpack::Decoder {
    oxio_codec::msgpack::Decoder::new(oxio_codec::Limits {
        max_packet_len: usize::MAX,
        max_depth: usize::MAX,
        max_ack_id: u64::MAX,
        max_namespace_len: usize::MAX,
        ..oxio_codec::Limits::DEFAULT
    })
}

impl Payload {
    /// The arguments of a received packet: `text` is the whole Socket.IO
    /// text frame, its JSON array starts at byte `json_start`, and its first
    /// `skip` elements are not arguments (1 for an event's name).
    pub fn new(
        text: Utf8Bytes,
        json_start: usize,
        skip: usize,
        attachments: Vec<Bytes>,
        max_depth: usize,
    ) -> Self {
        Payload {
            text,
            json_start,
            skip,
            attachments: attachments.into(),
            max_depth,
            msgpack: None,
        }
    }

    /// The arguments of a received msgpack packet: `frame` is the whole
    /// binary frame, `data` the byte range of its `data` array, and the
    /// first `skip` elements are not arguments (1 for an event's name).
    /// Returns `None` when `data` is not a range of `frame`.
    ///
    /// ```
    /// use oxio_adapter::Payload;
    /// use oxio_codec::msgpack::{Decoder, Encoder};
    ///
    /// let frame = Encoder::default().event_to_vec("/", None, "chat", &("hi", 2)).unwrap();
    /// let data = Decoder::default().decode(&frame).unwrap().raw_data().unwrap().len();
    /// let end = frame.len() - 6; // `\xa3nsp\xa1/` follows the data
    /// let p = Payload::from_msgpack(frame.into(), end - data..end, 1, 32).unwrap();
    /// let (text, n): (String, u8) = p.args().unwrap();
    /// assert_eq!((text.as_str(), n), ("hi", 2));
    /// assert_eq!(p.raw_msgpack_args().collect::<Vec<_>>(), [&b"\xa2hi"[..], b"\x02"]);
    /// ```
    pub fn from_msgpack(
        frame: Bytes,
        data: std::ops::Range<usize>,
        skip: usize,
        max_depth: usize,
    ) -> Option<Self> {
        frame.get(data.clone())?;
        Some(Payload {
            text: Utf8Bytes::from(""),
            json_start: 0,
            skip,
            attachments: Arc::from(Vec::new()),
            max_depth,
            msgpack: Some((frame, data)),
        })
    }

    /// The `data` array of a msgpack payload, as received (with the event
    /// name, for events); `None` for a JSON one.
    pub fn raw_msgpack(&self) -> Option<&[u8]> {
        let (frame, range) = self.msgpack.as_ref()?;
        frame.get(range.clone())
    }

    /// Each argument of a msgpack payload as its raw msgpack value (none
    /// for a JSON payload: see [`Payload::raw_args`]).
    pub fn raw_msgpack_args(&self) -> oxio_codec::msgpack::RawArgs<'_> {
        oxio_codec::msgpack::RawArgs::new(self.raw_msgpack().unwrap_or_default(), self.skip)
    }

    /// A payload from the text of a complete, attachment-free EVENT frame
    /// (for tests and tools). Returns `None` if it does not decode as an event.
    pub fn from_event_text(frame: &str) -> Option<Payload> {
        let packet = oxio_codec::socketio::Decoder::default()
            .decode(frame)
            .ok()?;
        if !packet.packet_type().is_event() || packet.attachment_count() > 0 {
            return None;
        }
        let start = frame.len().checked_sub(packet.payload()?.len())?;
        Some(Payload::new(
            Utf8Bytes::from(frame),
            start,
            1,
            Vec::new(),
            oxio_codec::Limits::default().max_depth,
        ))
    }

    /// The JSON array as received (with the event name, for events); empty
    /// for a msgpack payload (see [`Payload::raw_msgpack`]).
    pub fn raw(&self) -> &str {
        if self.msgpack.is_some() {
            return "";
        }
        self.text.as_str().get(self.json_start..).unwrap_or("[]")
    }

    /// Deserializes the arguments (tuple rule). Byte fields
    /// ([`BinaryBuf`](oxio_codec::socketio::BinaryBuf), `serde_bytes`) read
    /// the binary attachments. A type that cannot take bytes (such as
    /// `serde_json::Value`) sees each attachment as its placeholder object
    /// `{"_placeholder":true,"num":N}`; [`Payload::attachments`] has the bytes.
    pub fn args<T: DeserializeOwned>(&self) -> Result<T, CodecError> {
        if let Some(data) = self.raw_msgpack() {
            return oxio_codec::msgpack::args_from_slice(data, self.skip, self.max_depth);
        }
        let json = self.raw();
        let attachments: &[Bytes] = &self.attachments;
        let with = DeOptions {
            max_depth: self.max_depth,
            attachments: Some(&attachments),
        };
        match args_from_str(json, self.skip, &with, None) {
            Ok(v) => Ok(v),
            Err(first) if !self.attachments.is_empty() => {
                let without = DeOptions {
                    max_depth: self.max_depth,
                    attachments: None,
                };
                args_from_str(json, self.skip, &without, None)
                    .map_err(|_| CodecError::Deserialize(first))
            }
            Err(e) => Err(CodecError::Deserialize(e)),
        }
    }

    /// Each argument as its raw JSON text (none for a msgpack payload: see
    /// [`Payload::raw_msgpack_args`]).
    pub fn raw_args(&self) -> impl Iterator<Item = &str> + '_ {
        ArrayIter::new(self.raw())
            .into_iter()
            .flatten()
            .skip(self.skip)
    }

    /// The binary attachments, in placeholder order.
    pub fn attachments(&self) -> &[Bytes] {
        &self.attachments
    }

    /// The whole Socket.IO text frame, as received (empty for msgpack).
    pub fn frame(&self) -> &Utf8Bytes {
        &self.text
    }
}

impl std::fmt::Debug for Payload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Payload")
            .field("raw", &self.raw())
            .field("msgpack", &self.raw_msgpack())
            .field("attachments", &self.attachments.len())
            .finish()
    }
}

/// One encoded Socket.IO packet, ready to queue: its Engine.IO messages
/// (the text frame, then each binary attachment) in the order they go out.
/// Encoded once; every session it goes to gets cheap clones
/// (reference-counted buffers), never a re-encode, and takes all of its
/// messages in one step ([`SessionHandle::send_many`](oxio_engine::SessionHandle::send_many)),
/// so two packets to one client never interleave.
///
/// ```
/// use oxio_adapter::Outgoing;
/// use oxio_codec::socketio::Binary;
///
/// let p = Outgoing::event("/", None, "up", &(1, Binary(&[7]))).unwrap();
/// assert_eq!(p.text().as_str(), r#"51-["up",1,{"_placeholder":true,"num":0}]"#);
/// assert_eq!(p.attachments().collect::<Vec<_>>(), [&bytes::Bytes::from_static(&[7])]);
/// assert_eq!(p.messages().len(), 2);
/// assert!(Outgoing::event("/", None, "disconnect", &()).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    text: Utf8Bytes,
    /// `Message::Text(text)` then one `Message::Binary` per attachment;
    /// inline (no allocation) for a packet without attachments, the common
    /// case on the hot path (one allocation per packet less: callgrind,
    /// benches/RESULTS.md, issue 10).
    messages: SmallVec<[Message; 1]>,
    /// What `messages` are encoded in: for [`Parser::Msgpack`], one binary
    /// frame (and `text` is empty).
    parser: Parser,
}

impl Outgoing {
    /// [`Outgoing::event`] in the packet format `parser` (one per server:
    /// see [`LocalNamespace::parser`](crate::LocalNamespace::parser)).
    ///
    /// ```
    /// use oxio_adapter::{Outgoing, Parser};
    /// use oxio_codec::socketio::Binary;
    ///
    /// let p = Outgoing::event_in(Parser::Msgpack, "/", None, "up", &(Binary(&[7]),)).unwrap();
    /// assert_eq!(p.messages().len(), 1);
    /// assert_eq!(p.msgpack_frame().unwrap().as_ref(), b"\x83\xa4type\x02\xa4data\x92\xa2up\xc4\x01\x07\xa3nsp\xa1/");
    /// ```
    pub fn event_in<T: Serialize + ?Sized>(
        parser: Parser,
        namespace: &str,
        ack_id: Option<u64>,
        event: &str,
        args: &T,
    ) -> Result<Self, CodecError> {
        match parser {
            Parser::Json => Outgoing::event(namespace, ack_id, event, args),
            Parser::Msgpack => Ok(Outgoing::from_msgpack(Bytes::from(
                oxio_codec::msgpack::Encoder::default()
                    .event_to_vec(namespace, ack_id, event, args)?,
            ))),
        }
    }

    /// [`Outgoing::ack`] in the packet format `parser`.
    pub fn ack_in<T: Serialize + ?Sized>(
        parser: Parser,
        namespace: &str,
        ack_id: u64,
        args: &T,
    ) -> Result<Self, CodecError> {
        match parser {
            Parser::Json => Outgoing::ack(namespace, ack_id, args),
            Parser::Msgpack => Ok(Outgoing::from_msgpack(Bytes::from(
                oxio_codec::msgpack::Encoder::default().ack_to_vec(namespace, ack_id, args)?,
            ))),
        }
    }

    /// A msgpack packet from its binary frame (one Engine.IO message).
    pub fn from_msgpack(frame: Bytes) -> Self {
        let mut messages = SmallVec::new();
        messages.push(Message::Binary(frame));
        Outgoing {
            text: Utf8Bytes::from(""),
            messages,
            parser: Parser::Msgpack,
        }
    }

    /// The packet format this packet is encoded in.
    pub fn parser(&self) -> Parser {
        self.parser
    }

    /// The binary frame of a msgpack packet; `None` for a JSON one.
    pub fn msgpack_frame(&self) -> Option<&Bytes> {
        match (self.parser, self.messages.first()) {
            (Parser::Msgpack, Some(Message::Binary(b))) => Some(b),
            _ => None,
        }
    }

    /// An EVENT (BINARY_EVENT when `args` hold bytes). `args` follows the
    /// tuple rule. Reserved names (`connect`, `disconnect`, ...) are refused.
    pub fn event<T: Serialize + ?Sized>(
        namespace: &str,
        ack_id: Option<u64>,
        event: &str,
        args: &T,
    ) -> Result<Self, CodecError> {
        let p = Encoder::new(Version::V5).event_to_owned(namespace, ack_id, event, args)?;
        Ok(Outgoing::from_owned(p.text, p.attachments))
    }

    /// An ACK (BINARY_ACK when `args` hold bytes) answering `ack_id`.
    pub fn ack<T: Serialize + ?Sized>(
        namespace: &str,
        ack_id: u64,
        args: &T,
    ) -> Result<Self, CodecError> {
        let p = Encoder::new(Version::V5).ack_to_owned(namespace, ack_id, args)?;
        Ok(Outgoing::from_owned(p.text, p.attachments))
    }

    /// A packet from its parts (the text without the Engine.IO `4`).
    pub fn from_parts(text: Utf8Bytes, attachments: Vec<Bytes>) -> Self {
        let mut messages = SmallVec::with_capacity(attachments.len().saturating_add(1));
        messages.push(Message::Text(text.clone()));
        messages.extend(attachments.into_iter().map(Message::Binary));
        Outgoing {
            text,
            messages,
            parser: Parser::Json,
        }
    }

    fn from_owned(text: String, attachments: Vec<Vec<u8>>) -> Self {
        Outgoing::from_parts(
            Utf8Bytes::from(text),
            attachments.into_iter().map(Bytes::from).collect(),
        )
    }

    /// The text frame (empty for a msgpack packet: see
    /// [`Outgoing::msgpack_frame`]).
    pub fn text(&self) -> &Utf8Bytes {
        &self.text
    }

    /// The binary attachments, in order (none for a msgpack packet).
    pub fn attachments(&self) -> impl Iterator<Item = &Bytes> + '_ {
        let skip = match self.parser {
            Parser::Json => 1,
            Parser::Msgpack => self.messages.len(),
        };
        self.messages
            .get(skip..)
            .unwrap_or_default()
            .iter()
            .filter_map(|m| match m {
                Message::Binary(b) => Some(b),
                Message::Text(_) => None,
            })
    }

    /// The Engine.IO messages to send as one unit, in order: the text, then
    /// each attachment.
    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    /// Whether this is an EVENT (or BINARY_EVENT) that expects no ack:
    /// the only packets connection state recovery records (Node's
    /// `packet.type === 2 && packet.id === undefined`). Reads the header
    /// of the text frame (`2`, or `5<n>-`, then `/nsp,` and an ack id
    /// when present).
    ///
    /// ```
    /// use oxio_adapter::Outgoing;
    /// use oxio_codec::socketio::Binary;
    ///
    /// assert!(Outgoing::event("/", None, "a", &(1,)).unwrap().is_event_without_ack());
    /// assert!(Outgoing::event("/chat", None, "a", &(Binary(&[1]),)).unwrap().is_event_without_ack());
    /// assert!(!Outgoing::event("/chat", Some(4), "a", &()).unwrap().is_event_without_ack());
    /// assert!(!Outgoing::ack("/", 4, &(1,)).unwrap().is_event_without_ack());
    /// ```
    pub fn is_event_without_ack(&self) -> bool {
        if let Some(frame) = self.msgpack_frame() {
            return own_frames().decode(frame).is_ok_and(|p| {
                p.packet_type() == oxio_codec::socketio::PacketType::Event && p.ack_id().is_none()
            });
        }
        let text = self.text.as_str();
        let rest = match text.as_bytes().first() {
            Some(b'2') => text.get(1..).unwrap_or_default(),
            Some(b'5') => match text.find('-') {
                Some(dash) => text.get(dash + 1..).unwrap_or_default(),
                None => return false,
            },
            _ => return false,
        };
        let rest = if rest.starts_with('/') {
            match rest.find(',') {
                Some(comma) => rest.get(comma + 1..).unwrap_or_default(),
                None => return false,
            }
        } else {
            rest
        };
        rest.starts_with('[')
    }

    /// This packet with `offset` appended as the last argument of its JSON
    /// array (`42["ev",1]` → `42["ev",1,"<offset>"]`), as connection state
    /// recovery sends recorded events; attachments are unchanged (they are
    /// shared, not copied). `None` when the text does not end with its
    /// array (not an event or ack of the JSON parser).
    ///
    /// ```
    /// use oxio_adapter::Outgoing;
    /// use oxio_codec::socketio::Binary;
    ///
    /// let p = Outgoing::event("/", None, "ev", &()).unwrap().with_offset("Ab.0").unwrap();
    /// assert_eq!(p.text().as_str(), r#"2["ev","Ab.0"]"#);
    /// let p = Outgoing::event("/n", None, "up", &(1, Binary(&[7]))).unwrap();
    /// let q = p.with_offset("x").unwrap();
    /// assert_eq!(q.text().as_str(), r#"51-/n,["up",1,{"_placeholder":true,"num":0},"x"]"#);
    /// assert!(q.attachments().eq(p.attachments()));
    /// ```
    pub fn with_offset(&self, offset: &str) -> Option<Outgoing> {
        if let Some(frame) = self.msgpack_frame() {
            return Outgoing::msgpack_with_offset(frame, offset);
        }
        let text = self.text.as_str();
        let head = text.strip_suffix(']')?;
        if !head.contains('[') {
            return None;
        }
        let quoted = serde_json::to_string(offset).ok()?;
        let mut out = String::with_capacity(text.len() + quoted.len() + 1);
        out.push_str(head);
        out.push(',');
        out.push_str(&quoted);
        out.push(']');
        let text = Utf8Bytes::from(out);
        let mut messages = self.messages.clone();
        match messages.first_mut() {
            Some(first) => *first = Message::Text(text.clone()),
            None => messages.push(Message::Text(text.clone())),
        }
        Some(Outgoing {
            text,
            messages,
            parser: Parser::Json,
        })
    }

    /// A msgpack EVENT with `offset` appended to its arguments (the Node
    /// server pushes it onto `packet.data` before encoding, so the frame
    /// is `{type, data, nsp}` as for any event without ack).
    fn msgpack_with_offset(frame: &[u8], offset: &str) -> Option<Outgoing> {
        let packet = own_frames().decode(frame).ok()?;
        let event = packet.event_name()?;
        let quoted = oxio_codec::msgpack::to_vec(offset).ok()?;
        let mut args: Vec<&[u8]> = packet.raw_args().collect();
        args.push(&quoted);
        let frame = oxio_codec::msgpack::Encoder::default()
            .event_raw_to_vec(packet.namespace(), packet.ack_id(), event, &args)
            .ok()?;
        Some(Outgoing::from_msgpack(Bytes::from(frame)))
    }

    /// The bytes this packet holds: its text and its attachments (a
    /// msgpack packet: its frame).
    pub fn size(&self) -> usize {
        if let Some(frame) = self.msgpack_frame() {
            return frame.len();
        }
        self.attachments()
            .fold(self.text.as_str().len(), |n, a| n.saturating_add(a.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_fall_back_to_placeholders_for_value() {
        let text = r#"51-["up",{"_placeholder":true,"num":0}]"#;
        let p = Payload::new(
            Utf8Bytes::from(text),
            3,
            1,
            vec![Bytes::from_static(&[1, 2])],
            128,
        );
        let v: serde_json::Value = p.args().unwrap();
        assert_eq!(v, serde_json::json!({"_placeholder": true, "num": 0}));
        let (b,): (oxio_codec::socketio::BinaryBuf,) = p.args().unwrap();
        assert_eq!(b.0, [1, 2]);
        assert!(p.args::<(u8,)>().is_err());
    }
}
