//! Mounting the engine: a tower [`Layer`]/[`Service`] that answers requests
//! under the engine path and passes everything else to the inner service
//! (so REST routes share the port), and a standalone server
//! ([`listen`], [`serve`], [`serve_app`]) with graceful shutdown.
//!
//! oxio's own loop ([`serve_app`], [`serve`], [`listen`]) bounds every
//! connection in time and number
//! ([`EngineConfig::server`](crate::config::EngineConfig::server)): a
//! request head within 60 s, 5 s of idle between requests, a request body
//! at a minimum rate, at most 10 000 connections and 1024 handshakes in
//! progress. Serve an axum app with [`serve_app`] to get these. Where the
//! host application owns the socket (`axum::serve`, its own hyper loop)
//! only the engine's own bounds apply (the session limit, the polling POST
//! body deadline, the heartbeat); `axum::serve` sets no deadline at all, so
//! a client can hold descriptors by opening connections and sending nothing.
//!
//! With axum, layer the router and serve it with `axum::serve` (which
//! enables HTTP upgrades, needed for WebSocket). Turn Nagle's algorithm
//! off, as [`serve`] and Node do: otherwise a small packet sent while the
//! previous one is unacknowledged can wait up to 40 ms for a delayed ACK.
//!
//! ```no_run
//! # use oxio_engine::{config::EngineConfig, *};
//! # struct H; impl EngineHandler for H { fn on_open(&self, _: Session) {} fn on_message(&self, _: &Session, _: Message) {} fn on_close(&self, _: &Session, _: CloseReason) {} }
//! # async fn run() -> std::io::Result<()> {
//! use axum::serve::ListenerExt;
//!
//! let engine = Engine::new(EngineConfig::default(), H);
//! let app = axum::Router::new()
//!     .route("/health", axum::routing::get(|| async { "ok" }))
//!     .layer(engine.layer());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000")
//!     .await?
//!     .tap_io(|tcp| {
//!         let _ = tcp.set_nodelay(true);
//!     });
//! axum::serve(listener, app).await
//! # }
//! ```

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{Either, Full};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, ToSocketAddrs};
use tower_layer::Layer;
use tower_service::Service;

use crate::config::ServerLimits;
use crate::limits::{Activity, AddressSlot, Limiter, Pending, Refused, TrackedIo};
use crate::sync::LockExt;
use crate::transport::{BodyDeadline, DeadlineBody};
use crate::{BoxError, Engine, EngineBody};

impl Engine {
    /// A tower layer that puts this engine in front of a service.
    pub fn layer(&self) -> EngineLayer {
        EngineLayer {
            engine: self.clone(),
        }
    }

    /// This engine as a service on its own: requests outside its path get 404.
    pub fn into_service(self) -> EngineService<NotFound> {
        EngineService {
            engine: self,
            inner: NotFound,
        }
    }
}

/// Wraps a service in an [`EngineService`].
#[derive(Clone, Debug)]
pub struct EngineLayer {
    engine: Engine,
}

impl EngineLayer {
    /// A layer for `engine` (same as [`Engine::layer`]).
    pub fn new(engine: Engine) -> Self {
        EngineLayer { engine }
    }
}

impl<S> Layer<S> for EngineLayer {
    type Service = EngineService<S>;

    fn layer(&self, inner: S) -> EngineService<S> {
        EngineService {
            engine: self.engine.clone(),
            inner,
        }
    }
}

/// Answers requests under the engine path (see [`Engine::serves`]) and
/// passes every other request to `inner`. Responses are
/// `Either::Left(engine body)` or `Either::Right(inner body)`.
#[derive(Clone, Debug)]
pub struct EngineService<S> {
    engine: Engine,
    inner: S,
}

impl<S> EngineService<S> {
    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}

/// The boxed future of [`EngineService`].
pub type EngineFuture<R, E> = Pin<Box<dyn Future<Output = Result<R, E>> + Send>>;

impl<S, B, ResBody> Service<Request<B>> for EngineService<S>
where
    S: Service<Request<B>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = Response<Either<EngineBody, ResBody>>;
    type Error = S::Error;
    type Future = EngineFuture<Self::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        if self.engine.serves(req.uri().path()) {
            let engine = self.engine.clone();
            Box::pin(async move { Ok(engine.handle(req).await.map(Either::Left)) })
        } else {
            // The ready clone serves this call; a fresh clone takes its place.
            let clone = self.inner.clone();
            let mut inner = std::mem::replace(&mut self.inner, clone);
            let fut = inner.call(req);
            Box::pin(async move { fut.await.map(|res| res.map(Either::Right)) })
        }
    }
}

/// The inner service of a standalone engine: 404, empty body.
#[derive(Clone, Copy, Debug, Default)]
pub struct NotFound;

impl<B> Service<Request<B>> for NotFound {
    type Response = Response<EngineBody>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Response<EngineBody>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _req: Request<B>) -> Self::Future {
        let mut res = Response::new(Full::new(Bytes::new()));
        *res.status_mut() = StatusCode::NOT_FOUND;
        std::future::ready(Ok(res))
    }
}

/// Resolves on Ctrl-C, or on SIGTERM on Unix.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

/// The listen backlog of [`listen`] (and the one to give [`bind`]): how
/// many connections the kernel completes and queues before the server
/// accepts them. `TcpListener::bind` uses 128, which overflows when a few
/// hundred clients connect at once: the kernel drops the extra SYNs and
/// those clients retry only after 1 s. Node uses 511; the kernel caps the
/// value at `net.core.somaxconn` (4096 by default since Linux 5.4).
pub const LISTEN_BACKLOG: u32 = 1024;

/// Binds a listening socket on the first address of `addr` that works,
/// with `SO_REUSEADDR` (restarts do not wait for `TIME_WAIT` sockets) and
/// the given listen `backlog` (see [`LISTEN_BACKLOG`]).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> std::io::Result<()> {
/// use oxio_engine::service::{bind, LISTEN_BACKLOG};
///
/// let listener = bind("127.0.0.1:0", LISTEN_BACKLOG).await?;
/// assert_ne!(listener.local_addr()?.port(), 0);
/// # Ok(())
/// # }
/// ```
pub async fn bind(addr: impl ToSocketAddrs, backlog: u32) -> std::io::Result<TcpListener> {
    bind_with(
        addr,
        ListenOptions {
            backlog,
            ..ListenOptions::default()
        },
    )
    .await
}

/// How [`bind_with`] and [`listen_with`] open the listening socket.
///
/// ```
/// use oxio_engine::service::{ListenOptions, LISTEN_BACKLOG};
///
/// let o = ListenOptions::default();
/// assert_eq!((o.backlog, o.reuse_port), (LISTEN_BACKLOG, false));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenOptions {
    /// The listen backlog (default [`LISTEN_BACKLOG`]).
    pub backlog: u32,
    /// `SO_REUSEPORT` (Unix only; default off): several processes (or
    /// several runtimes of one process) bind the same address and port,
    /// and the kernel spreads new connections over them (on Linux by a
    /// hash of the connection's addresses). This is how one machine runs
    /// several oxio processes on one port, each holding up to its own
    /// descriptor limit, joined by an adapter (e.g. the Redis adapter) so
    /// broadcasts reach every process's clients. Every socket sharing the
    /// port must set it, under the same user. Long-polling needs sticky
    /// sessions, which the kernel's spreading does not give (each request
    /// is a new connection): use it with WebSocket-only clients
    /// (`transports: ["websocket"]`) or put a sticky proxy in front. On
    /// other platforms asking for it fails with `Unsupported`.
    pub reuse_port: bool,
}

impl Default for ListenOptions {
    fn default() -> Self {
        ListenOptions {
            backlog: LISTEN_BACKLOG,
            reuse_port: false,
        }
    }
}

/// [`bind`] with [`ListenOptions`]: the backlog and `SO_REUSEPORT`.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> std::io::Result<()> {
/// use oxio_engine::service::{bind_with, ListenOptions};
///
/// let opts = ListenOptions { reuse_port: true, ..ListenOptions::default() };
/// let a = bind_with("127.0.0.1:0", opts).await?;
/// // A second socket on the same port: allowed because both ask for it.
/// # #[cfg(unix)] {
/// let b = bind_with(a.local_addr()?, opts).await?;
/// assert_eq!(a.local_addr()?, b.local_addr()?);
/// # }
/// # Ok(())
/// # }
/// ```
pub async fn bind_with(
    addr: impl ToSocketAddrs,
    options: ListenOptions,
) -> std::io::Result<TcpListener> {
    let mut last = None;
    for addr in tokio::net::lookup_host(addr).await? {
        match bind_one(addr, options) {
            Ok(listener) => return Ok(listener),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the address resolved to nothing",
        )
    }))
}

fn bind_one(addr: SocketAddr, options: ListenOptions) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    #[cfg(not(windows))]
    socket.set_reuseaddr(true)?;
    if options.reuse_port {
        set_reuse_port(&socket)?;
    }
    socket.bind(addr)?;
    socket.listen(options.backlog)
}

#[cfg(all(unix, not(any(target_os = "solaris", target_os = "illumos"))))]
fn set_reuse_port(socket: &tokio::net::TcpSocket) -> std::io::Result<()> {
    socket.set_reuseport(true)
}

#[cfg(not(all(unix, not(any(target_os = "solaris", target_os = "illumos")))))]
fn set_reuse_port(_: &tokio::net::TcpSocket) -> std::io::Result<()> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "SO_REUSEPORT is not available on this platform",
    ))
}

/// Serves `engine` alone on `addr` until Ctrl-C or SIGTERM, then shuts
/// down gracefully (see [`serve`]). The socket is bound by [`bind`] with
/// [`LISTEN_BACKLOG`].
///
/// ```no_run
/// # use oxio_engine::{config::EngineConfig, *};
/// # struct H; impl EngineHandler for H { fn on_open(&self, _: Session) {} fn on_message(&self, _: &Session, _: Message) {} fn on_close(&self, _: &Session, _: CloseReason) {} }
/// # #[tokio::main] async fn main() -> std::io::Result<()> {
/// let engine = Engine::new(EngineConfig::default(), H);
/// oxio_engine::service::listen("0.0.0.0:3000", engine).await
/// # }
/// ```
pub async fn listen(addr: impl ToSocketAddrs, engine: Engine) -> std::io::Result<()> {
    listen_with(addr, engine, ListenOptions::default()).await
}

/// [`listen`] with [`ListenOptions`], e.g. `SO_REUSEPORT` so several
/// server processes share one port (see [`ListenOptions::reuse_port`]).
///
/// ```no_run
/// # use oxio_engine::{config::EngineConfig, *};
/// # struct H; impl EngineHandler for H { fn on_open(&self, _: Session) {} fn on_message(&self, _: &Session, _: Message) {} fn on_close(&self, _: &Session, _: CloseReason) {} }
/// # #[tokio::main] async fn main() -> std::io::Result<()> {
/// use oxio_engine::service::{listen_with, ListenOptions};
///
/// let engine = Engine::new(EngineConfig::default(), H);
/// let opts = ListenOptions { reuse_port: true, ..ListenOptions::default() };
/// listen_with("0.0.0.0:3000", engine, opts).await
/// # }
/// ```
pub async fn listen_with(
    addr: impl ToSocketAddrs,
    engine: Engine,
    options: ListenOptions,
) -> std::io::Result<()> {
    let listener = bind_with(addr, options).await?;
    tracing::info!(addr = ?listener.local_addr().ok(), "listening");
    serve(listener, engine, shutdown_signal()).await;
    Ok(())
}

/// Serves `engine` alone (HTTP/1.1 with upgrades, `TCP_NODELAY` on every
/// connection) on `listener` until `signal` resolves: [`serve_app`] with a
/// 404 for every path outside the engine's.
///
/// ```
/// # use oxio_engine::{config::EngineConfig, *};
/// # struct H; impl EngineHandler for H { fn on_open(&self, _: Session) {} fn on_message(&self, _: &Session, _: Message) {} fn on_close(&self, _: &Session, _: CloseReason) {} }
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let engine = Engine::new(EngineConfig::default(), H);
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
/// // Stops at once: the signal is already resolved.
/// oxio_engine::service::serve(listener, engine, async {}).await;
/// # }
/// ```
pub async fn serve(listener: TcpListener, engine: Engine, signal: impl Future<Output = ()>) {
    serve_app(listener, engine, NotFound, signal).await;
}

/// The request body [`serve_app`] hands to services: hyper's, with the
/// engine's body deadline ([`EngineConfig::body_timeout`](crate::config::EngineConfig::body_timeout),
/// [`body_min_rate`](crate::config::EngineConfig::body_min_rate)).
pub type ServeBody = DeadlineBody<hyper::body::Incoming>;

/// Serves `engine` in front of `app` (requests outside the engine's path
/// go to `app`, e.g. an axum `Router`) on `listener` until `signal`
/// resolves, with HTTP/1.1, upgrades and `TCP_NODELAY` on every connection.
/// The peer address reaches [`HandshakeInfo`](crate::HandshakeInfo) and
/// `app` as a `SocketAddr` request extension.
///
/// Every connection is bounded ([`EngineConfig::server`](crate::config::EngineConfig::server),
/// [`ServerLimits`]): a request head must be
/// complete within `header_timeout`, a connection with no request in
/// progress is closed after `idle_timeout` of silence, every request body
/// (the app's too) must arrive within the engine's body deadline (else 408
/// and the connection is closed); past `max_connections`,
/// `max_connections_per_ip` or `max_pending_connections` a new connection
/// gets `503 Service Unavailable` and is closed, with a log line.
///
/// When `signal` resolves: stops accepting, closes every session with
/// `server shutting down` (held polls answered, WebSockets closed), lets
/// open connections finish their current exchange (at most
/// `shutdown_timeout`), and returns.
///
/// ```
/// # use oxio_engine::{config::EngineConfig, *};
/// # struct H; impl EngineHandler for H { fn on_open(&self, _: Session) {} fn on_message(&self, _: &Session, _: Message) {} fn on_close(&self, _: &Session, _: CloseReason) {} }
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let engine = Engine::new(EngineConfig::default(), H);
/// let app = axum::Router::new().route("/health", axum::routing::get(|| async { "ok" }));
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
/// oxio_engine::service::serve_app(listener, engine, app, async {}).await;
/// # }
/// ```
pub async fn serve_app<S, ResBody>(
    listener: TcpListener,
    engine: Engine,
    app: S,
    signal: impl Future<Output = ()>,
) where
    S: Service<Request<ServeBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    ResBody: Body<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<BoxError>,
{
    let service = engine.layer().layer(app);
    let limits = engine.config().server.clone();
    let body_deadline = BodyDeadline::from_config(engine.config());
    let limiter = Limiter::new(limits.clone());
    let (close_tx, close_rx) = tokio::sync::watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    tokio::pin!(signal);
    loop {
        tokio::select! {
            _ = &mut signal => break,
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // EMFILE and the like: wait for descriptors to free.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let (conn, pending) = match limiter.admit(peer.ip()) {
                    Ok(guards) => guards,
                    Err(Refused) => {
                        connections.spawn(refuse(stream));
                        continue;
                    }
                };
                // No Nagle (as Node's HTTP server): a small frame written
                // while the previous one is unacknowledged would otherwise
                // wait for the peer's delayed ACK, up to 40 ms.
                if let Err(e) = stream.set_nodelay(true) {
                    tracing::debug!(error = %e, "cannot set TCP_NODELAY");
                }
                let activity = Arc::new(Activity::default());
                let proxy = limiter.is_trusted_proxy(peer.ip()).then(|| Proxy {
                    limiter: limiter.clone(),
                    upgraded: conn.slot(),
                });
                let io = TrackedIo::new(stream, activity.clone(), conn);
                let shared = Connection {
                    peer,
                    pending,
                    activity,
                    body_deadline,
                    proxy,
                };
                connections.spawn(serve_connection(
                    io,
                    shared,
                    service.clone(),
                    limits.clone(),
                    close_rx.clone(),
                ));
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    engine.shutdown();
    let _ = close_tx.send(true);
    let drain = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(limits.shutdown_timeout, drain)
        .await
        .is_err()
    {
        tracing::warn!(
            "connections still open {:?} after shutdown began; dropping them",
            limits.shutdown_timeout
        );
    }
    // Let WebSocket tasks write their close frames.
    tokio::time::sleep(Duration::from_millis(50)).await;
}

/// The answer to a connection past a limit: a 503 written at once (the
/// request is not read), then the socket is closed; a peer that does not
/// take it within a second is dropped.
async fn refuse(mut stream: tokio::net::TcpStream) {
    use tokio::io::AsyncWriteExt;
    const ANSWER: &[u8] =
        b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
    let write = async {
        stream.write_all(ANSWER).await?;
        stream.shutdown().await
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), write).await;
}

/// What the requests of one connection share.
struct Connection {
    peer: SocketAddr,
    pending: Pending,
    activity: Arc<Activity>,
    body_deadline: BodyDeadline,
    /// Set when the peer is a trusted proxy: each request then counts
    /// against the client address it names.
    proxy: Option<Proxy>,
}

/// The per-address accounting of a trusted proxy's connection.
struct Proxy {
    limiter: Arc<Limiter>,
    /// The connection's address slot: an upgrade request's slot moves here
    /// and lives as long as the WebSocket.
    upgraded: Arc<std::sync::Mutex<Option<AddressSlot>>>,
}

/// The answer to a request past the per-address limit.
fn busy<B>() -> Response<Either<crate::EngineBody, B>> {
    let mut res = Response::new(Either::Left(Full::new(Bytes::new())));
    *res.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    res
}

async fn serve_connection<S, ResBody>(
    io: TrackedIo<tokio::net::TcpStream>,
    shared: Connection,
    service: EngineService<S>,
    limits: ServerLimits,
    mut close_rx: tokio::sync::watch::Receiver<bool>,
) where
    S: Service<Request<ServeBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    ResBody: Body<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<BoxError>,
{
    let shared = Arc::new(shared);
    let activity = shared.activity.clone();
    let hyper_service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
        shared.pending.release();
        let in_progress = shared.activity.request();
        let (mut parts, body) = req.into_parts();
        let admitted = match &shared.proxy {
            None => Ok(None),
            Some(p) => p.limiter.admit_request(shared.peer.ip(), &parts.headers),
        };
        parts.extensions.insert(shared.peer);
        let req = Request::from_parts(parts, DeadlineBody::new(body, shared.body_deadline));
        let fut = admitted.is_ok().then(|| service.clone().call(req));
        // Only a counted request (through a trusted proxy) needs the
        // connection's slot holder afterwards.
        let holder = match (&admitted, &shared.proxy) {
            (Ok(Some(_)), Some(p)) => Some(p.upgraded.clone()),
            _ => None,
        };
        async move {
            let (Some(fut), Ok(slot)) = (fut, admitted) else {
                drop(in_progress);
                return Ok(busy());
            };
            let res = fut.await;
            if let (Ok(r), Some(holder), Some(slot)) = (&res, holder, slot) {
                if r.status() == StatusCode::SWITCHING_PROTOCOLS {
                    *holder.locked() = Some(slot);
                }
            }
            drop(in_progress);
            res
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let conn = builder
        .serve_connection(TokioIo::new(io), hyper_service)
        .with_upgrades();
    tokio::pin!(conn);
    tokio::select! {
        r = conn.as_mut() => {
            if let Err(e) = r {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        }
        () = activity.idle_for(limits.idle_timeout) => {
            tracing::debug!("idle connection closed");
        }
        _ = close_rx.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
    activity.unwatch();
}
