//! A `serde` serializer whose output is byte-identical to JavaScript's
//! compact `JSON.stringify`, written into a caller buffer without
//! allocating.
//!
//! What "identical" covers:
//! - **Strings**: `"` and `\` escaped, `\b \f \n \r \t`, other controls as
//!   `\u00XX` in lowercase hex, everything else raw (DEL, U+2028, U+2029,
//!   non-ASCII).
//! - **`f64`**: the shortest round-trip digits laid out like
//!   `Number.prototype.toString`: `1.0` → `1`, `-0.0` → `0`, `1e21` →
//!   `1e+21`, `1e20` → `100000000000000000000`, `1.5e-7` → `1.5e-7`,
//!   `0.000001` → `0.000001`. NaN and ±Infinity are `null`, as
//!   `JSON.stringify` writes them.
//! - **`f32`**: its own shortest digits (`0.1f32` → `0.1`, like
//!   `serde_json`), laid out by the same rules. (JavaScript has no `f32`;
//!   widening to `f64` would print `0.10000000149011612`.)
//! - **Integers**: exact decimal, including `u64`/`i128` values beyond 2^53
//!   that a JavaScript peer would round; send those as strings if it matters.
//! - **Objects**: keys in serialization order (struct declaration order,
//!   map iteration order), as `JSON.stringify` keeps insertion order.
//!
//! The serde data model maps as in `serde_json`: `None`/`()`/unit structs
//! are `null`; a unit variant is `"Name"`; newtype, tuple and struct
//! variants are `{"Name":value}`, `{"Name":[…]}`, `{"Name":{…}}`; map keys
//! must be strings, integers, `char`s, `bool`s or unit variants (the
//! non-string ones are written as strings), anything else is
//! [`JsonError::InvalidType`].
//!
//! **Binary**: with a [`BinarySink`], every `serialize_bytes` call (such as
//! a `serde_bytes::Bytes` field) writes `{"_placeholder":true,"num":N}`,
//! N counting from 0 in serialization order (depth first), and hands the
//! bytes to the sink: this is Socket.IO's binary packet encoding. Without a
//! sink, bytes are an array of numbers (`[1,2,3]`), as in `serde_json`.

mod args;
mod number;
mod serializer;
mod string;
mod write;

pub use serializer::{Compound, Serializer};
pub(crate) use string::find_special;
pub use string::write_str;
pub(crate) use write::put_parts;
pub use write::{AttachmentCounter, BinarySink, LenCounter, SliceWriter, Write};

use serde::Serialize;

use crate::json::JsonError;
use args::ArgsSerializer;

/// Serializes `value` into `w`, handing byte strings to `sink` as numbered
/// attachments if one is given. Returns the number of attachments (0
/// without a sink).
///
/// ```
/// use oxio_codec::json::ser::{to_writer, SliceWriter};
/// use serde_bytes::Bytes;
///
/// #[derive(serde::Serialize)]
/// struct File<'a> { name: &'a str, data: &'a Bytes }
///
/// let mut buf = [0u8; 64];
/// let mut w = SliceWriter::new(&mut buf);
/// let mut sink = |i: usize, b: &[u8]| { assert_eq!(i, 0); assert_eq!(b, b"\x01\x02"); };
/// let file = File { name: "a", data: Bytes::new(b"\x01\x02") };
/// let n = to_writer(&mut w, &file, Some(&mut sink)).unwrap();
/// assert_eq!(n, 1);
/// assert_eq!(w.written(), br#"{"name":"a","data":{"_placeholder":true,"num":0}}"#);
/// ```
pub fn to_writer<W: Write, T: Serialize + ?Sized>(
    w: &mut W,
    value: &T,
    sink: Option<&mut dyn BinarySink>,
) -> Result<usize, JsonError> {
    // Shortens the trait object's lifetime to the writer's.
    let sink = sink.map(|s| s as &mut dyn BinarySink);
    let mut ser = Serializer::new(w, sink);
    value.serialize(&mut ser)?;
    Ok(ser.attachments())
}

/// Serializes `value` into `buf` and returns the number of bytes written.
/// Byte strings become arrays of numbers; use [`to_slice_with_sink`] for
/// attachment placeholders. Fails with [`JsonError::BufferFull`] when `buf`
/// is too small.
///
/// ```
/// use oxio_codec::json::ser::to_slice;
///
/// #[derive(serde::Serialize)]
/// struct Point { x: f64, y: i32 }
///
/// let mut buf = [0u8; 32];
/// let n = to_slice(&Point { x: 1.0, y: -2 }, &mut buf).unwrap();
/// assert_eq!(&buf[..n], br#"{"x":1,"y":-2}"#);
/// ```
pub fn to_slice<T: Serialize + ?Sized>(value: &T, buf: &mut [u8]) -> Result<usize, JsonError> {
    let mut w = SliceWriter::new(buf);
    to_writer(&mut w, value, None)?;
    Ok(w.len())
}

/// Serializes `value` into `buf`, replacing byte strings by attachment
/// placeholders handed to `sink`. Returns `(bytes written, attachments)`.
///
/// ```
/// use oxio_codec::json::ser::to_slice_with_sink;
/// use serde_bytes::Bytes;
///
/// let mut buf = [0u8; 64];
/// let mut seen = 0;
/// let mut sink = |_: usize, _: &[u8]| seen += 1;
/// let (n, count) = to_slice_with_sink(&[Bytes::new(b"a"), Bytes::new(b"b")], &mut buf, &mut sink).unwrap();
/// assert_eq!(count, 2);
/// assert_eq!(&buf[..n], br#"[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#);
/// assert_eq!(seen, 2);
/// ```
pub fn to_slice_with_sink<T: Serialize + ?Sized>(
    value: &T,
    buf: &mut [u8],
    sink: &mut dyn BinarySink,
) -> Result<(usize, usize), JsonError> {
    let mut w = SliceWriter::new(buf);
    let count = to_writer(&mut w, value, Some(sink))?;
    Ok((w.len(), count))
}

/// Serializes `value` into a new `Vec<u8>` (byte strings as arrays of
/// numbers).
///
/// ```
/// use oxio_codec::json::ser::to_vec;
///
/// assert_eq!(to_vec(&[1e21, 0.5]).unwrap(), b"[1e+21,0.5]");
/// ```
#[cfg(feature = "alloc")]
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Result<alloc::vec::Vec<u8>, JsonError> {
    let mut out = alloc::vec::Vec::with_capacity(128);
    to_writer(&mut out, value, None)?;
    Ok(out)
}

/// Serializes `value` into a new `String` (byte strings as arrays of
/// numbers).
///
/// ```
/// use oxio_codec::json::ser::to_string;
///
/// assert_eq!(to_string(&("é\u{2028}", '\u{1f}', None::<u8>)).unwrap(), "[\"é\u{2028}\",\"\\u001f\",null]");
/// ```
#[cfg(feature = "alloc")]
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<alloc::string::String, JsonError> {
    let bytes = to_vec(value)?;
    // The output is built from `&str`s and ASCII, so this cannot fail.
    alloc::string::String::from_utf8(bytes).map_err(|_| JsonError::InvalidString)
}

/// Writes a Socket.IO argument list: `[`, the event name (if any), the
/// arguments, `]`. Returns the number of attachments written (0 without a
/// sink).
///
/// How `args` becomes arguments:
/// - a tuple (`(a, b)`, `(a,)`) is one argument per field;
/// - `()` is no argument;
/// - a newtype struct is looked through (`Wrap((a, b))` is two arguments);
/// - [`Args`](crate::socketio::Args) of a slice, array or `Vec` is one
///   argument per element, however many there are;
/// - anything else, including a `Vec`, a slice, a struct, a map, a tuple
///   struct or a unit struct, is one argument.
///
/// serde writes a fixed-size array `[T; N]` exactly like a tuple, so it is
/// spread too (`[1, 2]` is two arguments, as in
/// [`args_from_str`](crate::json::de::args_from_str)); pass a slice
/// (`&[1, 2][..]`) or a `Vec` to send one array argument.
///
/// ```
/// use oxio_codec::json::ser::{write_args, SliceWriter};
///
/// let mut buf = [0u8; 64];
/// let mut w = SliceWriter::new(&mut buf);
/// write_args(&mut w, Some("message"), &(1, "2", [true]), None).unwrap();
/// assert_eq!(w.written(), br#"["message",1,"2",[true]]"#);
///
/// let mut w = SliceWriter::new(&mut buf);
/// write_args(&mut w, None, &(), None).unwrap(); // an ACK without arguments
/// assert_eq!(w.written(), b"[]");
///
/// let mut w = SliceWriter::new(&mut buf);
/// write_args(&mut w, Some("list"), &[1, 2][..], None).unwrap(); // one array argument
/// assert_eq!(w.written(), br#"["list",[1,2]]"#);
/// ```
pub fn write_args<W: Write, T: Serialize + ?Sized>(
    w: &mut W,
    event: Option<&str>,
    args: &T,
    sink: Option<&mut dyn BinarySink>,
) -> Result<usize, JsonError> {
    w.write_byte(b'[')?;
    // Shortens the trait object's lifetime to the writer's.
    let sink = sink.map(|s| s as &mut dyn BinarySink);
    let mut ser = Serializer::new(w, sink);
    let first = match event {
        Some(name) => {
            string::write_quoted(ser.w, name)?;
            false
        }
        None => true,
    };
    args.serialize(ArgsSerializer {
        ser: &mut ser,
        first,
    })?;
    let count = ser.attachments();
    ser.w.write_byte(b']')?;
    Ok(count)
}
