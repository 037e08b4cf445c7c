//! A fake Engine.IO session for the Socket.IO and demo tests: records what
//! the server sends, has a bounded queue, and (like the engine) calls
//! `on_close` when closed. The handshake query is chosen by the test when
//! it matters (the demo's `/admin` namespace reads a token from it).
//! Used by the Socket.IO layer's and the demo's tests.

use bytes::Bytes;
use oxio_codec::engineio::Version;
use oxio_server::engine::{
    CloseReason, EngineHandler, HandshakeInfo, Message, SendError, Session, SessionHandle,
    Utf8Bytes,
};
use oxio_server::socketio::{SocketIo, SocketIoBuilder};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, SystemTime};

pub struct FakeSession {
    sid: String,
    protocol: Version,
    info: HandshakeInfo,
    me: Weak<FakeSession>,
    sent: Mutex<Vec<Message>>,
    /// Messages taken by the test so far (`sent` keeps them all).
    read: AtomicUsize,
    /// Queue bound: `send` fails with `Full` while `sent - drained` is at it.
    capacity: AtomicUsize,
    drained: AtomicUsize,
    open: AtomicBool,
    closed: Mutex<Option<CloseReason>>,
    handler: OnceLock<Arc<dyn EngineHandler>>,
    notify: tokio::sync::Notify,
}

/// The handshake query of [`FakeSession::new`].
pub const DEFAULT_QUERY: &str = "EIO=4&transport=websocket&room=a%20b";

impl FakeSession {
    /// A session with [`DEFAULT_QUERY`].
    pub fn new(protocol: Version, sid: &str) -> Arc<FakeSession> {
        Self::with_query(protocol, sid, DEFAULT_QUERY)
    }

    /// A session whose handshake query string is `query`.
    pub fn with_query(protocol: Version, sid: &str, query: &str) -> Arc<FakeSession> {
        let mut headers = http::HeaderMap::new();
        headers.insert("x-test", http::HeaderValue::from_static("yes"));
        Arc::new_cyclic(|me| FakeSession {
            sid: sid.to_owned(),
            protocol,
            info: HandshakeInfo {
                query: query.to_owned(),
                headers,
                remote_addr: Some("127.0.0.1:4000".parse().unwrap()),
                issued: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
                secure: false,
                url: "/socket.io/".to_owned(),
            },
            me: me.clone(),
            sent: Mutex::new(Vec::new()),
            read: AtomicUsize::new(0),
            capacity: AtomicUsize::new(usize::MAX),
            drained: AtomicUsize::new(0),
            open: AtomicBool::new(true),
            closed: Mutex::new(None),
            handler: OnceLock::new(),
            notify: tokio::sync::Notify::new(),
        })
    }

    /// Bounds the outbound queue at `n` messages not yet drained.
    pub fn set_capacity(&self, n: usize) {
        self.capacity.store(n, Ordering::SeqCst);
    }

    /// Lets the client "read" everything queued so far.
    pub fn drain(&self) {
        let len = self.sent.lock().unwrap().len();
        self.drained.store(len, Ordering::SeqCst);
    }

    pub fn closed_reason(&self) -> Option<CloseReason> {
        *self.closed.lock().unwrap()
    }

    /// Everything sent so far, as text (binary as `<bin:len>`).
    pub fn all(&self) -> Vec<String> {
        self.sent.lock().unwrap().iter().map(show).collect()
    }

    /// Messages sent since the last take, without waiting.
    pub fn take_now(&self) -> Vec<Message> {
        let sent = self.sent.lock().unwrap();
        let from = self.read.swap(sent.len(), Ordering::SeqCst);
        sent.get(from..).unwrap_or_default().to_vec()
    }

    /// The next message not yet taken, waiting up to 2 s.
    pub async fn next(&self) -> Message {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        loop {
            let notified = self.notify.notified();
            {
                let sent = self.sent.lock().unwrap();
                let i = self.read.load(Ordering::SeqCst);
                if let Some(m) = sent.get(i) {
                    self.read.store(i + 1, Ordering::SeqCst);
                    return m.clone();
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!(
                    "{}: no message from the server; all sent: {:?}",
                    self.sid,
                    self.all()
                );
            }
        }
    }

    /// The next message, which must be text.
    pub async fn next_text(&self) -> String {
        match self.next().await {
            Message::Text(t) => t.as_str().to_owned(),
            Message::Binary(b) => panic!("expected text, got binary {b:?}"),
        }
    }

    /// The next message, which must be binary.
    pub async fn next_binary(&self) -> Bytes {
        match self.next().await {
            Message::Binary(b) => b,
            Message::Text(t) => panic!("expected binary, got text {t}"),
        }
    }

    /// Asserts nothing more was sent (after letting tasks run).
    pub async fn assert_quiet(&self) {
        settle().await;
        let rest: Vec<String> = self.take_now().iter().map(show).collect();
        assert!(
            rest.is_empty(),
            "{}: unexpected messages: {rest:?}",
            self.sid
        );
    }

    /// Waits until the session is closed, returning the reason.
    pub async fn wait_closed(&self) -> CloseReason {
        for _ in 0..2000 {
            if let Some(r) = self.closed_reason() {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        panic!("{}: session not closed", self.sid);
    }
}

pub fn show(m: &Message) -> String {
    match m {
        Message::Text(t) => t.as_str().to_owned(),
        Message::Binary(b) => format!("<bin:{}>", b.len()),
    }
}

impl SessionHandle for FakeSession {
    fn sid(&self) -> &str {
        &self.sid
    }

    fn protocol(&self) -> Version {
        self.protocol
    }

    fn info(&self) -> &HandshakeInfo {
        &self.info
    }

    /// Like the engine: the whole unit, or nothing when the bound cannot take it.
    fn send_many(&self, msgs: &[Message]) -> Result<(), SendError> {
        if !self.open.load(Ordering::SeqCst) {
            return Err(SendError::Closed);
        }
        let mut sent = self.sent.lock().unwrap();
        let queued = sent.len() - self.drained.load(Ordering::SeqCst);
        if queued + msgs.len() > self.capacity.load(Ordering::SeqCst) {
            return Err(SendError::Full);
        }
        sent.extend_from_slice(msgs);
        drop(sent);
        self.notify.notify_waiters();
        Ok(())
    }

    /// Like the engine: marks the session closed, then calls `on_close`
    /// (synchronously, the most demanding order for the layer above).
    fn close(&self, reason: CloseReason) {
        if !self.open.swap(false, Ordering::SeqCst) {
            return;
        }
        *self.closed.lock().unwrap() = Some(reason);
        if let (Some(handler), Some(me)) = (self.handler.get(), self.me.upgrade()) {
            let session: Session = me;
            handler.on_close(&session, reason);
        }
        self.notify.notify_waiters();
    }

    fn is_open(&self) -> bool {
        self.open.load(Ordering::SeqCst)
    }
}

/// One fake connection to a server.
pub struct Conn {
    pub fake: Arc<FakeSession>,
    pub session: Session,
    sio: SocketIo,
}

impl Conn {
    pub fn text(&self, s: &str) {
        if self.fake.is_open() {
            use oxio_server::engine::EngineHandler as _;
            self.sio
                .on_message(&self.session, Message::Text(Utf8Bytes::from(s)));
        }
    }

    pub fn binary(&self, b: &[u8]) {
        if self.fake.is_open() {
            use oxio_server::engine::EngineHandler as _;
            self.sio
                .on_message(&self.session, Message::Binary(Bytes::copy_from_slice(b)));
        }
    }

    /// The transport ended (the engine's `on_close`).
    pub fn transport_closed(&self, reason: CloseReason) {
        self.fake.close(reason);
    }

    /// The client went away (`transport close`).
    pub fn close(&self) {
        self.transport_closed(CloseReason::TransportClose);
    }

    /// Sends CONNECT for `ns` with `auth` (JSON, or "" for none) and
    /// returns the server's raw reply.
    pub async fn connect_raw(&self, ns: &str, auth: &str) -> String {
        if ns == "/" {
            self.text(&format!("0{auth}"));
        } else {
            self.text(&format!("0{ns},{auth}"));
        }
        self.fake.next_text().await
    }

    /// Connects to `ns` (v5) without auth and returns the socket id.
    pub async fn connect(&self, ns: &str) -> String {
        self.connect_with(ns, "").await
    }

    /// Connects to `ns` with `auth` (JSON, or "" for none), expecting
    /// success; returns the socket id from the reply.
    pub async fn connect_with(&self, ns: &str, auth: &str) -> String {
        let reply = self.connect_raw(ns, auth).await;
        let prefix = if ns == "/" {
            "0".to_owned()
        } else {
            format!("0{ns},")
        };
        let json = reply
            .strip_prefix(&prefix)
            .unwrap_or_else(|| panic!("not a CONNECT reply for {ns}: {reply}"));
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        v["sid"].as_str().unwrap().to_owned()
    }
}

/// Opens a session with [`DEFAULT_QUERY`].
pub fn open(sio: &SocketIo, protocol: Version, sid: &str) -> Conn {
    open_query(sio, protocol, sid, DEFAULT_QUERY)
}

/// Opens a session whose handshake query is `query`.
pub fn open_query(sio: &SocketIo, protocol: Version, sid: &str, query: &str) -> Conn {
    let fake = FakeSession::with_query(protocol, sid, query);
    let handler: Arc<dyn EngineHandler> = Arc::new(sio.clone());
    let _ = fake.handler.set(handler);
    let session: Session = fake.clone();
    use oxio_server::engine::EngineHandler as _;
    sio.on_open(session.clone());
    Conn {
        fake,
        session,
        sio: sio.clone(),
    }
}

pub fn open_v5(sio: &SocketIo, sid: &str) -> Conn {
    open(sio, Version::V4, sid)
}

/// A Socket.IO v5 (Engine.IO v4) session whose handshake query is `query`.
pub fn open_v5_query(sio: &SocketIo, sid: &str, query: &str) -> Conn {
    open_query(sio, Version::V4, sid, query)
}

pub fn open_v3(sio: &SocketIo, sid: &str) -> Conn {
    open(sio, Version::V3, sid)
}

pub fn server() -> SocketIoBuilder {
    SocketIo::builder()
}

/// Lets spawned tasks run.
pub async fn settle() {
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fake_session_bounds_its_queue() {
        let f = FakeSession::new(Version::V4, "s");
        f.set_capacity(1);
        assert!(f.send(Message::Text(Utf8Bytes::from("a"))).is_ok());
        assert!(matches!(
            f.send(Message::Text(Utf8Bytes::from("b"))),
            Err(SendError::Full)
        ));
        f.drain();
        assert!(f.send(Message::Text(Utf8Bytes::from("c"))).is_ok());
        assert_eq!(f.all(), ["a", "c"]);
        f.close(CloseReason::ForcedClose);
        assert!(matches!(
            f.send(Message::Text(Utf8Bytes::from("d"))),
            Err(SendError::Closed)
        ));
    }

    #[tokio::test]
    async fn fake_session_records_and_closes() {
        let sio = SocketIo::builder().build();
        let c = open_query(&sio, Version::V4, "s", "EIO=4&token=t");
        assert_eq!(c.fake.info().query, "EIO=4&token=t");
        let sid = c.connect("/").await;
        assert_eq!(sid.len(), 20);
        c.fake.assert_quiet().await;
        c.close();
        assert_eq!(c.fake.closed_reason(), Some(CloseReason::TransportClose));
        assert!(matches!(
            c.fake.send(Message::Text(Utf8Bytes::from("x"))),
            Err(SendError::Closed)
        ));
        assert_eq!(c.fake.all(), [format!("0{{\"sid\":\"{sid}\"}}")]);
    }
}
