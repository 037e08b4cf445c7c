//! The Engine.IO v4 polling payload: `payload::v4::decode` / `decode_bytes`.
//!
//! Input: one selector byte (picks the limits, see `limits_for`, plus a
//! `max_packet_len` equal to the body length when bit 7 is set, to hit the
//! boundary exactly), then the body.
//!
//! Invariants: an over-long body yields only `PayloadTooLarge`; at most one
//! item per body byte; the iterator is fused after an error; every packet
//! borrows the body and is no longer than the limit; the `&str` and
//! `&[u8]` entry points agree; when every packet decodes, the writer puts
//! them back into exactly the body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oxio_codec::engineio::payload::v4;
use oxio_codec::engineio::{Data, Error, Packet};
use oxio_fuzz::{assert_inside, limits_for};

fuzz_target!(|input: &[u8]| {
    let Some((&selector, body)) = input.split_first() else {
        return;
    };
    let mut limits = limits_for(selector);
    if selector & 0x80 != 0 {
        limits.max_packet_len = body.len();
    }

    let items = collect(v4::decode_bytes(body, &limits), body.len());
    if let Ok(text) = std::str::from_utf8(body) {
        let from_str = collect(v4::decode(text, &limits), body.len());
        assert_eq!(items, from_str, "decode and decode_bytes disagree");
    }

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
                    Data::Binary(_) => panic!("raw binary data in a v4 text body"),
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
        // Everything decoded: the body is canonical, the writer rebuilds it.
        let mut buf = vec![0u8; body.len()];
        let mut w = v4::PayloadWriter::new(&mut buf);
        for p in &packets {
            w.push(p).expect("a decoded packet can be written back");
        }
        assert_eq!(w.packet_count(), packets.len());
        assert_eq!(w.as_bytes(), body);
        assert_eq!(v4::encode_to_vec(&packets).as_deref(), Ok(body));
    }
});

/// Drains the iterator (at most `len + 1` items are allowed), then checks
/// it stays finished.
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
