//! JSON string literals escaped exactly like `JSON.stringify`.
//!
//! `JSON.stringify` escapes `"` and `\`, writes `\b \f \n \r \t` for those
//! five controls, `\u00XX` (lowercase hex) for every other byte below 0x20,
//! and leaves everything else raw: DEL, U+2028/U+2029 and all non-ASCII.
//! (It also escapes lone surrogates, which a Rust `&str` cannot hold.)

use super::write::Write;
use crate::json::JsonError;

/// Whether any byte of the word is `"`, `\` or below 0x20: exactly the
/// bytes a JSON string must escape, and the bytes a reader must stop at.
#[inline(always)]
const fn word_is_special(x: u64) -> bool {
    crate::json::validate::special_mask(x) != 0
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
    write_framed(w, b"\"", s, b"\"")
}

/// Writes `head`, `s` escaped, then `tail` (`head` and `tail` are written
/// as they are). A string that needs no escaping, the common case, goes to
/// the writer in one [`Write::write_parts`] call.
#[inline(always)]
pub(crate) fn write_framed<W: Write + ?Sized>(
    w: &mut W,
    head: &[u8],
    s: &str,
    tail: &[u8],
) -> Result<(), JsonError> {
    let bytes = s.as_bytes();
    if !needs_escape(bytes) {
        return w.write_parts(head, bytes, tail);
    }
    w.write_all(head)?;
    write_str_contents(w, s)?;
    w.write_all(tail)
}

/// Whether any byte of `bytes` is `"`, `\` or below 0x20, eight bytes per
/// test.
#[inline]
pub(crate) fn needs_escape(bytes: &[u8]) -> bool {
    crate::json::validate::any_word(bytes, word_is_special)
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

    #[test]
    fn needs_escape_sees_every_byte_at_every_position_and_length() {
        for len in 0..=26 {
            let plain = std::vec![b'a'; len];
            assert!(!needs_escape(&plain), "len {len}");
            for pos in 0..len {
                for b in 0u8..=255 {
                    let mut v = plain.clone();
                    v[pos] = b;
                    assert_eq!(
                        needs_escape(&v),
                        is_special(b),
                        "byte {b:#x} at {pos} of {len}"
                    );
                }
            }
        }
        // Non-ASCII around a special byte (borrows from bytes >= 0x80).
        assert!(needs_escape("é\"é".as_bytes()));
        assert!(!needs_escape("é€😀\u{7f}".as_bytes()));
    }

    #[test]
    fn strings_are_written_like_json_stringify_through_every_writer() {
        use crate::json::ser::SliceWriter;
        for len in 0..40 {
            for special in [None, Some('"'), Some('\n'), Some('\u{1}'), Some('é')] {
                for pos in 0..=len {
                    let mut s: std::string::String =
                        "abcdefghijklmnopqrstuvwxyz0123456789ABCD"[..len].into();
                    if let Some(c) = special {
                        s.insert(pos.min(s.len()), c);
                    }
                    let expect = serde_json::to_string(&s).unwrap();
                    let mut buf = [0u8; 128];
                    let mut w = SliceWriter::new(&mut buf);
                    write_quoted(&mut w, &s).unwrap();
                    assert_eq!(w.written(), expect.as_bytes(), "{s:?}");
                    let mut buf = [0u8; 128];
                    let mut w = SliceWriter::new(&mut buf);
                    write_framed(&mut w, b",\"", &s, b"\":").unwrap();
                    assert_eq!(w.written(), std::format!(",{expect}:").as_bytes(), "{s:?}");
                    // Exactly the needed space suffices; one byte less fails.
                    let mut small = std::vec![0u8; expect.len()];
                    let mut w = SliceWriter::new(&mut small);
                    write_quoted(&mut w, &s).unwrap();
                    assert_eq!(w.written(), expect.as_bytes());
                    let mut small = std::vec![0u8; expect.len() - 1];
                    let mut w = SliceWriter::new(&mut small);
                    assert_eq!(write_quoted(&mut w, &s), Err(JsonError::BufferFull));
                }
            }
        }
    }
}
