//! The handshake JSON of the `open` packet (docs/protocol.md §1.4, §2 item 7):
//! exact encoding, tolerant decoding, malformed input, and a differential
//! check against `serde_json`.

use oxio_codec::engineio::{Error, Handshake, HandshakeError, Packet, Transport, Upgrades};
use proptest::prelude::*;

const V4_EXAMPLE: &str = r#"{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;
const V3_EXAMPLE: &str = r#"{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000}"#;

fn encode(h: &Handshake<'_>) -> String {
    let mut buf = vec![0u8; h.encoded_len()];
    let n = h.encode(&mut buf).unwrap();
    assert_eq!(n, buf.len());
    String::from_utf8(buf).unwrap()
}

fn err(e: HandshakeError) -> Result<Handshake<'static>, Error> {
    Err(Error::InvalidHandshake(e))
}

#[test]
fn reference_examples_encode_and_decode_exactly() {
    let v4 = Handshake::new("lv_VI97HAXpY6yYWAAAC");
    assert_eq!(encode(&v4), V4_EXAMPLE);
    assert_eq!(Handshake::decode(V4_EXAMPLE), Ok(v4));

    let v3 = Handshake {
        ping_timeout: 5000,
        max_payload: None,
        ..v4
    };
    assert_eq!(encode(&v3), V3_EXAMPLE);
    assert_eq!(Handshake::decode(V3_EXAMPLE), Ok(v3));

    let mut buf = [0u8; 200];
    let n = v4.encode_open_packet(&mut buf).unwrap();
    assert_eq!(&buf[..n], format!("0{V4_EXAMPLE}").as_bytes());
    assert_eq!(
        Handshake::decode_open_packet(std::str::from_utf8(&buf[..n]).unwrap()),
        Ok(v4)
    );
}

#[test]
fn upgrades_encode_in_a_fixed_order() {
    let cases: &[(Upgrades, &str)] = &[
        (Upgrades::NONE, "[]"),
        (Upgrades::WEBSOCKET, r#"["websocket"]"#),
        (
            Upgrades::NONE
                .with(Transport::WebTransport)
                .with(Transport::WebSocket),
            r#"["websocket","webtransport"]"#,
        ),
        (
            [Transport::WebTransport, Transport::Polling]
                .into_iter()
                .collect(),
            r#"["polling","webtransport"]"#,
        ),
    ];
    for (upgrades, json) in cases {
        let h = Handshake {
            upgrades: *upgrades,
            ..Handshake::new("s")
        };
        let expected = format!(
            r#"{{"sid":"s","upgrades":{json},"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}}"#
        );
        assert_eq!(encode(&h), expected);
        assert_eq!(Handshake::decode(&expected), Ok(h));
    }
}

#[test]
fn sid_is_escaped_like_json_stringify() {
    let h = Handshake {
        max_payload: None,
        ..Handshake::new("a\"b\\c\u{8}\u{c}\n\r\t\u{1}\u{1f}\u{7f}é/")
    };
    assert_eq!(
        encode(&h),
        r#"{"sid":"a\"b\\c\b\f\n\r\t\u0001\u001f"#.to_owned()
            + "\u{7f}é/"
            + r#"","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}"#
    );
}

#[test]
fn decoding_is_tolerant_of_order_space_and_unknown_keys() {
    let cases: &[(&str, Handshake<'_>)] = &[
        (
            r#" { "maxPayload" : 7 , "pingTimeout":2,"pingInterval":1, "upgrades" : [ ] ,"sid":"x" } "#,
            Handshake {
                sid: "x",
                upgrades: Upgrades::NONE,
                ping_interval: 1,
                ping_timeout: 2,
                max_payload: Some(7),
            },
        ),
        (
            r#"{"a":null,"b":true,"c":false,"d":-1.5e+3,"e":"\"\u00e9\\","f":[[],{},[{"g":[1,{"h":"]"}]}]],
                "sid":"x","upgrades":["polling","websocket","webtransport","flash\u0073ocket","x"],
                "pingInterval":0,"pingTimeout":18446744073709551615}"#,
            Handshake {
                sid: "x",
                upgrades: Upgrades::NONE
                    .with(Transport::Polling)
                    .with(Transport::WebSocket)
                    .with(Transport::WebTransport),
                ping_interval: 0,
                ping_timeout: u64::MAX,
                max_payload: None,
            },
        ),
        (
            "{\"sid\":\"€😀\",\"upgrades\":[\"websocket\",\"websocket\"],\"pingInterval\":1,\"pingTimeout\":2}",
            Handshake {
                sid: "€😀",
                upgrades: Upgrades::WEBSOCKET,
                ping_interval: 1,
                ping_timeout: 2,
                max_payload: None,
            },
        ),
    ];
    for (json, want) in cases {
        assert_eq!(Handshake::decode(json), Ok(*want), "{json}");
    }
}

#[test]
fn malformed_handshakes() {
    use HandshakeError::*;
    let ok_tail = r#""upgrades":[],"pingInterval":1,"pingTimeout":2"#;
    let with = |extra: &str| format!(r#"{{"sid":"s",{ok_tail},{extra}}}"#);
    let deep = format!(
        r#"{{"x":{}{}, "sid":"s",{ok_tail}}}"#,
        "[".repeat(66),
        "]".repeat(66)
    );
    // 64 open levels around an empty array is the deepest accepted.
    let deepest = format!(
        r#"{{"x":{}{}, "sid":"s",{ok_tail}}}"#,
        "[".repeat(65),
        "]".repeat(65)
    );
    assert!(Handshake::decode(&deepest).is_ok());
    let cases: Vec<(String, Result<Handshake<'static>, Error>)> = vec![
        (String::new(), err(Syntax { offset: 0 })),
        ("   ".into(), err(Syntax { offset: 3 })),
        ("[]".into(), err(Syntax { offset: 0 })),
        ("{".into(), err(Syntax { offset: 1 })),
        (r#"{"sid"}"#.into(), err(Syntax { offset: 6 })),
        (r#"{"sid":}"#.into(), err(InvalidField("sid"))),
        (r#"{sid:"s"}"#.into(), err(Syntax { offset: 1 })),
        (r#"{"sid":"s",}"#.into(), err(Syntax { offset: 11 })),
        (
            r#"{"sid":"s""upgrades":[]}"#.into(),
            err(Syntax { offset: 10 }),
        ),
        (
            format!(r#"{{"sid":"s",{ok_tail}}}x"#),
            err(Syntax { offset: 58 }),
        ),
        (
            format!(r#"{{"sid":"s",{ok_tail}}}{{}}"#),
            err(Syntax { offset: 58 }),
        ),
        (with(r#""a":tru"#), err(Syntax { offset: 62 })),
        (with(r#""a":01"#), err(Syntax { offset: 63 })),
        (with(r#""a":1."#), err(Syntax { offset: 64 })),
        (with(r#""a":[1,]"#), err(Syntax { offset: 65 })),
        (with(r#""a":[1}"#), err(Syntax { offset: 64 })),
        (with(r#""a":{"b"}"#), err(Syntax { offset: 66 })),
        (with(r#""a":"\x""#), err(Syntax { offset: 64 })),
        (with(r#""a":"\u12G4""#), err(Syntax { offset: 67 })),
        (with("\"a\":\"\n\""), err(Syntax { offset: 63 })),
        (
            r#"{"sid":"s","upgrades":["websocket" "x"]}"#.into(),
            err(Syntax { offset: 35 }),
        ),
        (deep, err(TooDeep)),
        ("{}".into(), err(MissingField("sid"))),
        (r#"{"sid":"s"}"#.into(), err(MissingField("upgrades"))),
        (
            r#"{"sid":"s","upgrades":[],"pingTimeout":2}"#.into(),
            err(MissingField("pingInterval")),
        ),
        (
            r#"{"sid":"s","upgrades":[],"pingInterval":1}"#.into(),
            err(MissingField("pingTimeout")),
        ),
        (
            format!(r#"{{"sid":1,{ok_tail}}}"#),
            err(InvalidField("sid")),
        ),
        (
            format!(r#"{{"sid":"",{ok_tail}}}"#),
            err(InvalidField("sid")),
        ),
        (
            r#"{"sid":"s","upgrades":"websocket"}"#.into(),
            err(InvalidField("upgrades")),
        ),
        (
            r#"{"sid":"s","upgrades":[1]}"#.into(),
            err(InvalidField("upgrades")),
        ),
        (
            r#"{"sid":"s","upgrades":null}"#.into(),
            err(InvalidField("upgrades")),
        ),
        (
            r#"{"pingInterval":"25000"}"#.into(),
            err(InvalidField("pingInterval")),
        ),
        (
            r#"{"pingInterval":-1}"#.into(),
            err(InvalidField("pingInterval")),
        ),
        (
            r#"{"pingInterval":1.5}"#.into(),
            err(InvalidField("pingInterval")),
        ),
        (
            r#"{"pingTimeout":1e3}"#.into(),
            err(InvalidField("pingTimeout")),
        ),
        (
            r#"{"pingTimeout":18446744073709551616}"#.into(),
            err(InvalidField("pingTimeout")),
        ),
        (
            r#"{"maxPayload":null}"#.into(),
            err(InvalidField("maxPayload")),
        ),
        (
            r#"{"sid":"a","sid":"b"}"#.into(),
            err(DuplicateField("sid")),
        ),
        (
            with(r#""pingTimeout":3"#),
            err(DuplicateField("pingTimeout")),
        ),
        (
            r#"{"maxPayload":1,"maxPayload":1}"#.into(),
            err(DuplicateField("maxPayload")),
        ),
        (
            r#"{"upgrades":[],"upgrades":[]}"#.into(),
            err(DuplicateField("upgrades")),
        ),
        (
            r#"{"pingInterval":1,"pingInterval":1}"#.into(),
            err(DuplicateField("pingInterval")),
        ),
        (format!(r#"{{"sid":"a\/b",{ok_tail}}}"#), err(EscapedSid)),
    ];
    for (json, want) in &cases {
        assert_eq!(&Handshake::decode(json), want, "{json}");
    }
}

#[test]
fn open_packet_helpers() {
    let json = r#"{"sid":"s","upgrades":[],"pingInterval":1,"pingTimeout":2}"#;
    let h = Handshake::from_packet(&Packet::open(json)).unwrap();
    assert_eq!(h.sid, "s");
    assert_eq!(
        Handshake::from_packet(&Packet::message_text(json)),
        err(HandshakeError::NotOpenPacket)
    );
    assert_eq!(
        Handshake::decode_open_packet(&format!("4{json}")),
        err(HandshakeError::NotOpenPacket)
    );
    assert_eq!(
        Handshake::decode_open_packet("bAQ=="),
        err(HandshakeError::NotOpenPacket)
    );
    assert_eq!(Handshake::decode_open_packet(""), Err(Error::Empty));
    assert_eq!(
        Handshake::decode_open_packet("0"),
        err(HandshakeError::Syntax { offset: 0 })
    );
}

#[test]
fn encode_reports_a_full_buffer() {
    let h = Handshake::new("lv_VI97HAXpY6yYWAAAC");
    let mut buf = vec![0u8; V4_EXAMPLE.len() - 1];
    assert_eq!(h.encode(&mut buf), Err(Error::BufferFull));
    assert!(buf.iter().all(|&b| b == 0), "nothing written");
    let mut buf = vec![0u8; V4_EXAMPLE.len()];
    assert_eq!(h.encode_open_packet(&mut buf), Err(Error::BufferFull));
    assert_eq!(h.encode_open_packet(&mut []), Err(Error::BufferFull));
    assert_eq!(
        h.encode_open_packet(&mut vec![0u8; V4_EXAMPLE.len() + 1]),
        Ok(V4_EXAMPLE.len() + 1)
    );
}

#[cfg(feature = "alloc")]
#[test]
fn to_json_matches_encode() {
    let h = Handshake::new("lv_VI97HAXpY6yYWAAAC");
    assert_eq!(h.to_json(), V4_EXAMPLE);
}

fn upgrades() -> impl Strategy<Value = Upgrades> {
    prop::collection::vec(prop::sample::select(Transport::ALL.to_vec()), 0..3)
        .prop_map(|ts| ts.into_iter().collect())
}

#[derive(Debug, Clone)]
struct Owned {
    sid: String,
    upgrades: Upgrades,
    ping_interval: u64,
    ping_timeout: u64,
    max_payload: Option<u64>,
}

impl Owned {
    fn handshake(&self) -> Handshake<'_> {
        Handshake {
            sid: &self.sid,
            upgrades: self.upgrades,
            ping_interval: self.ping_interval,
            ping_timeout: self.ping_timeout,
            max_payload: self.max_payload,
        }
    }

    /// The same object as `serde_json` writes it, keys in reference order.
    fn to_serde_json(&self) -> serde_json::Value {
        let names: Vec<&str> = self.upgrades.iter().map(Transport::as_str).collect();
        let mut v = serde_json::json!({
            "sid": self.sid,
            "upgrades": names,
            "pingInterval": self.ping_interval,
            "pingTimeout": self.ping_timeout,
        });
        if let Some(max) = self.max_payload {
            v["maxPayload"] = max.into();
        }
        v
    }
}

fn owned(sid: impl Strategy<Value = String>) -> impl Strategy<Value = Owned> {
    (
        sid,
        upgrades(),
        any::<u64>(),
        any::<u64>(),
        any::<Option<u64>>(),
    )
        .prop_map(
            |(sid, upgrades, ping_interval, ping_timeout, max_payload)| Owned {
                sid,
                upgrades,
                ping_interval,
                ping_timeout,
                max_payload,
            },
        )
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(("[a-z\"\\\\]{0,4}", inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

proptest! {
    /// Our bytes equal serde_json's for any sid (escaping included).
    #[test]
    fn encoding_matches_serde_json(o in owned(any::<String>())) {
        let ours = encode(&o.handshake());
        prop_assert_eq!(ours, serde_json::to_string(&o.to_serde_json()).unwrap());
    }

    /// URL-safe sids round-trip exactly.
    #[test]
    fn url_safe_handshakes_round_trip(o in owned("[A-Za-z0-9_-]{1,30}")) {
        let h = o.handshake();
        let json = encode(&h);
        prop_assert_eq!(Handshake::decode(&json), Ok(h));
        let mut buf = vec![0u8; json.len() + 1];
        let n = h.encode_open_packet(&mut buf).unwrap();
        prop_assert_eq!(Handshake::decode_open_packet(std::str::from_utf8(&buf[..n]).unwrap()), Ok(h));
    }

    /// Shuffled keys, extra keys with any JSON value, pretty printing: all
    /// decode to the same handshake.
    #[test]
    fn decoding_ignores_order_extras_and_layout(
        o in owned("[A-Za-z0-9_-]{1,30}|\\PC{1,8}".prop_filter("no escapes", |s| !s.contains(['"', '\\']))),
        extras in prop::collection::vec(("[a-z]{1,6}", json_value()), 0..4),
        seed in any::<u64>(),
        pretty in any::<bool>(),
    ) {
        let serde_json::Value::Object(known) = o.to_serde_json() else { unreachable!() };
        let mut entries: Vec<(String, serde_json::Value)> = known.into_iter().collect();
        let known_keys = ["sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"];
        entries.extend(extras.into_iter().filter(|(k, _)| !known_keys.contains(&k.as_str())));
        // A cheap deterministic shuffle.
        let len = entries.len();
        for i in 0..len {
            let j = (seed.rotate_left(i as u32 * 7) as usize) % len;
            entries.swap(i, j);
        }
        let mut map = serde_json::Map::new();
        for (k, v) in entries {
            map.insert(k, v);
        }
        let value = serde_json::Value::Object(map);
        let json = if pretty {
            serde_json::to_string_pretty(&value).unwrap()
        } else {
            serde_json::to_string(&value).unwrap()
        };
        prop_assert_eq!(Handshake::decode(&json), Ok(o.handshake()), "{}", json);
    }

    /// Garbage never panics.
    #[test]
    fn garbage_never_panics(s in "[{}\\[\\]\",:0-9a-z\\\\ .eE+-]{0,40}|\\PC{0,20}") {
        let _ = Handshake::decode(&s);
    }

    /// Any input serde_json rejects, we reject too.
    #[test]
    fn we_accept_only_json(s in "[{}\\[\\]\",:0-9a-z\\\\ .eE+-]{0,40}") {
        if Handshake::decode(&s).is_ok() {
            prop_assert!(serde_json::from_str::<serde_json::Value>(&s).is_ok(), "{}", s);
        }
    }
}
