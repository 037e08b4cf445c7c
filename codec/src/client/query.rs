//! Auth for Socket.IO v4 (socket.io 2.x) servers, which read it from a query
//! string appended to the namespace of the CONNECT packet:
//! `40/admin?token=abc,` (docs/protocol.md §4).
//!
//! The auth value is first serialized to JSON (the same serializer as
//! everywhere else), then its members are written as
//! `key=value&key=value`, each side escaped as JavaScript's
//! `encodeURIComponent` does, which is what the v2 client's query encoder
//! uses. Strings are written decoded, numbers and booleans as their JSON
//! literal (which is also their JavaScript `String()` form), `null` members
//! (a Rust `None`) are left out; arrays and objects cannot be written.

use crate::json::scan::ObjectIter;
use crate::json::validate::Kind;

/// Why the query could not be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QueryError {
    /// The JSON is not an object of scalars.
    Invalid,
    /// The output is too small.
    Full,
}

/// Writes the members of the JSON object `json` as a query string into
/// `out`; returns the length written.
pub(crate) fn write_query(json: &str, out: &mut [u8]) -> Result<usize, QueryError> {
    let mut w = Writer { out, len: 0 };
    let members = ObjectIter::new(json).ok_or(QueryError::Invalid)?;
    let mut first = true;
    for (key, value) in members {
        let kind = Kind::of(value.as_bytes()).ok_or(QueryError::Invalid)?;
        if kind == Kind::Null {
            continue;
        }
        if !first {
            w.raw(b'&')?;
        }
        first = false;
        for c in key.chars() {
            w.char(c)?;
        }
        w.raw(b'=')?;
        match kind {
            Kind::String => {
                let s =
                    crate::json::scan::RawStr::from_literal(value).ok_or(QueryError::Invalid)?;
                for c in s.chars() {
                    w.char(c)?;
                }
            }
            Kind::Number | Kind::Bool => {
                for c in value.chars() {
                    w.char(c)?;
                }
            }
            Kind::Null | Kind::Array | Kind::Object => return Err(QueryError::Invalid),
        }
    }
    Ok(w.len)
}

struct Writer<'o> {
    out: &'o mut [u8],
    len: usize,
}

impl Writer<'_> {
    fn raw(&mut self, b: u8) -> Result<(), QueryError> {
        let slot = self.out.get_mut(self.len).ok_or(QueryError::Full)?;
        *slot = b;
        self.len += 1;
        Ok(())
    }

    /// `encodeURIComponent` for one character.
    fn char(&mut self, c: char) -> Result<(), QueryError> {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        let mut utf8 = [0u8; 4];
        for &b in c.encode_utf8(&mut utf8).as_bytes() {
            let plain = b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')'
                );
            if plain {
                self.raw(b)?;
            } else {
                self.raw(b'%')?;
                self.raw(*HEX.get(usize::from(b >> 4)).unwrap_or(&b'0'))?;
                self.raw(*HEX.get(usize::from(b & 0xF)).unwrap_or(&b'0'))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(json: &str) -> Result<std::string::String, QueryError> {
        extern crate std;
        let mut buf = [0u8; 128];
        let n = write_query(json, &mut buf)?;
        Ok(std::string::String::from_utf8(buf[..n].to_vec()).unwrap())
    }

    extern crate std;

    #[test]
    fn members_become_encoded_pairs() {
        assert_eq!(q(r#"{"token":"abc"}"#).unwrap(), "token=abc");
        assert_eq!(
            q(r#"{"a b":"x&y=z","n":1e+21,"ok":true,"skip":null,"é":"\u00e9/"}"#).unwrap(),
            "a%20b=x%26y%3Dz&n=1e%2B21&ok=true&%C3%A9=%C3%A9%2F"
        );
        assert_eq!(q("{}").unwrap(), "");
        assert_eq!(q(r#"{"k":"-_.!~*'()"}"#).unwrap(), "k=-_.!~*'()");
    }

    #[test]
    fn nested_values_and_non_objects_are_refused() {
        assert_eq!(q(r#"{"a":[1]}"#), Err(QueryError::Invalid));
        assert_eq!(q(r#"{"a":{"b":1}}"#), Err(QueryError::Invalid));
        assert_eq!(q(r#""token""#), Err(QueryError::Invalid));
        let mut small = [0u8; 4];
        assert_eq!(
            write_query(r#"{"token":"abc"}"#, &mut small),
            Err(QueryError::Full)
        );
    }
}
