//! Engine.IO polling payloads: v4 (`0x1E`-separated), v3 text
//! (`<len>:<packet>`, UTF-16 lengths) and v3 binary (XHR2). Exact bytes from
//! docs/protocol.md §1.3 and §2, malformed bodies, and round-trip properties.

use oxio_codec::engineio::payload::{v3_binary, v3_text, v4};
use oxio_codec::engineio::{Base64, Data, Error, Packet, PacketType};
use oxio_codec::Limits;
use proptest::prelude::*;

const LIMITS: Limits = Limits::DEFAULT;

type Decoded<'a> = Vec<Result<Packet<'a>, Error>>;

fn v4_decode(body: &str) -> Decoded<'_> {
    v4::decode(body, &LIMITS).collect()
}

fn v3t_decode(body: &str) -> Decoded<'_> {
    v3_text::decode(body, &LIMITS).collect()
}

fn v3b_decode(body: &[u8]) -> Decoded<'_> {
    v3_binary::decode(body, &LIMITS).collect()
}

fn v4_encode(packets: &[Packet<'_>]) -> Result<Vec<u8>, Error> {
    let mut buf = vec![0u8; 1 << 16];
    let mut w = v4::PayloadWriter::new(&mut buf);
    for p in packets {
        let before = w.len();
        let expect = w.push_len(p);
        w.push(p)?;
        assert_eq!(w.len() - before, expect, "push_len is exact");
    }
    assert_eq!(w.packet_count(), packets.len());
    Ok(w.as_bytes().to_vec())
}

fn v3t_encode(packets: &[Packet<'_>]) -> Result<Vec<u8>, Error> {
    let mut buf = vec![0u8; 1 << 16];
    let mut w = v3_text::PayloadWriter::new(&mut buf);
    for p in packets {
        let before = w.len();
        let expect = w.push_len(p);
        w.push(p)?;
        assert_eq!(w.len() - before, expect, "push_len is exact");
    }
    assert_eq!(w.packet_count(), packets.len());
    Ok(w.as_bytes().to_vec())
}

fn v3b_encode(packets: &[Packet<'_>]) -> Result<Vec<u8>, Error> {
    let mut buf = vec![0u8; 1 << 16];
    let mut w = v3_binary::PayloadWriter::new(&mut buf);
    for p in packets {
        let before = w.len();
        let expect = w.push_len(p);
        w.push(p)?;
        assert_eq!(w.len() - before, expect, "push_len is exact");
    }
    assert_eq!(w.packet_count(), packets.len());
    Ok(w.as_bytes().to_vec())
}

fn oks<'a>(packets: &[Packet<'a>]) -> Decoded<'a> {
    packets.iter().copied().map(Ok).collect()
}

fn b64_message(s: &str) -> Packet<'_> {
    Packet::new(PacketType::Message, Data::Base64(Base64::new(s).unwrap()))
}

// ---------------------------------------------------------------- v4 ----

#[test]
fn v4_examples_decode_and_encode_exactly() {
    let cases: &[(&str, &[Packet<'_>])] = &[
        (
            "4hello\x1ebAQIDBA==",
            &[Packet::message_text("hello"), b64_message("AQIDBA==")],
        ),
        (
            "4test1\x1e4test2\x1e4test3",
            &[
                Packet::message_text("test1"),
                Packet::message_text("test2"),
                Packet::message_text("test3"),
            ],
        ),
        ("6\x1e1", &[Packet::noop(), Packet::close()]),
        ("2", &[Packet::ping()]),
        (
            "4\x1e4",
            &[Packet::message_text(""), Packet::message_text("")],
        ),
    ];
    for (body, packets) in cases {
        assert_eq!(v4_decode(body), oks(packets), "{body:?}");
        assert_eq!(v4_encode(packets).unwrap(), body.as_bytes());
    }
    // Raw bytes encode the same as their base64 view.
    let raw = [
        Packet::message_text("hello"),
        Packet::message_binary(&[1, 2, 3, 4]),
    ];
    assert_eq!(v4_encode(&raw).unwrap(), b"4hello\x1ebAQIDBA==");
}

#[test]
fn v4_malformed_bodies_deliver_packets_before_the_error() {
    let hello = Ok(Packet::message_text("a"));
    let cases: &[(&str, Decoded<'_>)] = &[
        ("", vec![Err(Error::Empty)]),
        ("4a\x1e", vec![hello, Err(Error::Empty)]),
        ("\x1e4a", vec![Err(Error::Empty)]),
        ("4a\x1e\x1e4a", vec![hello, Err(Error::Empty)]),
        (
            "4a\x1e9\x1e4a",
            vec![hello, Err(Error::UnknownPacketType(b'9'))],
        ),
        ("4a\x1ebAQ=\x1e4a", vec![hello, Err(Error::InvalidBase64)]),
    ];
    for (body, want) in cases {
        assert_eq!(&v4_decode(body), want, "{body:?}");
    }
}

#[test]
fn v4_iterator_is_fused_after_an_error() {
    let mut it = v4::decode("4a\x1e\x1e4b", &LIMITS);
    assert_eq!(it.next(), Some(Ok(Packet::message_text("a"))));
    assert_eq!(it.next(), Some(Err(Error::Empty)));
    assert_eq!(it.next(), None);
    assert_eq!(it.next(), None);
}

#[test]
fn v4_body_over_the_limit_is_refused_up_front() {
    let limits = Limits {
        max_packet_len: 5,
        ..Limits::DEFAULT
    };
    let want = vec![Err(Error::PayloadTooLarge { len: 6, max: 5 })];
    assert_eq!(v4::decode("4hello", &limits).collect::<Decoded<'_>>(), want);
    assert_eq!(
        v4::decode_bytes(b"4hello", &limits).collect::<Decoded<'_>>(),
        want
    );
    assert_eq!(v4::decode("4hell", &limits).count(), 1);
    // Checked before UTF-8 validation.
    assert_eq!(
        v4::decode_bytes(b"4hell\xff", &limits).next(),
        Some(Err(Error::PayloadTooLarge { len: 6, max: 5 }))
    );
}

#[test]
fn v4_decode_bytes_validates_utf8() {
    assert_eq!(
        v4::decode_bytes(b"4a\x1e4\xc3", &LIMITS).collect::<Decoded<'_>>(),
        vec![Err(Error::InvalidUtf8)]
    );
    assert_eq!(
        v4::decode_bytes(b"", &LIMITS).collect::<Decoded<'_>>(),
        vec![Err(Error::Empty)]
    );
    assert_eq!(
        v4::decode_bytes("4€".as_bytes(), &LIMITS).collect::<Decoded<'_>>(),
        vec![Ok(Packet::message_text("€"))]
    );
}

#[test]
fn v4_writer_errors_leave_no_trace() {
    let mut buf = [0u8; 10];
    let mut w = v4::PayloadWriter::new(&mut buf);
    w.push(&Packet::message_text("abc")).unwrap();
    assert_eq!(
        w.push(&Packet::message_text("a\x1eb")),
        Err(Error::SeparatorInText)
    );
    assert_eq!(
        w.push(&Packet::new(PacketType::Ping, Data::Binary(&[1]))),
        Err(Error::BinaryNotMessage)
    );
    assert_eq!(
        w.push(&Packet::message_text("abcdef")),
        Err(Error::BufferFull)
    );
    assert_eq!(w.as_bytes(), b"4abc");
    w.push(&Packet::message_text("abcd")).unwrap();
    assert_eq!(w.as_bytes(), b"4abc\x1e4abcd");
    assert_eq!(w.packet_count(), 2);
    assert!(!w.is_empty());
}

// ----------------------------------------------------------- v3 text ----

#[test]
fn v3_text_examples_decode_and_encode_exactly() {
    let cases: &[(&str, &[Packet<'_>])] = &[
        ("10:b4AQIDBA==", &[b64_message("AQIDBA==")]),
        (
            "19:42[\"message\",\"€😀\"]",
            &[Packet::message_text("2[\"message\",\"€😀\"]")],
        ),
        ("1:6", &[Packet::noop()]),
        ("1:1", &[Packet::close()]),
        ("1:61:1", &[Packet::noop(), Packet::close()]),
        ("6:2probe1:5", &[Packet::ping_probe(), Packet::upgrade()]),
        (
            "6:4hello10:b4AQIDBA==",
            &[Packet::message_text("hello"), b64_message("AQIDBA==")],
        ),
        (
            "3:4😀2:4€",
            &[Packet::message_text("😀"), Packet::message_text("€")],
        ),
        ("3:41:", &[Packet::message_text("1:")]),
    ];
    for (body, packets) in cases {
        assert_eq!(v3t_decode(body), oks(packets), "{body:?}");
        assert_eq!(v3t_encode(packets).unwrap(), body.as_bytes());
    }
    let raw = [Packet::message_binary(&[1, 2, 3, 4])];
    assert_eq!(v3t_encode(&raw).unwrap(), b"10:b4AQIDBA==");
}

#[test]
fn v3_text_v3_handshake_example_has_length_96() {
    let json = r#"{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000}"#;
    let body = v3t_encode(&[Packet::open(json)]).unwrap();
    assert_eq!(body, format!("96:0{json}").as_bytes());
}

#[test]
fn v3_text_malformed_bodies() {
    let noop = Ok(Packet::noop());
    let cases: &[(&str, Decoded<'_>)] = &[
        ("", vec![Err(Error::Empty)]),
        (":6", vec![Err(Error::InvalidLength)]),
        ("a:6", vec![Err(Error::InvalidLength)]),
        ("-1:6", vec![Err(Error::InvalidLength)]),
        (" 1:6", vec![Err(Error::InvalidLength)]),
        ("1x6", vec![Err(Error::InvalidLength)]),
        ("1:6:", vec![noop, Err(Error::InvalidLength)]),
        ("12", vec![Err(Error::UnterminatedLength)]),
        ("1:612", vec![noop, Err(Error::UnterminatedLength)]),
        ("1:61:", vec![noop, Err(Error::LengthOverrun)]),
        ("2:4😀", vec![Err(Error::LengthSplitsCharacter)]),
        ("0:", vec![Err(Error::Empty)]),
        ("1:61:9", vec![noop, Err(Error::UnknownPacketType(b'9'))]),
        ("5:b4AQ=", vec![Err(Error::InvalidBase64)]),
    ];
    for (body, want) in cases {
        assert_eq!(&v3t_decode(body), want, "{body:?}");
    }
}

/// Regression: a length longer than the rest of the body must be an error,
/// not a short read or a panic.
#[test]
fn v3_text_length_overrun_is_an_error() {
    assert_eq!(v3t_decode("7:4hello"), vec![Err(Error::LengthOverrun)]);
    assert_eq!(v3t_decode("4:4€"), vec![Err(Error::LengthOverrun)]);
    assert_eq!(v3t_decode("3:4€"), vec![Err(Error::LengthOverrun)]);
    assert_eq!(
        v3t_decode("1:699999:4hello"),
        vec![Ok(Packet::noop()), Err(Error::LengthOverrun)]
    );
}

/// Regression: a 30-digit length overflows every integer type; it must be
/// reported, not wrap or panic.
#[test]
fn v3_text_huge_length_is_an_error() {
    assert_eq!(
        v3t_decode("999999999999999999999999999999:4hello"),
        vec![Err(Error::InvalidLength)]
    );
    assert_eq!(
        v3t_decode("18446744073709551616:4"),
        vec![Err(Error::InvalidLength)]
    );
}

#[test]
fn v3_text_body_over_the_limit_is_refused_up_front() {
    let limits = Limits {
        max_packet_len: 3,
        ..Limits::DEFAULT
    };
    assert_eq!(
        v3_text::decode("1:61:1", &limits).collect::<Decoded<'_>>(),
        vec![Err(Error::PayloadTooLarge { len: 6, max: 3 })]
    );
    assert_eq!(
        v3_text::decode_bytes(b"1:61:1", &limits).collect::<Decoded<'_>>(),
        vec![Err(Error::PayloadTooLarge { len: 6, max: 3 })]
    );
}

#[test]
fn v3_text_decode_bytes_validates_utf8() {
    assert_eq!(
        v3_text::decode_bytes(b"1:6\xff", &LIMITS).collect::<Decoded<'_>>(),
        vec![Err(Error::InvalidUtf8)]
    );
    assert_eq!(
        v3_text::decode_bytes("2:4€".as_bytes(), &LIMITS).collect::<Decoded<'_>>(),
        vec![Ok(Packet::message_text("€"))]
    );
}

#[test]
fn v3_text_writer_counts_utf16_units() {
    let mut buf = [0u8; 64];
    let mut w = v3_text::PayloadWriter::new(&mut buf);
    w.push(&Packet::message_text("€😀")).unwrap();
    assert_eq!(w.as_bytes(), "4:4€😀".as_bytes());
    assert_eq!(v3_text::utf16_len("€😀"), 3);
    assert_eq!(v3_text::utf16_len(""), 0);
    // Text may contain 0x1E and ':' here: the length frames it.
    w.push(&Packet::message_text("\x1e:")).unwrap();
    assert_eq!(w.as_bytes(), "4:4€😀3:4\x1e:".as_bytes());
}

#[test]
fn v3_text_writer_errors_leave_no_trace() {
    let mut buf = [0u8; 8];
    let mut w = v3_text::PayloadWriter::new(&mut buf);
    w.push(&Packet::message_text("ab")).unwrap();
    assert_eq!(w.push(&Packet::message_text("abc")), Err(Error::BufferFull));
    assert_eq!(w.as_bytes(), b"3:4ab");
    assert_eq!(w.packet_count(), 1);
}

// --------------------------------------------------------- v3 binary ----

/// The suite's example: `4hello` plus binary `01 02 03 04`.
#[test]
fn v3_binary_example_decodes_and_encodes_exactly() {
    let body: &[u8] = &[
        0x00, 0x06, 0xFF, 0x34, 0x68, 0x65, 0x6C, 0x6C, 0x6F, 0x01, 0x05, 0xFF, 0x04, 0x01, 0x02,
        0x03, 0x04,
    ];
    let packets = [
        Packet::message_text("hello"),
        Packet::message_binary(&[1, 2, 3, 4]),
    ];
    assert_eq!(v3b_decode(body), oks(&packets));
    assert_eq!(v3b_encode(&packets).unwrap(), body);
    // Base64 data from a text payload is written as raw bytes.
    let from_text = [Packet::message_text("hello"), b64_message("AQIDBA==")];
    assert_eq!(v3b_encode(&from_text).unwrap(), body);
}

#[test]
fn v3_binary_more_examples() {
    let ten = [7u8; 10];
    let mut long = vec![0x01, 0x01, 0x01, 0xFF, 0x04];
    long.extend_from_slice(&ten);
    let cases: &[(&[u8], &[Packet<'_>])] = &[
        (&[0x00, 0x01, 0xFF, b'6'], &[Packet::noop()]),
        (&[0x01, 0x01, 0xFF, 0x04], &[Packet::message_binary(&[])]),
        (
            &[0x01, 0x02, 0xFF, 0x02, 0x09],
            &[Packet::new(PacketType::Ping, Data::Binary(&[9]))],
        ),
        (&long, &[Packet::message_binary(&ten)]),
    ];
    for (body, packets) in cases {
        assert_eq!(v3b_decode(body), oks(packets), "{body:?}");
        assert_eq!(v3b_encode(packets).unwrap(), *body);
    }
    // A string entry may hold a base64 packet; leading zero digits are read.
    assert_eq!(
        v3b_decode(&[0x00, 0x00, 0x06, 0xFF, b'b', b'4', b'A', b'Q', b'=', b'=']),
        vec![Ok(Packet::message_binary(&[1]))]
    );
}

/// Regression: a length digit byte above 9 (here 0xD0) is not a digit; the
/// reference parser would have concatenated "208" into the length.
#[test]
fn v3_binary_length_digit_d0_is_rejected() {
    assert_eq!(
        v3b_decode(&[0x00, 0xD0, 0xFF, b'4', b'h']),
        vec![Err(Error::InvalidLength)]
    );
    assert_eq!(
        v3b_decode(&[0x00, 0x01, 0xFF, b'6', 0x01, 0x01, 0x0A, 0xFF, 0x04]),
        vec![Ok(Packet::noop()), Err(Error::InvalidLength)]
    );
}

#[test]
fn v3_binary_malformed_bodies() {
    let mut too_many_digits = vec![0x00];
    too_many_digits.extend([0u8; 20]);
    too_many_digits.extend([1, 0xFF, b'6']);
    let cases: &[(&[u8], Decoded<'_>)] = &[
        (&[], vec![Err(Error::Empty)]),
        (
            &[0x02, 0x01, 0xFF, b'6'],
            vec![Err(Error::InvalidPayloadKind(2))],
        ),
        (
            &[b'4', 0x01, 0xFF, b'6'],
            vec![Err(Error::InvalidPayloadKind(b'4'))],
        ),
        (&[0x00], vec![Err(Error::UnterminatedLength)]),
        (&[0x00, 0x06], vec![Err(Error::UnterminatedLength)]),
        (&[0x00, 0xFF, b'6'], vec![Err(Error::InvalidLength)]),
        (&too_many_digits, vec![Err(Error::InvalidLength)]),
        (
            &[0x00, 0x09, 0xFF, b'4', b'h'],
            vec![Err(Error::LengthOverrun)],
        ),
        (
            &[0x00, 0x02, 0xFF, b'4', 0xFF],
            vec![Err(Error::InvalidUtf8)],
        ),
        (&[0x00, 0x00, 0xFF], vec![Err(Error::Empty)]),
        (&[0x01, 0x00, 0xFF], vec![Err(Error::Empty)]),
        (
            &[0x01, 0x01, 0xFF, 0x09],
            vec![Err(Error::UnknownPacketType(9))],
        ),
        (
            &[0x00, 0x01, 0xFF, b'9'],
            vec![Err(Error::UnknownPacketType(b'9'))],
        ),
        (
            &[0x00, 0x01, 0xFF, b'6', 0x07],
            vec![Ok(Packet::noop()), Err(Error::InvalidPayloadKind(7))],
        ),
    ];
    for (body, want) in cases {
        assert_eq!(&v3b_decode(body), want, "{body:?}");
    }
}

#[test]
fn v3_binary_lengths_are_bounded() {
    let limits = Limits {
        max_packet_len: 10,
        ..Limits::DEFAULT
    };
    // 11 > max_packet_len, although the body itself is within the limit.
    assert_eq!(
        v3_binary::decode(&[0x01, 1, 1, 0xFF, 4], &limits).collect::<Decoded<'_>>(),
        vec![Err(Error::InvalidLength)]
    );
    assert_eq!(
        v3_binary::decode(&[0u8; 11], &limits).collect::<Decoded<'_>>(),
        vec![Err(Error::PayloadTooLarge { len: 11, max: 10 })]
    );
    // 20 nines overflow a 64-bit length (checked, not wrapped).
    let mut huge = vec![0x01];
    huge.extend([9u8; 20]);
    huge.push(0xFF);
    assert_eq!(v3b_decode(&huge), vec![Err(Error::InvalidLength)]);
}

#[test]
fn v3_binary_writer_errors_leave_no_trace() {
    let mut buf = [0u8; 6];
    let mut w = v3_binary::PayloadWriter::new(&mut buf);
    w.push(&Packet::message_binary(&[1])).unwrap();
    assert_eq!(
        w.push(&Packet::message_binary(&[1])),
        Err(Error::BufferFull)
    );
    assert_eq!(w.as_bytes(), [0x01, 0x02, 0xFF, 0x04, 0x01]);
}

#[cfg(feature = "alloc")]
#[test]
fn vec_writers_append_to_existing_contents() {
    let packets = [
        Packet::message_text("hello"),
        Packet::message_binary(&[1, 2, 3, 4]),
    ];
    assert_eq!(v4::encode_to_vec(&packets).unwrap(), b"4hello\x1ebAQIDBA==");
    assert_eq!(
        v3_text::encode_to_vec(&packets).unwrap(),
        b"6:4hello10:b4AQIDBA=="
    );
    assert_eq!(
        v3_binary::encode_to_vec(&packets).unwrap(),
        [
            0x00, 0x06, 0xFF, 0x34, 0x68, 0x65, 0x6C, 0x6C, 0x6F, 0x01, 0x05, 0xFF, 0x04, 0x01,
            0x02, 0x03, 0x04
        ]
    );
    let mut body = b"HTTP body: ".to_vec();
    let mut w = v4::PayloadWriter::new_vec(&mut body);
    w.push(&Packet::noop()).unwrap();
    assert_eq!(
        w.push(&Packet::message_text("\x1e")),
        Err(Error::SeparatorInText)
    );
    w.push(&Packet::close()).unwrap();
    assert_eq!(w.as_bytes(), b"6\x1e1");
    assert_eq!(w.len(), 3);
    assert_eq!(body, b"HTTP body: 6\x1e1");
    assert_eq!(
        v4::encode_to_vec(&[Packet::new(PacketType::Ping, Data::Binary(&[]))]),
        Err(Error::BinaryNotMessage)
    );
}

// -------------------------------------------------------- properties ----

/// Owned packet data for generating packets in properties.
#[derive(Debug, Clone)]
enum Gen {
    Text(PacketType, String),
    Binary(PacketType, Vec<u8>),
}

impl Gen {
    fn packet(&self) -> Packet<'_> {
        match self {
            Gen::Text(t, s) => Packet::new(*t, Data::Text(s)),
            Gen::Binary(t, b) => Packet::new(*t, Data::Binary(b)),
        }
    }
}

fn packet_type() -> impl Strategy<Value = PacketType> {
    prop::sample::select(PacketType::ALL.to_vec())
}

/// Packets v4 polling can carry: text without 0x1E, binary messages.
fn v4_gen() -> impl Strategy<Value = Gen> {
    prop_oneof![
        (packet_type(), "[^\u{1e}]{0,20}").prop_map(|(t, s)| Gen::Text(t, s)),
        prop::collection::vec(any::<u8>(), 0..40).prop_map(|b| Gen::Binary(PacketType::Message, b)),
    ]
}

/// Packets v3 can carry: any text, binary of any type.
fn v3_gen() -> impl Strategy<Value = Gen> {
    prop_oneof![
        (packet_type(), any::<String>()).prop_map(|(t, s)| Gen::Text(t, s)),
        (packet_type(), prop::collection::vec(any::<u8>(), 0..40))
            .prop_map(|(t, b)| Gen::Binary(t, b)),
    ]
}

proptest! {
    #[test]
    fn v4_payload_round_trips(gens in prop::collection::vec(v4_gen(), 1..8)) {
        let packets: Vec<Packet<'_>> = gens.iter().map(Gen::packet).collect();
        let body = v4_encode(&packets).unwrap();
        let body = std::str::from_utf8(&body).unwrap();
        let decoded: Vec<Packet<'_>> = v4::decode(body, &LIMITS).collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(&decoded, &packets);
        prop_assert_eq!(v4_encode(&decoded).unwrap(), body.as_bytes());
    }

    #[test]
    fn v3_text_payload_round_trips(gens in prop::collection::vec(v3_gen(), 1..8)) {
        let packets: Vec<Packet<'_>> = gens.iter().map(Gen::packet).collect();
        let body = v3t_encode(&packets).unwrap();
        let body = std::str::from_utf8(&body).unwrap();
        let decoded: Vec<Packet<'_>> = v3_text::decode(body, &LIMITS).collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(&decoded, &packets);
        prop_assert_eq!(v3t_encode(&decoded).unwrap(), body.as_bytes());
    }

    #[test]
    fn v3_binary_payload_round_trips(gens in prop::collection::vec(v3_gen(), 1..8)) {
        let packets: Vec<Packet<'_>> = gens.iter().map(Gen::packet).collect();
        let body = v3b_encode(&packets).unwrap();
        let decoded: Vec<Packet<'_>> = v3_binary::decode(&body, &LIMITS).collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(&decoded, &packets);
        prop_assert_eq!(v3b_encode(&decoded).unwrap(), body);
    }

    #[test]
    fn utf16_len_matches_std(s in any::<String>()) {
        prop_assert_eq!(v3_text::utf16_len(&s), s.encode_utf16().count());
    }

    /// Garbage never panics, iteration ends, and accepted v4 bodies are canonical.
    #[test]
    fn v4_garbage(body in "[0-7b\u{1e}A-Za-z+/=€]{0,24}") {
        let results: Decoded<'_> = v4::decode(&body, &LIMITS).collect();
        prop_assert!(results.len() <= body.len() + 1);
        if let Ok(packets) = results.into_iter().collect::<Result<Vec<_>, _>>() {
            prop_assert_eq!(v4_encode(&packets).unwrap(), body.as_bytes());
        }
    }

    #[test]
    fn v3_text_garbage(body in "[0-9:b4A-Z=€😀]{0,24}") {
        let results: Decoded<'_> = v3_text::decode(&body, &LIMITS).collect();
        prop_assert!(results.len() <= body.len() + 1);
        prop_assert!(results.iter().filter(|r| r.is_err()).count() <= 1);
    }

    #[test]
    fn v3_binary_garbage(body in prop::collection::vec(prop_oneof![0u8..12, Just(0xFF), any::<u8>()], 0..32)) {
        let results: Decoded<'_> = v3_binary::decode(&body, &LIMITS).collect();
        prop_assert!(results.len() <= body.len() + 1);
        prop_assert!(results.iter().filter(|r| r.is_err()).count() <= 1);
    }
}
