//! One Engine.IO packet: its type, its data, and its two wire forms.
//!
//! - The **text form** is a WebSocket text frame or one entry of a polling
//!   payload: `<type digit><text>`, or for binary data `b<base64>` (v4) /
//!   `b<type digit><base64>` (v3).
//! - The **binary frame** is a WebSocket binary frame: the raw bytes (v4,
//!   always a `message`), or `<type byte 0..6><bytes>` (v3).
//!
//! Polling payloads, which hold several packets, are in
//! [`payload`](super::payload).

use super::base64::{self, Base64};
use super::out::put;
use super::{Error, Version};

/// The seven Engine.IO packet types (docs/protocol.md §1.2).
///
/// ```
/// use oxio_codec::engineio::PacketType;
///
/// assert_eq!(PacketType::from_digit(b'4'), Some(PacketType::Message));
/// assert_eq!(PacketType::Ping.as_digit(), b'2');
/// assert_eq!(PacketType::from_raw(6), Some(PacketType::Noop));
/// assert_eq!(PacketType::from_digit(b'7'), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PacketType {
    /// `0`: server to client, carries the handshake JSON.
    Open,
    /// `1`: either side, closes the session.
    Close,
    /// `2`: heartbeat (v4 server to client, v3 client to server); `2probe`
    /// starts an upgrade.
    Ping,
    /// `3`: heartbeat answer; `3probe` answers the upgrade probe.
    Pong,
    /// `4`: application data, text or binary.
    Message,
    /// `5`: client to server, completes an upgrade.
    Upgrade,
    /// `6`: server to client, releases a pending poll during an upgrade or close.
    Noop,
}

impl PacketType {
    /// Every type, in wire order.
    pub const ALL: [PacketType; 7] = [
        PacketType::Open,
        PacketType::Close,
        PacketType::Ping,
        PacketType::Pong,
        PacketType::Message,
        PacketType::Upgrade,
        PacketType::Noop,
    ];

    /// The type for an ASCII digit `b'0'..=b'6'` (text form).
    pub const fn from_digit(digit: u8) -> Option<PacketType> {
        match digit.checked_sub(b'0') {
            Some(raw) => PacketType::from_raw(raw),
            None => None,
        }
    }

    /// The ASCII digit `b'0'..=b'6'` of this type (text form).
    pub const fn as_digit(self) -> u8 {
        b'0' + self.as_raw()
    }

    /// The type for a raw byte value `0..=6` (the first byte of a v3
    /// binary frame).
    pub const fn from_raw(raw: u8) -> Option<PacketType> {
        match raw {
            0 => Some(PacketType::Open),
            1 => Some(PacketType::Close),
            2 => Some(PacketType::Ping),
            3 => Some(PacketType::Pong),
            4 => Some(PacketType::Message),
            5 => Some(PacketType::Upgrade),
            6 => Some(PacketType::Noop),
            _ => None,
        }
    }

    /// The raw byte value `0..=6` of this type.
    pub const fn as_raw(self) -> u8 {
        match self {
            PacketType::Open => 0,
            PacketType::Close => 1,
            PacketType::Ping => 2,
            PacketType::Pong => 3,
            PacketType::Message => 4,
            PacketType::Upgrade => 5,
            PacketType::Noop => 6,
        }
    }
}

/// A packet's data, borrowed from the frame or payload it was decoded from.
///
/// Equality compares content: `Binary` and `Base64` are equal when the
/// base64 decodes to the same bytes. Text never equals binary data.
///
/// ```
/// use oxio_codec::engineio::{Base64, Data};
///
/// let b64 = Data::Base64(Base64::new("AQIDBA==").unwrap());
/// assert_eq!(b64, Data::Binary(&[1, 2, 3, 4]));
/// assert_eq!(b64.len(), 4);
/// assert!(b64.is_binary());
/// assert_eq!(Data::Text("hi").as_text(), Some("hi"));
/// ```
#[derive(Debug, Clone, Copy)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Data<'a> {
    /// UTF-8 text (possibly empty: `2` is a ping with `Text("")`).
    Text(&'a str),
    /// Raw bytes, from a WebSocket binary frame, a v3 binary payload, or a
    /// caller building a packet.
    Binary(&'a [u8]),
    /// Bytes still base64-encoded, from a `b...` text-form packet. Decode
    /// with [`Base64::decode_into`] into a buffer of your choice.
    Base64(Base64<'a>),
}

impl<'a> Data<'a> {
    /// Whether the data is binary (raw or base64) rather than text.
    pub const fn is_binary(&self) -> bool {
        !matches!(self, Data::Text(_))
    }

    /// The text, if the data is text.
    pub const fn as_text(&self) -> Option<&'a str> {
        match self {
            Data::Text(t) => Some(t),
            _ => None,
        }
    }

    /// Length of the data in bytes (UTF-8 bytes for text, decoded bytes
    /// for base64).
    pub fn len(&self) -> usize {
        match self {
            Data::Text(t) => t.len(),
            Data::Binary(b) => b.len(),
            Data::Base64(b) => b.decoded_len(),
        }
    }

    /// Whether the data has no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl PartialEq for Data<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Data::Text(a), Data::Text(b)) => a == b,
            (Data::Binary(a), Data::Binary(b)) => a == b,
            (Data::Base64(a), Data::Base64(b)) => a == b,
            (Data::Binary(a), Data::Base64(b)) | (Data::Base64(b), Data::Binary(a)) => {
                b.eq_bytes(a)
            }
            _ => false,
        }
    }
}

impl Eq for Data<'_> {}

/// An Engine.IO packet: a type and its data, borrowed from the input.
///
/// ```
/// use oxio_codec::engineio::{Data, Packet, PacketType, Version};
///
/// let p = Packet::decode_text("4hello", Version::V4).unwrap();
/// assert_eq!(p, Packet::message_text("hello"));
/// assert_eq!(p.packet_type, PacketType::Message);
/// assert_eq!(p.data, Data::Text("hello"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Packet<'a> {
    /// What the packet means.
    pub packet_type: PacketType,
    /// What it carries.
    pub data: Data<'a>,
}

impl<'a> Packet<'a> {
    /// A packet of any type with any data. The named constructors below
    /// cover the packets the protocol actually sends.
    ///
    /// ```
    /// use oxio_codec::engineio::{Data, Packet, PacketType};
    ///
    /// assert_eq!(Packet::new(PacketType::Noop, Data::Text("")), Packet::noop());
    /// assert_eq!(Packet::new(PacketType::Ping, Data::Text("probe")), Packet::ping_probe());
    /// assert_eq!(Packet::open("{}").packet_type, PacketType::Open);
    /// ```
    pub const fn new(packet_type: PacketType, data: Data<'a>) -> Self {
        Packet { packet_type, data }
    }

    /// `0<json>`: the open packet carrying handshake JSON (see
    /// [`Handshake`](super::Handshake) to build or read the JSON).
    pub const fn open(json: &'a str) -> Self {
        Packet::new(PacketType::Open, Data::Text(json))
    }

    /// `1`: close.
    pub const fn close() -> Self {
        Packet::new(PacketType::Close, Data::Text(""))
    }

    /// `2`: ping.
    pub const fn ping() -> Self {
        Packet::new(PacketType::Ping, Data::Text(""))
    }

    /// `2probe`: the upgrade probe a client sends on the new WebSocket.
    pub const fn ping_probe() -> Self {
        Packet::new(PacketType::Ping, Data::Text("probe"))
    }

    /// `3`: pong.
    pub const fn pong() -> Self {
        Packet::new(PacketType::Pong, Data::Text(""))
    }

    /// `3probe`: the server's answer to `2probe`.
    pub const fn pong_probe() -> Self {
        Packet::new(PacketType::Pong, Data::Text("probe"))
    }

    /// `4<text>`: a text message.
    pub const fn message_text(text: &'a str) -> Self {
        Packet::new(PacketType::Message, Data::Text(text))
    }

    /// A binary message (`b<base64>` in text form, raw in a binary frame).
    pub const fn message_binary(bytes: &'a [u8]) -> Self {
        Packet::new(PacketType::Message, Data::Binary(bytes))
    }

    /// `5`: upgrade.
    pub const fn upgrade() -> Self {
        Packet::new(PacketType::Upgrade, Data::Text(""))
    }

    /// `6`: noop.
    pub const fn noop() -> Self {
        Packet::new(PacketType::Noop, Data::Text(""))
    }

    /// Whether this is `2probe` or `3probe`.
    ///
    /// ```
    /// use oxio_codec::engineio::Packet;
    ///
    /// assert!(Packet::ping_probe().is_probe());
    /// assert!(!Packet::ping().is_probe());
    /// ```
    pub fn is_probe(&self) -> bool {
        matches!(self.packet_type, PacketType::Ping | PacketType::Pong)
            && self.data == Data::Text("probe")
    }

    /// Decodes the text form: a WebSocket text frame or one polling entry.
    ///
    /// `<digit><text>` gives text data. `b<base64>` (v4, always a message)
    /// and `b<digit><base64>` (v3) give [`Data::Base64`], validated but not
    /// decoded. An empty frame is [`Error::Empty`]; a first byte that is
    /// neither `0`..`6` nor `b` is [`Error::UnknownPacketType`].
    ///
    /// ```
    /// use oxio_codec::engineio::{Data, Packet, PacketType, Version};
    ///
    /// assert_eq!(Packet::decode_text("2probe", Version::V4).unwrap(), Packet::ping_probe());
    /// let v4 = Packet::decode_text("bAQIDBA==", Version::V4).unwrap();
    /// assert_eq!(v4, Packet::message_binary(&[1, 2, 3, 4]));
    /// let v3 = Packet::decode_text("b4AQIDBA==", Version::V3).unwrap();
    /// assert_eq!(v3, Packet::message_binary(&[1, 2, 3, 4]));
    /// assert!(Packet::decode_text("", Version::V4).is_err());
    /// ```
    pub fn decode_text(frame: &'a str, version: Version) -> Result<Self, Error> {
        let Some((&first, _)) = frame.as_bytes().split_first() else {
            return Err(Error::Empty);
        };
        // The first byte is ASCII whenever it is accepted, so slicing after
        // it is on a character boundary.
        let rest = || frame.get(1..).ok_or(Error::InvalidUtf8);
        if first == b'b' {
            let rest = rest()?;
            match version {
                Version::V4 => Ok(Packet::new(
                    PacketType::Message,
                    Data::Base64(Base64::new(rest)?),
                )),
                Version::V3 => {
                    let Some((&digit, _)) = rest.as_bytes().split_first() else {
                        return Err(Error::UnknownPacketType(b'b'));
                    };
                    let packet_type =
                        PacketType::from_digit(digit).ok_or(Error::UnknownPacketType(digit))?;
                    let b64 = rest.get(1..).ok_or(Error::InvalidUtf8)?;
                    Ok(Packet::new(packet_type, Data::Base64(Base64::new(b64)?)))
                }
            }
        } else {
            let packet_type =
                PacketType::from_digit(first).ok_or(Error::UnknownPacketType(first))?;
            Ok(Packet::new(packet_type, Data::Text(rest()?)))
        }
    }

    /// Decodes a WebSocket binary frame.
    ///
    /// v4: always a `message` holding all the bytes (even none). v3: the
    /// first byte is the type as a raw value `0..=6`, the rest is the data;
    /// an empty frame is [`Error::Empty`].
    ///
    /// ```
    /// use oxio_codec::engineio::{Packet, Version};
    ///
    /// let v4 = Packet::decode_binary(&[1, 2, 3, 4], Version::V4).unwrap();
    /// assert_eq!(v4, Packet::message_binary(&[1, 2, 3, 4]));
    /// let v3 = Packet::decode_binary(&[4, 1, 2, 3, 4], Version::V3).unwrap();
    /// assert_eq!(v3, Packet::message_binary(&[1, 2, 3, 4]));
    /// ```
    pub fn decode_binary(frame: &'a [u8], version: Version) -> Result<Self, Error> {
        match version {
            Version::V4 => Ok(Packet::message_binary(frame)),
            Version::V3 => {
                let Some((&raw, data)) = frame.split_first() else {
                    return Err(Error::Empty);
                };
                let packet_type = PacketType::from_raw(raw).ok_or(Error::UnknownPacketType(raw))?;
                Ok(Packet::new(packet_type, Data::Binary(data)))
            }
        }
    }

    /// Checks that the text form exists for this version.
    fn check_text(&self, version: Version) -> Result<(), Error> {
        if self.data.is_binary()
            && version == Version::V4
            && self.packet_type != PacketType::Message
        {
            return Err(Error::BinaryNotMessage);
        }
        Ok(())
    }

    /// The `b` / `b<digit>` prefix of binary data in text form.
    fn binary_prefix(&self, version: Version) -> ([u8; 2], usize) {
        match version {
            Version::V4 => ([b'b', 0], 1),
            Version::V3 => ([b'b', self.packet_type.as_digit()], 2),
        }
    }

    /// Length in bytes of the text form (saturating on absurd sizes).
    ///
    /// ```
    /// use oxio_codec::engineio::{Packet, Version};
    ///
    /// assert_eq!(Packet::message_text("hello").encoded_text_len(Version::V4), 6);
    /// assert_eq!(Packet::message_binary(&[1, 2, 3, 4]).encoded_text_len(Version::V4), 9);
    /// assert_eq!(Packet::message_binary(&[1, 2, 3, 4]).encoded_text_len(Version::V3), 10);
    /// ```
    pub fn encoded_text_len(&self, version: Version) -> usize {
        let (_, prefix) = self.binary_prefix(version);
        match self.data {
            Data::Text(t) => t.len().saturating_add(1),
            Data::Binary(b) => base64::encoded_len(b.len()).saturating_add(prefix),
            Data::Base64(b) => b.as_str().len().saturating_add(prefix),
        }
    }

    /// Writes the text form into the front of `out` and returns its length.
    ///
    /// Errors: [`Error::BufferFull`] if `out` is shorter than
    /// [`encoded_text_len`](Self::encoded_text_len) (nothing useful is
    /// written); [`Error::BinaryNotMessage`] for binary data on a
    /// non-message packet in v4, which has no text form.
    ///
    /// ```
    /// use oxio_codec::engineio::{Packet, Version};
    ///
    /// let mut buf = [0u8; 16];
    /// let n = Packet::message_binary(&[1, 2, 3, 4]).encode_text(&mut buf, Version::V4).unwrap();
    /// assert_eq!(&buf[..n], b"bAQIDBA==");
    /// let n = Packet::pong_probe().encode_text(&mut buf, Version::V4).unwrap();
    /// assert_eq!(&buf[..n], b"3probe");
    /// ```
    pub fn encode_text(&self, out: &mut [u8], version: Version) -> Result<usize, Error> {
        self.check_text(version)?;
        let n = self.encoded_text_len(version);
        let out = out.get_mut(..n).ok_or(Error::BufferFull)?;
        let (prefix, prefix_len) = self.binary_prefix(version);
        let prefix = prefix.get(..prefix_len).unwrap_or(&[]);
        match self.data {
            Data::Text(t) => {
                let rest = put(out, &[self.packet_type.as_digit()])?;
                put(rest, t.as_bytes())?;
            }
            Data::Binary(b) => {
                let rest = put(out, prefix)?;
                base64::encode_into(b, rest)?;
            }
            Data::Base64(b) => {
                let rest = put(out, prefix)?;
                put(rest, b.as_str().as_bytes())?;
            }
        }
        Ok(n)
    }

    /// Length in bytes of the WebSocket binary frame (saturating).
    ///
    /// ```
    /// use oxio_codec::engineio::{Packet, Version};
    ///
    /// assert_eq!(Packet::message_binary(&[1, 2, 3]).binary_frame_len(Version::V4), 3);
    /// assert_eq!(Packet::message_binary(&[1, 2, 3]).binary_frame_len(Version::V3), 4);
    /// ```
    pub fn binary_frame_len(&self, version: Version) -> usize {
        let type_byte = match version {
            Version::V4 => 0,
            Version::V3 => 1,
        };
        self.data.len().saturating_add(type_byte)
    }

    /// Writes the WebSocket binary frame into the front of `out` and returns
    /// its length: the raw bytes (v4) or `<type byte><bytes>` (v3).
    /// Base64 data is decoded on the way.
    ///
    /// Errors: [`Error::NotBinary`] for text data, [`Error::BinaryNotMessage`]
    /// for a non-message packet in v4, [`Error::BufferFull`].
    ///
    /// ```
    /// use oxio_codec::engineio::{Packet, Version};
    ///
    /// let p = Packet::decode_text("b4AQIDBA==", Version::V3).unwrap();
    /// let mut buf = [0u8; 8];
    /// let n = p.encode_binary_frame(&mut buf, Version::V3).unwrap();
    /// assert_eq!(&buf[..n], &[4, 1, 2, 3, 4]);
    /// ```
    pub fn encode_binary_frame(&self, out: &mut [u8], version: Version) -> Result<usize, Error> {
        if !self.data.is_binary() {
            return Err(Error::NotBinary);
        }
        let rest = match version {
            Version::V4 if self.packet_type != PacketType::Message => {
                return Err(Error::BinaryNotMessage)
            }
            Version::V4 => out,
            Version::V3 => {
                if out.len() < self.binary_frame_len(version) {
                    return Err(Error::BufferFull);
                }
                put(out, &[self.packet_type.as_raw()])?
            }
        };
        match self.data {
            Data::Binary(b) => {
                put(rest, b)?;
            }
            Data::Base64(b) => {
                b.decode_into(rest)?;
            }
            Data::Text(_) => return Err(Error::NotBinary),
        }
        Ok(self.binary_frame_len(version))
    }

    /// The text form as a `String`.
    ///
    /// ```
    /// use oxio_codec::engineio::{Packet, Version};
    ///
    /// assert_eq!(Packet::message_binary(&[1, 2, 3, 4]).to_text(Version::V3).unwrap(), "b4AQIDBA==");
    /// assert_eq!(Packet::close().to_text(Version::V4).unwrap(), "1");
    /// ```
    #[cfg(feature = "alloc")]
    pub fn to_text(&self, version: Version) -> Result<alloc::string::String, Error> {
        self.check_text(version)?;
        let mut s = alloc::string::String::with_capacity(self.encoded_text_len(version));
        match self.data {
            Data::Text(t) => {
                s.push(char::from(self.packet_type.as_digit()));
                s.push_str(t);
            }
            Data::Binary(_) | Data::Base64(_) => {
                s.push('b');
                if version == Version::V3 {
                    s.push(char::from(self.packet_type.as_digit()));
                }
                match self.data {
                    Data::Binary(b) => base64::encode_to_string(b, &mut s),
                    Data::Base64(b) => s.push_str(b.as_str()),
                    Data::Text(_) => {}
                }
            }
        }
        Ok(s)
    }

    /// The WebSocket binary frame as a `Vec`.
    ///
    /// ```
    /// use oxio_codec::engineio::{Packet, Version};
    ///
    /// let p = Packet::message_binary(&[1, 2]);
    /// assert_eq!(p.to_binary_frame(Version::V3).unwrap(), [4, 1, 2]);
    /// assert_eq!(p.to_binary_frame(Version::V4).unwrap(), [1, 2]);
    /// ```
    #[cfg(feature = "alloc")]
    pub fn to_binary_frame(&self, version: Version) -> Result<alloc::vec::Vec<u8>, Error> {
        let mut v = alloc::vec![0u8; self.binary_frame_len(version)];
        let n = self.encode_binary_frame(&mut v, version)?;
        v.truncate(n);
        Ok(v)
    }
}
