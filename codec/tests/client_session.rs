//! The client session against a scripted Engine.IO v4 / Socket.IO v5
//! server: exact frames in, exact frames, events and packets out, on a fake
//! clock.

mod client_support;

use client_support::*;
use oxio_codec::client::{
    AckId, Action, CancelReason, Config, DisconnectReason, EmitOptions, Error, Frame, FrameError,
    Incoming, OfflinePolicy, Session, NO_AUTH,
};
use oxio_codec::socketio::Binary;
use oxio_codec::{engineio, socketio, Instant};
use serde_json::json;
use DisconnectReason::*;

#[derive(serde::Serialize)]
struct Auth<'a> {
    token: &'a str,
}

const TOKEN: Auth<'static> = Auth { token: "123" };

/// A session joined to `/` (sid `s1`), events drained.
fn connected_root() -> Harness {
    let mut h: Harness = Harness::new(Config::default());
    h.s.connect("/", NO_AUTH).unwrap();
    h.open();
    assert_eq!(h.sent(), [t("40")]);
    assert_eq!(h.text(r#"40{"sid":"s1"}"#), Ok(In::Nothing));
    assert_eq!(h.events(), [connected("/", "s1")]);
    h
}

/// A session joined to `/` (sid `s1`) and `/admin` with auth (sid `s2`).
fn connected_two() -> Harness {
    let mut h: Harness = Harness::new(Config::default());
    h.s.connect("/", NO_AUTH).unwrap();
    h.s.connect("/admin", Some(&TOKEN)).unwrap();
    h.open();
    assert_eq!(h.sent(), [t("40"), t(r#"40/admin,{"token":"123"}"#)]);
    h.text(r#"40{"sid":"s1"}"#).unwrap();
    h.text(r#"40/admin,{"sid":"s2"}"#).unwrap();
    assert_eq!(
        h.events(),
        [connected("/", "s1"), connected("/admin", "s2")]
    );
    h
}

fn emit(h: &mut Harness, ns: &str, event: &str, opts: EmitOptions) -> Result<Option<AckId>, Error> {
    let now = h.now;
    h.s.emit(ns, event, &(), opts, now)
}

#[test]
fn handshake_then_several_namespaces_with_auth() {
    let mut h: Harness = Harness::new(Config::default());
    h.s.connect("/", NO_AUTH).unwrap();
    h.s.connect("/admin", Some(&TOKEN)).unwrap();
    assert!(h.sent().is_empty(), "nothing goes out before the handshake");
    assert_eq!(h.open(), "/socket.io/?EIO=4&transport=websocket");
    assert_eq!(h.s.engine_sid(), Some("eio1"));
    assert_eq!(h.sent(), [t("40"), t(r#"40/admin,{"token":"123"}"#)]);
    assert_eq!(h.text(r#"40/admin,{"sid":"s2"}"#), Ok(In::Nothing));
    assert_eq!(h.text(r#"40{"sid":"s1","pid":"p"}"#), Ok(In::Nothing));
    assert_eq!(
        h.events(),
        [connected("/admin", "s2"), connected("/", "s1")]
    );
    assert!(h.s.is_connected("/") && h.s.is_connected("/admin"));
    assert_eq!(h.s.sid("/admin"), Some("s2"));
    assert_eq!(h.s.sid("/nope"), None);
    // A namespace joined while open goes out at once.
    h.s.connect("/late", NO_AUTH).unwrap();
    assert_eq!(h.sent(), [t("40/late,")]);
}

#[test]
fn config_path_and_query_make_the_url() {
    let config = Config {
        path: "/engine/",
        query: "token=abc",
        ..Config::default()
    };
    let mut h: Harness = Harness::new(config);
    h.s.connect("/", NO_AUTH).unwrap();
    assert_eq!(h.open(), "/engine/?EIO=4&transport=websocket&token=abc");
}

#[test]
fn events_and_acks_both_ways() {
    let mut h = connected_two();
    let now = h.now;
    let id = h.s.emit(
        "/",
        "message",
        &(1, "2", json!({"3": [true]})),
        EmitOptions::default(),
        now,
    );
    assert_eq!(id, Ok(None));
    let id = h.s.emit(
        "/admin",
        "question",
        &("why",),
        EmitOptions::with_ack(5000),
        now,
    );
    assert_eq!(id, Ok(Some(AckId(0))));
    let id2 =
        h.s.emit("/", "again", &(), EmitOptions::with_ack(5000), now);
    assert_eq!(id2, Ok(Some(AckId(1))));
    assert_eq!(
        h.sent(),
        [
            t(r#"42["message",1,"2",{"3":[true]}]"#),
            t(r#"42/admin,0["question","why"]"#),
            t(r#"421["again"]"#),
        ]
    );
    // Acks: matched by namespace and id, once.
    assert_eq!(h.text(r#"430["wrong namespace"]"#), Ok(In::Nothing));
    assert_eq!(
        h.text(r#"43/admin,0["because"]"#),
        Ok(ack("/admin", 0, r#"["because"]"#))
    );
    assert_eq!(h.text(r#"43/admin,0["twice"]"#), Ok(In::Nothing));
    assert_eq!(h.text(r#"437[]"#), Ok(In::Nothing));
    assert_eq!(h.text(r#"431[]"#), Ok(ack("/", 1, "[]")));
    assert_eq!(h.s.pending_acks(), 0);
    // Server events, with and without an ack request.
    assert_eq!(
        h.text(r#"42["news",{"a":1}]"#),
        Ok(event("/", r#"["news",{"a":1}]"#, None))
    );
    assert_eq!(
        h.text(r#"42/admin,12["add",1,2]"#),
        Ok(event("/admin", r#"["add",1,2]"#, Some(12)))
    );
    let request = h.last_ack.unwrap();
    h.s.ack(request, &(3,)).unwrap();
    h.s.ack(request, &json!({"sum": 3})).unwrap();
    assert_eq!(
        h.sent(),
        [t("43/admin,12[3]"), t(r#"43/admin,12[{"sum":3}]"#)]
    );
    assert!(h.events().is_empty());
}

#[test]
fn text_events_are_borrowed_from_the_frame() {
    #[derive(serde::Deserialize)]
    struct Msg<'a> {
        text: &'a str,
    }
    let mut h = connected_root();
    let frame = String::from(r#"42["msg",{"text":"hi"}]"#);
    let now = h.now;
    match h.s.handle_frame(Frame::Text(&frame), now).unwrap() {
        Some(Incoming::Event { packet, ack: None }) => {
            assert!(packet.event_name().unwrap() == "msg");
            let (msg,): (Msg,) = packet.args().unwrap();
            assert_eq!(msg.text, "hi");
            let offset = frame.find("hi").unwrap();
            assert_eq!(msg.text.as_ptr(), frame[offset..].as_ptr(), "not copied");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn packets_for_other_namespaces_are_ignored() {
    let mut h = connected_root();
    assert_eq!(h.text(r#"42/other,["x"]"#), Ok(In::Nothing));
    assert_eq!(h.text(r#"40/other,{"sid":"z"}"#), Ok(In::Nothing));
    assert_eq!(h.text(r#"41/other,"#), Ok(In::Nothing));
    assert_eq!(h.text(r#"44/other,{"message":"no"}"#), Ok(In::Nothing));
    assert_eq!(
        h.text(r#"40{"sid":"again"}"#),
        Ok(In::Nothing),
        "a duplicate answer"
    );
    assert!(h.events().is_empty());
    assert_eq!(h.s.sid("/"), Some("s1"));
}

#[test]
fn binary_attachments_both_ways() {
    let mut h = connected_root();
    let now = h.now;
    // Out: text, then each attachment as a binary frame.
    h.s.emit(
        "/",
        "up",
        &("a", Binary(&[1, 2, 3]), Binary(&[])),
        EmitOptions::default(),
        now,
    )
    .unwrap();
    assert_eq!(
        h.sent(),
        [
            t(r#"452-["up","a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#),
            b(&[1, 2, 3]),
            b(&[]),
        ]
    );
    // In: the text waits for its attachments (a ping in between is fine).
    let header = r#"452-["file",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#;
    assert_eq!(h.text(header), Ok(In::Nothing));
    assert_eq!(h.text("2"), Ok(In::Nothing));
    assert_eq!(h.bin(&[1]), Ok(In::Nothing));
    let now = h.now;
    match h.s.handle_frame(Frame::Binary(&[2, 3]), now).unwrap() {
        Some(Incoming::Event { packet, ack: None }) => {
            let (a, b): (Binary, Binary) = packet.args().unwrap();
            assert_eq!((a.0, b.0), (&[1u8][..], &[2u8, 3][..]));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(h.sent(), [t("3")]);
    // A binary event with an ack request, answered with bytes.
    assert_eq!(
        h.text(r#"451-5["q",{"_placeholder":true,"num":0}]"#),
        Ok(In::Nothing)
    );
    assert_eq!(
        h.bin(&[4]),
        Ok(In::Event {
            ns: "/".into(),
            payload: r#"["q",{"_placeholder":true,"num":0}]"#.into(),
            ack: Some(5),
            attachments: vec![vec![4]],
        })
    );
    let request = h.last_ack.unwrap();
    h.s.ack(request, &(Binary(&[9, 9]),)).unwrap();
    assert_eq!(
        h.sent(),
        [t(r#"461-5[{"_placeholder":true,"num":0}]"#), b(&[9, 9])]
    );
    // A binary ack for one of our emits.
    let now = h.now;
    let id =
        h.s.emit("/", "get", &(), EmitOptions::with_ack(1000), now)
            .unwrap();
    assert_eq!(id, Some(AckId(0)));
    assert_eq!(h.sent(), [t(r#"420["get"]"#)]);
    assert_eq!(
        h.text(r#"461-0[{"_placeholder":true,"num":0}]"#),
        Ok(In::Nothing)
    );
    assert_eq!(
        h.bin(&[7, 7, 7]),
        Ok(In::Ack {
            ns: "/".into(),
            id: 0,
            payload: r#"[{"_placeholder":true,"num":0}]"#.into(),
            attachments: vec![vec![7, 7, 7]],
        })
    );
}

#[test]
fn a_pong_may_pass_between_an_emit_and_its_attachments() {
    let mut h = connected_root();
    let now = h.now;
    h.s.emit(
        "/",
        "up",
        &(Binary(&[1]), Binary(&[2])),
        EmitOptions::default(),
        now,
    )
    .unwrap();
    let mut buf = [0u8; 128];
    let first = h.s.poll_transmit(&mut buf, now).unwrap();
    assert_eq!(
        &buf[..first.len],
        br#"452-["up",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#
    );
    h.text("2").unwrap();
    h.s.connect("/late", NO_AUTH).unwrap();
    // The pong goes first; the CONNECT of /late waits for the attachments.
    assert_eq!(h.sent(), [t("3"), b(&[1]), b(&[2]), t("40/late,")]);
}

#[test]
fn ack_timeout_is_reported_and_the_unsent_emit_removed() {
    let mut h: Harness = Harness::new(Config::default());
    h.s.connect("/", NO_AUTH).unwrap();
    let id = emit(&mut h, "/", "slow", EmitOptions::with_ack(1000)).unwrap();
    assert_eq!(id, Some(AckId(0)));
    assert_eq!(h.s.poll_timeout(), Some(Instant::from_millis(1000)));
    h.advance(999);
    assert!(h.events().is_empty());
    h.advance(1);
    assert_eq!(h.events(), [Ev::AckTimeout("/".into(), 0)]);
    assert_eq!(h.s.pending_acks(), 0);
    h.open();
    assert_eq!(h.sent(), [t("40")], "the timed-out emit is not sent");
    h.text(r#"40{"sid":"s1"}"#).unwrap();
    assert_eq!(h.sent(), []);
    // A sent emit times out too, and its late answer is ignored.
    let id = emit(&mut h, "/", "slow", EmitOptions::with_ack(10)).unwrap();
    assert_eq!(id, Some(AckId(1)));
    assert_eq!(h.sent(), [t(r#"421["slow"]"#)]);
    h.advance(10);
    assert_eq!(
        h.events(),
        [connected("/", "s1"), Ev::AckTimeout("/".into(), 1)]
    );
    assert_eq!(h.text("431[]"), Ok(In::Nothing));
}

#[test]
fn connect_error_abandons_the_namespace() {
    let mut h: Harness = Harness::new(Config::default());
    h.s.connect("/", NO_AUTH).unwrap();
    h.s.connect("/admin", NO_AUTH).unwrap();
    let id = emit(&mut h, "/admin", "hi", EmitOptions::with_ack(60_000)).unwrap();
    h.open();
    assert_eq!(h.sent(), [t("40"), t("40/admin,")]);
    let refusal = r#"44/admin,{"message":"not authorized","data":{"content":"retry later"}}"#;
    assert_eq!(h.text(refusal), Ok(In::Nothing));
    assert_eq!(
        h.events(),
        [
            Ev::ConnectError("/admin".into(), "not authorized".into()),
            Ev::AckCancelled("/admin".into(), id.unwrap().0, CancelReason::Dropped),
        ]
    );
    assert_eq!(
        emit(&mut h, "/admin", "hi", EmitOptions::default()),
        Err(Error::UnknownNamespace)
    );
    h.text(r#"40{"sid":"s1"}"#).unwrap();
    assert_eq!(h.sent(), [], "the buffered emit of /admin is gone");
    // Not rejoined after a reconnection...
    h.drop_transport();
    h.skip_to_deadline();
    h.open();
    assert_eq!(h.sent(), [t("40")]);
    // ...but the application may try again.
    h.s.connect("/admin", NO_AUTH).unwrap();
    assert_eq!(h.sent(), [t("40/admin,")]);
    h.text(r#"44/admin,{"message":"Invalid namespace"}"#)
        .unwrap();
    assert_eq!(
        h.events().last(),
        Some(&Ev::ConnectError(
            "/admin".into(),
            "Invalid namespace".into()
        ))
    );
}

#[test]
fn a_connect_answer_without_sid_is_a_connect_error() {
    let mut h: Harness = Harness::new(Config::default());
    h.s.connect("/admin", NO_AUTH).unwrap();
    h.open();
    assert_eq!(h.sent(), [t("40/admin,")]);
    assert_eq!(h.text("40/admin,"), Ok(In::Nothing));
    assert_eq!(
        h.events(),
        [Ev::ConnectError(
            "/admin".into(),
            "CONNECT answer without a sid (v2 server?)".into()
        )]
    );
    // No namespace left: the transport is closed, not reconnected.
    assert_eq!(h.action(), Some(Action::Close));
    assert!(h.drop_transport().is_empty());
    assert_eq!(h.action(), None);
}

#[test]
fn server_disconnect_is_not_rejoined() {
    let mut h = connected_two();
    let id = emit(&mut h, "/admin", "q", EmitOptions::with_ack(60_000))
        .unwrap()
        .unwrap();
    assert_eq!(h.sent(), [t(r#"42/admin,0["q"]"#)]);
    assert_eq!(h.text("41/admin,"), Ok(In::Nothing));
    assert_eq!(
        h.events(),
        [
            disconnected("/admin", ServerDisconnect),
            Ev::AckCancelled("/admin".into(), id.0, CancelReason::Disconnected),
        ]
    );
    assert_eq!(h.text(r#"42/admin,["late"]"#), Ok(In::Nothing));
    assert_eq!(h.action(), None, "/ is still joined");
    assert_eq!(
        h.drop_transport(),
        [disconnected("/", TransportClose), Ev::Reconnecting(1, 1000)]
    );
    h.skip_to_deadline();
    h.open();
    assert_eq!(h.sent(), [t("40")]);
}

#[test]
fn server_disconnect_of_the_last_namespace_closes_the_transport() {
    let mut h = connected_root();
    h.text("41").unwrap();
    assert_eq!(h.events(), [disconnected("/", ServerDisconnect)]);
    assert_eq!(h.action(), Some(Action::Close));
    assert_eq!(h.action(), None);
    assert!(h.drop_transport().is_empty(), "no reconnection");
    assert_eq!(h.s.poll_timeout(), None);
    // Joining again starts a fresh connection at once.
    h.s.connect("/", NO_AUTH).unwrap();
    assert!(matches!(h.action(), Some(Action::Connect(_))));
}

#[test]
fn v4_heartbeat_answers_pings_and_loses_a_silent_server() {
    let mut h = connected_root();
    assert_eq!(h.s.poll_timeout(), Some(Instant::from_millis(45_000)));
    h.advance(25_000);
    assert_eq!(h.text("2"), Ok(In::Nothing));
    assert_eq!(h.text("2"), Ok(In::Nothing));
    assert_eq!(
        h.sent(),
        [t("3")],
        "pings not yet answered are answered once"
    );
    assert_eq!(h.s.poll_timeout(), Some(Instant::from_millis(70_000)));
    // Any frame is proof of life.
    h.advance(40_000);
    h.text(r#"42["tick"]"#).unwrap();
    h.advance(44_999);
    assert!(h.events().is_empty());
    h.advance(1);
    assert_eq!(h.events(), [Ev::ServerLost, disconnected("/", PingTimeout)]);
    assert!(!h.s.is_open());
    assert_eq!(h.sent(), []);
    assert_eq!(h.action(), Some(Action::Close));
    assert_eq!(h.drop_transport(), [Ev::Reconnecting(1, 1000)]);
}

#[test]
fn reconnection_backs_off_exponentially_and_resets_on_open() {
    let mut h = connected_root();
    let mut delays = vec![];
    for ev in h.drop_transport() {
        if let Ev::Reconnecting(n, d) = ev {
            delays.push((n, d));
        }
    }
    for _ in 0..5 {
        let before = h.now;
        assert_eq!(
            h.skip_to_deadline().as_millis() - before.as_millis(),
            u64::from(delays.last().unwrap().1)
        );
        assert!(matches!(h.action(), Some(Action::Connect(_))));
        match h.drop_transport().as_slice() {
            [Ev::Reconnecting(n, d)] => delays.push((*n, *d)),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        delays,
        [
            (1, 1000),
            (2, 2000),
            (3, 4000),
            (4, 5000),
            (5, 5000),
            (6, 5000)
        ]
    );
    h.skip_to_deadline();
    h.open();
    assert_eq!(h.sent(), [t("40")]);
    h.text(r#"40{"sid":"s2"}"#).unwrap();
    assert_eq!(h.events(), [connected("/", "s2")]);
    assert_eq!(
        h.drop_transport(),
        [disconnected("/", TransportClose), Ev::Reconnecting(1, 1000)]
    );
}

#[test]
fn reconnection_jitter_uses_the_random_source() {
    let mut draws = [u32::MAX, 0x4000_0000].into_iter().cycle();
    let mut s: Session<_> = Session::new(Config::default(), move || draws.next().unwrap());
    let mut now = Instant::from_millis(0);
    s.connect("/", NO_AUTH).unwrap();
    let mut seen = vec![];
    for _ in 0..2 {
        assert!(matches!(s.poll_action(now), Some(Action::Connect(_))));
        s.transport_closed(now);
        while let Some(e) = s.poll_event() {
            seen.push(Ev::from(e));
        }
        now = s.poll_timeout().unwrap();
        s.handle_timeout(now);
    }
    // rand ≈ 1: 1000 + 499; rand 0.25 on 2000: 2000 − 250 (reference Backoff).
    assert_eq!(seen, [Ev::Reconnecting(1, 1499), Ev::Reconnecting(2, 1750)]);
}

#[test]
fn backoff_delays_match_the_reference_formula() {
    let c = Config::default();
    let cases: [(u32, u32, u32); 8] = [
        (0, 0, 1000),
        (0, 1 << 31, 1250),
        (0, u32::MAX, 1499),
        (0, 0x1000_0000, 969), // rand 1/16: ⌊0.625⌋ = 0, even: 1000 − 31
        (1, 0x4000_0000, 1750),
        (2, 0, 4000),
        (3, 0, 5000),
        (u32::MAX, u32::MAX, 5000),
    ];
    for (attempt, random, want) in cases {
        assert_eq!(
            c.reconnect_delay(attempt, random),
            want,
            "attempt {attempt}, random {random:#x}"
        );
    }
    let no_jitter = Config {
        randomization_factor_permille: 0,
        reconnection_factor: 3,
        reconnection_delay_max_ms: 100_000,
        ..c
    };
    assert_eq!(no_jitter.reconnect_delay(2, u32::MAX), 9000);
    let full_jitter = Config {
        randomization_factor_permille: 5000,
        ..c
    };
    assert_eq!(full_jitter.reconnect_delay(0, u32::MAX - (1 << 28)), 1937);
}

#[test]
fn reconnect_rejoins_every_namespace_then_flushes_its_buffer_once_in_order() {
    let mut h = connected_two();
    assert_eq!(
        h.drop_transport(),
        [
            disconnected("/", TransportClose),
            disconnected("/admin", TransportClose),
            Ev::Reconnecting(1, 1000),
        ]
    );
    assert_eq!(emit(&mut h, "/", "e1", EmitOptions::default()), Ok(None));
    assert_eq!(
        emit(&mut h, "/admin", "e2", EmitOptions::default()),
        Ok(None)
    );
    assert_eq!(
        emit(&mut h, "/", "e3", EmitOptions::with_ack(60_000)),
        Ok(Some(AckId(0)))
    );
    assert_eq!(
        emit(&mut h, "/", "v", EmitOptions::VOLATILE),
        Err(Error::VolatileDropped)
    );
    h.skip_to_deadline();
    h.open();
    assert_eq!(h.sent(), [t("40"), t(r#"40/admin,{"token":"123"}"#)]);
    h.text(r#"40{"sid":"s3"}"#).unwrap();
    assert_eq!(h.sent(), [t(r#"42["e1"]"#), t(r#"420["e3"]"#)]);
    h.text(r#"40/admin,{"sid":"s4"}"#).unwrap();
    assert_eq!(h.sent(), [t(r#"42/admin,["e2"]"#)]);
    assert_eq!(h.sent(), []);
    assert_eq!(
        h.events(),
        [connected("/", "s3"), connected("/admin", "s4")]
    );
    assert_eq!(h.text(r#"430["ok"]"#), Ok(ack("/", 0, r#"["ok"]"#)));
}

#[test]
fn emits_queued_but_unsent_survive_a_loss_and_sent_ones_fail() {
    let mut h = connected_root();
    let sent_id = emit(&mut h, "/", "a", EmitOptions::with_ack(60_000))
        .unwrap()
        .unwrap();
    assert_eq!(h.sent(), [t(r#"420["a"]"#)]);
    let queued_id = emit(&mut h, "/", "b", EmitOptions::with_ack(60_000))
        .unwrap()
        .unwrap();
    assert_eq!(emit(&mut h, "/", "v", EmitOptions::VOLATILE), Ok(None));
    // Lost before "b" and "v" went out: "b" keeps waiting (the reference
    // `_clearAcks` skips buffered packets), "a" fails, "v" is dropped.
    assert_eq!(
        h.drop_transport(),
        [
            disconnected("/", TransportClose),
            Ev::Reconnecting(1, 1000),
            Ev::AckCancelled("/".into(), sent_id.0, CancelReason::Disconnected),
        ]
    );
    assert_eq!(h.s.pending_acks(), 1);
    h.skip_to_deadline();
    h.open();
    assert_eq!(h.sent(), [t("40")]);
    h.text(r#"40{"sid":"s2"}"#).unwrap();
    assert_eq!(h.sent(), [t(r#"421["b"]"#)]);
    assert_eq!(h.text("431[]"), Ok(ack("/", queued_id.0, "[]")));
}

#[test]
fn a_binary_emit_cut_by_a_loss_is_sent_again_whole() {
    let mut h = connected_root();
    let now = h.now;
    h.s.emit(
        "/",
        "up",
        &(Binary(&[1]), Binary(&[2])),
        EmitOptions::default(),
        now,
    )
    .unwrap();
    let mut buf = [0u8; 128];
    assert!(h.s.poll_transmit(&mut buf, now).is_some()); // the text only
    h.drop_transport();
    h.skip_to_deadline();
    h.open();
    assert_eq!(h.sent(), [t("40")]);
    h.text(r#"40{"sid":"s2"}"#).unwrap();
    assert_eq!(
        h.sent(),
        [
            t(r#"452-["up",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#),
            b(&[1]),
            b(&[2]),
        ]
    );
}

#[test]
fn ack_requests_die_with_their_connection() {
    let mut h = connected_root();
    h.text(r#"425["q"]"#).unwrap();
    let request = h.last_ack.unwrap();
    assert_eq!(request.id(), 5);
    h.drop_transport();
    assert_eq!(h.s.ack(request, &()), Err(Error::NotConnected));
    h.skip_to_deadline();
    h.open();
    assert_eq!(h.sent(), [t("40")]);
    h.text(r#"40{"sid":"s2"}"#).unwrap();
    assert_eq!(h.s.ack(request, &()), Err(Error::StaleAck));
    assert_eq!(h.sent(), []);
}

#[test]
fn client_disconnect_flushes_then_leaves_and_the_last_one_closes() {
    let mut h = connected_two();
    emit(&mut h, "/admin", "bye", EmitOptions::default()).unwrap();
    let id = emit(&mut h, "/admin", "q", EmitOptions::with_ack(60_000))
        .unwrap()
        .unwrap();
    h.s.disconnect("/admin").unwrap();
    assert_eq!(
        h.events(),
        [
            disconnected("/admin", ClientDisconnect),
            Ev::AckCancelled("/admin".into(), id.0, CancelReason::Disconnected),
        ]
    );
    assert_eq!(
        emit(&mut h, "/admin", "x", EmitOptions::default()),
        Err(Error::UnknownNamespace)
    );
    assert_eq!(
        h.sent(),
        [
            t(r#"42/admin,["bye"]"#),
            t(r#"42/admin,0["q"]"#),
            t("41/admin,")
        ]
    );
    assert_eq!(h.action(), None);
    h.s.disconnect("/").unwrap();
    assert_eq!(h.action(), None, "the DISCONNECT goes out first");
    assert_eq!(h.sent(), [t("41")]);
    assert_eq!(h.events(), [disconnected("/", ClientDisconnect)]);
    assert_eq!(h.action(), Some(Action::Close));
    assert!(h.drop_transport().is_empty());
    assert_eq!(h.action(), None);
    assert_eq!(h.s.queued_bytes(), 0);
}

#[test]
fn leaving_a_namespace_not_yet_joined_sends_nothing() {
    let mut h: Harness = Harness::new(Config::default());
    h.s.connect("/", NO_AUTH).unwrap();
    h.s.connect("/admin", NO_AUTH).unwrap();
    h.open();
    assert_eq!(h.sent(), [t("40"), t("40/admin,")]);
    h.s.disconnect("/admin").unwrap();
    assert_eq!(h.sent(), []);
    assert!(h.events().is_empty());
    assert_eq!(h.text(r#"40/admin,{"sid":"late"}"#), Ok(In::Nothing));
    assert!(h.events().is_empty());
}

#[test]
fn reconnection_gives_up_after_the_configured_attempts() {
    let config = Config {
        reconnection_attempts: Some(2),
        ..Config::default()
    };
    let mut h: Harness = Harness::new(config);
    h.s.connect("/", NO_AUTH).unwrap();
    let id = emit(&mut h, "/", "e", EmitOptions::with_ack(u64::MAX))
        .unwrap()
        .unwrap();
    assert!(matches!(h.action(), Some(Action::Connect(_))));
    assert_eq!(h.drop_transport(), [Ev::Reconnecting(1, 1000)]);
    h.skip_to_deadline();
    h.action();
    assert_eq!(h.drop_transport(), [Ev::Reconnecting(2, 2000)]);
    h.skip_to_deadline();
    h.action();
    assert_eq!(
        h.drop_transport(),
        [
            Ev::ReconnectFailed,
            Ev::AckCancelled("/".into(), id.0, CancelReason::Dropped)
        ]
    );
    assert_eq!(h.action(), None);
    assert_eq!(h.s.poll_timeout(), None);
    assert_eq!(h.s.queued_bytes(), 0);
    assert_eq!(
        emit(&mut h, "/", "e", EmitOptions::default()),
        Err(Error::UnknownNamespace)
    );
    h.s.connect("/", NO_AUTH).unwrap();
    assert!(matches!(h.action(), Some(Action::Connect(_))));
}

#[test]
fn reconnection_can_be_turned_off() {
    let config = Config {
        reconnection_attempts: Some(0),
        ..Config::default()
    };
    let mut h: Harness = Harness::new(config);
    h.s.connect("/", NO_AUTH).unwrap();
    h.open();
    h.text(r#"40{"sid":"s1"}"#).unwrap();
    h.events();
    assert_eq!(
        h.drop_transport(),
        [disconnected("/", TransportClose), Ev::ReconnectFailed]
    );
    assert_eq!(h.action(), None);
}

#[test]
fn connection_attempts_time_out() {
    let mut h: Harness = Harness::new(Config::default());
    h.s.connect("/", NO_AUTH).unwrap();
    assert!(matches!(h.action(), Some(Action::Connect(_))));
    assert_eq!(h.s.poll_timeout(), Some(Instant::from_millis(20_000)));
    h.advance(20_000);
    assert_eq!(h.action(), Some(Action::Close));
    assert_eq!(h.drop_transport(), [Ev::Reconnecting(1, 1000)]);
    // The handshake is covered by the same timeout.
    h.skip_to_deadline();
    h.action();
    h.s.transport_opened(h.now);
    h.advance(19_999);
    assert_eq!(h.action(), None);
    h.advance(1);
    assert_eq!(h.action(), Some(Action::Close));
}

#[test]
fn offline_policy_error_refuses_when_full() {
    let config = Config::default();
    let mut h: Harness<4, 8, 128> = Harness::new(config);
    h.s.connect("/", NO_AUTH).unwrap(); // its CONNECT takes 18 bytes
    for i in 0..4 {
        assert_eq!(emit_n(&mut h, i, None), Ok(None));
    }
    assert_eq!(emit_n(&mut h, 4, None), Err(Error::QueueFull));
    h.open();
    assert_eq!(h.sent(), [t("40")]);
    h.text(r#"40{"sid":"s1"}"#).unwrap();
    assert_eq!(
        h.sent(),
        [
            t(r#"42["e0"]"#),
            t(r#"42["e1"]"#),
            t(r#"42["e2"]"#),
            t(r#"42["e3"]"#)
        ]
    );
}

fn emit_n<const Q: usize>(
    h: &mut Harness<4, 8, Q>,
    i: u32,
    ack: Option<u64>,
) -> Result<Option<AckId>, Error> {
    let now = h.now;
    let opts = EmitOptions {
        volatile: false,
        ack,
    };
    h.s.emit("/", &format!("e{i}"), &(), opts, now)
}

#[test]
fn offline_policy_drop_oldest_evicts_and_cancels() {
    let config = Config {
        offline_policy: OfflinePolicy::DropOldest,
        ..Config::default()
    };
    let mut h: Harness<4, 8, 128> = Harness::new(config);
    h.s.connect("/", NO_AUTH).unwrap();
    assert_eq!(emit_n(&mut h, 0, Some(60_000)), Ok(Some(AckId(0))));
    for i in 1..4 {
        emit_n(&mut h, i, None).unwrap();
    }
    assert_eq!(emit_n(&mut h, 4, None), Ok(None));
    assert_eq!(
        h.events(),
        [Ev::AckCancelled("/".into(), 0, CancelReason::Dropped)]
    );
    h.open();
    assert_eq!(h.sent(), [t("40")]);
    h.text(r#"40{"sid":"s1"}"#).unwrap();
    assert_eq!(
        h.sent(),
        [
            t(r#"42["e1"]"#),
            t(r#"42["e2"]"#),
            t(r#"42["e3"]"#),
            t(r#"42["e4"]"#)
        ]
    );
}

#[test]
fn offline_policy_drop_newest_discards_silently() {
    let config = Config {
        offline_policy: OfflinePolicy::DropNewest,
        ..Config::default()
    };
    let mut h: Harness<4, 8, 128> = Harness::new(config);
    h.s.connect("/", NO_AUTH).unwrap();
    for i in 0..4 {
        emit_n(&mut h, i, None).unwrap();
    }
    let before = h.s.queued_bytes();
    assert_eq!(emit_n(&mut h, 4, Some(1000)), Ok(None));
    assert_eq!(h.s.queued_bytes(), before);
    assert_eq!(h.s.pending_acks(), 0);
    h.open();
    assert_eq!(h.sent(), [t("40")]);
    h.text(r#"40{"sid":"s1"}"#).unwrap();
    assert_eq!(h.sent().len(), 4);
}

#[test]
fn a_full_queue_while_connected_is_backpressure() {
    let config = Config {
        offline_policy: OfflinePolicy::DropOldest,
        ..Config::default()
    };
    let mut h: Harness<4, 8, 128> = Harness::new(config);
    h.s.connect("/", NO_AUTH).unwrap();
    h.open();
    h.sent();
    h.text(r#"40{"sid":"s1"}"#).unwrap();
    for i in 0..4 {
        emit_n(&mut h, i, None).unwrap();
    }
    assert_eq!(
        emit_n(&mut h, 4, None),
        Err(Error::QueueFull),
        "nothing is evicted while connected"
    );
    assert_eq!(h.sent().len(), 4);
    assert_eq!(emit_n(&mut h, 4, None), Ok(None));
}

#[test]
fn volatile_emits_go_out_only_while_connected() {
    let mut h = connected_root();
    assert_eq!(emit(&mut h, "/", "v", EmitOptions::VOLATILE), Ok(None));
    assert_eq!(h.sent(), [t(r#"42["v"]"#)]);
    h.drop_transport();
    assert_eq!(
        emit(&mut h, "/", "v", EmitOptions::VOLATILE),
        Err(Error::VolatileDropped)
    );
}

#[test]
fn calls_are_checked() {
    let mut h: Harness<2, 1> = Harness::new(Config {
        max_frame_len: 32,
        ..Config::default()
    });
    for bad in [
        "admin",
        "/a,b",
        "/a?b",
        "/0123456789012345678901234567890123",
    ] {
        assert_eq!(
            h.s.connect(bad, NO_AUTH),
            Err(Error::InvalidNamespace),
            "{bad}"
        );
    }
    h.s.connect("/", NO_AUTH).unwrap();
    assert_eq!(h.s.connect("/", NO_AUTH), Err(Error::AlreadyConnected));
    assert_eq!(h.s.connect("/x", Some(&5)), Err(Error::InvalidAuth));
    assert_eq!(h.s.connect("/x", Some(&[1, 2])), Err(Error::InvalidAuth));
    h.s.connect("/x", NO_AUTH).unwrap();
    assert_eq!(h.s.connect("/y", NO_AUTH), Err(Error::TooManyNamespaces));
    let now = h.now;
    let none = EmitOptions::default();
    assert_eq!(
        h.s.emit("/nope", "e", &(), none, now),
        Err(Error::UnknownNamespace)
    );
    assert_eq!(
        h.s.emit("/", "disconnect", &(), none, now),
        Err(Error::Encode(socketio::Error::ReservedEventName))
    );
    assert_eq!(
        h.s.emit("/", "a", &(), EmitOptions::with_ack(1), now),
        Ok(Some(AckId(0)))
    );
    assert_eq!(
        h.s.emit("/", "b", &(), EmitOptions::with_ack(1), now),
        Err(Error::TooManyPendingAcks)
    );
    assert_eq!(
        h.s.emit("/", "a-name-longer-than-the-frame-limit", &(), none, now),
        Err(Error::TooLarge)
    );
    assert_eq!(
        h.s.emit("/", "e", &(Binary(&[0; 33]),), none, now),
        Err(Error::TooLarge)
    );
    let eleven = [Binary(&[1]); 11];
    assert_eq!(h.s.emit("/", "e", &eleven, none, now), Err(Error::TooLarge));
    assert_eq!(h.s.disconnect("/nope"), Err(Error::UnknownNamespace));
    assert_eq!(
        h.s.queued_bytes(),
        18 + 21 + 24,
        "two CONNECTs and one emit, nothing else"
    );
}

#[test]
fn a_namespace_slot_is_reused_only_once_its_events_are_read() {
    let mut h: Harness<1> = Harness::new(Config::default());
    h.s.connect("/a", NO_AUTH).unwrap();
    h.open();
    h.sent();
    h.text(r#"44/a,{"message":"no"}"#).unwrap();
    assert_eq!(h.s.connect("/b", NO_AUTH), Err(Error::TooManyNamespaces));
    assert_eq!(h.events(), [Ev::ConnectError("/a".into(), "no".into())]);
    h.s.connect("/b", NO_AUTH).unwrap();
    assert_eq!(h.sent(), [t("40/b,")]);
}

#[test]
fn protocol_errors_close_and_reconnect() {
    let mut h = connected_root();
    assert_eq!(
        h.text("9"),
        Err(FrameError::EngineIo(engineio::Error::UnknownPacketType(
            b'9'
        )))
    );
    assert_eq!(h.events(), [disconnected("/", ParseError)]);
    assert_eq!(h.action(), Some(Action::Close));
    assert_eq!(
        h.text(r#"42["after close"]"#),
        Ok(In::Nothing),
        "late frames are ignored"
    );
    assert_eq!(h.drop_transport(), [Ev::Reconnecting(1, 1000)]);
    // A Socket.IO error and an Engine.IO close packet.
    h.skip_to_deadline();
    h.open();
    h.text(r#"40{"sid":"s2"}"#).unwrap();
    assert!(matches!(h.text("4{"), Err(FrameError::SocketIo(_))));
    h.drop_transport();
    h.skip_to_deadline();
    h.open();
    h.text(r#"40{"sid":"s3"}"#).unwrap();
    h.events();
    assert_eq!(h.text("1"), Ok(In::Nothing));
    assert_eq!(h.events(), [disconnected("/", TransportClose)]);
    assert_eq!(h.action(), Some(Action::Close));
}

#[test]
fn a_frame_before_transport_opened_counts_as_open() {
    let mut h: Harness = Harness::new(Config::default());
    h.s.connect("/", NO_AUTH).unwrap();
    assert!(matches!(h.action(), Some(Action::Connect(_))));
    assert_eq!(h.text(OPEN), Ok(In::Nothing));
    assert!(h.s.is_open());
    h.s.transport_opened(h.now); // late, harmless
    assert_eq!(h.sent(), [t("40")]);
}

#[test]
fn the_handshake_must_come_first() {
    let mut h: Harness = Harness::new(Config::default());
    h.s.connect("/", NO_AUTH).unwrap();
    assert_eq!(
        h.text(OPEN),
        Ok(In::Nothing),
        "no transport asked for: ignored"
    );
    h.action();
    h.s.transport_opened(h.now);
    assert_eq!(h.text(r#"40{"sid":"x"}"#), Err(FrameError::Unexpected));
    assert_eq!(h.action(), Some(Action::Close));
    assert_eq!(h.drop_transport(), [Ev::Reconnecting(1, 1000)]);
    h.skip_to_deadline();
    h.action();
    h.s.transport_opened(h.now);
    assert!(matches!(
        h.text(r#"0{"sid":"x"}"#),
        Err(FrameError::EngineIo(_))
    ));
    h.drop_transport();
    h.skip_to_deadline();
    h.action();
    h.s.transport_opened(h.now);
    assert_eq!(h.bin(&[1]), Err(FrameError::Unexpected));
    h.drop_transport();
    h.skip_to_deadline();
    h.action();
    h.s.transport_opened(h.now);
    let long_sid = format!(
        r#"0{{"sid":"{}","upgrades":[],"pingInterval":1,"pingTimeout":1}}"#,
        "x".repeat(65)
    );
    assert_eq!(h.text(&long_sid), Err(FrameError::SidTooLong));
}

#[test]
fn undrained_events_keep_the_newest() {
    let mut h: Harness = Harness::new(Config::default());
    h.s.connect("/", NO_AUTH).unwrap();
    for _ in 0..17 {
        h.action();
        h.s.transport_closed(h.now);
        h.skip_to_deadline();
    }
    assert_eq!(h.s.dropped_events(), 1);
    let events = h.events();
    assert_eq!(events.len(), 16);
    assert_eq!(events.first(), Some(&Ev::Reconnecting(2, 2000)));
    assert_eq!(events.last(), Some(&Ev::Reconnecting(17, 5000)));
}

#[test]
fn ram_is_pinned() {
    // The default session: QUEUE 2048 + RX 1024 + the state. Update the
    // figures in the `Session` docs when this changes.
    let size = core::mem::size_of::<Session<fn() -> u32>>();
    // `Config::msgpack` (feature `client-msgpack`) adds a padded byte on
    // 64-bit targets (none on 32-bit: the Pico W's `Client` is unchanged).
    #[cfg(target_pointer_width = "64")]
    assert_eq!(
        size,
        if cfg!(feature = "client-msgpack") {
            4376
        } else {
            4368
        }
    );
    #[cfg(target_pointer_width = "32")]
    assert_eq!(size, 4288);
    let bare = core::mem::size_of::<Session<fn() -> u32, 4, 8, 0, 0>>();
    assert_eq!(size - bare, 2048 + 1024);
    // 16 bytes per ack slot, 138 per namespace slot (plus alignment), of
    // which 54 for connection state recovery (pid 20 + offset 32 + lengths).
    assert_eq!(
        core::mem::size_of::<Session<fn() -> u32, 4, 16>>() - size,
        8 * 16
    );
    assert_eq!(
        core::mem::size_of::<Session<fn() -> u32, 8>>() - size,
        4 * 138
    );
}

// ---------------------------------------------------------------------------
// Connection state recovery (the reference client's `_pid` / `_lastOffset`).

/// A session joined to `/` with `TOKEN` auth; the server answers with a
/// pid (`p1`), then emits three events carrying offsets.
fn recovering_root() -> Harness {
    let mut h: Harness = Harness::new(Config::default());
    h.s.connect("/", Some(&TOKEN)).unwrap();
    h.open();
    assert_eq!(h.sent(), [t(r#"40{"token":"123"}"#)]);
    assert_eq!(h.s.pid("/"), None);
    h.text(r#"40{"sid":"s1","pid":"p1"}"#).unwrap();
    assert_eq!(h.events(), [connected("/", "s1")], "a first connection");
    assert_eq!(h.s.pid("/"), Some("p1"));
    assert_eq!(h.s.recovery_offset("/"), None);
    assert_eq!(
        h.text(r#"42["news",1,"o1"]"#),
        Ok(event("/", r#"["news",1,"o1"]"#, None)),
        "the offset stays visible to the application, as in the reference"
    );
    assert_eq!(h.s.recovery_offset("/"), Some("o1"));
    h
}

/// The transport drops and comes back: returns what the session sent.
fn reconnect(h: &mut Harness) -> Vec<Out> {
    assert_eq!(
        h.drop_transport(),
        [disconnected("/", TransportClose), Ev::Reconnecting(1, 1000)]
    );
    h.skip_to_deadline();
    h.open();
    h.sent()
}

#[test]
fn recovery_pid_and_offset_go_back_in_the_connect_auth() {
    let mut h = recovering_root();
    // Which packets move the offset: an event's last element when it is a
    // string (the event name too, when it is alone)...
    h.text(r#"42["news",{"a":"x"},"o2"]"#).unwrap();
    assert_eq!(h.s.recovery_offset("/"), Some("o2"));
    h.text(r#"42["tick"]"#).unwrap();
    assert_eq!(h.s.recovery_offset("/"), Some("tick"));
    h.text(r#"42["news","o3"]"#).unwrap();
    // ...not an event with an ack id (its last argument is the callback),
    assert_eq!(
        h.text(r#"427["question","not-an-offset"]"#),
        Ok(event("/", r#"["question","not-an-offset"]"#, Some(7)))
    );
    // nor a non-string last argument,
    h.text(r#"42["n",5]"#).unwrap();
    h.text(r#"42["n","x",null]"#).unwrap();
    h.text(r#"42["n",["o9"]]"#).unwrap();
    // nor an ack for one of our emits,
    let id = emit(&mut h, "/", "q", EmitOptions::with_ack(5000)).unwrap();
    assert_eq!(h.sent(), [t(r#"420["q"]"#)]);
    assert_eq!(id, Some(AckId(0)));
    assert_eq!(
        h.text(r#"430["ack-string"]"#),
        Ok(ack("/", 0, r#"["ack-string"]"#))
    );
    // nor another namespace's event.
    h.text(r#"42/other,["e","o8"]"#).unwrap();
    assert_eq!(h.s.recovery_offset("/"), Some("o3"));

    // The reference `Object.assign({pid, offset}, auth)`.
    assert_eq!(
        reconnect(&mut h),
        [t(r#"40{"pid":"p1","offset":"o3","token":"123"}"#)]
    );
    // The server replays the missed events before its answer: they are
    // delivered (and move the offset) before the Connected event.
    assert_eq!(
        h.text(r#"42["news","while away","o4"]"#),
        Ok(event("/", r#"["news","while away","o4"]"#, None))
    );
    assert!(!h.s.is_connected("/"));
    assert!(h.events().is_empty());
    h.text(r#"40{"sid":"s1","pid":"p1"}"#).unwrap();
    assert_eq!(h.events(), [recovered("/", "s1")]);
    assert_eq!(h.s.recovery_offset("/"), Some("o4"));
    // Again, with the newest offset.
    assert_eq!(
        reconnect(&mut h),
        [t(r#"40{"pid":"p1","offset":"o4","token":"123"}"#)]
    );
}

#[test]
fn recovery_refused_gives_a_new_session_not_recovered() {
    let mut h = recovering_root();
    reconnect(&mut h);
    // A new pid: a new session (the server lost the old one).
    h.text(r#"40{"sid":"s9","pid":"p2"}"#).unwrap();
    assert_eq!(h.events(), [connected("/", "s9")]);
    assert_eq!(h.s.pid("/"), Some("p2"));
    // As the reference, the last offset stays until a new one comes.
    assert_eq!(
        reconnect(&mut h),
        [t(r#"40{"pid":"p2","offset":"o1","token":"123"}"#)]
    );
    // No pid in the answer (recovery turned off): nothing is sent back.
    h.text(r#"40{"sid":"s10"}"#).unwrap();
    assert_eq!(h.events(), [connected("/", "s10")]);
    assert_eq!(h.s.pid("/"), None);
    h.text(r#"42["news","o5"]"#).unwrap();
    assert_eq!(h.s.recovery_offset("/"), Some("o1"), "no pid, no offset");
    assert_eq!(reconnect(&mut h), [t(r#"40{"token":"123"}"#)]);
}

#[test]
fn recovery_without_a_pid_from_the_server() {
    let mut h = connected_root();
    assert_eq!(h.s.pid("/"), None);
    h.text(r#"42["news","o1"]"#).unwrap();
    assert_eq!(h.s.recovery_offset("/"), None);
    assert_eq!(reconnect(&mut h), [t("40")]);
    // Without a recovering CONNECT, an event before the answer is dropped.
    assert_eq!(h.text(r#"42["news","o2"]"#), Ok(In::Nothing));
    h.text(r#"40{"sid":"s2"}"#).unwrap();
    assert_eq!(h.events(), [connected("/", "s2")]);
    // An empty or non-string pid, or one longer than PID_CAPACITY, is none.
    for answer in [
        r#"40{"sid":"s3","pid":""}"#,
        r#"40{"sid":"s3","pid":12}"#,
        r#"40{"sid":"s3","pid":"012345678901234567890"}"#,
    ] {
        reconnect(&mut h);
        h.text(answer).unwrap();
        assert_eq!(h.events(), [connected("/", "s3")], "{answer}");
        assert_eq!(h.s.pid("/"), None, "{answer}");
    }
    // 20 characters fit (the reference's pid length).
    reconnect(&mut h);
    h.text(r#"40{"sid":"s4","pid":"01234567890123456789"}"#)
        .unwrap();
    assert_eq!(h.events(), [connected("/", "s4")]);
    assert_eq!(h.s.pid("/"), Some("01234567890123456789"));
    assert_eq!(
        reconnect(&mut h),
        [t(r#"40{"pid":"01234567890123456789"}"#)],
        "no offset received yet: only the pid (the server starts a new session)"
    );
}

#[test]
fn recovery_offset_longer_than_capacity_drops_recovery() {
    use oxio_codec::client::OFFSET_CAPACITY;
    let mut h = recovering_root();
    let fits = "o".repeat(OFFSET_CAPACITY);
    h.text(&format!(r#"42["e","{fits}"]"#)).unwrap();
    assert_eq!(h.s.recovery_offset("/"), Some(fits.as_str()));
    let long = "x".repeat(OFFSET_CAPACITY + 1);
    assert_eq!(
        h.text(&format!(r#"42["e","{long}"]"#)),
        Ok(event("/", &format!(r#"["e","{long}"]"#), None)),
        "the event itself is delivered"
    );
    assert_eq!(h.s.recovery_offset("/"), None, "dropped, not truncated");
    assert_eq!(
        reconnect(&mut h),
        [t(r#"40{"pid":"p1","token":"123"}"#)],
        "no offset: the server gives a new session instead of a wrong replay"
    );
    h.text(r#"40{"sid":"s2","pid":"p2"}"#).unwrap();
    assert_eq!(h.events(), [connected("/", "s2")]);
    // A later short offset makes recovery possible again.
    h.text(r#"42["e","o7"]"#).unwrap();
    assert_eq!(
        reconnect(&mut h),
        [t(r#"40{"pid":"p2","offset":"o7","token":"123"}"#)]
    );
}

#[test]
fn recovery_merges_with_the_user_auth_as_object_assign() {
    #[derive(serde::Serialize)]
    struct Mixed<'a> {
        offset: &'a str,
        a: u8,
        pid: &'a str,
    }
    let mut h: Harness = Harness::new(Config::default());
    h.s.connect("/", NO_AUTH).unwrap();
    h.s.connect(
        "/admin",
        Some(&Mixed {
            offset: "mine",
            a: 1,
            pid: "user",
        }),
    )
    .unwrap();
    h.s.connect("/e", Some(&json!({}))).unwrap();
    h.open();
    assert_eq!(
        h.sent(),
        [
            t("40"),
            t(r#"40/admin,{"offset":"mine","a":1,"pid":"user"}"#),
            t("40/e,{}")
        ]
    );
    h.text(r#"40{"sid":"s1","pid":"p1"}"#).unwrap();
    h.text(r#"40/admin,{"sid":"s2","pid":"p\u0032"}"#).unwrap();
    h.text(r#"40/e,{"sid":"s3","pid":"p3"}"#).unwrap();
    h.text(r#"42["e","a\"b\u00e9\n"]"#).unwrap();
    h.text(r#"42/e,["e","o3"]"#).unwrap();
    assert_eq!(h.s.pid("/admin"), Some("p2"));
    assert_eq!(h.s.recovery_offset("/"), Some("a\"bé\n"));
    h.events();
    h.s.transport_closed(h.now);
    h.skip_to_deadline();
    h.open();
    // No auth: the recovery keys alone; escapes written as JSON.stringify
    // does; the user's pid / offset win, in the reference's key order.
    assert_eq!(
        h.sent(),
        [
            t(r#"40{"pid":"p1","offset":"a\"bé\n"}"#),
            t(r#"40/admin,{"pid":"user","offset":"mine","a":1}"#),
            t(r#"40/e,{"pid":"p3","offset":"o3"}"#),
        ]
    );
}

#[test]
fn recovery_binary_events_and_replayed_ack_requests() {
    let mut h = recovering_root();
    h.text(r#"451-["photo",{"_placeholder":true,"num":0},"o2"]"#)
        .unwrap();
    h.bin(&[1, 2]).unwrap();
    assert_eq!(h.s.recovery_offset("/"), Some("o2"));
    h.text(r#"451-["photo","o9",{"_placeholder":true,"num":0}]"#)
        .unwrap();
    h.bin(&[3]).unwrap();
    h.text(r#"451-3["photo",{"_placeholder":true,"num":0},"o9"]"#)
        .unwrap();
    h.bin(&[4]).unwrap();
    assert_eq!(h.s.recovery_offset("/"), Some("o2"));
    assert_eq!(
        reconnect(&mut h),
        [t(r#"40{"pid":"p1","offset":"o2","token":"123"}"#)]
    );
    // A replayed binary event, and one asking for an ack (the reference
    // server never replays those, but the answer must reach the new
    // connection, not be refused as stale).
    h.text(r#"451-["photo",{"_placeholder":true,"num":0},"o3"]"#)
        .unwrap();
    assert_eq!(
        h.bin(&[5]),
        Ok(In::Event {
            ns: "/".into(),
            payload: r#"["photo",{"_placeholder":true,"num":0},"o3"]"#.into(),
            ack: None,
            attachments: vec![vec![5]],
        })
    );
    assert_eq!(h.text(r#"424["q"]"#), Ok(event("/", r#"["q"]"#, Some(4))));
    let request = h.last_ack.unwrap();
    assert_eq!(h.s.ack(request, &()), Err(Error::NotConnected));
    h.text(r#"40{"sid":"s1","pid":"p1"}"#).unwrap();
    assert_eq!(h.events(), [recovered("/", "s1")]);
    assert_eq!(h.s.recovery_offset("/"), Some("o3"));
    h.s.ack(request, &()).unwrap();
    assert_eq!(h.sent(), [t("434[]")]);
}

#[test]
fn recovery_state_lives_with_the_namespace_slot() {
    // The reference keeps `_pid` in its Socket object, which the manager
    // reuses for the same namespace: a namespace joined again after a
    // server DISCONNECT or a CONNECT_ERROR still sends its pid (the server
    // does not restore those sessions, so it answers with a new one).
    let mut h = recovering_root();
    h.text("41").unwrap();
    assert_eq!(h.events(), [disconnected("/", ServerDisconnect)]);
    h.s.connect("/", NO_AUTH).unwrap();
    assert_eq!(h.sent(), [t(r#"40{"pid":"p1","offset":"o1"}"#)]);
    h.text(r#"44{"message":"no"}"#).unwrap();
    h.events();
    h.s.connect("/", NO_AUTH).unwrap();
    assert_eq!(h.sent(), [t(r#"40{"pid":"p1","offset":"o1"}"#)]);
    h.text(r#"40{"sid":"s5","pid":"p5"}"#).unwrap();
    assert_eq!(h.events(), [connected("/", "s5")]);
    // Another namespace in that slot starts without.
    h.s.disconnect("/").unwrap();
    h.events();
    assert_eq!(h.sent(), [t("41")]);
    h.s.connect("/b", NO_AUTH).unwrap();
    assert_eq!(h.sent(), [t("40/b,")]);
}

#[test]
fn recovery_connect_too_large_for_the_frame_limit_goes_out_plain() {
    let config = Config {
        max_frame_len: 24,
        ..Config::default()
    };
    let mut h: Harness = Harness::new(config);
    h.s.connect("/", NO_AUTH).unwrap();
    h.open();
    assert_eq!(h.sent(), [t("40")]);
    h.text(r#"40{"sid":"s1","pid":"p1"}"#).unwrap();
    h.text(r#"42["e","o1"]"#).unwrap();
    h.events();
    h.s.transport_closed(h.now);
    h.skip_to_deadline();
    h.open();
    // `40{"pid":"p1","offset":"o1"}` is 28 bytes.
    assert_eq!(h.sent(), [t("40")]);
}
