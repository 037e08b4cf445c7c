//! Property tests: for every packet type, encode → decode gives back the
//! same header and values, and re-encoding the decoded packet is
//! byte-identical.

#![cfg(feature = "alloc")]

use oxio_codec::socketio::{BinaryBuf, Decoder, Encoder, PacketType, Version};
use proptest::prelude::*;
use serde_json::Value;

fn arb_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e6f64..1e6)
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "\\PC{0,8}".prop_map(Value::String),
        "[\"\\\\\n\u{1}/a]{0,4}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::vec(("[a-z_]{1,6}", inner), 0..5)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn arb_object() -> impl Strategy<Value = serde_json::Map<String, Value>> {
    proptest::collection::vec(("[a-z]{1,6}", arb_value()), 0..4)
        .prop_map(|kv| kv.into_iter().collect())
}

fn arb_nsp() -> impl Strategy<Value = String> {
    prop_oneof![Just("/".to_string()), "/[a-zA-Z0-9_~-]{1,12}"]
}

fn arb_event_name() -> impl Strategy<Value = String> {
    "\\PC{1,10}".prop_filter("reserved", |s| !oxio_codec::socketio::is_reserved_event(s))
}

/// Decodes `text`, checks it re-encodes to the same bytes, returns it.
fn decode_and_reencode(decoder: Decoder, text: &str) -> Result<(), TestCaseError> {
    let p = decoder
        .decode(text)
        .map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
    let mut buf = vec![0u8; text.len() + 32];
    let n = Encoder::new(decoder.version).packet(&mut buf, &p).unwrap();
    prop_assert_eq!(&buf[..n], text.as_bytes());
    Ok(())
}

proptest! {
    #[test]
    fn events(nsp in arb_nsp(), id in proptest::option::of(0u64..(1 << 53)), name in arb_event_name(),
              args in proptest::collection::vec(arb_value(), 0..4)) {
        let tuple_args: Vec<Value> = args.clone();
        let mut buf = vec![0u8; 4096];
        // A Vec<Value> is one argument; send the list as a JSON array and read it back as one.
        let out = Encoder::default().event(&mut buf, &nsp, id, &name, &(Value::Array(tuple_args),)).unwrap();
        let text = std::str::from_utf8(&buf[..out.len]).unwrap().to_string();
        let p = Decoder::default().decode(&text).unwrap();
        prop_assert_eq!(p.packet_type(), PacketType::Event);
        prop_assert_eq!(p.namespace(), nsp.as_str());
        prop_assert_eq!(p.ack_id(), id);
        prop_assert!(p.event_name().unwrap() == name.as_str());
        let (back,): (Vec<Value>,) = p.args().unwrap();
        prop_assert_eq!(back, args);
        decode_and_reencode(Decoder::default(), &text)?;
        // Byte-identical to serde_json for float-free values.
        let expected = serde_json::to_string(&serde_json::json!([name, Value::Array(p.args::<(Vec<Value>,)>().unwrap().0)])).unwrap();
        let payload = p.payload().unwrap();
        if !payload.contains('.') && !payload.contains('e') {
            prop_assert_eq!(payload, expected);
        }
    }

    #[test]
    fn acks(nsp in arb_nsp(), id in 0u64..(1 << 53), args in proptest::collection::vec(arb_value(), 0..4)) {
        let owned = Encoder::default().ack_to_owned(&nsp, id, &(args.clone(),)).unwrap();
        let p = Decoder::default().decode(&owned.text).unwrap();
        prop_assert_eq!(p.packet_type(), PacketType::Ack);
        prop_assert_eq!(p.ack_id(), Some(id));
        let (back,): (Vec<Value>,) = p.args().unwrap();
        prop_assert_eq!(back, args);
        decode_and_reencode(Decoder::default(), &owned.text)?;
    }

    #[test]
    fn binary_events_and_acks(nsp in arb_nsp(), id in proptest::option::of(0u64..1000),
                              blobs in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..16), 1..10),
                              ack in any::<bool>()) {
        let args: Vec<BinaryBuf> = blobs.iter().cloned().map(BinaryBuf).collect();
        let owned = if ack {
            Encoder::default().ack_to_owned(&nsp, id.unwrap_or(0), &(args,)).unwrap()
        } else {
            Encoder::default().event_to_owned(&nsp, id, "bin", &(args,)).unwrap()
        };
        prop_assert_eq!(&owned.attachments, &blobs);
        let p = Decoder::default().decode(&owned.text).unwrap();
        prop_assert_eq!(p.packet_type(), if ack { PacketType::BinaryAck } else { PacketType::BinaryEvent });
        prop_assert_eq!(p.attachment_count(), blobs.len());
        let p = p.with_attachments(&owned.attachments);
        let (back,): (Vec<BinaryBuf>,) = p.args().unwrap();
        prop_assert_eq!(back.into_iter().map(|b| b.0).collect::<Vec<_>>(), blobs);
        decode_and_reencode(Decoder::default(), &owned.text)?;
    }

    #[test]
    fn connects_disconnects_and_errors(nsp in arb_nsp(), auth in proptest::option::of(arb_object()),
                                       message in "\\PC{0,12}", v4 in any::<bool>()) {
        let version = if v4 { Version::V4 } else { Version::V5 };
        let enc = Encoder::new(version);
        let dec = Decoder::new(version, Default::default());
        let mut buf = vec![0u8; 4096];
        let n = match &auth {
            Some(a) => enc.connect_with(&mut buf, &nsp, a).unwrap(),
            None => enc.connect(&mut buf, &nsp).unwrap(),
        };
        let text = std::str::from_utf8(&buf[..n]).unwrap().to_string();
        let p = dec.decode(&text).unwrap();
        prop_assert_eq!(p.packet_type(), PacketType::Connect);
        prop_assert_eq!(p.namespace(), nsp.as_str());
        prop_assert_eq!(p.data::<serde_json::Map<String, Value>>().unwrap(), auth);
        decode_and_reencode(dec, &text)?;

        let n = enc.disconnect(&mut buf, &nsp).unwrap();
        let text = std::str::from_utf8(&buf[..n]).unwrap().to_string();
        prop_assert_eq!(dec.decode(&text).unwrap().packet_type(), PacketType::Disconnect);
        decode_and_reencode(dec, &text)?;

        let n = enc.connect_error(&mut buf, &nsp, &message).unwrap();
        let text = std::str::from_utf8(&buf[..n]).unwrap().to_string();
        let p = dec.decode(&text).unwrap();
        prop_assert!(p.connect_error().unwrap().message.unwrap() == message.as_str());
        decode_and_reencode(dec, &text)?;
    }

    #[test]
    fn decoding_arbitrary_text_never_panics(s in "[0-6]{0,2}[0-9-]{0,3}(/[a-z,]{0,4})?[0-9]{0,3}\\PC{0,24}") {
        for version in [Version::V4, Version::V5] {
            let d = Decoder::new(version, Default::default());
            if let Ok(p) = d.decode(&s) {
                let _ = p.event_name();
                let _ = p.args::<Value>();
                let _ = p.connect_error();
                let mut buf = vec![0u8; s.len() + 32];
                let n = Encoder::new(version).packet(&mut buf, &p).unwrap();
                let again = d.decode(std::str::from_utf8(&buf[..n]).unwrap()).unwrap();
                prop_assert_eq!(again, p);
            }
        }
    }
}
