//! The strict JSON reader under the deserializer: white space, literals,
//! numbers, strings (borrowed or unescaped into scratch space), the
//! iterative skipper, and the placeholder look-ahead.
//!
//! Positions are byte offsets into a `&str`, so they never exceed
//! `isize::MAX`; adding a small constant to a position already checked
//! against the input length cannot overflow.

use super::{Attachments, DeOptions};
use crate::json::ser::find_special;
use crate::json::JsonError;

/// A zero-copy `serde` deserializer over borrowed JSON text.
///
/// Most callers want [`from_str`](super::from_str),
/// [`from_str_with`](super::from_str_with) or
/// [`args_from_str`](super::args_from_str); use the deserializer directly
/// to read several values in sequence or to inspect the offset.
///
/// ```
/// use oxio_codec::json::de::{DeOptions, Deserializer};
/// use serde::Deserialize;
///
/// let mut de = Deserializer::new(" [1, 2] ", &DeOptions::default(), None);
/// let v = <[u8; 2]>::deserialize(&mut de).unwrap();
/// assert_eq!(v, [1, 2]);
/// assert_eq!(de.offset(), 7);
/// de.end().unwrap();
/// ```
pub struct Deserializer<'de, 's> {
    pub(crate) input: &'de str,
    pub(crate) pos: usize,
    /// Arrays and objects currently open.
    pub(crate) depth: usize,
    pub(crate) max_depth: usize,
    pub(crate) attachments: Option<&'de dyn Attachments>,
    scratch: Scratch<'s>,
}

/// Where escaped strings are decoded.
enum Scratch<'s> {
    /// No space: an escaped string fails with `ScratchTooSmall`.
    #[cfg_attr(feature = "alloc", allow(dead_code))]
    None,
    /// The caller's buffer; a string longer than it fails.
    Slice(&'s mut [u8]),
    /// Grown on demand (only when the caller gave no buffer).
    #[cfg(feature = "alloc")]
    Vec(alloc::vec::Vec<u8>),
}

impl Scratch<'_> {
    fn clear(&mut self) {
        #[cfg(feature = "alloc")]
        if let Scratch::Vec(v) = self {
            v.clear();
        }
    }

    /// Appends `bytes` after the first `*len` bytes.
    fn push(&mut self, len: &mut usize, bytes: &[u8]) -> Result<(), JsonError> {
        match self {
            Scratch::None => Err(JsonError::ScratchTooSmall),
            Scratch::Slice(buf) => {
                let end = len
                    .checked_add(bytes.len())
                    .ok_or(JsonError::ScratchTooSmall)?;
                buf.get_mut(*len..end)
                    .ok_or(JsonError::ScratchTooSmall)?
                    .copy_from_slice(bytes);
                *len = end;
                Ok(())
            }
            #[cfg(feature = "alloc")]
            Scratch::Vec(v) => {
                v.extend_from_slice(bytes);
                *len = v.len();
                Ok(())
            }
        }
    }

    fn as_str(&self, len: usize) -> Result<&str, JsonError> {
        let bytes = match self {
            Scratch::None => &[][..],
            Scratch::Slice(buf) => buf.get(..len).ok_or(JsonError::ScratchTooSmall)?,
            #[cfg(feature = "alloc")]
            Scratch::Vec(v) => v.get(..len).ok_or(JsonError::ScratchTooSmall)?,
        };
        // Raw runs come from a `&str` and escapes are encoded chars, so the
        // bytes are UTF-8; the check costs one pass and needs no `unsafe`.
        core::str::from_utf8(bytes).map_err(|_| JsonError::InvalidString)
    }
}

/// A string literal's contents: borrowed from the input when it has no
/// escapes, else decoded into the scratch space.
pub(crate) enum Str<'de, 'a> {
    Borrowed(&'de str),
    Copied(&'a str),
}

impl Str<'_, '_> {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Str::Borrowed(s) => s,
            Str::Copied(s) => s,
        }
    }
}

/// A number literal, checked against JSON's grammar but not yet converted.
#[derive(Clone, Copy)]
pub(crate) struct Number<'de> {
    /// The literal, sign included.
    pub(crate) text: &'de str,
    /// No fraction and no exponent.
    pub(crate) integer: bool,
    pub(crate) negative: bool,
}

impl Number<'_> {
    fn digits(&self) -> &[u8] {
        let b = self.text.as_bytes();
        if self.negative {
            b.get(1..).unwrap_or(&[])
        } else {
            b
        }
    }

    /// The absolute value of an integer literal, if it fits a `u64`.
    pub(crate) fn magnitude(&self) -> Option<u64> {
        let mut v: u64 = 0;
        for &d in self.digits() {
            v = v
                .checked_mul(10)?
                .checked_add(u64::from(d.wrapping_sub(b'0')))?;
        }
        Some(v)
    }

    fn magnitude128(&self) -> Option<u128> {
        let mut v: u128 = 0;
        for &d in self.digits() {
            v = v
                .checked_mul(10)?
                .checked_add(u128::from(d.wrapping_sub(b'0')))?;
        }
        Some(v)
    }

    /// As an unsigned integer: a fraction or exponent is the wrong type;
    /// a negative (other than `-0`) or too large value is `InvalidNumber`.
    pub(crate) fn to_u64(self) -> Result<u64, JsonError> {
        if !self.integer {
            return Err(JsonError::InvalidType);
        }
        match self.magnitude() {
            Some(0) => Ok(0),
            Some(m) if !self.negative => Ok(m),
            _ => Err(JsonError::InvalidNumber),
        }
    }

    pub(crate) fn to_i64(self) -> Result<i64, JsonError> {
        if !self.integer {
            return Err(JsonError::InvalidType);
        }
        let m = self.magnitude().ok_or(JsonError::InvalidNumber)?;
        if self.negative {
            0i64.checked_sub_unsigned(m).ok_or(JsonError::InvalidNumber)
        } else {
            i64::try_from(m).map_err(|_| JsonError::InvalidNumber)
        }
    }

    pub(crate) fn to_u128(self) -> Result<u128, JsonError> {
        if !self.integer {
            return Err(JsonError::InvalidType);
        }
        match self.magnitude128() {
            Some(0) => Ok(0),
            Some(m) if !self.negative => Ok(m),
            _ => Err(JsonError::InvalidNumber),
        }
    }

    pub(crate) fn to_i128(self) -> Result<i128, JsonError> {
        if !self.integer {
            return Err(JsonError::InvalidType);
        }
        let m = self.magnitude128().ok_or(JsonError::InvalidNumber)?;
        if self.negative {
            0i128
                .checked_sub_unsigned(m)
                .ok_or(JsonError::InvalidNumber)
        } else {
            i128::try_from(m).map_err(|_| JsonError::InvalidNumber)
        }
    }

    /// Correctly rounded (`core`'s parser). A finite literal too large for
    /// `f64` (`1e400`) is `InvalidNumber`, as in `serde_json`; one too small
    /// rounds to zero.
    pub(crate) fn to_f64(self) -> Result<f64, JsonError> {
        match self.text.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(JsonError::InvalidNumber),
        }
    }

    /// Parsed directly as `f32` (one rounding, not two).
    pub(crate) fn to_f32(self) -> Result<f32, JsonError> {
        match self.text.parse::<f32>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(JsonError::InvalidNumber),
        }
    }
}

/// Up to this many levels of a skipped value are tracked (one bit each);
/// deeper values fail with `TooDeep` even if `max_depth` is larger.
pub(crate) const MAX_SKIP_DEPTH: usize = 1024;

/// Which kind of container is open at each level of a skipped value.
struct KindStack {
    bits: [u64; MAX_SKIP_DEPTH / 64],
    len: usize,
}

impl KindStack {
    const fn new() -> Self {
        KindStack {
            bits: [0; MAX_SKIP_DEPTH / 64],
            len: 0,
        }
    }

    fn push(&mut self, object: bool) -> Result<(), JsonError> {
        let word = self.bits.get_mut(self.len / 64).ok_or(JsonError::TooDeep)?;
        let bit = 1u64 << (self.len % 64);
        if object {
            *word |= bit;
        } else {
            *word &= !bit;
        }
        self.len += 1;
        Ok(())
    }

    /// Whether the innermost open container is an object; `None` if none is open.
    fn top(&self) -> Option<bool> {
        let top = self.len.checked_sub(1)?;
        let word = self.bits.get(top / 64)?;
        Some(word & (1u64 << (top % 64)) != 0)
    }

    fn pop(&mut self) {
        self.len = self.len.saturating_sub(1);
    }
}

/// Bytes that can start a JSON value.
pub(crate) const fn is_value_start(b: u8) -> bool {
    matches!(
        b,
        b'"' | b'[' | b'{' | b't' | b'f' | b'n' | b'-' | b'0'..=b'9'
    )
}

fn hex4(bytes: &[u8], at: usize) -> Result<u32, JsonError> {
    let digits = bytes.get(at..at + 4).ok_or(JsonError::UnexpectedEnd)?;
    let mut v = 0u32;
    for &d in digits {
        let n = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            b'A'..=b'F' => d - b'A' + 10,
            _ => return Err(JsonError::InvalidString),
        };
        v = (v << 4) | u32::from(n);
    }
    Ok(v)
}

/// Decodes the escape whose letter is at `at` (just after the backslash).
/// Returns the character and the offset after the escape. A `\u` high
/// surrogate must be followed by a `\u` low surrogate; a lone surrogate is
/// `InvalidString`.
fn decode_escape(bytes: &[u8], at: usize) -> Result<(char, usize), JsonError> {
    let simple = match bytes.get(at) {
        None => return Err(JsonError::UnexpectedEnd),
        Some(b'"') => '"',
        Some(b'\\') => '\\',
        Some(b'/') => '/',
        Some(b'b') => '\u{8}',
        Some(b'f') => '\u{c}',
        Some(b'n') => '\n',
        Some(b'r') => '\r',
        Some(b't') => '\t',
        Some(b'u') => {
            let first = hex4(bytes, at + 1)?;
            return match first {
                // JSON.parse accepts unpaired surrogates (a JavaScript
                // string can hold one); a Rust string cannot, so each becomes
                // U+FFFD. The raw payload keeps the original escape.
                0xD800..=0xDBFF => {
                    if bytes.get(at + 5) == Some(&b'\\') && bytes.get(at + 6) == Some(&b'u') {
                        let second = hex4(bytes, at + 7)?;
                        if (0xDC00..=0xDFFF).contains(&second) {
                            let cp = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
                            let c = char::from_u32(cp).ok_or(JsonError::InvalidString)?;
                            return Ok((c, at + 11));
                        }
                    }
                    Ok(('\u{FFFD}', at + 5))
                }
                0xDC00..=0xDFFF => Ok(('\u{FFFD}', at + 5)),
                _ => {
                    let c = char::from_u32(first).ok_or(JsonError::InvalidString)?;
                    Ok((c, at + 5))
                }
            };
        }
        Some(_) => return Err(JsonError::InvalidString),
    };
    Ok((simple, at + 1))
}

impl<'de, 's> Deserializer<'de, 's> {
    /// A deserializer over `input` with the given depth limit and
    /// attachments. Escaped strings are decoded into `scratch`; without it
    /// they go to an internal `Vec` (feature `alloc`) or fail with
    /// [`JsonError::ScratchTooSmall`].
    pub fn new(input: &'de str, opts: &DeOptions<'de>, scratch: Option<&'s mut [u8]>) -> Self {
        let scratch = match scratch {
            Some(buf) => Scratch::Slice(buf),
            #[cfg(feature = "alloc")]
            None => Scratch::Vec(alloc::vec::Vec::new()),
            #[cfg(not(feature = "alloc"))]
            None => Scratch::None,
        };
        Deserializer {
            input,
            pos: 0,
            depth: 0,
            max_depth: opts.max_depth,
            attachments: opts.attachments,
            scratch,
        }
    }

    /// Byte offset of the next unread byte.
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// Checks that only white space is left; [`JsonError::TrailingData`]
    /// otherwise.
    pub fn end(&mut self) -> Result<(), JsonError> {
        self.skip_ws();
        if self.pos < self.input.len() {
            Err(JsonError::TrailingData)
        } else {
            Ok(())
        }
    }

    #[inline]
    pub(crate) fn peek(&self) -> Option<u8> {
        self.input.as_bytes().get(self.pos).copied()
    }

    #[inline]
    pub(crate) fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// Skips white space and returns the next byte without consuming it.
    #[inline]
    pub(crate) fn peek_value(&mut self) -> Result<u8, JsonError> {
        self.skip_ws();
        self.peek().ok_or(JsonError::UnexpectedEnd)
    }

    pub(crate) fn unexpected(&self) -> JsonError {
        if self.pos < self.input.len() {
            JsonError::UnexpectedByte { offset: self.pos }
        } else {
            JsonError::UnexpectedEnd
        }
    }

    /// The error for a value of the wrong kind starting with `b`:
    /// `InvalidType` if `b` starts some JSON value, a syntax error otherwise.
    pub(crate) fn type_error(&self, b: u8) -> JsonError {
        if is_value_start(b) {
            JsonError::InvalidType
        } else {
            self.unexpected()
        }
    }

    /// Opens an array or object level.
    pub(crate) fn enter(&mut self) -> Result<(), JsonError> {
        let depth = self.depth.checked_add(1).ok_or(JsonError::TooDeep)?;
        if depth > self.max_depth {
            return Err(JsonError::TooDeep);
        }
        self.depth = depth;
        Ok(())
    }

    pub(crate) fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Consumes `lit` exactly.
    pub(crate) fn eat_literal(&mut self, lit: &[u8]) -> Result<(), JsonError> {
        let bytes = self.input.as_bytes();
        for (k, &c) in lit.iter().enumerate() {
            match bytes.get(self.pos + k) {
                Some(&b) if b == c => {}
                Some(_) => {
                    return Err(JsonError::UnexpectedByte {
                        offset: self.pos + k,
                    })
                }
                None => return Err(JsonError::UnexpectedEnd),
            }
        }
        self.pos += lit.len();
        Ok(())
    }

    /// Reads the string literal starting at the current `"`.
    pub(crate) fn parse_str(&mut self) -> Result<Str<'de, '_>, JsonError> {
        let bytes = self.input.as_bytes();
        let start = self.pos + 1;
        let at = find_special(bytes, start);
        match bytes.get(at) {
            Some(b'"') => {
                let s = self.input.get(start..at).ok_or(JsonError::InvalidString)?;
                self.pos = at + 1;
                Ok(Str::Borrowed(s))
            }
            Some(b'\\') => self.parse_escaped(start, at),
            Some(_) => Err(JsonError::InvalidString),
            None => Err(JsonError::UnexpectedEnd),
        }
    }

    fn parse_escaped(
        &mut self,
        start: usize,
        first_escape: usize,
    ) -> Result<Str<'de, '_>, JsonError> {
        let bytes = self.input.as_bytes();
        self.scratch.clear();
        let mut len = 0usize;
        let mut run_start = start;
        let mut at = first_escape;
        loop {
            let run = bytes.get(run_start..at).ok_or(JsonError::UnexpectedEnd)?;
            self.scratch.push(&mut len, run)?;
            match bytes.get(at) {
                Some(b'"') => {
                    self.pos = at + 1;
                    return Ok(Str::Copied(self.scratch.as_str(len)?));
                }
                Some(b'\\') => {
                    let (c, next) = decode_escape(bytes, at + 1)?;
                    let mut buf = [0u8; 4];
                    self.scratch
                        .push(&mut len, c.encode_utf8(&mut buf).as_bytes())?;
                    run_start = next;
                    at = find_special(bytes, next);
                }
                Some(_) => return Err(JsonError::InvalidString),
                None => return Err(JsonError::UnexpectedEnd),
            }
        }
    }

    /// Validates the string literal starting at the current `"` and moves
    /// past it, decoding nothing.
    pub(crate) fn skip_str(&mut self) -> Result<(), JsonError> {
        let bytes = self.input.as_bytes();
        let mut at = find_special(bytes, self.pos + 1);
        loop {
            match bytes.get(at) {
                Some(b'"') => {
                    self.pos = at + 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    let (_, next) = decode_escape(bytes, at + 1)?;
                    at = find_special(bytes, next);
                }
                Some(_) => return Err(JsonError::InvalidString),
                None => return Err(JsonError::UnexpectedEnd),
            }
        }
    }

    /// Reads a number literal at the current position:
    /// `-? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?`. Leading zeros,
    /// a missing integer part, a bare `.` or `e` are `InvalidNumber`.
    pub(crate) fn parse_number(&mut self) -> Result<Number<'de>, JsonError> {
        fn digits_end(bytes: &[u8], from: usize) -> usize {
            let count = bytes
                .get(from..)
                .map_or(0, |r| r.iter().take_while(|b| b.is_ascii_digit()).count());
            from + count
        }
        let bytes = self.input.as_bytes();
        let start = self.pos;
        let mut i = start;
        let negative = bytes.get(i) == Some(&b'-');
        if negative {
            i += 1;
        }
        match bytes.get(i) {
            Some(b'0') => {
                i += 1;
                if matches!(bytes.get(i), Some(b'0'..=b'9')) {
                    return Err(JsonError::InvalidNumber);
                }
            }
            Some(b'1'..=b'9') => i = digits_end(bytes, i + 1),
            _ => return Err(JsonError::InvalidNumber),
        }
        let mut integer = true;
        if bytes.get(i) == Some(&b'.') {
            integer = false;
            let end = digits_end(bytes, i + 1);
            if end == i + 1 {
                return Err(JsonError::InvalidNumber);
            }
            i = end;
        }
        if matches!(bytes.get(i), Some(b'e' | b'E')) {
            integer = false;
            i += 1;
            if matches!(bytes.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            let end = digits_end(bytes, i);
            if end == i {
                return Err(JsonError::InvalidNumber);
            }
            i = end;
        }
        let text = self.input.get(start..i).ok_or(JsonError::InvalidNumber)?;
        self.pos = i;
        Ok(Number {
            text,
            integer,
            negative,
        })
    }

    /// Positions on the next array element, consuming a separating comma.
    /// Returns `false` at the closing `]` (left unconsumed).
    pub(crate) fn next_element(&mut self, first: &mut bool) -> Result<bool, JsonError> {
        self.skip_ws();
        match self.peek() {
            Some(b']') => Ok(false),
            Some(b',') if !*first => {
                self.pos += 1;
                self.skip_ws();
                if self.peek() == Some(b']') {
                    return Err(self.unexpected());
                }
                Ok(true)
            }
            Some(_) if *first => {
                *first = false;
                Ok(true)
            }
            Some(_) => Err(self.unexpected()),
            None => Err(JsonError::UnexpectedEnd),
        }
    }

    /// Positions on the next object key (a `"`), consuming a separating
    /// comma. Returns `false` at the closing `}` (left unconsumed).
    pub(crate) fn next_key(&mut self, first: &mut bool) -> Result<bool, JsonError> {
        self.skip_ws();
        match self.peek() {
            Some(b'}') => return Ok(false),
            Some(b',') if !*first => {
                self.pos += 1;
                self.skip_ws();
            }
            Some(_) if *first => *first = false,
            Some(_) => return Err(self.unexpected()),
            None => return Err(JsonError::UnexpectedEnd),
        }
        match self.peek() {
            Some(b'"') => Ok(true),
            _ => Err(self.unexpected()),
        }
    }

    /// Consumes the `:` after a key.
    pub(crate) fn colon(&mut self) -> Result<(), JsonError> {
        self.skip_ws();
        if self.peek() == Some(b':') {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    /// Consumes the `close` byte that ends a container after its visitor
    /// returned. More elements than the visitor took is `InvalidType`.
    pub(crate) fn end_container(&mut self, close: u8, took_none: bool) -> Result<(), JsonError> {
        self.skip_ws();
        match self.peek() {
            Some(b) if b == close => {
                self.pos += 1;
                self.leave();
                Ok(())
            }
            Some(b',') => Err(JsonError::InvalidType),
            Some(b) if took_none && (is_value_start(b)) => Err(JsonError::InvalidType),
            _ => Err(self.unexpected()),
        }
    }

    /// Skips one value, validating it fully, without recursion: the open
    /// containers are tracked one bit per level. Nesting counts towards
    /// `max_depth` from the current depth.
    pub(crate) fn skip_value(&mut self) -> Result<(), JsonError> {
        let mut stack = KindStack::new();
        let base = self.depth;
        'value: loop {
            let b = self.peek_value()?;
            match b {
                b'[' | b'{' => {
                    let object = b == b'{';
                    let depth = base
                        .checked_add(stack.len)
                        .and_then(|d| d.checked_add(1))
                        .ok_or(JsonError::TooDeep)?;
                    if depth > self.max_depth {
                        return Err(JsonError::TooDeep);
                    }
                    stack.push(object)?;
                    self.pos += 1;
                    self.skip_ws();
                    let close = if object { b'}' } else { b']' };
                    if self.peek() == Some(close) {
                        self.pos += 1;
                        stack.pop();
                    } else {
                        if object {
                            self.skip_key()?;
                        }
                        continue 'value;
                    }
                }
                b'"' => self.skip_str()?,
                b'-' | b'0'..=b'9' => {
                    self.parse_number()?;
                }
                b't' => self.eat_literal(b"true")?,
                b'f' => self.eat_literal(b"false")?,
                b'n' => self.eat_literal(b"null")?,
                _ => return Err(self.unexpected()),
            }
            // A value is complete: close containers until one continues.
            loop {
                let Some(object) = stack.top() else {
                    return Ok(());
                };
                self.skip_ws();
                match self.peek() {
                    Some(b',') => {
                        self.pos += 1;
                        if object {
                            self.skip_key()?;
                        }
                        continue 'value;
                    }
                    Some(b']') if !object => {
                        self.pos += 1;
                        stack.pop();
                    }
                    Some(b'}') if object => {
                        self.pos += 1;
                        stack.pop();
                    }
                    _ => return Err(self.unexpected()),
                }
            }
        }
    }

    /// Skips `"key"` and the colon after it.
    fn skip_key(&mut self) -> Result<(), JsonError> {
        self.skip_ws();
        if self.peek() != Some(b'"') {
            return Err(self.unexpected());
        }
        self.skip_str()?;
        self.colon()
    }

    /// At a `{`: if attachments were given and the object is a binary
    /// placeholder, consumes it and returns the attachment's bytes.
    /// Otherwise the position is left unchanged.
    ///
    /// The object is a placeholder when its first member is
    /// `"_placeholder":true`, or its first member is `"num"` and its second
    /// `"_placeholder":true`. It must then hold exactly those two members,
    /// `num` being an integer literal in `[0, count)`; anything else is
    /// [`JsonError::InvalidPlaceholder`]. Keys are compared as written (an
    /// escaped key never matches).
    pub(crate) fn placeholder(&mut self) -> Result<Option<&'de [u8]>, JsonError> {
        let Some(attachments) = self.attachments else {
            return Ok(None);
        };
        let saved = self.pos;
        let found = self.placeholder_at(attachments);
        if !matches!(found, Ok(Some(_))) {
            self.pos = saved;
        }
        found
    }

    fn placeholder_at(
        &mut self,
        attachments: &'de dyn Attachments,
    ) -> Result<Option<&'de [u8]>, JsonError> {
        self.pos += 1;
        let num = match self.raw_key() {
            Some("_placeholder") => {
                if !self.true_value() {
                    return Ok(None);
                }
                if !(self.byte(b',') && self.raw_key() == Some("num")) {
                    return Err(JsonError::InvalidPlaceholder);
                }
                self.placeholder_num()
                    .map_err(|_| JsonError::InvalidPlaceholder)?
            }
            Some("num") => {
                let Ok(num) = self.placeholder_num() else {
                    return Ok(None);
                };
                if !(self.byte(b',') && self.raw_key() == Some("_placeholder") && self.true_value())
                {
                    return Ok(None);
                }
                num
            }
            _ => return Ok(None),
        };
        if !self.byte(b'}') {
            return Err(JsonError::InvalidPlaceholder);
        }
        match num {
            Some(n) if n < attachments.count() => attachments
                .get(n)
                .map(Some)
                .ok_or(JsonError::InvalidPlaceholder),
            _ => Err(JsonError::InvalidPlaceholder),
        }
    }

    /// Consumes `"key"` (no escapes) and the colon; `None` if not there.
    fn raw_key(&mut self) -> Option<&'de str> {
        self.skip_ws();
        if self.peek() != Some(b'"') {
            return None;
        }
        let start = self.pos + 1;
        let end = find_special(self.input.as_bytes(), start);
        if self.input.as_bytes().get(end) != Some(&b'"') {
            return None;
        }
        let key = self.input.get(start..end)?;
        self.pos = end + 1;
        if !self.byte(b':') {
            return None;
        }
        Some(key)
    }

    /// Consumes white space and `b`, if `b` is next.
    fn byte(&mut self, b: u8) -> bool {
        self.skip_ws();
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn true_value(&mut self) -> bool {
        self.skip_ws();
        self.eat_literal(b"true").is_ok()
    }

    /// Reads a placeholder's `num` value: `Some(n)` for a non-negative
    /// integer literal, `None` for any other valid value.
    fn placeholder_num(&mut self) -> Result<Option<usize>, JsonError> {
        match self.peek_value()? {
            b'-' | b'0'..=b'9' => {
                let n = self.parse_number()?;
                if n.integer && !n.negative {
                    Ok(n.magnitude().and_then(|m| usize::try_from(m).ok()))
                } else {
                    Ok(None)
                }
            }
            _ => {
                self.skip_value()?;
                Ok(None)
            }
        }
    }
}
