//! Connection state recovery (issue 12) with the real npm
//! `socket.io-client` 4.8, driven by `testkit/js/csr_client.js`, against
//! oxio and against Node's socket.io 4.8 server (`testkit/js/csr_server.js`,
//! the same app): both must give the same lines. The client loses its
//! connection (the server closes the transport, or the client closes its
//! engine); while it is away, events go to it, to its rooms and to
//! everyone, plus a volatile event, an event with ack, an event for
//! another room and a binary one; it comes back recovered, with the same
//! id, every missed event exactly once and in order, its rooms and data.
//! After `max_disconnection_duration`, or without any offset received, it
//! gets a new session.
//!
//! Needs `npm ci --prefix std-server/testkit/js`. Without it the tests print a
//! notice and pass, unless `CI` or `OXIO_REQUIRE_NODE=1` is set: then they fail.

use oxio_codec::socketio::{Args, Binary};
use oxio_server::socketio::{
    AckSender, ConnectionStateRecovery, Data, Parser, SocketData, SocketIo, SocketRef,
};
use oxio_testkit::sio::{node_ready, run, sio_config, start, step, ClientProcess};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long the servers keep a session (both sides).
const KEEP_MS: u64 = 1500;

fn rooms_of(to: &Value) -> Vec<String> {
    match to {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|r| r.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

fn args_of(v: &Value) -> Vec<Value> {
    v["args"].as_array().cloned().unwrap_or_default()
}

/// The app of csr_server.js, in oxio, speaking `parser`.
fn app(parser: Parser) -> SocketIo {
    let sio = SocketIo::builder()
        .parser(parser)
        .connection_state_recovery(ConnectionStateRecovery {
            max_disconnection_duration: Duration::from_millis(KEEP_MS),
            ..Default::default()
        })
        .build();
    let kept: Arc<Mutex<HashMap<String, SocketRef>>> = Arc::default();
    let io = sio.io();
    sio.io()
        .ns("/", move |s: SocketRef, Data(auth): Data<Value>| {
            if !s.recovered() {
                s.join(rooms_of(&auth["rooms"]));
                s.extensions()
                    .insert(SocketData(json!({"user": auth["user"].clone()})));
            }
            kept.lock().unwrap().insert(s.id().to_string(), s.clone());
            let k = kept.clone();
            s.on("kill", move |Data(sid): Data<String>, ack: AckSender| {
                let s = k.lock().unwrap().get(&sid).cloned();
                if let Some(s) = &s {
                    s.close_connection();
                }
                ack.send(&(s.is_some(),)).unwrap();
            });
            let i = io.clone();
            s.on("send", move |Data(v): Data<Value>, ack: AckSender| {
                let ev = v["ev"].as_str().unwrap_or_default();
                i.to(rooms_of(&v["to"]))
                    .emit(ev, &Args(args_of(&v)))
                    .unwrap();
                ack.send(&(true,)).unwrap();
            });
            let k = kept.clone();
            s.on("sendSocket", move |Data(v): Data<Value>, ack: AckSender| {
                let sid = v["sid"].as_str().unwrap_or_default();
                let s = k.lock().unwrap().get(sid).cloned();
                if let Some(s) = &s {
                    s.emit(v["ev"].as_str().unwrap_or_default(), &Args(args_of(&v)))
                        .unwrap();
                }
                ack.send(&(s.is_some(),)).unwrap();
            });
            let i = io.clone();
            s.on("volatile", move |Data(v): Data<Value>, ack: AckSender| {
                let ev = v["ev"].as_str().unwrap_or_default();
                i.to(rooms_of(&v["to"]))
                    .volatile()
                    .emit(ev, &Args(args_of(&v)))
                    .unwrap();
                ack.send(&(true,)).unwrap();
            });
            let i = io.clone();
            s.on("ask", move |Data(v): Data<Value>, ack: AckSender| {
                let ev = v["ev"].as_str().unwrap_or_default();
                let pending = i
                    .to(rooms_of(&v["to"]))
                    .timeout(Duration::from_millis(200))
                    .emit_with_ack(ev, &());
                tokio::spawn(async move {
                    let _ = pending.await;
                });
                ack.send(&(true,)).unwrap();
            });
            let i = io.clone();
            s.on("sendBin", move |Data(v): Data<Value>, ack: AckSender| {
                let ev = v["ev"].as_str().unwrap_or_default();
                i.to(rooms_of(&v["to"]))
                    .emit(ev, &(Binary(&[1, 2, 3]),))
                    .unwrap();
                ack.send(&(true,)).unwrap();
            });
            s.on("whoami", |s: SocketRef, ack: AckSender| {
                let mut rooms: Vec<String> = s.rooms().iter().map(|r| r.to_string()).collect();
                rooms.sort();
                let data = s
                    .extensions()
                    .get::<SocketData>()
                    .map(|d| d.0)
                    .unwrap_or_else(|| json!({}));
                ack.send(&(json!({
                    "id": s.id().as_str(),
                    "recovered": s.recovered(),
                    "rooms": rooms,
                    "data": data,
                }),))
                    .unwrap();
            });
        });
    sio
}

fn parser_arg(parser: Parser) -> String {
    match parser {
        Parser::Msgpack => "msgpack".to_owned(),
        _ => "json".to_owned(),
    }
}

/// Runs `scenario` against `url` with clients speaking `parser`; the `back` line.
async fn scenario(url: &str, scenario: &str, wait_ms: u64, parser: Parser) -> Value {
    let args = [
        url.to_owned(),
        scenario.to_owned(),
        wait_ms.to_string(),
        parser_arg(parser),
    ];
    let lines = ClientProcess::node("csr_client.js", &args).finish().await;
    step(&lines, "back").clone()
}

/// Node's server (csr_server.js) on a fresh port; killed on drop.
async fn node_server(parser: Parser) -> (ClientProcess, String) {
    let mut p = ClientProcess::node("csr_server.js", &[KEEP_MS.to_string(), parser_arg(parser)]);
    let line = p.next_line(10).await;
    assert_eq!(line["step"], "listening", "{line}");
    let url = format!("http://127.0.0.1:{}", line["port"]);
    (p, url)
}

fn recovered_line(reason: &str) -> Value {
    json!({
        "step": "back",
        "reason": reason,
        "recovered": true,
        "same_id": true,
        "server_recovered": true,
        "events": [["e", 1], ["e", 2], ["e", 3], ["e", 4], ["b", {"bin": [1, 2, 3]}]],
        "offsets_ok": true,
        "rooms": ["<id>", "r1"],
        "data": {"user": "ada"},
    })
}

fn new_session_line() -> Value {
    json!({
        "step": "back",
        "reason": "transport close",
        "recovered": false,
        "same_id": false,
        "server_recovered": false,
        "events": [],
        "offsets_ok": true,
        "rooms": ["<id>", "r1"],
        "data": {"user": "ada"},
    })
}

async fn both(name: &'static str, wait_ms: u64, want: Value) {
    both_with(Parser::Json, name, wait_ms, want).await
}

async fn both_with(parser: Parser, name: &'static str, wait_ms: u64, want: Value) {
    let srv = start(sio_config(), app(parser)).await;
    let oxio = scenario(&format!("http://{}", srv.addr), name, wait_ms, parser).await;
    let (node, url) = node_server(parser).await;
    let reference = scenario(&url, name, wait_ms, parser).await;
    drop(node);
    assert_eq!(reference, want, "Node's server, {name}");
    assert_eq!(oxio, reference, "oxio vs Node, {name}");
    srv.stop().await;
}

#[test]
fn recovers_after_the_server_closed_the_transport() {
    if !node_ready("socket.io") {
        return;
    }
    run(both("server-close", 0, recovered_line("transport close")));
}

#[test]
fn recovers_after_the_client_closed_its_engine() {
    if !node_ready("socket.io") {
        return;
    }
    run(both("client-close", 0, recovered_line("forced close")));
}

#[test]
fn a_new_session_after_max_disconnection_duration() {
    if !node_ready("socket.io") {
        return;
    }
    run(both("expired", KEEP_MS + 500, new_session_line()));
}

#[test]
fn a_new_session_when_no_offset_was_received() {
    if !node_ready("socket.io") {
        return;
    }
    run(both("no-offset", 0, new_session_line()));
}

/// Issue 13: with the msgpack parser the offset is the last element of the
/// packet's `data` array too; missed events (the binary one inline, no
/// attachment) come back the same as from Node's server with
/// socket.io-msgpack-parser.
#[test]
fn recovers_with_the_msgpack_parser() {
    if !node_ready("socket.io-msgpack-parser") {
        return;
    }
    run(both_with(
        Parser::Msgpack,
        "server-close",
        0,
        recovered_line("transport close"),
    ));
}

#[test]
fn a_new_session_after_max_disconnection_duration_with_msgpack() {
    if !node_ready("socket.io-msgpack-parser") {
        return;
    }
    run(both_with(
        Parser::Msgpack,
        "expired",
        KEEP_MS + 500,
        new_session_line(),
    ));
}
