//! The Engine.IO v3 binary ("XHR2") polling payload (docs/protocol.md §2, item 4).
//!
//! Per packet: `<kind><length digits><0xFF><bytes>`, where `kind` is `0x00`
//! for a string packet (bytes: `<type char><UTF-8 text>`) or `0x01` for a
//! binary packet (bytes: `<type byte 0..6><data>`), and the length counts
//! those bytes (type included), written one decimal digit per byte, each
//! `0..=9`. `4hello` then binary `01 02 03 04` is
//! `00 06 FF 34 68 65 6C 6C 6F 01 05 FF 04 01 02 03 04`.
//!
//! Stricter than Node, on purpose: `kind` must be `0x00` or `0x01`, the
//! length has at most [`MAX_LENGTH_DIGITS`] digits (Node allows 310) and
//! at most `max_packet_len`, and string packets must be valid UTF-8.

use crate::engineio::out::{put, Out};
use crate::engineio::{Error, Packet, Version};
use crate::Limits;

/// Entry kind byte of a string packet.
pub const KIND_STRING: u8 = 0x00;
/// Entry kind byte of a binary packet.
pub const KIND_BINARY: u8 = 0x01;
/// The byte ending the length digits.
pub const LENGTH_END: u8 = 0xFF;
/// Most length digits accepted (leading zeros included).
pub const MAX_LENGTH_DIGITS: usize = 20;

/// Decodes a v3 binary polling body into its packets.
///
/// The iterator yields each packet in order and stops after the first
/// error (it is fused). Errors: a body over `limits.max_packet_len`
/// ([`Error::PayloadTooLarge`], up front), an empty body ([`Error::Empty`]),
/// a kind byte other than 0 or 1 ([`Error::InvalidPayloadKind`]), a length
/// that is empty, has a digit byte above 9, too many digits or exceeds
/// `max_packet_len` ([`Error::InvalidLength`]), no `0xFF`
/// ([`Error::UnterminatedLength`]), a length past the end
/// ([`Error::LengthOverrun`]), a string packet that is not UTF-8
/// ([`Error::InvalidUtf8`]), and any invalid packet.
///
/// ```
/// use oxio_codec::engineio::{payload::v3_binary, Packet};
/// use oxio_codec::Limits;
///
/// let body = [0x00, 0x06, 0xFF, b'4', b'h', b'e', b'l', b'l', b'o', 0x01, 0x05, 0xFF, 4, 1, 2, 3, 4];
/// let mut it = v3_binary::decode(&body, &Limits::default());
/// assert_eq!(it.next(), Some(Ok(Packet::message_text("hello"))));
/// assert_eq!(it.next(), Some(Ok(Packet::message_binary(&[1, 2, 3, 4]))));
/// assert_eq!(it.next(), None);
/// ```
pub fn decode<'a>(body: &'a [u8], limits: &Limits) -> PayloadIter<'a> {
    PayloadIter {
        rest: Some(body),
        error: super::check_body_len(body.len(), limits),
        max_packet_len: limits.max_packet_len,
    }
}

/// Iterator over the packets of a v3 binary polling body; see [`decode`].
#[derive(Debug, Clone)]
pub struct PayloadIter<'a> {
    /// The undecoded tail; `None` once finished.
    rest: Option<&'a [u8]>,
    /// An up-front error to report before anything else.
    error: Option<Error>,
    max_packet_len: usize,
}

impl<'a> Iterator for PayloadIter<'a> {
    type Item = Result<Packet<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(error) = self.error.take() {
            self.rest = None;
            return Some(Err(error));
        }
        let rest = self.rest.take()?;
        let (&kind, after_kind) = rest.split_first()?;
        if kind != KIND_STRING && kind != KIND_BINARY {
            return Some(Err(Error::InvalidPayloadKind(kind)));
        }
        let result = split_entry(after_kind, self.max_packet_len).and_then(|(bytes, tail)| {
            let packet = if kind == KIND_STRING {
                let text = core::str::from_utf8(bytes).map_err(|_| Error::InvalidUtf8)?;
                Packet::decode_text(text, Version::V3)?
            } else {
                Packet::decode_binary(bytes, Version::V3)?
            };
            self.rest = Some(tail);
            Ok(packet)
        });
        Some(result)
    }
}

impl core::iter::FusedIterator for PayloadIter<'_> {}

/// Splits `<length digits>0xFF<bytes>` off the front of `rest` (the kind
/// byte already taken).
fn split_entry(rest: &[u8], max_packet_len: usize) -> Result<(&[u8], &[u8]), Error> {
    let mut len: usize = 0;
    let mut digits: usize = 0;
    let mut data_start = None;
    for (i, &b) in rest.iter().enumerate() {
        match b {
            LENGTH_END => {
                data_start = Some(i.saturating_add(1));
                break;
            }
            0..=9 => {
                digits = digits.saturating_add(1);
                if digits > MAX_LENGTH_DIGITS {
                    return Err(Error::InvalidLength);
                }
                len = len
                    .checked_mul(10)
                    .and_then(|l| l.checked_add(usize::from(b)))
                    .ok_or(Error::InvalidLength)?;
            }
            _ => return Err(Error::InvalidLength),
        }
    }
    let data_start = data_start.ok_or(Error::UnterminatedLength)?;
    if digits == 0 || len > max_packet_len {
        return Err(Error::InvalidLength);
    }
    rest.get(data_start..)
        .and_then(|data| data.split_at_checked(len))
        .ok_or(Error::LengthOverrun)
}

/// Appends packets to a v3 binary polling body.
///
/// Text data becomes a string entry (its v3 text form), binary data a
/// binary entry (its v3 binary frame; base64 data is decoded). Each
/// [`push`](Self::push) writes a whole entry or nothing.
///
/// ```
/// use oxio_codec::engineio::{payload::v3_binary, Packet};
///
/// let mut buf = [0u8; 32];
/// let mut w = v3_binary::PayloadWriter::new(&mut buf);
/// w.push(&Packet::message_text("hello")).unwrap();
/// w.push(&Packet::message_binary(&[1, 2, 3, 4])).unwrap();
/// assert_eq!(
///     w.as_bytes(),
///     [0x00, 0x06, 0xFF, 0x34, 0x68, 0x65, 0x6C, 0x6C, 0x6F, 0x01, 0x05, 0xFF, 0x04, 0x01, 0x02, 0x03, 0x04]
/// );
/// ```
pub struct PayloadWriter<'b> {
    out: Out<'b>,
    count: usize,
}

/// Kind byte and byte length of a packet's entry.
fn entry_shape(packet: &Packet<'_>) -> (u8, usize) {
    if packet.data.is_binary() {
        (KIND_BINARY, packet.binary_frame_len(Version::V3))
    } else {
        (KIND_STRING, packet.encoded_text_len(Version::V3))
    }
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
    /// use oxio_codec::engineio::{payload::v3_binary, Packet};
    ///
    /// let mut body = Vec::new();
    /// v3_binary::PayloadWriter::new_vec(&mut body).push(&Packet::noop()).unwrap();
    /// assert_eq!(body, [0x00, 0x01, 0xFF, b'6']);
    /// ```
    #[cfg(feature = "alloc")]
    pub fn new_vec(vec: &'b mut alloc::vec::Vec<u8>) -> Self {
        PayloadWriter {
            out: Out::vec(vec),
            count: 0,
        }
    }

    /// How many bytes [`push`](Self::push) would add for `packet`.
    ///
    /// ```
    /// use oxio_codec::engineio::{payload::v3_binary, Packet};
    ///
    /// let w = v3_binary::PayloadWriter::new(&mut []);
    /// assert_eq!(w.push_len(&Packet::message_binary(&[0; 10])), 1 + 2 + 1 + 11);
    /// ```
    pub fn push_len(&self, packet: &Packet<'_>) -> usize {
        let (_, len) = entry_shape(packet);
        itoa::Buffer::new()
            .format(len)
            .len()
            .saturating_add(2)
            .saturating_add(len)
    }

    /// Appends one entry. Errors: [`Error::BufferFull`]; on error nothing
    /// is written.
    ///
    /// ```
    /// use oxio_codec::engineio::{payload::v3_binary, Error, Packet};
    ///
    /// let mut buf = [0u8; 4];
    /// let mut w = v3_binary::PayloadWriter::new(&mut buf);
    /// assert_eq!(w.push(&Packet::message_text("hello")), Err(Error::BufferFull));
    /// assert!(w.is_empty());
    /// ```
    pub fn push(&mut self, packet: &Packet<'_>) -> Result<(), Error> {
        let (kind, len) = entry_shape(packet);
        let mut digits = [0u8; MAX_LENGTH_DIGITS];
        let mut decimal = itoa::Buffer::new();
        let decimal = decimal.format(len).as_bytes();
        let digits = digits.get_mut(..decimal.len()).ok_or(Error::BufferFull)?;
        for (d, c) in digits.iter_mut().zip(decimal) {
            *d = c.saturating_sub(b'0');
        }
        let before = self.out.len();
        let region = self.out.append(self.push_len(packet))?;
        let written = put(region, &[kind])
            .and_then(|rest| put(rest, digits))
            .and_then(|rest| put(rest, &[LENGTH_END]))
            .and_then(|rest| {
                if kind == KIND_BINARY {
                    packet.encode_binary_frame(rest, Version::V3)
                } else {
                    packet.encode_text(rest, Version::V3)
                }
            });
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

/// Encodes `packets` as one v3 binary polling body.
///
/// ```
/// use oxio_codec::engineio::{payload::v3_binary, Packet};
///
/// let body = v3_binary::encode_to_vec(&[Packet::message_binary(&[9])]).unwrap();
/// assert_eq!(body, [0x01, 0x02, 0xFF, 0x04, 0x09]);
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
