//! The JSON serializer against known `JSON.stringify` output.
// These tests use the `alloc` conveniences (`to_vec`, owned scratch);
// codec/tests/no_std/json.rs covers the allocation-free paths.
#![cfg(feature = "alloc")]

use std::collections::BTreeMap;

use oxio_codec::json::ser::{
    to_slice, to_slice_with_sink, to_string, to_vec, to_writer, write_args, write_str,
    AttachmentCounter, BinarySink, LenCounter, SliceWriter,
};
use oxio_codec::json::JsonError;
use proptest::prelude::*;
use serde::Serialize;
use serde_bytes::{ByteBuf, Bytes};
use serde_json::Value;

fn s<T: Serialize + ?Sized>(v: &T) -> String {
    to_string(v).unwrap()
}

/// `(value, String(value))` in JavaScript (Node.js), i.e. what
/// `JSON.stringify` writes for a finite number.
const F64_TABLE: &[(f64, &str)] = &[
    (0.0, "0"),
    (-0.0, "0"),
    (1.0, "1"),
    (-1.0, "-1"),
    (0.1, "0.1"),
    (-1.5, "-1.5"),
    (0.5, "0.5"),
    (4.35, "4.35"),
    (100.0, "100"),
    (123.456, "123.456"),
    (12345.6789, "12345.6789"),
    (0.30000000000000004, "0.30000000000000004"),
    (1.0 / 3.0, "0.3333333333333333"),
    (1e15, "1000000000000000"),
    (9007199254740992.0, "9007199254740992"),
    (18446744073709552000.0, "18446744073709552000"),
    (1e20, "100000000000000000000"),
    (123456789012345680000.0, "123456789012345680000"),
    (999999999999999900000.0, "999999999999999900000"),
    (1e21, "1e+21"),
    (-1e21, "-1e+21"),
    (1.2345e21, "1.2345e+21"),
    (1e100, "1e+100"),
    (1.5e300, "1.5e+300"),
    (1.7976931348623157e308, "1.7976931348623157e+308"),
    (0.000001, "0.000001"),
    (0.0000015, "0.0000015"),
    (0.000001234, "0.000001234"),
    (0.00001, "0.00001"),
    (0.000025, "0.000025"),
    (1e-7, "1e-7"),
    (-1e-7, "-1e-7"),
    (1.5e-7, "1.5e-7"),
    (1.234e-7, "1.234e-7"),
    (2.220446049250313e-16, "2.220446049250313e-16"),
    (2.2250738585072014e-308, "2.2250738585072014e-308"),
    (5e-324, "5e-324"),
];

#[test]
fn f64_matches_javascript_number_to_string() {
    for &(v, js) in F64_TABLE {
        assert_eq!(s(&v), js, "for {v:e}");
    }
}

#[test]
fn non_finite_floats_are_null() {
    assert_eq!(
        s(&[f64::NAN, f64::INFINITY, f64::NEG_INFINITY]),
        "[null,null,null]"
    );
    assert_eq!(
        s(&[f32::NAN, f32::INFINITY, f32::NEG_INFINITY]),
        "[null,null,null]"
    );
}

/// f32 values print their own shortest digits (as serde_json does), laid
/// out with the JavaScript rules.
#[test]
fn f32_uses_its_shortest_digits_with_javascript_layout() {
    let table: &[(f32, &str)] = &[
        (0.1, "0.1"),
        (1.0, "1"),
        (-0.0, "0"),
        (2.71, "2.71"),
        (16777216.0, "16777216"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (f32::MAX, "3.4028235e+38"),
        (1e-7, "1e-7"),
        (0.000001, "0.000001"),
        (f32::MIN_POSITIVE, "1.1754944e-38"),
        (1e-45, "1e-45"),
    ];
    for &(v, js) in table {
        assert_eq!(s(&v), js, "for {v:e}");
    }
}

#[test]
fn integers_are_exact_decimal() {
    assert_eq!(
        s(&(0u8, -1i8, i64::MIN, u64::MAX)),
        "[0,-1,-9223372036854775808,18446744073709551615]"
    );
    assert_eq!(
        s(&(u128::MAX, i128::MIN)),
        "[340282366920938463463374607431768211455,-170141183460469231731687303715884105728]"
    );
    assert_eq!(
        s(&(i16::MIN, u16::MAX, i32::MIN, u32::MAX)),
        "[-32768,65535,-2147483648,4294967295]"
    );
}

#[test]
fn strings_are_escaped_like_json_stringify() {
    let table: &[(&str, &str)] = &[
        ("", r#""""#),
        ("plain", r#""plain""#),
        ("\"", r#""\"""#),
        ("\\", r#""\\""#),
        ("/", r#""/""#),
        ("\u{8}\u{c}\n\r\t", r#""\b\f\n\r\t""#),
        ("\u{0}", r#""\u0000""#),
        ("\u{1f}", r#""\u001f""#),
        ("\u{b}", r#""\u000b""#),
        ("\u{1a}x", r#""\u001ax""#),
        ("\u{7f}", "\"\u{7f}\""),
        ("\u{2028}\u{2029}", "\"\u{2028}\u{2029}\""),
        ("é😀", "\"é😀\""),
        (
            "a long run without escapes, then \"one\"",
            r#""a long run without escapes, then \"one\"""#,
        ),
    ];
    for &(input, js) in table {
        assert_eq!(s(input), js, "for {input:?}");
        let mut buf = [0u8; 128];
        let mut w = SliceWriter::new(&mut buf);
        write_str(&mut w, input).unwrap();
        assert_eq!(w.written(), js.as_bytes());
    }
    // Every control character: the five short forms, else \u00xx lowercase.
    for c in 0u8..0x20 {
        let expected = match c {
            8 => "\"\\b\"".to_string(),
            9 => "\"\\t\"".to_string(),
            10 => "\"\\n\"".to_string(),
            12 => "\"\\f\"".to_string(),
            13 => "\"\\r\"".to_string(),
            _ => format!("\"\\u{c:04x}\""),
        };
        assert_eq!(s(&char::from(c)), expected);
    }
}

#[derive(Serialize)]
struct Inner<'a> {
    z: u8,
    a: &'a str,
}

#[derive(Serialize)]
struct Outer<'a> {
    name: &'a str,
    inner: Inner<'a>,
    list: Vec<Inner<'a>>,
    maybe: Option<u8>,
    nothing: Option<u8>,
    unit: (),
}

#[test]
fn structs_keep_declaration_order() {
    let v = Outer {
        name: "n",
        inner: Inner { z: 1, a: "x" },
        list: vec![Inner { z: 2, a: "y" }],
        maybe: Some(3),
        nothing: None,
        unit: (),
    };
    assert_eq!(
        s(&v),
        r#"{"name":"n","inner":{"z":1,"a":"x"},"list":[{"z":2,"a":"y"}],"maybe":3,"nothing":null,"unit":null}"#
    );
}

#[derive(Serialize)]
struct UnitStruct;

#[derive(Serialize)]
struct Newtype(u8);

#[derive(Serialize)]
struct TupleStruct(u8, &'static str);

#[derive(Serialize)]
enum E {
    Unit,
    Newtype(u8),
    Tuple(u8, u8),
    Struct { b: bool, a: u8 },
}

#[test]
fn data_model_maps_like_serde_json() {
    let table: Vec<(String, &str)> = vec![
        (s(&()), "null"),
        (s(&UnitStruct), "null"),
        (s(&Newtype(5)), "5"),
        (s(&TupleStruct(1, "a")), r#"[1,"a"]"#),
        (s(&E::Unit), r#""Unit""#),
        (s(&E::Newtype(1)), r#"{"Newtype":1}"#),
        (s(&E::Tuple(1, 2)), r#"{"Tuple":[1,2]}"#),
        (
            s(&E::Struct { b: true, a: 0 }),
            r#"{"Struct":{"b":true,"a":0}}"#,
        ),
        (s(&[E::Unit, E::Newtype(2)]), r#"["Unit",{"Newtype":2}]"#),
        (s(&Some(Some(1))), "1"),
        (s(&None::<u8>), "null"),
        (s(&'x'), r#""x""#),
        (s(&(true, false)), "[true,false]"),
        (s(&Vec::<u8>::new()), "[]"),
        (s(&BTreeMap::<String, u8>::new()), "{}"),
    ];
    for (got, want) in table {
        assert_eq!(got, want);
    }
}

#[test]
fn map_keys_are_strings() {
    let m: BTreeMap<&str, u8> = [("b", 1), ("a\n", 2)].into_iter().collect();
    assert_eq!(s(&m), r#"{"a\n":2,"b":1}"#);
    let m: BTreeMap<i32, bool> = [(-1, true), (20, false)].into_iter().collect();
    assert_eq!(s(&m), r#"{"-1":true,"20":false}"#);
    let m: BTreeMap<char, u8> = [('"', 1)].into_iter().collect();
    assert_eq!(s(&m), r#"{"\"":1}"#);
    let m: BTreeMap<bool, u8> = [(false, 1)].into_iter().collect();
    assert_eq!(s(&m), r#"{"false":1}"#);
    let m: BTreeMap<u128, u8> = [(u128::MAX, 1)].into_iter().collect();
    assert_eq!(s(&m), r#"{"340282366920938463463374607431768211455":1}"#);

    #[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
    enum K {
        Alpha,
    }
    let m: BTreeMap<K, u8> = [(K::Alpha, 1)].into_iter().collect();
    assert_eq!(s(&m), r#"{"Alpha":1}"#);
    #[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
    struct Id(u16);
    let m: BTreeMap<Id, u8> = [(Id(7), 1)].into_iter().collect();
    assert_eq!(s(&m), r#"{"7":1}"#);
}

#[test]
fn non_string_keys_are_refused() {
    let m: BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into_iter().collect();
    assert_eq!(to_vec(&m), Err(JsonError::InvalidType));
    let m: BTreeMap<Option<u8>, u8> = [(None, 3)].into_iter().collect();
    assert_eq!(to_vec(&m), Err(JsonError::InvalidType));
    let m: BTreeMap<Vec<u8>, u8> = [(vec![1], 3)].into_iter().collect();
    assert_eq!(to_vec(&m), Err(JsonError::InvalidType));
    struct FloatKey;
    impl Serialize for FloatKey {
        fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeMap;
            let mut map = ser.serialize_map(Some(1))?;
            map.serialize_entry(&1.5f64, &1)?;
            map.end()
        }
    }
    assert_eq!(to_vec(&FloatKey), Err(JsonError::InvalidType));
}

#[test]
fn bytes_without_a_sink_are_number_arrays() {
    assert_eq!(s(&Bytes::new(&[1, 2, 255])), "[1,2,255]");
    assert_eq!(s(&Bytes::new(&[])), "[]");
    assert_eq!(s(&ByteBuf::from(vec![0])), "[0]");
    let mut len = LenCounter::new();
    assert_eq!(to_writer(&mut len, &Bytes::new(&[1]), None), Ok(0));
    assert_eq!(len.len(), 3);
}

#[derive(Serialize)]
struct Upload<'a> {
    name: &'a str,
    #[serde(with = "serde_bytes")]
    first: &'a [u8],
    nested: Vec<Option<&'a Bytes>>,
    #[serde(with = "serde_bytes")]
    last: Vec<u8>,
}

#[test]
fn bytes_with_a_sink_become_numbered_placeholders_depth_first() {
    let v = Upload {
        name: "f",
        first: b"one",
        nested: vec![Some(Bytes::new(b"two")), None, Some(Bytes::new(b""))],
        last: b"four".to_vec(),
    };
    let mut got: Vec<(usize, Vec<u8>)> = Vec::new();
    let mut sink = |i: usize, b: &[u8]| got.push((i, b.to_vec()));
    let mut out = Vec::new();
    let n = to_writer(&mut out, &v, Some(&mut sink)).unwrap();
    assert_eq!(n, 4);
    assert_eq!(
        std::str::from_utf8(&out).unwrap(),
        r#"{"name":"f","first":{"_placeholder":true,"num":0},"nested":[{"_placeholder":true,"num":1},null,{"_placeholder":true,"num":2}],"last":{"_placeholder":true,"num":3}}"#
    );
    assert_eq!(
        got,
        vec![
            (0, b"one".to_vec()),
            (1, b"two".to_vec()),
            (2, Vec::new()),
            (3, b"four".to_vec())
        ]
    );

    // Counting sink and exact sizing.
    let mut counter = AttachmentCounter::new();
    let mut len = LenCounter::new();
    assert_eq!(to_writer(&mut len, &v, Some(&mut counter)), Ok(4));
    assert_eq!((counter.count(), counter.bytes()), (4, 10));
    assert_eq!(len.len(), out.len());
    let mut buf = vec![0u8; len.len()];
    let mut counter = AttachmentCounter::new();
    assert_eq!(
        to_slice_with_sink(&v, &mut buf, &mut counter),
        Ok((out.len(), 4))
    );
    assert_eq!(buf, out);
}

#[test]
fn a_failing_sink_stops_serialization() {
    struct Full;
    impl BinarySink for Full {
        fn attachment(&mut self, _: usize, _: &[u8]) -> Result<(), JsonError> {
            Err(JsonError::BufferFull)
        }
    }
    let mut out = Vec::new();
    assert_eq!(
        to_writer(&mut out, &[Bytes::new(b"x")], Some(&mut Full)),
        Err(JsonError::BufferFull)
    );
}

#[test]
fn slice_output_reports_buffer_full_at_every_short_length() {
    let v = Outer {
        name: "name\n",
        inner: Inner { z: 200, a: "é" },
        list: vec![],
        maybe: None,
        nothing: Some(1),
        unit: (),
    };
    let full = to_vec(&v).unwrap();
    let mut buf = vec![0u8; full.len()];
    assert_eq!(to_slice(&v, &mut buf), Ok(full.len()));
    assert_eq!(buf, full);
    for short in 0..full.len() {
        let mut buf = vec![0u8; short];
        assert_eq!(
            to_slice(&v, &mut buf),
            Err(JsonError::BufferFull),
            "len {short}"
        );
    }
    let mut len = LenCounter::new();
    to_writer(&mut len, &v, None).unwrap();
    assert_eq!(len.len(), full.len());
}

#[test]
fn collect_str_is_escaped() {
    struct Shown;
    impl std::fmt::Display for Shown {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "a\"{}", 5)?;
            f.write_str("\n")
        }
    }
    impl Serialize for Shown {
        fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
            ser.collect_str(self)
        }
    }
    assert_eq!(s(&Shown), r#""a\"5\n""#);
    struct KeyShown;
    impl Serialize for KeyShown {
        fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeMap;
            let mut map = ser.serialize_map(None)?;
            map.serialize_entry(&Shown, &1)?;
            map.end()
        }
    }
    assert_eq!(s(&KeyShown), r#"{"a\"5\n":1}"#);
    let mut buf = [0u8; 4];
    assert_eq!(to_slice(&Shown, &mut buf), Err(JsonError::BufferFull));
}

#[derive(Serialize)]
struct Point {
    x: i32,
}

#[derive(Serialize)]
struct Wrapped((u8, u8));

fn args<T: Serialize + ?Sized>(event: Option<&str>, v: &T) -> String {
    let mut out = Vec::new();
    write_args(&mut out, event, v, None).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn write_args_spreads_tuples_only() {
    let table: Vec<(String, &str)> = vec![
        (args(Some("m"), &()), r#"["m"]"#),
        (args(Some("m"), &(1, "a")), r#"["m",1,"a"]"#),
        (args(Some("m"), &vec![1, 2]), r#"["m",[1,2]]"#),
        (args(Some("m"), &[1, 2][..]), r#"["m",[1,2]]"#),
        (args(Some("m"), &[1, 2]), r#"["m",1,2]"#),
        (args(Some("m"), &((1, 2),)), r#"["m",[1,2]]"#),
        (args(Some("m"), &Point { x: 1 }), r#"["m",{"x":1}]"#),
        (args(None, &(true,)), "[true]"),
        (args(None, &()), "[]"),
        (args(None, &"s"), r#"["s"]"#),
        (args(None, &(1,)), "[1]"),
        (args(None, &(1, 2)), "[1,2]"),
        (args(Some("m"), &TupleStruct(1, "b")), r#"["m",[1,"b"]]"#),
        (args(Some("m"), &Wrapped((3, 4))), r#"["m",3,4]"#),
        (args(Some("m"), &UnitStruct), r#"["m",null]"#),
        (args(Some("m"), &None::<u8>), r#"["m",null]"#),
        (args(Some("m"), &Some((1, 2))), r#"["m",[1,2]]"#),
        (args(Some("m"), &E::Newtype(1)), r#"["m",{"Newtype":1}]"#),
        (args(Some("m"), &E::Unit), r#"["m","Unit"]"#),
        (args(Some("m"), &1.0), r#"["m",1]"#),
        (args(Some("a\"b"), &((), ())), r#"["a\"b",null,null]"#),
    ];
    for (got, want) in table {
        assert_eq!(got, want);
    }
}

#[test]
fn write_args_numbers_attachments_and_reports_them() {
    let mut out = Vec::new();
    let mut got = Vec::new();
    let mut sink = |i: usize, b: &[u8]| got.push((i, b.to_vec()));
    let n = write_args(
        &mut out,
        Some("upload"),
        &(Bytes::new(b"a"), "x", [Bytes::new(b"b")]),
        Some(&mut sink),
    )
    .unwrap();
    assert_eq!(n, 2);
    assert_eq!(
        std::str::from_utf8(&out).unwrap(),
        r#"["upload",{"_placeholder":true,"num":0},"x",[{"_placeholder":true,"num":1}]]"#
    );
    assert_eq!(got, vec![(0, b"a".to_vec()), (1, b"b".to_vec())]);

    let mut buf = [0u8; 5];
    let mut w = SliceWriter::new(&mut buf);
    assert_eq!(
        write_args(&mut w, Some("event"), &(), None),
        Err(JsonError::BufferFull)
    );
}

fn value_strategy(floats: bool) -> BoxedStrategy<Value> {
    let mut leaves = vec![
        Just(Value::Null).boxed(),
        any::<bool>().prop_map(Value::Bool).boxed(),
        any::<i64>().prop_map(Value::from).boxed(),
        any::<u64>().prop_map(Value::from).boxed(),
        any::<String>().prop_map(Value::String).boxed(),
        "[\\x00-\\x7f]{0,12}".prop_map(Value::String).boxed(),
    ];
    if floats {
        leaves.push(
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from)
                .boxed(),
        );
    }
    let leaf = proptest::strategy::Union::new(leaves);
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(("[a-z\\x00-\\x1f\"\\\\é]{0,6}", inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
    .boxed()
}

proptest! {
    #[test]
    fn without_floats_output_equals_serde_json(v in value_strategy(false)) {
        let ours = to_vec(&v).unwrap();
        prop_assert_eq!(&ours, &serde_json::to_vec(&v).unwrap());
        let back: Value = serde_json::from_slice(&ours).unwrap();
        prop_assert_eq!(back, v);
    }

    #[test]
    fn with_floats_output_parses_back_to_the_same_numbers(v in value_strategy(true)) {
        let ours = to_vec(&v).unwrap();
        let back: Value = serde_json::from_slice(&ours).unwrap();
        // `1.0` is written `1` (as JavaScript does), so compare numerically.
        prop_assert!(same_numbers(&back, &v), "{} vs {}", back, v);
    }

    #[test]
    fn strings_equal_serde_json(text in any::<String>()) {
        prop_assert_eq!(to_string(&text).unwrap(), serde_json::to_string(&text).unwrap());
    }

    #[test]
    fn floats_round_trip_and_equal_serde_json_digits(f in any::<f64>().prop_filter("finite, non-zero", |f| f.is_finite() && *f != 0.0)) {
        let ours = to_string(&f).unwrap();
        let back: f64 = ours.parse().unwrap();
        prop_assert_eq!(back, f);
        // Same shortest digits as serde_json (which uses ryu's layout).
        let theirs = serde_json::to_string(&f).unwrap();
        prop_assert_eq!(digits_and_exponent(&ours), digits_and_exponent(&theirs));
    }
}

/// Equality where numbers compare as `f64`.
fn same_numbers(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_numbers(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, va), (kb, vb))| ka == kb && same_numbers(va, vb))
        }
        _ => a == b,
    }
}

/// Significant digits and decimal exponent of a number's text.
fn digits_and_exponent(text: &str) -> (String, i32) {
    let (mantissa, exp) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], text[i + 1..].parse::<i32>().unwrap()),
        None => (text, 0),
    };
    let mantissa = mantissa.trim_start_matches('-');
    let point = mantissa.find('.').unwrap_or(mantissa.len()) as i32;
    let all: String = mantissa.chars().filter(|c| *c != '.').collect();
    let lead = (all.len() - all.trim_start_matches('0').len()) as i32;
    let digits = all
        .trim_start_matches('0')
        .trim_end_matches('0')
        .to_string();
    (digits, point - lead + exp)
}
