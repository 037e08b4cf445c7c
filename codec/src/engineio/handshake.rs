//! The handshake JSON carried by the `open` packet (docs/protocol.md §1.4):
//! `{"sid":"...","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`.
//!
//! Encoding writes exactly the reference server's bytes (its key order,
//! compact). Decoding ([`parse`]) accepts any key order and ignores unknown
//! keys, without recursion and without allocation.

mod parse;

use super::out::put;
use super::packet::Data;
use super::{Error, HandshakeError, Packet, PacketType, Upgrades, Version};

/// The session parameters a server announces in its `open` packet.
///
/// Decoding borrows `sid` from the JSON. A `sid` containing a JSON escape is
/// refused with [`HandshakeError::EscapedSid`]: real session ids are
/// URL-safe base64 and never need one.
///
/// ```
/// use oxio_codec::engineio::{Handshake, Upgrades};
///
/// let h = Handshake::new("lv_VI97HAXpY6yYWAAAC");
/// let mut buf = [0u8; 128];
/// let n = h.encode_open_packet(&mut buf).unwrap();
/// assert_eq!(
///     &buf[..n],
///     br#"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#
/// );
/// let back = Handshake::decode_open_packet(core::str::from_utf8(&buf[..n]).unwrap()).unwrap();
/// assert_eq!(back, h);
/// assert_eq!(back.upgrades, Upgrades::WEBSOCKET);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Handshake<'a> {
    /// The session id; a secret (whoever knows it can hijack the session).
    pub sid: &'a str,
    /// Transports the client may upgrade to.
    pub upgrades: Upgrades,
    /// Heartbeat interval in milliseconds.
    pub ping_interval: u64,
    /// How long to wait for the heartbeat answer, in milliseconds.
    pub ping_timeout: u64,
    /// Largest polling payload the server accepts, in bytes. Optional
    /// because v3 servers did not always send it; omitted when `None`.
    pub max_payload: Option<u64>,
}

impl<'a> Handshake<'a> {
    /// A handshake with the reference server's defaults: upgrades
    /// `["websocket"]`, pingInterval 25000, pingTimeout 20000,
    /// maxPayload 1000000.
    ///
    /// ```
    /// use oxio_codec::engineio::Handshake;
    ///
    /// let h = Handshake::new("abc");
    /// assert_eq!((h.ping_interval, h.ping_timeout, h.max_payload), (25_000, 20_000, Some(1_000_000)));
    /// ```
    pub const fn new(sid: &'a str) -> Self {
        Handshake {
            sid,
            upgrades: Upgrades::WEBSOCKET,
            ping_interval: 25_000,
            ping_timeout: 20_000,
            max_payload: Some(1_000_000),
        }
    }

    /// Feeds the JSON text to `w` piece by piece, in the reference key order.
    fn emit<E>(&self, mut w: impl FnMut(&str) -> Result<(), E>) -> Result<(), E> {
        w("{\"sid\":\"")?;
        escape_json_str(self.sid, &mut w)?;
        w("\",\"upgrades\":[")?;
        for (i, t) in self.upgrades.iter().enumerate() {
            if i > 0 {
                w(",")?;
            }
            w("\"")?;
            w(t.as_str())?;
            w("\"")?;
        }
        w("],\"pingInterval\":")?;
        w(itoa::Buffer::new().format(self.ping_interval))?;
        w(",\"pingTimeout\":")?;
        w(itoa::Buffer::new().format(self.ping_timeout))?;
        if let Some(max) = self.max_payload {
            w(",\"maxPayload\":")?;
            w(itoa::Buffer::new().format(max))?;
        }
        w("}")
    }

    /// Length in bytes of the JSON text.
    ///
    /// ```
    /// use oxio_codec::engineio::Handshake;
    ///
    /// let h = Handshake { max_payload: None, ..Handshake::new("s") };
    /// assert_eq!(h.encoded_len(), r#"{"sid":"s","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}"#.len());
    /// ```
    pub fn encoded_len(&self) -> usize {
        let mut n = 0usize;
        let _ = self.emit(|s| {
            n = n.saturating_add(s.len());
            Ok::<(), core::convert::Infallible>(())
        });
        n
    }

    /// Writes the JSON text into the front of `out` and returns its length,
    /// or [`Error::BufferFull`] (before writing anything).
    ///
    /// ```
    /// use oxio_codec::engineio::{Handshake, Upgrades};
    ///
    /// let h = Handshake { upgrades: Upgrades::NONE, ..Handshake::new("a\"b") };
    /// let mut buf = [0u8; 128];
    /// let n = h.encode(&mut buf).unwrap();
    /// assert_eq!(
    ///     &buf[..n],
    ///     br#"{"sid":"a\"b","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#
    /// );
    /// ```
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, Error> {
        let len = self.encoded_len();
        let mut rest = out.get_mut(..len).ok_or(Error::BufferFull)?;
        self.emit(|s| {
            rest = put(core::mem::take(&mut rest), s.as_bytes())?;
            Ok::<(), Error>(())
        })?;
        Ok(len)
    }

    /// Writes the whole open packet `0{...}` (a WebSocket text frame, or
    /// the v4 polling handshake body) and returns its length.
    ///
    /// ```
    /// use oxio_codec::engineio::Handshake;
    ///
    /// let mut buf = [0u8; 128];
    /// let n = Handshake::new("x").encode_open_packet(&mut buf).unwrap();
    /// assert!(buf[..n].starts_with(br#"0{"sid":"x","#));
    /// ```
    pub fn encode_open_packet(&self, out: &mut [u8]) -> Result<usize, Error> {
        let (first, rest) = out.split_first_mut().ok_or(Error::BufferFull)?;
        let n = self.encode(rest)?;
        *first = PacketType::Open.as_digit();
        Ok(n.saturating_add(1))
    }

    /// The JSON text as a `String`.
    ///
    /// ```
    /// use oxio_codec::engineio::Handshake;
    ///
    /// let json = Handshake { max_payload: None, ..Handshake::new("s") }.to_json();
    /// assert_eq!(json, r#"{"sid":"s","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}"#);
    /// ```
    #[cfg(feature = "alloc")]
    pub fn to_json(&self) -> alloc::string::String {
        let mut s = alloc::string::String::with_capacity(self.encoded_len());
        let _ = self.emit(|piece| {
            s.push_str(piece);
            Ok::<(), core::convert::Infallible>(())
        });
        s
    }

    /// Decodes handshake JSON: keys in any order, unknown keys (with any
    /// JSON value) ignored, white space allowed.
    ///
    /// `sid` (a non-empty string without escapes), `upgrades` (an array of
    /// strings; unknown transport names are ignored), `pingInterval` and
    /// `pingTimeout` (non-negative integers fitting `u64`) are required;
    /// `maxPayload` is optional. A known key given twice is refused.
    /// Errors are [`Error::InvalidHandshake`].
    ///
    /// ```
    /// use oxio_codec::engineio::{Handshake, Transport};
    ///
    /// let h = Handshake::decode(
    ///     r#"{ "pingTimeout": 5000, "upgrades": ["websocket", "carrier-pigeon"], "x": {"y": [1]},
    ///          "pingInterval": 25000, "sid": "abc" }"#,
    /// ).unwrap();
    /// assert_eq!(h.sid, "abc");
    /// assert!(h.upgrades.contains(Transport::WebSocket));
    /// assert_eq!(h.upgrades.len(), 1);
    /// assert_eq!(h.ping_timeout, 5000);
    /// assert_eq!(h.max_payload, None);
    /// ```
    pub fn decode(json: &'a str) -> Result<Self, Error> {
        parse::parse(json).map_err(Error::InvalidHandshake)
    }

    /// Decodes the handshake of an already decoded `open` packet;
    /// [`HandshakeError::NotOpenPacket`] for any other packet.
    ///
    /// ```
    /// use oxio_codec::engineio::{Handshake, Packet, Version};
    ///
    /// let json = r#"0{"sid":"s","upgrades":[],"pingInterval":1,"pingTimeout":2}"#;
    /// let packet = Packet::decode_text(json, Version::V4).unwrap();
    /// assert_eq!(Handshake::from_packet(&packet).unwrap().ping_timeout, 2);
    /// assert!(Handshake::from_packet(&Packet::ping()).is_err());
    /// ```
    pub fn from_packet(packet: &Packet<'a>) -> Result<Self, Error> {
        match (packet.packet_type, packet.data) {
            (PacketType::Open, Data::Text(json)) => Self::decode(json),
            _ => Err(Error::InvalidHandshake(HandshakeError::NotOpenPacket)),
        }
    }

    /// Decodes a whole open packet `0{...}` (a WebSocket text frame or a
    /// single-packet v4 polling body).
    ///
    /// ```
    /// use oxio_codec::engineio::Handshake;
    ///
    /// let h = Handshake::decode_open_packet(
    ///     r#"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#,
    /// ).unwrap();
    /// assert_eq!(h, Handshake::new("lv_VI97HAXpY6yYWAAAC"));
    /// ```
    pub fn decode_open_packet(frame: &'a str) -> Result<Self, Error> {
        Self::from_packet(&Packet::decode_text(frame, Version::V4)?)
    }
}

/// Writes `s` as the inside of a JSON string, escaped as `JSON.stringify`
/// does: `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, other controls as
/// `\u00xx` (lowercase hex); everything else verbatim.
fn escape_json_str<E>(s: &str, w: &mut impl FnMut(&str) -> Result<(), E>) -> Result<(), E> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let short = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            0x0C => "\\f",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x00..=0x1F => "",
            _ => continue,
        };
        // `i` is at an ASCII byte, so both slices are on char boundaries.
        w(s.get(start..i).unwrap_or(""))?;
        start = i.saturating_add(1);
        if short.is_empty() {
            let hi = HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0');
            let lo = HEX.get(usize::from(b & 0x0F)).copied().unwrap_or(b'0');
            let esc = [b'\\', b'u', b'0', b'0', hi, lo];
            w(core::str::from_utf8(&esc).unwrap_or(""))?;
        } else {
            w(short)?;
        }
    }
    w(s.get(start..).unwrap_or(""))
}
