//! The single-process adapter.

use crate::recovery::{Log, Recovery};
use crate::{
    AckCollector, Adapter, AdapterError, AdapterFactory, BoxFuture, BroadcastOptions,
    ConnectionStateRecovery, FoundSocket, LocalNamespace, Outgoing, PersistedSession,
    RestoredSession, Room, RoomIndex, Target,
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
        let holding = !log.held.is_empty();
        for target in self.index.targets(opts) {
            if holding {
                if let Some(held) = log.held.get_mut(target.id()) {
                    held.push(packet, opts.flags.volatile);
                    continue;
                }
            }
            self.deliver(&target, packet, opts.flags.volatile);
        }
    }

    /// Queues `packet` for one target of a broadcast.
    fn deliver(&self, target: &Target, packet: &Outgoing, volatile: bool) {
        if let Err(e) = target.send(&self.ns, packet, volatile) {
            tracing::debug!(sid = %target.id(), error = %e, "broadcast not delivered");
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
        // The socket itself, once connected: broadcasts reach it without a
        // lookup by id.
        self.index
            .add_all_with(sid, rooms, |sid| self.ns.socket(sid));
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
        for target in self.index.targets(opts) {
            self.deliver(&target, packet, opts.flags.volatile);
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
        for target in self.index.targets(opts) {
            if log
                .as_ref()
                .is_some_and(|l| l.held.contains_key(target.id()))
            {
                continue;
            }
            let sink = collector.sink();
            match target.send_with_ack(&self.ns, packet, ack_id, sink, opts.flags.volatile) {
                Ok(()) => reached += 1,
                Err(e) => {
                    tracing::debug!(sid = %target.id(), error = %e, "broadcast not delivered")
                }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AckError, AckSink, EmitError, LocalSockets, RemoteSocketData, ServerEvent};
    use std::sync::Mutex;
    use std::time::Duration;

    /// Local sockets that record what they are sent.
    #[derive(Default)]
    struct Sink(Mutex<Vec<(String, String)>>);

    impl LocalSockets for Sink {
        fn send(&self, sid: &Sid, packet: &Outgoing, _: bool) -> Result<(), EmitError> {
            self.0
                .lock()
                .unwrap()
                .push((sid.to_string(), packet.text().as_str().to_owned()));
            Ok(())
        }
        fn send_with_ack(
            &self,
            _: &Sid,
            _: &Outgoing,
            _: u64,
            _: AckSink,
            _: bool,
        ) -> Result<(), AckError> {
            Ok(())
        }
        fn disconnect(&self, _: &Sid, _: bool) {}
        fn socket_data(&self, _: &Sid) -> Option<RemoteSocketData> {
            None
        }
        fn next_ack_id(&self) -> u64 {
            0
        }
        fn server_side_event(&self, _: ServerEvent) -> bool {
            false
        }
    }

    fn adapter(config: ConnectionStateRecovery) -> (MemoryAdapter, Arc<Sink>) {
        let sink = Arc::new(Sink::default());
        let weak: std::sync::Weak<dyn LocalSockets> = {
            let s: Arc<dyn LocalSockets> = sink.clone();
            Arc::downgrade(&s)
        };
        let ns = LocalNamespace::new("/".into(), weak);
        let a = MemoryAdapter::with_recovery(ns, config);
        a.add_all(&"a".into(), &["a".into(), "r".into()]);
        (a, sink)
    }

    /// Broadcasts `n` events `e(i)` to room `r`; their offsets.
    fn emit(a: &MemoryAdapter, sink: &Sink, from: usize, n: usize) -> Vec<String> {
        let opts = BroadcastOptions {
            rooms: vec!["r".into()],
            ..Default::default()
        };
        for i in from..from + n {
            let p = Outgoing::event("/", None, "e", &(i,)).unwrap();
            a.broadcast(&p, &opts).unwrap();
        }
        let sent = sink.0.lock().unwrap();
        sent[sent.len() - n..]
            .iter()
            .map(|(_, t)| {
                let v: Vec<serde_json::Value> = serde_json::from_str(&t[1..]).unwrap();
                v.last().unwrap().as_str().unwrap().to_owned()
            })
            .collect()
    }

    fn session(pid: &str) -> PersistedSession {
        PersistedSession {
            sid: "a".into(),
            pid: pid.into(),
            rooms: vec!["a".into(), "r".into()],
            data: serde_json::json!({}),
        }
    }

    fn restore(a: &MemoryAdapter, pid: &str, offset: &str) -> Option<Vec<String>> {
        let fut = a.restore_session(pid, offset);
        let r = futures_now(fut)?;
        Some(
            r.missed
                .iter()
                .map(|p| p.text().as_str().to_owned())
                .collect(),
        )
    }

    fn futures_now(
        fut: BoxFuture<Result<Option<RestoredSession>, AdapterError>>,
    ) -> Option<RestoredSession> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(fut).unwrap()
    }

    #[test]
    fn the_buffer_keeps_the_newest_packets_within_its_count_bound() {
        let (a, sink) = adapter(ConnectionStateRecovery {
            max_packets: 3,
            ..Default::default()
        });
        let offsets = emit(&a, &sink, 0, 5);
        assert_eq!(a.recovery_stats().unwrap().0, 3);
        a.persist_session(session("p"));
        // Packet 1's offset is gone: a new session, and the session stays.
        assert_eq!(restore(&a, "p", &offsets[1]), None);
        let missed = restore(&a, "p", &offsets[2]).unwrap();
        assert_eq!(missed.len(), 2);
        assert!(missed[0].starts_with(r#"2["e",3,""#), "{missed:?}");
        assert!(missed[1].starts_with(r#"2["e",4,""#), "{missed:?}");
        // Taken: not twice.
        assert_eq!(restore(&a, "p", &offsets[2]), None);
    }

    #[test]
    fn the_buffer_keeps_within_its_byte_bound() {
        let (a, sink) = adapter(ConnectionStateRecovery {
            max_bytes: 100,
            ..Default::default()
        });
        emit(&a, &sink, 0, 50);
        let (packets, bytes, _) = a.recovery_stats().unwrap();
        assert!(bytes <= 100 && bytes > 60, "{bytes}");
        assert!((3..=6).contains(&packets), "{packets}");
    }

    #[test]
    fn sessions_are_bounded_oldest_first() {
        let (a, _) = adapter(ConnectionStateRecovery {
            max_sessions: 2,
            ..Default::default()
        });
        for pid in ["p1", "p2", "p3"] {
            a.persist_session(session(pid));
        }
        assert_eq!(a.recovery_stats().unwrap().2, 2);
        let (a, sink) = adapter(ConnectionStateRecovery {
            max_sessions: 2,
            ..Default::default()
        });
        let offsets = emit(&a, &sink, 0, 1);
        for pid in ["p1", "p2", "p3"] {
            a.persist_session(session(pid));
        }
        assert_eq!(restore(&a, "p1", &offsets[0]), None);
        assert_eq!(restore(&a, "p3", &offsets[0]), Some(vec![]));
    }

    #[tokio::test(start_paused = true)]
    async fn expired_sessions_and_packets_are_swept() {
        let (a, sink) = adapter(ConnectionStateRecovery {
            max_disconnection_duration: Duration::from_secs(10),
            sweep_interval: Duration::from_secs(3),
            ..Default::default()
        });
        let offsets = emit(&a, &sink, 0, 2);
        a.persist_session(session("p"));
        tokio::time::advance(Duration::from_secs(6)).await;
        emit(&a, &sink, 2, 1);
        a.persist_session(session("q"));
        assert_eq!(
            a.recovery_stats(),
            Some((3, a.recovery_stats().unwrap().1, 2))
        );
        // 12 s: the first two packets and session p expired; the sweeper
        // (every 3 s) drops them without any call.
        tokio::time::advance(Duration::from_secs(6)).await;
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        let (packets, _, sessions) = a.recovery_stats().unwrap();
        assert_eq!((packets, sessions), (1, 1));
        assert!(a.restore_session("p", &offsets[1]).await.unwrap().is_none());
        // 17 s: everything expired.
        tokio::time::advance(Duration::from_secs(5)).await;
        a.sweep();
        assert_eq!(a.recovery_stats(), Some((0, 0, 0)));
    }

    #[test]
    fn packets_for_a_socket_being_restored_are_held_then_sent_in_order() {
        let (a, sink) = adapter(ConnectionStateRecovery::default());
        let offsets = emit(&a, &sink, 0, 1);
        a.persist_session(session("p"));
        a.del_all(&"a".into());
        emit(&a, &sink, 1, 1); // missed (nobody to send it to)
        let missed = restore(&a, "p", &offsets[0]).unwrap();
        assert_eq!(missed.len(), 1);
        let before = sink.0.lock().unwrap().len();
        let opts = BroadcastOptions::default();
        for i in 2..5 {
            a.broadcast(&Outgoing::event("/", None, "e", &(i,)).unwrap(), &opts)
                .unwrap();
        }
        assert_eq!(sink.0.lock().unwrap().len(), before, "held");
        assert!(a.restore_finished(&"a".into(), true));
        let sent = sink.0.lock().unwrap();
        let held: Vec<&str> = sent[before..].iter().map(|(_, t)| &t[..8]).collect();
        assert_eq!(held, [r#"2["e",2,"#, r#"2["e",3,"#, r#"2["e",4,"#]);
    }

    #[test]
    fn too_many_held_packets_fail_the_restore() {
        let (a, sink) = adapter(ConnectionStateRecovery::default());
        let offsets = emit(&a, &sink, 0, 1);
        a.persist_session(session("p"));
        restore(&a, "p", &offsets[0]).unwrap();
        let p = Outgoing::event("/", None, "e", &()).unwrap();
        for _ in 0..crate::recovery::MAX_HELD {
            a.broadcast(&p, &BroadcastOptions::default()).unwrap();
        }
        assert!(a.restore_finished(&"a".into(), false), "dropped");
        a.persist_session(session("q"));
        let offsets = emit(&a, &sink, 0, 1);
        restore(&a, "q", &offsets[0]).unwrap();
        for _ in 0..=crate::recovery::MAX_HELD {
            a.broadcast(&p, &BroadcastOptions::default()).unwrap();
        }
        assert!(!a.restore_finished(&"a".into(), true));
    }
}
