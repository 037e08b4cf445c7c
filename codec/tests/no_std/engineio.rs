//! no_std cases for the `engineio` module: the protocol's exact forms,
//! decoded and encoded with fixed buffers only.

use oxio_codec::engineio::payload::{v3_binary, v3_text, v4};
use oxio_codec::engineio::{
    Base64, Data, Error, Handshake, HandshakeError, Packet, PacketType, Transport, Upgrades,
    Version,
};
use oxio_codec::*;

const HANDSHAKE: &str = r#"{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;

/// The v3 binary payload example: `4hello` plus binary `01 02 03 04`.
const XHR2: [u8; 17] = [
    0x00, 0x06, 0xFF, 0x34, 0x68, 0x65, 0x6C, 0x6C, 0x6F, 0x01, 0x05, 0xFF, 0x04, 0x01, 0x02, 0x03,
    0x04,
];

cases! {
    fn eio_text_packets_decode() {
        let cases: [(&str, Packet<'static>); 7] = [
            ("4hello", Packet::message_text("hello")),
            ("2", Packet::ping()),
            ("2probe", Packet::ping_probe()),
            ("3probe", Packet::pong_probe()),
            ("5", Packet::upgrade()),
            ("6", Packet::noop()),
            ("1", Packet::close()),
        ];
        for (text, want) in cases {
            assert_eq!(Packet::decode_text(text, Version::V4), Ok(want));
        }
    }

    fn eio_text_packets_encode() {
        let mut buf = [0u8; 16];
        let n = Packet::message_text("hello").encode_text(&mut buf, Version::V4).unwrap();
        assert_eq!(&buf[..n], b"4hello");
        let n = Packet::pong_probe().encode_text(&mut buf, Version::V3).unwrap();
        assert_eq!(&buf[..n], b"3probe");
        assert_eq!(Packet::message_text("hello").encode_text(&mut buf[..5], Version::V4), Err(Error::BufferFull));
    }

    fn eio_v4_binary_is_base64_in_text_and_raw_in_frames() {
        let p = Packet::decode_text("bAQIDBA==", Version::V4).unwrap();
        assert_eq!(p, Packet::message_binary(&[1, 2, 3, 4]));
        let mut buf = [0u8; 16];
        let n = p.encode_binary_frame(&mut buf, Version::V4).unwrap();
        assert_eq!(&buf[..n], &[1, 2, 3, 4]);
        let n = Packet::message_binary(&[1, 2, 3, 4]).encode_text(&mut buf, Version::V4).unwrap();
        assert_eq!(&buf[..n], b"bAQIDBA==");
        assert_eq!(Packet::decode_binary(&[1, 2, 3, 4], Version::V4), Ok(Packet::message_binary(&[1, 2, 3, 4])));
    }

    fn eio_v3_binary_has_a_type() {
        assert_eq!(Packet::decode_text("b4AQIDBA==", Version::V3), Ok(Packet::message_binary(&[1, 2, 3, 4])));
        assert_eq!(Packet::decode_binary(&[4, 1, 2, 3, 4], Version::V3), Ok(Packet::message_binary(&[1, 2, 3, 4])));
        let mut buf = [0u8; 16];
        let n = Packet::message_binary(&[1, 2, 3, 4]).encode_binary_frame(&mut buf, Version::V3).unwrap();
        assert_eq!(&buf[..n], &[4, 1, 2, 3, 4]);
    }

    fn eio_base64_decodes_into_a_caller_buffer() {
        let b = Base64::new("AQIDBA==").unwrap();
        assert_eq!(b.decoded_len(), 4);
        let mut buf = [0u8; 4];
        assert_eq!(b.decode_into(&mut buf), Ok(&[1u8, 2, 3, 4][..]));
        assert_eq!(Base64::new("AQIDBA="), Err(Error::InvalidBase64));
    }

    fn eio_malformed_packets_are_rejected() {
        assert_eq!(Packet::decode_text("", Version::V4), Err(Error::Empty));
        assert_eq!(Packet::decode_text("7", Version::V4), Err(Error::UnknownPacketType(b'7')));
        assert_eq!(Packet::decode_text("bAQ=", Version::V4), Err(Error::InvalidBase64));
        assert_eq!(Packet::decode_binary(&[], Version::V3), Err(Error::Empty));
        assert_eq!(Packet::decode_binary(&[9], Version::V3), Err(Error::UnknownPacketType(9)));
    }

    fn eio_v4_payload_decodes() {
        let mut it = v4::decode("4hello\x1ebAQIDBA==", &Limits::DEFAULT);
        assert_eq!(it.next(), Some(Ok(Packet::message_text("hello"))));
        assert_eq!(it.next(), Some(Ok(Packet::message_binary(&[1, 2, 3, 4]))));
        assert_eq!(it.next(), None);
        let mut texts = [""; 3];
        for (slot, p) in texts.iter_mut().zip(v4::decode("4test1\x1e4test2\x1e4test3", &Limits::DEFAULT)) {
            *slot = p.unwrap().data.as_text().unwrap();
        }
        assert_eq!(texts, ["test1", "test2", "test3"]);
    }

    fn eio_v4_payload_errors_stop_the_iterator() {
        let mut it = v4::decode("4a\x1e\x1e4b", &Limits::DEFAULT);
        assert_eq!(it.next(), Some(Ok(Packet::message_text("a"))));
        assert_eq!(it.next(), Some(Err(Error::Empty)));
        assert_eq!(it.next(), None);
        assert_eq!(v4::decode("", &Limits::DEFAULT).next(), Some(Err(Error::Empty)));
        let small = Limits { max_packet_len: 3, ..Limits::DEFAULT };
        assert_eq!(v4::decode("4hello", &small).next(), Some(Err(Error::PayloadTooLarge { len: 6, max: 3 })));
    }

    fn eio_v4_payload_encodes() {
        let mut buf = [0u8; 32];
        let mut w = v4::PayloadWriter::new(&mut buf);
        w.push(&Packet::message_text("hello")).unwrap();
        w.push(&Packet::message_binary(&[1, 2, 3, 4])).unwrap();
        assert_eq!(w.as_bytes(), b"4hello\x1ebAQIDBA==");
        assert_eq!(w.push(&Packet::message_text("\x1e")), Err(Error::SeparatorInText));
    }

    fn eio_v3_text_payload_counts_utf16() {
        let mut it = v3_text::decode("19:42[\"message\",\"€😀\"]", &Limits::DEFAULT);
        assert_eq!(it.next(), Some(Ok(Packet::message_text("2[\"message\",\"€😀\"]"))));
        assert_eq!(it.next(), None);
        let mut it = v3_text::decode("1:61:1", &Limits::DEFAULT);
        assert_eq!(it.next(), Some(Ok(Packet::noop())));
        assert_eq!(it.next(), Some(Ok(Packet::close())));
        assert_eq!(it.next(), None);
        let mut it = v3_text::decode("10:b4AQIDBA==", &Limits::DEFAULT);
        assert_eq!(it.next(), Some(Ok(Packet::message_binary(&[1, 2, 3, 4]))));
    }

    fn eio_v3_text_payload_encodes() {
        let mut buf = [0u8; 32];
        let mut w = v3_text::PayloadWriter::new(&mut buf);
        w.push(&Packet::message_text("€😀")).unwrap();
        w.push(&Packet::message_binary(&[1, 2, 3, 4])).unwrap();
        assert_eq!(w.as_bytes(), "4:4€😀10:b4AQIDBA==".as_bytes());
    }

    fn eio_v3_text_payload_rejects_bad_lengths() {
        assert_eq!(v3_text::decode("7:4hello", &Limits::DEFAULT).next(), Some(Err(Error::LengthOverrun)));
        assert_eq!(v3_text::decode("999999999999999999999999999999:4", &Limits::DEFAULT).next(), Some(Err(Error::InvalidLength)));
        assert_eq!(v3_text::decode("2:4😀", &Limits::DEFAULT).next(), Some(Err(Error::LengthSplitsCharacter)));
        assert_eq!(v3_text::decode("12", &Limits::DEFAULT).next(), Some(Err(Error::UnterminatedLength)));
    }

    fn eio_v3_binary_payload_round_trips() {
        let mut it = v3_binary::decode(&XHR2, &Limits::DEFAULT);
        let first = it.next().unwrap().unwrap();
        let second = it.next().unwrap().unwrap();
        assert_eq!(it.next(), None);
        assert_eq!(first, Packet::message_text("hello"));
        assert_eq!(second, Packet::message_binary(&[1, 2, 3, 4]));
        let mut buf = [0u8; 32];
        let mut w = v3_binary::PayloadWriter::new(&mut buf);
        w.push(&first).unwrap();
        w.push(&second).unwrap();
        assert_eq!(w.as_bytes(), &XHR2[..]);
    }

    fn eio_v3_binary_payload_rejects_a_d0_length_digit() {
        let body = [0x00, 0xD0, 0xFF, b'4', b'h'];
        assert_eq!(v3_binary::decode(&body, &Limits::DEFAULT).next(), Some(Err(Error::InvalidLength)));
        assert_eq!(v3_binary::decode(&[0x00, 0x09, 0xFF, b'4'], &Limits::DEFAULT).next(), Some(Err(Error::LengthOverrun)));
        assert_eq!(v3_binary::decode(&[0x02], &Limits::DEFAULT).next(), Some(Err(Error::InvalidPayloadKind(2))));
    }

    fn eio_handshake_encodes_exactly() {
        let mut buf = [0u8; 160];
        let n = Handshake::new("lv_VI97HAXpY6yYWAAAC").encode(&mut buf).unwrap();
        assert_eq!(&buf[..n], HANDSHAKE.as_bytes());
        let n = Handshake::new("lv_VI97HAXpY6yYWAAAC").encode_open_packet(&mut buf).unwrap();
        assert_eq!(buf[0], b'0');
        assert_eq!(&buf[1..n], HANDSHAKE.as_bytes());
    }

    fn eio_handshake_decodes_tolerantly() {
        assert_eq!(Handshake::decode(HANDSHAKE), Ok(Handshake::new("lv_VI97HAXpY6yYWAAAC")));
        let h = Handshake::decode(r#"{"upgrades":["x"],"pingTimeout":2,"extra":{"a":[1,null]},"pingInterval":1,"sid":"s"}"#).unwrap();
        assert_eq!(h.upgrades, Upgrades::NONE);
        assert_eq!((h.sid, h.ping_interval, h.ping_timeout, h.max_payload), ("s", 1, 2, None));
        let h = Handshake::decode(r#"{"sid":"s","upgrades":["websocket"],"pingInterval":1,"pingTimeout":2}"#).unwrap();
        assert!(h.upgrades.contains(Transport::WebSocket));
    }

    fn eio_handshake_rejects_garbage() {
        assert_eq!(
            Handshake::decode(r#"{"sid":"s"}"#),
            Err(Error::InvalidHandshake(HandshakeError::MissingField("upgrades")))
        );
        assert_eq!(
            Handshake::decode(r#"{"sid":"a\"b","upgrades":[],"pingInterval":1,"pingTimeout":2}"#),
            Err(Error::InvalidHandshake(HandshakeError::EscapedSid))
        );
        assert!(Handshake::decode("{\"sid\":").is_err());
        assert!(Handshake::decode_open_packet("4{}").is_err());
    }

    fn eio_packet_types_round_trip() {
        for t in PacketType::ALL {
            assert_eq!(PacketType::from_digit(t.as_digit()), Some(t));
            assert_eq!(PacketType::from_raw(t.as_raw()), Some(t));
        }
        assert_eq!(Packet::new(PacketType::Ping, Data::Binary(&[1])).encode_text(&mut [0u8; 8], Version::V4), Err(Error::BinaryNotMessage));
    }
}
