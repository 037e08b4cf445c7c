//! A socket: one client in one namespace.

use super::ack::{AckFuture, AckRegistry, AckSlot};
use super::client::Client;
use super::extract::MessageParts;
use super::handler::{
    call_guarded, erase_disconnect, erase_message, BoxFuture, DisconnectHandler, ErasedDisconnect,
    ErasedMessage, MessageHandler,
};
use super::namespace::Namespace;
use super::operators::BroadcastOperators;
use super::server::ServerInner;
use super::{
    AckError, DisconnectReason, EmitError, Extensions, Handshake, Outgoing, OverflowPolicy,
    Payload, Sid,
};
use oxio_adapter::{AckSink, IntoRooms, LocalSocket, Room, SocketHandle};
use oxio_codec::socketio::Version;
use oxio_engine::sync::{LockExt, RwLockExt};
use oxio_engine::{CloseReason, SendError, Session};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;
use tokio::sync::oneshot;

const CONNECTING: u8 = 0;
const CONNECTED: u8 = 1;
const DISCONNECTED: u8 = 2;

/// What a packet middleware decides about an incoming event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PacketVerdict {
    /// Hand the event on (to the next middleware, then the handler).
    Pass,
    /// Drop the event silently.
    Drop,
    /// Drop the event and report the error to the socket's
    /// [`Socket::on_error`] handler (Node's `next(err)`).
    Reject(String),
}

type PacketMiddleware = dyn Fn(&SocketRef, &str, &Payload) -> PacketVerdict + Send + Sync;
type ErrorHandler = dyn Fn(SocketRef, String) + Send + Sync;

#[derive(Default)]
struct Handlers {
    events: HashMap<String, Arc<dyn ErasedMessage>>,
    fallback: Option<Arc<dyn ErasedMessage>>,
    disconnect: Option<Arc<dyn ErasedDisconnect>>,
    packet_middlewares: Vec<Arc<PacketMiddleware>>,
    error: Option<Arc<ErrorHandler>>,
}

/// One client connected to one namespace (Node's `Socket`).
///
/// Ordering guarantee: the events of one socket are dispatched in arrival
/// order by one task. Each handler is started in turn and runs up to its
/// first `.await` before the next event's handler starts (as Node runs
/// listeners synchronously); what follows an `.await` runs concurrently on
/// its own task. The connection handler is started before any event, and
/// the disconnect handler after every event received before the disconnect.
/// Acks from the client are delivered as they arrive.
///
/// ```
/// use oxio_server::socketio::{AckSender, Data, DisconnectReason, SocketIo, SocketRef};
/// use std::time::Duration;
///
/// let io = SocketIo::builder().build().io();
/// io.ns("/", |socket: SocketRef| {
///     socket.join(["lobby", "news"]);
///     socket.on("say", |s: SocketRef, Data(text): Data<String>| {
///         let _ = s.to("lobby").emit("said", &(s.id(), text)); // everyone else in lobby
///     });
///     socket.on("ask", |s: SocketRef, ack: AckSender| async move {
///         // Ask the client back and answer its ack with the reply.
///         let reply = s.timeout(Duration::from_secs(1)).emit_with_ack("question", &()).await;
///         let answer: Option<String> = reply.ok().and_then(|p| p.args().ok());
///         let _ = ack.send(&(answer,));
///     });
///     socket.on_disconnect(|s: SocketRef, reason: DisconnectReason| {
///         println!("{} left: {reason}", s.id());
///     });
/// });
/// assert!(io.of("/").is_some());
/// ```
pub struct Socket {
    id: Sid,
    me: Weak<Socket>,
    ns: Arc<Namespace>,
    session: Session,
    client: Weak<Client>,
    protocol: Version,
    handshake: Arc<Handshake>,
    handlers: RwLock<Handlers>,
    state: AtomicU8,
    acks: Mutex<AckRegistry>,
    extensions: Extensions,
    reason: Mutex<Option<DisconnectReason>>,
    server: Arc<ServerInner>,
    /// The private session id (connection state recovery on, v5 clients).
    pid: Option<Sid>,
    /// Restored from a previous session.
    recovered: bool,
}

/// What a socket is made from when connection state recovery restored
/// its session: its old id, private id and data.
pub(crate) struct Restored {
    pub(crate) sid: Sid,
    pub(crate) pid: Sid,
    pub(crate) data: serde_json::Value,
}

/// A shared reference to a [`Socket`]; what handlers receive.
#[derive(Clone)]
pub struct SocketRef(Arc<Socket>);

impl std::ops::Deref for SocketRef {
    type Target = Socket;
    fn deref(&self) -> &Socket {
        &self.0
    }
}

impl std::fmt::Debug for SocketRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&*self.0, f)
    }
}

impl PartialEq for SocketRef {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl SocketRef {
    /// This socket as its adapter delivers to it.
    pub(crate) fn handle(&self) -> SocketHandle {
        self.0.clone()
    }
}

/// How an adapter delivers to this socket once it holds it (no lookup by
/// id): the same checks as [`Socket::send_packet`] and
/// [`Socket::send_with_ack_sink`].
impl LocalSocket for Socket {
    fn id(&self) -> &Sid {
        &self.id
    }

    fn send(&self, packet: &Outgoing, volatile: bool) -> Result<(), EmitError> {
        self.send_packet(packet, volatile)
    }

    fn send_with_ack(
        &self,
        packet: &Outgoing,
        ack_id: u64,
        sink: AckSink,
        volatile: bool,
    ) -> Result<(), AckError> {
        self.send_with_ack_sink(packet, ack_id, sink, volatile)
    }
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Socket")
            .field("id", &self.id)
            .field("ns", &self.ns.name())
            .field("state", &self.state.load(Ordering::Acquire))
            .finish()
    }
}

/// Queues an encoded packet on a session: its text and attachments as one
/// unit, so packets emitted to one client at once never interleave. Never
/// waits. A full queue drops a volatile packet and otherwise applies
/// `policy`; either way nothing of the packet is queued.
pub(crate) fn deliver(
    session: &Session,
    packet: &Outgoing,
    volatile: bool,
    server: &ServerInner,
) -> Result<(), EmitError> {
    match session.send_many(packet.messages()) {
        Ok(()) => {
            server.observers.each(|o| o.delivered());
            Ok(())
        }
        Err(SendError::Closed) => Err(EmitError::Closed),
        Err(SendError::Full) if volatile => {
            tracing::trace!(sid = session.sid(), "volatile packet dropped: queue full");
            server.observers.each(|o| o.dropped(true));
            Ok(())
        }
        Err(SendError::Full) if server.config.overflow == OverflowPolicy::DropPacket => {
            tracing::debug!(sid = session.sid(), "packet dropped: queue full");
            server.observers.each(|o| o.dropped(false));
            Err(EmitError::SlowClient)
        }
        Err(SendError::Full) => {
            tracing::warn!(sid = session.sid(), "slow client disconnected: queue full");
            server.observers.each(|o| o.slow_client_closed());
            session.close(CloseReason::ForcedClose);
            Err(EmitError::SlowClient)
        }
    }
}

impl Socket {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn create(
        id: Sid,
        ns: Arc<Namespace>,
        session: Session,
        client: Weak<Client>,
        protocol: Version,
        handshake: Handshake,
        server: Arc<ServerInner>,
        restored: Option<Restored>,
    ) -> SocketRef {
        let max_acks = server.config.max_pending_acks;
        let recovery = server.config.connection_state_recovery.is_some();
        let (id, pid, recovered, data) = match restored {
            Some(r) => (r.sid, Some(r.pid), true, Some(r.data)),
            // Node makes a pid for v3 clients too, but never sends it.
            None if recovery && protocol == Version::V5 => match Sid::generate() {
                Ok(pid) => (id, Some(pid), false, None),
                Err(e) => {
                    tracing::error!(error = %e, "no private session id: this socket cannot recover");
                    (id, None, false, None)
                }
            },
            None => (id, None, false, None),
        };
        let extensions = Extensions::default();
        // Node restores `socket.data` as it was; an empty object is the
        // default `data`, not worth an extension.
        if let Some(data) =
            data.filter(|d| !d.is_null() && d.as_object().is_none_or(|o| !o.is_empty()))
        {
            extensions.insert(super::SocketData(data));
        }
        SocketRef(Arc::new_cyclic(|me| Socket {
            id,
            me: me.clone(),
            ns,
            session,
            client,
            protocol,
            handshake: Arc::new(handshake),
            handlers: RwLock::new(Handlers::default()),
            state: AtomicU8::new(CONNECTING),
            acks: Mutex::new(AckRegistry::new(max_acks)),
            extensions,
            reason: Mutex::new(None),
            server,
            pid,
            recovered,
        }))
    }

    /// Whether this socket was restored by connection state recovery: the
    /// same id, rooms and [`SocketData`](super::SocketData) as before the
    /// client lost its connection, and the events it missed were sent
    /// (Node's `socket.recovered`).
    pub fn recovered(&self) -> bool {
        self.recovered
    }

    /// The private session id the client presents to recover.
    pub(crate) fn pid(&self) -> Option<&Sid> {
        self.pid.as_ref()
    }

    fn handlers_mut(&self) -> std::sync::RwLockWriteGuard<'_, Handlers> {
        self.handlers.writing()
    }

    /// The socket id ([`Sid`]).
    pub fn id(&self) -> &Sid {
        &self.id
    }

    /// The namespace name.
    pub fn ns(&self) -> &str {
        self.ns.name()
    }

    /// The Socket.IO protocol the client speaks (`V4` for Engine.IO v3 clients).
    pub fn protocol(&self) -> Version {
        self.protocol
    }

    /// How the client connected: auth, query, headers, address, time.
    pub fn handshake(&self) -> &Handshake {
        &self.handshake
    }

    pub(crate) fn handshake_arc(&self) -> Arc<Handshake> {
        self.handshake.clone()
    }

    /// Whether the socket is connected (false during middleware and after
    /// disconnection).
    pub fn connected(&self) -> bool {
        self.state.load(Ordering::Acquire) == CONNECTED
    }

    /// Typed per-socket data (Node's `socket.data`, typed).
    pub fn extensions(&self) -> &Extensions {
        &self.extensions
    }

    pub(crate) fn server(&self) -> &Arc<ServerInner> {
        &self.server
    }

    pub(crate) fn server_state(&self) -> &Extensions {
        &self.server.state
    }

    /// How many acks this socket is waiting for.
    pub fn pending_acks(&self) -> usize {
        self.acks.locked().len()
    }

    /// Registers the handler for `event`, replacing any previous one.
    /// Reserved names (`disconnect`, `connect`, ...) never reach event
    /// handlers: use [`Socket::on_disconnect`].
    pub fn on<H: MessageHandler<M>, M: 'static>(&self, event: impl Into<String>, handler: H) {
        let event = event.into();
        if oxio_codec::socketio::is_reserved_event(&event) {
            tracing::warn!(%event, "reserved event name: this handler is never called");
        }
        self.handlers_mut()
            .events
            .insert(event, erase_message(handler));
    }

    /// Registers the handler for events that have no handler of their own
    /// (use the [`Event`](super::extract::Event) extractor for the name).
    pub fn on_fallback<H: MessageHandler<M>, M: 'static>(&self, handler: H) {
        self.handlers_mut().fallback = Some(erase_message(handler));
    }

    /// Registers the disconnect handler: `Fn(SocketRef, DisconnectReason)`,
    /// sync or async. Runs once, after every event received before.
    pub fn on_disconnect<H: DisconnectHandler<M>, M: 'static>(&self, handler: H) {
        self.handlers_mut().disconnect = Some(erase_disconnect(handler));
    }

    /// Adds a packet middleware (Node's `socket.use`): called with the
    /// event name and arguments before the handler, in registration order;
    /// it may pass, drop or reject the event. Synchronous, so it cannot
    /// reorder events.
    pub fn use_packet<F>(&self, middleware: F)
    where
        F: Fn(&SocketRef, &str, &Payload) -> PacketVerdict + Send + Sync + 'static,
    {
        self.handlers_mut()
            .packet_middlewares
            .push(Arc::new(middleware));
    }

    /// Registers the handler told about events a packet middleware rejected.
    pub fn on_error<F>(&self, handler: F)
    where
        F: Fn(SocketRef, String) + Send + Sync + 'static,
    {
        self.handlers_mut().error = Some(Arc::new(handler));
    }

    /// Sends `event` with `args` (a tuple is the argument list; byte fields
    /// become binary attachments) to this client.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, args: &T) -> Result<(), EmitError> {
        let packet = Outgoing::event_in(self.ns.parser(), self.ns(), None, event, args)?;
        self.emit_packet(&packet, false)
    }

    /// An emit to this client. With connection state recovery on it goes
    /// through the adapter, to the room of this socket's id, so it is
    /// recorded and gets an offset (as Node's `socket.emit` does), and
    /// succeeds even when the socket is disconnected.
    fn emit_packet(&self, packet: &Outgoing, volatile: bool) -> Result<(), EmitError> {
        if self.server.config.connection_state_recovery.is_none() || volatile {
            return self.send_packet(packet, volatile);
        }
        // Recorded even while the socket is away (as Node does): its
        // client gets it when it recovers.
        let opts = oxio_adapter::BroadcastOptions {
            rooms: vec![self.id.as_str().into()],
            ..Default::default()
        };
        self.ns.adapter().broadcast(packet, &opts)?;
        Ok(())
    }

    /// Sends `event` and waits for the client's ack, up to the server's ack
    /// timeout (default 5 s).
    pub fn emit_with_ack<T: Serialize + ?Sized>(&self, event: &str, args: &T) -> AckFuture {
        self.emit_with_ack_inner(event, args, false, self.server.config.ack_timeout)
    }

    /// A one-shot emitter that drops the packet if the client's queue is full.
    pub fn volatile(&self) -> SocketEmitter<'_> {
        SocketEmitter {
            socket: self,
            volatile: true,
            timeout: None,
        }
    }

    /// A one-shot emitter with its own ack timeout.
    pub fn timeout(&self, timeout: Duration) -> SocketEmitter<'_> {
        SocketEmitter {
            socket: self,
            volatile: false,
            timeout: Some(timeout),
        }
    }

    fn emit_with_ack_inner<T: Serialize + ?Sized>(
        &self,
        event: &str,
        args: &T,
        volatile: bool,
        timeout: Duration,
    ) -> AckFuture {
        let deadline = tokio::time::Instant::now() + timeout;
        let id = self.ns.next_ack_id();
        let packet = match Outgoing::event_in(self.ns.parser(), self.ns(), Some(id), event, args) {
            Ok(p) => p,
            Err(e) => return AckFuture::ready(Err(AckError::Emit(e.into()))),
        };
        if !self.connected() {
            return AckFuture::ready(Err(AckError::Emit(EmitError::Closed)));
        }
        let (tx, rx) = oneshot::channel();
        if let Err(e) = self.acks.locked().insert(id, AckSlot::One(tx)) {
            return AckFuture::ready(Err(e));
        }
        if let Err(e) = self.send_packet(&packet, volatile) {
            self.forget_ack(id);
            return AckFuture::ready(Err(e.into()));
        }
        AckFuture::waiting(rx, deadline, self.me.clone(), id)
    }

    pub(crate) fn forget_ack(&self, id: u64) {
        self.acks.locked().remove(id);
    }

    /// Queues an encoded packet for this client (what broadcasts and
    /// adapters use). Never waits; see [`OverflowPolicy`] for a full queue.
    pub fn send_packet(&self, packet: &Outgoing, volatile: bool) -> Result<(), EmitError> {
        if self.state.load(Ordering::Acquire) != CONNECTED {
            return Err(EmitError::Closed);
        }
        deliver(&self.session, packet, volatile, &self.server)?;
        self.server.observers.each(|o| {
            o.packets_out(&self.session, packet.messages());
            if matches!(packet.text().as_str().as_bytes().first(), Some(b'2' | b'5')) {
                o.event_sent(self, packet);
            }
        });
        Ok(())
    }

    /// Queues `packet` before the socket is connected (a connect
    /// middleware's emit, which Node writes before the CONNECT reply).
    #[cfg(feature = "admin-ui")]
    pub(crate) fn send_early(&self, packet: &Outgoing) -> Result<(), EmitError> {
        deliver(&self.session, packet, false, &self.server)?;
        self.server
            .observers
            .each(|o| o.packets_out(&self.session, packet.messages()));
        Ok(())
    }

    /// The Engine.IO session under this socket.
    pub(crate) fn session(&self) -> &Session {
        &self.session
    }

    /// Sends `packet` (which carries ack id `ack_id`) and routes the
    /// client's answer to `sink`: the building block of broadcasts with acks.
    pub fn send_with_ack_sink(
        &self,
        packet: &Outgoing,
        ack_id: u64,
        sink: AckSink,
        volatile: bool,
    ) -> Result<(), AckError> {
        if !self.connected() {
            return Err(AckError::Emit(EmitError::Closed));
        }
        self.acks.locked().insert(ack_id, AckSlot::Many(sink))?;
        if let Err(e) = self.send_packet(packet, volatile) {
            self.forget_ack(ack_id);
            return Err(e.into());
        }
        Ok(())
    }

    pub(crate) fn on_ack(&self, id: u64, payload: Payload) {
        self.acks.locked().resolve(id, &self.id, payload);
    }

    /// Joins `rooms` (Node's `socket.join`).
    pub fn join(&self, rooms: impl IntoRooms) {
        let rooms = rooms.into_rooms();
        if !self.server.observers.active() {
            self.ns.adapter().add_all(&self.id, &rooms);
            return;
        }
        let before = self.rooms();
        self.ns.adapter().add_all(&self.id, &rooms);
        self.report_rooms(&before, &rooms, true);
    }

    /// Leaves `rooms`; rooms left empty are deleted.
    pub fn leave(&self, rooms: impl IntoRooms) {
        let rooms = rooms.into_rooms();
        if !self.server.observers.active() {
            self.ns.adapter().del(&self.id, &rooms);
            return;
        }
        let before = self.rooms();
        self.ns.adapter().del(&self.id, &rooms);
        self.report_rooms(&before, &rooms, false);
    }

    /// Leaves every room, its own included.
    pub fn leave_all(&self) {
        let rooms = self.rooms();
        self.leave(rooms);
    }

    /// Tells the observers which of `rooms` were joined (absent from
    /// `before`) or left (present in `before`).
    fn report_rooms(&self, before: &[Room], rooms: &[Room], joined: bool) {
        self.server.observers.each(|o| {
            for room in rooms {
                match (joined, before.contains(room)) {
                    (true, false) => o.room_joined(self, room),
                    (false, true) => o.room_left(self, room),
                    _ => {}
                }
            }
        });
    }

    /// The rooms this socket is in (its own id included).
    pub fn rooms(&self) -> Vec<Room> {
        self.ns.adapter().socket_rooms(&self.id)
    }

    fn operators(&self) -> BroadcastOperators {
        BroadcastOperators::new(self.ns.clone(), self.server.clone()).except(&self.id)
    }

    /// Broadcast to `rooms`, this socket excluded (Node's `socket.to`).
    pub fn to(&self, rooms: impl IntoRooms) -> BroadcastOperators {
        self.operators().to(rooms)
    }

    /// Same as [`Socket::to`] (Node's `socket.in`).
    pub fn within(&self, rooms: impl IntoRooms) -> BroadcastOperators {
        self.operators().to(rooms)
    }

    /// Broadcast to everyone but this socket and the members of `rooms`.
    pub fn except(&self, rooms: impl IntoRooms) -> BroadcastOperators {
        self.operators().except(rooms)
    }

    /// Broadcast to every other socket of the namespace (Node's `socket.broadcast`).
    pub fn broadcast(&self) -> BroadcastOperators {
        self.operators()
    }

    /// Broadcast on this node only, this socket excluded.
    pub fn local(&self) -> BroadcastOperators {
        self.operators().local()
    }

    /// Disconnects from this namespace: sends `1[/nsp,]`; the connection
    /// stays open. Handlers see `server namespace disconnect`.
    pub fn disconnect(&self) {
        if !self.connected() {
            return;
        }
        if !self.close_with(DisconnectReason::ServerNamespaceDisconnect) {
            return;
        }
        if let Some(client) = self.client.upgrade() {
            client.remove_entry(self.ns(), &self.id);
        }
        // Sent once the namespace entry is gone: a client that connects
        // again as soon as it reads it must not look like a second CONNECT
        // of a namespace it is in (a protocol violation).
        match super::client::disconnect_message(self.ns.parser(), self.ns()) {
            Ok(msg) => {
                // Best effort: the socket goes either way.
                let _ = self.session.send(msg);
            }
            Err(e) => tracing::warn!(error = %e, "cannot encode DISCONNECT"),
        }
    }

    /// Closes the connection under this socket without a DISCONNECT
    /// packet (Node's `socket.conn.close()`): every socket of the
    /// connection goes with `forced close`, and the client, which sees
    /// its transport close, reconnects (with connection state recovery on,
    /// it recovers).
    pub fn close_connection(&self) {
        self.session.close(CloseReason::ForcedClose);
    }

    /// Disconnects every namespace of this connection and closes it
    /// (Node's `socket.disconnect(true)`).
    pub fn disconnect_and_close(&self) {
        match self.client.upgrade() {
            Some(client) => client.disconnect_all_and_close(),
            None => {
                self.disconnect();
                self.session.close(CloseReason::ForcedClose);
            }
        }
    }

    /// An emit with ack of this socket timed out (for the observer).
    pub(crate) fn ack_timed_out(&self) {
        self.server.observers.each(|o| o.ack_timeout());
    }

    pub(crate) fn set_connected(&self) -> bool {
        self.state
            .compare_exchange(CONNECTING, CONNECTED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Marks the socket gone: leaves the namespace and its rooms, fails
    /// pending acks. Idempotent; the first reason wins.
    pub(crate) fn close_with(&self, reason: DisconnectReason) -> bool {
        let prev = self.state.swap(DISCONNECTED, Ordering::AcqRel);
        if prev == DISCONNECTED {
            return false;
        }
        *self.reason.locked() = Some(reason);
        if prev == CONNECTED {
            self.persist(reason);
        }
        let rooms = if self.server.observers.active() {
            self.rooms()
        } else {
            Vec::new()
        };
        self.ns.remove_socket(&self.id);
        if !rooms.is_empty() {
            self.report_rooms(&rooms, &rooms, false);
        }
        self.acks.locked().fail_all(&self.id);
        true
    }

    /// Connection state recovery: keeps this socket's session when it lost
    /// its connection for a reason the client recovers from (Node's
    /// `RECOVERABLE_DISCONNECT_REASONS`), never after a namespace
    /// disconnect or a parse error.
    fn persist(&self, reason: DisconnectReason) {
        let recoverable = matches!(
            reason,
            DisconnectReason::TransportError
                | DisconnectReason::TransportClose
                | DisconnectReason::ForcedClose
                | DisconnectReason::PingTimeout
                | DisconnectReason::ServerShuttingDown
        );
        let Some(pid) = &self.pid else { return };
        if !recoverable || self.server.config.connection_state_recovery.is_none() {
            return;
        }
        let data = self
            .extensions
            .get::<super::SocketData>()
            .map(|d| d.0)
            .unwrap_or_else(|| serde_json::json!({}));
        self.ns
            .adapter()
            .persist_session(oxio_adapter::PersistedSession {
                sid: self.id.clone(),
                pid: pid.clone(),
                rooms: self.rooms(),
                data,
            });
    }

    pub(crate) fn reason(&self) -> DisconnectReason {
        self.reason
            .locked()
            .unwrap_or(DisconnectReason::TransportClose)
    }

    pub(crate) fn namespace(&self) -> &Arc<Namespace> {
        &self.ns
    }

    pub(crate) fn disconnect_handler(&self) -> Option<Arc<dyn ErasedDisconnect>> {
        self.handlers.reading().disconnect.clone()
    }
}

/// A one-shot emitter with flags, from [`Socket::volatile`] or [`Socket::timeout`].
#[derive(Debug)]
pub struct SocketEmitter<'a> {
    socket: &'a Socket,
    volatile: bool,
    timeout: Option<Duration>,
}

impl SocketEmitter<'_> {
    /// Adds the volatile flag.
    pub fn volatile(mut self) -> Self {
        self.volatile = true;
        self
    }

    /// Sets the ack timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sends `event` with `args`.
    pub fn emit<T: Serialize + ?Sized>(self, event: &str, args: &T) -> Result<(), EmitError> {
        let packet = Outgoing::event_in(
            self.socket.namespace().parser(),
            self.socket.ns(),
            None,
            event,
            args,
        )?;
        self.socket.emit_packet(&packet, self.volatile)
    }

    /// Sends `event` and waits for the ack.
    pub fn emit_with_ack<T: Serialize + ?Sized>(self, event: &str, args: &T) -> AckFuture {
        let timeout = self
            .timeout
            .unwrap_or(self.socket.server.config.ack_timeout);
        self.socket
            .emit_with_ack_inner(event, args, self.volatile, timeout)
    }
}

impl SocketRef {
    /// Runs the packet middlewares and finds the handler for `event`.
    pub(crate) fn dispatch(
        &self,
        event: Arc<str>,
        payload: Payload,
        ack_id: Option<u64>,
    ) -> Option<BoxFuture> {
        if oxio_codec::socketio::is_reserved_event(&event) {
            // v4 clients are not checked by the decoder; never dispatch these.
            tracing::debug!(sid = %self.id, %event, "reserved event name ignored");
            return None;
        }
        self.server
            .observers
            .each(|o| o.event_received(self, &payload));
        let (middlewares, handler, on_error) = {
            let h = self.handlers.reading();
            (
                h.packet_middlewares.clone(),
                h.events
                    .get(&*event)
                    .cloned()
                    .or_else(|| h.fallback.clone()),
                h.error.clone(),
            )
        };
        for mw in middlewares {
            match call_guarded(|| mw(self, &event, &payload)) {
                Some(PacketVerdict::Pass) => {}
                Some(PacketVerdict::Drop) | None => return None,
                Some(PacketVerdict::Reject(err)) => {
                    tracing::debug!(sid = %self.id, %event, %err, "event rejected by middleware");
                    if let Some(on_error) = on_error {
                        call_guarded(|| on_error(self.clone(), err));
                    }
                    return None;
                }
            }
        }
        let Some(handler) = handler else {
            tracing::trace!(sid = %self.id, %event, "no handler");
            return None;
        };
        let parts = MessageParts {
            socket: self.clone(),
            event,
            payload,
            ack_id,
        };
        call_guarded(|| handler.call(parts)).flatten()
    }
}
