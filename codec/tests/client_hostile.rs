//! The client session against a hostile or broken server: garbage,
//! oversized frames, binary packets whose attachments never come, floods,
//! and arbitrary sequences of frames, clock ticks and application calls
//! (proptest). Nothing panics, no bound is exceeded, every frame the
//! session sends is valid Engine.IO / Socket.IO, and timers always make
//! progress.

mod client_support;

use client_support::*;
use oxio_codec::client::{
    Action, Config, DisconnectReason, EmitOptions, Error, FrameError, FrameKind, NO_AUTH,
};
use oxio_codec::engineio::{self, Version};
use oxio_codec::socketio::{self, Binary, Decoder};
use proptest::prelude::*;
use DisconnectReason::*;

fn connected_root<const Q: usize, const R: usize>() -> Harness<4, 8, Q, R> {
    let mut h: Harness<4, 8, Q, R> = Harness::new(Config::default());
    h.s.connect("/", NO_AUTH).unwrap();
    h.open();
    assert_eq!(h.sent(), [t("40")]);
    h.text(r#"40{"sid":"s1"}"#).unwrap();
    assert_eq!(h.events(), [connected("/", "s1")]);
    h
}

#[test]
fn garbage_frames_are_parse_errors() {
    let cases: [(&str, FrameError); 8] = [
        ("", FrameError::EngineIo(engineio::Error::Empty)),
        (
            "x",
            FrameError::EngineIo(engineio::Error::UnknownPacketType(b'x')),
        ),
        ("b!!", FrameError::EngineIo(engineio::Error::InvalidBase64)),
        ("0{}", FrameError::Unexpected),
        ("4", FrameError::SocketIo(socketio::Error::Empty)),
        (
            "47",
            FrameError::SocketIo(socketio::Error::UnknownPacketType(b'7')),
        ),
        (
            "42{}",
            FrameError::SocketIo(socketio::Error::InvalidPayload),
        ),
        (
            r#"451-["e",{"_placeholder":true,"num":5}]"#,
            FrameError::SocketIo(socketio::Error::InvalidPlaceholder),
        ),
    ];
    for (frame, want) in cases {
        let mut h = connected_root::<2048, 1024>();
        assert_eq!(h.text(frame), Err(want), "{frame:?}");
        assert_eq!(h.events(), [disconnected("/", ParseError)], "{frame:?}");
        assert_eq!(h.action(), Some(Action::Close), "{frame:?}");
        assert_eq!(h.drop_transport(), [Ev::Reconnecting(1, 1000)], "{frame:?}");
    }
}

#[test]
fn too_many_attachments_announced() {
    let mut h = connected_root::<2048, 1024>();
    let frame = format!(
        r#"4511-["e"{}]"#,
        r#",{"_placeholder":true,"num":0}"#.repeat(11)
    );
    assert_eq!(
        h.text(&frame),
        Err(FrameError::SocketIo(socketio::Error::TooManyAttachments {
            count: 11,
            max: 10
        }))
    );
}

#[test]
fn oversized_text_events_are_delivered_without_copying() {
    let mut h = connected_root::<128, 64>();
    let big = format!(r#"42["big","{}"]"#, "x".repeat(200_000));
    match h.text(&big) {
        Ok(In::Event { payload, .. }) => assert_eq!(payload.len(), big.len() - 2),
        other => panic!("{other:?}"),
    }
    assert!(h.events().is_empty());
}

#[test]
fn a_binary_packet_too_large_to_reassemble_is_skipped() {
    let mut h = connected_root::<2048, 64>();
    let header = format!(
        r#"452-["{}",{{"_placeholder":true,"num":0}},{{"_placeholder":true,"num":1}}]"#,
        "n".repeat(40)
    );
    assert_eq!(
        h.text(&header),
        Err(FrameError::TooLarge {
            needed: header.len() - 1,
            capacity: 64
        })
    );
    assert_eq!(h.bin(&[1; 10]), Ok(In::Nothing));
    assert_eq!(h.bin(&[2; 10]), Ok(In::Nothing));
    assert_eq!(
        h.text(r#"42["still here"]"#),
        Ok(event("/", r#"["still here"]"#, None))
    );
    // The text fits, the first attachment does not: the rest is skipped.
    let header = r#"453-["e",{"_placeholder":true,"num":0}]"#;
    h.text(header).unwrap();
    assert_eq!(
        h.bin(&[0; 100]),
        Err(FrameError::TooLarge {
            needed: header.len() - 1 + 100,
            capacity: 64
        })
    );
    assert_eq!(h.bin(&[0]), Ok(In::Nothing));
    assert_eq!(h.bin(&[0]), Ok(In::Nothing));
    assert_eq!(
        h.text(r#"42["and here"]"#),
        Ok(event("/", r#"["and here"]"#, None))
    );
    assert!(h.events().is_empty(), "the connection was kept");
    assert!(h.s.is_open());
}

#[test]
fn a_binary_packet_interrupted_by_text_is_a_parse_error() {
    let mut h = connected_root::<2048, 1024>();
    h.text(r#"452-["e",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#)
        .unwrap();
    h.bin(&[1]).unwrap();
    assert_eq!(
        h.text(r#"42["x"]"#),
        Err(FrameError::SocketIo(socketio::Error::UnexpectedText))
    );
    assert_eq!(h.events(), [disconnected("/", ParseError)]);
    assert_eq!(h.action(), Some(Action::Close));
}

#[test]
fn attachments_that_never_come_expire() {
    let mut h = connected_root::<2048, 1024>();
    h.text(r#"451-["e",{"_placeholder":true,"num":0}]"#)
        .unwrap();
    h.advance(20_000);
    h.text("2").unwrap(); // heartbeats keep the connection alive meanwhile
    h.advance(9_999);
    assert!(h.events().is_empty());
    h.advance(1);
    assert_eq!(h.events(), [disconnected("/", ParseError)]);
    assert_eq!(h.action(), Some(Action::Close));
}

#[test]
fn an_endless_stream_of_unexpected_binaries() {
    let mut h = connected_root::<2048, 1024>();
    assert_eq!(
        h.bin(&[1, 2, 3]),
        Err(FrameError::SocketIo(socketio::Error::UnexpectedBinary))
    );
    assert_eq!(h.events(), [disconnected("/", ParseError)]);
    for i in 0..10_000u32 {
        assert_eq!(
            h.bin(&i.to_le_bytes()),
            Ok(In::Nothing),
            "ignored once closing"
        );
    }
    assert_eq!(h.action(), Some(Action::Close));
    h.drop_transport();
    h.skip_to_deadline();
    h.open();
    for _ in 0..100 {
        assert!(h.bin(&[0; 64]).is_err() || !h.s.is_open());
    }
}

#[test]
fn a_flood_of_events_uses_no_memory() {
    let mut h = connected_root::<256, 64>();
    let base = h.s.queued_bytes();
    for i in 0..10_000u32 {
        let frame = format!(r#"42["e",{i}]"#);
        assert!(matches!(h.text(&frame), Ok(In::Event { .. })));
    }
    assert_eq!(h.s.queued_bytes(), base);
    // Answering every ack request without sending fills the queue, then refuses.
    let mut refused = 0;
    for i in 0..1000u32 {
        h.text(&format!(r#"42{i}["q"]"#)).unwrap();
        let request = h.last_ack.unwrap();
        match h.s.ack(request, &(i,)) {
            Ok(()) => {}
            Err(Error::QueueFull) => refused += 1,
            Err(e) => panic!("{e}"),
        }
        assert!(h.s.queued_bytes() <= 256);
    }
    assert!(refused > 900);
    assert!(h.sent().len() < 20);
}

#[test]
fn a_flood_of_pings_is_answered_once() {
    let mut h = connected_root::<256, 64>();
    for _ in 0..10_000 {
        h.text("2").unwrap();
    }
    assert_eq!(h.sent(), [t("3")]);
}

#[test]
fn a_short_transmit_buffer_keeps_the_frame() {
    let mut h = connected_root::<2048, 64>();
    let now = h.now;
    h.s.emit("/", "hello", &(), EmitOptions::default(), now)
        .unwrap();
    let mut small = [0u8; 4];
    assert_eq!(h.s.poll_transmit(&mut small, now), None);
    h.text("2").unwrap();
    assert_eq!(h.s.poll_transmit(&mut [], now), None);
    assert_eq!(h.sent(), [t("3"), t(r#"42["hello"]"#)]);
}

// ---------------------------------------------------------------------------
// Arbitrary sequences.

const TEMPLATES: &[&str] = &[
    r#"0{"sid":"p","upgrades":[],"pingInterval":100,"pingTimeout":50}"#,
    r#"0{"sid":"p","upgrades":[],"pingInterval":0,"pingTimeout":0}"#,
    "40",
    r#"40{"sid":"a"}"#,
    r#"40/a,{"sid":"b"}"#,
    "40/a,",
    "41",
    "41/a,",
    r#"44/a,{"message":"no"}"#,
    r#"44"no""#,
    r#"42["e",1]"#,
    r#"421["e"]"#,
    r#"42/a,3["e"]"#,
    "430[]",
    r#"431["x"]"#,
    "43/a,2[]",
    r#"451-["e",{"_placeholder":true,"num":0}]"#,
    r#"452-/a,["e",{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]"#,
    r#"461-0[{"_placeholder":true,"num":0}]"#,
    "2",
    "3",
    "1",
    "5",
    "6",
    "2probe",
    "bAQID",
    "b4AQID",
];

#[derive(Debug, Clone)]
enum Op {
    Text(String),
    Bin(Vec<u8>),
    Advance(u64),
    Deadline,
    Opened,
    Closed,
    Action,
    Transmit,
    /// What a driver does to get a connection up: wait out a backoff,
    /// follow the actions, open, receive the handshake.
    Up(bool),
    Emit {
        ns: bool,
        bin: bool,
        volatile: bool,
        ack: Option<u64>,
    },
    Connect(bool),
    Disconnect(bool),
    AckLast,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => prop::sample::select(TEMPLATES).prop_map(|s| Op::Text(s.to_string())),
        3 => prop::sample::select(JOINS).prop_map(|s| Op::Text(s.to_string())),
        1 => ".{0,24}".prop_map(Op::Text),
        1 => "4[0-6][0-9/a-z,\\-\\[\\]\"{}:_]{0,24}".prop_map(Op::Text),
        2 => prop::collection::vec(any::<u8>(), 0..24).prop_map(Op::Bin),
        3 => (0u64..3_000).prop_map(Op::Advance),
        1 => (0u64..60_000).prop_map(Op::Advance),
        2 => Just(Op::Deadline),
        1 => Just(Op::Opened),
        1 => Just(Op::Closed),
        2 => Just(Op::Action),
        4 => (0u8..5).prop_map(|n| Op::Up(n > 0)),
        6 => Just(Op::Transmit),
        6 => (any::<bool>(), any::<bool>(), any::<bool>(), prop::option::of(0u64..5000))
            .prop_map(|(ns, bin, volatile, ack)| Op::Emit { ns, bin, volatile, ack }),
        1 => any::<bool>().prop_map(Op::Connect),
        1 => any::<bool>().prop_map(Op::Disconnect),
        2 => Just(Op::AckLast),
    ]
}

/// The server accepting the namespaces (v5 and v4 forms).
const JOINS: &[&str] = &[r#"40{"sid":"a"}"#, r#"40/a,{"sid":"b"}"#, "40", "40/a,"];

/// Every frame the session sends decodes as Engine.IO (and Socket.IO for
/// text messages).
fn check_sent(version: Version, kind: FrameKind, frame: &[u8]) {
    match kind {
        FrameKind::Text => {
            let text = std::str::from_utf8(frame).expect("UTF-8");
            let packet = engineio::Packet::decode_text(text, version).expect("Engine.IO");
            if let engineio::Data::Text(sio) = packet.data {
                if packet.packet_type == engineio::PacketType::Message {
                    let sio_version = match version {
                        Version::V3 => socketio::Version::V4,
                        Version::V4 => socketio::Version::V5,
                    };
                    let decoder = Decoder::new(sio_version, oxio_codec::Limits::default());
                    decoder.decode(sio).expect("Socket.IO");
                }
            }
        }
        FrameKind::Binary => {
            engineio::Packet::decode_binary(frame, version).expect("Engine.IO binary");
        }
    }
}

fn run(version: Version, ops: Vec<Op>) {
    let config = Config {
        version,
        max_frame_len: 256,
        ..Config::default()
    };
    let mut h: Harness<2, 3, 256, 64> = Harness::new(config);
    let _ = h.s.connect("/", NO_AUTH);
    let mut buf = [0u8; 256];
    for op in ops {
        let now = h.now;
        match op {
            Op::Text(s) => {
                let _ = h.text(&s);
            }
            Op::Bin(b) => {
                let _ = h.bin(&b);
            }
            Op::Advance(ms) => h.advance(ms),
            Op::Deadline => {
                // Timers make progress: at most a few rounds at one instant.
                for round in 0.. {
                    match h.s.poll_timeout() {
                        Some(d) if d <= h.now || round == 0 => {
                            h.now = h.now.max(d);
                            h.s.handle_timeout(h.now);
                        }
                        _ => break,
                    }
                    assert!(round < 4, "timers stuck at {:?}", h.now);
                }
            }
            Op::Opened => h.s.transport_opened(now),
            Op::Up(slow_heartbeat) => {
                for _ in 0..4 {
                    if h.s.is_open() {
                        break;
                    }
                    match h.s.poll_action(h.now) {
                        Some(Action::Connect(_)) => {
                            h.s.transport_opened(h.now);
                            let handshake = if slow_heartbeat {
                                r#"0{"sid":"p","upgrades":[],"pingInterval":25000,"pingTimeout":20000}"#
                            } else {
                                TEMPLATES[0]
                            };
                            let _ = h.text(handshake);
                        }
                        Some(Action::Close) => h.s.transport_closed(h.now),
                        None => match h.s.poll_timeout() {
                            Some(d) => {
                                h.now = h.now.max(d);
                                h.s.handle_timeout(h.now);
                            }
                            None => break,
                        },
                    }
                }
            }
            Op::Closed => h.s.transport_closed(now),
            Op::Action => {
                let _ = h.s.poll_action(now);
            }
            Op::Transmit => {
                for _ in 0..64 {
                    let Some(t) = h.s.poll_transmit(&mut buf, now) else {
                        break;
                    };
                    assert!(t.len <= buf.len());
                    check_sent(version, t.kind, &buf[..t.len]);
                }
            }
            Op::Emit {
                ns,
                bin,
                volatile,
                ack,
            } => {
                let ns = if ns { "/a" } else { "/" };
                let opts = EmitOptions { volatile, ack };
                let _ = if bin {
                    h.s.emit(ns, "e", &(1, Binary(&[1, 2, 3])), opts, now)
                } else {
                    h.s.emit(ns, "e", &("x",), opts, now)
                };
            }
            Op::Connect(ns) => {
                let _ = h.s.connect(if ns { "/a" } else { "/" }, NO_AUTH);
            }
            Op::Disconnect(ns) => {
                let _ = h.s.disconnect(if ns { "/a" } else { "/" });
            }
            Op::AckLast => {
                if let Some(request) = h.last_ack {
                    let _ = h.s.ack(request, &(Binary(&[7]),));
                }
            }
        }
        h.check();
        // A driver drains events after every call; then none is ever lost.
        let _ = h.events();
        assert_eq!(h.s.dropped_events(), 0);
    }
    // Draining always ends.
    let _ = h.events();
    let _ = h.sent();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_sequences_v4(ops in prop::collection::vec(op(), 0..80)) {
        run(Version::V4, ops);
    }

    #[test]
    fn arbitrary_sequences_v3(ops in prop::collection::vec(op(), 0..80)) {
        run(Version::V3, ops);
    }
}
