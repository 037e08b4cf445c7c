//! A binary event with two 64 KiB attachments through reassembly: oxio's
//! `Reassembler` against socketioxide's common parser, from the text frame
//! to the typed arguments.
//!
//! - oxio: `Reassembler<&str, &[u8], heapless::Vec<&[u8], 2>>`: `on_text`,
//!   `on_binary` twice, then `Complete::packet()` and
//!   `args::<(Binary, Binary)>()`, which borrow the attachments in place.
//! - socketioxide: `CommonParser::decode_str` (returns `NeedsMoreBinaryData`
//!   and keeps the partial packet in its `ParserState`), `decode_bin` twice
//!   (it copies each attachment into a new `Bytes`, by design), then
//!   `decode_value::<(Bytes, Bytes)>`.
//!
//! Throughput is the text frame plus both attachments.

mod common;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use oxio_benches::binary_event;
use oxio_codec::socketio::{Binary, Decoder, Reassembler};
use oxio_codec::Instant;
use socketioxide_core::packet::PacketData;
use socketioxide_core::parser::{Parse, ParseConfig, ParseError, ParserState};
use socketioxide_core::Str;
use socketioxide_parser_common::CommonParser;
use std::hint::black_box;

fn reassembly(c: &mut Criterion) {
    let fixture = binary_event();
    let [a0, a1] = fixture.attachments;
    let mut g = c.benchmark_group("sio_binary_reassembly");
    g.throughput(Throughput::Bytes(fixture.total_bytes() as u64));

    let mut r: Reassembler<&str, &[u8], heapless::Vec<&[u8], 2>> =
        Reassembler::new(Decoder::default());
    let now = Instant::from_millis(0);
    g.bench_function(BenchmarkId::new("oxio", "2x64KB"), |b| {
        b.iter(|| {
            assert!(r
                .on_text(black_box(fixture.frame), now)
                .expect("header")
                .is_none());
            assert!(r.on_binary(black_box(a0), now).expect("first").is_none());
            let done = r
                .on_binary(black_box(a1), now)
                .expect("second")
                .expect("complete");
            let packet = done.packet().expect("packet");
            let (x, y): (Binary<'_>, Binary<'_>) = packet.args().expect("two attachments");
            black_box(x.0.len() + y.0.len())
        })
    });

    let config = ParseConfig::default();
    let state = ParserState::default();
    let text = Str::from(fixture.frame);
    let (b0, b1) = (Bytes::from_static(a0), Bytes::from_static(a1));
    g.bench_function(BenchmarkId::new("socketioxide", "2x64KB"), |b| {
        b.iter(|| {
            let needs_more =
                |r: Result<_, ParseError>| matches!(r, Err(ParseError::NeedsMoreBinaryData));
            assert!(needs_more(CommonParser.decode_str(
                &config,
                &state,
                black_box(&text).clone()
            )));
            assert!(needs_more(CommonParser.decode_bin(
                &config,
                &state,
                black_box(&b0).clone()
            )));
            let p = CommonParser
                .decode_bin(&config, &state, black_box(&b1).clone())
                .expect("complete");
            let PacketData::BinaryEvent(mut value, _) = p.inner else {
                panic!("not a binary event")
            };
            let (x, y): (Bytes, Bytes) = CommonParser
                .decode_value(&mut value, true)
                .expect("two attachments");
            black_box(x.len() + y.len())
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = reassembly
}
criterion_main!(benches);
