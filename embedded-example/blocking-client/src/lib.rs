//! A blocking Socket.IO client: [`oxio_codec::client::Session`] driven by
//! nothing but a [`std::net::TcpStream`] with read timeouts, a WebSocket
//! from `tungstenite` (no async runtime) and [`std::time::Instant`].
//!
//! The third driver of the codec's sans-IO session, after the Embassy
//! client (`oxio-client`) and the fuzz target: the session decides
//! everything (handshake, heartbeat, namespaces and auth, acks, reconnection
//! with backoff, the offline buffer); this file only moves bytes and time.
//! See README.md for the session's inputs and outputs, step by step.
//!
//! ```no_run
//! use oxio_blocking_client::Client;
//! use oxio_codec::client::{Config, EmitOptions, Event, Incoming};
//! use std::time::Duration;
//!
//! #[derive(serde::Serialize)]
//! struct Auth<'a> {
//!     device: &'a str,
//! }
//!
//! let mut client = Client::new("127.0.0.1:3000", Config::default());
//! client.session().connect("/", Some(&Auth { device: "kitchen" }))?;
//! let now = client.now();
//! client.session().emit("/", "get-time", &(), EmitOptions::with_ack(5_000), now)?;
//! loop {
//!     client.step(Duration::from_millis(100), |packet| {
//!         if let Incoming::Event { packet, .. } = packet {
//!             println!("{:?}", packet.payload());
//!         }
//!     });
//!     while let Some(event) = client.session().poll_event() {
//!         if let Event::Connected { namespace, sid, recovered } = event {
//!             println!("joined {namespace} as {sid} (session recovered: {recovered})");
//!         }
//!     }
//! }
//! # Ok::<(), oxio_codec::client::Error>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use oxio_codec::client::{
    Action, Config, ConnectTarget, Frame, FrameKind, Incoming, Random, Session,
};
use std::io::ErrorKind;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tungstenite::{Message, WebSocket};

/// How long opening a connection (TCP and the WebSocket handshake) may block.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long one frame may take to write before the connection is dropped.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// The reconnection jitter source: xorshift32 seeded from the clock (the
/// values only spread clients apart; they need not be cryptographic).
#[derive(Debug, Clone, Copy)]
pub struct Jitter(u32);

impl Jitter {
    /// A source seeded from the system clock.
    pub fn from_clock() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0x9e37_79b9, |d| d.subsec_nanos());
        Jitter(nanos | 1)
    }
}

impl Random for Jitter {
    fn next_u32(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0
    }
}

/// One Socket.IO client over one blocking WebSocket at a time.
///
/// The application talks to the [`Session`] itself ([`Client::session`]:
/// `connect`, `emit`, `ack`, `poll_event`); [`Client::step`] does the IO.
pub struct Client {
    /// `host:port` of the server.
    server: String,
    session: Session<Jitter>,
    ws: Option<WebSocket<TcpStream>>,
    /// Zero of the session's clock.
    epoch: std::time::Instant,
    /// Where `poll_transmit` writes; `Config::max_frame_len` long.
    out: Vec<u8>,
}

impl Client {
    /// A client of the server at `server` (`host:port`); nothing happens
    /// until the session is asked to connect a namespace and [`Client::step`] runs.
    pub fn new(server: &str, config: Config) -> Self {
        Client {
            server: server.to_owned(),
            out: vec![0; config.max_frame_len],
            session: Session::new(config, Jitter::from_clock()),
            ws: None,
            epoch: std::time::Instant::now(),
        }
    }

    /// The sans-IO session: application calls in, events out.
    pub fn session(&mut self) -> &mut Session<Jitter> {
        &mut self.session
    }

    /// The session's clock: milliseconds since this client was made.
    pub fn now(&self) -> oxio_codec::Instant {
        let ms = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        oxio_codec::Instant::from_millis(ms)
    }

    /// Whether a WebSocket is open right now.
    pub fn has_transport(&self) -> bool {
        self.ws.is_some()
    }

    /// One turn of the loop: do what the session asks (open or close the
    /// WebSocket, send its frames), then block for at most `max_wait` (less
    /// when a session timer is due sooner) for one frame from the server,
    /// hand it to the session, fire due timers and send what that produced.
    ///
    /// Packets carrying data go to `on_packet`, borrowed from the session:
    /// copy out what you need (an [`AckRequest`](oxio_codec::client::AckRequest)
    /// is `Copy`) and answer after the call. Connection events wait in the
    /// session for [`Session::poll_event`]; drain them after every step.
    pub fn step(&mut self, max_wait: Duration, on_packet: impl FnOnce(Incoming<'_>)) {
        self.pump();
        let wait = match self.session.poll_timeout() {
            Some(at) => Duration::from_millis(at.saturating_since(self.now())).min(max_wait),
            None => max_wait,
        };
        // A zero read timeout means "block forever" to the OS: wait at least 1 ms.
        let wait = wait.max(Duration::from_millis(1));
        match self.ws.as_mut() {
            None => std::thread::sleep(wait),
            Some(ws) => {
                let read = match ws.get_mut().set_read_timeout(Some(wait)) {
                    Ok(()) => ws.read(),
                    Err(e) => Err(tungstenite::Error::Io(e)),
                };
                let now = self.now();
                match read {
                    Ok(Message::Text(text)) => {
                        // A bad frame is the session's business (it closes and reconnects).
                        if let Ok(Some(packet)) =
                            self.session.handle_frame(Frame::Text(text.as_str()), now)
                        {
                            on_packet(packet);
                        }
                    }
                    Ok(Message::Binary(bytes)) => {
                        if let Ok(Some(packet)) =
                            self.session.handle_frame(Frame::Binary(&bytes), now)
                        {
                            on_packet(packet);
                        }
                    }
                    // Pings are answered by tungstenite on the next read or write;
                    // a Close frame is followed by an error on the next read.
                    Ok(_) => {}
                    Err(tungstenite::Error::Io(e))
                        if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                    Err(_) => self.lost(),
                }
            }
        }
        self.session.handle_timeout(self.now());
        self.pump();
    }

    /// Runs [`Client::step`] until `done` (called after every step with the
    /// session, to drain its events) says so, or `timeout` passes; returns
    /// whether `done` did. Packets go to `on_packet`.
    pub fn run_until(
        &mut self,
        timeout: Duration,
        mut on_packet: impl FnMut(Incoming<'_>),
        mut done: impl FnMut(&mut Session<Jitter>) -> bool,
    ) -> bool {
        let end = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < end {
            self.step(Duration::from_millis(50), &mut on_packet);
            if done(&mut self.session) {
                return true;
            }
        }
        false
    }

    /// Does every action the session asks for and sends every frame it has.
    fn pump(&mut self) {
        loop {
            while let Some(action) = self.session.poll_action(self.now()) {
                match action {
                    Action::Connect(target) => match self.open(&target) {
                        Ok(ws) => {
                            self.ws = Some(ws);
                            self.session.transport_opened(self.now());
                        }
                        Err(_) => self.session.transport_closed(self.now()),
                    },
                    Action::Close => {
                        if let Some(mut ws) = self.ws.take() {
                            let _ = ws.close(None);
                            let _ = ws.flush();
                        }
                        self.session.transport_closed(self.now());
                    }
                }
            }
            if self.flush() {
                return;
            }
            // A write failed: the session was told; it may want a new transport.
        }
    }

    /// Sends the session's frames; false when the transport failed.
    fn flush(&mut self) -> bool {
        let now = self.now();
        let Some(ws) = self.ws.as_mut() else {
            return true;
        };
        while let Some(t) = self.session.poll_transmit(&mut self.out, now) {
            let bytes = self.out.get(..t.len).unwrap_or_default();
            let message = match (t.kind, std::str::from_utf8(bytes)) {
                (FrameKind::Text, Ok(text)) => Message::text(text),
                _ => Message::binary(bytes.to_vec()),
            };
            if ws.send(message).is_err() {
                self.lost();
                return false;
            }
        }
        true
    }

    /// The transport failed under us.
    fn lost(&mut self) {
        self.ws = None;
        self.session.transport_closed(self.now());
    }

    /// TCP, then the WebSocket handshake to the session's target, blocking
    /// at most [`CONNECT_TIMEOUT`] for each.
    fn open(&self, target: &ConnectTarget) -> Result<WebSocket<TcpStream>, std::io::Error> {
        let addrs: Vec<SocketAddr> = self.server.to_socket_addrs()?.collect();
        let mut last = std::io::Error::new(ErrorKind::NotFound, "no address");
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
                Ok(tcp) => {
                    tcp.set_nodelay(true)?;
                    tcp.set_read_timeout(Some(CONNECT_TIMEOUT))?;
                    tcp.set_write_timeout(Some(WRITE_TIMEOUT))?;
                    let url = format!("ws://{}{}", self.server, target);
                    return tungstenite::client::client(url.as_str(), tcp)
                        .map(|(ws, _response)| ws)
                        .map_err(|e| std::io::Error::other(e.to_string()));
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }
}
