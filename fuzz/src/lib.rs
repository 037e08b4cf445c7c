//! Helpers shared by the oxio-codec fuzz targets: pointer-range checks for
//! zero-copy views, the limits the targets run under, and [`Tree`], a JSON
//! value that also holds bytes (for binary attachments), with a semantic
//! equality that treats `1`, `1.0` and `1e0` as the same number.
//!
//! Everything here panics on a broken invariant: that is how a fuzz target
//! reports a bug to libFuzzer.

#![forbid(unsafe_code)]

pub mod client;

use arbitrary::{Result as ArbResult, Unstructured};
use oxio_codec::Limits;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use std::fmt;

/// Whether `inner` lies entirely inside `outer` (by address): a decoded view
/// must borrow the input, never a copy or a static.
pub fn inside(outer: &[u8], inner: &[u8]) -> bool {
    let o = outer.as_ptr_range();
    let i = inner.as_ptr_range();
    o.start <= i.start && i.end <= o.end
}

/// Panics unless `inner` lies inside `outer`.
#[track_caller]
pub fn assert_inside(outer: &[u8], inner: &[u8], what: &str) {
    assert!(
        inside(outer, inner),
        "{what} does not borrow from the input: {:?} not in {:?}",
        String::from_utf8_lossy(inner),
        String::from_utf8_lossy(outer)
    );
}

/// Small limits that make every edge reachable with short inputs.
pub const SMALL_LIMITS: Limits = Limits {
    max_packet_len: 64,
    max_attachments: 3,
    max_attachment_bytes: 32,
    max_depth: 8,
    max_ack_id: 1000,
    max_namespace_len: 16,
    attachment_timeout_ms: 100,
};

/// The limits a selector byte picks: the defaults, [`SMALL_LIMITS`], or
/// tiny ones (depth 1, one attachment, four-byte packets).
pub fn limits_for(selector: u8) -> Limits {
    match selector % 3 {
        0 => Limits::DEFAULT,
        1 => SMALL_LIMITS,
        _ => Limits {
            max_packet_len: 4,
            max_attachments: 1,
            max_attachment_bytes: 4,
            max_depth: 1,
            max_ack_id: 9,
            max_namespace_len: 2,
            attachment_timeout_ms: 0,
        },
    }
}

/// A JSON number as read: exact integers stay integers.
#[derive(Debug, Clone, Copy)]
pub enum Num {
    /// A non-negative integer.
    U(u64),
    /// A negative integer.
    I(i64),
    /// Anything else.
    F(f64),
}

impl PartialEq for Num {
    /// Integers compare exactly; a float compares by value (`-0 == 0`).
    fn eq(&self, other: &Self) -> bool {
        fn int(n: &Num) -> Option<i128> {
            match *n {
                Num::U(u) => Some(i128::from(u)),
                Num::I(i) => Some(i128::from(i)),
                Num::F(_) => None,
            }
        }
        fn float(n: &Num) -> f64 {
            match *n {
                Num::U(u) => u as f64,
                Num::I(i) => i as f64,
                Num::F(f) => f,
            }
        }
        match (int(self), int(other)) {
            (Some(a), Some(b)) => a == b,
            _ => float(self) == float(other),
        }
    }
}

/// A JSON value plus raw bytes (a resolved binary attachment). Maps keep
/// their members in order, duplicates included.
#[derive(Debug, Clone, PartialEq)]
pub enum Tree {
    /// `null` (also NaN and ±Infinity, which `JSON.stringify` writes as `null`).
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number.
    Num(Num),
    /// A string.
    Str(String),
    /// Bytes: serialized as an attachment placeholder (or, without a sink,
    /// as an array of numbers).
    Bytes(Vec<u8>),
    /// An array.
    Seq(Vec<Tree>),
    /// An object.
    Map(Vec<(String, Tree)>),
}

/// The key the binary placeholder uses; generated maps never use it, so
/// user data cannot be mistaken for a placeholder.
pub const PLACEHOLDER_KEY: &str = "_placeholder";

impl Tree {
    /// An arbitrary tree at most `depth` containers deep. Bytes appear only
    /// when `bytes` is set. Keys never equal [`PLACEHOLDER_KEY`].
    pub fn arbitrary_with(u: &mut Unstructured<'_>, depth: u32, bytes: bool) -> ArbResult<Tree> {
        let leaf_kinds = if bytes { 7 } else { 6 };
        let kinds = if depth == 0 {
            leaf_kinds
        } else {
            leaf_kinds + 2
        };
        let kind = u.choose_index(kinds)?;
        Ok(match (kind, bytes) {
            (0, _) => Tree::Null,
            (1, _) => Tree::Bool(u.arbitrary()?),
            (2, _) => Tree::Num(Num::U(u.arbitrary()?)),
            (3, _) => Tree::Num(Num::I(u.arbitrary()?)),
            (4, _) => Tree::Num(Num::F(u.arbitrary()?)),
            (5, _) => Tree::Str(u.arbitrary()?),
            (6, true) => Tree::Bytes(u.arbitrary()?),
            (k, _) if k == leaf_kinds => {
                let mut items = Vec::new();
                while items.len() < 6 && u.arbitrary::<bool>()? {
                    items.push(Tree::arbitrary_with(u, depth - 1, bytes)?);
                }
                Tree::Seq(items)
            }
            _ => {
                let mut members = Vec::new();
                while members.len() < 6 && u.arbitrary::<bool>()? {
                    let mut key: String = u.arbitrary()?;
                    if key == PLACEHOLDER_KEY {
                        key.push('_');
                    }
                    members.push((key, Tree::arbitrary_with(u, depth - 1, bytes)?));
                }
                Tree::Map(members)
            }
        })
    }

    /// What a peer reads back when this tree is written with an attachment
    /// sink: each `Bytes` becomes `{"_placeholder":true,"num":N}`, N
    /// counting depth first; the bytes are appended to `attachments`.
    pub fn with_placeholders(&self, attachments: &mut Vec<Vec<u8>>) -> Tree {
        match self {
            Tree::Bytes(b) => {
                let num = attachments.len() as u64;
                attachments.push(b.clone());
                Tree::Map(vec![
                    (PLACEHOLDER_KEY.to_owned(), Tree::Bool(true)),
                    ("num".to_owned(), Tree::Num(Num::U(num))),
                ])
            }
            Tree::Seq(items) => Tree::Seq(
                items
                    .iter()
                    .map(|t| t.with_placeholders(attachments))
                    .collect(),
            ),
            Tree::Map(members) => Tree::Map(
                members
                    .iter()
                    .map(|(k, v)| (k.clone(), v.with_placeholders(attachments)))
                    .collect(),
            ),
            other => other.normalized(),
        }
    }

    /// What a peer reads back when this tree is written without a sink:
    /// bytes as arrays of numbers, non-finite floats as `null`.
    pub fn without_sink(&self) -> Tree {
        match self {
            Tree::Bytes(b) => Tree::Seq(b.iter().map(|&x| Tree::Num(Num::U(x.into()))).collect()),
            Tree::Seq(items) => Tree::Seq(items.iter().map(Tree::without_sink).collect()),
            Tree::Map(members) => Tree::Map(
                members
                    .iter()
                    .map(|(k, v)| (k.clone(), v.without_sink()))
                    .collect(),
            ),
            other => other.normalized(),
        }
    }

    /// What a peer reads back, bytes kept (resolved attachments):
    /// non-finite floats become `null`.
    pub fn normalized(&self) -> Tree {
        match self {
            Tree::Num(Num::F(f)) if !f.is_finite() => Tree::Null,
            Tree::Seq(items) => Tree::Seq(items.iter().map(Tree::normalized).collect()),
            Tree::Map(members) => Tree::Map(
                members
                    .iter()
                    .map(|(k, v)| (k.clone(), v.normalized()))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// Whether any map key, at any depth, equals `key`.
    pub fn has_key(&self, key: &str) -> bool {
        match self {
            Tree::Seq(items) => items.iter().any(|t| t.has_key(key)),
            Tree::Map(members) => members.iter().any(|(k, v)| k == key || v.has_key(key)),
            _ => false,
        }
    }

    /// The tree of a `serde_json::Value` (maps lose duplicates there).
    pub fn from_value(v: &serde_json::Value) -> Tree {
        use serde_json::Value;
        match v {
            Value::Null => Tree::Null,
            Value::Bool(b) => Tree::Bool(*b),
            Value::Number(n) => Tree::Num(if let Some(u) = n.as_u64() {
                Num::U(u)
            } else if let Some(i) = n.as_i64() {
                Num::I(i)
            } else {
                Num::F(n.as_f64().unwrap_or(f64::NAN))
            }),
            Value::String(s) => Tree::Str(s.clone()),
            Value::Array(a) => Tree::Seq(a.iter().map(Tree::from_value).collect()),
            Value::Object(o) => Tree::Map(
                o.iter()
                    .map(|(k, v)| (k.clone(), Tree::from_value(v)))
                    .collect(),
            ),
        }
    }
}

impl Serialize for Tree {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Tree::Null => s.serialize_unit(),
            Tree::Bool(b) => s.serialize_bool(*b),
            Tree::Num(Num::U(u)) => s.serialize_u64(*u),
            Tree::Num(Num::I(i)) => s.serialize_i64(*i),
            Tree::Num(Num::F(f)) => s.serialize_f64(*f),
            Tree::Str(t) => s.serialize_str(t),
            Tree::Bytes(b) => s.serialize_bytes(b),
            Tree::Seq(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Tree::Map(members) => {
                let mut map = s.serialize_map(Some(members.len()))?;
                for (k, v) in members {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Tree {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Tree, D::Error> {
        d.deserialize_any(TreeVisitor)
    }
}

struct TreeVisitor;

impl<'de> Visitor<'de> for TreeVisitor {
    type Value = Tree;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value or bytes")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Tree, E> {
        Ok(Tree::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Tree, E> {
        Ok(Tree::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Tree, D::Error> {
        Tree::deserialize(d)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Tree, E> {
        Ok(Tree::Bool(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Tree, E> {
        Ok(Tree::Num(Num::U(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Tree, E> {
        Ok(if v >= 0 {
            Tree::Num(Num::U(v as u64))
        } else {
            Tree::Num(Num::I(v))
        })
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Tree, E> {
        Ok(Tree::Num(Num::F(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Tree, E> {
        Ok(Tree::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Tree, E> {
        Ok(Tree::Str(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Tree, E> {
        Ok(Tree::Bytes(v.to_vec()))
    }
    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Tree, E> {
        Ok(Tree::Bytes(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Tree, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Tree::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tree, A::Error> {
        let mut members = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, Tree>()? {
            members.push((k, v));
        }
        Ok(Tree::Map(members))
    }
}

/// Deepest nesting of a JSON text, counting brackets outside strings
/// (meant for text a validator accepted).
pub fn json_depth(json: &[u8]) -> usize {
    let (mut depth, mut max, mut in_str, mut esc) = (0usize, 0usize, false, false);
    for &b in json {
        if in_str {
            if esc {
                esc = false;
            } else if b == b'\\' {
                esc = true;
            } else if b == b'"' {
                in_str = false;
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// Whether a `serde_json::Value` holds a float anywhere (its text form then
/// differs between `JSON.stringify` and `serde_json`).
pub fn has_float(v: &serde_json::Value) -> bool {
    use serde_json::Value;
    match v {
        Value::Number(n) => n.is_f64(),
        Value::Array(a) => a.iter().any(has_float),
        Value::Object(o) => o.values().any(has_float),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_checks_addresses() {
        let buf = b"hello world";
        assert!(inside(buf, &buf[2..5]));
        assert!(inside(buf, &buf[11..]));
        assert!(!inside(buf, b"hello"));
    }

    #[test]
    fn numbers_compare_by_value() {
        assert_eq!(Num::U(1), Num::F(1.0));
        assert_eq!(Num::F(-0.0), Num::U(0));
        assert_ne!(Num::U(u64::MAX), Num::I(-1));
        assert_ne!(Num::F(1.5), Num::U(1));
    }

    #[test]
    fn placeholders_count_depth_first() {
        let t = Tree::Seq(vec![
            Tree::Map(vec![("a".into(), Tree::Bytes(vec![1]))]),
            Tree::Bytes(vec![2]),
        ]);
        let mut atts = Vec::new();
        let got = t.with_placeholders(&mut atts);
        assert_eq!(atts, [vec![1], vec![2]]);
        let json = serde_json::to_string(&got).unwrap();
        assert_eq!(
            json,
            r#"[{"a":{"_placeholder":true,"num":0}},{"_placeholder":true,"num":1}]"#
        );
    }

    #[test]
    fn depth_ignores_brackets_in_strings() {
        assert_eq!(json_depth(br#"[["[\"]"]]"#), 2);
        assert_eq!(json_depth(b"1"), 0);
    }
}
