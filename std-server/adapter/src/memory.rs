//! The single-process adapter.

use crate::{
    AckCollector, Adapter, AdapterError, AdapterFactory, BoxFuture, BroadcastOptions, FoundSocket,
    LocalNamespace, Outgoing, Room, RoomIndex,
};
use oxio_engine::Sid;
use std::sync::Arc;

/// Rooms in memory, delivery to this process's sockets only. The default.
///
/// Every send is a non-blocking queue push into a session; a broadcast
/// never waits on a client.
#[derive(Debug)]
pub struct MemoryAdapter {
    index: RoomIndex,
    ns: LocalNamespace,
}

impl MemoryAdapter {
    /// An adapter for `ns`.
    pub fn new(ns: LocalNamespace) -> Self {
        MemoryAdapter {
            index: RoomIndex::default(),
            ns,
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

/// Makes a [`MemoryAdapter`] per namespace.
#[derive(Debug, Clone, Copy, Default)]
pub struct MemoryAdapterFactory;

impl AdapterFactory for MemoryAdapterFactory {
    fn create(&self, ns: LocalNamespace) -> Arc<dyn Adapter> {
        Arc::new(MemoryAdapter::new(ns))
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
        for sid in self.index.matching(opts) {
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
}
