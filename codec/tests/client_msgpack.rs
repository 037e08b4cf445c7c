//! The sans-IO client session speaking socket.io-msgpack-parser
//! (`Config::msgpack`, feature `client-msgpack`; issue 13), against a
//! scripted server, exact bytes: every packet one binary frame (CONNECT
//! with auth, events and acks with bytes inline, DISCONNECT), the
//! server's CONNECT answer (`pid: undefined`), CONNECT_ERROR, a text
//! packet refused, and connection state recovery (`pid` and the last
//! offset merged into the next CONNECT's auth, the user's keys after).
//! Run with `--features client-msgpack` (the workspace tests enable it
//! through oxio-client's dev-dependencies).
#![cfg(feature = "client-msgpack")]

mod client_support;

use client_support::*;
use oxio_codec::client::{Config, EmitOptions, FrameError, NO_AUTH};
use oxio_codec::msgpack::{Encoder, Undefined};
use oxio_codec::socketio::Binary;
use serde_json::json;

fn config() -> Config {
    Config {
        msgpack: true,
        ..Config::default()
    }
}

#[derive(serde::Serialize)]
struct Answer<'a, P> {
    sid: &'a str,
    pid: P,
}

fn answer<P: serde::Serialize>(ns: &str, sid: &str, pid: P) -> Vec<u8> {
    let mut buf = [0u8; 128];
    let n = Encoder::default()
        .connect_with(&mut buf, ns, &Answer { sid, pid })
        .unwrap();
    buf[..n].to_vec()
}

#[test]
fn connect_events_acks_and_bytes_are_binary_frames() {
    let enc = Encoder::default();
    let mut h: Harness = Harness::new(config());
    h.s.connect("/", Some(&json!({"token": "abc"}))).unwrap();
    h.open();
    let mut buf = [0u8; 64];
    let n = enc
        .connect_with(&mut buf, "/", &json!({"token": "abc"}))
        .unwrap();
    assert_eq!(h.sent(), [b(&buf[..n])]);
    assert_eq!(h.bin(&answer("/", "s1", Undefined)), Ok(In::Nothing));
    assert_eq!(h.events(), [connected("/", "s1")]);

    // Client → server, bytes inline, with an ack.
    let id =
        h.s.emit(
            "/",
            "up",
            &("t", Binary(&[1, 2])),
            EmitOptions::with_ack(5000),
            h.now,
        )
        .unwrap()
        .unwrap();
    let want = enc
        .event_to_vec("/", Some(id.0), "up", &("t", Binary(&[1, 2])))
        .unwrap();
    assert_eq!(
        want,
        b"\x84\xa4type\x02\xa4data\x93\xa2up\xa1t\xc4\x02\x01\x02\xa2id\x00\xa3nsp\xa1/"
    );
    assert_eq!(h.sent(), [b(&want)]);
    let ack_frame = enc.ack_to_vec("/", id.0, &("ok", 3)).unwrap();
    assert_eq!(h.bin(&ack_frame), Ok(ack("/", 0, r#"["ok",3]"#)));

    // Server → client with an ack id; the answer carries bytes.
    let ev = enc
        .event_to_vec("/", Some(5), "led", &(json!({"on": true}),))
        .unwrap();
    assert_eq!(
        h.bin(&ev),
        Ok(event("/", r#"["led",{"on":true}]"#, Some(5)))
    );
    let request = h.last_ack.unwrap();
    h.s.ack(request, &(Binary(&[9]),)).unwrap();
    assert_eq!(
        h.sent(),
        [b(&enc.ack_to_vec("/", 5, &(Binary(&[9]),)).unwrap())]
    );

    // A text packet is not msgpack: the link fails as a parse error.
    assert!(matches!(h.text(r#"42["x"]"#), Err(FrameError::SocketIo(_))));
}

#[test]
fn connect_error_and_disconnect() {
    let enc = Encoder::default();
    let mut h: Harness = Harness::new(config());
    h.s.connect("/", NO_AUTH).unwrap();
    h.s.connect("/admin", NO_AUTH).unwrap();
    h.open();
    let mut buf = [0u8; 64];
    let n = enc.connect(&mut buf, "/").unwrap();
    let m = enc.connect(&mut buf[n..], "/admin").unwrap();
    assert_eq!(h.sent(), [b(&buf[..n]), b(&buf[n..n + m])]);
    let n = enc
        .connect_error_with_data(&mut buf, "/admin", "not authorized", &json!({"x": 1}))
        .unwrap();
    assert_eq!(h.bin(&buf[..n]), Ok(In::Nothing));
    assert_eq!(
        h.events(),
        [Ev::ConnectError("/admin".into(), "not authorized".into())]
    );
    assert_eq!(h.bin(&answer("/", "s1", Undefined)), Ok(In::Nothing));
    assert_eq!(h.events(), [connected("/", "s1")]);
    h.s.disconnect("/").unwrap();
    let n = enc.disconnect(&mut buf, "/").unwrap();
    assert_eq!(h.sent(), [b(&buf[..n])]);
}

#[test]
fn recovery_merges_pid_and_offset_into_the_auth() {
    let enc = Encoder::default();
    let mut h: Harness = Harness::new(Config {
        reconnection_delay_ms: 100,
        randomization_factor_permille: 0,
        ..config()
    });
    h.s.connect("/", Some(&json!({"token": "abc"}))).unwrap();
    h.open();
    h.sent();
    assert_eq!(h.bin(&answer("/", "s1", "p1")), Ok(In::Nothing));
    assert_eq!(h.events(), [connected("/", "s1")]);
    // An event without ack: its last argument is the offset.
    let ev = enc.event_to_vec("/", None, "news", &(1, "off.1")).unwrap();
    assert_eq!(h.bin(&ev), Ok(event("/", r#"["news",1,"off.1"]"#, None)));
    h.drop_transport();
    h.skip_to_deadline();
    h.open();
    let mut buf = [0u8; 128];
    let n = enc
        .connect_with(
            &mut buf,
            "/",
            &json!({"pid": "p1", "offset": "off.1", "token": "abc"}),
        )
        .unwrap();
    assert_eq!(h.sent(), [b(&buf[..n])]);
    assert_eq!(h.bin(&answer("/", "s1", "p1")), Ok(In::Nothing));
    assert_eq!(h.events(), [recovered("/", "s1")]);
}
