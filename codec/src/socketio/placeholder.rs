//! Binary placeholders: `{"_placeholder":true,"num":N}`.
//!
//! In a binary packet each attachment is referenced from the JSON by such an
//! object. [`check`] walks a validated payload once, without recursion, and
//! rejects a `_placeholder` member whose value is not exactly `true`, or a
//! placeholder whose `num` is not an integer below the attachment count. The
//! reference parser throws "illegal attachments" on the second; the first is
//! a stricter rule of ours (a `_placeholder` key that is not a placeholder is
//! almost certainly an attack on a parser). Ordinary (non-binary) packets are
//! not checked: there, placeholder-shaped objects are plain JSON.

use super::Error;
use crate::json::scan::{parse_uint, value_end, ObjectIter, RawStr};
use crate::json::validate::skip_ws;

/// How many enclosing objects the walk remembers; a `_placeholder` key found
/// under more nesting than this inside its own object's earlier members is
/// rejected rather than searched for.
const RING: usize = 32;

/// Checks every object holding a `_placeholder` key in `payload` (validated
/// JSON) against `count` attachments.
///
/// ```
/// use oxio_codec::socketio::{placeholder::check, Error};
///
/// assert_eq!(check(r#"["m",{"_placeholder":true,"num":0}]"#, 1), Ok(()));
/// assert_eq!(check(r#"["m",{"_placeholder":true,"num":"splice"}]"#, 1), Err(Error::InvalidPlaceholder));
/// assert_eq!(check(r#"["m",{"_placeholder":true,"num":1}]"#, 1), Err(Error::InvalidPlaceholder));
/// assert_eq!(check(r#"["m",{"_placeholder":"true","num":0}]"#, 1), Err(Error::InvalidPlaceholder));
/// ```
pub fn check(payload: &str, count: usize) -> Result<(), Error> {
    let bytes = payload.as_bytes();
    // Depth, start offset and "already checked" of the innermost object at
    // each depth (ring buffer). Checking an object once, however many
    // `_placeholder` keys it repeats, keeps the walk linear.
    let mut opened: [(usize, usize, bool); RING] = [(usize::MAX, 0, false); RING];
    let mut depth = 0usize;
    let mut pos = 0usize;
    while let Some(&b) = bytes.get(pos) {
        match b {
            b'{' | b'[' => {
                if b == b'{' {
                    if let Some(slot) = opened.get_mut(depth % RING) {
                        *slot = (depth, pos, false);
                    }
                }
                depth += 1;
                pos += 1;
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                pos += 1;
            }
            b'"' => {
                let end = value_end(bytes, pos);
                if end <= pos {
                    return Err(Error::InvalidPlaceholder);
                }
                let is_key = bytes.get(skip_ws(bytes, end)) == Some(&b':');
                if is_key {
                    let key = payload
                        .get(pos..end)
                        .and_then(RawStr::from_literal)
                        .ok_or(Error::InvalidPlaceholder)?;
                    if key == "_placeholder" {
                        let object_depth = depth.checked_sub(1).ok_or(Error::InvalidPlaceholder)?;
                        match opened.get_mut(object_depth % RING) {
                            Some((d, _, true)) if *d == object_depth => {}
                            Some((d, start, checked)) if *d == object_depth => {
                                check_object(payload.get(*start..).unwrap_or_default(), count)?;
                                *checked = true;
                            }
                            _ => return Err(Error::InvalidPlaceholder),
                        }
                    }
                }
                pos = end;
            }
            _ => pos += 1,
        }
    }
    Ok(())
}

/// Checks the object at the start of `object` as a placeholder.
fn check_object(object: &str, count: usize) -> Result<(), Error> {
    let mut num = None;
    let mut flagged = false;
    for (key, value) in ObjectIter::new(object).ok_or(Error::InvalidPlaceholder)? {
        if key == "_placeholder" {
            if value != "true" {
                return Err(Error::InvalidPlaceholder);
            }
            flagged = true;
        } else if key == "num" {
            num = Some(value);
        }
    }
    let num = num.and_then(parse_uint).ok_or(Error::InvalidPlaceholder)?;
    if flagged && num < count as u64 {
        Ok(())
    } else {
        Err(Error::InvalidPlaceholder)
    }
}

/// Returns the attachment index when `value` (raw JSON) is a well-formed
/// placeholder object, as the deserializer needs.
pub fn index_of(value: &str, count: usize) -> Option<usize> {
    let mut num = None;
    let mut flagged = false;
    for (key, v) in ObjectIter::new(value)? {
        if key == "_placeholder" {
            flagged = v == "true";
        } else if key == "num" {
            num = parse_uint(v);
        }
    }
    let n = usize::try_from(num?).ok()?;
    (flagged && n < count).then_some(n)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    #[test]
    fn accepts_valid_placeholders_anywhere() {
        for (p, n) in [
            (r#"["m",{"_placeholder":true,"num":0}]"#, 1),
            (r#"["m",{"num":1,"_placeholder":true}]"#, 2),
            (
                r#"["m",{"a":[{"_placeholder":true,"num":1}],"b":{"_placeholder":true,"num":0}}]"#,
                2,
            ),
            (r#"["m",{"x":{"y":[1,2]},"_placeholder":true,"num":0}]"#, 1),
            (r#"["m","_placeholder",{"k":"_placeholder"}]"#, 1),
            (r#"["m",{"x\"_placeholder":false}]"#, 1),
        ] {
            assert_eq!(check(p, n), Ok(()), "{p}");
        }
    }

    #[test]
    fn rejects_bad_placeholders() {
        for (p, n) in [
            (r#"["m",{"_placeholder":true,"num":"splice"}]"#, 1),
            (r#"["m",{"_placeholder":true,"num":1.5}]"#, 2),
            (r#"["m",{"_placeholder":true,"num":-1}]"#, 1),
            (r#"["m",{"_placeholder":true,"num":10}]"#, 1),
            (r#"["m",{"_placeholder":true,"num":1e0}]"#, 2),
            (r#"["m",{"_placeholder":true}]"#, 1),
            (r#"["m",{"_placeholder":false,"num":0}]"#, 1),
            (r#"["m",{"_placeholder":1,"num":0}]"#, 1),
            (r#"["m",{"_placeholder":"true","num":0}]"#, 1),
            (r#"["m",{"\u005fplaceholder":null,"num":0}]"#, 1),
            (
                r#"["m",{"_placeholder":true,"num":99999999999999999999999}]"#,
                1,
            ),
        ] {
            assert_eq!(check(p, n), Err(Error::InvalidPlaceholder), "{p}");
        }
    }

    #[test]
    fn deep_nesting_before_the_key_is_handled() {
        let deep = std::format!(
            r#"[{{"a":{}1{},"_placeholder":true,"num":0}}]"#,
            "{\"a\":".repeat(40),
            "}".repeat(40)
        );
        // The object's own start was pushed out of the ring: rejected, never misread.
        assert_eq!(check(&deep, 1), Err(Error::InvalidPlaceholder));
        let shallow = std::format!(
            r#"[{{"a":{}1{},"_placeholder":true,"num":0}}]"#,
            "{\"a\":".repeat(5),
            "}".repeat(5)
        );
        assert_eq!(check(&shallow, 1), Ok(()));
    }

    #[test]
    fn index_of_reads_only_valid_placeholders() {
        assert_eq!(index_of(r#"{"_placeholder":true,"num":1}"#, 2), Some(1));
        assert_eq!(index_of(r#"{"_placeholder":true,"num":2}"#, 2), None);
        assert_eq!(index_of(r#"{"_placeholder":false,"num":0}"#, 2), None);
        assert_eq!(index_of(r#"[1]"#, 2), None);
    }
}
