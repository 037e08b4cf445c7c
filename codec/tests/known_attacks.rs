//! Regression tests for the inputs that crashed, hung or fooled other
//! Engine.IO / Socket.IO implementations. Each goes through the same path a
//! server takes: Engine.IO frame → Socket.IO packet (→ reassembly).

#![cfg(feature = "alloc")]

use oxio_codec::engineio::{self, payload, Data};
use oxio_codec::json::JsonError;
use oxio_codec::socketio::{self, Decoder, Error, Reassembler};
use oxio_codec::{Instant, Limits};

/// Decodes a WebSocket text frame as a server would.
fn through_the_stack(frame: &str) -> Result<socketio::PacketType, Error> {
    let eio = engineio::Packet::decode_text(frame, engineio::Version::V4)
        .expect("the Engine.IO layer accepts these frames");
    assert_eq!(eio.packet_type, engineio::PacketType::Message);
    let Data::Text(text) = eio.data else {
        panic!("text message expected")
    };
    let mut r: Reassembler<&str, &[u8], Vec<&[u8]>> = Reassembler::new(Decoder::default());
    r.on_text(text, Instant::from_millis(0))
        .map(|_| Decoder::default().decode(text).unwrap().packet_type())
}

#[test]
fn placeholder_num_splice() {
    // A string `num` made a JavaScript parser call `Array.prototype.splice`.
    assert_eq!(
        through_the_stack(r#"451-["m",{"_placeholder":true,"num":"splice"}]"#),
        Err(Error::InvalidPlaceholder)
    );
}

#[test]
fn zero_attachments() {
    // socket.io-parser 4.2.6 accepted a count of 0 and waited forever.
    assert_eq!(
        through_the_stack(r#"450-["m","x"]"#),
        Err(Error::IllegalAttachments)
    );
}

#[test]
fn eleven_attachments() {
    assert_eq!(
        through_the_stack(r#"4511-["m",{"_placeholder":true,"num":0}]"#),
        Err(Error::TooManyAttachments { count: 11, max: 10 })
    );
}

#[test]
fn event_name_object_with_to_string() {
    // An object event name crashed servers that called `.toString()` on it.
    assert_eq!(
        through_the_stack(r#"42[{"toString":"foo"}]"#),
        Err(Error::InvalidPayload)
    );
}

#[test]
fn reserved_disconnect_event() {
    // A client-sent "disconnect" event confused servers into tearing down sockets.
    assert_eq!(
        through_the_stack(r#"42["disconnect"]"#),
        Err(Error::ReservedEventName)
    );
}

#[test]
fn empty_event_array() {
    assert_eq!(through_the_stack("42[]"), Err(Error::InvalidPayload));
}

#[test]
fn ack_id_of_22_digits() {
    // Parsed into a float, it lost precision and matched the wrong ack.
    assert_eq!(
        through_the_stack(r#"421234567890123456789012["m"]"#),
        Err(Error::AckIdTooLarge)
    );
}

#[test]
fn ten_thousand_deep_array() {
    // Recursive parsers overflowed the stack. Run on a small stack to prove
    // nothing recurses with the input.
    let frame = format!("42[\"m\",{}{}]", "[".repeat(10_000), "]".repeat(10_000));
    let result = std::thread::Builder::new()
        .stack_size(64 * 1024)
        .spawn(move || through_the_stack(&frame))
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(result, Err(Error::InvalidJson(JsonError::TooDeep)));
}

#[test]
fn v3_length_prefix_that_overruns_the_body() {
    let mut packets = payload::v3_text::decode("99:42[\"m\"]", &Limits::DEFAULT);
    assert_eq!(
        packets.next().unwrap().unwrap_err(),
        engineio::Error::LengthOverrun
    );
    assert!(packets.next().is_none());
}

#[test]
fn v3_binary_length_digit_0xd0() {
    let body = [0x00, 0xD0, 0xFF, b'4', b'x'];
    let mut packets = payload::v3_binary::decode(&body, &Limits::DEFAULT);
    assert_eq!(
        packets.next().unwrap().unwrap_err(),
        engineio::Error::InvalidLength
    );
    assert!(packets.next().is_none());
}

#[test]
fn attachments_that_never_arrive_expire() {
    let mut r: Reassembler<&str, &[u8], Vec<&[u8]>> = Reassembler::new(Decoder::default());
    r.on_text(
        r#"51-["m",{"_placeholder":true,"num":0}]"#,
        Instant::from_millis(0),
    )
    .unwrap();
    let deadline = r.poll_timeout().unwrap();
    assert_eq!(r.handle_timeout(deadline), Err(Error::AttachmentTimeout));
}

#[test]
fn unannounced_binary_frame() {
    let mut r: Reassembler<&str, &[u8], Vec<&[u8]>> = Reassembler::new(Decoder::default());
    assert_eq!(
        r.on_binary(&[1, 2, 3], Instant::from_millis(0))
            .unwrap_err(),
        Error::UnexpectedBinary
    );
}
