//! Packets as the Socket.IO layer holds them: [`Payload`] is a received
//! event's or ack's arguments (owned, decoded on demand), [`Outgoing`] is a
//! packet encoded once and shared by every session it goes to.

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
        }
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

    /// The JSON array as received (with the event name, for events).
    pub fn raw(&self) -> &str {
        self.text.as_str().get(self.json_start..).unwrap_or("[]")
    }

    /// Deserializes the arguments (tuple rule). Byte fields
    /// ([`BinaryBuf`](oxio_codec::socketio::BinaryBuf), `serde_bytes`) read
    /// the binary attachments. A type that cannot take bytes (such as
    /// `serde_json::Value`) sees each attachment as its placeholder object
    /// `{"_placeholder":true,"num":N}`; [`Payload::attachments`] has the bytes.
    pub fn args<T: DeserializeOwned>(&self) -> Result<T, CodecError> {
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

    /// Each argument as its raw JSON text.
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

    /// The whole Socket.IO text frame, as received.
    pub fn frame(&self) -> &Utf8Bytes {
        &self.text
    }
}

impl std::fmt::Debug for Payload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Payload")
            .field("raw", &self.raw())
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
}

impl Outgoing {
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
        Outgoing { text, messages }
    }

    fn from_owned(text: String, attachments: Vec<Vec<u8>>) -> Self {
        Outgoing::from_parts(
            Utf8Bytes::from(text),
            attachments.into_iter().map(Bytes::from).collect(),
        )
    }

    /// The text frame.
    pub fn text(&self) -> &Utf8Bytes {
        &self.text
    }

    /// The binary attachments, in order.
    pub fn attachments(&self) -> impl Iterator<Item = &Bytes> + '_ {
        self.messages
            .get(1..)
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
        Some(Outgoing { text, messages })
    }

    /// The bytes this packet holds: its text and its attachments.
    pub fn size(&self) -> usize {
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
