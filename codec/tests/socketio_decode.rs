//! Socket.IO decoding: every packet form of docs/protocol.md §3 and §4 with exact
//! fields, and every malformed input the reference parser rejects.

#![cfg(feature = "alloc")]

use oxio_codec::json::JsonError;
use oxio_codec::socketio::{Decoder, Error, PacketType, Version};
use oxio_codec::Limits;

const V5: Decoder = Decoder::new(Version::V5, Limits::DEFAULT);
const V4: Decoder = Decoder::new(Version::V4, Limits::DEFAULT);

struct Want {
    ty: PacketType,
    nsp: &'static str,
    id: Option<u64>,
    att: usize,
    payload: Option<&'static str>,
}

fn want(
    ty: PacketType,
    nsp: &'static str,
    id: Option<u64>,
    att: usize,
    payload: Option<&'static str>,
) -> Want {
    Want {
        ty,
        nsp,
        id,
        att,
        payload,
    }
}

fn check(decoder: Decoder, frame: &str, w: Want) {
    let p = decoder
        .decode(frame)
        .unwrap_or_else(|e| panic!("{frame:?}: {e}"));
    assert_eq!(p.packet_type(), w.ty, "{frame}");
    assert_eq!(p.namespace(), w.nsp, "{frame}");
    assert_eq!(p.ack_id(), w.id, "{frame}");
    assert_eq!(p.attachment_count(), w.att, "{frame}");
    assert_eq!(p.payload(), w.payload, "{frame}");
}

#[test]
fn every_v5_example_of_the_protocol_decodes() {
    use PacketType::*;
    let cases = [
        ("0", want(Connect, "/", None, 0, None)),
        (
            r#"0/admin,{"token":"123"}"#,
            want(Connect, "/admin", None, 0, Some(r#"{"token":"123"}"#)),
        ),
        (
            r#"0{"sid":"lv_VI97HAXpY6yYWAAAC"}"#,
            want(
                Connect,
                "/",
                None,
                0,
                Some(r#"{"sid":"lv_VI97HAXpY6yYWAAAC"}"#),
            ),
        ),
        (r#"2["foo"]"#, want(Event, "/", None, 0, Some(r#"["foo"]"#))),
        (
            r#"2/admin,["bar"]"#,
            want(Event, "/admin", None, 0, Some(r#"["bar"]"#)),
        ),
        (
            r#"212["foo"]"#,
            want(Event, "/", Some(12), 0, Some(r#"["foo"]"#)),
        ),
        (
            r#"3/admin,13["bar"]"#,
            want(Ack, "/admin", Some(13), 0, Some(r#"["bar"]"#)),
        ),
        ("1/admin,", want(Disconnect, "/admin", None, 0, None)),
        ("1", want(Disconnect, "/", None, 0, None)),
        (
            r#"4{"message":"Not authorized"}"#,
            want(
                ConnectError,
                "/",
                None,
                0,
                Some(r#"{"message":"Not authorized"}"#),
            ),
        ),
        (
            r#"51-["baz",{"_placeholder":true,"num":0}]"#,
            want(
                BinaryEvent,
                "/",
                None,
                1,
                Some(r#"["baz",{"_placeholder":true,"num":0}]"#),
            ),
        ),
        (
            r#"52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
            want(
                BinaryEvent,
                "/admin",
                None,
                2,
                Some(r#"["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#),
            ),
        ),
        (
            r#"61-15["bar",{"_placeholder":true,"num":0}]"#,
            want(
                BinaryAck,
                "/",
                Some(15),
                1,
                Some(r#"["bar",{"_placeholder":true,"num":0}]"#),
            ),
        ),
        (
            r#"2["message-back",1,"2",{"3":[true]}]"#,
            want(
                Event,
                "/",
                None,
                0,
                Some(r#"["message-back",1,"2",{"3":[true]}]"#),
            ),
        ),
        // A namespace that reaches the end of the frame without a comma.
        ("0/random", want(Connect, "/random", None, 0, None)),
        // An explicit `/` namespace.
        (r#"2/,["a"]"#, want(Event, "/", None, 0, Some(r#"["a"]"#))),
        // Acks may be empty; numeric event names are allowed.
        ("3/admin,1[]", want(Ack, "/admin", Some(1), 0, Some("[]"))),
        ("2[1,2]", want(Event, "/", None, 0, Some("[1,2]"))),
        // Largest ack id a JavaScript peer can hold.
        (
            r#"29007199254740991["a"]"#,
            want(Event, "/", Some(9_007_199_254_740_991), 0, Some(r#"["a"]"#)),
        ),
        // JSON white space is JSON.
        (
            r#"2 [ "a" ] "#,
            want(Event, "/", None, 0, Some(r#" [ "a" ] "#)),
        ),
    ];
    for (frame, w) in cases {
        check(V5, frame, w);
    }
}

#[test]
fn v4_forms_decode() {
    use PacketType::*;
    check(V4, "0/admin,", want(Connect, "/admin", None, 0, None));
    check(
        V4,
        "0/admin?token=abc,",
        want(Connect, "/admin?token=abc", None, 0, None),
    );
    let p = V4.decode("0/admin?token=abc,").unwrap();
    assert_eq!(p.namespace_path(), "/admin");
    assert_eq!(p.namespace_query(), Some("token=abc"));
    check(
        V4,
        r#"4/admin,"Not authorized""#,
        want(ConnectError, "/admin", None, 0, Some(r#""Not authorized""#)),
    );
    check(
        V4,
        r#"4/random,"Invalid namespace""#,
        want(
            ConnectError,
            "/random",
            None,
            0,
            Some(r#""Invalid namespace""#),
        ),
    );
    check(
        V4,
        r#"4{"message":"Invalid namespace"}"#,
        want(
            ConnectError,
            "/",
            None,
            0,
            Some(r#"{"message":"Invalid namespace"}"#),
        ),
    );
    // v4 has no reserved names.
    check(
        V4,
        r#"2["disconnect"]"#,
        want(Event, "/", None, 0, Some(r#"["disconnect"]"#)),
    );
    let e = V4.decode(r#"4/admin,"Not authorized""#).unwrap();
    assert!(e.connect_error().unwrap().message.unwrap() == "Not authorized");
}

/// Frames the reference parser rejects, with the error `decode` gives.
fn malformed_cases() -> Vec<(&'static str, Error)> {
    use Error::*;
    vec![
        ("", Empty),
        ("abc", UnknownPacketType(b'a')),
        ("7", UnknownPacketType(b'7')),
        (" 0", UnknownPacketType(b' ')),
        // Payload shape per type.
        ("2{}", InvalidPayload),
        ("2[]", InvalidPayload),
        ("2[{\"toString\":\"foo\"}]", InvalidPayload),
        ("2[null]", InvalidPayload),
        ("2[[\"a\"]]", InvalidPayload),
        ("2\"a\"", InvalidPayload),
        ("0null", InvalidPayload),
        ("0[]", InvalidPayload),
        ("0\"x\"", InvalidPayload),
        ("1{}", InvalidPayload),
        ("1/admin,{}", InvalidPayload),
        ("3{}", InvalidPayload),
        ("4\"string\"", InvalidPayload),
        ("4[]", InvalidPayload),
        // Reserved names, even when escaped.
        (r#"2["disconnect"]"#, ReservedEventName),
        (r#"2["connect"]"#, ReservedEventName),
        (r#"2["connect_error"]"#, ReservedEventName),
        (r#"2["disconnecting"]"#, ReservedEventName),
        (r#"2["newListener"]"#, ReservedEventName),
        (r#"2["removeListener",1]"#, ReservedEventName),
        (r#"2["disconnec\u0074"]"#, ReservedEventName),
        // Attachments.
        (
            r#"5["a",{"_placeholder":true,"num":0}]"#,
            IllegalAttachments,
        ),
        (r#"5-["a"]"#, IllegalAttachments),
        (r#"50-["m","x"]"#, IllegalAttachments),
        (
            r#"51["m",{"_placeholder":true,"num":0}]"#,
            IllegalAttachments,
        ),
        (r#"5a-["m"]"#, IllegalAttachments),
        (
            r#"511-["m",{"_placeholder":true,"num":0}]"#,
            TooManyAttachments { count: 11, max: 10 },
        ),
        (
            r#"599999999999999999999999999-["m"]"#,
            TooManyAttachments {
                count: usize::MAX,
                max: 10,
            },
        ),
        (
            r#"51-["m",{"_placeholder":true,"num":"splice"}]"#,
            InvalidPlaceholder,
        ),
        (
            r#"51-["m",{"_placeholder":true,"num":1}]"#,
            InvalidPlaceholder,
        ),
        (
            r#"51-["m",{"_placeholder":true,"num":0.5}]"#,
            InvalidPlaceholder,
        ),
        (
            r#"51-["m",{"_placeholder":"true","num":0}]"#,
            InvalidPlaceholder,
        ),
        (r#"61-1[{"_placeholder":1,"num":0}]"#, InvalidPlaceholder),
        // Ack ids: greedy digits, at most 2^53 - 1.
        (r#"29007199254740992["a"]"#, AckIdTooLarge),
        (r#"21234567890123456789012["a"]"#, AckIdTooLarge),
        // A bad ack id makes the payload invalid JSON.
        (
            r#"2abc["a"]"#,
            InvalidJson(JsonError::UnexpectedByte { offset: 0 }),
        ),
        // A namespace must start with `/`.
        (
            "0custom,",
            InvalidJson(JsonError::UnexpectedByte { offset: 0 }),
        ),
        // Broken JSON.
        (r#"2["a""#, InvalidJson(JsonError::UnexpectedEnd)),
        (r#"2["a"]]"#, InvalidJson(JsonError::TrailingData)),
        ("2 ", InvalidJson(JsonError::UnexpectedEnd)),
    ]
}

#[test]
fn malformed_packets_are_rejected_like_the_reference() {
    for (frame, err) in malformed_cases() {
        assert_eq!(V5.decode(frame).unwrap_err(), err, "{frame:?}");
    }
}

#[test]
fn a_missing_payload_is_accepted_as_the_reference_does() {
    // socket.io-parser checks only a payload that is present.
    use PacketType::*;
    check(V5, "2", want(Event, "/", None, 0, None));
    check(V5, "3/a,1", want(Ack, "/a", Some(1), 0, None));
    check(V5, "4", want(ConnectError, "/", None, 0, None));
    check(V5, "51-", want(BinaryEvent, "/", None, 1, None));
    let p = V5.decode("2").unwrap();
    assert!(p.event_name().is_none());
    assert_eq!(p.raw_args().count(), 0);
    assert!(matches!(p.args::<()>(), Err(Error::InvalidPayload)));
}

#[test]
fn v5_connect_error_must_be_an_object_but_v4_takes_a_string() {
    assert_eq!(V5.decode(r#"4"nope""#).unwrap_err(), Error::InvalidPayload);
    assert!(V4.decode(r#"4"nope""#).is_ok());
    assert_eq!(V4.decode("4[1]").unwrap_err(), Error::InvalidPayload);
}

#[test]
fn a_ten_thousand_deep_payload_is_too_deep() {
    let frame = format!("2[\"m\",{}{}]", "[".repeat(10_000), "]".repeat(10_000));
    assert_eq!(
        V5.decode(&frame).unwrap_err(),
        Error::InvalidJson(JsonError::TooDeep)
    );
    // Exactly at the limit is fine: the event array is level 1.
    let ok = format!("2[\"m\",{}{}]", "[".repeat(127), "]".repeat(127));
    assert!(V5.decode(&ok).is_ok());
    let over = format!("2[\"m\",{}{}]", "[".repeat(128), "]".repeat(128));
    assert_eq!(
        V5.decode(&over).unwrap_err(),
        Error::InvalidJson(JsonError::TooDeep)
    );
}

#[test]
fn limits_are_configurable() {
    let limits = Limits {
        max_attachments: 2,
        max_namespace_len: 4,
        max_ack_id: 99,
        max_depth: 2,
        ..Limits::DEFAULT
    };
    let d = Decoder::new(Version::V5, limits);
    assert_eq!(
        d.decode(r#"53-["m",{"_placeholder":true,"num":0}]"#)
            .unwrap_err(),
        Error::TooManyAttachments { count: 3, max: 2 }
    );
    assert!(d.decode("0/abc,").is_ok());
    assert_eq!(d.decode("0/abcd,").unwrap_err(), Error::NamespaceTooLong);
    assert!(d.decode(r#"299["a"]"#).is_ok());
    assert_eq!(d.decode(r#"2100["a"]"#).unwrap_err(), Error::AckIdTooLarge);
    assert!(d.decode(r#"2["a",[1]]"#).is_ok());
    assert_eq!(
        d.decode(r#"2["a",[[1]]]"#).unwrap_err(),
        Error::InvalidJson(JsonError::TooDeep)
    );
}

#[test]
fn event_names_are_read_without_the_arguments() {
    let p = V5.decode(r#"2/chat,["message",{"huge":[1,2,3]}]"#).unwrap();
    let name = p.event_name().unwrap();
    assert_eq!(name.as_str(), Some("message"));
    // The borrowed name points into the frame: no copy.
    let frame = r#"2["zero-copy",1]"#;
    let p = V5.decode(frame).unwrap();
    let name = p.event_name().unwrap().as_str().unwrap();
    let range = frame.as_bytes().as_ptr_range();
    assert!(range.contains(&name.as_ptr()));
    // Escaped names compare and decode.
    let p = V5.decode(r#"2["caf\u00e9 \"x\""]"#).unwrap();
    let name = p.event_name().unwrap();
    assert!(name == "café \"x\"");
    assert_eq!(name.to_string(), "café \"x\"");
    let mut buf = [0u8; 4];
    assert!(name.unescape_into(&mut buf).is_err());
    // Non-events have no name.
    assert!(V5.decode("3/a,1[]").unwrap().event_name().is_none());
}

#[test]
fn args_deserialize_on_demand() {
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Reading<'a> {
        device: &'a str,
        temp_c: f64,
        uptime_ms: u64,
    }
    let p = V5
        .decode(r#"2["sensor",{"device":"dev1","temp_c":21.5,"uptime_ms":5000},"extra"]"#)
        .unwrap();
    let r: Reading = p.args().unwrap();
    assert_eq!(
        r,
        Reading {
            device: "dev1",
            temp_c: 21.5,
            uptime_ms: 5000
        }
    );
    let (r2, extra): (Reading, String) = p.args().unwrap();
    assert_eq!(r2.device, "dev1");
    assert_eq!(extra, "extra");
    let () = p.args().unwrap();
    // Acks: all elements are arguments.
    let a = V5.decode(r#"31[{"ok":true}]"#).unwrap();
    #[derive(serde::Deserialize)]
    struct Ok {
        ok: bool,
    }
    let ok: Ok = a.args().unwrap();
    assert!(ok.ok);
    // Typed errors, no panics.
    assert!(matches!(p.args::<(u8,)>(), Err(Error::Deserialize(_))));
    assert!(matches!(
        V5.decode("0").unwrap().args::<()>(),
        Err(Error::InvalidPayload)
    ));
    let raw: Vec<&str> = p.raw_args().collect();
    assert_eq!(raw.len(), 2);
    assert_eq!(raw[1], "\"extra\"");
}

#[test]
fn connect_payloads_deserialize() {
    #[derive(serde::Deserialize)]
    struct Sid<'a> {
        sid: &'a str,
    }
    let p = V5.decode(r#"0{"sid":"abc"}"#).unwrap();
    let s: Sid = p.data().unwrap().unwrap();
    assert_eq!(s.sid, "abc");
    assert!(V5.decode("0").unwrap().data::<Sid>().unwrap().is_none());
}

// ---- Decoder::decode_header: the opt-in lazy path ----

/// `decode_header` then `validate` must end exactly where `decode` does.
fn lazy_then_validate(
    decoder: Decoder,
    frame: &str,
) -> Result<oxio_codec::socketio::Packet<'_>, Error> {
    decoder.decode_header(frame).and_then(|h| h.validate())
}

#[test]
fn lazy_decode_then_validate_rejects_every_malformed_frame_with_decodes_error() {
    for (frame, err) in malformed_cases() {
        assert_eq!(lazy_then_validate(V5, frame).unwrap_err(), err, "{frame:?}");
    }
}

#[test]
fn lazy_decode_then_validate_equals_decode_on_valid_frames() {
    let frames = [
        "0",
        r#"0/admin,{"token":"123"}"#,
        "1/admin,",
        r#"2["hello",1]"#,
        r#"2/admin,456["project:delete",123]"#,
        r#"2 [ "spaced" , 1 ] "#,
        r#"2[42,"numeric name"]"#,
        r#"2[-1.5e3]"#,
        r#"2["café"]"#,
        "2",
        r#"3/admin,456[]"#,
        r#"4{"message":"Not authorized"}"#,
        r#"51-["hello",{"_placeholder":true,"num":0}]"#,
        r#"61-/admin,456[{"_placeholder":true,"num":0}]"#,
    ];
    for frame in frames {
        let strict = V5
            .decode(frame)
            .unwrap_or_else(|e| panic!("{frame:?}: {e}"));
        let header = V5.decode_header(frame).unwrap();
        assert_eq!(header.packet_type(), strict.packet_type(), "{frame}");
        assert_eq!(header.namespace(), strict.namespace(), "{frame}");
        assert_eq!(header.ack_id(), strict.ack_id(), "{frame}");
        assert_eq!(
            header.attachment_count(),
            strict.attachment_count(),
            "{frame}"
        );
        assert_eq!(header.unvalidated_payload(), strict.payload(), "{frame}");
        assert_eq!(header.event_name(), strict.event_name(), "{frame}");
        assert_eq!(header.validate().unwrap(), strict, "{frame}");
    }
}

#[test]
fn lazy_decode_defers_the_arguments_and_reports_them_at_args_time() {
    use JsonError::*;
    // (frame, event name, error of validate() and args())
    let cases: &[(&str, &str, Error)] = &[
        (
            r#"2["m",{"a":]"#,
            "m",
            Error::InvalidJson(UnexpectedByte { offset: 10 }),
        ),
        (r#"2["m",1"#, "m", Error::InvalidJson(UnexpectedEnd)),
        (r#"2["m"]]"#, "m", Error::InvalidJson(TrailingData)),
        (r#"2["m",[[[1]]]]"#, "m", Error::InvalidJson(TooDeep)),
        ("2[\"m\",\"a\nb\"]", "m", Error::InvalidJson(InvalidString)),
        (
            r#"2["m",01]"#,
            "m",
            Error::InvalidJson(UnexpectedByte { offset: 6 }),
        ),
        (
            r#"2/chat,9["m",tru]"#,
            "m",
            Error::InvalidJson(UnexpectedByte { offset: 5 }),
        ),
        (
            r#"51-["m",{"_placeholder":true,"num":1}]"#,
            "m",
            Error::InvalidPlaceholder,
        ),
    ];
    let shallow = Decoder::new(
        Version::V5,
        Limits {
            max_depth: 3,
            ..Limits::DEFAULT
        },
    );
    for (frame, name, err) in cases {
        let h = shallow
            .decode_header(frame)
            .unwrap_or_else(|e| panic!("{frame:?}: {e}"));
        assert!(h.event_name().unwrap() == *name, "{frame}");
        assert_eq!(h.validate().unwrap_err(), *err, "{frame}");
        assert_eq!(
            h.args::<serde::de::IgnoredAny>().unwrap_err(),
            *err,
            "{frame}"
        );
        assert_eq!(shallow.decode(frame).unwrap_err(), *err, "{frame}");
    }
}

#[test]
fn lazy_decode_checks_the_event_name_strictly() {
    use JsonError::*;
    let cases: &[(&str, Error)] = &[
        ("2[\"a\u{1}\"]", Error::InvalidJson(InvalidString)),
        (r#"2["a\x"]"#, Error::InvalidJson(InvalidString)),
        (r#"2["a"#, Error::InvalidJson(UnexpectedEnd)),
        (
            r#"2["a" 1]"#,
            Error::InvalidJson(UnexpectedByte { offset: 5 }),
        ),
        (
            r#"2["a"}"#,
            Error::InvalidJson(UnexpectedByte { offset: 4 }),
        ),
        (r#"2[-]"#, Error::InvalidJson(InvalidNumber)),
        (r#"2[x]"#, Error::InvalidJson(UnexpectedByte { offset: 1 })),
        (r#"2["#, Error::InvalidJson(UnexpectedEnd)),
        (r#"2[]"#, Error::InvalidPayload),
        (r#"2[true]"#, Error::InvalidPayload),
        (r#"2{"a":1}"#, Error::InvalidPayload),
        (r#"2["newListener",{"#, Error::ReservedEventName),
    ];
    for (frame, err) in cases {
        assert_eq!(V5.decode_header(frame).unwrap_err(), *err, "{frame:?}");
        assert!(V5.decode(frame).is_err(), "{frame:?}");
    }
    // v4 does not reserve names; a depth limit of 0 refuses the array.
    assert!(
        V4.decode_header(r#"2["disconnect"]"#)
            .unwrap()
            .event_name()
            .unwrap()
            == "disconnect"
    );
    let flat = Decoder::new(
        Version::V5,
        Limits {
            max_depth: 0,
            ..Limits::DEFAULT
        },
    );
    assert_eq!(
        flat.decode_header(r#"2["a"]"#).unwrap_err(),
        Error::InvalidJson(TooDeep)
    );
    assert_eq!(
        flat.decode(r#"2["a"]"#).unwrap_err(),
        Error::InvalidJson(TooDeep)
    );
}

#[test]
fn lazy_args_read_the_same_values_as_strict_args() {
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Msg<'a> {
        text: &'a str,
    }
    let frame = r#"2/chat,7["message",{"text":"hi"},3]"#;
    let h = V5.decode_header(frame).unwrap();
    let lazy: (Msg, u8) = h.args().unwrap();
    let strict: (Msg, u8) = V5.decode(frame).unwrap().args().unwrap();
    assert_eq!(lazy, strict);
    assert_eq!(lazy, (Msg { text: "hi" }, 3));
    // The lazy name borrows from the frame too.
    let name = h.event_name().unwrap().as_str().unwrap();
    assert!(frame.as_bytes().as_ptr_range().contains(&name.as_ptr()));
}

proptest::proptest! {
    /// On any frame: `decode` succeeds exactly when `decode_header` then
    /// `validate` does, with the same packet; `decode_header` never
    /// refuses a frame `decode` accepts, and its name is `decode`'s.
    #[test]
    fn lazy_and_strict_agree(frame in r#"[0-6]{0,1}[-/0-9a-z,]{0,3}[\[\]{}",:0-9a-z\\ .-]{0,24}"#) {
        let strict = V5.decode(&frame);
        let lazy = V5.decode_header(&frame);
        if let Ok(p) = &strict {
            let h = lazy.as_ref().map_err(|e| e.to_string());
            proptest::prop_assert!(h.is_ok(), "{:?}: {:?}", frame, h);
            if let Ok(h) = lazy {
                proptest::prop_assert_eq!(h.event_name(), p.event_name());
            }
        }
        proptest::prop_assert_eq!(strict.is_ok(), lazy_then_validate(V5, &frame).is_ok(), "{:?}", frame);
        if let (Ok(a), Ok(b)) = (strict, lazy_then_validate(V5, &frame)) {
            proptest::prop_assert_eq!(a, b);
        }
    }
}
