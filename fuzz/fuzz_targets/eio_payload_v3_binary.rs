//! The Engine.IO v3 binary (XHR2) polling payload:
//! `payload::v3_binary::decode`.
//!
//! Input: one selector byte (limits, as in `eio_payload_v4`), then the body.
//!
//! Invariants: an over-long body yields only `PayloadTooLarge`; at most one
//! item per body byte; fused after an error; every packet borrows the body
//! and fits the limit; decoded packets written back decode equal, and
//! byte-identical when the body had no leading zeros and no base64 entries.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oxio_codec::engineio::payload::v3_binary;
use oxio_codec::engineio::{Data, Error, Packet};
use oxio_codec::Limits;
use oxio_fuzz::{assert_inside, limits_for};

fuzz_target!(|input: &[u8]| {
    let Some((&selector, body)) = input.split_first() else {
        return;
    };
    let mut limits = limits_for(selector);
    if selector & 0x80 != 0 {
        limits.max_packet_len = body.len();
    }

    let items = collect(v3_binary::decode(body, &limits), body.len());
    if body.len() > limits.max_packet_len {
        assert_eq!(
            items,
            [Err(Error::PayloadTooLarge {
                len: body.len(),
                max: limits.max_packet_len
            })]
        );
        return;
    }
    if body.is_empty() {
        assert_eq!(items, [Err(Error::Empty)]);
        return;
    }

    let mut packets = Vec::new();
    let mut any_base64 = false;
    for item in &items {
        match item {
            Ok(p) => {
                let data: &[u8] = match p.data {
                    Data::Text(t) => t.as_bytes(),
                    Data::Base64(b) => {
                        any_base64 = true;
                        b.as_str().as_bytes()
                    }
                    Data::Binary(b) => b,
                };
                assert_inside(body, data, "packet data");
                assert!(p.data.len() <= limits.max_packet_len);
                packets.push(*p);
            }
            Err(e) => {
                assert!(
                    !matches!(
                        e,
                        Error::BufferFull
                            | Error::BinaryNotMessage
                            | Error::NotBinary
                            | Error::SeparatorInText
                    ),
                    "encode error from a decoder: {e:?}"
                );
                let _ = e.to_string();
            }
        }
    }
    if packets.len() == items.len() {
        let again = v3_binary::encode_to_vec(&packets).expect("decoded packets encode");
        let mut buf = vec![0u8; again.len()];
        let mut w = v3_binary::PayloadWriter::new(&mut buf);
        for p in &packets {
            w.push(p).expect("fits");
        }
        assert_eq!(w.as_bytes(), &again[..]);
        if !any_base64 {
            assert!(again.len() <= body.len(), "canonical form is never longer");
            if again.len() == body.len() {
                assert_eq!(again, body, "same length, same packets, other bytes");
            }
        }
        let redecoded = collect(v3_binary::decode(&again, &Limits::DEFAULT), again.len());
        let redecoded: Vec<_> = redecoded
            .into_iter()
            .map(|r| r.expect("own body decodes"))
            .collect();
        assert_eq!(redecoded, packets);
    }
});

fn collect<'a>(
    mut it: impl Iterator<Item = Result<Packet<'a>, Error>>,
    len: usize,
) -> Vec<Result<Packet<'a>, Error>> {
    let mut items = Vec::new();
    for item in it.by_ref() {
        let failed = item.is_err();
        items.push(item);
        assert!(
            items.len() <= len.max(1),
            "more items than body bytes ({len})"
        );
        if failed {
            break;
        }
    }
    for _ in 0..3 {
        assert!(it.next().is_none(), "iterator not fused");
    }
    items
}
