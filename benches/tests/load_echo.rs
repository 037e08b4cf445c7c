//! The load generator tested end to end: `oxio-bench-server` on an ephemeral
//! port, `oxio-load echo` (5 clients, 1 s) and `oxio-load broadcast`
//! against it, and the shape of the JSON they write. A few seconds.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// The bench server, killed on drop.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start() -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_oxio-bench-server"))
            .args(["--port", "0", "--threads", "1"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start oxio-bench-server");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the port");
        let port = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        Server { child, port }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn temp_json(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("oxio-load-test-{}-{name}.json", std::process::id()))
}

fn load(args: &[&str], json: &PathBuf) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_oxio-load"))
        .args(args)
        .arg("--json")
        .arg(json)
        .output()
        .expect("run oxio-load");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "oxio-load failed: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(json).expect("the --json file");
    let _ = std::fs::remove_file(json);
    serde_json::from_str(&text).expect("valid JSON")
}

fn num(v: &Value, path: &[&str]) -> f64 {
    let mut cur = v;
    for key in path {
        cur = cur.get(key).unwrap_or_else(|| panic!("no {path:?} in {v}"));
    }
    cur.as_f64()
        .unwrap_or_else(|| panic!("{path:?} is not a number in {v}"))
}

#[test]
fn echo_and_broadcast_against_the_bench_server() {
    let server = Server::start();
    let url = format!("http://127.0.0.1:{}", server.port);

    let json = temp_json("echo");
    let r = load(
        &[
            "echo",
            "--url",
            &url,
            "-n",
            "5",
            "--duration",
            "1",
            "--warmup",
            "0.2",
            "--inflight",
            "2",
            "--label",
            "oxio",
            "--no-progress",
        ],
        &json,
    );
    assert_eq!(r["tool"], "oxio-load");
    assert_eq!(r["format"], 1);
    assert_eq!(r["scenario"], "echo");
    assert_eq!(r["label"], "oxio");
    assert_eq!(r["clients"], 5);
    assert_eq!(r["urls"], serde_json::json!([url]));
    assert_eq!(r["params"]["inflight"], 2);
    assert_eq!(num(&r, &["duration_s"]), 1.0);
    assert_eq!(num(&r, &["connect", "ok"]), 5.0);
    assert_eq!(num(&r, &["connect", "failed"]), 0.0);
    assert_eq!(num(&r, &["connect", "latency", "samples"]), 5.0);
    assert!(num(&r, &["echo", "sent"]) > 0.0, "{r}");
    let received = num(&r, &["echo", "received"]);
    assert!(received > 0.0, "{r}");
    assert_eq!(num(&r, &["echo", "msgs_per_s"]), received / 1.0);
    assert_eq!(num(&r, &["echo", "rtt", "samples"]), received);
    let (p50, p99, max) = (
        num(&r, &["echo", "rtt", "p50_ms"]),
        num(&r, &["echo", "rtt", "p99_ms"]),
        num(&r, &["echo", "rtt", "max_ms"]),
    );
    assert!(0.0 < p50 && p50 <= p99 && p99 <= max, "{r}");
    assert_eq!(num(&r, &["disconnects"]), 0.0, "{r}");
    assert_eq!(num(&r, &["protocol_errors"]), 0.0, "{r}");
    assert!(r["broadcast"].is_null() && r["idle"].is_null());

    let json = temp_json("bcast");
    let r = load(
        &[
            "broadcast",
            "--url",
            &url,
            "-n",
            "3",
            "--duration",
            "0.5",
            "--warmup",
            "0.2",
            "--no-progress",
        ],
        &json,
    );
    assert_eq!(r["scenario"], "broadcast");
    assert_eq!(
        num(&r, &["connect", "ok"]),
        4.0,
        "3 receivers and the emitter: {r}"
    );
    assert_eq!(num(&r, &["broadcast", "receivers"]), 3.0);
    let emitted = num(&r, &["broadcast", "emitted"]);
    assert!(emitted > 0.0, "{r}");
    assert_eq!(num(&r, &["broadcast", "expected"]), emitted * 3.0);
    assert_eq!(num(&r, &["broadcast", "deliveries"]), emitted * 3.0, "{r}");
    assert!(num(&r, &["broadcast", "latency", "p99_ms"]) > 0.0);
}

#[test]
fn help_explains_the_scenarios() {
    let out = Command::new(env!("CARGO_BIN_EXE_oxio-load"))
        .arg("--help")
        .output()
        .expect("run oxio-load --help");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for word in [
        "connect",
        "echo",
        "broadcast",
        "idle",
        "report",
        "echo-response",
        "bcast",
    ] {
        assert!(text.contains(word), "--help lacks {word}:\n{text}");
    }
}
