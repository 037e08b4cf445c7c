//! The single-process adapter.

use crate::recovery::{Log, Recovery};
use crate::{
    AckCollector, Adapter, AdapterError, AdapterFactory, BoxFuture, BroadcastOptions,
    ConnectionStateRecovery, FoundSocket, LocalNamespace, Outgoing, PersistedSession,
    RestoredSession, Room, RoomIndex,
};
use oxio_engine::sync::LockExt;
use oxio_engine::Sid;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Rooms in memory, delivery to this process's sockets only. The default.
///
/// Every send is a non-blocking queue push into a session; a broadcast
/// never waits on a client.
///
/// With [connection state recovery](ConnectionStateRecovery)
/// ([`MemoryAdapter::with_recovery`]) it is Node's `SessionAwareAdapter`:
/// every event without ack that is not volatile gets an offset as its last
/// argument and is kept for the clients that lose their connection; the
/// sessions of disconnected sockets are kept too; both are bounded and
/// swept. Broadcasts of one namespace are then recorded and delivered one
/// at a time, so every client sees them in offset order.
///
/// ```
/// use oxio_adapter::{Adapter, BroadcastOptions, ConnectionStateRecovery, LocalNamespace, MemoryAdapter, Outgoing};
///
/// let adapter = MemoryAdapter::with_recovery(LocalNamespace::detached("/"), ConnectionStateRecovery::default());
/// let packet = Outgoing::event("/", None, "news", &("hi",)).unwrap();
/// adapter.broadcast(&packet, &BroadcastOptions::default()).unwrap();
/// assert_eq!(adapter.recovery_stats(), Some((1, 24, 0))); // 2["news","hi","<7-char offset>"]
/// ```
#[derive(Debug)]
pub struct MemoryAdapter {
    index: RoomIndex,
    ns: LocalNamespace,
    recovery: Option<Arc<Recovery>>,
    sweeper: AtomicBool,
}

impl std::fmt::Debug for Recovery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recovery")
            .field("config", &self.config)
            .finish()
    }
}

impl MemoryAdapter {
    /// An adapter for `ns`.
    pub fn new(ns: LocalNamespace) -> Self {
        MemoryAdapter {
            index: RoomIndex::default(),
            ns,
            recovery: None,
            sweeper: AtomicBool::new(false),
        }
    }

    /// An adapter for `ns` that records packets and keeps sessions for
    /// connection state recovery (Node's `SessionAwareAdapter`).
    pub fn with_recovery(ns: LocalNamespace, config: ConnectionStateRecovery) -> Self {
        MemoryAdapter {
            recovery: Some(Arc::new(Recovery::new(config))),
            ..MemoryAdapter::new(ns)
        }
    }

    /// With recovery on: the packets and bytes in the replay buffer, and
    /// the sessions kept.
    pub fn recovery_stats(&self) -> Option<(usize, usize, usize)> {
        self.recovery.as_ref().map(|r| r.stats())
    }

    /// With recovery on: drops the sessions and packets older than
    /// `max_disconnection_duration` now (a task does it every
    /// `sweep_interval` once the adapter has recorded or kept something).
    pub fn sweep(&self) {
        if let Some(r) = &self.recovery {
            r.sweep(tokio::time::Instant::now());
        }
    }

    /// Starts the sweeping task (once, inside a Tokio runtime).
    fn ensure_sweeper(&self, recovery: &Arc<Recovery>) {
        if self.sweeper.load(Ordering::Relaxed) {
            return;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if self.sweeper.swap(true, Ordering::AcqRel) {
            return;
        }
        let weak = Arc::downgrade(recovery);
        let every = recovery
            .config
            .sweep_interval
            .max(std::time::Duration::from_millis(10));
        handle.spawn(async move {
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(r) = weak.upgrade() else { return };
                r.sweep(tokio::time::Instant::now());
            }
        });
    }

    /// Delivers `packet` to the targeted sockets, holding it for those
    /// being restored (`log` is locked by the caller).
    fn deliver_logged(&self, log: &mut Log, packet: &Outgoing, opts: &BroadcastOptions) {
        for sid in self.index.matching(opts) {
            if let Some(held) = log.held.get_mut(&sid) {
                held.push(packet, opts.flags.volatile);
                continue;
            }
            if let Err(e) = self.ns.send(&sid, packet, opts.flags.volatile) {
                tracing::debug!(%sid, error = %e, "broadcast not delivered");
            }
        }
    }

    /// The room index (for adapters that wrap this one).
    pub fn index(&self) -> &RoomIndex {
        &self.index
    }

    /// The namespace.
    pub fn namespace(&self) -> &LocalNamespace {
        &self.ns
    }
}

/// Makes a [`MemoryAdapter`] per namespace (with connection state
/// recovery when given its options).
#[derive(Debug, Clone, Default)]
pub struct MemoryAdapterFactory {
    recovery: Option<ConnectionStateRecovery>,
}

impl MemoryAdapterFactory {
    /// Plain in-memory adapters (the default).
    pub fn new() -> Self {
        MemoryAdapterFactory::default()
    }

    /// In-memory adapters with connection state recovery.
    pub fn with_recovery(config: ConnectionStateRecovery) -> Self {
        MemoryAdapterFactory {
            recovery: Some(config),
        }
    }
}

impl AdapterFactory for MemoryAdapterFactory {
    fn create(&self, ns: LocalNamespace) -> Arc<dyn Adapter> {
        match &self.recovery {
            Some(config) => Arc::new(MemoryAdapter::with_recovery(ns, config.clone())),
            None => Arc::new(MemoryAdapter::new(ns)),
        }
    }
}

impl Adapter for MemoryAdapter {
    fn add_all(&self, sid: &Sid, rooms: &[Room]) {
        self.index.add_all(sid, rooms);
    }

    fn del(&self, sid: &Sid, rooms: &[Room]) {
        self.index.del(sid, rooms);
    }

    fn del_all(&self, sid: &Sid) {
        self.index.del_all(sid);
    }

    fn socket_rooms(&self, sid: &Sid) -> Vec<Room> {
        self.index.rooms_of(sid)
    }

    fn broadcast(&self, packet: &Outgoing, opts: &BroadcastOptions) -> Result<(), AdapterError> {
        if let Some(recovery) = &self.recovery {
            let now = tokio::time::Instant::now();
            let mut log = recovery.log.locked();
            // Node: `packet.type === 2 && packet.id === undefined && !volatile`
            // (a `local` broadcast is recorded too: one node).
            let recorded = if packet.is_event_without_ack() && !opts.flags.volatile {
                recovery.record(&mut log, packet, opts, now)
            } else {
                None
            };
            self.deliver_logged(&mut log, recorded.as_ref().unwrap_or(packet), opts);
            drop(log);
            if recorded.is_some() {
                self.ensure_sweeper(recovery);
            }
            return Ok(());
        }
        for sid in self.index.matching(opts) {
            if let Err(e) = self.ns.send(&sid, packet, opts.flags.volatile) {
                tracing::debug!(%sid, error = %e, "broadcast not delivered");
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
        let mut collector = AckCollector::new();
        let mut reached = 0usize;
        // A socket being restored is not connected yet: it is skipped (as
        // Node skips a socket that is not connected).
        let log = self.recovery.as_ref().map(|r| r.log.locked());
        for sid in self.index.matching(opts) {
            if log.as_ref().is_some_and(|l| l.held.contains_key(&sid)) {
                continue;
            }
            let sink = collector.sink();
            match self
                .ns
                .send_with_ack(&sid, packet, ack_id, sink, opts.flags.volatile)
            {
                Ok(()) => reached += 1,
                Err(e) => tracing::debug!(%sid, error = %e, "broadcast not delivered"),
            }
        }
        collector.expect_clients(reached);
        Ok(collector)
    }

    fn fetch_sockets(
        &self,
        opts: &BroadcastOptions,
    ) -> BoxFuture<Result<Vec<FoundSocket>, AdapterError>> {
        let sockets = self
            .index
            .matching(opts)
            .into_iter()
            .map(FoundSocket::Local)
            .collect();
        Box::pin(std::future::ready(Ok(sockets)))
    }

    fn add_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) -> Result<(), AdapterError> {
        for sid in self.index.matching(opts) {
            self.index.add_all(&sid, rooms);
        }
        Ok(())
    }

    fn del_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) -> Result<(), AdapterError> {
        for sid in self.index.matching(opts) {
            self.index.del(&sid, rooms);
        }
        Ok(())
    }

    fn disconnect_sockets(&self, opts: &BroadcastOptions, close: bool) -> Result<(), AdapterError> {
        for sid in self.index.matching(opts) {
            self.ns.disconnect(&sid, close);
        }
        Ok(())
    }

    fn rooms(&self) -> BoxFuture<Result<Vec<Room>, AdapterError>> {
        Box::pin(std::future::ready(Ok(self.index.rooms())))
    }

    fn persist_session(&self, session: PersistedSession) {
        if let Some(recovery) = &self.recovery {
            recovery.persist(session, tokio::time::Instant::now());
            self.ensure_sweeper(recovery);
        }
    }

    fn restore_session(
        &self,
        pid: &str,
        offset: &str,
    ) -> BoxFuture<Result<Option<RestoredSession>, AdapterError>> {
        let restored = self
            .recovery
            .as_ref()
            .and_then(|r| r.restore(&self.index, pid, offset, tokio::time::Instant::now()));
        Box::pin(std::future::ready(Ok(restored)))
    }

    fn restore_finished(&self, sid: &Sid, connected: bool) -> bool {
        let Some(recovery) = &self.recovery else {
            return true;
        };
        let mut log = recovery.log.locked();
        let Some(held) = log.held.remove(sid) else {
            return true;
        };
        if !connected {
            return true;
        }
        if held.overflowed {
            return false;
        }
        // Under `log`: nothing recorded later can overtake them.
        for (packet, volatile) in &held.packets {
            if let Err(e) = self.ns.send(sid, packet, *volatile) {
                tracing::debug!(%sid, error = %e, "held packet not delivered");
            }
        }
        true
    }
}
