//! JSON, the way the Socket.IO layer needs it: validated without being
//! parsed, scanned without being copied, written byte-identical to
//! JavaScript's `JSON.stringify`, and read into `serde` types on demand.
//!
//! - [`validate`]: strict RFC 8259 check with a nesting limit, no recursion.
//! - [`scan`]: borrowed views into validated JSON (array elements, object
//!   members, string literals with their escapes still in place).
//! - [`ser`]: a `serde::Serializer` writing compact `JSON.stringify` output
//!   into a caller buffer, replacing bytes with attachment placeholders.
//! - [`de`]: a `serde::Deserializer` over borrowed input that borrows strings
//!   where it can and substitutes attachment placeholders with their bytes.

pub mod de;
pub mod scan;
pub mod ser;
pub mod validate;

use core::fmt;

/// Why a JSON text could not be validated, read or written.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum JsonError {
    /// The input ended inside a value.
    UnexpectedEnd,
    /// A byte that cannot appear here, at this offset from the start of the input.
    UnexpectedByte {
        /// Byte offset of the offending byte.
        offset: usize,
    },
    /// A string holds a control character, a bad escape or an unpaired surrogate.
    InvalidString,
    /// A number is not in JSON's grammar, or does not fit the requested type.
    InvalidNumber,
    /// Arrays and objects are nested deeper than the limit.
    TooDeep,
    /// Something other than white space follows the value.
    TrailingData,
    /// The output buffer is full.
    BufferFull,
    /// An escaped string had to be decoded, and no scratch space was given
    /// (or it was too small). Pass a larger scratch buffer, or enable `alloc`.
    ScratchTooSmall,
    /// A binary placeholder is malformed or points past the attachments.
    InvalidPlaceholder,
    /// The value has the wrong shape for the requested type.
    InvalidType,
    /// The value has the right shape but a value the type does not accept.
    InvalidValue,
    /// A sequence or map has the wrong number of elements for the type.
    InvalidLength(usize),
    /// An enum variant name the type does not know.
    UnknownVariant,
    /// A struct field the type does not know (with `deny_unknown_fields`).
    UnknownField,
    /// A required struct field is absent.
    MissingField(&'static str),
    /// A struct field appears twice.
    DuplicateField(&'static str),
    /// A message from a `Serialize` or `Deserialize` implementation, truncated.
    Custom(heapless::String<64>),
}

impl JsonError {
    pub(crate) fn custom(msg: impl fmt::Display) -> Self {
        let mut s = heapless::String::<64>::new();
        let mut w = TruncatingWriter(&mut s);
        let _ = fmt::write(&mut w, format_args!("{msg}"));
        JsonError::Custom(s)
    }
}

struct TruncatingWriter<'a>(&'a mut heapless::String<64>);

impl fmt::Write for TruncatingWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            if self.0.push(c).is_err() {
                break;
            }
        }
        Ok(())
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonError::UnexpectedEnd => f.write_str("unexpected end of JSON input"),
            JsonError::UnexpectedByte { offset } => {
                write!(f, "unexpected byte in JSON at offset {offset}")
            }
            JsonError::InvalidString => f.write_str("invalid JSON string"),
            JsonError::InvalidNumber => f.write_str("invalid JSON number"),
            JsonError::TooDeep => f.write_str("JSON nested too deeply"),
            JsonError::TrailingData => f.write_str("trailing data after JSON value"),
            JsonError::BufferFull => f.write_str("output buffer full"),
            JsonError::ScratchTooSmall => {
                f.write_str("escaped string needs scratch space (none given or too small)")
            }
            JsonError::InvalidPlaceholder => f.write_str("invalid binary attachment placeholder"),
            JsonError::InvalidType => f.write_str("JSON value has the wrong type"),
            JsonError::InvalidValue => f.write_str("JSON value not accepted by the type"),
            JsonError::InvalidLength(n) => write!(f, "wrong number of elements ({n})"),
            JsonError::UnknownVariant => f.write_str("unknown enum variant"),
            JsonError::UnknownField => f.write_str("unknown field"),
            JsonError::MissingField(name) => write!(f, "missing field `{name}`"),
            JsonError::DuplicateField(name) => write!(f, "duplicate field `{name}`"),
            JsonError::Custom(msg) => f.write_str(msg),
        }
    }
}

impl core::error::Error for JsonError {}

impl serde::ser::Error for JsonError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        JsonError::custom(msg)
    }
}

/// The typed constructors are overridden so that decoding into derived
/// types never formats a message: on a microcontroller that keeps
/// `core::fmt` (about 1.5 KB of flash) out of the image.
impl serde::de::Error for JsonError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        JsonError::custom(msg)
    }
    fn invalid_type(_: serde::de::Unexpected<'_>, _: &dyn serde::de::Expected) -> Self {
        JsonError::InvalidType
    }
    fn invalid_value(_: serde::de::Unexpected<'_>, _: &dyn serde::de::Expected) -> Self {
        JsonError::InvalidValue
    }
    fn invalid_length(len: usize, _: &dyn serde::de::Expected) -> Self {
        JsonError::InvalidLength(len)
    }
    fn unknown_variant(_: &str, _: &'static [&'static str]) -> Self {
        JsonError::UnknownVariant
    }
    fn unknown_field(_: &str, _: &'static [&'static str]) -> Self {
        JsonError::UnknownField
    }
    fn missing_field(field: &'static str) -> Self {
        JsonError::MissingField(field)
    }
    fn duplicate_field(field: &'static str) -> Self {
        JsonError::DuplicateField(field)
    }
}
