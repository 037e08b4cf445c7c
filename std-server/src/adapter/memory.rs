//! The single-process adapter.

use super::{
    AckCollector, Adapter, AdapterError, AdapterFactory, BoxFuture, BroadcastOptions,
    FetchedSocket, LocalNamespace, Room, RoomIndex,
};
use crate::socketio::{Outgoing, Sid};
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

    fn local_targets(&self, opts: &BroadcastOptions) -> Vec<crate::socketio::SocketRef> {
        self.index
            .matching(opts)
            .iter()
            .filter_map(|sid| self.ns.socket(sid))
            .collect()
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
        for socket in self.local_targets(opts) {
            if let Err(e) = socket.send_packet(packet, opts.flags.volatile) {
                tracing::debug!(sid = %socket.id(), error = %e, "broadcast not delivered");
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
        for socket in self.local_targets(opts) {
            match socket.send_with_ack_sink(packet, ack_id, collector.sink(), opts.flags.volatile) {
                Ok(()) => reached += 1,
                Err(e) => {
                    tracing::debug!(sid = %socket.id(), error = %e, "broadcast not delivered")
                }
            }
        }
        collector.expect_clients(reached);
        Ok(collector)
    }

    fn fetch_sockets(
        &self,
        opts: &BroadcastOptions,
    ) -> BoxFuture<Result<Vec<FetchedSocket>, AdapterError>> {
        let sockets = self
            .local_targets(opts)
            .into_iter()
            .map(FetchedSocket::Local)
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
        for socket in self.local_targets(opts) {
            if close {
                socket.disconnect_and_close();
            } else {
                socket.disconnect();
            }
        }
        Ok(())
    }

    fn rooms(&self) -> BoxFuture<Result<Vec<Room>, AdapterError>> {
        Box::pin(std::future::ready(Ok(self.index.rooms())))
    }
}
