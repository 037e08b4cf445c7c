//! The client through the Tokio adapter against the real npm `socket.io`
//! 4.8 server (`tests/js/server.js`): auth, events and acks both ways,
//! binary both ways, two namespaces, CONNECT_ERROR, reconnection after the
//! server is killed and restarted, server loss detected by the heartbeat
//! while the server process is frozen (SIGSTOP), and connection state
//! recovery (`connectionStateRecovery`).
//!
//! Needs `npm ci --prefix embedded-example/client/tests/js`. Without it the
//! tests print a notice and pass, unless `CI` or `OXIO_REQUIRE_NODE=1` is
//! set: then they fail.

mod support;

use oxio_client::Event;
use oxio_codec::client::NO_AUTH;
use oxio_codec::socketio::Binary;
use serde_json::json;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use support::*;
use tokio::io::{AsyncBufReadExt, BufReader};

const INSTALL: &str = "npm ci --prefix embedded-example/client/tests/js";

fn js_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/js")
}

fn node_ready() -> bool {
    let modules = js_dir().join("node_modules/socket.io");
    let node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok();
    if node && modules.is_dir() {
        return true;
    }
    let required = std::env::var_os("CI").is_some()
        || std::env::var("OXIO_REQUIRE_NODE").is_ok_and(|v| v == "1");
    let why = if node {
        "tests/js/node_modules is missing"
    } else {
        "node is not installed"
    };
    if required {
        panic!("oxio-client interop tests need Node.js and socket.io ({why}); run: {INSTALL}");
    }
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "\n!!! SKIPPING oxio-client Node interop tests: {why}. Run `{INSTALL}` to enable them. !!!\n"
    );
    false
}

struct Node {
    child: tokio::process::Child,
    port: u16,
    log: Arc<Mutex<Vec<String>>>,
}

impl Node {
    async fn start(port: u16) -> Node {
        Node::start_with(port, &[]).await
    }

    /// `server.js <port> <args...>` (`csr`: connection state recovery on).
    async fn start_with(port: u16, args: &[&str]) -> Node {
        let mut child = tokio::process::Command::new("node")
            .arg(js_dir().join("server.js"))
            .arg(port.to_string())
            .args(args)
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = tokio::time::timeout(std::time::Duration::from_secs(20), lines.next_line())
            .await
            .expect("node prints its port")
            .unwrap()
            .unwrap();
        let port = first.strip_prefix("port ").unwrap().parse().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let l = log.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(entry) = line.strip_prefix("log ") {
                    l.lock().unwrap().push(entry.to_string());
                }
            }
        });
        Node { child, port, log }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn entries(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    fn signal(&self, sig: &str) {
        let pid = self.child.id().unwrap().to_string();
        let ok = std::process::Command::new("kill")
            .args([sig, &pid])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {sig} {pid}");
    }

    async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

async fn wait_for(node: &Node, f: impl Fn(&[String]) -> bool) {
    for _ in 0..100 {
        if f(&node.entries()) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("server log: {:?}", node.entries());
}

fn soon() -> embassy_time::Instant {
    embassy_time::Instant::now() + embassy_time::Duration::from_secs(5)
}

#[tokio::test(flavor = "current_thread")]
async fn node_events_acks_binary_namespaces() {
    events_acks_binary_namespaces(false).await;
}

/// Issue 13: the client with `Config::msgpack` against Node's server with
/// socket.io-msgpack-parser: the same exchange, bytes inline both ways.
#[tokio::test(flavor = "current_thread")]
async fn node_msgpack_events_acks_binary_namespaces() {
    events_acks_binary_namespaces(true).await;
}

async fn events_acks_binary_namespaces(msgpack: bool) {
    if !node_ready() {
        return;
    }
    let (node, config) = if msgpack {
        (Node::start_with(0, &["msgpack"]).await, fast_msgpack())
    } else {
        (Node::start(0).await, fast())
    };
    let mut c = client(&node.url(), config);
    c.connect("/", Some(&json!({"device": "dev1"}))).unwrap();
    c.connect("/admin", NO_AUTH).unwrap();
    c.connect("/closed", NO_AUTH).unwrap();
    let mut seen = vec![];
    for _ in 0..4 {
        seen.push(next(&mut c).await);
    }
    seen.sort();
    assert_eq!(
        seen,
        [
            "connect_error /closed not authorized",
            "connected /",
            "connected /admin",
            r#"msg / ["hello",{"device":"dev1"}] -"#,
        ]
    );
    let (sum,): (i64,) = c.emit_with_ack("add", &(2, 40)).await.unwrap();
    assert_eq!(sum, 42);
    let () = c
        .emit_with_ack("sensor", &json!({"device": "dev1", "temp_c": 21.5}))
        .await
        .unwrap();
    let (n,): (usize,) = c
        .emit_with_ack("blob", &(Binary(&[1, 2, 3]),))
        .await
        .unwrap();
    assert_eq!(n, 3);
    match c.next_event_until(Some(soon())).await.unwrap().unwrap() {
        Event::Message(m) => {
            let (tag, bytes): (&str, Binary<'_>) = m.args().unwrap();
            assert_eq!((tag, bytes.0), ("rev", &[3u8, 2, 1][..]));
        }
        other => panic!("{}", describe(&other)),
    }
    c.emit_to("/admin", "who", &()).await.unwrap();
    assert_eq!(next(&mut c).await, r#"msg /admin ["who","admin"] -"#);
    c.emit("ask", &()).await.unwrap();
    let request = match c.next_event_until(Some(soon())).await.unwrap().unwrap() {
        Event::Message(m) => {
            assert!(m.is("led"));
            m.ack_request().unwrap()
        }
        other => panic!("{}", describe(&other)),
    };
    c.ack(request, &json!({"ok": true})).await.unwrap();
    wait_for(&node, |log| {
        log.iter().any(|e| e.starts_with(r#"["led ack""#))
    })
    .await;
    assert_eq!(
        node.entries(),
        [
            r#"["connect",{"device":"dev1"}]"#,
            r#"["sensor",{"device":"dev1","temp_c":21.5}]"#,
            r#"["led ack",{"ok":true}]"#,
        ]
    );
    c.close().await;
    node.stop().await;
}

#[tokio::test(flavor = "current_thread")]
async fn node_restart_delivers_buffered_emits_once_in_order() {
    if !node_ready() {
        return;
    }
    let node = Node::start(0).await;
    let port = node.port;
    let mut c = client(&node.url(), fast());
    c.connect("/", Some(&json!({"n": 1}))).unwrap();
    assert_eq!(next(&mut c).await, "connected /");
    node.stop().await;
    assert_eq!(
        until(&mut c, "disconnected").await,
        "disconnected / transport close"
    );
    for i in 0..3 {
        c.emit("note", &(i,)).await.unwrap();
    }
    let node = Node::start(port).await;
    assert_eq!(until(&mut c, "connected").await, "connected /");
    c.emit("note", &(3,)).await.unwrap();
    let () = c.emit_with_ack("sensor", &"sync").await.unwrap();
    assert_eq!(
        node.entries(),
        [
            r#"["connect",{"n":1}]"#,
            r#"["note",0]"#,
            r#"["note",1]"#,
            r#"["note",2]"#,
            r#"["note",3]"#,
            r#"["sensor","sync"]"#
        ]
    );
    node.stop().await;
}

#[tokio::test(flavor = "current_thread")]
async fn frozen_node_is_detected_by_the_heartbeat() {
    if !node_ready() {
        return;
    }
    let node = Node::start(0).await;
    let mut c = client(&node.url(), fast());
    c.connect("/", NO_AUTH).unwrap();
    assert_eq!(next(&mut c).await, "connected /");
    // pingInterval 300 + pingTimeout 200: lost within ~0.5 s of silence.
    node.signal("-STOP");
    let started = std::time::Instant::now();
    assert_eq!(until(&mut c, "server_lost").await, "server_lost");
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
    assert_eq!(
        until(&mut c, "disconnected").await,
        "disconnected / ping timeout"
    );
    node.signal("-CONT");
    assert_eq!(until(&mut c, "connected").await, "connected /");
    node.stop().await;
}

#[tokio::test(flavor = "current_thread")]
async fn node_connection_state_recovery_replays_missed_events_once() {
    recovery(false).await;
}

/// Issue 13: the same with the msgpack parser on both sides (the offset is
/// the last element of the msgpack data array; pid and offset are merged
/// into the msgpack auth map).
#[tokio::test(flavor = "current_thread")]
async fn node_msgpack_connection_state_recovery_replays_missed_events_once() {
    recovery(true).await;
}

async fn recovery(msgpack: bool) {
    if !node_ready() {
        return;
    }
    let (node, config) = if msgpack {
        (
            Node::start_with(0, &["csr", "msgpack"]).await,
            fast_msgpack(),
        )
    } else {
        (Node::start_with(0, &["csr"]).await, fast())
    };
    let mut c = client(&node.url(), config);
    c.connect("/", Some(&json!({"device": "dev1"}))).unwrap();
    assert_eq!(next(&mut c).await, "connected /");
    let hello = next(&mut c).await;
    let offset = last_string(&hello);
    assert!(
        hello.starts_with(r#"msg / ["hello",{"device":"dev1"},""#),
        "{hello}"
    );
    // The server drops the connection and broadcasts 3 events meanwhile.
    c.emit("drop", &(3,)).await.unwrap();
    assert_eq!(
        until(&mut c, "disconnected").await,
        "disconnected / transport close"
    );
    wait_for(&node, |log| {
        log.iter().any(|e| e.starts_with(r#"["missed""#))
    })
    .await;
    let seen = events_until_connected(&mut c).await;
    let news: Vec<i64> = seen.iter().filter_map(|e| news_number(e)).collect();
    assert_eq!(
        news,
        [1, 2, 3],
        "each missed event once, in order: {seen:?}"
    );
    assert_eq!(
        seen.last().map(String::as_str),
        Some("recovered /"),
        "{seen:?}"
    );
    // The reconnection asked for recovery with the user's auth merged in,
    // and the server recovered the socket (same id).
    wait_for(&node, |log| {
        log.iter().any(|e| e.starts_with(r#"["recovered""#))
    })
    .await;
    let entries = node.entries();
    let connects: Vec<serde_json::Value> = entries
        .iter()
        .filter(|e| e.starts_with(r#"["connect""#))
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    assert_eq!(connects.len(), 2, "{entries:?}");
    let auth = &connects[1][1];
    assert_eq!(auth["device"], "dev1");
    assert_eq!(auth["offset"], offset.as_str());
    assert_eq!(auth["pid"].as_str().map(str::len), Some(20));
    let dropped = entries
        .iter()
        .find(|e| e.starts_with(r#"["drop""#))
        .unwrap();
    let recovered = entries
        .iter()
        .find(|e| e.starts_with(r#"["recovered""#))
        .unwrap();
    assert_eq!(dropped[8..], recovered[13..], "same socket id");
    // Live events still flow, and a second drop recovers again.
    assert!(next(&mut c).await.starts_with(r#"msg / ["hello""#));
    c.emit("drop", &(1,)).await.unwrap();
    until(&mut c, "disconnected").await;
    wait_for(&node, |log| {
        log.iter().filter(|e| e.starts_with(r#"["missed""#)).count() == 2
    })
    .await;
    let seen = events_until_connected(&mut c).await;
    let news: Vec<i64> = seen.iter().filter_map(|e| news_number(e)).collect();
    assert_eq!(news, [1], "{seen:?}");
    assert_eq!(
        seen.last().map(String::as_str),
        Some("recovered /"),
        "{seen:?}"
    );
    c.close().await;
    node.stop().await;
}
