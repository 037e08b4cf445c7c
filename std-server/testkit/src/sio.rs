//! Shared by the `sio_*` tests: an oxio Socket.IO server on 127.0.0.1
//! (in-process), raw WebSocket and HTTP long-polling clients that show
//! exact frames, and the helpers that run the real Node and Python clients
//! (with the skip/fail rule for missing installs).

pub use crate::engine as http;
pub use crate::sio_app as app;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use oxio_server::config::{Cors, EngineConfig};
use oxio_server::engine::Engine;
use oxio_server::socketio::{Io, SocketIo};
use tokio_tungstenite::tungstenite::Message as WsMsg;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const NPM_INSTALL: &str = "npm ci --prefix std-server/testkit/js";

/// Runs a test body on a Tokio runtime whose thread has a 32 MB stack: the
/// raw HTTP helpers keep 64 KB read buffers in their futures, and a debug
/// build copies those along nested awaits past the default 2 MB. A panic
/// in the body fails the test.
pub fn run<F: std::future::Future<Output = ()> + Send + 'static>(body: F) {
    let thread = std::thread::Builder::new()
        .stack_size(32 << 20)
        .spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(body)
        })
        .unwrap();
    if let Err(panic) = thread.join() {
        std::panic::resume_unwind(panic);
    }
}

pub use crate::Log;

/// Like [`run`], on a multi-thread runtime with `workers` worker threads
/// (32 MB stacks): for tests where server tasks must really run at the
/// same time, such as emits to one socket from several threads.
pub fn run_multi_thread<F: std::future::Future<Output = ()> + Send + 'static>(
    workers: usize,
    body: F,
) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_stack_size(32 << 20)
        .enable_all()
        .build()
        .unwrap();
    // The body runs as a task (on a worker), not on this thread's stack.
    let task = rt.spawn(body);
    let result = rt.block_on(task);
    rt.shutdown_timeout(Duration::from_secs(5));
    if let Err(e) = result {
        match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("test body cancelled: {e}"),
        }
    }
}

/// The engine options of the conformance suites on `/socket.io/`:
/// ping 300/200, CORS any origin, EIO 3 and 4.
pub fn sio_config() -> EngineConfig {
    EngineConfig {
        path: "/socket.io/".into(),
        ping_interval: Duration::from_millis(300),
        ping_timeout: Duration::from_millis(200),
        cors: Some(Cors::any()),
        allow_eio3: true,
        ..EngineConfig::default()
    }
}

/// A running in-process server.
pub struct SioServer {
    pub addr: SocketAddr,
    pub engine: Engine,
    pub io: Io,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl SioServer {
    /// Stops it as Ctrl-C would (sessions closed with `server shutting
    /// down`), and waits until the port is free.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

/// Serves `sio` with `config` on `addr` (use port 0 for a fresh one).
pub async fn start_on(addr: SocketAddr, config: EngineConfig, sio: SocketIo) -> SioServer {
    let io = sio.io();
    let engine = sio.engine(config);
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let e = engine.clone();
    let task = tokio::spawn(async move {
        oxio_server::service::serve(listener, e, async {
            let _ = stopped.await;
        })
        .await;
    });
    SioServer {
        addr,
        engine,
        io,
        stop: Some(stop),
        task: Some(task),
    }
}

/// Serves `sio` on a fresh 127.0.0.1 port.
pub async fn start(config: EngineConfig, sio: SocketIo) -> SioServer {
    start_on(([127, 0, 0, 1], 0).into(), config, sio).await
}

/// A frame from the server, as the tests compare them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    Text(String),
    Binary(Vec<u8>),
}

impl Frame {
    pub fn text(&self) -> &str {
        match self {
            Frame::Text(t) => t,
            Frame::Binary(b) => panic!("expected text, got binary {b:?}"),
        }
    }
}

/// A raw Engine.IO WebSocket client: every frame is visible.
pub struct Ws {
    ws: WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>,
    /// The `sid` of the Engine.IO handshake (empty for an upgrade socket).
    pub sid: String,
}

impl Ws {
    /// Opens `ws://addr{path}?{query}` and, unless `sid=` is in the query,
    /// reads the Engine.IO `0{...}` open packet.
    pub async fn connect(addr: SocketAddr, path: &str, query: &str) -> Ws {
        let url = format!("ws://{addr}{path}?{query}");
        let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        let mut ws = Ws {
            ws,
            sid: String::new(),
        };
        if !query.contains("sid=") {
            let open = ws.next().await;
            let open = open.text();
            assert!(open.starts_with(r#"0{"sid":""#), "{open}");
            ws.sid = open[9..29].to_string();
        }
        ws
    }

    /// A v4 Socket.IO connection: Engine.IO handshake at `/socket.io/`.
    pub async fn eio4(addr: SocketAddr) -> Ws {
        Ws::connect(addr, "/socket.io/", "EIO=4&transport=websocket").await
    }

    pub async fn send(&mut self, text: &str) {
        self.ws.send(WsMsg::text(text)).await.unwrap();
    }

    pub async fn send_binary(&mut self, bytes: &[u8]) {
        self.ws.send(WsMsg::binary(bytes.to_vec())).await.unwrap();
    }

    /// The next text or binary frame within 3 s (pings included).
    pub async fn next(&mut self) -> Frame {
        loop {
            let m = tokio::time::timeout(Duration::from_secs(3), self.ws.next())
                .await
                .expect("a frame in time")
                .expect("socket open")
                .expect("no error");
            match m {
                WsMsg::Text(t) => return Frame::Text(t.as_str().to_owned()),
                WsMsg::Binary(b) => return Frame::Binary(b.to_vec()),
                WsMsg::Close(c) => panic!("closed by the server: {c:?}"),
                _ => continue,
            }
        }
    }

    /// The next frame that is not an Engine.IO ping (`2`), answering pings.
    pub async fn next_data(&mut self) -> Frame {
        loop {
            let f = self.next().await;
            if f == Frame::Text("2".into()) {
                self.send("3").await;
                continue;
            }
            return f;
        }
    }

    /// The next non-ping frame's text.
    pub async fn next_text(&mut self) -> String {
        self.next_data().await.text().to_owned()
    }

    /// Sends `40[/nsp,][auth]`, reads the `40` reply, returns the Socket.IO sid.
    pub async fn join(&mut self, connect: &str) -> String {
        self.send(connect).await;
        let reply = self.next_text().await;
        let ns_end = reply.find('{').expect(&reply);
        let json: serde_json::Value = serde_json::from_str(&reply[ns_end..]).unwrap();
        json["sid"].as_str().expect(&reply).to_owned()
    }

    /// Waits until the server closes the socket (a close frame or EOF);
    /// text frames seen before are returned (pings left out).
    pub async fn closed(&mut self) -> Vec<String> {
        let mut seen = Vec::new();
        loop {
            match tokio::time::timeout(Duration::from_secs(3), self.ws.next())
                .await
                .expect("closed in time")
            {
                Some(Ok(WsMsg::Close(_))) | Some(Err(_)) | None => return seen,
                Some(Ok(WsMsg::Text(t))) if t.as_str() != "2" => seen.push(t.as_str().to_owned()),
                Some(Ok(_)) => {}
            }
        }
    }

    /// Asserts nothing but pings arrives for `ms`.
    pub async fn quiet(&mut self, ms: u64) {
        let deadline = tokio::time::Instant::now() + Duration::from_millis(ms);
        loop {
            match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => return,
                Ok(Some(Ok(WsMsg::Text(t)))) if t.as_str() == "2" => self.send("3").await,
                Ok(Some(Ok(WsMsg::Ping(_) | WsMsg::Pong(_)))) => {}
                Ok(other) => panic!("expected nothing, got {other:?}"),
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

/// A raw Engine.IO v4 long-polling client.
pub struct Polling {
    pub addr: SocketAddr,
    pub sid: String,
    path: String,
}

impl Polling {
    /// Handshakes at `/socket.io/` (EIO 4) and checks the open packet.
    pub async fn open(addr: SocketAddr) -> Polling {
        let res = http::get(addr, "/socket.io/?EIO=4&transport=polling").await;
        assert_eq!(res.status, 200, "{}", res.text());
        let text = res.text();
        assert!(text.starts_with(r#"0{"sid":""#), "{text}");
        let sid = text[9..29].to_string();
        Polling {
            addr,
            path: format!("/socket.io/?EIO=4&transport=polling&sid={sid}"),
            sid,
        }
    }

    /// POSTs `packets` joined by 0x1E; asserts `200 ok`.
    pub async fn post(&self, packets: &[&str]) {
        let res = http::post(self.addr, &self.path, packets.join("\x1e").as_bytes()).await;
        assert_eq!((res.status, res.text().as_str()), (200, "ok"));
    }

    /// One GET: the status and the packets of its body.
    pub async fn get(&self) -> (u16, Vec<String>) {
        let res = http::get(self.addr, &self.path).await;
        let body = res.text();
        let packets = if body.is_empty() {
            Vec::new()
        } else {
            body.split('\x1e').map(str::to_owned).collect()
        };
        (res.status, packets)
    }

    /// GETs until `n` packets other than pings have arrived (answering
    /// pings with a POST of `3`); returns them.
    pub async fn read(&self, n: usize) -> Vec<String> {
        let mut got = Vec::new();
        for _ in 0..20 {
            let (status, packets) = self.get().await;
            assert_eq!(status, 200, "{packets:?}");
            for p in packets {
                if p == "2" {
                    self.post(&["3"]).await;
                } else {
                    got.push(p);
                }
            }
            if got.len() >= n {
                assert_eq!(got.len(), n, "{got:?}");
                return got;
            }
        }
        panic!("only {got:?}");
    }
}

// ----- real clients -------------------------------------------------------

/// Where the interop clients live (`js/`, `py/`).
pub fn tests_dir() -> PathBuf {
    crate::dir()
}

fn required() -> bool {
    std::env::var_os("CI").is_some() || std::env::var("OXIO_REQUIRE_NODE").is_ok_and(|v| v == "1")
}

/// Skips (with a loud notice past the output capture) or, under `CI` /
/// `OXIO_REQUIRE_NODE=1`, fails.
fn missing(what: &str, why: &str, install: &str) -> bool {
    if required() {
        panic!("{what} interop tests need {why}; run: {install}");
    }
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "\n!!! SKIPPING {what} interop tests: {why}. Run `{install}` to enable them. !!!\n"
    );
    false
}

/// Whether node and npm package `module` (in js/node_modules) are there.
pub fn node_ready(module: &str) -> bool {
    let node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !node {
        return missing(
            "Socket.IO (Node)",
            "node, which is not installed",
            NPM_INSTALL,
        );
    }
    if !tests_dir().join("js/node_modules").join(module).is_dir() {
        return missing(
            "Socket.IO (Node)",
            &format!("npm package {module}, missing from std-server/testkit/js/node_modules"),
            NPM_INSTALL,
        );
    }
    true
}

/// The venv with python-socketio: `$OXIO_PY_VENV`, else `~/.cache/oxio/py-venv`.
pub fn py_venv() -> PathBuf {
    match std::env::var_os("OXIO_PY_VENV") {
        Some(v) => PathBuf::from(v),
        None => {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/oxio/py-venv")
        }
    }
}

pub fn py_install() -> String {
    let venv = py_venv();
    format!(
        "python3 -m venv {v} && {v}/bin/pip install -r std-server/testkit/py/requirements.txt",
        v = venv.display()
    )
}

/// The venv's python, if python-socketio is importable there.
pub fn python_ready() -> Option<PathBuf> {
    let python = py_venv().join("bin/python");
    let ok = std::process::Command::new(&python)
        .args(["-c", "import socketio, requests, websocket"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        Some(python)
    } else {
        missing(
            "Socket.IO (Python)",
            &format!(
                "python-socketio[client] in the venv {}",
                py_venv().display()
            ),
            &py_install(),
        );
        None
    }
}

/// A client process whose stdout is read line by line as JSON.
pub struct ClientProcess {
    child: tokio::process::Child,
    lines: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
    stderr: Arc<Mutex<String>>,
    /// Every line read so far.
    pub seen: Vec<serde_json::Value>,
}

impl ClientProcess {
    /// Starts `program args...` (stdin closed, killed on drop).
    pub fn spawn(program: &std::path::Path, args: &[String]) -> ClientProcess {
        use tokio::io::{AsyncBufReadExt, AsyncReadExt};
        let mut child = tokio::process::Command::new(program)
            .args(args)
            .current_dir(tests_dir())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
        let lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err = child.stderr.take().unwrap();
        let sink = stderr.clone();
        tokio::spawn(async move {
            let mut buf = String::new();
            let _ = err.read_to_string(&mut buf).await;
            sink.lock().unwrap().push_str(&buf);
        });
        ClientProcess {
            child,
            lines,
            stderr,
            seen: Vec::new(),
        }
    }

    /// `node js/<script> args...`.
    pub fn node(script: &str, args: &[String]) -> ClientProcess {
        let mut all = vec![tests_dir().join("js").join(script).display().to_string()];
        all.extend(args.iter().cloned());
        ClientProcess::spawn(std::path::Path::new("node"), &all)
    }

    fn context(&self) -> String {
        format!(
            "lines so far: {:#?}\nstderr: {}",
            self.seen,
            self.stderr.lock().unwrap()
        )
    }

    /// The next JSON line, within `secs`.
    pub async fn next_line(&mut self, secs: u64) -> serde_json::Value {
        let line = tokio::time::timeout(Duration::from_secs(secs), self.lines.next_line()).await;
        let line = match line {
            Ok(Ok(Some(l))) => l,
            Ok(_) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
                panic!("client output ended; {}", self.context())
            }
            Err(_) => panic!("no client output in {secs} s; {}", self.context()),
        };
        let v: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {line}; {}", self.context()));
        if v.get("error").is_some() {
            tokio::time::sleep(Duration::from_millis(100)).await;
            panic!("the client failed: {v}; {}", self.context());
        }
        self.seen.push(v.clone());
        v
    }

    /// Reads lines until one whose `"step"` is `step`; returns it.
    pub async fn until(&mut self, step: &str) -> serde_json::Value {
        loop {
            let v = self.next_line(20).await;
            if v["step"] == step {
                return v;
            }
        }
    }

    /// Reads every line up to the final `{"step":"done"}` and checks the
    /// exit status; returns all lines read (earlier ones included).
    pub async fn finish(mut self) -> Vec<serde_json::Value> {
        self.until("done").await;
        let status = tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .expect("client exits in time")
            .unwrap();
        assert!(status.success(), "{status:?}; {}", self.context());
        self.seen
    }
}

/// The `"step"` lines named `step`.
pub fn steps<'a>(lines: &'a [serde_json::Value], step: &str) -> Vec<&'a serde_json::Value> {
    lines.iter().filter(|v| v["step"] == step).collect()
}

/// The one `"step"` line named `step`.
pub fn step<'a>(lines: &'a [serde_json::Value], step: &str) -> &'a serde_json::Value {
    match steps(lines, step).as_slice() {
        [one] => one,
        other => panic!("expected one {step:?} line, got {other:?} in {lines:#?}"),
    }
}
