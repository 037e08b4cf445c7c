//! Floating-point numbers laid out exactly like JavaScript's
//! `Number.prototype.toString()` (ECMA-262, Number::toString, radix 10).
//!
//! `ryu` gives the shortest digit string that round-trips (the same digits
//! the ECMAScript algorithm asks for: the fewest digits `k`, and among those
//! the closest to the value). That string is taken apart into its digits and
//! decimal exponent, then laid out again with ECMAScript's rules:
//!
//! with digits `d1..dk` and `n` such that the value is `0.d1..dk × 10^n`:
//! 1. `k ≤ n ≤ 21`: the digits followed by `n − k` zeros (`1e20` →
//!    `100000000000000000000`);
//! 2. `0 < n ≤ 21`: a decimal point after `n` digits (`123.456`);
//! 3. `−6 < n ≤ 0`: `0.`, `−n` zeros, the digits (`0.000001`);
//! 4. otherwise exponent notation `d1[.d2..dk]e±(n−1)` (`1e+21`, `1.5e-7`).
//!
//! Zero (either sign) is `0`.
//!
//! ryu's own layout already agrees with these rules for most values (plain
//! decimals, and exponents of −7 and below), so `write_js` patches the common
//! differences in place (`1234.0` → `1234`, `1e21` → `1e+21`) and only
//! fully re-lays out the rest (exponents ryu writes that JavaScript does not,
//! and the other way round).

use super::write::Write;
use crate::json::JsonError;

/// Longest layout: sign, `0.`, five zeros and 17 digits is 25 bytes; sign,
/// 17 digits, point and `e-324` is 24; 21 integer digits and a sign is 22.
pub(crate) const FLOAT_BUF_LEN: usize = 32;

/// A small fixed buffer that silently drops bytes past its end. The layout
/// never exceeds [`FLOAT_BUF_LEN`], so nothing is dropped in practice, and no
/// input can make it panic.
pub(crate) struct FloatBuf {
    bytes: [u8; FLOAT_BUF_LEN],
    len: usize,
}

impl FloatBuf {
    const fn new() -> Self {
        FloatBuf {
            bytes: [0; FLOAT_BUF_LEN],
            len: 0,
        }
    }

    #[inline]
    fn push(&mut self, b: u8) {
        if let Some(slot) = self.bytes.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    fn push_all(&mut self, bs: &[u8]) {
        for &b in bs {
            self.push(b);
        }
    }

    fn push_zeros(&mut self, count: i32) {
        for _ in 0..count {
            self.push(b'0');
        }
    }

    /// The laid-out number.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or(&[])
    }
}

/// Writes a finite or non-finite `f64` as `JSON.stringify` does: NaN and
/// the infinities are `null`, zero of either sign is `0`.
#[inline]
pub(crate) fn write_f64<W: Write + ?Sized>(w: &mut W, v: f64) -> Result<(), JsonError> {
    if !v.is_finite() {
        return w.write_all(b"null");
    }
    if v == 0.0 {
        return w.write_byte(b'0');
    }
    let mut ryu_buf = ryu::Buffer::new();
    let text = ryu_buf.format_finite(v).as_bytes();
    // ryu writes exactly the values in [1e-5, 1e16) without an exponent
    // (both bounds are where the shortest digits cross a power of ten), and
    // those JavaScript writes the same way, but for ryu's `.0` on integers.
    let magnitude = v.abs();
    if (1e-5..1e16).contains(&magnitude) {
        return w.write_all(text.strip_suffix(b".0").unwrap_or(text));
    }
    write_js(w, text)
}

/// Writes an `f32` with its own shortest digits (`0.1f32` → `0.1`, as
/// `serde_json` does), laid out by the same rules. JavaScript has no `f32`:
/// widening to `f64` first would print `0.10000000149011612`.
#[inline]
pub(crate) fn write_f32<W: Write + ?Sized>(w: &mut W, v: f32) -> Result<(), JsonError> {
    if !v.is_finite() {
        return w.write_all(b"null");
    }
    if v == 0.0 {
        return w.write_byte(b'0');
    }
    let mut ryu_buf = ryu::Buffer::new();
    write_js(w, ryu_buf.format_finite(v).as_bytes())
}

/// Writes ryu's text the JavaScript way, straight from ryu's buffer when
/// the layouts agree.
#[inline]
fn write_js<W: Write + ?Sized>(w: &mut W, text: &[u8]) -> Result<(), JsonError> {
    // ryu writes integers below 10^16 as `1234.0`; JavaScript as `1234`.
    if let Some(body) = text.strip_suffix(b".0") {
        return w.write_all(body);
    }
    // ryu's exponent is at most `e-324`: look at the last five bytes only.
    let tail_start = text.len().saturating_sub(5);
    let tail = text.get(tail_start..).unwrap_or(&[]);
    match tail.iter().position(|&b| b == b'e').map(|i| tail_start + i) {
        // A plain decimal (at most 16 integer digits, or `0.000ddd` down to
        // 10^-5): the same in both.
        None => w.write_all(text),
        Some(at) => {
            let (mantissa, exponent) = text.split_at_checked(at + 1).unwrap_or((text, &[]));
            let exp = parse_exponent(exponent);
            // JavaScript uses an exponent when n − 1 ≥ 21 or n − 1 ≤ −7.
            if exp >= 21 {
                w.write_all(mantissa)?;
                w.write_byte(b'+')?;
                w.write_all(exponent)
            } else if exp <= -7 {
                w.write_all(text)
            } else {
                w.write_all(relayout(text).as_bytes())
            }
        }
    }
}

/// Takes any of ryu's layouts (`-1.25`, `1e21`, `1.5e-7`, `0.001`, `100.0`)
/// apart into sign, significant digits and the exponent `n`, and lays it out
/// per ECMAScript.
fn relayout(text: &[u8]) -> FloatBuf {
    let (negative, rest) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let (mantissa, exponent) = match rest.iter().position(|&b| b == b'e' || b == b'E') {
        Some(at) => (
            rest.get(..at).unwrap_or(&[]),
            parse_exponent(rest.get(at + 1..).unwrap_or(&[])),
        ),
        None => (rest, 0),
    };

    // Significant digits (at most 17 for f64) and the count of digits before
    // the decimal point.
    let mut digits = [0u8; 24];
    let mut k = 0usize;
    let mut int_digits: i32 = 0;
    let mut seen_point = false;
    let mut leading = true;
    for &b in mantissa {
        if b == b'.' {
            seen_point = true;
            continue;
        }
        if !seen_point {
            int_digits += 1;
        }
        if leading && b == b'0' {
            // A leading zero shifts the point: 0.001 is 0.1e-2.
            int_digits -= 1;
            continue;
        }
        leading = false;
        if let Some(slot) = digits.get_mut(k) {
            *slot = b;
            k += 1;
        }
    }
    // Trailing zeros are not significant (ryu's `100.0` is digits `1`, n = 3).
    while k > 0 && digits.get(k - 1) == Some(&b'0') {
        k -= 1;
    }
    let digits = digits.get(..k).unwrap_or(&[]);
    let k = k as i32;
    let n = int_digits + exponent;

    let mut out = FloatBuf::new();
    if negative {
        out.push(b'-');
    }
    if k <= n && n <= 21 {
        out.push_all(digits);
        out.push_zeros(n - k);
    } else if 0 < n && n <= 21 {
        let (int_part, frac_part) = digits.split_at_checked(n as usize).unwrap_or((digits, &[]));
        out.push_all(int_part);
        out.push(b'.');
        out.push_all(frac_part);
    } else if -6 < n && n <= 0 {
        out.push_all(b"0.");
        out.push_zeros(-n);
        out.push_all(digits);
    } else {
        let (first, others) = digits.split_first().unwrap_or((&b'0', &[]));
        out.push(*first);
        if !others.is_empty() {
            out.push(b'.');
            out.push_all(others);
        }
        out.push(b'e');
        let e = n - 1;
        out.push(if e < 0 { b'-' } else { b'+' });
        let mut ibuf = itoa::Buffer::new();
        out.push_all(ibuf.format(e.unsigned_abs()).as_bytes());
    }
    out
}

fn parse_exponent(text: &[u8]) -> i32 {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, text),
    };
    let mut value: i32 = 0;
    for &d in digits {
        value = value
            .saturating_mul(10)
            .saturating_add(i32::from(d.wrapping_sub(b'0')));
    }
    if negative {
        -value
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::super::write::SliceWriter;
    use super::*;
    use std::format;

    fn js(text: &[u8]) -> std::vec::Vec<u8> {
        let mut buf = [0u8; 64];
        let mut w = SliceWriter::new(&mut buf);
        write_js(&mut w, text).unwrap();
        w.written().to_vec()
    }

    #[test]
    fn relayout_handles_every_ryu_shape() {
        for (ryu_text, want) in [
            ("100.0", "100"),
            ("1e21", "1e+21"),
            ("1.5e-7", "1.5e-7"),
            ("0.001", "0.001"),
            ("-1.25", "-1.25"),
            ("1E2", "100"),
            ("1.0e+2", "100"),
            ("1.2345e20", "123450000000000000000"),
            ("1.5e-6", "0.0000015"),
        ] {
            assert_eq!(relayout(ryu_text.as_bytes()).as_bytes(), want.as_bytes());
        }
    }

    /// The fast path agrees with the full re-layout at every magnitude.
    #[test]
    fn fast_path_equals_relayout() {
        let mut ryu_buf = ryu::Buffer::new();
        for exp in -325..=309 {
            for mantissa in [1.0, 1.5, 2.220446049250313, 9.999999999999999, 7.0] {
                let v: f64 = format!("{mantissa}e{exp}").parse().unwrap();
                for v in [v, -v] {
                    if v == 0.0 || !v.is_finite() {
                        continue;
                    }
                    let text = ryu_buf.format_finite(v).as_bytes().to_vec();
                    assert_eq!(js(&text), relayout(&text).as_bytes(), "{v:e}");
                    let f = v as f32;
                    if f != 0.0 && f.is_finite() {
                        let text = ryu_buf.format_finite(f).as_bytes().to_vec();
                        assert_eq!(js(&text), relayout(&text).as_bytes(), "{f:e}");
                    }
                }
            }
        }
    }

    /// Around the powers of ten where ryu or JavaScript switch layouts.
    #[test]
    fn layout_boundaries_agree_with_relayout() {
        let mut ryu_buf = ryu::Buffer::new();
        for edge in [1e-7, 1e-6, 1e-5, 1e-4, 1e15, 1e16, 1e17, 1e20, 1e21, 1e22] {
            let bits = f64::to_bits(edge);
            for b in bits - 3..=bits + 3 {
                let v = f64::from_bits(b);
                let mut buf = [0u8; 64];
                let mut w = SliceWriter::new(&mut buf);
                write_f64(&mut w, v).unwrap();
                let text = ryu_buf.format_finite(v).as_bytes().to_vec();
                assert_eq!(w.written(), relayout(&text).as_bytes(), "{v:e}");
            }
        }
    }

    #[test]
    fn non_finite_is_null_and_zero_is_unsigned() {
        for (v, want) in [
            (f64::NAN, "null"),
            (f64::INFINITY, "null"),
            (-0.0, "0"),
            (0.0, "0"),
        ] {
            let mut buf = [0u8; 8];
            let mut w = SliceWriter::new(&mut buf);
            write_f64(&mut w, v).unwrap();
            assert_eq!(w.written(), want.as_bytes());
        }
    }
}
