//! Engine options, with the reference server's defaults (docs/protocol.md §1.12).
//!
//! ```
//! use oxio_engine::config::{Cors, EngineConfig};
//! use std::time::Duration;
//!
//! let config = EngineConfig {
//!     path: "/engine.io/".into(),
//!     ping_interval: Duration::from_millis(300),
//!     cors: Some(Cors::any()),
//!     allow_eio3: true,
//!     ..EngineConfig::default()
//! };
//! assert_eq!(config.ping_timeout, Duration::from_secs(20));
//! assert_eq!(config.max_payload, 1_000_000);
//! ```

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// Decides whether a handshake may proceed (Node's `allowRequest`).
///
/// `Err(message)` refuses it with 403 `{"code":4,"message":<message>}`
/// (`"Forbidden"` when the message is empty). Runs only on handshakes (no
/// `sid`), after the transport and method checks. It must not block.
pub type AllowRequest = Arc<dyn Fn(&http::request::Parts) -> Result<(), String> + Send + Sync>;

/// Answers some requests under the engine path before Engine.IO does
/// (`Some(response)`), or lets them through (`None`): how oxio-server
/// serves the browser client at `<path>socket.io.js` (Node's
/// `serveClient`). It gets the request head only and must not block.
pub type ExtraRoute =
    Arc<dyn Fn(&http::request::Parts) -> Option<http::Response<bytes::Bytes>> + Send + Sync>;

/// Which `Origin`s CORS admits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    /// `Access-Control-Allow-Origin: *` (with `credentials`, the request's
    /// origin is reflected instead, since browsers refuse `*` with
    /// credentials).
    Any,
    /// Reflect whatever `Origin` the request carries (Node's `origin: true`).
    Mirror,
    /// Reflect the origin only when it is one of these (exact match, like
    /// `https://example.com`); other origins get no allow-origin header.
    List(Vec<String>),
}

/// CORS, off by default as in Engine.IO ≥ 4. When set, CORS headers are
/// added to every response under the engine path, errors and 101 included,
/// and an `OPTIONS` request is a preflight answered 204 (docs/protocol.md §1.11).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cors {
    /// Admitted origins.
    pub origins: CorsOrigins,
    /// Send `Access-Control-Allow-Credentials: true`.
    pub credentials: bool,
}

impl Cors {
    /// Any origin, no credentials: the conformance suites' `cors: {origin: "*"}`.
    ///
    /// ```
    /// let cors = oxio_engine::config::Cors::any();
    /// assert!(!cors.credentials);
    /// ```
    pub fn any() -> Self {
        Cors {
            origins: CorsOrigins::Any,
            credentials: false,
        }
    }
}

/// The optional session cookie (Node's `cookie` option), set on the
/// handshake response: `io=<sid>; Path=/; HttpOnly; SameSite=Lax` by default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cookie {
    /// Cookie name. Default `io`.
    pub name: String,
    /// `Path`. Default `/`.
    pub path: String,
    /// `HttpOnly`. Default true.
    pub http_only: bool,
    /// `SameSite` value (`Lax`, `Strict`, `None`), or none. Default `Lax`.
    pub same_site: Option<String>,
}

impl Default for Cookie {
    fn default() -> Self {
        Cookie {
            name: "io".into(),
            path: "/".into(),
            http_only: true,
            same_site: Some("Lax".into()),
        }
    }
}

impl Cookie {
    /// The `Set-Cookie` value for session `sid`.
    ///
    /// ```
    /// use oxio_engine::config::Cookie;
    ///
    /// assert_eq!(Cookie::default().header_value("abc"), "io=abc; Path=/; HttpOnly; SameSite=Lax");
    /// ```
    pub fn header_value(&self, sid: &str) -> String {
        let mut v = format!("{}={}; Path={}", self.name, sid, self.path);
        if self.http_only {
            v.push_str("; HttpOnly");
        }
        if let Some(s) = &self.same_site {
            v.push_str("; SameSite=");
            v.push_str(s);
        }
        v
    }
}

/// Engine.IO server options. Every default is the reference server's
/// unless said otherwise.
///
/// Socket.IO options live on the Socket.IO server, as in Node: the time a
/// client has to join a namespace after this handshake (Node's
/// `connectTimeout`) is
/// `SocketIoConfig::connect_timeout` (oxio-server),
/// set with
/// `SocketIoBuilder::connect_timeout`.
#[derive(Clone)]
pub struct EngineConfig {
    /// URL prefix, trailing slash included, matched by prefix as Node does
    /// (`/socket.io/` matches `/socket.io/?EIO=4...`, not `/socket.io?...`).
    /// Default `/socket.io/`.
    pub path: String,
    /// v4: time between server pings; v3: the client's ping period.
    /// Default 25 s.
    pub ping_interval: Duration,
    /// v4: time allowed for a pong; v3: added to `ping_interval` to bound
    /// the wait for a client ping. Default 20 s.
    pub ping_timeout: Duration,
    /// Time allowed for a polling → WebSocket upgrade. Default 10 s.
    pub upgrade_timeout: Duration,
    /// Largest polling POST body (413 beyond) and WebSocket message (close
    /// 1009 beyond), in bytes; announced as `maxPayload`. Default 1 000 000.
    pub max_payload: usize,
    /// Accept `transport=polling`. Default true.
    pub polling: bool,
    /// Accept `transport=websocket`. Default true.
    pub websocket: bool,
    /// Offer and accept the polling → WebSocket upgrade. Default true.
    pub allow_upgrades: bool,
    /// CORS. Default off.
    pub cors: Option<Cors>,
    /// Handshake admission hook. Default none (everything admitted).
    pub allow_request: Option<AllowRequest>,
    /// Session cookie. Default none.
    pub cookie: Option<Cookie>,
    /// Accept Engine.IO v3 clients (`EIO=3`). Default false.
    pub allow_eio3: bool,
    /// Most messages one session may have queued for its client before
    /// [`send`](crate::SessionHandle::send) reports `Full`. Not a
    /// Node option (Node buffers without bound). Default 4096: a polling
    /// client's POST may carry hundreds of events whose acks all wait for
    /// its next GET (socket.io-client sends a burst of emits in one POST),
    /// so this must exceed the bursts clients send, not just what a
    /// WebSocket writer has in flight.
    pub max_queued_messages: usize,
    /// Most payload bytes one session may have queued for its client before
    /// [`send`](crate::SessionHandle::send) reports `Full` (the
    /// message that crosses it is still queued). With
    /// `max_queued_messages`, this bounds a slow reader's memory whatever
    /// its messages' size. Not a Node option. Default 16 MiB.
    pub max_queued_bytes: usize,
    /// How long a server-closed polling session keeps its sid to give the
    /// client's next GET the final `6`,`1` (Node's `closeTimeout`). Default 30 s.
    pub close_linger: Duration,
    /// Most sessions the engine holds at once; a handshake past it gets
    /// HTTP 503 (and a log line). `None`: no limit. Default `None` (Node
    /// has no such limit; set one to bound memory per process).
    pub max_sessions: Option<usize>,
    /// Longest time a request body (a polling POST; with
    /// [`service::serve`](crate::service::serve), every request) may take
    /// to arrive, from the end of its head: the request is then answered
    /// 408 and its connection closed (a polling session is closed too).
    /// Default 300 s, Node's `requestTimeout`.
    pub body_timeout: Duration,
    /// Slowest rate, in bytes per second, at which a request body may
    /// arrive once [`body_rate_grace`](Self::body_rate_grace) has passed:
    /// a body must have delivered `(elapsed − grace) × rate` bytes at any
    /// time, or it is answered 408 and its connection closed (a client that
    /// announces 900 kB and sends ten bytes is dropped after the grace).
    /// `0`: no rate, only [`body_timeout`](Self::body_timeout). Default
    /// 1024 B/s. Not a Node option.
    pub body_min_rate: u32,
    /// Time a request body may take before [`body_min_rate`](Self::body_min_rate)
    /// applies. Default 10 s.
    pub body_rate_grace: Duration,
    /// Deadlines and connection limits of oxio's own server loop
    /// ([`service::serve`](crate::service::serve),
    /// [`service::serve_app`](crate::service::serve_app),
    /// [`service::listen`](crate::service::listen)). A host application
    /// that owns the socket (`axum::serve`, its own hyper loop) must apply
    /// its own: these are not read by the tower layer.
    pub server: ServerLimits,
    /// Told of handshakes, upgrades, closes, messages, full queues and
    /// refused requests (metrics); none by default.
    pub observer: Option<Arc<dyn crate::observe::EngineObserver>>,
    /// See [`ExtraRoute`]; none by default.
    pub extra_route: Option<ExtraRoute>,
    /// Compression of long-polling GET answers (Node's `httpCompression`):
    /// gzip or deflate as the request's `Accept-Encoding` prefers, for
    /// bodies of at least [`HttpCompression::threshold`] bytes. `None`
    /// sends every body raw. Default: on, threshold 1024 bytes.
    pub http_compression: Option<HttpCompression>,
    /// WebSocket compression, permessage-deflate (RFC 7692; Node's
    /// `perMessageDeflate`): accepted when the client offers it, then
    /// messages of at least [`PerMessageDeflate::threshold`] bytes are
    /// compressed. Inflated messages count against
    /// [`max_payload`](Self::max_payload). `None`: the extension is never
    /// accepted. Default `None` (off, as in Node).
    pub per_message_deflate: Option<PerMessageDeflate>,
}

/// Deadlines and connection limits of oxio's own server loop (see
/// [`EngineConfig::server`]). They bound what a client can hold without
/// doing anything: a connection that sends nothing, half a request head,
/// or stays idle between requests is closed; past a connection limit a new
/// connection is answered `503 Service Unavailable` and closed, with a log
/// line (at most one a second, with the count), and the other clients are
/// served as before.
///
/// ```
/// use oxio_engine::config::ServerLimits;
/// use std::time::Duration;
///
/// let limits = ServerLimits::default();
/// assert_eq!(limits.header_timeout, Duration::from_secs(60));
/// assert_eq!(limits.idle_timeout, Duration::from_secs(5));
/// assert_eq!(limits.max_connections_per_ip, None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerLimits {
    /// Longest time from accepting a connection, or from the end of the
    /// previous response on a kept-alive one, to a complete request head
    /// (hyper's `header_read_timeout`); the connection is then closed
    /// without an answer. Default 60 s, Node's `headersTimeout`.
    pub header_timeout: Duration,
    /// Longest time a connection may stay silent (no byte read or written)
    /// while no request is in progress: after it is accepted, and between
    /// requests on a kept-alive connection; it is then closed. A held
    /// polling GET is a request in progress (the heartbeat bounds it); a
    /// WebSocket is no longer HTTP (the heartbeat bounds it). Default 5 s,
    /// Node's `keepAliveTimeout`.
    pub idle_timeout: Duration,
    /// Most connections open at once (HTTP and WebSocket), or `None`.
    /// Default 10 000 (Node has no limit; the process's descriptor limit,
    /// `ulimit -n`, is the hard one).
    pub max_connections: Option<usize>,
    /// Most connections open at once from one IP address, or `None`.
    /// Default `None`: behind a reverse proxy every client has the proxy's
    /// address unless the proxy is listed in
    /// [`trusted_proxies`](Self::trusted_proxies). A direct connection is
    /// counted when it is accepted; on a connection from a trusted proxy
    /// each request counts against the address in
    /// [`client_ip_header`](Self::client_ip_header) while it is in
    /// progress, and a WebSocket upgraded from it for the WebSocket's life
    /// (a proxy's kept-alive connection carries many clients' requests).
    pub max_connections_per_ip: Option<usize>,
    /// Reverse proxies (addresses or CIDR ranges) whose
    /// [`client_ip_header`](Self::client_ip_header) is believed for
    /// [`max_connections_per_ip`](Self::max_connections_per_ip). Default
    /// empty: the header is ignored and every connection counts against
    /// its TCP peer, so a client cannot pick its own address by sending
    /// the header.
    pub trusted_proxies: Vec<IpNet>,
    /// The header in which a trusted proxy passes the client's address: a
    /// comma-separated list of addresses, each proxy appending the address
    /// it received the request from (nginx's
    /// `$proxy_add_x_forwarded_for`). The client is the rightmost entry
    /// that is not a trusted proxy; a request without a readable entry
    /// counts against the proxy's own address. Default `x-forwarded-for`.
    pub client_ip_header: http::HeaderName,
    /// Most handshakes in progress: accepted connections that have not yet
    /// sent a complete request head, or `None`. Bounds how many descriptors
    /// slow or silent clients hold before the deadlines above close them.
    /// Default 1024.
    pub max_pending_connections: Option<usize>,
    /// At shutdown, how long open connections may take to finish their
    /// current exchange after every session is closed. Default 5 s.
    pub shutdown_timeout: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            header_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(5),
            max_connections: Some(10_000),
            max_connections_per_ip: None,
            trusted_proxies: Vec::new(),
            client_ip_header: http::HeaderName::from_static("x-forwarded-for"),
            max_pending_connections: Some(1024),
            shutdown_timeout: Duration::from_secs(5),
        }
    }
}

/// An IP address range in CIDR notation (`10.0.0.0/8`, `fd00::/8`), or
/// one address (`127.0.0.1`, `::1`): an entry of
/// [`ServerLimits::trusted_proxies`].
///
/// ```
/// use oxio_engine::config::IpNet;
///
/// let net: IpNet = "10.1.0.0/16".parse().unwrap();
/// assert!(net.contains("10.1.200.3".parse().unwrap()));
/// assert!(!net.contains("10.2.0.1".parse().unwrap()));
/// assert!("::1".parse::<IpNet>().unwrap().contains("::1".parse().unwrap()));
/// assert!("10.0.0.0/33".parse::<IpNet>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

/// Why a string is not an [`IpNet`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IpNetError {
    /// The address part is not an IPv4 or IPv6 address.
    #[error("not an IP address: {0}")]
    Address(#[from] std::net::AddrParseError),
    /// The prefix length is not a number up to 32 (IPv4) or 128 (IPv6).
    #[error("bad prefix length {0:?} (at most 32 for IPv4, 128 for IPv6)")]
    Prefix(String),
}

impl IpNet {
    /// The range of addresses sharing the first `prefix` bits of `addr`,
    /// or `None` when `prefix` is longer than the address.
    pub fn new(addr: IpAddr, prefix: u8) -> Option<IpNet> {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        (prefix <= max).then_some(IpNet { addr, prefix })
    }

    /// Whether `ip` is in this range. An IPv4-mapped IPv6 address
    /// (`::ffff:10.0.0.1`) is compared as the IPv4 address it maps.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        let (net, ip, bits) = match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(i)) => {
                (u128::from(n.to_bits()), u128::from(i.to_bits()), 32)
            }
            (IpAddr::V6(n), IpAddr::V6(i)) => (n.to_bits(), i.to_bits(), 128),
            _ => return false,
        };
        let host_bits = bits - u32::from(self.prefix);
        let mask = u128::MAX.checked_shl(host_bits).unwrap_or(0);
        net & mask == ip & mask
    }
}

impl std::str::FromStr for IpNet {
    type Err = IpNetError;

    fn from_str(s: &str) -> Result<IpNet, IpNetError> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>()?, Some(p)),
            None => (s.parse::<IpAddr>()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .map_err(|_| IpNetError::Prefix(p.to_owned()))?,
        };
        IpNet::new(addr, prefix).ok_or_else(|| IpNetError::Prefix(prefix.to_string()))
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Settings of [`EngineConfig::http_compression`].
///
/// ```
/// use oxio_engine::config::{EngineConfig, HttpCompression};
///
/// let config = EngineConfig {
///     http_compression: Some(HttpCompression { threshold: 4096, ..HttpCompression::default() }),
///     ..EngineConfig::default()
/// };
/// assert_eq!(EngineConfig::default().http_compression, Some(HttpCompression { threshold: 1024, level: 6 }));
/// # let _ = config;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpCompression {
    /// Bodies shorter than this go raw (Node: `threshold`, default 1024).
    pub threshold: usize,
    /// zlib level, 0 (none) to 9 (best); default 6, zlib's (and Node's) default.
    pub level: u32,
}

impl Default for HttpCompression {
    fn default() -> Self {
        HttpCompression {
            threshold: 1024,
            level: 6,
        }
    }
}

/// Settings of [`EngineConfig::per_message_deflate`] (Node's
/// `perMessageDeflate` options).
///
/// Memory: a connection that agreed on the extension creates its
/// compressor when it first sends a message of at least `threshold` bytes
/// (zlib: about 2^(`server_max_window_bits` + 3) bytes plus 128 KiB of
/// hash and pending buffers: ~260 KiB at 15 bits), and its decompressor on
/// the first compressed message it receives (~40 KiB). With
/// `server_no_context_takeover` / `client_no_context_takeover` they are
/// freed after each message, so an idle connection holds none.
///
/// ```
/// use oxio_engine::config::{EngineConfig, PerMessageDeflate};
///
/// let config = EngineConfig {
///     per_message_deflate: Some(PerMessageDeflate {
///         server_no_context_takeover: true,
///         ..PerMessageDeflate::default()
///     }),
///     ..EngineConfig::default()
/// };
/// assert_eq!(PerMessageDeflate::default().threshold, 1024);
/// assert_eq!(EngineConfig::default().per_message_deflate, None);
/// # let _ = config;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PerMessageDeflate {
    /// Messages shorter than this go uncompressed (Node: `threshold`,
    /// default 1024).
    pub threshold: usize,
    /// Always reset the server's compression window between messages
    /// (also done when the client asks). Less memory, worse ratio.
    /// Default false.
    pub server_no_context_takeover: bool,
    /// Ask the client to reset its window between messages (also done when
    /// the client offers it); the server then frees its decompressor
    /// between messages. Default false.
    pub client_no_context_takeover: bool,
    /// The server's LZ77 window, 9 to 15 bits (a client may ask for less;
    /// an offer of 8 is declined, zlib cannot write it). `None`: 15.
    pub server_max_window_bits: Option<u8>,
    /// The window told to clients whose offer allows
    /// `client_max_window_bits`, 8 to 15 bits. `None`: not told.
    pub client_max_window_bits: Option<u8>,
    /// zlib level, 0 (none) to 9 (best). Default 6, zlib's (and Node's).
    pub level: u32,
}

impl Default for PerMessageDeflate {
    fn default() -> Self {
        PerMessageDeflate {
            threshold: 1024,
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: None,
            client_max_window_bits: None,
            level: 6,
        }
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            path: "/socket.io/".into(),
            ping_interval: Duration::from_millis(25_000),
            ping_timeout: Duration::from_millis(20_000),
            upgrade_timeout: Duration::from_millis(10_000),
            max_payload: 1_000_000,
            polling: true,
            websocket: true,
            allow_upgrades: true,
            cors: None,
            allow_request: None,
            cookie: None,
            allow_eio3: false,
            max_queued_messages: 4096,
            max_queued_bytes: 16 << 20,
            close_linger: Duration::from_millis(30_000),
            max_sessions: None,
            body_timeout: Duration::from_secs(300),
            body_min_rate: 1024,
            body_rate_grace: Duration::from_secs(10),
            server: ServerLimits::default(),
            http_compression: Some(HttpCompression::default()),
            observer: None,
            extra_route: None,
            per_message_deflate: None,
        }
    }
}

impl fmt::Debug for EngineConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineConfig")
            .field("path", &self.path)
            .field("ping_interval", &self.ping_interval)
            .field("ping_timeout", &self.ping_timeout)
            .field("upgrade_timeout", &self.upgrade_timeout)
            .field("max_payload", &self.max_payload)
            .field("polling", &self.polling)
            .field("websocket", &self.websocket)
            .field("allow_upgrades", &self.allow_upgrades)
            .field("cors", &self.cors)
            .field(
                "allow_request",
                &self.allow_request.as_ref().map(|_| "<fn>"),
            )
            .field("cookie", &self.cookie)
            .field("allow_eio3", &self.allow_eio3)
            .field("max_queued_messages", &self.max_queued_messages)
            .field("max_queued_bytes", &self.max_queued_bytes)
            .field("close_linger", &self.close_linger)
            .field("max_sessions", &self.max_sessions)
            .field("body_timeout", &self.body_timeout)
            .field("body_min_rate", &self.body_min_rate)
            .field("body_rate_grace", &self.body_rate_grace)
            .field("server", &self.server)
            .field("http_compression", &self.http_compression)
            .field("observer", &self.observer.as_ref().map(|_| "<observer>"))
            .field("extra_route", &self.extra_route.as_ref().map(|_| "<fn>"))
            .field("per_message_deflate", &self.per_message_deflate)
            .finish()
    }
}
