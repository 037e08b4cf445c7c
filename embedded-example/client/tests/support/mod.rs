//! Shared helpers: an in-process oxio-server, and a client type.
#![allow(dead_code)]

use oxio_client::{Client, Error, Event, TokioConnector};
use oxio_codec::client::Config;
use oxio_server::config::EngineConfig;
use oxio_server::engine::Engine;
use oxio_server::socketio::SocketIo;
use std::net::SocketAddr;
use std::time::Duration;

pub type TestClient = Client<'static, TokioConnector, fn() -> u32>;

pub fn rand() -> u32 {
    0x9e37_79b9
}

/// A client in a Box (it is ~11 KB), talking to `url`.
pub fn client(url: &str, config: Config) -> Box<TestClient> {
    let url: &'static str = Box::leak(url.to_string().into_boxed_str());
    Box::new(Client::new(&TokioConnector, url, config, rand as fn() -> u32).unwrap())
}

/// [`fast`] speaking socket.io-msgpack-parser.
pub fn fast_msgpack() -> Config {
    Config {
        msgpack: true,
        ..fast()
    }
}

/// Fast reconnection for tests.
pub fn fast() -> Config {
    Config {
        reconnection_delay_ms: 100,
        reconnection_delay_max_ms: 300,
        randomization_factor_permille: 0,
        connect_timeout_ms: Some(2000),
        ..Config::default()
    }
}

pub struct Server {
    pub addr: SocketAddr,
    pub engine: Engine,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub async fn stop(self) {
        self.engine.shutdown();
        self.task.abort();
        let _ = self.task.await;
    }
}

/// Serves `sio` on `addr` (port 0: any).
pub async fn serve(sio: SocketIo, addr: SocketAddr, ping: Option<(u64, u64)>) -> Server {
    let mut config = EngineConfig::default();
    if let Some((interval, timeout)) = ping {
        config.ping_interval = Duration::from_millis(interval);
        config.ping_timeout = Duration::from_millis(timeout);
    }
    let engine = Engine::new(config, sio);
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let e = engine.clone();
    let task = tokio::spawn(async move {
        oxio_server::service::serve(listener, e, std::future::pending()).await
    });
    Server { addr, engine, task }
}

/// What a client saw, as text, for assertions.
pub fn describe(e: &Event<'_>) -> String {
    match e {
        Event::Message(m) => {
            // A msgpack event's data array, shown as JSON.
            let payload = match m.msgpack_packet() {
                Some(p) => {
                    let raw = p.unwrap().raw_data().unwrap_or(b"\x90");
                    oxio_codec::msgpack::from_slice::<serde_json::Value>(raw)
                        .unwrap()
                        .to_string()
                }
                None => m.packet().unwrap().payload().unwrap_or("").to_owned(),
            };
            format!(
                "msg {} {} {}",
                m.namespace(),
                payload,
                if m.ack_request().is_some() {
                    "ack"
                } else {
                    "-"
                }
            )
        }
        Event::Connected {
            namespace,
            recovered: false,
        } => format!("connected {namespace}"),
        Event::Connected {
            namespace,
            recovered: true,
        } => format!("recovered {namespace}"),
        Event::ConnectError { namespace, message } => {
            format!("connect_error {namespace} {message}")
        }
        Event::Disconnected { namespace, reason } => format!("disconnected {namespace} {reason}"),
        Event::Reconnecting { .. } => "reconnecting".into(),
        Event::ServerLost => "server_lost".into(),
        Event::ReconnectFailed => "reconnect_failed".into(),
        _ => "an event these tests do not know".into(),
    }
}

/// Next event as text, within 5 s.
pub async fn next(c: &mut TestClient) -> String {
    let until = embassy_time::Instant::now() + embassy_time::Duration::from_secs(5);
    let r = match c.next_event_until(Some(until)).await {
        Ok(Some(e)) => describe(&e),
        Ok(None) => "timeout".into(),
        Err(e) => format!("error {e}"),
    };
    if r == "reconnecting" {
        eprintln!("reconnecting after {:?}", c.last_error());
    }
    r
}

/// Events until one starts with `prefix` (skipping reconnection noise), within 10 s.
pub async fn until(c: &mut TestClient, prefix: &str) -> String {
    let end = embassy_time::Instant::now() + embassy_time::Duration::from_secs(10);
    loop {
        match c.next_event_until(Some(end)).await {
            Ok(Some(e)) => {
                let d = describe(&e);
                if d.starts_with(prefix) {
                    return d;
                }
            }
            Ok(None) => return format!("timeout waiting for {prefix}"),
            Err(Error::Idle) => return "idle".into(),
            Err(e) => return format!("error {e}"),
        }
    }
}

/// The JSON payload of a `msg <ns> <payload> <ack>` description.
pub fn msg_payload(desc: &str) -> Option<serde_json::Value> {
    let rest = desc.strip_prefix("msg ")?;
    let start = rest.find(' ')? + 1;
    let end = rest.rfind(' ')?;
    serde_json::from_str(rest.get(start..end)?).ok()
}

/// The last argument of a message, when it is a string (the recovery offset).
pub fn last_string(desc: &str) -> String {
    let payload = msg_payload(desc).unwrap_or_else(|| panic!("not a message: {desc}"));
    let last = payload.as_array().and_then(|a| a.last()).cloned();
    match last {
        Some(serde_json::Value::String(s)) => s,
        _ => panic!("no string last argument: {desc}"),
    }
}

/// `N` of a `["news",N,..]` message.
pub fn news_number(desc: &str) -> Option<i64> {
    let payload = msg_payload(desc)?;
    let args = payload.as_array()?;
    (args.first()?.as_str()? == "news").then_some(())?;
    args.get(1)?.as_i64()
}

/// Events (reconnection noise left out) up to and including the next
/// `connected` / `recovered` one, within 10 s.
pub async fn events_until_connected(c: &mut TestClient) -> Vec<String> {
    let end = embassy_time::Instant::now() + embassy_time::Duration::from_secs(10);
    let mut seen = vec![];
    loop {
        let d = match c.next_event_until(Some(end)).await {
            Ok(Some(e)) => describe(&e),
            Ok(None) => "timeout".into(),
            Err(e) => format!("error {e}"),
        };
        if d == "reconnecting" {
            continue;
        }
        let done = d.starts_with("connected")
            || d.starts_with("recovered")
            || d == "timeout"
            || d.starts_with("error");
        seen.push(d);
        if done {
            return seen;
        }
    }
}
