//! Issue 10 with the real npm `socket.io-client` 4.8.x: many clients send
//! binary events at once and every packet must reach its receivers whole.
//! Driven by `testkit/js/sio_concurrent.js`, which checks every event and
//! ack it receives (content, count, order) and reports one line per client.
//!
//! Before the fix, frames of binary packets emitted to one socket from two
//! threads could interleave; socket.io-parser then closes the connection
//! (`parse error`), as the demo's receivers did after a few hundred `file`
//! events.
//!
//! Needs `npm ci --prefix std-server/testkit/js`. Without it the tests print a
//! notice and pass, unless `CI` or `OXIO_REQUIRE_NODE=1` is set: then they fail.

use oxio_codec::socketio::{Binary, BinaryBuf};
use oxio_server::config::EngineConfig;
use oxio_server::socketio::{AckSender, Data, DisconnectReason, SocketIo, SocketRef};
use oxio_testkit::sio::{
    node_ready, run_multi_thread, sio_config, start, steps, ClientProcess, Log,
};
use serde_json::json;
use std::time::Duration;

const CLIENTS: usize = 8;
const COUNT: usize = 300;

/// `file` as in the demo (broadcast to every other socket, ack
/// `{ok, size}`); `echo-bin` answered from a task of its own, so one
/// socket's acks are sent from several threads at once.
fn app(log: Log) -> SocketIo {
    let sio = SocketIo::builder().build();
    sio.io().ns("/", move |s: SocketRef| {
        let l = log.clone();
        s.on(
            "file",
            move |s: SocketRef, Data((name, file)): Data<(String, BinaryBuf)>, ack: AckSender| {
                if let Err(e) = s.broadcast().emit("file", &(name, Binary(&file.0))) {
                    l.push(format!("emit error: {e}"));
                }
                let _ = ack.send(&(json!({"ok": true, "size": file.0.len()}),));
            },
        );
        let l = log.clone();
        s.on(
            "echo-bin",
            move |Data((seq, file)): Data<(u32, BinaryBuf)>, ack: AckSender| {
                let l = l.clone();
                tokio::spawn(async move {
                    if let Err(e) = ack.send(&(seq, Binary(&file.0))) {
                        l.push(format!("ack error: {e}"));
                    }
                });
            },
        );
        let l = log.clone();
        s.on_disconnect(move |_: SocketRef, reason: DisconnectReason| {
            l.push(format!("disconnect:{reason}"));
        });
    });
    sio
}

/// Relaxed heartbeat (8 busy clients in one Node process must not miss a
/// pong) and a queue bound above a burst: these tests are about framing.
fn config() -> EngineConfig {
    EngineConfig {
        ping_interval: Duration::from_secs(10),
        ping_timeout: Duration::from_secs(10),
        max_queued_messages: 1 << 16,
        ..sio_config()
    }
}

async fn scenario(name: &'static str, want_received: usize) {
    let log = Log::default();
    let srv = start(config(), app(log.clone())).await;
    let args = [
        format!("http://{}", srv.addr),
        name.to_owned(),
        CLIENTS.to_string(),
        COUNT.to_string(),
    ];
    let started = std::time::Instant::now();
    let mut client = ClientProcess::node("sio_concurrent.js", &args);
    // Every client's report (each written before the clients disconnect).
    let mut reports = Vec::new();
    for _ in 0..CLIENTS {
        reports.push(client.until("client").await);
    }
    let lines = client.finish().await;
    assert_eq!(steps(&lines, "client").len(), CLIENTS);
    for (i, r) in reports.iter().enumerate() {
        assert_eq!(
            r,
            &json!({
                "step": "client",
                "i": i,
                "received": want_received,
                "bad": 0,
                "first_bad": null,
                "in_order": true,
                "acked": COUNT,
                "ack_bad": 0,
                "disconnect": null
            }),
            "client {i}"
        );
    }
    eprintln!(
        "{name}: {CLIENTS} clients × {COUNT} in {:?}",
        started.elapsed()
    );
    for _ in 0..300 {
        if log.all().len() == CLIENTS {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        log.all(),
        vec!["disconnect:client namespace disconnect"; CLIENTS],
        "no emit failed and every socket stayed until its client left"
    );
    srv.stop().await;
}

/// 8 clients × 300 binary `file` events at once, each broadcast to the 7
/// others: 2100 intact events per client (16 800 deliveries), in each
/// sender's order, 300 acks each, nobody disconnected.
#[test]
fn v4_clients_binary_broadcasts_at_once() {
    if node_ready("socket.io-client") {
        run_multi_thread(4, scenario("files", (CLIENTS - 1) * COUNT));
    }
}

/// 8 clients × 300 binary events with acks at once, each answered with the
/// client's bytes from a task of its own: 300 intact acks per client.
#[test]
fn v4_clients_binary_acks_at_once() {
    if node_ready("socket.io-client") {
        run_multi_thread(4, scenario("acks", 0));
    }
}
