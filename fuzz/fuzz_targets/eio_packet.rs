//! Engine.IO packets: `Packet::decode_text`, `Packet::decode_binary` and the
//! handshake JSON of an `open` packet (`Handshake::from_packet`).
//!
//! Input: one selector byte (bit 0: v3 instead of v4; bit 1: a WebSocket
//! binary frame instead of a text frame), then the frame.
//!
//! Invariants: decoded data borrows the frame; the text form is canonical,
//! so re-encoding a decoded frame gives back exactly the frame (and the
//! same for binary frames); a binary packet survives text → binary → text;
//! decoders never return an encode-only error; a decoded handshake
//! re-encodes to a handshake that decodes equal.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oxio_codec::engineio::{Data, Error, Handshake, Packet, PacketType, Version};
use oxio_fuzz::assert_inside;

fuzz_target!(|input: &[u8]| {
    let Some((&selector, frame)) = input.split_first() else {
        return;
    };
    let version = if selector & 1 == 0 {
        Version::V4
    } else {
        Version::V3
    };
    if selector & 2 == 0 {
        if let Ok(text) = std::str::from_utf8(frame) {
            text_frame(text, version);
        }
    } else {
        binary_frame(frame, version);
    }
});

fn assert_decode_error(e: &Error) {
    assert!(
        !matches!(
            e,
            Error::BufferFull | Error::BinaryNotMessage | Error::NotBinary | Error::SeparatorInText
        ),
        "a decoder returned an encode error: {e:?}"
    );
    let _ = e.to_string();
}

fn text_frame(text: &str, version: Version) {
    let packet = match Packet::decode_text(text, version) {
        Ok(p) => p,
        Err(e) => {
            assert_decode_error(&e);
            match text.as_bytes().first() {
                None => assert_eq!(e, Error::Empty),
                Some(b'0'..=b'6') => panic!("a digit-led text frame was refused: {e:?}"),
                Some(_) => {}
            }
            return;
        }
    };
    match packet.data {
        Data::Text(t) => {
            assert_inside(text.as_bytes(), t.as_bytes(), "text data");
            assert_eq!(t.len() + 1, text.len());
        }
        Data::Base64(b) => {
            assert_inside(text.as_bytes(), b.as_str().as_bytes(), "base64 data");
            let decoded = b.to_vec();
            assert_eq!(decoded.len(), b.decoded_len());
            assert_eq!(packet.data, Data::Binary(&decoded));
            if version == Version::V4 {
                assert_eq!(packet.packet_type, PacketType::Message);
            }
        }
        Data::Binary(_) => panic!("a text frame decoded to raw binary data"),
    }

    // The text form is canonical: encoding gives the frame back, byte for byte.
    let len = packet.encoded_text_len(version);
    assert_eq!(len, text.len(), "encoded_text_len of {packet:?}");
    let mut buf = vec![0u8; len];
    assert_eq!(packet.encode_text(&mut buf, version), Ok(len));
    assert_eq!(buf, text.as_bytes());
    assert_eq!(packet.to_text(version).as_deref(), Ok(text));
    let mut short = vec![0u8; len - 1];
    assert_eq!(
        packet.encode_text(&mut short, version),
        Err(Error::BufferFull)
    );

    // Binary data also has a WebSocket binary frame; it decodes equal.
    if packet.data.is_binary() {
        let frame = packet
            .to_binary_frame(version)
            .expect("binary data has a binary frame");
        assert_eq!(frame.len(), packet.binary_frame_len(version));
        let again = Packet::decode_binary(&frame, version).expect("own binary frame decodes");
        assert_eq!(again, packet);
    } else {
        assert_eq!(
            packet.encode_binary_frame(&mut buf, version),
            Err(Error::NotBinary)
        );
    }

    if packet.packet_type == PacketType::Open {
        handshake(text, &packet);
    }
}

fn handshake(text: &str, packet: &Packet<'_>) {
    let h = match Handshake::from_packet(packet) {
        Ok(h) => h,
        Err(e) => {
            assert!(matches!(e, Error::InvalidHandshake(_)), "{e:?}");
            let _ = e.to_string();
            return;
        }
    };
    assert_inside(text.as_bytes(), h.sid.as_bytes(), "handshake sid");
    let len = h.encoded_len();
    let mut buf = vec![0u8; len];
    assert_eq!(h.encode(&mut buf), Ok(len));
    assert_eq!(h.to_json().as_bytes(), &buf[..]);
    let json = std::str::from_utf8(&buf).expect("handshake JSON is UTF-8");
    let again = Handshake::decode(json).expect("own handshake JSON decodes");
    assert_eq!(again, h);
    // What we write is JSON.
    serde_json::from_str::<serde_json::Value>(json).expect("handshake JSON is JSON");
    let mut open = vec![0u8; len + 1];
    assert_eq!(h.encode_open_packet(&mut open), Ok(len + 1));
    let open = std::str::from_utf8(&open).expect("UTF-8");
    assert_eq!(Handshake::decode_open_packet(open), Ok(h));
}

fn binary_frame(frame: &[u8], version: Version) {
    let packet = match Packet::decode_binary(frame, version) {
        Ok(p) => p,
        Err(e) => {
            assert_decode_error(&e);
            assert_eq!(version, Version::V3, "v4 binary frames always decode");
            match frame.first() {
                None => assert_eq!(e, Error::Empty),
                Some(&b) => assert_eq!(e, Error::UnknownPacketType(b)),
            }
            return;
        }
    };
    let Data::Binary(bytes) = packet.data else {
        panic!("a binary frame decoded to {:?}", packet.data)
    };
    assert_inside(frame, bytes, "binary data");
    match version {
        Version::V4 => {
            assert_eq!(packet.packet_type, PacketType::Message);
            assert_eq!(bytes.len(), frame.len());
        }
        Version::V3 => assert_eq!(bytes.len() + 1, frame.len()),
    }
    let again = packet
        .to_binary_frame(version)
        .expect("decoded frame encodes");
    assert_eq!(again, frame);

    // And through the text form (v4 has one only for messages, which is all
    // a v4 binary frame can be).
    let text = packet
        .to_text(version)
        .expect("binary packet has a text form");
    assert_eq!(text.len(), packet.encoded_text_len(version));
    let decoded = Packet::decode_text(&text, version).expect("own text form decodes");
    assert_eq!(decoded, packet);
}
