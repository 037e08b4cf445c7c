//! The WebSocket transport: the upgrade request checks (all made before the
//! 101), the 101 itself, and the task that runs one socket (docs/protocol.md
//! §1.6, §1.8).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Response, StatusCode};
use hyper_util::rt::TokioIo;
use oxio_codec::engineio::Version;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::tungstenite::error::{CapacityError, Error as WsError};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::WebSocketStream;

use super::http_error::upgrade_refusal;
use super::packets::{as_codec, decode_binary_frame, decode_text_frame};
use crate::session::SessionShared;
use crate::session_state::{Active, Channel, InPacket, OutPacket, Verdict};
use crate::Message;

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
    HeaderValue::from_str(&derive_accept_key(key)).map_err(|_| BadUpgrade::Key)
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

/// The 101 answer.
pub(crate) fn switching_protocols(accept: HeaderValue) -> Response<Bytes> {
    let mut res = Response::new(Bytes::new());
    *res.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = res.headers_mut();
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    h.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
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

/// How much each socket's reader reserves per read (tungstenite's default,
/// 128 KiB, is allocated up front for every socket: 10 000 idle sockets
/// would hold 1.3 GB). Larger messages still arrive, in more reads; 4 KiB is
/// also what engineioxide uses.
pub(crate) const READ_BUFFER_BYTES: usize = 4096;

/// Socket limits: a message or frame over `max_payload` bytes is refused
/// (the socket is then closed with 1009). Reads reserve
/// [`READ_BUFFER_BYTES`] at a time.
pub(crate) fn config(max_payload: usize) -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER_BYTES)
        .max_message_size(Some(max_payload))
        .max_frame_size(Some(max_payload))
}

/// What bounds one socket: its largest message, and how long one write
/// may take before the reader counts as gone.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Largest message or frame (`maxPayload`).
    pub(crate) max_payload: usize,
    /// Longest write (a client that stops reading).
    pub(crate) write_timeout: Duration,
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
        let ws = WebSocketStream::from_raw_socket(
            TokioIo::new(upgraded),
            Role::Server,
            Some(config(limits.max_payload)),
        )
        .await;
        on_ready();
        if !first_write_delay.is_zero() {
            tokio::time::sleep(first_write_delay).await;
        }
        run(session, ws, probing, limits.write_timeout).await;
    });
}

/// The frame for one outgoing packet.
fn frame(p: &OutPacket, version: Version, b64: bool) -> Option<WsMessage> {
    match (p, version) {
        (OutPacket::Message(Message::Binary(b)), Version::V4) => {
            return Some(WsMessage::Binary(b.clone()))
        }
        (OutPacket::Message(Message::Binary(b)), Version::V3) if !b64 => {
            let mut v = Vec::with_capacity(b.len().saturating_add(1));
            v.push(4u8);
            v.extend_from_slice(b);
            return Some(WsMessage::Binary(Bytes::from(v)));
        }
        _ => {}
    }
    match as_codec(p).to_text(version) {
        Ok(text) => Some(WsMessage::text(text)),
        Err(e) => {
            tracing::warn!(error = %e, "packet dropped from a WebSocket");
            None
        }
    }
}

/// Runs one WebSocket of `session`: the probing socket of an upgrade
/// (`probing`) or the session's transport. Returns when the socket or the
/// session ends. A refused socket (a second WebSocket for the same sid) is
/// closed at once.
pub(crate) async fn run<S>(
    session: Arc<SessionShared>,
    ws: WebSocketStream<S>,
    mut probing: bool,
    write_timeout: Duration,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let version = session.lock().state.version();
    let b64 = session.b64;
    let (mut sink, mut stream) = ws.split();
    if probing && !session.with(|inner, now| inner.state.probe_opened(now)) {
        tracing::debug!(sid = %session.id(), "second WebSocket refused");
        let _ = sink.send(WsMessage::Close(None)).await;
        return;
    }
    loop {
        // Write what is due.
        let (frames, close_socket) = session.with(|inner, _| {
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
        if !frames.is_empty() {
            let write = async {
                for p in &frames {
                    if let Some(m) = frame(p, version, b64) {
                        sink.feed(m).await?;
                    }
                }
                sink.flush().await
            };
            let failed = match tokio::time::timeout(write_timeout, write).await {
                Ok(Ok(())) => false,
                Ok(Err(e)) => {
                    tracing::debug!(error = %e, "WebSocket write failed");
                    true
                }
                Err(_) => {
                    tracing::debug!("WebSocket write timed out (slow reader)");
                    true
                }
            };
            if failed {
                session.with(|inner, now| inner.state.ws_closed(probing, true, now));
                return;
            }
        }
        if close_socket {
            let _ = tokio::time::timeout(write_timeout, sink.send(WsMessage::Close(None))).await;
            return;
        }
        tokio::select! {
            incoming = stream.next() => {
                let packet = match incoming {
                    None | Some(Ok(WsMessage::Close(_))) => {
                        session.with(|inner, now| inner.state.ws_closed(probing, false, now));
                        let _ = tokio::time::timeout(write_timeout, sink.close()).await;
                        return;
                    }
                    Some(Err(WsError::Capacity(CapacityError::MessageTooLong { size, max_size }))) => {
                        tracing::debug!(size, max_size, "WebSocket message over maxPayload");
                        session.with(|inner, now| inner.state.ws_closed(probing, true, now));
                        let close = WsMessage::Close(Some(CloseFrame {
                            code: CloseCode::Size,
                            reason: "Max payload size exceeded".into(),
                        }));
                        let _ = tokio::time::timeout(write_timeout, sink.send(close)).await;
                        return;
                    }
                    Some(Err(e)) => {
                        tracing::debug!(error = %e, "WebSocket read failed");
                        session.with(|inner, now| inner.state.ws_closed(probing, true, now));
                        return;
                    }
                    Some(Ok(WsMessage::Text(t))) => decode_text_frame(&Bytes::from(t), version),
                    Some(Ok(WsMessage::Binary(b))) => decode_binary_frame(&b, version),
                    Some(Ok(_)) => continue, // ping/pong frames: tungstenite answers
                };
                let verdict = session.with(|inner, now| match packet {
                    Ok(p) => {
                        let v = inner.state.handle_packet(Channel::WebSocket, probing, p, now);
                        if probing && inner.state.active() == Active::WebSocket {
                            probing = false;
                        }
                        v
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "undecodable WebSocket frame");
                        if probing {
                            // Cancels the upgrade only.
                            inner.state.handle_packet(Channel::WebSocket, true, InPacket::Noop, now)
                        } else {
                            inner.state.parse_error(now);
                            Verdict::Stop
                        }
                    }
                });
                if verdict == Verdict::Stop && probing {
                    let _ = tokio::time::timeout(write_timeout, sink.send(WsMessage::Close(None))).await;
                    return;
                }
            }
            _ = session.ws_wake.notified() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (oxio-load idle run): the default 128 KiB read buffer made
    /// an idle WebSocket cost ~147 KB of server memory.
    #[test]
    fn config_keeps_the_read_buffer_small() {
        let c = config(1_000_000);
        assert_eq!(c.read_buffer_size, 4096);
        assert_eq!(c.max_message_size, Some(1_000_000));
        assert_eq!(c.max_frame_size, Some(1_000_000));
    }

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
        let bin = OutPacket::Message(Message::Binary(Bytes::from_static(&[1, 2])));
        assert_eq!(
            frame(&bin, Version::V4, false),
            Some(WsMessage::Binary(Bytes::from_static(&[1, 2])))
        );
        assert_eq!(
            frame(&bin, Version::V3, false),
            Some(WsMessage::Binary(Bytes::from_static(&[4, 1, 2])))
        );
        assert_eq!(
            frame(&bin, Version::V3, true),
            Some(WsMessage::text("b4AQI="))
        );
        assert_eq!(
            frame(&OutPacket::PongProbe, Version::V4, false),
            Some(WsMessage::text("3probe"))
        );
    }
}
