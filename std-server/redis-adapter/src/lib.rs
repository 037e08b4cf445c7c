//! # oxio-redis-adapter
//!
//! A cluster adapter over Redis pub/sub, wire-compatible with
//! @socket.io/redis-adapter 8.x (`createAdapter`, classic pub/sub;
//! docs/protocol.md §6): oxio nodes and Node socket.io nodes on one Redis
//! share broadcasts (rooms, except, volatile, binary), broadcasts with
//! acks, `fetch_sockets` and remote join/leave/disconnect, server-side
//! emits with and without acks, and the server count.
//!
//! Built on the `redis` crate (tokio, multiplexed connection for
//! publishing, a dedicated pub/sub connection for receiving). When Redis
//! goes away, the node keeps serving its own clients and local
//! broadcasts, logs a warning, reconnects with exponential backoff and
//! subscribes again; messages published meanwhile are lost, as with
//! Node's adapter. Malformed or unknown messages are logged at debug level
//! and ignored.
//!
//! ```no_run
//! use oxio_redis_adapter::RedisAdapter;
//! use oxio_server::socketio::SocketIo;
//! use std::time::Duration;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let adapter = RedisAdapter::builder("redis://127.0.0.1:6379")
//!     .key("socket.io") // Node's `key`
//!     .requests_timeout(Duration::from_secs(5)) // Node's `requestsTimeout`
//!     .publish_on_specific_response_channel(false)
//!     .connect()
//!     .await?;
//! let sio = SocketIo::builder().with_adapter(adapter).build();
//! sio.io().emit("hello", &("from every node",))?;
//! # Ok(()) }
//! ```
//!
//! It depends on `oxio-adapter` (and the codec) only, never on the
//! Socket.IO layer: local sockets are reached through the namespace's
//! [`LocalNamespace`].
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod codec;
mod link;
mod sharded;

pub use oxio_adapter::wire::MessageError;
pub use sharded::{
    ShardedAdapterBuilder, ShardedAdapterFactory, ShardedRedisAdapter, SubscriptionMode,
    UnknownSubscriptionMode,
};

use crate::codec::{Envelope, MsgLimits, RequestType, WirePacket};
use crate::link::{Shared, Status, SubCmd};
use core::fmt;
use oxio_adapter::sync::{LockExt, RwLockExt};
use oxio_adapter::{
    AckCollector, AckEvent, AckResponse, Adapter, AdapterError, AdapterFactory, BoxFuture,
    BroadcastOptions, Cause, FoundSocket, LocalNamespace, MemoryAdapter, Outgoing,
    RemoteSocketData, Room, ServerAck, ServerEvent, ServerSideAcks, Sid,
};
use serde_json::{json, Value as Json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// Why the Redis adapter could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisAdapterError {
    /// The URL does not parse as a Redis URL.
    #[error("invalid Redis URL")]
    Url(#[source] redis::RedisError),
    /// Not called inside a Tokio runtime.
    #[error("the Redis adapter must be built inside a Tokio runtime")]
    NoRuntime(#[source] tokio::runtime::TryCurrentError),
    /// [`RedisAdapterBuilder::connect`] did not reach Redis in time.
    #[error("could not reach Redis in time")]
    ConnectTimeout,
}

/// The adapter's settings (see the builder's methods for each).
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) prefix: String,
    pub(crate) requests_timeout: Duration,
    pub(crate) specific_response_channel: bool,
    pub(crate) limits: MsgLimits,
    pub(crate) reconnect_min: Duration,
    pub(crate) reconnect_max: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) command_timeout: Duration,
    pub(crate) health_interval: Duration,
    pub(crate) publish_queue: usize,
}

/// Configures a Redis adapter; option names follow Node's
/// `createAdapter(pub, sub, { key, requestsTimeout,
/// publishOnSpecificResponseChannel })`.
///
/// ```
/// use oxio_redis_adapter::RedisAdapter;
/// use std::time::Duration;
///
/// let b = RedisAdapter::builder("redis://127.0.0.1:6379")
///     .key("my-app")
///     .requests_timeout(Duration::from_secs(2))
///     .publish_on_specific_response_channel(true)
///     .max_message_len(1 << 20)
///     .reconnect_backoff(Duration::from_millis(100), Duration::from_secs(5));
/// // Building needs a Tokio runtime (it starts the connection tasks).
/// assert!(b.build().is_err());
/// ```
#[derive(Debug, Clone)]
pub struct RedisAdapterBuilder {
    url: String,
    cfg: Config,
}

impl RedisAdapterBuilder {
    /// The channel prefix (Node's `key`, default `socket.io`).
    pub fn key(mut self, prefix: impl Into<String>) -> Self {
        self.cfg.prefix = prefix.into();
        self
    }

    /// Same as [`RedisAdapterBuilder::key`].
    pub fn prefix(self, prefix: impl Into<String>) -> Self {
        self.key(prefix)
    }

    /// How long requests to other nodes (`fetch_sockets`, `rooms`,
    /// server-side emits with ack) wait for answers (Node's
    /// `requestsTimeout`, default 5 s).
    pub fn requests_timeout(mut self, d: Duration) -> Self {
        self.cfg.requests_timeout = d;
        self
    }

    /// Answers to other nodes' requests go to `<prefix>-response#<nsp>#<uid>#`
    /// instead of the shared response channel (Node's
    /// `publishOnSpecificResponseChannel`, default false). This node always
    /// listens on both.
    pub fn publish_on_specific_response_channel(mut self, on: bool) -> Self {
        self.cfg.specific_response_channel = on;
        self
    }

    /// The largest message accepted from Redis (default 16 MiB); larger
    /// ones are ignored with a log line.
    pub fn max_message_len(mut self, bytes: usize) -> Self {
        self.cfg.limits.max_len = bytes;
        self
    }

    /// The deepest nesting accepted in a message (default 128).
    pub fn max_depth(mut self, depth: usize) -> Self {
        self.cfg.limits.max_depth = depth;
        self
    }

    /// The reconnect delay: starts at `min`, doubles up to `max`
    /// (defaults 200 ms and 5 s).
    pub fn reconnect_backoff(mut self, min: Duration, max: Duration) -> Self {
        self.cfg.reconnect_min = min;
        self.cfg.reconnect_max = max.max(min);
        self
    }

    /// How often an idle link is checked with `PING` (default 2 s), so a
    /// Redis restart is noticed even without traffic.
    pub fn health_interval(mut self, d: Duration) -> Self {
        self.cfg.health_interval = d.max(Duration::from_millis(10));
        self
    }

    /// Messages queued for publishing at most (default 16384); beyond,
    /// publishes are dropped with a warning instead of growing memory.
    pub fn publish_queue_len(mut self, n: usize) -> Self {
        self.cfg.publish_queue = n.max(1);
        self
    }

    /// Starts the connection tasks and returns the factory to give to
    /// `SocketIoBuilder::with_adapter` (oxio-server).
    /// Returns at once: Redis is connected in the background (see
    /// [`RedisAdapterFactory::ready`]).
    pub fn build(self) -> Result<RedisAdapterFactory, RedisAdapterError> {
        let client = redis::Client::open(self.url.as_str()).map_err(RedisAdapterError::Url)?;
        let rt = tokio::runtime::Handle::try_current().map_err(RedisAdapterError::NoRuntime)?;
        let cfg = self.cfg;
        let uid = random_id(6);
        let (pub_tx, pub_rx) = mpsc::channel(cfg.publish_queue);
        let (sub_tx, sub_rx) = mpsc::unbounded_channel();
        let (conn_tx, conn_rx) = watch::channel(None);
        let (status, _) = watch::channel(Status::default());
        let (shutdown, _) = watch::channel(false);
        let shared = Arc::new(Shared {
            cfg: cfg.clone(),
            uid: uid.clone(),
            namespaces: RwLock::new(HashMap::new()),
            pub_tx,
            sub_tx,
            conn: conn_rx,
            status,
            shutdown,
        });
        rt.spawn(link::run_publisher(
            Arc::downgrade(&shared),
            client.clone(),
            pub_rx,
            conn_tx,
            shared.shutdown.subscribe(),
            cfg.clone(),
        ));
        rt.spawn(link::run_subscriber(
            Arc::downgrade(&shared),
            client,
            sub_rx,
            shared.shutdown.subscribe(),
            cfg,
            uid,
        ));
        Ok(RedisAdapterFactory {
            driver: Arc::new(Driver { shared }),
        })
    }

    /// [`RedisAdapterBuilder::build`], then waits until both connections
    /// are up (at most the requests timeout).
    pub async fn connect(self) -> Result<RedisAdapterFactory, RedisAdapterError> {
        let timeout = self.cfg.requests_timeout;
        let factory = self.build()?;
        if factory.ready(timeout).await {
            Ok(factory)
        } else {
            factory.close();
            Err(RedisAdapterError::ConnectTimeout)
        }
    }
}

pub(crate) fn random_id(n: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = vec![0u8; n];
    if getrandom::fill(&mut bytes).is_err() {
        // Uniqueness only matters between nodes; fall back to the clock.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (t >> ((i % 16) * 8)) as u8;
        }
    }
    bytes
        .iter()
        .map(|b| {
            char::from(
                ALPHABET
                    .get(usize::from(*b) % ALPHABET.len())
                    .copied()
                    .unwrap_or(b'x'),
            )
        })
        .collect()
}

/// The Redis adapter of one namespace. Made by [`RedisAdapterFactory`].
pub struct RedisAdapter {
    local: MemoryAdapter,
    driver: Arc<Driver>,
    names: Channels,
    pending: Mutex<HashMap<String, Pending>>,
    me: Weak<RedisAdapter>,
}

impl fmt::Debug for RedisAdapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisAdapter")
            .field("ns", &self.local.namespace().name())
            .field("uid", &self.driver.shared.uid)
            .finish()
    }
}

impl RedisAdapter {
    /// A builder for the adapter factory, for Redis at `url`
    /// (`redis://[user:password@]host:port[/db]`).
    pub fn builder(url: impl Into<String>) -> RedisAdapterBuilder {
        RedisAdapterBuilder {
            url: url.into(),
            cfg: Config {
                prefix: "socket.io".into(),
                requests_timeout: Duration::from_secs(5),
                specific_response_channel: false,
                limits: MsgLimits::default(),
                reconnect_min: Duration::from_millis(200),
                reconnect_max: Duration::from_secs(5),
                connect_timeout: Duration::from_secs(5),
                command_timeout: Duration::from_secs(5),
                health_interval: Duration::from_secs(2),
                publish_queue: 16_384,
            },
        }
    }
}

/// The channel names of one namespace.
#[derive(Debug, Clone)]
pub(crate) struct Channels {
    pub(crate) broadcast: String,
    pub(crate) request: String,
    pub(crate) response: String,
    pub(crate) specific_response: String,
}

impl Channels {
    pub(crate) fn new(prefix: &str, nsp: &str, uid: &str) -> Self {
        let response = format!("{prefix}-response#{nsp}#");
        Channels {
            broadcast: format!("{prefix}#{nsp}#"),
            request: format!("{prefix}-request#{nsp}#"),
            specific_response: format!("{response}{uid}#"),
            response,
        }
    }
}

/// Stops the link tasks when the last factory clone and adapter are gone.
struct Driver {
    shared: Arc<Shared>,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.shared.shutdown.send(true);
    }
}

/// Makes a [`RedisAdapter`] per namespace, all sharing one node id and
/// the two Redis connections. Cheap to clone.
#[derive(Clone)]
pub struct RedisAdapterFactory {
    driver: Arc<Driver>,
}

impl fmt::Debug for RedisAdapterFactory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisAdapterFactory")
            .field("uid", &self.driver.shared.uid)
            .finish()
    }
}

impl RedisAdapterFactory {
    /// This node's id on the wire (6 characters, as Node's).
    pub fn uid(&self) -> &str {
        &self.driver.shared.uid
    }

    /// Whether both connections are up and every namespace is subscribed.
    pub fn is_ready(&self) -> bool {
        let shared = &self.driver.shared;
        let status = shared.status.borrow();
        status.publisher_up
            && status.subscriber_up
            && shared
                .namespaces
                .reading()
                .keys()
                .all(|n| status.subscribed.contains(n))
    }

    /// Messages waiting in the publish queue (at most
    /// [`publish_queue_len`](RedisAdapterBuilder::publish_queue_len)): grows
    /// while Redis is slow or down.
    pub fn publish_queue_depth(&self) -> u64 {
        let tx = &self.driver.shared.pub_tx;
        u64::try_from(tx.max_capacity().saturating_sub(tx.capacity())).unwrap_or(u64::MAX)
    }

    /// Waits up to `timeout` for [`RedisAdapterFactory::is_ready`].
    pub async fn ready(&self, timeout: Duration) -> bool {
        let mut rx = self.driver.shared.status.subscribe();
        let wait = async {
            loop {
                if self.is_ready() {
                    return;
                }
                if rx.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        };
        tokio::time::timeout(timeout, wait).await.is_ok()
    }

    /// Stops the connection tasks (adapters keep delivering locally).
    pub fn close(&self) {
        let _ = self.driver.shared.shutdown.send(true);
    }
}

impl AdapterFactory for RedisAdapterFactory {
    fn create(&self, ns: LocalNamespace) -> Arc<dyn Adapter> {
        let shared = &self.driver.shared;
        let name: Arc<str> = ns.name().into();
        let adapter = Arc::new_cyclic(|me| RedisAdapter {
            names: Channels::new(&shared.cfg.prefix, &name, &shared.uid),
            local: MemoryAdapter::new(ns),
            driver: self.driver.clone(),
            pending: Mutex::new(HashMap::new()),
            me: me.clone(),
        });
        shared
            .namespaces
            .writing()
            .insert(name.clone(), Arc::downgrade(&adapter));
        let _ = shared.sub_tx.send(SubCmd::Subscribe(name));
        // Wake `ready` waiters: there is one more namespace to subscribe.
        shared.status.send_modify(|_| {});
        adapter
    }
}

/// A request this node waits on answers for.
enum Pending {
    Ack(oxio_adapter::AckSink),
    Fetch(mpsc::UnboundedSender<Vec<RemoteSocketData>>),
    Rooms(mpsc::UnboundedSender<Vec<Room>>),
    ServerSide(mpsc::UnboundedSender<Json>),
}

/// Routes one message from Redis to the adapter of its namespace.
pub(crate) fn dispatch(shared: &Shared, channel: &str, payload: &[u8]) {
    for adapter in shared.adapters() {
        let n = &adapter.names;
        if channel == n.request {
            adapter.on_request(payload);
            return;
        }
        if channel == n.response || channel == n.specific_response {
            adapter.on_response(payload);
            return;
        }
        if let Some(rest) = channel.strip_prefix(n.broadcast.as_str()) {
            let room = rest.strip_suffix('#').unwrap_or(rest);
            if !room.is_empty() && !adapter.has_room(room) {
                tracing::trace!(room, "redis adapter: broadcast for a room not held here");
                return;
            }
            adapter.on_broadcast(payload);
            return;
        }
    }
    tracing::trace!(channel, "redis adapter: message on an unknown channel");
}

/// A local socket as a REMOTE_FETCH answer shows it.
pub(crate) fn socket_json(s: RemoteSocketData) -> Json {
    json!({
        "id": s.id.as_str(),
        "handshake": s.handshake,
        "rooms": s.rooms.iter().map(|r| Json::from(&**r)).collect::<Vec<_>>(),
        "data": s.data,
    })
}

/// A socket of a fetch-sockets answer (`{id, handshake, rooms, data}`).
pub(crate) fn remote_socket(s: &Json) -> Option<RemoteSocketData> {
    let id = s.get("id")?.as_str()?;
    let rooms = s
        .get("rooms")
        .and_then(Json::as_array)
        .map(|a| a.iter().filter_map(Json::as_str).map(Room::from).collect())
        .unwrap_or_default();
    Some(RemoteSocketData {
        id: Sid::from(id),
        rooms,
        handshake: s.get("handshake").cloned().unwrap_or(Json::Null),
        data: s.get("data").cloned().unwrap_or(Json::Null),
    })
}

impl RedisAdapter {
    fn shared(&self) -> &Shared {
        &self.driver.shared
    }

    fn cfg(&self) -> &Config {
        &self.driver.shared.cfg
    }

    fn ns_name(&self) -> &str {
        self.local.namespace().name()
    }

    fn has_room(&self, room: &str) -> bool {
        self.local.index().has_room(room)
    }

    fn publish(&self, channel: String, payload: Vec<u8>) {
        self.shared().publish(channel, payload);
    }

    fn publish_json(&self, channel: String, v: Json) {
        self.publish(channel, codec::encode_json(v));
    }

    fn response_channel_for(&self, request_uid: &str) -> String {
        if self.cfg().specific_response_channel {
            format!("{}{request_uid}#", self.names.response)
        } else {
            self.names.response.clone()
        }
    }

    fn add_pending(&self, id: &str, p: Pending) {
        self.pending.locked().insert(id.to_owned(), p);
    }

    fn remove_pending(&self, id: &str) {
        self.pending.locked().remove(id);
    }

    /// Removes `id` from the pending requests when dropped.
    fn pending_guard(&self, id: String) -> PendingGuard {
        PendingGuard {
            adapter: self.me.clone(),
            id,
        }
    }

    fn on_broadcast(&self, payload: &[u8]) {
        let b = match codec::decode_broadcast(payload, &self.cfg().limits) {
            Ok(b) => b,
            Err(e) => {
                tracing::debug!(error = %e, "redis adapter: malformed broadcast ignored");
                return;
            }
        };
        if b.uid == self.shared().uid {
            return;
        }
        if b.packet.nsp != self.ns_name() {
            tracing::debug!(nsp = %b.packet.nsp, "redis adapter: broadcast for another namespace ignored");
            return;
        }
        match b.packet.to_outgoing(None, self.local.namespace().parser()) {
            Ok(packet) => {
                let _ = self.local.broadcast(&packet, &b.opts);
            }
            Err(e) => tracing::debug!(error = %e, "redis adapter: broadcast packet ignored"),
        }
    }

    fn on_request(&self, payload: &[u8]) {
        let env = match codec::decode_envelope(payload, &self.cfg().limits) {
            Ok(env) => env,
            Err(e) => {
                tracing::debug!(error = %e, "redis adapter: malformed request ignored");
                return;
            }
        };
        let uid = env.str_field("uid").unwrap_or_default().to_owned();
        if uid == self.shared().uid {
            return;
        }
        let request_id = env.str_field("requestId").map(str::to_owned);
        let Some(kind) = env.kind() else {
            tracing::debug!("redis adapter: request of unknown type ignored");
            return;
        };
        let reply = |v: Json| self.publish_json(self.response_channel_for(&uid), v);
        match kind {
            RequestType::Sockets => {
                let opts = BroadcastOptions {
                    rooms: env.rooms("rooms"),
                    ..Default::default()
                };
                let ids: Vec<Json> = self
                    .local
                    .index()
                    .matching(&opts)
                    .iter()
                    .map(|s| Json::from(s.as_str()))
                    .collect();
                reply(json!({ "requestId": request_id, "sockets": ids }));
            }
            RequestType::AllRooms => {
                let rooms: Vec<Json> = self
                    .local
                    .index()
                    .rooms()
                    .iter()
                    .map(|r| Json::from(&**r))
                    .collect();
                reply(json!({ "requestId": request_id, "rooms": rooms }));
            }
            RequestType::RemoteJoin | RequestType::RemoteLeave | RequestType::RemoteDisconnect => {
                self.on_remote_membership(kind, &env, request_id, reply);
            }
            RequestType::RemoteFetch => {
                let sockets: Vec<Json> = self
                    .local
                    .index()
                    .matching(&env.opts())
                    .iter()
                    .filter_map(|sid| self.local.namespace().socket_data(sid))
                    .map(socket_json)
                    .collect();
                reply(json!({ "requestId": request_id, "sockets": sockets }));
            }
            RequestType::ServerSideEmit => self.on_server_side_emit(&env, request_id),
            RequestType::Broadcast => self.on_broadcast_request(&env, &uid, request_id),
            RequestType::BroadcastClientCount | RequestType::BroadcastAck => {
                tracing::debug!("redis adapter: response type on the request channel ignored")
            }
        }
    }

    fn on_remote_membership(
        &self,
        kind: RequestType,
        env: &Envelope,
        request_id: Option<String>,
        reply: impl Fn(Json),
    ) {
        if env.fields.contains_key("opts") {
            let opts = env.opts();
            let rooms = env.rooms("rooms");
            let _ = match kind {
                RequestType::RemoteJoin => self.local.add_sockets(&opts, &rooms),
                RequestType::RemoteLeave => self.local.del_sockets(&opts, &rooms),
                _ => {
                    let close = env.fields.get("close").and_then(Json::as_bool) == Some(true);
                    self.local.disconnect_sockets(&opts, close)
                }
            };
            return;
        }
        // The older single-socket form: {sid, room | close}.
        let Some(sid) = env.str_field("sid").map(Sid::from) else {
            return;
        };
        if self.local.namespace().socket_data(&sid).is_none() {
            return;
        }
        let room = || vec![Room::from(env.str_field("room").unwrap_or_default())];
        match kind {
            RequestType::RemoteJoin => self.local.index().add_all(&sid, &room()),
            RequestType::RemoteLeave => self.local.index().del(&sid, &room()),
            _ => {
                let close = env.fields.get("close").and_then(Json::as_bool) == Some(true);
                self.local.namespace().disconnect(&sid, close);
            }
        }
        reply(json!({ "requestId": request_id }));
    }

    fn on_server_side_emit(&self, env: &Envelope, request_id: Option<String>) {
        let Some(data) = env.fields.get("data").filter(|d| d.is_array()) else {
            tracing::debug!("redis adapter: server-side emit without data ignored");
            return;
        };
        let ack = request_id.map(|id| {
            let shared = self.driver.shared.clone();
            let channel = self.names.response.clone();
            ServerAck::new(move |arg| {
                // Node answers on the shared response channel.
                shared.publish(
                    channel,
                    codec::encode_json(json!({
                        "type": RequestType::ServerSideEmit as u8,
                        "requestId": id,
                        "data": arg,
                    })),
                );
            })
        });
        let text = data.to_string();
        match ServerEvent::new(&text, ack) {
            Some(ev) => {
                self.local.namespace().server_side_event(ev);
            }
            None => {
                tracing::debug!("redis adapter: server-side emit without an event name ignored")
            }
        }
    }

    fn on_broadcast_request(&self, env: &Envelope, uid: &str, request_id: Option<String>) {
        let Some(request_id) = request_id else {
            return;
        };
        let packet = match env.packet() {
            Ok(p) if p.nsp == self.ns_name() => p,
            Ok(_) => return,
            Err(e) => {
                tracing::debug!(error = %e, "redis adapter: broadcast request ignored");
                return;
            }
        };
        let opts = env.opts();
        let ack_id = self.local.namespace().next_ack_id();
        let outgoing = match packet.to_outgoing(Some(ack_id), self.local.namespace().parser()) {
            Ok(o) => o,
            Err(e) => {
                tracing::debug!(error = %e, "redis adapter: broadcast request ignored");
                return;
            }
        };
        let Ok(mut collector) = self.local.broadcast_with_ack(&outgoing, ack_id, &opts) else {
            return;
        };
        let channel = self.response_channel_for(uid);
        let count = collector.expected_clients();
        self.publish_json(
            channel.clone(),
            json!({
                "type": RequestType::BroadcastClientCount as u8,
                "requestId": request_id,
                "clientCount": count,
            }),
        );
        if count == 0 {
            return;
        }
        let timeout = opts.flags.timeout.unwrap_or(self.cfg().requests_timeout);
        let shared = self.driver.shared.clone();
        let depth = self.cfg().limits.max_depth;
        spawn(async move {
            let deadline = tokio::time::Instant::now() + timeout;
            let mut answered = 0usize;
            while answered < count {
                match tokio::time::timeout_at(deadline, collector.recv()).await {
                    Ok(Some(AckEvent::Response(AckResponse { result, .. }))) => {
                        answered += 1;
                        if let Ok(payload) = result {
                            match codec::encode_broadcast_ack(&request_id, &payload, depth) {
                                Ok(bytes) => shared.publish(channel.clone(), bytes),
                                Err(e) => {
                                    tracing::debug!(error = %e, "redis adapter: ack not forwarded")
                                }
                            }
                        }
                    }
                    Ok(Some(_)) => {}
                    Ok(None) | Err(_) => break,
                }
            }
        });
    }

    fn on_response(&self, payload: &[u8]) {
        let env = match codec::decode_envelope(payload, &self.cfg().limits) {
            Ok(env) => env,
            Err(e) => {
                tracing::debug!(error = %e, "redis adapter: malformed response ignored");
                return;
            }
        };
        let Some(id) = env.str_field("requestId") else {
            return;
        };
        let pending = self.pending.locked();
        let Some(p) = pending.get(id) else {
            return;
        };
        match p {
            Pending::Ack(sink) => match env.kind() {
                Some(RequestType::BroadcastClientCount) => {
                    let n = env
                        .fields
                        .get("clientCount")
                        .and_then(Json::as_u64)
                        .and_then(|n| usize::try_from(n).ok())
                        .unwrap_or(0);
                    let _ = sink.send(AckEvent::ClientCount(n));
                    let _ = sink.send(AckEvent::ServerDone);
                }
                Some(RequestType::BroadcastAck) => {
                    match codec::ack_payload(&env, self.cfg().limits.max_depth) {
                        Ok(payload) => {
                            let _ = sink.send(AckEvent::Response(AckResponse {
                                sid: Sid::from(""),
                                result: Ok(payload),
                            }));
                        }
                        Err(e) => tracing::debug!(error = %e, "redis adapter: ack ignored"),
                    }
                }
                _ => {}
            },
            Pending::Fetch(tx) => {
                let Some(list) = env.fields.get("sockets").and_then(Json::as_array) else {
                    return;
                };
                let sockets = list.iter().filter_map(remote_socket).collect();
                let _ = tx.send(sockets);
            }
            Pending::Rooms(tx) => {
                if let Some(list) = env.fields.get("rooms").and_then(Json::as_array) {
                    let _ = tx.send(
                        list.iter()
                            .filter_map(Json::as_str)
                            .map(Room::from)
                            .collect(),
                    );
                }
            }
            Pending::ServerSide(tx) => {
                let mut data = env.fields.get("data").cloned().unwrap_or(Json::Null);
                codec::inline_buffers(&mut data, &env.attachments, self.cfg().limits.max_depth);
                let _ = tx.send(data);
            }
        }
    }

    /// Publishes a request and collects `expected` answers of type `T`
    /// until the requests timeout.
    async fn gather<T: Send + 'static>(
        &self,
        request: Json,
        expected: usize,
        make: impl FnOnce(mpsc::UnboundedSender<T>) -> Pending,
    ) -> (Vec<T>, bool) {
        let id = random_id(6);
        let (tx, mut rx) = mpsc::unbounded_channel();
        self.add_pending(&id, make(tx));
        let _guard = self.pending_guard(id.clone());
        let mut request = request;
        if let Some(m) = request.as_object_mut() {
            m.insert("uid".into(), Json::from(self.shared().uid.as_str()));
            m.insert("requestId".into(), Json::from(id));
        }
        self.publish_json(self.names.request.clone(), request);
        let deadline = tokio::time::Instant::now() + self.cfg().requests_timeout;
        let mut out = Vec::new();
        while out.len() < expected {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(v)) => out.push(v),
                Ok(None) | Err(_) => return (out, true),
            }
        }
        (out, false)
    }

    async fn count_servers(&self) -> Result<usize, AdapterError> {
        let conn = self.shared().conn.borrow().clone();
        let Some(mut conn) = conn else {
            return Err(AdapterError::Unavailable("Redis is not connected".into()));
        };
        let mut cmd = redis::cmd("PUBSUB");
        cmd.arg("NUMSUB").arg(&self.names.request);
        let q = cmd.query_async::<(String, usize)>(&mut conn);
        match tokio::time::timeout(self.cfg().command_timeout, q).await {
            Ok(Ok((_, n))) => Ok(n),
            Ok(Err(e)) => Err(AdapterError::Transport(Cause::new(e))),
            Err(_) => Err(AdapterError::Unavailable("PUBSUB NUMSUB timed out".into())),
        }
    }

    fn publish_membership(&self, kind: RequestType, opts: &BroadcastOptions, extra: (&str, Json)) {
        let mut v = json!({
            "uid": self.shared().uid,
            "type": kind as u8,
            "opts": codec::opts_json(opts),
        });
        if let Some(m) = v.as_object_mut() {
            m.insert(extra.0.into(), extra.1);
        }
        self.publish_json(self.names.request.clone(), v);
    }
}

struct PendingGuard {
    adapter: Weak<RedisAdapter>,
    id: String,
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        if let Some(a) = self.adapter.upgrade() {
            a.remove_pending(&self.id);
        }
    }
}

fn me(adapter: &RedisAdapter) -> Result<Arc<RedisAdapter>, AdapterError> {
    adapter.me.upgrade().ok_or(AdapterError::NamespaceClosed)
}

impl Adapter for RedisAdapter {
    fn add_all(&self, sid: &Sid, rooms: &[Room]) {
        self.local.add_all(sid, rooms);
    }

    fn del(&self, sid: &Sid, rooms: &[Room]) {
        self.local.del(sid, rooms);
    }

    fn del_all(&self, sid: &Sid) {
        self.local.del_all(sid);
    }

    fn socket_rooms(&self, sid: &Sid) -> Vec<Room> {
        self.local.socket_rooms(sid)
    }

    fn broadcast(&self, packet: &Outgoing, opts: &BroadcastOptions) -> Result<(), AdapterError> {
        if !opts.flags.local {
            let depth = self.cfg().limits.max_depth;
            let encoded = codec::packet_from_outgoing(packet, depth)
                .and_then(|p| codec::encode_broadcast(&self.shared().uid, &p, opts, depth));
            match encoded {
                Ok(bytes) => {
                    let mut channel = self.names.broadcast.clone();
                    if let [room] = opts.rooms.as_slice() {
                        channel.push_str(room);
                        channel.push('#');
                    }
                    self.publish(channel, bytes);
                }
                Err(e) => tracing::warn!(error = %e, "redis adapter: broadcast not forwarded"),
            }
        }
        self.local.broadcast(packet, opts)
    }

    fn broadcast_with_ack(
        &self,
        packet: &Outgoing,
        ack_id: u64,
        opts: &BroadcastOptions,
    ) -> Result<AckCollector, AdapterError> {
        let mut collector = self.local.broadcast_with_ack(packet, ack_id, opts)?;
        if opts.flags.local {
            return Ok(collector);
        }
        let depth = self.cfg().limits.max_depth;
        let request_id = random_id(6);
        let encoded = codec::packet_from_outgoing(packet, depth).and_then(|p| {
            codec::encode_broadcast_request(&self.shared().uid, &request_id, &p, opts, depth)
        });
        let bytes = match encoded {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(error = %e, "redis adapter: broadcast with acks not forwarded");
                return Ok(collector);
            }
        };
        let sink = collector.sink();
        self.add_pending(&request_id, Pending::Ack(sink.clone()));
        self.publish(self.names.request.clone(), bytes);
        collector.expect_server_count_later();
        let this = me(self)?;
        let timeout = opts.flags.timeout.unwrap_or(self.cfg().requests_timeout);
        spawn(async move {
            let _guard = this.pending_guard(request_id);
            let others = match this.count_servers().await {
                Ok(n) => n.saturating_sub(1),
                Err(e) => {
                    tracing::debug!(error = %e, "redis adapter: server count unknown; local acks only");
                    0
                }
            };
            let _ = sink.send(AckEvent::ServerCount(others));
            // Answers are routed until the broadcast's timeout.
            tokio::time::sleep(timeout).await;
        });
        Ok(collector)
    }

    fn fetch_sockets(
        &self,
        opts: &BroadcastOptions,
    ) -> BoxFuture<Result<Vec<FoundSocket>, AdapterError>> {
        let local = self.local.fetch_sockets(opts);
        let opts = opts.clone();
        let this = me(self);
        Box::pin(async move {
            let mut sockets = local.await?;
            if opts.flags.local {
                return Ok(sockets);
            }
            let this = this?;
            // As Node's adapter: when the other nodes cannot be counted
            // (Redis down or paused), the request fails rather than answer
            // with a partial list that looks complete.
            let n = this.count_servers().await?;
            if n <= 1 {
                return Ok(sockets);
            }
            let request = json!({
                "type": RequestType::RemoteFetch as u8,
                "opts": codec::opts_json(&opts),
            });
            let (answers, timed_out) = this.gather(request, n - 1, Pending::Fetch).await;
            if timed_out {
                return Err(AdapterError::Unavailable(
                    "timeout reached while waiting for fetchSockets response".into(),
                ));
            }
            sockets.extend(answers.into_iter().flatten().map(FoundSocket::Remote));
            Ok(sockets)
        })
    }

    fn add_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) -> Result<(), AdapterError> {
        self.local.add_sockets(opts, rooms)?;
        if !opts.flags.local {
            let rooms: Vec<Json> = rooms.iter().map(|r| Json::from(&**r)).collect();
            self.publish_membership(RequestType::RemoteJoin, opts, ("rooms", Json::Array(rooms)));
        }
        Ok(())
    }

    fn del_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) -> Result<(), AdapterError> {
        self.local.del_sockets(opts, rooms)?;
        if !opts.flags.local {
            let rooms: Vec<Json> = rooms.iter().map(|r| Json::from(&**r)).collect();
            self.publish_membership(
                RequestType::RemoteLeave,
                opts,
                ("rooms", Json::Array(rooms)),
            );
        }
        Ok(())
    }

    fn disconnect_sockets(&self, opts: &BroadcastOptions, close: bool) -> Result<(), AdapterError> {
        if !opts.flags.local {
            self.publish_membership(
                RequestType::RemoteDisconnect,
                opts,
                ("close", Json::Bool(close)),
            );
        }
        self.local.disconnect_sockets(opts, close)
    }

    fn rooms(&self) -> BoxFuture<Result<Vec<Room>, AdapterError>> {
        let local = self.local.rooms();
        let this = me(self);
        Box::pin(async move {
            let mut rooms = local.await?;
            let this = this?;
            let n = match this.count_servers().await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "redis adapter: rooms answers with local rooms only");
                    return Ok(rooms);
                }
            };
            if n <= 1 {
                return Ok(rooms);
            }
            let request = json!({ "type": RequestType::AllRooms as u8 });
            let (answers, timed_out) = this.gather(request, n - 1, Pending::Rooms).await;
            if timed_out {
                return Err(AdapterError::Unavailable(
                    "timeout reached while waiting for allRooms response".into(),
                ));
            }
            for r in answers.into_iter().flatten() {
                if !rooms.contains(&r) {
                    rooms.push(r);
                }
            }
            Ok(rooms)
        })
    }

    fn server_side_emit(&self, packet: &Outgoing) -> Result<(), AdapterError> {
        let data = server_side_data(packet, self.cfg().limits.max_depth)?;
        self.publish_json(
            self.names.request.clone(),
            json!({
                "uid": self.shared().uid,
                "type": RequestType::ServerSideEmit as u8,
                "data": data,
            }),
        );
        Ok(())
    }

    fn server_side_emit_with_ack(
        &self,
        packet: &Outgoing,
    ) -> BoxFuture<Result<ServerSideAcks, AdapterError>> {
        let data = server_side_data(packet, self.cfg().limits.max_depth);
        let this = me(self);
        Box::pin(async move {
            let data = data?;
            let this = this?;
            let others = this.count_servers().await?.saturating_sub(1);
            if others == 0 {
                return Ok(ServerSideAcks::default());
            }
            let request = json!({
                "type": RequestType::ServerSideEmit as u8,
                "data": data,
            });
            let (responses, timed_out) = this.gather(request, others, Pending::ServerSide).await;
            Ok(ServerSideAcks {
                responses,
                expected: others,
                timed_out,
            })
        })
    }

    fn server_count(&self) -> BoxFuture<Result<usize, AdapterError>> {
        let this = me(self);
        Box::pin(async move { this?.count_servers().await })
    }

    fn close(&self) {
        let name: Arc<str> = self.ns_name().into();
        let shared = self.shared();
        let mut map = shared.namespaces.writing();
        let same = map
            .get(&name)
            .is_some_and(|w| std::ptr::eq(w.as_ptr(), self as *const _));
        if same {
            map.remove(&name);
            drop(map);
            let _ = shared.sub_tx.send(SubCmd::Unsubscribe(name));
        }
    }
}

impl Drop for RedisAdapter {
    fn drop(&mut self) {
        self.close();
    }
}

/// `[event, ...args]` of a server-side emit, as JSON (binary as Node's
/// Buffer JSON, since these requests are JSON).
fn server_side_data(packet: &Outgoing, depth: usize) -> Result<Json, AdapterError> {
    let p: WirePacket = codec::packet_from_outgoing(packet, depth)
        .map_err(|e| AdapterError::Encode(Cause::new(e)))?;
    let mut data = p.data;
    codec::inline_buffers(&mut data, &p.attachments, depth);
    Ok(data)
}

/// Spawns on the current Tokio runtime; logs and gives up outside one.
pub(crate) fn spawn<F>(fut: F)
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    match tokio::runtime::Handle::try_current() {
        Ok(h) => {
            h.spawn(fut);
        }
        Err(_) => tracing::error!("redis adapter: no Tokio runtime to run on"),
    }
}
