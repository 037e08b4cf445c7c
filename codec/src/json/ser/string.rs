//! JSON string literals escaped exactly like `JSON.stringify`.
//!
//! `JSON.stringify` escapes `"` and `\`, writes `\b \f \n \r \t` for those
//! five controls, `\u00XX` (lowercase hex) for every other byte below 0x20,
//! and leaves everything else raw: DEL, U+2028/U+2029 and all non-ASCII.
//! (It also escapes lone surrogates, which a Rust `&str` cannot hold.)

use super::write::Write;
use crate::json::JsonError;

const LOW_BITS: u64 = 0x0101_0101_0101_0101;
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// Whether any byte of the 8-byte word is zero.
#[inline(always)]
const fn has_zero_byte(x: u64) -> bool {
    x.wrapping_sub(LOW_BITS) & !x & HIGH_BITS != 0
}

/// Whether any byte of the word is `"`, `\` or below 0x20: exactly the
/// bytes a JSON string must escape, and the bytes a reader must stop at.
#[inline(always)]
const fn word_is_special(x: u64) -> bool {
    // "Has a byte below n" (n ≤ 128): (x - n·LOW) & !x & HIGH.
    let below_space = x.wrapping_sub(LOW_BITS * 0x20) & !x & HIGH_BITS != 0;
    below_space
        || has_zero_byte(x ^ (LOW_BITS * b'"' as u64))
        || has_zero_byte(x ^ (LOW_BITS * b'\\' as u64))
}

/// Whether one byte is `"`, `\` or a control character below 0x20.
#[inline(always)]
pub(crate) const fn is_special(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// Index of the first byte at or after `from` that is `"`, `\` or below
/// 0x20, or `bytes.len()` when there is none. Eight bytes are tested per step.
#[inline]
pub(crate) fn find_special(bytes: &[u8], from: usize) -> usize {
    let mut i = from;
    while let Some(chunk) = bytes.get(i..i.saturating_add(8)) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        if word_is_special(u64::from_le_bytes(word)) {
            break;
        }
        i += 8;
    }
    while let Some(&b) = bytes.get(i) {
        if is_special(b) {
            return i;
        }
        i += 1;
    }
    bytes.len()
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Writes the escaped contents of `s`, without the surrounding quotes. Runs
/// of bytes that need no escaping go out in one `write_all`.
#[inline]
pub(crate) fn write_str_contents<W: Write + ?Sized>(w: &mut W, s: &str) -> Result<(), JsonError> {
    let bytes = s.as_bytes();
    let mut start = 0;
    loop {
        let at = find_special(bytes, start);
        let (run, rest) = match (bytes.get(start..at), bytes.get(at..)) {
            (Some(run), Some(rest)) => (run, rest),
            _ => break,
        };
        if !run.is_empty() {
            w.write_all(run)?;
        }
        let Some(&b) = rest.first() else { break };
        let short = match b {
            b'"' => b'"',
            b'\\' => b'\\',
            0x08 => b'b',
            0x0c => b'f',
            b'\n' => b'n',
            b'\r' => b'r',
            b'\t' => b't',
            _ => 0,
        };
        if short != 0 {
            w.write_all(&[b'\\', short])?;
        } else {
            let hi = HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0');
            let lo = HEX.get(usize::from(b & 0x0f)).copied().unwrap_or(b'0');
            w.write_all(&[b'\\', b'u', b'0', b'0', hi, lo])?;
        }
        start = at + 1;
    }
    Ok(())
}

/// Writes `s` as a JSON string literal, quotes included, byte-identical to
/// `JSON.stringify(s)`.
///
/// ```
/// use oxio_codec::json::ser::{write_str, SliceWriter};
///
/// let mut buf = [0u8; 32];
/// let mut w = SliceWriter::new(&mut buf);
/// write_str(&mut w, "a\"b\n\u{1}é").unwrap();
/// assert_eq!(w.written(), "\"a\\\"b\\n\\u0001é\"".as_bytes());
/// ```
pub fn write_str<W: Write>(w: &mut W, s: &str) -> Result<(), JsonError> {
    write_quoted(w, s)
}

#[inline]
pub(crate) fn write_quoted<W: Write + ?Sized>(w: &mut W, s: &str) -> Result<(), JsonError> {
    w.write_byte(b'"')?;
    write_str_contents(w, s)?;
    w.write_byte(b'"')
}

/// Adapts a [`Write`] to `core::fmt::Write`, escaping as it goes; used by
/// `collect_str`. The first error is kept, since `fmt::Error` carries none.
pub(crate) struct EscapingFmt<'w, W: ?Sized> {
    pub(crate) w: &'w mut W,
    pub(crate) error: Option<JsonError>,
}

impl<W: Write + ?Sized> core::fmt::Write for EscapingFmt<'_, W> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        write_str_contents(self.w, s).map_err(|e| {
            self.error = Some(e);
            core::fmt::Error
        })
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    #[test]
    fn find_special_agrees_with_the_byte_test() {
        for b in 0u8..=255 {
            for pos in 0..20 {
                let mut v = std::vec![b'a'; 20];
                v[pos] = b;
                let expect = if is_special(b) { pos } else { 20 };
                assert_eq!(find_special(&v, 0), expect, "byte {b:#x} at {pos}");
                assert_eq!(find_special(&v, pos.min(3)), expect);
            }
        }
    }
}
