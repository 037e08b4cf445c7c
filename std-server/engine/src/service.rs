//! Mounting the engine: a tower [`Layer`]/[`Service`] that answers requests
//! under the engine path and passes everything else to the inner service
//! (so REST routes share the port), and a standalone server
//! ([`listen`], [`serve`]) with graceful shutdown.
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
    let mut last = None;
    for addr in tokio::net::lookup_host(addr).await? {
        match bind_one(addr, backlog) {
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

fn bind_one(addr: SocketAddr, backlog: u32) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    #[cfg(not(windows))]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(backlog)
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
    let listener = bind(addr, LISTEN_BACKLOG).await?;
    tracing::info!(addr = ?listener.local_addr().ok(), "listening");
    serve(listener, engine, shutdown_signal()).await;
    Ok(())
}

/// Serves `engine` alone (HTTP/1.1 with upgrades, `TCP_NODELAY` on every
/// connection) on `listener` until `signal` resolves. Then: stops accepting, closes every session with
/// `server shutting down` (held polls answered, WebSockets closed), lets
/// open connections finish their current exchange (at most 5 s), and
/// returns. The peer address reaches [`HandshakeInfo`](crate::HandshakeInfo).
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
    let service = engine.clone().into_service();
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
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                // No Nagle (as Node's HTTP server): a small frame written
                // while the previous one is unacknowledged would otherwise
                // wait for the peer's delayed ACK, up to 40 ms.
                if let Err(e) = stream.set_nodelay(true) {
                    tracing::debug!(error = %e, "cannot set TCP_NODELAY");
                }
                let service = service.clone();
                let close_rx = close_rx.clone();
                connections.spawn(serve_connection(stream, peer, service, close_rx));
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    engine.shutdown();
    let _ = close_tx.send(true);
    let drain = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(Duration::from_secs(5), drain)
        .await
        .is_err()
    {
        tracing::warn!("connections still open after 5 s; dropping them");
    }
    // Let WebSocket tasks write their close frames.
    tokio::time::sleep(Duration::from_millis(50)).await;
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    service: EngineService<NotFound>,
    mut close_rx: tokio::sync::watch::Receiver<bool>,
) {
    let hyper_service =
        hyper::service::service_fn(move |mut req: Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(peer);
            let mut service = service.clone();
            service.call(req)
        });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .serve_connection(TokioIo::new(stream), hyper_service)
        .with_upgrades();
    tokio::pin!(conn);
    tokio::select! {
        r = conn.as_mut() => {
            if let Err(e) = r {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        }
        _ = close_rx.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}
