//! The client side of Engine.IO v4 / Socket.IO v5 over a direct WebSocket
//! (`transport=websocket`, no polling first), framed with oxio-codec.

use futures_util::{SinkExt as _, StreamExt as _};
use oxio_codec::engineio::{self, Data, Handshake, PacketType as EioType};
use oxio_codec::socketio::{Decoder, Encoder, PacketType as SioType};
use serde::Deserialize;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::WebSocketStream;

/// A server to load: where to connect and the WebSocket URL to ask for.
#[derive(Debug, Clone)]
pub struct Target {
    /// The resolved address.
    pub addr: SocketAddr,
    /// `ws://host:port/socket.io/?EIO=4&transport=websocket`.
    pub ws_url: String,
    /// What the user gave.
    pub given: String,
}

/// Why a client could not connect or lost its connection.
#[derive(Debug)]
pub enum ClientError {
    /// `--url` does not parse or resolve.
    BadUrl(String),
    /// TCP connect failed.
    Tcp(std::io::Error),
    /// The WebSocket upgrade failed.
    Upgrade(String),
    /// The connection closed (or failed) during the handshake or the run.
    Closed(String),
    /// The server sent something the protocol does not allow here.
    Protocol(String),
    /// The server refused the namespace (CONNECT_ERROR).
    Refused(String),
    /// No answer in time.
    Timeout,
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::BadUrl(e) => write!(f, "bad --url: {e}"),
            ClientError::Tcp(e) => write!(f, "TCP connect: {e}"),
            ClientError::Upgrade(e) => write!(f, "WebSocket upgrade: {e}"),
            ClientError::Closed(e) => write!(f, "connection closed: {e}"),
            ClientError::Protocol(e) => write!(f, "protocol: {e}"),
            ClientError::Refused(e) => write!(f, "namespace refused: {e}"),
            ClientError::Timeout => f.write_str("timed out"),
        }
    }
}

impl std::error::Error for ClientError {}

impl Target {
    /// Parses `http://host:port[/path/]` or `ws://...` (path default
    /// `/socket.io/`) and resolves the host once.
    pub async fn parse(url: &str) -> Result<Target, ClientError> {
        let rest = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("ws://"))
            .ok_or_else(|| {
                ClientError::BadUrl(format!(
                    "{url:?}: use http://host:port or ws://host:port (no TLS)"
                ))
            })?;
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        let path = match path.trim_end_matches('/') {
            "" => "/socket.io/".to_owned(),
            p => format!("{p}/"),
        };
        let host_port = if authority.contains(':') {
            authority.to_owned()
        } else {
            format!("{authority}:80")
        };
        let addr = tokio::net::lookup_host(&host_port)
            .await
            .map_err(|e| ClientError::BadUrl(format!("{url:?}: {e}")))?
            .next()
            .ok_or_else(|| ClientError::BadUrl(format!("{url:?}: no address")))?;
        Ok(Target {
            addr,
            ws_url: format!("ws://{authority}{path}?EIO=4&transport=websocket"),
            given: url.to_owned(),
        })
    }
}

/// Microseconds since this process's first call: the timestamps the load
/// puts in its payloads (all clients live in this process, so one clock).
pub fn now_us() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    let epoch = *EPOCH.get_or_init(Instant::now);
    u64::try_from(epoch.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// The one argument of `echo`, `echo-response` and `bcast`: the send time
/// and padding to reach `--payload-bytes`.
#[derive(Debug, Deserialize)]
struct Stamp {
    t: u64,
}

/// What one received frame meant to the load.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming {
    /// Engine.IO ping: answer with a pong.
    Ping,
    /// An event we measure (`echo-response` / `bcast`) and its send time.
    Stamped(Kind, u64),
    /// Anything else the load ignores (other events, noop, pong...).
    Other,
    /// Engine.IO close or Socket.IO disconnect.
    Closed,
}

/// The events with a timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `echo-response`.
    Echo,
    /// `bcast`.
    Bcast,
}

/// Reads one text frame.
pub fn classify(frame: &str) -> Result<Incoming, ClientError> {
    let p = engineio::Packet::decode_text(frame, engineio::Version::V4)
        .map_err(|e| ClientError::Protocol(format!("Engine.IO {e}: {frame:.80}")))?;
    match (p.packet_type, p.data) {
        (EioType::Ping, _) => Ok(Incoming::Ping),
        (EioType::Close, _) => Ok(Incoming::Closed),
        (EioType::Message, Data::Text(text)) => {
            let packet = Decoder::default()
                .decode(text)
                .map_err(|e| ClientError::Protocol(format!("Socket.IO {e}: {text:.80}")))?;
            match packet.packet_type() {
                SioType::Disconnect => Ok(Incoming::Closed),
                SioType::Event => {
                    let kind = match packet.event_name() {
                        Some(n) if n.eq_str("echo-response") => Kind::Echo,
                        Some(n) if n.eq_str("bcast") => Kind::Bcast,
                        _ => return Ok(Incoming::Other),
                    };
                    let (stamp,): (Stamp,) = packet
                        .args()
                        .map_err(|e| ClientError::Protocol(format!("bad stamp {e}: {text:.80}")))?;
                    Ok(Incoming::Stamped(kind, stamp.t))
                }
                _ => Ok(Incoming::Other),
            }
        }
        _ => Ok(Incoming::Other),
    }
}

/// Encodes `42["<event>",{"t":<t>,"p":"<padding>"}]` (the Engine.IO `4`
/// included): one allocation, handed to the WebSocket as is. `padding` must
/// need no JSON escaping (the load uses `x`s).
pub fn stamped_event(event: &str, t: u64, padding: &str) -> String {
    #[derive(serde::Serialize)]
    struct Arg<'a> {
        t: u64,
        p: &'a str,
    }
    let mut buf = vec![0u8; 48 + event.len() + padding.len()];
    let written = buf.split_first_mut().and_then(|(first, rest)| {
        *first = b'4';
        Encoder::default()
            .event(rest, "/", None, event, &(Arg { t, p: padding },))
            .ok()
    });
    // The buffer is sized for the frame, so the encoder cannot run short.
    buf.truncate(written.map_or(0, |w| w.len + 1));
    String::from_utf8(buf).unwrap_or_default()
}

/// Encodes `42["bcast-room","<room>",{"t":<t>,"p":"<padding>"}]`: the room
/// broadcast of the load contract. `room` and `padding` need no escaping.
pub fn stamped_room_event(room: &str, t: u64, padding: &str) -> String {
    #[derive(serde::Serialize)]
    struct Arg<'a> {
        t: u64,
        p: &'a str,
    }
    let mut buf = vec![0u8; 64 + room.len() + padding.len()];
    let written = buf.split_first_mut().and_then(|(first, rest)| {
        *first = b'4';
        Encoder::default()
            .event(
                rest,
                "/",
                None,
                "bcast-room",
                &(room, Arg { t, p: padding }),
            )
            .ok()
    });
    buf.truncate(written.map_or(0, |w| w.len + 1));
    String::from_utf8(buf).unwrap_or_default()
}

/// One connected Socket.IO client (namespace `/` joined).
pub struct Client {
    /// The WebSocket.
    pub ws: WebSocketStream<TcpStream>,
}

/// How to open connections.
#[derive(Debug, Clone, Copy)]
pub struct ConnectOptions {
    /// Bind to 127.0.0.(1 + index % n) when n > 1 (loopback targets only).
    pub source_ips: u8,
}

impl Client {
    /// TCP connect, WebSocket upgrade, Engine.IO open, Socket.IO CONNECT to
    /// `/` and its answer. Pings arriving meanwhile are answered.
    pub async fn connect(
        target: &Target,
        index: usize,
        opts: ConnectOptions,
    ) -> Result<Client, ClientError> {
        let socket = match target.addr {
            SocketAddr::V4(_) => TcpSocket::new_v4(),
            SocketAddr::V6(_) => TcpSocket::new_v6(),
        }
        .map_err(ClientError::Tcp)?;
        if opts.source_ips > 1 && target.addr.ip().is_loopback() && target.addr.is_ipv4() {
            let last = u8::try_from(index % usize::from(opts.source_ips)).unwrap_or(0);
            let ip = Ipv4Addr::new(127, 0, 0, last.saturating_add(1));
            socket
                .bind(SocketAddr::new(IpAddr::V4(ip), 0))
                .map_err(ClientError::Tcp)?;
        }
        let stream = socket
            .connect(target.addr)
            .await
            .map_err(ClientError::Tcp)?;
        stream.set_nodelay(true).map_err(ClientError::Tcp)?;
        // Small reads: 10 000 clients with tungstenite's default 128 KiB
        // read buffer each would need 1.3 GB here.
        let config = WebSocketConfig::default().read_buffer_size(4096);
        let (mut ws, _) = tokio_tungstenite::client_async_with_config(
            target.ws_url.as_str(),
            stream,
            Some(config),
        )
        .await
        .map_err(|e| ClientError::Upgrade(e.to_string()))?;

        // Engine.IO open packet.
        let open = next_text(&mut ws).await?;
        Handshake::decode_open_packet(&open)
            .map_err(|e| ClientError::Protocol(format!("open packet {e}: {open:.80}")))?;
        ws.send(Message::text("40"))
            .await
            .map_err(|e| ClientError::Closed(e.to_string()))?;
        loop {
            let text = next_text(&mut ws).await?;
            if text.as_str() == "2" {
                ws.send(Message::text("3"))
                    .await
                    .map_err(|e| ClientError::Closed(e.to_string()))?;
                continue;
            }
            let Some(sio) = text.strip_prefix('4') else {
                continue;
            };
            let packet = Decoder::default()
                .decode(sio)
                .map_err(|e| ClientError::Protocol(format!("Socket.IO {e}: {sio:.80}")))?;
            if packet.namespace() != "/" {
                continue;
            }
            match packet.packet_type() {
                SioType::Connect => return Ok(Client { ws }),
                SioType::ConnectError => return Err(ClientError::Refused(sio.to_owned())),
                _ => {}
            }
        }
    }

    /// Sends one text frame (and flushes).
    pub async fn send_text(&mut self, text: &str) -> Result<(), ClientError> {
        self.ws
            .send(Message::text(text))
            .await
            .map_err(|e| ClientError::Closed(e.to_string()))
    }

    /// Queues one text frame without flushing.
    pub async fn feed_text(&mut self, text: &str) -> Result<(), ClientError> {
        self.ws
            .feed(Message::text(text))
            .await
            .map_err(|e| ClientError::Closed(e.to_string()))
    }

    /// Flushes queued frames.
    pub async fn flush(&mut self) -> Result<(), ClientError> {
        self.ws
            .flush()
            .await
            .map_err(|e| ClientError::Closed(e.to_string()))
    }

    /// The next text frame (binary and control frames skipped).
    pub async fn next_text(&mut self) -> Result<Utf8Bytes, ClientError> {
        next_text(&mut self.ws).await
    }

    /// Joins `room` (the contract's `join` with ack id 1) and waits for the
    /// ack, answering pings; other frames meanwhile are dropped (the run
    /// has not started).
    pub async fn join(&mut self, room: &str) -> Result<(), ClientError> {
        let text = format!(r#"421["join",{}]"#, json_string(room));
        self.send_text(&text).await?;
        loop {
            let frame = self.next_text().await?;
            match frame.as_str() {
                "2" => self.send_text("3").await?,
                "1" => return Err(ClientError::Closed("server sent 1".to_owned())),
                f => {
                    let Some(sio) = f.strip_prefix('4') else {
                        continue;
                    };
                    if let Ok(p) = Decoder::default().decode(sio) {
                        if p.packet_type() == SioType::Ack && p.ack_id() == Some(1) {
                            return Ok(());
                        }
                    }
                }
            }
        }
    }

    /// Closes the WebSocket politely, waiting at most `wait`.
    pub async fn close(mut self, wait: Duration) {
        let _ = tokio::time::timeout(wait, self.ws.close(None)).await;
    }
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

async fn next_text(ws: &mut WebSocketStream<TcpStream>) -> Result<Utf8Bytes, ClientError> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => return Ok(t),
            Some(Ok(Message::Close(c))) => {
                return Err(ClientError::Closed(c.map_or_else(
                    || "close frame".to_owned(),
                    |c| format!("close {c}"),
                )))
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(ClientError::Closed(e.to_string())),
            None => return Err(ClientError::Closed("end of stream".to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_table() {
        let cases: &[(&str, Incoming)] = &[
            ("2", Incoming::Ping),
            ("1", Incoming::Closed),
            ("41", Incoming::Closed),
            ("6", Incoming::Other),
            (r#"42["welcome","hi"]"#, Incoming::Other),
            (
                r#"42["echo-response",{"p":"xx","t":17}]"#,
                Incoming::Stamped(Kind::Echo, 17),
            ),
            (
                r#"42["bcast",{"t":5,"p":""}]"#,
                Incoming::Stamped(Kind::Bcast, 5),
            ),
        ];
        for (frame, want) in cases {
            assert_eq!(&classify(frame).unwrap(), want, "{frame}");
        }
        assert!(classify("").is_err());
        assert!(classify(r#"42["bcast",{"p":""}]"#).is_err());
    }

    #[test]
    fn stamped_event_bytes() {
        assert_eq!(
            stamped_event("echo", 42, "ab"),
            r#"42["echo",{"t":42,"p":"ab"}]"#
        );
        assert_eq!(
            stamped_room_event("r7", 9, "x"),
            r#"42["bcast-room","r7",{"t":9,"p":"x"}]"#
        );
        assert_eq!(
            stamped_event("bcast", u64::MAX, ""),
            r#"42["bcast",{"t":18446744073709551615,"p":""}]"#
        );
    }
}
