//! The `serde::Deserializer` implementation and its access helpers.

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};

use super::read::{Deserializer, Number, Str};
use crate::json::JsonError;

type Result<T> = core::result::Result<T, JsonError>;

impl<'de> Deserializer<'de, '_> {
    /// Reads a number and hands it to the visitor in its natural type:
    /// `u64` for non-negative integers, `i64` for negative ones, `f64` for
    /// the rest (and for integers too large for 64 bits, as `serde_json`
    /// does; `-0` is `-0.0`).
    fn visit_number<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value> {
        let n = self.parse_number()?;
        if n.integer {
            match (n.negative, n.magnitude()) {
                (false, Some(m)) => return visitor.visit_u64(m),
                (true, Some(0)) => return visitor.visit_f64(-0.0),
                (true, Some(m)) => {
                    if let Some(i) = 0i64.checked_sub_unsigned(m) {
                        return visitor.visit_i64(i);
                    }
                }
                (_, None) => {}
            }
        }
        visitor.visit_f64(n.to_f64()?)
    }

    /// Reads a number for a typed request, or fails with the right error.
    fn number(&mut self) -> Result<Number<'de>> {
        match self.peek_value()? {
            b'-' | b'0'..=b'9' => self.parse_number(),
            b => Err(self.type_error(b)),
        }
    }

    fn visit_array<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value> {
        self.enter()?;
        self.pos += 1;
        let mut access = SeqAccess {
            de: self,
            first: true,
        };
        let value = visitor.visit_seq(&mut access)?;
        let took_none = access.first;
        self.end_container(b']', took_none)?;
        Ok(value)
    }

    fn visit_object<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value> {
        self.enter()?;
        self.pos += 1;
        let mut access = MapAccess {
            de: self,
            first: true,
        };
        let value = visitor.visit_map(&mut access)?;
        let took_none = access.first;
        self.end_container(b'}', took_none)?;
        Ok(value)
    }

    fn visit_string<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value> {
        match self.parse_str()? {
            Str::Borrowed(s) => visitor.visit_borrowed_str(s),
            Str::Copied(s) => visitor.visit_str(s),
        }
    }
}

macro_rules! deserialize_integer {
    ($($method:ident => $visit:ident, $ty:ty, $wide:ident;)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
                let wide = self.number()?.$wide()?;
                let v = <$ty>::try_from(wide).map_err(|_| JsonError::InvalidNumber)?;
                visitor.$visit(v)
            }
        )*
    };
}

impl<'de> de::Deserializer<'de> for &mut Deserializer<'de, '_> {
    type Error = JsonError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.peek_value()? {
            b'n' => {
                self.eat_literal(b"null")?;
                visitor.visit_unit()
            }
            b't' => {
                self.eat_literal(b"true")?;
                visitor.visit_bool(true)
            }
            b'f' => {
                self.eat_literal(b"false")?;
                visitor.visit_bool(false)
            }
            b'"' => self.visit_string(visitor),
            b'-' | b'0'..=b'9' => self.visit_number(visitor),
            b'[' => self.visit_array(visitor),
            b'{' => match self.placeholder()? {
                Some(bytes) => visitor.visit_borrowed_bytes(bytes),
                None => self.visit_object(visitor),
            },
            _ => Err(self.unexpected()),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.peek_value()? {
            b't' => {
                self.eat_literal(b"true")?;
                visitor.visit_bool(true)
            }
            b'f' => {
                self.eat_literal(b"false")?;
                visitor.visit_bool(false)
            }
            b => Err(self.type_error(b)),
        }
    }

    deserialize_integer! {
        deserialize_i8 => visit_i8, i8, to_i64;
        deserialize_i16 => visit_i16, i16, to_i64;
        deserialize_i32 => visit_i32, i32, to_i64;
        deserialize_i64 => visit_i64, i64, to_i64;
        deserialize_i128 => visit_i128, i128, to_i128;
        deserialize_u8 => visit_u8, u8, to_u64;
        deserialize_u16 => visit_u16, u16, to_u64;
        deserialize_u32 => visit_u32, u32, to_u64;
        deserialize_u64 => visit_u64, u64, to_u64;
        deserialize_u128 => visit_u128, u128, to_u128;
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_f32(self.number()?.to_f32()?)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_f64(self.number()?.to_f64()?)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.peek_value()? {
            b'"' => self.visit_string(visitor),
            b => Err(self.type_error(b)),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    /// A placeholder (with attachments) is the attachment's bytes; a string
    /// is its UTF-8 bytes; an array is visited as a sequence (so byte
    /// buffers accept `[1,2,3]`, while `&[u8]` refuses it).
    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.peek_value()? {
            b'"' => match self.parse_str()? {
                Str::Borrowed(s) => visitor.visit_borrowed_bytes(s.as_bytes()),
                Str::Copied(s) => visitor.visit_bytes(s.as_bytes()),
            },
            b'[' => self.visit_array(visitor),
            b'{' => match self.placeholder()? {
                Some(bytes) => visitor.visit_borrowed_bytes(bytes),
                None => Err(JsonError::InvalidType),
            },
            b => Err(self.type_error(b)),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.peek_value()? == b'n' {
            self.eat_literal(b"null")?;
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.peek_value()? {
            b'n' => {
                self.eat_literal(b"null")?;
                visitor.visit_unit()
            }
            b => Err(self.type_error(b)),
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

    /// An array; with attachments, a placeholder is also a sequence of its
    /// bytes (so `Vec<u8>`, `heapless::Vec<u8, N>` and `[u8; N]` accept
    /// attachments).
    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.peek_value()? {
            b'[' => self.visit_array(visitor),
            b'{' => match self.placeholder()? {
                Some(bytes) => {
                    let mut seq =
                        de::value::SeqDeserializer::<_, JsonError>::new(bytes.iter().copied());
                    let value = visitor.visit_seq(&mut seq)?;
                    seq.end().map_err(|_| JsonError::InvalidType)?;
                    Ok(value)
                }
                None => Err(JsonError::InvalidType),
            },
            b => Err(self.type_error(b)),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.peek_value()? {
            b'{' => self.visit_object(visitor),
            b => Err(self.type_error(b)),
        }
    }

    /// An object, or an array of the fields in order (as `serde_json`).
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.peek_value()? {
            b'{' => self.visit_object(visitor),
            b'[' => self.visit_array(visitor),
            b => Err(self.type_error(b)),
        }
    }

    /// `"Name"` for a unit variant, `{"Name":value}` for any variant.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.peek_value()? {
            b'"' => match self.parse_str()? {
                Str::Borrowed(s) => visitor.visit_enum(UnitVariant(
                    de::value::BorrowedStrDeserializer::<JsonError>::new(s),
                )),
                Str::Copied(s) => visitor.visit_enum(UnitVariant(s.into_deserializer())),
            },
            b'{' => {
                self.enter()?;
                self.pos += 1;
                let mut first = true;
                if !self.next_key(&mut first)? {
                    return Err(JsonError::InvalidType);
                }
                let value = visitor.visit_enum(VariantAccess { de: self })?;
                self.end_container(b'}', false)?;
                Ok(value)
            }
            b => Err(self.type_error(b)),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    /// Skipped without recursion, still fully validated.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.skip_value()?;
        visitor.visit_unit()
    }
}

/// The elements of an array.
pub(crate) struct SeqAccess<'a, 'de, 's> {
    pub(crate) de: &'a mut Deserializer<'de, 's>,
    /// No element has been read yet.
    pub(crate) first: bool,
}

impl<'de> de::SeqAccess<'de> for SeqAccess<'_, 'de, '_> {
    type Error = JsonError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        if self.de.next_element(&mut self.first)? {
            seed.deserialize(&mut *self.de).map(Some)
        } else {
            Ok(None)
        }
    }
}

/// The members of an object.
struct MapAccess<'a, 'de, 's> {
    de: &'a mut Deserializer<'de, 's>,
    first: bool,
}

impl<'de> de::MapAccess<'de> for MapAccess<'_, 'de, '_> {
    type Error = JsonError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        if self.de.next_key(&mut self.first)? {
            seed.deserialize(MapKey { de: &mut *self.de }).map(Some)
        } else {
            Ok(None)
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        self.de.colon()?;
        seed.deserialize(&mut *self.de)
    }
}

/// An object key (the deserializer stands on its opening `"`). Keys are
/// strings; integer and `bool` requests parse the string (`"12"`,
/// `"true"`), mirroring how the serializer writes such keys.
struct MapKey<'a, 'de, 's> {
    de: &'a mut Deserializer<'de, 's>,
}

/// Parses a key like `"-12"`: JSON integer syntax, no fraction or exponent.
fn key_integer<'k>(key: &'k str) -> Result<Number<'k>> {
    let bytes = key.as_bytes();
    let negative = bytes.first() == Some(&b'-');
    let digits = if negative {
        bytes.get(1..).unwrap_or(&[])
    } else {
        bytes
    };
    let well_formed = match digits {
        [b'0'] => true,
        [b'1'..=b'9', rest @ ..] => rest.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    if !well_formed {
        return Err(JsonError::InvalidNumber);
    }
    Ok(Number {
        text: key,
        integer: true,
        negative,
    })
}

macro_rules! deserialize_key_integer {
    ($($method:ident => $visit:ident, $ty:ty, $wide:ident;)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
                let wide = key_integer(self.de.parse_str()?.as_str())?.$wide()?;
                let v = <$ty>::try_from(wide).map_err(|_| JsonError::InvalidNumber)?;
                visitor.$visit(v)
            }
        )*
    };
}

impl<'de> de::Deserializer<'de> for MapKey<'_, 'de, '_> {
    type Error = JsonError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.de.visit_string(visitor)
    }

    deserialize_key_integer! {
        deserialize_i8 => visit_i8, i8, to_i64;
        deserialize_i16 => visit_i16, i16, to_i64;
        deserialize_i32 => visit_i32, i32, to_i64;
        deserialize_i64 => visit_i64, i64, to_i64;
        deserialize_i128 => visit_i128, i128, to_i128;
        deserialize_u8 => visit_u8, u8, to_u64;
        deserialize_u16 => visit_u16, u16, to_u64;
        deserialize_u32 => visit_u32, u32, to_u64;
        deserialize_u64 => visit_u64, u64, to_u64;
        deserialize_u128 => visit_u128, u128, to_u128;
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let v = match self.de.parse_str()?.as_str() {
            "true" => true,
            "false" => false,
            _ => return Err(JsonError::InvalidType),
        };
        visitor.visit_bool(v)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.de.parse_str()? {
            Str::Borrowed(s) => visitor.visit_enum(UnitVariant(
                de::value::BorrowedStrDeserializer::<JsonError>::new(s),
            )),
            Str::Copied(s) => visitor.visit_enum(UnitVariant(s.into_deserializer())),
        }
    }

    serde::forward_to_deserialize_any! {
        f32 f64 char str string bytes byte_buf unit unit_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

/// An enum written as a plain string: only a unit variant fits.
struct UnitVariant<D>(D);

impl<'de, D: de::Deserializer<'de, Error = JsonError>> de::EnumAccess<'de> for UnitVariant<D> {
    type Error = JsonError;
    type Variant = UnitOnly;

    fn variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<(S::Value, UnitOnly)> {
        Ok((seed.deserialize(self.0)?, UnitOnly))
    }
}

/// The variant of a string-form enum; data-carrying variants are
/// [`JsonError::InvalidType`].
struct UnitOnly;

impl<'de> de::VariantAccess<'de> for UnitOnly {
    type Error = JsonError;

    fn unit_variant(self) -> Result<()> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, _seed: T) -> Result<T::Value> {
        Err(JsonError::InvalidType)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, _visitor: V) -> Result<V::Value> {
        Err(JsonError::InvalidType)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value> {
        Err(JsonError::InvalidType)
    }
}

/// An enum written as `{"Name":value}`; the deserializer stands on the key.
struct VariantAccess<'a, 'de, 's> {
    de: &'a mut Deserializer<'de, 's>,
}

impl<'de> de::EnumAccess<'de> for VariantAccess<'_, 'de, '_> {
    type Error = JsonError;
    type Variant = Self;

    fn variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<(S::Value, Self)> {
        let variant = seed.deserialize(MapKey { de: &mut *self.de })?;
        self.de.colon()?;
        Ok((variant, self))
    }
}

impl<'de> de::VariantAccess<'de> for VariantAccess<'_, 'de, '_> {
    type Error = JsonError;

    /// `{"Name":null}` is accepted for a unit variant.
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
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        de::Deserializer::deserialize_struct(self.de, "", fields, visitor)
    }
}
