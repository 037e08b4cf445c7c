//! The server side of the official Socket.IO admin UI
//! (`@socket.io/admin-ui` 0.5.x, <https://admin.socket.io>): Node's
//! `instrument(io, options)` for oxio (feature `admin-ui`).
//!
//! [`instrument`] adds a namespace (Node's default `/admin`) where the UI
//! connects. It sends the UI its `config`, `server_stats` every 2 s
//! (server id, host name, pid, uptime, Engine.IO sessions and how many
//! poll, namespaces and their socket counts, and the aggregated events:
//! raw connections, disconnections by reason, packets and bytes in and
//! out), and in [development mode](AdminMode::Development) every socket
//! and what happens to it (connections, disconnections, rooms, events in
//! and out). The UI's commands (`emit`, `join`, `leave`, `_disconnect`,
//! with a room or socket id as filter) are obeyed unless
//! [read-only](AdminUiOptions::read_only).
//!
//! Across a cluster, everything goes through the adapters as in Node: the
//! admin namespace's broadcasts (`server_stats`, the events) reach the UIs
//! connected to every node, `all_sockets` fetches the sockets of every
//! node, and the commands reach every node's sockets. A UI shows one
//! server per node (by [`server_id`](AdminUiOptions::server_id)).
//!
//! Authentication is off ([`AdminAuth::None`]) or basic
//! ([`AdminAuth::Basic`]): a user name and a bcrypt hash (`$2b$`, `$2a$`
//! or `$2y$`) of the password. A client that logs in receives a session
//! id (`session` event, 16 hex characters) that it may present instead
//! (`auth.sessionId`) for 24 hours; sessions live in memory, at most
//! [`max_sessions`](AdminUiOptions::max_sessions) (the oldest go first).
//! A failed login is refused with `invalid credentials`, the message the UI
//! shows.
//!
//! ```
//! use oxio_server::admin::{instrument, AdminAuth, AdminUiOptions};
//! use oxio_server::socketio::SocketIo;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let io = SocketIo::builder().build().io();
//! let hash = bcrypt::hash("changeit", 4).unwrap();
//! let admin = instrument(
//!     &io,
//!     AdminUiOptions::new(AdminAuth::basic("admin", hash))
//!         .namespace("/admin-ui")
//!         .read_only(true),
//! )
//! .unwrap();
//! assert!(io.of("/admin-ui").is_some());
//! admin.shutdown();
//! # }
//! ```
//!
//! Differences from Node's package: `uptime` counts from [`instrument`]
//! (Node's from the process start); `packetsIn`/`packetsOut` and the bytes
//! count Socket.IO packets and attachments (Node's count Engine.IO packets
//! with data, the handshake's included); `socket_updated` (a socket's transport
//! after an upgrade, its [`SocketData`](crate::socketio::SocketData)) is
//! sent at the next stats tick (Node traps every write to `socket.data`);
//! `room_joined`/`room_left` are reported for the sockets of the node
//! where the change was asked (a remote node's adapter applies
//! `sockets_join` without telling the Socket.IO layer); the development
//! events wait in a bounded queue
//! ([`event_queue`](AdminUiOptions::event_queue)) and are dropped, with a
//! warning, when the UI cannot keep up.

mod events;
mod serialize;

use crate::engine::{CloseReason, Message, Session};
use crate::socketio::{ConnectError, DisconnectReason, Io, Observer, Payload, Socket, SocketRef};
use events::{iso_date, AdminEvent, EventBuffer};
use oxio_adapter::{Outgoing, Room};
use oxio_engine::sync::LockExt;
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::{mpsc, Notify};

/// How the admin namespace authenticates the UI (Node's `auth` option,
/// which must be given, as here).
#[derive(Clone)]
pub enum AdminAuth {
    /// No authentication (Node's `auth: false`).
    None,
    /// A user name and a bcrypt hash of the password (Node's
    /// `{type: "basic", username, password}`).
    Basic {
        /// The user name the UI must send.
        username: String,
        /// A bcrypt hash of the password (`$2b$10$...`).
        password_hash: String,
    },
}

impl AdminAuth {
    /// Basic authentication with `username` and a bcrypt `password_hash`.
    pub fn basic(username: impl Into<String>, password_hash: impl Into<String>) -> Self {
        AdminAuth::Basic {
            username: username.into(),
            password_hash: password_hash.into(),
        }
    }
}

impl std::fmt::Debug for AdminAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AdminAuth::None => f.write_str("None"),
            AdminAuth::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .finish_non_exhaustive(),
        }
    }
}

/// What the UI is sent (Node's `mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AdminMode {
    /// `config` and `server_stats` only.
    Production,
    /// Also every socket and what happens to it (Node's default, unless
    /// `NODE_ENV` says otherwise).
    #[default]
    Development,
}

/// The options of [`instrument`], with Node's defaults.
#[derive(Debug, Clone)]
pub struct AdminUiOptions {
    /// The namespace the UI connects to (default `/admin`).
    pub namespace: String,
    /// Authentication.
    pub auth: AdminAuth,
    /// Refuse the UI's commands (default false): `config` then lists no
    /// command feature, and the UI hides its buttons.
    pub read_only: bool,
    /// This node's name in the UI (default: the host name, as Node).
    pub server_id: Option<String>,
    /// Production or development (default development).
    pub mode: AdminMode,
    /// How often `server_stats` is sent (default 2 s).
    pub stats_interval: Duration,
    /// How long a session id stays valid (default 24 h).
    pub session_duration: Duration,
    /// Session ids kept at most (default 10 000; the oldest go first).
    pub max_sessions: usize,
    /// Development events waiting to be sent at most (default 4096).
    pub event_queue: usize,
}

impl AdminUiOptions {
    /// The defaults, with `auth`.
    pub fn new(auth: AdminAuth) -> Self {
        AdminUiOptions {
            namespace: "/admin".into(),
            auth,
            read_only: false,
            server_id: None,
            mode: AdminMode::Development,
            stats_interval: Duration::from_secs(2),
            session_duration: Duration::from_secs(86_400),
            max_sessions: 10_000,
            event_queue: 4096,
        }
    }

    /// See [`AdminUiOptions::namespace`].
    pub fn namespace(mut self, name: impl Into<String>) -> Self {
        self.namespace = name.into();
        self
    }

    /// See [`AdminUiOptions::read_only`].
    pub fn read_only(mut self, on: bool) -> Self {
        self.read_only = on;
        self
    }

    /// See [`AdminUiOptions::server_id`].
    pub fn server_id(mut self, id: impl Into<String>) -> Self {
        self.server_id = Some(id.into());
        self
    }

    /// See [`AdminUiOptions::mode`].
    pub fn mode(mut self, mode: AdminMode) -> Self {
        self.mode = mode;
        self
    }
}

/// Why [`instrument`] refused its options.
#[derive(Debug, thiserror::Error)]
pub enum AdminUiError {
    /// The password hash is not a bcrypt hash (Node: "the `password` field
    /// must be a valid bcrypt hash").
    #[error("the password must be a valid bcrypt hash")]
    InvalidHash(#[source] bcrypt::BcryptError),
    /// Called outside a Tokio runtime (the stats need a task).
    #[error("the admin UI must be installed inside a Tokio runtime")]
    NoRuntime(#[source] tokio::runtime::TryCurrentError),
    /// The server has all the observers it takes.
    #[error("the admin UI cannot observe the server")]
    TooManyObservers(#[source] crate::socketio::TooManyObservers),
}

/// The features `config` announces (the UI's `Feature` names).
fn features(options: &AdminUiOptions) -> Vec<&'static str> {
    let mut f = Vec::new();
    if !options.read_only {
        f.extend([
            "EMIT",
            "JOIN",
            "LEAVE",
            "DISCONNECT",
            "MJOIN",
            "MLEAVE",
            "MDISCONNECT",
        ]);
    }
    f.push("AGGREGATED_EVENTS");
    if options.mode == AdminMode::Development {
        f.push("ALL_EVENTS");
    }
    f
}

/// The running admin UI, from [`instrument`].
#[derive(Debug)]
pub struct AdminUi {
    server_id: String,
    stop: Arc<Notify>,
}

impl AdminUi {
    /// This node's id in the UI.
    pub fn server_id(&self) -> &str {
        &self.server_id
    }

    /// Stops sending stats and events (the namespace stays).
    pub fn shutdown(&self) {
        self.stop.notify_one();
    }
}

/// Session ids handed out after a login, with their expiry.
struct Sessions {
    ids: HashMap<String, Instant>,
    order: VecDeque<String>,
    max: usize,
    ttl: Duration,
}

impl Sessions {
    fn exists(&mut self, id: &str) -> bool {
        let now = Instant::now();
        match self.ids.get(id) {
            Some(&until) if until > now => true,
            Some(_) => {
                self.ids.remove(id);
                false
            }
            None => false,
        }
    }

    fn save(&mut self, id: String) {
        while self.ids.len() >= self.max.max(1) {
            match self.order.pop_front() {
                Some(old) => {
                    self.ids.remove(&old);
                }
                None => break,
            }
        }
        self.ids.insert(id.clone(), Instant::now() + self.ttl);
        self.order.push_back(id);
    }
}

/// 8 random bytes as 16 hex characters (Node's `randomBytes(8).toString("hex")`).
fn session_id() -> Option<String> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).ok()?;
    Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The observer the admin UI installs: counts into the stats buffer, and
/// in development mode queues the events for the admin task.
struct AdminObserver {
    namespace: String,
    /// Connections and disconnections (rare: under a lock).
    stats: Arc<Mutex<EventBuffer>>,
    /// Packets and bytes (every message: atomics, moved into `stats`
    /// every second by the admin task).
    live: Arc<Live>,
    /// Development mode only.
    events: Option<mpsc::Sender<AdminEvent>>,
    /// Events dropped on a full queue (logged at the first and every 1000th).
    dropped: AtomicU64,
}

impl AdminObserver {
    /// Whether development events are wanted.
    fn dev(&self) -> bool {
        self.events.is_some()
    }

    fn queue(&self, event: AdminEvent) {
        if let Some(tx) = &self.events {
            if tx.try_send(event).is_err() {
                let n = self.dropped.fetch_add(1, Ordering::Relaxed);
                if n.is_multiple_of(1000) {
                    tracing::warn!(dropped = n + 1, "admin UI event queue full: events dropped");
                }
            }
        }
    }

    fn count(&self, kind: &'static str, sub: Option<&str>, n: u64) {
        self.stats.locked().push(kind, sub, n);
    }
}

/// Packets and bytes in and out since the last [`Live::flush`].
#[derive(Default)]
struct Live {
    packets_in: AtomicU64,
    bytes_in: AtomicU64,
    packets_out: AtomicU64,
    bytes_out: AtomicU64,
}

impl Live {
    /// Moves the counts into `stats`, under the second half a second ago
    /// (the admin task flushes every second).
    fn flush(&self, stats: &Mutex<EventBuffer>) {
        let take = |c: &AtomicU64| c.swap(0, Ordering::Relaxed);
        let counts = [
            ("packetsIn", take(&self.packets_in)),
            ("bytesIn", take(&self.bytes_in)),
            ("packetsOut", take(&self.packets_out)),
            ("bytesOut", take(&self.bytes_out)),
        ];
        let at = SystemTime::now()
            .checked_sub(Duration::from_millis(500))
            .unwrap_or_else(SystemTime::now);
        let mut stats = stats.locked();
        for (kind, n) in counts {
            if n > 0 {
                stats.push_at(at, kind, None, n);
            }
        }
    }
}

fn message_len(m: &Message) -> u64 {
    let n = match m {
        Message::Text(t) => t.as_str().len(),
        Message::Binary(b) => b.len(),
    };
    u64::try_from(n).unwrap_or(u64::MAX)
}

impl Observer for AdminObserver {
    fn session_opened(&self, _session: &Session) {
        self.count("rawConnection", None, 1);
    }

    fn session_closed(&self, _session: &Session, reason: CloseReason) {
        self.count("rawDisconnection", Some(reason.as_str()), 1);
    }

    fn packet_in(&self, _session: &Session, msg: &Message) {
        self.live.packets_in.fetch_add(1, Ordering::Relaxed);
        self.live
            .bytes_in
            .fetch_add(message_len(msg), Ordering::Relaxed);
    }

    fn packets_out(&self, _session: &Session, msgs: &[Message]) {
        let n = u64::try_from(msgs.len()).unwrap_or(u64::MAX);
        let bytes = msgs.iter().map(message_len).fold(0u64, u64::saturating_add);
        self.live.packets_out.fetch_add(n, Ordering::Relaxed);
        self.live.bytes_out.fetch_add(bytes, Ordering::Relaxed);
    }

    fn socket_connected(&self, socket: &SocketRef) {
        if !self.dev() {
            return;
        }
        self.queue(AdminEvent::Connected(socket.clone(), SystemTime::now()));
    }

    fn socket_disconnected(&self, socket: &SocketRef, reason: DisconnectReason) {
        if !self.dev() {
            return;
        }
        self.queue(AdminEvent::Disconnected {
            nsp: socket.ns().to_owned(),
            id: socket.id().to_string(),
            reason: reason.to_string(),
            at: SystemTime::now(),
        });
    }

    fn room_joined(&self, socket: &Socket, room: &Room) {
        if !self.dev() {
            return;
        }
        self.queue(AdminEvent::Room {
            joined: true,
            nsp: socket.ns().to_owned(),
            room: room.to_string(),
            id: socket.id().to_string(),
            at: SystemTime::now(),
        });
    }

    fn room_left(&self, socket: &Socket, room: &Room) {
        if !self.dev() {
            return;
        }
        self.queue(AdminEvent::Room {
            joined: false,
            nsp: socket.ns().to_owned(),
            room: room.to_string(),
            id: socket.id().to_string(),
            at: SystemTime::now(),
        });
    }

    fn event_received(&self, socket: &SocketRef, payload: &Payload) {
        if !self.dev() || socket.ns() == self.namespace {
            return;
        }
        let frame = payload.frame();
        self.queue(AdminEvent::Event {
            sent: false,
            nsp: socket.ns().to_owned(),
            id: socket.id().to_string(),
            json_at: frame.as_str().len().saturating_sub(payload.raw().len()),
            frame: frame.clone(),
            at: SystemTime::now(),
        });
    }

    fn event_sent(&self, socket: &Socket, packet: &Outgoing) {
        if !self.dev() || socket.ns() == self.namespace {
            return;
        }
        let frame = packet.text();
        let Some(json_at) = events::json_start(frame.as_str()) else {
            return;
        };
        self.queue(AdminEvent::Event {
            sent: true,
            nsp: socket.ns().to_owned(),
            id: socket.id().to_string(),
            frame: frame.clone(),
            json_at,
            at: SystemTime::now(),
        });
    }
}

/// The arguments of a UI command, each as JSON (`null` for `undefined`).
fn args_of(payload: &Payload) -> Vec<Value> {
    payload
        .raw_args()
        .map(|a| serde_json::from_str(a).unwrap_or(Value::Null))
        .collect()
}

/// The rooms a command's filter names (a room or socket id, or a list).
fn filter_rooms(filter: Option<&Value>) -> Vec<String> {
    match filter {
        Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// The operators a command targets: namespace `nsp`, narrowed to `filter`.
fn target(
    io: &Io,
    nsp: Option<&Value>,
    filter: Option<&Value>,
) -> Option<crate::socketio::BroadcastOperators> {
    let ops = io.of(nsp?.as_str()?)?;
    let rooms = filter_rooms(filter);
    Some(if rooms.is_empty() { ops } else { ops.to(rooms) })
}

fn register_commands(io: &Io, socket: &SocketRef) {
    let io1 = io.clone();
    socket.on("emit", move |payload: Payload| {
        let a = args_of(&payload);
        let (Some(ops), Some(ev)) = (
            target(&io1, a.first(), a.get(1)),
            a.get(2).and_then(Value::as_str),
        ) else {
            return;
        };
        let rest = a.get(3..).unwrap_or_default();
        if let Err(e) = ops.emit(ev, &oxio_codec::socketio::Args(rest)) {
            tracing::debug!(error = %e, "admin UI emit failed");
        }
    });
    let io2 = io.clone();
    socket.on("join", move |payload: Payload| {
        let a = args_of(&payload);
        if let (Some(ops), Some(room)) = (
            target(&io2, a.first(), a.get(2)),
            a.get(1).and_then(Value::as_str),
        ) {
            if let Err(e) = ops.sockets_join(room) {
                tracing::debug!(error = %e, "admin UI join failed");
            }
        }
    });
    let io3 = io.clone();
    socket.on("leave", move |payload: Payload| {
        let a = args_of(&payload);
        if let (Some(ops), Some(room)) = (
            target(&io3, a.first(), a.get(2)),
            a.get(1).and_then(Value::as_str),
        ) {
            if let Err(e) = ops.sockets_leave(room) {
                tracing::debug!(error = %e, "admin UI leave failed");
            }
        }
    });
    let io4 = io.clone();
    socket.on("_disconnect", move |payload: Payload| {
        let a = args_of(&payload);
        let close = a.get(1).and_then(Value::as_bool).unwrap_or(false);
        if let Some(ops) = target(&io4, a.first(), a.get(2)) {
            if let Err(e) = ops.disconnect_sockets(close) {
                tracing::debug!(error = %e, "admin UI disconnect failed");
            }
        }
    });
}

/// Checks a login: the session id, else the user name and password.
async fn authenticate(
    socket: SocketRef,
    username: Arc<str>,
    hash: Arc<str>,
    sessions: Arc<Mutex<Sessions>>,
) -> Result<(), ConnectError> {
    let auth: Value = socket.handshake().auth().unwrap_or(Value::Null);
    if let Some(id) = auth.get("sessionId").and_then(Value::as_str) {
        if sessions.locked().exists(id) {
            return Ok(());
        }
    }
    let refused = || ConnectError::new("invalid credentials");
    if auth.get("username").and_then(Value::as_str) != Some(&*username) {
        return Err(refused());
    }
    let password = auth
        .get("password")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    // bcrypt costs tens of milliseconds: off the runtime's threads.
    let ok = tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash).unwrap_or(false))
        .await
        .unwrap_or(false);
    if !ok {
        return Err(refused());
    }
    let id = session_id().ok_or_else(|| ConnectError::new("internal error"))?;
    sessions.locked().save(id.clone());
    // Sent before the CONNECT reply, as Node does; the client buffers it.
    match Outgoing::event(socket.ns(), None, "session", &(id.as_str(),)) {
        Ok(packet) => {
            let _ = socket.send_early(&packet);
        }
        Err(e) => tracing::warn!(error = %e, "admin UI session id not encoded"),
    }
    Ok(())
}

/// Installs the admin UI on `io` (Node's `instrument(io, options)`).
///
/// # Errors
/// The password hash is not a bcrypt hash, or there is no Tokio runtime.
pub fn instrument(io: &Io, options: AdminUiOptions) -> Result<AdminUi, AdminUiError> {
    let runtime = tokio::runtime::Handle::try_current().map_err(AdminUiError::NoRuntime)?;
    if let AdminAuth::Basic { password_hash, .. } = &options.auth {
        password_hash
            .parse::<bcrypt::HashParts>()
            .map_err(AdminUiError::InvalidHash)?;
    }
    let namespace = crate::socketio::namespace::normalize(&options.namespace);
    let server_id = options
        .server_id
        .clone()
        .unwrap_or_else(|| gethostname::gethostname().to_string_lossy().into_owned());
    let dev = options.mode == AdminMode::Development;
    let stats = Arc::new(Mutex::new(EventBuffer::default()));
    let (tx, rx) = if dev {
        let (tx, rx) = mpsc::channel(options.event_queue.max(1));
        (Some(tx), Some(rx))
    } else {
        (None, None)
    };
    let features = features(&options);
    let read_only = options.read_only;
    let io_h = io.clone();
    let handle = io.ns(&namespace, move |socket: SocketRef| {
        if !read_only {
            register_commands(&io_h, &socket);
        }
        let _ = socket.emit("config", &json!({ "supportedFeatures": features }));
        if dev {
            let io = io_h.clone();
            crate::socketio::spawn(async move {
                let all = serialize::all_sockets(&io).await;
                let _ = socket.emit("all_sockets", &(all,));
            });
        }
    });
    if let AdminAuth::Basic {
        username,
        password_hash,
    } = &options.auth
    {
        let username: Arc<str> = username.as_str().into();
        let hash: Arc<str> = password_hash.as_str().into();
        let sessions = Arc::new(Mutex::new(Sessions {
            ids: HashMap::new(),
            order: VecDeque::new(),
            max: options.max_sessions,
            ttl: options.session_duration,
        }));
        let _ = handle.use_middleware(move |s: SocketRef| {
            authenticate(s, username.clone(), hash.clone(), sessions.clone())
        });
    } else {
        tracing::warn!("admin UI authentication is disabled: use with caution");
    }
    io.expose_admin_data();
    let live = Arc::new(Live::default());
    io.observe(Arc::new(AdminObserver {
        namespace: namespace.clone(),
        stats: stats.clone(),
        live: live.clone(),
        events: tx,
        dropped: AtomicU64::new(0),
    }))
    .map_err(AdminUiError::TooManyObservers)?;
    let stop = Arc::new(Notify::new());
    let task = AdminTask {
        io: io.clone(),
        namespace,
        base: json!({
            "serverId": server_id,
            "hostname": gethostname::gethostname().to_string_lossy(),
            "pid": std::process::id(),
        }),
        started: Instant::now(),
        stats,
        live,
        tracked: HashMap::new(),
        dev,
    };
    runtime.spawn(task.run(rx, options.stats_interval, stop.clone()));
    Ok(AdminUi { server_id, stop })
}

/// The admin task: sends the stats on a timer and the queued events.
struct AdminTask {
    io: Io,
    namespace: String,
    base: Value,
    started: Instant,
    stats: Arc<Mutex<EventBuffer>>,
    live: Arc<Live>,
    /// This node's sockets as last sent (development mode): transport and
    /// data, to send `socket_updated` when they change.
    tracked: HashMap<(String, String), (String, Value)>,
    dev: bool,
}

impl AdminTask {
    async fn run(
        mut self,
        mut events: Option<mpsc::Receiver<AdminEvent>>,
        every: Duration,
        stop: Arc<Notify>,
    ) {
        let mut tick = tokio::time::interval(every.max(Duration::from_millis(10)));
        let mut second = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                () = stop.notified() => return,
                _ = second.tick() => self.live.flush(&self.stats),
                _ = tick.tick() => {
                    self.send_stats();
                    if self.dev {
                        self.send_updates();
                    }
                }
                ev = recv(&mut events) => match ev {
                    Some(ev) => self.send_event(ev),
                    None => events = None,
                },
            }
        }
    }

    fn emit<T: serde::Serialize + ?Sized>(&self, event: &str, args: &T) {
        if let Some(ops) = self.io.of(&self.namespace) {
            if let Err(e) = ops.emit(event, args) {
                tracing::debug!(error = %e, event, "admin UI event not sent");
            }
        }
    }

    fn send_stats(&self) {
        let mut stats = self.base.clone();
        self.live.flush(&self.stats);
        let aggregated = self.stats.locked().take();
        let (clients, polling, namespaces) = self.io.admin_counts();
        if let Some(o) = stats.as_object_mut() {
            o.insert("uptime".into(), json!(self.started.elapsed().as_secs_f64()));
            o.insert("clientsCount".into(), json!(clients));
            o.insert("pollingClientsCount".into(), json!(polling));
            o.insert("aggregatedEvents".into(), aggregated);
            o.insert(
                "namespaces".into(),
                Value::Array(
                    namespaces
                        .into_iter()
                        .map(|(name, n)| json!({"name": name, "socketsCount": n}))
                        .collect(),
                ),
            );
        }
        self.emit("server_stats", &(stats,));
    }

    /// `socket_updated` for this node's sockets whose transport or data
    /// changed since last sent.
    fn send_updates(&mut self) {
        let mut updates = Vec::new();
        self.tracked.retain(|(nsp, id), (transport, data)| {
            let Some(socket) = self.io.local_socket(nsp, id) else {
                return false;
            };
            let now_transport = serialize::transport(&socket);
            if now_transport != *transport {
                transport.clone_from(&now_transport);
                updates.push(json!({"id": id, "nsp": nsp, "transport": now_transport}));
            }
            let now_data = serialize::data(&socket);
            if now_data != *data {
                updates.push(json!({"id": id, "nsp": nsp, "data": now_data}));
                *data = now_data;
            }
            true
        });
        for u in updates {
            self.emit("socket_updated", &(u,));
        }
    }

    fn send_event(&mut self, event: AdminEvent) {
        match event {
            AdminEvent::Connected(socket, at) => {
                self.tracked.insert(
                    (socket.ns().to_owned(), socket.id().to_string()),
                    (serialize::transport(&socket), serialize::data(&socket)),
                );
                let s = serialize::local(&socket);
                self.emit("socket_connected", &(s, iso_date(at)));
            }
            AdminEvent::Disconnected {
                nsp,
                id,
                reason,
                at,
            } => {
                self.tracked.remove(&(nsp.clone(), id.clone()));
                self.emit("socket_disconnected", &(nsp, id, reason, iso_date(at)));
            }
            AdminEvent::Room {
                joined,
                nsp,
                room,
                id,
                at,
            } => {
                let name = if joined { "room_joined" } else { "room_left" };
                self.emit(name, &(nsp, room, id, iso_date(at)));
            }
            AdminEvent::Event {
                sent,
                nsp,
                id,
                frame,
                json_at,
                at,
            } => {
                // Decoded here, off the sending and receiving paths.
                let args: Value = frame
                    .as_str()
                    .get(json_at..)
                    .and_then(|json| serde_json::from_str(json).ok())
                    .unwrap_or(Value::Null);
                let name = if sent { "event_sent" } else { "event_received" };
                self.emit(name, &(nsp, id, args, iso_date(at)));
            }
        }
    }
}

/// The next queued event; never, without a queue.
async fn recv(events: &mut Option<mpsc::Receiver<AdminEvent>>) -> Option<AdminEvent> {
    match events {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}
