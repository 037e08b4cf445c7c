//! Interop with the PyPI `python-socketio` client (5.x, Socket.IO v5),
//! driven by `tests/py/sio_client.py` against `tests/sio_support/app.rs`:
//! connect with auth, events both ways, acks both ways, binary both ways,
//! a broadcast, disconnect; over WebSocket and over polling; with the
//! default serializer and with `serializer='msgpack'` against a server
//! with the msgpack parser (issue 13).
//!
//! Needs python-socketio[client] in a venv, found through `OXIO_PY_VENV`
//! (default `~/.cache/oxio/py-venv`):
//!
//! ```text
//! python3 -m venv ~/.cache/oxio/py-venv
//! ~/.cache/oxio/py-venv/bin/pip install -r std-server/testkit/py/requirements.txt
//! ```
//!
//! Without it the tests print a notice and pass, unless `CI` or
//! `OXIO_REQUIRE_NODE=1` is set: then they fail.

use oxio_testkit::sio as sio_support;

use oxio_server::socketio::Parser;
use serde_json::json;
use sio_support::app::interop_app_with;
use sio_support::{run, sio_config, start, step, tests_dir, ClientProcess, Log};

async fn python(mode: &'static str, parser: Parser) {
    let Some(python) = sio_support::python_ready() else {
        return;
    };
    let log = Log::default();
    // The suites' 300/200 ms heartbeat is too tight for a Python client on
    // a loaded machine (its pong POST came late: `ping timeout` instead of
    // the namespace disconnect, in a CI run); this test is about events.
    let config = oxio_server::config::EngineConfig {
        ping_interval: std::time::Duration::from_secs(1),
        ping_timeout: std::time::Duration::from_secs(2),
        ..sio_config()
    };
    let srv = start(config, interop_app_with(parser, log.clone())).await;
    let script = tests_dir().join("py/sio_client.py").display().to_string();
    let url = format!("http://{}", srv.addr);
    let serializer = match parser {
        Parser::Msgpack => "msgpack",
        _ => "default",
    };
    let args = [script, url, mode.to_owned(), serializer.to_owned()];
    let lines = ClientProcess::spawn(&python, &args).finish().await;
    assert_eq!(
        step(&lines, "connect"),
        &json!({"step": "connect", "transport": mode, "sid_len": 20})
    );
    assert_eq!(
        step(&lines, "hello"),
        &json!({"step": "hello", "id_matches": true, "auth": {"token": "py"}})
    );
    let args_of = |s: &str| step(&lines, s)["args"].clone();
    assert_eq!(
        args_of("echo"),
        json!([1, "2", {"3": [true]}, null, [1.5, -2], "é😀"])
    );
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
    assert_eq!(args_of("many"), json!(["to-me"]));
    assert_eq!(step(&lines, "disconnected")["connected"], false);
    // python-socketio queues the `41` for its writer thread and may exit
    // before the thread sent it (on WebSocket it closes the socket without
    // waiting; on polling, in two CI runs, neither the `41` nor the close
    // arrived): the server sees the namespace disconnect, the transport
    // close, or (polling) the heartbeat noticing the client is gone.
    for _ in 0..800 {
        if !log.with_prefix("disconnect:").is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let mut reasons = log.with_prefix("disconnect:");
    // python-socketio's msgpack DISCONNECT carries `data: nil`, which
    // socket.io-msgpack-parser refuses (`data === undefined` only), so
    // Node closes such a client with `parse error` too; oxio does the same.
    if parser == Parser::Msgpack && reasons == ["disconnect:/:parse error"] {
        reasons = vec!["disconnect:/:client namespace disconnect".to_owned()];
    }
    match mode {
        "polling" => assert!(
            reasons == ["disconnect:/:client namespace disconnect"]
                || reasons == ["disconnect:/:transport close"]
                || reasons == ["disconnect:/:ping timeout"],
            "{reasons:?}"
        ),
        _ => assert!(
            reasons == ["disconnect:/:client namespace disconnect"]
                || reasons == ["disconnect:/:transport close"],
            "{reasons:?}"
        ),
    }
    assert_eq!(log.with_prefix("connect:"), [r#"connect:/:{"token":"py"}"#]);
    srv.stop().await;
}

#[test]
fn python_client_websocket() {
    run(python("websocket", Parser::Json));
}

#[test]
fn python_client_polling() {
    run(python("polling", Parser::Json));
}

#[test]
fn python_msgpack_client_websocket() {
    run(python("websocket", Parser::Msgpack));
}

#[test]
fn python_msgpack_client_polling() {
    run(python("polling", Parser::Msgpack));
}
