//! Socket.IO packets in msgpack, wire-compatible with
//! [`socket.io-msgpack-parser`](https://github.com/socketio/socket.io-msgpack-parser)
//! 3.x (which uses notepack.io 2.x), for Socket.IO v5 (docs/protocol.md §5).
//!
//! Each packet is one **binary** Engine.IO message holding one msgpack map
//! with the keys `type` (0–4: there are no BINARY_* types, bytes sit
//! inline), `nsp`, `data` (absent where Node omits it) and `id` (only with
//! an ack). Bytes are `bin` (a Node `Buffer`) or `ext` type 0 (what Node
//! writes for other typed arrays); JavaScript's `undefined` is fixext1 type
//! 0 (`d4 00 00`, see [`Undefined`]).
//!
//! Like the JSON path, this is `no_std`, allocation-free and zero-copy:
//! - [`Decoder::decode`] checks the whole frame once (grammar, UTF-8,
//!   depth, the reference's `checkPacket` rules, the [`Limits`]) and keeps
//!   the header fields; strings, bytes and the arguments stay borrowed and
//!   are read into `serde` types on demand ([`Packet::args`], [`Packet::data`]).
//! - [`Encoder`] writes packets from `serde` values into a caller buffer,
//!   byte-identical to what the Node server writes for the same values,
//!   keys in the order the Node server inserts them.
//!
//! The two types have the shape of [`socketio::Decoder`](crate::socketio::Decoder)
//! and [`socketio::Encoder`](crate::socketio::Encoder), so a server can pick
//! one pair per server. Errors are [`socketio::Error`](crate::socketio::Error)s;
//! values are read and written through serde with
//! [`JsonError`] as the value error type.
//!
//! ```
//! use oxio_codec::msgpack::{Decoder, Encoder};
//! use oxio_codec::socketio::PacketType;
//!
//! // socket.emit("hello", "you"), as socket.io-msgpack-parser's README shows it
//! // (the Node server writes `data` before `nsp`).
//! let mut buf = [0u8; 64];
//! let n = Encoder::default().event(&mut buf, "/", None, "hello", &("you",)).unwrap().len;
//! assert_eq!(&buf[..n], b"\x83\xa4type\x02\xa4data\x92\xa5hello\xa3you\xa3nsp\xa1/");
//!
//! let p = Decoder::default().decode(&buf[..n]).unwrap();
//! assert_eq!(p.packet_type(), PacketType::Event);
//! assert_eq!(p.event_name(), Some("hello"));
//! let (who,): (&str,) = p.args().unwrap();
//! assert_eq!(who, "you");
//! ```
//!
//! Deliberate differences from the reference decoder (each a frame Node
//! accepts and this decoder refuses): invalid UTF-8 in a string (Node
//! substitutes U+FFFD), nesting deeper than [`Limits::max_depth`] (Node
//! stops at its stack), a namespace longer than
//! [`Limits::max_namespace_len`], an ack id that is negative or above
//! [`Limits::max_ack_id`], an EVENT whose name is reserved (as the JSON
//! parser refuses them), and EVENT/ACK data that is an extension of
//! non-zero type (notepack.io reads it as the array `[type, Buffer]`).
//! Map keys that are not strings never name a packet field.

mod de;
mod read;
mod ser;

use core::fmt;
use serde::{Deserialize, Serialize};

use self::read::{head, integer, Head};
use crate::json::JsonError;
use crate::limits::MAX_SAFE_INTEGER;
use crate::socketio::{is_reserved_event, Encoded, Error, PacketType};
use crate::Limits;

/// What is wrong with the msgpack of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum MsgpackError {
    /// The frame ends inside a value (or a length points past its end).
    UnexpectedEnd,
    /// The never-used marker `0xc1`, at this offset.
    InvalidMarker {
        /// Byte offset of the marker.
        offset: usize,
    },
    /// A string that is not UTF-8; `offset` is its head's.
    InvalidUtf8 {
        /// Byte offset of the string's head.
        offset: usize,
    },
    /// Arrays and maps nest deeper than [`Limits::max_depth`].
    TooDeep,
    /// Bytes follow the packet's map.
    TrailingData,
    /// The frame is longer than [`Limits::max_packet_len`].
    TooLarge,
}

impl fmt::Display for MsgpackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MsgpackError::UnexpectedEnd => f.write_str("msgpack ends inside a value"),
            MsgpackError::InvalidMarker { offset } => {
                write!(f, "invalid msgpack marker at offset {offset}")
            }
            MsgpackError::InvalidUtf8 { offset } => {
                write!(f, "msgpack string at offset {offset} is not UTF-8")
            }
            MsgpackError::TooDeep => f.write_str("msgpack nested too deeply"),
            MsgpackError::TrailingData => f.write_str("trailing bytes after the msgpack packet"),
            MsgpackError::TooLarge => f.write_str("msgpack packet too large"),
        }
    }
}

impl core::error::Error for MsgpackError {}

impl From<MsgpackError> for Error {
    fn from(e: MsgpackError) -> Error {
        Error::InvalidMsgpack(e)
    }
}

/// The name [`Undefined`] serializes under; the msgpack serializer writes
/// `d4 00 00` for a unit struct of this name.
const UNDEFINED: &str = "$oxio::msgpack::Undefined";

/// JavaScript's `undefined`: notepack.io writes it as `d4 00 00`, and the
/// Node server sends it where a value is unset (`{"sid":..,"pid":undefined}`
/// in its CONNECT answer). Serializes as `d4 00 00` in msgpack and as
/// `null` in JSON; deserializes from either (and from `nil`).
///
/// ```
/// use oxio_codec::msgpack::{to_slice, Undefined};
///
/// let mut buf = [0u8; 8];
/// let n = to_slice(&(1, Undefined), &mut buf).unwrap();
/// assert_eq!(&buf[..n], [0x92, 0x01, 0xd4, 0x00, 0x00]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Undefined;

impl Serialize for Undefined {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_unit_struct(UNDEFINED)
    }
}

impl<'de> Deserialize<'de> for Undefined {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <()>::deserialize(d).map(|()| Undefined)
    }
}

/// Reads one `T` from msgpack bytes (the whole of `bytes`), with the
/// default depth limit. Strings and byte slices borrow from `bytes`.
///
/// ```
/// #[derive(serde::Deserialize, Debug, PartialEq)]
/// struct Msg<'a> { text: &'a str, n: u8 }
///
/// let bytes = b"\x82\xa4text\xa2hi\xa1n\x07";
/// let msg: Msg = oxio_codec::msgpack::from_slice(bytes).unwrap();
/// assert_eq!(msg, Msg { text: "hi", n: 7 });
/// ```
pub fn from_slice<'de, T: Deserialize<'de>>(bytes: &'de [u8]) -> Result<T, JsonError> {
    from_slice_with_depth(bytes, Limits::DEFAULT.max_depth)
}

/// [`from_slice`] with a depth limit: arrays and maps may nest `max_depth`
/// levels.
///
/// ```
/// use oxio_codec::{json::JsonError, msgpack::from_slice_with_depth};
///
/// let nested = [0x91, 0x91, 0x90]; // [[[]]]
/// assert!(from_slice_with_depth::<serde::de::IgnoredAny>(&nested, 3).is_ok());
/// assert_eq!(from_slice_with_depth::<serde::de::IgnoredAny>(&nested, 2).unwrap_err(), JsonError::TooDeep);
/// ```
pub fn from_slice_with_depth<'de, T: Deserialize<'de>>(
    bytes: &'de [u8],
    max_depth: usize,
) -> Result<T, JsonError> {
    let mut d = de::Deserializer::new(bytes, max_depth);
    let value = T::deserialize(&mut d)?;
    d.end()?;
    Ok(value)
}

/// Deserializes the arguments held by a raw msgpack array (the `data` of an
/// EVENT or ACK, see [`Packet::raw_data`]) after its first `skip` elements,
/// by the tuple rule of [`Packet::args`]; for a packet kept as bytes and
/// read later. Strings and bytes borrow from `array`.
///
/// ```
/// let (n, s): (u8, &str) = oxio_codec::msgpack::args_from_slice(b"\x93\xa1e\x07\xa1x", 1, 32).unwrap();
/// assert_eq!((n, s), (7, "x"));
/// ```
pub fn args_from_slice<'de, T: Deserialize<'de>>(
    array: &'de [u8],
    skip: usize,
    max_depth: usize,
) -> Result<T, Error> {
    de::args_from_slice(array, skip, max_depth).map_err(Error::Deserialize)
}

/// Writes `value` as msgpack into `buf` the way notepack.io writes the same
/// JavaScript value, and returns the number of bytes written.
///
/// Numbers are JavaScript numbers: integral values (of any Rust type) as the
/// smallest msgpack integer, others as float 64; bytes (`serde_bytes`,
/// [`Binary`](crate::socketio::Binary)) are `bin`; map keys are strings.
///
/// ```
/// let mut buf = [0u8; 16];
/// let n = oxio_codec::msgpack::to_slice(&(1.0, -1, 0.5, "é"), &mut buf).unwrap();
/// assert_eq!(&buf[..n], b"\x94\x01\xff\xcb\x3f\xe0\0\0\0\0\0\0\xa2\xc3\xa9");
/// ```
pub fn to_slice<T: Serialize + ?Sized>(value: &T, buf: &mut [u8]) -> Result<usize, JsonError> {
    let mut out = ser::SliceOut { buf, len: 0 };
    value.serialize(&mut ser::Serializer { out: &mut out })?;
    Ok(out.len)
}

/// [`to_slice`] into a new `Vec<u8>`.
///
/// ```
/// assert_eq!(oxio_codec::msgpack::to_vec(&[1u8, 2]).unwrap(), [0x92, 1, 2]);
/// ```
#[cfg(feature = "alloc")]
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Result<alloc::vec::Vec<u8>, JsonError> {
    let mut out = alloc::vec::Vec::with_capacity(64);
    value.serialize(&mut ser::Serializer { out: &mut out })?;
    Ok(out)
}

/// Decodes socket.io-msgpack-parser frames under one set of [`Limits`].
/// Cheap to copy; holds no state between frames (there are no attachments).
///
/// ```
/// use oxio_codec::msgpack::Decoder;
/// use oxio_codec::socketio::{Error, PacketType};
///
/// // {"type":0,"nsp":"/admin","data":{"token":"x"}} (keys in any order)
/// let frame = b"\x83\xa3nsp\xa6/admin\xa4data\x81\xa5token\xa1x\xa4type\x00";
/// let p = Decoder::default().decode(frame).unwrap();
/// assert_eq!((p.packet_type(), p.namespace()), (PacketType::Connect, "/admin"));
///
/// // CONNECT data must be a map.
/// let frame = b"\x83\xa4type\x00\xa3nsp\xa1/\xa4data\x90";
/// assert_eq!(Decoder::default().decode(frame).unwrap_err(), Error::InvalidPayload);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Decoder {
    /// Bounds on what a packet may hold.
    pub limits: Limits,
}

impl Decoder {
    /// A decoder under `limits`.
    pub const fn new(limits: Limits) -> Self {
        Decoder { limits }
    }

    /// Decodes one packet from the bytes of a binary Engine.IO message.
    ///
    /// Rejects what the reference rejects (a frame that is not one msgpack
    /// value, a `type` that is not an integer in 0..=4, an `nsp` that is not
    /// a string, CONNECT data other than a map, DISCONNECT data, CONNECT_ERROR
    /// data other than a string or a map, EVENT/ACK data other than an
    /// array, a non-integer `id`) and what breaks a [`Limits`] bound (see
    /// the [module](self) docs). Never panics, never allocates.
    pub fn decode<'a>(&self, frame: &'a [u8]) -> Result<Packet<'a>, Error> {
        if frame.len() > self.limits.max_packet_len {
            return Err(MsgpackError::TooLarge.into());
        }
        let depth = self.limits.max_depth;
        let mut pos = 0;
        let entries = match head(frame, &mut pos)? {
            Head::Map(n) => n,
            _ => {
                // Still a syntax error first, as notepack.io parses before checking.
                pos = 0;
                read::skip(frame, &mut pos, depth)?;
                return Err(trailing(frame, pos)
                    .err()
                    .unwrap_or(Error::UnknownPacketType(0)));
            }
        };
        let mut fields: [Option<(usize, usize)>; 4] = [None; 4];
        for _ in 0..entries {
            let key_at = pos;
            let key = match head(frame, &mut pos)? {
                Head::Str(k) => Some(read::utf8(k, key_at)?),
                _ => {
                    pos = key_at;
                    read::skip(frame, &mut pos, depth)?;
                    None
                }
            };
            let start = pos;
            read::skip(frame, &mut pos, depth)?;
            let slot = match key {
                Some("type") => fields.get_mut(0),
                Some("nsp") => fields.get_mut(1),
                Some("data") => fields.get_mut(2),
                Some("id") => fields.get_mut(3),
                _ => None,
            };
            if let Some(slot) = slot {
                *slot = Some((start, pos));
            }
        }
        trailing(frame, pos)?;
        let [ty, nsp, data, id] = fields.map(|f| {
            f.and_then(|(s, e)| frame.get(s..e))
                .filter(|v| v.first() != Some(&0xd4) || v.get(1) != Some(&0))
        });
        let packet_type = self.packet_type(ty)?;
        let namespace = self.namespace(nsp)?;
        self.check_data(packet_type, data)?;
        let ack_id = self.ack_id(id)?;
        Ok(Packet {
            packet_type,
            namespace,
            ack_id,
            data,
            max_depth: depth,
        })
    }

    fn packet_type(&self, value: Option<&[u8]>) -> Result<PacketType, Error> {
        let n = value
            .and_then(|v| head(v, &mut 0).ok())
            .and_then(integer)
            .ok_or(Error::UnknownPacketType(0xff))?;
        let digit = u8::try_from(n).unwrap_or(0xff);
        match digit {
            0..=4 => PacketType::from_digit(b'0' + digit).ok_or(Error::UnknownPacketType(digit)),
            _ => Err(Error::UnknownPacketType(digit)),
        }
    }

    fn namespace<'a>(&self, value: Option<&'a [u8]>) -> Result<&'a str, Error> {
        let value = value.ok_or(Error::InvalidNamespace)?;
        let Ok(Head::Str(s)) = head(value, &mut 0) else {
            return Err(Error::InvalidNamespace);
        };
        if s.len() > self.limits.max_namespace_len {
            return Err(Error::NamespaceTooLong);
        }
        // Checked by `skip` already.
        core::str::from_utf8(s).map_err(|_| Error::InvalidNamespace)
    }

    fn check_data(&self, ty: PacketType, data: Option<&[u8]>) -> Result<(), Error> {
        let h = data.and_then(|d| head(d, &mut 0).ok());
        let ok = match ty {
            PacketType::Connect => matches!(h, None | Some(Head::Map(_))),
            PacketType::Disconnect => h.is_none(),
            PacketType::ConnectError => matches!(h, Some(Head::Str(_) | Head::Map(_))),
            _ => matches!(h, Some(Head::Array(_))),
        };
        if !ok {
            return Err(Error::InvalidPayload);
        }
        if ty == PacketType::Event {
            if let Some(d) = data {
                let mut pos = 0;
                let _ = head(d, &mut pos);
                if let Ok(Head::Str(name)) = head(d, &mut pos) {
                    if core::str::from_utf8(name).is_ok_and(is_reserved_event) {
                        return Err(Error::ReservedEventName);
                    }
                }
            }
        }
        Ok(())
    }

    fn ack_id(&self, value: Option<&[u8]>) -> Result<Option<u64>, Error> {
        let Some(value) = value else {
            return Ok(None);
        };
        let n = head(value, &mut 0)
            .ok()
            .and_then(integer)
            .ok_or(Error::InvalidPayload)?;
        let id = u64::try_from(n).map_err(|_| Error::InvalidPayload)?;
        if id > self.limits.max_ack_id {
            return Err(Error::AckIdTooLarge);
        }
        Ok(Some(id))
    }
}

/// A msgpack CONNECT (`frame`, as [`Encoder::connect`] or
/// [`Encoder::connect_with`] wrote it) rewritten into `out` with the
/// connection state recovery keys merged into its auth, as the reference
/// client's `Object.assign({pid, offset}, auth)`: `pid` first, then
/// `offset` (left out when `None`), each taking the auth's own value when
/// it has that key, then the auth's other entries in order. `None` when
/// `frame` is not such a CONNECT or `out` is too small.
pub(crate) fn recovery_connect(
    frame: &[u8],
    pid: &str,
    offset: Option<&str>,
    out: &mut [u8],
) -> Option<usize> {
    let packet = Decoder::default().decode(frame).ok()?;
    if packet.packet_type() != PacketType::Connect {
        return None;
    }
    // The auth's entries as (raw key, raw value).
    let auth = packet.raw_data().unwrap_or(b"\x80");
    let mut pos = 0;
    let Ok(Head::Map(n)) = head(auth, &mut pos) else {
        return None;
    };
    let mut entries: heapless::Vec<(&[u8], &[u8]), 32> = heapless::Vec::new();
    for _ in 0..n {
        let k = pos;
        read::skip(auth, &mut pos, usize::MAX).ok()?;
        let v = pos;
        read::skip(auth, &mut pos, usize::MAX).ok()?;
        entries.push((auth.get(k..v)?, auth.get(v..pos)?)).ok()?;
    }
    let key_is = |raw: &[u8], name: &str| {
        let mut p = 0;
        matches!(head(raw, &mut p), Ok(Head::Str(s)) if s == name.as_bytes())
    };
    let user = |name: &str| entries.iter().rev().find(|(k, _)| key_is(k, name));
    let others = entries
        .iter()
        .filter(|(k, _)| !key_is(k, "pid") && !key_is(k, "offset"));
    let has_offset = offset.is_some() || user("offset").is_some();
    let count = 1 + usize::from(has_offset) + others.clone().count();

    let mut w = ser::SliceOut { buf: out, len: 0 };
    ser::map_header(&mut w, 3).ok()?;
    put_type(&mut w, PacketType::Connect).ok()?;
    put_key(&mut w, "data").ok()?;
    ser::map_header(&mut w, count).ok()?;
    put_key(&mut w, "pid").ok()?;
    match user("pid") {
        Some((_, v)) => ser::Out::put(&mut w, v).ok()?,
        None => ser::write_str(&mut w, pid).ok()?,
    }
    match (user("offset"), offset) {
        (Some((_, v)), _) => {
            put_key(&mut w, "offset").ok()?;
            ser::Out::put(&mut w, v).ok()?;
        }
        (None, Some(o)) => {
            put_key(&mut w, "offset").ok()?;
            ser::write_str(&mut w, o).ok()?;
        }
        (None, None) => {}
    }
    for (k, v) in others {
        ser::Out::put(&mut w, k).ok()?;
        ser::Out::put(&mut w, v).ok()?;
    }
    put_nsp(&mut w, packet.namespace()).ok()?;
    Some(w.len)
}

fn trailing(frame: &[u8], pos: usize) -> Result<(), Error> {
    if pos == frame.len() {
        Ok(())
    } else {
        Err(MsgpackError::TrailingData.into())
    }
}

/// One decoded msgpack packet, borrowing its frame.
///
/// ```
/// use oxio_codec::msgpack::{Decoder, Encoder};
/// use oxio_codec::socketio::Binary;
///
/// let mut buf = [0u8; 64];
/// let n = Encoder::default().event(&mut buf, "/chat", Some(7), "file", &("a.bin", Binary(&[1, 2]))).unwrap().len;
/// let p = Decoder::default().decode(&buf[..n]).unwrap();
/// assert_eq!((p.namespace(), p.ack_id(), p.event_name()), ("/chat", Some(7), Some("file")));
/// let (name, data): (&str, Binary) = p.args().unwrap();
/// assert_eq!((name, data.0), ("a.bin", &[1u8, 2][..]));
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Packet<'a> {
    packet_type: PacketType,
    namespace: &'a str,
    ack_id: Option<u64>,
    data: Option<&'a [u8]>,
    max_depth: usize,
}

impl fmt::Debug for Packet<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Packet")
            .field("packet_type", &self.packet_type)
            .field("namespace", &self.namespace)
            .field("ack_id", &self.ack_id)
            .field("data", &self.data)
            .finish()
    }
}

impl<'a> Packet<'a> {
    /// The packet type: never a BINARY_* one.
    pub fn packet_type(&self) -> PacketType {
        self.packet_type
    }

    /// The namespace, as sent (msgpack always names it).
    pub fn namespace(&self) -> &'a str {
        self.namespace
    }

    /// The ack id, when the sender expects an answer (events) or gives one (acks).
    pub fn ack_id(&self) -> Option<u64> {
        self.ack_id
    }

    /// The `data` value as raw msgpack, `None` when absent (or `undefined`).
    ///
    /// ```
    /// let frame = b"\x82\xa4type\x01\xa3nsp\xa1/";
    /// assert_eq!(oxio_codec::msgpack::Decoder::default().decode(frame).unwrap().raw_data(), None);
    /// ```
    pub fn raw_data(&self) -> Option<&'a [u8]> {
        self.data
    }

    /// The event name of an EVENT whose first element is a string.
    pub fn event_name(&self) -> Option<&'a str> {
        if self.packet_type != PacketType::Event {
            return None;
        }
        let d = self.data?;
        let mut pos = 0;
        head(d, &mut pos).ok()?;
        let at = pos;
        match head(d, &mut pos).ok()? {
            Head::Str(s) => read::utf8(s, at).ok(),
            _ => None,
        }
    }

    /// The arguments as raw msgpack values: an event's after its name, an
    /// ack's all of them; empty for other types.
    ///
    /// ```
    /// let mut buf = [0u8; 32];
    /// let n = oxio_codec::msgpack::Encoder::default().event(&mut buf, "/", None, "m", &(1, "a")).unwrap().len;
    /// let p = oxio_codec::msgpack::Decoder::default().decode(&buf[..n]).unwrap();
    /// let args: Vec<&[u8]> = p.raw_args().collect();
    /// assert_eq!(args, [&b"\x01"[..], b"\xa1a"]);
    /// ```
    pub fn raw_args(&self) -> RawArgs<'a> {
        let mut it = RawArgs {
            buf: &[],
            pos: 0,
            left: 0,
        };
        if let (Some(d), true) = (self.data, self.args_skip().is_ok()) {
            let mut pos = 0;
            if let Ok(Head::Array(n)) = head(d, &mut pos) {
                it = RawArgs {
                    buf: d,
                    pos,
                    left: n,
                };
            }
            if self.packet_type == PacketType::Event {
                it.next();
            }
        }
        it
    }

    fn args_skip(&self) -> Result<usize, Error> {
        match self.packet_type {
            PacketType::Event => Ok(1),
            PacketType::Ack => Ok(0),
            _ => Err(Error::InvalidPayload),
        }
    }

    /// Deserializes the arguments of an event (after its name) or an ack,
    /// by the rules of [`socketio::Packet::args`](crate::socketio::Packet::args):
    /// a tuple takes them in order, [`Args`](crate::socketio::Args) takes
    /// them all, `()` none, any other type the first. Strings and bytes
    /// borrow from the frame.
    pub fn args<T: Deserialize<'a>>(&self) -> Result<T, Error> {
        let skip = self.args_skip()?;
        let data = self.data.ok_or(Error::InvalidPayload)?;
        de::args_from_slice(data, skip, self.max_depth).map_err(Error::Deserialize)
    }

    /// Deserializes the whole `data` value (a CONNECT's auth, the server's
    /// `{"sid":..}`, a CONNECT_ERROR body); `Ok(None)` without data.
    ///
    /// ```
    /// #[derive(serde::Deserialize)]
    /// struct Auth<'a> { token: &'a str }
    /// let mut buf = [0u8; 48];
    /// let enc = oxio_codec::msgpack::Encoder::default();
    /// let n = enc.connect_with(&mut buf, "/admin", &serde_json::json!({"token": "123"})).unwrap();
    /// let p = oxio_codec::msgpack::Decoder::default().decode(&buf[..n]).unwrap();
    /// let auth: Auth = p.data().unwrap().unwrap();
    /// assert_eq!(auth.token, "123");
    /// ```
    pub fn data<T: Deserialize<'a>>(&self) -> Result<Option<T>, Error> {
        match self.data {
            None => Ok(None),
            Some(d) => from_slice_with_depth(d, self.max_depth)
                .map(Some)
                .map_err(Error::Deserialize),
        }
    }

    /// The message of a CONNECT_ERROR: its data when a string, else the
    /// data's `message` member when a string.
    ///
    /// ```
    /// let mut buf = [0u8; 64];
    /// let enc = oxio_codec::msgpack::Encoder::default();
    /// let n = enc.connect_error(&mut buf, "/", "not authorized").unwrap();
    /// let p = oxio_codec::msgpack::Decoder::default().decode(&buf[..n]).unwrap();
    /// assert_eq!(p.connect_error_message(), Some("not authorized"));
    /// ```
    pub fn connect_error_message(&self) -> Option<&'a str> {
        if self.packet_type != PacketType::ConnectError {
            return None;
        }
        let d = self.data?;
        let mut pos = 0;
        let at = pos;
        match head(d, &mut pos).ok()? {
            Head::Str(s) => read::utf8(s, at).ok(),
            Head::Map(n) => {
                for _ in 0..n {
                    let key_at = pos;
                    let key = head(d, &mut pos).ok()?;
                    let value_at = pos;
                    if let Head::Str(b"message") = key {
                        if let Ok(Head::Str(s)) = head(d, &mut pos) {
                            return read::utf8(s, value_at).ok();
                        }
                        return None;
                    }
                    if !matches!(key, Head::Str(_)) {
                        pos = key_at;
                        read::skip(d, &mut pos, usize::MAX).ok()?;
                    }
                    read::skip(d, &mut pos, usize::MAX).ok()?;
                }
                None
            }
            _ => None,
        }
    }
}

/// The raw msgpack arguments of a packet; see [`Packet::raw_args`].
#[derive(Debug, Clone)]
pub struct RawArgs<'a> {
    buf: &'a [u8],
    pos: usize,
    left: usize,
}

impl<'a> RawArgs<'a> {
    /// The elements of the raw msgpack array `array` after its first
    /// `skip` (none when `array` is not an array).
    ///
    /// ```
    /// let args: Vec<&[u8]> = oxio_codec::msgpack::RawArgs::new(b"\x93\xa1e\x01\x02", 1).collect();
    /// assert_eq!(args, [&b"\x01"[..], b"\x02"]);
    /// ```
    pub fn new(array: &'a [u8], skip: usize) -> Self {
        let mut pos = 0;
        let mut it = match head(array, &mut pos) {
            Ok(Head::Array(n)) => RawArgs {
                buf: array,
                pos,
                left: n,
            },
            _ => RawArgs {
                buf: &[],
                pos: 0,
                left: 0,
            },
        };
        for _ in 0..skip {
            it.next();
        }
        it
    }
}

impl<'a> Iterator for RawArgs<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        self.left = self.left.checked_sub(1)?;
        let start = self.pos;
        read::skip(self.buf, &mut self.pos, usize::MAX).ok()?;
        self.buf.get(start..self.pos)
    }
}

/// Writes socket.io-msgpack-parser packets into a caller buffer, keys in
/// the order the Node server inserts them: `type, data, nsp` (EVENT:
/// `type, data, id, nsp` as `socket.emit` builds it; ACK: `id, type, data,
/// nsp`; no data: `type, nsp`). The Node server also writes two other
/// orders, which decoders accept all the same: a broadcast with an ack
/// sets `nsp` before `id`, and the refusal of an unknown namespace is
/// `type, nsp, data`.
///
/// ```
/// use oxio_codec::msgpack::Encoder;
///
/// let mut buf = [0u8; 32];
/// let n = Encoder::default().ack(&mut buf, "/", 3, &("ok",)).unwrap().len;
/// assert_eq!(&buf[..n], b"\x84\xa2id\x03\xa4type\x03\xa4data\x91\xa2ok\xa3nsp\xa1/");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Encoder {
    /// Room for options (say, typed arrays as ext 0) without breaking callers.
    _private: (),
}

fn put_key<O: ser::Out + ?Sized>(out: &mut O, key: &str) -> Result<(), Error> {
    ser::write_str(out, key).map_err(map_ser)
}

fn put_type<O: ser::Out + ?Sized>(out: &mut O, ty: PacketType) -> Result<(), Error> {
    put_key(out, "type")?;
    ser::write_u64(out, u64::from(ty.as_digit() - b'0')).map_err(map_ser)
}

fn put_nsp<O: ser::Out + ?Sized>(out: &mut O, nsp: &str) -> Result<(), Error> {
    put_key(out, "nsp")?;
    ser::write_str(out, nsp).map_err(map_ser)
}

fn put_id<O: ser::Out + ?Sized>(out: &mut O, id: u64) -> Result<(), Error> {
    if id > MAX_SAFE_INTEGER {
        return Err(Error::AckIdTooLarge);
    }
    put_key(out, "id")?;
    ser::write_u64(out, id).map_err(map_ser)
}

fn map_ser(e: JsonError) -> Error {
    match e {
        JsonError::BufferFull => Error::BufferFull,
        e => Error::Serialize(e),
    }
}

fn check_nsp(namespace: &str) -> Result<(), Error> {
    if namespace.starts_with('/') {
        Ok(())
    } else {
        Err(Error::InvalidNamespace)
    }
}

/// Writes a packet's `data` value.
type WriteData<'f, O> = dyn Fn(&mut O) -> Result<(), JsonError> + 'f;

fn write_packet<O: ser::Out + ?Sized>(
    out: &mut O,
    ty: PacketType,
    namespace: &str,
    data: Option<&WriteData<'_, O>>,
) -> Result<usize, Error> {
    check_nsp(namespace)?;
    let start = out.pos();
    ser::map_header(out, 2 + usize::from(data.is_some())).map_err(map_ser)?;
    put_type(out, ty)?;
    if let Some(write) = data {
        put_key(out, "data")?;
        write(out).map_err(map_ser)?;
    }
    put_nsp(out, namespace)?;
    Ok(out.pos() - start)
}

fn write_args<O: ser::Out + ?Sized, T: Serialize + ?Sized>(
    out: &mut O,
    ty: PacketType,
    namespace: &str,
    ack_id: Option<u64>,
    event: Option<&str>,
    args: &T,
) -> Result<Encoded, Error> {
    check_nsp(namespace)?;
    if event.is_some_and(is_reserved_event) {
        return Err(Error::ReservedEventName);
    }
    let start = out.pos();
    ser::map_header(out, 3 + usize::from(ack_id.is_some())).map_err(map_ser)?;
    let write_data = |out: &mut O| -> Result<(), Error> {
        put_key(out, "data")?;
        args.serialize(ser::ArgsSerializer {
            ser: &mut ser::Serializer { out },
            event,
        })
        .map_err(map_ser)
    };
    match (ty, ack_id) {
        (PacketType::Ack, Some(id)) => {
            put_id(out, id)?;
            put_type(out, ty)?;
            write_data(out)?;
        }
        (_, id) => {
            put_type(out, ty)?;
            write_data(out)?;
            if let Some(id) = id {
                put_id(out, id)?;
            }
        }
    }
    put_nsp(out, namespace)?;
    Ok(Encoded {
        len: out.pos() - start,
        attachments: 0,
    })
}

impl Encoder {
    /// An encoder (the same as `Encoder::default()`).
    pub const fn new() -> Self {
        Encoder { _private: () }
    }

    /// CONNECT without data (`{"type":0,"nsp":..}`): a client joining a namespace.
    ///
    /// ```
    /// let mut buf = [0u8; 32];
    /// let n = oxio_codec::msgpack::Encoder::default().connect(&mut buf, "/a").unwrap();
    /// assert_eq!(&buf[..n], b"\x82\xa4type\x00\xa3nsp\xa2/a");
    /// ```
    pub fn connect(&self, buf: &mut [u8], namespace: &str) -> Result<usize, Error> {
        let mut out = ser::SliceOut { buf, len: 0 };
        write_packet::<ser::SliceOut<'_>>(&mut out, PacketType::Connect, namespace, None)
    }

    /// CONNECT with data: a client's auth, or the server's
    /// `{"sid":..,"pid":..}` (use [`Undefined`] for the Node server's
    /// `pid: undefined`).
    ///
    /// ```
    /// use oxio_codec::msgpack::{Encoder, Undefined};
    ///
    /// #[derive(serde::Serialize)]
    /// struct Hello<'a> { sid: &'a str, pid: Undefined }
    /// let mut buf = [0u8; 48];
    /// let n = Encoder::default().connect_with(&mut buf, "/", &Hello { sid: "x", pid: Undefined }).unwrap();
    /// assert_eq!(&buf[..n], b"\x83\xa4type\x00\xa4data\x82\xa3sid\xa1x\xa3pid\xd4\x00\x00\xa3nsp\xa1/");
    /// ```
    pub fn connect_with<T: Serialize + ?Sized>(
        &self,
        buf: &mut [u8],
        namespace: &str,
        data: &T,
    ) -> Result<usize, Error> {
        let mut out = ser::SliceOut { buf, len: 0 };
        let write = |o: &mut ser::SliceOut<'_>| data.serialize(&mut ser::Serializer { out: o });
        write_packet(&mut out, PacketType::Connect, namespace, Some(&write))
    }

    /// DISCONNECT from a namespace.
    ///
    /// ```
    /// let mut buf = [0u8; 32];
    /// let n = oxio_codec::msgpack::Encoder::default().disconnect(&mut buf, "/").unwrap();
    /// assert_eq!(&buf[..n], b"\x82\xa4type\x01\xa3nsp\xa1/");
    /// ```
    pub fn disconnect(&self, buf: &mut [u8], namespace: &str) -> Result<usize, Error> {
        let mut out = ser::SliceOut { buf, len: 0 };
        write_packet::<ser::SliceOut<'_>>(&mut out, PacketType::Disconnect, namespace, None)
    }

    /// CONNECT_ERROR with `{"message":..,"data":undefined}`, as the Node
    /// server writes a middleware error without data.
    ///
    /// ```
    /// let mut buf = [0u8; 64];
    /// let n = oxio_codec::msgpack::Encoder::default().connect_error(&mut buf, "/", "no").unwrap();
    /// assert_eq!(&buf[..n], b"\x83\xa4type\x04\xa4data\x82\xa7message\xa2no\xa4data\xd4\0\0\xa3nsp\xa1/");
    /// ```
    pub fn connect_error(
        &self,
        buf: &mut [u8],
        namespace: &str,
        message: &str,
    ) -> Result<usize, Error> {
        self.connect_error_with_data(buf, namespace, message, &Undefined)
    }

    /// CONNECT_ERROR `{type:4, nsp, data:{message}}`: how the Node server
    /// refuses a namespace that does not exist (`nsp` before `data`, and
    /// no `data` member inside).
    ///
    /// ```
    /// let mut buf = [0u8; 64];
    /// let n = oxio_codec::msgpack::Encoder::default().connect_refused(&mut buf, "/x", "no").unwrap();
    /// assert_eq!(&buf[..n], b"\x83\xa4type\x04\xa3nsp\xa2/x\xa4data\x81\xa7message\xa2no");
    /// ```
    pub fn connect_refused(
        &self,
        buf: &mut [u8],
        namespace: &str,
        message: &str,
    ) -> Result<usize, Error> {
        check_nsp(namespace)?;
        let mut out = ser::SliceOut { buf, len: 0 };
        ser::map_header(&mut out, 3).map_err(map_ser)?;
        put_type(&mut out, PacketType::ConnectError)?;
        put_nsp(&mut out, namespace)?;
        put_key(&mut out, "data")?;
        ser::map_header(&mut out, 1).map_err(map_ser)?;
        put_key(&mut out, "message")?;
        ser::write_str(&mut out, message).map_err(map_ser)?;
        Ok(out.len)
    }

    /// CONNECT_ERROR with `{"message":..,"data":..}`.
    ///
    /// ```
    /// let mut buf = [0u8; 64];
    /// let n = oxio_codec::msgpack::Encoder::default()
    ///     .connect_error_with_data(&mut buf, "/", "no", &7)
    ///     .unwrap();
    /// assert_eq!(&buf[..n], b"\x83\xa4type\x04\xa4data\x82\xa7message\xa2no\xa4data\x07\xa3nsp\xa1/");
    /// ```
    pub fn connect_error_with_data<T: Serialize + ?Sized>(
        &self,
        buf: &mut [u8],
        namespace: &str,
        message: &str,
        data: &T,
    ) -> Result<usize, Error> {
        #[derive(Serialize)]
        struct Body<'m, T: ?Sized> {
            message: &'m str,
            data: &'m T,
        }
        self.connect_with_type(
            buf,
            namespace,
            PacketType::ConnectError,
            &Body { message, data },
        )
    }

    fn connect_with_type<T: Serialize + ?Sized>(
        &self,
        buf: &mut [u8],
        namespace: &str,
        ty: PacketType,
        data: &T,
    ) -> Result<usize, Error> {
        let mut out = ser::SliceOut { buf, len: 0 };
        let write = |o: &mut ser::SliceOut<'_>| data.serialize(&mut ser::Serializer { out: o });
        write_packet(&mut out, ty, namespace, Some(&write))
    }

    /// An EVENT: `args` is a tuple of arguments, `()` for none,
    /// [`Args`](crate::socketio::Args) for a run-time list, or one argument.
    /// Bytes stay inline (`attachments` is always 0). A reserved name is
    /// refused, as the Node server's `emit` refuses it.
    ///
    /// ```
    /// let mut buf = [0u8; 48];
    /// let out = oxio_codec::msgpack::Encoder::default().event(&mut buf, "/", Some(1), "m", &()).unwrap();
    /// assert_eq!(&buf[..out.len], b"\x84\xa4type\x02\xa4data\x91\xa1m\xa2id\x01\xa3nsp\xa1/");
    /// ```
    pub fn event<T: Serialize + ?Sized>(
        &self,
        buf: &mut [u8],
        namespace: &str,
        ack_id: Option<u64>,
        event: &str,
        args: &T,
    ) -> Result<Encoded, Error> {
        let mut out = ser::SliceOut { buf, len: 0 };
        write_args(
            &mut out,
            PacketType::Event,
            namespace,
            ack_id,
            Some(event),
            args,
        )
    }

    /// An ACK answering the event with `ack_id`.
    pub fn ack<T: Serialize + ?Sized>(
        &self,
        buf: &mut [u8],
        namespace: &str,
        ack_id: u64,
        args: &T,
    ) -> Result<Encoded, Error> {
        let mut out = ser::SliceOut { buf, len: 0 };
        write_args(
            &mut out,
            PacketType::Ack,
            namespace,
            Some(ack_id),
            None,
            args,
        )
    }

    /// [`Encoder::event`] into a new `Vec<u8>`.
    ///
    /// ```
    /// let v = oxio_codec::msgpack::Encoder::default().event_to_vec("/", None, "m", &(1,)).unwrap();
    /// assert_eq!(v, b"\x83\xa4type\x02\xa4data\x92\xa1m\x01\xa3nsp\xa1/");
    /// ```
    #[cfg(feature = "alloc")]
    pub fn event_to_vec<T: Serialize + ?Sized>(
        &self,
        namespace: &str,
        ack_id: Option<u64>,
        event: &str,
        args: &T,
    ) -> Result<alloc::vec::Vec<u8>, Error> {
        let mut out = alloc::vec::Vec::with_capacity(64);
        write_args(
            &mut out,
            PacketType::Event,
            namespace,
            ack_id,
            Some(event),
            args,
        )?;
        Ok(out)
    }

    /// An EVENT whose arguments are given as raw msgpack values, copied
    /// as they are (each must be one valid msgpack value, such as the
    /// items of [`Packet::raw_args`]): to re-send received arguments, or
    /// to append one (connection state recovery's offset) without a decode
    /// and re-encode. Same key order as [`Encoder::event`].
    ///
    /// ```
    /// let enc = oxio_codec::msgpack::Encoder::default();
    /// let v = enc.event_raw_to_vec("/", None, "m", &[b"\x01", b"\xa1x"]).unwrap();
    /// assert_eq!(v, enc.event_to_vec("/", None, "m", &(1, "x")).unwrap());
    /// ```
    #[cfg(feature = "alloc")]
    pub fn event_raw_to_vec(
        &self,
        namespace: &str,
        ack_id: Option<u64>,
        event: &str,
        args: &[&[u8]],
    ) -> Result<alloc::vec::Vec<u8>, Error> {
        check_nsp(namespace)?;
        if is_reserved_event(event) {
            return Err(Error::ReservedEventName);
        }
        let size = args
            .iter()
            .fold(32 + namespace.len() + event.len(), |n, a| {
                n.saturating_add(a.len())
            });
        let mut out = alloc::vec::Vec::with_capacity(size);
        ser::map_header(&mut out, 3 + usize::from(ack_id.is_some())).map_err(map_ser)?;
        put_type(&mut out, PacketType::Event)?;
        put_key(&mut out, "data")?;
        ser::array_header(&mut out, args.len().saturating_add(1)).map_err(map_ser)?;
        ser::write_str(&mut out, event).map_err(map_ser)?;
        for arg in args {
            out.extend_from_slice(arg);
        }
        if let Some(id) = ack_id {
            put_id(&mut out, id)?;
        }
        put_nsp(&mut out, namespace)?;
        Ok(out)
    }

    /// [`Encoder::ack`] into a new `Vec<u8>`.
    ///
    /// ```
    /// let v = oxio_codec::msgpack::Encoder::default().ack_to_vec("/", 2, &()).unwrap();
    /// assert_eq!(v, b"\x84\xa2id\x02\xa4type\x03\xa4data\x90\xa3nsp\xa1/");
    /// ```
    #[cfg(feature = "alloc")]
    pub fn ack_to_vec<T: Serialize + ?Sized>(
        &self,
        namespace: &str,
        ack_id: u64,
        args: &T,
    ) -> Result<alloc::vec::Vec<u8>, Error> {
        let mut out = alloc::vec::Vec::with_capacity(64);
        write_args(
            &mut out,
            PacketType::Ack,
            namespace,
            Some(ack_id),
            None,
            args,
        )?;
        Ok(out)
    }
}
