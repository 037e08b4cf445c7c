//! The application's calls (join, leave, emit, answer) and the frames they
//! become, in the order [`Session::poll_transmit`] hands them out.

use super::{Link, Record, Session};
use crate::client::acks::{AckState, PendingAck};
use crate::client::config::{OfflinePolicy, Random};
use crate::client::driver::{FrameKind, Transmit};
use crate::client::error::Error;
use crate::client::event::{AckId, AckRequest, CancelReason, DisconnectReason};
use crate::client::namespace::State;
use crate::client::outbox::{Head, Kind, PushError};
use crate::client::query::{write_query, QueryError};
use crate::client::{MAX_ATTACHMENTS, NAMESPACE_CAPACITY};
use crate::engineio::Version;
use crate::json::scan::ObjectIter;
use crate::json::ser::{self, write_str, LenCounter, SliceWriter, Write as _};
use crate::socketio::encode::for_each_attachment;
use crate::socketio::{self, Encoder};
use crate::Instant;
use serde::Serialize;

/// `None` auth for [`Session::connect`], with a type to infer.
pub const NO_AUTH: Option<&()> = None;

/// How an emit is sent.
///
/// ```
/// use oxio_codec::client::EmitOptions;
///
/// assert_eq!(EmitOptions::default(), EmitOptions { volatile: false, ack: None });
/// assert_eq!(EmitOptions::with_ack(5000).ack, Some(5000));
/// assert!(EmitOptions::VOLATILE.volatile);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EmitOptions {
    /// Discard the emit instead of buffering it when its namespace is not
    /// connected (the reference `socket.volatile.emit`); also dropped, not
    /// resent, if the connection is lost before it goes out.
    pub volatile: bool,
    /// Ask the server for an ack, giving up after this many ms (the
    /// reference `socket.timeout(ms).emit(.., callback)`); `u64::MAX`
    /// waits until the connection is lost.
    pub ack: Option<u64>,
}

impl EmitOptions {
    /// A volatile emit without ack.
    pub const VOLATILE: EmitOptions = EmitOptions {
        volatile: true,
        ack: None,
    };

    /// An emit waiting for an ack for at most `timeout_ms`.
    pub const fn with_ack(timeout_ms: u64) -> Self {
        EmitOptions {
            volatile: false,
            ack: Some(timeout_ms),
        }
    }
}

/// What a writer into the queue may fail with: room, or a real error.
fn room(e: PushError<Error>) -> Error {
    match e {
        PushError::Full => Error::QueueFull,
        PushError::Write(e) => e,
    }
}

fn encode_error(e: socketio::Error) -> Error {
    match e {
        socketio::Error::BufferFull => Error::QueueFull,
        e => Error::Encode(e),
    }
}

/// Writes `bytes` at the front of `buf`; `None` if it does not fit.
fn put(buf: &mut [u8], bytes: &[u8]) -> Option<usize> {
    buf.get_mut(..bytes.len())?.copy_from_slice(bytes);
    Some(bytes.len())
}

impl<
        R: Random,
        const NAMESPACES: usize,
        const ACKS: usize,
        const QUEUE: usize,
        const RX: usize,
    > Session<R, NAMESPACES, ACKS, QUEUE, RX>
{
    /// Joins `namespace`, with `auth` (any `Serialize` that is a JSON
    /// object; [`NO_AUTH`] for none). Several namespaces may be joined at
    /// once; each is sent as soon as the Engine.IO session is open (the
    /// call itself asks for a connection when there is none).
    ///
    /// The CONNECT packet, auth included, is kept in the queue and sent
    /// again after every reconnection. In v3 mode `/` is joined implicitly
    /// by the server and the auth of other namespaces becomes their query
    /// string (`40/admin?token=abc,`).
    ///
    /// ```
    /// use oxio_codec::client::{Action, Config, Session};
    /// use oxio_codec::Instant;
    ///
    /// #[derive(serde::Serialize)]
    /// struct Auth<'a> { token: &'a str }
    ///
    /// let mut s: Session<_> = Session::new(Config::default(), || 0);
    /// s.connect("/admin", Some(&Auth { token: "123" })).unwrap();
    /// let t = Instant::from_millis(0);
    /// assert!(matches!(s.poll_action(t), Some(Action::Connect(_))));
    /// s.transport_opened(t);
    /// s.handle_frame(oxio_codec::client::Frame::Text(r#"0{"sid":"e","upgrades":[],"pingInterval":1,"pingTimeout":1}"#), t).unwrap();
    /// let mut buf = [0u8; 64];
    /// let n = s.poll_transmit(&mut buf, t).unwrap().len;
    /// assert_eq!(&buf[..n], br#"40/admin,{"token":"123"}"#);
    /// ```
    pub fn connect<A: Serialize + ?Sized>(
        &mut self,
        namespace: &str,
        auth: Option<&A>,
    ) -> Result<(), Error> {
        if !namespace.starts_with('/')
            || namespace.len() > NAMESPACE_CAPACITY
            || namespace.contains([',', '?'])
        {
            return Err(Error::InvalidNamespace);
        }
        if self.slot_by_name(namespace).is_some() {
            return Err(Error::AlreadyConnected);
        }
        let legacy = self.config.version == Version::V3;
        if legacy && namespace == "/" && auth.is_some() {
            return Err(Error::AuthUnsupported);
        }
        let slot = self
            .slots
            .iter()
            .take(usize::from(u8::MAX))
            .position(|s| s.state == State::Free && s.name.as_str() == namespace)
            .or_else(|| (0..NAMESPACES).find(|&i| self.is_reusable(i)))
            .ok_or(Error::TooManyNamespaces)?;
        let index = u8::try_from(slot).map_err(|_| Error::TooManyNamespaces)?;
        // Anything left under this slot belongs to its previous namespace.
        self.outbox.purge(|e| e.slot == index, |_| {});

        if !(legacy && namespace == "/") {
            let head = Head {
                kind: Kind::Connect,
                slot: index,
                volatile: false,
                ack_id: None,
            };
            let max = self.config.max_frame_len;
            let encoder = Encoder::new(self.config.socketio_version());
            let mp = self.config.uses_msgpack();
            self.outbox
                .push(head, &[], |text, _| {
                    let len = if mp {
                        msgpack_connect(text, namespace, auth)?
                    } else if legacy {
                        legacy_connect(text, namespace, auth)?
                    } else {
                        modern_connect(text, encoder, namespace, auth)?
                    };
                    if len > max {
                        return Err(Error::TooLarge);
                    }
                    Ok(len)
                })
                .map_err(room)?;
        }

        let Some(s) = self.slots.get_mut(slot) else {
            return Err(Error::TooManyNamespaces);
        };
        if s.name.as_str() != namespace {
            // Another socket: the recovery state was the old namespace's.
            s.pid.clear();
            s.offset = None;
        }
        s.name.clear();
        let _ = s.name.push_str(namespace);
        s.info.clear();
        s.state = State::Connecting { sent: false };
        if matches!(self.link, Link::Idle) {
            self.attempts = 0;
            self.link = Link::Connect;
        }
        Ok(())
    }

    /// Leaves `namespace`. If it is connected, packets queued for it go out
    /// first, then DISCONNECT, and [`Event::Disconnected`](crate::client::Event::Disconnected)
    /// with [`DisconnectReason::ClientDisconnect`] is reported now; its
    /// pending acks are cancelled and its buffered emits dropped. It is not
    /// joined again on reconnection. Leaving the last namespace closes the
    /// transport (after the DISCONNECT).
    ///
    /// ```
    /// use oxio_codec::client::{Config, Error, Session, NO_AUTH};
    ///
    /// let mut s: Session<_> = Session::new(Config::default(), || 0);
    /// s.connect("/", NO_AUTH).unwrap();
    /// s.disconnect("/").unwrap();
    /// assert_eq!(s.disconnect("/"), Err(Error::UnknownNamespace));
    /// ```
    pub fn disconnect(&mut self, namespace: &str) -> Result<(), Error> {
        let i = self
            .slot_by_name(namespace)
            .ok_or(Error::UnknownNamespace)?;
        let index = u8::try_from(i).map_err(|_| Error::UnknownNamespace)?;
        let state = self.slots.get(i).map(|s| s.state);
        match state {
            Some(State::Connected) => {
                self.record(Record::Disconnected(
                    index,
                    DisconnectReason::ClientDisconnect,
                ));
                for ack in self.acks.iter_mut().flatten() {
                    if ack.slot == index {
                        ack.cancel(CancelReason::Disconnected);
                    }
                }
                if let Some(s) = self.slots.get_mut(i) {
                    s.state = State::Disconnecting;
                }
                Ok(())
            }
            Some(State::Connecting { .. }) => {
                self.release(index, CancelReason::Dropped);
                Ok(())
            }
            _ => Err(Error::UnknownNamespace),
        }
    }

    /// Emits `event` on `namespace` with `args` (a tuple is the argument
    /// list, `()` none, anything else one argument; byte fields wrapped in
    /// [`Binary`](crate::socketio::Binary) become attachments).
    ///
    /// The packet is encoded into the queue at once, so `args` need not
    /// outlive the call. While the namespace is connected it goes out with
    /// the next [`Session::poll_transmit`] calls; otherwise it is buffered
    /// and sent, in order, right after the namespace is (re)joined, unless
    /// it is volatile ([`Error::VolatileDropped`]) or the queue is full
    /// ([`OfflinePolicy`]). With [`EmitOptions::ack`], the returned id comes
    /// back in [`Incoming::Ack`](crate::client::Incoming::Ack), or in an
    /// [`Event::AckTimeout`](crate::client::Event::AckTimeout) /
    /// [`Event::AckCancelled`](crate::client::Event::AckCancelled); the
    /// timeout runs from `now`, buffered or not, as in the reference.
    ///
    /// `Ok(None)`: no ack was asked for, or the emit was discarded under
    /// [`OfflinePolicy::DropNewest`].
    ///
    /// ```
    /// use oxio_codec::client::{AckId, Config, EmitOptions, Session, NO_AUTH};
    /// use oxio_codec::socketio::Binary;
    /// use oxio_codec::Instant;
    ///
    /// let mut s: Session<_> = Session::new(Config::default(), || 0);
    /// let t = Instant::from_millis(0);
    /// s.connect("/", NO_AUTH).unwrap();
    /// // Buffered until "/" is connected.
    /// let id = s.emit("/", "photo", &("me.jpg", Binary(&[0xff, 0xd8])), EmitOptions::with_ack(5000), t);
    /// assert_eq!(id, Ok(Some(AckId(0))));
    /// assert_eq!(s.emit("/", "x", &(), EmitOptions::default(), t), Ok(None));
    /// ```
    pub fn emit<T: Serialize + ?Sized>(
        &mut self,
        namespace: &str,
        event: &str,
        args: &T,
        options: EmitOptions,
        now: Instant,
    ) -> Result<Option<AckId>, Error> {
        let i = self
            .slot_by_name(namespace)
            .ok_or(Error::UnknownNamespace)?;
        let index = u8::try_from(i).map_err(|_| Error::UnknownNamespace)?;
        let state = self.slots.get(i).map(|s| s.state);
        let online = match state {
            Some(State::Connected) => self.is_open(),
            Some(State::Connecting { .. }) => false,
            _ => return Err(Error::UnknownNamespace),
        };
        if options.volatile && !online {
            return Err(Error::VolatileDropped);
        }
        let ack_id = match options.ack {
            Some(_) if self.acks.iter().all(Option::is_some) => {
                return Err(Error::TooManyPendingAcks)
            }
            Some(_) => Some(self.free_ack_id()),
            None => None,
        };
        let mp = self.config.uses_msgpack();
        let lens = if mp {
            heapless::Vec::new()
        } else {
            self.attachment_lengths(args)?
        };
        let wire_id = ack_id.map(u64::from);
        let head = Head {
            kind: Kind::Event,
            slot: index,
            volatile: options.volatile,
            ack_id: wire_id,
        };
        loop {
            let encoder = Encoder::new(self.config.socketio_version());
            let max = self.config.max_frame_len;
            let pushed = self.outbox.push(head, &lens, |text, atts| {
                if mp {
                    return msgpack_into(text, max, |buf| {
                        crate::msgpack::Encoder::default()
                            .event(buf, namespace, wire_id, event, args)
                    });
                }
                encode_into(text, atts, lens.len(), max, |buf, sink| {
                    encoder.event_with_attachments(buf, namespace, wire_id, event, args, sink)
                })
            });
            match pushed.map_err(room) {
                Ok(_) => break,
                Err(Error::QueueFull) if self.outbox.len() == 0 => return Err(Error::TooLarge),
                Err(Error::QueueFull) if !online && !options.volatile => {
                    match self.config.offline_policy {
                        OfflinePolicy::Error => return Err(Error::QueueFull),
                        OfflinePolicy::DropNewest => return Ok(None),
                        OfflinePolicy::DropOldest => {
                            if !self.evict_oldest_buffered() {
                                return Err(Error::QueueFull);
                            }
                        }
                    }
                }
                Err(e) => return Err(e),
            }
        }
        let (Some(id), Some(timeout)) = (ack_id, options.ack) else {
            return Ok(None);
        };
        if let Some(free) = self.acks.iter_mut().find(|a| a.is_none()) {
            *free = Some(PendingAck {
                deadline: now + timeout,
                id,
                slot: index,
                state: AckState::Waiting,
            });
        }
        self.next_ack_id = id.wrapping_add(1);
        Ok(Some(AckId(u64::from(id))))
    }

    /// Answers a server event's ack request with `args` (same argument
    /// rules as [`Session::emit`]). Acks are never buffered: the server's id
    /// dies with the connection, so answering after a disconnection is
    /// [`Error::NotConnected`] or [`Error::StaleAck`].
    ///
    /// ```
    /// use oxio_codec::client::{Config, Frame, Incoming, Session, NO_AUTH};
    /// use oxio_codec::Instant;
    ///
    /// let mut s: Session<_> = Session::new(Config::default(), || 0);
    /// let t = Instant::from_millis(0);
    /// s.connect("/", NO_AUTH).unwrap();
    /// s.poll_action(t);
    /// s.transport_opened(t);
    /// s.handle_frame(Frame::Text(r#"0{"sid":"e","upgrades":[],"pingInterval":25000,"pingTimeout":20000}"#), t).unwrap();
    /// s.handle_frame(Frame::Text(r#"40{"sid":"a"}"#), t).unwrap();
    /// let mut buf = [0u8; 64];
    /// s.poll_transmit(&mut buf, t); // 40
    /// let request = match s.handle_frame(Frame::Text(r#"421["add",1,2]"#), t).unwrap() {
    ///     Some(Incoming::Event { ack: Some(request), .. }) => request,
    ///     other => panic!("{other:?}"),
    /// };
    /// s.ack(request, &(3,)).unwrap();
    /// let n = s.poll_transmit(&mut buf, t).unwrap().len;
    /// assert_eq!(&buf[..n], b"431[3]");
    /// ```
    pub fn ack<T: Serialize + ?Sized>(
        &mut self,
        request: AckRequest,
        args: &T,
    ) -> Result<(), Error> {
        let i = usize::from(request.slot);
        let slot = self.slots.get(i).ok_or(Error::NotConnected)?;
        if slot.state != State::Connected || !self.is_open() {
            return Err(Error::NotConnected);
        }
        if slot.generation != request.generation {
            return Err(Error::StaleAck);
        }
        let mp = self.config.uses_msgpack();
        let lens = if mp {
            heapless::Vec::new()
        } else {
            self.attachment_lengths(args)?
        };
        let head = Head {
            kind: Kind::Ack,
            slot: request.slot,
            volatile: false,
            ack_id: None,
        };
        let encoder = Encoder::new(self.config.socketio_version());
        let max = self.config.max_frame_len;
        let name = self.slots.get(i).map(|s| s.name.as_str()).unwrap_or("/");
        let pushed = self.outbox.push(head, &lens, |text, atts| {
            if mp {
                return msgpack_into(text, max, |buf| {
                    crate::msgpack::Encoder::default().ack(buf, name, request.id, args)
                });
            }
            encode_into(text, atts, lens.len(), max, |buf, sink| {
                encoder.ack_with_attachments(buf, name, request.id, args, sink)
            })
        });
        match pushed.map_err(room) {
            Ok(_) => Ok(()),
            Err(Error::QueueFull) if self.outbox.len() == 0 => Err(Error::TooLarge),
            Err(e) => Err(e),
        }
    }

    /// Writes the next frame to send into the front of `buf` and says what
    /// it is; `None` when there is nothing to send (or no open transport).
    /// Call it until it returns `None` after every other call.
    ///
    /// Order: the heartbeat answer; then the rest of a binary packet whose
    /// text already went out (its attachments are never separated by other
    /// Socket.IO frames); then namespace CONNECT / DISCONNECT packets; then
    /// queued emits and acks, oldest first, for connected namespaces.
    ///
    /// `buf` must hold [`Config::max_frame_len`](crate::client::Config::max_frame_len)
    /// bytes; with a shorter one a frame that does not fit stays queued and
    /// `None` is returned.
    ///
    /// ```
    /// use oxio_codec::client::{Config, EmitOptions, Frame, FrameKind, Session, NO_AUTH};
    /// use oxio_codec::socketio::Binary;
    /// use oxio_codec::Instant;
    ///
    /// let mut s: Session<_> = Session::new(Config::default(), || 0);
    /// let t = Instant::from_millis(0);
    /// s.connect("/", NO_AUTH).unwrap();
    /// s.poll_action(t);
    /// s.transport_opened(t);
    /// s.handle_frame(Frame::Text(r#"0{"sid":"e","upgrades":[],"pingInterval":25000,"pingTimeout":20000}"#), t).unwrap();
    /// let mut buf = [0u8; 128];
    /// s.poll_transmit(&mut buf, t).unwrap(); // 40
    /// s.handle_frame(Frame::Text(r#"40{"sid":"a"}"#), t).unwrap();
    /// s.emit("/", "up", &(Binary(&[1, 2]),), EmitOptions::default(), t).unwrap();
    /// s.handle_frame(Frame::Text("2"), t).unwrap();
    ///
    /// let mut frames = Vec::new();
    /// while let Some(out) = s.poll_transmit(&mut buf, t) {
    ///     frames.push((out.kind, buf[..out.len].to_vec()));
    /// }
    /// assert_eq!(frames, [
    ///     (FrameKind::Text, b"3".to_vec()),
    ///     (FrameKind::Text, br#"451-["up",{"_placeholder":true,"num":0}]"#.to_vec()),
    ///     (FrameKind::Binary, vec![1, 2]),
    /// ]);
    /// ```
    pub fn poll_transmit(&mut self, buf: &mut [u8], _now: Instant) -> Option<Transmit> {
        let Link::Open(hb) = &mut self.link else {
            return None;
        };
        if hb.is_due() {
            let frame = hb.take_frame()?;
            return match put(buf, frame) {
                Some(len) => Some(Transmit {
                    kind: FrameKind::Text,
                    len,
                }),
                None => {
                    // Keep it due (the v3 ping as well as the v4 pong).
                    if let Link::Open(hb) = &mut self.link {
                        hb.restore_frame();
                    }
                    None
                }
            };
        }
        if let Some(t) = self.continue_binary(buf) {
            return t;
        }
        if let Some(t) = self.namespace_control(buf) {
            return t;
        }
        self.next_queued(buf)
    }

    /// The next attachment of the packet being sent, if one is.
    fn continue_binary(&mut self, buf: &mut [u8]) -> Option<Option<Transmit>> {
        let (entry, done) = self.outbox.sending()?;
        let index = done.checked_sub(1)?;
        let bytes = self.outbox.attachment(&entry, index)?;
        let len = match self.config.version {
            Version::V4 => put(buf, bytes),
            Version::V3 => {
                let (first, rest) = buf.split_first_mut()?;
                *first = 4;
                put(rest, bytes).map(|n| n + 1)
            }
        };
        let Some(len) = len else {
            return Some(None);
        };
        if done >= entry.attachments {
            self.outbox.remove(entry.offset);
        } else {
            self.outbox.set_sending(entry.offset, done + 1);
        }
        Some(Some(Transmit {
            kind: FrameKind::Binary,
            len,
        }))
    }

    /// A CONNECT for a namespace waiting to join, or the DISCONNECT of one
    /// being left once its queued packets are out.
    fn namespace_control(&mut self, buf: &mut [u8]) -> Option<Option<Transmit>> {
        for i in 0..NAMESPACES.min(usize::from(u8::MAX)) {
            let index = u8::try_from(i).ok()?;
            let state = self.slots.get(i)?.state;
            match state {
                State::Connecting { sent: false } => {
                    let connect = self
                        .outbox
                        .entries()
                        .find(|e| e.kind == Kind::Connect && e.slot == index);
                    let written = match connect {
                        Some(e) => match self.write_connect(i, self.outbox.text(&e), buf) {
                            Some(n) => Some(n),
                            None => return Some(None),
                        },
                        // v3 `/`: joined implicitly, nothing to send.
                        None => None,
                    };
                    if let Some(s) = self.slots.get_mut(i) {
                        s.state = State::Connecting { sent: true };
                    }
                    if let Some(len) = written {
                        return Some(Some(Transmit {
                            kind: self.packet_kind(),
                            len,
                        }));
                    }
                }
                State::Disconnecting => {
                    let pending = self
                        .outbox
                        .entries()
                        .any(|e| e.slot == index && e.kind != Kind::Connect);
                    if pending {
                        continue;
                    }
                    let name = self.slots.get(i).map(|s| s.name.as_str()).unwrap_or("/");
                    if self.config.uses_msgpack() {
                        let Ok(n) = crate::msgpack::Encoder::default().disconnect(buf, name) else {
                            return Some(None);
                        };
                        self.release(index, CancelReason::Disconnected);
                        return Some(Some(Transmit {
                            kind: FrameKind::Binary,
                            len: n,
                        }));
                    }
                    let (first, rest) = buf.split_first_mut()?;
                    *first = b'4';
                    let encoder = Encoder::new(self.config.socketio_version());
                    let Ok(n) = encoder.disconnect(rest, name) else {
                        return Some(None);
                    };
                    self.release(index, CancelReason::Disconnected);
                    return Some(Some(Transmit {
                        kind: FrameKind::Text,
                        len: n + 1,
                    }));
                }
                _ => {}
            }
        }
        None
    }

    /// Writes the CONNECT of slot `i` (`text`, as queued) into `buf`. With
    /// a pid from the previous connection, its auth becomes the reference's
    /// `Object.assign({pid, offset}, auth)`: `pid` first, then `offset`
    /// (left out while none was received), each taking the user's value
    /// when the auth has that key, then the user's other members in order.
    /// If that does not fit `buf` or the frame limit, the plain CONNECT
    /// goes out (no recovery, a new session).
    fn write_connect(&self, i: usize, text: &[u8], buf: &mut [u8]) -> Option<usize> {
        let slot = self.slots.get(i)?;
        if slot.has_pid() && self.config.uses_msgpack() {
            let offset = slot.offset.as_ref().map(|o| o.as_str());
            if let Some(n) = crate::msgpack::recovery_connect(text, &slot.pid, offset, buf)
                .filter(|&n| n <= self.config.max_frame_len)
            {
                return Some(n);
            }
        } else if slot.has_pid() && self.config.version == Version::V4 {
            let header = if slot.name.as_str() == "/" {
                2
            } else {
                slot.name.len() + 3
            };
            let offset = slot.offset.as_ref().map(|o| o.as_str());
            if let Some(n) = recovery_connect(text, header, &slot.pid, offset, buf)
                .filter(|&n| n <= self.config.max_frame_len)
            {
                return Some(n);
            }
        }
        put(buf, text)
    }

    /// The oldest queued emit or ack of a namespace that may send.
    fn next_queued(&mut self, buf: &mut [u8]) -> Option<Transmit> {
        let entry = self.outbox.entries().find(|e| {
            e.kind != Kind::Connect
                && self
                    .slots
                    .get(usize::from(e.slot))
                    .is_some_and(|s| s.may_send())
        })?;
        let len = put(buf, self.outbox.text(&entry))?;
        if entry.attachments > 0 {
            self.outbox.set_sending(entry.offset, 1);
        } else {
            self.outbox.remove(entry.offset);
        }
        Some(Transmit {
            kind: self.packet_kind(),
            len,
        })
    }

    /// The WebSocket frame type of a Socket.IO packet: binary for msgpack.
    fn packet_kind(&self) -> FrameKind {
        if self.config.uses_msgpack() {
            FrameKind::Binary
        } else {
            FrameKind::Text
        }
    }

    /// An ack id not in use, from the session's counter.
    fn free_ack_id(&self) -> u32 {
        let mut id = self.next_ack_id;
        for _ in 0..=ACKS {
            if !self.acks.iter().flatten().any(|a| a.id == id) {
                break;
            }
            id = id.wrapping_add(1);
        }
        id
    }

    /// Evicts the oldest emit that is buffered (its namespace cannot send
    /// now), cancelling its ack; false when there is none.
    fn evict_oldest_buffered(&mut self) -> bool {
        let open = self.is_open();
        let victim = self.outbox.entries().find(|e| {
            e.kind == Kind::Event
                && !(open
                    && self
                        .slots
                        .get(usize::from(e.slot))
                        .is_some_and(|s| s.may_send()))
                && self
                    .outbox
                    .sending()
                    .is_none_or(|(s, _)| s.offset != e.offset)
        });
        let Some(victim) = victim else {
            return false;
        };
        self.outbox.remove(victim.offset);
        if let Some(id) = victim.ack_id {
            for ack in self.acks.iter_mut().flatten() {
                if ack.is(victim.slot, id) {
                    ack.cancel(CancelReason::Dropped);
                }
            }
        }
        true
    }

    /// The lengths of the attachments in `args`, checked against the
    /// attachment and frame limits.
    fn attachment_lengths<T: Serialize + ?Sized>(
        &self,
        args: &T,
    ) -> Result<heapless::Vec<usize, MAX_ATTACHMENTS>, Error> {
        let mut lens = heapless::Vec::<usize, MAX_ATTACHMENTS>::new();
        let mut overflow = false;
        for_each_attachment(args, |_, bytes| {
            overflow |= lens.push(bytes.len()).is_err();
        })
        .map_err(Error::Encode)?;
        let type_byte = usize::from(self.config.version == Version::V3);
        let too_big = lens
            .iter()
            .any(|l| l.saturating_add(type_byte) > self.config.max_frame_len);
        if overflow || too_big {
            return Err(Error::TooLarge);
        }
        Ok(lens)
    }
}

/// Writes `4` + the packet `encode` produces into `text`, and its
/// attachments into `atts` (exactly their announced total), checking that
/// the second serialization matched the first.
fn encode_into(
    text: &mut [u8],
    atts: &mut [u8],
    expected: usize,
    max: usize,
    encode: impl FnOnce(
        &mut [u8],
        &mut dyn FnMut(usize, &[u8]),
    ) -> Result<socketio::Encoded, socketio::Error>,
) -> Result<usize, Error> {
    let (first, rest) = text.split_first_mut().ok_or(Error::QueueFull)?;
    *first = b'4';
    let mut pos = 0usize;
    let mut consistent = true;
    let mut sink = |_: usize, bytes: &[u8]| {
        let end = pos.saturating_add(bytes.len());
        match atts.get_mut(pos..end) {
            Some(dst) => dst.copy_from_slice(bytes),
            None => consistent = false,
        }
        pos = end;
    };
    let out = encode(rest, &mut sink).map_err(encode_error)?;
    if !consistent || pos != atts.len() || out.attachments != expected {
        return Err(Error::NondeterministicArgs);
    }
    let len = out.len.saturating_add(1);
    if len > max {
        return Err(Error::TooLarge);
    }
    Ok(len)
}

/// A msgpack packet `encode` writes into `text` (no Engine.IO type byte:
/// a binary WebSocket frame is an Engine.IO v4 message as it is).
fn msgpack_into(
    text: &mut [u8],
    max: usize,
    encode: impl FnOnce(&mut [u8]) -> Result<socketio::Encoded, socketio::Error>,
) -> Result<usize, Error> {
    let out = encode(text).map_err(encode_error)?;
    if out.len > max {
        return Err(Error::TooLarge);
    }
    Ok(out.len)
}

/// A msgpack CONNECT: `{type:0[, data:{auth}], nsp}`; the auth must be a map.
fn msgpack_connect<A: Serialize + ?Sized>(
    text: &mut [u8],
    namespace: &str,
    auth: Option<&A>,
) -> Result<usize, Error> {
    let encoder = crate::msgpack::Encoder::default();
    let n = match auth {
        None => encoder.connect(text, namespace),
        Some(auth) => encoder.connect_with(text, namespace, auth),
    }
    .map_err(encode_error)?;
    let frame = text.get(..n).unwrap_or_default();
    if crate::msgpack::Decoder::default().decode(frame).is_err() {
        return Err(Error::InvalidAuth);
    }
    Ok(n)
}

/// `4` + a v5 CONNECT: `0[/nsp,][{auth}]`.
fn modern_connect<A: Serialize + ?Sized>(
    text: &mut [u8],
    encoder: Encoder,
    namespace: &str,
    auth: Option<&A>,
) -> Result<usize, Error> {
    let (first, rest) = text.split_first_mut().ok_or(Error::QueueFull)?;
    *first = b'4';
    let n = match auth {
        None => encoder.connect(rest, namespace),
        Some(auth) => encoder.connect_with(rest, namespace, auth),
    }
    .map_err(encode_error)?;
    if auth.is_some() {
        let header = if namespace == "/" {
            1
        } else {
            namespace.len() + 2
        };
        if rest.get(header) != Some(&b'{') {
            return Err(Error::InvalidAuth);
        }
    }
    Ok(n + 1)
}

/// `text` (`40[/nsp,][{auth}]`, `header` bytes before the auth) with
/// `pid` and `offset` merged into its auth, written into `buf`; `None` if
/// it does not fit.
fn recovery_connect(
    text: &[u8],
    header: usize,
    pid: &str,
    offset: Option<&str>,
    buf: &mut [u8],
) -> Option<usize> {
    let (prefix, auth) = (text.get(..header)?, text.get(header..)?);
    let auth = core::str::from_utf8(auth).ok()?;
    // The user's members (none without auth), and its own pid / offset.
    let members = || ObjectIter::new(auth).into_iter().flatten();
    let user = |key: &str| members().filter(|(k, _)| k.eq_str(key)).last();
    let mut w = SliceWriter::new(buf);
    w.write_all(prefix).ok()?;
    w.write_all(br#"{"pid":"#).ok()?;
    match user("pid") {
        Some((_, value)) => w.write_all(value.as_bytes()).ok()?,
        None => write_str(&mut w, pid).ok()?,
    }
    match (user("offset"), offset) {
        (Some((_, value)), _) => {
            w.write_all(br#","offset":"#).ok()?;
            w.write_all(value.as_bytes()).ok()?;
        }
        (None, Some(offset)) => {
            w.write_all(br#","offset":"#).ok()?;
            write_str(&mut w, offset).ok()?;
        }
        (None, None) => {}
    }
    for (key, value) in members().filter(|(k, _)| !k.eq_str("pid") && !k.eq_str("offset")) {
        w.write_all(b",\"").ok()?;
        w.write_all(key.raw().as_bytes()).ok()?;
        w.write_all(b"\":").ok()?;
        w.write_all(value.as_bytes()).ok()?;
    }
    w.write_all(b"}").ok()?;
    Some(w.len())
}

/// `4` + a v4 CONNECT: `0/nsp[?query],` (socket.io 2.x reads auth from
/// the query string). The auth JSON is staged at the end of `text` while
/// the query is written at its front.
fn legacy_connect<A: Serialize + ?Sized>(
    text: &mut [u8],
    namespace: &str,
    auth: Option<&A>,
) -> Result<usize, Error> {
    let json_len = match auth {
        Some(auth) => {
            let mut counter = LenCounter::new();
            ser::to_writer(&mut counter, auth, None)
                .map_err(|e| Error::Encode(socketio::Error::Serialize(e)))?;
            counter.len()
        }
        None => 0,
    };
    let split = text.len().checked_sub(json_len).ok_or(Error::QueueFull)?;
    let (head, tail) = text.split_at_mut(split);
    let prefix = b"40";
    let mut len = put(head, prefix).ok_or(Error::QueueFull)?;
    len += put(
        head.get_mut(len..).unwrap_or_default(),
        namespace.as_bytes(),
    )
    .ok_or(Error::QueueFull)?;
    if let Some(auth) = auth {
        let mut w = SliceWriter::new(tail);
        ser::to_writer(&mut w, auth, None).map_err(|_| Error::NondeterministicArgs)?;
        let json = core::str::from_utf8(w.written()).map_err(|_| Error::InvalidAuth)?;
        let after_mark = len + 1;
        let query = head.get_mut(after_mark..).unwrap_or_default();
        let q = write_query(json, query).map_err(|e| match e {
            QueryError::Invalid => Error::InvalidAuth,
            QueryError::Full => Error::QueueFull,
        })?;
        if q > 0 {
            if let Some(mark) = head.get_mut(len) {
                *mark = b'?';
            }
            len = after_mark + q;
        }
    }
    len += put(head.get_mut(len..).unwrap_or_default(), b",").ok_or(Error::QueueFull)?;
    Ok(len)
}
