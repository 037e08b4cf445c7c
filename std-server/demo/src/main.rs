//! `oxio-server`: the oxio demo server (`cargo run --release`).
//!
//! Parses the command line (with environment fallbacks), sets up logging,
//! builds the demo application ([`demo::build`]: the page, the REST API and
//! the Socket.IO namespaces), puts Socket.IO in front of it
//! ([`socketio_engine`]) and serves both with oxio's server loop (which
//! bounds every connection in time and number) until Ctrl-C or SIGTERM,
//! then closes every session with `server shutting down` and exits.
#![forbid(unsafe_code)]

use clap::Parser;
use core::fmt;
use oxio_demo as demo;
use oxio_demo::{DemoConfig, JwtKeys};
use oxio_server::config::{
    Cors, CorsOrigins, EngineConfig, IpNet, PerMessageDeflate, ServerLimits,
};
use oxio_server::engine::Engine;
use oxio_server::socketio::SocketIo;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use tracing_subscriber::EnvFilter;

/// Secrets shorter than this get a warning (HS256 wants 256 bits).
const MIN_SECRET_BYTES: usize = 32;

/// The oxio demo server: a chat page, a REST API with JWT login, and
/// Socket.IO on /socket.io/.
#[derive(Debug, Parser)]
#[command(name = "oxio-server", version)]
#[command(
    long_about = "The oxio demo server: a chat page at /, a REST API (/health, /api/data, \
/api/login, /api/update, /api/profile, /api/devices), and Socket.IO on /socket.io/ \
with the namespaces / (chat, rooms, devices) and /admin (JWT in auth.token).\n\n\
Every option can also be set through the environment variable shown with it; \
the command line wins. The page loads the official Socket.IO browser client \
from /socket.io/socket.io.min.js when its npm package is installed \
(npm ci --prefix std-server/demo/web), else from the official CDN. \
Prometheus metrics: /metrics."
)]
struct Cli {
    /// Address (or host name) to listen on.
    #[arg(long, env = "OXIO_HOST", default_value = "127.0.0.1")]
    host: String,

    /// TCP port to listen on (0: any free port, printed at startup).
    #[arg(long, env = "OXIO_PORT", default_value_t = 3000)]
    port: u16,

    /// Engine.IO pingInterval: how often the server pings each client.
    #[arg(long, env = "OXIO_PING_INTERVAL", value_name = "MS", default_value_t = 25_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    ping_interval: u64,

    /// Engine.IO pingTimeout: how long a pong may take before the session
    /// is closed with "ping timeout".
    #[arg(long, env = "OXIO_PING_TIMEOUT", value_name = "MS", default_value_t = 20_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    ping_timeout: u64,

    /// Engine.IO upgradeTimeout: how long a polling → WebSocket upgrade may
    /// take; an upgrade not completed by then is dropped and the session
    /// keeps its polling transport.
    #[arg(long, env = "OXIO_UPGRADE_TIMEOUT", value_name = "MS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    upgrade_timeout: u64,

    /// Socket.IO connectTimeout: how long a client may stay, after the
    /// Engine.IO handshake, without joining a namespace before its session
    /// is closed.
    #[arg(long, env = "OXIO_CONNECT_TIMEOUT", value_name = "MS", default_value_t = 45_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    connect_timeout: u64,

    /// Socket.IO connection state recovery: how long a client that lost its
    /// connection may come back as the same socket (same id, rooms, data)
    /// and receive the events it missed (Node's maxDisconnectionDuration);
    /// 0 turns recovery off. Works with the in-memory adapter and with
    /// --redis-streams (across nodes); not with --redis, where clients get
    /// a pid but are never restored, as with Node's Redis adapter.
    #[arg(
        long,
        env = "OXIO_RECOVERY_SECS",
        value_name = "SECS",
        default_value_t = 120
    )]
    recovery_secs: u64,

    /// Engine.IO maxPayload: the largest message or polling request body
    /// accepted from a client.
    #[arg(long, env = "OXIO_MAX_PAYLOAD", value_name = "BYTES", default_value_t = 1_000_000,
          value_parser = clap::value_parser!(u64).range(1..=(u32::MAX as u64)))]
    max_payload: u64,

    /// Origins allowed to reach Socket.IO from other sites (CORS), comma
    /// separated or repeated; "*" allows any. Default: same origin only.
    #[arg(
        long = "cors-origin",
        env = "OXIO_CORS_ORIGIN",
        value_name = "ORIGIN",
        value_delimiter = ','
    )]
    cors_origins: Vec<String>,

    /// The Socket.IO packet format every client must speak: json (the
    /// default socket.io-parser) or msgpack (clients built with
    /// socket.io-msgpack-parser; the demo page speaks json).
    #[arg(long, env = "OXIO_PARSER", value_enum, default_value_t = ParserArg::Json)]
    parser: ParserArg,

    /// Also accept Engine.IO v3 (Socket.IO v2/v3-era) clients.
    #[arg(long, env = "OXIO_ALLOW_EIO3")]
    allow_eio3: bool,

    /// Compress WebSocket messages of 1024 bytes or more with
    /// permessage-deflate when the client offers it (Node's
    /// perMessageDeflate). Default: off, as in Node.
    #[arg(long, env = "OXIO_PER_MESSAGE_DEFLATE")]
    per_message_deflate: bool,

    /// The HS256 secret that signs login tokens. Default: a random secret
    /// per process (tokens stop working on restart; a warning is logged).
    #[arg(
        long,
        env = "JWT_SECRET",
        value_name = "SECRET",
        hide_env_values = true
    )]
    jwt_secret: Option<String>,

    /// The socket.io-client npm package folder (or its dist/ folder) whose
    /// files /socket.io/socket.io.min.js and its siblings serve. Default:
    /// the npm install in std-server/demo/web of the source tree this
    /// binary was built from, then ./std-server/demo/web/... and ./web/...
    /// under the current folder; none found: the page loads the pinned
    /// version from the official CDN (with its integrity hash).
    #[arg(long, env = "OXIO_CLIENT_DIR", value_name = "DIR")]
    client_dir: Option<PathBuf>,

    /// Share broadcasts, rooms and acks with other nodes (oxio or Node
    /// socket.io with @socket.io/redis-adapter) through Redis at this URL,
    /// e.g. redis://127.0.0.1:6379. Default: this process only.
    #[arg(
        long = "redis",
        env = "REDIS_URL",
        value_name = "URL",
        conflicts_with = "redis_streams"
    )]
    redis: Option<String>,

    /// Share broadcasts, rooms, acks and connection state recovery with
    /// other nodes (oxio or Node socket.io with
    /// @socket.io/redis-streams-adapter) through a Redis stream (key
    /// `socket.io`) at this URL: a client may recover on any node. Not
    /// with --redis.
    #[arg(long = "redis-streams", env = "OXIO_REDIS_STREAMS", value_name = "URL")]
    redis_streams: Option<String>,

    /// Share broadcasts, rooms and acks through a Redis Cluster with
    /// sharded pub/sub (Redis >= 7; Node's `createShardedAdapter`): some of
    /// its nodes, comma-separated, e.g.
    /// redis://127.0.0.1:7000,redis://127.0.0.1:7001. --redis-key is the
    /// channel prefix.
    #[arg(
        long = "redis-cluster",
        env = "REDIS_CLUSTER_URLS",
        value_name = "URL[,URL...]",
        value_delimiter = ',',
        conflicts_with_all = ["redis", "redis_streams"]
    )]
    redis_cluster: Vec<String>,

    /// With --redis-cluster: static, dynamic or dynamic-private (Node's
    /// `subscriptionMode`).
    #[arg(
        long,
        env = "OXIO_REDIS_SUBSCRIPTION_MODE",
        value_name = "MODE",
        default_value = "dynamic"
    )]
    redis_subscription_mode: oxio_redis_adapter::SubscriptionMode,

    /// The Redis channel prefix (Node's `key` option).
    #[arg(
        long,
        env = "OXIO_REDIS_KEY",
        value_name = "PREFIX",
        default_value = "socket.io"
    )]
    redis_key: String,

    /// Log filter: a level (error, warn, info, debug, trace) or
    /// per-module directives such as "info,oxio_server=debug".
    #[arg(long, env = "RUST_LOG", value_name = "FILTER", default_value = "info")]
    log: String,

    /// On Ctrl-C/SIGTERM, how long to wait for open connections to finish
    /// after the sessions are closed, before exiting anyway.
    #[arg(
        long,
        env = "OXIO_SHUTDOWN_TIMEOUT",
        value_name = "SECS",
        default_value_t = 10
    )]
    shutdown_timeout: u64,

    /// Longest time from accepting a connection (or from the end of the
    /// previous response on a kept-alive one) to a complete request head;
    /// the connection is then closed. Node's headersTimeout.
    #[arg(long, env = "OXIO_HEADER_TIMEOUT", value_name = "MS", default_value_t = 60_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    header_timeout: u64,

    /// Longest silence (no byte either way) of a connection with no request
    /// in progress, after it is accepted or between requests; it is then
    /// closed. Node's keepAliveTimeout.
    #[arg(long, env = "OXIO_IDLE_TIMEOUT", value_name = "MS", default_value_t = 5_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    idle_timeout: u64,

    /// Longest time a request body may take to arrive (then 408 and the
    /// connection is closed). Node's requestTimeout.
    #[arg(long, env = "OXIO_BODY_TIMEOUT", value_name = "MS", default_value_t = 300_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    body_timeout: u64,

    /// Slowest rate a request body may arrive at once --body-rate-grace has
    /// passed (then 408 and the connection is closed); 0: no minimum.
    #[arg(
        long,
        env = "OXIO_BODY_MIN_RATE",
        value_name = "BYTES_PER_SEC",
        default_value_t = 1024
    )]
    body_min_rate: u32,

    /// Time a request body may take before --body-min-rate applies.
    #[arg(
        long,
        env = "OXIO_BODY_RATE_GRACE",
        value_name = "MS",
        default_value_t = 10_000
    )]
    body_rate_grace: u64,

    /// Most connections open at once (HTTP and WebSocket); past it a new
    /// connection gets 503. 0: no limit.
    #[arg(
        long,
        env = "OXIO_MAX_CONNECTIONS",
        value_name = "N",
        default_value_t = 10_000
    )]
    max_connections: usize,

    /// Most connections open at once from one IP address; past it 503.
    /// 0: no limit (the default: behind a proxy every client has the
    /// proxy's address).
    #[arg(
        long,
        env = "OXIO_MAX_CONNECTIONS_PER_IP",
        value_name = "N",
        default_value_t = 0
    )]
    max_connections_per_ip: usize,

    /// Reverse proxies (addresses or CIDR ranges, comma-separated) whose
    /// client-address header is believed for --max-connections-per-ip:
    /// requests through them count against the client's address instead
    /// of the proxy's. Empty by default (the header is ignored).
    #[arg(
        long,
        env = "OXIO_TRUSTED_PROXIES",
        value_name = "ADDR[/BITS],...",
        value_delimiter = ','
    )]
    trusted_proxies: Vec<IpNet>,

    /// The header in which a trusted proxy passes the client's address
    /// (comma-separated list; the rightmost address that is not a trusted
    /// proxy is the client).
    #[arg(
        long,
        env = "OXIO_CLIENT_IP_HEADER",
        value_name = "NAME",
        default_value = "x-forwarded-for"
    )]
    client_ip_header: axum::http::HeaderName,

    /// Most handshakes in progress (connections whose first request head is
    /// not complete yet); past it a new connection gets 503. 0: no limit.
    #[arg(
        long,
        env = "OXIO_MAX_PENDING_CONNECTIONS",
        value_name = "N",
        default_value_t = 1024
    )]
    max_pending_connections: usize,

    /// Most Engine.IO sessions at once; past it a handshake gets 503.
    /// 0: no limit.
    #[arg(long, env = "OXIO_MAX_SESSIONS", value_name = "N", default_value_t = 0)]
    max_sessions: usize,

    /// Turn on the official Socket.IO admin UI (@socket.io/admin-ui 0.5):
    /// its server side on the namespace --admin-ui-namespace (default
    /// /admin-ui, since /admin is the demo's JWT namespace: enter it in the
    /// UI's advanced options), and the UI itself at /admin-ui/ when its
    /// files are installed (see --admin-ui-dist); the hosted UI at
    /// https://admin.socket.io is allowed by CORS. Needs
    /// --admin-ui-user and --admin-ui-password-hash, or --admin-ui-no-auth.
    #[arg(long, env = "OXIO_ADMIN_UI")]
    admin_ui: bool,

    /// The admin UI's namespace.
    #[arg(
        long,
        env = "OXIO_ADMIN_UI_NAMESPACE",
        value_name = "NSP",
        default_value = "/admin-ui"
    )]
    admin_ui_namespace: String,

    /// The admin UI's user name (basic authentication).
    #[arg(
        long,
        env = "OXIO_ADMIN_UI_USER",
        value_name = "NAME",
        requires = "admin_ui_password_hash"
    )]
    admin_ui_user: Option<String>,

    /// A bcrypt hash ($2b$...) of the admin UI's password, e.g. from
    /// `htpasswd -nbBC 10 "" PASSWORD | cut -c2-` or Python's bcrypt.
    #[arg(
        long,
        env = "OXIO_ADMIN_UI_PASSWORD_HASH",
        value_name = "HASH",
        hide_env_values = true,
        requires = "admin_ui_user"
    )]
    admin_ui_password_hash: Option<String>,

    /// Turn the admin UI's authentication off (anyone reaching the port can
    /// watch and act on every socket).
    #[arg(long, env = "OXIO_ADMIN_UI_NO_AUTH", conflicts_with = "admin_ui_user")]
    admin_ui_no_auth: bool,

    /// The admin UI may only watch (no emit, join, leave, disconnect).
    #[arg(long, env = "OXIO_ADMIN_UI_READONLY")]
    admin_ui_readonly: bool,

    /// The admin UI's mode: development (every socket, room and event) or
    /// production (server stats only).
    #[arg(long, env = "OXIO_ADMIN_UI_MODE", value_name = "MODE", default_value = "development",
          value_parser = ["development", "production"])]
    admin_ui_mode: String,

    /// This node's name in the admin UI. Default: the host name.
    #[arg(long, env = "OXIO_ADMIN_UI_SERVER_ID", value_name = "ID")]
    admin_ui_server_id: Option<String>,

    /// The folder of the admin UI's files (index.html...). Default:
    /// std-server/demo/web/node_modules/@socket.io/admin-ui/ui/dist, installed
    /// with: npm install --prefix std-server/demo/web --no-save @socket.io/admin-ui@0.5.1
    #[arg(long, env = "OXIO_ADMIN_UI_DIST", value_name = "DIR")]
    admin_ui_dist: Option<PathBuf>,
}

impl Cli {
    /// The admin UI settings, when `--admin-ui` is on.
    fn admin_ui(&self) -> Result<Option<demo::admin_ui::AdminUiSettings>, StartError> {
        if !self.admin_ui {
            return Ok(None);
        }
        let login = match (&self.admin_ui_user, &self.admin_ui_password_hash) {
            (Some(u), Some(h)) => Some((u.clone(), h.clone())),
            _ if self.admin_ui_no_auth => None,
            _ => return Err(StartError::AdminUiAuth),
        };
        Ok(Some(demo::admin_ui::AdminUiSettings {
            namespace: self.admin_ui_namespace.clone(),
            login,
            read_only: self.admin_ui_readonly,
            mode: if self.admin_ui_mode == "production" {
                oxio_server::admin::AdminMode::Production
            } else {
                oxio_server::admin::AdminMode::Development
            },
            server_id: self.admin_ui_server_id.clone(),
            dist: self.admin_ui_dist.clone(),
        }))
    }
}

/// `--parser`: the Socket.IO packet format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ParserArg {
    /// socket.io-parser (text frames, binary attachments).
    Json,
    /// socket.io-msgpack-parser (one binary frame per packet).
    Msgpack,
}

impl From<ParserArg> for oxio_server::socketio::Parser {
    fn from(p: ParserArg) -> Self {
        match p {
            ParserArg::Json => oxio_server::socketio::Parser::Json,
            ParserArg::Msgpack => oxio_server::socketio::Parser::Msgpack,
        }
    }
}

/// `0` means no limit.
fn limit(n: usize) -> Option<usize> {
    (n > 0).then_some(n)
}

/// The Engine.IO options from the command line, for the engine layer.
#[derive(Debug, Clone)]
struct EngineSettings {
    ping_interval: Duration,
    ping_timeout: Duration,
    upgrade_timeout: Duration,
    max_payload: usize,
    cors_origins: Vec<String>,
    allow_eio3: bool,
    per_message_deflate: bool,
    max_sessions: Option<usize>,
    body_timeout: Duration,
    body_min_rate: u32,
    body_rate_grace: Duration,
    server: ServerLimits,
}

impl EngineSettings {
    fn from_cli(cli: &Cli) -> Self {
        EngineSettings {
            ping_interval: Duration::from_millis(cli.ping_interval),
            ping_timeout: Duration::from_millis(cli.ping_timeout),
            upgrade_timeout: Duration::from_millis(cli.upgrade_timeout),
            max_payload: usize::try_from(cli.max_payload).unwrap_or(usize::MAX),
            cors_origins: cli.cors_origins.clone(),
            allow_eio3: cli.allow_eio3,
            per_message_deflate: cli.per_message_deflate,
            max_sessions: limit(cli.max_sessions),
            body_timeout: Duration::from_millis(cli.body_timeout),
            body_min_rate: cli.body_min_rate,
            body_rate_grace: Duration::from_millis(cli.body_rate_grace),
            server: ServerLimits {
                header_timeout: Duration::from_millis(cli.header_timeout),
                idle_timeout: Duration::from_millis(cli.idle_timeout),
                max_connections: limit(cli.max_connections),
                max_connections_per_ip: limit(cli.max_connections_per_ip),
                trusted_proxies: cli.trusted_proxies.clone(),
                client_ip_header: cli.client_ip_header.clone(),
                max_pending_connections: limit(cli.max_pending_connections),
                shutdown_timeout: Duration::from_secs(cli.shutdown_timeout),
            },
        }
    }
}

/// Why the server could not start or stopped with an error.
#[derive(Debug)]
enum StartError {
    /// `--log` / `RUST_LOG` does not parse.
    LogFilter(String),
    /// The JWT secret is unusable.
    Jwt(demo::auth::AuthError),
    /// The Redis URL is unusable.
    Redis(oxio_redis_adapter::RedisAdapterError),
    /// The Redis Streams URL is unusable.
    RedisStreams(oxio_redis_streams_adapter::RedisStreamsAdapterError),
    /// The address could not be bound.
    Bind(String, std::io::Error),
    /// `--admin-ui` without credentials nor `--admin-ui-no-auth`.
    AdminUiAuth,
    /// The admin UI refused its options.
    AdminUi(oxio_server::admin::AdminUiError),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::LogFilter(e) => write!(f, "invalid log filter: {e}"),
            StartError::Jwt(e) => write!(f, "JWT setup failed: {e}"),
            StartError::Redis(e) => write!(f, "Redis adapter: {e}"),
            StartError::RedisStreams(e) => write!(f, "Redis Streams adapter: {e}"),
            StartError::Bind(addr, e) => write!(f, "cannot listen on {addr}: {e}"),
            StartError::AdminUiAuth => f.write_str(
                "--admin-ui needs --admin-ui-user and --admin-ui-password-hash, or --admin-ui-no-auth",
            ),
            StartError::AdminUi(e) => write!(f, "admin UI: {e}"),
        }
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StartError::LogFilter(_) => None,
            StartError::Jwt(e) => Some(e),
            StartError::Redis(e) => Some(e),
            StartError::RedisStreams(e) => Some(e),
            StartError::Bind(_, e) => Some(e),
            StartError::AdminUiAuth => None,
            StartError::AdminUi(e) => Some(e),
        }
    }
}

/// An error with its causes, `outer: inner: innermost`, for the log.
struct Chain<'a>(&'a dyn std::error::Error);

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = self.0.source();
        // Displays that already include their cause are not repeated.
        let mut shown = self.0.to_string();
        while let Some(e) = cause {
            let text = e.to_string();
            if !shown.contains(&text) {
                write!(f, ": {text}")?;
                shown = text;
            }
            cause = e.source();
        }
        Ok(())
    }
}

/// The Engine.IO engine for `/socket.io/`, with the command line's
/// settings, driving `sio`; [`oxio_server::service::serve_app`] puts it in
/// front of the demo's router.
fn socketio_engine(sio: &SocketIo, settings: &EngineSettings) -> Engine {
    let cors = match settings.cors_origins.as_slice() {
        [] => None,
        origins if origins.iter().any(|o| o == "*") => Some(Cors {
            origins: CorsOrigins::Any,
            credentials: false,
        }),
        origins => Some(Cors {
            origins: CorsOrigins::List(origins.to_vec()),
            credentials: true,
        }),
    };
    let config = EngineConfig {
        ping_interval: settings.ping_interval,
        ping_timeout: settings.ping_timeout,
        upgrade_timeout: settings.upgrade_timeout,
        max_payload: settings.max_payload,
        cors,
        allow_eio3: settings.allow_eio3,
        max_sessions: settings.max_sessions,
        body_timeout: settings.body_timeout,
        body_min_rate: settings.body_min_rate,
        body_rate_grace: settings.body_rate_grace,
        server: settings.server.clone(),
        per_message_deflate: settings
            .per_message_deflate
            .then(PerMessageDeflate::default),
        ..EngineConfig::default()
    };
    sio.engine(config)
}

/// Lets the hosted admin UI (its own origin) reach Socket.IO with
/// credentials, unless every origin is already allowed.
fn allow_hosted_admin_ui(origins: &mut Vec<String>) {
    let hosted = demo::admin_ui::HOSTED_ORIGIN;
    if !origins.iter().any(|o| o == "*" || o == hosted) {
        origins.push(hosted.to_owned());
    }
}

/// Resolves when Ctrl-C or (on Unix) SIGTERM arrives.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C received"),
        () = terminate => tracing::info!("SIGTERM received"),
    }
}

fn jwt_keys(secret: Option<&str>) -> Result<JwtKeys, StartError> {
    match secret {
        Some(secret) => {
            let keys = JwtKeys::from_secret(secret.as_bytes()).map_err(StartError::Jwt)?;
            if secret.len() < MIN_SECRET_BYTES {
                tracing::warn!(
                    "the JWT secret is shorter than {MIN_SECRET_BYTES} bytes: use a longer one outside demos"
                );
            }
            Ok(keys)
        }
        None => {
            tracing::warn!(
                "no --jwt-secret / JWT_SECRET given: using a random secret, so tokens stop working when this process exits"
            );
            JwtKeys::random().map_err(StartError::Jwt)
        }
    }
}

async fn run(cli: Cli) -> Result<(), StartError> {
    let admin_ui = cli.admin_ui()?;
    let mut settings = EngineSettings::from_cli(&cli);
    if admin_ui.is_some() {
        allow_hosted_admin_ui(&mut settings.cors_origins);
    }
    let mut config = DemoConfig::new(jwt_keys(cli.jwt_secret.as_deref())?);
    config.socketio.connect_timeout = Duration::from_millis(cli.connect_timeout);
    config.socketio.parser = cli.parser.into();
    config.socketio.connection_state_recovery =
        (cli.recovery_secs > 0).then(|| oxio_server::socketio::ConnectionStateRecovery {
            max_disconnection_duration: Duration::from_secs(cli.recovery_secs),
            ..Default::default()
        });
    if cli.client_dir.is_some() {
        config.client = demo::assets::find_client(cli.client_dir.as_deref())
            .map_err(|e| tracing::error!(error = %e, "no Socket.IO client"))
            .ok();
    }
    if let Some(client) = &config.client {
        match client.local_dir() {
            Some(dir) => tracing::info!(
                version = client.version(),
                dir = %dir.display(),
                "serving the Socket.IO browser client at /socket.io/socket.io.min.js"
            ),
            None => tracing::info!(
                "the Socket.IO browser client is not installed (looked in {:?}): the page loads {} (with its integrity hash), and /socket.io/socket.io.min.js redirects there; for a local copy: {}",
                demo::assets::client_packages(cli.client_dir.as_deref()),
                client.url("/socket.io/", demo::assets::CLIENT_FILE),
                demo::assets::NPM_INSTALL
            ),
        }
    }
    if let Some(url) = &cli.redis {
        let factory = oxio_redis_adapter::RedisAdapter::builder(url.as_str())
            .key(cli.redis_key.as_str())
            .build()
            .map_err(StartError::Redis)?;
        // Serve local clients at once; Redis may come up later.
        if factory.ready(Duration::from_secs(3)).await {
            tracing::info!(node = factory.uid(), "Redis adapter connected");
        } else {
            tracing::warn!(
                "Redis not reachable yet: serving local clients, retrying in the background"
            );
        }
        if let Some(metrics) = &config.metrics {
            let probe = factory.clone();
            metrics.watch_adapter("redis", move || oxio_server::metrics::AdapterState {
                up: probe.is_ready(),
                publish_queue_depth: probe.publish_queue_depth(),
            });
        }
        config.adapter = Some(demo::DemoAdapter(std::sync::Arc::new(factory)));
    }
    if let Some(url) = &cli.redis_streams {
        let mut builder = oxio_redis_streams_adapter::RedisStreamsAdapter::builder(url.as_str());
        if let Some(csr) = &config.socketio.connection_state_recovery {
            builder = builder.connection_state_recovery(csr.clone());
        }
        let factory = builder.build().map_err(StartError::RedisStreams)?;
        // Serve local clients at once; Redis may come up later.
        if factory.ready(Duration::from_secs(3)).await {
            tracing::info!(node = factory.uid(), "Redis Streams adapter connected");
        } else {
            tracing::warn!(
                "Redis not reachable yet: serving local clients, retrying in the background"
            );
        }
        config.adapter = Some(demo::DemoAdapter(std::sync::Arc::new(factory)));
    }
    if !cli.redis_cluster.is_empty() {
        let factory = oxio_redis_adapter::ShardedRedisAdapter::builder(cli.redis_cluster.clone())
            .channel_prefix(cli.redis_key.as_str())
            .subscription_mode(cli.redis_subscription_mode)
            .build()
            .map_err(StartError::Redis)?;
        if factory.ready(Duration::from_secs(3)).await {
            tracing::info!(node = factory.uid(), "sharded Redis adapter connected");
        } else {
            tracing::warn!(
                "Redis Cluster not reachable yet: serving local clients, retrying in the background"
            );
        }
        config.adapter = Some(demo::DemoAdapter(std::sync::Arc::new(factory)));
    }

    let (mut router, sio) = demo::build(config);
    let _admin = match &admin_ui {
        Some(admin) => {
            let handle = demo::admin_ui::install(&sio.io(), admin).map_err(StartError::AdminUi)?;
            match admin.find_dist() {
                Some(dist) => {
                    tracing::info!(
                        namespace = %admin.namespace,
                        "admin UI at {} (files from {})",
                        demo::admin_ui::UI_PATH,
                        dist.display()
                    );
                    router = router.merge(demo::admin_ui::routes(dist));
                }
                None => tracing::info!(
                    namespace = %admin.namespace,
                    "admin UI: use {} (its files were not found in {:?}; install them with: {})",
                    demo::admin_ui::HOSTED_ORIGIN,
                    admin.dist_dirs(),
                    demo::admin_ui::NPM_INSTALL
                ),
            }
            Some(handle)
        }
        None => None,
    };
    let engine = socketio_engine(&sio, &settings);

    let addr = format!("{}:{}", cli.host, cli.port);
    // A backlog of 1024, not `TcpListener::bind`'s 128: see LISTEN_BACKLOG.
    let listener = oxio_server::service::bind(
        (cli.host.as_str(), cli.port),
        oxio_server::service::LISTEN_BACKLOG,
    )
    .await
    .map_err(|e| StartError::Bind(addr.clone(), e))?;
    let local = listener
        .local_addr()
        .map_err(|e| StartError::Bind(addr, e))?;
    tracing::info!("oxio demo server listening on http://{local}/ (Ctrl-C to stop)");

    let io = sio.io();
    let signal = async move {
        shutdown_signal().await;
        tracing::info!("shutting down: closing sessions (server shutting down)");
        io.close();
    };
    // oxio's own loop, not axum::serve: it bounds every connection (the
    // deadlines and limits above), and sets TCP_NODELAY.
    oxio_server::service::serve_app(listener, engine, router, signal).await;
    tracing::info!("stopped");
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = match EnvFilter::try_new(&cli.log) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("oxio-server: {}", StartError::LogFilter(e.to_string()));
            return ExitCode::from(2);
        }
    };
    // Colours only on a terminal, and never with NO_COLOR set.
    let ansi = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .init();

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the Tokio runtime");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{}", Chain(&e));
            ExitCode::FAILURE
        }
    }
}
