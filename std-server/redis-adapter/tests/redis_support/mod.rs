//! Shared by the `redis_*` tests: a real `redis-server` on a free
//! 127.0.0.1 port, oxio nodes with the Redis adapter (in-process), and a
//! Node socket.io node with @socket.io/redis-adapter plus socket.io-client
//! clients (`tests/redis_js/peer.js`), driven by JSON lines.
//!
//! Needs `apt-get install -y redis-server` (nginx for the nginx test) and
//! `npm ci --prefix std-server/redis-adapter/tests/redis_js`. Without them the tests
//! print a notice and pass, unless `CI` or `OXIO_REQUIRE_NODE=1` is set:
//! then they fail with the install command.
#![allow(dead_code)]

use oxio_redis_adapter::{RedisAdapter, RedisAdapterBuilder, RedisAdapterFactory};
use oxio_server::adapter::AdapterFactory;
use oxio_server::adapter::SocketData;
use oxio_server::socketio::{AckSender, Data, Parser, SocketIo, SocketRef};
use oxio_testkit::sio::{self as sio_support, SioServer};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

pub mod cluster;

pub const INSTALL: &str =
    "apt-get install -y redis-server nginx && npm ci --prefix std-server/redis-adapter/tests/redis_js";

fn required() -> bool {
    std::env::var_os("CI").is_some() || std::env::var("OXIO_REQUIRE_NODE").is_ok_and(|v| v == "1")
}

fn missing(why: &str) -> bool {
    if required() {
        panic!("the Redis adapter tests need {why}; run: {INSTALL}");
    }
    eprintln!("\n!!! SKIPPING Redis adapter tests: {why}. Run `{INSTALL}` to enable them. !!!\n");
    false
}

fn has_program(p: &str, arg: &str) -> bool {
    std::process::Command::new(p)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

pub fn js_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/redis_js")
}

/// Whether redis-server, node and the npm packages are there (skip/fail rule).
pub fn ready() -> bool {
    if !has_program("redis-server", "--version") {
        return missing("redis-server, which is not installed");
    }
    if !has_program("node", "--version") {
        return missing("node, which is not installed");
    }
    if !js_dir()
        .join("node_modules/@socket.io/redis-adapter")
        .is_dir()
    {
        return missing("the npm packages of tests/redis_js");
    }
    true
}

/// Whether redis-server is installed (skip/fail rule), for the tests
/// that need no Node peer.
pub fn redis_ready() -> bool {
    has_program("redis-server", "--version") || missing("redis-server, which is not installed")
}

/// Whether nginx is installed (skip/fail rule).
pub fn nginx_ready() -> bool {
    ready() && (has_program("nginx", "-v") || missing("nginx, which is not installed"))
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A redis-server child process, killed on drop (the testkit's, shared
/// with the other adapters' tests).
pub type Redis = oxio_testkit::redis::RedisServer;

/// What the oxio nodes' handlers saw.
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

/// An oxio node: a Socket.IO server with its own Redis adapter (the
/// classic one unless made by [`RustNode::with_factory`]).
pub struct RustNode<F = RedisAdapterFactory> {
    pub name: &'static str,
    pub server: SioServer,
    pub adapter: F,
    pub seen: Seen,
}

impl RustNode {
    pub async fn start(name: &'static str, redis_url: &str) -> RustNode {
        RustNode::start_with(name, redis_url, |b| b).await
    }

    /// Like [`RustNode::start`], with extra adapter options.
    pub async fn start_with(
        name: &'static str,
        redis_url: &str,
        configure: impl FnOnce(RedisAdapterBuilder) -> RedisAdapterBuilder,
    ) -> RustNode {
        RustNode::start_with_engine(name, redis_url, configure, sio_support::sio_config()).await
    }

    /// Like [`RustNode::start_with`], with its own engine options.
    pub async fn start_with_engine(
        name: &'static str,
        redis_url: &str,
        configure: impl FnOnce(RedisAdapterBuilder) -> RedisAdapterBuilder,
        engine: oxio_server::config::EngineConfig,
    ) -> RustNode {
        RustNode::start_full(name, redis_url, configure, engine, Parser::Json).await
    }

    /// Like [`RustNode::start`], speaking `parser` to its clients.
    pub async fn start_with_parser(
        name: &'static str,
        redis_url: &str,
        parser: Parser,
    ) -> RustNode {
        RustNode::start_full(name, redis_url, |b| b, sio_support::sio_config(), parser).await
    }

    async fn start_full(
        name: &'static str,
        redis_url: &str,
        configure: impl FnOnce(RedisAdapterBuilder) -> RedisAdapterBuilder,
        engine: oxio_server::config::EngineConfig,
        parser: Parser,
    ) -> RustNode {
        let builder = RedisAdapter::builder(redis_url)
            .requests_timeout(Duration::from_secs(3))
            .reconnect_backoff(Duration::from_millis(50), Duration::from_millis(400))
            .health_interval(Duration::from_millis(250));
        let adapter = configure(builder)
            .connect()
            .await
            .expect("connect to redis");
        RustNode::with_factory_and_parser(name, adapter, engine, parser).await
    }
}

impl<F: AdapterFactory + Clone> RustNode<F> {
    /// A node on `adapter`, with the test handlers.
    pub async fn with_factory(
        name: &'static str,
        adapter: F,
        engine: oxio_server::config::EngineConfig,
    ) -> RustNode<F> {
        RustNode::with_factory_and_parser(name, adapter, engine, Parser::Json).await
    }

    /// Like [`RustNode::with_factory`], speaking `parser` to its clients.
    pub async fn with_factory_and_parser(
        name: &'static str,
        adapter: F,
        engine: oxio_server::config::EngineConfig,
        parser: Parser,
    ) -> RustNode<F> {
        if let Ok(filter) = std::env::var("OXIO_TEST_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
                .with_test_writer()
                .try_init();
        }
        let sio = SocketIo::builder()
            .with_adapter(adapter.clone())
            .parser(parser)
            .build();
        let io = sio.io();
        let seen = Seen::default();
        let s2 = seen.clone();
        io.ns("/", move |socket: SocketRef, Data(auth): Data<Value>| {
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
            let s3 = s2.clone();
            socket.on("chat", move |s: SocketRef, Data(text): Data<String>| {
                s3.push(json!({"chat": text}));
                let _ = s.broadcast().emit("chat", &(text,));
            });
            // Which node a client is on, and the client address nginx saw.
            socket.on("ping-node", move |s: SocketRef, ack: AckSender| {
                let ip = s
                    .handshake()
                    .headers
                    .get("x-real-ip")
                    .and_then(|v| v.to_str().ok())
                    .map(String::from);
                let _ = ack.send(&(json!({"node": name, "ip": ip}),));
            });
        });
        let s2 = seen.clone();
        io.on_server_side_emit("ssevent", move |ev| {
            let arg: String = ev.args().unwrap_or_default();
            s2.push(json!({"server_side": arg, "ack": ev.wants_ack()}));
            let _ = ev.ack(&format!("{name}:{arg}"));
        });
        let server = sio_support::start(engine, sio).await;
        RustNode {
            name,
            server,
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
    pub async fn start(redis_url: &str) -> Peer {
        Peer::start_with(redis_url, json!({})).await
    }

    /// Like [`Peer::start`], with extra @socket.io/redis-adapter options.
    pub async fn start_with(redis_url: &str, adapter_opts: Value) -> Peer {
        Peer::start_with_parser(redis_url, adapter_opts, "json").await
    }

    /// Like [`Peer::start_with`], the Node server with `parser` (`json`
    /// or `msgpack`: socket.io-msgpack-parser).
    pub async fn start_with_parser(redis_url: &str, adapter_opts: Value, parser: &str) -> Peer {
        let mut child = tokio::process::Command::new("node")
            .arg(js_dir().join("peer.js"))
            .arg(redis_url)
            .arg(adapter_opts.to_string())
            .arg(parser)
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
        for _ in 0..400 {
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

    /// Connects a client named `name` to `url`, in `rooms`; returns its id.
    pub async fn client(&mut self, name: &str, url: &str, rooms: &[&str]) -> String {
        self.client_with(name, url, rooms, &["websocket"]).await
    }

    pub async fn client_with(
        &mut self,
        name: &str,
        url: &str,
        rooms: &[&str],
        transports: &[&str],
    ) -> String {
        self.cmd(json!({"cmd": "client", "name": name, "url": url, "rooms": rooms, "transports": transports}))
            .await;
        let v = self
            .wait(&format!("{name} connected"), |v| {
                v["ev"] == "connected" && v["client"] == name
            })
            .await;
        v["id"].as_str().unwrap().to_owned()
    }

    /// Starts connecting client `name` to `url` from source address
    /// `local_address`; does not wait (see `connected` / `connect_error`).
    pub async fn client_from(
        &mut self,
        name: &str,
        url: &str,
        transports: &[&str],
        local_address: &str,
    ) {
        self.cmd(json!({"cmd": "client", "name": name, "url": url, "transports": transports, "localAddress": local_address}))
            .await;
    }

    /// The events client `name` received, as `[event, args]`.
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

    /// Waits until client `name` got `event` with `args`.
    pub async fn got(&self, name: &str, event: &str, args: Value) {
        self.wait(&format!("{name} <- {event} {args}"), |v| {
            v["ev"] == "event" && v["client"] == name && v["event"] == event && v["args"] == args
        })
        .await;
    }

    /// Whether client `name` got `event` at all.
    pub fn has(&self, name: &str, event: &str) -> bool {
        self.events(name).iter().any(|(e, _)| e == event)
    }

    pub async fn stop(mut self) {
        drop(self.stdin);
        let _ = tokio::time::timeout(Duration::from_secs(3), self.child.wait()).await;
        let _ = self.child.kill().await;
    }
}

/// Polls `f` until it is true (25 ms steps, up to `secs`).
pub async fn eventually(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let steps = secs * 40;
    for _ in 0..steps {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{what}: not true within {secs} s");
}
