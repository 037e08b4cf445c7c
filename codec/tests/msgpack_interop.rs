//! Differential tests of `oxio_codec::msgpack` against the real npm
//! `socket.io-msgpack-parser` 3.0.2 (notepack.io 2.2.0), run by
//! `codec/tests/interop/oracle.js` (ops `mp_encode`, `mp_decode`).
//!
//! - Encoding: generated packets of every type, written by our encoder and
//!   by Node's (fields inserted in the order the Node server inserts them)
//!   must be byte-identical.
//! - Decoding: frames Node wrote, hand-written frames and byte-level
//!   mutations of them must be accepted or refused by both, and accepted
//!   ones must decode to the same type, namespace, id and data, except for
//!   the documented differences (see `oxio_codec::msgpack`), each of which
//!   is recognised and counted.
//!
//! Skips (with a notice) when the npm packages are missing, unless `CI` or
//! `OXIO_REQUIRE_NODE=1` is set.

#![cfg(feature = "alloc")]

use oxio_codec::msgpack::{self, Decoder, Encoder, Undefined};
use oxio_codec::socketio::{Args, Error, PacketType};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{json, Value};
use std::cell::{Cell, RefCell};
use std::fmt;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

const INSTALL: &str = "npm ci --prefix codec/tests/interop --no-audit --no-fund";
const PINNED: [(&str, &str); 2] = [
    ("socket.io-msgpack-parser", "3.0.2"),
    ("notepack.io", "2.2.0"),
];

struct Oracle {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Oracle {
    fn start(test: &str) -> Option<Oracle> {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop");
        let installed = PINNED
            .iter()
            .all(|(name, _)| dir.join("node_modules").join(name).is_dir());
        let required = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
            || std::env::var("OXIO_REQUIRE_NODE").is_ok_and(|v| v == "1");
        let spawned = installed
            .then(|| {
                Command::new("node")
                    .arg(dir.join("oracle.js"))
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::inherit())
                    .spawn()
                    .ok()
            })
            .flatten();
        let Some(mut child) = spawned else {
            assert!(
                !required,
                "msgpack interop `{test}`: npm packages or node missing; run {INSTALL}"
            );
            let _ = writeln!(
                std::io::stderr(),
                "!! SKIPPED msgpack interop `{test}`: run {INSTALL}"
            );
            return None;
        };
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut oracle = Oracle {
            child,
            stdin,
            stdout,
        };
        let versions = oracle.call(json!({"op": "versions"})).unwrap();
        for (name, want) in PINNED {
            assert_eq!(versions[name].as_str(), Some(want), "{name}: run {INSTALL}");
        }
        Some(oracle)
    }

    fn call(&mut self, request: Value) -> Result<Value, String> {
        writeln!(self.stdin, "{request}").unwrap();
        self.stdin.flush().unwrap();
        let mut line = String::new();
        assert!(
            self.stdout.read_line(&mut line).unwrap() > 0,
            "oracle exited"
        );
        let mut v: Value = serde_json::from_str(&line).unwrap();
        match v.get_mut("ok") {
            Some(ok) => Ok(ok.take()),
            None => Err(v["err"].as_str().unwrap_or("?").to_string()),
        }
    }

    /// Node's encoding of a packet whose fields are inserted in this order.
    fn encode(&mut self, fields: &[(&str, Js)]) -> Vec<u8> {
        let fields: Vec<Value> = fields.iter().map(|(k, v)| json!([k, v.tv()])).collect();
        let answer = self
            .call(json!({"op": "mp_encode", "fields": fields}))
            .unwrap();
        b64_decode(answer["b"].as_str().unwrap())
    }

    fn decode(&mut self, frame: &[u8]) -> Result<NodePacket, String> {
        let answer = self
            .call(json!({"op": "mp_decode", "frame": {"b": b64_encode(frame)}}))
            .unwrap();
        if let Some(e) = answer.get("error") {
            return Err(e.as_str().unwrap_or("?").to_string());
        }
        let p = &answer["packet"];
        Ok(NodePacket {
            ty: Js::from_tv(&p["type"]),
            nsp: Js::from_tv(&p["nsp"]),
            id: if p["id"].is_null() {
                None
            } else {
                Some(Js::from_tv(&p["id"]))
            },
            data: p["has_data"]
                .as_bool()
                .unwrap()
                .then(|| Js::from_flat(&p["data"])),
        })
    }
}

impl Drop for Oracle {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
struct NodePacket {
    ty: Js,
    nsp: Js,
    id: Option<Js>,
    data: Option<Js>,
}

fn b64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn b64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

fn seed() -> RngSeed {
    match std::env::var("OXIO_INTEROP_SEED").as_deref() {
        Ok("random") => RngSeed::Random,
        Ok(n) => RngSeed::Fixed(n.parse().unwrap()),
        Err(_) => RngSeed::Fixed(0x6d73_6770),
    }
}

fn run_prop<S: Strategy>(
    oracle: &mut Oracle,
    cases: u32,
    strategy: S,
    test: impl Fn(&mut Oracle, S::Value) -> Result<(), TestCaseError>,
) where
    S::Value: fmt::Debug,
{
    let cell = RefCell::new(oracle);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        rng_seed: seed(),
        ..Config::default()
    });
    if let Err(e) = runner.run(&strategy, |v| test(&mut cell.borrow_mut(), v)) {
        panic!("{e}");
    }
}

// ---------------------------------------------------------------------------
// JavaScript values
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Js {
    Undefined,
    Null,
    Bool(bool),
    /// The bits of an `f64`.
    Num(u64),
    Str(String),
    Bin(Vec<u8>),
    Arr(Vec<Js>),
    Obj(Vec<(String, Js)>),
}

impl Js {
    fn num(f: f64) -> Js {
        // notepack.io writes -0 as the integer 0; compare numbers by value.
        Js::Num(if f == 0.0 { 0 } else { f.to_bits() })
    }

    fn tv(&self) -> Value {
        match self {
            Js::Undefined => json!({"u": 1}),
            Js::Null => Value::Null,
            Js::Bool(b) => Value::Bool(*b),
            Js::Num(bits) => json!({ "n": format!("{bits:016x}") }),
            Js::Str(s) => Value::String(s.clone()),
            Js::Bin(b) => json!({ "b": b64_encode(b) }),
            Js::Arr(a) => Value::Array(a.iter().map(Js::tv).collect()),
            Js::Obj(o) => {
                json!({ "o": o.iter().map(|(k, v)| json!([k, v.tv()])).collect::<Vec<_>>() })
            }
        }
    }

    fn from_tv(tv: &Value) -> Js {
        match tv {
            Value::Null => Js::Null,
            Value::Bool(b) => Js::Bool(*b),
            Value::String(s) => Js::Str(s.clone()),
            Value::Object(o) if o.contains_key("n") => Js::num(f64::from_bits(
                u64::from_str_radix(o["n"].as_str().unwrap(), 16).unwrap(),
            )),
            Value::Object(o) if o.contains_key("b") => {
                Js::Bin(b64_decode(o["b"].as_str().unwrap()))
            }
            Value::Object(o) if o.contains_key("u") => Js::Undefined,
            // Lone surrogates (we never generate them): a stand-in that never matches.
            Value::Object(o) if o.contains_key("w") => Js::Str(format!("\u{fffd}lone {}", o["w"])),
            other => panic!("bad tagged value {other}"),
        }
    }

    fn from_flat(tokens: &Value) -> Js {
        fn take(tokens: &[Value], at: &mut usize) -> Js {
            let token = &tokens[*at];
            *at += 1;
            if let Some(n) = token.get("a").and_then(Value::as_u64) {
                Js::Arr((0..n).map(|_| take(tokens, at)).collect())
            } else if let Some(n) = token.get("o").and_then(Value::as_u64) {
                Js::Obj(
                    (0..n)
                        .map(|_| {
                            let Js::Str(k) = take(tokens, at) else {
                                panic!("key")
                            };
                            (k, take(tokens, at))
                        })
                        .collect(),
                )
            } else {
                Js::from_tv(token)
            }
        }
        let tokens = tokens.as_array().unwrap();
        let mut at = 0;
        let js = take(tokens, &mut at);
        assert_eq!(at, tokens.len());
        js
    }
}

impl Serialize for Js {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Js::Undefined => Undefined.serialize(s),
            Js::Null => s.serialize_unit(),
            Js::Bool(b) => s.serialize_bool(*b),
            Js::Num(bits) => s.serialize_f64(f64::from_bits(*bits)),
            Js::Str(v) => s.serialize_str(v),
            Js::Bin(b) => s.serialize_bytes(b),
            Js::Arr(a) => {
                let mut seq = s.serialize_seq(Some(a.len()))?;
                for v in a {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
            Js::Obj(o) => {
                let mut map = s.serialize_map(Some(o.len()))?;
                for (k, v) in o {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Js {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Js, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Js;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Js, E> {
                Ok(Js::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Js, E> {
                Ok(Js::Undefined)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Js, E> {
                Ok(Js::Bool(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Js, E> {
                Ok(Js::num(v as f64))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Js, E> {
                Ok(Js::num(v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Js, E> {
                Ok(Js::num(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Js, E> {
                Ok(Js::Str(v.to_string()))
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Js, E> {
                Ok(Js::Bin(v.to_vec()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Js, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element::<Js>()? {
                    out.push(v);
                }
                Ok(Js::Arr(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Js, A::Error> {
                // JavaScript semantics: a repeated key keeps its first place and its last value.
                let mut out: Vec<(String, Js)> = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Js>()? {
                    match out.iter_mut().find(|(ok, _)| *ok == k) {
                        Some(slot) => slot.1 = v,
                        None => out.push((k, v)),
                    }
                }
                Ok(Js::Obj(out))
            }
        }
        d.deserialize_any(V)
    }
}

// ---------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------

fn arb_string(max: usize) -> impl Strategy<Value = String> {
    let ch = prop_oneof![
        3 => proptest::char::range(' ', '~'),
        2 => any::<char>(),
        1 => prop::sample::select(vec!['é', '😀', '\u{0}', '\u{ffff}', '\u{10ffff}', '€']),
    ];
    proptest::collection::vec(ch, 0..max).prop_map(|cs| cs.into_iter().collect())
}

/// Long strings too, so str8/16 and bin16 heads are covered.
fn arb_long_string() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => arb_string(12),
        1 => (30usize..300).prop_map(|n| "x".repeat(n)),
        1 => (250usize..70_000).prop_map(|n| "é".repeat(n / 2)),
    ]
}

/// Object keys: not array indexes (JavaScript moves those to the front).
fn arb_key() -> impl Strategy<Value = String> {
    arb_string(6).prop_map(|k| {
        if k.bytes().all(|b| b.is_ascii_digit()) {
            format!("k{k}")
        } else {
            k
        }
    })
}

/// Numbers, biased to the places notepack.io changes the encoding: every
/// integer boundary, floats, NaN and the infinities; integral values of
/// 2^64 and more are left out (notepack.io writes them with wrapped bits,
/// which `msgpack::Encoder` does not copy).
fn arb_num() -> impl Strategy<Value = f64> {
    let edges: Vec<f64> = [
        0.0,
        -0.0,
        1.0,
        127.0,
        128.0,
        255.0,
        256.0,
        65535.0,
        65536.0,
        4294967295.0,
        4294967296.0,
        9007199254740991.0,
        9007199254740992.0,
        1.844_674_407_370_955e19,
        -1.0,
        -32.0,
        -33.0,
        -128.0,
        -129.0,
        -32768.0,
        -32769.0,
        -2147483648.0,
        -2147483649.0,
        -9.223_372_036_854_776e18,
        0.5,
        -0.5,
        1e-7,
        5e-324,
        f64::MAX,
        f64::MIN,
        1.8446744073709552e19,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ]
    .to_vec();
    prop_oneof![
        3 => any::<u64>().prop_map(f64::from_bits),
        3 => any::<i64>().prop_map(|i| i as f64),
        3 => (-70_000i64..70_000).prop_map(|i| i as f64),
        2 => prop::sample::select(edges),
    ]
    .prop_filter("no integral value at or beyond 2^64", |f| {
        !(f.is_finite() && f.fract() == 0.0 && f.abs() >= 1.8446744073709552e19)
    })
}

fn arb_js() -> impl Strategy<Value = Js> {
    let leaf = prop_oneof![
        1 => Just(Js::Null),
        1 => Just(Js::Undefined),
        1 => any::<bool>().prop_map(Js::Bool),
        3 => arb_num().prop_map(|f| Js::Num(f.to_bits())),
        3 => arb_long_string().prop_map(Js::Str),
        2 => prop_oneof![
            4 => proptest::collection::vec(any::<u8>(), 0..10),
            1 => (200usize..70_000).prop_map(|n| vec![7u8; n]),
        ].prop_map(Js::Bin),
    ];
    leaf.prop_recursive(4, 48, 18, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..18).prop_map(Js::Arr),
            proptest::collection::vec((arb_key(), inner), 0..18).prop_map(|kv| {
                let mut seen = std::collections::HashSet::new();
                Js::Obj(
                    kv.into_iter()
                        .filter(|(k, _)| seen.insert(k.clone()))
                        .collect(),
                )
            }),
        ]
    })
}

fn arb_obj() -> impl Strategy<Value = Js> {
    arb_js().prop_map(|v| match v {
        Js::Obj(o) => Js::Obj(o),
        other => Js::Obj(vec![("v".into(), other)]),
    })
}

fn arb_nsp() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("/".to_string()),
        arb_string(10).prop_map(|s| format!("/{s}"))
    ]
}

fn arb_id() -> impl Strategy<Value = u64> {
    prop_oneof![0u64..200, 0u64..70_000, 0u64..(1 << 53)]
}

#[derive(Debug, Clone)]
enum Case {
    Event {
        nsp: String,
        id: Option<u64>,
        name: String,
        args: Vec<Js>,
    },
    Ack {
        nsp: String,
        id: u64,
        args: Vec<Js>,
    },
    Connect {
        nsp: String,
        data: Option<Js>,
    },
    ConnectError {
        nsp: String,
        message: String,
        data: Option<Js>,
    },
    Disconnect {
        nsp: String,
    },
}

fn arb_case() -> impl Strategy<Value = Case> {
    let args = || proptest::collection::vec(arb_js(), 0..5);
    prop_oneof![
        5 => (arb_nsp(), proptest::option::of(arb_id()), arb_string(12), args()).prop_filter_map(
            "reserved",
            |(nsp, id, name, args)| (!oxio_codec::socketio::is_reserved_event(&name))
                .then_some(Case::Event { nsp, id, name, args })
        ),
        3 => (arb_nsp(), arb_id(), args()).prop_map(|(nsp, id, args)| Case::Ack { nsp, id, args }),
        1 => (arb_nsp(), proptest::option::of(arb_obj())).prop_map(|(nsp, data)| Case::Connect { nsp, data }),
        1 => (arb_nsp(), arb_string(20), proptest::option::of(arb_js()))
            .prop_map(|(nsp, message, data)| Case::ConnectError { nsp, message, data }),
        1 => arb_nsp().prop_map(|nsp| Case::Disconnect { nsp }),
    ]
}

fn num(n: u64) -> Js {
    Js::num(n as f64)
}

/// Ours and Node's bytes for one case (Node's fields in the Node server's order).
fn both(oracle: &mut Oracle, case: &Case) -> (Vec<u8>, Vec<u8>) {
    let enc = Encoder::default();
    let mut buf = vec![0u8; 1 << 20];
    match case {
        Case::Event {
            nsp,
            id,
            name,
            args,
        } => {
            let ours = enc.event_to_vec(nsp, *id, name, &Args(&args[..])).unwrap();
            // Also through the slice encoder.
            let n = enc
                .event(&mut buf, nsp, *id, name, &Args(&args[..]))
                .unwrap()
                .len;
            assert_eq!(&buf[..n], &ours[..]);
            let mut data = vec![Js::Str(name.clone())];
            data.extend(args.iter().cloned());
            let mut fields = vec![("type", num(2)), ("data", Js::Arr(data))];
            if let Some(id) = id {
                fields.push(("id", num(*id)));
            }
            fields.push(("nsp", Js::Str(nsp.clone())));
            (ours, oracle.encode(&fields))
        }
        Case::Ack { nsp, id, args } => {
            let ours = enc.ack_to_vec(nsp, *id, &Args(&args[..])).unwrap();
            let fields = [
                ("id", num(*id)),
                ("type", num(3)),
                ("data", Js::Arr(args.clone())),
                ("nsp", Js::Str(nsp.clone())),
            ];
            (ours, oracle.encode(&fields))
        }
        Case::Connect { nsp, data } => {
            let n = match data {
                Some(d) => enc.connect_with(&mut buf, nsp, d).unwrap(),
                None => enc.connect(&mut buf, nsp).unwrap(),
            };
            let mut fields = vec![("type", num(0))];
            if let Some(d) = data {
                fields.push(("data", d.clone()));
            }
            fields.push(("nsp", Js::Str(nsp.clone())));
            (buf[..n].to_vec(), oracle.encode(&fields))
        }
        Case::ConnectError { nsp, message, data } => {
            let n = match data {
                Some(d) => enc
                    .connect_error_with_data(&mut buf, nsp, message, d)
                    .unwrap(),
                None => enc.connect_error(&mut buf, nsp, message).unwrap(),
            };
            let body = Js::Obj(vec![
                ("message".into(), Js::Str(message.clone())),
                ("data".into(), data.clone().unwrap_or(Js::Undefined)),
            ]);
            let fields = [
                ("type", num(4)),
                ("data", body),
                ("nsp", Js::Str(nsp.clone())),
            ];
            (buf[..n].to_vec(), oracle.encode(&fields))
        }
        Case::Disconnect { nsp } => {
            let n = enc.disconnect(&mut buf, nsp).unwrap();
            let fields = [("type", num(1)), ("nsp", Js::Str(nsp.clone()))];
            (buf[..n].to_vec(), oracle.encode(&fields))
        }
    }
}

// ---------------------------------------------------------------------------
// Comparing decodes
// ---------------------------------------------------------------------------

/// Our decode as Node's packet shape, or our error.
fn ours(frame: &[u8]) -> Result<NodePacket, Error> {
    let p = Decoder::default().decode(frame)?;
    let digit = p.packet_type().as_digit() - b'0';
    Ok(NodePacket {
        ty: num(u64::from(digit)),
        nsp: Js::Str(p.namespace().to_string()),
        id: p.ack_id().map(num),
        // Only a non-string map key can fail here (JavaScript turns keys into strings).
        data: p.data::<Js>()?,
    })
}

fn same(a: &NodePacket, b: &NodePacket) -> bool {
    a.ty == b.ty && a.nsp == b.nsp && a.id == b.id && a.data == b.data
}

/// Why Node accepts a frame we refuse, when it is one of the documented
/// differences; `None` when it is not.
fn known_refusal(frame: &[u8], err: &Error, node: &NodePacket) -> Option<&'static str> {
    use oxio_codec::msgpack::MsgpackError;
    match err {
        Error::InvalidMsgpack(MsgpackError::InvalidUtf8 { .. }) => Some("invalid UTF-8"),
        Error::InvalidMsgpack(MsgpackError::TooDeep) => Some("too deep"),
        Error::NamespaceTooLong => Some("namespace too long"),
        Error::AckIdTooLarge => Some("ack id too large"),
        Error::ReservedEventName => Some("reserved event name"),
        Error::Deserialize(_) => {
            Some("non-string key in data (the test's reader takes string keys)")
        }
        Error::InvalidPayload => match &node.id {
            Some(Js::Num(bits)) if f64::from_bits(*bits) < 0.0 => Some("negative ack id"),
            _ if node.ty == num(2) || node.ty == num(3) => match &node.data {
                // notepack.io reads an extension of non-zero type as [type, Buffer].
                Some(Js::Arr(a)) if a.len() == 2 && matches!(a[1], Js::Bin(_)) => {
                    has_foreign_ext(frame).then_some("extension as event data")
                }
                _ => None,
            },
            _ => None,
        },
        // A non-string key that JavaScript turns into "type", "nsp", "data" or "id".
        _ if has_non_string_key(frame) => Some("non-string key"),
        _ => None,
    }
}

fn has_foreign_ext(frame: &[u8]) -> bool {
    frame
        .windows(2)
        .any(|w| matches!(w[0], 0xc7..=0xc9 | 0xd4..=0xd8) && w[1] != 0)
        || frame.iter().any(|b| matches!(b, 0xc7..=0xc9 | 0xd4..=0xd8))
}

fn has_non_string_key(frame: &[u8]) -> bool {
    // Conservative: any top-level key whose head is not a string.
    let mut pos = 1;
    let n = match frame.first() {
        Some(b @ 0x80..=0x8f) => usize::from(b & 0x0f),
        _ => return false,
    };
    for _ in 0..n {
        match frame.get(pos) {
            Some(0xa0..=0xbf | 0xd9..=0xdb) => {}
            Some(_) => return true,
            None => return false,
        }
        let Some(next) = skip_any(frame, pos) else {
            return false;
        };
        let Some(after) = skip_any(frame, next) else {
            return false;
        };
        pos = after;
    }
    false
}

/// The end of the msgpack value at `pos` (our own reader, through the public API).
fn skip_any(frame: &[u8], pos: usize) -> Option<usize> {
    (pos + 1..=frame.len())
        .find(|end| msgpack::from_slice::<serde::de::IgnoredAny>(&frame[pos..*end]).is_ok())
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[test]
fn msgpack_encode_matches_socket_io_msgpack_parser() {
    let Some(mut oracle) = Oracle::start("msgpack_encode_matches_socket_io_msgpack_parser") else {
        return;
    };
    // The README example and the server's CONNECT answer, by hand.
    let hello = oracle.encode(&[
        ("type", num(2)),
        ("nsp", Js::Str("/".into())),
        (
            "data",
            Js::Arr(vec![Js::Str("hello".into()), Js::Str("you".into())]),
        ),
    ]);
    assert_eq!(
        hello,
        b"\x83\xa4type\x02\xa3nsp\xa1/\xa4data\x92\xa5hello\xa3you"
    );
    #[derive(serde::Serialize)]
    struct Hello<'a> {
        sid: &'a str,
        pid: Undefined,
    }
    let mut buf = [0u8; 64];
    let n = Encoder::default()
        .connect_with(
            &mut buf,
            "/",
            &Hello {
                sid: "abc",
                pid: Undefined,
            },
        )
        .unwrap();
    let node = oracle.encode(&[
        ("type", num(0)),
        (
            "data",
            Js::Obj(vec![
                ("sid".into(), Js::Str("abc".into())),
                ("pid".into(), Js::Undefined),
            ]),
        ),
        ("nsp", Js::Str("/".into())),
    ]);
    assert_eq!(&buf[..n], &node[..]);

    let count = Cell::new(0u32);
    run_prop(&mut oracle, 1500, arb_case(), |oracle, case| {
        let (ours, node) = both(oracle, &case);
        prop_assert_eq!(&ours, &node, "{:?}", case);
        // And both decode it back to the same packet.
        let back = oracle.decode(&node).map_err(TestCaseError::fail)?;
        let mine = ours_or_fail(&node)?;
        prop_assert!(
            same(&mine, &back),
            "{:?}\nours {:?}\nnode {:?}",
            case,
            mine,
            back
        );
        count.set(count.get() + 1);
        Ok(())
    });
    eprintln!(
        "msgpack encode: {} generated cases byte-identical",
        count.get()
    );
}

fn ours_or_fail(frame: &[u8]) -> Result<NodePacket, TestCaseError> {
    ours(frame).map_err(|e| TestCaseError::fail(format!("we refused {frame:02x?}: {e:?}")))
}

/// Hand-written frames: accepted or refused alike (or a documented difference).
#[test]
fn msgpack_decode_hand_frames_agree() {
    let Some(mut oracle) = Oracle::start("msgpack_decode_hand_frames_agree") else {
        return;
    };
    let frames: Vec<Vec<u8>> = vec![
        // Keys in every order, an unknown key, `options` as the Node client sends it.
        b"\x83\xa4data\x92\xa5hello\xa3you\xa3nsp\xa1/\xa4type\x02".to_vec(),
        b"\x85\xa4type\x02\xa4data\x91\xa1m\xa7options\x81\xa8compress\xc3\xa2id\x05\xa3nsp\xa1/"
            .to_vec(),
        // Numbers in other encodings: type as uint 64, float 64 and int 8; id as float.
        b"\x83\xa4type\xcf\0\0\0\0\0\0\0\x02\xa3nsp\xa1/\xa4data\x91\xa1m".to_vec(),
        b"\x83\xa4type\xcb\x40\0\0\0\0\0\0\0\xa3nsp\xa1/\xa4data\x91\xa1m".to_vec(),
        b"\x83\xa4type\xd0\x02\xa3nsp\xa1/\xa4data\x91\xa1m".to_vec(),
        b"\x84\xa4type\x03\xa3nsp\xa1/\xa4data\x90\xa2id\xcb\x40\x08\0\0\0\0\0\0".to_vec(),
        // type -0.0 is CONNECT for Node (Number.isInteger(-0)).
        b"\x82\xa4type\xcb\x80\0\0\0\0\0\0\0\xa3nsp\xa1/".to_vec(),
        // Bytes as bin, as ext 8 type 0 (ArrayBuffer), undefined inside data.
        b"\x83\xa4type\x02\xa3nsp\xa1/\xa4data\x93\xa1m\xc4\x02\x01\x02\xc7\x02\x00\x03\x04"
            .to_vec(),
        b"\x83\xa4type\x02\xa3nsp\xa1/\xa4data\x92\xa1m\xd4\x00\x00".to_vec(),
        // data undefined: absent for CONNECT and DISCONNECT, missing for EVENT.
        b"\x83\xa4type\x00\xa3nsp\xa1/\xa4data\xd4\x00\x00".to_vec(),
        b"\x83\xa4type\x01\xa3nsp\xa1/\xa4data\xd4\x00\x00".to_vec(),
        b"\x83\xa4type\x02\xa3nsp\xa1/\xa4data\xd4\x00\x00".to_vec(),
        // id undefined is no id; id null is not an integer.
        b"\x84\xa4type\x02\xa3nsp\xa1/\xa4data\x91\xa1m\xa2id\xd4\x00\x00".to_vec(),
        b"\x84\xa4type\x02\xa3nsp\xa1/\xa4data\x91\xa1m\xa2id\xc0".to_vec(),
        b"\x84\xa4type\x02\xa3nsp\xa1/\xa4data\x91\xa1m\xa2id\xcb\x3f\xe0\0\0\0\0\0\0".to_vec(),
        // Duplicate keys: the last wins.
        b"\x84\xa4type\x05\xa3nsp\xa1/\xa4data\x91\xa1m\xa4type\x02".to_vec(),
        // Shapes.
        b"\x82\xa4type\x02\xa3nsp\xa1/".to_vec(),
        b"\x83\xa4type\x02\xa3nsp\xa1/\xa4data\x90".to_vec(),
        b"\x83\xa4type\x02\xa3nsp\xa1/\xa4data\x80".to_vec(),
        b"\x83\xa4type\x00\xa3nsp\xa1/\xa4data\x90".to_vec(),
        b"\x83\xa4type\x00\xa3nsp\xa1/\xa4data\xc0".to_vec(),
        b"\x83\xa4type\x01\xa3nsp\xa1/\xa4data\xc0".to_vec(),
        b"\x83\xa4type\x04\xa3nsp\xa1/\xa4data\xa2no".to_vec(),
        b"\x83\xa4type\x04\xa3nsp\xa1/\xa4data\x91\xa2no".to_vec(),
        b"\x83\xa4type\x04\xa3nsp\xa1/\xa4data\xd7\x00\0\0\0\0\0\0\0\x01".to_vec(),
        b"\x83\xa4type\x00\xa3nsp\xa1/\xa4data\xd7\x00\0\0\0\0\0\0\0\x01".to_vec(),
        b"\x82\xa4type\x05\xa3nsp\xa1/".to_vec(),
        b"\x82\xa4type\xff\xa3nsp\xa1/".to_vec(),
        b"\x82\xa4type\xa12\xa3nsp\xa1/".to_vec(),
        b"\x82\xa4type\x01\xa3nsp\x01".to_vec(),
        b"\x81\xa4type\x01".to_vec(),
        b"\x82\xa4type\x01\xa3nsp\xa0".to_vec(),
        b"\x82\xa4type\x01\xa3nsp\xa5admin".to_vec(),
        // Not a map, trailing bytes, truncation, 0xc1, empty.
        b"\x92\x01\x02".to_vec(),
        b"\x82\xa4type\x01\xa3nsp\xa1/\x00".to_vec(),
        b"\x82\xa4type\x01\xa3nsp\xa1".to_vec(),
        b"\x82\xa4type\x01\xa3nsp\xc1".to_vec(),
        b"\xc0".to_vec(),
        Vec::new(),
        // Non-zero extensions inside arguments (read as [type, Buffer]) and Dates.
        b"\x83\xa4type\x02\xa3nsp\xa1/\xa4data\x92\xa1m\xd5\x05\x01\x02".to_vec(),
        // Documented differences: invalid UTF-8, reserved name, negative id, deep nesting.
        b"\x83\xa4type\x02\xa3nsp\xa1/\xa4data\x92\xa1m\xa1\xff".to_vec(),
        b"\x83\xa4type\x02\xa3nsp\xa1/\xa4data\x91\xaadisconnect".to_vec(),
        b"\x84\xa4type\x02\xa3nsp\xa1/\xa4data\x91\xa1m\xa2id\xff".to_vec(),
        b"\x83\xa4type\x02\xa3nsp\xa1/\xa4data\xd5\x05\x01\x02".to_vec(),
        {
            let mut f = b"\x83\xa4type\x02\xa3nsp\xa1/\xa4data\x92\xa1m".to_vec();
            f.extend(std::iter::repeat_n(0x91, 200));
            f.push(0x90);
            f
        },
    ];
    let (mut agree, mut known) = (0, 0);
    for frame in &frames {
        match (ours(frame), oracle.decode(frame)) {
            (Ok(a), Ok(b)) => {
                assert!(same(&a, &b), "{frame:02x?}\nours {a:?}\nnode {b:?}");
                agree += 1;
            }
            (Err(_), Err(_)) => agree += 1,
            (Err(e), Ok(node)) => {
                let why = known_refusal(frame, &e, &node).unwrap_or_else(|| {
                    panic!("we refuse {frame:02x?} ({e:?}), Node accepts {node:?}")
                });
                eprintln!("known difference ({why}): {frame:02x?}");
                known += 1;
            }
            (Ok(a), Err(e)) => panic!("we accept {frame:02x?} as {a:?}, Node throws {e}"),
        }
    }
    assert_eq!(
        known, 5,
        "the five documented differences at the end of the table"
    );
    eprintln!("msgpack hand frames: {agree} agree, {known} known differences");
}

/// Byte-level mutations of valid frames (flips, insertions, deletions,
/// truncations): accept/reject and the decoded packet agree with Node.
#[test]
fn msgpack_decode_mutations_agree() {
    let Some(mut oracle) = Oracle::start("msgpack_decode_mutations_agree") else {
        return;
    };
    let stats = RefCell::new([0u32; 3]); // agree-accept, agree-refuse, known
    let reasons = RefCell::new(std::collections::BTreeMap::<&str, u32>::new());
    let strategy = (
        arb_case(),
        proptest::collection::vec((0u8..4, any::<prop::sample::Index>(), any::<u8>()), 1..4),
    );
    run_prop(&mut oracle, 1500, strategy, |oracle, (case, edits)| {
        let (frame, _) = both(oracle, &case);
        let mut f = frame.clone();
        for (kind, at, byte) in edits {
            let i = at.index(f.len() + 1);
            match kind {
                0 if i < f.len() => f[i] = byte,
                1 => f.insert(i, byte),
                2 if i < f.len() => {
                    f.remove(i);
                }
                _ => f.truncate(i),
            }
        }
        let mut s = stats.borrow_mut();
        match (ours(&f), oracle.decode(&f)) {
            (Ok(a), Ok(b)) => {
                prop_assert!(same(&a, &b), "{:02x?}\nours {:?}\nnode {:?}", f, a, b);
                s[0] += 1;
            }
            (Err(_), Err(_)) => s[1] += 1,
            (Err(e), Ok(node)) => {
                let why = known_refusal(&f, &e, &node);
                prop_assert!(
                    why.is_some(),
                    "we refuse {:02x?} ({:?}), Node accepts {:?}",
                    f,
                    e,
                    node
                );
                *reasons.borrow_mut().entry(why.unwrap_or("")).or_default() += 1;
                s[2] += 1;
            }
            (Ok(a), Err(e)) => {
                return Err(TestCaseError::fail(format!(
                    "we accept {f:02x?} as {a:?}, Node throws {e}"
                )))
            }
        }
        Ok(())
    });
    let s = stats.borrow();
    eprintln!(
        "msgpack mutations: {} both accept (same packet), {} both refuse, {} known differences {:?}",
        s[0], s[1], s[2], reasons.borrow()
    );
    assert!(
        s[0] > 50 && s[1] > 50,
        "the mutations cover both outcomes: {s:?}"
    );
}

/// The typed reading path agrees with Node on generated packets: a
/// `serde_json::Value` read of each argument equals Node's value where
/// JSON can hold it.
#[test]
fn msgpack_args_read_back() {
    let enc = Encoder::default();
    let args = (
        1u8,
        "two",
        serde_bytes::Bytes::new(&[3]),
        Some(4.5f64),
        None::<u8>,
    );
    let frame = enc.event_to_vec("/x", Some(9), "ev", &args).unwrap();
    let p = Decoder::default().decode(&frame).unwrap();
    assert_eq!(p.packet_type(), PacketType::Event);
    let (a, b, c, d, e): (u8, &str, &[u8], Option<f64>, Option<u8>) = p.args().unwrap();
    assert_eq!((a, b, c, d, e), (1, "two", &[3u8][..], Some(4.5), None));
    let Args(all): Args<Vec<Js>> = p.args().unwrap();
    assert_eq!(all.len(), 5);
}
