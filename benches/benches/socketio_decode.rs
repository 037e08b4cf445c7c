//! Socket.IO event decode: oxio against socketioxide's common parser, and
//! serde_json as the baseline for full parses. Frames of 60 B, 1 KiB and
//! 64 KiB: `2["items",[{"id":0,"name":"pen","cents":5,"note":"..."},...]]`.
//!
//! - `sio_header_event_name`: what a server needs to route an event.
//!   oxio: `Decoder::decode(&str)` (header parse plus a validation pass over
//!   the whole JSON payload: grammar, depth, event shape) then
//!   `Packet::event_name()`. socketioxide: `CommonParser::decode_str(&config,
//!   &state, Str)` (header parse; the payload is kept as an unparsed `Str`)
//!   then `CommonParser::read_event(&value)`, which runs serde_json over the
//!   array: the first element as `&str`, the rest skipped as `IgnoredAny`.
//!   Both read every byte of the frame once.
//!
//!   Both read every byte of the frame once. (socketioxide does not check
//!   the bytes after the closing `]`, nor a depth limit beyond serde_json's
//!   recursion limit of 128; oxio does both.)
//!
//!   Two more rows: `oxio_lazy` is the codec's opt-in lazy path,
//!   `Decoder::decode_header(&str)` + `Header::event_name()`: the header
//!   and the event name are checked strictly, the arguments are left
//!   unvalidated until `Header::validate`/`Header::args` (so it does less
//!   work than socketioxide's row, which checks the arguments' syntax).
//!   `oxio_validate_only` is `json::validate::validate` of the payload (the
//!   part of `decode` that grows with the frame).
//! - `sio_typed_decode`: the full decode into `Vec<Item<'_>>` (borrowed
//!   strings). oxio: `decode` + `event_name` + `args::<Vec<Item>>()`.
//!   socketioxide: `decode_str` + `read_event` + `decode_value::<Vec<Item>>`.
//!   serde_json: `from_str::<(&str, Vec<Item>)>` on the JSON array alone
//!   (no Socket.IO header, no validation beyond the parse).
//!
//! Throughput is the frame length.

mod common;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use oxio_benches::{event, EventSize, Item, EVENT_NAME};
use oxio_codec::json::validate::validate;
use oxio_codec::socketio::Decoder;
use socketioxide_core::packet::PacketData;
use socketioxide_core::parser::{Parse, ParseConfig, ParserState};
use socketioxide_core::Str;
use socketioxide_parser_common::CommonParser;
use std::hint::black_box;

fn header_event_name(c: &mut Criterion) {
    let mut g = c.benchmark_group("sio_header_event_name");
    let decoder = Decoder::default();
    let config = ParseConfig::default();
    let state = ParserState::default();
    for size in EventSize::ALL {
        let e = event(size);
        let str = Str::from(e.frame);
        g.throughput(Throughput::Bytes(e.frame.len() as u64));
        g.bench_with_input(BenchmarkId::new("oxio", size.label()), e.frame, |b, f| {
            b.iter(|| {
                let p = decoder.decode(black_box(f)).expect("valid frame");
                let name = p.event_name().expect("an event");
                black_box(name.as_str().map(str::len))
            })
        });
        g.bench_with_input(
            BenchmarkId::new("socketioxide", size.label()),
            &str,
            |b, s| {
                b.iter(|| {
                    let p = CommonParser
                        .decode_str(&config, &state, black_box(s).clone())
                        .expect("valid frame");
                    let PacketData::Event(value, _) = &p.inner else {
                        panic!("not an event")
                    };
                    let name = CommonParser.read_event(value).expect("an event");
                    black_box(name.len())
                })
            },
        );
        g.bench_with_input(
            BenchmarkId::new("oxio_validate_only", size.label()),
            e.json,
            |b, json| b.iter(|| validate(black_box(json).as_bytes(), 128).expect("valid JSON")),
        );
        g.bench_with_input(
            BenchmarkId::new("oxio_lazy", size.label()),
            e.frame,
            |b, f| {
                b.iter(|| {
                    let h = decoder.decode_header(black_box(f)).expect("valid header");
                    let name = h.event_name().expect("an event");
                    black_box(name.as_str().map(str::len))
                })
            },
        );
    }
    g.finish();
}

fn typed_decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("sio_typed_decode");
    let decoder = Decoder::default();
    let config = ParseConfig::default();
    let state = ParserState::default();
    for size in EventSize::ALL {
        let e = event(size);
        let str = Str::from(e.frame);
        let n = e.items.len();
        g.throughput(Throughput::Bytes(e.frame.len() as u64));
        g.bench_with_input(BenchmarkId::new("oxio", size.label()), e.frame, |b, f| {
            b.iter(|| {
                let p = decoder.decode(black_box(f)).expect("valid frame");
                assert!(p.event_name().expect("an event") == EVENT_NAME);
                let items: Vec<Item<'_>> = p.args().expect("items");
                assert_eq!(items.len(), n);
                black_box(items)
            })
        });
        g.bench_with_input(
            BenchmarkId::new("socketioxide", size.label()),
            &str,
            |b, s| {
                b.iter(|| {
                    let p = CommonParser
                        .decode_str(&config, &state, black_box(s).clone())
                        .expect("valid frame");
                    let PacketData::Event(mut value, _) = p.inner else {
                        panic!("not an event")
                    };
                    assert_eq!(
                        CommonParser.read_event(&value).expect("an event"),
                        EVENT_NAME
                    );
                    let items: Vec<Item<'_>> =
                        CommonParser.decode_value(&mut value, true).expect("items");
                    assert_eq!(items.len(), n);
                    black_box(items.len())
                })
            },
        );
        g.bench_with_input(
            BenchmarkId::new("serde_json", size.label()),
            e.json,
            |b, json| {
                b.iter(|| {
                    let (name, items): (&str, Vec<Item<'_>>) =
                        serde_json::from_str(black_box(json)).expect("items");
                    assert_eq!(name, EVENT_NAME);
                    assert_eq!(items.len(), n);
                    black_box(&items).len()
                })
            },
        );
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = header_event_name, typed_decode
}
criterion_main!(benches);
