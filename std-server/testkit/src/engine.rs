//! Shared by the `engine_*` tests: a server on 127.0.0.1:0 with an echo
//! handler that records what it saw, and a raw HTTP/1.1 client that shows
//! exact statuses, headers and bodies.

use std::net::SocketAddr;

use std::time::Duration;

use oxio_server::config::EngineConfig;
use oxio_server::engine::{CloseReason, Engine, EngineHandler, Message, Session};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub use crate::Log;

/// Echoes every message and logs.
pub struct Echo(pub Log);

impl EngineHandler for Echo {
    fn on_open(&self, _session: Session) {
        self.0.push("open");
    }
    fn on_message(&self, session: &Session, msg: Message) {
        self.0.push(match &msg {
            Message::Text(t) => format!("text:{t}"),
            Message::Binary(b) => format!("bin:{}", hex(b)),
        });
        let _ = session.send(msg);
    }
    fn on_close(&self, _session: &Session, reason: CloseReason) {
        self.0.push(format!("close:{reason}"));
    }
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A running server.
pub struct Server {
    pub addr: SocketAddr,
    pub engine: Engine,
    pub log: Log,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Server {
    /// Stops it the way Ctrl-C would, and waits.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

/// The conformance configuration: `/engine.io/`, ping 300/200, CORS any, EIO 3 and 4.
pub fn echo_config() -> EngineConfig {
    EngineConfig {
        path: "/engine.io/".into(),
        ping_interval: Duration::from_millis(300),
        ping_timeout: Duration::from_millis(200),
        cors: Some(oxio_server::config::Cors::any()),
        allow_eio3: true,
        ..EngineConfig::default()
    }
}

pub async fn start(config: EngineConfig) -> Server {
    let log = Log::default();
    let engine = Engine::new(config, Echo(log.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let e = engine.clone();
    let task = tokio::spawn(async move {
        oxio_server::service::serve(listener, e, async {
            let _ = stopped.await;
        })
        .await;
    });
    Server {
        addr,
        engine,
        log,
        stop: Some(stop),
        task: Some(task),
    }
}

/// An HTTP answer, headers lower-cased.
#[derive(Debug, Clone)]
pub struct Res {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Res {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends one request on a fresh connection (`Connection: close`) and reads
/// the whole answer.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Res {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    s.write_all(body).await.unwrap();
    read_response(&mut s).await
}

/// Reads one HTTP answer from `s` (Content-Length framed, or to EOF).
pub async fn read_response(s: &mut TcpStream) -> Res {
    let mut buf = Vec::new();
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut chunk))
            .await
            .expect("response head in time")
            .unwrap();
        assert!(
            n > 0,
            "connection closed before a response: {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .map(|l| {
            let (k, v) = l.split_once(':').unwrap();
            (k.trim().to_ascii_lowercase(), v.trim().to_string())
        })
        .collect();
    let mut body = buf[head_end + 4..].to_vec();
    let len = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .map(|(_, v)| v.parse::<usize>().unwrap());
    match len {
        Some(len) => {
            while body.len() < len {
                let mut chunk = [0u8; 65536];
                let n = s.read(&mut chunk).await.unwrap();
                assert!(n > 0, "body cut short");
                body.extend_from_slice(&chunk[..n]);
            }
            body.truncate(len);
        }
        None if status != 101 && status != 204 => {
            let _ = tokio::time::timeout(Duration::from_secs(2), s.read_to_end(&mut body)).await;
        }
        None => {}
    }
    Res {
        status,
        headers,
        body,
    }
}

pub async fn get(addr: SocketAddr, path: &str) -> Res {
    request(addr, "GET", path, &[], b"").await
}

pub async fn post(addr: SocketAddr, path: &str, body: &[u8]) -> Res {
    request(
        addr,
        "POST",
        path,
        &[("Content-Type", "text/plain;charset=UTF-8")],
        body,
    )
    .await
}

/// Opens a v4 polling session and returns its sid (checks the handshake).
pub async fn handshake(addr: SocketAddr, eio: &str) -> String {
    let res = get(addr, &format!("/engine.io/?EIO={eio}&transport=polling")).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let text = res.text();
    let json = match text.split_once(":0{") {
        Some((_, rest)) if eio == "3" => format!("{{{rest}"),
        _ => text.strip_prefix('0').unwrap().to_string(),
    };
    let sid_start = json.find("\"sid\":\"").unwrap() + 7;
    json[sid_start..sid_start + 20].to_string()
}

pub fn poll_path(sid: &str, eio: &str) -> String {
    format!("/engine.io/?EIO={eio}&transport=polling&sid={sid}")
}
