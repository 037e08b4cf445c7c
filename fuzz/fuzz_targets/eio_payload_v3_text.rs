//! The Engine.IO v3 text polling payload (`<len>:<packet>`, lengths in
//! UTF-16 code units): `payload::v3_text::decode` / `decode_bytes`.
//!
//! Input: one selector byte (limits, as in `eio_payload_v4`), then the body.
//!
//! Invariants: an over-long body yields only `PayloadTooLarge`; at most one
//! item per body byte; fused after an error; every packet borrows the body
//! and fits the limit; `utf16_len` agrees with `str::encode_utf16`; the
//! `&str` and `&[u8]` entry points agree; decoded packets written back
//! decode equal, and byte-identical unless the body used leading zeros.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oxio_codec::engineio::payload::v3_text;
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

    let items = collect(v3_text::decode_bytes(body, &limits), body.len());
    let Ok(text) = std::str::from_utf8(body) else {
        if body.len() <= limits.max_packet_len && !body.is_empty() {
            assert_eq!(items, [Err(Error::InvalidUtf8)]);
        }
        return;
    };
    assert_eq!(
        v3_text::utf16_len(text),
        text.encode_utf16().count(),
        "utf16_len"
    );
    let from_str = collect(v3_text::decode(text, &limits), body.len());
    assert_eq!(items, from_str, "decode and decode_bytes disagree");

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
    for item in &items {
        match item {
            Ok(p) => {
                let data: &[u8] = match p.data {
                    Data::Text(t) => t.as_bytes(),
                    Data::Base64(b) => b.as_str().as_bytes(),
                    Data::Binary(_) => panic!("raw binary data in a v3 text body"),
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
        let again = v3_text::encode_to_vec(&packets).expect("decoded packets encode");
        let mut buf = vec![0u8; again.len()];
        let mut w = v3_text::PayloadWriter::new(&mut buf);
        for p in &packets {
            assert_eq!(w.push_len(p), {
                let mut one = Vec::new();
                v3_text::PayloadWriter::new_vec(&mut one).push(p).unwrap();
                one.len()
            });
            w.push(p).expect("fits");
        }
        assert_eq!(w.as_bytes(), &again[..]);
        assert!(again.len() <= body.len(), "canonical form is never longer");
        if again.len() == body.len() {
            assert_eq!(again, body, "same length, same packets, other bytes");
        }
        let again_text = std::str::from_utf8(&again).expect("UTF-8");
        let redecoded = collect(v3_text::decode(again_text, &Limits::DEFAULT), again.len());
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
