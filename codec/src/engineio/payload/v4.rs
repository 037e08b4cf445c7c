//! The Engine.IO v4 polling payload: text-form packets joined by the record
//! separator `0x1E`, with nothing after the last one (docs/protocol.md §1.3).
//!
//! `4hello\x1ebAQIDBA==` is a text message followed by a binary message.
//! Splitting is a `memchr` per packet; text packets are not copied or
//! scanned further, and only `b` entries have their base64 validated.

use crate::engineio::out::{put, Out};
use crate::engineio::{Error, Packet, Version};
use crate::Limits;

/// The record separator between packets.
pub const SEPARATOR: u8 = 0x1E;

/// Decodes a v4 polling body into its packets.
///
/// The iterator yields each packet in order and stops after the first
/// error (it is fused). A body over `limits.max_packet_len` yields only
/// [`Error::PayloadTooLarge`]; an empty body, or an empty entry (as in
/// `4a\x1e\x1e4b` or a trailing separator), gives [`Error::Empty`].
///
/// ```
/// use oxio_codec::engineio::{payload::v4, Packet};
/// use oxio_codec::Limits;
///
/// let mut it = v4::decode("4hello\x1ebAQIDBA==", &Limits::default());
/// assert_eq!(it.next(), Some(Ok(Packet::message_text("hello"))));
/// assert_eq!(it.next(), Some(Ok(Packet::message_binary(&[1, 2, 3, 4]))));
/// assert_eq!(it.next(), None);
/// ```
pub fn decode<'a>(body: &'a str, limits: &Limits) -> PayloadIter<'a> {
    PayloadIter {
        rest: Some(body),
        error: super::check_body_len(body.len(), limits),
    }
}

/// Like [`decode`], for a body not yet known to be UTF-8. The length limit
/// is checked before the UTF-8 validation; invalid UTF-8 yields
/// [`Error::InvalidUtf8`] and nothing else.
///
/// ```
/// use oxio_codec::engineio::{payload::v4, Error, Packet};
/// use oxio_codec::Limits;
///
/// let packets: Vec<_> = v4::decode_bytes(b"2\x1e3probe", &Limits::default()).collect();
/// assert_eq!(packets, [Ok(Packet::ping()), Ok(Packet::pong_probe())]);
/// let mut bad = v4::decode_bytes(b"4\xff", &Limits::default());
/// assert_eq!(bad.next(), Some(Err(Error::InvalidUtf8)));
/// assert_eq!(bad.next(), None);
/// ```
pub fn decode_bytes<'a>(body: &'a [u8], limits: &Limits) -> PayloadIter<'a> {
    if let Some(error) = super::check_body_len(body.len(), limits) {
        return PayloadIter {
            rest: None,
            error: Some(error),
        };
    }
    match core::str::from_utf8(body) {
        Ok(body) => decode(body, limits),
        Err(_) => PayloadIter {
            rest: None,
            error: Some(Error::InvalidUtf8),
        },
    }
}

/// Iterator over the packets of a v4 polling body; see [`decode`].
#[derive(Debug, Clone)]
pub struct PayloadIter<'a> {
    /// The undecoded tail; `None` once finished.
    rest: Option<&'a str>,
    /// An up-front error to report before anything else.
    error: Option<Error>,
}

impl<'a> Iterator for PayloadIter<'a> {
    type Item = Result<Packet<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(error) = self.error.take() {
            self.rest = None;
            return Some(Err(error));
        }
        let rest = self.rest?;
        // 0x1E is ASCII, so splitting around it stays on char boundaries.
        let (entry, tail) = match memchr::memchr(SEPARATOR, rest.as_bytes()) {
            Some(i) => (rest.get(..i), rest.get(i.saturating_add(1)..)),
            None => (Some(rest), None),
        };
        self.rest = tail;
        let result = entry
            .ok_or(Error::InvalidUtf8)
            .and_then(|entry| Packet::decode_text(entry, Version::V4));
        if result.is_err() {
            self.rest = None;
        }
        Some(result)
    }
}

impl core::iter::FusedIterator for PayloadIter<'_> {}

/// Appends packets to a v4 polling body, separators included.
///
/// Each [`push`](Self::push) writes a whole packet or nothing. A body must
/// hold at least one packet to be valid.
///
/// ```
/// use oxio_codec::engineio::{payload::v4, Packet};
///
/// let mut buf = [0u8; 32];
/// let mut w = v4::PayloadWriter::new(&mut buf);
/// w.push(&Packet::message_text("hello")).unwrap();
/// w.push(&Packet::message_binary(&[1, 2, 3, 4])).unwrap();
/// assert_eq!(w.as_bytes(), b"4hello\x1ebAQIDBA==");
/// ```
pub struct PayloadWriter<'b> {
    out: Out<'b>,
    count: usize,
}

impl<'b> PayloadWriter<'b> {
    /// A writer filling `buf` from its start.
    pub fn new(buf: &'b mut [u8]) -> Self {
        PayloadWriter {
            out: Out::slice(buf),
            count: 0,
        }
    }

    /// A writer appending to `vec` (growing it as needed).
    ///
    /// ```
    /// use oxio_codec::engineio::{payload::v4, Packet};
    ///
    /// let mut body = Vec::new();
    /// let mut w = v4::PayloadWriter::new_vec(&mut body);
    /// w.push(&Packet::noop()).unwrap();
    /// w.push(&Packet::close()).unwrap();
    /// assert_eq!(body, b"6\x1e1");
    /// ```
    #[cfg(feature = "alloc")]
    pub fn new_vec(vec: &'b mut alloc::vec::Vec<u8>) -> Self {
        PayloadWriter {
            out: Out::vec(vec),
            count: 0,
        }
    }

    /// How many bytes [`push`](Self::push) would add for `packet`
    /// (separator included), to keep a body under a peer's `maxPayload`.
    ///
    /// ```
    /// use oxio_codec::engineio::{payload::v4, Packet};
    ///
    /// let mut buf = [0u8; 16];
    /// let mut w = v4::PayloadWriter::new(&mut buf);
    /// assert_eq!(w.push_len(&Packet::ping()), 1);
    /// w.push(&Packet::ping()).unwrap();
    /// assert_eq!(w.push_len(&Packet::ping()), 2);
    /// ```
    pub fn push_len(&self, packet: &Packet<'_>) -> usize {
        packet
            .encoded_text_len(Version::V4)
            .saturating_add(usize::from(self.count > 0))
    }

    /// Appends `packet`, preceded by a separator unless it is the first.
    ///
    /// Errors: [`Error::BufferFull`]; [`Error::BinaryNotMessage`];
    /// [`Error::SeparatorInText`] when text data contains `0x1E`, which
    /// would split the packet in two on the other side. On error nothing
    /// is written.
    ///
    /// ```
    /// use oxio_codec::engineio::{payload::v4, Error, Packet};
    ///
    /// let mut buf = [0u8; 8];
    /// let mut w = v4::PayloadWriter::new(&mut buf);
    /// assert_eq!(w.push(&Packet::message_text("a\x1eb")), Err(Error::SeparatorInText));
    /// assert_eq!(w.push(&Packet::message_text("too long!")), Err(Error::BufferFull));
    /// assert!(w.is_empty());
    /// ```
    pub fn push(&mut self, packet: &Packet<'_>) -> Result<(), Error> {
        if let Some(text) = packet.data.as_text() {
            if memchr::memchr(SEPARATOR, text.as_bytes()).is_some() {
                return Err(Error::SeparatorInText);
            }
        }
        let before = self.out.len();
        let first = self.count == 0;
        let region = self.out.append(self.push_len(packet))?;
        let written = if first {
            packet.encode_text(region, Version::V4)
        } else {
            put(region, &[SEPARATOR]).and_then(|rest| packet.encode_text(rest, Version::V4))
        };
        match written {
            Ok(_) => {
                self.count = self.count.saturating_add(1);
                Ok(())
            }
            Err(e) => {
                self.out.truncate(before);
                Err(e)
            }
        }
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.out.len()
    }

    /// Whether nothing was written yet.
    pub fn is_empty(&self) -> bool {
        self.out.len() == 0
    }

    /// Packets written so far.
    pub fn packet_count(&self) -> usize {
        self.count
    }

    /// The body written so far.
    pub fn as_bytes(&self) -> &[u8] {
        self.out.written()
    }
}

/// Encodes `packets` as one v4 polling body.
///
/// ```
/// use oxio_codec::engineio::{payload::v4, Packet};
///
/// let body = v4::encode_to_vec(&[
///     Packet::message_text("test1"),
///     Packet::message_text("test2"),
///     Packet::message_text("test3"),
/// ]).unwrap();
/// assert_eq!(body, b"4test1\x1e4test2\x1e4test3");
/// ```
#[cfg(feature = "alloc")]
pub fn encode_to_vec(packets: &[Packet<'_>]) -> Result<alloc::vec::Vec<u8>, Error> {
    let mut body = alloc::vec::Vec::new();
    let mut w = PayloadWriter::new_vec(&mut body);
    for p in packets {
        w.push(p)?;
    }
    Ok(body)
}
