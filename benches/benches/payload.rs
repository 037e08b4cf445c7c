//! Engine.IO polling payloads of 1000 packets (1 MB), oxio against
//! engineioxide-core's public payload decoder.
//!
//! Both sides split the whole body into packets and look at each packet's
//! data length:
//! - oxio: `payload::v4::decode_bytes` / `v3_text::decode_bytes` /
//!   `v3_binary::decode` — iterators of packets borrowing the body (UTF-8
//!   validated once for the text formats).
//! - engineioxide-core: `payload::decoder(body, content_type, protocol,
//!   max_payload)`, a `Stream` of owned packets (it copies each packet into
//!   a new buffer), driven to the end with a no-op waker (the body is always
//!   ready). `socketioxide` feeds it the body in 16 KiB frames, as hyper
//!   delivers a request body (`http_body_util::StreamBody`);
//!   `socketioxide_1chunk` in one 1 MB frame (`http_body_util::Full`).
//!
//! oxio needs the body in one slice. `oxio_collect` adds that cost: the same
//! 16 KiB frames copied into a reused buffer, then split.
//!
//! Throughput is the body length. Few samples (10, flat sampling): one
//! iteration of the slowest peer takes about 0.1 s.

mod common;

use bytes::Bytes;
use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use engineioxide_core::{payload, ProtocolVersion};
use http::HeaderValue;
use http_body::Frame;
use http_body_util::Full;
use http_body_util::StreamBody;
use oxio_benches::{payload_v3_binary, payload_v3_text, payload_v4, PayloadFixture};
use oxio_codec::engineio::payload::{v3_binary, v3_text, v4};
use oxio_codec::engineio::Packet;
use oxio_codec::Limits;
use std::convert::Infallible;
use std::hint::black_box;

/// The frame size a request body arrives in.
const CHUNK: usize = 16 * 1024;

fn sum_oxio<'a, E: std::fmt::Debug>(
    it: impl Iterator<Item = Result<Packet<'a>, E>>,
) -> (usize, usize) {
    it.fold((0, 0), |(n, bytes), p| {
        (n + 1, bytes + p.expect("valid payload").data.len())
    })
}

fn bench_payload(
    c: &mut Criterion,
    group: &str,
    fixture: &PayloadFixture,
    oxio: impl Fn(&[u8]) -> (usize, usize),
    protocol: ProtocolVersion,
    content_type: Option<HeaderValue>,
) {
    let max_payload = fixture.body.len() as u64;
    let expect = (fixture.packets, fixture.data_bytes);
    let body = fixture.body;
    let chunks: Vec<Bytes> = Bytes::from_static(body)
        .chunks(CHUNK)
        .map(|c| Bytes::from_static(body).slice_ref(c))
        .collect();
    let peer_chunked = |chunks: &[Bytes]| {
        let frames = chunks
            .iter()
            .map(|c| Ok::<_, Infallible>(Frame::data(c.clone())));
        common::drain_eio_stream(payload::decoder(
            StreamBody::new(futures_util::stream::iter(frames)),
            content_type.as_ref(),
            protocol,
            max_payload,
        ))
    };
    let peer_full = |body: &'static [u8]| {
        common::drain_eio_stream(payload::decoder(
            Full::new(Bytes::from_static(body)),
            content_type.as_ref(),
            protocol,
            max_payload,
        ))
    };
    let mut collected = Vec::with_capacity(body.len());
    let mut oxio_collect = |chunks: &[Bytes]| {
        collected.clear();
        for c in chunks {
            collected.extend_from_slice(c);
        }
        oxio(&collected)
    };
    assert_eq!(oxio(body), expect);
    assert_eq!(oxio_collect(&chunks), expect);
    assert_eq!(peer_chunked(&chunks), expect);
    assert_eq!(peer_full(body), expect);

    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.sample_size(10);
    g.sampling_mode(SamplingMode::Flat);
    g.bench_function(BenchmarkId::new("oxio", "1MB"), |b| {
        b.iter(|| black_box(oxio(black_box(body))))
    });
    g.bench_function(BenchmarkId::new("oxio_collect", "1MB"), |b| {
        b.iter(|| black_box(oxio_collect(black_box(&chunks))))
    });
    g.bench_function(BenchmarkId::new("socketioxide", "1MB"), |b| {
        b.iter(|| black_box(peer_chunked(black_box(&chunks))))
    });
    g.bench_function(BenchmarkId::new("socketioxide_1chunk", "1MB"), |b| {
        b.iter(|| black_box(peer_full(black_box(body))))
    });
    g.finish();
}

fn payloads(c: &mut Criterion) {
    let limits = Limits::default();
    bench_payload(
        c,
        "payload_v4_split",
        &payload_v4(),
        |body| sum_oxio(v4::decode_bytes(body, &limits)),
        ProtocolVersion::V4,
        None,
    );
    bench_payload(
        c,
        "payload_v3_text",
        &payload_v3_text(),
        |body| sum_oxio(v3_text::decode_bytes(body, &limits)),
        ProtocolVersion::V3,
        None,
    );
    bench_payload(
        c,
        "payload_v3_binary",
        &payload_v3_binary(),
        |body| sum_oxio(v3_binary::decode(body, &limits)),
        ProtocolVersion::V3,
        Some(HeaderValue::from_static("application/octet-stream")),
    );
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = payloads
}
criterion_main!(benches);
