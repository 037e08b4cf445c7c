//! The sharded adapter: Redis 7 sharded pub/sub (`SPUBLISH` /
//! `SSUBSCRIBE`) on a Redis Cluster, wire-compatible with Node's
//! `createShardedAdapter` of @socket.io/redis-adapter 8.x.
//!
//! Channels of a namespace (`prefix` defaults to `socket.io`):
//! - `<prefix>#<nsp>#`: every node's main channel (requests, broadcasts);
//! - `<prefix>#<nsp>#<uid>#`: this node's responses;
//! - `<prefix>#<nsp>#<room>#`: broadcasts to one room, in the dynamic
//!   subscription modes (see [`SubscriptionMode`]).
//!
//! Messages are socket.io-adapter's cluster messages (`{uid, nsp, type,
//! data}`, JSON, or msgpack when binary is present). A Redis Cluster
//! spreads the channels over its shards; a master that fails only pauses
//! its channels until a replica takes over, then the node subscribes
//! again by itself.
//!
//! ```no_run
//! use oxio_redis_adapter::{ShardedRedisAdapter, SubscriptionMode};
//! use oxio_server::socketio::SocketIo;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let adapter = ShardedRedisAdapter::builder(["redis://127.0.0.1:7000", "redis://127.0.0.1:7001"])
//!     .channel_prefix("socket.io") // Node's `channelPrefix`
//!     .subscription_mode(SubscriptionMode::Dynamic) // Node's `subscriptionMode`
//!     .connect()
//!     .await?;
//! let sio = SocketIo::builder().with_adapter(adapter).build();
//! sio.io().to("room1").emit("hello", &("from every node",))?;
//! # Ok(()) }
//! ```

mod link;
mod message;

use self::link::{Publish, SubCmd};
use self::message::{ClusterMessage, MessageType};
use crate::codec::{self, MsgLimits};
use crate::{random_id, remote_socket, socket_json, spawn, RedisAdapterError};
use core::fmt;
use oxio_adapter::sync::{LockExt, RwLockExt};
use oxio_adapter::{
    AckCollector, AckEvent, AckResponse, Adapter, AdapterError, AdapterFactory, BoxFuture,
    BroadcastOptions, Cause, FoundSocket, LocalNamespace, MemoryAdapter, Outgoing,
    RemoteSocketData, Room, ServerAck, ServerEvent, ServerSideAcks, Sid,
};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{
    MultipleNodeRoutingInfo, Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr,
};
use serde_json::{json, Map, Value as Json};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// Which channels a node subscribes to (Node's `subscriptionMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SubscriptionMode {
    /// Only the namespace's main and response channels: every broadcast
    /// reaches every node.
    Static,
    /// Also one channel per public room (not a socket id) held here; a
    /// broadcast to exactly one such room goes to that room's channel
    /// only, so nodes without the room never see it. Node's default.
    #[default]
    Dynamic,
    /// As `Dynamic`, for every room, socket ids included.
    DynamicPrivate,
}

impl std::str::FromStr for SubscriptionMode {
    type Err = UnknownSubscriptionMode;

    /// Node's names: `static`, `dynamic`, `dynamic-private`.
    ///
    /// ```
    /// use oxio_redis_adapter::SubscriptionMode;
    /// assert_eq!("dynamic-private".parse(), Ok(SubscriptionMode::DynamicPrivate));
    /// assert!("sometimes".parse::<SubscriptionMode>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "static" => Ok(SubscriptionMode::Static),
            "dynamic" => Ok(SubscriptionMode::Dynamic),
            "dynamic-private" => Ok(SubscriptionMode::DynamicPrivate),
            _ => Err(UnknownSubscriptionMode(s.to_owned())),
        }
    }
}

/// A subscription mode name that is none of `static`, `dynamic`,
/// `dynamic-private`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown subscription mode {0:?} (expected static, dynamic or dynamic-private)")]
pub struct UnknownSubscriptionMode(pub String);

/// The sharded adapter's settings (see the builder's methods).
#[derive(Debug, Clone)]
pub(crate) struct ShardedConfig {
    pub(crate) prefix: String,
    pub(crate) mode: SubscriptionMode,
    pub(crate) requests_timeout: Duration,
    pub(crate) limits: MsgLimits,
    pub(crate) reconnect_min: Duration,
    pub(crate) reconnect_max: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) command_timeout: Duration,
    pub(crate) health_interval: Duration,
    pub(crate) publish_queue: usize,
}

/// Configures a sharded adapter; option names follow Node's
/// `createShardedAdapter(pub, sub, { channelPrefix, subscriptionMode })`.
///
/// ```
/// use oxio_redis_adapter::{ShardedRedisAdapter, SubscriptionMode};
/// use std::time::Duration;
///
/// let b = ShardedRedisAdapter::builder(["redis://127.0.0.1:7000"])
///     .channel_prefix("my-app")
///     .subscription_mode(SubscriptionMode::Static)
///     .requests_timeout(Duration::from_secs(2))
///     .health_interval(Duration::from_millis(500));
/// // Building needs a Tokio runtime (it starts the connection tasks).
/// assert!(b.build().is_err());
/// ```
#[derive(Debug, Clone)]
pub struct ShardedAdapterBuilder {
    nodes: Vec<String>,
    cfg: ShardedConfig,
}

impl ShardedAdapterBuilder {
    /// The channel prefix (Node's `channelPrefix`, default `socket.io`).
    pub fn channel_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.cfg.prefix = prefix.into();
        self
    }

    /// Which channels to subscribe to (default [`SubscriptionMode::Dynamic`]).
    pub fn subscription_mode(mut self, mode: SubscriptionMode) -> Self {
        self.cfg.mode = mode;
        self
    }

    /// How long `fetch_sockets` (without its own timeout) and server-side
    /// emits with ack wait for other nodes (default 5 s, as Node).
    pub fn requests_timeout(mut self, d: Duration) -> Self {
        self.cfg.requests_timeout = d;
        self
    }

    /// The largest message accepted (default 16 MiB); larger ones are
    /// ignored with a log line.
    pub fn max_message_len(mut self, bytes: usize) -> Self {
        self.cfg.limits.max_len = bytes;
        self
    }

    /// The deepest nesting accepted in a message (default 128).
    pub fn max_depth(mut self, depth: usize) -> Self {
        self.cfg.limits.max_depth = depth;
        self
    }

    /// The delay between attempts to reach the cluster at start: starts
    /// at `min`, doubles up to `max` (defaults 200 ms and 5 s).
    pub fn reconnect_backoff(mut self, min: Duration, max: Duration) -> Self {
        self.cfg.reconnect_min = min;
        self.cfg.reconnect_max = max.max(min);
        self
    }

    /// How often the cluster's masters are read (default 1 s): a change
    /// (failover) makes the node subscribe to its channels again.
    pub fn health_interval(mut self, d: Duration) -> Self {
        self.cfg.health_interval = d.max(Duration::from_millis(10));
        self
    }

    /// Messages queued for publishing at most (default 16384); beyond,
    /// publishes are dropped with a warning.
    pub fn publish_queue_len(mut self, n: usize) -> Self {
        self.cfg.publish_queue = n.max(1);
        self
    }

    /// Starts the connection tasks and returns the factory for
    /// `SocketIoBuilder::with_adapter`. Returns at once (see
    /// [`ShardedAdapterFactory::ready`]).
    pub fn build(self) -> Result<ShardedAdapterFactory, RedisAdapterError> {
        let rt = tokio::runtime::Handle::try_current().map_err(RedisAdapterError::NoRuntime)?;
        let cfg = self.cfg;
        let base = || {
            ClusterClientBuilder::new(self.nodes.clone())
                .connection_timeout(cfg.connect_timeout)
                .response_timeout(cfg.command_timeout)
                .retries(4)
                .min_retry_wait(50)
                .max_retry_wait(500)
        };
        let (push_tx, push_rx) = mpsc::unbounded_channel();
        let pub_client = base().build().map_err(RedisAdapterError::Url)?;
        let sub_client = base()
            .use_protocol(redis::ProtocolVersion::RESP3)
            .push_sender(push_tx)
            .build()
            .map_err(RedisAdapterError::Url)?;
        let (pub_tx, pub_rx) = mpsc::channel(cfg.publish_queue);
        let (sub_tx, sub_rx) = mpsc::unbounded_channel();
        let (conn_tx, conn_rx) = watch::channel(None);
        let (status, _) = watch::channel(Status::default());
        let (shutdown, _) = watch::channel(false);
        let shared = Arc::new(ShardedShared {
            cfg: cfg.clone(),
            uid: random_id(16),
            namespaces: RwLock::new(HashMap::new()),
            pub_tx,
            sub_tx,
            conn: conn_rx,
            status,
            shutdown,
        });
        rt.spawn(link::run_publisher(
            Arc::downgrade(&shared),
            pub_client,
            pub_rx,
            conn_tx,
            shared.shutdown.subscribe(),
            cfg.clone(),
        ));
        rt.spawn(link::run_subscriber(
            Arc::downgrade(&shared),
            sub_client,
            push_rx,
            sub_rx,
            shared.shutdown.subscribe(),
            cfg,
        ));
        Ok(ShardedAdapterFactory {
            driver: Arc::new(Driver { shared }),
        })
    }

    /// [`ShardedAdapterBuilder::build`], then waits until both connections
    /// are up (at most the requests timeout).
    pub async fn connect(self) -> Result<ShardedAdapterFactory, RedisAdapterError> {
        let timeout = self.cfg.requests_timeout.max(self.cfg.connect_timeout);
        let factory = self.build()?;
        if factory.ready(timeout).await {
            Ok(factory)
        } else {
            factory.close();
            Err(RedisAdapterError::ConnectTimeout)
        }
    }
}

/// What the links are up to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Status {
    pub(crate) publisher_up: bool,
    pub(crate) subscriber_up: bool,
    pub(crate) subscribed: HashSet<String>,
}

/// State shared by the factory, the adapters and the link tasks.
pub(crate) struct ShardedShared {
    pub(crate) cfg: ShardedConfig,
    pub(crate) uid: String,
    namespaces: RwLock<HashMap<Arc<str>, Weak<ShardedRedisAdapter>>>,
    pub_tx: mpsc::Sender<Publish>,
    sub_tx: mpsc::UnboundedSender<SubCmd>,
    conn: watch::Receiver<Option<ClusterConnection>>,
    pub(crate) status: watch::Sender<Status>,
    shutdown: watch::Sender<bool>,
}

impl ShardedShared {
    /// Queues a publish; never waits (a full queue drops it with a warning).
    fn publish(&self, channel: String, payload: Vec<u8>) {
        match self.pub_tx.try_send(Publish { channel, payload }) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(p)) => {
                tracing::warn!(channel = %p.channel, "sharded redis adapter: publish queue full, message dropped");
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                tracing::debug!("sharded redis adapter: closed, message dropped");
            }
        }
    }

    fn adapters(&self) -> Vec<Arc<ShardedRedisAdapter>> {
        self.namespaces
            .reading()
            .values()
            .filter_map(Weak::upgrade)
            .collect()
    }

    /// Every channel this node should be subscribed to.
    pub(crate) fn all_channels(&self) -> Vec<String> {
        let mut out = Vec::new();
        for a in self.adapters() {
            out.push(a.main.clone());
            out.push(a.response.clone());
            out.extend(a.room_subs.locked().iter().map(|r| a.room_channel(r)));
        }
        out
    }

    /// Routes one message to the adapter of its namespace.
    pub(crate) fn dispatch(&self, channel: &str, payload: &[u8]) {
        for a in self.adapters() {
            if channel == a.response {
                a.on_message(payload, true);
                return;
            }
            if channel.starts_with(a.main.as_str()) {
                a.on_message(payload, false);
                return;
            }
        }
        tracing::trace!(
            channel,
            "sharded redis adapter: message on an unknown channel"
        );
    }
}

/// Stops the link tasks when the last factory clone and adapter are gone.
struct Driver {
    shared: Arc<ShardedShared>,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.shared.shutdown.send(true);
    }
}

/// Makes a [`ShardedRedisAdapter`] per namespace, all sharing one node id
/// and the two cluster connections. Cheap to clone.
#[derive(Clone)]
pub struct ShardedAdapterFactory {
    driver: Arc<Driver>,
}

impl fmt::Debug for ShardedAdapterFactory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShardedAdapterFactory")
            .field("uid", &self.driver.shared.uid)
            .finish()
    }
}

impl ShardedAdapterFactory {
    /// This node's id on the wire.
    pub fn uid(&self) -> &str {
        &self.driver.shared.uid
    }

    /// Whether both connections are up and every namespace's main and
    /// response channels are subscribed.
    pub fn is_ready(&self) -> bool {
        let shared = &self.driver.shared;
        let status = shared.status.borrow();
        status.publisher_up
            && status.subscriber_up
            && shared.adapters().iter().all(|a| {
                status.subscribed.contains(&a.main) && status.subscribed.contains(&a.response)
            })
    }

    /// Waits up to `timeout` for [`ShardedAdapterFactory::is_ready`].
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

impl AdapterFactory for ShardedAdapterFactory {
    fn create(&self, ns: LocalNamespace) -> Arc<dyn Adapter> {
        let shared = &self.driver.shared;
        let name: Arc<str> = ns.name().into();
        let main = format!("{}#{name}#", shared.cfg.prefix);
        let adapter = Arc::new_cyclic(|me| ShardedRedisAdapter {
            response: format!("{main}{}#", shared.uid),
            main,
            local: MemoryAdapter::new(ns),
            driver: self.driver.clone(),
            room_subs: Mutex::new(HashSet::new()),
            pending: Mutex::new(HashMap::new()),
            me: me.clone(),
        });
        shared
            .namespaces
            .writing()
            .insert(name, Arc::downgrade(&adapter));
        let _ = shared.sub_tx.send(SubCmd::Subscribe(vec![
            adapter.main.clone(),
            adapter.response.clone(),
        ]));
        shared.status.send_modify(|_| {});
        adapter
    }
}

/// A request this node waits on answers for.
enum Pending {
    Ack(oxio_adapter::AckSink),
    Fetch(mpsc::UnboundedSender<Vec<RemoteSocketData>>),
    ServerSide(mpsc::UnboundedSender<Json>),
}

/// The sharded adapter of one namespace. Made by [`ShardedAdapterFactory`].
pub struct ShardedRedisAdapter {
    local: MemoryAdapter,
    driver: Arc<Driver>,
    main: String,
    response: String,
    /// Rooms whose channel is subscribed (dynamic modes).
    room_subs: Mutex<HashSet<Room>>,
    pending: Mutex<HashMap<String, Pending>>,
    me: Weak<ShardedRedisAdapter>,
}

impl fmt::Debug for ShardedRedisAdapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShardedRedisAdapter")
            .field("ns", &self.local.namespace().name())
            .field("uid", &self.driver.shared.uid)
            .finish()
    }
}

impl ShardedRedisAdapter {
    /// A builder for the adapter factory; `nodes` are some of the
    /// cluster's nodes (`redis://[user:password@]host:port`), the rest is
    /// discovered.
    pub fn builder<I, S>(nodes: I) -> ShardedAdapterBuilder
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ShardedAdapterBuilder {
            nodes: nodes.into_iter().map(Into::into).collect(),
            cfg: ShardedConfig {
                prefix: "socket.io".into(),
                mode: SubscriptionMode::Dynamic,
                requests_timeout: Duration::from_secs(5),
                limits: MsgLimits::default(),
                reconnect_min: Duration::from_millis(200),
                reconnect_max: Duration::from_secs(5),
                connect_timeout: Duration::from_secs(2),
                command_timeout: Duration::from_secs(3),
                health_interval: Duration::from_secs(1),
                publish_queue: 16_384,
            },
        }
    }

    fn shared(&self) -> &ShardedShared {
        &self.driver.shared
    }

    fn cfg(&self) -> &ShardedConfig {
        &self.driver.shared.cfg
    }

    fn ns_name(&self) -> &str {
        self.local.namespace().name()
    }

    fn room_channel(&self, room: &str) -> String {
        format!("{}{room}#", self.main)
    }

    fn depth(&self) -> usize {
        self.cfg().limits.max_depth
    }

    /// Publishes a cluster message on `channel`.
    fn send(&self, channel: String, kind: MessageType, data: Json, attachments: &[bytes::Bytes]) {
        let shared = self.shared();
        match message::encode(
            &shared.uid,
            self.ns_name(),
            kind,
            data,
            attachments,
            self.depth(),
        ) {
            Ok(bytes) => shared.publish(channel, bytes),
            Err(e) => tracing::warn!(error = %e, ?kind, "sharded redis adapter: message not sent"),
        }
    }

    /// Where a message to other nodes goes: a single public room's own
    /// channel in the dynamic modes (as Node's `computeChannel`).
    fn broadcast_channel(&self, opts: &BroadcastOptions) -> String {
        if let [room] = opts.rooms.as_slice() {
            // Node's looksLikeASocketId: a JS string of length 20.
            let like_sid = room.encode_utf16().count() == 20;
            let own = match self.cfg().mode {
                SubscriptionMode::Static => false,
                SubscriptionMode::Dynamic => !like_sid,
                SubscriptionMode::DynamicPrivate => true,
            };
            if own {
                return self.room_channel(room);
            }
        }
        self.main.clone()
    }

    /// Subscribes to or unsubscribes from the channels of `rooms` so that
    /// exactly the rooms held here (public ones in `Dynamic`) are.
    fn reconcile(&self, rooms: &[Room]) {
        let mode = self.cfg().mode;
        if mode == SubscriptionMode::Static || rooms.is_empty() {
            return;
        }
        let index = self.local.index();
        let mut subs = self.room_subs.locked();
        let (mut add, mut del) = (Vec::new(), Vec::new());
        for room in rooms {
            let private = || {
                index
                    .rooms_of(&Sid::from(&**room))
                    .iter()
                    .any(|r| r == room)
            };
            let want =
                index.has_room(room) && (mode == SubscriptionMode::DynamicPrivate || !private());
            if want && subs.insert(room.clone()) {
                add.push(self.room_channel(room));
            } else if !want && subs.remove(room) {
                del.push(self.room_channel(room));
            }
        }
        // Sent under the lock: the link sees the changes in order.
        if !add.is_empty() {
            let _ = self.shared().sub_tx.send(SubCmd::Subscribe(add));
        }
        if !del.is_empty() {
            let _ = self.shared().sub_tx.send(SubCmd::Unsubscribe(del));
        }
    }

    fn add_pending(&self, id: &str, p: Pending) {
        self.pending.locked().insert(id.to_owned(), p);
    }

    fn remove_pending(&self, id: &str) {
        self.pending.locked().remove(id);
    }

    fn on_message(&self, payload: &[u8], response: bool) {
        let msg = match message::decode(payload, &self.cfg().limits) {
            Ok(m) => m,
            Err(e) => {
                tracing::debug!(error = %e, "sharded redis adapter: malformed message ignored");
                return;
            }
        };
        if msg.uid == self.shared().uid {
            return;
        }
        if msg.nsp != self.ns_name() {
            tracing::debug!(nsp = %msg.nsp, "sharded redis adapter: message for another namespace ignored");
            return;
        }
        if response {
            self.on_response(&msg);
            return;
        }
        let d = &msg.data;
        match msg.kind {
            MessageType::Broadcast => match d.str_field("requestId") {
                Some(id) => self.on_broadcast_with_ack(&msg, id.to_owned()),
                None => match d.packet() {
                    Ok(mut p) => {
                        p.nsp = self.ns_name().to_owned();
                        match p.to_outgoing(None, self.local.namespace().parser()) {
                            Ok(out) => {
                                let _ = self.local.broadcast(&out, &d.opts());
                            }
                            Err(e) => {
                                tracing::debug!(error = %e, "sharded redis adapter: broadcast ignored")
                            }
                        }
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "sharded redis adapter: broadcast ignored")
                    }
                },
            },
            MessageType::SocketsJoin => {
                let rooms = d.rooms("rooms");
                let _ = self.local.add_sockets(&d.opts(), &rooms);
                self.reconcile(&rooms);
            }
            MessageType::SocketsLeave => {
                let rooms = d.rooms("rooms");
                let _ = self.local.del_sockets(&d.opts(), &rooms);
                self.reconcile(&rooms);
            }
            MessageType::DisconnectSockets => {
                let close = d.fields.get("close").and_then(Json::as_bool) == Some(true);
                let _ = self.local.disconnect_sockets(&d.opts(), close);
            }
            MessageType::FetchSockets => {
                let sockets: Vec<Json> = self
                    .local
                    .index()
                    .matching(&d.opts())
                    .iter()
                    .filter_map(|sid| self.local.namespace().socket_data(sid))
                    .map(socket_json)
                    .collect();
                let id = d.str_field("requestId").unwrap_or_default();
                self.send(
                    self.response_of(&msg.uid),
                    MessageType::FetchSocketsResponse,
                    json!({ "requestId": id, "sockets": sockets }),
                    &[],
                );
            }
            MessageType::ServerSideEmit => self.on_server_side_emit(&msg),
            MessageType::FetchSocketsResponse
            | MessageType::ServerSideEmitResponse
            | MessageType::BroadcastClientCount
            | MessageType::BroadcastAck => self.on_response(&msg),
            MessageType::InitialHeartbeat | MessageType::Heartbeat | MessageType::AdapterClose => {}
        }
    }

    /// The response channel of node `uid`.
    fn response_of(&self, uid: &str) -> String {
        format!("{}{uid}#", self.main)
    }

    fn on_server_side_emit(&self, msg: &ClusterMessage) {
        let d = &msg.data;
        let Some(mut packet) = d.fields.get("packet").filter(|p| p.is_array()).cloned() else {
            tracing::debug!("sharded redis adapter: server-side emit without packet ignored");
            return;
        };
        codec::inline_buffers(&mut packet, &d.attachments, self.depth());
        let ack = d.str_field("requestId").map(|id| {
            let id = id.to_owned();
            let me = self.me.clone();
            let channel = self.response_of(&msg.uid);
            ServerAck::new(move |arg| {
                if let Some(me) = me.upgrade() {
                    me.send(
                        channel,
                        MessageType::ServerSideEmitResponse,
                        json!({ "requestId": id, "packet": arg }),
                        &[],
                    );
                }
            })
        });
        match ServerEvent::new(&packet.to_string(), ack) {
            Some(ev) => {
                self.local.namespace().server_side_event(ev);
            }
            None => {
                tracing::debug!("sharded redis adapter: server-side emit without an event name")
            }
        }
    }

    fn on_broadcast_with_ack(&self, msg: &ClusterMessage, request_id: String) {
        let d = &msg.data;
        let mut packet = match d.packet() {
            Ok(p) => p,
            Err(e) => {
                tracing::debug!(error = %e, "sharded redis adapter: broadcast with ack ignored");
                return;
            }
        };
        packet.nsp = self.ns_name().to_owned();
        let opts = d.opts();
        let ack_id = self.local.namespace().next_ack_id();
        let Ok(outgoing) = packet.to_outgoing(Some(ack_id), self.local.namespace().parser()) else {
            return;
        };
        let Ok(mut collector) = self.local.broadcast_with_ack(&outgoing, ack_id, &opts) else {
            return;
        };
        let channel = self.response_of(&msg.uid);
        let count = collector.expected_clients();
        self.send(
            channel.clone(),
            MessageType::BroadcastClientCount,
            json!({ "requestId": request_id, "clientCount": count }),
            &[],
        );
        if count == 0 {
            return;
        }
        let timeout = opts.flags.timeout.unwrap_or(self.cfg().requests_timeout);
        let me = self.me.clone();
        spawn(async move {
            let deadline = tokio::time::Instant::now() + timeout;
            let mut answered = 0usize;
            while answered < count {
                match tokio::time::timeout_at(deadline, collector.recv()).await {
                    Ok(Some(AckEvent::Response(AckResponse { result, .. }))) => {
                        answered += 1;
                        let (Ok(payload), Some(me)) = (result, me.upgrade()) else {
                            continue;
                        };
                        match message::first_ack_arg(&payload, me.depth()) {
                            Ok((arg, att)) => me.send(
                                channel.clone(),
                                MessageType::BroadcastAck,
                                json!({ "requestId": request_id, "packet": arg }),
                                &att,
                            ),
                            Err(e) => {
                                tracing::debug!(error = %e, "sharded redis adapter: ack not forwarded")
                            }
                        }
                    }
                    Ok(Some(_)) => {}
                    Ok(None) | Err(_) => break,
                }
            }
        });
    }

    fn on_response(&self, msg: &ClusterMessage) {
        let d = &msg.data;
        let Some(id) = d.str_field("requestId") else {
            return;
        };
        let pending = self.pending.locked();
        let Some(p) = pending.get(id) else {
            return;
        };
        match (p, msg.kind) {
            (Pending::Ack(sink), MessageType::BroadcastClientCount) => {
                let n = d
                    .fields
                    .get("clientCount")
                    .and_then(Json::as_u64)
                    .and_then(|n| usize::try_from(n).ok())
                    .unwrap_or(0);
                let _ = sink.send(AckEvent::ClientCount(n));
                let _ = sink.send(AckEvent::ServerDone);
            }
            (Pending::Ack(sink), MessageType::BroadcastAck) => {
                match codec::ack_payload(d, self.depth()) {
                    Ok(payload) => {
                        let _ = sink.send(AckEvent::Response(AckResponse {
                            sid: Sid::from(""),
                            result: Ok(payload),
                        }));
                    }
                    Err(e) => tracing::debug!(error = %e, "sharded redis adapter: ack ignored"),
                }
            }
            (Pending::Fetch(tx), MessageType::FetchSocketsResponse) => {
                let sockets = d
                    .fields
                    .get("sockets")
                    .and_then(Json::as_array)
                    .map(|l| l.iter().filter_map(remote_socket).collect())
                    .unwrap_or_default();
                let _ = tx.send(sockets);
            }
            (Pending::ServerSide(tx), MessageType::ServerSideEmitResponse) => {
                let mut v = d.fields.get("packet").cloned().unwrap_or(Json::Null);
                codec::inline_buffers(&mut v, &d.attachments, self.depth());
                let _ = tx.send(v);
            }
            _ => {}
        }
    }

    /// Publishes request `kind` with `data` (plus a fresh `requestId`) on
    /// the main channel and collects `expected` answers until `timeout`.
    async fn gather<T: Send + 'static>(
        &self,
        kind: MessageType,
        data: Json,
        attachments: &[bytes::Bytes],
        expected: usize,
        timeout: Duration,
        make: impl FnOnce(mpsc::UnboundedSender<T>) -> Pending,
    ) -> (Vec<T>, bool) {
        let id = random_id(16);
        let (tx, mut rx) = mpsc::unbounded_channel();
        self.add_pending(&id, make(tx));
        let _guard = PendingGuard {
            adapter: self.me.clone(),
            id: id.clone(),
        };
        let mut data = data;
        if let Some(m) = data.as_object_mut() {
            m.insert("requestId".into(), Json::from(id));
        }
        self.send(self.main.clone(), kind, data, attachments);
        let deadline = tokio::time::Instant::now() + timeout;
        let mut out = Vec::new();
        while out.len() < expected {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(v)) => out.push(v),
                Ok(None) | Err(_) => return (out, true),
            }
        }
        (out, false)
    }

    /// `PUBSUB SHARDNUMSUB <main channel>` summed over every node (a
    /// subscriber may sit on a replica of the channel's shard, as
    /// ioredis-based Node nodes count): the nodes serving this namespace
    /// (Node's `serverCount`). When some node does not answer (down,
    /// not yet out of the slot map), the master of the channel's slot
    /// alone is asked.
    async fn count_servers(&self) -> Result<usize, AdapterError> {
        let conn = self.shared().conn.borrow().clone();
        let Some(mut conn) = conn else {
            return Err(AdapterError::Unavailable(
                "Redis Cluster is not connected".into(),
            ));
        };
        let mut cmd = redis::cmd("PUBSUB");
        cmd.arg("SHARDNUMSUB").arg(&self.main);
        let timeout = self.cfg().command_timeout;
        let all = RoutingInfo::MultiNode((MultipleNodeRoutingInfo::AllNodes, None));
        if let Ok(Ok(v)) = tokio::time::timeout(timeout, conn.route_command(cmd.clone(), all)).await
        {
            return Ok(numsub(&v));
        }
        let master = RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(Route::with_key(
            &self.main,
            SlotAddr::Master,
        )));
        match tokio::time::timeout(timeout, conn.route_command(cmd, master)).await {
            Ok(Ok(v)) => Ok(numsub(&v)),
            Ok(Err(e)) => Err(AdapterError::Transport(Cause::new(e))),
            Err(_) => Err(AdapterError::Unavailable(
                "PUBSUB SHARDNUMSUB timed out".into(),
            )),
        }
    }

    fn membership(&self, kind: MessageType, opts: &BroadcastOptions, key: &str, v: Json) {
        let mut m = Map::new();
        m.insert("opts".into(), codec::opts_to_json(opts, true));
        m.insert(key.into(), v);
        self.send(self.main.clone(), kind, Json::Object(m), &[]);
    }
}

/// The count in a `PUBSUB SHARDNUMSUB` answer (`[channel, n]`, a map, or
/// a map of node address to either), summed.
fn numsub(v: &redis::Value) -> usize {
    match v {
        redis::Value::Array(a) => a.iter().map(numsub).sum(),
        redis::Value::Map(m) => m.iter().map(|(_, v)| numsub(v)).sum(),
        redis::Value::Int(n) => usize::try_from(*n).unwrap_or(0),
        _ => 0,
    }
}

struct PendingGuard {
    adapter: Weak<ShardedRedisAdapter>,
    id: String,
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        if let Some(a) = self.adapter.upgrade() {
            a.remove_pending(&self.id);
        }
    }
}

fn me(adapter: &ShardedRedisAdapter) -> Result<Arc<ShardedRedisAdapter>, AdapterError> {
    adapter.me.upgrade().ok_or(AdapterError::NamespaceClosed)
}

fn rooms_json(rooms: &[Room]) -> Json {
    Json::Array(rooms.iter().map(|r| Json::from(&**r)).collect())
}

impl Adapter for ShardedRedisAdapter {
    fn add_all(&self, sid: &Sid, rooms: &[Room]) {
        self.local.add_all(sid, rooms);
        self.reconcile(rooms);
    }

    fn del(&self, sid: &Sid, rooms: &[Room]) {
        self.local.del(sid, rooms);
        self.reconcile(rooms);
    }

    fn del_all(&self, sid: &Sid) {
        let rooms = if self.cfg().mode == SubscriptionMode::Static {
            Vec::new()
        } else {
            self.local.socket_rooms(sid)
        };
        self.local.del_all(sid);
        self.reconcile(&rooms);
    }

    fn socket_rooms(&self, sid: &Sid) -> Vec<Room> {
        self.local.socket_rooms(sid)
    }

    fn broadcast(&self, packet: &Outgoing, opts: &BroadcastOptions) -> Result<(), AdapterError> {
        if !opts.flags.local {
            match codec::packet_from_outgoing(packet, self.depth()) {
                Ok(p) => self.send(
                    self.broadcast_channel(opts),
                    MessageType::Broadcast,
                    message::broadcast_data(&p, opts, None),
                    &p.attachments,
                ),
                Err(e) => {
                    tracing::warn!(error = %e, "sharded redis adapter: broadcast not forwarded")
                }
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
        let p = match codec::packet_from_outgoing(packet, self.depth()) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "sharded redis adapter: broadcast with acks not forwarded");
                return Ok(collector);
            }
        };
        let request_id = random_id(16);
        let sink = collector.sink();
        self.add_pending(&request_id, Pending::Ack(sink.clone()));
        // Always the main channel: the server count covers every node.
        self.send(
            self.main.clone(),
            MessageType::Broadcast,
            message::broadcast_data(&p, opts, Some(&request_id)),
            &p.attachments,
        );
        collector.expect_server_count_later();
        let this = me(self)?;
        let timeout = opts.flags.timeout.unwrap_or(self.cfg().requests_timeout);
        spawn(async move {
            let _guard = PendingGuard {
                adapter: this.me.clone(),
                id: request_id,
            };
            let others = match this.count_servers().await {
                Ok(n) => n.saturating_sub(1),
                Err(e) => {
                    tracing::debug!(error = %e, "sharded redis adapter: server count unknown; local acks only");
                    0
                }
            };
            let _ = sink.send(AckEvent::ServerCount(others));
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
            let n = this.count_servers().await?;
            if n <= 1 {
                return Ok(sockets);
            }
            let timeout = opts.flags.timeout.unwrap_or(this.cfg().requests_timeout);
            let data = json!({ "opts": codec::opts_to_json(&opts, true) });
            let (answers, timed_out) = this
                .gather(
                    MessageType::FetchSockets,
                    data,
                    &[],
                    n - 1,
                    timeout,
                    Pending::Fetch,
                )
                .await;
            if timed_out {
                return Err(AdapterError::Unavailable(format!(
                    "timeout reached: only {} responses received out of {}",
                    answers.len(),
                    n - 1
                )));
            }
            sockets.extend(answers.into_iter().flatten().map(FoundSocket::Remote));
            Ok(sockets)
        })
    }

    fn add_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) -> Result<(), AdapterError> {
        if !opts.flags.local {
            self.membership(MessageType::SocketsJoin, opts, "rooms", rooms_json(rooms));
        }
        self.local.add_sockets(opts, rooms)?;
        self.reconcile(rooms);
        Ok(())
    }

    fn del_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) -> Result<(), AdapterError> {
        if !opts.flags.local {
            self.membership(MessageType::SocketsLeave, opts, "rooms", rooms_json(rooms));
        }
        self.local.del_sockets(opts, rooms)?;
        self.reconcile(rooms);
        Ok(())
    }

    fn disconnect_sockets(&self, opts: &BroadcastOptions, close: bool) -> Result<(), AdapterError> {
        if !opts.flags.local {
            self.membership(
                MessageType::DisconnectSockets,
                opts,
                "close",
                Json::Bool(close),
            );
        }
        self.local.disconnect_sockets(opts, close)
    }

    /// This node's rooms: the cluster message format has no request for
    /// the rooms of other nodes (as Node's `ClusterAdapter`).
    fn rooms(&self) -> BoxFuture<Result<Vec<Room>, AdapterError>> {
        self.local.rooms()
    }

    fn server_side_emit(&self, packet: &Outgoing) -> Result<(), AdapterError> {
        let p = codec::packet_from_outgoing(packet, self.depth())
            .map_err(|e| AdapterError::Encode(Cause::new(e)))?;
        self.send(
            self.main.clone(),
            MessageType::ServerSideEmit,
            json!({ "packet": p.data }),
            &p.attachments,
        );
        Ok(())
    }

    fn server_side_emit_with_ack(
        &self,
        packet: &Outgoing,
    ) -> BoxFuture<Result<ServerSideAcks, AdapterError>> {
        let p = codec::packet_from_outgoing(packet, self.depth())
            .map_err(|e| AdapterError::Encode(Cause::new(e)));
        let this = me(self);
        Box::pin(async move {
            let p = p?;
            let this = this?;
            let others = this.count_servers().await?.saturating_sub(1);
            if others == 0 {
                return Ok(ServerSideAcks::default());
            }
            let timeout = this.cfg().requests_timeout;
            let (responses, timed_out) = this
                .gather(
                    MessageType::ServerSideEmit,
                    json!({ "packet": p.data }),
                    &p.attachments,
                    others,
                    timeout,
                    Pending::ServerSide,
                )
                .await;
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
            let mut chans = vec![self.main.clone(), self.response.clone()];
            chans.extend(
                self.room_subs
                    .locked()
                    .drain()
                    .map(|r| self.room_channel(&r)),
            );
            shared.status.send_modify(|st| {
                for c in &chans {
                    st.subscribed.remove(c);
                }
            });
            let _ = shared.sub_tx.send(SubCmd::Unsubscribe(chans));
        }
    }
}

impl Drop for ShardedRedisAdapter {
    fn drop(&mut self) {
        self.close();
    }
}
