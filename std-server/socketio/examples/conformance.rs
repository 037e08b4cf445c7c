//! The server the official Engine.IO and Socket.IO test suites run against
//! (socketio/engine.io-protocol and socketio/socket.io-protocol
//! `test-suite/`), on one port:
//!
//! - `/engine.io/`: an Engine.IO server that echoes every message (text as
//!   text, binary as binary);
//! - `/socket.io/`: a Socket.IO server with the namespaces `/` and `/custom`.
//!   On connect each emits `auth` with the handshake's auth (`{}` when none
//!   was sent); `message` is answered with `message-back` and the same
//!   arguments, and `message-with-ack` is acked with its arguments (binary
//!   attachments included, in place).
//!
//! Both use pingInterval 300 ms, pingTimeout 200 ms, maxPayload 1 000 000,
//! connectTimeout 1000 ms, CORS for any origin, and accept Engine.IO 3 and 4
//! (anything else: 400 `{"code":5,...}`). Ctrl-C or SIGTERM stops it
//! gracefully (sessions closed, held polls answered).
//!
//! ```text
//! cargo run --release -p oxio-server --example conformance -- --port 3000
//! ```

use std::fmt;
use std::time::Duration;

use axum::serve::ListenerExt;
use oxio_codec::socketio::Args;
use oxio_server::config::{Cors, EngineConfig};
use oxio_server::engine::{CloseReason, Engine, EngineHandler, Message, Session};
use oxio_server::socketio::{AckSender, Data, SocketIo, SocketRef};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

const PING_INTERVAL: Duration = Duration::from_millis(300);
const PING_TIMEOUT: Duration = Duration::from_millis(200);
const CONNECT_TIMEOUT: Duration = Duration::from_millis(1000);
/// See [`on_connect`].
const AUTH_DELAY: Duration = Duration::from_millis(10);

/// The Engine.IO half: sends every message back to its session.
struct Echo;

impl EngineHandler for Echo {
    fn on_open(&self, session: Session) {
        tracing::debug!(sid = session.sid(), protocol = ?session.protocol(), "open");
    }

    fn on_message(&self, session: &Session, msg: Message) {
        if let Err(e) = session.send(msg) {
            tracing::warn!(sid = session.sid(), error = %e, "echo dropped");
        }
    }

    fn on_close(&self, session: &Session, reason: CloseReason) {
        tracing::debug!(sid = session.sid(), %reason, "close");
    }
}

/// One Socket.IO argument of any shape, binary attachments included, so
/// that the echo sends back exactly what came in. Objects keep their key
/// order (as `JSON.stringify` does). Nesting is bounded by the decoder's
/// depth limit (128).
#[derive(Debug, Clone, PartialEq)]
enum Arg {
    Null,
    Bool(bool),
    U64(u64),
    I64(i64),
    F64(f64),
    Str(String),
    /// A binary attachment (a placeholder on the wire).
    Bin(Vec<u8>),
    Array(Vec<Arg>),
    Object(Vec<(String, Arg)>),
}

impl Serialize for Arg {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Arg::Null => s.serialize_unit(),
            Arg::Bool(b) => s.serialize_bool(*b),
            Arg::U64(n) => s.serialize_u64(*n),
            Arg::I64(n) => s.serialize_i64(*n),
            Arg::F64(n) => s.serialize_f64(*n),
            Arg::Str(t) => s.serialize_str(t),
            Arg::Bin(b) => s.serialize_bytes(b),
            Arg::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Arg::Object(members) => {
                let mut map = s.serialize_map(Some(members.len()))?;
                for (k, v) in members {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

struct ArgVisitor;

impl<'de> Visitor<'de> for ArgVisitor {
    type Value = Arg;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value or a binary attachment")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Arg, E> {
        Ok(Arg::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Arg, E> {
        Ok(Arg::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Arg, D::Error> {
        Arg::deserialize(d)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Arg, E> {
        Ok(Arg::Bool(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Arg, E> {
        Ok(Arg::U64(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Arg, E> {
        Ok(Arg::I64(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Arg, E> {
        Ok(Arg::F64(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Arg, E> {
        Ok(Arg::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Arg, E> {
        Ok(Arg::Str(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Arg, E> {
        Ok(Arg::Bin(v.to_vec()))
    }
    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Arg, E> {
        Ok(Arg::Bin(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Arg, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Arg::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Arg, A::Error> {
        let mut members = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, Arg>()? {
            members.push((k, v));
        }
        Ok(Arg::Object(members))
    }
}

impl<'de> Deserialize<'de> for Arg {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Arg, D::Error> {
        d.deserialize_any(ArgVisitor)
    }
}

/// The Socket.IO half: `auth` on connect, `message` → `message-back`,
/// `message-with-ack` acked with its arguments.
///
/// `auth` goes out 10 ms after the CONNECT reply, not in the same write.
/// The suite's `waitFor` adds its listener only once the previous frame
/// has been handled, so two frames that reach it in one TCP read lose the
/// second. Node's server happens to write them apart (it sends packets
/// queued during a write after that write's callback); oxio writes every
/// frame queued at that moment at once.
fn on_connect(socket: SocketRef, Data(auth): Data<serde_json::Value>) {
    let s = socket.clone();
    tokio::spawn(async move {
        tokio::time::sleep(AUTH_DELAY).await;
        if let Err(e) = s.emit("auth", &(auth,)) {
            tracing::warn!(error = %e, "auth not sent");
        }
    });
    socket.on(
        "message",
        |s: SocketRef, Data(Args(args)): Data<Args<Vec<Arg>>>| {
            if let Err(e) = s.emit("message-back", &Args(args)) {
                tracing::warn!(error = %e, "message-back not sent");
            }
        },
    );
    socket.on(
        "message-with-ack",
        |Data(Args(args)): Data<Args<Vec<Arg>>>, ack: AckSender| {
            if let Err(e) = ack.send(&Args(args)) {
                tracing::warn!(error = %e, "ack not sent");
            }
        },
    );
}

fn config(path: &str) -> EngineConfig {
    EngineConfig {
        path: path.into(),
        ping_interval: PING_INTERVAL,
        ping_timeout: PING_TIMEOUT,
        max_payload: 1_000_000,
        cors: Some(Cors::any()),
        allow_eio3: true,
        ..EngineConfig::default()
    }
}

fn port_from_args() -> Result<u16, String> {
    let mut args = std::env::args().skip(1);
    let mut port = 3000;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => {
                let v = args.next().ok_or("--port needs a value")?;
                port = v.parse().map_err(|_| format!("bad port {v:?}"))?;
            }
            other => return Err(format!("unknown argument {other:?} (usage: --port N)")),
        }
    }
    Ok(port)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let port = match port_from_args() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("conformance: {e}");
            std::process::exit(2);
        }
    };

    let eio = Engine::new(config("/engine.io/"), Echo);
    let sio = SocketIo::builder().connect_timeout(CONNECT_TIMEOUT).build();
    sio.io().ns("/", on_connect);
    sio.io().ns("/custom", on_connect);
    let sio_engine = Engine::new(config("/socket.io/"), sio);

    let app = axum::Router::new()
        .layer(eio.layer())
        .layer(sio_engine.layer());
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", port)).await?;
    tracing::info!(addr = ?listener.local_addr().ok(), "listening");
    // No Nagle, as Node: small packets go out at once.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    let engines = [eio.clone(), sio_engine.clone()];
    let stopping = std::sync::Arc::new(tokio::sync::Notify::new());
    let notify = stopping.clone();
    let stop = async move {
        oxio_server::service::shutdown_signal().await;
        tracing::info!("stopping");
        for engine in &engines {
            engine.shutdown();
        }
        notify.notify_one();
    };
    let served = axum::serve(listener, app).with_graceful_shutdown(stop);
    // Once stopping, open connections get 5 s to finish their exchange.
    let grace = async {
        stopping.notified().await;
        tokio::time::sleep(Duration::from_secs(5)).await;
    };
    tokio::select! {
        r = served => r?,
        _ = grace => tracing::warn!("connections still open after 5 s; dropping them"),
    }
    // Let WebSocket tasks write their close frames.
    tokio::time::sleep(Duration::from_millis(50)).await;
    Ok(())
}
