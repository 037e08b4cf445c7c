//! no_std cases for the `client` module: the sans-IO session driven by a
//! scripted server with fixed buffers only (no allocation), exact frames in
//! and out, on a fake clock.

use oxio_codec::client::{
    AckId, Action, CancelReason, Config, DisconnectReason, EmitOptions, Event, Frame, FrameError,
    FrameKind, Incoming, Session, NO_AUTH,
};
use oxio_codec::engineio::Version;
use oxio_codec::socketio::Binary;
use oxio_codec::Instant;

type S = Session<fn() -> u32>;

const OPEN: &str = r#"0{"sid":"eio1","upgrades":[],"pingInterval":25000,"pingTimeout":20000}"#;

fn zero() -> u32 {
    0
}

fn at(ms: u64) -> Instant {
    Instant::from_millis(ms)
}

fn session(config: Config) -> S {
    Session::new(config, zero as fn() -> u32)
}

/// Drains `poll_transmit` and compares with `want` (text or binary frames).
fn expect_sent(s: &mut S, now: Instant, want: &[(FrameKind, &[u8])]) {
    let mut buf = [0u8; 256];
    for (kind, bytes) in want {
        let t = s.poll_transmit(&mut buf, now).expect("a frame");
        assert_eq!(t.kind, *kind);
        assert_eq!(&buf[..t.len], *bytes);
    }
    assert_eq!(s.poll_transmit(&mut buf, now), None);
}

fn text(bytes: &[u8]) -> (FrameKind, &[u8]) {
    (FrameKind::Text, bytes)
}

/// Connect action, open, handshake.
fn open(s: &mut S, now: Instant, handshake: &str) {
    assert!(matches!(s.poll_action(now), Some(Action::Connect(_))));
    s.transport_opened(now);
    assert!(s
        .handle_frame(Frame::Text(handshake), now)
        .unwrap()
        .is_none());
}

/// A session joined to `/` as `s1` at t = 0.
fn connected() -> S {
    let mut s = session(Config::default());
    s.connect("/", NO_AUTH).unwrap();
    open(&mut s, at(0), OPEN);
    expect_sent(&mut s, at(0), &[text(b"40")]);
    assert!(s
        .handle_frame(Frame::Text(r#"40{"sid":"s1"}"#), at(0))
        .unwrap()
        .is_none());
    assert_eq!(
        s.poll_event(),
        Some(Event::Connected {
            namespace: "/",
            sid: "s1",
            recovered: false
        })
    );
    s
}

cases! {
    fn client_ram_is_pinned() {
        let size = core::mem::size_of::<S>();
        #[cfg(target_pointer_width = "32")]
        assert_eq!(size, 4288);
        // `Config::msgpack` (feature `client-msgpack`) pads 8 bytes on 64-bit.
        #[cfg(target_pointer_width = "64")]
        assert_eq!(size, if cfg!(feature = "client-msgpack") { 4376 } else { 4368 });
        let state = core::mem::size_of::<Session<fn() -> u32, 4, 8, 0, 0>>();
        assert_eq!(size - state, 2048 + 1024);
    }

    fn client_connect_url_and_frames() {
        let mut s = session(Config::default());
        #[derive(serde::Serialize)]
        struct Auth<'a> { token: &'a str }
        s.connect("/", NO_AUTH).unwrap();
        s.connect("/admin", Some(&Auth { token: "123" })).unwrap();
        match s.poll_action(at(0)) {
            Some(Action::Connect(target)) => {
                let mut url = [0u8; 64];
                let n = target.write_to(&mut url).unwrap();
                assert_eq!(&url[..n], b"/socket.io/?EIO=4&transport=websocket");
            }
            other => panic!("{:?}", other),
        }
        s.transport_opened(at(0));
        s.handle_frame(Frame::Text(OPEN), at(0)).unwrap();
        assert_eq!(s.engine_sid(), Some("eio1"));
        expect_sent(&mut s, at(0), &[text(b"40"), text(br#"40/admin,{"token":"123"}"#)]);
        s.handle_frame(Frame::Text(r#"40/admin,{"sid":"s2"}"#), at(0)).unwrap();
        assert_eq!(s.poll_event(), Some(Event::Connected { namespace: "/admin", sid: "s2", recovered: false }));
    }

    fn client_events_are_borrowed_from_the_frame() {
        #[derive(serde::Deserialize)]
        struct Msg<'a> { text: &'a str }
        let mut s = connected();
        let frame = r#"42["msg",{"text":"hi"}]"#;
        match s.handle_frame(Frame::Text(frame), at(1)).unwrap() {
            Some(Incoming::Event { packet, ack: None }) => {
                assert!(packet.event_name().unwrap() == "msg");
                let (msg,): (Msg,) = packet.args().unwrap();
                assert_eq!(msg.text.as_ptr(), frame[frame.len() - 5..].as_ptr());
            }
            other => panic!("{:?}", other),
        }
    }

    fn client_acks_both_ways() {
        let mut s = connected();
        let id = s.emit("/", "question", &("why", 1), EmitOptions::with_ack(5000), at(0)).unwrap();
        assert_eq!(id, Some(AckId(0)));
        expect_sent(&mut s, at(0), &[text(br#"420["question","why",1]"#)]);
        match s.handle_frame(Frame::Text(r#"430["because"]"#), at(1)).unwrap() {
            Some(Incoming::Ack { id, packet }) => {
                assert_eq!(id, AckId(0));
                let (why,): (&str,) = packet.args().unwrap();
                assert_eq!(why, "because");
            }
            other => panic!("{:?}", other),
        }
        let request = match s.handle_frame(Frame::Text(r#"427["add",1,2]"#), at(1)).unwrap() {
            Some(Incoming::Event { ack: Some(request), .. }) => request,
            other => panic!("{:?}", other),
        };
        s.ack(request, &(3,)).unwrap();
        expect_sent(&mut s, at(1), &[text(b"437[3]")]);
    }

    fn client_binary_both_ways() {
        let mut s = connected();
        s.emit("/", "up", &(Binary(&[1, 2, 3]),), EmitOptions::default(), at(0)).unwrap();
        expect_sent(&mut s, at(0), &[
            text(br#"451-["up",{"_placeholder":true,"num":0}]"#),
            (FrameKind::Binary, &[1, 2, 3]),
        ]);
        let header = r#"451-["file",{"_placeholder":true,"num":0}]"#;
        assert!(s.handle_frame(Frame::Text(header), at(1)).unwrap().is_none());
        // The driver reuses its frame buffer: the session kept a copy.
        let frame = [9u8, 8];
        match s.handle_frame(Frame::Binary(&frame), at(1)).unwrap() {
            Some(Incoming::Event { packet, .. }) => {
                let (file,): (Binary,) = packet.args().unwrap();
                assert_eq!(file.0, [9, 8]);
            }
            other => panic!("{:?}", other),
        }
    }

    fn client_heartbeat_and_server_lost() {
        let mut s = connected();
        assert_eq!(s.poll_timeout(), Some(at(45_000)));
        s.handle_frame(Frame::Text("2"), at(25_000)).unwrap();
        expect_sent(&mut s, at(25_000), &[text(b"3")]);
        assert_eq!(s.poll_timeout(), Some(at(70_000)));
        s.handle_timeout(at(70_000));
        assert_eq!(s.poll_event(), Some(Event::ServerLost));
        assert_eq!(s.poll_event(), Some(Event::Disconnected {
            namespace: "/",
            reason: DisconnectReason::PingTimeout,
        }));
        assert_eq!(s.poll_action(at(70_000)), Some(Action::Close));
        s.transport_closed(at(70_000));
        assert_eq!(s.poll_event(), Some(Event::Reconnecting { attempt: 1, delay_ms: 1000 }));
        assert_eq!(s.poll_timeout(), Some(at(71_000)));
    }

    fn client_backoff_follows_the_reference() {
        let c = Config::default();
        let cases: [(u32, u32, u32); 6] = [
            (0, 0, 1000),
            (0, 1 << 31, 1250),
            (0, u32::MAX, 1499),
            (1, 0x4000_0000, 1750),
            (2, 0, 4000),
            (9, 0, 5000),
        ];
        for (attempt, random, want) in cases {
            assert_eq!(c.reconnect_delay(attempt, random), want);
        }
    }

    fn client_offline_emits_flush_after_the_rejoin() {
        let mut s = connected();
        s.transport_closed(at(0));
        assert!(matches!(s.poll_event(), Some(Event::Disconnected { .. })));
        assert!(matches!(s.poll_event(), Some(Event::Reconnecting { .. })));
        s.emit("/", "a", &(), EmitOptions::default(), at(1)).unwrap();
        assert_eq!(
            s.emit("/", "v", &(), EmitOptions::VOLATILE, at(1)),
            Err(oxio_codec::client::Error::VolatileDropped)
        );
        s.emit("/", "b", &(), EmitOptions::default(), at(2)).unwrap();
        s.handle_timeout(at(1000));
        open(&mut s, at(1000), OPEN);
        expect_sent(&mut s, at(1000), &[text(b"40")]);
        s.handle_frame(Frame::Text(r#"40{"sid":"s2"}"#), at(1001)).unwrap();
        expect_sent(&mut s, at(1001), &[text(br#"42["a"]"#), text(br#"42["b"]"#)]);
        expect_sent(&mut s, at(1002), &[]);
    }

    fn client_connect_error_and_server_disconnect() {
        let mut s = connected();
        s.connect("/admin", NO_AUTH).unwrap();
        let id = s.emit("/admin", "x", &(), EmitOptions::with_ack(100), at(0)).unwrap().unwrap();
        expect_sent(&mut s, at(0), &[text(b"40/admin,")]);
        s.handle_frame(Frame::Text(r#"44/admin,{"message":"not authorized"}"#), at(1)).unwrap();
        assert_eq!(s.poll_event(), Some(Event::ConnectError { namespace: "/admin", message: "not authorized" }));
        assert_eq!(s.poll_event(), Some(Event::AckCancelled {
            namespace: "/admin",
            id,
            reason: CancelReason::Dropped,
        }));
        s.handle_frame(Frame::Text("41"), at(2)).unwrap();
        assert_eq!(s.poll_event(), Some(Event::Disconnected {
            namespace: "/",
            reason: DisconnectReason::ServerDisconnect,
        }));
        // Nothing left to join: closed, and not reconnected.
        assert_eq!(s.poll_action(at(2)), Some(Action::Close));
        s.transport_closed(at(2));
        assert_eq!(s.poll_event(), None);
        assert_eq!(s.poll_action(at(3)), None);
    }

    fn client_v3_mode() {
        let mut s = session(Config { version: Version::V3, ..Config::default() });
        #[derive(serde::Serialize)]
        struct Auth<'a> { token: &'a str }
        s.connect("/", NO_AUTH).unwrap();
        s.connect("/admin", Some(&Auth { token: "a b" })).unwrap();
        match s.poll_action(at(0)) {
            Some(Action::Connect(target)) => {
                let mut url = [0u8; 64];
                let n = target.write_to(&mut url).unwrap();
                assert_eq!(&url[..n], b"/socket.io/?EIO=3&transport=websocket");
            }
            other => panic!("{:?}", other),
        }
        s.transport_opened(at(0));
        s.handle_frame(Frame::Text(r#"0{"sid":"e","upgrades":[],"pingInterval":100,"pingTimeout":50}"#), at(0)).unwrap();
        expect_sent(&mut s, at(0), &[text(b"40/admin?token=a%20b,")]);
        s.handle_frame(Frame::Text("40"), at(0)).unwrap();
        assert_eq!(s.poll_event(), Some(Event::Connected { namespace: "/", sid: "e", recovered: false }));
        // The client pings; binary frames carry the type byte.
        s.handle_timeout(at(100));
        s.emit("/", "b", &(Binary(&[7]),), EmitOptions::default(), at(100)).unwrap();
        expect_sent(&mut s, at(100), &[
            text(b"2"),
            text(br#"451-["b",{"_placeholder":true,"num":0}]"#),
            (FrameKind::Binary, &[4, 7]),
        ]);
        s.handle_frame(Frame::Text("3"), at(120)).unwrap();
        assert_eq!(s.poll_timeout(), Some(at(220)));
    }

    fn client_hostile_frames_never_panic() {
        let frames: [&str; 10] = ["", "x", "0{}", "4", "47", "42{}", "4\u{1e}", "b!!", "451-[", "41/,"];
        for frame in frames {
            let mut s = connected();
            let r = s.handle_frame(Frame::Text(frame), at(1));
            assert!(r.is_err() || r.unwrap().is_none());
            assert!(s.queued_bytes() <= s.queue_capacity());
        }
        let mut s = connected();
        assert!(matches!(
            s.handle_frame(Frame::Binary(&[1, 2, 3]), at(1)),
            Err(FrameError::SocketIo(_))
        ));
        for i in 0..1000u32 {
            assert!(s.handle_frame(Frame::Binary(&i.to_le_bytes()), at(2)).unwrap().is_none());
        }
    }

    fn client_oversized_binary_packets_are_skipped() {
        let mut s: Session<fn() -> u32, 2, 2, 256, 32> = Session::new(Config::default(), zero as fn() -> u32);
        s.connect("/", NO_AUTH).unwrap();
        assert!(s.poll_action(at(0)).is_some());
        s.transport_opened(at(0));
        s.handle_frame(Frame::Text(OPEN), at(0)).unwrap();
        s.handle_frame(Frame::Text(r#"40{"sid":"s"}"#), at(0)).unwrap();
        let header = r#"451-["a-long-event-name",{"_placeholder":true,"num":0}]"#;
        assert_eq!(
            s.handle_frame(Frame::Text(header), at(1)).map(|i| i.is_some()),
            Err(FrameError::TooLarge { needed: header.len() - 1, capacity: 32 })
        );
        assert!(s.handle_frame(Frame::Binary(&[0; 64]), at(1)).unwrap().is_none());
        assert!(matches!(
            s.handle_frame(Frame::Text(r#"42["ok"]"#), at(1)),
            Ok(Some(Incoming::Event { .. }))
        ));
        assert!(s.is_open());
    }
}
