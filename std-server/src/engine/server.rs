//! The engine: routes requests under its path to the handshake, the polling
//! GET/POST, or the WebSocket upgrade, and keeps the sessions.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use oxio_codec::engineio::{Handshake, Transport, Upgrades, Version};
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::WebSocketStream;

use super::contract::{CloseReason, EngineHandler, HandshakeInfo, Session, Utf8Bytes};
use super::session::{Clock, SessionShared};
use super::session_state::{Active, Channel, GetOutcome, SessionState, Timing, Verdict};
use super::sid::generate_sid;
use crate::config::EngineConfig;
use crate::transport::http_error::{empty, RequestError};
use crate::transport::polling::{decode_post, encode_response, OCTET_STREAM};
use crate::transport::query::EngineQuery;
use crate::transport::{cors, websocket};

/// The body of every response the engine writes (all are complete at once).
pub type EngineBody = Full<Bytes>;

/// A boxed error, as request bodies report them.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The engine's shared part.
pub(crate) struct EngineInner {
    config: EngineConfig,
    handler: Arc<dyn EngineHandler>,
    sessions: Mutex<HashMap<String, Arc<SessionShared>>>,
    clock: Clock,
    shutting_down: AtomicBool,
}

impl EngineInner {
    fn sessions(&self) -> MutexGuard<'_, HashMap<String, Arc<SessionShared>>> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Forgets a finished session.
    pub(crate) fn remove(&self, sid: &str) {
        self.sessions().remove(sid);
    }
}

/// An Engine.IO server: sessions, transports, heartbeat and upgrade, with
/// a handler above it ([`EngineHandler`]). Cheap to clone (shared state).
///
/// Mount it with [`Engine::layer`] on an axum or hyper app, serve it alone
/// with [`crate::service::listen`], or call [`Engine::handle`] yourself.
///
/// ```
/// use oxio_server::config::EngineConfig;
/// use oxio_server::engine::{CloseReason, Engine, EngineHandler, Message, Session};
///
/// struct Echo;
/// impl EngineHandler for Echo {
///     fn on_open(&self, _session: Session) {}
///     fn on_message(&self, session: &Session, msg: Message) {
///         let _ = session.send(msg);
///     }
///     fn on_close(&self, _session: &Session, _reason: CloseReason) {}
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let engine = Engine::new(EngineConfig::default(), Echo);
/// let req = http::Request::get("/socket.io/?EIO=4&transport=polling")
///     .body(http_body_util::Empty::<bytes::Bytes>::new())
///     .unwrap();
/// let res = engine.handle(req).await;
/// assert_eq!(res.status(), 200);
/// assert_eq!(engine.session_count(), 1);
/// engine.shutdown();
/// # }
/// ```
#[derive(Clone)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("config", &self.inner.config)
            .field("sessions", &self.session_count())
            .finish()
    }
}

impl Engine {
    /// An engine with `config`, delivering to `handler`.
    pub fn new<H: EngineHandler>(config: EngineConfig, handler: H) -> Self {
        Self::from_shared(config, Arc::new(handler))
    }

    /// Like [`new`](Self::new), for a handler already shared.
    pub fn from_shared(config: EngineConfig, handler: Arc<dyn EngineHandler>) -> Self {
        Engine {
            inner: Arc::new(EngineInner {
                config,
                handler,
                sessions: Mutex::new(HashMap::new()),
                clock: Clock::new(),
                shutting_down: AtomicBool::new(false),
            }),
        }
    }

    /// The options.
    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    /// Whether `path` is under the engine's path (prefix match, as Node).
    ///
    /// ```
    /// # use oxio_server::{config::EngineConfig, engine::*};
    /// # struct H; impl EngineHandler for H { fn on_open(&self, _: Session) {} fn on_message(&self, _: &Session, _: Message) {} fn on_close(&self, _: &Session, _: CloseReason) {} }
    /// let engine = Engine::new(EngineConfig::default(), H);
    /// assert!(engine.serves("/socket.io/"));
    /// assert!(!engine.serves("/socket.io"));
    /// ```
    pub fn serves(&self, path: &str) -> bool {
        path.starts_with(self.inner.config.path.as_str())
    }

    /// An open session by id.
    pub fn session(&self, sid: &str) -> Option<Session> {
        let s = self.inner.sessions().get(sid).cloned()?;
        let open = s.lock().state.is_open();
        open.then_some(s as Session)
    }

    /// Number of sessions the engine holds (open ones, and closed ones still
    /// owing a final poll).
    pub fn session_count(&self) -> usize {
        self.inner.sessions().len()
    }

    /// Closes every session with [`CloseReason::ServerShuttingDown`] (held
    /// polls get their buffered packets then `1`; WebSockets are flushed and
    /// closed) and refuses new handshakes with 503.
    pub fn shutdown(&self) {
        self.inner.shutting_down.store(true, Ordering::SeqCst);
        let sessions: Vec<_> = self.inner.sessions().values().cloned().collect();
        tracing::info!(sessions = sessions.len(), "engine shutting down");
        for s in sessions {
            crate::engine::SessionHandle::close(&*s, CloseReason::ServerShuttingDown);
        }
    }

    /// Answers one request under the engine path. Requests elsewhere are
    /// not checked: route them away first ([`serves`](Self::serves), or the
    /// [`EngineLayer`](crate::service::EngineLayer)).
    ///
    /// A WebSocket upgrade needs hyper's upgrade machinery: the request
    /// must carry hyper's `OnUpgrade` extension (any hyper or axum server
    /// with upgrades enabled provides it). The peer address is read from a
    /// `std::net::SocketAddr` request extension when present.
    pub async fn handle<B>(&self, req: Request<B>) -> Response<EngineBody>
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        let config = &self.inner.config;
        let origin = req.headers().get(header::ORIGIN).cloned();
        if let Some(c) = &config.cors {
            if cors::is_preflight(req.method()) {
                let (parts, _) = req.into_parts();
                return cors::preflight::<Bytes>(c, &parts).map(Full::new);
            }
        }
        let mut res = self.route(req).await;
        if let Some(c) = &config.cors {
            cors::apply(c, origin.as_ref(), res.headers_mut());
        }
        res.map(Full::new)
    }

    async fn route<B>(&self, req: Request<B>) -> Response<Bytes>
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        let config = &self.inner.config;
        let upgrade = websocket::is_upgrade_request(req.headers());
        let refuse = |e: RequestError| {
            tracing::debug!(error = %e, "request refused");
            if upgrade {
                e.to_upgrade_response()
            } else {
                e.to_response()
            }
        };
        let query = req.uri().query().unwrap_or("").to_owned();
        let q = EngineQuery::parse(&query);
        let transport = q
            .transport
            .and_then(Transport::from_name)
            .filter(|t| match t {
                Transport::Polling => config.polling,
                Transport::WebSocket => config.websocket,
                Transport::WebTransport => false,
            });
        let Some(transport) = transport else {
            return refuse(RequestError::UnknownTransport);
        };
        if let Some(sid) = q.sid {
            let Some(session) = self.inner.sessions().get(sid).cloned() else {
                return refuse(RequestError::UnknownSid);
            };
            // engine.io 6.6.13 `verify()`: the request's revision (`EIO=4`
            // is 4, anything else 3) must be the session's, whatever
            // `allow_eio3` says; checked after the transport mismatch,
            // before any 101. The session is left as it was.
            let version = crate::engine::SessionHandle::protocol(&*session);
            let same_version = (q.eio == Some("4")) == (version == Version::V4);
            // A session the client closed by POST is gone, except to the
            // polling GET it may have sent concurrently (poll_get answers it).
            let owed_get =
                !upgrade && transport == Transport::Polling && req.method() == Method::GET;
            if !owed_get && session.lock().state.is_tombstone() {
                return refuse(RequestError::UnknownSid);
            }
            if upgrade && transport == Transport::WebSocket {
                if !same_version {
                    return refuse(RequestError::BadRequest);
                }
                return self.upgrade_existing(req, session, refuse);
            }
            let active = session.lock().state.active();
            let mismatch = match transport {
                Transport::Polling => active != Active::Polling,
                _ => true,
            };
            if mismatch || !same_version {
                return refuse(RequestError::BadRequest);
            }
            return match *req.method() {
                Method::GET => poll_get(session).await,
                Method::POST => poll_post(session, req, config.max_payload).await,
                _ => empty(StatusCode::INTERNAL_SERVER_ERROR),
            };
        }
        if req.method() != Method::GET {
            return refuse(RequestError::BadHandshakeMethod);
        }
        if (transport == Transport::WebSocket) != upgrade {
            return refuse(RequestError::BadRequest);
        }
        let (mut parts, body) = req.into_parts();
        drop(body);
        if let Some(allow) = &config.allow_request {
            if let Err(message) = allow(&parts) {
                return refuse(RequestError::Forbidden(message));
            }
        }
        let version = match q.eio.and_then(Version::from_eio_param) {
            Some(Version::V4) => Version::V4,
            Some(Version::V3) if config.allow_eio3 => Version::V3,
            _ => return refuse(RequestError::UnsupportedProtocolVersion),
        };
        if self.inner.shutting_down.load(Ordering::SeqCst) {
            return empty(StatusCode::SERVICE_UNAVAILABLE);
        }
        let Some(sid) = self.new_sid() else {
            tracing::error!("no randomness for a session id");
            return refuse(RequestError::BadRequest);
        };
        let b64 = q.b64;
        match transport {
            Transport::WebSocket => self.handshake_websocket(&mut parts, sid, version, b64),
            _ => self.handshake_polling(parts, sid, version, b64),
        }
    }

    /// A fresh session id not in use.
    fn new_sid(&self) -> Option<String> {
        for _ in 0..4 {
            let sid = generate_sid().ok()?;
            if !self.inner.sessions().contains_key(&sid) {
                return Some(sid);
            }
        }
        None
    }

    fn timing(&self) -> Timing {
        let c = &self.inner.config;
        let ms = |d: std::time::Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Timing {
            ping_interval: ms(c.ping_interval),
            ping_timeout: ms(c.ping_timeout),
            upgrade_timeout: ms(c.upgrade_timeout),
            close_linger: ms(c.close_linger),
        }
    }

    fn open_json(&self, sid: &str, active: Active) -> Utf8Bytes {
        let c = &self.inner.config;
        let t = self.timing();
        let upgrades = if active == Active::Polling && c.allow_upgrades && c.websocket {
            Upgrades::WEBSOCKET
        } else {
            Upgrades::NONE
        };
        let json = Handshake {
            sid,
            upgrades,
            ping_interval: t.ping_interval,
            ping_timeout: t.ping_timeout,
            max_payload: Some(u64::try_from(c.max_payload).unwrap_or(u64::MAX)),
        }
        .to_json();
        Utf8Bytes::from(json)
    }

    fn new_session(
        &self,
        parts: &http::request::Parts,
        sid: String,
        version: Version,
        b64: bool,
        active: Active,
    ) -> (Arc<SessionShared>, Utf8Bytes) {
        let open = self.open_json(&sid, active);
        let state = SessionState::new(
            version,
            active,
            open.clone(),
            self.timing(),
            self.inner.config.max_queued_messages,
            self.inner.clock.now(),
        )
        .with_byte_limit(self.inner.config.max_queued_bytes);
        let info = HandshakeInfo {
            query: parts.uri.query().unwrap_or("").to_owned(),
            headers: owned_headers(&parts.headers),
            remote_addr: parts.extensions.get::<std::net::SocketAddr>().copied(),
            issued: SystemTime::now(),
            secure: parts.uri.scheme() == Some(&http::uri::Scheme::HTTPS),
            url: parts.uri.path().to_owned(),
        };
        let session = SessionShared::new(
            sid,
            info,
            b64,
            state,
            self.inner.handler.clone(),
            Arc::downgrade(&self.inner),
            self.inner.clock,
        );
        (session, open)
    }

    fn register(&self, session: &Arc<SessionShared>) {
        let sid = crate::engine::SessionHandle::sid(&**session).to_owned();
        tracing::debug!(%sid, version = ?session.lock().state.version(), "session opened");
        self.inner.sessions().insert(sid, session.clone());
        session.start();
    }

    fn cookie(&self, sid: &str, res: &mut Response<Bytes>) {
        if let Some(cookie) = &self.inner.config.cookie {
            if let Ok(v) = HeaderValue::from_str(&cookie.header_value(sid)) {
                res.headers_mut().insert(header::SET_COOKIE, v);
            }
        }
    }

    fn handshake_polling(
        &self,
        parts: http::request::Parts,
        sid: String,
        version: Version,
        b64: bool,
    ) -> Response<Bytes> {
        let (session, open) = self.new_session(&parts, sid.clone(), version, b64, Active::Polling);
        let (body, content_type) =
            encode_response(version, b64, &[super::session_state::OutPacket::Open(open)]);
        self.register(&session);
        let mut res = polling_response(body, content_type);
        self.cookie(&sid, &mut res);
        res
    }

    fn handshake_websocket(
        &self,
        parts: &mut http::request::Parts,
        sid: String,
        version: Version,
        b64: bool,
    ) -> Response<Bytes> {
        let accept = match websocket::validate(&parts.method, &parts.headers) {
            Ok(a) => a,
            Err(e) => return e.to_response(),
        };
        let Some(on_upgrade) = parts.extensions.remove::<hyper::upgrade::OnUpgrade>() else {
            tracing::error!("WebSocket request without hyper's OnUpgrade extension");
            return RequestError::BadRequest.to_upgrade_response();
        };
        let (session, _) = self.new_session(parts, sid.clone(), version, b64, Active::WebSocket);
        let engine = self.clone();
        let max_payload = self.inner.config.max_payload;
        let write_timeout = self.write_timeout();
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
                Some(websocket::config(max_payload)),
            )
            .await;
            engine.register(&session);
            if version == Version::V3 {
                tokio::time::sleep(websocket::V3_OPEN_PACKET_DELAY).await;
            }
            websocket::run(session, ws, false, write_timeout).await;
        });
        let mut res = websocket::switching_protocols(accept);
        self.cookie(&sid, &mut res);
        res
    }

    fn write_timeout(&self) -> std::time::Duration {
        let c = &self.inner.config;
        c.ping_interval.saturating_add(c.ping_timeout)
    }

    fn upgrade_existing<B>(
        &self,
        req: Request<B>,
        session: Arc<SessionShared>,
        refuse: impl Fn(RequestError) -> Response<Bytes>,
    ) -> Response<Bytes> {
        let config = &self.inner.config;
        let (mut parts, _) = req.into_parts();
        let accept = match websocket::validate(&parts.method, &parts.headers) {
            Ok(a) => a,
            Err(e) => return e.to_response(),
        };
        if !config.allow_upgrades {
            return refuse(RequestError::BadRequest);
        }
        let Some(on_upgrade) = parts.extensions.remove::<hyper::upgrade::OnUpgrade>() else {
            tracing::error!("WebSocket request without hyper's OnUpgrade extension");
            return refuse(RequestError::BadRequest);
        };
        let max_payload = config.max_payload;
        let write_timeout = self.write_timeout();
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
                Some(websocket::config(max_payload)),
            )
            .await;
            websocket::run(session, ws, true, write_timeout).await;
        });
        websocket::switching_protocols(accept)
    }
}

/// A 200 polling answer.
fn polling_response(body: Bytes, content_type: &'static str) -> Response<Bytes> {
    let len = body.len();
    let mut res = Response::new(body);
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// Closes the session if the held GET is dropped before its answer (the
/// client went away).
struct PollGuard(Option<Arc<SessionShared>>);

impl Drop for PollGuard {
    fn drop(&mut self) {
        if let Some(s) = self.0.take() {
            s.with(|inner, now| {
                inner.poll_waiter = None;
                inner.state.poll_cancelled(now);
            });
        }
    }
}

/// Ends a POST: marks it finished, and closes the session if the POST was
/// dropped before its body was read (the client went away mid-request).
struct PostGuard(Option<Arc<SessionShared>>);

impl PostGuard {
    /// The POST completed; `f` runs with it marked finished.
    fn finish(mut self, f: impl FnOnce(&mut SessionState, oxio_codec::Instant)) {
        if let Some(s) = self.0.take() {
            s.with(|inner, now| {
                f(&mut inner.state, now);
                inner.state.post_finished();
            });
        }
    }
}

impl Drop for PostGuard {
    fn drop(&mut self) {
        if let Some(s) = self.0.take() {
            tracing::debug!("POST cancelled before its body arrived");
            s.with(|inner, now| {
                inner.state.post_finished();
                inner.state.transport_error(now);
            });
        }
    }
}

async fn poll_get(session: Arc<SessionShared>) -> Response<Bytes> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let outcome = session.with(|inner, now| {
        // Deadlines already due apply first (the timer task may not have
        // run yet): a GET after the ping timeout finds the session gone.
        inner.state.handle_timeout(now);
        let outcome = inner.state.handle_get(now);
        if outcome == GetOutcome::Wait {
            inner.poll_waiter = Some(tx);
        }
        outcome
    });
    let version = session.lock().state.version();
    let packets = match outcome {
        GetOutcome::Respond(p) => p,
        GetOutcome::Wait => {
            let mut guard = PollGuard(Some(session.clone()));
            match rx.await {
                Ok(p) => {
                    guard.0 = None;
                    p
                }
                Err(_) => return RequestError::UnknownSid.to_response(),
            }
        }
        GetOutcome::Overlap => {
            tracing::debug!("overlapping GET");
            return empty(StatusCode::BAD_REQUEST);
        }
        GetOutcome::WrongTransport => return RequestError::BadRequest.to_response(),
        GetOutcome::Gone => return RequestError::UnknownSid.to_response(),
    };
    let (body, content_type) = encode_response(version, session.b64, &packets);
    polling_response(body, content_type)
}

async fn poll_post<B>(
    session: Arc<SessionShared>,
    req: Request<B>,
    max_payload: usize,
) -> Response<Bytes>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let version = session.lock().state.version();
    let binary = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(OCTET_STREAM));
    if binary && version == Version::V4 {
        tracing::debug!("binary POST in v4");
        session.with(|inner, now| inner.state.transport_error(now));
        return empty(StatusCode::BAD_REQUEST);
    }
    if session
        .with(|inner, now| inner.state.post_started(now))
        .is_err()
    {
        tracing::debug!("overlapping POST");
        return empty(StatusCode::BAD_REQUEST);
    }
    let guard = PostGuard(Some(session));
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let too_large = declared.is_some_and(|n| n > u64::try_from(max_payload).unwrap_or(u64::MAX));
    let body = if too_large {
        None
    } else {
        match Limited::new(req.into_body(), max_payload).collect().await {
            Ok(b) => Some(b.to_bytes()),
            Err(e)
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some() =>
            {
                None
            }
            Err(e) => {
                tracing::debug!(error = %e, "POST body read failed");
                guard.finish(|state, now| state.transport_error(now));
                return empty(StatusCode::BAD_REQUEST);
            }
        }
    };
    let Some(body) = body else {
        // Node answers 413 and keeps the session.
        guard.finish(|_, _| {});
        return empty(StatusCode::PAYLOAD_TOO_LARGE);
    };
    let payload = decode_post(version, binary, &body, max_payload);
    guard.finish(|state, now| {
        for p in payload.packets {
            if state.handle_packet(Channel::Polling, false, p, now) == Verdict::Stop {
                break;
            }
        }
        if let Some(e) = payload.error {
            tracing::debug!(error = %e, "undecodable POST body");
            state.parse_error(now);
        }
    });
    let mut res = Response::new(Bytes::from_static(b"ok"));
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(2u32));
    res
}

/// A copy of `headers` whose values own their bytes. hyper parses header
/// values as slices of the connection's read buffer (8 KiB or more), so a
/// plain clone kept for the session's lifetime pinned that whole buffer:
/// 8 KiB of every idle WebSocket connection (found with oxio-load idle and
/// heaptrack). Names are already copied by hyper.
fn owned_headers(headers: &http::HeaderMap) -> http::HeaderMap {
    let mut out = http::HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        let owned = match HeaderValue::from_bytes(value.as_bytes()) {
            Ok(mut v) => {
                v.set_sensitive(value.is_sensitive());
                v
            }
            // Cannot happen (the value was valid already); keep the original.
            Err(_) => value.clone(),
        };
        out.append(name.clone(), owned);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: the session's headers must not keep hyper's read buffer.
    #[test]
    fn owned_headers_copy_the_values_and_release_the_buffer() {
        let buffer = Bytes::from(b"GET / HTTP/1.1 ... text/plain ... abc".repeat(200));
        let mut headers = http::HeaderMap::new();
        let slice = |from: usize, to: usize| {
            HeaderValue::from_maybe_shared(buffer.slice(from..to)).unwrap()
        };
        headers.insert(header::ACCEPT, slice(19, 29));
        headers.append(header::ACCEPT, slice(34, 37));
        let mut secret = slice(34, 37);
        secret.set_sensitive(true);
        headers.insert(header::AUTHORIZATION, secret);
        assert!(!buffer.is_unique());

        let owned = owned_headers(&headers);
        drop(headers);
        assert!(
            buffer.is_unique(),
            "the copy still points into the read buffer"
        );
        let accept: Vec<&str> = owned
            .get_all(header::ACCEPT)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        assert_eq!(accept, ["text/plain", "abc"]);
        let auth = owned.get(header::AUTHORIZATION).unwrap();
        assert_eq!(auth.as_bytes(), b"abc");
        assert!(auth.is_sensitive());
        assert_eq!(owned.len(), 3);
    }
}
