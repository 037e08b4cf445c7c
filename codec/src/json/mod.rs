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

impl serde::de::Error for JsonError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        JsonError::custom(msg)
    }
}
