//! Strict JSON validation without parsing.
//!
//! The Socket.IO decoder must reject every payload the reference parser's
//! `JSON.parse` rejects, but it must not build a value tree to do so: the
//! payload stays a borrowed slice until the user asks for a typed value.
//! [`validate`] walks the text once, keeps only a bit per nesting level (no
//! recursion, so a 10 000-deep array cannot overflow the stack) and checks
//! RFC 8259 grammar, string escapes (including surrogate pairs) and the
//! nesting limit.

use super::JsonError;

/// The deepest nesting [`validate`] can track, whatever the configured limit.
pub const MAX_TRACKED_DEPTH: usize = 4096;

const WORDS: usize = MAX_TRACKED_DEPTH / 64;

/// The kind of a JSON value, from its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Kind {
    /// `{...}`
    Object,
    /// `[...]`
    Array,
    /// `"..."`
    String,
    /// `-1.5e3`
    Number,
    /// `true` or `false`
    Bool,
    /// `null`
    Null,
}

impl Kind {
    /// The kind of the value that starts at the first non-space byte of
    /// `json`, or `None` if it starts with anything else. Only the first byte
    /// is looked at: run [`validate`] first to know the rest is well formed.
    ///
    /// ```
    /// use oxio_codec::json::validate::Kind;
    ///
    /// assert_eq!(Kind::of(b" [1]"), Some(Kind::Array));
    /// assert_eq!(Kind::of(b"-2"), Some(Kind::Number));
    /// assert_eq!(Kind::of(b"x"), None);
    /// ```
    pub fn of(json: &[u8]) -> Option<Kind> {
        let first = json.iter().copied().find(|b| !is_ws(*b))?;
        Some(match first {
            b'{' => Kind::Object,
            b'[' => Kind::Array,
            b'"' => Kind::String,
            b'-' | b'0'..=b'9' => Kind::Number,
            b't' | b'f' => Kind::Bool,
            b'n' => Kind::Null,
            _ => return None,
        })
    }
}

#[inline]
pub(crate) fn is_ws(b: u8) -> bool {
    // Most bytes tested are not space: one comparison rules them out.
    b <= b' ' && matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// Checks that `json` is exactly one JSON value (surrounding white space
/// allowed) nested at most `max_depth` levels deep.
///
/// Runs in one pass, in constant memory, and never recurses. A `max_depth`
/// above [`MAX_TRACKED_DEPTH`] is treated as that.
///
/// ```
/// use oxio_codec::json::{validate::validate, JsonError};
///
/// assert_eq!(validate(br#"["message",{"a":[1,2.5e3,null]}]"#, 128), Ok(()));
/// assert_eq!(validate(b"[[1]]", 1), Err(JsonError::TooDeep));
/// assert_eq!(validate(b"[1,]", 128), Err(JsonError::UnexpectedByte { offset: 3 }));
/// assert_eq!(validate(b"{} x", 128), Err(JsonError::TrailingData));
/// ```
pub fn validate(json: &[u8], max_depth: usize) -> Result<(), JsonError> {
    let end = validate_prefix(json, max_depth)?;
    let rest = json.get(end..).unwrap_or_default();
    if rest.iter().all(|b| is_ws(*b)) {
        Ok(())
    } else {
        Err(JsonError::TrailingData)
    }
}

/// Validates the one JSON value at the start of `json` (after white space)
/// and returns the offset just past it. Bytes after the value are not looked
/// at, which lets callers validate a value embedded in a larger text.
///
/// ```
/// use oxio_codec::json::validate::validate_prefix;
///
/// assert_eq!(validate_prefix(b" [1,2] tail", 128), Ok(6));
/// ```
pub fn validate_prefix(json: &[u8], max_depth: usize) -> Result<usize, JsonError> {
    let max_depth = max_depth.min(MAX_TRACKED_DEPTH);
    // One bit per open container: 1 = object, 0 = array.
    let mut stack = [0u64; WORDS];
    let mut depth = 0usize;
    // The kind of the innermost open container, kept out of `stack` so the
    // common "after a value" step reads no memory for it.
    let mut in_object = false;
    let mut pos = skip_ws(json, 0);

    // The state machine alternates between "expect a value" and "after a
    // value" (expect `,` or a closing bracket). Both places that start an
    // object member leave the `'member` block to the one `object_key` call
    // at the end of the loop (one call site, so it is inlined).
    'value: loop {
        'member: {
            let b = *json.get(pos).ok_or(JsonError::UnexpectedEnd)?;
            match b {
                b'{' | b'[' => {
                    if depth >= max_depth {
                        return Err(JsonError::TooDeep);
                    }
                    let is_object = b == b'{';
                    let (word, bit) = (depth / 64, depth % 64);
                    if let Some(w) = stack.get_mut(word) {
                        if is_object {
                            *w |= 1 << bit;
                        } else {
                            *w &= !(1 << bit);
                        }
                    }
                    depth += 1;
                    pos = skip_ws(json, pos + 1);
                    let close = if is_object { b'}' } else { b']' };
                    if json.get(pos) == Some(&close) {
                        depth -= 1;
                        pos += 1;
                        // fall through to "after a value"; the enclosing
                        // container (and `in_object`) is unchanged.
                    } else if is_object {
                        in_object = true;
                        break 'member;
                    } else {
                        in_object = false;
                        continue 'value;
                    }
                }
                b'"' => pos = string_end(json, pos)?,
                b'-' | b'0'..=b'9' => pos = number_end(json, pos)?,
                b't' => pos = literal(json, pos, b"true")?,
                b'f' => pos = literal(json, pos, b"false")?,
                b'n' => pos = literal(json, pos, b"null")?,
                _ => return Err(JsonError::UnexpectedByte { offset: pos }),
            }

            // After a value: close containers or move to the next element.
            loop {
                if depth == 0 {
                    return Ok(pos);
                }
                pos = skip_ws(json, pos);
                match json.get(pos) {
                    None => return Err(JsonError::UnexpectedEnd),
                    Some(b',') => {
                        pos = skip_ws(json, pos + 1);
                        if in_object {
                            break 'member;
                        }
                        continue 'value;
                    }
                    Some(b']') if !in_object => {
                        depth -= 1;
                        pos += 1;
                        in_object = is_object_at(&stack, depth);
                    }
                    Some(b'}') if in_object => {
                        depth -= 1;
                        pos += 1;
                        in_object = is_object_at(&stack, depth);
                    }
                    Some(_) => return Err(JsonError::UnexpectedByte { offset: pos }),
                }
            }
        }
        // An object member starts at `pos`: its key and `:`.
        pos = object_key(json, pos)?;
    }
}

/// Whether the container open at `depth` (0-based, so the one just below a
/// container that closed at `depth`) is an object; `false` at the top level.
#[inline]
fn is_object_at(stack: &[u64; WORDS], depth: usize) -> bool {
    match depth.checked_sub(1) {
        Some(top) => stack
            .get(top / 64)
            .is_some_and(|w| w & (1 << (top % 64)) != 0),
        None => false,
    }
}

/// Parses `"key" :` at `pos` and returns the offset of the member's value.
#[inline]
fn object_key(json: &[u8], pos: usize) -> Result<usize, JsonError> {
    match json.get(pos) {
        Some(b'"') => {}
        Some(_) => return Err(JsonError::UnexpectedByte { offset: pos }),
        None => return Err(JsonError::UnexpectedEnd),
    }
    // Fast path for the common short key written without spaces: the first
    // special byte of the word after the opening quote is the closing
    // quote, and the colon follows it in the same word.
    if let Some(chunk) = json.get(pos + 1..).and_then(|s| s.first_chunk::<8>()) {
        let w = u64::from_le_bytes(*chunk);
        let mask = special_mask(w);
        if mask != 0 {
            let shift = mask.trailing_zeros() & !7;
            if shift < 56 && (w >> shift) as u16 == u16::from_le_bytes([b'"', b':']) {
                return Ok(skip_ws(json, pos + 1 + (shift / 8) as usize + 2));
            }
        }
    }
    let pos = skip_ws(json, string_end(json, pos)?);
    match json.get(pos) {
        Some(b':') => Ok(skip_ws(json, pos + 1)),
        Some(_) => Err(JsonError::UnexpectedByte { offset: pos }),
        None => Err(JsonError::UnexpectedEnd),
    }
}

#[inline]
pub(crate) fn skip_ws(json: &[u8], mut pos: usize) -> usize {
    while let Some(b) = json.get(pos) {
        if !is_ws(*b) {
            break;
        }
        pos += 1;
    }
    pos
}

fn literal(json: &[u8], pos: usize, word: &[u8]) -> Result<usize, JsonError> {
    let end = pos + word.len();
    match json.get(pos..end) {
        Some(s) if s == word => Ok(end),
        Some(_) => Err(JsonError::UnexpectedByte { offset: pos }),
        None => Err(JsonError::UnexpectedEnd),
    }
}

/// Validates the number at `pos`; returns the offset past it.
#[inline]
pub(crate) fn number_end(json: &[u8], mut pos: usize) -> Result<usize, JsonError> {
    if json.get(pos) == Some(&b'-') {
        pos += 1;
    }
    match json.get(pos) {
        Some(b'0') => pos += 1,
        Some(b'1'..=b'9') => pos = digits_end(json, pos + 1),
        _ => return Err(JsonError::InvalidNumber),
    }
    if json.get(pos) == Some(&b'.') {
        let after = digits_end(json, pos + 1);
        if after == pos + 1 {
            return Err(JsonError::InvalidNumber);
        }
        pos = after;
    }
    if matches!(json.get(pos), Some(b'e' | b'E')) {
        pos += 1;
        if matches!(json.get(pos), Some(b'+' | b'-')) {
            pos += 1;
        }
        let after = digits_end(json, pos);
        if after == pos {
            return Err(JsonError::InvalidNumber);
        }
        pos = after;
    }
    Ok(pos)
}

/// The offset of the first byte at or after `pos` that is not an ASCII
/// digit (or `json.len()`), eight bytes per step while eight remain.
#[inline]
fn digits_end(json: &[u8], mut pos: usize) -> usize {
    while let Some(chunk) = json.get(pos..).and_then(|s| s.first_chunk::<8>()) {
        let mask = non_digit_mask(u64::from_le_bytes(*chunk));
        if mask != 0 {
            return pos + (mask.trailing_zeros() / 8) as usize;
        }
        pos += 8;
    }
    while matches!(json.get(pos), Some(b'0'..=b'9')) {
        pos += 1;
    }
    pos
}

/// The high bit of every byte of `w` that is not an ASCII digit (exact for
/// every byte: no borrow or carry crosses bytes).
#[inline(always)]
pub(crate) const fn non_digit_mask(w: u64) -> u64 {
    // Digits become 0–9; every other byte becomes 10 or more.
    let t = w ^ (LO * 0x30);
    // Bytes >= 10 get their high bit set by the add (at most 0x7f + 0x76,
    // no carry out of the byte); bytes >= 0x80 have it already.
    (((t & !HI).wrapping_add(LO * 0x76)) | t) & HI
}

const HI: u64 = 0x8080_8080_8080_8080;
const LO: u64 = 0x0101_0101_0101_0101;

/// A mask with the high bit set in (at least) the lowest byte of `w` that is
/// `"`, `\` or below 0x20: the bytes that end the fast path inside a string,
/// and the bytes a JSON string must escape. Zero when there is none. The
/// lowest set bit is exact (bits above it may be false positives from
/// borrows), so with the word read little-endian, `mask.trailing_zeros() / 8`
/// is the index of the first such byte.
///
/// Two byte tests instead of three: flipping bit 1 maps `"` (0x22) to 0x20
/// and keeps 0x00–0x1F below 0x20 while every other byte stays at or above
/// 0x21, so "below 0x21 after the flip" is "control or quote"; the
/// backslash is a zero test.
#[inline(always)]
pub(crate) const fn special_mask(w: u64) -> u64 {
    let flipped = w ^ (LO * 0x02);
    // Bytes < 0x21: subtracting 0x21 borrows into the high bit (exact for
    // the lowest such byte; bytes >= 0x80 are excluded by `!flipped`).
    let control_or_quote = flipped.wrapping_sub(LO * 0x21) & !flipped;
    let backslash = w ^ (LO * b'\\' as u64);
    let backslash = backslash.wrapping_sub(LO) & !backslash;
    (control_or_quote | backslash) & HI
}

/// Whether `test` holds for some word of `bytes`, read eight bytes at a
/// time: whole words, then the last eight bytes (overlapping); fewer than
/// eight bytes are tested as one word built from overlapping pieces of
/// them and padded with `A`. For tests of the form "some byte is in a set
/// that excludes `A`", this is "some byte of `bytes` is in the set".
#[inline(always)]
pub(crate) fn any_word(bytes: &[u8], test: impl Fn(u64) -> bool) -> bool {
    let n = bytes.len();
    if n < 8 {
        return test(short_word(bytes));
    }
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        if chunk
            .first_chunk::<8>()
            .is_some_and(|c| test(u64::from_le_bytes(*c)))
        {
            return true;
        }
    }
    !chunks.remainder().is_empty()
        && bytes
            .get(n - 8..)
            .and_then(|s| s.first_chunk::<8>())
            .is_some_and(|c| test(u64::from_le_bytes(*c)))
}

/// A word holding every byte of `bytes` (fewer than 8) at least once, and
/// otherwise only `A`: two overlapping 4-byte reads, or first, middle and
/// last byte.
#[inline(always)]
fn short_word(bytes: &[u8]) -> u64 {
    const PAD: u64 = LO * b'A' as u64;
    let n = bytes.len();
    let four = |at: usize| {
        bytes
            .get(at..)
            .and_then(|s| s.first_chunk::<4>())
            .map_or(PAD as u32, |c| u32::from_le_bytes(*c))
    };
    if n >= 4 {
        u64::from(four(0)) | u64::from(four(n - 4)) << 32
    } else if n > 0 {
        let at = |i: usize| u64::from(bytes.get(i).copied().unwrap_or(b'A'));
        at(0) | at(n / 2) << 8 | at(n - 1) << 16 | PAD << 24
    } else {
        PAD
    }
}

/// Whether `bytes` holds a `\`, eight bytes per test.
#[inline]
pub(crate) fn has_backslash(bytes: &[u8]) -> bool {
    any_word(bytes, |w| {
        let x = w ^ (LO * b'\\' as u64);
        x.wrapping_sub(LO) & !x & HI != 0
    })
}

/// Validates the string whose opening quote is at `pos`; returns the offset
/// past its closing quote. Control characters and bad escapes are errors;
/// unpaired surrogate escapes are accepted, as `JSON.parse` accepts them (UTF-8 itself is the caller's `&str`
/// guarantee, or is checked by [`crate::json`] users that start from bytes).
#[inline(always)]
pub(crate) fn string_end(json: &[u8], pos: usize) -> Result<usize, JsonError> {
    let mut i = pos + 1;
    loop {
        // Fast path: eight plain bytes at a time; on the word that holds a
        // special byte, jump straight to it (one word test per stop, not one
        // per byte before it).
        while let Some(chunk) = json.get(i..).and_then(|s| s.first_chunk::<8>()) {
            let mask = special_mask(u64::from_le_bytes(*chunk));
            if mask != 0 {
                // At most 7: the index of a byte within the word.
                i += (mask.trailing_zeros() / 8) as usize;
                break;
            }
            i += 8;
        }
        let b = *json.get(i).ok_or(JsonError::UnexpectedEnd)?;
        match b {
            b'"' => return Ok(i + 1),
            b'\\' => i = escape_end(json, i)?,
            0x00..=0x1f => return Err(JsonError::InvalidString),
            _ => i += 1,
        }
    }
}

/// Validates the escape whose backslash is at `pos`; returns the offset past it.
fn escape_end(json: &[u8], pos: usize) -> Result<usize, JsonError> {
    match json.get(pos + 1) {
        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(pos + 2),
        // Any \uXXXX, paired surrogate or not: JSON.parse accepts unpaired
        // ones, and a JavaScript client's JSON.stringify writes them.
        Some(b'u') => hex4(json, pos + 2).map(|_| pos + 6),
        Some(_) => Err(JsonError::InvalidString),
        None => Err(JsonError::UnexpectedEnd),
    }
}

/// Reads four hex digits at `pos`.
pub(crate) fn hex4(json: &[u8], pos: usize) -> Result<u16, JsonError> {
    let digits = json.get(pos..).unwrap_or_default();
    let mut v: u16 = 0;
    for i in 0..4 {
        let d = digits.get(i).ok_or(JsonError::UnexpectedEnd)?;
        let n = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            b'A'..=b'F' => d - b'A' + 10,
            _ => return Err(JsonError::InvalidString),
        };
        v = (v << 4) | u16::from(n);
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::String;
    use std::vec::Vec;

    fn ok(s: &str) {
        assert_eq!(validate(s.as_bytes(), 128), Ok(()), "{s:?} should be valid");
    }

    fn bad(s: &str, e: JsonError) {
        assert_eq!(validate(s.as_bytes(), 128), Err(e), "{s:?}");
    }

    #[test]
    fn accepts_the_json_grammar() {
        for s in [
            "0",
            "-0",
            "1.5",
            "-12.5e+3",
            "1E-2",
            "true",
            "false",
            "null",
            r#""""#,
            r#""a\"b\\c\/d\b\f\n\r\t""#,
            r#""\u00e9\uD83D\uDE00""#,
            "[]",
            "{}",
            " [ 1 , [ ] , { } ] ",
            r#"{"a":{"b":[1,{"c":null}]},"d":"e"}"#,
            r#"["message",{"_placeholder":true,"num":0}]"#,
            "\"é😀\"",
        ] {
            ok(s);
        }
    }

    #[test]
    fn rejects_what_json_parse_rejects() {
        use JsonError::*;
        bad("", UnexpectedEnd);
        bad("   ", UnexpectedEnd);
        bad("[", UnexpectedEnd);
        bad("[1", UnexpectedEnd);
        bad("{\"a\"", UnexpectedEnd);
        bad("{\"a\":}", UnexpectedByte { offset: 5 });
        bad("{a:1}", UnexpectedByte { offset: 1 });
        bad("{\"a\" 1}", UnexpectedByte { offset: 5 });
        bad("[1,]", UnexpectedByte { offset: 3 });
        bad("[,1]", UnexpectedByte { offset: 1 });
        bad("[1 2]", UnexpectedByte { offset: 3 });
        bad("[1}", UnexpectedByte { offset: 2 });
        bad("{\"a\":1]", UnexpectedByte { offset: 6 });
        bad("01", TrailingData);
        bad("1.", InvalidNumber);
        bad(".5", UnexpectedByte { offset: 0 });
        bad("+1", UnexpectedByte { offset: 0 });
        bad("-", InvalidNumber);
        bad("1e", InvalidNumber);
        bad("1e+", InvalidNumber);
        bad("tru", UnexpectedEnd);
        bad("nul1", UnexpectedByte { offset: 0 });
        bad("\"a", UnexpectedEnd);
        bad("\"a\nb\"", InvalidString);
        bad("\"\\x\"", InvalidString);
        bad("\"\\u12\"", InvalidString);
        // Unpaired surrogates: JSON.parse takes them.
        ok("\"\\uD83D\"");
        ok("\"\\uDE00\"");
        ok("\"\\uD83D\\u0041\"");
        bad("[1] [2]", TrailingData);
        bad("{}}", TrailingData);
        bad("undefined", UnexpectedByte { offset: 0 });
    }

    #[test]
    fn depth_limit_is_exact() {
        assert_eq!(validate(b"[[1]]", 2), Ok(()));
        assert_eq!(validate(b"[[1]]", 1), Err(JsonError::TooDeep));
        assert_eq!(validate(b"[{\"a\":[]}]", 3), Ok(()));
        assert_eq!(validate(b"[{\"a\":[]}]", 2), Err(JsonError::TooDeep));
        assert_eq!(validate(b"1", 0), Ok(()));
    }

    #[test]
    fn a_ten_thousand_deep_array_is_rejected_without_recursion() {
        let mut s = String::new();
        s.push_str(&"[".repeat(10_000));
        s.push_str(&"]".repeat(10_000));
        // Runs on a small stack: the validator keeps a fixed bit stack.
        let handle = std::thread::Builder::new()
            .stack_size(32 * 1024)
            .spawn(move || {
                (
                    validate(s.as_bytes(), 128),
                    validate(s.as_bytes(), usize::MAX),
                )
            })
            .unwrap();
        let (limited, unlimited) = handle.join().unwrap();
        assert_eq!(limited, Err(JsonError::TooDeep));
        assert_eq!(unlimited, Err(JsonError::TooDeep));
    }

    #[test]
    fn containers_deeper_than_64_track_their_kind() {
        let mut s = String::new();
        for i in 0..200 {
            s.push_str(if i % 3 == 0 { "{\"k\":" } else { "[" });
        }
        s.push('1');
        for i in (0..200).rev() {
            s.push(if i % 3 == 0 { '}' } else { ']' });
        }
        assert_eq!(validate(s.as_bytes(), 1000), Ok(()));
        // Swap two closers: must be rejected.
        let mut b: Vec<u8> = s.into_bytes();
        let n = b.len();
        b.swap(n - 1, n - 2);
        assert!(validate(&b, 1000).is_err());
    }

    #[test]
    fn fast_path_stops_at_every_special_byte() {
        for special in ["\"", "\\n", "\u{1}"] {
            for pad in 0..17 {
                let s = std::format!("\"{}{}xyz\"", "a".repeat(pad), special);
                let expect = if special == "\"" {
                    Err(JsonError::TrailingData)
                } else if special == "\\n" {
                    Ok(())
                } else {
                    Err(JsonError::InvalidString)
                };
                assert_eq!(validate(s.as_bytes(), 128), expect, "{s:?}");
            }
        }
    }

    /// The byte-at-a-time definition `special_mask` must agree with.
    fn is_special(b: u8) -> bool {
        b < 0x20 || b == b'"' || b == b'\\'
    }

    #[test]
    fn special_mask_finds_the_first_special_byte_of_every_word() {
        // Every byte value at every position, over plain and non-ASCII
        // backgrounds (bytes >= 0x80 must not look special nor hide one).
        for background in [b'a', b' ', b'!', b'#', b'[', b']', 0x7f, 0x80, 0xc3, 0xff] {
            for pos in 0..8 {
                for b in 0u8..=255 {
                    let mut word = [background; 8];
                    word[pos] = b;
                    let mask = special_mask(u64::from_le_bytes(word));
                    let first = word.iter().position(|&x| is_special(x));
                    match first {
                        None => assert_eq!(mask, 0, "{word:x?}"),
                        Some(at) => {
                            assert_eq!((mask.trailing_zeros() / 8) as usize, at, "{word:x?}")
                        }
                    }
                }
            }
        }
        // Two specials: the lowest is reported, whatever is above it.
        for lo in 0..8 {
            for hi in lo + 1..8 {
                for (a, b) in [(b'"', 0u8), (0x1f, b'\\'), (b'\\', b'"'), (0, 0)] {
                    let mut word = [0x80u8; 8];
                    word[lo] = a;
                    word[hi] = b;
                    let mask = special_mask(u64::from_le_bytes(word));
                    assert_eq!((mask.trailing_zeros() / 8) as usize, lo, "{word:x?}");
                }
            }
        }
    }

    #[test]
    fn has_backslash_sees_every_byte_at_every_position_and_length() {
        for len in 0..=26 {
            assert!(!has_backslash(&std::vec![0x5bu8; len]), "len {len}");
            for pos in 0..len {
                for b in 0u8..=255 {
                    let mut v = std::vec![0x5du8; len];
                    v[pos] = b;
                    assert_eq!(
                        has_backslash(&v),
                        b == b'\\',
                        "byte {b:#x} at {pos} of {len}"
                    );
                }
            }
        }
    }

    #[test]
    fn non_digit_mask_is_exact_for_every_byte_at_every_position() {
        for background in [b'0', b'9', b'5', b'a', 0xff] {
            for pos in 0..8 {
                for b in 0u8..=255 {
                    let mut word = [background; 8];
                    word[pos] = b;
                    let mask = non_digit_mask(u64::from_le_bytes(word));
                    for (i, x) in word.iter().enumerate() {
                        let flagged = mask & (0x80 << (8 * i)) != 0;
                        assert_eq!(flagged, !x.is_ascii_digit(), "{word:x?} byte {i}");
                    }
                }
            }
        }
    }

    #[test]
    fn numbers_of_every_length_and_ending() {
        for len in 1..20 {
            let digits: std::string::String =
                (0..len).map(|i| char::from(b'1' + (i % 9) as u8)).collect();
            for text in [
                digits.clone(),
                std::format!("-{digits}"),
                std::format!("{digits}.{digits}"),
                std::format!("{digits}e{digits}"),
                std::format!("{digits}E-{digits}"),
                std::format!("[{digits},{digits}]"),
                std::format!("{{\"n\":{digits}}}"),
            ] {
                ok(&text);
            }
            bad(&std::format!("{digits}."), JsonError::InvalidNumber);
            bad(&std::format!("{digits}e"), JsonError::InvalidNumber);
            bad(
                &std::format!("[{digits}x]"),
                JsonError::UnexpectedByte { offset: len + 1 },
            );
            bad(
                &std::format!("[{digits}:]"),
                JsonError::UnexpectedByte { offset: len + 1 },
            );
            bad(&std::format!("0{digits}"), JsonError::TrailingData);
        }
    }

    #[test]
    fn strings_agree_with_serde_json_at_every_offset() {
        // Each special byte or escape at every offset of a 0..24-byte
        // string, so that it falls in every slot of a word, across word
        // boundaries and in the byte-at-a-time tail.
        let inserts: [&[u8]; 12] = [
            b"\\n",
            b"\\\\",
            b"\\\"",
            b"\\u00e9",
            b"\\uD83D\\uDE00",
            b"\\x",
            b"\\u12g4",
            b"\\",
            b"\x01",
            b"\x1f",
            b"\t",
            "é😀".as_bytes(),
        ];
        for len in 0..24 {
            for at in 0..=len {
                for ins in inserts {
                    let mut s = std::vec![b'"'];
                    s.extend(std::iter::repeat_n(b'a', at));
                    s.extend_from_slice(ins);
                    s.extend(std::iter::repeat_n(b'b', len - at));
                    s.push(b'"');
                    let text = core::str::from_utf8(&s).unwrap();
                    let theirs = serde_json::from_str::<serde_json::Value>(text).is_ok();
                    assert_eq!(validate(&s, 128).is_ok(), theirs, "{text:?}");
                    // As an object key, which has a fast path of its own.
                    let mut obj = std::vec![b'{'];
                    obj.extend_from_slice(&s);
                    obj.extend_from_slice(b":1}");
                    let text = core::str::from_utf8(&obj).unwrap();
                    let theirs = serde_json::from_str::<serde_json::Value>(text).is_ok();
                    assert_eq!(validate(&obj, 128).is_ok(), theirs, "{text:?}");
                }
            }
        }
    }

    #[test]
    fn object_keys_of_every_short_length_with_and_without_spaces() {
        for len in 0..12 {
            let key = "k".repeat(len);
            ok(&std::format!(r#"{{"{key}":1}}"#));
            ok(&std::format!(r#"{{"{key}" :1}}"#));
            ok(&std::format!(r#"{{"{key}": 1}}"#));
            ok(&std::format!(r#"{{"a":0,"{key}":"v"}}"#));
            // A quote that is not followed by a colon.
            let at = 2 + len + 1;
            bad(
                &std::format!(r#"{{"{key}"x:1}}"#),
                JsonError::UnexpectedByte { offset: at },
            );
            bad(
                &std::format!(r#"{{"{key}","#),
                JsonError::UnexpectedByte { offset: at },
            );
            bad(&std::format!(r#"{{"{key}""#), JsonError::UnexpectedEnd);
            bad(&std::format!("{{\"{key}\n\":1}}"), JsonError::InvalidString);
            bad(&std::format!("{{\"{key}\\\":1}}"), JsonError::UnexpectedEnd);
        }
    }

    #[test]
    fn invalid_utf8_bytes_do_not_hide_a_special_byte() {
        // `validate` works on bytes (UTF-8 is the `&str` caller's
        // guarantee); bytes >= 0x80, valid UTF-8 or not, are plain string
        // content and must not mask a control character or quote after them.
        for pad in 0..10 {
            let mut s = std::vec![b'"'];
            s.extend(std::iter::repeat_n(0xffu8, pad));
            s.push(0x01);
            s.push(b'"');
            assert_eq!(validate(&s, 128), Err(JsonError::InvalidString), "{s:x?}");
            let mut s = std::vec![b'"'];
            s.extend(std::iter::repeat_n(0xc3u8, pad));
            s.push(b'"');
            assert_eq!(validate(&s, 128), Ok(()), "{s:x?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_serde_json(s in "[\\[\\]{}\",:0-9a-z\\\\. -]{0,24}") {
            let ours = validate(s.as_bytes(), 128).is_ok();
            let theirs = serde_json::from_str::<serde_json::Value>(&s).is_ok();
            proptest::prop_assert_eq!(ours, theirs, "{:?}", s);
        }

        #[test]
        fn accepts_everything_serde_json_writes(v in crate::json::scan::tests::arb_json()) {
            let s = serde_json::to_string(&v).unwrap();
            proptest::prop_assert_eq!(validate(s.as_bytes(), 128), Ok(()));
        }
    }
}
