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
use http_body_util::Full;
use oxio_codec::engineio::{Handshake, Transport, Upgrades, Version};

use crate::config::EngineConfig;
use crate::contract::{
    CloseReason, EngineHandler, HandshakeInfo, Session, SessionHandle, Utf8Bytes,
};
use crate::observe::Refusal;
use crate::session::{Clock, SessionRegistry, SessionShared};
use crate::session_state::{Active, OutPacket, SessionState, Timing};
use crate::sync::LockExt;
use crate::transport::http_error::{empty, RequestError};
use crate::transport::query::EngineQuery;
use crate::transport::{cors, polling, websocket, ws_deflate, BoxError, EngineBody};
use crate::Sid;

/// The engine's shared part.
struct EngineInner {
    config: EngineConfig,
    handler: Arc<dyn EngineHandler>,
    sessions: Mutex<HashMap<Sid, Arc<SessionShared>>>,
    clock: Clock,
    shutting_down: AtomicBool,
    refusals: crate::limits::RefusalLog,
}

impl EngineInner {
    fn sessions(&self) -> MutexGuard<'_, HashMap<Sid, Arc<SessionShared>>> {
        self.sessions.locked()
    }
}

impl SessionRegistry for EngineInner {
    fn session_finished(&self, sid: &Sid) {
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
/// use oxio_engine::config::EngineConfig;
/// use oxio_engine::{CloseReason, Engine, EngineHandler, Message, Session};
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
                refusals: crate::limits::RefusalLog::default(),
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
    /// # use oxio_engine::{config::EngineConfig, *};
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
            s.close(CloseReason::ServerShuttingDown);
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
        let req = match &config.extra_route {
            Some(extra) => {
                let (parts, body) = req.into_parts();
                if let Some(res) = extra(&parts) {
                    return res.map(Full::new);
                }
                Request::from_parts(parts, body)
            }
            None => req,
        };
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
            self.refused(Refusal::Code(e.code()));
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
            let version = session.protocol();
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
                Method::GET => polling::compress(
                    polling::get(session).await,
                    req.headers(),
                    config.http_compression.as_ref(),
                ),
                Method::POST => {
                    let deadline = crate::transport::BodyDeadline::from_config(config);
                    polling::post(session, req, config.max_payload, deadline).await
                }
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
            self.refused(Refusal::ShuttingDown);
            return empty(StatusCode::SERVICE_UNAVAILABLE);
        }
        if let Some(max) = config.max_sessions {
            let open = self.session_count();
            if open >= max {
                self.inner
                    .refusals
                    .refused("session limit reached", open, max);
                self.refused(Refusal::SessionLimit);
                return empty(StatusCode::SERVICE_UNAVAILABLE);
            }
        }
        let Some(sid) = self.new_sid() else {
            return refuse(RequestError::BadRequest);
        };
        let b64 = q.b64;
        match transport {
            Transport::WebSocket => self.handshake_websocket(&mut parts, sid, version, b64),
            _ => self.handshake_polling(parts, sid, version, b64),
        }
    }

    fn refused(&self, refusal: Refusal) {
        if let Some(o) = &self.inner.config.observer {
            o.request_refused(refusal);
        }
    }

    fn opened(&self, transport: Transport) {
        if let Some(o) = &self.inner.config.observer {
            o.handshake(transport);
        }
    }

    /// A fresh session id not in use.
    fn new_sid(&self) -> Option<Sid> {
        for _ in 0..4 {
            let sid = match Sid::generate() {
                Ok(sid) => sid,
                Err(e) => {
                    tracing::error!(error = %e, "no session id");
                    return None;
                }
            };
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
        sid: Sid,
        version: Version,
        b64: bool,
        active: Active,
    ) -> (Arc<SessionShared>, Utf8Bytes) {
        let open = self.open_json(sid.as_str(), active);
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
            Arc::downgrade(&self.inner) as std::sync::Weak<dyn SessionRegistry>,
            self.inner.clock,
            self.inner.config.observer.clone(),
        );
        (session, open)
    }

    fn register(&self, session: &Arc<SessionShared>) {
        let sid = session.id().clone();
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
        sid: Sid,
        version: Version,
        b64: bool,
    ) -> Response<Bytes> {
        let (session, open) = self.new_session(&parts, sid.clone(), version, b64, Active::Polling);
        let (body, content_type) = polling::encode_response(version, b64, &[OutPacket::Open(open)]);
        self.register(&session);
        self.opened(Transport::Polling);
        let mut res = polling::response(body, content_type);
        self.cookie(sid.as_str(), &mut res);
        res
    }

    fn handshake_websocket(
        &self,
        parts: &mut http::request::Parts,
        sid: Sid,
        version: Version,
        b64: bool,
    ) -> Response<Bytes> {
        let accept = match websocket::validate(&parts.method, &parts.headers) {
            Ok(a) => a,
            Err(e) => {
                // A malformed upgrade: counted as a bad request (code 3).
                self.refused(Refusal::Code(3));
                return e.to_response();
            }
        };
        let Some(on_upgrade) = parts.extensions.remove::<hyper::upgrade::OnUpgrade>() else {
            tracing::error!("WebSocket request without hyper's OnUpgrade extension");
            return RequestError::BadRequest.to_upgrade_response();
        };
        let (session, _) = self.new_session(parts, sid.clone(), version, b64, Active::WebSocket);
        let engine = self.clone();
        let registered = session.clone();
        // See V3_OPEN_PACKET_DELAY: a v3 WebSocket-only session writes its
        // open packet a moment after the 101.
        let open_delay = match version {
            Version::V3 => websocket::V3_OPEN_PACKET_DELAY,
            Version::V4 => std::time::Duration::ZERO,
        };
        let (limits, extensions) = self.socket_limits(&parts.headers);
        // Counted once the 101 went through and the session opened (a
        // failed upgrade never opens it, nor closes it).
        websocket::spawn(on_upgrade, session, false, limits, open_delay, move || {
            engine.register(&registered);
            engine.opened(Transport::WebSocket);
        });
        let mut res = websocket::switching_protocols(accept, extensions);
        self.cookie(sid.as_str(), &mut res);
        res
    }

    /// A new socket's limits and agreed extension (with its 101 header),
    /// from the upgrade request's headers.
    fn socket_limits(
        &self,
        headers: &http::HeaderMap,
    ) -> (websocket::Limits, Option<http::HeaderValue>) {
        let c = &self.inner.config;
        let (deflate, extensions) = c
            .per_message_deflate
            .as_ref()
            .and_then(|settings| ws_deflate::negotiate(headers, settings))
            .map_or((None, None), |(a, h)| (Some(a), Some(h)));
        let limits = websocket::Limits {
            max_payload: c.max_payload,
            write_timeout: c.ping_interval.saturating_add(c.ping_timeout),
            deflate,
        };
        (limits, extensions)
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
            Err(e) => {
                // A malformed upgrade: counted as a bad request (code 3).
                self.refused(Refusal::Code(3));
                return e.to_response();
            }
        };
        if !config.allow_upgrades {
            return refuse(RequestError::BadRequest);
        }
        let Some(on_upgrade) = parts.extensions.remove::<hyper::upgrade::OnUpgrade>() else {
            tracing::error!("WebSocket request without hyper's OnUpgrade extension");
            return refuse(RequestError::BadRequest);
        };
        let (limits, extensions) = self.socket_limits(&parts.headers);
        websocket::spawn(on_upgrade, session, true, limits, Default::default(), || {});
        websocket::switching_protocols(accept, extensions)
    }
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
