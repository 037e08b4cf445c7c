//! Chaos (issue 16): a node dies with `kill -9` while clients are
//! connected to it. Two demo servers (`oxio-server --redis URL`, separate
//! processes) share a Redis behind nginx (`ip_hash`); socket.io-client
//! clients (reconnection on, polling then WebSocket) join a room through
//! nginx until two sit on each node, and a Node socket.io node on the same
//! Redis broadcasts a numbered tick to the room every 50 ms. Node A is
//! killed with SIGKILL. Asserted: the clients of B never disconnect and
//! receive every tick, before, during and after the kill, without a gap;
//! A's clients are disconnected, reconnect through nginx, which now sends
//! them to B, re-join the room and receive the (cross-node) ticks again
//! within `RECOVERY_BOUND` of the kill; B keeps running.
//!
//! Needs redis-server, nginx, node and `npm ci --prefix
//! std-server/redis-adapter/tests/redis_js` (skip notice otherwise; a failure
//! under `CI` / `OXIO_REQUIRE_NODE=1`). The demo binary is
//! `OXIO_SERVER_BIN`, else `oxio-server` beside this test executable
//! (`cargo test --workspace` builds it), else built here by its name.

mod redis_support;
use oxio_testkit::sio as sio_support;

use oxio_testkit::nginx::Nginx;
use redis_support::{eventually, Peer, Redis};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::io::AsyncBufReadExt;

/// From the kill to every one of A's clients receiving ticks on B again.
const RECOVERY_BOUND: Duration = Duration::from_secs(5);

/// The tick period of the Node broadcaster.
const TICK_MS: u64 = 50;

const ROOM: &str = "chaos";

/// What the demo logs once it listens.
const LISTENING: &str = "oxio demo server listening on http://";

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// The demo server binary: `OXIO_SERVER_BIN`, else `oxio-server` in this
/// test executable's profile directory, else built there by its name.
fn server_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("OXIO_SERVER_BIN") {
            return PathBuf::from(bin);
        }
        // <target>/<profile>/deps/redis_chaos_kill-<hash>
        let exe = std::env::current_exe().expect("test executable path");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("target/<profile>/deps");
        let bin = profile_dir.join("oxio-server");
        if !bin.exists() {
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
            let mut build = std::process::Command::new(cargo());
            build
                .args(["build", "--bin", "oxio-server"])
                .current_dir(root);
            if profile_dir.file_name().is_some_and(|n| n == "release") {
                build.arg("--release");
            }
            if let Some(target) = profile_dir.parent() {
                build.env("CARGO_TARGET_DIR", target);
            }
            let out = build.output().expect("cargo runs");
            assert!(
                out.status.success(),
                "cargo build --bin oxio-server failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        bin
    })
}

/// An `oxio-server --redis URL` child process on a free port; killed on drop.
struct DemoNode {
    child: tokio::process::Child,
    addr: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
}

impl DemoNode {
    async fn start(redis_url: &str) -> DemoNode {
        let mut child = tokio::process::Command::new(server_bin())
            .args(["--host", "127.0.0.1", "--port", "0", "--log", "info"])
            .args(["--jwt-secret", "the redis chaos tests' secret!!!!"])
            .args(["--redis", redis_url])
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start oxio-server");
        let log = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        for lines in [
            Box::pin(tokio::io::BufReader::new(stdout))
                as std::pin::Pin<Box<dyn tokio::io::AsyncBufRead + Send>>,
            Box::pin(tokio::io::BufReader::new(stderr)),
        ] {
            let log = log.clone();
            tokio::spawn(async move {
                let mut lines = lines.lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    log.lock().unwrap().push(line);
                }
            });
        }
        let started = Instant::now();
        loop {
            let found = log
                .lock()
                .unwrap()
                .iter()
                .find_map(|l| Some(l[l.find(LISTENING)? + LISTENING.len()..].to_owned()));
            if let Some(rest) = found {
                let addr = rest.split('/').next().unwrap().parse().unwrap();
                return DemoNode { child, addr, log };
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "oxio-server did not start: {:?}\n{}",
                child.try_wait(),
                log.lock().unwrap().join("\n")
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    fn output(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }
}

/// The position in the Node peer's lines of the first line after `from`
/// matching `pred`.
fn find_after(lines: &[Value], from: usize, pred: impl Fn(&Value) -> bool) -> Option<usize> {
    lines
        .iter()
        .enumerate()
        .skip(from)
        .find_map(|(i, v)| pred(v).then_some(i))
}

/// The tick numbers client `name` received, in order.
fn ticks_of(n: &Peer, name: &str) -> Vec<u64> {
    n.events(name)
        .into_iter()
        .filter(|(e, _)| e == "tick")
        .filter_map(|(_, args)| args[0].as_u64())
        .collect()
}

/// The last tick the broadcaster sent.
fn last_sent(n: &Peer) -> u64 {
    n.all()
        .iter()
        .rev()
        .find(|v| v["ev"] == "tick")
        .and_then(|v| v["n"].as_u64())
        .unwrap_or(0)
}

#[test]
fn killed_node_clients_reconnect_to_the_survivor_through_nginx() {
    if !redis_support::nginx_ready() {
        return;
    }
    server_bin();
    sio_support::run(async {
        let redis = Redis::start().await;
        let mut a = DemoNode::start(&redis.url()).await;
        let b = DemoNode::start(&redis.url()).await;
        let nginx = Nginx::start(&[a.addr, b.addr], true).await;
        let mut n = Peer::start(&redis.url()).await;
        let front = format!("http://127.0.0.1:{}", nginx.port);
        let (up_a, up_b) = (a.addr.to_string(), b.addr.to_string());

        // Clients from 127.0.k.1 (one /24 each, so ip_hash spreads them)
        // until two are on each node; the rest are closed. Which node a
        // client is on: the upstream of its polling handshake in nginx's log.
        let mut on_a: Vec<(String, String)> = Vec::new();
        let mut on_b: Vec<(String, String)> = Vec::new();
        for k in 1..=48 {
            let name = format!("c{k}");
            let ip = format!("127.0.{k}.1");
            n.cmd(json!({
                "cmd": "client", "name": name, "url": front,
                "transports": ["polling", "websocket"], "localAddress": ip,
                "reconnect": true, "onConnect": [["join-room", ROOM]],
            }))
            .await;
            n.got(&name, "room-joined", json!([ROOM])).await;
            eventually(&format!("{ip} in nginx's log"), 5, || {
                nginx.log().iter().any(|l| l.0 == ip)
            })
            .await;
            let up = nginx.log().into_iter().find(|l| l.0 == ip).unwrap().1;
            let list = if up == up_a {
                &mut on_a
            } else if up == up_b {
                &mut on_b
            } else {
                panic!("{ip} went to {up}, neither {up_a} nor {up_b}");
            };
            if list.len() < 2 {
                list.push((name, ip));
            } else {
                n.cmd(json!({"cmd": "client_close", "client": name})).await;
            }
            if on_a.len() == 2 && on_b.len() == 2 {
                break;
            }
        }
        assert!(
            on_a.len() == 2 && on_b.len() == 2,
            "48 source addresses did not put two clients on each node: A {on_a:?}, B {on_b:?}"
        );
        eprintln!("on A ({up_a}): {on_a:?}; on B ({up_b}): {on_b:?}");

        // The Node node broadcasts to the room through Redis; every client
        // gets ticks (cross-node for all of them) before the kill.
        n.cmd(json!({"cmd": "ticker", "event": "tick", "to": format!("room:{ROOM}"), "every": TICK_MS}))
            .await;
        for (c, _) in on_a.iter().chain(&on_b) {
            eventually(&format!("{c} receives ticks"), 5, || {
                ticks_of(&n, c).len() >= 3
            })
            .await;
        }

        tokio::time::sleep(Duration::from_millis(500)).await;

        // kill -9 node A.
        let lines_before = n.all().len();
        let tick_at_kill = last_sent(&n);
        let killed = Instant::now();
        a.child.start_kill().expect("SIGKILL node A");
        let status = a.child.wait().await.expect("node A reaped");
        assert!(!status.success(), "A was killed: {status:?}");

        // A's clients: disconnected, connected again (through nginx, to
        // B), in the room again, receiving ticks, within the bound.
        let mut recovered = Vec::new();
        for (c, _) in &on_a {
            let c = c.as_str();
            let deadline = killed + RECOVERY_BOUND * 2;
            let took = loop {
                let lines = n.all();
                let back = find_after(&lines, lines_before, |v| {
                    v["ev"] == "disconnected" && v["client"] == c
                })
                .and_then(|i| find_after(&lines, i, |v| v["ev"] == "connected" && v["client"] == c))
                .and_then(|i| {
                    find_after(&lines, i, |v| {
                        v["ev"] == "event" && v["client"] == c && v["event"] == "tick"
                    })
                });
                if back.is_some() {
                    break killed.elapsed();
                }
                assert!(
                    Instant::now() < deadline,
                    "{c} did not get ticks again after the kill: {:#?}",
                    lines[lines_before..]
                        .iter()
                        .filter(|v| v["client"] == c)
                        .collect::<Vec<_>>()
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            };
            recovered.push((c.to_owned(), took));
        }
        eprintln!("killed A at tick {tick_at_kill}; recovered: {recovered:?}");
        for (c, took) in &recovered {
            assert!(
                *took < RECOVERY_BOUND,
                "{c} took {took:?} to receive ticks again (bound {RECOVERY_BOUND:?})"
            );
        }

        // One more second of ticks, then stop; everyone gets the last one.
        tokio::time::sleep(Duration::from_secs(1)).await;
        n.cmd(json!({"cmd": "ticker_stop", "event": "tick"})).await;
        let last = last_sent(&n);
        for (c, _) in on_a.iter().chain(&on_b) {
            eventually(&format!("{c} gets the last tick {last}"), 5, || {
                ticks_of(&n, c).last() == Some(&last)
            })
            .await;
        }

        // B's clients: no disconnection, every tick from their first (before
        // the kill) to the last, in order.
        for (c, _) in &on_b {
            let got = ticks_of(&n, c);
            let first = got[0];
            assert!(first <= tick_at_kill, "{c} got ticks before the kill");
            let want: Vec<u64> = (first..=last).collect();
            assert_eq!(got, want, "{c} (on B) missed or repeated ticks");
            assert!(
                !n.all()
                    .iter()
                    .any(|v| v["client"] == c.as_str() && v["ev"] == "disconnected"),
                "{c} (on B) was disconnected"
            );
        }

        // nginx sent A's clients to B once A was gone: their sessions poll
        // on B now.
        let log = nginx.log();
        for (c, ip) in &on_a {
            assert!(
                log.iter().any(|(from, up, status, req)| from == ip
                    && up.rsplit(", ").next() == Some(up_b.as_str())
                    && *status == 200
                    && req.contains("sid=")),
                "{c} ({ip}) has no session on B in nginx's log: {log:#?}"
            );
        }
        let mut b = b;
        assert!(
            b.child.try_wait().unwrap().is_none(),
            "B is still running:\n{}",
            b.output()
        );

        n.stop().await;
        nginx.stop().await;
        drop(b);
        drop(redis);
    });
}
