//! Engine.IO packet decode and encode, oxio against engineioxide-core.
//!
//! - `eio_decode_text`: a text message (`4<socket.io frame>`) of 60 B,
//!   1 KiB and 64 KiB. oxio `Packet::decode_text(&str, V4)` against
//!   engineioxide-core `Packet::parse(V4, Str)`; both find the type and
//!   slice the data without copying it.
//! - `eio_decode_base64`: a `b<base64>` message holding 1 KiB or 64 KiB.
//!   Both decode the base64 into bytes: oxio `decode_text` then
//!   `Base64::decode_into` a reused buffer; engineioxide into a new `Bytes`.
//!   `oxio_decode_into_only` is `decode_into` alone, without the validation
//!   pass `decode_text` makes first.
//! - `eio_encode_text` / `eio_encode_base64`: the same packets back into
//!   their text form. oxio `Packet::encode_text` into a reused buffer;
//!   engineioxide `String::from(Packet)`, which allocates the string.
//!
//! Throughput is the packet's text length.

mod common;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use engineioxide_core::{Packet as EioxPacket, ProtocolVersion, Str};
use oxio_benches::{base64, eio_text_packet, noise, EventSize};
use oxio_codec::engineio::{Data, Packet, Version};
use std::hint::black_box;

const BINARY_SIZES: [(&str, usize); 2] = [("1KB", 1024), ("64KB", 64 * 1024)];

fn decode_text(c: &mut Criterion) {
    let mut g = c.benchmark_group("eio_decode_text");
    for size in EventSize::ALL {
        let text = eio_text_packet(size.bytes());
        let str = Str::from(text);
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_with_input(BenchmarkId::new("oxio", size.label()), text, |b, text| {
            b.iter(|| {
                let p = Packet::decode_text(black_box(text), Version::V4).expect("valid packet");
                black_box(p.data.len())
            })
        });
        g.bench_with_input(
            BenchmarkId::new("socketioxide", size.label()),
            &str,
            |b, str| {
                b.iter(|| {
                    let p = EioxPacket::parse(ProtocolVersion::V4, black_box(str).clone())
                        .expect("valid packet");
                    black_box(p.into_message().len())
                })
            },
        );
    }
    g.finish();
}

fn decode_base64(c: &mut Criterion) {
    let mut g = c.benchmark_group("eio_decode_base64");
    for (label, len) in BINARY_SIZES {
        let data = noise(len, 7);
        let text: &'static str = Box::leak(format!("b{}", base64(data)).into_boxed_str());
        let str = Str::from(text);
        let mut buf = vec![0u8; len];
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_with_input(BenchmarkId::new("oxio", label), text, |b, text| {
            b.iter(|| {
                let p = Packet::decode_text(black_box(text), Version::V4).expect("valid packet");
                let Data::Base64(b64) = p.data else {
                    panic!("not base64")
                };
                black_box(b64.decode_into(&mut buf).expect("fits").len())
            })
        });
        g.bench_with_input(BenchmarkId::new("socketioxide", label), &str, |b, str| {
            b.iter(|| {
                let p = EioxPacket::parse(ProtocolVersion::V4, black_box(str).clone())
                    .expect("valid packet");
                black_box(p.into_binary().len())
            })
        });
        // oxio's time without its separate validation pass (`decode_text`
        // validates, `decode_into` decodes): the base64 decode alone.
        let Data::Base64(b64) = Packet::decode_text(text, Version::V4)
            .expect("valid packet")
            .data
        else {
            panic!("not base64")
        };
        g.bench_with_input(
            BenchmarkId::new("oxio_decode_into_only", label),
            &b64,
            |b, b64| {
                b.iter(|| black_box(black_box(b64).decode_into(&mut buf).expect("fits").len()))
            },
        );
    }
    g.finish();
}

fn encode_text(c: &mut Criterion) {
    let mut g = c.benchmark_group("eio_encode_text");
    for size in EventSize::ALL {
        let text = eio_text_packet(size.bytes());
        let body = text.get(1..).unwrap_or_default();
        let str = Str::from(body);
        let mut buf = vec![0u8; text.len()];
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_with_input(BenchmarkId::new("oxio", size.label()), body, |b, body| {
            b.iter(|| {
                let p = Packet::message_text(black_box(body));
                black_box(p.encode_text(&mut buf, Version::V4).expect("fits"))
            })
        });
        g.bench_with_input(
            BenchmarkId::new("socketioxide", size.label()),
            &str,
            |b, str| {
                b.iter(|| {
                    let s = String::from(EioxPacket::Message(black_box(str).clone()));
                    black_box(s.len())
                })
            },
        );
    }
    g.finish();
}

fn encode_base64(c: &mut Criterion) {
    let mut g = c.benchmark_group("eio_encode_base64");
    for (label, len) in BINARY_SIZES {
        let data = noise(len, 7);
        let bytes = bytes::Bytes::from_static(data);
        let mut buf = vec![0u8; 1 + len.div_ceil(3) * 4];
        g.throughput(Throughput::Bytes(buf.len() as u64));
        g.bench_with_input(BenchmarkId::new("oxio", label), data, |b, data| {
            b.iter(|| {
                let p = Packet::message_binary(black_box(data));
                black_box(p.encode_text(&mut buf, Version::V4).expect("fits"))
            })
        });
        g.bench_with_input(
            BenchmarkId::new("socketioxide", label),
            &bytes,
            |b, bytes| {
                b.iter(|| {
                    let s = String::from(EioxPacket::Binary(black_box(bytes).clone()));
                    black_box(s.len())
                })
            },
        );
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = decode_text, decode_base64, encode_text, encode_base64
}
criterion_main!(benches);
