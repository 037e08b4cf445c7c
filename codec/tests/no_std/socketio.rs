//! no_std cases for the Socket.IO layer: decode, lazy event names, typed
//! arguments, encoding into fixed buffers, and reassembly with a fixed store.

use oxio_codec::json::JsonError;
use oxio_codec::socketio::{
    Args, Binary, Decoder, Encoder, Error, PacketType, Reassembler, Version,
};
use oxio_codec::{Instant, Limits};

#[derive(serde::Deserialize, serde::Serialize, PartialEq, Debug)]
struct Reading<'a> {
    device: &'a str,
    temp_c: f32,
    uptime_ms: u32,
}

cases! {
    fn decodes_an_event_header_and_name() {
        let p = Decoder::default().decode(r#"2/chat,7["message",{"text":"hi"}]"#).unwrap();
        assert_eq!(p.packet_type(), PacketType::Event);
        assert_eq!(p.namespace(), "/chat");
        assert_eq!(p.ack_id(), Some(7));
        assert_eq!(p.event_name().unwrap().as_str(), Some("message"));
    }

    fn lazy_header_defers_argument_validation() {
        let d = Decoder::default();
        let h = d.decode_header(r#"2/chat,7["message",{"text":]"#).unwrap();
        assert_eq!((h.packet_type(), h.namespace(), h.ack_id()), (PacketType::Event, "/chat", Some(7)));
        assert_eq!(h.event_name().unwrap().as_str(), Some("message"));
        let err = Error::InvalidJson(JsonError::UnexpectedByte { offset: 19 });
        assert_eq!(h.validate().unwrap_err(), err);
        assert_eq!(h.args::<(Reading,)>().unwrap_err(), err);
        assert_eq!(d.decode_header(r#"2["disconnect",{"#).unwrap_err(), Error::ReservedEventName);
        assert_eq!(d.decode_header("2[\"a\u{1}\"]").unwrap_err(), Error::InvalidJson(JsonError::InvalidString));
    }

    fn lazy_header_validates_to_the_strict_packet() {
        let frame = r#"2["sensor",{"device":"pico","temp_c":21.5,"uptime_ms":5000}]"#;
        let d = Decoder::default();
        let h = d.decode_header(frame).unwrap();
        assert_eq!(h.validate().unwrap(), d.decode(frame).unwrap());
        let r: Reading = h.args().unwrap();
        assert_eq!(r, Reading { device: "pico", temp_c: 21.5, uptime_ms: 5000 });
    }

    fn deserializes_borrowed_arguments() {
        let p = Decoder::default()
            .decode(r#"2["sensor",{"device":"pico","temp_c":21.5,"uptime_ms":5000}]"#)
            .unwrap();
        let r: Reading = p.args().unwrap();
        assert_eq!(r, Reading { device: "pico", temp_c: 21.5, uptime_ms: 5000 });
    }

    fn escaped_strings_need_scratch_without_alloc() {
        let p = Decoder::default().decode(r#"2["m","a\nb"]"#).unwrap();
        let mut scratch = [0u8; 16];
        let s: heapless::String<8> = p.args_with_scratch(&mut scratch).unwrap();
        assert_eq!(s.as_str(), "a\nb");
    }

    fn encodes_an_event_into_a_fixed_buffer() {
        let mut buf = [0u8; 96];
        let out = Encoder::default()
            .event(&mut buf, "/", Some(3), "sensor", &Reading { device: "pico", temp_c: 21.5, uptime_ms: 5000 })
            .unwrap();
        assert_eq!(
            &buf[..out.len],
            br#"23["sensor",{"device":"pico","temp_c":21.5,"uptime_ms":5000}]"#
        );
    }

    fn encodes_acks_and_connects() {
        let mut buf = [0u8; 64];
        let n = Encoder::default().ack(&mut buf, "/", 4, &(true,)).unwrap().len;
        assert_eq!(&buf[..n], b"34[true]");
        let n = Encoder::default().connect(&mut buf, "/admin").unwrap();
        assert_eq!(&buf[..n], b"0/admin,");
        let n = Encoder::new(Version::V4).connect_error(&mut buf, "/", "nope").unwrap();
        assert_eq!(&buf[..n], br#"4"nope""#);
    }

    fn rejects_known_attacks() {
        let d = Decoder::default();
        assert_eq!(d.decode(r#"51-["m",{"_placeholder":true,"num":"splice"}]"#).unwrap_err(), Error::InvalidPlaceholder);
        assert_eq!(d.decode(r#"50-["m","x"]"#).unwrap_err(), Error::IllegalAttachments);
        assert_eq!(d.decode(r#"511-["m"]"#).unwrap_err(), Error::TooManyAttachments { count: 11, max: 10 });
        assert_eq!(d.decode(r#"2[{"toString":"foo"}]"#).unwrap_err(), Error::InvalidPayload);
        assert_eq!(d.decode(r#"2["disconnect"]"#).unwrap_err(), Error::ReservedEventName);
        assert_eq!(d.decode("2[]").unwrap_err(), Error::InvalidPayload);
        assert_eq!(d.decode(r#"21234567890123456789012["m"]"#).unwrap_err(), Error::AckIdTooLarge);
    }

    fn rejects_deep_nesting_without_recursion() {
        // 200 levels, built in a fixed buffer.
        let mut buf = [0u8; 410];
        buf[0] = b'2';
        for b in &mut buf[1..206] { *b = b'['; }
        for b in &mut buf[206..410] { *b = b']'; }
        buf[205] = b'1';
        let text = core::str::from_utf8(&buf).unwrap();
        assert_eq!(
            Decoder::new(Version::V5, Limits::DEFAULT).decode(text).unwrap_err(),
            Error::InvalidJson(JsonError::TooDeep)
        );
    }

    fn encodes_binary_with_placeholders() {
        let mut buf = [0u8; 96];
        let mut total = 0;
        let out = Encoder::default()
            .event_with_attachments(&mut buf, "/", None, "img", &(Binary(&[1, 2, 3]),), |_, b| total += b.len())
            .unwrap();
        assert_eq!(&buf[..out.len], br#"51-["img",{"_placeholder":true,"num":0}]"#);
        assert_eq!((out.attachments, total), (1, 3));
    }

    fn echoes_every_argument_with_args() {
        let p = Decoder::default().decode(r#"2["message",1,2]"#).unwrap();
        let Args(args): Args<heapless::Vec<&str, 4>> = Decoder::default()
            .decode(r#"2["m","a","b"]"#)
            .unwrap()
            .args()
            .unwrap();
        assert_eq!(args, ["a", "b"]);
        let Args(nums): Args<heapless::Vec<u8, 2>> = Decoder::default().decode(r#"2["m",1,2]"#).unwrap().args().unwrap();
        let mut buf = [0u8; 64];
        let n = Encoder::default().event(&mut buf, "/", None, "back", &Args(nums)).unwrap().len;
        assert_eq!(&buf[..n], br#"2["back",1,2]"#);
        assert_eq!(
            p.args::<Args<heapless::Vec<u8, 1>>>(),
            Err(Error::Deserialize(JsonError::InvalidLength(2)))
        );
    }

    fn reassembles_with_a_fixed_store() {
        let mut r: Reassembler<&str, &[u8], heapless::Vec<&[u8], 2>> = Reassembler::new(Decoder::default());
        let t = Instant::from_millis(5);
        assert!(r.on_text(r#"52-["img",{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]"#, t).unwrap().is_none());
        assert!(r.on_binary(&[9u8][..], t).unwrap().is_none());
        let done = r.on_binary(&[7u8, 7][..], t).unwrap().unwrap();
        let p = done.packet().unwrap();
        let (a, b): (Binary, Binary) = p.args().unwrap();
        assert_eq!((a.0, b.0), (&[7u8, 7][..], &[9u8][..]));
        assert_eq!(r.on_binary(&[1u8][..], t).unwrap_err(), Error::UnexpectedBinary);
    }

    fn expires_missing_attachments() {
        let mut r: Reassembler<&str, &[u8], heapless::Vec<&[u8], 1>> = Reassembler::new(Decoder::default());
        let t = Instant::from_millis(0);
        r.on_text(r#"51-["img",{"_placeholder":true,"num":0}]"#, t).unwrap();
        let deadline = r.poll_timeout().unwrap();
        assert_eq!(r.handle_timeout(deadline), Err(Error::AttachmentTimeout));
        assert!(!r.is_pending());
    }
}
