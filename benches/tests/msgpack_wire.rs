//! Issue 13: bytes on the wire per message, JSON parser vs msgpack parser,
//! for the payloads of `benches/msgpack.rs` plus a 256-byte binary one
//! (the device's calibration table). Exact sizes, from the codec's own
//! encoders (the same bytes Node's parsers write: codec/tests/*interop*).
//! WebSocket: the frame payloads (JSON: `4` + the packet, then one binary
//! frame per attachment; msgpack: the one binary frame). Polling (v4): the
//! body of a GET carrying the packet (msgpack's binary message is
//! `b` + base64 there). `cargo test -p oxio-benches --test msgpack_wire -- --nocapture`
//! prints the table of benches/RESULTS.md.

use oxio_codec::socketio::Binary;
use oxio_codec::{msgpack, socketio};
use serde::Serialize;

#[derive(Serialize)]
struct Telemetry<'a> {
    id: u32,
    temp: f64,
    ok: bool,
    name: &'a str,
}

/// (WebSocket bytes, polling bytes) of one event in each parser.
fn sizes<T: Serialize>(event: &str, args: &T) -> ((usize, usize), (usize, usize)) {
    let json = socketio::Encoder::default()
        .event_to_owned("/", None, event, args)
        .unwrap();
    let atts: usize = json.attachments.iter().map(Vec::len).sum();
    let json_ws = 1 + json.text.len() + atts;
    // Polling: records joined by 0x1e, attachments as `b<base64>`.
    let b64 = |n: usize| n.div_ceil(3) * 4;
    let json_poll = 1
        + json.text.len()
        + json
            .attachments
            .iter()
            .map(|a| 1 + 1 + b64(a.len()))
            .sum::<usize>();
    let mp = msgpack::Encoder::default()
        .event_to_vec("/", None, event, args)
        .unwrap();
    ((json_ws, json_poll), (mp.len(), 1 + b64(mp.len())))
}

#[test]
fn wire_sizes_json_vs_msgpack() {
    let small = Telemetry {
        id: 7,
        temp: 21.5,
        ok: true,
        name: "sensor-1",
    };
    let text = "x".repeat(10_240);
    let table: [u8; 256] = core::array::from_fn(|i| i as u8);
    let rows = [
        ("small object", sizes("telemetry", &(&small,))),
        ("10 KB text", sizes("text", &(&text,))),
        ("256 B binary", sizes("file", &("dev1", Binary(&table)))),
    ];
    println!("| payload | JSON WebSocket | msgpack WebSocket | JSON polling | msgpack polling |");
    for (name, ((jw, jp), (mw, mp))) in rows {
        println!("| {name} | {jw} | {mw} | {jp} | {mp} |");
    }
    let got: Vec<_> = rows.iter().map(|(_, s)| *s).collect();
    assert_eq!(
        got,
        [
            ((64, 64), (66, 89)),
            ((10_253, 10_253), (10_267, 13_693)),
            ((305, 395), (288, 385)),
        ]
    );
}
