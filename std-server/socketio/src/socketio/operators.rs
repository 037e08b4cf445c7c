//! Broadcast operators: who a broadcast reaches (`to`, `except`, ...) and
//! how (`volatile`, `local`, `timeout`), then what to do (`emit`,
//! `emit_with_ack`, `fetch_sockets`, `sockets_join`, ...).

use super::ack::BroadcastAckFuture;
use super::namespace::Namespace;
use super::server::ServerInner;
use super::{EmitError, FetchedSocket, Outgoing};
use oxio_adapter::{AdapterError, BroadcastOptions, IntoRooms, Room, ServerEvent, ServerSideAcks};
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

/// A broadcast under construction (Node's `BroadcastOperator`). Each
/// targeted socket gets a packet at most once, even if it is in several of
/// the rooms. Sending never waits on a client: a full client queue drops a
/// volatile packet and otherwise follows the server's
/// [`OverflowPolicy`](super::OverflowPolicy).
///
/// ```
/// use oxio_server::socketio::SocketIo;
///
/// let io = SocketIo::builder().build().io();
/// // Nobody is connected: the broadcast reaches no one, and succeeds.
/// io.to(["room1", "room2"]).except("room3").emit("news", &("hello",)).unwrap();
/// ```
#[derive(Clone)]
pub struct BroadcastOperators {
    ns: Arc<Namespace>,
    server: Arc<ServerInner>,
    opts: BroadcastOptions,
}

impl std::fmt::Debug for BroadcastOperators {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BroadcastOperators")
            .field("ns", &self.ns.name())
            .field("opts", &self.opts)
            .finish()
    }
}

impl BroadcastOperators {
    pub(crate) fn new(ns: Arc<Namespace>, server: Arc<ServerInner>) -> Self {
        BroadcastOperators {
            ns,
            server,
            opts: BroadcastOptions::default(),
        }
    }

    /// Targets the members of `rooms` (adds to earlier targets).
    pub fn to(mut self, rooms: impl IntoRooms) -> Self {
        for room in rooms.into_rooms() {
            if !self.opts.rooms.contains(&room) {
                self.opts.rooms.push(room);
            }
        }
        self
    }

    /// Same as [`BroadcastOperators::to`] (Node's `in`).
    pub fn within(self, rooms: impl IntoRooms) -> Self {
        self.to(rooms)
    }

    /// Excludes the members of `rooms` (a socket id excludes that socket).
    pub fn except(mut self, rooms: impl IntoRooms) -> Self {
        for room in rooms.into_rooms() {
            if !self.opts.except.contains(&room) {
                self.opts.except.push(room);
            }
        }
        self
    }

    /// This node only (no forwarding to other nodes by a cluster adapter).
    pub fn local(mut self) -> Self {
        self.opts.flags.local = true;
        self
    }

    /// Drops the packet for clients whose queue is full instead of
    /// disconnecting them.
    pub fn volatile(mut self) -> Self {
        self.opts.flags.volatile = true;
        self
    }

    /// The timeout of [`BroadcastOperators::emit_with_ack`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.opts.flags.timeout = Some(timeout);
        self
    }

    /// The options as they stand.
    pub fn options(&self) -> &BroadcastOptions {
        &self.opts
    }

    /// Sends `event` with `args` (tuple rule) to every targeted socket,
    /// encoded once.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, args: &T) -> Result<(), EmitError> {
        let packet = Outgoing::event_in(self.ns.parser(), self.ns.name(), None, event, args)?;
        self.server.observers.each(|o| o.broadcast());
        self.ns.adapter().broadcast(&packet, &self.opts)?;
        Ok(())
    }

    /// Sends `event` to every targeted socket with one ack id and collects
    /// the answers until all came or the timeout (default: the server's ack
    /// timeout) expired.
    pub fn emit_with_ack<T: Serialize + ?Sized>(
        &self,
        event: &str,
        args: &T,
    ) -> BroadcastAckFuture {
        let timeout = self
            .opts
            .flags
            .timeout
            .unwrap_or(self.server.config.ack_timeout);
        let deadline = tokio::time::Instant::now() + timeout;
        let id = self.ns.next_ack_id();
        let packet =
            match Outgoing::event_in(self.ns.parser(), self.ns.name(), Some(id), event, args) {
                Ok(p) => p,
                Err(e) => return BroadcastAckFuture::failed(e.into()),
            };
        let mut opts = self.opts.clone();
        opts.flags.timeout = Some(timeout);
        self.server.observers.each(|o| o.broadcast());
        match self.ns.adapter().broadcast_with_ack(&packet, id, &opts) {
            Ok(collector) => BroadcastAckFuture::collecting(collector, deadline),
            Err(e) => BroadcastAckFuture::failed(e.into()),
        }
    }

    /// The targeted sockets (local ones as [`SocketRef`](super::SocketRef)s).
    pub async fn fetch_sockets(&self) -> Result<Vec<FetchedSocket>, AdapterError> {
        let found = self.ns.adapter().fetch_sockets(&self.opts).await?;
        Ok(found
            .into_iter()
            .filter_map(|f| self.ns.fetched(f))
            .collect())
    }

    /// Makes the targeted sockets join `rooms`.
    pub fn sockets_join(&self, rooms: impl IntoRooms) -> Result<(), AdapterError> {
        let rooms = rooms.into_rooms();
        self.observed(&rooms, true, || {
            self.ns.adapter().add_sockets(&self.opts, &rooms)
        })
    }

    /// Makes the targeted sockets leave `rooms`.
    pub fn sockets_leave(&self, rooms: impl IntoRooms) -> Result<(), AdapterError> {
        let rooms = rooms.into_rooms();
        self.observed(&rooms, false, || {
            self.ns.adapter().del_sockets(&self.opts, &rooms)
        })
    }

    /// Runs `change`; with observers installed, tells them which sockets
    /// of this node joined (or left) which of `rooms`, by comparing their
    /// rooms before and after.
    fn observed(
        &self,
        rooms: &[Room],
        joined: bool,
        change: impl FnOnce() -> Result<(), AdapterError>,
    ) -> Result<(), AdapterError> {
        if !self.server.observers.active() {
            return change();
        }
        let before: Vec<_> = self
            .ns
            .local_sockets()
            .into_iter()
            .map(|s| {
                let r = s.rooms();
                (s, r)
            })
            .collect();
        change()?;
        self.server.observers.each(|o| {
            for (socket, was) in &before {
                let now = socket.rooms();
                for room in rooms {
                    match (joined, was.contains(room), now.contains(room)) {
                        (true, false, true) => o.room_joined(socket, room),
                        (false, true, false) => o.room_left(socket, room),
                        _ => {}
                    }
                }
            }
        });
        Ok(())
    }

    /// Disconnects the targeted sockets (`close`: and closes their connections).
    pub fn disconnect_sockets(&self, close: bool) -> Result<(), AdapterError> {
        self.ns.adapter().disconnect_sockets(&self.opts, close)
    }

    /// Sends an event to the server-side listeners of the other nodes
    /// (Node's `nsp.serverSideEmit`); room targets do not apply.
    pub fn server_side_emit<T: Serialize + ?Sized>(
        &self,
        event: &str,
        args: &T,
    ) -> Result<(), EmitError> {
        let packet = Outgoing::event(self.ns.name(), None, event, args)?;
        self.ns.adapter().server_side_emit(&packet)?;
        Ok(())
    }

    /// Sends an event to the other nodes' server-side listeners and
    /// collects one answer per node, within the adapter's request timeout
    /// (Node's `serverSideEmitWithAck`).
    pub async fn server_side_emit_with_ack<T: Serialize + ?Sized>(
        &self,
        event: &str,
        args: &T,
    ) -> Result<ServerSideAcks, EmitError> {
        let packet = Outgoing::event(self.ns.name(), None, event, args)?;
        Ok(self.ns.adapter().server_side_emit_with_ack(&packet).await?)
    }

    /// Listens to `event` sent by other nodes with `server_side_emit`
    /// (Node's `nsp.on(event, ...)`); replaces an earlier listener.
    pub fn on_server_side_emit<F>(&self, event: impl Into<String>, handler: F)
    where
        F: Fn(ServerEvent) + Send + Sync + 'static,
    {
        self.ns.on_server_side(event.into(), Arc::new(handler));
    }

    /// How many nodes serve this namespace (1 with the in-memory adapter).
    pub async fn server_count(&self) -> Result<usize, AdapterError> {
        self.ns.adapter().server_count().await
    }

    /// Every room of the namespace with at least one socket.
    pub async fn rooms(&self) -> Result<Vec<Room>, AdapterError> {
        self.ns.adapter().rooms().await
    }
}
