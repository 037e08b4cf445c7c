//! A zero-copy `serde` deserializer over msgpack bytes, with a depth limit.

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use serde::Deserialize;

use super::read::{self, head, Head};
use super::MsgpackError;
use crate::json::JsonError;
use crate::socketio::args::ALL_ARGS;

type Result<T> = core::result::Result<T, JsonError>;

impl From<MsgpackError> for JsonError {
    fn from(e: MsgpackError) -> JsonError {
        match e {
            MsgpackError::UnexpectedEnd => JsonError::UnexpectedEnd,
            MsgpackError::InvalidMarker { offset } => JsonError::UnexpectedByte { offset },
            MsgpackError::InvalidUtf8 { .. } => JsonError::InvalidString,
            MsgpackError::TooDeep => JsonError::TooDeep,
            MsgpackError::TrailingData => JsonError::TrailingData,
            MsgpackError::TooLarge => JsonError::InvalidLength(0),
        }
    }
}

/// Reads one value from msgpack bytes; see [`from_slice`](super::from_slice).
pub(crate) struct Deserializer<'de> {
    buf: &'de [u8],
    pos: usize,
    depth_left: usize,
}

impl<'de> Deserializer<'de> {
    pub(crate) fn new(buf: &'de [u8], max_depth: usize) -> Self {
        Deserializer {
            buf,
            pos: 0,
            depth_left: max_depth,
        }
    }

    fn peek(&self) -> Result<Head<'de>> {
        let mut pos = self.pos;
        Ok(head(self.buf, &mut pos)?)
    }

    fn next(&mut self) -> Result<Head<'de>> {
        Ok(head(self.buf, &mut self.pos)?)
    }

    pub(crate) fn skip_value(&mut self) -> Result<()> {
        Ok(read::skip(self.buf, &mut self.pos, self.depth_left)?)
    }

    pub(crate) fn end(&self) -> Result<()> {
        if self.pos == self.buf.len() {
            Ok(())
        } else {
            Err(JsonError::TrailingData)
        }
    }

    fn enter(&mut self) -> Result<()> {
        self.depth_left = self.depth_left.checked_sub(1).ok_or(JsonError::TooDeep)?;
        Ok(())
    }

    fn leave(&mut self) {
        self.depth_left += 1;
    }

    fn str_at(&self, bytes: &'de [u8], at: usize) -> Result<&'de str> {
        Ok(read::utf8(bytes, at)?)
    }

    fn container<V: Visitor<'de>>(&mut self, h: Head<'de>, visitor: V) -> Result<V::Value> {
        let (count, map) = match h {
            Head::Array(n) => (n, false),
            Head::Map(n) => (n, true),
            _ => return Err(JsonError::InvalidType),
        };
        self.enter()?;
        let mut access = Access {
            de: self,
            left: count,
        };
        let value = if map {
            visitor.visit_map(&mut access)
        } else {
            visitor.visit_seq(&mut access)
        }?;
        if access.left != 0 {
            return Err(JsonError::InvalidLength(count));
        }
        self.leave();
        Ok(value)
    }
}

/// The elements of an array or the entries of a map, `left` still unread.
struct Access<'a, 'de> {
    de: &'a mut Deserializer<'de>,
    left: usize,
}

impl<'de> de::SeqAccess<'de> for &mut Access<'_, 'de> {
    type Error = JsonError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        seed.deserialize(&mut *self.de).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

impl<'de> de::MapAccess<'de> for &mut Access<'_, 'de> {
    type Error = JsonError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        seed.deserialize(&mut *self.de).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        seed.deserialize(&mut *self.de)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

/// An extension other than notepack.io's: JavaScript sees `[type, Buffer]`.
struct ExtSeq<'de> {
    ty: i8,
    data: &'de [u8],
    at: u8,
}

impl<'de> de::SeqAccess<'de> for ExtSeq<'de> {
    type Error = JsonError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        self.at += 1;
        match self.at {
            1 => seed.deserialize(self.ty.into_deserializer()).map(Some),
            2 => seed
                .deserialize(de::value::BorrowedBytesDeserializer::new(self.data))
                .map(Some),
            _ => Ok(None),
        }
    }
}

/// The bytes of a binary value, as a sequence of `u8` (for `Vec<u8>`).
struct ByteSeq<'de>(core::slice::Iter<'de, u8>);

impl<'de> de::SeqAccess<'de> for ByteSeq<'de> {
    type Error = JsonError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        match self.0.next() {
            Some(b) => seed.deserialize(b.into_deserializer()).map(Some),
            None => Ok(None),
        }
    }
}

/// An enum variant written as `{"Name": value}`.
struct Variant<'a, 'de> {
    de: &'a mut Deserializer<'de>,
}

impl<'de> de::EnumAccess<'de> for Variant<'_, 'de> {
    type Error = JsonError;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self)> {
        let name = seed.deserialize(&mut *self.de)?;
        Ok((name, self))
    }
}

impl<'de> de::VariantAccess<'de> for Variant<'_, 'de> {
    type Error = JsonError;

    fn unit_variant(self) -> Result<()> {
        de::Deserialize::deserialize(self.de)
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value> {
        seed.deserialize(self.de)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        de::Deserializer::deserialize_seq(self.de, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        de::Deserializer::deserialize_map(self.de, visitor)
    }
}

impl<'de> de::Deserializer<'de> for &mut Deserializer<'de> {
    type Error = JsonError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let at = self.pos;
        match self.next()? {
            Head::Nil => visitor.visit_unit(),
            Head::Undefined => visitor.visit_none(),
            Head::Bool(b) => visitor.visit_bool(b),
            Head::Uint(v) => visitor.visit_u64(v),
            Head::Int(v) => match u64::try_from(v) {
                Ok(u) => visitor.visit_u64(u),
                Err(_) => visitor.visit_i64(v),
            },
            Head::F32(f) => visitor.visit_f64(f64::from(f)),
            Head::F64(f) => visitor.visit_f64(f),
            Head::Str(s) => visitor.visit_borrowed_str(self.str_at(s, at)?),
            Head::Bin(b) => visitor.visit_borrowed_bytes(b),
            Head::Ext(ty, data) => visitor.visit_seq(ExtSeq { ty, data, at: 0 }),
            Head::Date(ms) => visitor.visit_i64(ms),
            h @ (Head::Array(_) | Head::Map(_)) => self.container(h, visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.peek()? {
            Head::Nil | Head::Undefined => {
                self.next()?;
                visitor.visit_none()
            }
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.next()? {
            Head::Nil | Head::Undefined => visitor.visit_unit(),
            _ => Err(JsonError::InvalidType),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.peek()? {
            Head::Bin(b) => {
                self.next()?;
                visitor.visit_seq(ByteSeq(b.iter()))
            }
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        let at = self.pos;
        match self.next()? {
            Head::Str(s) => {
                let name = self.str_at(s, at)?;
                visitor.visit_enum(de::value::BorrowedStrDeserializer::new(name))
            }
            Head::Map(1) => {
                self.enter()?;
                let value = visitor.visit_enum(Variant { de: &mut *self })?;
                self.leave();
                Ok(value)
            }
            _ => Err(JsonError::InvalidType),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.skip_value()?;
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf tuple tuple_struct map struct identifier
    }
}

/// Reads Socket.IO arguments from the msgpack array `array` after skipping
/// its first `skip` elements; the same rules as
/// [`json::de::args_from_str`](crate::json::de::args_from_str).
pub(crate) fn args_from_slice<'de, T: Deserialize<'de>>(
    array: &'de [u8],
    skip: usize,
    max_depth: usize,
) -> Result<T> {
    let mut de = Deserializer::new(array, max_depth);
    let Head::Array(mut left) = de.next()? else {
        return Err(JsonError::InvalidType);
    };
    de.enter()?;
    // An EVENT may come without a name (the reference decoder only asks
    // for an array): then it has no arguments either, as `raw_args`.
    for _ in 0..skip.min(left) {
        left -= 1;
        de.skip_value()?;
    }
    let value = T::deserialize(ArgsDeserializer {
        de: &mut de,
        left: &mut left,
    })?;
    for _ in 0..left {
        de.skip_value()?;
    }
    de.leave();
    de.end()?;
    Ok(value)
}

struct ArgsDeserializer<'a, 'de> {
    de: &'a mut Deserializer<'de>,
    left: &'a mut usize,
}

impl ArgsDeserializer<'_, '_> {
    fn take(&mut self) -> bool {
        match self.left.checked_sub(1) {
            Some(n) => {
                *self.left = n;
                true
            }
            None => false,
        }
    }
}

macro_rules! first_element {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {
        $(
            fn $method<V: Visitor<'de>>(mut self, $($arg: $ty,)* visitor: V) -> Result<V::Value> {
                if self.take() {
                    de::Deserializer::$method(&mut *self.de, $($arg,)* visitor)
                } else {
                    de::Deserializer::$method(Missing, $($arg,)* visitor)
                }
            }
        )*
    };
}

impl<'de> de::Deserializer<'de> for ArgsDeserializer<'_, 'de> {
    type Error = JsonError;

    first_element! {
        deserialize_any();
        deserialize_bool();
        deserialize_i8();
        deserialize_i16();
        deserialize_i32();
        deserialize_i64();
        deserialize_i128();
        deserialize_u8();
        deserialize_u16();
        deserialize_u32();
        deserialize_u64();
        deserialize_u128();
        deserialize_f32();
        deserialize_f64();
        deserialize_char();
        deserialize_str();
        deserialize_string();
        deserialize_bytes();
        deserialize_byte_buf();
        deserialize_option();
        deserialize_unit_struct(name: &'static str);
        deserialize_seq();
        deserialize_tuple_struct(name: &'static str, len: usize);
        deserialize_map();
        deserialize_struct(name: &'static str, fields: &'static [&'static str]);
        deserialize_enum(name: &'static str, variants: &'static [&'static str]);
        deserialize_identifier();
        deserialize_ignored_any();
    }

    /// `()`: the arguments are ignored.
    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value> {
        visitor.visit_seq(ArgsSeq {
            args: self,
            remaining: len,
            all: len == ALL_ARGS,
        })
    }
}

struct ArgsSeq<'a, 'de> {
    args: ArgsDeserializer<'a, 'de>,
    remaining: usize,
    all: bool,
}

impl<'de> de::SeqAccess<'de> for ArgsSeq<'_, 'de> {
    type Error = JsonError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        let Some(remaining) = self.remaining.checked_sub(1) else {
            return Ok(None);
        };
        self.remaining = remaining;
        if self.args.take() {
            seed.deserialize(&mut *self.args.de).map(Some)
        } else if self.all {
            Ok(None)
        } else {
            seed.deserialize(Missing).map(Some)
        }
    }

    fn size_hint(&self) -> Option<usize> {
        if self.all {
            Some(*self.args.left)
        } else {
            Some(self.remaining)
        }
    }
}

/// An argument the sender did not send: `None` for an `Option`, `()` for
/// a unit, [`JsonError::InvalidType`] otherwise.
struct Missing;

impl<'de> de::Deserializer<'de> for Missing {
    type Error = JsonError;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value> {
        Err(JsonError::InvalidType)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_none()
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_unit()
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier
    }
}
