//! permessage-deflate with Socket.IO: npm `socket.io-client` in Node (its
//! `ws` offers the extension) negotiates it with oxio and exchanges
//! messages below and above the 1024-byte threshold (events and their
//! acks); a raw client on the same server checks that the server's frames
//! carry RSV1 exactly from the threshold on.
//!
//! Needs `npm ci --prefix std-server/testkit/js`. Without it the Node part
//! prints a notice and passes, unless `CI` or `OXIO_REQUIRE_NODE=1` is set:
//! then it fails.

use oxio_testkit::rawws::RawWs;
use oxio_testkit::sio as sio_support;
use oxio_testkit::Log;

use oxio_server::config::{EngineConfig, PerMessageDeflate};
use serde_json::json;
use sio_support::app::interop_app;
use sio_support::{run, sio_config, start, ClientProcess};

fn config() -> EngineConfig {
    EngineConfig {
        per_message_deflate: Some(PerMessageDeflate::default()),
        ..sio_config()
    }
}

#[test]
fn node_client_negotiates_and_echoes_around_the_threshold() {
    if !sio_support::node_ready("socket.io-client") {
        return;
    }
    run(async {
        let srv = start(config(), interop_app(Log::default())).await;
        let url = format!("http://{}", srv.addr);
        let mut client = ClientProcess::node("sio_deflate.js", &[url]);
        let connect = client.until("connect").await;
        assert_eq!(connect["extensions"], "permessage-deflate");
        for n in [10, 1000, 1100, 5000, 200_000] {
            let echo = client.until("echo").await;
            assert_eq!(echo, json!({"step": "echo", "n": n, "same": true}));
        }
        client.until("done").await;
        srv.stop().await;
    });
}

#[test]
fn server_frames_carry_rsv1_from_the_threshold() {
    run(async {
        let srv = start(config(), interop_app(Log::default())).await;
        let mut ws = RawWs::connect(
            srv.addr,
            "/socket.io/?EIO=4&transport=websocket",
            "permessage-deflate; client_max_window_bits",
        )
        .await;
        assert_eq!(
            ws.header("sec-websocket-extensions"),
            Some("permessage-deflate")
        );
        let (open, compressed) = ws.next_text().await;
        assert!(open.starts_with("0{") && !compressed, "{open}");
        ws.send_text("40").await;
        let (connected, _) = ws.next_text().await;
        assert!(connected.starts_with("40{"), "{connected}");
        for (id, n) in [(1, 10), (2, 1017), (3, 1018), (4, 50_000)] {
            // The ack `43<id>["<n chars>"]` is 1024 bytes from n = 1018.
            let text = "y".repeat(n);
            let event = format!("42{id}[\"echo\",\"{text}\"]");
            if id % 2 == 0 {
                ws.send_text_compressed(&event).await;
            } else {
                ws.send_text(&event).await;
            }
            let ack = loop {
                let (t, compressed) = ws.next_text().await;
                if t.starts_with("43") {
                    break (t, compressed);
                }
            };
            let want = format!("43{id}[\"{text}\"]");
            assert_eq!(ack, (want.clone(), want.len() >= 1024), "{n}");
        }
        srv.stop().await;
    });
}
