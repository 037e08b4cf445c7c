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
