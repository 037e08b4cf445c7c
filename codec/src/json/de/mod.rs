//! A zero-copy `serde` deserializer over borrowed JSON text, with its own
//! strict RFC 8259 parser.
//!
//! - **Strings** without escapes are handed out borrowed
//!   (`visit_borrowed_str`), so `&'de str` fields cost nothing. Strings with
//!   escapes are decoded into scratch space (the caller's `&mut [u8]`, or an
//!   internal `Vec` under `alloc` when none is given) and visited with
//!   `visit_str`; without room, [`JsonError::ScratchTooSmall`]. A `&'de str`
//!   target cannot take a decoded string: serde's own `&str` visitor then
//!   fails with [`JsonError::InvalidType`]; use
//!   `heapless::String`, `String` or `Cow<str>` where escapes may occur.
//! - **Strict syntax**: no leading zeros, `+1`, `.5`, `1.`, `1e`, trailing
//!   commas, comments, control characters in strings, bad escapes or
//!   unpaired `\u` surrogates ([`JsonError::InvalidString`]).
//! - **Numbers**: integer targets are parsed exactly; a fraction or
//!   exponent for an integer target is [`JsonError::InvalidType`], an
//!   out-of-range value [`JsonError::InvalidNumber`]. Floats use `core`'s
//!   correctly rounded parser; a finite literal that overflows (`1e400`) is
//!   `InvalidNumber` (as in `serde_json`; JavaScript would give `Infinity`,
//!   which JSON cannot write back). For self-describing targets
//!   (`deserialize_any`), non-negative integers are `u64`, negative ones
//!   `i64`, `-0` is `-0.0`, and larger integers fall back to `f64`.
//! - **Depth**: arrays and objects nest at most [`DeOptions::max_depth`]
//!   levels (`max_depth` levels pass, one more is [`JsonError::TooDeep`]).
//!   Ignored values (`IgnoredAny`, unknown struct fields) are skipped by an
//!   iterative scanner that still validates them and still counts depth; it
//!   tracks at most 1024 levels.
//! - **Binary placeholders**: given [`DeOptions::attachments`], an object
//!   `{"_placeholder":true,"num":N}` (the two members in either order,
//!   nothing else, `num` an integer literal in `[0, count)`) stands for
//!   attachment N: `deserialize_bytes`/`byte_buf`/`any` visit it with
//!   `visit_borrowed_bytes`, and `deserialize_seq` as a sequence of `u8`.
//!   An object whose first member is `"_placeholder":true` (or whose
//!   members are `num` then `"_placeholder":true`) but is otherwise wrong is
//!   [`JsonError::InvalidPlaceholder`]. Without attachments such objects are
//!   ordinary objects.
//! - **Bytes from JSON**: `deserialize_bytes` also accepts a string (its
//!   UTF-8 bytes) and an array (visited as a sequence: `Vec<u8>` and
//!   `serde_bytes::ByteBuf` accept `[1,2]`, a borrowed `&[u8]` does not).

mod access;
mod args;
mod read;

pub use read::Deserializer;

use serde::Deserialize;

use crate::json::JsonError;
use crate::Limits;

/// Binary attachments of a Socket.IO packet, indexed by placeholder `num`.
///
/// Implemented for slices, arrays, `heapless::Vec` and (with `alloc`)
/// `Vec` of anything that is `AsRef<[u8]>`: pass `&[a, b]`, `&list` or
/// `&vec` as `DeOptions::attachments`.
pub trait Attachments {
    /// How many attachments there are; a placeholder's `num` must be below.
    fn count(&self) -> usize;
    /// Attachment `index`, if it exists.
    fn get(&self, index: usize) -> Option<&[u8]>;
}

impl<B: AsRef<[u8]>> Attachments for [B] {
    fn count(&self) -> usize {
        self.len()
    }

    fn get(&self, index: usize) -> Option<&[u8]> {
        <[B]>::get(self, index).map(AsRef::as_ref)
    }
}

impl<B: AsRef<[u8]>> Attachments for &[B] {
    fn count(&self) -> usize {
        self.len()
    }

    fn get(&self, index: usize) -> Option<&[u8]> {
        <[B]>::get(self, index).map(AsRef::as_ref)
    }
}

impl<B: AsRef<[u8]>, const N: usize> Attachments for [B; N] {
    fn count(&self) -> usize {
        N
    }

    fn get(&self, index: usize) -> Option<&[u8]> {
        self.as_slice().get(index).map(AsRef::as_ref)
    }
}

impl<B: AsRef<[u8]>, const N: usize> Attachments for heapless::Vec<B, N> {
    fn count(&self) -> usize {
        self.len()
    }

    fn get(&self, index: usize) -> Option<&[u8]> {
        self.as_slice().get(index).map(AsRef::as_ref)
    }
}

#[cfg(feature = "alloc")]
impl<B: AsRef<[u8]>> Attachments for alloc::vec::Vec<B> {
    fn count(&self) -> usize {
        self.len()
    }

    fn get(&self, index: usize) -> Option<&[u8]> {
        self.as_slice().get(index).map(AsRef::as_ref)
    }
}

/// How to read: the nesting limit and the packet's attachments.
///
/// ```
/// use oxio_codec::json::de::{from_str_with, DeOptions};
///
/// let parts: [&[u8]; 1] = [b"\x01\x02"];
/// let opts = DeOptions { attachments: Some(&parts), ..DeOptions::default() };
/// let bytes: &[u8] = from_str_with(r#"{"_placeholder":true,"num":0}"#, &opts, None).unwrap();
/// assert_eq!(bytes, b"\x01\x02");
/// ```
#[derive(Clone, Copy)]
pub struct DeOptions<'de> {
    /// Deepest nesting of arrays and objects accepted. Default
    /// [`Limits::DEFAULT`]`.max_depth` (128).
    pub max_depth: usize,
    /// The attachments placeholders refer to; `None` reads placeholders as
    /// ordinary objects.
    pub attachments: Option<&'de dyn Attachments>,
}

impl Default for DeOptions<'_> {
    fn default() -> Self {
        DeOptions {
            max_depth: Limits::DEFAULT.max_depth,
            attachments: None,
        }
    }
}

impl core::fmt::Debug for DeOptions<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DeOptions")
            .field("max_depth", &self.max_depth)
            .field("attachments", &self.attachments.map(|a| a.count()))
            .finish()
    }
}

/// Reads a `T` from `json` with the default options; anything but white
/// space after the value is [`JsonError::TrailingData`]. Escaped strings
/// need `alloc` here; without it use [`from_str_with`] and a scratch buffer.
///
/// ```
/// use oxio_codec::json::de::from_str;
///
/// #[derive(serde::Deserialize, Debug, PartialEq)]
/// struct Msg<'a> { text: &'a str, n: u8 }
///
/// let input = r#" {"text":"hi","n":7} "#;
/// let msg: Msg = from_str(input).unwrap();
/// assert_eq!(msg, Msg { text: "hi", n: 7 });
/// assert!(input.as_bytes().as_ptr_range().contains(&msg.text.as_ptr())); // zero-copy
/// assert!(from_str::<u8>("1 2").is_err());
/// ```
pub fn from_str<'de, T: Deserialize<'de>>(json: &'de str) -> Result<T, JsonError> {
    from_str_with(json, &DeOptions::default(), None)
}

/// Reads a `T` from `json` with `opts`, decoding escaped strings into
/// `scratch` when given (it must hold the longest decoded string).
///
/// ```
/// use oxio_codec::json::de::{from_str_with, DeOptions};
///
/// let mut scratch = [0u8; 16];
/// let s: heapless::String<16> =
///     from_str_with(r#""tab\there""#, &DeOptions::default(), Some(&mut scratch)).unwrap();
/// assert_eq!(s.as_str(), "tab\there");
/// ```
pub fn from_str_with<'de, T: Deserialize<'de>>(
    json: &'de str,
    opts: &DeOptions<'de>,
    scratch: Option<&mut [u8]>,
) -> Result<T, JsonError> {
    let mut de = Deserializer::new(json, opts, scratch);
    let value = T::deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// Reads Socket.IO arguments from the JSON array `array`, after skipping
/// (but validating) its first `skip` elements (1 to drop an event name).
///
/// Mirrors [`write_args`](crate::json::ser::write_args):
/// - a tuple `T` takes one element per field; a missing element is `None`
///   for an `Option` field and [`JsonError::InvalidType`] otherwise (serde
///   reads fixed-size arrays `[T; N]` as tuples too, so they also take one
///   element per item);
/// - `()` ignores the arguments;
/// - [`Args<Vec<T>>`](crate::socketio::Args) (or `Args<heapless::Vec<T, N>>`)
///   takes every remaining element;
/// - a newtype struct is looked through;
/// - any other `T` is read from the first remaining element (missing:
///   `None` for an `Option`, else [`JsonError::InvalidType`]).
///
/// Extra elements are ignored, as JavaScript ignores extra arguments, but
/// still validated. An array shorter than `skip` is `InvalidType`.
///
/// ```
/// use oxio_codec::json::de::{args_from_str, DeOptions};
///
/// let opts = DeOptions::default();
/// let (n, s): (u8, &str) = args_from_str(r#"["m",1,"a",true]"#, 1, &opts, None).unwrap();
/// assert_eq!((n, s), (1, "a"));
/// let n: u8 = args_from_str(r#"["m",1,"a"]"#, 1, &opts, None).unwrap();
/// assert_eq!(n, 1);
/// let v: heapless::Vec<u8, 4> = args_from_str("[[1,2]]", 0, &opts, None).unwrap();
/// assert_eq!(v, [1, 2]);
/// let a: [u8; 2] = args_from_str("[1,2,3]", 0, &opts, None).unwrap();
/// assert_eq!(a, [1, 2]);
/// ```
pub fn args_from_str<'de, T: Deserialize<'de>>(
    array: &'de str,
    skip: usize,
    opts: &DeOptions<'de>,
    scratch: Option<&mut [u8]>,
) -> Result<T, JsonError> {
    let mut de = Deserializer::new(array, opts, scratch);
    match de.peek_value()? {
        b'[' => {}
        b => return Err(de.type_error(b)),
    }
    de.enter()?;
    de.pos += 1;
    let mut first = true;
    for _ in 0..skip {
        if !de.next_element(&mut first)? {
            return Err(JsonError::InvalidType);
        }
        de.skip_value()?;
    }
    let value = T::deserialize(args::ArgsDeserializer {
        de: &mut de,
        first: &mut first,
    })?;
    while de.next_element(&mut first)? {
        de.skip_value()?;
    }
    de.end_container(b']', false)?;
    de.end()?;
    Ok(value)
}
