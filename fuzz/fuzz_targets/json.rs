//! The JSON layer against `serde_json`: `validate`, the deserializer
//! (`de::from_str_with`), the scanners (`ArrayIter`, `ObjectIter`,
//! `RawStr`) and the serializer (`ser::to_string`).
//!
//! Input: any text.
//!
//! Invariants (differential, with `serde_json` as the reference):
//! - our validator accepts exactly what `serde_json` accepts, except that
//!   `serde_json` refuses numbers outside `f64` (`1e400`, valid JSON) and
//!   that the depth limits differ (we compare only below both);
//! - our deserializer reads the same `Value` as `serde_json`, and fails
//!   exactly where the validator fails;
//! - what we serialize, `serde_json` reads back as the same value, and
//!   without floats it is byte-identical to `serde_json`'s output;
//! - array and object scanners find the elements `serde_json` finds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oxio_codec::json::de::{from_str_with, DeOptions};
use oxio_codec::json::scan::{ArrayIter, ObjectIter, RawStr};
use oxio_codec::json::validate::{validate, validate_prefix, Kind};
use oxio_codec::json::{ser, JsonError};
use oxio_fuzz::{has_float, json_depth, Tree};
use serde_json::Value;

/// Below `serde_json`'s recursion limit (it refuses the 128th level).
const DEPTH: usize = 100;

fuzz_target!(|input: &[u8]| {
    let Ok(text) = std::str::from_utf8(input) else {
        return;
    };
    let ours = validate(text.as_bytes(), DEPTH);
    if let Ok(end) = validate_prefix(text.as_bytes(), DEPTH) {
        assert!(end <= text.len());
    }
    let theirs = serde_json::from_str::<Value>(text);
    let opts = DeOptions {
        max_depth: DEPTH,
        attachments: None,
    };
    let read = from_str_with::<Value>(text, &opts, None);

    match ours {
        Ok(()) => {
            assert!(json_depth(text.as_bytes()) <= DEPTH);
            match &theirs {
                Ok(v) => {
                    let r = read.as_ref().unwrap_or_else(|e| {
                        panic!("validated, serde_json read it, our deserializer failed: {e:?}")
                    });
                    assert_eq!(r, v, "our deserializer reads another value");
                    scanners(text, v);
                    serializer(v);
                }
                // Unpaired surrogate escapes: JSON.parse (and we) accept
                // them, serde_json does not; we read them as U+FFFD.
                Err(e)
                    if !e.to_string().starts_with("number out of range")
                        && text.contains("\\u") =>
                {
                    let r = read.as_ref().unwrap_or_else(|e| {
                        panic!("validated (lone surrogate), our deserializer failed: {e:?}")
                    });
                    let _ = r;
                }
                Err(e) => {
                    assert!(
                        e.to_string().starts_with("number out of range"),
                        "validated, but serde_json refuses: {e}"
                    );
                    assert_eq!(read.as_ref().err(), Some(&JsonError::InvalidNumber));
                }
            }
        }
        Err(JsonError::TooDeep) => {
            assert!(json_depth(text.as_bytes()) > DEPTH);
            assert!(read.is_err());
        }
        Err(e) => {
            assert!(
                theirs.is_err(),
                "validator refuses ({e:?}) what serde_json accepts"
            );
            assert!(
                read.is_err(),
                "validator refuses ({e:?}) what we deserialize"
            );
            let _ = e.to_string();
        }
    }
});

fn scanners(text: &str, v: &Value) {
    let kind = Kind::of(text.as_bytes()).expect("validated text has a kind");
    let trimmed = text.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r'));
    match v {
        Value::Array(items) => {
            assert_eq!(kind, Kind::Array);
            let elems: Vec<&str> = ArrayIter::new(text)
                .expect("an array")
                .take(items.len() + 1)
                .collect();
            assert_eq!(elems.len(), items.len(), "ArrayIter count");
            for (e, item) in elems.iter().zip(items) {
                assert_eq!(&serde_json::from_str::<Value>(e).expect("element"), item);
            }
        }
        Value::Object(map) => {
            assert_eq!(kind, Kind::Object);
            // Members in order, duplicates included, as a tree reads them.
            let Ok(Tree::Map(members)) = serde_json::from_str::<Tree>(text) else {
                panic!("serde_json reads an object as something else")
            };
            let found: Vec<_> = ObjectIter::new(text)
                .expect("an object")
                .take(members.len() + 1)
                .collect();
            assert_eq!(found.len(), members.len(), "ObjectIter count");
            for ((key, value), (k, t)) in found.iter().zip(&members) {
                assert!(key.eq_str(k), "key {:?} vs {k:?}", key.raw());
                assert_eq!(&key.to_string(), k);
                assert_eq!(&serde_json::from_str::<Tree>(value).expect("member"), t);
                assert!(map.contains_key(k));
            }
        }
        Value::String(s) => {
            assert_eq!(kind, Kind::String);
            let raw = RawStr::from_literal(trimmed).expect("a string literal");
            assert!(raw.eq_str(s));
            assert_eq!(raw.has_escapes(), raw.as_str().is_none());
            let mut buf = vec![0u8; raw.raw().len()];
            assert_eq!(raw.unescape_into(&mut buf).as_deref(), Ok(s.as_str()));
            assert_eq!(&raw.chars().collect::<String>(), s);
        }
        Value::Number(_) => assert_eq!(kind, Kind::Number),
        Value::Bool(_) => assert_eq!(kind, Kind::Bool),
        Value::Null => assert_eq!(kind, Kind::Null),
    }
}

fn serializer(v: &Value) {
    let ours = ser::to_string(v).expect("a Value serializes");
    let back: Value = serde_json::from_str(&ours)
        .unwrap_or_else(|e| panic!("serde_json cannot read our output {ours:?}: {e}"));
    // Floats may come back as integers (`1.0` is written `1`): compare as trees.
    assert_eq!(
        Tree::from_value(&back),
        Tree::from_value(v),
        "round trip through {ours:?}"
    );
    if !has_float(v) {
        assert_eq!(
            ours,
            serde_json::to_string(v).expect("serde_json writes it")
        );
    }
    let mut buf = vec![0u8; ours.len()];
    assert_eq!(ser::to_slice(v, &mut buf), Ok(ours.len()));
    assert_eq!(buf, ours.as_bytes());
    if !ours.is_empty() {
        assert_eq!(
            ser::to_slice(v, &mut buf[..ours.len() - 1]),
            Err(JsonError::BufferFull)
        );
    }
}
