//! Socket.IO argument lists: the elements of a packet's JSON array read
//! into one Rust value, mirroring `ser::write_args`.

use serde::de::{self, DeserializeSeed, Visitor};

use super::read::Deserializer;
use crate::json::JsonError;
use crate::socketio::args::ALL_ARGS;

type Result<T> = core::result::Result<T, JsonError>;

/// Reads the remaining elements of an open array as arguments. A tuple
/// takes one element per field; a tuple of length [`ALL_ARGS`] (what
/// [`Args`](crate::socketio::Args) asks for) takes every remaining element;
/// `()` takes none; a newtype struct is looked through; anything else takes
/// the first element. Elements left over are skipped by the caller.
pub(crate) struct ArgsDeserializer<'a, 'de, 's> {
    pub(crate) de: &'a mut Deserializer<'de, 's>,
    /// No element of the array has been consumed yet.
    pub(crate) first: &'a mut bool,
}

macro_rules! first_element {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value> {
                if self.de.next_element(self.first)? {
                    de::Deserializer::$method(&mut *self.de, $($arg,)* visitor)
                } else {
                    de::Deserializer::$method(Missing, $($arg,)* visitor)
                }
            }
        )*
    };
}

impl<'de> de::Deserializer<'de> for ArgsDeserializer<'_, 'de, '_> {
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

    /// A tuple: one element per field; [`ALL_ARGS`]: every element left.
    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value> {
        visitor.visit_seq(ArgsSeq {
            de: self.de,
            first: self.first,
            remaining: len,
            all: len == ALL_ARGS,
        })
    }
}

/// The elements of a tuple of arguments. Exactly `remaining` elements are
/// offered, a missing one as [`Missing`]; with `all`, the elements present
/// and then the end.
struct ArgsSeq<'a, 'de, 's> {
    de: &'a mut Deserializer<'de, 's>,
    first: &'a mut bool,
    remaining: usize,
    all: bool,
}

impl<'de> de::SeqAccess<'de> for ArgsSeq<'_, 'de, '_> {
    type Error = JsonError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        let Some(remaining) = self.remaining.checked_sub(1) else {
            return Ok(None);
        };
        self.remaining = remaining;
        if self.de.next_element(self.first)? {
            seed.deserialize(&mut *self.de).map(Some)
        } else if self.all {
            Ok(None)
        } else {
            seed.deserialize(Missing).map(Some)
        }
    }

    fn size_hint(&self) -> Option<usize> {
        if self.all {
            None
        } else {
            Some(self.remaining)
        }
    }
}

/// An argument the sender did not send (JavaScript's `undefined`): an
/// `Option` is `None`, `()` is fine, anything else is
/// [`JsonError::InvalidType`].
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
