//! A `serde` serializer writing msgpack exactly as notepack.io (and so
//! socket.io-msgpack-parser) writes the same JavaScript value.

use core::fmt;
use serde::ser::{self, Serialize};

use super::UNDEFINED;
use crate::json::JsonError;

type Result<T> = core::result::Result<T, JsonError>;

/// Where msgpack goes. A container of unknown length gets a 5-byte header
/// slot that [`Out::fix_header`] later shrinks to the real header.
pub(crate) trait Out {
    fn put(&mut self, bytes: &[u8]) -> Result<()>;
    fn pos(&self) -> usize;
    /// Replaces the 5 bytes at `at` by `header` (at most 5 bytes), moving
    /// what follows them back.
    fn fix_header(&mut self, at: usize, header: &[u8]) -> Result<()>;
}

/// A caller's buffer.
pub(crate) struct SliceOut<'b> {
    pub(crate) buf: &'b mut [u8],
    pub(crate) len: usize,
}

impl Out for SliceOut<'_> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        let end = self
            .len
            .checked_add(bytes.len())
            .ok_or(JsonError::BufferFull)?;
        self.buf
            .get_mut(self.len..end)
            .ok_or(JsonError::BufferFull)?
            .copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }

    fn pos(&self) -> usize {
        self.len
    }

    fn fix_header(&mut self, at: usize, header: &[u8]) -> Result<()> {
        let gap = HEADER_SLOT
            .checked_sub(header.len())
            .ok_or(JsonError::BufferFull)?;
        let body = at + HEADER_SLOT;
        if body > self.len {
            return Err(JsonError::BufferFull);
        }
        self.buf.copy_within(body..self.len, body - gap);
        self.buf
            .get_mut(at..at + header.len())
            .ok_or(JsonError::BufferFull)?
            .copy_from_slice(header);
        self.len -= gap;
        Ok(())
    }
}

#[cfg(feature = "alloc")]
impl Out for alloc::vec::Vec<u8> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        self.extend_from_slice(bytes);
        Ok(())
    }

    fn pos(&self) -> usize {
        self.len()
    }

    fn fix_header(&mut self, at: usize, header: &[u8]) -> Result<()> {
        let end = at + HEADER_SLOT;
        if end > self.len() {
            return Err(JsonError::BufferFull);
        }
        self.splice(at..end, header.iter().copied());
        Ok(())
    }
}

const HEADER_SLOT: usize = 5;

/// A number's head and big-endian bytes, the way notepack.io picks them.
pub(crate) fn write_u64<O: Out + ?Sized>(out: &mut O, v: u64) -> Result<()> {
    match v {
        0..=0x7f => out.put(&[v as u8]),
        0x80..=0xff => out.put(&[0xcc, v as u8]),
        0x100..=0xffff => {
            let [a, b] = (v as u16).to_be_bytes();
            out.put(&[0xcd, a, b])
        }
        0x1_0000..=0xffff_ffff => {
            let [a, b, c, d] = (v as u32).to_be_bytes();
            out.put(&[0xce, a, b, c, d])
        }
        _ => {
            out.put(&[0xcf])?;
            out.put(&v.to_be_bytes())
        }
    }
}

pub(crate) fn write_i64<O: Out + ?Sized>(out: &mut O, v: i64) -> Result<()> {
    if let Ok(u) = u64::try_from(v) {
        return write_u64(out, u);
    }
    match v {
        -0x20..=-1 => out.put(&[v as u8]),
        -0x80..=-0x21 => out.put(&[0xd0, v as u8]),
        -0x8000..=-0x81 => {
            let [a, b] = (v as i16).to_be_bytes();
            out.put(&[0xd1, a, b])
        }
        -0x8000_0000..=-0x8001 => {
            let [a, b, c, d] = (v as i32).to_be_bytes();
            out.put(&[0xd2, a, b, c, d])
        }
        _ => {
            out.put(&[0xd3])?;
            out.put(&v.to_be_bytes())
        }
    }
}

/// A JavaScript number: integral values within ±2^64 as integers (as
/// notepack.io does, `-0` included), everything else as float 64 (NaN bits
/// as given, as V8 writes them). notepack.io writes integral values beyond that
/// range with wrapped bits; this writes the float.
pub(crate) fn write_f64<O: Out + ?Sized>(out: &mut O, v: f64) -> Result<()> {
    const TWO_64: f64 = 1.8446744073709552e19;
    const TWO_63: f64 = 9.223_372_036_854_776e18;
    if (0.0..TWO_64).contains(&v) && (v as u64) as f64 == v {
        return write_u64(out, v as u64);
    }
    if (-TWO_63..0.0).contains(&v) && (v as i64) as f64 == v {
        return write_i64(out, v as i64);
    }
    out.put(&[0xcb])?;
    out.put(&v.to_bits().to_be_bytes())
}

fn sized<O: Out + ?Sized>(
    out: &mut O,
    len: usize,
    heads: [u8; 3],
    fix: Option<(u8, usize)>,
) -> Result<()> {
    if let Some((base, below)) = fix {
        if len < below {
            return out.put(&[base | len as u8]);
        }
    }
    if let (Ok(n), true) = (u8::try_from(len), heads[0] != 0) {
        return out.put(&[heads[0], n]);
    }
    if let Ok(n) = u16::try_from(len) {
        let [a, b] = n.to_be_bytes();
        return out.put(&[heads[1], a, b]);
    }
    let n = u32::try_from(len).map_err(|_| JsonError::BufferFull)?;
    let [a, b, c, d] = n.to_be_bytes();
    out.put(&[heads[2], a, b, c, d])
}

pub(crate) fn write_str<O: Out + ?Sized>(out: &mut O, s: &str) -> Result<()> {
    sized(out, s.len(), [0xd9, 0xda, 0xdb], Some((0xa0, 0x20)))?;
    out.put(s.as_bytes())
}

pub(crate) fn write_bin<O: Out + ?Sized>(out: &mut O, b: &[u8]) -> Result<()> {
    sized(out, b.len(), [0xc4, 0xc5, 0xc6], None)?;
    out.put(b)
}

pub(crate) fn array_header<O: Out + ?Sized>(out: &mut O, len: usize) -> Result<()> {
    sized(out, len, [0, 0xdc, 0xdd], Some((0x90, 0x10)))
}

pub(crate) fn map_header<O: Out + ?Sized>(out: &mut O, len: usize) -> Result<()> {
    sized(out, len, [0, 0xde, 0xdf], Some((0x80, 0x10)))
}

/// The header for `len` elements, into a small array (for [`Out::fix_header`]).
fn header_bytes(len: usize, map: bool) -> Result<([u8; 5], usize)> {
    let mut tmp = HeaderBuf([0; 5], 0);
    if map {
        map_header(&mut tmp, len)?;
    } else {
        array_header(&mut tmp, len)?;
    }
    Ok((tmp.0, tmp.1))
}

struct HeaderBuf([u8; 5], usize);

impl Out for HeaderBuf {
    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        let end = self.1 + bytes.len();
        self.0
            .get_mut(self.1..end)
            .ok_or(JsonError::BufferFull)?
            .copy_from_slice(bytes);
        self.1 = end;
        Ok(())
    }
    fn pos(&self) -> usize {
        self.1
    }
    fn fix_header(&mut self, _: usize, _: &[u8]) -> Result<()> {
        Err(JsonError::BufferFull)
    }
}

/// The serializer; `&mut Serializer` implements `serde::Serializer`.
pub(crate) struct Serializer<'o, O: ?Sized> {
    pub(crate) out: &'o mut O,
}

/// An array or a map being written.
pub(crate) struct Compound<'a, 'o, O: ?Sized> {
    ser: &'a mut Serializer<'o, O>,
    /// Where the 5-byte header slot is, when the length was not given.
    slot: Option<usize>,
    expected: usize,
    count: usize,
    map: bool,
}

impl<'a, 'o, O: Out + ?Sized> Compound<'a, 'o, O> {
    fn begin(ser: &'a mut Serializer<'o, O>, len: Option<usize>, map: bool) -> Result<Self> {
        let slot = match len {
            Some(n) if map => map_header(ser.out, n).map(|_| None)?,
            Some(n) => array_header(ser.out, n).map(|_| None)?,
            None => {
                let at = ser.out.pos();
                ser.out.put(&[0; HEADER_SLOT])?;
                Some(at)
            }
        };
        Ok(Compound {
            ser,
            slot,
            expected: len.unwrap_or(0),
            count: 0,
            map,
        })
    }

    fn finish(self) -> Result<()> {
        match self.slot {
            Some(at) => {
                let (bytes, n) = header_bytes(self.count, self.map)?;
                self.ser
                    .out
                    .fix_header(at, bytes.get(..n).ok_or(JsonError::BufferFull)?)
            }
            None if self.count == self.expected => Ok(()),
            None => Err(JsonError::InvalidLength(self.count)),
        }
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.count += 1;
        value.serialize(&mut *self.ser)
    }
}

/// `{"Variant": …}`: the one-entry map a non-unit enum variant becomes.
fn variant_key<O: Out + ?Sized>(out: &mut O, variant: &str) -> Result<()> {
    out.put(&[0x81])?;
    write_str(out, variant)
}

impl<'a, 'o, O: Out + ?Sized> ser::Serializer for &'a mut Serializer<'o, O> {
    type Ok = ();
    type Error = JsonError;
    type SerializeSeq = Compound<'a, 'o, O>;
    type SerializeTuple = Compound<'a, 'o, O>;
    type SerializeTupleStruct = Compound<'a, 'o, O>;
    type SerializeTupleVariant = Compound<'a, 'o, O>;
    type SerializeMap = Compound<'a, 'o, O>;
    type SerializeStruct = Compound<'a, 'o, O>;
    type SerializeStructVariant = Compound<'a, 'o, O>;

    fn serialize_bool(self, v: bool) -> Result<()> {
        self.out.put(&[if v { 0xc3 } else { 0xc2 }])
    }
    fn serialize_i8(self, v: i8) -> Result<()> {
        write_i64(self.out, i64::from(v))
    }
    fn serialize_i16(self, v: i16) -> Result<()> {
        write_i64(self.out, i64::from(v))
    }
    fn serialize_i32(self, v: i32) -> Result<()> {
        write_i64(self.out, i64::from(v))
    }
    fn serialize_i64(self, v: i64) -> Result<()> {
        write_i64(self.out, v)
    }
    fn serialize_i128(self, v: i128) -> Result<()> {
        match (i64::try_from(v), u64::try_from(v)) {
            (Ok(i), _) => write_i64(self.out, i),
            (_, Ok(u)) => write_u64(self.out, u),
            _ => write_f64(self.out, v as f64),
        }
    }
    fn serialize_u8(self, v: u8) -> Result<()> {
        write_u64(self.out, u64::from(v))
    }
    fn serialize_u16(self, v: u16) -> Result<()> {
        write_u64(self.out, u64::from(v))
    }
    fn serialize_u32(self, v: u32) -> Result<()> {
        write_u64(self.out, u64::from(v))
    }
    fn serialize_u64(self, v: u64) -> Result<()> {
        write_u64(self.out, v)
    }
    fn serialize_u128(self, v: u128) -> Result<()> {
        match u64::try_from(v) {
            Ok(u) => write_u64(self.out, u),
            Err(_) => write_f64(self.out, v as f64),
        }
    }
    /// JavaScript holds every number as an `f64`: the value is widened.
    fn serialize_f32(self, v: f32) -> Result<()> {
        write_f64(self.out, f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<()> {
        write_f64(self.out, v)
    }
    fn serialize_char(self, v: char) -> Result<()> {
        write_str(self.out, v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<()> {
        write_str(self.out, v)
    }
    /// A Node `Buffer`: `bin 8/16/32`.
    fn serialize_bytes(self, v: &[u8]) -> Result<()> {
        write_bin(self.out, v)
    }
    fn serialize_none(self) -> Result<()> {
        self.out.put(&[0xc0])
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<()> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<()> {
        self.out.put(&[0xc0])
    }
    /// `nil`, or `d4 00 00` for [`Undefined`](super::Undefined).
    fn serialize_unit_struct(self, name: &'static str) -> Result<()> {
        if core::ptr::eq(name, UNDEFINED) || name == UNDEFINED {
            self.out.put(&[0xd4, 0, 0])
        } else {
            self.out.put(&[0xc0])
        }
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<()> {
        write_str(self.out, variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<()> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<()> {
        variant_key(self.out, variant)?;
        value.serialize(self)
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq> {
        Compound::begin(self, len, false)
    }
    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple> {
        Compound::begin(self, Some(len), false)
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct> {
        Compound::begin(self, Some(len), false)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        variant_key(self.out, variant)?;
        Compound::begin(self, Some(len), false)
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap> {
        Compound::begin(self, len, true)
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Self::SerializeStruct> {
        Compound::begin(self, Some(len), true)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant> {
        variant_key(self.out, variant)?;
        Compound::begin(self, Some(len), true)
    }
    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result<()> {
        write_display(self.out, value)
    }
}

/// A `Display` value as a string, formatted twice (to learn its length,
/// then to write it) instead of into a temporary buffer.
fn write_display<O: Out + ?Sized, T: fmt::Display + ?Sized>(out: &mut O, value: &T) -> Result<()> {
    let mut counter = Counter(0);
    fmt::write(&mut counter, format_args!("{value}")).map_err(|_| JsonError::InvalidValue)?;
    sized(out, counter.0, [0xd9, 0xda, 0xdb], Some((0xa0, 0x20)))?;
    let start = out.pos();
    let mut w = FmtOut(out, Ok(()));
    let _ = fmt::write(&mut w, format_args!("{value}"));
    w.1?;
    if w.0.pos() - start == counter.0 {
        Ok(())
    } else {
        Err(JsonError::InvalidValue)
    }
}

struct Counter(usize);

impl fmt::Write for Counter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0 += s.len();
        Ok(())
    }
}

struct FmtOut<'a, O: ?Sized>(&'a mut O, Result<()>);

impl<O: Out + ?Sized> fmt::Write for FmtOut<'_, O> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.1 = self.0.put(s.as_bytes());
        self.1.clone().map_err(|_| fmt::Error)
    }
}

impl<O: Out + ?Sized> ser::SerializeSeq for Compound<'_, '_, O> {
    type Ok = ();
    type Error = JsonError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.element(value)
    }
    fn end(self) -> Result<()> {
        self.finish()
    }
}

impl<O: Out + ?Sized> ser::SerializeTuple for Compound<'_, '_, O> {
    type Ok = ();
    type Error = JsonError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.element(value)
    }
    fn end(self) -> Result<()> {
        self.finish()
    }
}

impl<O: Out + ?Sized> ser::SerializeTupleStruct for Compound<'_, '_, O> {
    type Ok = ();
    type Error = JsonError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.element(value)
    }
    fn end(self) -> Result<()> {
        self.finish()
    }
}

impl<O: Out + ?Sized> ser::SerializeTupleVariant for Compound<'_, '_, O> {
    type Ok = ();
    type Error = JsonError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.element(value)
    }
    fn end(self) -> Result<()> {
        self.finish()
    }
}

impl<O: Out + ?Sized> ser::SerializeMap for Compound<'_, '_, O> {
    type Ok = ();
    type Error = JsonError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<()> {
        self.count += 1;
        key.serialize(MapKey(&mut *self.ser.out))
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        value.serialize(&mut *self.ser)
    }
    fn end(self) -> Result<()> {
        self.finish()
    }
}

impl<O: Out + ?Sized> ser::SerializeStruct for Compound<'_, '_, O> {
    type Ok = ();
    type Error = JsonError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        self.count += 1;
        write_str(self.ser.out, key)?;
        value.serialize(&mut *self.ser)
    }
    fn end(self) -> Result<()> {
        self.finish()
    }
}

impl<O: Out + ?Sized> ser::SerializeStructVariant for Compound<'_, '_, O> {
    type Ok = ();
    type Error = JsonError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        ser::SerializeStruct::serialize_field(self, key, value)
    }
    fn end(self) -> Result<()> {
        self.finish()
    }
}

/// Map keys: JavaScript object keys are strings, so numbers, `bool`s and
/// `char`s are written as their text, as `JSON.stringify` does.
struct MapKey<'a, O: ?Sized>(&'a mut O);

macro_rules! key_as_text {
    ($($method:ident($ty:ty);)*) => {
        $(
            fn $method(self, v: $ty) -> Result<()> {
                let mut digits = itoa::Buffer::new();
                write_str(self.0, digits.format(v))
            }
        )*
    };
}

macro_rules! key_refused {
    ($($method:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        $(
            fn $method(self, $(_: $ty),*) -> Result<$ret> {
                Err(JsonError::InvalidType)
            }
        )*
    };
}

impl<O: Out + ?Sized> ser::Serializer for MapKey<'_, O> {
    type Ok = ();
    type Error = JsonError;
    type SerializeSeq = ser::Impossible<(), JsonError>;
    type SerializeTuple = ser::Impossible<(), JsonError>;
    type SerializeTupleStruct = ser::Impossible<(), JsonError>;
    type SerializeTupleVariant = ser::Impossible<(), JsonError>;
    type SerializeMap = ser::Impossible<(), JsonError>;
    type SerializeStruct = ser::Impossible<(), JsonError>;
    type SerializeStructVariant = ser::Impossible<(), JsonError>;

    key_as_text! {
        serialize_i8(i8);
        serialize_i16(i16);
        serialize_i32(i32);
        serialize_i64(i64);
        serialize_i128(i128);
        serialize_u8(u8);
        serialize_u16(u16);
        serialize_u32(u32);
        serialize_u64(u64);
        serialize_u128(u128);
    }

    key_refused! {
        serialize_f32(v: f32) -> ();
        serialize_f64(v: f64) -> ();
        serialize_bytes(v: &[u8]) -> ();
        serialize_none() -> ();
        serialize_unit() -> ();
        serialize_unit_struct(name: &'static str) -> ();
        serialize_seq(len: Option<usize>) -> Self::SerializeSeq;
        serialize_tuple(len: usize) -> Self::SerializeTuple;
        serialize_tuple_struct(name: &'static str, len: usize) -> Self::SerializeTupleStruct;
        serialize_tuple_variant(name: &'static str, index: u32, variant: &'static str, len: usize) -> Self::SerializeTupleVariant;
        serialize_map(len: Option<usize>) -> Self::SerializeMap;
        serialize_struct(name: &'static str, len: usize) -> Self::SerializeStruct;
        serialize_struct_variant(name: &'static str, index: u32, variant: &'static str, len: usize) -> Self::SerializeStructVariant;
    }

    fn serialize_bool(self, v: bool) -> Result<()> {
        write_str(self.0, if v { "true" } else { "false" })
    }
    fn serialize_char(self, v: char) -> Result<()> {
        write_str(self.0, v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<()> {
        write_str(self.0, v)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<()> {
        value.serialize(self)
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<()> {
        write_str(self.0, variant)
    }
    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result<()> {
        write_display(self.0, value)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<()> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<()> {
        Err(JsonError::InvalidType)
    }
}

/// Writes a Socket.IO argument list: an array of the event name (if any)
/// and the arguments, spread by the rules of
/// [`json::ser::write_args`](crate::json::ser::write_args).
pub(crate) struct ArgsSerializer<'a, 'o, O: ?Sized> {
    pub(crate) ser: &'a mut Serializer<'o, O>,
    pub(crate) event: Option<&'a str>,
}

impl<'a, 'o, O: Out + ?Sized> ArgsSerializer<'a, 'o, O> {
    /// Writes the array header for `args` arguments and the event name.
    fn start(self, args: usize) -> Result<&'a mut Serializer<'o, O>> {
        array_header(self.ser.out, args + usize::from(self.event.is_some()))?;
        if let Some(name) = self.event {
            write_str(self.ser.out, name)?;
        }
        Ok(self.ser)
    }
}

macro_rules! single_argument {
    ($($method:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        $(
            fn $method(self, $($arg: $ty),*) -> Result<$ret> {
                ser::Serializer::$method(self.start(1)?, $($arg),*)
            }
        )*
    };
}

impl<'a, 'o, O: Out + ?Sized> ser::Serializer for ArgsSerializer<'a, 'o, O> {
    type Ok = ();
    type Error = JsonError;
    type SerializeSeq = Compound<'a, 'o, O>;
    type SerializeTuple = Compound<'a, 'o, O>;
    type SerializeTupleStruct = Compound<'a, 'o, O>;
    type SerializeTupleVariant = Compound<'a, 'o, O>;
    type SerializeMap = Compound<'a, 'o, O>;
    type SerializeStruct = Compound<'a, 'o, O>;
    type SerializeStructVariant = Compound<'a, 'o, O>;

    single_argument! {
        serialize_bool(v: bool) -> ();
        serialize_i8(v: i8) -> ();
        serialize_i16(v: i16) -> ();
        serialize_i32(v: i32) -> ();
        serialize_i64(v: i64) -> ();
        serialize_i128(v: i128) -> ();
        serialize_u8(v: u8) -> ();
        serialize_u16(v: u16) -> ();
        serialize_u32(v: u32) -> ();
        serialize_u64(v: u64) -> ();
        serialize_u128(v: u128) -> ();
        serialize_f32(v: f32) -> ();
        serialize_f64(v: f64) -> ();
        serialize_char(v: char) -> ();
        serialize_str(v: &str) -> ();
        serialize_bytes(v: &[u8]) -> ();
        serialize_none() -> ();
        serialize_unit_struct(name: &'static str) -> ();
        serialize_unit_variant(name: &'static str, index: u32, variant: &'static str) -> ();
        serialize_seq(len: Option<usize>) -> Self::SerializeSeq;
        serialize_tuple_struct(name: &'static str, len: usize) -> Self::SerializeTupleStruct;
        serialize_tuple_variant(name: &'static str, index: u32, variant: &'static str, len: usize) -> Self::SerializeTupleVariant;
        serialize_map(len: Option<usize>) -> Self::SerializeMap;
        serialize_struct(name: &'static str, len: usize) -> Self::SerializeStruct;
        serialize_struct_variant(name: &'static str, index: u32, variant: &'static str, len: usize) -> Self::SerializeStructVariant;
    }

    /// `()`: no argument.
    fn serialize_unit(self) -> Result<()> {
        self.start(0).map(|_| ())
    }

    /// A tuple: one argument per field.
    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple> {
        let ser = self.start(len)?;
        Ok(Compound {
            ser,
            slot: None,
            expected: len,
            count: 0,
            map: false,
        })
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<()> {
        value.serialize(self)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<()> {
        value.serialize(self.start(1)?)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<()> {
        ser::Serializer::serialize_newtype_variant(self.start(1)?, name, index, variant, value)
    }

    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result<()> {
        ser::Serializer::collect_str(self.start(1)?, value)
    }
}
