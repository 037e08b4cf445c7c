//! Socket.IO packets, v5 and v4: `Decoder::decode` and every reader of a
//! decoded packet (`event_name`, `raw_args`, `args`, `data`,
//! `connect_error`, namespace helpers).
//!
//! Input: one selector byte (bit 0: v4 instead of v5; the rest picks the
//! limits, see `limits_for`), then the frame.
//!
//! Invariants: namespace and payload borrow the frame; every header field
//! respects its limit; the payload validates; `Encoder::packet` of a decoded
//! packet re-decodes equal and is never longer than the frame; what the
//! small limits accept the defaults accept, and what v5 accepts v4 accepts;
//! the readers never panic and agree with `serde_json`; the opt-in lazy
//! `decode_header` + `Header::validate` gives exactly the packet `decode`
//! gives, refuses what `decode` refuses, and its header fields borrow the
//! frame.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oxio_codec::json::validate::validate;
use oxio_codec::socketio::{Decoder, Encoder, Error, EventName, Packet, PacketType, Version};
use oxio_codec::Limits;
use oxio_fuzz::{assert_inside, inside, limits_for, Tree};

fuzz_target!(|input: &[u8]| {
    let Some((&selector, frame)) = input.split_first() else {
        return;
    };
    let Ok(frame) = std::str::from_utf8(frame) else {
        return;
    };
    let version = if selector & 1 == 0 {
        Version::V5
    } else {
        Version::V4
    };
    let limits = limits_for(selector >> 1);
    let decoder = Decoder::new(version, limits);
    check_lazy_agrees(frame, &decoder);
    match decoder.decode(frame) {
        Ok(p) => {
            check_packet(frame, &decoder, &p);
            // Looser settings accept whatever stricter ones accept.
            let loose = Decoder::new(Version::V4, Limits::DEFAULT);
            let mut lp = loose.decode(frame).unwrap_or_else(|e| {
                panic!("accepted under {decoder:?}, refused by v4 defaults: {e:?}")
            });
            assert_eq!(
                (
                    lp.namespace(),
                    lp.ack_id(),
                    lp.attachment_count(),
                    lp.payload()
                ),
                (p.namespace(), p.ack_id(), p.attachment_count(), p.payload())
            );
            lp = Decoder::new(version, Limits::DEFAULT)
                .decode(frame)
                .expect("accepted under small limits, refused by the defaults");
            assert_eq!(lp, p);
        }
        Err(e) => {
            assert!(
                !matches!(
                    e,
                    Error::UnexpectedText
                        | Error::UnexpectedBinary
                        | Error::AttachmentsTooLarge
                        | Error::AttachmentTimeout
                        | Error::BufferFull
                        | Error::Serialize(_)
                        | Error::Deserialize(_)
                ),
                "decoder returned a non-decode error: {e:?}"
            );
            let _ = e.to_string();
            if let Error::TooManyAttachments { count, max } = e {
                assert!(count > max);
                assert_eq!(max, limits.max_attachments);
            }
        }
    }
});

fn check_packet(frame: &str, decoder: &Decoder, p: &Packet<'_>) {
    let limits = &decoder.limits;
    let bytes = frame.as_bytes();
    let _ = format!("{p:?}");
    assert_eq!(p.version(), decoder.version);
    assert_eq!(p.packet_type().as_digit(), bytes[0]);

    // Header fields: within limits, borrowed from the frame.
    let ns = p.namespace();
    assert!(ns.starts_with('/'), "namespace {ns:?}");
    assert!(!ns.contains(','), "namespace {ns:?}");
    assert!(ns.len() <= limits.max_namespace_len || ns == "/");
    if !inside(bytes, ns.as_bytes()) {
        assert_eq!(
            ns, "/",
            "a namespace that is not borrowed must be the default"
        );
        assert_ne!(bytes.get(1), Some(&b'/'));
    }
    assert_eq!(
        p.namespace_path().len() + p.namespace_query().map_or(0, |q| q.len() + 1),
        ns.len()
    );
    if let Some(id) = p.ack_id() {
        assert!(id <= limits.max_ack_id);
    }
    if p.packet_type().is_binary() {
        assert!(p.attachment_count() >= 1);
        assert!(p.attachment_count() <= limits.max_attachments);
    } else {
        assert_eq!(p.attachment_count(), 0);
    }
    if let Some(payload) = p.payload() {
        assert_inside(bytes, payload.as_bytes(), "payload");
        assert!(bytes.ends_with(payload.as_bytes()));
        assert_eq!(validate(payload.as_bytes(), limits.max_depth), Ok(()));
    }

    // Written back in canonical form, it decodes equal.
    let mut buf = vec![0u8; frame.len() + 1];
    let n = Encoder::new(decoder.version)
        .packet(&mut buf, p)
        .expect("a decoded packet encodes");
    // Canonical: no leading zeros, no explicit `/,`; but a namespace that
    // ran to the end of the frame gains its `,`.
    assert!(n <= frame.len() + 1, "canonical form longer than the frame");
    let text = std::str::from_utf8(&buf[..n]).expect("UTF-8");
    let again = decoder.decode(text).expect("canonical form decodes");
    assert_eq!(&again, p);
    let mut buf2 = vec![0u8; n];
    assert_eq!(
        Encoder::new(decoder.version).packet(&mut buf2, &again),
        Ok(n)
    );
    assert_eq!(&buf2[..], &buf[..n], "canonical form is not stable");
    if n > 0 {
        assert_eq!(
            Encoder::new(decoder.version).packet(&mut buf2[..n - 1], p),
            Err(Error::BufferFull)
        );
    }

    // The payload as serde_json reads it (when its depth allows), as a
    // value (duplicate keys merged) and as a tree (duplicates kept).
    let value: Option<serde_json::Value> = p.payload().and_then(|s| serde_json::from_str(s).ok());
    let tree: Option<Tree> = p.payload().and_then(|s| serde_json::from_str(s).ok());
    assert_eq!(value.is_some(), tree.is_some());

    readers(p, value.as_ref(), tree.as_ref());
}

fn readers(p: &Packet<'_>, value: Option<&serde_json::Value>, tree: Option<&Tree>) {
    let payload = p.payload().unwrap_or("");
    let pb = payload.as_bytes();

    // Event name.
    match p.event_name() {
        Some(name) => {
            assert!(p.packet_type().is_event());
            let _ = name.to_string();
            match name {
                EventName::String(s) => {
                    assert_inside(pb, s.raw().as_bytes(), "event name");
                    let mut buf = vec![0u8; s.raw().len()];
                    let plain = name
                        .unescape_into(&mut buf)
                        .expect("raw length is enough room")
                        .to_owned();
                    assert!(name.eq_str(&plain));
                    assert_eq!(name.to_string(), plain);
                    if let Some(v) = value {
                        assert_eq!(v.get(0).and_then(|v| v.as_str()), Some(plain.as_str()));
                    }
                    if p.version() == Version::V5 {
                        assert!(!oxio_codec::socketio::is_reserved_event(&plain));
                    }
                }
                EventName::Number(n) => {
                    assert_inside(pb, n.as_bytes(), "numeric event name");
                    if let Some(v) = value {
                        assert!(v.get(0).is_some_and(|v| v.is_number()));
                    }
                }
            }
        }
        // An event without a payload (the reference accepts it) has no name.
        None => assert!(
            !p.packet_type().is_event() || p.payload().is_none(),
            "an event with a payload but without a name"
        ),
    }

    // Raw arguments: borrowed, bounded, each a valid JSON value.
    let raw: Vec<&str> = p.raw_args().take(payload.len() + 1).collect();
    assert!(raw.len() <= payload.len());
    for arg in &raw {
        assert_inside(pb, arg.as_bytes(), "raw argument");
        assert_eq!(
            validate(arg.as_bytes(), 4096),
            Ok(()),
            "raw argument {arg:?}"
        );
    }
    if let Some(Tree::Seq(items)) = tree {
        if p.packet_type().is_event() || p.packet_type().is_ack() {
            let skip = usize::from(p.packet_type().is_event());
            assert_eq!(raw.len(), items.len() - skip, "raw_args count");
            for (arg, item) in raw.iter().zip(items.iter().skip(skip)) {
                let parsed: Tree = serde_json::from_str(arg).expect("valid");
                assert_eq!(&parsed, item);
            }
        }
    }

    // Typed arguments and data: never panic; agree with serde_json.
    let args = p.args::<(Option<Tree>, Option<Tree>)>();
    if p.packet_type().is_event() || p.packet_type().is_ack() {
        if let Some(Tree::Seq(items)) = tree {
            let skip = usize::from(p.packet_type().is_event());
            // `Option` reads `null` as `None`.
            let want: Vec<Option<Tree>> = (0..2)
                .map(|i| items.get(skip + i).filter(|t| **t != Tree::Null).cloned())
                .collect();
            match &args {
                Ok((a, b)) => {
                    assert_eq!(a, &want[0]);
                    assert_eq!(b, &want[1]);
                }
                Err(e) => assert!(
                    matches!(e, Error::Deserialize(_)),
                    "args failed where serde_json read {items:?}: {e:?}"
                ),
            }
        }
    } else {
        assert_eq!(args, Err(Error::InvalidPayload));
    }
    let _ = p.args::<serde_json::Value>();
    let _ = p.args::<()>();
    let _ = p.args_with_scratch::<(Option<&str>, Option<f64>)>(&mut [0u8; 8]);
    let data = p.data::<serde_json::Value>();
    match (value, &data) {
        (Some(v), Ok(Some(d))) => assert_eq!(v, d, "data disagrees with serde_json"),
        (Some(v), Err(e)) => {
            panic!("data failed where serde_json read {v:?}: {e:?}")
        }
        (_, Ok(None)) => assert!(p.payload().is_none()),
        _ => {}
    }

    // CONNECT_ERROR body.
    match p.connect_error() {
        Some(err) => {
            assert_eq!(p.packet_type(), PacketType::ConnectError);
            if let Some(m) = err.message {
                assert_inside(pb, m.raw().as_bytes(), "connect_error message");
                let _ = m.to_string();
            }
            if let Some(d) = err.data {
                assert_inside(pb, d.as_bytes(), "connect_error data");
            }
            let _ = format!("{err:?}");
        }
        None => assert!(
            p.packet_type() != PacketType::ConnectError || p.payload().is_none(),
            "a CONNECT_ERROR with a payload has a body"
        ),
    }
}

/// The lazy path is the strict path split in two: whatever `decode` says,
/// `decode_header` followed by `validate` says too, and an accepted header
/// already carries the fields the full packet will have.
fn check_lazy_agrees(frame: &str, decoder: &Decoder) {
    let strict = decoder.decode(frame);
    match decoder.decode_header(frame) {
        Ok(header) => {
            // An absent namespace is the default "/", not a slice of the frame.
            let ns = header.namespace();
            assert!(
                inside(frame.as_bytes(), ns.as_bytes()) || ns == "/",
                "lazy namespace {ns:?} neither borrows the frame nor is the default"
            );
            let full = header.validate();
            assert_eq!(
                full.is_ok(),
                strict.is_ok(),
                "decode_header + validate gave {full:?}, decode gave {strict:?}"
            );
            if let (Ok(p), Ok(q)) = (&full, &strict) {
                assert_eq!(p, q, "decode_header + validate differs from decode");
                assert_eq!(header.packet_type(), p.packet_type());
                assert_eq!(header.namespace(), p.namespace());
                assert_eq!(header.ack_id(), p.ack_id());
                assert_eq!(header.attachment_count(), p.attachment_count());
                assert_eq!(header.event_name(), p.event_name());
            }
        }
        // Documented: when a frame is wrong in more than one way, the two
        // paths may name different faults; both must refuse it.
        Err(e) => assert!(
            strict.is_err(),
            "decode_header refused ({e:?}) a frame decode accepts"
        ),
    }
}
