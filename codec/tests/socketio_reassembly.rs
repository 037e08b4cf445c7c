//! Binary attachment reassembly: order, limits and deadlines.

#![cfg(feature = "alloc")]

use oxio_codec::socketio::{Binary, Decoder, Error, PacketType, Reassembler, Version};
use oxio_codec::{Instant, Limits};

type R<'a> = Reassembler<&'a str, Vec<u8>, Vec<Vec<u8>>>;

const T0: Instant = Instant::from_millis(1_000);

#[test]
fn a_binary_event_completes_after_its_last_attachment() {
    let mut r = R::new(Decoder::default());
    let text = r#"52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#;
    assert!(r.on_text(text, T0).unwrap().is_none());
    assert!(r.is_pending());
    assert!(r.on_binary(vec![1, 2], T0).unwrap().is_none());
    let done = r.on_binary(vec![3], T0 + 10).unwrap().unwrap();
    assert!(!r.is_pending());
    let p = done.packet().unwrap();
    assert_eq!(p.packet_type(), PacketType::BinaryEvent);
    assert_eq!(p.namespace(), "/admin");
    let (a, b): (Binary, Binary) = p.args().unwrap();
    assert_eq!((a.0, b.0), (&[1u8, 2][..], &[3u8][..]));
    let (text_back, atts) = done.into_parts();
    assert_eq!(text_back, text);
    assert_eq!(atts, [vec![1, 2], vec![3]]);
}

#[test]
fn non_binary_packets_pass_straight_through() {
    let mut r = R::new(Decoder::default());
    let done = r.on_text(r#"2["m",1]"#, T0).unwrap().unwrap();
    assert_eq!(done.packet().unwrap().packet_type(), PacketType::Event);
    assert!(done.attachments().is_empty());
    assert!(r.poll_timeout().is_none());
}

#[test]
fn order_violations_are_errors() {
    let mut r = R::new(Decoder::default());
    assert_eq!(
        r.on_binary(vec![1], T0).unwrap_err(),
        Error::UnexpectedBinary
    );
    r.on_text(r#"51-["m",{"_placeholder":true,"num":0}]"#, T0)
        .unwrap();
    assert_eq!(
        r.on_text(r#"2["m"]"#, T0).unwrap_err(),
        Error::UnexpectedText
    );
    // The state was reset: a new packet starts cleanly.
    assert!(!r.is_pending());
    assert!(r.on_text(r#"2["m"]"#, T0).unwrap().is_some());
}

#[test]
fn header_errors_surface_from_on_text() {
    let mut r = R::new(Decoder::default());
    for (frame, err) in [
        (r#"50-["m","x"]"#, Error::IllegalAttachments),
        (
            r#"511-["m"]"#,
            Error::TooManyAttachments { count: 11, max: 10 },
        ),
        (
            r#"51-["m",{"_placeholder":true,"num":"splice"}]"#,
            Error::InvalidPlaceholder,
        ),
    ] {
        assert_eq!(r.on_text(frame, T0).unwrap_err(), err, "{frame}");
        assert!(!r.is_pending());
    }
}

#[test]
fn total_attachment_bytes_are_limited() {
    let limits = Limits {
        max_attachment_bytes: 5,
        ..Limits::DEFAULT
    };
    let mut r = R::new(Decoder::new(Version::V5, limits));
    r.on_text(
        r#"52-["m",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
        T0,
    )
    .unwrap();
    assert!(r.on_binary(vec![0; 3], T0).unwrap().is_none());
    assert_eq!(
        r.on_binary(vec![0; 3], T0).unwrap_err(),
        Error::AttachmentsTooLarge
    );
    assert!(!r.is_pending());
}

#[test]
fn a_packet_whose_attachments_never_come_expires() {
    let mut r = R::new(Decoder::default());
    r.on_text(r#"51-["m",{"_placeholder":true,"num":0}]"#, T0)
        .unwrap();
    let deadline = r.poll_timeout().unwrap();
    assert_eq!(deadline, T0 + Limits::DEFAULT.attachment_timeout_ms);
    assert_eq!(r.handle_timeout(T0 + 1), Ok(()));
    assert!(r.is_pending());
    assert_eq!(r.handle_timeout(deadline), Err(Error::AttachmentTimeout));
    assert!(!r.is_pending());
    // A late attachment after expiry is an unexpected one.
    assert_eq!(
        r.on_binary(vec![1], deadline).unwrap_err(),
        Error::UnexpectedBinary
    );
    // An attachment arriving at the deadline without a timer tick also fails.
    r.on_text(r#"51-["m",{"_placeholder":true,"num":0}]"#, T0)
        .unwrap();
    assert_eq!(
        r.on_binary(vec![1], deadline).unwrap_err(),
        Error::AttachmentTimeout
    );
}

#[test]
fn a_fixed_capacity_store_bounds_attachments_without_alloc() {
    let mut r: Reassembler<&str, &[u8], heapless::Vec<&[u8], 2>> =
        Reassembler::new(Decoder::default());
    assert_eq!(
        r.on_text(r#"53-["m",{"_placeholder":true,"num":0}]"#, T0)
            .unwrap_err(),
        Error::TooManyAttachments { count: 3, max: 2 }
    );
    r.on_text(r#"52-["m",{"_placeholder":true,"num":1}]"#, T0)
        .unwrap();
    r.on_binary(b"a", T0).unwrap();
    let done = r.on_binary(b"b", T0).unwrap().unwrap();
    let p = done.packet().unwrap();
    let (b,): (Binary,) = p.args().unwrap();
    assert_eq!(b.0, b"b");
}

#[test]
fn a_completed_packet_views_the_same_fields_as_a_fresh_decode() {
    // The frame is an inline buffer that moves into `Complete`: the packet
    // must still be read from the moved frame, field for field.
    let frames = [
        r#"2/chat,7["m",{"a":1}]"#,
        r#"2/,["m"]"#,
        "0",
        r#"3/x,4[1,"2"]"#,
        r#"51-/bin,9["m",{"_placeholder":true,"num":0}]"#,
    ];
    for frame in frames {
        let mut r: Reassembler<heapless::String<64>, Vec<u8>, Vec<Vec<u8>>> =
            Reassembler::new(Decoder::default());
        let owned: heapless::String<64> = heapless::String::try_from(frame).unwrap();
        let done = match r.on_text(owned, T0).unwrap() {
            Some(done) => done,
            None => r.on_binary(vec![7], T0).unwrap().unwrap(),
        };
        let fresh = Decoder::default().decode(frame).unwrap();
        let p = done.packet().unwrap();
        assert_eq!(p, fresh, "{frame}");
        assert_eq!(p.namespace(), fresh.namespace(), "{frame}");
        assert_eq!(p.payload(), fresh.payload(), "{frame}");
    }
}
