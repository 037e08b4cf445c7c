//! The client against a hostile server: raw TCP code that speaks exactly the
//! bytes each case chooses (an HTTP response, then hand-built WebSocket
//! frames). Every case asserts what the client reports (events, the exact
//! `last_error`) and that it recovers: the hostile first connection is
//! followed by a second one that behaves, and the client joins `/` again.
//!
//! Each server runs on its own thread with its own runtime, so the client's
//! thread only runs the client (the flood case measures its allocations).
//! Every wait is bounded.

mod support;

use oxio_client::{Error, Event, HandshakeError};
use oxio_codec::client::{Config, FrameError, NO_AUTH};
use oxio_codec::engineio::{self, HandshakeError as EioHandshakeError};
use oxio_codec::socketio;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

// ---------------------------------------------------------------- memory --

/// Counts the bytes allocated minus freed by threads that asked for it, so
/// the flood case can show the client's thread does not grow.
struct Counting;

thread_local! {
    static TRACKED: Cell<bool> = const { Cell::new(false) };
}
static LIVE: AtomicI64 = AtomicI64::new(0);
static PEAK: AtomicI64 = AtomicI64::new(0);

fn tracked() -> bool {
    TRACKED.try_with(Cell::get).unwrap_or(false)
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// wrapper only updates two counters.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if tracked() {
            let size = layout.size() as i64;
            let live = LIVE.fetch_add(size, Ordering::Relaxed) + size;
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if tracked() {
            LIVE.fetch_sub(layout.size() as i64, Ordering::Relaxed);
        }
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

// ------------------------------------------------------- hostile server --

/// Notes written by the server scripts, for assertions.
type Log = Arc<Mutex<Vec<String>>>;

type Script = Arc<dyn Fn(Peer) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// A raw TCP server on 127.0.0.1 (ephemeral port) on its own thread; each
/// accepted connection runs `script` with its index.
struct Hostile {
    url: String,
    conns: Arc<AtomicUsize>,
    log: Log,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Hostile {
    fn start<F, Fut>(script: F) -> Hostile
    where
        F: Fn(Peer) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let script: Script = Arc::new(move |p| Box::pin(script(p)));
        let conns = Arc::new(AtomicUsize::new(0));
        let log = Log::default();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (c, l) = (conns.clone(), log.clone());
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let accept = async {
                    loop {
                        let Ok((s, _)) = listener.accept().await else {
                            return;
                        };
                        s.set_nodelay(true).unwrap();
                        let index = c.fetch_add(1, Ordering::SeqCst);
                        let peer = Peer {
                            s,
                            buf: Vec::new(),
                            last_request: String::new(),
                            index,
                            log: l.clone(),
                        };
                        tokio::spawn(script(peer));
                    }
                };
                tokio::select! {
                    () = accept => {}
                    _ = stopped => {}
                }
            });
        });
        Hostile {
            url,
            conns,
            log,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn conns(&self) -> usize {
        self.conns.load(Ordering::SeqCst)
    }

    fn notes(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The first connection's server is hostile; later ones behave.
fn first_hostile<F, Fut>(first: F) -> Hostile
where
    F: Fn(Peer) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let first = Arc::new(first);
    Hostile::start(move |mut p| {
        let first = first.clone();
        async move {
            if p.index == 0 {
                first(p).await;
            } else {
                p.join().await;
                p.drain().await;
            }
        }
    })
}

const OPEN: &str = r#"0{"sid":"hostile","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;
const WAIT: Duration = Duration::from_secs(10);

/// One accepted connection, seen from the server.
struct Peer {
    s: TcpStream,
    buf: Vec<u8>,
    /// The last request head read by `request`.
    last_request: String,
    index: usize,
    log: Log,
}

/// An unmasked server frame (FIN set) with the shortest length encoding.
fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0x80 | opcode];
    let len = payload.len();
    if len < 126 {
        out.push(len as u8);
    } else if len <= 0xFFFF {
        out.push(126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(payload);
    out
}

impl Peer {
    fn note(&self, s: impl Into<String>) {
        self.log.lock().unwrap().push(s.into());
    }

    /// Reads at least `n` bytes into the buffer; false on EOF, error or timeout.
    async fn fill(&mut self, n: usize) -> bool {
        while self.buf.len() < n {
            let mut chunk = [0u8; 4096];
            match tokio::time::timeout(WAIT, self.s.read(&mut chunk)).await {
                Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return false,
                Ok(Ok(k)) => self.buf.extend_from_slice(&chunk[..k]),
            }
        }
        true
    }

    async fn take(&mut self, n: usize) -> Option<Vec<u8>> {
        if !self.fill(n).await {
            return None;
        }
        Some(self.buf.drain(..n).collect())
    }

    /// The client's upgrade request head (at most 16 KB).
    async fn request(&mut self) -> String {
        loop {
            if let Some(p) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head: Vec<u8> = self.buf.drain(..p + 4).collect();
                self.last_request = String::from_utf8(head).unwrap();
                return self.last_request.clone();
            }
            let want = self.buf.len() + 1;
            assert!(want < 16 * 1024, "request head too long");
            assert!(self.fill(want).await, "no upgrade request");
        }
    }

    /// The `Sec-WebSocket-Accept` for the request's key.
    fn accept(request: &str) -> String {
        use base64::Engine as _;
        let key = request
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("sec-websocket-key")
                    .then(|| value.trim().to_string())
            })
            .expect("no Sec-WebSocket-Key");
        let mut sha = sha1_smol::Sha1::new();
        sha.update(key.as_bytes());
        sha.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
        let mut out = [0u8; 28];
        let n = base64::engine::general_purpose::STANDARD
            .encode_slice(sha.digest().bytes(), &mut out)
            .unwrap();
        String::from_utf8(out[..n].to_vec()).unwrap()
    }

    async fn send(&mut self, bytes: &[u8]) {
        let _ = self.s.write_all(bytes).await;
    }

    async fn text(&mut self, text: &str) {
        self.send(&frame(0x1, text.as_bytes())).await;
    }

    /// Reads the request and answers 101 correctly.
    async fn upgrade(&mut self) {
        let request = self.request().await;
        let response = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
            Self::accept(&request)
        );
        self.send(response.as_bytes()).await;
    }

    /// The next client frame, unmasked: (opcode, payload); `None` on EOF.
    async fn recv(&mut self) -> Option<(u8, Vec<u8>)> {
        let h = self.take(2).await?;
        let opcode = h[0] & 0x0F;
        let masked = h[1] & 0x80 != 0;
        let len = match h[1] & 0x7F {
            126 => u16::from_be_bytes(self.take(2).await?.try_into().ok()?) as usize,
            127 => u64::from_be_bytes(self.take(8).await?.try_into().ok()?) as usize,
            n => usize::from(n),
        };
        let mask = if masked {
            self.take(4).await?
        } else {
            vec![0; 4]
        };
        let mut payload = self.take(len).await?;
        for (i, b) in payload.iter_mut().enumerate() {
            *b ^= mask[i % 4];
        }
        Some((opcode, payload))
    }

    /// The next client text frame (pongs and other control frames are noted
    /// as `<opcode N>`; EOF as `<eof>`).
    async fn recv_text(&mut self) -> String {
        match self.recv().await {
            Some((0x1, p)) => String::from_utf8(p).unwrap(),
            Some((op, _)) => format!("<opcode {op}>"),
            None => "<eof>".into(),
        }
    }

    /// Upgrade, Engine.IO open, and the `/` namespace answer.
    async fn join(&mut self) {
        self.upgrade().await;
        self.text(OPEN).await;
        let connect = self.recv_text().await;
        assert_eq!(connect, "40", "the client's CONNECT");
        self.text(r#"40{"sid":"nsp-sid"}"#).await;
    }

    /// Reads (and discards) until the client closes; notes how it ended.
    async fn drain(&mut self) {
        loop {
            match self.recv().await {
                Some((0x8, _)) => {
                    self.note(format!("conn{} close frame", self.index));
                }
                Some(_) => {}
                None => {
                    self.note(format!("conn{} eof", self.index));
                    return;
                }
            }
        }
    }
}

// --------------------------------------------------------- client side --

fn config() -> Config {
    Config {
        connect_timeout_ms: Some(3000),
        ..fast()
    }
}

/// Drives the client until it has joined `/` over a second connection.
/// Returns what it reported, and `last_error` when the first loss was
/// reported (`disconnected` or `reconnecting`, whichever came first).
async fn until_rejoined(c: &mut TestClient, srv: &Hostile) -> (Vec<String>, Option<Error>) {
    let start = Instant::now();
    let mut events = vec![];
    let mut error = None;
    while start.elapsed() < Duration::from_secs(15) {
        let e = tokio::time::timeout(WAIT, next(c))
            .await
            .expect("next_event hung");
        let lost = e.starts_with("disconnected") || e == "reconnecting" || e == "server_lost";
        if lost && error.is_none() {
            error = c.last_error().cloned();
        }
        let done = e == "connected /" && srv.conns() >= 2;
        events.push(e);
        if done {
            return (events, error);
        }
    }
    panic!("no second connection within 15 s; events {events:?}");
}

/// A client for `srv`, joining `/` without auth.
fn client_for(srv: &Hostile, config: Config) -> Box<TestClient> {
    let mut c = client(&srv.url, config);
    c.connect("/", NO_AUTH).unwrap();
    c
}

/// Waits (bounded) until the server log holds `note`.
async fn wait_note(srv: &Hostile, note: &str) {
    for _ in 0..500 {
        if srv.notes().iter().any(|n| n == note) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("no note {note:?}; notes {:?}", srv.notes());
}

// ------------------------------------------------------- frame sizes --

/// A 64-bit length of 2^40: the client refuses it from the header alone
/// (without reading the payload: it closes while the server still has
/// bytes to send) and reconnects. socket.io-client (ws) does the same
/// with "Max payload size exceeded".
#[tokio::test(flavor = "current_thread")]
async fn frame_with_a_64_bit_length_is_refused_from_its_header() {
    let srv = first_hostile(|mut p| async move {
        p.join().await;
        let mut header = vec![0x81, 127];
        header.extend_from_slice(&(1u64 << 40).to_be_bytes());
        p.send(&header).await;
        p.send(&[b'a'; 1000]).await;
        p.drain().await;
    });
    let mut c = client_for(&srv, config());
    let (events, error) = until_rejoined(&mut c, &srv).await;
    assert_eq!(
        events,
        [
            "connected /",
            "disconnected / transport close",
            "reconnecting",
            "connected /"
        ]
    );
    assert_eq!(
        error,
        Some(Error::FrameTooLarge {
            len: 1 << 40,
            capacity: 4096
        })
    );
    // Dropped, not closed politely: no close frame, just EOF.
    wait_note(&srv, "conn0 eof").await;
    assert!(!srv.notes().contains(&"conn0 close frame".to_string()));
}

/// The receive buffer is 4096 bytes: a frame of exactly 4096 (4-byte header
/// + 4092 payload) is delivered, one byte more is refused.
#[tokio::test(flavor = "current_thread")]
async fn frame_at_the_limit_is_delivered_one_byte_more_is_refused() {
    fn event_of_len(len: usize) -> String {
        let head = r#"42["big",""#;
        let tail = r#""]"#;
        format!("{head}{}{tail}", "x".repeat(len - head.len() - tail.len()))
    }
    let srv = first_hostile(|mut p| async move {
        p.join().await;
        let ok = event_of_len(4092);
        assert_eq!(frame(1, ok.as_bytes()).len(), 4096);
        p.text(&ok).await;
        p.text(&event_of_len(4093)).await;
        p.drain().await;
    });
    let mut c = client_for(&srv, config());
    assert_eq!(next(&mut c).await, "connected /");
    match tokio::time::timeout(WAIT, c.next_event()).await.unwrap() {
        Ok(Event::Message(m)) => {
            assert!(m.is("big"));
            let (s,): (&str,) = m.args().unwrap();
            assert_eq!(s.len(), 4092 - r#"42["big",""]"#.len());
        }
        other => panic!("{other:?}"),
    }
    let (events, error) = until_rejoined(&mut c, &srv).await;
    assert_eq!(
        events,
        [
            "disconnected / transport close",
            "reconnecting",
            "connected /"
        ]
    );
    assert_eq!(
        error,
        Some(Error::FrameTooLarge {
            len: 4093,
            capacity: 4096
        })
    );
}

// ------------------------------------------------------ HTTP upgrade --

/// A response head that never ends: the client stops when its 4096-byte
/// buffer is full (`HeaderTooLong`), long before the server gives up.
#[tokio::test(flavor = "current_thread")]
async fn endless_response_header_is_cut_at_the_buffer() {
    let srv = first_hostile(|mut p| async move {
        let _ = p.request().await;
        let mut sent = 0usize;
        let line = b"X-Junk: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
        let _ = p.s.write_all(b"HTTP/1.1 101 Switching Protocols\r\n").await;
        // Stops when the client has closed (or after 64 MB).
        while sent < (64 << 20) {
            match tokio::time::timeout(WAIT, p.s.write_all(line)).await {
                Ok(Ok(())) => sent += line.len(),
                _ => break,
            }
        }
        p.note(format!("stopped after {} MB", sent >> 20));
    });
    let started = Instant::now();
    let mut c = client_for(&srv, config());
    let (events, error) = until_rejoined(&mut c, &srv).await;
    assert_eq!(events, ["reconnecting", "connected /"]);
    assert_eq!(error, Some(Error::Handshake(HandshakeError::HeaderTooLong)));
    assert!(started.elapsed() < Duration::from_secs(3));
    wait_note(&srv, "stopped after 0 MB").await;
}

/// A response head dripped one byte every 20 ms: the connect timeout
/// (here 500 ms) ends the attempt.
#[tokio::test(flavor = "current_thread")]
async fn dripped_response_header_hits_the_connect_timeout() {
    let srv = first_hostile(|mut p| async move {
        let _ = p.request().await;
        for b in b"HTTP/1.1 101 Switching Protocols\r\n"
            .iter()
            .cycle()
            .take(10_000)
        {
            if p.s.write_all(&[*b]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        p.note("drip stopped");
    });
    let started = Instant::now();
    let mut c = client_for(
        &srv,
        Config {
            connect_timeout_ms: Some(500),
            ..fast()
        },
    );
    let (events, error) = until_rejoined(&mut c, &srv).await;
    assert_eq!(events, ["reconnecting", "connected /"]);
    assert_eq!(error, Some(Error::ConnectTimeout));
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(500) && took < Duration::from_secs(3),
        "{took:?}"
    );
    wait_note(&srv, "drip stopped").await;
}

/// Responses that are not a valid upgrade: each gives its exact
/// `HandshakeError`, then the client reconnects.
#[tokio::test(flavor = "current_thread")]
async fn bad_upgrade_responses() {
    let cases: [(&str, &str, HandshakeError); 6] = [
        (
            "wrong accept",
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
            HandshakeError::BadAccept,
        ),
        (
            "no accept",
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
            HandshakeError::BadAccept,
        ),
        (
            "200",
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok",
            HandshakeError::Status(200),
        ),
        (
            "garbage status line",
            "SSH-2.0-OpenSSH_9.2\r\n\r\n",
            HandshakeError::Malformed,
        ),
        (
            "too many headers",
            "HTTP/1.1 101 Switching Protocols\r\nA: a\r\nA: a\r\nA: a\r\nA: a\r\nA: a\r\nA: a\r\nA: a\r\nA: a\r\nA: a\r\nA: a\r\nA: a\r\nA: a\r\nA: a\r\nA: a\r\nA: a\r\nA: a\r\nA: a\r\nA: a\r\nA: a\r\nA: a\r\nA: a\r\nA: a\r\nA: a\r\nA: a\r\nA: a\r\n\r\n",
            HandshakeError::Malformed,
        ),
        ("closed mid-head", "HTTP/1.1 101 Switching", HandshakeError::Closed),
    ];
    for (name, response, expected) in cases {
        let srv = first_hostile(move |mut p| async move {
            let _ = p.request().await;
            p.send(response.as_bytes()).await;
            if expected != HandshakeError::Closed {
                p.drain().await;
            }
        });
        let mut c = client_for(&srv, config());
        let (events, error) = until_rejoined(&mut c, &srv).await;
        assert_eq!(events, ["reconnecting", "connected /"], "{name}");
        assert_eq!(error, Some(Error::Handshake(expected)), "{name}");
    }
}

// ------------------------------------------------ Engine.IO handshake --

/// First packets that are not a usable Engine.IO `open`: a parse error,
/// a close frame from the client, a reconnection.
#[tokio::test(flavor = "current_thread")]
async fn bad_engineio_handshakes() {
    enum First {
        Text(&'static str),
        Binary(&'static [u8]),
    }
    let eio = |e: EioHandshakeError| {
        Error::Protocol(FrameError::EngineIo(engineio::Error::InvalidHandshake(e)))
    };
    let cases = [
        (
            "not JSON",
            First::Text("0hello"),
            eio(EioHandshakeError::Syntax { offset: 0 }),
        ),
        (
            "missing sid",
            First::Text(r#"0{"upgrades":[],"pingInterval":25000,"pingTimeout":20000}"#),
            eio(EioHandshakeError::MissingField("sid")),
        ),
        (
            "negative pingInterval",
            First::Text(r#"0{"sid":"s","upgrades":[],"pingInterval":-1,"pingTimeout":20000}"#),
            eio(EioHandshakeError::InvalidField("pingInterval")),
        ),
        (
            "pingInterval beyond u64",
            First::Text(
                r#"0{"sid":"s","upgrades":[],"pingInterval":18446744073709551616,"pingTimeout":1}"#,
            ),
            eio(EioHandshakeError::InvalidField("pingInterval")),
        ),
        (
            "fractional pingTimeout",
            First::Text(r#"0{"sid":"s","upgrades":[],"pingInterval":1,"pingTimeout":0.5}"#),
            eio(EioHandshakeError::InvalidField("pingTimeout")),
        ),
        (
            "sid longer than 48 bytes",
            First::Text(
                r#"0{"sid":"0123456789012345678901234567890123456789012345678","upgrades":[],"pingInterval":1,"pingTimeout":1}"#,
            ),
            Error::Protocol(FrameError::SidTooLong),
        ),
        (
            "a message first",
            First::Text(r#"42["hi"]"#),
            Error::Protocol(FrameError::Unexpected),
        ),
        (
            "a ping first",
            First::Text("2"),
            Error::Protocol(FrameError::Unexpected),
        ),
        (
            "unknown packet type",
            First::Text("9"),
            Error::Protocol(FrameError::EngineIo(engineio::Error::UnknownPacketType(
                b'9',
            ))),
        ),
        (
            "a binary frame first",
            First::Binary(&[4, 1, 2, 3]),
            Error::Protocol(FrameError::Unexpected),
        ),
    ];
    for (name, first, expected) in cases {
        let first = Arc::new(first);
        let srv = first_hostile(move |mut p| {
            let first = first.clone();
            async move {
                p.upgrade().await;
                match &*first {
                    First::Text(t) => p.text(t).await,
                    First::Binary(b) => p.send(&frame(2, b)).await,
                }
                p.drain().await;
            }
        });
        let mut c = client_for(&srv, config());
        let (events, error) = until_rejoined(&mut c, &srv).await;
        assert_eq!(events, ["reconnecting", "connected /"], "{name}");
        assert_eq!(error, Some(expected), "{name}");
        // The client closed the bad connection politely.
        wait_note(&srv, "conn0 close frame").await;
    }
}

/// pingInterval and pingTimeout at `u64::MAX`: accepted (deadlines
/// saturate, the heartbeat never fires) and the connection works.
#[tokio::test(flavor = "current_thread")]
async fn absurd_ping_interval_does_not_break_the_timers() {
    let srv = Hostile::start(|mut p| async move {
        p.upgrade().await;
        p.text(r#"0{"sid":"s","upgrades":[],"pingInterval":18446744073709551615,"pingTimeout":18446744073709551615}"#).await;
        assert_eq!(p.recv_text().await, "40");
        p.text(r#"40{"sid":"a"}"#).await;
        let emit = p.recv_text().await;
        p.note(emit);
        p.text(r#"42["still",1]"#).await;
        p.drain().await;
    });
    let mut c = client_for(&srv, config());
    assert_eq!(next(&mut c).await, "connected /");
    c.emit("hi", &(1,)).await.unwrap();
    assert_eq!(next(&mut c).await, r#"msg / ["still",1] -"#);
    wait_note(&srv, r#"42["hi",1]"#).await;
    // Nothing happens by itself: no timeout, no reconnection.
    assert_eq!(
        tokio::time::timeout(WAIT, c.next_event_until(Some(soon(300))))
            .await
            .unwrap()
            .map(|e| e.is_none()),
        Ok(true)
    );
    assert_eq!(srv.conns(), 1);
}

/// pingInterval 0 and pingTimeout 0: the server is lost at once (as in
/// socket.io-client, whose 0 ms timer fires immediately), and the client
/// reconnects.
#[tokio::test(flavor = "current_thread")]
async fn zero_ping_interval_loses_the_server_at_once() {
    let srv = first_hostile(|mut p| async move {
        p.upgrade().await;
        p.text(r#"0{"sid":"s","upgrades":[],"pingInterval":0,"pingTimeout":0}"#)
            .await;
        p.drain().await;
    });
    let mut c = client_for(&srv, config());
    let (events, _) = until_rejoined(&mut c, &srv).await;
    assert_eq!(events, ["server_lost", "reconnecting", "connected /"]);
}

fn soon(ms: u64) -> embassy_time::Instant {
    embassy_time::Instant::now() + embassy_time::Duration::from_millis(ms)
}

// ------------------------------------------------------ binary events --

/// A binary event header whose attachment never comes: the attachment
/// deadline (here 300 ms) ends the connection as a parse error.
#[tokio::test(flavor = "current_thread")]
async fn binary_header_without_attachment_times_out() {
    let srv = first_hostile(|mut p| async move {
        p.join().await;
        p.text(r#"451-["ev",{"_placeholder":true,"num":0}]"#).await;
        p.note("header sent");
        p.drain().await;
    });
    let mut cfg = config();
    cfg.limits.attachment_timeout_ms = 300;
    let mut c = client_for(&srv, cfg);
    assert_eq!(next(&mut c).await, "connected /");
    wait_note(&srv, "header sent").await;
    let started = Instant::now();
    let (events, _) = until_rejoined(&mut c, &srv).await;
    assert!(started.elapsed() >= Duration::from_millis(250));
    assert_eq!(
        events,
        ["disconnected / parse error", "reconnecting", "connected /"]
    );
    wait_note(&srv, "conn0 close frame").await;
}

/// A binary event header followed by the wrong frame: a text packet (parse
/// error, as socket.io-parser's "got plaintext data when reconstructing a
/// packet"), or a WebSocket continuation frame (not supported: the
/// connection is dropped).
#[tokio::test(flavor = "current_thread")]
async fn binary_header_followed_by_the_wrong_frame() {
    let cases: [(&str, Vec<u8>, &str, Error); 2] = [
        (
            "text",
            frame(1, br#"42["x"]"#),
            "disconnected / parse error",
            Error::Protocol(FrameError::SocketIo(socketio::Error::UnexpectedText)),
        ),
        (
            "continuation",
            frame(0, &[4, 1, 2]),
            "disconnected / transport close",
            Error::WebSocket,
        ),
    ];
    for (name, wrong, disconnected, expected) in cases {
        let wrong = Arc::new(wrong);
        let srv = first_hostile(move |mut p| {
            let wrong = wrong.clone();
            async move {
                p.join().await;
                p.text(r#"451-["ev",{"_placeholder":true,"num":0}]"#).await;
                p.send(&wrong).await;
                p.drain().await;
            }
        });
        let mut c = client_for(&srv, config());
        let (events, error) = until_rejoined(&mut c, &srv).await;
        assert_eq!(
            events,
            ["connected /", disconnected, "reconnecting", "connected /"],
            "{name}"
        );
        assert_eq!(error, Some(expected), "{name}");
    }
}

// ------------------------------------------------------------- flood --

const FLOOD: usize = 100_000;

/// The server floods 100 000 events (a ping in the middle) while the
/// application waits in `emit_with_ack`: the inbox keeps the first 8 and
/// drops the rest (counted, `last_error` `InboxFull`), the ping is answered
/// during the flood, the ack still arrives, and the client's thread does
/// not grow.
#[tokio::test(flavor = "current_thread")]
async fn flood_while_waiting_for_an_ack_is_bounded_and_pings_are_answered() {
    let srv = Hostile::start(|mut p| async move {
        p.join().await;
        let emit = p.recv_text().await;
        assert_eq!(emit, r#"420["go"]"#);
        let mut flood = Vec::with_capacity(FLOOD * 16);
        for i in 0..FLOOD {
            if i == FLOOD / 2 {
                flood.extend_from_slice(&frame(1, b"2"));
            }
            flood.extend_from_slice(&frame(1, format!(r#"42["f",{i}]"#).as_bytes()));
        }
        p.send(&flood).await;
        p.note("flood sent");
        // The pong must come before the ack is sent.
        let answer = p.recv_text().await;
        p.note(format!("after flood: {answer}"));
        p.text(r#"430[42]"#).await;
        let after = p.recv_text().await;
        p.note(format!("then: {after}"));
        p.text(r#"42["after"]"#).await;
        p.drain().await;
    });
    let mut c = client_for(&srv, config());
    c.set_ack_timeout_ms(120_000);
    assert_eq!(next(&mut c).await, "connected /");
    TRACKED.with(|t| t.set(true));
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let started = Instant::now();
    let (answer,): (u32,) =
        tokio::time::timeout(Duration::from_secs(120), c.emit_with_ack("go", &()))
            .await
            .expect("emit_with_ack hung")
            .unwrap();
    TRACKED.with(|t| t.set(false));
    let grew = PEAK.load(Ordering::Relaxed) - base;
    eprintln!(
        "flood of {FLOOD} events absorbed in {:?}",
        started.elapsed()
    );
    assert_eq!(answer, 42);
    assert_eq!(
        srv.notes(),
        ["flood sent", "after flood: 3"],
        "the ping in the flood was answered before the ack"
    );
    assert!(grew < 64 * 1024, "the client thread grew by {grew} bytes");
    assert_eq!(c.dropped_events(), (FLOOD - 8) as u32);
    assert_eq!(c.last_error(), Some(&Error::InboxFull));
    // The app reads slowly: the 8 kept events, in order, then new ones.
    for i in 0..8 {
        assert_eq!(next(&mut c).await, format!(r#"msg / ["f",{i}] -"#));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    c.emit("next", &()).await.unwrap();
    assert_eq!(next(&mut c).await, r#"msg / ["after"] -"#);
    assert_eq!(srv.notes()[2], r#"then: 42["next"]"#);
    assert_eq!(srv.conns(), 1);
}

/// The same flood read by a slow `next_event` loop: nothing is lost (the
/// client reads no further than its 4 KB buffer, TCP flow control holds
/// the rest back), the ping is answered once the events before it are
/// handed out, and the client's thread does not grow.
#[tokio::test(flavor = "current_thread")]
async fn flood_read_slowly_is_lossless_and_the_ping_is_answered() {
    const N: usize = 20_000;
    let srv = Hostile::start(|mut p| async move {
        p.join().await;
        let mut flood = Vec::new();
        for i in 0..N {
            if i == N / 2 {
                flood.extend_from_slice(&frame(1, b"2"));
            }
            flood.extend_from_slice(&frame(1, format!(r#"42["f",{i}]"#).as_bytes()));
        }
        p.send(&flood).await;
        p.note("flood sent");
        let answer = p.recv_text().await;
        p.note(format!("after flood: {answer}"));
        p.drain().await;
    });
    let mut c = client_for(&srv, config());
    assert_eq!(next(&mut c).await, "connected /");
    TRACKED.with(|t| t.set(true));
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    for i in 0..N {
        let e = tokio::time::timeout(WAIT, c.next_event()).await.unwrap();
        match e {
            Ok(Event::Message(m)) => {
                assert!(m.is("f"), "event {i}");
                let (n,): (usize,) = m.args().unwrap();
                assert_eq!(n, i);
            }
            other => panic!("event {i}: {other:?}"),
        }
        if i % 1000 == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    TRACKED.with(|t| t.set(false));
    let grew = PEAK.load(Ordering::Relaxed) - base;
    assert!(grew < 64 * 1024, "the client thread grew by {grew} bytes");
    // The pong goes out with the next call after the ping was read.
    let _ = tokio::time::timeout(WAIT, c.next_event_until(Some(soon(200)))).await;
    wait_note(&srv, "after flood: 3").await;
    assert_eq!(c.dropped_events(), 0);
    assert_eq!(srv.conns(), 1);
}

// ------------------------------------------- packets for nobody --

/// Packets for a namespace the client never joined, CONNECT_ERROR for
/// it, an ack for an id never used, a duplicate CONNECT answer and
/// DISCONNECT for another namespace are ignored (as socket.io-client
/// does); the connection stays and the right ack still resolves.
#[tokio::test(flavor = "current_thread")]
async fn packets_for_unknown_namespaces_and_ack_ids_are_ignored() {
    let srv = Hostile::start(|mut p| async move {
        p.join().await;
        for t in [
            r#"42/nope,["x",1]"#,
            r#"44/nope,{"message":"m"}"#,
            r#"41/nope,"#,
            r#"43/nope,0[1]"#,
            r#"4399["unknown id"]"#,
            r#"40{"sid":"again"}"#,
            r#"42["real",2]"#,
        ] {
            p.text(t).await;
        }
        let emit = p.recv_text().await;
        p.note(emit);
        p.text(r#"437["wrong id"]"#).await;
        p.text(r#"430["right"]"#).await;
        p.drain().await;
    });
    let mut c = client_for(&srv, config());
    assert_eq!(next(&mut c).await, "connected /");
    assert_eq!(next(&mut c).await, r#"msg / ["real",2] -"#);
    let (answer,): (String,) = tokio::time::timeout(WAIT, c.emit_with_ack("q", &()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(answer, "right");
    assert_eq!(srv.notes(), [r#"420["q"]"#]);
    assert_eq!(c.session().sid("/"), Some("nsp-sid"));
    assert_eq!(c.last_error(), None);
    assert_eq!(srv.conns(), 1);
}

/// CONNECT_ERROR answers whose payload is not `{"message": "..."}`.
///
/// - an object without a string `message`: the namespace is refused with
///   the payload's JSON text as the message (socket.io-client would say
///   `undefined`; the text is more useful), and the client goes idle;
/// - an array or a number: a parse error (socket.io-parser: "invalid
///   payload"), the connection is closed and reopened, as socket.io-client
///   does;
/// - a JSON string: the same parse error. The codec's v5 decoder refuses a
///   string CONNECT_ERROR on purpose (`ConnectErrorString`, a documented
///   difference); socket.io-parser takes it and socket.io-client would
///   report `connect_error` and stop.
#[tokio::test(flavor = "current_thread")]
async fn connect_error_with_odd_payloads() {
    for (packet, expected) in [
        (r#"44{"data":1}"#, r#"connect_error / {"data":1}"#),
        (r#"44{"message":42}"#, r#"connect_error / {"message":42}"#),
        // A digit after the type is an ack id: no payload at all.
        ("447", "connect_error / "),
    ] {
        let srv = Hostile::start(move |mut p| async move {
            p.upgrade().await;
            p.text(OPEN).await;
            assert_eq!(p.recv_text().await, "40");
            p.text(packet).await;
            p.drain().await;
        });
        let mut c = client_for(&srv, config());
        assert_eq!(next(&mut c).await, expected, "{packet}");
        // A refused namespace is abandoned: nothing is left to do.
        let idle = tokio::time::timeout(WAIT, c.next_event()).await.unwrap();
        assert!(matches!(idle, Err(Error::Idle)), "{packet}: {idle:?}");
        assert_eq!(srv.conns(), 1, "{packet}");
        wait_note(&srv, "conn0 close frame").await;
    }
    for packet in [r#"44"go away""#, "44[1,2]", "44true"] {
        let srv = first_hostile(move |mut p| async move {
            p.upgrade().await;
            p.text(OPEN).await;
            assert_eq!(p.recv_text().await, "40");
            p.text(packet).await;
            p.drain().await;
        });
        let mut c = client_for(&srv, config());
        let (events, error) = until_rejoined(&mut c, &srv).await;
        assert_eq!(events, ["reconnecting", "connected /"], "{packet}");
        assert_eq!(
            error,
            Some(Error::Protocol(FrameError::SocketIo(
                socketio::Error::InvalidPayload
            ))),
            "{packet}"
        );
    }
}

// ------------------------------------------------ a server that stops --

/// The server stops reading (and sending) after the join while the
/// application keeps emitting: once the TCP buffers are full a write can
/// no longer complete, and the heartbeat (pingInterval 300 + pingTimeout
/// 200) must still end the connection instead of the emit hanging.
#[tokio::test(flavor = "current_thread")]
async fn server_that_stops_reading_is_lost_by_the_heartbeat() {
    let srv = first_hostile(|mut p| async move {
        p.upgrade().await;
        p.text(r#"0{"sid":"s","upgrades":[],"pingInterval":300,"pingTimeout":200}"#)
            .await;
        assert_eq!(p.recv_text().await, "40");
        p.text(r#"40{"sid":"a"}"#).await;
        // Holds the connection, reads nothing.
        tokio::time::sleep(Duration::from_secs(60)).await;
    });
    let mut c = client_for(&srv, config());
    assert_eq!(next(&mut c).await, "connected /");
    let blob = "x".repeat(1000);
    let started = Instant::now();
    let mut sent = 0usize;
    while c.is_connected("/") && started.elapsed() < Duration::from_secs(20) {
        tokio::time::timeout(WAIT, c.emit("blob", &(&blob,)))
            .await
            .expect("emit hung on a server that stopped reading")
            .unwrap();
        sent += 1;
    }
    eprintln!("{sent} emits before the loss, {:?}", started.elapsed());
    let (events, _) = until_rejoined(&mut c, &srv).await;
    assert_eq!(
        events,
        [
            "server_lost",
            "disconnected / ping timeout",
            "reconnecting",
            "connected /"
        ]
    );
}

/// Servers that go silent: no HTTP answer at all, or no Engine.IO `open`
/// after the upgrade. The connect timeout (500 ms here) ends each attempt.
#[tokio::test(flavor = "current_thread")]
async fn silent_servers_hit_the_connect_timeout() {
    for (name, upgrade) in [("no HTTP answer", false), ("no open packet", true)] {
        let srv = first_hostile(move |mut p| async move {
            let _ = p.request().await;
            if upgrade {
                // A correct 101, then nothing.
                let response = format!(
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
                    Peer::accept(&p.last_request)
                );
                p.send(response.as_bytes()).await;
            }
            p.drain().await;
        });
        let started = Instant::now();
        let mut c = client_for(
            &srv,
            Config {
                connect_timeout_ms: Some(500),
                ..fast()
            },
        );
        let (events, error) = until_rejoined(&mut c, &srv).await;
        assert_eq!(events, ["reconnecting", "connected /"], "{name}");
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(500), "{name}: {took:?}");
        if upgrade {
            // The session closed it (no transport error to report).
            assert_eq!(error, None, "{name}");
        } else {
            assert_eq!(error, Some(Error::ConnectTimeout), "{name}");
        }
    }
}

/// WebSocket control frames: a ping is answered with a pong carrying the
/// same payload; a close frame ends the connection (reconnection); a ping
/// longer than 125 bytes (RFC 6455 §5.5) is a protocol error.
#[tokio::test(flavor = "current_thread")]
async fn websocket_control_frames() {
    let srv = Hostile::start(|mut p| async move {
        p.join().await;
        p.send(&frame(0x9, b"are you there")).await;
        let pong = p.recv().await;
        p.note(format!("{pong:?}"));
    });
    let mut c = client_for(&srv, config());
    assert_eq!(next(&mut c).await, "connected /");
    let _ = tokio::time::timeout(WAIT, c.next_event_until(Some(soon(300)))).await;
    wait_note(
        &srv,
        &format!("{:?}", Some((0xAu8, b"are you there".to_vec()))),
    )
    .await;
    drop(c);

    let cases: [(&str, Vec<u8>, Error); 2] = [
        ("close", frame(0x8, &[0x03, 0xE8]), Error::Closed),
        (
            "ping of 126 bytes",
            frame(0x9, &[b'p'; 126]),
            Error::WebSocket,
        ),
    ];
    for (name, control, expected) in cases {
        let control = Arc::new(control);
        let srv = first_hostile(move |mut p| {
            let control = control.clone();
            async move {
                p.join().await;
                p.send(&control).await;
                p.drain().await;
            }
        });
        let mut c = client_for(&srv, config());
        let (events, error) = until_rejoined(&mut c, &srv).await;
        assert_eq!(
            events,
            [
                "connected /",
                "disconnected / transport close",
                "reconnecting",
                "connected /"
            ],
            "{name}"
        );
        assert_eq!(error, Some(expected), "{name}");
    }
}
