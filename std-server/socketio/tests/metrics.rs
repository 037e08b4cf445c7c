//! Prometheus metrics: a server built with `.metrics(..)` on 127.0.0.1,
//! driven by raw Engine.IO clients (a WebSocket client, a polling client
//! that upgrades, refused requests, an unanswered ack, a slow reader), then
//! scraped; the text is parsed by PyPI `prometheus_client`'s OpenMetrics
//! and text-format parsers (`testkit/py/parse_metrics.py`) and the values
//! they read are checked one by one.

use oxio_server::config::EngineConfig;
use oxio_server::metrics::{AdapterState, Metrics};
use oxio_server::socketio::{Data, SocketIo, SocketRef};
use oxio_testkit::engine as http;
use oxio_testkit::sio::{self, sio_config, Polling, Ws};
use serde_json::Value;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The samples both parsers read, or the parser's error.
fn parse(text: &str) -> Option<Value> {
    let python = sio::python_ready()?;
    let script = sio::tests_dir().join("py/parse_metrics.py");
    let ok = Command::new(&python)
        .args(["-c", "import prometheus_client"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none()
                && std::env::var("OXIO_REQUIRE_NODE").map_or(true, |v| v != "1"),
            "prometheus_client missing from the venv: {}",
            sio::py_install()
        );
        eprintln!(
            "\n!!! SKIPPING the metrics parser check: {} !!!\n",
            sio::py_install()
        );
        return None;
    }
    let mut child = Command::new(python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the parsers refused the text: {stdout}{}\n--- text\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_str(&stdout).unwrap())
}

/// The test config without its 300 ms heartbeat: the clients here do not
/// always read, and must not time out.
fn quiet_config() -> EngineConfig {
    EngineConfig {
        ping_interval: Duration::from_secs(25),
        ping_timeout: Duration::from_secs(20),
        allow_eio3: false,
        ..sio_config()
    }
}

fn sample(parsed: &Value, key: &str) -> f64 {
    parsed["samples"][key]
        .as_f64()
        .unwrap_or_else(|| panic!("no sample {key} in {}", parsed["samples"]))
}

#[test]
fn counters_follow_traffic_and_the_text_parses() {
    sio::run(async {
        let metrics = Metrics::new();
        metrics.watch_adapter("redis", || AdapterState {
            up: false,
            publish_queue_depth: 7,
        });
        let sio = SocketIo::builder()
            .metrics(&metrics)
            .ack_timeout(Duration::from_millis(100))
            .build();
        let io = sio.io();
        let bcast_io = io.clone();
        io.ns("/", move |s: SocketRef| {
            s.on("echo", |s: SocketRef, Data(v): Data<Value>| {
                let _ = s.emit("echo", &(v,));
            });
            let io = bcast_io.clone();
            s.on("bcast", move |Data(v): Data<Value>| {
                let _ = io.emit("b", &(v,));
            });
            s.on("ask", |s: SocketRef| async move {
                let _ = s.emit_with_ack("question", &()).await;
            });
        });
        let server = sio::start(quiet_config(), sio).await;
        let addr = server.addr;

        // A: WebSocket from the start; joins, echoes, asks for a broadcast.
        let mut a = Ws::eio4(addr).await;
        a.join("40").await;
        a.send(r#"42["echo","hi"]"#).await;
        assert_eq!(a.next_text().await, r#"42["echo","hi"]"#);

        // B: polling, then upgraded to WebSocket.
        let b = Polling::open(addr).await;
        b.post(&["40"]).await;
        assert_eq!(b.read(1).await.len(), 1);
        let mut bw = Ws::connect(
            addr,
            "/socket.io/",
            &format!("EIO=4&transport=websocket&sid={}", b.sid),
        )
        .await;
        bw.send("2probe").await;
        assert_eq!(bw.next_text().await, "3probe");
        bw.send("5").await;

        a.send(r#"42["bcast",1]"#).await;
        assert_eq!(a.next_text().await, r#"42["b",1]"#);
        assert_eq!(bw.next_text().await, r#"42["b",1]"#);

        // An ack B never answers: one ack timeout.
        bw.send(r#"42["ask"]"#).await;
        assert_eq!(bw.next_text().await, r#"420["question"]"#);
        tokio::time::sleep(Duration::from_millis(300)).await;

        // Refused requests: code 0, 1, 5.
        for (path, code) in [
            ("/socket.io/?EIO=4&transport=carrier-pigeon", 400),
            ("/socket.io/?EIO=4&transport=polling&sid=nope", 400),
            ("/socket.io/?EIO=3&transport=polling", 400),
        ] {
            assert_eq!(http::get(addr, path).await.status, code, "{path}");
        }

        // A leaves: client namespace disconnect, then transport close.
        a.send("41").await;
        a.close().await;
        tokio::time::sleep(Duration::from_millis(200)).await;

        let text = metrics.encode();
        server.stop().await;

        // What the Rust side reads, before the parsers.
        for line in [
            "oxio_engine_handshakes_total{transport=\"websocket\"} 1\n",
            "oxio_engine_handshakes_total{transport=\"polling\"} 1\n",
            "oxio_engine_upgrades_total 1\n",
            "oxio_socketio_broadcasts_total 1\n",
            "oxio_socketio_ack_timeouts_total 1\n",
            "oxio_adapter_up{adapter=\"redis\"} 0\n",
            "oxio_adapter_publish_queue_depth{adapter=\"redis\"} 7\n",
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }

        let Some(p) = parse(&text) else { return };
        assert_eq!(p["families"]["oxio_engine_handshakes"], "counter");
        assert_eq!(p["families"]["oxio_engine_connections"], "gauge");
        assert_eq!(p["families"]["oxio_adapter_up"], "gauge");
        let s = |k: &str| sample(&p, k);
        assert_eq!(s("oxio_engine_handshakes_total{transport=websocket}"), 1.0);
        assert_eq!(s("oxio_engine_handshakes_total{transport=polling}"), 1.0);
        assert_eq!(s("oxio_engine_upgrades_total{}"), 1.0);
        // A is gone, B is open on WebSocket (the server stopped after the scrape).
        assert_eq!(s("oxio_engine_connections{transport=websocket}"), 1.0);
        assert_eq!(s("oxio_engine_connections{transport=polling}"), 0.0);
        assert_eq!(
            s("oxio_engine_disconnects_total{reason=transport close}"),
            1.0
        );
        // In: A's 0, 2["echo","hi"], 2["bcast",1], 1; B's 0, 2["ask"], and
        // no answer to the question.
        let inbound = [
            "0",
            r#"2["echo","hi"]"#,
            r#"2["bcast",1]"#,
            "1",
            "0",
            r#"2["ask"]"#,
        ];
        assert_eq!(s("oxio_engine_packets_in_total{}"), inbound.len() as f64);
        let in_bytes: usize = inbound.iter().map(|p| p.len()).sum();
        assert_eq!(s("oxio_engine_bytes_in_total{}"), in_bytes as f64);
        // Out: two CONNECT replies (0{"sid":"<20>"}), the echo, the
        // broadcast twice, the question.
        let out_fixed = [
            r#"2["echo","hi"]"#,
            r#"2["b",1]"#,
            r#"2["b",1]"#,
            r#"20["question"]"#,
        ];
        let connect_reply = r#"0{"sid":"01234567890123456789"}"#.len();
        assert_eq!(s("oxio_engine_packets_out_total{}"), 6.0);
        let out_bytes = 2 * connect_reply + out_fixed.iter().map(|p| p.len()).sum::<usize>();
        assert_eq!(s("oxio_engine_bytes_out_total{}"), out_bytes as f64);
        assert_eq!(s("oxio_engine_requests_refused_total{code=0}"), 1.0);
        assert_eq!(s("oxio_engine_requests_refused_total{code=1}"), 1.0);
        assert_eq!(s("oxio_engine_requests_refused_total{code=5}"), 1.0);
        assert_eq!(s("oxio_socketio_connects_total{}"), 2.0);
        assert_eq!(s("oxio_socketio_sockets{}"), 1.0);
        assert_eq!(
            s("oxio_socketio_disconnects_total{reason=client namespace disconnect}"),
            1.0
        );
        assert_eq!(s("oxio_socketio_broadcasts_total{}"), 1.0);
        // echo, b to A, b to B, question (CONNECT replies are not emits).
        assert_eq!(s("oxio_socketio_deliveries_total{}"), 4.0);
        assert_eq!(s("oxio_socketio_ack_timeouts_total{}"), 1.0);
        assert_eq!(s("oxio_socketio_dropped_packets_total{kind=volatile}"), 0.0);
        assert_eq!(s("oxio_socketio_slow_client_closes_total{}"), 0.0);
        assert_eq!(s("oxio_adapter_up{adapter=redis}"), 0.0);
        assert_eq!(s("oxio_adapter_publish_queue_depth{adapter=redis}"), 7.0);
    });
}

/// A client that never reads: its queue fills, the volatile packets are
/// dropped and counted, then a regular one closes it as a slow reader.
#[test]
fn queue_drops_and_slow_reader_closes_are_counted() {
    sio::run(async {
        let metrics = Metrics::new();
        let sio = SocketIo::builder().metrics(&metrics).build();
        let io = sio.io();
        let server = sio::start(
            EngineConfig {
                max_queued_messages: 2,
                ..quiet_config()
            },
            sio,
        )
        .await;
        // A polling client that joins and then never polls again.
        let p = Polling::open(server.addr).await;
        p.post(&["40"]).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        // The CONNECT reply is queued (1 of 2); one more fits.
        io.emit("fill", &()).unwrap();
        io.volatile().emit("v", &()).unwrap();
        io.volatile().emit("v", &()).unwrap();
        io.emit("overflow", &()).unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let text = metrics.encode();
        server.stop().await;
        for line in [
            "oxio_socketio_dropped_packets_total{kind=\"volatile\"} 2\n",
            "oxio_socketio_slow_client_closes_total 1\n",
            "oxio_engine_queue_full_total 3\n",
            "oxio_socketio_disconnects_total{reason=\"forced close\"} 1\n",
            "oxio_engine_disconnects_total{reason=\"forced close\"} 1\n",
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
        if let Some(p) = parse(&text) {
            assert_eq!(
                sample(&p, "oxio_socketio_dropped_packets_total{kind=volatile}"),
                2.0
            );
        }
    });
}

/// Two observers (metrics and, say, an admin dashboard) are both told.
#[test]
fn a_second_observer_is_told_too() {
    sio::run(async {
        let (first, second) = (Metrics::new(), Metrics::new());
        let sio = SocketIo::builder().metrics(&first).metrics(&second).build();
        let server = sio::start(quiet_config(), sio).await;
        let mut ws = Ws::eio4(server.addr).await;
        ws.join("40").await;
        server.stop().await;
        for m in [first, second] {
            let text = m.encode();
            for line in [
                "oxio_engine_handshakes_total{transport=\"websocket\"} 1\n",
                "oxio_socketio_connects_total 1\n",
                "oxio_engine_packets_in_total 1\n",
            ] {
                assert!(text.contains(line), "{line} missing from\n{text}");
            }
        }
    });
}
