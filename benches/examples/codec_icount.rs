//! Runs one codec operation of the criterion benches `socketio_decode` /
//! `socketio_encode` N times, for instruction counts under callgrind (the
//! difference between N and 0 iterations, divided by N, is the cost of one
//! operation, free of the machine's load). See `benches/icount.sh`.
//!
//! ```text
//! codec_icount <oxio-decode|siox-decode|oxio-encode|siox-encode> <60B|1KB|64KB> <N>
//! ```

use oxio_benches::{event, EventSize, EVENT_NAME};
use oxio_codec::socketio::{Decoder, Encoder};
use socketioxide_core::packet::{Packet as SioxPacket, PacketData};
use socketioxide_core::parser::{Parse, ParseConfig, ParserState};
use socketioxide_core::{Str, Value};
use socketioxide_parser_common::CommonParser;
use std::hint::black_box;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(op), Some(size), Some(n)) = (args.get(1), args.get(2), args.get(3)) else {
        eprintln!("usage: codec_icount OP SIZE N");
        std::process::exit(2);
    };
    let size = EventSize::ALL
        .into_iter()
        .find(|s| s.label() == size)
        .expect("size: 60B, 1KB or 64KB");
    let n: u64 = n.parse().expect("N");
    let e = event(size);
    let items = e.items.clone();
    let mut buf = vec![0u8; e.frame.len()];
    let decoder = Decoder::default();
    let encoder = Encoder::default();
    let config = ParseConfig::default();
    let state = ParserState::default();
    let str = Str::from(e.frame);
    let mut sum = 0usize;
    for _ in 0..n {
        sum += match op.as_str() {
            "oxio-decode" => {
                let p = decoder.decode(black_box(e.frame)).expect("valid frame");
                let name = p.event_name().expect("an event");
                name.as_str().map_or(0, str::len)
            }
            "siox-decode" => {
                let p = CommonParser
                    .decode_str(&config, &state, black_box(&str).clone())
                    .expect("valid frame");
                let PacketData::Event(value, _) = &p.inner else {
                    panic!("not an event")
                };
                CommonParser.read_event(value).expect("an event").len()
            }
            "oxio-encode" => {
                encoder
                    .event(&mut buf, "/", None, EVENT_NAME, black_box(&items))
                    .expect("fits")
                    .len
            }
            "siox-encode" => {
                let value = CommonParser
                    .encode_value(black_box(&items), Some(EVENT_NAME))
                    .expect("serializable");
                let Value::Str(text, _) = CommonParser.encode(SioxPacket::event("/", value)) else {
                    panic!("text packet")
                };
                text.len()
            }
            _ => panic!("unknown op {op}"),
        };
    }
    println!("{sum}");
}
