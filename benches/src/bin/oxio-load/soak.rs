//! `oxio-load soak`: a long mixed load against the oxio demo server
//! (`oxio-server`, std-server/demo), sampling the server process from /proc
//! into a CSV, to see whether memory, file descriptors or threads grow.
//!
//! Every client slot loops: connect (WebSocket, or HTTP long-polling for
//! `--polling-share` of the sessions), do random actions at `--rate` per
//! second for a random session length around `--session-secs`, leave
//! (politely, or by dropping the TCP connections so the server's ping
//! timeout has to clean up), and connect again. The actions use only the
//! demo's own events (std-server/demo/src/realtime.rs): `echo` (text, or
//! with a binary attachment), `join-room` / `leave-room` / `room-message`,
//! `chat:message` with an ack (a broadcast to every socket, kept under the
//! demo's rate limit), `get-time` with an ack and `file` (a binary
//! broadcast with an ack).
//!
//! Samples (every `--sample-every` seconds): RSS (`VmRSS`), open file
//! descriptors (entries of /proc/PID/fd), OS threads (`Threads` of
//! /proc/PID/status) and CPU time (/proc/PID/stat). The number of Tokio
//! tasks is not visible from outside the process, so it is not sampled.
//! At the end: the least-squares slope of RSS (and of the descriptors) over
//! the last two thirds of the run.

use crate::proto::{Client, ConnectOptions, Target};
use crate::stats::{cpu_s, rss_kib};
use clap::Args;
use futures_util::SinkExt as _;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;

/// The command line of `oxio-load soak`.
#[derive(Debug, Args)]
pub struct SoakArgs {
    /// The demo server, http://host:port (Socket.IO on /socket.io/).
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:3000")]
    url: String,
    /// Client slots (each one connected most of the time).
    #[arg(short = 'n', long, default_value_t = 100)]
    clients: usize,
    /// Seconds to run.
    #[arg(long, value_name = "SECS", default_value_t = 1800.0)]
    duration: f64,
    /// Seconds between samples.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    sample_every: f64,
    /// Actions per second per client.
    #[arg(long, value_name = "PER_S", default_value_t = 2.0)]
    rate: f64,
    /// Mean session length in seconds before a client leaves and comes back.
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    session_secs: f64,
    /// Share of the sessions on HTTP long-polling (the rest on WebSocket).
    #[arg(long, value_name = "FRACTION", default_value_t = 0.25)]
    polling_share: f64,
    /// The server's process id (same machine), to sample. Without it only
    /// the client-side counters are written.
    #[arg(long, value_name = "PID")]
    server_pid: Option<u32>,
    /// Folder of the CSV (`soak-<label>-<unix time>.csv`).
    #[arg(long, value_name = "DIR", default_value = "benches/results/soak")]
    out_dir: PathBuf,
    /// The server's name in the file name.
    #[arg(long, default_value = "oxio")]
    label: String,
    /// Only the load contract every compared server implements
    /// (benches/peers/README.md: `echo` answered with `echo-response`,
    /// `bcast` re-emitted to every socket), to soak socketioxide and Node's
    /// peers (and oxio-bench-server) with the same shape; connects, leaves,
    /// polling and WebSocket as usual. Without it: the demo's events.
    #[arg(long)]
    peer_contract: bool,
}

/// Client-side counters, shared by every slot.
#[derive(Default)]
struct Counters {
    open: AtomicU64,
    connects: AtomicU64,
    connect_failures: AtomicU64,
    leaves: AtomicU64,
    /// Connections lost without the client leaving.
    dropped: AtomicU64,
    sent: AtomicU64,
    received: AtomicU64,
    /// `error` events from the server (bad arguments, rate limit).
    server_errors: AtomicU64,
}

fn inc(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

fn get(c: &AtomicU64) -> u64 {
    c.load(Ordering::Relaxed)
}

/// A small xorshift generator (no cryptographic use: picks actions).
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Standard base64 with padding, for binary attachments over polling.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sym = |i: u32| char::from(ALPHABET.get((i & 63) as usize).copied().unwrap_or(b'A'));
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (b(0) << 16) | (b(1) << 8) | b(2);
        out.push(sym(n >> 18));
        out.push(sym(n >> 12));
        out.push(if chunk.len() > 1 { sym(n >> 6) } else { '=' });
        out.push(if chunk.len() > 2 { sym(n) } else { '=' });
    }
    out
}

/// The least-squares slope of `points` (y per unit of x); None with fewer
/// than two distinct x.
pub fn slope(points: &[(f64, f64)]) -> Option<f64> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx) * (p.0 - mx)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    (sxx > 0.0).then(|| sxy / sxx)
}

/// What a received Socket.IO packet (Engine.IO `4` stripped) is to the load.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    /// An event (name), an ack or a connect answer: counted as received.
    Event(String),
    Ack,
    Connected,
    /// DISCONNECT or CONNECT_ERROR: the session is over.
    Gone,
    Other,
}

fn classify(sio: &str) -> Seen {
    let mut chars = sio.chars();
    match chars.next() {
        Some('0') => Seen::Connected,
        Some('1' | '4') => Seen::Gone,
        Some('3' | '6') => Seen::Ack,
        Some('2' | '5') => {
            let name = sio
                .find('[')
                .and_then(|i| sio.get(i..))
                .and_then(|rest| {
                    let mut it = rest.get(1..)?.splitn(2, '"');
                    it.next()?;
                    it.next()?.split('"').next().map(str::to_owned)
                })
                .unwrap_or_default();
            Seen::Event(name)
        }
        _ => Seen::Other,
    }
}

/// One HTTP/1.1 connection (keep-alive, reconnecting when the server
/// closed it), for the polling transport and the REST fan-out.
pub(crate) struct Http {
    addr: std::net::SocketAddr,
    host: String,
    conn: Option<BufReader<TcpStream>>,
}

impl Http {
    pub(crate) fn new(target: &Target) -> Http {
        Http {
            addr: target.addr,
            host: target.addr.to_string(),
            conn: None,
        }
    }

    pub(crate) async fn request(
        &mut self,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> Result<Vec<u8>, String> {
        let reused = self.conn.is_some();
        match self.try_request(method, path, body).await {
            Ok(b) => Ok(b),
            // A kept-alive connection the server closed meanwhile: once more.
            Err(_) if reused => {
                self.conn = None;
                self.try_request(method, path, body).await
            }
            Err(e) => Err(e),
        }
    }

    async fn try_request(
        &mut self,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> Result<Vec<u8>, String> {
        let mut conn = match self.conn.take() {
            Some(c) => c,
            None => {
                let s = TcpStream::connect(self.addr)
                    .await
                    .map_err(|e| e.to_string())?;
                s.set_nodelay(true).map_err(|e| e.to_string())?;
                BufReader::new(s)
            }
        };
        let mut head = format!("{method} {path} HTTP/1.1\r\nhost: {}\r\n", self.host);
        if method == "POST" {
            let _ = write!(
                head,
                "content-type: text/plain;charset=UTF-8\r\ncontent-length: {}\r\n",
                body.len()
            );
        }
        head.push_str("\r\n");
        let mut req = head.into_bytes();
        req.extend_from_slice(body);
        conn.get_mut()
            .write_all(&req)
            .await
            .map_err(|e| e.to_string())?;
        let mut line = String::new();
        if conn.read_line(&mut line).await.map_err(|e| e.to_string())? == 0 {
            return Err("closed".to_owned());
        }
        let status = line
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        let mut length = 0usize;
        let mut close = false;
        loop {
            line.clear();
            if conn.read_line(&mut line).await.map_err(|e| e.to_string())? == 0 {
                return Err("closed in the head".to_owned());
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let Some((name, value)) = l.split_once(':') else {
                continue;
            };
            let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
            if name == "content-length" {
                length = value.parse().map_err(|_| format!("bad length {value}"))?;
            } else if name == "connection" && value.eq_ignore_ascii_case("close") {
                close = true;
            } else if name == "transfer-encoding" {
                return Err(format!("transfer-encoding {value} not supported"));
            }
        }
        let mut body = vec![0u8; length];
        conn.read_exact(&mut body)
            .await
            .map_err(|e| e.to_string())?;
        if !close {
            self.conn = Some(conn);
        }
        if status != "200" {
            return Err(format!(
                "HTTP {status}: {}",
                String::from_utf8_lossy(&body)
                    .chars()
                    .take(80)
                    .collect::<String>()
            ));
        }
        Ok(body)
    }
}

/// A connected polling session: a GET loop (its own connection) feeding
/// `rx`, POSTs on another connection.
struct Polling {
    post: Http,
    path: String,
    rx: mpsc::Receiver<Result<String, String>>,
    get_task: tokio::task::JoinHandle<()>,
}

impl Polling {
    async fn connect(target: &Target) -> Result<Polling, String> {
        let base = target
            .ws_url
            .split_once("://")
            .and_then(|(_, rest)| rest.find('/').and_then(|i| rest.get(i..)))
            .and_then(|p| p.split('?').next())
            .unwrap_or("/socket.io/")
            .to_owned();
        let mut get = Http::new(target);
        let open = get
            .request("GET", &format!("{base}?EIO=4&transport=polling"), b"")
            .await?;
        let open = String::from_utf8_lossy(&open).into_owned();
        let json: serde_json::Value = open
            .strip_prefix('0')
            .and_then(|j| serde_json::from_str(j).ok())
            .ok_or_else(|| format!("bad open packet {open:.80}"))?;
        let sid = json
            .get("sid")
            .and_then(|s| s.as_str())
            .ok_or_else(|| format!("no sid in {open:.80}"))?;
        let path = format!("{base}?EIO=4&transport=polling&sid={sid}");
        let mut post = Http::new(target);
        post.request("POST", &path, b"40").await?;
        let (tx, rx) = mpsc::channel(256);
        let get_path = path.clone();
        let get_task = tokio::spawn(async move {
            loop {
                match get.request("GET", &get_path, b"").await {
                    Ok(body) => {
                        let text = String::from_utf8_lossy(&body).into_owned();
                        for packet in text.split('\u{1e}') {
                            if tx.send(Ok(packet.to_owned())).await.is_err() {
                                return;
                            }
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                }
            }
        });
        Ok(Polling {
            post,
            path,
            rx,
            get_task,
        })
    }

    /// POSTs Engine.IO packets (text, or `b<base64>`) in one payload.
    async fn send(&mut self, packets: &[String]) -> Result<(), String> {
        let body = packets.join("\u{1e}");
        let path = self.path.clone();
        self.post.request("POST", &path, body.as_bytes()).await?;
        Ok(())
    }
}

impl Drop for Polling {
    fn drop(&mut self) {
        self.get_task.abort();
    }
}

/// A session on either transport.
enum Session {
    Ws(Box<Client>),
    Poll(Box<Polling>),
}

impl Session {
    /// Sends one Socket.IO packet (`sio`, without the Engine.IO `4`) and
    /// its binary attachments.
    async fn send(&mut self, sio: &str, attachments: &[Vec<u8>]) -> Result<(), String> {
        match self {
            Session::Ws(c) => {
                c.ws.feed(Message::text(format!("4{sio}")))
                    .await
                    .map_err(|e| e.to_string())?;
                for a in attachments {
                    c.ws.feed(Message::binary(a.clone()))
                        .await
                        .map_err(|e| e.to_string())?;
                }
                c.ws.flush().await.map_err(|e| e.to_string())
            }
            Session::Poll(p) => {
                let mut packets = vec![format!("4{sio}")];
                packets.extend(attachments.iter().map(|a| format!("b{}", base64(a))));
                p.send(&packets).await
            }
        }
    }

    /// The next Engine.IO text packet (binary frames skipped).
    async fn next(&mut self) -> Result<String, String> {
        match self {
            Session::Ws(c) => c
                .next_text()
                .await
                .map(|t| t.as_str().to_owned())
                .map_err(|e| e.to_string()),
            Session::Poll(p) => match p.rx.recv().await {
                Some(r) => r,
                None => Err("polling stopped".to_owned()),
            },
        }
    }

    async fn pong(&mut self) -> Result<(), String> {
        match self {
            Session::Ws(c) => c.send_text("3").await.map_err(|e| e.to_string()),
            Session::Poll(p) => p.send(&["3".to_owned()]).await,
        }
    }

    /// Leaves: Socket.IO DISCONNECT, then the transport closes.
    async fn leave(self) {
        match self {
            Session::Ws(mut c) => {
                let _ = c.send_text("41").await;
                c.close(Duration::from_secs(1)).await;
            }
            Session::Poll(mut p) => {
                let _ = p.send(&["41".to_owned(), "1".to_owned()]).await;
            }
        }
    }
}

const ROOMS: u64 = 8;

/// One client slot: sessions one after another until `stop`.
async fn slot(
    index: usize,
    target: Target,
    args: Arc<SoakArgs>,
    counters: Arc<Counters>,
    mut stop: watch::Receiver<bool>,
) {
    let mut rng = Rng::new(index as u64 + 1);
    let period = Duration::from_secs_f64(1.0 / args.rate.max(0.01));
    // Spread the first connects over a second.
    tokio::time::sleep(Duration::from_millis(rng.below(1000))).await;
    while !*stop.borrow() {
        let polling = rng.unit() < args.polling_share;
        let connected = if polling {
            Polling::connect(&target)
                .await
                .map(|p| Session::Poll(Box::new(p)))
        } else {
            Client::connect(&target, index, ConnectOptions { source_ips: 1 })
                .await
                .map(|c| Session::Ws(Box::new(c)))
                .map_err(|e| e.to_string())
        };
        let mut session = match connected {
            Ok(s) => s,
            Err(e) => {
                inc(&counters.connect_failures);
                eprintln!("soak: connect: {e}");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        inc(&counters.connects);
        counters.open.fetch_add(1, Ordering::Relaxed);
        let length = args.session_secs * (0.5 + rng.unit());
        let end = tokio::time::sleep(Duration::from_secs_f64(length.max(0.1)));
        tokio::pin!(end);
        let mut ticker = tokio::time::interval_at(
            tokio::time::Instant::now() + period.mul_f64(rng.unit()),
            period,
        );
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut rooms: Vec<u64> = Vec::new();
        let mut ack_id = 0u64;
        let mut chats: std::collections::VecDeque<Instant> = std::collections::VecDeque::new();
        let outcome: Result<bool, String> = loop {
            tokio::select! {
                _ = stop.changed() => break Ok(true),
                () = &mut end => break Ok(true),
                packet = session.next() => {
                    let packet = match packet {
                        Ok(p) => p,
                        Err(e) => break Err(e),
                    };
                    if packet == "2" {
                        if let Err(e) = session.pong().await {
                            break Err(e);
                        }
                    } else if packet == "1" {
                        break Err("server closed the session".to_owned());
                    } else if let Some(sio) = packet.strip_prefix('4') {
                        match classify(sio) {
                            Seen::Event(name) => {
                                inc(&counters.received);
                                if name == "error" {
                                    inc(&counters.server_errors);
                                }
                            }
                            Seen::Ack => inc(&counters.received),
                            Seen::Gone => break Err(format!("server sent {sio:.60}")),
                            Seen::Connected | Seen::Other => {}
                        }
                    }
                }
                _ = ticker.tick() => {
                    ack_id += 1;
                    let (sio, attachments) = if args.peer_contract {
                        peer_action(&mut rng, ack_id)
                    } else {
                        action(&mut rng, &mut rooms, &mut chats, ack_id)
                    };
                    if let Err(e) = session.send(&sio, &attachments).await {
                        break Err(e);
                    }
                    inc(&counters.sent);
                }
            }
        };
        counters.open.fetch_sub(1, Ordering::Relaxed);
        match outcome {
            Ok(_) => {
                inc(&counters.leaves);
                // A third of the leaves drop the connections instead: the
                // server notices through its ping timeout.
                if rng.below(3) > 0 {
                    session.leave().await;
                }
            }
            Err(e) => {
                inc(&counters.dropped);
                eprintln!("soak: session lost: {e}");
            }
        }
        tokio::time::sleep(Duration::from_millis(rng.below(500))).await;
    }
}

/// Picks one action: the Socket.IO packet (no Engine.IO `4`) and its
/// attachments. The events are the demo's (std-server/demo/src/realtime.rs).
fn action(
    rng: &mut Rng,
    rooms: &mut Vec<u64>,
    chats: &mut std::collections::VecDeque<Instant>,
    ack: u64,
) -> (String, Vec<Vec<u8>>) {
    let roll = rng.below(100);
    let bytes =
        |rng: &mut Rng, n: u64| -> Vec<u8> { (0..n).map(|_| (rng.next() & 0xff) as u8).collect() };
    // chat:message: at most 10 in 10 s per socket (the demo allows 20).
    let now = Instant::now();
    while chats
        .front()
        .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(10))
    {
        chats.pop_front();
    }
    match roll {
        0..=29 => {
            let pad = "x".repeat(rng.below(200) as usize);
            (
                format!(r#"2["echo",{{"n":{ack},"p":"{pad}"}}]"#),
                Vec::new(),
            )
        }
        30..=44 => {
            let n = 16 + rng.below(2048);
            (
                r#"51-["echo","bin",{"_placeholder":true,"num":0}]"#.to_owned(),
                vec![bytes(rng, n)],
            )
        }
        45..=54 => {
            let room = rng.below(ROOMS);
            if !rooms.contains(&room) {
                rooms.push(room);
            }
            (format!(r#"2["join-room","soak-{room}"]"#), Vec::new())
        }
        55..=61 if !rooms.is_empty() => {
            let room = rooms.swap_remove(rng.below(rooms.len() as u64) as usize);
            (format!(r#"2["leave-room","soak-{room}"]"#), Vec::new())
        }
        62..=76 if !rooms.is_empty() => {
            let room = rooms
                .get(rng.below(rooms.len() as u64) as usize)
                .copied()
                .unwrap_or(0);
            (
                format!(r#"2["room-message",{{"room":"soak-{room}","message":{{"n":{ack}}}}}]"#),
                Vec::new(),
            )
        }
        77..=81 if chats.len() < 10 => {
            chats.push_back(now);
            (
                format!(r#"2{ack}["chat:message","soak {ack}"]"#),
                Vec::new(),
            )
        }
        82..=83 => {
            let n = 16 + rng.below(512);
            (
                format!(r#"51-{ack}["file","soak.bin",{{"_placeholder":true,"num":0}}]"#),
                vec![bytes(rng, n)],
            )
        }
        _ => (format!(r#"2{ack}["get-time"]"#), Vec::new()),
    }
}

/// One action of `--peer-contract`: `echo` (97 %, text of 0–200 bytes) or
/// `bcast` (3 %, a broadcast to every socket).
fn peer_action(rng: &mut Rng, n: u64) -> (String, Vec<Vec<u8>>) {
    if rng.below(100) < 3 {
        (format!(r#"2["bcast",{{"n":{n}}}]"#), Vec::new())
    } else {
        let pad = "x".repeat(rng.below(200) as usize);
        (format!(r#"2["echo",{{"n":{n},"p":"{pad}"}}]"#), Vec::new())
    }
}

/// One row of the CSV.
#[derive(Debug, Clone, Copy)]
struct Sample {
    t_s: f64,
    rss_kib: Option<u64>,
    fds: Option<u64>,
    threads: Option<u64>,
    cpu_s: Option<f64>,
}

fn sample(pid: Option<u32>, t_s: f64) -> Sample {
    let fds = pid.and_then(|p| {
        std::fs::read_dir(format!("/proc/{p}/fd"))
            .ok()
            .map(|d| d.count() as u64)
    });
    let threads = pid.and_then(|p| {
        std::fs::read_to_string(format!("/proc/{p}/status"))
            .ok()?
            .lines()
            .find_map(|l| l.strip_prefix("Threads:"))
            .and_then(|v| v.trim().parse().ok())
    });
    Sample {
        t_s,
        rss_kib: pid.and_then(rss_kib),
        fds,
        threads,
        cpu_s: pid.and_then(cpu_s),
    }
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// Runs the soak; prints the CSV path and the slopes.
pub async fn soak(args: SoakArgs) -> Result<(), String> {
    let target = Target::parse(&args.url).await.map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&args.out_dir)
        .map_err(|e| format!("{}: {e}", args.out_dir.display()))?;
    let unix = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let path = args.out_dir.join(format!("soak-{}-{unix}.csv", args.label));
    let mut csv = std::fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let header = "t_s,phase,rss_kib,fds,threads,cpu_s,cpu_pct,sessions_open,connects,connect_failures,leaves,dropped,sent,received,server_errors";
    writeln!(csv, "{header}").map_err(|e| e.to_string())?;
    println!(
        "soak: {} clients against {} for {} s, sampling every {} s into {}",
        args.clients,
        args.url,
        args.duration,
        args.sample_every,
        path.display()
    );
    println!("soak: Tokio's task count is not visible from outside the server process: not sampled (OS threads are)");
    println!("{header}");

    let args = Arc::new(args);
    let counters = Arc::new(Counters::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    let started = Instant::now();
    let mut samples: Vec<Sample> = Vec::new();
    let mut last_cpu: Option<(f64, f64)> = None;
    let mut write_row = |phase: &str, counters: &Counters, samples: &mut Vec<Sample>| {
        let s = sample(args.server_pid, started.elapsed().as_secs_f64());
        let cpu_pct = match (s.cpu_s, last_cpu) {
            (Some(c), Some((t0, c0))) if s.t_s > t0 => Some((c - c0) / (s.t_s - t0) * 100.0),
            _ => None,
        };
        if let Some(c) = s.cpu_s {
            last_cpu = Some((s.t_s, c));
        }
        let row = format!(
            "{:.1},{phase},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            s.t_s,
            opt(s.rss_kib),
            opt(s.fds),
            opt(s.threads),
            opt(s.cpu_s.map(|c| format!("{c:.2}"))),
            opt(cpu_pct.map(|c| format!("{c:.1}"))),
            get(&counters.open),
            get(&counters.connects),
            get(&counters.connect_failures),
            get(&counters.leaves),
            get(&counters.dropped),
            get(&counters.sent),
            get(&counters.received),
            get(&counters.server_errors),
        );
        println!("{row}");
        if let Err(e) = writeln!(csv, "{row}").and_then(|()| csv.flush()) {
            eprintln!("soak: cannot write {}: {e}", path.display());
        }
        if phase == "load" {
            samples.push(s);
        }
    };
    write_row("before", &counters, &mut samples);

    let mut slots = tokio::task::JoinSet::new();
    for i in 0..args.clients {
        slots.spawn(slot(
            i,
            target.clone(),
            args.clone(),
            counters.clone(),
            stop_rx.clone(),
        ));
    }
    let every = Duration::from_secs_f64(args.sample_every.max(0.5));
    let end = started + Duration::from_secs_f64(args.duration.max(0.0));
    let mut next = started + every;
    while next <= end {
        tokio::time::sleep_until(next.into()).await;
        write_row("load", &counters, &mut samples);
        next += every;
    }
    tokio::time::sleep_until(end.into()).await;
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        while slots.join_next().await.is_some() {}
    })
    .await;
    slots.abort_all();
    // Once the sessions are gone (the dropped ones after the server's ping
    // timeout, 45 s by default, so not all of them): what is left.
    tokio::time::sleep(Duration::from_secs(5)).await;
    write_row("after", &counters, &mut samples);

    // The slopes over the last two thirds of the load samples.
    let from = samples.first().map_or(0.0, |s| s.t_s)
        + (samples.last().map_or(0.0, |s| s.t_s) - samples.first().map_or(0.0, |s| s.t_s)) / 3.0;
    let tail: Vec<&Sample> = samples.iter().filter(|s| s.t_s >= from).collect();
    let points = |f: &dyn Fn(&Sample) -> Option<f64>| -> Vec<(f64, f64)> {
        tail.iter().filter_map(|s| Some((s.t_s, f(s)?))).collect()
    };
    let rss = slope(&points(&|s| s.rss_kib.map(|v| v as f64)));
    let fds = slope(&points(&|s| s.fds.map(|v| v as f64)));
    let threads: Vec<u64> = samples.iter().filter_map(|s| s.threads).collect();
    println!("soak: wrote {}", path.display());
    println!(
        "soak: {} connects ({} failed), {} leaves, {} sessions lost, {} sent, {} received, {} error events",
        get(&counters.connects),
        get(&counters.connect_failures),
        get(&counters.leaves),
        get(&counters.dropped),
        get(&counters.sent),
        get(&counters.received),
        get(&counters.server_errors)
    );
    match rss {
        Some(s) => println!(
            "soak: RSS slope over the last 2/3 ({} samples from t = {from:.0} s): {:.3} KiB/s = {:.1} MiB/hour",
            tail.len(),
            s,
            s * 3600.0 / 1024.0
        ),
        None => println!("soak: RSS slope: not enough samples (or no --server-pid)"),
    }
    if let Some(s) = fds {
        println!(
            "soak: descriptor slope over the last 2/3: {:.4} per s = {:.1} per hour",
            s,
            s * 3600.0
        );
    }
    if let (Some(lo), Some(hi)) = (threads.iter().min(), threads.iter().max()) {
        println!("soak: OS threads {lo}..{hi}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slope_of_a_line() {
        let pts: Vec<(f64, f64)> = (0..10).map(|x| (x as f64, 3.0 * x as f64 + 7.0)).collect();
        assert!((slope(&pts).unwrap() - 3.0).abs() < 1e-9);
        assert_eq!(slope(&[(1.0, 2.0)]), None);
        assert_eq!(slope(&[(1.0, 2.0), (1.0, 5.0)]), None);
    }

    #[test]
    fn base64_vectors() {
        for (raw, enc) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(raw.as_bytes()), enc);
        }
        assert_eq!(base64(&[0xff, 0xfe, 0xfd]), "//79");
    }

    #[test]
    fn classify_packets() {
        assert_eq!(
            classify(r#"2["echo-response",1]"#),
            Seen::Event("echo-response".into())
        );
        assert_eq!(
            classify(r#"51-["file","a",{"_placeholder":true,"num":0}]"#),
            Seen::Event("file".into())
        );
        assert_eq!(classify(r#"312["x"]"#), Seen::Ack);
        assert_eq!(classify(r#"0{"sid":"a"}"#), Seen::Connected);
        assert_eq!(classify("1"), Seen::Gone);
        assert_eq!(classify(r#"4{"message":"x"}"#), Seen::Gone);
    }

    #[test]
    fn peer_actions_stay_in_the_load_contract() {
        let mut rng = Rng::new(7);
        let mut names = std::collections::BTreeSet::new();
        for n in 1..2000 {
            let (sio, att) = peer_action(&mut rng, n);
            match classify(&sio) {
                Seen::Event(name) => names.insert(name),
                other => panic!("{sio}: {other:?}"),
            };
            assert!(att.is_empty() && !sio.contains(&format!("2{n}[")), "{sio}");
        }
        assert_eq!(names.into_iter().collect::<Vec<_>>(), ["bcast", "echo"]);
    }

    #[test]
    fn actions_stay_in_the_demo_contract() {
        let mut rng = Rng::new(7);
        let mut rooms = Vec::new();
        let mut chats = std::collections::VecDeque::new();
        for ack in 1..2000 {
            let (sio, att) = action(&mut rng, &mut rooms, &mut chats, ack);
            let name = match classify(&sio) {
                Seen::Event(n) => n,
                other => panic!("{sio}: {other:?}"),
            };
            assert!(
                [
                    "echo",
                    "join-room",
                    "leave-room",
                    "room-message",
                    "chat:message",
                    "get-time",
                    "file"
                ]
                .contains(&name.as_str()),
                "{sio}"
            );
            assert_eq!(att.len(), usize::from(sio.starts_with('5')), "{sio}");
            assert!(chats.len() <= 10);
        }
    }
}
