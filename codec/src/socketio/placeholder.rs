//! Binary placeholders: `{"_placeholder":true,"num":N}`.
//!
//! In a binary packet each attachment is referenced from the JSON by such an
//! object. [`check`] walks a validated payload once, without recursion, and
//! requires every object that has a `_placeholder` key to be exactly a
//! placeholder: two members, `_placeholder` and `num` (either order, written
//! without escapes), `_placeholder` exactly `true`, `num` a plain integer
//! below the attachment count. The reference parser throws "illegal
//! attachments" on a bad `num`; the rest is a stricter rule of ours (the
//! reference takes any object whose `_placeholder` is `true`): real
//! encoders write exactly this shape, and one definition shared by this
//! check and the deserializer means a placeholder can never be read two
//! ways. Ordinary (non-binary) packets are not checked: there,
//! placeholder-shaped objects are plain JSON.

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
                        if key.has_escapes() {
                            return Err(Error::InvalidPlaceholder);
                        }
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
    index_of(object, count)
        .map(|_| ())
        .ok_or(Error::InvalidPlaceholder)
}

/// Returns the attachment index when `value` (raw JSON) is exactly a
/// placeholder object under the rule above.
///
/// ```
/// use oxio_codec::socketio::placeholder::index_of;
///
/// assert_eq!(index_of(r#"{"_placeholder":true,"num":1}"#, 2), Some(1));
/// assert_eq!(index_of(r#"{"num":0,"_placeholder":true}"#, 1), Some(0));
/// assert_eq!(index_of(r#"{"_placeholder":true,"num":0,"x":1}"#, 1), None);
/// ```
pub fn index_of(value: &str, count: usize) -> Option<usize> {
    let mut members = ObjectIter::new(value)?;
    let (k1, v1) = members.next()?;
    let (k2, v2) = members.next()?;
    if members.next().is_some() {
        return None;
    }
    let num = match (k1.as_str()?, k2.as_str()?) {
        ("_placeholder", "num") if v1 == "true" => v2,
        ("num", "_placeholder") if v2 == "true" => v1,
        _ => return None,
    };
    let n = usize::try_from(parse_uint(num)?).ok()?;
    (n < count).then_some(n)
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
    fn deep_nesting_before_the_key_is_rejected_never_misread() {
        for depth in [5, 40] {
            let frame = std::format!(
                r#"[{{"a":{}1{},"_placeholder":true,"num":0}}]"#,
                "{\"a\":".repeat(depth),
                "}".repeat(depth)
            );
            assert_eq!(check(&frame, 1), Err(Error::InvalidPlaceholder), "{depth}");
        }
        // Deep nesting elsewhere does not disturb a real placeholder.
        let frame = std::format!(
            r#"[{}1{},{{"_placeholder":true,"num":0}}]"#,
            "{\"a\":".repeat(40),
            "}".repeat(40)
        );
        assert_eq!(check(&frame, 1), Ok(()));
    }

    #[test]
    fn index_of_reads_only_valid_placeholders() {
        assert_eq!(index_of(r#"{"_placeholder":true,"num":1}"#, 2), Some(1));
        assert_eq!(index_of(r#"{"_placeholder":true,"num":2}"#, 2), None);
        assert_eq!(index_of(r#"{"_placeholder":false,"num":0}"#, 2), None);
        assert_eq!(index_of(r#"[1]"#, 2), None);
    }
}
