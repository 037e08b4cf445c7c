//! Prometheus metrics (feature `metrics`, on by default), built on the
//! `prometheus-client` crate (the Prometheus project's Rust client): a
//! [`Metrics`] handle counts what both layers report through their
//! observers ([`EngineObserver`], [`Observer`]) and encodes it in
//! the OpenMetrics text format that Prometheus scrapes.
//!
//! Counters on the hot path (messages, bytes, deliveries) are plain atomics
//! with no labels; labelled ones (transport, reason, code) are looked up
//! once per session event, never per message.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `oxio_engine_handshakes_total` | counter | `transport` (`polling`, `websocket`) |
//! | `oxio_engine_upgrades_total` | counter | |
//! | `oxio_engine_connections` | gauge: open sessions | `transport` |
//! | `oxio_engine_disconnects_total` | counter | `reason` (Engine.IO close reason) |
//! | `oxio_engine_packets_in_total`, `oxio_engine_packets_out_total` | counter: message packets | |
//! | `oxio_engine_bytes_in_total`, `oxio_engine_bytes_out_total` | counter: their payload bytes | |
//! | `oxio_engine_queue_full_total` | counter: sends refused by a full queue | |
//! | `oxio_engine_requests_refused_total` | counter | `code` (`0`..`5`, `session_limit`, `shutting_down`) |
//! | `oxio_socketio_sockets` | gauge: connected sockets (all namespaces) | |
//! | `oxio_socketio_connects_total` | counter | |
//! | `oxio_socketio_disconnects_total` | counter | `reason` (Socket.IO disconnect reason) |
//! | `oxio_socketio_broadcasts_total`, `oxio_socketio_deliveries_total` | counter | |
//! | `oxio_socketio_dropped_packets_total` | counter: full queue | `kind` (`volatile`, `policy`) |
//! | `oxio_socketio_slow_client_closes_total` | counter | |
//! | `oxio_socketio_ack_timeouts_total` | counter | |
//! | `oxio_adapter_up`, `oxio_adapter_publish_queue_depth` | gauge, read at scrape | `adapter` |
//!
//! ```
//! use oxio_server::metrics::{AdapterState, Metrics};
//! use oxio_server::socketio::SocketIo;
//!
//! let metrics = Metrics::new();
//! let (engine, _io) = SocketIo::builder().metrics(&metrics).build_engine();
//! metrics.watch_adapter("redis", || AdapterState { up: true, publish_queue_depth: 0 });
//! // Serve this at /metrics with Content-Type: metrics::CONTENT_TYPE.
//! let text = metrics.encode();
//! assert!(text.contains("oxio_adapter_up{adapter=\"redis\"} 1"));
//! assert!(text.ends_with("# EOF\n"));
//! # let _ = engine;
//! ```

use crate::engine::observe::{EngineObserver, Refusal};
use crate::engine::CloseReason;
use crate::socketio::DisconnectReason;
use crate::socketio::{Observer, SocketRef};
use crate::sync::LockExt;
use oxio_codec::engineio::Transport;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::{Arc, Mutex};

/// The `Content-Type` of [`Metrics::encode`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

type Labels = [(&'static str, &'static str); 1];

/// An adapter's health, read at each scrape (see [`Metrics::watch_adapter`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AdapterState {
    /// Connected to its backend (Redis up).
    pub up: bool,
    /// Messages waiting to be published.
    pub publish_queue_depth: u64,
}

type Probe = Box<dyn Fn() -> AdapterState + Send + Sync>;

/// The counters, shared by the observer and the handle.
struct Counters {
    handshakes_polling: Counter,
    handshakes_websocket: Counter,
    upgrades: Counter,
    open_polling: Gauge,
    open_websocket: Gauge,
    disconnects: Family<Labels, Counter>,
    packets_in: Counter,
    packets_out: Counter,
    bytes_in: Counter,
    bytes_out: Counter,
    queue_full: Counter,
    refused: Family<Labels, Counter>,
    sockets: Gauge,
    connects: Counter,
    socket_disconnects: Family<Labels, Counter>,
    broadcasts: Counter,
    deliveries: Counter,
    dropped_volatile: Counter,
    dropped_policy: Counter,
    slow_closes: Counter,
    ack_timeouts: Counter,
}

/// The observer half (given to the builder by [`Metrics::observer`]).
#[derive(Clone)]
pub struct MetricsObserver {
    c: Arc<Counters>,
}

impl std::fmt::Debug for MetricsObserver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsObserver")
    }
}

struct Adapters {
    up: Family<Labels, Gauge>,
    depth: Family<Labels, Gauge>,
    probes: Vec<(&'static str, Probe)>,
}

/// The metrics handle: give it to
/// [`SocketIoBuilder::metrics`](crate::socketio::SocketIoBuilder::metrics),
/// serve [`encode`](Self::encode) at `/metrics`. Cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    observer: MetricsObserver,
    registry: Arc<Mutex<Registry>>,
    adapters: Arc<Mutex<Adapters>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

fn by<M: Default + Clone + prometheus_client::metrics::TypedMetric>(
    family: &Family<Labels, M>,
    key: &'static str,
    value: &'static str,
) -> M {
    family.get_or_create(&[(key, value)]).clone()
}

impl Metrics {
    /// Every metric of the [module](self) table, at zero.
    pub fn new() -> Self {
        let handshakes = Family::<Labels, Counter>::default();
        let connections = Family::<Labels, Gauge>::default();
        let dropped = Family::<Labels, Counter>::default();
        let c = Counters {
            handshakes_polling: by(&handshakes, "transport", "polling"),
            handshakes_websocket: by(&handshakes, "transport", "websocket"),
            upgrades: Counter::default(),
            open_polling: by(&connections, "transport", "polling"),
            open_websocket: by(&connections, "transport", "websocket"),
            disconnects: Family::default(),
            packets_in: Counter::default(),
            packets_out: Counter::default(),
            bytes_in: Counter::default(),
            bytes_out: Counter::default(),
            queue_full: Counter::default(),
            refused: Family::default(),
            sockets: Gauge::default(),
            connects: Counter::default(),
            socket_disconnects: Family::default(),
            broadcasts: Counter::default(),
            deliveries: Counter::default(),
            dropped_volatile: by(&dropped, "kind", "volatile"),
            dropped_policy: by(&dropped, "kind", "policy"),
            slow_closes: Counter::default(),
            ack_timeouts: Counter::default(),
        };
        let adapters = Adapters {
            up: Family::default(),
            depth: Family::default(),
            probes: Vec::new(),
        };
        let mut r = Registry::with_prefix("oxio");
        {
            let e = r.sub_registry_with_prefix("engine");
            e.register(
                "handshakes",
                "Engine.IO sessions opened, by first transport",
                handshakes,
            );
            e.register(
                "upgrades",
                "Sessions upgraded from polling to WebSocket",
                c.upgrades.clone(),
            );
            e.register(
                "connections",
                "Open Engine.IO sessions, by current transport",
                connections,
            );
            e.register(
                "disconnects",
                "Engine.IO sessions closed, by reason",
                c.disconnects.clone(),
            );
            e.register(
                "packets_in",
                "Message packets received",
                c.packets_in.clone(),
            );
            e.register(
                "packets_out",
                "Message packets queued for clients",
                c.packets_out.clone(),
            );
            e.register(
                "bytes_in",
                "Payload bytes of the packets received",
                c.bytes_in.clone(),
            );
            e.register(
                "bytes_out",
                "Payload bytes of the packets queued for clients",
                c.bytes_out.clone(),
            );
            e.register(
                "queue_full",
                "Sends refused because a session's queue was full",
                c.queue_full.clone(),
            );
            e.register(
                "requests_refused",
                "Requests refused, by Engine.IO error code",
                c.refused.clone(),
            );
        }
        {
            let s = r.sub_registry_with_prefix("socketio");
            s.register(
                "sockets",
                "Connected sockets, all namespaces",
                c.sockets.clone(),
            );
            s.register(
                "connects",
                "Sockets connected to a namespace",
                c.connects.clone(),
            );
            s.register(
                "disconnects",
                "Sockets disconnected, by reason",
                c.socket_disconnects.clone(),
            );
            s.register(
                "broadcasts",
                "Broadcasts handed to the adapter",
                c.broadcasts.clone(),
            );
            s.register(
                "deliveries",
                "Packets queued for one socket",
                c.deliveries.clone(),
            );
            s.register(
                "dropped_packets",
                "Packets dropped on a full queue (volatile, or the DropPacket policy)",
                dropped,
            );
            s.register(
                "slow_client_closes",
                "Clients disconnected because their queue was full",
                c.slow_closes.clone(),
            );
            s.register(
                "ack_timeouts",
                "Emits with ack that got no answer in time",
                c.ack_timeouts.clone(),
            );
        }
        {
            let a = r.sub_registry_with_prefix("adapter");
            a.register(
                "up",
                "1 when the adapter is connected to its backend",
                adapters.up.clone(),
            );
            a.register(
                "publish_queue_depth",
                "Messages waiting to be published",
                adapters.depth.clone(),
            );
        }
        Metrics {
            observer: MetricsObserver { c: Arc::new(c) },
            registry: Arc::new(Mutex::new(r)),
            adapters: Arc::new(Mutex::new(adapters)),
        }
    }

    /// The observer that counts (for
    /// [`SocketIoBuilder::observe`](crate::socketio::SocketIoBuilder::observe)).
    pub fn observer(&self) -> Arc<MetricsObserver> {
        Arc::new(self.observer.clone())
    }

    /// Reports `probe()` at each scrape as `oxio_adapter_up` and
    /// `oxio_adapter_publish_queue_depth` with label `adapter=<name>`.
    pub fn watch_adapter(
        &self,
        name: &'static str,
        probe: impl Fn() -> AdapterState + Send + Sync + 'static,
    ) {
        self.adapters.locked().probes.push((name, Box::new(probe)));
    }

    /// Runs `f` on the registry, to add the application's own metrics.
    ///
    /// ```
    /// use prometheus_client::metrics::counter::Counter;
    /// let metrics = oxio_server::metrics::Metrics::new();
    /// let logins = Counter::<u64>::default();
    /// metrics.with_registry(|r| r.register("logins", "Logins", logins.clone()));
    /// logins.inc();
    /// assert!(metrics.encode().contains("oxio_logins_total 1"));
    /// ```
    pub fn with_registry<R>(&self, f: impl FnOnce(&mut Registry) -> R) -> R {
        f(&mut self.registry.locked())
    }

    /// The OpenMetrics text of every metric (serve it with [`CONTENT_TYPE`]).
    pub fn encode(&self) -> String {
        {
            let adapters = self.adapters.locked();
            for (name, probe) in &adapters.probes {
                let state = probe();
                by(&adapters.up, "adapter", name).set(i64::from(state.up));
                by(&adapters.depth, "adapter", name)
                    .set(i64::try_from(state.publish_queue_depth).unwrap_or(i64::MAX));
            }
        }
        let mut text = String::new();
        if let Err(e) =
            prometheus_client::encoding::text::encode(&mut text, &self.registry.locked())
        {
            tracing::error!(error = %e, "metrics encoding failed");
        }
        text
    }
}

fn as_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

impl MetricsObserver {
    fn open(&self, t: Transport) -> Option<&Gauge> {
        match t {
            Transport::Polling => Some(&self.c.open_polling),
            Transport::WebSocket => Some(&self.c.open_websocket),
            Transport::WebTransport => None,
        }
    }
}

impl EngineObserver for MetricsObserver {
    fn handshake(&self, transport: Transport) {
        match transport {
            Transport::Polling => self.c.handshakes_polling.inc(),
            _ => self.c.handshakes_websocket.inc(),
        };
        if let Some(g) = self.open(transport) {
            g.inc();
        }
    }

    fn upgrade(&self) {
        self.c.upgrades.inc();
        self.c.open_polling.dec();
        self.c.open_websocket.inc();
    }

    fn session_closed(&self, transport: Transport, reason: CloseReason) {
        if let Some(g) = self.open(transport) {
            g.dec();
        }
        by(&self.c.disconnects, "reason", reason.as_str()).inc();
    }

    fn message_in(&self, bytes: usize) {
        self.c.packets_in.inc();
        self.c.bytes_in.inc_by(as_u64(bytes));
    }

    fn messages_out(&self, count: usize, bytes: usize) {
        self.c.packets_out.inc_by(as_u64(count));
        self.c.bytes_out.inc_by(as_u64(bytes));
    }

    fn queue_full(&self) {
        self.c.queue_full.inc();
    }

    fn request_refused(&self, refusal: Refusal) {
        by(&self.c.refused, "code", refusal.label()).inc();
    }
}

impl Observer for MetricsObserver {
    fn socket_connected(&self, _socket: &SocketRef) {
        self.c.connects.inc();
        self.c.sockets.inc();
    }

    fn socket_disconnected(&self, _socket: &SocketRef, reason: DisconnectReason) {
        self.c.sockets.dec();
        by(&self.c.socket_disconnects, "reason", reason.as_str()).inc();
    }

    fn broadcast(&self) {
        self.c.broadcasts.inc();
    }

    fn delivered(&self) {
        self.c.deliveries.inc();
    }

    fn dropped(&self, volatile: bool) {
        if volatile {
            self.c.dropped_volatile.inc();
        } else {
            self.c.dropped_policy.inc();
        }
    }

    fn slow_client_closed(&self) {
        self.c.slow_closes.inc();
    }

    fn ack_timeout(&self) {
        self.c.ack_timeouts.inc();
    }
}
