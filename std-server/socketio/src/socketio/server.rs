//! The Socket.IO server: configuration, the namespace registry, and the
//! [`EngineHandler`] the engine drives.

use super::client::Client;
use super::namespace::{
    normalize, template_for, DynEntry, Namespace, NsHandle, NsMatcher, NsPattern, NsTemplate,
    Registry,
};
use super::observer::{Observer, Observers};
use super::{ConnectHandler, Extensions, Io, NsPatternError};
use crate::serve_client::ServeClient;
use oxio_adapter::{AdapterFactory, ConnectionStateRecovery, MemoryAdapterFactory};
use oxio_codec::Limits;
use oxio_engine::config::{EngineConfig, PerMessageDeflate};
use oxio_engine::observe::EngineObserver;
use oxio_engine::service::EngineLayer;
use oxio_engine::sync::{LockExt, RwLockExt};
use oxio_engine::{CloseReason, Engine, EngineHandler, Message, Session};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// What to do when a client's outbound queue (the engine session's bounded
/// buffer) is full and a non-volatile packet must go. Volatile packets are
/// always dropped instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OverflowPolicy {
    /// Close the client's session (`forced close`): a slow reader must not
    /// grow the server's memory. The default.
    #[default]
    Disconnect,
    /// Drop the packet and report [`EmitError::SlowClient`](super::EmitError::SlowClient)
    /// (nothing of it is queued: a packet's frames go in whole or not at all).
    DropPacket,
}

/// Server settings, with Node's defaults where Node has one.
#[derive(Debug, Clone)]
pub struct SocketIoConfig {
    /// Time a client has to join a namespace after the Engine.IO handshake;
    /// a session that has joined none by then is closed (`forced close`).
    /// Node's Server option `connectTimeout`, default 45 s. Engine.IO v3
    /// (Socket.IO v2) clients are joined to `/` on open. The
    /// only setting of its kind: [`EngineConfig`](crate::config::EngineConfig)
    /// has none, as in Node.
    pub connect_timeout: Duration,
    /// Default timeout of `emit_with_ack` (default 5 s).
    pub ack_timeout: Duration,
    /// Most acks one socket may be awaited for at once; more fail with
    /// `TooManyPending` (default 1024).
    pub max_pending_acks: usize,
    /// Events queued for one socket's handlers before the session is closed
    /// as a flood (default 1024). Handlers are started as events arrive, so
    /// the queue only fills when the runtime cannot keep up.
    pub inbound_queue_len: usize,
    /// Namespaces one session may join at once (default 64); further
    /// CONNECTs get `Too many namespaces`.
    pub max_namespaces_per_client: usize,
    /// Remove a dynamic child namespace when its last socket leaves (Node's
    /// `cleanupEmptyChildNamespaces`, default false).
    pub cleanup_empty_child_namespaces: bool,
    /// A full outbound queue.
    pub overflow: OverflowPolicy,
    /// Decoder limits (packet size, attachments, depth...).
    pub limits: Limits,
    /// Connection state recovery (Node's `connectionStateRecovery`; off
    /// by default, as in Node): each v5 socket gets a private id (`pid`,
    /// sent in its CONNECT reply), every event emitted without ack and not
    /// volatile gets an offset as its last argument and is kept, and a
    /// client that comes back within
    /// [`max_disconnection_duration`](ConnectionStateRecovery::max_disconnection_duration)
    /// with its pid and last offset gets its socket back (same id, rooms
    /// and [`SocketData`](super::SocketData)) and the events it missed;
    /// see [`ConnectionStateRecovery`] for the options and bounds. Works
    /// with the in-memory adapter (made automatically when no adapter is
    /// given); another adapter must implement the recovery hooks of
    /// [`Adapter`](oxio_adapter::Adapter).
    pub connection_state_recovery: Option<ConnectionStateRecovery>,
    /// The packet format of every client of this server (Node's `parser`
    /// option): [`Parser::Json`](oxio_adapter::Parser::Json), the default,
    /// or [`Parser::Msgpack`](oxio_adapter::Parser::Msgpack) for clients
    /// built with `socket.io-msgpack-parser`. A client of the other format
    /// is closed at its first packet (`parse error`), as in Node.
    pub parser: oxio_adapter::Parser,
}

impl Default for SocketIoConfig {
    fn default() -> Self {
        SocketIoConfig {
            connect_timeout: Duration::from_millis(45_000),
            ack_timeout: Duration::from_secs(5),
            max_pending_acks: 1024,
            inbound_queue_len: 1024,
            max_namespaces_per_client: 64,
            cleanup_empty_child_namespaces: false,
            overflow: OverflowPolicy::Disconnect,
            limits: Limits::default(),
            connection_state_recovery: None,
            parser: oxio_adapter::Parser::Json,
        }
    }
}

/// Builds a [`SocketIo`].
///
/// ```
/// use std::time::Duration;
/// use oxio_server::socketio::{OverflowPolicy, SocketIo};
///
/// let sio = SocketIo::builder()
///     .connect_timeout(Duration::from_secs(10))
///     .ack_timeout(Duration::from_secs(2))
///     .max_pending_acks(64)
///     .overflow(OverflowPolicy::Disconnect)
///     .with_state(String::from("shared"))
///     .build();
/// assert_eq!(sio.config().ack_timeout, Duration::from_secs(2));
/// ```
pub struct SocketIoBuilder {
    config: SocketIoConfig,
    engine: EngineConfig,
    state: Extensions,
    adapter: Option<Arc<dyn AdapterFactory>>,
    observers: Vec<Arc<dyn Observer>>,
    engine_observer: Option<Arc<dyn EngineObserver>>,
    serve_client: Option<ServeClient>,
}

impl SocketIoBuilder {
    /// See [`SocketIoConfig::connect_timeout`].
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.config.connect_timeout = d;
        self
    }

    /// See [`SocketIoConfig::ack_timeout`].
    pub fn ack_timeout(mut self, d: Duration) -> Self {
        self.config.ack_timeout = d;
        self
    }

    /// See [`SocketIoConfig::max_pending_acks`].
    pub fn max_pending_acks(mut self, n: usize) -> Self {
        self.config.max_pending_acks = n;
        self
    }

    /// See [`SocketIoConfig::inbound_queue_len`].
    pub fn inbound_queue_len(mut self, n: usize) -> Self {
        self.config.inbound_queue_len = n;
        self
    }

    /// See [`SocketIoConfig::max_namespaces_per_client`].
    pub fn max_namespaces_per_client(mut self, n: usize) -> Self {
        self.config.max_namespaces_per_client = n;
        self
    }

    /// See [`SocketIoConfig::cleanup_empty_child_namespaces`].
    pub fn cleanup_empty_child_namespaces(mut self, on: bool) -> Self {
        self.config.cleanup_empty_child_namespaces = on;
        self
    }

    /// See [`SocketIoConfig::overflow`].
    pub fn overflow(mut self, policy: OverflowPolicy) -> Self {
        self.config.overflow = policy;
        self
    }

    /// See [`SocketIoConfig::parser`].
    ///
    /// ```
    /// use oxio_server::socketio::{Parser, SocketIo};
    ///
    /// let sio = SocketIo::builder().parser(Parser::Msgpack).build();
    /// assert_eq!(sio.config().parser, Parser::Msgpack);
    /// ```
    pub fn parser(mut self, parser: oxio_adapter::Parser) -> Self {
        self.config.parser = parser;
        self
    }

    /// See [`SocketIoConfig::limits`].
    pub fn limits(mut self, limits: Limits) -> Self {
        self.config.limits = limits;
        self
    }

    /// Turns connection state recovery on; see
    /// [`SocketIoConfig::connection_state_recovery`].
    ///
    /// ```
    /// use oxio_server::socketio::{ConnectionStateRecovery, SocketIo};
    /// use std::time::Duration;
    ///
    /// let sio = SocketIo::builder()
    ///     .connection_state_recovery(ConnectionStateRecovery {
    ///         max_disconnection_duration: Duration::from_secs(30),
    ///         ..Default::default()
    ///     })
    ///     .build();
    /// assert!(sio.config().connection_state_recovery.is_some());
    /// ```
    pub fn connection_state_recovery(mut self, options: ConnectionStateRecovery) -> Self {
        self.config.connection_state_recovery = Some(options);
        self
    }

    /// Replaces the whole configuration.
    pub fn config(mut self, config: SocketIoConfig) -> Self {
        self.config = config;
        self
    }

    /// Adds server state, read by the [`State`](super::extract::State) extractor.
    pub fn with_state<T: Clone + Send + Sync + 'static>(self, state: T) -> Self {
        self.state.insert(state);
        self
    }

    /// The Engine.IO options (path, heartbeat, transports, CORS...) of the
    /// engine that [`build_layer`](Self::build_layer) makes.
    pub fn engine_config(mut self, config: EngineConfig) -> Self {
        self.engine = config;
        self
    }

    /// Reports what the server does to `observer`, on both layers: the
    /// Socket.IO one ([`Observer`](super::Observer), as
    /// [`Io::observe`](super::Io::observe) installs it later) and the
    /// Engine.IO one ([`EngineObserver`], in the engine that
    /// [`build_engine`](Self::build_engine) or [`SocketIo::engine`] makes).
    /// Called again, both observers are told, in order; past
    /// [`MAX_OBSERVERS`](super::MAX_OBSERVERS) the extra ones are ignored
    /// with a log line.
    pub fn observe<O: Observer + EngineObserver>(mut self, observer: Arc<O>) -> Self {
        if self.observers.len() >= super::MAX_OBSERVERS {
            tracing::warn!(max = super::MAX_OBSERVERS, "too many observers; ignored");
            return self;
        }
        let sio: Arc<dyn Observer> = observer.clone();
        let engine: Arc<dyn EngineObserver> = observer;
        self.observers.push(sio);
        self.engine_observer = Some(match self.engine_observer.take() {
            Some(first) => Arc::new(oxio_engine::observe::Pair(first, engine)),
            None => engine,
        });
        self
    }

    /// Counts into `metrics` (Prometheus); see [`Metrics`](crate::metrics::Metrics).
    ///
    /// ```
    /// use oxio_server::metrics::Metrics;
    /// use oxio_server::socketio::SocketIo;
    ///
    /// let metrics = Metrics::new();
    /// let (engine, _io) = SocketIo::builder().metrics(&metrics).build_engine();
    /// assert!(metrics.encode().contains("oxio_engine_handshakes_total"));
    /// # let _ = engine;
    /// ```
    #[cfg(feature = "metrics")]
    pub fn metrics(self, metrics: &crate::metrics::Metrics) -> Self {
        self.observe(metrics.observer())
    }

    /// Serves the official browser client under the engine path, as Node's
    /// `serveClient` (off by default here: the library cannot know where
    /// the client's npm package is); see [`ServeClient`].
    pub fn serve_client(mut self, client: ServeClient) -> Self {
        self.serve_client = Some(client);
        self
    }

    /// Turns on WebSocket compression (permessage-deflate, Node's
    /// `perMessageDeflate`; off by default) in the engine that
    /// [`build_layer`](Self::build_layer) makes: sets
    /// [`EngineConfig::per_message_deflate`] (call it after
    /// [`engine_config`](Self::engine_config), which replaces the whole
    /// engine configuration).
    ///
    /// ```
    /// use oxio_server::config::PerMessageDeflate;
    /// use oxio_server::socketio::SocketIo;
    ///
    /// let (layer, _io) = SocketIo::builder()
    ///     .per_message_deflate(PerMessageDeflate { threshold: 512, ..PerMessageDeflate::default() })
    ///     .build_layer();
    /// # let _ = layer;
    /// ```
    pub fn per_message_deflate(mut self, options: PerMessageDeflate) -> Self {
        self.engine.per_message_deflate = Some(options);
        self
    }

    /// Uses another adapter than the in-memory one.
    pub fn with_adapter(mut self, factory: impl AdapterFactory) -> Self {
        self.adapter = Some(Arc::new(factory));
        self
    }

    /// The server, its engine (with [`engine_config`](Self::engine_config))
    /// as a tower layer for an axum or hyper app, and the [`Io`] handle:
    /// everything an app needs in one call.
    ///
    /// ```
    /// use oxio_server::config::EngineConfig;
    /// use oxio_server::socketio::{SocketIo, SocketRef};
    /// use std::time::Duration;
    ///
    /// let (layer, io) = SocketIo::builder()
    ///     .ack_timeout(Duration::from_secs(2))
    ///     .engine_config(EngineConfig { path: "/rt/".into(), ..EngineConfig::default() })
    ///     .build_layer();
    /// io.ns("/", |s: SocketRef| { let _ = s.emit("hello", &()); });
    /// let app: axum::Router = axum::Router::new().layer(layer);
    /// # let _ = app;
    /// ```
    pub fn build_layer(self) -> (EngineLayer, Io) {
        let (engine, io) = self.build_engine();
        (engine.layer(), io)
    }

    /// Like [`build_layer`](Self::build_layer), with the [`Engine`] itself
    /// (for [`oxio_engine::service::listen`], or [`Engine::handle`] by hand).
    pub fn build_engine(mut self) -> (Engine, Io) {
        let config = std::mem::take(&mut self.engine);
        let sio = self.build();
        let io = sio.io();
        (sio.engine(config), io)
    }

    /// The server alone: the [`EngineHandler`] to give an [`Engine`]. The
    /// namespace `/` exists from the start (with a handler that does
    /// nothing, as in Node); give it one with `io.ns("/", ..)`.
    pub fn build(self) -> SocketIo {
        // As Node: with recovery on and no adapter given, the in-memory
        // adapter that records (Node's `SessionAwareAdapter`).
        let adapter =
            self.adapter
                .unwrap_or_else(|| match &self.config.connection_state_recovery {
                    Some(csr) => Arc::new(MemoryAdapterFactory::with_recovery(csr.clone())),
                    None => Arc::new(MemoryAdapterFactory::new()),
                });
        let inner = Arc::new(ServerInner {
            config: self.config,
            state: self.state,
            adapter_factory: adapter,
            registry: RwLock::new(Registry::default()),
            clients: Mutex::new(HashMap::new()),
            observers: {
                let observers = Observers::default();
                for o in self.observers {
                    // The builder refuses more than MAX_OBSERVERS.
                    let _ = observers.add(o);
                }
                observers
            },
            admin_data: std::sync::atomic::AtomicBool::new(false),
            engine_observer: self.engine_observer,
            serve_client: self.serve_client,
        });
        let root = Namespace::new("/".into(), template_for(|| {}), false, &inner);
        inner.registry_write().statics.insert("/".into(), root);
        SocketIo { inner }
    }
}

pub(crate) struct ServerInner {
    pub(crate) config: SocketIoConfig,
    pub(crate) state: Extensions,
    pub(crate) adapter_factory: Arc<dyn AdapterFactory>,
    registry: RwLock<Registry>,
    clients: Mutex<HashMap<String, Arc<Client>>>,
    /// Monitoring hooks ([`Io::observe`]).
    pub(crate) observers: Observers,
    /// The admin UI is installed: the data other nodes see of a socket
    /// carries `_admin` (client id, transport), as Node's does.
    pub(crate) admin_data: std::sync::atomic::AtomicBool,
    engine_observer: Option<Arc<dyn EngineObserver>>,
    serve_client: Option<ServeClient>,
}

impl ServerInner {
    pub(crate) fn registry_write(&self) -> std::sync::RwLockWriteGuard<'_, Registry> {
        self.registry.writing()
    }

    pub(crate) fn registry_read(&self) -> std::sync::RwLockReadGuard<'_, Registry> {
        self.registry.reading()
    }

    /// The namespace a CONNECT for `name` joins (making a dynamic child if
    /// a pattern matches), with a connect counted as in progress.
    pub(crate) fn namespace_for_connect(self: &Arc<Self>, name: &str) -> Option<Arc<Namespace>> {
        {
            let registry = self.registry_read();
            if let Some(ns) = registry.get(name) {
                ns.begin_connect();
                return Some(ns);
            }
            registry.dynamic_for(name)?;
        }
        let mut registry = self.registry_write();
        if let Some(ns) = registry.get(name) {
            ns.begin_connect();
            return Some(ns);
        }
        let template = registry.dynamic_for(name)?;
        let name: Arc<str> = name.into();
        let ns = Namespace::new(name.clone(), template, true, self);
        ns.begin_connect();
        registry.children.insert(name, ns.clone());
        tracing::debug!(ns = %ns.name(), "child namespace created");
        Some(ns)
    }

    /// The namespace `/` (made by `build`; remade if it were missing).
    pub(crate) fn root(self: &Arc<Self>) -> Arc<Namespace> {
        if let Some(ns) = self.registry_read().statics.get("/") {
            return ns.clone();
        }
        self.add_static("/", || {});
        self.registry_read()
            .statics
            .get("/")
            .cloned()
            .unwrap_or_else(|| Namespace::new("/".into(), template_for(|| {}), false, self))
    }

    pub(crate) fn namespace(&self, name: &str) -> Option<Arc<Namespace>> {
        self.registry_read().get(&normalize(name))
    }

    pub(crate) fn add_static<H: ConnectHandler<M>, M: 'static>(
        self: &Arc<Self>,
        name: &str,
        handler: H,
    ) -> NsHandle {
        let name = normalize(name);
        let handler = super::handler::erase_connect(handler);
        let mut registry = self.registry_write();
        if let Some(ns) = registry.statics.get(name.as_str()) {
            ns.template().set_handler(handler);
            return NsHandle::new(name, ns.template().clone());
        }
        let template = Arc::new(NsTemplate::new(handler));
        let ns = Namespace::new(name.as_str().into(), template.clone(), false, self);
        registry.statics.insert(name.as_str().into(), ns);
        NsHandle::new(name, template)
    }

    pub(crate) fn add_dynamic<H: ConnectHandler<M>, M: 'static>(
        &self,
        label: String,
        matcher: NsMatcher,
        handler: H,
    ) -> NsHandle {
        let template = template_for(handler);
        self.registry_write().dynamics.push(DynEntry {
            matcher,
            template: template.clone(),
        });
        NsHandle::new(label, template)
    }

    pub(crate) fn add_pattern<H: ConnectHandler<M>, M: 'static>(
        &self,
        pattern: &str,
        handler: H,
    ) -> Result<NsHandle, NsPatternError> {
        let pattern = normalize(pattern);
        let parsed = NsPattern::parse(&pattern)?;
        Ok(self.add_dynamic(pattern, NsMatcher::Pattern(parsed), handler))
    }

    pub(crate) fn add_predicate<H: ConnectHandler<M>, M: 'static>(
        &self,
        predicate: impl Fn(&str) -> bool + Send + Sync + 'static,
        handler: H,
    ) -> NsHandle {
        self.add_dynamic(
            "<predicate>".to_owned(),
            NsMatcher::Predicate(Arc::new(predicate)),
            handler,
        )
    }

    /// Every namespace (static, and dynamic children made so far).
    #[cfg(feature = "admin-ui")]
    pub(crate) fn namespaces(&self) -> Vec<Arc<Namespace>> {
        let r = self.registry_read();
        r.statics
            .values()
            .chain(r.children.values())
            .cloned()
            .collect()
    }

    /// The sessions whose transport is polling.
    #[cfg(feature = "admin-ui")]
    pub(crate) fn polling_count(&self) -> usize {
        self.clients
            .locked()
            .values()
            .filter(|c| super::transport_of(c.session()) == "polling")
            .count()
    }

    pub(crate) fn client_count(&self) -> usize {
        self.clients.locked().len()
    }

    pub(crate) fn close_all(&self, reason: CloseReason) {
        let clients: Vec<Arc<Client>> = self.clients.locked().values().cloned().collect();
        for client in clients {
            client.close_session(reason);
        }
    }
}

/// Spawns on the current Tokio runtime; logs and gives up outside one.
pub(crate) fn spawn<F>(fut: F) -> Option<tokio::task::JoinHandle<()>>
where
    F: Future<Output = ()> + Send + 'static,
{
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => Some(handle.spawn(fut)),
        Err(_) => {
            tracing::error!("oxio-server's Socket.IO layer must run inside a Tokio runtime");
            None
        }
    }
}

/// The Socket.IO server: give it to the engine as its [`EngineHandler`];
/// use [`SocketIo::io`] to register namespaces and emit.
///
/// ```
/// use oxio_server::socketio::{AckSender, Data, SocketIo, SocketRef};
///
/// let sio = SocketIo::builder().build();
/// let io = sio.io();
/// io.ns("/", |socket: SocketRef, Data(auth): Data<serde_json::Value>| {
///     let _ = socket.emit("auth", &auth);
///     socket.on("echo", |s: SocketRef, Data(v): Data<serde_json::Value>, ack: AckSender| {
///         let _ = ack.send(&v);
///         let _ = s.emit("echo", &v);
///     });
/// });
/// // `sio` goes to the engine: Arc::new(sio) as Arc<dyn EngineHandler>.
/// ```
#[derive(Clone)]
pub struct SocketIo {
    inner: Arc<ServerInner>,
}

impl SocketIo {
    /// A builder with the default configuration.
    pub fn builder() -> SocketIoBuilder {
        SocketIoBuilder {
            config: SocketIoConfig::default(),
            engine: EngineConfig::default(),
            state: Extensions::default(),
            adapter: None,
            observers: Vec::new(),
            engine_observer: None,
            serve_client: None,
        }
    }

    /// An [`Engine`] driving this server, with `config` completed by the
    /// builder's [`observe`](SocketIoBuilder::observe) /
    /// [`metrics`](SocketIoBuilder::metrics) observer and its
    /// [`serve_client`](SocketIoBuilder::serve_client) route (unless
    /// `config` sets its own).
    ///
    /// ```
    /// use oxio_server::config::EngineConfig;
    /// use oxio_server::socketio::SocketIo;
    ///
    /// let sio = SocketIo::builder().build();
    /// let engine = sio.engine(EngineConfig::default());
    /// assert!(engine.serves("/socket.io/"));
    /// ```
    pub fn engine(&self, mut config: EngineConfig) -> Engine {
        if config.observer.is_none() {
            config.observer = self.inner.engine_observer.clone();
        }
        if config.extra_route.is_none() {
            if let Some(client) = &self.inner.serve_client {
                config.extra_route = Some(client.route(&config.path));
            }
        }
        Engine::new(config, self.clone())
    }

    /// A server with the default options, its engine as a tower layer, and
    /// the [`Io`] handle (socketioxide's `SocketIo::new_layer`). See
    /// [`SocketIoBuilder::build_layer`] to set options.
    ///
    /// ```no_run
    /// use oxio_server::socketio::{Data, SocketIo, SocketRef};
    ///
    /// # async fn run() -> std::io::Result<()> {
    /// let (layer, io) = SocketIo::new_layer();
    /// io.ns("/", |s: SocketRef| {
    ///     s.on("ping", |s: SocketRef, Data(n): Data<u32>| { let _ = s.emit("pong", &(n,)); });
    /// });
    /// let app = axum::Router::new().layer(layer);
    /// axum::serve(tokio::net::TcpListener::bind("127.0.0.1:3000").await?, app).await
    /// # }
    /// ```
    pub fn new_layer() -> (EngineLayer, Io) {
        Self::builder().build_layer()
    }

    /// The handle to register namespaces and emit with.
    pub fn io(&self) -> Io {
        Io::new(self.inner.clone())
    }

    /// The configuration.
    pub fn config(&self) -> &SocketIoConfig {
        &self.inner.config
    }

    fn client(&self, session: &Session) -> Option<Arc<Client>> {
        self.inner.clients.locked().get(session.sid()).cloned()
    }
}

impl std::fmt::Debug for SocketIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketIo")
            .field("clients", &self.inner.client_count())
            .finish()
    }
}

impl EngineHandler for SocketIo {
    fn on_open(&self, session: Session) {
        let client = Client::new(session.clone(), self.inner.clone());
        self.inner
            .clients
            .locked()
            .insert(session.sid().to_owned(), client.clone());
        self.inner.observers.each(|o| o.session_opened(&session));
        client.start();
    }

    fn on_message(&self, session: &Session, msg: Message) {
        self.inner.observers.each(|o| o.packet_in(session, &msg));
        if let Some(client) = self.client(session) {
            client.on_message(msg);
        }
    }

    fn on_close(&self, session: &Session, reason: CloseReason) {
        let client = self.inner.clients.locked().remove(session.sid());
        if let Some(client) = client {
            client.on_close(reason);
        }
        self.inner
            .observers
            .each(|o| o.session_closed(session, reason));
    }
}
