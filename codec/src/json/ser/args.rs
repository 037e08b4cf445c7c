//! Socket.IO argument lists: a Rust value spread into the elements of the
//! packet's JSON array.

use serde::ser::{self, Serialize};

use super::serializer::{Compound, Serializer};
use super::write::Write;
use crate::json::JsonError;

/// Serializes the arguments after the event name. A tuple is spread into
/// one array element per field, `()` adds no element, a newtype struct is
/// looked through, and every other value is a single element.
pub(crate) struct ArgsSerializer<'b, 'a, W: ?Sized> {
    pub(crate) ser: &'b mut Serializer<'a, W>,
    /// No element has been written yet (so no comma is due).
    pub(crate) first: bool,
}

impl<'b, 'a, W: Write + ?Sized> ArgsSerializer<'b, 'a, W> {
    /// Writes the separator for a single-element argument and hands back the
    /// plain serializer for it.
    #[inline]
    fn one(self) -> Result<&'b mut Serializer<'a, W>, JsonError> {
        if !self.first {
            self.ser.w.write_byte(b',')?;
        }
        Ok(self.ser)
    }
}

/// The elements of a tuple, each one argument.
pub(crate) struct ArgsTuple<'b, 'a, W: ?Sized> {
    ser: &'b mut Serializer<'a, W>,
    first: bool,
}

impl<W: Write + ?Sized> ser::SerializeTuple for ArgsTuple<'_, '_, W> {
    type Ok = ();
    type Error = JsonError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), JsonError> {
        if !self.first {
            self.ser.w.write_byte(b',')?;
        }
        self.first = false;
        value.serialize(&mut *self.ser)
    }

    fn end(self) -> Result<(), JsonError> {
        Ok(())
    }
}

macro_rules! single_argument {
    ($($method:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        $(
            #[inline]
            fn $method(self, $($arg: $ty),*) -> Result<$ret, JsonError> {
                ser::Serializer::$method(self.one()?, $($arg),*)
            }
        )*
    };
}

impl<'b, 'a, W: Write + ?Sized> ser::Serializer for ArgsSerializer<'b, 'a, W> {
    type Ok = ();
    type Error = JsonError;
    type SerializeSeq = Compound<'b, 'a, W>;
    type SerializeTuple = ArgsTuple<'b, 'a, W>;
    type SerializeTupleStruct = Compound<'b, 'a, W>;
    type SerializeTupleVariant = Compound<'b, 'a, W>;
    type SerializeMap = Compound<'b, 'a, W>;
    type SerializeStruct = Compound<'b, 'a, W>;
    type SerializeStructVariant = Compound<'b, 'a, W>;

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

    /// `()`: no arguments at all.
    fn serialize_unit(self) -> Result<(), JsonError> {
        Ok(())
    }

    /// A tuple: each field is one argument.
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, JsonError> {
        Ok(ArgsTuple {
            ser: self.ser,
            first: self.first,
        })
    }

    /// JSON has no newtype wrappers: `Wrapper((a, b))` spreads like `(a, b)`.
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), JsonError> {
        value.serialize(self)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), JsonError> {
        value.serialize(self.one()?)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), JsonError> {
        ser::Serializer::serialize_newtype_variant(self.one()?, name, index, variant, value)
    }

    fn collect_str<T: core::fmt::Display + ?Sized>(self, value: &T) -> Result<(), JsonError> {
        ser::Serializer::collect_str(self.one()?, value)
    }
}
