//! The msgpack grammar, read one value head at a time, with bounds checks
//! everywhere and no allocation.

use super::MsgpackError;

/// One msgpack value head, as notepack.io reads it. Containers carry their
/// element count; their elements follow.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Head<'a> {
    Nil,
    /// fixext1 type 0 (`d4 00 xx`): JavaScript's `undefined`.
    Undefined,
    Bool(bool),
    /// `uint 8/16/32/64` and positive fixints.
    Uint(u64),
    /// `int 8/16/32/64` (which may hold a non-negative value) and negative fixints.
    Int(i64),
    F32(f32),
    F64(f64),
    /// A string's UTF-8 bytes (not yet checked).
    Str(&'a [u8]),
    /// `bin 8/16/32`, and `ext 8/16/32` of type 0 (notepack.io's ArrayBuffer).
    Bin(&'a [u8]),
    /// Any other extension: its type and data (JavaScript sees `[type, Buffer]`).
    Ext(i8, &'a [u8]),
    /// fixext8 type 0: a JavaScript `Date`, in milliseconds since the epoch.
    Date(i64),
    Array(usize),
    Map(usize),
}

fn take<'a>(buf: &'a [u8], pos: &mut usize, n: usize) -> Result<&'a [u8], MsgpackError> {
    let end = pos.checked_add(n).ok_or(MsgpackError::UnexpectedEnd)?;
    let s = buf.get(*pos..end).ok_or(MsgpackError::UnexpectedEnd)?;
    *pos = end;
    Ok(s)
}

fn be<const N: usize>(buf: &[u8], pos: &mut usize) -> Result<[u8; N], MsgpackError> {
    let mut out = [0u8; N];
    out.copy_from_slice(take(buf, pos, N)?);
    Ok(out)
}

fn len_of(buf: &[u8], pos: &mut usize, width: usize) -> Result<usize, MsgpackError> {
    Ok(match width {
        1 => usize::from(u8::from_be_bytes(be(buf, pos)?)),
        2 => usize::from(u16::from_be_bytes(be(buf, pos)?)),
        _ => usize::try_from(u32::from_be_bytes(be(buf, pos)?))
            .map_err(|_| MsgpackError::UnexpectedEnd)?,
    })
}

/// Checks that `count` elements (each at least one byte) can still fit.
fn fits(buf: &[u8], pos: usize, count: usize, per: usize) -> Result<usize, MsgpackError> {
    let need = count.checked_mul(per).ok_or(MsgpackError::UnexpectedEnd)?;
    if need > buf.len().saturating_sub(pos) {
        return Err(MsgpackError::UnexpectedEnd);
    }
    Ok(count)
}

fn ext<'a>(buf: &'a [u8], pos: &mut usize, len: usize) -> Result<Head<'a>, MsgpackError> {
    let ty = i8::from_be_bytes(be(buf, pos)?);
    let data = take(buf, pos, len)?;
    Ok(if ty == 0 {
        Head::Bin(data)
    } else {
        Head::Ext(ty, data)
    })
}

fn fixext<'a>(buf: &'a [u8], pos: &mut usize, len: usize) -> Result<Head<'a>, MsgpackError> {
    let ty = i8::from_be_bytes(be(buf, pos)?);
    let data = take(buf, pos, len)?;
    Ok(match (ty, len) {
        (0, 1) => Head::Undefined,
        (0, 8) => {
            let mut b = [0u8; 8];
            b.copy_from_slice(data);
            Head::Date(i64::from_be_bytes(b))
        }
        _ => Head::Ext(ty, data),
    })
}

/// Reads the head at `*pos` and moves past it (and past the payload of
/// strings, binaries and extensions, but not past container elements).
pub(crate) fn head<'a>(buf: &'a [u8], pos: &mut usize) -> Result<Head<'a>, MsgpackError> {
    let at = *pos;
    let marker = *buf.get(at).ok_or(MsgpackError::UnexpectedEnd)?;
    *pos = at + 1;
    Ok(match marker {
        0x00..=0x7f => Head::Uint(u64::from(marker)),
        0x80..=0x8f => Head::Map(fits(buf, *pos, usize::from(marker & 0x0f), 2)?),
        0x90..=0x9f => Head::Array(fits(buf, *pos, usize::from(marker & 0x0f), 1)?),
        0xa0..=0xbf => Head::Str(take(buf, pos, usize::from(marker & 0x1f))?),
        0xc0 => Head::Nil,
        0xc2 => Head::Bool(false),
        0xc3 => Head::Bool(true),
        0xc4..=0xc6 => {
            let n = len_of(buf, pos, 1 << (marker - 0xc4))?;
            Head::Bin(take(buf, pos, n)?)
        }
        0xc7..=0xc9 => {
            let n = len_of(buf, pos, 1 << (marker - 0xc7))?;
            ext(buf, pos, n)?
        }
        0xca => Head::F32(f32::from_be_bytes(be(buf, pos)?)),
        0xcb => Head::F64(f64::from_be_bytes(be(buf, pos)?)),
        0xcc => Head::Uint(u64::from(u8::from_be_bytes(be(buf, pos)?))),
        0xcd => Head::Uint(u64::from(u16::from_be_bytes(be(buf, pos)?))),
        0xce => Head::Uint(u64::from(u32::from_be_bytes(be(buf, pos)?))),
        0xcf => Head::Uint(u64::from_be_bytes(be(buf, pos)?)),
        0xd0 => Head::Int(i64::from(i8::from_be_bytes(be(buf, pos)?))),
        0xd1 => Head::Int(i64::from(i16::from_be_bytes(be(buf, pos)?))),
        0xd2 => Head::Int(i64::from(i32::from_be_bytes(be(buf, pos)?))),
        0xd3 => Head::Int(i64::from_be_bytes(be(buf, pos)?)),
        0xd4..=0xd8 => fixext(buf, pos, 1 << (marker - 0xd4))?,
        0xd9..=0xdb => {
            let n = len_of(buf, pos, 1 << (marker - 0xd9))?;
            Head::Str(take(buf, pos, n)?)
        }
        0xdc | 0xdd => {
            let n = len_of(buf, pos, if marker == 0xdc { 2 } else { 4 })?;
            Head::Array(fits(buf, *pos, n, 1)?)
        }
        0xde | 0xdf => {
            let n = len_of(buf, pos, if marker == 0xde { 2 } else { 4 })?;
            Head::Map(fits(buf, *pos, n, 2)?)
        }
        0xe0..=0xff => Head::Int(i64::from(i8::from_be_bytes([marker]))),
        0xc1 => return Err(MsgpackError::InvalidMarker { offset: at }),
    })
}

/// A string head's bytes as `&str`, or [`MsgpackError::InvalidUtf8`] at `offset`.
pub(crate) fn utf8(bytes: &[u8], offset: usize) -> Result<&str, MsgpackError> {
    core::str::from_utf8(bytes).map_err(|_| MsgpackError::InvalidUtf8 { offset })
}

/// Moves past one whole value, checking its grammar, its strings' UTF-8
/// and that containers nest at most `depth_left` levels. Recursion is
/// bounded by `depth_left`.
pub(crate) fn skip(buf: &[u8], pos: &mut usize, depth_left: usize) -> Result<(), MsgpackError> {
    let at = *pos;
    let items = match head(buf, pos)? {
        Head::Str(s) => {
            utf8(s, at)?;
            return Ok(());
        }
        Head::Array(n) => n,
        Head::Map(n) => n.checked_mul(2).ok_or(MsgpackError::UnexpectedEnd)?,
        _ => return Ok(()),
    };
    let inner = depth_left.checked_sub(1).ok_or(MsgpackError::TooDeep)?;
    for _ in 0..items {
        skip(buf, pos, inner)?;
    }
    Ok(())
}

/// Whether `h` is a number with an integral value, and which.
pub(crate) fn integer(h: Head<'_>) -> Option<i128> {
    const LIMIT: f64 = 1.8446744073709552e19; // 2^64
    match h {
        Head::Uint(v) => Some(i128::from(v)),
        Head::Int(v) => Some(i128::from(v)),
        Head::F32(f) => integer(Head::F64(f64::from(f))),
        // Within ±2^64 `as` truncates exactly; an integral value survives the round trip.
        Head::F64(f) if f.abs() < LIMIT && (f as i128) as f64 == f => Some(f as i128),
        _ => None,
    }
}
