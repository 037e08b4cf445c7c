//! Socket.IO event encode from a struct: oxio against socketioxide's common
//! parser, and serde_json as the baseline. The events are the decode
//! benchmarks' frames (60 B, 1 KiB, 64 KiB), written from their
//! `Vec<Item>`; every implementation produces the same bytes (checked in
//! `tests/equivalence.rs`).
//!
//! - oxio: `Encoder::event(&mut buf, "/", None, "items", &items)` into a
//!   reused buffer.
//! - socketioxide: `CommonParser::encode_value(&items, Some("items"))`, then
//!   `Packet::event("/", value)` and `CommonParser::encode(packet)`: the way
//!   socketioxide emits, producing a new string.
//! - serde_json: `to_writer` of `("items", &items)` into a reused buffer
//!   (the JSON array only, no packet type byte).
//!
//! Throughput is the frame length.

mod common;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use oxio_benches::{event, EventSize, EVENT_NAME};
use oxio_codec::socketio::Encoder;
use socketioxide_core::packet::Packet as SioxPacket;
use socketioxide_core::parser::Parse;
use socketioxide_core::Value;
use socketioxide_parser_common::CommonParser;
use std::hint::black_box;

fn encode_event(c: &mut Criterion) {
    let mut g = c.benchmark_group("sio_encode_event");
    let encoder = Encoder::default();
    for size in EventSize::ALL {
        let e = event(size);
        let items = e.items.clone();
        let mut buf = vec![0u8; e.frame.len()];
        g.throughput(Throughput::Bytes(e.frame.len() as u64));
        g.bench_with_input(
            BenchmarkId::new("oxio", size.label()),
            &items,
            |b, items| {
                b.iter(|| {
                    let out = encoder
                        .event(&mut buf, "/", None, EVENT_NAME, black_box(items))
                        .expect("fits");
                    black_box(out.len)
                })
            },
        );
        g.bench_with_input(
            BenchmarkId::new("socketioxide", size.label()),
            &items,
            |b, items| {
                b.iter(|| {
                    let value = CommonParser
                        .encode_value(black_box(items), Some(EVENT_NAME))
                        .expect("serializable");
                    let Value::Str(text, _) = CommonParser.encode(SioxPacket::event("/", value))
                    else {
                        panic!("text packet")
                    };
                    black_box(text)
                })
            },
        );
        g.bench_with_input(
            BenchmarkId::new("serde_json", size.label()),
            &items,
            |b, items| {
                b.iter(|| {
                    let mut out = &mut buf[..];
                    serde_json::to_writer(&mut out, &(EVENT_NAME, black_box(items))).expect("fits");
                    black_box(out.len())
                })
            },
        );
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = encode_event
}
criterion_main!(benches);
