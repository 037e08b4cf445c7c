//! The WebSocket transport: the upgrade request checks (all made before the
//! 101), the 101 itself, and the task that runs one socket (docs/protocol.md
//! §1.6, §1.8).

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use base64::Engine as _;
use bytes::BytesMut;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Response, StatusCode};
use hyper_util::rt::TokioIo;
use oxio_codec::engineio::Version;
use sha1::{Digest, Sha1};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

use super::http_error::upgrade_refusal;
use super::packets::{as_codec, decode_binary_frame, decode_text_frame, push_text};
use super::ws_deflate::Agreed;
use super::ws_proto::{code, op, Fail, Incoming, Receiver, Sender};
use crate::session::SessionShared;
use crate::session_state::{Active, Channel, InPacket, OutPacket, Verdict};
use crate::wake::WakeFlag;
use crate::Message;
use bytes::Bytes;

/// Whether a request asks for a protocol upgrade (`Connection: upgrade` and
/// an `Upgrade` header), as Node's HTTP server decides its `upgrade` event.
pub(crate) fn is_upgrade_request(headers: &HeaderMap) -> bool {
    let connection_upgrade = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|token| token.trim().eq_ignore_ascii_case("upgrade"));
    connection_upgrade && headers.contains_key(header::UPGRADE)
}

/// Why a WebSocket upgrade request is malformed (the `ws` package's checks
/// and messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BadUpgrade {
    /// Not a GET (405).
    Method,
    /// `Upgrade` is not `websocket`.
    UpgradeHeader,
    /// `Sec-WebSocket-Key` missing or not 16 bytes of base64.
    Key,
    /// `Sec-WebSocket-Version` missing or not 13.
    Version,
}

impl BadUpgrade {
    /// The refusal, as `ws` writes it.
    pub(crate) fn to_response(self) -> Response<Bytes> {
        let message = match self {
            BadUpgrade::Method => "Invalid HTTP method",
            BadUpgrade::UpgradeHeader => "Invalid Upgrade header",
            BadUpgrade::Key => "Missing or invalid Sec-WebSocket-Key header",
            BadUpgrade::Version => "Missing or invalid Sec-WebSocket-Version header",
        };
        let mut res = upgrade_refusal(message.into());
        match self {
            BadUpgrade::Method => *res.status_mut() = StatusCode::METHOD_NOT_ALLOWED,
            BadUpgrade::Version => {
                res.headers_mut().insert(
                    header::SEC_WEBSOCKET_VERSION,
                    HeaderValue::from_static("13"),
                );
            }
            BadUpgrade::UpgradeHeader | BadUpgrade::Key => {}
        }
        res
    }
}

/// Checks a WebSocket upgrade request as the `ws` package does and returns
/// the `Sec-WebSocket-Accept` value.
pub(crate) fn validate(method: &Method, headers: &HeaderMap) -> Result<HeaderValue, BadUpgrade> {
    if method != Method::GET {
        return Err(BadUpgrade::Method);
    }
    let upgrade_ok = headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("websocket"));
    if !upgrade_ok {
        return Err(BadUpgrade::UpgradeHeader);
    }
    let key = headers
        .get(header::SEC_WEBSOCKET_KEY)
        .map(HeaderValue::as_bytes)
        .filter(|k| is_valid_key(k))
        .ok_or(BadUpgrade::Key)?;
    let version_ok = headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .is_some_and(|v| v.as_bytes() == b"13");
    if !version_ok {
        return Err(BadUpgrade::Version);
    }
    HeaderValue::from_str(&accept_key(key)).map_err(|_| BadUpgrade::Key)
}

/// `Sec-WebSocket-Accept` for a key (RFC 6455 §4.2.2).
fn accept_key(key: &[u8]) -> String {
    let mut h = Sha1::new();
    h.update(key);
    h.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    base64::engine::general_purpose::STANDARD.encode(h.finalize())
}

/// `ws`'s key rule: 22 base64 characters then `==` (16 bytes encoded).
fn is_valid_key(key: &[u8]) -> bool {
    match key.split_at_checked(22) {
        Some((head, tail)) => {
            tail == b"=="
                && head
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
        }
        None => false,
    }
}

/// The 101 answer, with the agreed extension, if any.
pub(crate) fn switching_protocols(
    accept: HeaderValue,
    extensions: Option<HeaderValue>,
) -> Response<Bytes> {
    let mut res = Response::new(Bytes::new());
    *res.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = res.headers_mut();
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    h.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    if let Some(e) = extensions {
        h.insert(header::SEC_WEBSOCKET_EXTENSIONS, e);
    }
    res
}

/// How long a v3 WebSocket-only session waits, once hyper has flushed the
/// 101, before it writes its first frame (the open packet).
///
/// The engine.io-protocol v3 suite awaits the client's `open` event and only
/// then listens for the open packet; when the packet reaches the `ws` client
/// in the same read as the 101, `ws` emits it before that listener exists
/// and the test hangs (docs/protocol.md, Appendix). The 101 and the frame are
/// already two writes, but 20-50 µs apart, and a just-started client reads
/// them together every time. Node writes them ~100 µs apart and loses the
/// race now and then. A real v3 client (engine.io-client 3.x) sets its
/// listeners before the socket opens, so this only costs a v3 WebSocket-only
/// handshake a few milliseconds; v4 suites buffer events, and v4 sessions
/// do not wait.
pub(crate) const V3_OPEN_PACKET_DELAY: Duration = Duration::from_millis(5);

/// How much each socket's reader reserves per read (more when a frame
/// announces more). Reads fill uninitialised capacity: nothing is zeroed.
/// 10 000 idle sockets hold 10 000 of these at most.
pub(crate) const READ_BUFFER_BYTES: usize = 4096;

/// A write buffer grown past this (a large message) is freed once written,
/// so an idle socket does not keep it.
const KEPT_WRITE_BUFFER_BYTES: usize = 64 * 1024;

/// After the server's close frame: how long the socket waits for the
/// client's close and end of stream before dropping the connection (unread
/// data at drop would reset the connection, and the client could lose the
/// close frame).
const CLOSE_LINGER: Duration = Duration::from_secs(2);

/// What bounds one socket, and its agreed extension.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Largest message (`maxPayload`), after inflation.
    pub(crate) max_payload: usize,
    /// Longest write (a client that stops reading).
    pub(crate) write_timeout: Duration,
    /// The agreed permessage-deflate, if any.
    pub(crate) deflate: Option<Agreed>,
}

/// Spawns the task of one WebSocket once hyper has switched protocols:
/// wraps the connection, calls `on_ready` (a new session registers itself
/// there, so no request can find it before its socket exists), waits
/// `first_write_delay` (see [`V3_OPEN_PACKET_DELAY`]; zero otherwise), then
/// runs the socket ([`run`]) for `session`, as its transport or, with
/// `probing`, as the probe of an upgrade.
pub(crate) fn spawn(
    on_upgrade: hyper::upgrade::OnUpgrade,
    session: Arc<SessionShared>,
    probing: bool,
    limits: Limits,
    first_write_delay: Duration,
    on_ready: impl FnOnce() + Send + 'static,
) {
    tokio::spawn(async move {
        let upgraded = match on_upgrade.await {
            Ok(u) => u,
            Err(e) => {
                tracing::debug!(error = %e, "WebSocket upgrade failed");
                return;
            }
        };
        on_ready();
        if !first_write_delay.is_zero() {
            tokio::time::sleep(first_write_delay).await;
        }
        run(session, TokioIo::new(upgraded), probing, limits).await;
    });
}

/// Appends the frame of one outgoing packet to `out` (a packet the codec
/// cannot write is logged and dropped). Text is encoded straight into the
/// write buffer, after its header, unless it is compressed.
fn push_packet(tx: &mut Sender, out: &mut Vec<u8>, p: &OutPacket, version: Version, b64: bool) {
    let written = match (p, version) {
        (OutPacket::Message(Message::Binary(b)), Version::V4) => {
            tx.push_message(out, false, b.len(), |o| {
                o.extend_from_slice(b);
                Ok(())
            })
        }
        (OutPacket::Message(Message::Binary(b)), Version::V3) if !b64 => {
            tx.push_message(out, false, b.len().saturating_add(1), |o| {
                o.push(4u8);
                o.extend_from_slice(b);
                Ok(())
            })
        }
        _ => {
            let packet = as_codec(p);
            let len = packet.encoded_text_len(version);
            tx.push_message(out, true, len, |o| push_text(o, &packet, version))
        }
    };
    if let Err(e) = written {
        tracing::warn!(error = %e, "packet dropped from a WebSocket");
    }
}

/// The bytes of one socket: what was read and not yet parsed, what is
/// encoded and not yet written, and the frame layer of both directions.
struct Socket<S> {
    io: S,
    /// Bytes read and not yet parsed: empty, without capacity, while the
    /// socket is idle (reads go through the thread's [`SCRATCH`]).
    rbuf: BytesMut,
    wbuf: Vec<u8>,
    rx: Receiver,
    tx: Sender,
    write_timeout: Duration,
    /// Set when the connection may have bytes to read: the read is polled
    /// with [`read_waker`](Self::read_waker), which sets it.
    readable: Arc<WakeFlag>,
    read_waker: Waker,
}

/// Bytes per worker thread that every socket of the thread reads into
/// before keeping what came: an idle socket holds no read buffer.
const SCRATCH_BYTES: usize = 16 * 1024;

thread_local! {
    static SCRATCH: RefCell<Box<[u8]>> = RefCell::new(vec![0u8; SCRATCH_BYTES].into_boxed_slice());
}

/// What woke a socket's task.
enum Woke {
    /// A read completed: false at end of stream.
    Read(std::io::Result<bool>),
    /// The session has frames to write, or changed state.
    Session,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Socket<S> {
    fn new(io: S, limits: &Limits) -> Self {
        let readable = Arc::new(WakeFlag::new(true));
        Socket {
            io,
            rbuf: BytesMut::new(),
            wbuf: Vec::new(),
            rx: Receiver::new(limits.max_payload, limits.deflate.as_ref()),
            tx: Sender::new(limits.deflate.as_ref()),
            write_timeout: limits.write_timeout,
            read_waker: readable.waker(),
            readable,
        }
    }

    /// Writes what is buffered; false when the write failed or timed out
    /// (the client is gone or does not read). Most writes complete at once
    /// and arm no timer: only what the kernel did not take at once is
    /// written under the write timeout.
    async fn flush(&mut self) -> bool {
        if self.wbuf.is_empty() {
            return true;
        }
        let mut done = 0;
        let at_once = std::future::poll_fn(|cx| Poll::Ready(self.write_now(cx, &mut done))).await;
        let ok = match at_once {
            Ok(true) => true,
            Ok(false) => {
                let rest = self.wbuf.get(done..).unwrap_or_default();
                let write = async {
                    self.io.write_all(rest).await?;
                    self.io.flush().await
                };
                match tokio::time::timeout(self.write_timeout, write).await {
                    Ok(Ok(())) => true,
                    Ok(Err(e)) => {
                        tracing::debug!(error = %e, "WebSocket write failed");
                        false
                    }
                    Err(_) => {
                        tracing::debug!("WebSocket write timed out (slow reader)");
                        false
                    }
                }
            }
            Err(e) => {
                tracing::debug!(error = %e, "WebSocket write failed");
                false
            }
        };
        self.wbuf.clear();
        if self.wbuf.capacity() > KEPT_WRITE_BUFFER_BYTES {
            self.wbuf = Vec::new();
        }
        ok
    }

    /// Writes (from `*done` on) and flushes as much as the connection takes
    /// without waiting: true when all of it went.
    fn write_now(&mut self, cx: &mut Context<'_>, done: &mut usize) -> std::io::Result<bool> {
        while let Some(rest) = self.wbuf.get(*done..).filter(|r| !r.is_empty()) {
            match Pin::new(&mut self.io).poll_write(cx, rest) {
                Poll::Ready(Ok(0)) => return Err(std::io::ErrorKind::WriteZero.into()),
                Poll::Ready(Ok(n)) => *done = done.saturating_add(n),
                Poll::Ready(Err(e)) => return Err(e),
                Poll::Pending => return Ok(false),
            }
        }
        match Pin::new(&mut self.io).poll_flush(cx) {
            Poll::Ready(r) => r.map(|()| true),
            Poll::Pending => Ok(false),
        }
    }

    /// Sends a close frame and ends the connection: the write side is shut
    /// down, then what the client still sends is read and dropped until it
    /// closes too (at most [`CLOSE_LINGER`]). Callers box this future, so
    /// its state does not enlarge every idle socket's task.
    async fn close(mut self, code: Option<u16>, reason: &str) {
        Sender::push_close(&mut self.wbuf, code, reason);
        if !self.flush().await {
            return;
        }
        let linger = async {
            let _ = self.io.shutdown().await;
            // On the heap: a buffer here would enlarge every socket's task.
            let mut sink = vec![0u8; 1024];
            while matches!(self.io.read(&mut sink).await, Ok(n) if n > 0) {}
        };
        let _ = tokio::time::timeout(CLOSE_LINGER, linger).await;
    }

    /// Reads once, with the read waker (false at end of stream). A frame
    /// announced larger than the scratch buffer is read straight into
    /// `rbuf`; otherwise the bytes land in the thread's scratch buffer and
    /// only what came is kept.
    fn poll_read(&mut self) -> Poll<std::io::Result<bool>> {
        let Socket {
            io,
            rbuf,
            rx,
            read_waker,
            ..
        } = self;
        let cx = &mut Context::from_waker(read_waker);
        let want = rx.wanted(rbuf);
        if want <= SCRATCH_BYTES {
            let scratch = SCRATCH.try_with(|cell| {
                let Ok(mut scratch) = cell.try_borrow_mut() else {
                    return None;
                };
                let mut buf = ReadBuf::new(&mut scratch[..]);
                Some(match Pin::new(&mut *io).poll_read(cx, &mut buf) {
                    Poll::Ready(Ok(())) => {
                        rbuf.extend_from_slice(buf.filled());
                        Poll::Ready(Ok(!buf.filled().is_empty()))
                    }
                    Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                    Poll::Pending => Poll::Pending,
                })
            });
            if let Ok(Some(done)) = scratch {
                return done;
            }
        }
        // A large frame (or no scratch buffer on this thread).
        rbuf.reserve(want.max(READ_BUFFER_BYTES));
        let read = io.read_buf(rbuf);
        std::pin::pin!(read).poll(cx).map_ok(|n| n > 0)
    }

    /// Waits for the client's bytes or the session's wake-up, polling only
    /// what woke the task: the read when its waker fired (or it last
    /// returned bytes), the session when it set its flag.
    async fn wait(&mut self, session_wake: &WakeFlag) -> Woke {
        std::future::poll_fn(|cx| {
            if self.readable.poll_take(cx) {
                if let Poll::Ready(r) = self.poll_read() {
                    // More may be there: look again next time.
                    self.readable.set();
                    return Poll::Ready(Woke::Read(r));
                }
            }
            if session_wake.poll_take(cx) {
                return Poll::Ready(Woke::Session);
            }
            Poll::Pending
        })
        .await
    }

    /// Frees the read buffer once everything in it was parsed (frames
    /// handed on keep their own part of it).
    fn release_read_buffer(&mut self) {
        if self.rbuf.is_empty() && self.rbuf.capacity() > 0 {
            self.rbuf = BytesMut::new();
        }
    }
}

/// Runs one WebSocket of `session` over `io`, an upgraded connection: the
/// probing socket of an upgrade (`probing`) or the session's transport.
/// Returns when the socket or the session ends. A refused socket (a second
/// WebSocket for the same sid) is closed at once.
///
/// One task owns the connection: it writes every frame the session has
/// queued in one write, then waits for either the client's bytes or the
/// session's wake-up.
pub(crate) async fn run<S>(session: Arc<SessionShared>, io: S, mut probing: bool, limits: Limits)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let version = session.lock().state.version();
    let b64 = session.b64;
    let mut sock = Socket::new(io, &limits);
    if probing && !session.with(|inner, now| inner.state.probe_opened(now)) {
        tracing::debug!(sid = %session.id(), "second WebSocket refused");
        Box::pin(sock.close(None, "")).await;
        return;
    }
    loop {
        // Write what is due.
        let (frames, close_socket) = session.with_untimed(|inner| {
            if probing {
                if !inner.state.is_probing() {
                    // The upgrade was cancelled or timed out.
                    return (Vec::new(), true);
                }
                (inner.state.take_probe_frames(), false)
            } else {
                let frames = inner.state.take_ws_frames();
                (frames, inner.state.ws_should_close())
            }
        });
        for p in &frames {
            push_packet(&mut sock.tx, &mut sock.wbuf, p, version, b64);
        }
        if !sock.flush().await {
            session.with(|inner, now| inner.state.ws_closed(probing, true, now));
            return;
        }
        if close_socket {
            Box::pin(sock.close(None, "")).await;
            return;
        }
        // Handle what was read and is complete.
        loop {
            let event = match sock.rx.next(&mut sock.rbuf) {
                Ok(Some(e)) => e,
                Ok(None) => break,
                Err(Fail { code: c, reason }) => {
                    tracing::debug!(code = c, reason, "WebSocket protocol error");
                    session.with(|inner, now| inner.state.ws_closed(probing, true, now));
                    let reason = if c == code::TOO_BIG { reason } else { "" };
                    Box::pin(sock.close(Some(c), reason)).await;
                    return;
                }
            };
            let packet = match event {
                Incoming::Text(t) => decode_text_frame(&t, version),
                Incoming::Binary(b) => decode_binary_frame(&b, version),
                Incoming::Ping(payload) => {
                    Sender::push_control(&mut sock.wbuf, op::PONG, &payload);
                    continue;
                }
                Incoming::Pong => continue,
                Incoming::Close(c, _) => {
                    session.with(|inner, now| inner.state.ws_closed(probing, false, now));
                    Box::pin(sock.close(c, "")).await;
                    return;
                }
            };
            let verdict = session.with(|inner, now| match packet {
                Ok(p) => {
                    let v = inner
                        .state
                        .handle_packet(Channel::WebSocket, probing, p, now);
                    if probing && inner.state.active() == Active::WebSocket {
                        probing = false;
                    }
                    v
                }
                Err(e) => {
                    tracing::debug!(error = %e, "undecodable WebSocket frame");
                    if probing {
                        // Cancels the upgrade only.
                        inner
                            .state
                            .handle_packet(Channel::WebSocket, true, InPacket::Noop, now)
                    } else {
                        inner.state.parse_error(now);
                        Verdict::Stop
                    }
                }
            });
            if verdict == Verdict::Stop && probing {
                Box::pin(sock.close(None, "")).await;
                return;
            }
        }
        sock.release_read_buffer();
        if !sock.wbuf.is_empty() {
            continue; // pongs to write
        }
        match sock.wait(&session.ws_wake).await {
            Woke::Read(Ok(true)) | Woke::Session => {}
            Woke::Read(Ok(false)) => {
                session.with(|inner, now| inner.state.ws_closed(probing, false, now));
                return;
            }
            Woke::Read(Err(e)) => {
                tracing::debug!(error = %e, "WebSocket read failed");
                session.with(|inner, now| inner.state.ws_closed(probing, true, now));
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    const GOOD: &[(&str, &str)] = &[
        ("connection", "keep-alive, Upgrade"),
        ("upgrade", "websocket"),
        ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ("sec-websocket-version", "13"),
    ];

    /// headers, status, body
    type Case<'a> = (&'a [(&'a str, &'a str)], u16, &'a str);

    #[test]
    fn accept_key_is_the_rfc_example() {
        let accept = validate(&Method::GET, &headers(GOOD)).unwrap();
        assert_eq!(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        assert!(is_upgrade_request(&headers(GOOD)));
        assert!(!is_upgrade_request(&headers(&[("upgrade", "websocket")])));
    }

    #[test]
    fn invalid_handshakes_are_refused() {
        let cases: &[Case<'_>] = &[
            (&GOOD[..1], 400, "Invalid Upgrade header"),
            (
                &[GOOD[0], GOOD[1], GOOD[3]],
                400,
                "Missing or invalid Sec-WebSocket-Key header",
            ),
            (
                &[GOOD[0], GOOD[1], ("sec-websocket-key", "short=="), GOOD[3]],
                400,
                "Missing or invalid Sec-WebSocket-Key header",
            ),
            (
                &[GOOD[0], GOOD[1], GOOD[2]],
                400,
                "Missing or invalid Sec-WebSocket-Version header",
            ),
            (
                &[GOOD[0], GOOD[1], GOOD[2], ("sec-websocket-version", "8")],
                400,
                "Missing or invalid Sec-WebSocket-Version header",
            ),
        ];
        for (h, status, body) in cases {
            let res = validate(&Method::GET, &headers(h))
                .unwrap_err()
                .to_response();
            assert_eq!(res.status().as_u16(), *status, "{body}");
            assert_eq!(res.body().as_ref(), body.as_bytes());
        }
        let res = validate(&Method::POST, &headers(GOOD))
            .unwrap_err()
            .to_response();
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    }

    #[test]
    fn frames_by_version() {
        let frame = |p: &OutPacket, version, b64| {
            let mut out = Vec::new();
            push_packet(&mut Sender::new(None), &mut out, p, version, b64);
            out
        };
        let bin = OutPacket::Message(Message::Binary(Bytes::from_static(&[1, 2])));
        assert_eq!(frame(&bin, Version::V4, false), b"\x82\x02\x01\x02");
        assert_eq!(frame(&bin, Version::V3, false), b"\x82\x03\x04\x01\x02");
        assert_eq!(frame(&bin, Version::V3, true), b"\x81\x06b4AQI=");
        assert_eq!(
            frame(&OutPacket::PongProbe, Version::V4, false),
            b"\x81\x063probe"
        );
    }

    fn limits(write_timeout: Duration) -> Limits {
        Limits {
            max_payload: 1 << 20,
            write_timeout,
            deflate: None,
        }
    }

    /// Waits for the socket's next read (the session flag never set).
    async fn read_event<S: AsyncRead + AsyncWrite + Unpin>(sock: &mut Socket<S>) -> Incoming {
        let never = WakeFlag::new(false);
        loop {
            if let Some(e) = sock.rx.next(&mut sock.rbuf).unwrap() {
                return e;
            }
            match sock.wait(&never).await {
                Woke::Read(Ok(true)) => {}
                _ => panic!("the client's bytes"),
            }
        }
    }

    #[tokio::test]
    async fn an_idle_socket_holds_no_read_buffer() {
        let (server, mut client) = tokio::io::duplex(1 << 21);
        let mut sock = Socket::new(server, &limits(Duration::from_secs(5)));
        // A small frame (through the scratch buffer) and a large one (read
        // straight into its own buffer), split in the middle.
        let small = crate::transport::ws_proto::test_frames::masked(0x81, b"4hello", [1, 2, 3, 4]);
        let big_text = "x".repeat(3 * SCRATCH_BYTES);
        let big = crate::transport::ws_proto::test_frames::masked(
            0x81,
            big_text.as_bytes(),
            [9, 8, 7, 6],
        );
        client.write_all(&small).await.unwrap();
        client.write_all(&big[..100]).await.unwrap();
        assert_eq!(
            read_event(&mut sock).await,
            Incoming::Text(crate::Utf8Bytes::from("4hello"))
        );
        sock.release_read_buffer();
        assert!(sock.rbuf.capacity() > 0, "a partial frame is kept");
        client.write_all(&big[100..]).await.unwrap();
        assert_eq!(
            read_event(&mut sock).await,
            Incoming::Text(crate::Utf8Bytes::from(big_text))
        );
        sock.release_read_buffer();
        assert_eq!(sock.rbuf.capacity(), 0, "nothing held once all is parsed");
        // The session's wake-up is seen without a read.
        let session = WakeFlag::new(false);
        session.wake();
        assert!(matches!(sock.wait(&session).await, Woke::Session));
        drop(client);
        assert!(matches!(sock.wait(&session).await, Woke::Read(Ok(false))));
    }

    #[tokio::test]
    async fn writes_complete_at_once_or_time_out_on_a_slow_reader() {
        let (server, mut client) = tokio::io::duplex(256);
        let mut sock = Socket::new(server, &limits(Duration::from_millis(100)));
        sock.wbuf.extend_from_slice(&[7u8; 200]);
        assert!(sock.flush().await, "taken at once");
        let mut got = vec![0u8; 200];
        client.read_exact(&mut got).await.unwrap();
        assert_eq!(got, [7u8; 200]);
        // More than the pipe holds, and nobody reads: the write times out.
        sock.wbuf.extend_from_slice(&[1u8; 1000]);
        let t = std::time::Instant::now();
        assert!(!sock.flush().await);
        assert!(t.elapsed() >= Duration::from_millis(100));
        assert!(sock.wbuf.is_empty());
        // Read as it is written: the rest goes under the timer, and all of it arrives.
        let reader = tokio::spawn(async move {
            let mut got = vec![0u8; 256 + 3000];
            client.read_exact(&mut got).await.unwrap();
            got
        });
        sock.write_timeout = Duration::from_secs(5);
        sock.wbuf.extend_from_slice(&[2u8; 3000]);
        assert!(sock.flush().await);
        let got = reader.await.unwrap();
        assert!(
            got[256..].iter().all(|b| *b == 2),
            "the first 256 were the timed-out write's"
        );
    }
}
