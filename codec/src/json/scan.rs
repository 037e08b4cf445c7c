//! Borrowed views into JSON text: array elements, object members and string
//! literals, without building values or copying bytes.
//!
//! The Socket.IO layer uses these to read an event name or find binary
//! placeholders while the arguments stay unparsed. The scanners are meant
//! for text that [`validate`](super::validate::validate) accepted; on other
//! text they stop early or yield odd slices, but never panic.

use super::validate::{hex4, is_ws, skip_ws};
use super::JsonError;

/// Returns the offset just past the value that starts at `pos` (which must
/// not be white space), without recursion. Assumes validated text.
pub(crate) fn value_end(json: &[u8], pos: usize) -> usize {
    let mut i = pos;
    let mut depth = 0usize;
    loop {
        let Some(&b) = json.get(i) else { return i };
        match b {
            b'"' => i = string_end_unchecked(json, i),
            b'[' | b'{' => {
                depth += 1;
                i += 1;
            }
            b']' | b'}' => {
                if depth == 0 {
                    return i;
                }
                depth -= 1;
                i += 1;
            }
            b',' | b':' if depth == 0 => return i,
            b if depth == 0 && is_ws(b) => return i,
            _ => i += 1,
        }
        if depth == 0 && matches!(b, b'"' | b']' | b'}') {
            return i;
        }
    }
}

/// Offset past the closing quote of the string opening at `pos` (validated text).
fn string_end_unchecked(json: &[u8], pos: usize) -> usize {
    let rest = json.get(pos + 1..).unwrap_or_default();
    let mut i = 0;
    while let Some(found) = memchr::memchr2(b'"', b'\\', rest.get(i..).unwrap_or_default()) {
        let at = i + found;
        if rest.get(at) == Some(&b'\\') {
            i = at + 2;
        } else {
            return pos + 1 + at + 1;
        }
    }
    json.len()
}

/// The elements of a JSON array, as raw slices of the original text with
/// surrounding white space trimmed.
///
/// ```
/// use oxio_codec::json::scan::ArrayIter;
///
/// let mut it = ArrayIter::new(r#"["ev", {"a":[1,2]} ,3]"#).unwrap();
/// assert_eq!(it.next(), Some(r#""ev""#));
/// assert_eq!(it.next(), Some(r#"{"a":[1,2]}"#));
/// assert_eq!(it.next(), Some("3"));
/// assert_eq!(it.next(), None);
/// ```
#[derive(Debug, Clone)]
pub struct ArrayIter<'a> {
    json: &'a str,
    pos: usize,
    done: bool,
}

impl<'a> ArrayIter<'a> {
    /// Starts iterating `json`, which must be an array (leading white space
    /// allowed); returns `None` for any other value.
    pub fn new(json: &'a str) -> Option<Self> {
        let bytes = json.as_bytes();
        let start = skip_ws(bytes, 0);
        if bytes.get(start) != Some(&b'[') {
            return None;
        }
        let pos = skip_ws(bytes, start + 1);
        let done = bytes.get(pos) == Some(&b']');
        Some(ArrayIter { json, pos, done })
    }

    /// The unread rest of the array: the text from the next element on,
    /// including the closing bracket.
    pub fn rest(&self) -> &'a str {
        self.json.get(self.pos..).unwrap_or_default()
    }
}

impl<'a> Iterator for ArrayIter<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.done {
            return None;
        }
        let bytes = self.json.as_bytes();
        let start = self.pos;
        let end = value_end(bytes, start);
        if end <= start {
            self.done = true;
            return None;
        }
        let item = self.json.get(start..end)?;
        let after = skip_ws(bytes, end);
        match bytes.get(after) {
            Some(b',') => self.pos = skip_ws(bytes, after + 1),
            _ => self.done = true,
        }
        Some(item)
    }
}

/// The members of a JSON object, as `(key, raw value)` pairs borrowed from
/// the original text.
///
/// ```
/// use oxio_codec::json::scan::ObjectIter;
///
/// let mut it = ObjectIter::new(r#"{"sid":"abc","n":[1]}"#).unwrap();
/// let (k, v) = it.next().unwrap();
/// assert!(k == "sid");
/// assert_eq!(v, r#""abc""#);
/// let (k, v) = it.next().unwrap();
/// assert!(k == "n");
/// assert_eq!(v, "[1]");
/// assert!(it.next().is_none());
/// ```
#[derive(Debug, Clone)]
pub struct ObjectIter<'a> {
    json: &'a str,
    pos: usize,
    done: bool,
}

impl<'a> ObjectIter<'a> {
    /// Starts iterating `json`, which must be an object (leading white space
    /// allowed); returns `None` for any other value.
    pub fn new(json: &'a str) -> Option<Self> {
        let bytes = json.as_bytes();
        let start = skip_ws(bytes, 0);
        if bytes.get(start) != Some(&b'{') {
            return None;
        }
        let pos = skip_ws(bytes, start + 1);
        let done = bytes.get(pos) != Some(&b'"');
        Some(ObjectIter { json, pos, done })
    }
}

impl<'a> Iterator for ObjectIter<'a> {
    type Item = (RawStr<'a>, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        self.done = true;
        let bytes = self.json.as_bytes();
        let key_end = string_end_unchecked(bytes, self.pos);
        let key = RawStr::from_literal(self.json.get(self.pos..key_end)?)?;
        let colon = skip_ws(bytes, key_end);
        if bytes.get(colon) != Some(&b':') {
            return None;
        }
        let vstart = skip_ws(bytes, colon + 1);
        let vend = value_end(bytes, vstart);
        if vend <= vstart {
            return None;
        }
        let value = self.json.get(vstart..vend)?;
        let after = skip_ws(bytes, vend);
        if bytes.get(after) == Some(&b',') {
            self.pos = skip_ws(bytes, after + 1);
            self.done = false;
        }
        Some((key, value))
    }
}

/// A JSON string literal as it appears in the text: the bytes between the
/// quotes, escapes not yet decoded.
///
/// Most event names and keys have no escapes, so [`RawStr::as_str`] hands
/// them out without copying; the rest can be compared with
/// [`RawStr::eq_str`] (which decodes on the fly) or decoded into a buffer.
///
/// ```
/// use oxio_codec::json::scan::RawStr;
///
/// let plain = RawStr::from_literal(r#""message""#).unwrap();
/// assert_eq!(plain.as_str(), Some("message"));
///
/// let escaped = RawStr::from_literal(r#""caf\u00e9""#).unwrap();
/// assert_eq!(escaped.as_str(), None);
/// assert!(escaped == "café");
/// let mut buf = [0u8; 16];
/// assert_eq!(escaped.unescape_into(&mut buf), Ok("café"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RawStr<'a> {
    raw: &'a str,
    escaped: bool,
}

impl<'a> RawStr<'a> {
    /// Wraps a whole literal, quotes included (`"..."`). Returns `None`
    /// unless `literal` starts and ends with a quote.
    pub fn from_literal(literal: &'a str) -> Option<Self> {
        let inner = literal.strip_prefix('"')?.strip_suffix('"')?;
        Some(RawStr {
            raw: inner,
            escaped: super::validate::has_backslash(inner.as_bytes()),
        })
    }

    /// Wraps the text between the quotes of a literal already validated
    /// (the caller knows where its quotes are).
    #[inline]
    pub(crate) fn from_inner(inner: &'a str) -> Self {
        RawStr {
            raw: inner,
            escaped: super::validate::has_backslash(inner.as_bytes()),
        }
    }

    /// The text between the quotes, escapes included.
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// The decoded string, borrowed, when it has no escapes.
    pub fn as_str(&self) -> Option<&'a str> {
        (!self.escaped).then_some(self.raw)
    }

    /// Whether the literal holds any `\` escape.
    pub fn has_escapes(&self) -> bool {
        self.escaped
    }

    /// The decoded characters, one at a time. An unpaired surrogate escape
    /// decodes to U+FFFD; a malformed escape (only possible on unvalidated
    /// text) ends the iteration with U+FFFD.
    pub fn chars(&self) -> Chars<'a> {
        Chars {
            raw: self.raw.as_bytes(),
            pos: 0,
            text: self.raw,
        }
    }

    /// Compares the decoded string with `other` without decoding into a buffer.
    pub fn eq_str(&self, other: &str) -> bool {
        if !self.escaped {
            return self.raw == other;
        }
        self.chars().eq(other.chars())
    }

    /// Decodes into `buf` and returns the decoded text, or
    /// [`JsonError::ScratchTooSmall`] if it does not fit.
    pub fn unescape_into<'b>(&self, buf: &'b mut [u8]) -> Result<&'b str, JsonError> {
        let mut len = 0;
        for c in self.chars() {
            let mut tmp = [0u8; 4];
            let enc = c.encode_utf8(&mut tmp).as_bytes();
            let dst = buf
                .get_mut(len..len + enc.len())
                .ok_or(JsonError::ScratchTooSmall)?;
            dst.copy_from_slice(enc);
            len += enc.len();
        }
        let written = buf.get(..len).ok_or(JsonError::ScratchTooSmall)?;
        core::str::from_utf8(written).map_err(|_| JsonError::InvalidString)
    }
}

/// Writes the decoded string (so `to_string()` gives an owned copy).
impl core::fmt::Display for RawStr<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.as_str() {
            Some(s) => f.write_str(s),
            None => self
                .chars()
                .try_for_each(|c| core::fmt::Write::write_char(f, c)),
        }
    }
}

impl PartialEq<str> for RawStr<'_> {
    fn eq(&self, other: &str) -> bool {
        self.eq_str(other)
    }
}

impl PartialEq<&str> for RawStr<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.eq_str(other)
    }
}

/// The decoded characters of a [`RawStr`].
#[derive(Debug, Clone)]
pub struct Chars<'a> {
    raw: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl Iterator for Chars<'_> {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        let b = *self.raw.get(self.pos)?;
        if b != b'\\' {
            let c = self.text.get(self.pos..)?.chars().next()?;
            self.pos += c.len_utf8();
            return Some(c);
        }
        let esc = self.raw.get(self.pos + 1).copied();
        self.pos += 2;
        let c = match esc {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                let unit = hex4(self.raw, self.pos).ok();
                self.pos += 4;
                match unit {
                    Some(hi @ 0xD800..=0xDBFF) => {
                        let lo = match (self.raw.get(self.pos), self.raw.get(self.pos + 1)) {
                            (Some(b'\\'), Some(b'u')) => hex4(self.raw, self.pos + 2).ok(),
                            _ => None,
                        };
                        match lo {
                            Some(lo @ 0xDC00..=0xDFFF) => {
                                self.pos += 6;
                                let cp = 0x10000
                                    + ((u32::from(hi) - 0xD800) << 10)
                                    + (u32::from(lo) - 0xDC00);
                                char::from_u32(cp).unwrap_or('\u{FFFD}')
                            }
                            // An unpaired surrogate (JSON.parse accepts it;
                            // a Rust string cannot hold it).
                            _ => '\u{FFFD}',
                        }
                    }
                    Some(u) => char::from_u32(u32::from(u)).unwrap_or('\u{FFFD}'),
                    None => return self.stop(),
                }
            }
            _ => return self.stop(),
        };
        Some(c)
    }
}

impl Chars<'_> {
    fn stop(&mut self) -> Option<char> {
        self.pos = self.raw.len();
        Some('\u{FFFD}')
    }
}

/// Parses a JSON number literal that must be a non-negative integer, as
/// used for placeholder indexes and ack ids. `None` for fractions,
/// exponents, negatives or overflow.
///
/// ```
/// use oxio_codec::json::scan::parse_uint;
///
/// assert_eq!(parse_uint("42"), Some(42));
/// assert_eq!(parse_uint("1.5"), None);
/// assert_eq!(parse_uint("-1"), None);
/// assert_eq!(parse_uint("99999999999999999999999"), None);
/// ```
pub fn parse_uint(literal: &str) -> Option<u64> {
    let bytes = literal.as_bytes();
    if bytes.is_empty() || (bytes.len() > 1 && bytes.first() == Some(&b'0')) {
        return None;
    }
    let mut v: u64 = 0;
    for &b in bytes {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(v)
}

#[cfg(test)]
pub(crate) mod tests {
    extern crate std;
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    /// Arbitrary JSON values (objects keep insertion order).
    pub(crate) fn arb_json() -> impl Strategy<Value = serde_json::Value> {
        use serde_json::Value;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            "\\PC{0,8}".prop_map(Value::String),
            "[\"\\\\\n\t\u{1}a-z]{0,6}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::vec(("\\PC{0,6}", inner), 0..6)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    #[test]
    fn array_iter_on_empty_and_non_arrays() {
        assert_eq!(ArrayIter::new("[]").unwrap().count(), 0);
        assert_eq!(ArrayIter::new(" [ ] ").unwrap().count(), 0);
        assert!(ArrayIter::new("{}").is_none());
        assert!(ArrayIter::new("").is_none());
        let items: Vec<_> = ArrayIter::new(r#"["a,b", "]", {"x":"}"}, [[]], -1.5e3, null]"#)
            .unwrap()
            .collect();
        assert_eq!(
            items,
            [
                r#""a,b""#,
                r#""]""#,
                r#"{"x":"}"}"#,
                "[[]]",
                "-1.5e3",
                "null"
            ]
        );
        let mut it = ArrayIter::new(r#"["ev",1,2]"#).unwrap();
        it.next();
        assert_eq!(it.rest(), "1,2]");
    }

    #[test]
    fn object_iter_reads_keys_with_escapes() {
        let members: Vec<_> = ObjectIter::new(r#"{ "a\"b" : 1 , "c":{"d":[]}}"#)
            .unwrap()
            .collect();
        assert_eq!(members.len(), 2);
        assert!(members[0].0 == "a\"b");
        assert_eq!(members[0].1, "1");
        assert!(members[1].0 == "c");
        assert_eq!(members[1].1, r#"{"d":[]}"#);
        assert_eq!(ObjectIter::new("{}").unwrap().count(), 0);
        assert!(ObjectIter::new("[]").is_none());
    }

    #[test]
    fn raw_str_decodes_every_escape() {
        let s = RawStr::from_literal(r#""\"\\\/\b\f\n\r\t\u0041\uD83D\uDE00é""#).unwrap();
        let decoded: std::string::String = s.chars().collect();
        assert_eq!(decoded, "\"\\/\u{8}\u{c}\n\r\tA😀é");
        assert!(s == "\"\\/\u{8}\u{c}\n\r\tA😀é");
        assert!(s != "x");
        let mut small = [0u8; 4];
        assert_eq!(s.unescape_into(&mut small), Err(JsonError::ScratchTooSmall));
        assert_eq!(std::string::ToString::to_string(&s), decoded);
    }

    #[test]
    fn scanners_never_panic_on_garbage() {
        for s in [
            "[", "[\"", "[\"\\", "{\"", "{\"a\"", "{\"a\":", "[1,", "{\"a\\", "[}",
        ] {
            let _ = ArrayIter::new(s).map(|it| it.count());
            let _ = ObjectIter::new(s).map(|it| it.count());
            let _ = RawStr::from_literal(s).map(|r| r.chars().count());
        }
        let r = RawStr::from_literal(r#""\u12""#).unwrap();
        assert_eq!(r.chars().last(), Some('\u{FFFD}'));
        let lone = RawStr::from_literal(r#""a\ud800b\udc00c\ud83d\u0041""#).unwrap();
        assert_eq!(
            lone.chars().collect::<std::string::String>(),
            "a\u{FFFD}b\u{FFFD}c\u{FFFD}A"
        );
    }

    proptest! {
        #[test]
        fn array_iter_matches_serde_json(items in proptest::collection::vec(arb_json(), 0..8)) {
            let text = serde_json::to_string(&items).unwrap();
            let got: Vec<serde_json::Value> = ArrayIter::new(&text)
                .unwrap()
                .map(|raw| serde_json::from_str(raw).unwrap())
                .collect();
            prop_assert_eq!(got, items);
        }

        #[test]
        fn raw_str_matches_serde_json(s in "\\PC{0,16}") {
            let lit = serde_json::to_string(&s).unwrap();
            let raw = RawStr::from_literal(&lit).unwrap();
            prop_assert!(raw == s.as_str());
            prop_assert_eq!(raw.chars().collect::<std::string::String>(), s);
        }
    }
}
