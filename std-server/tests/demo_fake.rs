//! A fake Engine.IO session for the demo tests, in the manner of
//! `socketio_fake.rs` but with the handshake query chosen by the test (the
//! `/admin` namespace reads a token from it). It records what the server
//! sends and, like the engine, calls `on_close` when closed. Included by
//! the `demo_*` test files with `#[path]`; compiled alone it checks itself.
#![allow(dead_code)]

use bytes::Bytes;
use oxio_codec::engineio::Version;
use oxio_server::engine::{
    CloseReason, EngineHandler, HandshakeInfo, Message, SendError, Session, SessionHandle,
    Utf8Bytes,
};
use oxio_server::socketio::SocketIo;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, SystemTime};

pub struct FakeSession {
    sid: String,
    info: HandshakeInfo,
    me: Weak<FakeSession>,
    sent: Mutex<Vec<Message>>,
    read: AtomicUsize,
    open: AtomicBool,
    closed: Mutex<Option<CloseReason>>,
    handler: OnceLock<Arc<dyn EngineHandler>>,
    notify: tokio::sync::Notify,
}

pub fn show(m: &Message) -> String {
    match m {
        Message::Text(t) => t.as_str().to_owned(),
        Message::Binary(b) => format!("<bin:{}>", b.len()),
    }
}

impl FakeSession {
    pub fn new(sid: &str, query: &str) -> Arc<FakeSession> {
        Arc::new_cyclic(|me| FakeSession {
            sid: sid.to_owned(),
            info: HandshakeInfo {
                query: query.to_owned(),
                headers: http::HeaderMap::new(),
                remote_addr: Some("127.0.0.1:4000".parse().unwrap()),
                issued: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
                secure: false,
                url: "/socket.io/".to_owned(),
            },
            me: me.clone(),
            sent: Mutex::new(Vec::new()),
            read: AtomicUsize::new(0),
            open: AtomicBool::new(true),
            closed: Mutex::new(None),
            handler: OnceLock::new(),
            notify: tokio::sync::Notify::new(),
        })
    }

    pub fn closed_reason(&self) -> Option<CloseReason> {
        *self.closed.lock().unwrap()
    }

    /// Everything sent so far (binary as `<bin:len>`).
    pub fn all(&self) -> Vec<String> {
        self.sent.lock().unwrap().iter().map(show).collect()
    }

    /// Messages sent since the last take, without waiting.
    pub fn take_now(&self) -> Vec<String> {
        let sent = self.sent.lock().unwrap();
        let from = self.read.swap(sent.len(), Ordering::SeqCst);
        sent.get(from..)
            .unwrap_or_default()
            .iter()
            .map(show)
            .collect()
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

    pub async fn next_text(&self) -> String {
        match self.next().await {
            Message::Text(t) => t.as_str().to_owned(),
            Message::Binary(b) => panic!("expected text, got binary {b:?}"),
        }
    }

    pub async fn next_binary(&self) -> Bytes {
        match self.next().await {
            Message::Binary(b) => b,
            Message::Text(t) => panic!("expected binary, got text {t}"),
        }
    }

    /// Asserts nothing more was sent (after letting tasks run).
    pub async fn assert_quiet(&self) {
        settle().await;
        let rest = self.take_now();
        assert!(
            rest.is_empty(),
            "{}: unexpected messages: {rest:?}",
            self.sid
        );
    }
}

impl SessionHandle for FakeSession {
    fn sid(&self) -> &str {
        &self.sid
    }

    fn protocol(&self) -> Version {
        Version::V4
    }

    fn info(&self) -> &HandshakeInfo {
        &self.info
    }

    fn send(&self, msg: Message) -> Result<(), SendError> {
        if !self.open.load(Ordering::SeqCst) {
            return Err(SendError::Closed(msg));
        }
        self.sent.lock().unwrap().push(msg);
        self.notify.notify_waiters();
        Ok(())
    }

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

/// One fake Engine.IO v4 connection to a server.
pub struct Conn {
    pub fake: Arc<FakeSession>,
    session: Session,
    sio: SocketIo,
}

impl Conn {
    /// Opens a session whose handshake query is `query`.
    pub fn open(sio: &SocketIo, sid: &str, query: &str) -> Conn {
        let fake = FakeSession::new(sid, query);
        let handler: Arc<dyn EngineHandler> = Arc::new(sio.clone());
        let _ = fake.handler.set(handler);
        let session: Session = fake.clone();
        sio.on_open(session.clone());
        Conn {
            fake,
            session,
            sio: sio.clone(),
        }
    }

    /// Sends a Socket.IO text frame (the Engine.IO `4` already removed).
    pub fn text(&self, s: &str) {
        self.sio
            .on_message(&self.session, Message::Text(Utf8Bytes::from(s)));
    }

    /// Sends a binary attachment.
    pub fn binary(&self, b: &[u8]) {
        self.sio
            .on_message(&self.session, Message::Binary(Bytes::copy_from_slice(b)));
    }

    /// The client went away.
    pub fn close(&self) {
        self.fake.close(CloseReason::TransportClose);
    }

    /// Sends CONNECT for `ns` with `auth` (JSON, or "" for none) and
    /// returns the server's raw reply.
    pub async fn connect_raw(&self, ns: &str, auth: &str) -> String {
        let prefix = if ns == "/" {
            String::new()
        } else {
            format!("{ns},")
        };
        self.text(&format!("0{prefix}{auth}"));
        self.fake.next_text().await
    }

    /// Connects to `ns` with `auth`, expecting success; returns the socket id.
    pub async fn connect(&self, ns: &str, auth: &str) -> String {
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

/// Lets spawned tasks run.
pub async fn settle() {
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
}

#[tokio::test]
async fn fake_session_records_and_closes() {
    let sio = SocketIo::builder().build();
    let c = Conn::open(&sio, "s", "EIO=4&token=t");
    assert_eq!(c.fake.info().query, "EIO=4&token=t");
    let sid = c.connect("/", "").await;
    assert_eq!(sid.len(), 20);
    c.fake.assert_quiet().await;
    c.close();
    assert_eq!(c.fake.closed_reason(), Some(CloseReason::TransportClose));
    assert!(matches!(
        c.fake.send(Message::Text(Utf8Bytes::from("x"))),
        Err(SendError::Closed(_))
    ));
    assert_eq!(c.fake.all(), [format!("0{{\"sid\":\"{sid}\"}}")]);
}
