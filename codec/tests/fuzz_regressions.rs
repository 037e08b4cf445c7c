//! Inputs found by the fuzz targets (`fuzz/`, run by `scripts/fuzz.sh`),
//! kept as exact-byte regression tests: each one failed an invariant of a
//! target, or pins a behaviour a target had to learn.

use oxio_codec::json::JsonError;
use oxio_codec::socketio::{Decoder, Encoder, Error, PacketType, Version};
use std::sync::mpsc;
use std::time::Duration;

/// A binary event whose one object repeats its `_placeholder` key `n`
/// times (valid JSON: duplicate keys are allowed).
fn repeated_placeholder_keys(n: usize) -> String {
    let mut frame = String::from(r#"51-["m",{"#);
    for _ in 0..n {
        frame.push_str(r#""_placeholder":true,"#);
    }
    frame.push_str(r#""num":0}]"#);
    frame
}

/// The placeholder check walked the whole object again for every repeated
/// `_placeholder` key, so decoding took time quadratic in the frame: a
/// 900 kB frame, under the default 1 MB `max_packet_len`, took 221 s in a
/// release build. Now each object is checked once (linear: about 2 ms).
#[test]
fn repeated_placeholder_keys_decode_in_linear_time() {
    let frame = repeated_placeholder_keys(45_000);
    assert_eq!(frame.len(), 900_018);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let result = Decoder::default()
            .decode(&frame)
            .map(|p| (p.packet_type(), p.attachment_count()));
        let _ = tx.send(result);
    });
    // Generous for a debug build on a loaded machine; the quadratic walk
    // needs minutes even optimized.
    let result = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("decoding 900 kB took more than 20 s: the placeholder check is not linear");
    // An object repeating `_placeholder` is not exactly a placeholder (two
    // members), so it is refused; what matters here is that it is refused fast.
    assert_eq!(result, Err(Error::InvalidPlaceholder));
}

/// A placeholder is exactly two members, so every repetition of
/// `_placeholder` (or of `num`) is refused, whatever its value, wherever it is.
#[test]
fn every_repeated_placeholder_key_is_refused() {
    for frame in [
        r#"51-["m",{"_placeholder":true,"_placeholder":true,"num":0}]"#,
        r#"51-["m",{"_placeholder":true,"_placeholder":false,"num":0}]"#,
        r#"51-["m",{"_placeholder":true,"num":0,"_placeholder":"x"}]"#,
        r#"51-["m",{"_placeholder":true,"num":0,"num":0}]"#,
        r#"52-["m",{"_placeholder":true,"num":0,"a":{"_placeholder":true,"num":1},"_placeholder":true}]"#,
    ] {
        assert_eq!(
            Decoder::default().decode(frame).map(|_| ()),
            Err(Error::InvalidPlaceholder),
            "{frame}"
        );
    }
    // Nested exact placeholders are fine.
    assert!(Decoder::default()
        .decode(r#"52-["m",{"a":{"_placeholder":true,"num":1}},{"_placeholder":true,"num":0}]"#)
        .is_ok());
}

/// `sio_packet`: a namespace that runs to the end of the frame (no `,`)
/// is accepted; its canonical form gains the `,` and decodes equal.
#[test]
fn namespace_without_comma_gains_one_when_written_back() {
    let frame = "0/random";
    let p = Decoder::default().decode(frame).unwrap();
    assert_eq!((p.namespace(), p.payload()), ("/random", None));
    let mut buf = [0u8; 16];
    let n = Encoder::default().packet(&mut buf, &p).unwrap();
    assert_eq!(&buf[..n], b"0/random,");
    let again = Decoder::default()
        .decode(std::str::from_utf8(&buf[..n]).unwrap())
        .unwrap();
    assert_eq!(again, p);
}

/// `roundtrip`: a v4 CONNECT_ERROR whose data is a number is written as
/// the reference writes it (`4` + `JSON.stringify(data)`), and the digits
/// then read as an ack id, so it does not decode; an object or a string
/// does.
#[test]
fn v4_connect_error_with_numeric_data_does_not_decode() {
    let enc = Encoder::new(Version::V4);
    let dec = Decoder::new(Version::V4, Default::default());
    let mut buf = [0u8; 32];

    let n = enc
        .connect_error_with_data(&mut buf, "/", "m", &1.5)
        .unwrap();
    assert_eq!(&buf[..n], b"41.5");
    assert_eq!(
        dec.decode("41.5").map(|p| p.packet_type()),
        Err(Error::InvalidJson(JsonError::UnexpectedByte { offset: 0 }))
    );
    let n = enc.connect_error_with_data(&mut buf, "/", "m", &7).unwrap();
    assert_eq!(&buf[..n], b"47");
    // As in socket.io-parser: the digit is an ack id, and there is no payload.
    let p = dec.decode("47").unwrap();
    assert_eq!(
        (p.packet_type(), p.ack_id(), p.payload()),
        (PacketType::ConnectError, Some(7), None)
    );

    let n = enc
        .connect_error_with_data(&mut buf, "/", "m", "why")
        .unwrap();
    assert_eq!(&buf[..n], br#"4"why""#);
    assert_eq!(
        dec.decode(r#"4"why""#).map(|p| p.packet_type()),
        Ok(PacketType::ConnectError)
    );
}

/// `client::Session::poll_transmit` with a buffer too short for the due
/// heartbeat frame must keep it queued ("a frame that does not fit stays
/// queued"). In v3 the client's ping `2` was taken and lost instead (only
/// the v4 pong was put back), so the server was declared lost pingTimeout
/// later although it would have answered. Found while writing the
/// `client_session` target's short-buffer operation.
#[test]
fn a_short_transmit_buffer_keeps_the_v3_ping() {
    use oxio_codec::client::{Action, Config, Frame, FrameKind, Session, Transmit, NO_AUTH};
    use oxio_codec::engineio::Version as EioVersion;
    use oxio_codec::Instant;

    for version in [EioVersion::V3, EioVersion::V4] {
        let config = Config {
            version,
            ..Config::default()
        };
        let mut s: Session<_> = Session::new(config, || 0);
        let t = Instant::from_millis(0);
        s.connect("/", NO_AUTH).unwrap();
        assert!(matches!(s.poll_action(t), Some(Action::Connect(_))));
        s.transport_opened(t);
        s.handle_frame(
            Frame::Text(r#"0{"sid":"e","upgrades":[],"pingInterval":100,"pingTimeout":50}"#),
            t,
        )
        .unwrap();
        let mut buf = [0u8; 64];
        while s.poll_transmit(&mut buf, t).is_some() {} // 40 (v4)
        let t = match version {
            // v3: the client pings pingInterval after the handshake.
            EioVersion::V3 => {
                let t = t + 100;
                s.handle_timeout(t);
                t
            }
            // v4: the server pings.
            EioVersion::V4 => {
                s.handle_frame(Frame::Text("2"), t).unwrap();
                t
            }
        };
        assert_eq!(s.poll_transmit(&mut [], t), None, "{version:?}");
        let heartbeat: &[u8] = if version == EioVersion::V3 {
            b"2"
        } else {
            b"3"
        };
        assert_eq!(
            s.poll_transmit(&mut buf, t),
            Some(Transmit {
                kind: FrameKind::Text,
                len: 1
            }),
            "{version:?}: the heartbeat was lost"
        );
        assert_eq!(&buf[..1], heartbeat);
        // v3: the answer arrives in time, the server is not lost.
        s.handle_frame(Frame::Text("3"), t + 10).unwrap();
        s.handle_timeout(t + 60);
        assert!(s.is_open(), "{version:?}");
        assert_eq!(s.poll_event(), None);
    }
}

/// Fuzz (`sio_msgpack`, 2026-12-06): a msgpack EVENT whose data is an
/// empty array (the reference decoder only asks for an array, so it is
/// accepted), in a map with integer and binary keys beside the known ones.
/// `args` failed with `InvalidType` while `raw_args` gave none: an event
/// without a name has no arguments, both ways.
#[test]
fn msgpack_event_without_a_name_has_no_arguments() {
    use oxio_codec::msgpack::Decoder;
    use oxio_codec::socketio::{Args, PacketType};
    let input = b"\x85\x64\x03\xa4type\x02\xa4data\x90\xc4\x02\x0b\x02\x70\xa3nsp\xa6badmin";
    let p = Decoder::default().decode(input).unwrap();
    assert_eq!(p.packet_type(), PacketType::Event);
    assert_eq!(p.namespace(), "badmin");
    assert_eq!(p.event_name(), None);
    assert_eq!(p.raw_args().count(), 0);
    let Args(args) = p.args::<Args<heapless::Vec<u8, 4>>>().unwrap();
    assert!(args.is_empty());
    assert_eq!(p.args::<()>().unwrap(), ());
}
