//! The demo application that `cargo run` starts: a chat page, a small REST
//! API with JWT login, and the Socket.IO namespaces `/` (chat, rooms,
//! devices) and `/admin` (JWT-protected).
//!
//! The `oxio-demo` package: this library, and the binary `oxio-server`
//! (`main.rs`: options, logging, the listener) that `cargo run --release`
//! at the workspace root starts. The library is the application, so the
//! tests in `tests/` drive it through its public items. Everything here
//! uses the server only through `oxio_server::...` (and the Redis adapter
//! through `oxio_redis_adapter`).
//!
//! | file | what |
//! |---|---|
//! | `lib.rs` | [`DemoConfig`], the shared [`App`] state, [`build`] |
//! | `auth.rs` | JWT (HS256) issue and verify |
//! | `rest.rs` | the REST routes and their JSON errors |
//! | `realtime.rs` | the Socket.IO namespaces `/` and `/admin` |
//! | `devices.rs` | the registry of connected devices (issue 4) |
//! | `rate_limit.rs` | the per-socket `chat:message` limit |
//! | `assets.rs` | the embedded page, and where its client script comes from |
//! | `clock.rs` | ISO-8601 and epoch-millisecond timestamps |
//! | `admin_ui.rs` | the official admin UI (`--admin-ui`): namespace `/admin-ui`, files at `/admin-ui/` |

pub mod admin_ui;
pub mod assets;
pub mod auth;
pub mod clock;
pub mod devices;
pub mod rate_limit;
pub mod realtime;
pub mod rest;

use oxio_server::adapter::AdapterFactory;
use oxio_server::metrics::Metrics;
use oxio_server::serve_client::ServeClient;
use oxio_server::socketio::{Io, SocketIo, SocketIoConfig};
use std::sync::Arc;
use std::time::Duration;

pub use auth::JwtKeys;
pub use devices::DeviceRegistry;

/// Largest REST request body accepted (64 KiB); larger bodies get 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// How long `POST /api/devices/<name>/led` waits for the device's ack
/// before answering 504 (the 5 s).
pub const LED_ACK_TIMEOUT: Duration = Duration::from_secs(5);

/// What the demo application needs besides the Engine.IO settings (those
/// belong to the engine layer `main.rs` mounts).
#[derive(Debug)]
pub struct DemoConfig {
    /// The JWT keys for `/api/login`, the Bearer-protected routes and `/admin`.
    pub jwt: JwtKeys,
    /// The browser client, served at `/socket.io/socket.io.js` and its
    /// siblings (Node's `serveClient`), or the CDN copy the page loads.
    pub client: Option<ServeClient>,
    /// The Prometheus metrics served at `/metrics`; none: no `/metrics`.
    pub metrics: Option<Metrics>,
    /// See [`LED_ACK_TIMEOUT`].
    pub led_timeout: Duration,
    /// See [`MAX_BODY_BYTES`].
    pub max_body_bytes: usize,
    /// The Socket.IO layer's settings (ack timeout, limits...).
    pub socketio: SocketIoConfig,
    /// The adapter (`--redis`: the Redis adapter, `--redis-streams`: the
    /// Redis Streams adapter); in memory when `None`.
    pub adapter: Option<DemoAdapter>,
}

/// An adapter factory for [`DemoConfig::adapter`].
#[derive(Clone)]
pub struct DemoAdapter(pub Arc<dyn AdapterFactory>);

impl std::fmt::Debug for DemoAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DemoAdapter")
    }
}

impl DemoConfig {
    /// The defaults, with the given keys: the client found as
    /// [`assets::find_client`] does, metrics on.
    pub fn new(jwt: JwtKeys) -> Self {
        // An error only if PINNED_CLIENT had no known hash (a test checks
        // it has): the page then says the client is missing.
        let client = assets::find_client(None)
            .map_err(|e| tracing::error!(error = %e, "no Socket.IO client"))
            .ok();
        DemoConfig {
            jwt,
            client,
            metrics: Some(Metrics::new()),
            led_timeout: LED_ACK_TIMEOUT,
            max_body_bytes: MAX_BODY_BYTES,
            socketio: SocketIoConfig::default(),
            adapter: None,
        }
    }
}

/// The state the REST routes and the Socket.IO handlers share.
#[derive(Debug)]
pub struct App {
    /// The Socket.IO handle (emit from REST routes, count sockets).
    pub io: Io,
    /// JWT keys.
    pub jwt: JwtKeys,
    /// Connected devices and their latest readings.
    pub devices: DeviceRegistry,
    /// The page, with its client `<script>` tag.
    pub index_html: String,
    /// See [`DemoConfig::metrics`].
    pub metrics: Option<Metrics>,
    /// See [`DemoConfig::led_timeout`].
    pub led_timeout: Duration,
}

/// Builds the application: the axum [`Router`](axum::Router) with the page
/// and the REST API, and the [`SocketIo`] server with the namespaces `/`
/// and `/admin` registered. The router does not serve `/socket.io/`: the
/// engine layer mounted in front of it does.
///
/// The Socket.IO handlers hold the shared [`App`], which holds the server's
/// [`Io`]: the two live as long as the process (the binary builds one).
pub fn build(config: DemoConfig) -> (axum::Router, SocketIo) {
    let mut builder = SocketIo::builder().config(config.socketio);
    if let Some(client) = &config.client {
        builder = builder.serve_client(client.clone());
    }
    if let Some(metrics) = &config.metrics {
        builder = builder.metrics(metrics);
    }
    if let Some(DemoAdapter(factory)) = config.adapter {
        builder = builder.with_adapter(move |ns| factory.create(ns));
    }
    let sio = builder.build();
    let app = Arc::new(App {
        io: sio.io(),
        jwt: config.jwt,
        devices: DeviceRegistry::default(),
        index_html: assets::index_html(config.client.as_ref()),
        metrics: config.metrics,
        led_timeout: config.led_timeout,
    });
    realtime::register(&app);
    let router = rest::router(app, config.max_body_bytes);
    (router, sio)
}
