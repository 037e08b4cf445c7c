//! The `serde::Serializer` implementation.

use serde::ser::{self, Serialize};

use super::number::{write_f32, write_f64};
use super::string::{write_framed, write_quoted, EscapingFmt};
use super::write::{BinarySink, Write};
use crate::json::JsonError;

/// Bytes written for each attachment, before the decimal `num` and `}`.
const PLACEHOLDER_PREFIX: &[u8] = br#"{"_placeholder":true,"num":"#;

/// A `serde::Serializer` writing compact `JSON.stringify` output.
///
/// It maps the serde data model the way `serde_json` does: `None` and `()`
/// are `null`, a unit variant is `"Name"`, other variants are
/// `{"Name":…}`, struct fields keep their declaration order. Byte strings
/// (`serialize_bytes`, e.g. `serde_bytes`) become attachment placeholders
/// when a [`BinarySink`] is given, and arrays of numbers otherwise.
///
/// Use it through `&mut Serializer`:
///
/// ```
/// use oxio_codec::json::ser::{Serializer, SliceWriter};
/// use serde::Serialize;
///
/// let mut buf = [0u8; 32];
/// let mut w = SliceWriter::new(&mut buf);
/// let mut ser = Serializer::new(&mut w, None);
/// Some(1.5).serialize(&mut ser).unwrap();
/// assert_eq!(ser.attachments(), 0);
/// assert_eq!(w.written(), b"1.5");
/// ```
pub struct Serializer<'a, W: ?Sized> {
    pub(crate) w: &'a mut W,
    sink: Option<&'a mut dyn BinarySink>,
    attachments: usize,
}

impl<'a, W: Write + ?Sized> Serializer<'a, W> {
    /// A serializer writing to `w`, handing byte strings to `sink` if given.
    pub fn new(w: &'a mut W, sink: Option<&'a mut dyn BinarySink>) -> Self {
        Serializer {
            w,
            sink,
            attachments: 0,
        }
    }

    /// Placeholders written so far (always 0 without a sink).
    pub fn attachments(&self) -> usize {
        self.attachments
    }

    #[inline]
    fn write_int<I: itoa::Integer>(&mut self, v: I) -> Result<(), JsonError> {
        let mut buf = itoa::Buffer::new();
        self.w.write_all(buf.format(v).as_bytes())
    }

    fn write_bytes(&mut self, bytes: &[u8]) -> Result<(), JsonError> {
        match self.sink.as_deref_mut() {
            Some(sink) => {
                let index = self.attachments;
                self.w.write_all(PLACEHOLDER_PREFIX)?;
                let mut buf = itoa::Buffer::new();
                self.w.write_all(buf.format(index).as_bytes())?;
                self.w.write_byte(b'}')?;
                sink.attachment(index, bytes)?;
                self.attachments = index.checked_add(1).ok_or(JsonError::BufferFull)?;
                Ok(())
            }
            None => {
                self.w.write_byte(b'[')?;
                let mut buf = itoa::Buffer::new();
                for (i, &b) in bytes.iter().enumerate() {
                    if i > 0 {
                        self.w.write_byte(b',')?;
                    }
                    self.w.write_all(buf.format(b).as_bytes())?;
                }
                self.w.write_byte(b']')
            }
        }
    }
}

/// The in-progress state of an array or object: whether a separator is due.
pub struct Compound<'b, 'a, W: ?Sized> {
    pub(crate) ser: &'b mut Serializer<'a, W>,
    pub(crate) first: bool,
}

impl<W: Write + ?Sized> Compound<'_, '_, W> {
    #[inline]
    fn separator(&mut self) -> Result<(), JsonError> {
        if self.first {
            self.first = false;
            Ok(())
        } else {
            self.ser.w.write_byte(b',')
        }
    }

    #[inline]
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), JsonError> {
        self.separator()?;
        value.serialize(&mut *self.ser)
    }

    /// `,"key":` (or `"key":` first), then the value; the separator, the
    /// key and its quotes and colon go out in one write when the key needs
    /// no escaping.
    #[inline]
    fn field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), JsonError> {
        // Two calls, so that each copies a fixed-length head.
        if self.first {
            self.first = false;
            write_framed(self.ser.w, b"\"", key, b"\":")?;
        } else {
            write_framed(self.ser.w, b",\"", key, b"\":")?;
        }
        value.serialize(&mut *self.ser)
    }
}

impl<'b, 'a, W: Write + ?Sized> ser::Serializer for &'b mut Serializer<'a, W> {
    type Ok = ();
    type Error = JsonError;
    type SerializeSeq = Compound<'b, 'a, W>;
    type SerializeTuple = Compound<'b, 'a, W>;
    type SerializeTupleStruct = Compound<'b, 'a, W>;
    type SerializeTupleVariant = Compound<'b, 'a, W>;
    type SerializeMap = Compound<'b, 'a, W>;
    type SerializeStruct = Compound<'b, 'a, W>;
    type SerializeStructVariant = Compound<'b, 'a, W>;

    #[inline]
    fn serialize_bool(self, v: bool) -> Result<(), JsonError> {
        self.w.write_all(if v { b"true" } else { b"false" })
    }

    #[inline]
    fn serialize_i8(self, v: i8) -> Result<(), JsonError> {
        self.write_int(v)
    }

    #[inline]
    fn serialize_i16(self, v: i16) -> Result<(), JsonError> {
        self.write_int(v)
    }

    #[inline]
    fn serialize_i32(self, v: i32) -> Result<(), JsonError> {
        self.write_int(v)
    }

    #[inline]
    fn serialize_i64(self, v: i64) -> Result<(), JsonError> {
        self.write_int(v)
    }

    #[inline]
    fn serialize_i128(self, v: i128) -> Result<(), JsonError> {
        self.write_int(v)
    }

    #[inline]
    fn serialize_u8(self, v: u8) -> Result<(), JsonError> {
        self.write_int(v)
    }

    #[inline]
    fn serialize_u16(self, v: u16) -> Result<(), JsonError> {
        self.write_int(v)
    }

    #[inline]
    fn serialize_u32(self, v: u32) -> Result<(), JsonError> {
        self.write_int(v)
    }

    #[inline]
    fn serialize_u64(self, v: u64) -> Result<(), JsonError> {
        self.write_int(v)
    }

    #[inline]
    fn serialize_u128(self, v: u128) -> Result<(), JsonError> {
        self.write_int(v)
    }

    fn serialize_f32(self, v: f32) -> Result<(), JsonError> {
        write_f32(self.w, v)
    }

    fn serialize_f64(self, v: f64) -> Result<(), JsonError> {
        write_f64(self.w, v)
    }

    fn serialize_char(self, v: char) -> Result<(), JsonError> {
        let mut buf = [0u8; 4];
        write_quoted(self.w, v.encode_utf8(&mut buf))
    }

    #[inline]
    fn serialize_str(self, v: &str) -> Result<(), JsonError> {
        write_quoted(self.w, v)
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<(), JsonError> {
        self.write_bytes(v)
    }

    fn serialize_none(self) -> Result<(), JsonError> {
        self.w.write_all(b"null")
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), JsonError> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), JsonError> {
        self.w.write_all(b"null")
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), JsonError> {
        self.w.write_all(b"null")
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), JsonError> {
        write_quoted(self.w, variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), JsonError> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), JsonError> {
        self.w.write_byte(b'{')?;
        write_quoted(self.w, variant)?;
        self.w.write_byte(b':')?;
        value.serialize(&mut *self)?;
        self.w.write_byte(b'}')
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, JsonError> {
        self.w.write_byte(b'[')?;
        Ok(Compound {
            ser: self,
            first: true,
        })
    }

    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, JsonError> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, JsonError> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, JsonError> {
        self.w.write_byte(b'{')?;
        write_quoted(self.w, variant)?;
        self.w.write_all(b":[")?;
        Ok(Compound {
            ser: self,
            first: true,
        })
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, JsonError> {
        self.w.write_byte(b'{')?;
        Ok(Compound {
            ser: self,
            first: true,
        })
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, JsonError> {
        self.serialize_map(Some(len))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, JsonError> {
        self.w.write_byte(b'{')?;
        write_quoted(self.w, variant)?;
        self.w.write_all(b":{")?;
        Ok(Compound {
            ser: self,
            first: true,
        })
    }

    fn collect_str<T: core::fmt::Display + ?Sized>(self, value: &T) -> Result<(), JsonError> {
        self.w.write_byte(b'"')?;
        let mut adapter = EscapingFmt {
            w: &mut *self.w,
            error: None,
        };
        if core::fmt::write(&mut adapter, format_args!("{value}")).is_err() {
            return Err(adapter
                .error
                .unwrap_or_else(|| JsonError::custom("a Display implementation failed")));
        }
        self.w.write_byte(b'"')
    }
}

impl<W: Write + ?Sized> ser::SerializeSeq for Compound<'_, '_, W> {
    type Ok = ();
    type Error = JsonError;

    #[inline]
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), JsonError> {
        self.element(value)
    }

    #[inline]
    fn end(self) -> Result<(), JsonError> {
        self.ser.w.write_byte(b']')
    }
}

impl<W: Write + ?Sized> ser::SerializeTuple for Compound<'_, '_, W> {
    type Ok = ();
    type Error = JsonError;

    #[inline]
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), JsonError> {
        self.element(value)
    }

    #[inline]
    fn end(self) -> Result<(), JsonError> {
        self.ser.w.write_byte(b']')
    }
}

impl<W: Write + ?Sized> ser::SerializeTupleStruct for Compound<'_, '_, W> {
    type Ok = ();
    type Error = JsonError;

    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), JsonError> {
        self.element(value)
    }

    #[inline]
    fn end(self) -> Result<(), JsonError> {
        self.ser.w.write_byte(b']')
    }
}

impl<W: Write + ?Sized> ser::SerializeTupleVariant for Compound<'_, '_, W> {
    type Ok = ();
    type Error = JsonError;

    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), JsonError> {
        self.element(value)
    }

    #[inline]
    fn end(self) -> Result<(), JsonError> {
        self.ser.w.write_all(b"]}")
    }
}

impl<W: Write + ?Sized> ser::SerializeMap for Compound<'_, '_, W> {
    type Ok = ();
    type Error = JsonError;

    #[inline]
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), JsonError> {
        self.separator()?;
        key.serialize(MapKeySerializer {
            w: &mut *self.ser.w,
        })
    }

    #[inline]
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), JsonError> {
        self.ser.w.write_byte(b':')?;
        value.serialize(&mut *self.ser)
    }

    #[inline]
    fn end(self) -> Result<(), JsonError> {
        self.ser.w.write_byte(b'}')
    }
}

impl<W: Write + ?Sized> ser::SerializeStruct for Compound<'_, '_, W> {
    type Ok = ();
    type Error = JsonError;

    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), JsonError> {
        self.field(key, value)
    }

    #[inline]
    fn end(self) -> Result<(), JsonError> {
        self.ser.w.write_byte(b'}')
    }
}

impl<W: Write + ?Sized> ser::SerializeStructVariant for Compound<'_, '_, W> {
    type Ok = ();
    type Error = JsonError;

    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), JsonError> {
        self.field(key, value)
    }

    #[inline]
    fn end(self) -> Result<(), JsonError> {
        self.ser.w.write_all(b"}}")
    }
}

/// Serializes an object key. JSON keys are strings: strings go as they are;
/// integers, `char`s, `bool`s and unit variants are written as strings (as
/// `serde_json` does, and as JavaScript's `String(key)` would); a newtype
/// struct is looked through. Anything else fails with
/// [`JsonError::InvalidType`].
struct MapKeySerializer<'w, W: ?Sized> {
    w: &'w mut W,
}

impl<W: Write + ?Sized> MapKeySerializer<'_, W> {
    fn quoted_int<I: itoa::Integer>(self, v: I) -> Result<(), JsonError> {
        let mut buf = itoa::Buffer::new();
        self.w.write_byte(b'"')?;
        self.w.write_all(buf.format(v).as_bytes())?;
        self.w.write_byte(b'"')
    }
}

impl<W: Write + ?Sized> ser::Serializer for MapKeySerializer<'_, W> {
    type Ok = ();
    type Error = JsonError;
    type SerializeSeq = ser::Impossible<(), JsonError>;
    type SerializeTuple = ser::Impossible<(), JsonError>;
    type SerializeTupleStruct = ser::Impossible<(), JsonError>;
    type SerializeTupleVariant = ser::Impossible<(), JsonError>;
    type SerializeMap = ser::Impossible<(), JsonError>;
    type SerializeStruct = ser::Impossible<(), JsonError>;
    type SerializeStructVariant = ser::Impossible<(), JsonError>;

    fn serialize_bool(self, v: bool) -> Result<(), JsonError> {
        self.w.write_all(if v { b"\"true\"" } else { b"\"false\"" })
    }

    fn serialize_i8(self, v: i8) -> Result<(), JsonError> {
        self.quoted_int(v)
    }

    fn serialize_i16(self, v: i16) -> Result<(), JsonError> {
        self.quoted_int(v)
    }

    fn serialize_i32(self, v: i32) -> Result<(), JsonError> {
        self.quoted_int(v)
    }

    fn serialize_i64(self, v: i64) -> Result<(), JsonError> {
        self.quoted_int(v)
    }

    fn serialize_i128(self, v: i128) -> Result<(), JsonError> {
        self.quoted_int(v)
    }

    fn serialize_u8(self, v: u8) -> Result<(), JsonError> {
        self.quoted_int(v)
    }

    fn serialize_u16(self, v: u16) -> Result<(), JsonError> {
        self.quoted_int(v)
    }

    fn serialize_u32(self, v: u32) -> Result<(), JsonError> {
        self.quoted_int(v)
    }

    fn serialize_u64(self, v: u64) -> Result<(), JsonError> {
        self.quoted_int(v)
    }

    fn serialize_u128(self, v: u128) -> Result<(), JsonError> {
        self.quoted_int(v)
    }

    fn serialize_f32(self, _v: f32) -> Result<(), JsonError> {
        Err(JsonError::InvalidType)
    }

    fn serialize_f64(self, _v: f64) -> Result<(), JsonError> {
        Err(JsonError::InvalidType)
    }

    fn serialize_char(self, v: char) -> Result<(), JsonError> {
        let mut buf = [0u8; 4];
        write_quoted(self.w, v.encode_utf8(&mut buf))
    }

    fn serialize_str(self, v: &str) -> Result<(), JsonError> {
        write_quoted(self.w, v)
    }

    fn serialize_bytes(self, _v: &[u8]) -> Result<(), JsonError> {
        Err(JsonError::InvalidType)
    }

    fn serialize_none(self) -> Result<(), JsonError> {
        Err(JsonError::InvalidType)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<(), JsonError> {
        Err(JsonError::InvalidType)
    }

    fn serialize_unit(self) -> Result<(), JsonError> {
        Err(JsonError::InvalidType)
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), JsonError> {
        Err(JsonError::InvalidType)
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), JsonError> {
        write_quoted(self.w, variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), JsonError> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<(), JsonError> {
        Err(JsonError::InvalidType)
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, JsonError> {
        Err(JsonError::InvalidType)
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, JsonError> {
        Err(JsonError::InvalidType)
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, JsonError> {
        Err(JsonError::InvalidType)
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, JsonError> {
        Err(JsonError::InvalidType)
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, JsonError> {
        Err(JsonError::InvalidType)
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, JsonError> {
        Err(JsonError::InvalidType)
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, JsonError> {
        Err(JsonError::InvalidType)
    }

    fn collect_str<T: core::fmt::Display + ?Sized>(self, value: &T) -> Result<(), JsonError> {
        self.w.write_byte(b'"')?;
        let mut adapter = EscapingFmt {
            w: &mut *self.w,
            error: None,
        };
        if core::fmt::write(&mut adapter, format_args!("{value}")).is_err() {
            return Err(adapter
                .error
                .unwrap_or_else(|| JsonError::custom("a Display implementation failed")));
        }
        self.w.write_byte(b'"')
    }
}
