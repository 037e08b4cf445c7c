//! Interop with the npm `socket.io-client` 2.5.0 (Socket.IO v4 on
//! Engine.IO v3), installed as `socket.io-client-v2`, against `allow_eio3`:
//! the implicit `/`, a custom namespace with its query-string auth, events,
//! acks both ways, binary both ways, an unknown namespace, disconnects.
//! Driven by `tests/js/sio_client.js v2` against `tests/sio_support/app.rs`.
//!
//! Needs `npm ci --prefix std-server/testkit/js` (same skip/fail rule as the
//! other Node tests).

use oxio_testkit::sio as sio_support;

use serde_json::json;
use sio_support::app::interop_app;
use sio_support::{run, sio_config, start, step, ClientProcess, Log};

async fn v2(mode: &'static str) {
    let log = Log::default();
    let srv = start(sio_config(), interop_app(log.clone())).await;
    let url = format!("http://{}", srv.addr);
    let lines = ClientProcess::node("sio_client.js", &[url, "v2".to_owned(), mode.to_owned()])
        .finish()
        .await;
    assert_eq!(
        step(&lines, "connect"),
        &json!({"step": "connect", "id_is_engine_id": true, "hello_id_matches": true, "auth": {}})
    );
    if mode == "upgrade" {
        assert_eq!(step(&lines, "upgrade")["transport"], "websocket");
    }
    assert_eq!(
        step(&lines, "custom"),
        &json!({"step": "custom", "id": true, "hello_id_matches": true, "auth": {"token": "v2"}})
    );
    let args_of = |s: &str| step(&lines, s)["args"].clone();
    assert_eq!(args_of("echo"), json!([1, "2", {"3": [true]}]));
    assert_eq!(args_of("custom-echo"), json!(["c"]));
    assert_eq!(args_of("ask"), json!([42]));
    assert_eq!(args_of("bin-ack"), json!([7, 3, [1, 2], 1]));
    assert_eq!(
        args_of("bin-back"),
        json!([
            {
                "id": 7,
                "nested": {"file": {"bin": [1, 2, 3]}, "label": "file"},
                "all": [{"bin": [4]}, {"bin": [5, 6]}, {"bin": [9]}]
            },
            {"bin": [255, 0]}
        ])
    );
    assert_eq!(args_of("ask-bin"), json!([[3, 2, 1], {"bin": [3, 2, 1]}]));
    // socket.io 4 answers v2 clients with an object too (docs/protocol.md §4).
    assert_eq!(
        step(&lines, "nope-refused")["err"],
        json!({"message": "Invalid namespace"})
    );
    assert_eq!(step(&lines, "kicked")["reason"], "io server disconnect");
    assert_eq!(step(&lines, "disconnect")["reason"], "io client disconnect");
    log.wait_for("disconnect:/custom:server namespace disconnect")
        .await;
    log.wait_for("disconnect:/:client namespace disconnect")
        .await;
    let mut connects = log.with_prefix("connect:");
    connects.sort();
    assert_eq!(
        connects,
        [r#"connect:/:{}"#, r#"connect:/custom:{"token":"v2"}"#]
    );
    srv.stop().await;
}

fn ready() -> bool {
    sio_support::node_ready("socket.io-client-v2")
}

#[test]
fn v2_client_websocket_only() {
    if ready() {
        run(v2("websocket"));
    }
}

#[test]
fn v2_client_polling_only() {
    if ready() {
        run(v2("polling"));
    }
}

#[test]
fn v2_client_upgrade() {
    if ready() {
        run(v2("upgrade"));
    }
}
