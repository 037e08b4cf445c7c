//! Issue 13: the msgpack parser against the JSON one, and against
//! socketioxide's msgpack parser (`socketioxide-parser-msgpack`, the
//! 0.17.4: what the socketioxide 0.18.9 peer uses), in the same criterion groups.
//! Two payloads: a typical event (a small object,
//! `["telemetry",{"id":7,"temp":21.5,"ok":true,"name":"sensor-1"}]`) and a
//! 10 KB text (`["text","xxxx…"]`, 10 240 characters).
//!
//! - `msgpack_encode`: an EVENT from the typed value. oxio:
//!   `msgpack::Encoder::event` / `socketio::Encoder::event` into a reused
//!   buffer. socketioxide: `MsgPackParser::encode_value` +
//!   `Packet::event` + `MsgPackParser::encode` (a new `Bytes`, its way
//!   of emitting).
//! - `msgpack_decode`: frame to typed value (owned strings on both sides).
//!   oxio: `msgpack::Decoder::decode` (one validation pass over the frame),
//!   `event_name` and `args::<(Telemetry,)>`; JSON: the same on
//!   `socketio::Decoder`. socketioxide: `MsgPackParser::decode_bin`,
//!   `read_event` and `decode_value`.
//! - `msgpack_server_echo`: what an oxio server does per message of an
//!   echo handler, in each parser: decode the client's frame, keep it as
//!   a `Payload` (no copy), read the typed arguments, encode the answer as
//!   an `Outgoing` (the packet queued to the session).
//!
//! Throughput is the frame length of each parser's own frame.

mod common;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use oxio_codec::{msgpack, socketio};
use oxio_server::adapter::{Outgoing, Parser, Payload};
use serde::{Deserialize, Serialize};
use socketioxide_core::packet::{Packet as SioxPacket, PacketData};
use socketioxide_core::parser::{Parse, ParseConfig, ParserState};
use socketioxide_core::Value;
use socketioxide_parser_msgpack::MsgPackParser;
use std::hint::black_box;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Telemetry {
    id: u32,
    temp: f64,
    ok: bool,
    name: String,
}

/// One benchmark payload: its event name and its single argument.
#[derive(Clone)]
enum Arg {
    Small(Telemetry),
    Text(String),
}

fn payloads() -> [(&'static str, &'static str, Arg); 2] {
    [
        (
            "small_object",
            "telemetry",
            Arg::Small(Telemetry {
                id: 7,
                temp: 21.5,
                ok: true,
                name: "sensor-1".into(),
            }),
        ),
        ("text_10k", "text", Arg::Text("x".repeat(10_240))),
    ]
}

impl Serialize for Arg {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Arg::Small(t) => t.serialize(s),
            Arg::Text(t) => t.serialize(s),
        }
    }
}

fn json_frame(event: &str, arg: &Arg) -> String {
    let mut buf = vec![0u8; 16 * 1024];
    let n = socketio::Encoder::default()
        .event(&mut buf, "/", None, event, &(arg,))
        .unwrap()
        .len;
    String::from_utf8(buf[..n].to_vec()).unwrap()
}

fn msgpack_frame(event: &str, arg: &Arg) -> Vec<u8> {
    msgpack::Encoder::default()
        .event_to_vec("/", None, event, &(arg,))
        .unwrap()
}

fn encode(c: &mut Criterion) {
    let mut g = c.benchmark_group("msgpack_encode");
    for (label, event, arg) in payloads() {
        let mut buf = vec![0u8; 16 * 1024];
        let mp_len = msgpack_frame(event, &arg).len();
        g.throughput(Throughput::Bytes(mp_len as u64));
        g.bench_with_input(BenchmarkId::new("oxio_msgpack", label), &arg, |b, arg| {
            b.iter(|| {
                let out = msgpack::Encoder::default()
                    .event(&mut buf, "/", None, event, &(black_box(arg),))
                    .unwrap();
                black_box(out.len)
            })
        });
        g.bench_with_input(
            BenchmarkId::new("socketioxide_msgpack", label),
            &arg,
            |b, arg| {
                b.iter(|| {
                    let value = MsgPackParser
                        .encode_value(&(black_box(arg),), Some(event))
                        .unwrap();
                    let Value::Bytes(bytes) = MsgPackParser.encode(SioxPacket::event("/", value))
                    else {
                        panic!("binary packet")
                    };
                    black_box(bytes)
                })
            },
        );
        g.bench_with_input(BenchmarkId::new("oxio_json", label), &arg, |b, arg| {
            b.iter(|| {
                let out = socketio::Encoder::default()
                    .event(&mut buf, "/", None, event, &(black_box(arg),))
                    .unwrap();
                black_box(out.len)
            })
        });
    }
    g.finish();
}

/// Reads the argument back as its owned type.
fn check(arg: &Arg, small: Option<Telemetry>, text: Option<String>) -> usize {
    match arg {
        Arg::Small(_) => small.map(|t| t.name.len()).unwrap_or(0),
        Arg::Text(_) => text.map(|t| t.len()).unwrap_or(0),
    }
}

fn decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("msgpack_decode");
    let config = ParseConfig::default();
    let state = ParserState::default();
    for (label, event, arg) in payloads() {
        let mp = msgpack_frame(event, &arg);
        let json = json_frame(event, &arg);
        let is_small = matches!(arg, Arg::Small(_));
        g.throughput(Throughput::Bytes(mp.len() as u64));
        g.bench_with_input(BenchmarkId::new("oxio_msgpack", label), &mp, |b, f| {
            b.iter(|| {
                let p = msgpack::Decoder::default().decode(black_box(f)).unwrap();
                let name = p.event_name().unwrap().len();
                let n = if is_small {
                    let (t,): (Telemetry,) = p.args().unwrap();
                    check(&arg, Some(t), None)
                } else {
                    let (t,): (String,) = p.args().unwrap();
                    check(&arg, None, Some(t))
                };
                black_box(name + n)
            })
        });
        let bytes = Bytes::from(mp.clone());
        g.bench_with_input(
            BenchmarkId::new("socketioxide_msgpack", label),
            &bytes,
            |b, f| {
                b.iter(|| {
                    let p = MsgPackParser
                        .decode_bin(&config, &state, black_box(f.clone()))
                        .unwrap();
                    let PacketData::Event(mut value, _) = p.inner else {
                        panic!("an event")
                    };
                    let name = MsgPackParser.read_event(&value).unwrap().len();
                    let n = if is_small {
                        let t: Telemetry = MsgPackParser.decode_value(&mut value, true).unwrap();
                        check(&arg, Some(t), None)
                    } else {
                        let t: String = MsgPackParser.decode_value(&mut value, true).unwrap();
                        check(&arg, None, Some(t))
                    };
                    black_box(name + n)
                })
            },
        );
        g.bench_with_input(BenchmarkId::new("oxio_json", label), &json, |b, f| {
            b.iter(|| {
                let p = socketio::Decoder::default().decode(black_box(f)).unwrap();
                let name = p.event_name().unwrap().as_str().map_or(0, str::len);
                let n = if is_small {
                    let (t,): (Telemetry,) = p.args().unwrap();
                    check(&arg, Some(t), None)
                } else {
                    let (t,): (String,) = p.args().unwrap();
                    check(&arg, None, Some(t))
                };
                black_box(name + n)
            })
        });
    }
    g.finish();
}

/// The byte range of `part` inside `whole`.
fn range_in(whole: &[u8], part: &[u8]) -> std::ops::Range<usize> {
    let start = part.as_ptr() as usize - whole.as_ptr() as usize;
    start..start + part.len()
}

fn server_echo(c: &mut Criterion) {
    let mut g = c.benchmark_group("msgpack_server_echo");
    for (label, event, arg) in payloads() {
        let is_small = matches!(arg, Arg::Small(_));
        let mp = Bytes::from(msgpack_frame(event, &arg));
        g.throughput(Throughput::Elements(1));
        g.bench_with_input(BenchmarkId::new("msgpack", label), &mp, |b, f| {
            b.iter(|| {
                let frame = black_box(f).clone();
                let p = msgpack::Decoder::default().decode(&frame).unwrap();
                let data = range_in(&frame, p.raw_data().unwrap());
                let payload = Payload::from_msgpack(frame.clone(), data, 1, 32).unwrap();
                let out = if is_small {
                    let (t,): (Telemetry,) = payload.args().unwrap();
                    Outgoing::event_in(Parser::Msgpack, "/", None, "echo", &(t,))
                } else {
                    let (t,): (String,) = payload.args().unwrap();
                    Outgoing::event_in(Parser::Msgpack, "/", None, "echo", &(t,))
                };
                black_box(out.unwrap().size())
            })
        });
        let json = json_frame(event, &arg);
        g.bench_with_input(BenchmarkId::new("json", label), &json, |b, f| {
            b.iter(|| {
                let text = oxio_server::engine::Utf8Bytes::from(black_box(f).as_str());
                let p = socketio::Decoder::default().decode(text.as_str()).unwrap();
                let start = text.as_str().len() - p.payload().unwrap().len();
                let payload = Payload::new(text.clone(), start, 1, Vec::new(), 32);
                let out = if is_small {
                    let (t,): (Telemetry,) = payload.args().unwrap();
                    Outgoing::event_in(Parser::Json, "/", None, "echo", &(t,))
                } else {
                    let (t,): (String,) = payload.args().unwrap();
                    Outgoing::event_in(Parser::Json, "/", None, "echo", &(t,))
                };
                black_box(out.unwrap().size())
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = encode, decode, server_echo
}
criterion_main!(benches);
