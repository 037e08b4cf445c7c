//! [`Io`]: the server handle for application code (REST handlers, timers).

use super::namespace::{normalize, NsHandle};
use super::operators::BroadcastOperators;
use super::server::ServerInner;
use super::{BroadcastAckFuture, ConnectHandler, EmitError, FetchedSocket, NsPatternError};
use oxio_adapter::{AdapterError, IntoRooms, Room, ServerEvent, ServerSideAcks};
use oxio_engine::CloseReason;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

/// A cheap, cloneable handle to the server (Node's `io`): registers
/// namespaces, and emits from anywhere (an HTTP route, a timer). The
/// shortcuts (`emit`, `to`, ...) act on the namespace `/`; [`Io::of`]
/// reaches the others.
///
/// ```
/// use oxio_server::socketio::{SocketIo, SocketRef};
///
/// let io = SocketIo::builder().build().io();
/// io.ns("/chat", |s: SocketRef| { s.join("lobby"); });
/// // From a REST handler:
/// io.of("/chat").unwrap().to("lobby").emit("announcement", &("server restarting",)).unwrap();
/// assert!(io.of("/nope").is_none());
/// ```
#[derive(Clone)]
pub struct Io {
    inner: Arc<ServerInner>,
}

impl std::fmt::Debug for Io {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Io")
    }
}

impl Io {
    pub(crate) fn new(inner: Arc<ServerInner>) -> Self {
        Io { inner }
    }

    /// Registers (or replaces the connection handler of) the static
    /// namespace `name` (`admin` is normalised to `/admin`).
    pub fn ns<H: ConnectHandler<M>, M: 'static>(&self, name: &str, handler: H) -> NsHandle {
        self.inner.add_static(name, handler)
    }

    /// Registers a dynamic namespace family by pattern: `/room-{id}` makes
    /// a child namespace for `/room-1`, `/room-abc`, ... on first connect.
    /// Static namespaces win; among patterns, the first registered matching
    /// one wins.
    pub fn dyn_ns<H: ConnectHandler<M>, M: 'static>(
        &self,
        pattern: &str,
        handler: H,
    ) -> Result<NsHandle, NsPatternError> {
        self.inner.add_pattern(pattern, handler)
    }

    /// Registers a dynamic namespace family by predicate on the name.
    pub fn dyn_ns_with<H: ConnectHandler<M>, M: 'static>(
        &self,
        predicate: impl Fn(&str) -> bool + Send + Sync + 'static,
        handler: H,
    ) -> NsHandle {
        self.inner.add_predicate(predicate, handler)
    }

    /// Operators on namespace `name` (static, or a dynamic child that exists).
    pub fn of(&self, name: &str) -> Option<BroadcastOperators> {
        let ns = self.inner.namespace(&normalize(name))?;
        Some(BroadcastOperators::new(ns, self.inner.clone()))
    }

    fn root(&self) -> BroadcastOperators {
        BroadcastOperators::new(self.inner.root(), self.inner.clone())
    }

    /// Emits to every socket of `/`.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, args: &T) -> Result<(), EmitError> {
        self.root().emit(event, args)
    }

    /// Emits to every socket of `/` and collects their acks.
    pub fn emit_with_ack<T: Serialize + ?Sized>(
        &self,
        event: &str,
        args: &T,
    ) -> BroadcastAckFuture {
        self.root().emit_with_ack(event, args)
    }

    /// Targets rooms of `/`.
    pub fn to(&self, rooms: impl IntoRooms) -> BroadcastOperators {
        self.root().to(rooms)
    }

    /// Same as [`Io::to`] (Node's `io.in`).
    pub fn within(&self, rooms: impl IntoRooms) -> BroadcastOperators {
        self.root().to(rooms)
    }

    /// Excludes rooms of `/`.
    pub fn except(&self, rooms: impl IntoRooms) -> BroadcastOperators {
        self.root().except(rooms)
    }

    /// This node only.
    pub fn local(&self) -> BroadcastOperators {
        self.root().local()
    }

    /// Volatile broadcast on `/`.
    pub fn volatile(&self) -> BroadcastOperators {
        self.root().volatile()
    }

    /// Ack timeout for a broadcast on `/`.
    pub fn timeout(&self, timeout: Duration) -> BroadcastOperators {
        self.root().timeout(timeout)
    }

    /// Every socket of `/`.
    pub async fn fetch_sockets(&self) -> Result<Vec<FetchedSocket>, AdapterError> {
        self.root().fetch_sockets().await
    }

    /// Makes every socket of `/` join `rooms`.
    pub fn sockets_join(&self, rooms: impl IntoRooms) -> Result<(), AdapterError> {
        self.root().sockets_join(rooms)
    }

    /// Makes every socket of `/` leave `rooms`.
    pub fn sockets_leave(&self, rooms: impl IntoRooms) -> Result<(), AdapterError> {
        self.root().sockets_leave(rooms)
    }

    /// Disconnects every socket of `/`.
    pub fn disconnect_sockets(&self, close: bool) -> Result<(), AdapterError> {
        self.root().disconnect_sockets(close)
    }

    /// The rooms of `/`.
    pub async fn rooms(&self) -> Result<Vec<Room>, AdapterError> {
        self.root().rooms().await
    }

    /// Sends an event to the server-side listeners of the other nodes of a
    /// cluster (Node's `io.serverSideEmit`), through the adapter of `/`. The
    /// in-memory adapter has no other node: nothing happens.
    pub fn server_side_emit<T: Serialize + ?Sized>(
        &self,
        event: &str,
        args: &T,
    ) -> Result<(), EmitError> {
        let ns = self.inner.root();
        let packet = super::Outgoing::event(ns.name(), None, event, args)?;
        ns.adapter().server_side_emit(&packet)?;
        Ok(())
    }

    /// Sends an event to the other nodes' server-side listeners of `/` and
    /// collects one answer per node (Node's `io.serverSideEmitWithAck`).
    pub async fn server_side_emit_with_ack<T: Serialize + ?Sized>(
        &self,
        event: &str,
        args: &T,
    ) -> Result<ServerSideAcks, EmitError> {
        self.root().server_side_emit_with_ack(event, args).await
    }

    /// Listens to `event` sent by other nodes to `/` (Node's
    /// `io.on(event, ...)`); replaces an earlier listener.
    ///
    /// ```
    /// use oxio_server::socketio::SocketIo;
    ///
    /// let io = SocketIo::builder().build().io();
    /// io.on_server_side_emit("ping", |ev| {
    ///     let _ = ev.ack(&"pong");
    /// });
    /// ```
    pub fn on_server_side_emit<F>(&self, event: impl Into<String>, handler: F)
    where
        F: Fn(ServerEvent) + Send + Sync + 'static,
    {
        self.root().on_server_side_emit(event, handler)
    }

    /// How many nodes serve `/` (1 with the in-memory adapter).
    pub async fn server_count(&self) -> Result<usize, AdapterError> {
        self.inner.root().adapter().server_count().await
    }

    /// Closes every session with `server shutting down`.
    pub fn close(&self) {
        self.inner.close_all(CloseReason::ServerShuttingDown);
    }

    /// Installs an [`Observer`](super::Observer): from now on it is told
    /// about sessions, packets, sockets, rooms and events (see its
    /// methods). Observers cannot be removed; with none installed the
    /// hooks cost one atomic load each.
    ///
    /// # Errors
    /// [`MAX_OBSERVERS`](super::MAX_OBSERVERS) are installed already.
    pub fn observe(
        &self,
        observer: Arc<dyn super::Observer>,
    ) -> Result<(), super::TooManyObservers> {
        self.inner.observers.add(observer)
    }

    /// The names of the namespaces of this node.
    #[cfg(feature = "admin-ui")]
    pub(crate) fn namespace_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .inner
            .namespaces()
            .iter()
            .map(|ns| ns.name().to_owned())
            .collect();
        names.sort();
        names
    }

    /// Sessions, polling sessions, and each namespace with its number of
    /// sockets on this node (for the admin UI's stats).
    #[cfg(feature = "admin-ui")]
    pub(crate) fn admin_counts(&self) -> (usize, usize, Vec<(String, usize)>) {
        let mut namespaces: Vec<(String, usize)> = self
            .inner
            .namespaces()
            .iter()
            .map(|ns| (ns.name().to_owned(), ns.len()))
            .collect();
        namespaces.sort();
        (
            self.inner.client_count(),
            self.inner.polling_count(),
            namespaces,
        )
    }

    /// A connected socket of this node.
    #[cfg(feature = "admin-ui")]
    pub(crate) fn local_socket(&self, ns: &str, id: &str) -> Option<super::SocketRef> {
        self.inner.namespace(ns)?.socket(&id.into())
    }

    /// Adds `_admin` to the data other nodes see of this node's sockets.
    #[cfg(feature = "admin-ui")]
    pub(crate) fn expose_admin_data(&self) {
        self.inner
            .admin_data
            .store(true, std::sync::atomic::Ordering::Release);
    }

    /// How many Engine.IO sessions the Socket.IO layer holds.
    pub fn session_count(&self) -> usize {
        self.inner.client_count()
    }
}
