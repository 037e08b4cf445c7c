//! Frames from the server: the handshake, heartbeat and close packets, and
//! Socket.IO packets (namespace answers, events, acks, binary attachments).

use super::{Link, Record, Session};
use crate::client::config::Random;
use crate::client::driver::Frame;
use crate::client::error::FrameError;
use crate::client::event::{AckId, AckRequest, CancelReason, DisconnectReason, Incoming};
use crate::client::heartbeat::Heartbeat;
use crate::client::namespace::State;
use crate::client::reassembly::{Progress, Refused};
use crate::client::{INFO_CAPACITY, PID_CAPACITY};
use crate::engineio::{self, Data, Handshake, PacketType as EioType};
use crate::json::scan::{ObjectIter, RawStr};
use crate::socketio::{self, Packet, PacketType};
use crate::Instant;

/// What a frame led to.
enum Step<'f> {
    /// Nothing for the application.
    Nothing,
    /// A packet borrowed from the frame.
    Deliver(Incoming<'f>),
    /// A binary packet completed in the reassembly buffer.
    Reassembled(Completed),
}

/// What to hand out for a completed binary packet.
#[derive(Clone, Copy)]
enum Completed {
    Event(Option<AckRequest>),
    Ack(AckId),
}

/// `{"sid":"..."}`, the v5 CONNECT answer (other members ignored).
#[derive(serde::Deserialize)]
struct ConnectAnswer<'a> {
    #[serde(borrow)]
    sid: &'a str,
}

/// The `pid` member of a CONNECT answer, when it is a non-empty string of
/// at most [`PID_CAPACITY`] bytes (anything else: no recovery).
fn answer_pid(payload: &str) -> Option<heapless::String<PID_CAPACITY, u8>> {
    let (_, value) = ObjectIter::new(payload)?
        .filter(|(key, _)| key.eq_str("pid"))
        .last()?;
    let mut pid = heapless::String::new();
    for c in RawStr::from_literal(value)?.chars() {
        pid.push(c).ok()?;
    }
    Some(pid)
}

/// The msgpack CONNECT answer, `{sid, pid}` (`pid` may be `undefined`).
#[derive(serde::Deserialize)]
struct MsgpackAnswer<'a> {
    #[serde(borrow)]
    sid: &'a str,
    #[serde(default, borrow)]
    pid: Option<&'a str>,
}

/// A `pid` kept when it fits [`PID_CAPACITY`] (else none: no recovery).
fn short_pid(pid: Option<&str>) -> heapless::String<PID_CAPACITY, u8> {
    let mut out = heapless::String::new();
    if let Some(pid) = pid {
        if out.push_str(pid).is_err() {
            out.clear();
        }
    }
    out
}

/// The CONNECT_ERROR-like message for a v5 CONNECT answer without a sid.
const NO_SID: &str = "CONNECT answer without a sid (v2 server?)";

impl<
        R: Random,
        const NAMESPACES: usize,
        const ACKS: usize,
        const QUEUE: usize,
        const RX: usize,
    > Session<R, NAMESPACES, ACKS, QUEUE, RX>
{
    /// Takes one WebSocket message from the server.
    ///
    /// Returns the Socket.IO event or ack it completes, borrowed from
    /// `frame` (text packets, nothing copied) or from the session's
    /// reassembly buffer (binary packets, with their attachments); drop it
    /// before calling the session again. Heartbeats, namespace answers and
    /// packets for namespaces this client has not joined give `Ok(None)`
    /// (check [`Session::poll_event`] and [`Session::poll_transmit`] next).
    ///
    /// Errors: see [`FrameError`]. Nothing panics and nothing overruns on
    /// any input; a frame that arrives when no transport was asked for (or
    /// after the session asked to close it) is ignored.
    ///
    /// ```
    /// use oxio_codec::client::{Config, FrameError, Frame, Session, NO_AUTH};
    /// use oxio_codec::Instant;
    ///
    /// let mut s: Session<_> = Session::new(Config::default(), || 0);
    /// let t = Instant::from_millis(0);
    /// s.connect("/", NO_AUTH).unwrap();
    /// s.poll_action(t);
    /// s.transport_opened(t);
    /// s.handle_frame(Frame::Text(r#"0{"sid":"e","upgrades":[],"pingInterval":25000,"pingTimeout":20000}"#), t).unwrap();
    /// assert!(s.handle_frame(Frame::Text("2"), t).unwrap().is_none()); // a ping: a pong is queued
    /// let garbage = s.handle_frame(Frame::Text("9"), t);
    /// assert!(matches!(garbage, Err(FrameError::EngineIo(_))));
    /// assert!(!s.is_open()); // the session asks the driver to close and will reconnect
    /// ```
    pub fn handle_frame<'a>(
        &'a mut self,
        frame: Frame<'a>,
        now: Instant,
    ) -> Result<Option<Incoming<'a>>, FrameError> {
        if let Link::Connecting { deadline } = self.link {
            // A frame is proof the transport is open, even if the driver
            // has not said so yet.
            self.link = Link::Handshake { deadline };
        }
        match &mut self.link {
            Link::Handshake { .. } => {
                let result = self.on_handshake(frame, now);
                if result.is_err() {
                    self.fail_link(DisconnectReason::ParseError);
                }
                return result.map(|()| None);
            }
            Link::Open(hb) => hb.on_frame(now),
            _ => return Ok(None),
        }
        let step = match frame {
            Frame::Text(text) => self.on_text(text, now),
            Frame::Binary(bytes) if self.config.uses_msgpack() => self.on_msgpack_frame(bytes),
            Frame::Binary(bytes) => self.on_binary(bytes),
        };
        match step {
            Err(e) => {
                if !matches!(e, FrameError::TooLarge { .. }) {
                    self.fail_link(DisconnectReason::ParseError);
                }
                Err(e)
            }
            Ok(Step::Nothing) => Ok(None),
            Ok(Step::Deliver(incoming)) => Ok(Some(incoming)),
            Ok(Step::Reassembled(completed)) => {
                let this: &'a Self = self;
                Ok(this.reassembled(completed))
            }
        }
    }

    fn on_handshake(&mut self, frame: Frame<'_>, now: Instant) -> Result<(), FrameError> {
        let Frame::Text(text) = frame else {
            return Err(FrameError::Unexpected);
        };
        let packet = engineio::Packet::decode_text(text, self.config.version)
            .map_err(FrameError::EngineIo)?;
        if packet.packet_type != EioType::Open {
            return Err(FrameError::Unexpected);
        }
        let handshake = Handshake::from_packet(&packet).map_err(FrameError::EngineIo)?;
        if handshake.sid.len() > INFO_CAPACITY {
            return Err(FrameError::SidTooLong);
        }
        self.engine_sid.clear();
        let _ = self.engine_sid.push_str(handshake.sid);
        self.link = Link::Open(Heartbeat::new(
            self.config.version,
            handshake.ping_interval,
            handshake.ping_timeout,
            now,
        ));
        // The reference resets its backoff once the Engine.IO session opens.
        self.attempts = 0;
        Ok(())
    }

    fn on_text<'f>(&mut self, text: &'f str, now: Instant) -> Result<Step<'f>, FrameError> {
        let packet = engineio::Packet::decode_text(text, self.config.version)
            .map_err(FrameError::EngineIo)?;
        match packet.packet_type {
            EioType::Open => Err(FrameError::Unexpected),
            EioType::Close => {
                self.fail_link(DisconnectReason::TransportClose);
                Ok(Step::Nothing)
            }
            EioType::Ping => {
                if let (Link::Open(hb), Data::Text("")) = (&mut self.link, packet.data) {
                    hb.on_ping();
                }
                Ok(Step::Nothing)
            }
            EioType::Pong => {
                if let Link::Open(hb) = &mut self.link {
                    hb.on_pong(now);
                }
                Ok(Step::Nothing)
            }
            EioType::Upgrade | EioType::Noop => Ok(Step::Nothing),
            // The msgpack parser never sends text packets.
            EioType::Message if self.config.uses_msgpack() => {
                Err(FrameError::SocketIo(socketio::Error::UnexpectedText))
            }
            EioType::Message => match packet.data {
                Data::Text(sio) => self.on_socketio(sio, now),
                Data::Base64(b64) => {
                    self.on_attachment(b64.decoded_len(), |dst| b64.decode_into(dst).is_ok())
                }
                Data::Binary(_) => Err(FrameError::Unexpected),
            },
        }
    }

    fn on_binary<'f>(&mut self, bytes: &[u8]) -> Result<Step<'f>, FrameError> {
        let packet = engineio::Packet::decode_binary(bytes, self.config.version)
            .map_err(FrameError::EngineIo)?;
        match (packet.packet_type, packet.data) {
            (EioType::Message, Data::Binary(data)) => self.on_attachment(data.len(), |dst| {
                dst.copy_from_slice(data);
                true
            }),
            // A v3 binary frame of another type carries nothing for us.
            _ => Ok(Step::Nothing),
        }
    }

    /// A binary frame of a session speaking msgpack: one whole packet.
    fn on_msgpack_frame<'f>(&mut self, bytes: &'f [u8]) -> Result<Step<'f>, FrameError> {
        let packet = engineio::Packet::decode_binary(bytes, self.config.version)
            .map_err(FrameError::EngineIo)?;
        let (EioType::Message, Data::Binary(data)) = (packet.packet_type, packet.data) else {
            return Ok(Step::Nothing);
        };
        let packet = crate::msgpack::Decoder::new(self.config.limits)
            .decode(data)
            .map_err(FrameError::SocketIo)?;
        match packet.packet_type() {
            PacketType::Connect => {
                let answer = match packet.data::<MsgpackAnswer<'_>>() {
                    Ok(Some(a)) => Some((a.sid, short_pid(a.pid))),
                    _ => None,
                };
                self.connect_answer(packet.namespace(), answer);
            }
            PacketType::ConnectError => {
                let message = packet.connect_error_message().unwrap_or_default();
                self.connect_refused(packet.namespace(), message.chars());
            }
            PacketType::Disconnect => self.on_server_disconnect(packet.namespace()),
            PacketType::Event => {
                if let Some(slot) = self.event_slot(packet.namespace()) {
                    if let Some(s) = self.slots.get_mut(usize::from(slot)) {
                        s.note_msgpack_offset(packet.raw_args().last(), packet.ack_id());
                    }
                    let ack = self.ack_request(slot, packet.ack_id());
                    return Ok(Step::Deliver(Incoming::MsgpackEvent { packet, ack }));
                }
            }
            PacketType::Ack => {
                let slot = self.receiving_slot(packet.namespace());
                if let Some(id) = slot
                    .zip(packet.ack_id())
                    .and_then(|(s, id)| self.take_ack(s, id))
                {
                    return Ok(Step::Deliver(Incoming::MsgpackAck { id, packet }));
                }
            }
            // The msgpack decoder has no BINARY_* types.
            PacketType::BinaryEvent | PacketType::BinaryAck => {}
        }
        Ok(Step::Nothing)
    }

    fn on_attachment<'f>(
        &mut self,
        len: usize,
        fill: impl FnOnce(&mut [u8]) -> bool,
    ) -> Result<Step<'f>, FrameError> {
        match self.rx.push(len, fill) {
            Ok(Progress::Pending | Progress::Skipped) => Ok(Step::Nothing),
            Ok(Progress::Complete) => Ok(self
                .complete_binary()
                .map_or(Step::Nothing, Step::Reassembled)),
            Err(Refused::Unexpected) => {
                self.rx.reset();
                Err(FrameError::SocketIo(socketio::Error::UnexpectedBinary))
            }
            Err(Refused::TooLarge { needed }) => Err(FrameError::TooLarge {
                needed,
                capacity: self.rx.capacity(),
            }),
        }
    }

    /// Decides what a completed binary packet is delivered as (taking its
    /// pending ack for a BINARY_ACK); `None` when it is for nobody.
    fn complete_binary(&mut self) -> Option<Completed> {
        let (kind, slot, ack_id) = {
            let packet = self.decoder().decode(self.rx.text()?).ok()?;
            let slot = if packet.packet_type() == PacketType::BinaryEvent {
                let slot = self.event_slot(packet.namespace())?;
                if let Some(s) = self.slots.get_mut(usize::from(slot)) {
                    s.note_offset(packet.payload(), packet.ack_id());
                }
                slot
            } else {
                self.receiving_slot(packet.namespace())?
            };
            (packet.packet_type(), slot, packet.ack_id())
        };
        match kind {
            PacketType::BinaryEvent => Some(Completed::Event(self.ack_request(slot, ack_id))),
            PacketType::BinaryAck => self.take_ack(slot, ack_id?).map(Completed::Ack),
            _ => None,
        }
    }

    /// Builds the completed binary packet, borrowing the reassembly buffer.
    fn reassembled(&self, completed: Completed) -> Option<Incoming<'_>> {
        let packet = self.decoder().decode(self.rx.text()?).ok()?;
        let packet = packet.with_attachments(&self.rx);
        Some(match completed {
            Completed::Event(ack) => Incoming::Event { packet, ack },
            Completed::Ack(id) => Incoming::Ack { id, packet },
        })
    }

    fn on_socketio<'f>(&mut self, text: &'f str, now: Instant) -> Result<Step<'f>, FrameError> {
        if self.rx.is_waiting() {
            self.rx.reset();
            return Err(FrameError::SocketIo(socketio::Error::UnexpectedText));
        }
        let packet = self.decoder().decode(text).map_err(FrameError::SocketIo)?;
        match packet.packet_type() {
            PacketType::Connect => self.on_connect_answer(&packet),
            PacketType::ConnectError => self.on_connect_error(&packet),
            PacketType::Disconnect => self.on_server_disconnect(packet.namespace()),
            PacketType::Event => {
                if let Some(slot) = self.event_slot(packet.namespace()) {
                    if let Some(s) = self.slots.get_mut(usize::from(slot)) {
                        s.note_offset(packet.payload(), packet.ack_id());
                    }
                    let ack = self.ack_request(slot, packet.ack_id());
                    return Ok(Step::Deliver(Incoming::Event { packet, ack }));
                }
            }
            PacketType::Ack => {
                let slot = self.receiving_slot(packet.namespace());
                if let Some(id) = slot
                    .zip(packet.ack_id())
                    .and_then(|(s, id)| self.take_ack(s, id))
                {
                    return Ok(Step::Deliver(Incoming::Ack { id, packet }));
                }
            }
            PacketType::BinaryEvent | PacketType::BinaryAck => {
                let deadline = now + self.config.limits.attachment_timeout_ms;
                if let Err(Refused::TooLarge { needed }) =
                    self.rx.start(text, packet.attachment_count(), deadline)
                {
                    return Err(FrameError::TooLarge {
                        needed,
                        capacity: self.rx.capacity(),
                    });
                }
            }
        }
        Ok(Step::Nothing)
    }

    /// The slot whose packets are delivered for `namespace`.
    fn receiving_slot(&self, namespace: &str) -> Option<u8> {
        let i = self.slot_by_name(namespace)?;
        let slot = self.slots.get(i)?;
        if slot.accepts_packets() {
            u8::try_from(i).ok()
        } else {
            None
        }
    }

    /// The slot whose events are delivered for `namespace`: a connected
    /// one, or one waiting for the answer to a recovering CONNECT.
    fn event_slot(&self, namespace: &str) -> Option<u8> {
        let i = self.slot_by_name(namespace)?;
        if self.slots.get(i)?.accepts_events() {
            u8::try_from(i).ok()
        } else {
            None
        }
    }

    fn ack_request(&self, slot: u8, id: Option<u64>) -> Option<AckRequest> {
        let s = self.slots.get(usize::from(slot))?;
        // An event replayed before the CONNECT answer belongs to the
        // connection that answer opens (its generation is bumped then).
        let generation = if s.state == State::Connected {
            s.generation
        } else {
            s.generation.wrapping_add(1)
        };
        Some(AckRequest {
            id: id?,
            slot,
            generation,
        })
    }

    /// Frees the pending ack `id` of `slot` if it still waits; duplicate
    /// and unknown ids are ignored, as the reference does.
    fn take_ack(&mut self, slot: u8, id: u64) -> Option<AckId> {
        let entry = self
            .acks
            .iter_mut()
            .find(|a| a.is_some_and(|a| a.is(slot, id) && a.is_waiting()))?;
        *entry = None;
        Some(AckId(id))
    }

    fn on_connect_answer(&mut self, packet: &Packet<'_>) {
        let answer = match packet.data::<ConnectAnswer<'_>>() {
            Ok(Some(a)) => Some((
                a.sid,
                packet.payload().and_then(answer_pid).unwrap_or_default(),
            )),
            _ => None,
        };
        self.connect_answer(packet.namespace(), answer);
    }

    /// The server accepted `namespace`; `answer` is the v5 answer's sid and
    /// pid (`None`: no sid in it).
    fn connect_answer(
        &mut self,
        namespace: &str,
        answer: Option<(&str, heapless::String<PID_CAPACITY, u8>)>,
    ) {
        let Some(i) = self.slot_by_name(namespace) else {
            return;
        };
        let Some(index) = u8::try_from(i).ok() else {
            return;
        };
        let connecting = self
            .slots
            .get(i)
            .is_some_and(|s| matches!(s.state, State::Connecting { .. }));
        if !connecting {
            return; // a duplicate answer, or one for a namespace left meanwhile
        }
        let engine_sid = self.engine_sid.clone();
        let Some(slot) = self.slots.get_mut(i) else {
            return;
        };
        let mut recovered = false;
        match self.config.socketio_version() {
            socketio::Version::V5 => match answer {
                Some((sid, pid)) if sid.len() <= INFO_CAPACITY => {
                    slot.set_info(sid.chars());
                    // The reference `onconnect`: recovered when the server
                    // kept the pid; the new one (or none) replaces it.
                    recovered = !pid.is_empty() && pid == slot.pid;
                    slot.pid = pid;
                }
                _ => {
                    slot.set_info(NO_SID.chars());
                    self.release(index, CancelReason::Dropped);
                    self.record(Record::ConnectError(index));
                    return;
                }
            },
            socketio::Version::V4 => {
                // The v2 client's socket id: the Engine.IO sid, prefixed
                // with `<nsp>#` outside `/` (when it fits).
                let mut id = heapless::String::<INFO_CAPACITY, u8>::new();
                let prefixed = slot.name.len() + 1 + engine_sid.len() <= INFO_CAPACITY;
                if slot.name.as_str() != "/" && prefixed {
                    let _ = id.push_str(&slot.name);
                    let _ = id.push('#');
                }
                let _ = id.push_str(&engine_sid);
                slot.info = id;
            }
        }
        slot.state = State::Connected;
        slot.generation = slot.generation.wrapping_add(1);
        self.record(Record::Connected(index, recovered));
    }

    fn on_connect_error(&mut self, packet: &Packet<'_>) {
        match packet.connect_error().and_then(|e| e.message) {
            Some(message) => self.connect_refused(packet.namespace(), message.chars()),
            None => {
                let payload = packet.payload().unwrap_or_default();
                self.connect_refused(packet.namespace(), payload.chars())
            }
        }
    }

    /// The server refused `namespace` with `message`.
    fn connect_refused<M: IntoIterator<Item = char>>(&mut self, namespace: &str, message: M) {
        let Some(i) = self.slot_by_name(namespace) else {
            return;
        };
        let Ok(index) = u8::try_from(i) else {
            return;
        };
        let Some(slot) = self.slots.get_mut(i) else {
            return;
        };
        if !slot.is_active() {
            return;
        }
        slot.set_info(message);
        self.release(index, CancelReason::Disconnected);
        self.record(Record::ConnectError(index));
    }

    fn on_server_disconnect(&mut self, namespace: &str) {
        let Some(i) = self.slot_by_name(namespace) else {
            return;
        };
        let Ok(index) = u8::try_from(i) else {
            return;
        };
        if !self.slots.get(i).is_some_and(|s| s.is_active()) {
            return;
        }
        self.record(Record::Disconnected(
            index,
            DisconnectReason::ServerDisconnect,
        ));
        self.release(index, CancelReason::Disconnected);
    }
}
