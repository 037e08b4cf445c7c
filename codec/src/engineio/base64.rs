//! Base64 for binary packets in text form (`b<base64>`), wrapping the
//! `base64` crate's standard engine.
//!
//! Decoding is strict: standard alphabet, padding required, and the unused
//! low bits of the last character must be zero. That makes the encoding
//! canonical: two valid strings are equal exactly when their bytes are, and
//! re-encoding decoded bytes gives back the same string. (Node decodes
//! leniently; docs/protocol.md §1.2 allows a strict decoder, and every client
//! encodes canonically.)

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use super::Error;

/// A validated, still-encoded base64 string borrowed from a `b...` packet.
///
/// Decoding needs somewhere to put the bytes, so the decoder only validates
/// and the caller chooses the buffer: [`decode_into`](Self::decode_into) a
/// slice of [`decoded_len`](Self::decoded_len) bytes, or (with `alloc`)
/// `to_vec`. Validation guarantees decoding cannot fail for
/// any reason but a short buffer.
///
/// ```
/// use oxio_codec::engineio::Base64;
///
/// let b64 = Base64::new("AQIDBA==").unwrap();
/// assert_eq!(b64.decoded_len(), 4);
/// let mut buf = [0u8; 4];
/// assert_eq!(b64.decode_into(&mut buf).unwrap(), &[1, 2, 3, 4]);
/// assert!(Base64::new("AQIDBA=").is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Base64<'a> {
    text: &'a str,
}

impl<'a> Base64<'a> {
    /// Validates `text` as canonical padded standard base64.
    ///
    /// ```
    /// use oxio_codec::engineio::{Base64, Error};
    ///
    /// assert!(Base64::new("").is_ok());
    /// assert_eq!(Base64::new("AQ-D").unwrap_err(), Error::InvalidBase64);
    /// // Non-zero unused bits ("AR==" would decode to the same byte as "AQ==").
    /// assert_eq!(Base64::new("AR==").unwrap_err(), Error::InvalidBase64);
    /// ```
    pub fn new(text: &'a str) -> Result<Self, Error> {
        validate(text.as_bytes())?;
        Ok(Base64 { text })
    }

    /// The encoded text, exactly as it appeared in the packet.
    ///
    /// ```
    /// use oxio_codec::engineio::Base64;
    ///
    /// assert_eq!(Base64::new("AQID").unwrap().as_str(), "AQID");
    /// ```
    pub const fn as_str(&self) -> &'a str {
        self.text
    }

    /// Number of bytes the text decodes to.
    ///
    /// ```
    /// use oxio_codec::engineio::Base64;
    ///
    /// assert_eq!(Base64::new("AQ==").unwrap().decoded_len(), 1);
    /// assert_eq!(Base64::new("AQI=").unwrap().decoded_len(), 2);
    /// assert_eq!(Base64::new("AQID").unwrap().decoded_len(), 3);
    /// ```
    pub fn decoded_len(&self) -> usize {
        let bytes = self.text.as_bytes();
        let pad = bytes.iter().rev().take(2).filter(|&&b| b == b'=').count();
        (bytes.len() / 4).saturating_mul(3).saturating_sub(pad)
    }

    /// Decodes into the front of `out` and returns the decoded bytes.
    ///
    /// Errors with [`Error::BufferFull`] if `out` is shorter than
    /// [`decoded_len`](Self::decoded_len).
    ///
    /// ```
    /// use oxio_codec::engineio::{Base64, Error};
    ///
    /// let b64 = Base64::new("aGk=").unwrap();
    /// let mut buf = [0u8; 8];
    /// assert_eq!(b64.decode_into(&mut buf).unwrap(), b"hi");
    /// assert_eq!(b64.decode_into(&mut [0u8; 1]).unwrap_err(), Error::BufferFull);
    /// ```
    pub fn decode_into<'o>(&self, out: &'o mut [u8]) -> Result<&'o [u8], Error> {
        let len = self.decoded_len();
        let out = out.get_mut(..len).ok_or(Error::BufferFull)?;
        let n = STANDARD.decode_slice(self.text, out).map_err(|e| match e {
            base64::DecodeSliceError::OutputSliceTooSmall => Error::BufferFull,
            base64::DecodeSliceError::DecodeError(_) => Error::InvalidBase64,
        })?;
        out.get(..n).ok_or(Error::BufferFull)
    }

    /// Decodes into a new `Vec`.
    ///
    /// ```
    /// use oxio_codec::engineio::Base64;
    ///
    /// assert_eq!(Base64::new("AQIDBA==").unwrap().to_vec(), [1, 2, 3, 4]);
    /// ```
    #[cfg(feature = "alloc")]
    pub fn to_vec(&self) -> alloc::vec::Vec<u8> {
        let mut out = alloc::vec![0u8; self.decoded_len()];
        // Cannot fail: the text is validated and `out` has the exact length.
        let n = self.decode_into(&mut out).map_or(0, <[u8]>::len);
        out.truncate(n);
        out
    }

    /// Whether the text decodes to exactly `bytes`, without a buffer.
    ///
    /// Because valid text is canonical, this encodes `bytes` piecewise and
    /// compares the text.
    pub(crate) fn eq_bytes(&self, bytes: &[u8]) -> bool {
        if self.decoded_len() != bytes.len() {
            return false;
        }
        let mut text = self.text.as_bytes();
        let mut scratch = [0u8; 64];
        for chunk in bytes.chunks(48) {
            let Ok(n) = STANDARD.encode_slice(chunk, &mut scratch) else {
                return false;
            };
            let Some((head, tail)) = text.split_at_checked(n) else {
                return false;
            };
            if Some(head) != scratch.get(..n) {
                return false;
            }
            text = tail;
        }
        text.is_empty()
    }
}

/// Length of the padded base64 encoding of `n` bytes (saturating).
pub(crate) fn encoded_len(n: usize) -> usize {
    base64::encoded_len(n, true).unwrap_or(usize::MAX)
}

/// Encodes `data` into the front of `out`, returning the length written.
pub(crate) fn encode_into(data: &[u8], out: &mut [u8]) -> Result<usize, Error> {
    STANDARD
        .encode_slice(data, out)
        .map_err(|_| Error::BufferFull)
}

/// Appends the padded base64 encoding of `data` to `out`.
#[cfg(feature = "alloc")]
pub(crate) fn encode_to_string(data: &[u8], out: &mut alloc::string::String) {
    STANDARD.encode_string(data, out);
}

/// The 6-bit value of a standard-alphabet character.
const fn sextet(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Whether `c` is in the standard alphabet (without branches).
const fn in_alphabet(c: u8) -> bool {
    (c.wrapping_sub(b'A') < 26)
        | (c.wrapping_sub(b'a') < 26)
        | (c.wrapping_sub(b'0') < 10)
        | (c == b'+')
        | (c == b'/')
}

/// Checks canonical padded standard base64 (what `STANDARD` decodes).
fn validate(bytes: &[u8]) -> Result<(), Error> {
    if !bytes.len().is_multiple_of(4) {
        return Err(Error::InvalidBase64);
    }
    let Some((body, last)) = bytes.split_last_chunk::<4>() else {
        return Ok(());
    };
    // Branch-free per block so it vectorizes; stop at the first bad block.
    let all_valid = body
        .chunks(64)
        .all(|block| block.iter().fold(true, |ok, &c| ok & in_alphabet(c)));
    if !all_valid {
        return Err(Error::InvalidBase64);
    }
    let ok = match *last {
        [a, b, b'=', b'='] => sextet(a).is_some() && matches!(sextet(b), Some(v) if v & 0x0F == 0),
        [a, b, c, b'='] => {
            sextet(a).is_some()
                && sextet(b).is_some()
                && matches!(sextet(c), Some(v) if v & 0x03 == 0)
        }
        [a, b, c, d] => {
            sextet(a).is_some() && sextet(b).is_some() && sextet(c).is_some() && sextet(d).is_some()
        }
    };
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidBase64)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    #[test]
    fn table() {
        let cases: &[(&str, Option<&[u8]>)] = &[
            ("", Some(&[])),
            ("AQIDBA==", Some(&[1, 2, 3, 4])),
            ("AQID", Some(&[1, 2, 3])),
            ("AQI=", Some(&[1, 2])),
            ("/+8=", Some(&[0xff, 0xef])),
            ("AQIDBA=", None),
            ("AQIDBA", None),
            ("AQIDB===", None),
            ("A===", None),
            ("====", None),
            ("AQ=D", None),
            ("AQ==AQ==", None),
            ("AR==", None),
            ("AQJ=", None),
            ("AQ-_", None),
            ("AQ I", None),
            ("ÄQID", None),
        ];
        for &(text, want) in cases {
            let mut buf = [0u8; 16];
            let got = Base64::new(text).and_then(|b| b.decode_into(&mut buf));
            match want {
                Some(bytes) => assert_eq!(got, Ok(bytes), "{text:?}"),
                None => assert_eq!(got, Err(Error::InvalidBase64), "{text:?}"),
            }
        }
    }

    #[test]
    fn exact_buffer_is_enough() {
        let b = Base64::new("AQIDBA==").unwrap();
        let mut buf = [0u8; 4];
        assert_eq!(b.decode_into(&mut buf).unwrap(), &[1, 2, 3, 4]);
        assert_eq!(b.decode_into(&mut [0u8; 3]), Err(Error::BufferFull));
    }

    #[test]
    fn eq_bytes_compares_content() {
        let b = Base64::new("AQIDBA==").unwrap();
        assert!(b.eq_bytes(&[1, 2, 3, 4]));
        assert!(!b.eq_bytes(&[1, 2, 3, 5]));
        assert!(!b.eq_bytes(&[1, 2, 3]));
        assert!(Base64::new("").unwrap().eq_bytes(&[]));
    }

    proptest! {
        #[test]
        fn validation_agrees_with_the_base64_crate(s in "[A-Za-z0-9+/=]{0,12}") {
            let crate_ok = STANDARD.decode_slice(&s, &mut [0u8; 16]).is_ok();
            prop_assert_eq!(Base64::new(&s).is_ok(), crate_ok, "{:?}", s);
        }

        #[test]
        fn long_validation_agrees_with_the_base64_crate(
            quads in "([A-Za-z0-9+/]{4}){0,60}",
            last in "[A-Za-z0-9+/]{2}(==|[A-Za-z0-9+/]=|[A-Za-z0-9+/]{2})|",
            bad in proptest::option::of((any::<proptest::sample::Index>(), "[-_ .=\u{80}]")),
        ) {
            let mut s = quads + &last;
            if let Some((at, c)) = bad {
                if !s.is_empty() {
                    let i = at.index(s.len());
                    s.replace_range(i..=i, &c);
                }
            }
            let crate_ok = STANDARD.decode_slice(&s, &mut [0u8; 256]).is_ok();
            prop_assert_eq!(Base64::new(&s).is_ok(), crate_ok, "{:?}", s);
        }

        #[test]
        fn round_trip(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut text = std::vec![0u8; encoded_len(data.len())];
            let n = encode_into(&data, &mut text).unwrap();
            prop_assert_eq!(n, text.len());
            let text = std::str::from_utf8(&text).unwrap();
            let b = Base64::new(text).unwrap();
            prop_assert_eq!(b.decoded_len(), data.len());
            let mut out = std::vec![0u8; data.len()];
            prop_assert_eq!(b.decode_into(&mut out).unwrap(), &data[..]);
            prop_assert!(b.eq_bytes(&data));
            let mut other: Vec<u8> = data.clone();
            other.push(0);
            prop_assert!(!b.eq_bytes(&other));
        }
    }
}
