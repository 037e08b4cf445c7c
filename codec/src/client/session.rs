//! The session: state, the transport lifecycle, timers and events. Frames
//! in are in `session/receive.rs`; the application's calls and frames out
//! are in `session/send.rs`.

mod receive;
mod send;

use super::acks::{AckState, PendingAck};
use super::config::{Config, Random};
use super::driver::{Action, ConnectTarget};
use super::event::{AckId, CancelReason, DisconnectReason, Event};
use super::heartbeat::Heartbeat;
use super::namespace::{Slot, State};
use super::outbox::{Kind, Outbox};
use super::reassembly::Reassembly;
use super::{EVENT_CAPACITY, INFO_CAPACITY, MAX_ATTACHMENTS};
use crate::socketio::Decoder;
use crate::{Instant, Limits};

pub use send::{EmitOptions, NO_AUTH};

/// Where the Engine.IO connection stands.
#[derive(Debug, Clone, Copy)]
enum Link {
    /// No transport and none wanted (no namespace to join).
    Idle,
    /// Waiting before a reconnection attempt.
    Backoff { until: Instant },
    /// A transport is wanted: the next `poll_action` asks for it.
    Connect,
    /// The driver is opening the transport.
    Connecting { deadline: Option<Instant> },
    /// The transport is open; the server's `open` packet is awaited.
    Handshake { deadline: Option<Instant> },
    /// The Engine.IO session is open.
    Open(Heartbeat),
    /// The transport must be closed: the next `poll_action` asks for it.
    Close { reconnect: bool },
    /// The driver is closing the transport.
    Closing { reconnect: bool },
}

/// A connection event waiting for [`Session::poll_event`]. Namespaces are
/// slot indexes; a slot is not reused while a record names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Record {
    /// The namespace's slot, and whether its session was recovered.
    Connected(u8, bool),
    ConnectError(u8),
    Disconnected(u8, DisconnectReason),
    ServerLost,
    Reconnecting {
        attempt: u32,
        delay_ms: u32,
    },
    ReconnectFailed,
}

/// A sans-IO Socket.IO client over a WebSocket: feed it frames, time and
/// transport changes; drain frames to send, events and the next deadline.
///
/// Generic parameters, all storage inline (no allocation):
/// - `R`: the jitter source ([`Random`], any `FnMut() -> u32`).
/// - `NAMESPACES` (default 4): namespaces joined at once (at most 255 are used).
/// - `ACKS` (default 8): emits waiting for an ack at once.
/// - `QUEUE` (default 2048): bytes for everything waiting to be sent:
///   emits (buffered while disconnected, or waiting for the transport),
///   acks to the server, and each namespace's CONNECT packet with its auth
///   (kept to be sent again after every reconnection). Each entry costs
///   16 bytes of header + 4 per attachment + its frames, and an emit must
///   fit whole, so this also bounds the largest emit.
/// - `RX` (default 1024): bytes for one incoming binary packet (text +
///   attachments); a larger one is skipped ([`FrameError::TooLarge`](super::FrameError::TooLarge)).
///   Text packets are never copied, so their size is bounded only by the
///   driver's frame buffer.
///
/// RAM, all of it inside the value (asserted by the tests, so it cannot
/// grow unnoticed): `size_of::<Session<fn() -> u32>>()` is **4288 bytes on a
/// 32-bit microcontroller** (4368 on a 64-bit host, 4376 with the `client-msgpack` feature) with the defaults:
/// `QUEUE` + `RX` + 1216 bytes of state, of which 138 per namespace slot
/// (54 of them for connection state recovery: the `pid` and the last
/// offset, [`PID_CAPACITY`](super::PID_CAPACITY) and
/// [`OFFSET_CAPACITY`](super::OFFSET_CAPACITY)) and 16 per ack slot. With
/// a driver holding one 4 KB receive frame and one 2 KB send frame (as
/// oxio-client does), the session and its frames need 10 432 bytes.
///
/// ```
/// use oxio_codec::client::{Action, Config, Event, Frame, FrameKind, Incoming, Session, NO_AUTH};
/// use oxio_codec::Instant;
///
/// let mut s: Session<_> = Session::new(Config::default(), || 0);
/// let t = Instant::from_millis(0);
/// s.connect("/", NO_AUTH).unwrap();
/// assert!(matches!(s.poll_action(t), Some(Action::Connect(_))));
/// s.transport_opened(t);
/// s.handle_frame(Frame::Text(r#"0{"sid":"e","upgrades":[],"pingInterval":25000,"pingTimeout":20000}"#), t).unwrap();
///
/// let mut buf = [0u8; 64];
/// let out = s.poll_transmit(&mut buf, t).unwrap();
/// assert_eq!((out.kind, &buf[..out.len]), (FrameKind::Text, &b"40"[..]));
///
/// s.handle_frame(Frame::Text(r#"40{"sid":"abc"}"#), t).unwrap();
/// assert_eq!(s.poll_event(), Some(Event::Connected { namespace: "/", sid: "abc", recovered: false }));
///
/// match s.handle_frame(Frame::Text(r#"42["hello",1]"#), t).unwrap() {
///     Some(Incoming::Event { packet, ack: None }) => {
///         assert!(packet.event_name().unwrap() == "hello");
///         let (n,): (u8,) = packet.args().unwrap();
///         assert_eq!(n, 1);
///     }
///     other => panic!("{other:?}"),
/// }
/// ```
pub struct Session<
    R,
    const NAMESPACES: usize = 4,
    const ACKS: usize = 8,
    const QUEUE: usize = 2048,
    const RX: usize = 1024,
> {
    config: Config,
    random: R,
    link: Link,
    /// Reconnection attempts since the last successful open.
    attempts: u32,
    engine_sid: heapless::String<INFO_CAPACITY, u8>,
    slots: [Slot; NAMESPACES],
    acks: [Option<PendingAck>; ACKS],
    next_ack_id: u32,
    records: heapless::Deque<Record, EVENT_CAPACITY>,
    dropped_events: u32,
    outbox: Outbox<QUEUE>,
    rx: Reassembly<RX>,
}

impl<
        R: Random,
        const NAMESPACES: usize,
        const ACKS: usize,
        const QUEUE: usize,
        const RX: usize,
    > Session<R, NAMESPACES, ACKS, QUEUE, RX>
{
    /// A session with nothing to do until [`Session::connect`]. `const`, so
    /// it can initialize a `static`.
    ///
    /// ```
    /// use oxio_codec::client::{Config, Session};
    ///
    /// let s: Session<_, 2, 4, 512, 256> = Session::new(Config::default(), || 7);
    /// assert!(!s.is_open());
    /// assert_eq!(s.queue_capacity(), 512);
    /// ```
    pub const fn new(config: Config, random: R) -> Self {
        Session {
            config,
            random,
            link: Link::Idle,
            attempts: 0,
            engine_sid: heapless::String::new(),
            slots: [const { Slot::new() }; NAMESPACES],
            acks: [None; ACKS],
            next_ack_id: 0,
            records: heapless::Deque::new(),
            dropped_events: 0,
            outbox: Outbox::new(),
            rx: Reassembly::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Whether the Engine.IO session is open (handshake done, not lost).
    pub fn is_open(&self) -> bool {
        matches!(self.link, Link::Open(_))
    }

    /// Whether `namespace` is connected.
    ///
    /// ```
    /// use oxio_codec::client::{Config, Session, NO_AUTH};
    ///
    /// let mut s: Session<_> = Session::new(Config::default(), || 0);
    /// s.connect("/chat", NO_AUTH).unwrap();
    /// assert!(!s.is_connected("/chat")); // queued until the server accepts it
    /// ```
    pub fn is_connected(&self, namespace: &str) -> bool {
        self.slot_by_name(namespace)
            .and_then(|i| self.slots.get(i))
            .is_some_and(|s| s.state == State::Connected)
    }

    /// The socket id of a connected namespace.
    pub fn sid(&self, namespace: &str) -> Option<&str> {
        let slot = self.slots.get(self.slot_by_name(namespace)?)?;
        (slot.state == State::Connected).then_some(slot.info.as_str())
    }

    /// Connection state recovery: the private session id the server gave
    /// `namespace` in its last CONNECT answer (kept across disconnections,
    /// sent back in the next CONNECT with [`Session::recovery_offset`]);
    /// `None` when the server does not do recovery.
    ///
    /// ```
    /// use oxio_codec::client::{Config, Event, Frame, Session, NO_AUTH};
    /// use oxio_codec::Instant;
    ///
    /// let mut s: Session<_> = Session::new(Config::default(), || 0);
    /// let t = Instant::from_millis(0);
    /// s.connect("/", NO_AUTH).unwrap();
    /// s.poll_action(t);
    /// s.transport_opened(t);
    /// s.handle_frame(Frame::Text(r#"0{"sid":"e","upgrades":[],"pingInterval":25000,"pingTimeout":20000}"#), t).unwrap();
    /// s.handle_frame(Frame::Text(r#"40{"sid":"a","pid":"p"}"#), t).unwrap();
    /// assert_eq!(s.pid("/"), Some("p"));
    /// s.handle_frame(Frame::Text(r#"42["news",1,"MzAb3Xy"]"#), t).unwrap();
    /// assert_eq!(s.recovery_offset("/"), Some("MzAb3Xy"));
    /// ```
    pub fn pid(&self, namespace: &str) -> Option<&str> {
        let slot = self.slots.get(self.slot_by_name(namespace)?)?;
        slot.has_pid().then_some(slot.pid.as_str())
    }

    /// The last recovery offset `namespace` received: the last argument of
    /// the last event without an ack id when it is a string, taken only
    /// while the namespace has a [`Session::pid`] (the reference client's
    /// rule, so an event whose last argument is any string counts).
    /// `None` before the first one, or after one longer than
    /// [`OFFSET_CAPACITY`](super::OFFSET_CAPACITY).
    pub fn recovery_offset(&self, namespace: &str) -> Option<&str> {
        let slot = self.slots.get(self.slot_by_name(namespace)?)?;
        slot.offset.as_ref().map(|o| o.as_str())
    }

    /// The Engine.IO session id, while the session is open.
    pub fn engine_sid(&self) -> Option<&str> {
        self.is_open().then_some(self.engine_sid.as_str())
    }

    /// Bytes of the queue in use (buffered emits, frames waiting to go out,
    /// CONNECT packets). Never more than [`Session::queue_capacity`].
    pub fn queued_bytes(&self) -> usize {
        self.outbox.len()
    }

    /// The queue's size, `QUEUE`.
    pub const fn queue_capacity(&self) -> usize {
        QUEUE
    }

    /// Emits waiting for an ack, plus expired or cancelled ones whose event
    /// [`Session::poll_event`] has not returned yet. Never more than `ACKS`.
    pub fn pending_acks(&self) -> usize {
        self.acks.iter().flatten().count()
    }

    /// Events lost because more than [`EVENT_CAPACITY`] piled up without a
    /// [`Session::poll_event`] (the oldest are dropped). Stays 0 for a driver
    /// that drains events after every call.
    pub fn dropped_events(&self) -> u32 {
        self.dropped_events
    }

    /// What the driver must do with its transport next: open one (after
    /// [`Session::connect`], or when a reconnection delay ends) or close it
    /// (server lost, protocol error, no namespace left). Call it after every
    /// other call; `now` starts the connection timeout.
    ///
    /// ```
    /// use oxio_codec::client::{Action, Config, Session, NO_AUTH};
    /// use oxio_codec::Instant;
    ///
    /// let mut s: Session<_> = Session::new(Config::default(), || 0);
    /// let t = Instant::from_millis(0);
    /// assert_eq!(s.poll_action(t), None);
    /// s.connect("/", NO_AUTH).unwrap();
    /// assert!(matches!(s.poll_action(t), Some(Action::Connect(_))));
    /// assert_eq!(s.poll_action(t), None); // asked once
    /// s.disconnect("/").unwrap();
    /// assert_eq!(s.poll_action(t), Some(Action::Close)); // nothing left to join
    /// ```
    pub fn poll_action(&mut self, now: Instant) -> Option<Action> {
        self.close_if_unused();
        match self.link {
            Link::Connect => {
                let deadline = self.config.connect_timeout_ms.map(|ms| now + ms);
                self.link = Link::Connecting { deadline };
                Some(Action::Connect(ConnectTarget {
                    path: self.config.path,
                    version: self.config.version,
                    query: self.config.query,
                }))
            }
            Link::Close { reconnect } => {
                self.link = Link::Closing { reconnect };
                Some(Action::Close)
            }
            _ => None,
        }
    }

    /// The driver's transport (from [`Action::Connect`]) is open; the
    /// server's handshake is awaited. Ignored when no transport was asked for.
    ///
    /// ```
    /// use oxio_codec::client::{Config, Frame, Session, NO_AUTH};
    /// use oxio_codec::Instant;
    ///
    /// let mut s: Session<_> = Session::new(Config::default(), || 0);
    /// let t = Instant::from_millis(0);
    /// s.connect("/", NO_AUTH).unwrap();
    /// s.poll_action(t);
    /// s.transport_opened(t);
    /// assert!(!s.is_open()); // until the server's `open` packet
    /// s.handle_frame(Frame::Text(r#"0{"sid":"e","upgrades":[],"pingInterval":25000,"pingTimeout":20000}"#), t).unwrap();
    /// assert!(s.is_open());
    /// assert_eq!(s.engine_sid(), Some("e"));
    /// ```
    pub fn transport_opened(&mut self, _now: Instant) {
        if let Link::Connecting { deadline } = self.link {
            self.link = Link::Handshake { deadline };
        }
    }

    /// The driver's transport closed (asked for, failed to open, or lost).
    /// Connected namespaces are reported [`Event::Disconnected`] (reason
    /// [`DisconnectReason::TransportClose`] unless the session closed it
    /// for another reason), and a reconnection is scheduled if any
    /// namespace is still wanted.
    ///
    /// ```
    /// use oxio_codec::client::{Config, Event, Session, NO_AUTH};
    /// use oxio_codec::Instant;
    ///
    /// let mut s: Session<_> = Session::new(Config::default(), || 0);
    /// let t = Instant::from_millis(0);
    /// s.connect("/", NO_AUTH).unwrap();
    /// s.poll_action(t);
    /// s.transport_closed(t); // the connection failed
    /// assert_eq!(s.poll_event(), Some(Event::Reconnecting { attempt: 1, delay_ms: 1000 }));
    /// assert_eq!(s.poll_timeout(), Some(t + 1000));
    /// ```
    pub fn transport_closed(&mut self, now: Instant) {
        let reconnect = match self.link {
            Link::Idle | Link::Backoff { .. } | Link::Connect => return,
            Link::Close { reconnect } | Link::Closing { reconnect } => reconnect,
            Link::Connecting { .. } | Link::Handshake { .. } | Link::Open(_) => {
                self.lose_link(DisconnectReason::TransportClose);
                true
            }
        };
        if !self.any_active() {
            self.link = Link::Idle;
        } else if reconnect {
            self.schedule_reconnect(now);
        } else {
            // Closed because nothing was wanted, but a namespace was asked
            // for meanwhile: a fresh connection, no delay.
            self.attempts = 0;
            self.link = Link::Connect;
        }
    }

    /// The earliest instant at which [`Session::handle_timeout`] has work:
    /// a heartbeat, the connection timeout, a reconnection delay, an ack
    /// deadline or a binary packet's attachment deadline.
    ///
    /// ```
    /// use oxio_codec::client::{Action, Config, Session, NO_AUTH};
    /// use oxio_codec::Instant;
    ///
    /// let mut s: Session<_> = Session::new(Config::default(), || 0);
    /// let t = Instant::from_millis(0);
    /// assert_eq!(s.poll_timeout(), None);
    /// s.connect("/", NO_AUTH).unwrap();
    /// s.poll_action(t);
    /// assert_eq!(s.poll_timeout(), Some(t + 20_000)); // the connection timeout
    /// s.handle_timeout(t + 20_000);
    /// assert_eq!(s.poll_action(t + 20_000), Some(Action::Close));
    /// ```
    pub fn poll_timeout(&self) -> Option<Instant> {
        let link = match self.link {
            Link::Backoff { until } => Some(until),
            Link::Connecting { deadline } | Link::Handshake { deadline } => deadline,
            Link::Open(hb) => Some(hb.deadline()),
            _ => None,
        };
        let acks = self
            .acks
            .iter()
            .flatten()
            .filter(|a| a.is_waiting())
            .map(|a| a.deadline);
        [link, self.rx.deadline()]
            .into_iter()
            .flatten()
            .chain(acks)
            .min()
    }

    /// Fires every timer due at `now` (calling it early is harmless).
    ///
    /// ```
    /// use oxio_codec::client::{Config, EmitOptions, Event, Session, NO_AUTH};
    /// use oxio_codec::Instant;
    ///
    /// let mut s: Session<_> = Session::new(Config::default(), || 0);
    /// let t = Instant::from_millis(0);
    /// s.connect("/", NO_AUTH).unwrap();
    /// let before = s.queued_bytes(); // the CONNECT packet, kept for reconnections
    /// let id = s.emit("/", "ping", &(), EmitOptions::with_ack(500), t).unwrap().unwrap();
    /// assert_eq!(s.poll_timeout(), Some(t + 500));
    /// s.handle_timeout(t + 500);
    /// assert_eq!(s.poll_event(), Some(Event::AckTimeout { namespace: "/", id }));
    /// assert_eq!(s.queued_bytes(), before); // the unsent emit went with it
    /// ```
    pub fn handle_timeout(&mut self, now: Instant) {
        for i in 0..ACKS {
            let expired = self
                .acks
                .get(i)
                .copied()
                .flatten()
                .filter(|a| a.is_waiting() && now >= a.deadline);
            if let Some(a) = expired {
                if let Some(Some(entry)) = self.acks.get_mut(i) {
                    entry.state = AckState::TimedOut;
                }
                // The reference also takes the packet out of the buffer.
                self.outbox.purge(
                    |e| e.kind == Kind::Event && e.ack_id.is_some_and(|id| a.is(e.slot, id)),
                    |_| {},
                );
            }
        }
        if self.rx.deadline().is_some_and(|d| now >= d) {
            self.rx.reset();
            if self.is_open() {
                self.fail_link(DisconnectReason::ParseError);
            }
        }
        let lost = match &mut self.link {
            Link::Backoff { until } if now >= *until => {
                self.link = Link::Connect;
                false
            }
            Link::Connecting {
                deadline: Some(d), ..
            }
            | Link::Handshake {
                deadline: Some(d), ..
            } if now >= *d => {
                self.link = Link::Close { reconnect: true };
                false
            }
            Link::Open(hb) => hb.handle_timeout(now),
            _ => false,
        };
        if lost {
            self.record(Record::ServerLost);
            self.fail_link(DisconnectReason::PingTimeout);
        }
    }

    /// The next connection event, oldest first; `None` when there is none.
    /// Drain it after every other call.
    ///
    /// Events are kept as small records in a ring of [`EVENT_CAPACITY`];
    /// ack timeouts and cancellations come from the ack table itself (after
    /// the other events), so they are never lost.
    ///
    /// ```
    /// use oxio_codec::client::{Config, Event, Session, NO_AUTH};
    /// use oxio_codec::Instant;
    ///
    /// let config = Config { reconnection_attempts: Some(0), ..Config::default() };
    /// let mut s: Session<_> = Session::new(config, || 0);
    /// let t = Instant::from_millis(0);
    /// s.connect("/", NO_AUTH).unwrap();
    /// s.poll_action(t);
    /// s.transport_closed(t);
    /// assert_eq!(s.poll_event(), Some(Event::ReconnectFailed));
    /// assert_eq!(s.poll_event(), None);
    /// ```
    pub fn poll_event(&mut self) -> Option<Event<'_>> {
        if let Some(record) = self.records.pop_front() {
            return Some(self.describe(record));
        }
        let index = self
            .acks
            .iter()
            .position(|a| a.is_some_and(|a| !a.is_waiting()))?;
        let ack = self.acks.get_mut(index)?.take()?;
        let namespace = self.slot_name(ack.slot);
        let id = AckId(u64::from(ack.id));
        Some(match ack.state {
            AckState::Cancelled(reason) => Event::AckCancelled {
                namespace,
                id,
                reason,
            },
            _ => Event::AckTimeout { namespace, id },
        })
    }

    fn describe(&self, record: Record) -> Event<'_> {
        match record {
            Record::Connected(i, recovered) => Event::Connected {
                namespace: self.slot_name(i),
                sid: self.slot_info(i),
                recovered,
            },
            Record::ConnectError(i) => Event::ConnectError {
                namespace: self.slot_name(i),
                message: self.slot_info(i),
            },
            Record::Disconnected(i, reason) => Event::Disconnected {
                namespace: self.slot_name(i),
                reason,
            },
            Record::ServerLost => Event::ServerLost,
            Record::Reconnecting { attempt, delay_ms } => Event::Reconnecting { attempt, delay_ms },
            Record::ReconnectFailed => Event::ReconnectFailed,
        }
    }

    fn slot_name(&self, i: u8) -> &str {
        self.slots
            .get(usize::from(i))
            .map_or("", |s| s.name.as_str())
    }

    fn slot_info(&self, i: u8) -> &str {
        self.slots
            .get(usize::from(i))
            .map_or("", |s| s.info.as_str())
    }

    fn record(&mut self, record: Record) {
        if self.records.is_full() {
            self.records.pop_front();
            self.dropped_events = self.dropped_events.saturating_add(1);
        }
        let _ = self.records.push_back(record);
    }

    /// The slot holding `namespace` (in any state), among the usable ones.
    fn slot_by_name(&self, namespace: &str) -> Option<usize> {
        self.slots
            .iter()
            .take(usize::from(u8::MAX))
            .position(|s| s.name.as_str() == namespace && s.state != State::Free)
    }

    fn any_active(&self) -> bool {
        self.slots.iter().any(Slot::is_active)
    }

    /// The decoder for what the server sends.
    fn decoder(&self) -> Decoder {
        let limits = Limits {
            max_attachments: self.config.limits.max_attachments.min(MAX_ATTACHMENTS),
            ..self.config.limits
        };
        Decoder::new(self.config.socketio_version(), limits)
    }

    /// With no namespace wanted, stops reconnecting and closes the
    /// transport once what is queued for it has gone out.
    fn close_if_unused(&mut self) {
        if self.any_active() {
            return;
        }
        match &self.link {
            Link::Backoff { .. } | Link::Connect => self.link = Link::Idle,
            Link::Connecting { .. } | Link::Handshake { .. } => {
                self.link = Link::Close { reconnect: false }
            }
            Link::Open(hb) => {
                let busy = hb.is_due()
                    || self.outbox.sending().is_some()
                    || self.slots.iter().any(|s| s.state == State::Disconnecting);
                if !busy {
                    self.link = Link::Close { reconnect: false };
                }
            }
            _ => {}
        }
    }

    /// The server broke the protocol or stopped answering: report the
    /// loss now and have the driver close the transport; a reconnection
    /// follows its [`Session::transport_closed`].
    fn fail_link(&mut self, reason: DisconnectReason) {
        if matches!(self.link, Link::Close { .. } | Link::Closing { .. }) {
            return;
        }
        self.lose_link(reason);
        self.link = Link::Close { reconnect: true };
    }

    /// Everything tied to the transport is gone. Emits stay queued (to be
    /// sent after the reconnection); acks to the server and volatile emits
    /// are dropped; pending acks of emits already sent are cancelled
    /// (the reference `_clearAcks`); connected namespaces are reported and
    /// will be joined again.
    fn lose_link(&mut self, reason: DisconnectReason) {
        self.rx.reset();
        self.outbox.reset_sending();
        self.engine_sid.clear();
        let acks = &mut self.acks;
        self.outbox.purge(
            |e| e.kind == Kind::Ack || (e.kind == Kind::Event && e.volatile),
            |e| cancel_ack(acks, e.slot, e.ack_id, CancelReason::Disconnected),
        );
        for ack in self.acks.iter_mut().flatten() {
            let buffered = self
                .outbox
                .entries()
                .any(|e| e.kind == Kind::Event && e.ack_id.is_some_and(|id| ack.is(e.slot, id)));
            if !buffered {
                ack.cancel(CancelReason::Disconnected);
            }
        }
        for i in 0..self.slots.len().min(usize::from(u8::MAX)) {
            let Some(slot) = self.slots.get_mut(i) else {
                break;
            };
            let index = u8::try_from(i).unwrap_or(u8::MAX);
            match slot.state {
                State::Connected => {
                    slot.state = State::Connecting { sent: false };
                    self.record(Record::Disconnected(index, reason));
                }
                State::Connecting { .. } => slot.state = State::Connecting { sent: false },
                State::Disconnecting => self.release(index, CancelReason::Disconnected),
                State::Free => {}
            }
        }
    }

    /// Abandons slot `i`: its queued packets (CONNECT included) are
    /// dropped, their acks cancelled as [`CancelReason::Dropped`], every
    /// other pending ack of it cancelled with `reason`, and the slot freed
    /// (its name and info stay for the events that name it).
    fn release(&mut self, i: u8, reason: CancelReason) {
        let acks = &mut self.acks;
        self.outbox.purge(
            |e| e.slot == i,
            |e| cancel_ack(acks, e.slot, e.ack_id, CancelReason::Dropped),
        );
        for ack in self.acks.iter_mut().flatten() {
            if ack.slot == i {
                ack.cancel(reason);
            }
        }
        if let Some(slot) = self.slots.get_mut(usize::from(i)) {
            slot.state = State::Free;
        }
    }

    /// Schedules the next reconnection attempt, or gives up.
    fn schedule_reconnect(&mut self, now: Instant) {
        let exhausted = self
            .config
            .reconnection_attempts
            .is_some_and(|max| self.attempts >= max);
        if exhausted {
            self.attempts = 0;
            self.link = Link::Idle;
            self.record(Record::ReconnectFailed);
            for i in 0..self.slots.len().min(usize::from(u8::MAX)) {
                let active = self.slots.get(i).is_some_and(Slot::is_active);
                if active {
                    self.release(u8::try_from(i).unwrap_or(u8::MAX), CancelReason::Dropped);
                }
            }
            return;
        }
        let delay_ms = self
            .config
            .reconnect_delay(self.attempts, self.random.next_u32());
        self.attempts = self.attempts.saturating_add(1);
        self.record(Record::Reconnecting {
            attempt: self.attempts,
            delay_ms,
        });
        self.link = Link::Backoff {
            until: now + u64::from(delay_ms),
        };
    }

    /// Whether slot `i` may be given to another namespace: free, and no
    /// event, ack or queued packet names it.
    fn is_reusable(&self, i: usize) -> bool {
        let Ok(index) = u8::try_from(i) else {
            return false;
        };
        let free = self.slots.get(i).is_some_and(|s| s.state == State::Free);
        let named = self.records.iter().any(|r| match r {
            Record::Connected(s, _) | Record::ConnectError(s) | Record::Disconnected(s, _) => {
                *s == index
            }
            _ => false,
        });
        let acked = self.acks.iter().flatten().any(|a| a.slot == index);
        let queued = self.outbox.entries().any(|e| e.slot == index);
        free && !named && !acked && !queued
    }
}

/// Cancels the pending ack of a dropped entry, if it had one.
fn cancel_ack(acks: &mut [Option<PendingAck>], slot: u8, id: Option<u64>, reason: CancelReason) {
    let Some(id) = id else {
        return;
    };
    for ack in acks.iter_mut().flatten() {
        if ack.is(slot, id) {
            ack.cancel(reason);
        }
    }
}
