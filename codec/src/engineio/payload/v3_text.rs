//! The Engine.IO v3 text polling payload: `<len>:<packet>` repeated with no
//! separator (docs/protocol.md §2, items 2 and 3).
//!
//! `len` is the packet's length in **UTF-16 code units**, JavaScript's
//! `string.length`: `€` counts 1, `😀` counts 2. Binary packets appear in
//! their v3 text form `b<type digit><base64>` and are counted whole:
//! `10:b4AQIDBA==`.
//!
//! Differences from Node, on purpose: the length must be plain ASCII
//! digits; a zero length (`0:`), which Node silently skips, is refused as
//! [`Error::Empty`]; a length ending inside a surrogate pair, which Node
//! would turn into a broken string, is [`Error::LengthSplitsCharacter`].

use crate::engineio::out::{put, Out};
use crate::engineio::{Data, Error, Packet, Version};
use crate::Limits;

/// Decodes a v3 text polling body into its packets.
///
/// The iterator yields each packet in order and stops after the first
/// error (it is fused). Errors: a body over `limits.max_packet_len`
/// ([`Error::PayloadTooLarge`], up front), an empty body ([`Error::Empty`]),
/// an empty, non-digit or overflowing length ([`Error::InvalidLength`]), a
/// length without `:` ([`Error::UnterminatedLength`]), a length past the
/// end ([`Error::LengthOverrun`]) or inside a character
/// ([`Error::LengthSplitsCharacter`]), and any invalid packet.
///
/// ```
/// use oxio_codec::engineio::{payload::v3_text, Packet};
/// use oxio_codec::Limits;
///
/// let packets: Vec<_> = v3_text::decode("1:61:1", &Limits::default()).collect();
/// assert_eq!(packets, [Ok(Packet::noop()), Ok(Packet::close())]);
///
/// let mut it = v3_text::decode("19:42[\"message\",\"€😀\"]", &Limits::default());
/// assert_eq!(it.next(), Some(Ok(Packet::message_text("2[\"message\",\"€😀\"]"))));
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
/// use oxio_codec::engineio::{payload::v3_text, Error, Packet};
/// use oxio_codec::Limits;
///
/// let mut it = v3_text::decode_bytes(b"6:2probe", &Limits::default());
/// assert_eq!(it.next(), Some(Ok(Packet::ping_probe())));
/// assert_eq!(v3_text::decode_bytes(b"2:4\xff", &Limits::default()).next(), Some(Err(Error::InvalidUtf8)));
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

/// Iterator over the packets of a v3 text polling body; see [`decode`].
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
        let rest = self.rest.take()?;
        if rest.is_empty() {
            return None;
        }
        let result = split_entry(rest).and_then(|(entry, tail)| {
            let packet = Packet::decode_text(entry, Version::V3)?;
            self.rest = Some(tail);
            Ok(packet)
        });
        Some(result)
    }
}

impl core::iter::FusedIterator for PayloadIter<'_> {}

/// Splits `<len>:<packet>` off the front of `rest`.
fn split_entry(rest: &str) -> Result<(&str, &str), Error> {
    let mut units: usize = 0;
    let mut colon = None;
    for (i, &b) in rest.as_bytes().iter().enumerate() {
        match b {
            b'0'..=b'9' => {
                units = units
                    .checked_mul(10)
                    .and_then(|u| u.checked_add(usize::from(b - b'0')))
                    .ok_or(Error::InvalidLength)?;
            }
            b':' => {
                colon = Some(i);
                break;
            }
            _ => return Err(Error::InvalidLength),
        }
    }
    let colon = colon.ok_or(Error::UnterminatedLength)?;
    if colon == 0 {
        return Err(Error::InvalidLength);
    }
    // Everything up to the colon is ASCII: the slice is on a boundary.
    let data = rest
        .get(colon.saturating_add(1)..)
        .ok_or(Error::InvalidLength)?;
    let end = utf16_prefix_end(data, units)?;
    match (data.get(..end), data.get(end..)) {
        (Some(entry), Some(tail)) => Ok((entry, tail)),
        _ => Err(Error::LengthSplitsCharacter),
    }
}

/// Byte length of the prefix of `s` that is `units` UTF-16 code units long.
fn utf16_prefix_end(s: &str, units: usize) -> Result<usize, Error> {
    // A character never takes more UTF-16 units than UTF-8 bytes, so a
    // string shorter in bytes cannot hold `units` units.
    let Some(head) = s.as_bytes().get(..units) else {
        return Err(Error::LengthOverrun);
    };
    if head.is_ascii() {
        return Ok(units);
    }
    let bytes = s.as_bytes();
    let mut count: usize = 0;
    let mut start: usize = 0;
    // Skip whole blocks that end at or before the target (a branch-free
    // count per block); a block's units are those of the characters whose
    // first byte it holds, so no stopping point is skipped.
    for block in bytes.chunks(64) {
        let total = count.saturating_add(usize::from(block_units(block)));
        if total > units {
            break;
        }
        count = total;
        start = start.saturating_add(block.len());
    }
    let tail = bytes.get(start..).unwrap_or(&[]);
    for (i, &b) in tail.iter().enumerate() {
        if starts_char(b) {
            if count == units {
                return Ok(start.saturating_add(i));
            }
            count = count.saturating_add(utf16_units(&[b]));
            if count > units {
                return Err(Error::LengthSplitsCharacter);
            }
        }
    }
    if count == units {
        Ok(s.len())
    } else {
        Err(Error::LengthOverrun)
    }
}

/// [`utf16_units`] of at most 64 bytes, in `u8` lanes so it vectorizes
/// (the result is at most 64).
fn block_units(block: &[u8]) -> u8 {
    block.iter().fold(0u8, |n, &b| {
        n.wrapping_add(u8::from(starts_char(b)) + u8::from(b >= 0xF0))
    })
}

/// Length of `s` in UTF-16 code units (JavaScript's `string.length`).
///
/// ```
/// use oxio_codec::engineio::payload::v3_text::utf16_len;
///
/// assert_eq!(utf16_len("a€😀"), 4);
/// ```
pub fn utf16_len(s: &str) -> usize {
    utf16_units(s.as_bytes())
}

/// Whether `b` is the first byte of a UTF-8 character.
const fn starts_char(b: u8) -> bool {
    b & 0xC0 != 0x80
}

/// UTF-16 units of the characters whose first byte is in `bytes`: one per
/// character, plus one more for each 4-byte character (first byte
/// `>= 0xF0`), which becomes a surrogate pair.
fn utf16_units(bytes: &[u8]) -> usize {
    // The sum never exceeds `bytes.len()` (a 4-byte character counts 2), so
    // wrapping addition cannot wrap; it lets the loop vectorize.
    bytes.iter().fold(0usize, |n, &b| {
        n.wrapping_add(usize::from(starts_char(b)) + usize::from(b >= 0xF0))
    })
}

/// The UTF-16 length of a packet's v3 text form.
fn packet_units(packet: &Packet<'_>) -> usize {
    match packet.data {
        Data::Text(t) => utf16_len(t).saturating_add(1),
        // `b<digit><base64>` is ASCII: bytes and units agree.
        Data::Binary(_) | Data::Base64(_) => packet.encoded_text_len(Version::V3),
    }
}

/// Appends packets to a v3 text polling body.
///
/// Each [`push`](Self::push) writes a whole `<len>:<packet>` entry or
/// nothing.
///
/// ```
/// use oxio_codec::engineio::{payload::v3_text, Packet};
///
/// let mut buf = [0u8; 32];
/// let mut w = v3_text::PayloadWriter::new(&mut buf);
/// w.push(&Packet::message_text("hello")).unwrap();
/// w.push(&Packet::message_binary(&[1, 2, 3, 4])).unwrap();
/// assert_eq!(w.as_bytes(), b"6:4hello10:b4AQIDBA==");
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
    /// use oxio_codec::engineio::{payload::v3_text, Packet};
    ///
    /// let mut body = Vec::new();
    /// v3_text::PayloadWriter::new_vec(&mut body).push(&Packet::noop()).unwrap();
    /// assert_eq!(body, b"1:6");
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
    /// use oxio_codec::engineio::{payload::v3_text, Packet};
    ///
    /// let w = v3_text::PayloadWriter::new(&mut []);
    /// assert_eq!(w.push_len(&Packet::message_text("€")), "2:4€".len());
    /// ```
    pub fn push_len(&self, packet: &Packet<'_>) -> usize {
        let units = packet_units(packet);
        itoa::Buffer::new()
            .format(units)
            .len()
            .saturating_add(1)
            .saturating_add(packet.encoded_text_len(Version::V3))
    }

    /// Appends `<len>:<packet>`. Errors: [`Error::BufferFull`]; on error
    /// nothing is written.
    ///
    /// ```
    /// use oxio_codec::engineio::{payload::v3_text, Error, Packet};
    ///
    /// let mut buf = [0u8; 4];
    /// let mut w = v3_text::PayloadWriter::new(&mut buf);
    /// w.push(&Packet::noop()).unwrap();
    /// assert_eq!(w.push(&Packet::close()), Err(Error::BufferFull));
    /// assert_eq!(w.as_bytes(), b"1:6");
    /// ```
    pub fn push(&mut self, packet: &Packet<'_>) -> Result<(), Error> {
        let mut digits = itoa::Buffer::new();
        let digits = digits.format(packet_units(packet));
        let before = self.out.len();
        let region = self.out.append(self.push_len(packet))?;
        let written = put(region, digits.as_bytes())
            .and_then(|rest| put(rest, b":"))
            .and_then(|rest| packet.encode_text(rest, Version::V3));
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

/// Encodes `packets` as one v3 text polling body.
///
/// ```
/// use oxio_codec::engineio::{payload::v3_text, Packet};
///
/// let body = v3_text::encode_to_vec(&[Packet::noop(), Packet::close()]).unwrap();
/// assert_eq!(body, b"1:61:1");
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

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use proptest::prelude::*;

    /// The obvious character-by-character answer.
    fn reference(s: &str, units: usize) -> Result<usize, Error> {
        let mut count = 0;
        for (i, c) in s.char_indices() {
            if count == units {
                return Ok(i);
            }
            count += c.len_utf16();
            if count > units {
                return Err(Error::LengthSplitsCharacter);
            }
        }
        if count == units {
            Ok(s.len())
        } else {
            Err(Error::LengthOverrun)
        }
    }

    #[test]
    fn prefix_end_table() {
        let cases: &[(&str, usize, Result<usize, Error>)] = &[
            ("", 0, Ok(0)),
            ("", 1, Err(Error::LengthOverrun)),
            ("abc", 2, Ok(2)),
            ("a€b", 2, Ok(4)),
            ("a😀b", 2, Err(Error::LengthSplitsCharacter)),
            ("a😀b", 3, Ok(5)),
            ("a😀b", 4, Ok(6)),
            ("a😀b", 5, Err(Error::LengthOverrun)),
        ];
        for &(s, units, want) in cases {
            assert_eq!(utf16_prefix_end(s, units), want, "{s:?} {units}");
        }
    }

    proptest! {
        /// The block-skipping search agrees with the obvious one, across
        /// block boundaries.
        #[test]
        fn prefix_end_matches_reference(s in "[a€é😀]{0,200}", units in 0usize..420) {
            prop_assert_eq!(utf16_prefix_end(&s, units), reference(&s, units));
        }
    }
}
