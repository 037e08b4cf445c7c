//! Shared by the `streams_*` tests: a real `redis-server`
//! ([`oxio_testkit::redis`]), oxio nodes with the Redis Streams adapter and
//! connection state recovery (in-process), and a Node socket.io node with
//! @socket.io/redis-streams-adapter plus socket.io-client clients
//! (`tests/streams_js/peer.js`), driven by JSON lines.
//!
//! Needs `apt-get install -y redis-server` and
//! `npm ci --prefix std-server/redis-streams-adapter/tests/streams_js`.
//! Without them the tests print a notice and pass, unless `CI` or
//! `OXIO_REQUIRE_NODE=1` is set: then they fail with the install command.
#![allow(dead_code)]

use oxio_redis_streams_adapter::{RedisStreamsAdapter, RedisStreamsAdapterFactory};
use oxio_server::adapter::SocketData;
use oxio_server::socketio::{AckSender, ConnectionStateRecovery, Data, SocketIo, SocketRef};
use oxio_testkit::sio::{self as sio_support, SioServer};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

pub use oxio_testkit::redis::RedisServer;

pub const INSTALL: &str =
    "apt-get install -y redis-server && npm ci --prefix std-server/redis-streams-adapter/tests/streams_js";

fn missing(why: &str) -> bool {
    let required = std::env::var_os("CI").is_some()
        || std::env::var("OXIO_REQUIRE_NODE").is_ok_and(|v| v == "1");
    if required {
        panic!("the Redis Streams adapter tests need {why}; run: {INSTALL}");
    }
    eprintln!(
        "\n!!! SKIPPING Redis Streams adapter tests: {why}. Run `{INSTALL}` to enable them. !!!\n"
    );
    false
}

pub fn js_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/streams_js")
}

/// Whether redis-server, node and the npm packages are there (skip/fail rule).
pub fn ready() -> bool {
    if !oxio_testkit::redis::installed() {
        return missing("redis-server, which is not installed");
    }
    if !js_dir()
        .join("node_modules/@socket.io/redis-streams-adapter")
        .is_dir()
    {
        return missing("node and the npm packages of tests/streams_js");
    }
    true
}

/// What an oxio node's handlers saw.
#[derive(Clone, Default)]
pub struct Seen(Arc<Mutex<Vec<Value>>>);

impl Seen {
    pub fn push(&self, v: Value) {
        self.0.lock().unwrap().push(v);
    }
    pub fn all(&self) -> Vec<Value> {
        self.0.lock().unwrap().clone()
    }
    pub async fn wait(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        for _ in 0..200 {
            if let Some(v) = self.all().into_iter().find(|v| pred(v)) {
                return v;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("{what} never seen; seen: {:#?}", self.all());
    }
}

/// An oxio node: a Socket.IO server with recovery on and its own Redis
/// Streams adapter. `/` joins the rooms named in the auth (not when
/// recovered), keeps `{node, name}` as data, answers `whoami`, and listens
/// to the server-side event `ssevent` (answering `<node>:<arg>`).
pub struct OxioNode {
    pub name: &'static str,
    pub server: SioServer,
    pub sio: SocketIo,
    pub adapter: RedisStreamsAdapterFactory,
    pub seen: Seen,
}

impl OxioNode {
    pub async fn start(
        name: &'static str,
        redis_url: &str,
        max_disconnection: Duration,
    ) -> OxioNode {
        if let Ok(filter) = std::env::var("OXIO_TEST_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
                .with_test_writer()
                .try_init();
        }
        let csr = ConnectionStateRecovery {
            max_disconnection_duration: max_disconnection,
            ..Default::default()
        };
        let adapter = RedisStreamsAdapter::builder(redis_url)
            .connection_state_recovery(csr.clone())
            .requests_timeout(Duration::from_secs(8))
            .block_time(Duration::from_secs(1))
            .reconnect_backoff(Duration::from_millis(50), Duration::from_millis(400))
            .connect()
            .await
            .expect("connect to redis");
        let sio = SocketIo::builder()
            .connection_state_recovery(csr)
            .with_adapter(adapter.clone())
            .build();
        let io = sio.io();
        let seen = Seen::default();
        io.ns("/", move |socket: SocketRef, Data(auth): Data<Value>| {
            if !socket.recovered() {
                let rooms: Vec<String> = auth["rooms"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|r| r.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default();
                socket.join(rooms);
                socket
                    .extensions()
                    .insert(SocketData(json!({"node": name, "name": auth["name"]})));
            }
            socket.on("whoami", move |s: SocketRef, ack: AckSender| {
                let mut rooms: Vec<String> = s.rooms().iter().map(|r| r.to_string()).collect();
                rooms.sort();
                let _ = ack.send(&(json!({"node": name, "id": s.id().as_str(), "rooms": rooms, "recovered": s.recovered()}),));
            });
        });
        let s2 = seen.clone();
        io.on_server_side_emit("ssevent", move |ev| {
            let arg: String = ev.args().unwrap_or_default();
            s2.push(json!({"server_side": arg, "ack": ev.wants_ack()}));
            let _ = ev.ack(&format!("{name}:{arg}"));
        });
        let server = sio_support::start(sio_support::sio_config(), sio.clone()).await;
        OxioNode {
            name,
            server,
            sio,
            adapter,
            seen,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.server.addr)
    }
}

/// The Node peer process: a socket.io node and clients.
pub struct Peer {
    child: tokio::process::Child,
    stdin: tokio::process::ChildStdin,
    pub lines: Arc<Mutex<Vec<Value>>>,
    next_id: u64,
    pub port: u16,
}

impl Peer {
    /// Starts `peer.js` on `redis_url` with `maxDisconnectionDuration`.
    pub async fn start(redis_url: &str, max_disconnection: Duration) -> Peer {
        let mut child = tokio::process::Command::new("node")
            .arg(js_dir().join("peer.js"))
            .arg(redis_url)
            .arg(max_disconnection.as_millis().to_string())
            .current_dir(js_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("start node");
        let stdin = child.stdin.take().unwrap();
        let mut reader = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let l2 = lines.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = reader.next_line().await {
                let v: Value = serde_json::from_str(&line).unwrap_or(json!({"raw": line}));
                l2.lock().unwrap().push(v);
            }
        });
        let mut peer = Peer {
            child,
            stdin,
            lines,
            next_id: 0,
            port: 0,
        };
        let ready = peer.wait("ready", |v| v["ev"] == "ready").await;
        peer.port = ready["port"].as_u64().unwrap() as u16;
        peer
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn all(&self) -> Vec<Value> {
        self.lines.lock().unwrap().clone()
    }

    pub async fn wait(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        for _ in 0..600 {
            if let Some(v) = self.all().into_iter().find(|v| pred(v)) {
                return v;
            }
            if self.all().iter().any(|v| v["ev"] == "fatal") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!(
            "{what} never seen from the Node peer; lines: {:#?}",
            self.all()
        );
    }

    /// Sends a command; returns its result value (panics on an error result).
    pub async fn cmd(&mut self, mut c: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        c["rid"] = json!(id);
        let mut line = c.to_string();
        line.push('\n');
        self.stdin.write_all(line.as_bytes()).await.unwrap();
        let r = self
            .wait(&format!("result of {c}"), |v| {
                v["ev"] == "result" && v["rid"] == json!(id)
            })
            .await;
        assert!(r.get("error").is_none(), "{c} failed: {r}");
        r["value"].clone()
    }

    /// Connects client `name` to `url` with `auth.rooms = rooms`, carrying
    /// `resume` (`{pid, offset}`, from [`Peer::drop_client`]) when given;
    /// its `connected` line (`id`, `recovered`).
    pub async fn client(
        &mut self,
        name: &str,
        url: &str,
        rooms: &[&str],
        resume: Option<&Value>,
    ) -> Value {
        let mut c = json!({"cmd": "client", "name": name, "url": url, "rooms": rooms});
        if let Some(r) = resume {
            c["pid"] = r["pid"].clone();
            c["offset"] = r["offset"].clone();
        }
        self.cmd(c).await;
        self.wait(&format!("{name} connected"), |v| {
            v["ev"] == "connected" && v["client"] == name
        })
        .await
    }

    /// Closes client `name`'s engine (the server sees "transport close");
    /// returns `{id, pid, offset}` as the client held them.
    pub async fn drop_client(&mut self, name: &str) -> Value {
        let state = self.cmd(json!({"cmd": "drop", "client": name})).await;
        self.wait(&format!("{name} disconnected"), |v| {
            v["ev"] == "disconnected" && v["client"] == name
        })
        .await;
        state
    }

    /// The events client `name` received, as `(event, args)` (with the
    /// offset, when there is one, as last argument).
    pub fn events(&self, name: &str) -> Vec<(String, Value)> {
        self.all()
            .into_iter()
            .filter(|v| v["ev"] == "event" && v["client"] == name)
            .map(|v| {
                (
                    v["event"].as_str().unwrap_or_default().to_owned(),
                    v["args"].clone(),
                )
            })
            .collect()
    }

    /// The first argument of each `event` client `name` received.
    pub fn firsts(&self, name: &str, event: &str) -> Vec<Value> {
        self.events(name)
            .into_iter()
            .filter(|(e, _)| e == event)
            .map(|(_, a)| a[0].clone())
            .collect()
    }

    /// Waits until client `name` got `event` with first argument `first`;
    /// its arguments.
    pub async fn got(&self, name: &str, event: &str, first: Value) -> Value {
        let v = self
            .wait(&format!("{name} <- {event} {first}"), |v| {
                v["ev"] == "event"
                    && v["client"] == name
                    && v["event"] == event
                    && v["args"][0] == first
            })
            .await;
        v["args"].clone()
    }

    pub async fn stop(mut self) {
        drop(self.stdin);
        let _ = tokio::time::timeout(Duration::from_secs(3), self.child.wait()).await;
        let _ = self.child.kill().await;
    }
}

/// Whether `v` is a stream entry id (`<ms>-<seq>`).
pub fn is_entry_id(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.split_once('-').is_some_and(|(a, b)| {
            !a.is_empty() && !b.is_empty() && (a.to_owned() + b).bytes().all(|c| c.is_ascii_digit())
        })
    })
}

/// Polls `f` until it is true (25 ms steps, up to `secs`).
pub async fn eventually(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    for _ in 0..secs * 40 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{what}: not true within {secs} s");
}
