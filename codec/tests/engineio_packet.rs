//! Engine.IO packets: exact text forms and binary frames (docs/protocol.md §1.2,
//! §1.6, §2 items 3 and 5), malformed input, and round-trip properties.

use oxio_codec::engineio::{Base64, Data, Error, Packet, PacketType, Version};
use proptest::prelude::*;

const V3: Version = Version::V3;
const V4: Version = Version::V4;

fn b64(s: &str) -> Data<'_> {
    Data::Base64(Base64::new(s).unwrap())
}

fn encode_text(p: &Packet<'_>, v: Version) -> Result<Vec<u8>, Error> {
    let mut buf = vec![0u8; p.encoded_text_len(v)];
    let n = p.encode_text(&mut buf, v)?;
    assert_eq!(n, buf.len(), "encoded_text_len is exact");
    Ok(buf)
}

fn encode_frame(p: &Packet<'_>, v: Version) -> Result<Vec<u8>, Error> {
    let mut buf = vec![0u8; p.binary_frame_len(v)];
    let n = p.encode_binary_frame(&mut buf, v)?;
    assert_eq!(n, buf.len(), "binary_frame_len is exact");
    Ok(buf)
}

/// Every text form from the protocol document, both ways.
#[test]
fn text_forms_decode_and_encode_exactly() {
    let open = r#"{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;
    let open_frame = format!("0{open}");
    let cases: &[(&str, Version, Packet<'_>)] = &[
        ("4hello", V4, Packet::message_text("hello")),
        ("2", V4, Packet::ping()),
        ("2probe", V4, Packet::ping_probe()),
        ("3probe", V4, Packet::pong_probe()),
        ("3", V4, Packet::pong()),
        ("5", V4, Packet::upgrade()),
        ("6", V4, Packet::noop()),
        ("1", V4, Packet::close()),
        (&open_frame, V4, Packet::open(open)),
        ("4", V4, Packet::message_text("")),
        ("4€😀\u{1e}", V4, Packet::message_text("€😀\u{1e}")),
        (
            "bAQIDBA==",
            V4,
            Packet::new(PacketType::Message, b64("AQIDBA==")),
        ),
        ("b", V4, Packet::new(PacketType::Message, b64(""))),
        ("4hello", V3, Packet::message_text("hello")),
        ("2probe", V3, Packet::ping_probe()),
        (
            "b4AQIDBA==",
            V3,
            Packet::new(PacketType::Message, b64("AQIDBA==")),
        ),
        ("b2AQ==", V3, Packet::new(PacketType::Ping, b64("AQ=="))),
        ("b4", V3, Packet::new(PacketType::Message, b64(""))),
    ];
    for (text, version, want) in cases {
        let got = Packet::decode_text(text, *version);
        assert_eq!(got, Ok(*want), "decode {text:?} {version:?}");
        assert_eq!(
            encode_text(want, *version).unwrap(),
            text.as_bytes(),
            "encode {text:?}"
        );
    }
}

#[test]
fn binary_data_encodes_as_base64_text() {
    let p = Packet::message_binary(&[1, 2, 3, 4]);
    assert_eq!(encode_text(&p, V4).unwrap(), b"bAQIDBA==");
    assert_eq!(encode_text(&p, V3).unwrap(), b"b4AQIDBA==");
    // Decoded base64 equals the raw bytes it stands for.
    assert_eq!(Packet::decode_text("bAQIDBA==", V4).unwrap(), p);
    assert_ne!(Packet::decode_text("bAQIDBQ==", V4).unwrap(), p);
    assert_ne!(Packet::message_text("\u{1}\u{2}\u{3}\u{4}"), p);
}

/// WebSocket binary frames: raw in v4, with a type byte in v3 (the v3 suite
/// sends `[4,1,2,3,4]` and expects it back).
#[test]
fn binary_frames_decode_and_encode_exactly() {
    let cases: &[(&[u8], Version, Packet<'_>)] = &[
        (&[1, 2, 3, 4], V4, Packet::message_binary(&[1, 2, 3, 4])),
        (&[], V4, Packet::message_binary(&[])),
        (&[4, 1, 2, 3, 4], V3, Packet::message_binary(&[1, 2, 3, 4])),
        (&[4], V3, Packet::message_binary(&[])),
        (
            &[2, 9],
            V3,
            Packet::new(PacketType::Ping, Data::Binary(&[9])),
        ),
    ];
    for (frame, version, want) in cases {
        assert_eq!(
            Packet::decode_binary(frame, *version),
            Ok(*want),
            "{frame:?}"
        );
        assert_eq!(encode_frame(want, *version).unwrap(), *frame);
    }
    // Base64 data from a polling entry becomes a raw frame.
    let p = Packet::decode_text("b4AQIDBA==", V3).unwrap();
    assert_eq!(encode_frame(&p, V3).unwrap(), [4, 1, 2, 3, 4]);
    assert_eq!(encode_frame(&p, V4).unwrap(), [1, 2, 3, 4]);
}

#[test]
fn malformed_text_frames() {
    let cases: &[(&str, Version, Error)] = &[
        ("", V4, Error::Empty),
        ("", V3, Error::Empty),
        ("7", V4, Error::UnknownPacketType(b'7')),
        ("9oops", V3, Error::UnknownPacketType(b'9')),
        ("x", V4, Error::UnknownPacketType(b'x')),
        ("é", V4, Error::UnknownPacketType(0xC3)),
        (" 4", V4, Error::UnknownPacketType(b' ')),
        ("bAQIDBA=", V4, Error::InvalidBase64),
        ("bAQIDBA", V4, Error::InvalidBase64),
        ("b!!!!", V4, Error::InvalidBase64),
        ("bAR==", V4, Error::InvalidBase64),
        ("b4AQIDBA==", V4, Error::InvalidBase64),
        ("b", V3, Error::UnknownPacketType(b'b')),
        ("b9AQ==", V3, Error::UnknownPacketType(b'9')),
        ("bAQIDBA==", V3, Error::UnknownPacketType(b'A')),
        ("b4AQIDBA=", V3, Error::InvalidBase64),
    ];
    for (text, version, want) in cases {
        assert_eq!(
            Packet::decode_text(text, *version),
            Err(*want),
            "{text:?} {version:?}"
        );
    }
}

#[test]
fn malformed_binary_frames() {
    let cases: &[(&[u8], Error)] = &[
        (&[], Error::Empty),
        (&[7, 1], Error::UnknownPacketType(7)),
        (b"4hello", Error::UnknownPacketType(b'4')),
        (&[0xFF], Error::UnknownPacketType(0xFF)),
    ];
    for (frame, want) in cases {
        assert_eq!(Packet::decode_binary(frame, V3), Err(*want), "{frame:?}");
    }
}

#[test]
fn encode_errors() {
    let binary_ping = Packet::new(PacketType::Ping, Data::Binary(&[1]));
    let mut buf = [0u8; 16];
    assert_eq!(
        binary_ping.encode_text(&mut buf, V4),
        Err(Error::BinaryNotMessage)
    );
    assert_eq!(
        binary_ping.encode_binary_frame(&mut buf, V4),
        Err(Error::BinaryNotMessage)
    );
    assert_eq!(encode_text(&binary_ping, V3).unwrap(), b"b2AQ==");
    assert_eq!(
        Packet::ping().encode_binary_frame(&mut buf, V3),
        Err(Error::NotBinary)
    );
    assert_eq!(
        Packet::message_text("x").encode_binary_frame(&mut buf, V4),
        Err(Error::NotBinary)
    );

    let hello = Packet::message_text("hello");
    assert_eq!(hello.encode_text(&mut [0u8; 5], V4), Err(Error::BufferFull));
    assert_eq!(hello.encode_text(&mut [0u8; 6], V4), Ok(6));
    let bin = Packet::message_binary(&[1, 2, 3, 4]);
    assert_eq!(bin.encode_text(&mut [0u8; 8], V4), Err(Error::BufferFull));
    assert_eq!(
        bin.encode_binary_frame(&mut [0u8; 3], V4),
        Err(Error::BufferFull)
    );
    assert_eq!(
        bin.encode_binary_frame(&mut [0u8; 4], V3),
        Err(Error::BufferFull)
    );
    let from_b64 = Packet::decode_text("bAQIDBA==", V4).unwrap();
    assert_eq!(
        from_b64.encode_binary_frame(&mut [0u8; 3], V4),
        Err(Error::BufferFull)
    );
    assert_eq!(
        from_b64.encode_text(&mut [0u8; 8], V4),
        Err(Error::BufferFull)
    );
}

#[test]
fn every_error_has_a_distinct_message() {
    use oxio_codec::engineio::HandshakeError as H;
    let errors = [
        Error::Empty,
        Error::UnknownPacketType(b'9'),
        Error::InvalidBase64,
        Error::InvalidUtf8,
        Error::PayloadTooLarge { len: 2, max: 1 },
        Error::InvalidLength,
        Error::UnterminatedLength,
        Error::LengthOverrun,
        Error::LengthSplitsCharacter,
        Error::InvalidPayloadKind(2),
        Error::BufferFull,
        Error::BinaryNotMessage,
        Error::NotBinary,
        Error::SeparatorInText,
        Error::InvalidHandshake(H::Syntax { offset: 3 }),
        Error::InvalidHandshake(H::TooDeep),
        Error::InvalidHandshake(H::MissingField("sid")),
        Error::InvalidHandshake(H::InvalidField("sid")),
        Error::InvalidHandshake(H::DuplicateField("sid")),
        Error::InvalidHandshake(H::EscapedSid),
        Error::InvalidHandshake(H::NotOpenPacket),
    ];
    let messages: std::collections::BTreeSet<String> =
        errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(messages.len(), errors.len());
    assert_eq!(
        Error::PayloadTooLarge { len: 2, max: 1 }.to_string(),
        "Engine.IO payload of 2 bytes exceeds the limit of 1"
    );
    assert_eq!(
        Error::InvalidHandshake(H::MissingField("sid")).to_string(),
        "invalid Engine.IO handshake: missing key \"sid\""
    );
    let dynerr: &dyn core::error::Error = &Error::Empty;
    assert_eq!(dynerr.to_string(), "empty Engine.IO packet or payload");
}

#[test]
fn packet_type_digits_and_raw_bytes() {
    for (i, t) in PacketType::ALL.iter().enumerate() {
        let raw = u8::try_from(i).unwrap();
        assert_eq!(t.as_raw(), raw);
        assert_eq!(t.as_digit(), b'0' + raw);
        assert_eq!(PacketType::from_raw(raw), Some(*t));
        assert_eq!(PacketType::from_digit(b'0' + raw), Some(*t));
    }
    for b in (0..=255u8).filter(|b| !(b'0'..=b'6').contains(b)) {
        assert_eq!(PacketType::from_digit(b), None, "{b}");
    }
    for b in 7..=255u8 {
        assert_eq!(PacketType::from_raw(b), None, "{b}");
    }
}

#[test]
fn probe_and_data_helpers() {
    assert!(Packet::pong_probe().is_probe());
    assert!(!Packet::message_text("probe").is_probe());
    assert!(!Packet::pong().is_probe());
    assert_eq!(Data::Text("€").len(), 3);
    assert!(Data::Binary(&[]).is_empty());
    assert_eq!(Data::Binary(&[1]).as_text(), None);
}

#[cfg(feature = "alloc")]
#[test]
fn alloc_helpers_match_slice_encoders() {
    let p = Packet::message_binary(&[1, 2, 3, 4]);
    assert_eq!(p.to_text(V4).unwrap(), "bAQIDBA==");
    assert_eq!(p.to_text(V3).unwrap(), "b4AQIDBA==");
    assert_eq!(p.to_binary_frame(V3).unwrap(), [4, 1, 2, 3, 4]);
    let from_b64 = Packet::decode_text("bAQIDBA==", V4).unwrap();
    assert_eq!(from_b64.to_text(V3).unwrap(), "b4AQIDBA==");
    assert_eq!(from_b64.to_binary_frame(V4).unwrap(), [1, 2, 3, 4]);
    assert_eq!(Packet::ping_probe().to_text(V4).unwrap(), "2probe");
    let binary_ping = Packet::new(PacketType::Ping, Data::Binary(&[1]));
    assert_eq!(binary_ping.to_text(V4), Err(Error::BinaryNotMessage));
    assert_eq!(Packet::ping().to_binary_frame(V3), Err(Error::NotBinary));
    let b = Base64::new("AQIDBA==").unwrap();
    assert_eq!(b.to_vec(), [1, 2, 3, 4]);
}

fn packet_type() -> impl Strategy<Value = PacketType> {
    prop::sample::select(PacketType::ALL.to_vec())
}

fn version() -> impl Strategy<Value = Version> {
    prop_oneof![Just(V3), Just(V4)]
}

proptest! {
    /// Text packets of every type round-trip through the text form.
    #[test]
    fn text_packets_round_trip(t in packet_type(), text in any::<String>(), v in version()) {
        let p = Packet::new(t, Data::Text(&text));
        let bytes = encode_text(&p, v).unwrap();
        let s = std::str::from_utf8(&bytes).unwrap();
        let back = Packet::decode_text(s, v).unwrap();
        prop_assert_eq!(back, p);
        prop_assert_eq!(encode_text(&back, v).unwrap(), bytes.clone());
    }

    /// Binary messages round-trip through both forms in both versions.
    #[test]
    fn binary_messages_round_trip(data in prop::collection::vec(any::<u8>(), 0..300), v in version()) {
        let p = Packet::message_binary(&data);
        let text = encode_text(&p, v).unwrap();
        let back = Packet::decode_text(std::str::from_utf8(&text).unwrap(), v).unwrap();
        prop_assert_eq!(back, p);
        prop_assert_eq!(encode_text(&back, v).unwrap(), text.clone());
        let frame = encode_frame(&back, v).unwrap();
        prop_assert_eq!(encode_frame(&p, v).unwrap(), frame.clone());
        prop_assert_eq!(Packet::decode_binary(&frame, v).unwrap(), p);
    }

    /// v3 binary data of every type round-trips through both forms.
    #[test]
    fn v3_binary_packets_of_any_type_round_trip(t in packet_type(), data in prop::collection::vec(any::<u8>(), 0..64)) {
        let p = Packet::new(t, Data::Binary(&data));
        let frame = encode_frame(&p, V3).unwrap();
        prop_assert_eq!(frame.first().copied(), Some(t.as_raw()));
        prop_assert_eq!(Packet::decode_binary(&frame, V3).unwrap(), p);
        let text = encode_text(&p, V3).unwrap();
        prop_assert_eq!(Packet::decode_text(std::str::from_utf8(&text).unwrap(), V3).unwrap(), p);
    }

    /// Any accepted text frame re-encodes to exactly itself; nothing panics.
    #[test]
    fn decode_text_is_canonical(s in "(b|[0-7])?[A-Za-z0-9+/=€😀 ]{0,12}|\\PC{0,8}", v in version()) {
        if let Ok(p) = Packet::decode_text(&s, v) {
            prop_assert_eq!(encode_text(&p, v).unwrap(), s.as_bytes());
        }
    }

    /// Any accepted binary frame re-encodes to exactly itself.
    #[test]
    fn decode_binary_is_canonical(frame in prop::collection::vec(any::<u8>(), 0..16), v in version()) {
        if let Ok(p) = Packet::decode_binary(&frame, v) {
            prop_assert_eq!(encode_frame(&p, v).unwrap(), frame);
        }
    }
}
