//! no_std cases for the `json` module: serializer and deserializer without
//! allocation (fixed buffers, `heapless`, explicit scratch space).
#![allow(unused_imports)]

use oxio_codec::json::de::{args_from_str, from_str_with, DeOptions};
use oxio_codec::json::ser::{
    to_slice, to_slice_with_sink, to_writer, write_args, AttachmentCounter, LenCounter, SliceWriter,
};
use oxio_codec::json::JsonError;
use oxio_codec::*;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

/// Serializes into a stack buffer and compares with the expected text.
fn ser_eq<T: Serialize + ?Sized>(value: &T, want: &str) {
    let mut buf = [0u8; 256];
    let n = to_slice(value, &mut buf).unwrap();
    assert_eq!(&buf[..n], want.as_bytes());
}

fn opts() -> DeOptions<'static> {
    DeOptions::default()
}

/// A byte string (what `serde_bytes::Bytes` does, without the dependency).
struct Raw<'a>(&'a [u8]);

impl Serialize for Raw<'_> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        ser.serialize_bytes(self.0)
    }
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Msg<'a> {
    text: &'a str,
    n: u32,
    tags: heapless::Vec<heapless::String<8>, 4>,
    kind: Kind,
    score: Option<f64>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
enum Kind {
    Plain,
    Reply { to: u32 },
}

cases! {
    fn json_f64_matches_javascript() {
        ser_eq(&[1.0, -0.0, 0.1, 1e21, 1e20, 1.5e-7, 0.000001, 123.456], "[1,0,0.1,1e+21,100000000000000000000,1.5e-7,0.000001,123.456]");
        ser_eq(&[5e-324, 1.7976931348623157e308], "[5e-324,1.7976931348623157e+308]");
        ser_eq(&[f64::NAN, f64::INFINITY], "[null,null]");
        ser_eq(&(0.1f32, u64::MAX, i64::MIN), "[0.1,18446744073709551615,-9223372036854775808]");
    }

    fn json_strings_escape_like_json_stringify() {
        ser_eq("a\"b\\c\u{8}\u{c}\n\r\t\u{0}\u{1f}\u{7f}\u{2028}é", "\"a\\\"b\\\\c\\b\\f\\n\\r\\t\\u0000\\u001f\u{7f}\u{2028}é\"");
    }

    fn json_struct_fields_keep_order_and_enums_map_like_serde_json() {
        let mut tags = heapless::Vec::new();
        tags.push(heapless::String::try_from("x").unwrap()).unwrap();
        let m = Msg { text: "hi", n: 7, tags, kind: Kind::Reply { to: 3 }, score: None };
        ser_eq(&m, r#"{"text":"hi","n":7,"tags":["x"],"kind":{"Reply":{"to":3}},"score":null}"#);
        ser_eq(&Kind::Plain, r#""Plain""#);
    }

    fn json_bytes_become_placeholders_with_a_sink() {
        let mut seen = [0usize; 2];
        let mut sink = |i: usize, b: &[u8]| seen[i] = b.len();
        let mut buf = [0u8; 96];
        let value = (Raw(b"abc"), [Raw(b"de")]);
        let (n, count) = to_slice_with_sink(&value, &mut buf, &mut sink).unwrap();
        assert_eq!(&buf[..n], br#"[{"_placeholder":true,"num":0},[{"_placeholder":true,"num":1}]]"#);
        assert_eq!((count, seen), (2, [3, 2]));
        ser_eq(&Raw(&[1, 2]), "[1,2]");
    }

    fn json_write_args_spreads_tuples_only() {
        let mut buf = [0u8; 64];
        let mut w = SliceWriter::new(&mut buf);
        write_args(&mut w, Some("m"), &(1, "a"), None).unwrap();
        assert_eq!(w.written(), br#"["m",1,"a"]"#);
        let mut w = SliceWriter::new(&mut buf);
        write_args(&mut w, Some("m"), &[1, 2][..], None).unwrap();
        assert_eq!(w.written(), br#"["m",[1,2]]"#);
        // serde writes fixed-size arrays as tuples: they spread.
        let mut w = SliceWriter::new(&mut buf);
        write_args(&mut w, Some("m"), &[1, 2], None).unwrap();
        assert_eq!(w.written(), br#"["m",1,2]"#);
        let mut w = SliceWriter::new(&mut buf);
        write_args(&mut w, Some("m"), &(), None).unwrap();
        assert_eq!(w.written(), br#"["m"]"#);
        let mut w = SliceWriter::new(&mut buf);
        write_args(&mut w, None, &(true,), None).unwrap();
        assert_eq!(w.written(), b"[true]");
    }

    fn json_short_buffers_report_buffer_full() {
        let value = ("abc", 12345, [true, false]);
        let want = br#"["abc",12345,[true,false]]"#;
        let mut len = LenCounter::new();
        to_writer(&mut len, &value, None).unwrap();
        assert_eq!(len.len(), want.len());
        let mut buf = [0u8; 26];
        for short in 0..want.len() {
            assert_eq!(to_slice(&value, &mut buf[..short]), Err(JsonError::BufferFull));
        }
        assert_eq!(to_slice(&value, &mut buf), Ok(want.len()));
        assert_eq!(&buf, want);
    }

    fn json_borrowed_strings_are_zero_copy() {
        let input = r#"{"text":"hello","n":1,"tags":["a","b"],"kind":"Plain","score":0.5}"#;
        let m: Msg = from_str_with(input, &opts(), None).unwrap();
        assert_eq!(m.text, "hello");
        let range = input.as_bytes().as_ptr_range();
        assert!(range.contains(&m.text.as_ptr()));
        assert_eq!((m.n, m.tags.len(), m.kind, m.score), (1, 2, Kind::Plain, Some(0.5)));
    }

    fn json_escapes_decode_into_scratch() {
        let mut scratch = [0u8; 16];
        let s: heapless::String<16> =
            from_str_with(r#""a\n\u00e9\ud83d\ude00""#, &opts(), Some(&mut scratch)).unwrap();
        assert_eq!(s.as_str(), "a\né😀");
        let mut tiny = [0u8; 2];
        assert_eq!(
            from_str_with::<heapless::String<16>>(r#""a\nbc""#, &opts(), Some(&mut tiny)),
            Err(JsonError::ScratchTooSmall)
        );
        // An unpaired surrogate (JSON.parse takes it) becomes U+FFFD.
        let lone: heapless::String<16> =
            from_str_with(r#""\ud83d!""#, &opts(), Some(&mut scratch)).unwrap();
        assert_eq!(lone.as_str(), "\u{FFFD}!");
    }

    fn json_numbers_are_exact_and_checked() {
        assert_eq!(from_str_with::<u8>("255", &opts(), None), Ok(255));
        assert_eq!(from_str_with::<u8>("256", &opts(), None), Err(JsonError::InvalidNumber));
        assert_eq!(from_str_with::<i64>("-9223372036854775808", &opts(), None), Ok(i64::MIN));
        assert_eq!(from_str_with::<u32>("1.5", &opts(), None), Err(JsonError::InvalidType));
        assert_eq!(from_str_with::<f64>("1e400", &opts(), None), Err(JsonError::InvalidNumber));
        assert_eq!(from_str_with::<f64>("-1.5e-3", &opts(), None), Ok(-0.0015));
        assert_eq!(from_str_with::<u8>("01", &opts(), None), Err(JsonError::InvalidNumber));
    }

    fn json_bad_input_gives_typed_errors() {
        let table: [(&str, JsonError); 8] = [
            ("", JsonError::UnexpectedEnd),
            ("[1,]", JsonError::UnexpectedByte { offset: 3 }),
            ("{\"a\" 1}", JsonError::UnexpectedByte { offset: 5 }),
            ("tru", JsonError::UnexpectedEnd),
            ("1 2", JsonError::TrailingData),
            ("+1", JsonError::UnexpectedByte { offset: 0 }),
            ("\"a\u{1}\"", JsonError::InvalidString),
            ("[1.]", JsonError::InvalidNumber),
        ];
        for (json, err) in table {
            assert_eq!(from_str_with::<IgnoredAny>(json, &opts(), None), Err(err));
        }
    }

    fn json_depth_bomb_is_refused_iteratively() {
        let open = [b'['; 3000];
        let bomb = core::str::from_utf8(&open).unwrap();
        assert_eq!(from_str_with::<IgnoredAny>(bomb, &opts(), None), Err(JsonError::TooDeep));
        assert_eq!(
            from_str_with::<heapless::Vec<u8, 4>>(bomb, &opts(), None),
            Err(JsonError::InvalidType)
        );
        let shallow = DeOptions { max_depth: 2, attachments: None };
        assert_eq!(from_str_with::<IgnoredAny>("[[[]]]", &shallow, None), Err(JsonError::TooDeep));
        assert_eq!(from_str_with::<IgnoredAny>("[[]]", &shallow, None), Ok(IgnoredAny));
    }

    fn json_placeholders_resolve_to_attachments() {
        let parts: [&[u8]; 2] = [b"zero", b"one"];
        let with = DeOptions { attachments: Some(&parts), ..DeOptions::default() };
        let b: &[u8] = from_str_with(r#"{"num":1,"_placeholder":true}"#, &with, None).unwrap();
        assert_eq!(b.as_ptr(), parts[1].as_ptr());
        let v: heapless::Vec<u8, 8> =
            from_str_with(r#"{"_placeholder":true,"num":0}"#, &with, None).unwrap();
        assert_eq!(v.as_slice(), b"zero");
        for bad in [
            r#"{"_placeholder":true,"num":"splice"}"#,
            r#"{"_placeholder":true,"num":1.5}"#,
            r#"{"_placeholder":true,"num":-1}"#,
            r#"{"_placeholder":true,"num":2}"#,
        ] {
            assert_eq!(from_str_with::<&[u8]>(bad, &with, None), Err(JsonError::InvalidPlaceholder));
        }
        assert_eq!(
            from_str_with::<&[u8]>(r#"{"_placeholder":"true","num":0}"#, &with, None),
            Err(JsonError::InvalidType)
        );
        assert_eq!(
            from_str_with::<&[u8]>(r#"{"_placeholder":true,"num":0}"#, &opts(), None),
            Err(JsonError::InvalidType)
        );
    }

    fn json_args_from_str_mirrors_write_args() {
        let o = opts();
        assert_eq!(args_from_str::<(u8, &str)>(r#"["m",1,"a"]"#, 1, &o, None), Ok((1, "a")));
        assert_eq!(args_from_str::<u8>(r#"["m",1,"a"]"#, 1, &o, None), Ok(1));
        assert_eq!(args_from_str::<()>(r#"["m",{"x":[1]}]"#, 1, &o, None), Ok(()));
        let v: heapless::Vec<u8, 4> = args_from_str("[[1,2]]", 0, &o, None).unwrap();
        assert_eq!(v.as_slice(), &[1, 2]);
        assert_eq!(args_from_str::<(u8, Option<u8>)>("[1]", 0, &o, None), Ok((1, None)));
        assert_eq!(args_from_str::<(u8, u8)>("[1]", 0, &o, None), Err(JsonError::InvalidType));
    }

    fn json_round_trip_through_a_buffer() {
        let mut tags = heapless::Vec::new();
        tags.push(heapless::String::try_from("t\"q").unwrap()).unwrap();
        let m = Msg { text: "plain", n: u32::MAX, tags, kind: Kind::Plain, score: Some(-2.5e-9) };
        let mut buf = [0u8; 128];
        let n = to_slice(&m, &mut buf).unwrap();
        let text = core::str::from_utf8(&buf[..n]).unwrap();
        let mut scratch = [0u8; 8];
        let back: Msg = from_str_with(text, &opts(), Some(&mut scratch)).unwrap();
        assert_eq!(back, m);
        let mut counter = AttachmentCounter::new();
        let mut len = LenCounter::new();
        assert_eq!(to_writer(&mut len, &m, Some(&mut counter)), Ok(0));
        assert_eq!(len.len(), n);
    }
}
