//! # oxio-redis-streams-adapter
//!
//! A cluster adapter on Redis Streams, wire-compatible with
//! @socket.io/redis-streams-adapter 0.3.x: oxio nodes and Node socket.io
//! nodes on one Redis share broadcasts (rooms, except, volatile, binary),
//! remote join/leave/disconnect, broadcasts with acks, `fetch_sockets`,
//! server-side emits with and without acks and the server count — and,
//! unlike the pub/sub adapter, **connection state recovery across nodes**:
//! a client that lost its connection to one node may come back on any
//! other (oxio or Node) and recover its socket and the events it missed.
//!
//! How it maps onto Redis, as 0.3.x does:
//!
//! - one stream (default key `socket.io`, `XADD … MAXLEN ~ 10000`) holds
//!   broadcasts and remote join/leave/disconnect, as entries `uid`, `nsp`,
//!   `type`, `data` (JSON, or base64 msgpack when it holds binary). Every
//!   node reads it (`XREAD BLOCK 5000 COUNT 100`). A broadcast's entry id is
//!   its offset: with recovery on, the packet is delivered (locally, and by
//!   every node that reads it) with the id as last argument, so the local
//!   delivery of a broadcast waits for its XADD, as Node's does;
//! - broadcasts with acks, `fetch_sockets`, server-side emits and every
//!   answer go over pub/sub, msgpack-encoded, on `socket.io#<nsp>#` and
//!   each node's `socket.io#<nsp>#<uid>#`; the server count is
//!   `PUBSUB NUMSUB socket.io#<nsp>#` (0.3.x has no heartbeats);
//! - a disconnected socket's session is `SET sio:session:<pid>
//!   <base64 msgpack {sid, pid, rooms, data}> PX <max_disconnection_duration>`;
//!   restoring takes it (`GET` + `DEL` in one `MULTI`, so a session is
//!   restored at most once, as Node's) and reads the missed broadcasts with
//!   `XRANGE` from the client's offset.
//!
//! `rooms()` answers with this node's rooms only (0.3.x has no cluster-wide
//! room listing). Entries and messages that do not decode are logged at
//! debug level and ignored; everything read is bounded (message length,
//! depth, XRANGE count and calls, missed packets).
//!
//! ```no_run
//! use oxio_redis_streams_adapter::RedisStreamsAdapter;
//! use oxio_server::adapter::ConnectionStateRecovery;
//! use oxio_server::socketio::SocketIo;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let recovery = ConnectionStateRecovery::default();
//! let adapter = RedisStreamsAdapter::builder("redis://127.0.0.1:6379")
//!     .stream_name("socket.io") // Node's `streamName`
//!     .connection_state_recovery(recovery.clone()) // the server's options
//!     .connect()
//!     .await?;
//! let sio = SocketIo::builder()
//!     .connection_state_recovery(recovery)
//!     .with_adapter(adapter)
//!     .build();
//! sio.io().emit("hello", &("from every node",))?;
//! # Ok(()) }
//! ```
//!
//! It depends on `oxio-adapter` only, never on the Socket.IO layer.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod link;
mod message;

pub use oxio_adapter::wire::MessageError;

use crate::link::{Deliver, Job, Shared, Status, SubCmd};
use crate::message::{Kind, Message};
use core::fmt;
use oxio_adapter::sync::{LockExt, RwLockExt};
use oxio_adapter::wire::{self, MsgLimits, WirePacket};
use oxio_adapter::{
    AckCollector, AckEvent, AckResponse, Adapter, AdapterError, AdapterFactory, BoxFuture,
    BroadcastOptions, Cause, ConnectionStateRecovery, FoundSocket, LocalNamespace, MemoryAdapter,
    Outgoing, Payload, PersistedSession, RemoteSocketData, RestoredSession, Room, ServerAck,
    ServerEvent, ServerSideAcks, Sid, Utf8Bytes,
};
use serde_json::{json, Value as Json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// Why the adapter could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisStreamsAdapterError {
    /// The URL does not parse as a Redis URL.
    #[error("invalid Redis URL")]
    Url(#[source] redis::RedisError),
    /// Not called inside a Tokio runtime.
    #[error("the Redis streams adapter must be built inside a Tokio runtime")]
    NoRuntime(#[source] tokio::runtime::TryCurrentError),
    /// [`RedisStreamsAdapterBuilder::connect`] did not reach Redis in time.
    #[error("could not reach Redis in time")]
    ConnectTimeout,
}

/// The adapter's settings (see the builder's methods for each).
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) stream_name: String,
    pub(crate) max_len: usize,
    pub(crate) read_count: usize,
    pub(crate) block_time: Duration,
    pub(crate) channel_prefix: String,
    pub(crate) session_key_prefix: String,
    pub(crate) only_plaintext: bool,
    pub(crate) requests_timeout: Duration,
    pub(crate) recovery: Option<ConnectionStateRecovery>,
    pub(crate) limits: MsgLimits,
    pub(crate) restore_count: usize,
    pub(crate) restore_max_calls: usize,
    pub(crate) max_missed: usize,
    pub(crate) reconnect_min: Duration,
    pub(crate) reconnect_max: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) command_timeout: Duration,
    pub(crate) health_interval: Duration,
    pub(crate) queue_len: usize,
}

/// Configures a Redis Streams adapter; option names follow Node's
/// `createAdapter(redisClient, { streamName, maxLen, readCount,
/// blockTimeInMs, channelPrefix, sessionKeyPrefix, onlyPlaintext })`.
///
/// ```
/// use oxio_redis_streams_adapter::RedisStreamsAdapter;
/// use std::time::Duration;
///
/// let b = RedisStreamsAdapter::builder("redis://127.0.0.1:6379")
///     .stream_name("my-app")
///     .max_len(50_000)
///     .read_count(200)
///     .block_time(Duration::from_secs(2))
///     .requests_timeout(Duration::from_secs(3));
/// // Building needs a Tokio runtime (it starts the connection tasks).
/// assert!(b.build().is_err());
/// ```
#[derive(Debug, Clone)]
pub struct RedisStreamsAdapterBuilder {
    url: String,
    cfg: Config,
}

impl RedisStreamsAdapterBuilder {
    /// The stream's key (Node's `streamName`, default `socket.io`).
    pub fn stream_name(mut self, name: impl Into<String>) -> Self {
        self.cfg.stream_name = name.into();
        self
    }

    /// The stream is trimmed to about this many entries (`MAXLEN ~`,
    /// Node's `maxLen`, default 10 000). A client whose offset was trimmed
    /// away gets a new session.
    pub fn max_len(mut self, n: usize) -> Self {
        self.cfg.max_len = n.max(1);
        self
    }

    /// Entries read per `XREAD` (Node's `readCount`, default 100).
    pub fn read_count(mut self, n: usize) -> Self {
        self.cfg.read_count = n.max(1);
        self
    }

    /// How long one `XREAD` blocks (Node's `blockTimeInMs`, default 5 s).
    pub fn block_time(mut self, d: Duration) -> Self {
        self.cfg.block_time = d.max(Duration::from_millis(1));
        self
    }

    /// The pub/sub channel prefix (Node's `channelPrefix`, default `socket.io`).
    pub fn channel_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.cfg.channel_prefix = prefix.into();
        self
    }

    /// The key prefix of stored sessions (Node's `sessionKeyPrefix`,
    /// default `sio:session:`).
    pub fn session_key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.cfg.session_key_prefix = prefix.into();
        self
    }

    /// Stream entries always as JSON, binary as Node Buffer JSON (Node's
    /// `onlyPlaintext`, default false).
    pub fn only_plaintext(mut self, on: bool) -> Self {
        self.cfg.only_plaintext = on;
        self
    }

    /// How long `fetch_sockets`, broadcasts with acks (unless they carry
    /// a timeout) and server-side emits with ack wait for other nodes
    /// (default 5 s, Node's fixed value).
    pub fn requests_timeout(mut self, d: Duration) -> Self {
        self.cfg.requests_timeout = d;
        self
    }

    /// Connection state recovery: give the same options as the server's
    /// (`SocketIoBuilder::connection_state_recovery`). Broadcasts then get
    /// their entry id as offset, sessions are stored for
    /// `max_disconnection_duration`, and restored from any node. Off by
    /// default (as Node, where the server's option decides).
    pub fn connection_state_recovery(mut self, options: ConnectionStateRecovery) -> Self {
        self.cfg.recovery = Some(options);
        self
    }

    /// The largest stream entry, message or session accepted from Redis
    /// (default 16 MiB); larger ones are ignored with a log line.
    pub fn max_message_len(mut self, bytes: usize) -> Self {
        self.cfg.limits.max_len = bytes;
        self
    }

    /// The deepest nesting accepted in a message (default 128).
    pub fn max_depth(mut self, depth: usize) -> Self {
        self.cfg.limits.max_depth = depth;
        self
    }

    /// Bounds on a restore: entries per `XRANGE` (default 1000), `XRANGE`
    /// calls (default 100, Node's), and missed packets handed back
    /// (default 10 000). A restore that would go beyond gives the client a
    /// new session (Node would return a partial replay).
    pub fn restore_limits(mut self, count: usize, calls: usize, missed: usize) -> Self {
        self.cfg.restore_count = count.max(1);
        self.cfg.restore_max_calls = calls.max(1);
        self.cfg.max_missed = missed;
        self
    }

    /// The reconnect delay: starts at `min`, doubles up to `max`
    /// (defaults 200 ms and 5 s).
    pub fn reconnect_backoff(mut self, min: Duration, max: Duration) -> Self {
        self.cfg.reconnect_min = min;
        self.cfg.reconnect_max = max.max(min);
        self
    }

    /// How long one Redis command may take (default 5 s); also the
    /// connect timeout.
    pub fn command_timeout(mut self, d: Duration) -> Self {
        self.cfg.command_timeout = d.max(Duration::from_millis(1));
        self.cfg.connect_timeout = self.cfg.command_timeout;
        self
    }

    /// Commands queued for Redis at most (default 16 384); beyond, a
    /// message is dropped with a warning (a broadcast is still delivered
    /// locally, without offset).
    pub fn queue_len(mut self, n: usize) -> Self {
        self.cfg.queue_len = n.max(1);
        self
    }

    /// Starts the connection tasks and returns the factory to give to
    /// `SocketIoBuilder::with_adapter` (oxio-server). Returns at once:
    /// Redis is connected in the background (see
    /// [`RedisStreamsAdapterFactory::ready`]).
    pub fn build(self) -> Result<RedisStreamsAdapterFactory, RedisStreamsAdapterError> {
        let client =
            redis::Client::open(self.url.as_str()).map_err(RedisStreamsAdapterError::Url)?;
        let rt =
            tokio::runtime::Handle::try_current().map_err(RedisStreamsAdapterError::NoRuntime)?;
        let cfg = self.cfg;
        let (jobs, jobs_rx) = mpsc::channel(cfg.queue_len);
        let (sub_tx, sub_rx) = mpsc::unbounded_channel();
        let (conn_tx, conn_rx) = watch::channel(None);
        let (status, _) = watch::channel(Status::default());
        let (shutdown, _) = watch::channel(false);
        let shared = Arc::new(Shared {
            cfg: cfg.clone(),
            uid: random_hex(8),
            namespaces: RwLock::new(HashMap::new()),
            jobs,
            sub_tx,
            conn: conn_rx,
            status,
            shutdown,
        });
        rt.spawn(link::run_writer(
            Arc::downgrade(&shared),
            client.clone(),
            jobs_rx,
            conn_tx,
            shared.shutdown.subscribe(),
            cfg.clone(),
        ));
        rt.spawn(link::run_reader(
            Arc::downgrade(&shared),
            client.clone(),
            shared.shutdown.subscribe(),
            cfg.clone(),
        ));
        rt.spawn(link::run_subscriber(
            Arc::downgrade(&shared),
            client,
            sub_rx,
            shared.shutdown.subscribe(),
            cfg,
        ));
        Ok(RedisStreamsAdapterFactory {
            driver: Arc::new(Driver { shared }),
        })
    }

    /// [`build`](Self::build), then waits until every connection is up
    /// (at most the requests timeout).
    pub async fn connect(self) -> Result<RedisStreamsAdapterFactory, RedisStreamsAdapterError> {
        let timeout = self.cfg.requests_timeout;
        let factory = self.build()?;
        if factory.ready(timeout).await {
            Ok(factory)
        } else {
            factory.close();
            Err(RedisStreamsAdapterError::ConnectTimeout)
        }
    }
}

/// `n` random bytes as lowercase hex (Node's `randomBytes(n).toString("hex")`).
fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    if getrandom::fill(&mut bytes).is_err() {
        // Uniqueness only matters between nodes and requests; fall back to the clock.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (t >> ((i % 16) * 8)) as u8;
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The public and private channels of namespace `nsp` for node `uid`.
pub(crate) fn channels(cfg: &Config, nsp: &str, uid: &str) -> [String; 2] {
    let public = format!("{}#{nsp}#", cfg.channel_prefix);
    let private = format!("{public}{uid}#");
    [public, private]
}

/// The Redis Streams adapter entry point: [`RedisStreamsAdapter::builder`].
/// One adapter per namespace is made by [`RedisStreamsAdapterFactory`].
pub struct RedisStreamsAdapter {
    local: MemoryAdapter,
    driver: Arc<Driver>,
    public: String,
    pending: Mutex<HashMap<String, Pending>>,
    restoring: Mutex<HashMap<Sid, Held>>,
    me: Weak<RedisStreamsAdapter>,
}

/// Internal name.
pub(crate) type StreamsAdapter = RedisStreamsAdapter;

impl fmt::Debug for RedisStreamsAdapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStreamsAdapter")
            .field("ns", &self.local.namespace().name())
            .field("uid", &self.driver.shared.uid)
            .finish()
    }
}

impl RedisStreamsAdapter {
    /// A builder for the adapter factory, for Redis at `url`
    /// (`redis://[user:password@]host:port[/db]`).
    pub fn builder(url: impl Into<String>) -> RedisStreamsAdapterBuilder {
        RedisStreamsAdapterBuilder {
            url: url.into(),
            cfg: Config {
                stream_name: "socket.io".into(),
                max_len: 10_000,
                read_count: 100,
                block_time: Duration::from_secs(5),
                channel_prefix: "socket.io".into(),
                session_key_prefix: "sio:session:".into(),
                only_plaintext: false,
                requests_timeout: Duration::from_secs(5),
                recovery: None,
                limits: MsgLimits::default(),
                restore_count: 1000,
                restore_max_calls: 100,
                max_missed: 10_000,
                reconnect_min: Duration::from_millis(200),
                reconnect_max: Duration::from_secs(5),
                connect_timeout: Duration::from_secs(5),
                command_timeout: Duration::from_secs(5),
                health_interval: Duration::from_secs(2),
                queue_len: 16_384,
            },
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

/// Makes a [`RedisStreamsAdapter`] per namespace, all sharing one node id
/// and the three Redis connections. Cheap to clone.
#[derive(Clone)]
pub struct RedisStreamsAdapterFactory {
    driver: Arc<Driver>,
}

impl fmt::Debug for RedisStreamsAdapterFactory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStreamsAdapterFactory")
            .field("uid", &self.driver.shared.uid)
            .finish()
    }
}

impl RedisStreamsAdapterFactory {
    /// This node's id on the wire (16 hex characters, as Node's).
    pub fn uid(&self) -> &str {
        &self.driver.shared.uid
    }

    /// Whether every connection is up and every namespace is subscribed.
    pub fn is_ready(&self) -> bool {
        let shared = &self.driver.shared;
        let status = shared.status.borrow();
        status.writer_up
            && status.reader_up
            && status.subscriber_up
            && shared
                .namespaces
                .reading()
                .keys()
                .all(|n| status.subscribed.contains(n))
    }

    /// Waits up to `timeout` for [`is_ready`](Self::is_ready).
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

impl AdapterFactory for RedisStreamsAdapterFactory {
    fn create(&self, ns: LocalNamespace) -> Arc<dyn Adapter> {
        let shared = &self.driver.shared;
        let name: Arc<str> = ns.name().into();
        let [public, _] = channels(&shared.cfg, &name, &shared.uid);
        let adapter = Arc::new_cyclic(|me| RedisStreamsAdapter {
            local: MemoryAdapter::new(ns),
            driver: self.driver.clone(),
            public,
            pending: Mutex::new(HashMap::new()),
            restoring: Mutex::new(HashMap::new()),
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
    ServerSide(mpsc::UnboundedSender<Json>),
}

/// Packets broadcast to a socket being restored, from the moment its
/// session was taken until it is connected: delivered then, minus those
/// already among its missed packets. At most [`MAX_HELD`].
#[derive(Default)]
struct Held {
    /// The last entry id the restore read (held packets up to it are
    /// among the missed ones).
    upto: EntryId,
    /// (entry id, packet with its offset, volatile), in arrival order.
    packets: Vec<(Option<EntryId>, Outgoing, bool)>,
    overflowed: bool,
}

/// A stream entry id, `(ms, seq)`.
type EntryId = (u64, u64);

/// Most packets held for one socket being restored; beyond, the restore
/// fails and the connection is closed (the client recovers again).
const MAX_HELD: usize = 4096;

/// Routes one stream entry to the adapter of its namespace.
pub(crate) fn dispatch_entry(shared: &Shared, id: &str, fields: &[(String, String)]) {
    let msg = match message::decode_entry(fields, &shared.cfg.limits) {
        Ok(m) => m,
        Err(e) => {
            tracing::debug!(error = %e, id, "redis streams adapter: entry ignored");
            return;
        }
    };
    if let Some(adapter) = shared.adapter(&msg.nsp) {
        adapter.on_message(msg, Some(id));
    }
}

/// Routes one pub/sub message to the adapter of its namespace.
pub(crate) fn dispatch_pubsub(shared: &Shared, channel: &str, payload: &[u8]) {
    let msg = match message::decode_pubsub(payload, &shared.cfg.limits) {
        Ok(m) => m,
        Err(e) => {
            tracing::debug!(error = %e, channel, "redis streams adapter: message ignored");
            return;
        }
    };
    if let Some(adapter) = shared.adapter(&msg.nsp) {
        adapter.on_message(msg, None);
    }
}

/// A local socket as a FETCH_SOCKETS answer shows it.
fn socket_json(s: RemoteSocketData) -> Json {
    json!({
        "id": s.id.as_str(),
        "handshake": s.handshake,
        "rooms": s.rooms.iter().map(|r| Json::from(&**r)).collect::<Vec<_>>(),
        "data": s.data,
    })
}

/// Node's `shouldIncludePacket`.
fn should_include(session_rooms: &[Room], opts: &BroadcastOptions) -> bool {
    let included = opts.rooms.is_empty() || session_rooms.iter().any(|r| opts.rooms.contains(r));
    included && !session_rooms.iter().any(|r| opts.except.contains(r))
}

impl RedisStreamsAdapter {
    fn shared(&self) -> &Shared {
        &self.driver.shared
    }

    fn cfg(&self) -> &Config {
        &self.driver.shared.cfg
    }

    fn ns_name(&self) -> &str {
        self.local.namespace().name()
    }

    fn depth(&self) -> usize {
        self.cfg().limits.max_depth
    }

    fn message(&self, kind: Kind, data: Json) -> Message {
        Message::new(&self.shared().uid, self.ns_name(), kind, data)
    }

    /// Appends `msg` to the stream (then `deliver`s it locally).
    fn xadd(&self, msg: &Message, deliver: Option<Deliver>) -> Result<(), MessageError> {
        let fields = message::encode_entry(msg, self.cfg().only_plaintext, self.depth())?;
        self.shared().queue(Job::Xadd { fields, deliver });
        Ok(())
    }

    /// Publishes `msg` on `channel` (msgpack).
    fn publish(&self, channel: String, msg: &Message) {
        match message::encode_pubsub(msg, self.depth()) {
            Ok(payload) => self.shared().queue(Job::Publish { channel, payload }),
            Err(e) => tracing::warn!(error = %e, "redis streams adapter: message not published"),
        }
    }

    /// Answers node `uid` on its private channel.
    fn respond(&self, uid: &str, msg: &Message) {
        self.publish(format!("{}{uid}#", self.public), msg);
    }

    /// Delivers `packet` to the targeted local sockets; `id`: its entry id,
    /// appended as offset when recovery is on and the packet is recorded
    /// (an event without ack, not volatile). Sockets being restored get it
    /// later (see [`Held`]).
    pub(crate) fn deliver_local(
        &self,
        packet: &Outgoing,
        opts: &BroadcastOptions,
        id: Option<&str>,
    ) {
        let recorded = match id {
            Some(id)
                if self.cfg().recovery.is_some()
                    && packet.is_event_without_ack()
                    && !opts.flags.volatile =>
            {
                packet.with_offset(id)
            }
            _ => None,
        };
        let packet = recorded.as_ref().unwrap_or(packet);
        let key = id.and_then(message::parse_entry_id);
        let volatile = opts.flags.volatile;
        let mut restoring = self.restoring.locked();
        for sid in self.local.index().matching(opts) {
            if let Some(held) = restoring.get_mut(&sid) {
                if held.packets.len() >= MAX_HELD {
                    held.overflowed = true;
                    held.packets.clear();
                }
                if !held.overflowed {
                    held.packets.push((key, packet.clone(), volatile));
                }
                continue;
            }
            if let Err(e) = self.local.namespace().send(&sid, packet, volatile) {
                tracing::debug!(%sid, error = %e, "broadcast not delivered");
            }
        }
    }

    fn add_pending(&self, id: &str, p: Pending) {
        self.pending.locked().insert(id.to_owned(), p);
    }

    fn pending_guard(&self, id: String) -> PendingGuard {
        PendingGuard {
            adapter: self.me.clone(),
            id,
        }
    }

    /// A message from another node (`offset`: its stream entry id).
    fn on_message(&self, msg: Message, offset: Option<&str>) {
        if msg.uid == self.shared().uid || msg.nsp != self.ns_name() {
            return;
        }
        let Some(kind) = msg.kind() else {
            tracing::debug!(
                kind = msg.kind,
                "redis streams adapter: unknown message type"
            );
            return;
        };
        let opts = || {
            msg.field("opts")
                .map(wire::opts_from_json)
                .unwrap_or_default()
        };
        let rooms = || msg.field("rooms").map(wire::room_list).unwrap_or_default();
        match kind {
            Kind::Broadcast => {
                let packet = match self.packet_of(&msg) {
                    Ok(p) => p,
                    Err(e) => {
                        tracing::debug!(error = %e, "redis streams adapter: broadcast ignored");
                        return;
                    }
                };
                match msg.request_id() {
                    Some(request_id) => {
                        self.on_broadcast_request(packet, opts(), &msg.uid, request_id.to_owned())
                    }
                    None => match packet.to_outgoing(None, self.local.namespace().parser()) {
                        Ok(p) => self.deliver_local(&p, &opts(), offset),
                        Err(e) => {
                            tracing::debug!(error = %e, "redis streams adapter: broadcast ignored")
                        }
                    },
                }
            }
            Kind::SocketsJoin => {
                let _ = self.local.add_sockets(&opts(), &rooms());
            }
            Kind::SocketsLeave => {
                let _ = self.local.del_sockets(&opts(), &rooms());
            }
            Kind::DisconnectSockets => {
                let close = msg.field("close").and_then(Json::as_bool) == Some(true);
                let _ = self.local.disconnect_sockets(&opts(), close);
            }
            Kind::FetchSockets => {
                let Some(request_id) = msg.request_id() else {
                    return;
                };
                let sockets: Vec<Json> = self
                    .local
                    .index()
                    .matching(&opts())
                    .iter()
                    .filter_map(|sid| self.local.namespace().socket_data(sid))
                    .map(socket_json)
                    .collect();
                let reply = self.message(
                    Kind::FetchSocketsResponse,
                    json!({ "requestId": request_id, "sockets": sockets }),
                );
                self.respond(&msg.uid, &reply);
            }
            Kind::ServerSideEmit => self.on_server_side_emit(&msg),
            Kind::FetchSocketsResponse
            | Kind::ServerSideEmitResponse
            | Kind::BroadcastClientCount
            | Kind::BroadcastAck => self.on_response(msg),
        }
    }

    /// `data.packet` of a BROADCAST, in this namespace.
    fn packet_of(&self, msg: &Message) -> Result<WirePacket, MessageError> {
        let packet = msg
            .field("packet")
            .and_then(Json::as_object)
            .ok_or(MessageError::Shape("packet"))?;
        let mut p = wire::wire_packet_from_json(packet, msg.attachments.clone())?;
        self.ns_name().clone_into(&mut p.nsp);
        Ok(p)
    }

    fn on_broadcast_request(
        &self,
        packet: WirePacket,
        opts: BroadcastOptions,
        uid: &str,
        request_id: String,
    ) {
        let ack_id = self.local.namespace().next_ack_id();
        let outgoing = match packet.to_outgoing(Some(ack_id), self.local.namespace().parser()) {
            Ok(o) => o,
            Err(e) => {
                tracing::debug!(error = %e, "redis streams adapter: broadcast request ignored");
                return;
            }
        };
        let Ok(mut collector) = self.broadcast_with_ack_locally(&outgoing, ack_id, &opts) else {
            return;
        };
        let count = collector.expected_clients();
        self.respond(
            uid,
            &self.message(
                Kind::BroadcastClientCount,
                json!({ "requestId": request_id, "clientCount": count }),
            ),
        );
        if count == 0 {
            return;
        }
        let timeout = opts.flags.timeout.unwrap_or(self.cfg().requests_timeout);
        let Some(this) = self.me.upgrade() else {
            return;
        };
        let uid = uid.to_owned();
        spawn(async move {
            let deadline = tokio::time::Instant::now() + timeout;
            let mut answered = 0usize;
            while answered < count {
                match tokio::time::timeout_at(deadline, collector.recv()).await {
                    Ok(Some(AckEvent::Response(AckResponse { result, .. }))) => {
                        answered += 1;
                        let Ok(payload) = result else { continue };
                        match first_arg(&payload, this.depth()) {
                            Ok((arg, attachments)) => {
                                let mut m = this.message(
                                    Kind::BroadcastAck,
                                    json!({ "requestId": request_id, "packet": arg }),
                                );
                                m.attachments = attachments;
                                this.respond(&uid, &m);
                            }
                            Err(e) => {
                                tracing::debug!(error = %e, "redis streams adapter: ack not forwarded")
                            }
                        }
                    }
                    Ok(Some(_)) => {}
                    Ok(None) | Err(_) => break,
                }
            }
        });
    }

    fn on_server_side_emit(&self, msg: &Message) {
        let Some(packet) = msg.field("packet").filter(|d| d.is_array()) else {
            tracing::debug!("redis streams adapter: server-side emit without packet ignored");
            return;
        };
        let mut packet = packet.clone();
        wire::inline_buffers(&mut packet, &msg.attachments, self.depth());
        let ack = msg.request_id().and_then(|id| {
            let this = self.me.upgrade()?;
            let id = id.to_owned();
            let uid = msg.uid.clone();
            Some(ServerAck::new(move |arg| {
                let reply = this.message(
                    Kind::ServerSideEmitResponse,
                    json!({ "requestId": id, "packet": arg }),
                );
                this.respond(&uid, &reply);
            }))
        });
        match ServerEvent::new(&packet.to_string(), ack) {
            Some(ev) => {
                self.local.namespace().server_side_event(ev);
            }
            None => {
                tracing::debug!(
                    "redis streams adapter: server-side emit without an event name ignored"
                )
            }
        }
    }

    fn on_response(&self, msg: Message) {
        let Some(id) = msg.request_id() else { return };
        let pending = self.pending.locked();
        let Some(p) = pending.get(id) else { return };
        match (p, msg.kind()) {
            (Pending::Ack(sink), Some(Kind::BroadcastClientCount)) => {
                let n = msg
                    .field("clientCount")
                    .and_then(Json::as_u64)
                    .and_then(|n| usize::try_from(n).ok())
                    .unwrap_or(0);
                let _ = sink.send(AckEvent::ClientCount(n));
                let _ = sink.send(AckEvent::ServerDone);
            }
            (Pending::Ack(sink), Some(Kind::BroadcastAck)) => {
                let first = msg.field("packet").cloned().unwrap_or(Json::Null);
                match serde_json::to_string(&Json::Array(vec![first])) {
                    Ok(text) => {
                        let payload = Payload::new(
                            Utf8Bytes::from(text),
                            0,
                            0,
                            msg.attachments.clone(),
                            self.depth(),
                        );
                        let _ = sink.send(AckEvent::Response(AckResponse {
                            sid: Sid::from(""),
                            result: Ok(payload),
                        }));
                    }
                    Err(e) => tracing::debug!(error = %e, "redis streams adapter: ack ignored"),
                }
            }
            (Pending::Fetch(tx), Some(Kind::FetchSocketsResponse)) => {
                let list = msg
                    .field("sockets")
                    .and_then(Json::as_array)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                let sockets = list
                    .iter()
                    .filter_map(|s| {
                        let id = s.get("id")?.as_str()?;
                        Some(RemoteSocketData {
                            id: Sid::from(id),
                            rooms: s.get("rooms").map(wire::room_list).unwrap_or_default(),
                            handshake: s.get("handshake").cloned().unwrap_or(Json::Null),
                            data: s.get("data").cloned().unwrap_or(Json::Null),
                        })
                    })
                    .collect();
                let _ = tx.send(sockets);
            }
            (Pending::ServerSide(tx), Some(Kind::ServerSideEmitResponse)) => {
                let mut data = msg.field("packet").cloned().unwrap_or(Json::Null);
                wire::inline_buffers(&mut data, &msg.attachments, self.depth());
                let _ = tx.send(data);
            }
            _ => tracing::debug!("redis streams adapter: response of the wrong type ignored"),
        }
    }

    /// Publishes a request on the public channel and collects `expected`
    /// answers until `timeout`.
    async fn gather<T: Send + 'static>(
        &self,
        kind: Kind,
        mut data: Json,
        attachments: Vec<bytes::Bytes>,
        expected: usize,
        timeout: Duration,
        make: impl FnOnce(mpsc::UnboundedSender<T>) -> Pending,
    ) -> (Vec<T>, bool) {
        let id = random_hex(8);
        let (tx, mut rx) = mpsc::unbounded_channel();
        self.add_pending(&id, make(tx));
        let _guard = self.pending_guard(id.clone());
        if let Some(m) = data.as_object_mut() {
            m.insert("requestId".into(), Json::from(id));
        }
        let mut msg = self.message(kind, data);
        msg.attachments = attachments;
        self.publish(self.public.clone(), &msg);
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

    async fn count_servers(&self) -> Result<usize, AdapterError> {
        let conn = self.shared().conn.borrow().clone();
        let Some(mut conn) = conn else {
            return Err(AdapterError::Unavailable("Redis is not connected".into()));
        };
        let mut cmd = redis::cmd("PUBSUB");
        cmd.arg("NUMSUB").arg(&self.public);
        let q = cmd.query_async::<(String, usize)>(&mut conn);
        match tokio::time::timeout(self.cfg().command_timeout, q).await {
            Ok(Ok((_, n))) => Ok(n),
            Ok(Err(e)) => Err(AdapterError::Transport(Cause::new(e))),
            Err(_) => Err(AdapterError::Unavailable("PUBSUB NUMSUB timed out".into())),
        }
    }

    /// The local part of a broadcast with acks; sockets being restored
    /// are not connected yet and are skipped (as Node skips them).
    fn broadcast_with_ack_locally(
        &self,
        packet: &Outgoing,
        ack_id: u64,
        opts: &BroadcastOptions,
    ) -> Result<AckCollector, AdapterError> {
        let restoring: Vec<Room> = self
            .restoring
            .locked()
            .keys()
            .map(|s| Room::from(s.as_str()))
            .collect();
        if restoring.is_empty() {
            return self.local.broadcast_with_ack(packet, ack_id, opts);
        }
        let mut opts = opts.clone();
        opts.except.extend(restoring);
        self.local.broadcast_with_ack(packet, ack_id, &opts)
    }

    /// The broadcast entry `{packet, opts}` of `packet` (and its binary).
    fn broadcast_message(
        &self,
        packet: &Outgoing,
        opts: &BroadcastOptions,
        request_id: Option<&str>,
    ) -> Result<Message, MessageError> {
        let p = WirePacket::from_outgoing(packet, self.depth())?;
        let mut data = json!({
            "packet": { "type": 2, "data": p.data, "nsp": p.nsp },
            "opts": wire::opts_to_json(opts, true),
        });
        if let (Some(id), Some(m)) = (request_id, data.as_object_mut()) {
            m.insert("requestId".into(), Json::from(id));
        }
        let mut msg = self.message(Kind::Broadcast, data);
        msg.attachments = p.attachments;
        Ok(msg)
    }

    /// Reads the broadcasts after `from` for a session in `rooms`: their
    /// packets with offsets, and the last id read; `None` beyond the bounds.
    async fn missed_after(
        &self,
        conn: &mut redis::aio::MultiplexedConnection,
        from: (u64, u64),
        rooms: &[Room],
    ) -> Result<Option<(Vec<Outgoing>, (u64, u64))>, AdapterError> {
        let cfg = self.cfg();
        let mut last = from;
        let mut missed = Vec::new();
        for _ in 0..cfg.restore_max_calls {
            let mut cmd = redis::cmd("XRANGE");
            cmd.arg(&cfg.stream_name)
                .arg(message::next_entry_id(last))
                .arg("+")
                .arg("COUNT")
                .arg(cfg.restore_count);
            let q = cmd.query_async::<redis::Value>(conn);
            let reply = command(q, cfg.command_timeout).await?;
            let entries = link::entries(&reply);
            if entries.is_empty() {
                return Ok(Some((missed, last)));
            }
            for (id, fields) in entries {
                let Some(key) = message::parse_entry_id(&id) else {
                    continue;
                };
                last = key;
                let is_broadcast = fields.iter().any(|(k, v)| k == "type" && v == "3")
                    && fields
                        .iter()
                        .any(|(k, v)| k == "nsp" && v == self.ns_name());
                if !is_broadcast {
                    continue;
                }
                let Ok(msg) = message::decode_entry(&fields, &cfg.limits) else {
                    continue;
                };
                if msg.request_id().is_some() {
                    continue;
                }
                let opts = msg
                    .field("opts")
                    .map(wire::opts_from_json)
                    .unwrap_or_default();
                if !should_include(rooms, &opts) {
                    continue;
                }
                let packet = self
                    .packet_of(&msg)
                    .and_then(|p| p.to_outgoing(None, self.local.namespace().parser()))
                    .ok()
                    .and_then(|p| p.with_offset(&id));
                if let Some(p) = packet {
                    if missed.len() >= cfg.max_missed {
                        return Ok(None);
                    }
                    missed.push(p);
                }
            }
        }
        Ok(None)
    }

    async fn restore(
        &self,
        pid: String,
        offset: String,
    ) -> Result<Option<RestoredSession>, AdapterError> {
        let Some(from) = message::parse_entry_id(&offset) else {
            return Ok(None);
        };
        // A pid is 20 characters; anything much longer is not one of ours
        // (nor Node's) and is not looked up.
        if pid.is_empty() || pid.len() > 64 {
            return Ok(None);
        }
        let conn = self.shared().conn.borrow().clone();
        let Some(mut conn) = conn else {
            return Err(AdapterError::Unavailable("Redis is not connected".into()));
        };
        let cfg = self.cfg();
        let key = format!("{}{pid}", cfg.session_key_prefix);
        let mut pipe = redis::pipe();
        pipe.atomic().get(&key).del(&key);
        let take = pipe.query_async::<(Option<String>, i64)>(&mut conn);
        let (raw, _) = command(take, cfg.command_timeout).await?;
        let mut at = redis::cmd("XRANGE");
        at.arg(&cfg.stream_name).arg(&offset).arg(&offset);
        let at = at.query_async::<redis::Value>(&mut conn);
        let offset_held = !link::entries(&command(at, cfg.command_timeout).await?).is_empty();
        let Some(raw) = raw else { return Ok(None) };
        if !offset_held {
            return Ok(None);
        }
        let session = match message::decode_session(&raw, &cfg.limits) {
            Ok(s) if s.pid.as_str() == pid => s,
            Ok(_) => return Ok(None),
            Err(e) => {
                tracing::debug!(error = %e, "redis streams adapter: stored session ignored");
                return Ok(None);
            }
        };
        let sid = session.sid.clone();
        {
            let mut restoring = self.restoring.locked();
            if restoring.contains_key(&sid) || self.local.namespace().socket_data(&sid).is_some() {
                return Ok(None);
            }
            restoring.insert(sid.clone(), Held::default());
        }
        self.local.add_all(&sid, &session.rooms);
        let undo = |this: &Self| {
            this.restoring.locked().remove(&sid);
            this.local.del_all(&sid);
        };
        match self.missed_after(&mut conn, from, &session.rooms).await {
            Ok(Some((missed, upto))) => {
                if let Some(h) = self.restoring.locked().get_mut(&sid) {
                    h.upto = upto;
                }
                Ok(Some(RestoredSession { session, missed }))
            }
            Ok(None) => {
                tracing::debug!(%sid, "redis streams adapter: too many missed packets; new session");
                undo(self);
                Ok(None)
            }
            Err(e) => {
                undo(self);
                Err(e)
            }
        }
    }
}

/// Runs a Redis command within `timeout`.
async fn command<T>(
    q: impl std::future::Future<Output = redis::RedisResult<T>>,
    timeout: Duration,
) -> Result<T, AdapterError> {
    match tokio::time::timeout(timeout, q).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(AdapterError::Transport(Cause::new(e))),
        Err(_) => Err(AdapterError::Unavailable("Redis command timed out".into())),
    }
}

/// The first argument of an ack, as JSON with placeholders, and its binary.
fn first_arg(payload: &Payload, depth: usize) -> Result<(Json, Vec<bytes::Bytes>), MessageError> {
    let args = wire::parse_json(payload.raw(), depth)?;
    let first = args
        .as_array()
        .and_then(|a| a.first())
        .cloned()
        .unwrap_or(Json::Null);
    Ok((first, payload.attachments().to_vec()))
}

struct PendingGuard {
    adapter: Weak<RedisStreamsAdapter>,
    id: String,
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        if let Some(a) = self.adapter.upgrade() {
            a.pending.locked().remove(&self.id);
        }
    }
}

fn me(adapter: &RedisStreamsAdapter) -> Result<Arc<RedisStreamsAdapter>, AdapterError> {
    adapter.me.upgrade().ok_or(AdapterError::NamespaceClosed)
}

impl Adapter for RedisStreamsAdapter {
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
        if opts.flags.local {
            self.deliver_local(packet, opts, None);
            return Ok(());
        }
        let msg = match self.broadcast_message(packet, opts, None) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "redis streams adapter: broadcast not forwarded");
                self.deliver_local(packet, opts, None);
                return Ok(());
            }
        };
        // With recovery on, local delivery waits for the entry id (the
        // offset), in queue order; otherwise it happens now.
        let deliver = if self.cfg().recovery.is_some() {
            Some(Deliver {
                adapter: self.me.clone(),
                packet: packet.clone(),
                opts: opts.clone(),
            })
        } else {
            self.deliver_local(packet, opts, None);
            None
        };
        if let Err(e) = self.xadd(&msg, deliver) {
            tracing::warn!(error = %e, "redis streams adapter: broadcast not forwarded");
            if self.cfg().recovery.is_some() {
                self.deliver_local(packet, opts, None);
            }
        }
        Ok(())
    }

    fn broadcast_with_ack(
        &self,
        packet: &Outgoing,
        ack_id: u64,
        opts: &BroadcastOptions,
    ) -> Result<AckCollector, AdapterError> {
        let mut collector = self.broadcast_with_ack_locally(packet, ack_id, opts)?;
        if opts.flags.local {
            return Ok(collector);
        }
        let request_id = random_hex(8);
        let msg = match self.broadcast_message(packet, opts, Some(&request_id)) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "redis streams adapter: broadcast with acks not forwarded");
                return Ok(collector);
            }
        };
        let sink = collector.sink();
        self.add_pending(&request_id, Pending::Ack(sink.clone()));
        self.publish(self.public.clone(), &msg);
        collector.expect_server_count_later();
        let this = me(self)?;
        let timeout = opts.flags.timeout.unwrap_or(self.cfg().requests_timeout);
        spawn(async move {
            let _guard = this.pending_guard(request_id);
            let others = match this.count_servers().await {
                Ok(n) => n.saturating_sub(1),
                Err(e) => {
                    tracing::debug!(error = %e, "redis streams adapter: server count unknown; local acks only");
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
            let n = this.count_servers().await?;
            if n <= 1 {
                return Ok(sockets);
            }
            let timeout = opts.flags.timeout.unwrap_or(this.cfg().requests_timeout);
            let data = json!({ "opts": wire::opts_to_json(&opts, true) });
            let (answers, timed_out) = this
                .gather(
                    Kind::FetchSockets,
                    data,
                    Vec::new(),
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
        self.local.add_sockets(opts, rooms)?;
        if !opts.flags.local {
            let rooms: Vec<Json> = rooms.iter().map(|r| Json::from(&**r)).collect();
            let msg = self.message(
                Kind::SocketsJoin,
                json!({ "opts": wire::opts_to_json(opts, true), "rooms": rooms }),
            );
            self.xadd(&msg, None)
                .map_err(|e| AdapterError::Encode(Cause::new(e)))?;
        }
        Ok(())
    }

    fn del_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) -> Result<(), AdapterError> {
        self.local.del_sockets(opts, rooms)?;
        if !opts.flags.local {
            let rooms: Vec<Json> = rooms.iter().map(|r| Json::from(&**r)).collect();
            let msg = self.message(
                Kind::SocketsLeave,
                json!({ "opts": wire::opts_to_json(opts, true), "rooms": rooms }),
            );
            self.xadd(&msg, None)
                .map_err(|e| AdapterError::Encode(Cause::new(e)))?;
        }
        Ok(())
    }

    fn disconnect_sockets(&self, opts: &BroadcastOptions, close: bool) -> Result<(), AdapterError> {
        if !opts.flags.local {
            let msg = self.message(
                Kind::DisconnectSockets,
                json!({ "opts": wire::opts_to_json(opts, true), "close": close }),
            );
            self.xadd(&msg, None)
                .map_err(|e| AdapterError::Encode(Cause::new(e)))?;
        }
        self.local.disconnect_sockets(opts, close)
    }

    /// This node's rooms (0.3.x has no cluster-wide room listing).
    fn rooms(&self) -> BoxFuture<Result<Vec<Room>, AdapterError>> {
        self.local.rooms()
    }

    fn server_side_emit(&self, packet: &Outgoing) -> Result<(), AdapterError> {
        let p = WirePacket::from_outgoing(packet, self.depth())
            .map_err(|e| AdapterError::Encode(Cause::new(e)))?;
        let mut msg = self.message(Kind::ServerSideEmit, json!({ "packet": p.data }));
        msg.attachments = p.attachments;
        self.publish(self.public.clone(), &msg);
        Ok(())
    }

    fn server_side_emit_with_ack(
        &self,
        packet: &Outgoing,
    ) -> BoxFuture<Result<ServerSideAcks, AdapterError>> {
        let p = WirePacket::from_outgoing(packet, self.depth());
        let this = me(self);
        Box::pin(async move {
            let p = p.map_err(|e| AdapterError::Encode(Cause::new(e)))?;
            let this = this?;
            let others = this.count_servers().await?.saturating_sub(1);
            if others == 0 {
                return Ok(ServerSideAcks::default());
            }
            let timeout = this.cfg().requests_timeout;
            let (responses, timed_out) = this
                .gather(
                    Kind::ServerSideEmit,
                    json!({ "packet": p.data }),
                    p.attachments,
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
            let _ = shared.sub_tx.send(SubCmd::Unsubscribe(name));
        }
    }

    fn persist_session(&self, session: PersistedSession) {
        let Some(recovery) = &self.cfg().recovery else {
            return;
        };
        let value = match message::encode_session(&session, self.depth()) {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(error = %e, "redis streams adapter: session not stored");
                return;
            }
        };
        let ttl_ms =
            u64::try_from(recovery.max_disconnection_duration.as_millis()).unwrap_or(u64::MAX);
        self.shared().queue(Job::Set {
            key: format!("{}{}", self.cfg().session_key_prefix, session.pid),
            value,
            ttl_ms,
        });
    }

    fn restore_session(
        &self,
        pid: &str,
        offset: &str,
    ) -> BoxFuture<Result<Option<RestoredSession>, AdapterError>> {
        if self.cfg().recovery.is_none() {
            return Box::pin(std::future::ready(Ok(None)));
        }
        let this = me(self);
        let (pid, offset) = (pid.to_owned(), offset.to_owned());
        Box::pin(async move { this?.restore(pid, offset).await })
    }

    fn restore_finished(&self, sid: &Sid, connected: bool) -> bool {
        // Held under the lock while flushing, so a broadcast arriving now
        // cannot overtake the held ones.
        let mut restoring = self.restoring.locked();
        let Some(held) = restoring.remove(sid) else {
            return true;
        };
        if !connected {
            return true;
        }
        if held.overflowed {
            return false;
        }
        for (key, packet, volatile) in held.packets {
            if key.is_some_and(|k| k <= held.upto) {
                continue;
            }
            if let Err(e) = self.local.namespace().send(sid, &packet, volatile) {
                tracing::debug!(%sid, error = %e, "held packet not delivered");
            }
        }
        true
    }
}

impl Drop for RedisStreamsAdapter {
    fn drop(&mut self) {
        self.close();
    }
}

/// Spawns on the current Tokio runtime; logs and gives up outside one.
fn spawn<F>(fut: F)
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    match tokio::runtime::Handle::try_current() {
        Ok(h) => {
            h.spawn(fut);
        }
        Err(_) => tracing::error!("redis streams adapter: no Tokio runtime to run on"),
    }
}
