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
use std::sync::Arc;
use std::time::Duration;

/// Decides whether a handshake may proceed (Node's `allowRequest`).
///
/// `Err(message)` refuses it with 403 `{"code":4,"message":<message>}`
/// (`"Forbidden"` when the message is empty). Runs only on handshakes (no
/// `sid`), after the transport and method checks. It must not block.
pub type AllowRequest = Arc<dyn Fn(&http::request::Parts) -> Result<(), String> + Send + Sync>;

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
    /// Compression of long-polling GET answers (Node's `httpCompression`):
    /// gzip or deflate as the request's `Accept-Encoding` prefers, for
    /// bodies of at least [`HttpCompression::threshold`] bytes. `None`
    /// sends every body raw. Default: on, threshold 1024 bytes.
    pub http_compression: Option<HttpCompression>,
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
            http_compression: Some(HttpCompression::default()),
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
            .field("http_compression", &self.http_compression)
            .finish()
    }
}
