//! Socket.IO encoding: exact bytes for every packet type, binary
//! placeholders, and the argument-list rule.

#![cfg(feature = "alloc")]

use oxio_codec::socketio::{Binary, BinaryBuf, Decoder, Encoder, Error, Version};
use serde::Serialize;

fn event<T: Serialize + ?Sized>(nsp: &str, id: Option<u64>, ev: &str, args: &T) -> String {
    let mut buf = [0u8; 512];
    let out = Encoder::default()
        .event(&mut buf, nsp, id, ev, args)
        .unwrap();
    String::from_utf8(buf[..out.len].to_vec()).unwrap()
}

#[derive(Serialize)]
struct Reading<'a> {
    device: &'a str,
    temp_c: f64,
    uptime_ms: u64,
}

#[test]
fn events_match_json_stringify() {
    assert_eq!(event("/", None, "foo", &()), r#"2["foo"]"#);
    assert_eq!(event("/admin", None, "bar", &()), r#"2/admin,["bar"]"#);
    assert_eq!(event("/", Some(12), "foo", &()), r#"212["foo"]"#);
    assert_eq!(
        event(
            "/",
            None,
            "message-back",
            &(1, "2", serde_json::json!({"3": [true]}))
        ),
        r#"2["message-back",1,"2",{"3":[true]}]"#
    );
    assert_eq!(
        event(
            "/",
            None,
            "sensor",
            &Reading {
                device: "dev1",
                temp_c: 21.0,
                uptime_ms: 5000
            }
        ),
        r#"2["sensor",{"device":"dev1","temp_c":21,"uptime_ms":5000}]"#
    );
    // A Vec is one argument; a tuple is the argument list.
    assert_eq!(event("/", None, "v", &vec![1, 2]), r#"2["v",[1,2]]"#);
    assert_eq!(event("/", None, "v", &((1, 2),)), r#"2["v",[1,2]]"#);
    assert_eq!(event("/", None, "v", &(1, 2)), r#"2["v",1,2]"#);
    assert_eq!(event("/", None, "s", "x\n\"y\""), r#"2["s","x\n\"y\""]"#);
}

#[test]
fn every_packet_type_has_exact_bytes() {
    let enc = Encoder::default();
    let mut buf = [0u8; 128];
    let n = enc.connect(&mut buf, "/").unwrap();
    assert_eq!(&buf[..n], b"0");
    let n = enc.connect(&mut buf, "/admin").unwrap();
    assert_eq!(&buf[..n], b"0/admin,");
    let n = enc
        .connect_with(&mut buf, "/", &serde_json::json!({"sid": "abc"}))
        .unwrap();
    assert_eq!(&buf[..n], br#"0{"sid":"abc"}"#);
    let n = enc.disconnect(&mut buf, "/").unwrap();
    assert_eq!(&buf[..n], b"1");
    let n = enc.disconnect(&mut buf, "/admin").unwrap();
    assert_eq!(&buf[..n], b"1/admin,");
    let n = enc.ack(&mut buf, "/", 0, &()).unwrap().len;
    assert_eq!(&buf[..n], b"30[]");
    let n = enc.ack(&mut buf, "/admin", 13, &("bar",)).unwrap().len;
    assert_eq!(&buf[..n], br#"3/admin,13["bar"]"#);
    let n = enc.connect_error(&mut buf, "/", "Not authorized").unwrap();
    assert_eq!(&buf[..n], br#"4{"message":"Not authorized"}"#);
    let n = enc
        .connect_error_with_data(
            &mut buf,
            "/mw",
            "not authorized",
            &serde_json::json!({"content": "retry later"}),
        )
        .unwrap();
    assert_eq!(
        &buf[..n],
        br#"4/mw,{"message":"not authorized","data":{"content":"retry later"}}"#
    );
    let v4 = Encoder::new(Version::V4);
    let n = v4
        .connect_error(&mut buf, "/admin", "Not authorized")
        .unwrap();
    assert_eq!(&buf[..n], br#"4/admin,"Not authorized""#);
}

#[test]
fn binary_arguments_become_placeholders_depth_first() {
    #[derive(Serialize)]
    struct Upload<'a> {
        name: &'a str,
        parts: [Binary<'a>; 2],
    }
    let mut buf = [0u8; 256];
    let mut got = Vec::new();
    let out = Encoder::default()
        .event_with_attachments(
            &mut buf,
            "/admin",
            None,
            "baz",
            &(
                Upload {
                    name: "f",
                    parts: [Binary(b"one"), Binary(b"two")],
                },
                Binary(b"three"),
            ),
            |i, b| got.push((i, b.to_vec())),
        )
        .unwrap();
    assert_eq!(out.attachments, 3);
    assert_eq!(
        std::str::from_utf8(&buf[..out.len]).unwrap(),
        r#"53-/admin,["baz",{"name":"f","parts":[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]},{"_placeholder":true,"num":2}]"#
    );
    assert_eq!(
        got,
        [
            (0, b"one".to_vec()),
            (1, b"two".to_vec()),
            (2, b"three".to_vec())
        ]
    );
    // Binary acks get type 6 and keep the ack id.
    let out = Encoder::default()
        .ack(&mut buf, "/", 15, &("bar", Binary(&[1])))
        .unwrap();
    assert_eq!(
        std::str::from_utf8(&buf[..out.len]).unwrap(),
        r#"61-15["bar",{"_placeholder":true,"num":0}]"#
    );
    // serde_bytes fields work the same way.
    #[derive(Serialize)]
    struct WithSerdeBytes {
        #[serde(with = "serde_bytes")]
        data: Vec<u8>,
    }
    let owned = Encoder::default()
        .event_to_owned("/", None, "b", &WithSerdeBytes { data: vec![9] })
        .unwrap();
    assert_eq!(
        owned.text,
        r#"51-["b",{"data":{"_placeholder":true,"num":0}}]"#
    );
    assert_eq!(owned.attachments, [vec![9]]);
    // Ten or more attachments write a two-digit count.
    let many: Vec<BinaryBuf> = (0..12u8).map(|i| BinaryBuf(vec![i])).collect();
    let owned = Encoder::default().ack_to_owned("/", 1, &(many,)).unwrap();
    assert!(owned.text.starts_with("612-1[[{"), "{}", owned.text);
    assert_eq!(owned.attachments.len(), 12);
}

#[test]
fn encoder_errors_are_typed() {
    let enc = Encoder::default();
    let mut buf = [0u8; 64];
    assert_eq!(
        enc.event(&mut buf, "/", None, "disconnect", &())
            .unwrap_err(),
        Error::ReservedEventName
    );
    assert!(Encoder::new(Version::V4)
        .event(&mut buf, "/", None, "disconnect", &())
        .is_ok());
    assert_eq!(
        enc.event(&mut buf, "admin", None, "x", &()).unwrap_err(),
        Error::InvalidNamespace
    );
    assert_eq!(
        enc.event(&mut buf, "/a,b", None, "x", &()).unwrap_err(),
        Error::InvalidNamespace
    );
    assert_eq!(
        enc.event(&mut buf, "/", Some(1 << 53), "x", &())
            .unwrap_err(),
        Error::AckIdTooLarge
    );
    let mut tiny = [0u8; 5];
    assert_eq!(
        enc.event(&mut tiny, "/", None, "message", &()).unwrap_err(),
        Error::BufferFull
    );
    // Room for the JSON but not for the attachment count.
    let mut exact = [0u8; 40];
    let text = r#"2["b",{"_placeholder":true,"num":0}]"#;
    assert_eq!(text.len(), 36);
    let mut fits = [0u8; 38];
    assert!(enc
        .event(&mut fits, "/", None, "b", &(Binary(&[1]),))
        .is_ok());
    let mut short = [0u8; 37];
    assert_eq!(
        enc.event(&mut short, "/", None, "b", &(Binary(&[1]),))
            .unwrap_err(),
        Error::BufferFull
    );
    assert!(enc
        .event(&mut exact, "/", None, "b", &(Binary(&[1]),))
        .is_ok());
}

#[test]
fn encoded_packets_decode_to_the_same_values() {
    let mut buf = [0u8; 256];
    let out = Encoder::default()
        .event(
            &mut buf,
            "/chat",
            Some(7),
            "sensor",
            &(
                Reading {
                    device: "d\"1",
                    temp_c: -3.25,
                    uptime_ms: 1,
                },
                "tail",
            ),
        )
        .unwrap();
    let text = std::str::from_utf8(&buf[..out.len]).unwrap();
    let p = Decoder::default().decode(text).unwrap();
    assert_eq!(p.namespace(), "/chat");
    assert_eq!(p.ack_id(), Some(7));
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct R {
        device: String,
        temp_c: f64,
        uptime_ms: u64,
    }
    let (r, tail): (R, String) = p.args().unwrap();
    assert_eq!(
        r,
        R {
            device: "d\"1".into(),
            temp_c: -3.25,
            uptime_ms: 1
        }
    );
    assert_eq!(tail, "tail");
}
