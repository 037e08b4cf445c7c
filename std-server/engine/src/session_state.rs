//! One Engine.IO session's protocol logic, without IO and without a clock.
//!
//! The driver (`engine::session`) feeds it what happened (a GET arrived, a
//! packet was decoded, a transport went away, time passed) and drains what
//! to do (packets for the pending poll or the WebSocket, events for the
//! handler, the next deadline). Every protocol decision of docs/protocol.md
//! §1.5–§1.9 and §2 lives here, so it is unit-tested with a fake clock.
//!
//! States: open on polling, open on polling with a probing WebSocket
//! (`Probe::Waiting`, then `Probe::Probed` after `2probe`), open on
//! WebSocket, closed (possibly still owing the client a final `6`,`1` poll).

use std::collections::VecDeque;

use oxio_codec::engineio::Version;
use oxio_codec::Instant;

use super::contract::{CloseReason, Message, SendError, Utf8Bytes};

/// A packet the server sends, owned; the transport encodes it for its wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OutPacket {
    /// `0{...}`: the handshake, first frame of a WebSocket session.
    Open(Utf8Bytes),
    /// `1`.
    Close,
    /// `2` (v4 heartbeat).
    Ping,
    /// `3` (v3 heartbeat answer).
    Pong,
    /// `3probe`, the answer to the upgrade probe.
    PongProbe,
    /// `6`, releases a poll.
    Noop,
    /// `4...` or binary.
    Message(Message),
}

/// A packet the client sent, owned (decoded by the transport).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum InPacket {
    /// `0`: never valid from a client; ignored as Node does.
    Open,
    /// `1`.
    Close,
    /// `2`, `probe` when the data is exactly `probe`.
    Ping {
        /// Whether this is `2probe`.
        probe: bool,
    },
    /// `3`.
    Pong,
    /// `4...` or binary.
    Message(Message),
    /// `5`.
    Upgrade,
    /// `6`: ignored.
    Noop,
}

/// Where a client packet arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Channel {
    /// A polling POST.
    Polling,
    /// The session's WebSocket: the active transport, or the probing one
    /// during an upgrade (the state knows which).
    WebSocket,
}

/// The session's active transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Active {
    /// HTTP long-polling.
    Polling,
    /// WebSocket.
    WebSocket,
}

/// Progress of a polling → WebSocket upgrade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Probe {
    /// No WebSocket is probing.
    None,
    /// A WebSocket is attached, `2probe` not yet received.
    Waiting { deadline: Instant },
    /// `3probe` was answered: polls are released with `6`.
    Probed { deadline: Instant },
}

/// Heartbeat timers; which side pings depends on the version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Heartbeat {
    /// v4: the server pings at `next_ping`, then expects a pong by
    /// `pong_deadline`.
    V4 {
        next_ping: Option<Instant>,
        pong_deadline: Option<Instant>,
    },
    /// v3: the client pings; without one by `deadline` the session closes.
    V3 { deadline: Instant },
}

/// How long a session closed by a client `1` POSTed while no GET was held
/// keeps answering its next GET (docs/protocol.md, Appendix): a client may send
/// that GET and the POST concurrently, and the GET must not lose the race.
pub(crate) const CLIENT_CLOSE_GRACE_MS: u64 = 1000;

/// The final poll a closed session may still owe the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FinalPoll {
    /// Nothing more to say; the session can be forgotten.
    None,
    /// Server close: the next GET, until `until`, gets the buffered packets
    /// then `6`,`1`.
    Owed { until: Instant },
    /// Client close by POST with no GET held: the next GET, until `until`,
    /// gets the `6` a held GET would have got; any other request is refused
    /// as for an unknown sid (a tombstone).
    Tombstone { until: Instant },
}

/// Lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Life {
    Open,
    Closed { final_poll: FinalPoll },
}

/// What the handler must be told, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Event {
    /// A message arrived.
    Message(Message),
    /// The session ended (emitted once).
    Closed(CloseReason),
}

/// The answer to a polling GET.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum GetOutcome {
    /// Answer now with these packets.
    Respond(Vec<OutPacket>),
    /// Hold the request; [`SessionState::take_poll_response`] gives the
    /// answer later.
    Wait,
    /// A GET was already pending: answer this one 400 (empty body). The
    /// session is now closed and the pending poll's answer (`1`) is ready.
    Overlap,
    /// The session is on WebSocket: 400 code 3.
    WrongTransport,
    /// The session is closed and owes nothing: 400 code 1.
    Gone,
}

/// Whether the sender should keep feeding packets from the same source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Keep going.
    Continue,
    /// Stop: the rest of the payload is dropped, a probing WebSocket must be
    /// closed, or the session is closed.
    Stop,
}

/// What the WebSocket writer acts on, compared before and after a change
/// to decide whether to wake it (a drain by the writer itself does not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WsSignal {
    outbox: usize,
    probe_out: usize,
    probing: bool,
    open: bool,
    active: Active,
}

impl WsSignal {
    /// Whether going from `self` to `after` gives the writer work: packets
    /// were queued, or the probe, the lifecycle or the transport changed.
    pub(crate) fn wakes(self, after: WsSignal) -> bool {
        after.outbox > self.outbox
            || after.probe_out > self.probe_out
            || after.probing != self.probing
            || after.open != self.open
            || after.active != self.active
    }
}

/// Durations in milliseconds, from the engine's config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timing {
    /// v4: time between pings; v3: the client's ping period.
    pub ping_interval: u64,
    /// v4: time allowed for a pong; v3: added to `ping_interval`.
    pub ping_timeout: u64,
    /// Time allowed for an upgrade to complete after the WebSocket opens.
    pub upgrade_timeout: u64,
    /// How long a server-closed polling session waits for its final GET.
    pub close_linger: u64,
}

/// The sans-IO session.
#[derive(Debug)]
pub(crate) struct SessionState {
    version: Version,
    timing: Timing,
    active: Active,
    probe: Probe,
    heartbeat: Heartbeat,
    life: Life,
    /// Packets for the active transport.
    outbox: VecDeque<OutPacket>,
    /// `Message`s in `outbox` (the bounded part).
    queued_messages: usize,
    /// Most `Message`s `outbox` may hold.
    queue_limit: usize,
    /// Payload bytes of the `Message`s in `outbox`.
    queued_bytes: usize,
    /// Most payload bytes `outbox` may hold (one message may cross it).
    byte_limit: usize,
    /// Packets for the probing WebSocket (`3probe`).
    probe_out: VecDeque<OutPacket>,
    /// A GET is being held.
    poll_pending: bool,
    /// The answer owed to the held GET, decided at close time.
    poll_final: Option<Vec<OutPacket>>,
    /// A POST is being read.
    post_in_progress: bool,
    /// Events for the handler.
    events: VecDeque<Event>,
}

impl SessionState {
    /// A session opened at `now` on `active`. A WebSocket session starts with
    /// `open` queued (the first frame); a polling session answers its
    /// handshake GET directly, so its outbox starts empty.
    pub(crate) fn new(
        version: Version,
        active: Active,
        open_json: Utf8Bytes,
        timing: Timing,
        queue_limit: usize,
        now: Instant,
    ) -> Self {
        let heartbeat = match version {
            Version::V4 => Heartbeat::V4 {
                next_ping: Some(now + timing.ping_interval),
                pong_deadline: None,
            },
            Version::V3 => Heartbeat::V3 {
                deadline: now + timing.ping_interval.saturating_add(timing.ping_timeout),
            },
        };
        let mut outbox = VecDeque::new();
        if active == Active::WebSocket {
            outbox.push_back(OutPacket::Open(open_json));
        }
        SessionState {
            version,
            timing,
            active,
            probe: Probe::None,
            heartbeat,
            life: Life::Open,
            outbox,
            queued_messages: 0,
            queue_limit,
            queued_bytes: 0,
            byte_limit: usize::MAX,
            probe_out: VecDeque::new(),
            poll_pending: false,
            poll_final: None,
            post_in_progress: false,
            events: VecDeque::new(),
        }
    }

    /// The protocol revision.
    pub(crate) fn version(&self) -> Version {
        self.version
    }

    /// The active transport.
    pub(crate) fn active(&self) -> Active {
        self.active
    }

    /// Whether the session is open.
    pub(crate) fn is_open(&self) -> bool {
        self.life == Life::Open
    }

    /// Whether the session is closed and owes the client nothing more: the
    /// driver may forget it.
    pub(crate) fn is_finished(&self) -> bool {
        matches!(
            self.life,
            Life::Closed {
                final_poll: FinalPoll::None
            }
        ) && !self.poll_pending
    }

    /// Also bounds the queue by payload bytes (default: no byte bound).
    pub(crate) fn with_byte_limit(mut self, bytes: usize) -> Self {
        self.byte_limit = bytes;
        self
    }

    /// Whether the session is a tombstone: closed by the client with a POST
    /// while no GET was held, still owing its next GET a `6`. Requests
    /// other than that GET are refused as for an unknown sid.
    pub(crate) fn is_tombstone(&self) -> bool {
        matches!(
            self.life,
            Life::Closed {
                final_poll: FinalPoll::Tombstone { .. }
            }
        )
    }

    /// Whether a WebSocket is probing (an upgrade is in progress).
    pub(crate) fn is_probing(&self) -> bool {
        self.probe != Probe::None
    }

    /// Queues application messages as one unit: all of them, adjacent and
    /// in order, or none when the session is closed or the queue cannot
    /// take them all (the message bound counts the whole unit; the byte
    /// bound, like a single message, may be passed by the last unit it
    /// admits). Never blocks.
    pub(crate) fn send_many(&mut self, msgs: &[Message]) -> Result<(), SendError> {
        if !self.is_open() {
            return Err(SendError::Closed);
        }
        let after = self.queued_messages.saturating_add(msgs.len());
        if after > self.queue_limit || self.queued_bytes >= self.byte_limit {
            return Err(SendError::Full);
        }
        for msg in msgs {
            let len = match msg {
                Message::Text(t) => t.as_bytes().len(),
                Message::Binary(b) => b.len(),
            };
            self.queued_bytes = self.queued_bytes.saturating_add(len);
            self.outbox.push_back(OutPacket::Message(msg.clone()));
        }
        self.queued_messages = after;
        Ok(())
    }

    /// Queues one message (see [`send_many`](Self::send_many)).
    #[cfg(test)]
    pub(crate) fn send(&mut self, msg: Message) -> Result<(), SendError> {
        self.send_many(std::slice::from_ref(&msg))
    }

    /// A polling GET arrived.
    pub(crate) fn handle_get(&mut self, now: Instant) -> GetOutcome {
        match self.life {
            Life::Closed {
                final_poll: FinalPoll::Tombstone { until },
            } if !self.poll_pending && now <= until => {
                self.life = Life::Closed {
                    final_poll: FinalPoll::None,
                };
                return GetOutcome::Respond(vec![OutPacket::Noop]);
            }
            Life::Closed {
                final_poll: FinalPoll::Owed { until },
            } if !self.poll_pending && now <= until => {
                self.life = Life::Closed {
                    final_poll: FinalPoll::None,
                };
                let mut packets = self.drain_outbox();
                packets.push(OutPacket::Noop);
                packets.push(OutPacket::Close);
                return GetOutcome::Respond(packets);
            }
            Life::Closed { .. } => return GetOutcome::Gone,
            Life::Open => {}
        }
        if self.active == Active::WebSocket {
            return GetOutcome::WrongTransport;
        }
        if self.poll_pending {
            // docs/protocol.md §1.5: the pending poll gets `1`, the new one 400.
            self.close_with(CloseReason::TransportError, now, vec![OutPacket::Close]);
            return GetOutcome::Overlap;
        }
        if !self.outbox.is_empty() {
            return GetOutcome::Respond(self.drain_outbox());
        }
        if matches!(self.probe, Probe::Probed { .. }) {
            return GetOutcome::Respond(vec![OutPacket::Noop]);
        }
        self.poll_pending = true;
        GetOutcome::Wait
    }

    /// The answer for the held GET, if it is due now. Call after every
    /// change; `None` means keep holding (or no GET is held).
    pub(crate) fn take_poll_response(&mut self) -> Option<Vec<OutPacket>> {
        if !self.poll_pending {
            return None;
        }
        if let Some(packets) = self.poll_final.take() {
            self.poll_pending = false;
            return Some(packets);
        }
        if !self.is_open() {
            return None;
        }
        if !self.outbox.is_empty() && self.active == Active::Polling {
            self.poll_pending = false;
            return Some(self.drain_outbox());
        }
        if matches!(self.probe, Probe::Probed { .. }) {
            self.poll_pending = false;
            return Some(vec![OutPacket::Noop]);
        }
        None
    }

    /// The held GET's connection went away before its answer: the session
    /// closes (docs/protocol.md §1.5, "cancelled polling request").
    pub(crate) fn poll_cancelled(&mut self, now: Instant) {
        if !self.poll_pending {
            return;
        }
        self.poll_pending = false;
        self.poll_final = None;
        if self.is_open() {
            self.close_with(CloseReason::TransportError, now, Vec::new());
        }
    }

    /// A POST started. `Err(())` for an overlapping POST: answer it 400;
    /// the session is now closed.
    pub(crate) fn post_started(&mut self, now: Instant) -> Result<(), ()> {
        if self.post_in_progress {
            self.close_with(CloseReason::TransportError, now, vec![OutPacket::Close]);
            return Err(());
        }
        self.post_in_progress = true;
        Ok(())
    }

    /// The POST started by [`post_started`](Self::post_started) is done.
    pub(crate) fn post_finished(&mut self) {
        self.post_in_progress = false;
    }

    /// The client sent something that does not decode.
    pub(crate) fn parse_error(&mut self, now: Instant) {
        if self.is_open() {
            self.close_with(CloseReason::ParseError, now, vec![OutPacket::Close]);
        }
    }

    /// A transport failure that is the client's fault (a v4 binary POST...).
    pub(crate) fn transport_error(&mut self, now: Instant) {
        if self.is_open() {
            self.close_with(CloseReason::TransportError, now, vec![OutPacket::Close]);
        }
    }

    /// A WebSocket with this session's sid opened. `false`: refuse it (close
    /// it at once): an upgrade is already running or done, or the session
    /// is closed.
    pub(crate) fn probe_opened(&mut self, now: Instant) -> bool {
        if !self.is_open() || self.active != Active::Polling || self.probe != Probe::None {
            return false;
        }
        self.probe = Probe::Waiting {
            deadline: now + self.timing.upgrade_timeout,
        };
        true
    }

    /// Packets to write on the probing WebSocket.
    pub(crate) fn take_probe_frames(&mut self) -> Vec<OutPacket> {
        self.probe_out.drain(..).collect()
    }

    /// Packets to write on the active WebSocket.
    pub(crate) fn take_ws_frames(&mut self) -> Vec<OutPacket> {
        if self.active != Active::WebSocket {
            return Vec::new();
        }
        self.drain_outbox()
    }

    /// The WebSocket went away. `probing`: it was the probing one (the
    /// upgrade is cancelled, the session stays on polling); otherwise the
    /// session closes (`error` picks the reason).
    pub(crate) fn ws_closed(&mut self, probing: bool, error: bool, now: Instant) {
        if probing {
            self.probe = Probe::None;
            self.probe_out.clear();
            return;
        }
        if self.is_open() && self.active == Active::WebSocket {
            let reason = if error {
                CloseReason::TransportError
            } else {
                CloseReason::TransportClose
            };
            self.close_with(reason, now, Vec::new());
        }
    }

    /// A packet from the client. `probing` says whether a WebSocket packet
    /// came on the probing socket (the driver knows which socket it reads).
    pub(crate) fn handle_packet(
        &mut self,
        channel: Channel,
        probing: bool,
        packet: InPacket,
        now: Instant,
    ) -> Verdict {
        if !self.is_open() {
            return Verdict::Stop;
        }
        if channel == Channel::WebSocket && probing {
            return self.handle_probe_packet(packet);
        }
        let on_active = match channel {
            Channel::Polling => self.active == Active::Polling,
            Channel::WebSocket => self.active == Active::WebSocket,
        };
        if !on_active {
            // A straggling POST after the upgrade: its packets are dropped.
            return Verdict::Stop;
        }
        match packet {
            InPacket::Message(msg) => {
                self.events.push_back(Event::Message(msg));
                Verdict::Continue
            }
            InPacket::Ping { .. } => match &mut self.heartbeat {
                Heartbeat::V3 { deadline } => {
                    *deadline = now
                        + self
                            .timing
                            .ping_interval
                            .saturating_add(self.timing.ping_timeout);
                    self.outbox.push_back(OutPacket::Pong);
                    Verdict::Continue
                }
                Heartbeat::V4 { .. } => {
                    // "invalid heartbeat direction"
                    self.close_with(CloseReason::TransportError, now, vec![OutPacket::Close]);
                    Verdict::Stop
                }
            },
            InPacket::Pong => match &mut self.heartbeat {
                Heartbeat::V4 {
                    next_ping,
                    pong_deadline,
                } => {
                    *pong_deadline = None;
                    *next_ping = Some(now + self.timing.ping_interval);
                    Verdict::Continue
                }
                Heartbeat::V3 { .. } => {
                    self.close_with(CloseReason::TransportError, now, vec![OutPacket::Close]);
                    Verdict::Stop
                }
            },
            InPacket::Close => {
                // docs/protocol.md §1.9: a pending GET gets `6`, then the
                // session closes. With no GET held, the next one still gets
                // its `6` within the grace period (docs/protocol.md, Appendix).
                let held = self.poll_pending;
                self.close_with(CloseReason::TransportClose, now, vec![OutPacket::Noop]);
                if channel == Channel::Polling && !held {
                    self.life = Life::Closed {
                        final_poll: FinalPoll::Tombstone {
                            until: now + CLIENT_CLOSE_GRACE_MS,
                        },
                    };
                }
                Verdict::Stop
            }
            InPacket::Open | InPacket::Upgrade | InPacket::Noop => Verdict::Continue,
        }
    }

    /// A packet on the probing WebSocket (docs/protocol.md §1.8).
    fn handle_probe_packet(&mut self, packet: InPacket) -> Verdict {
        let deadline = match self.probe {
            Probe::None => return Verdict::Stop,
            Probe::Waiting { deadline } | Probe::Probed { deadline } => deadline,
        };
        match packet {
            InPacket::Ping { probe: true } => {
                self.probe_out.push_back(OutPacket::PongProbe);
                self.probe = Probe::Probed { deadline };
                Verdict::Continue
            }
            InPacket::Upgrade => {
                self.probe = Probe::None;
                self.active = Active::WebSocket;
                // Packets answered to no poll move to the WebSocket; a held
                // GET is released with `1` (the polling transport is gone).
                let queued = self.take_probe_frames();
                for p in queued.into_iter().rev() {
                    self.outbox.push_front(p);
                }
                if self.poll_pending {
                    self.poll_final = Some(vec![OutPacket::Close]);
                }
                Verdict::Continue
            }
            _ => {
                self.probe = Probe::None;
                self.probe_out.clear();
                Verdict::Stop
            }
        }
    }

    /// The server closes the session: buffered packets are still delivered,
    /// then `1` on polling (to the held GET, or to the next one within the
    /// linger time, preceded by `6`), or a WebSocket close.
    pub(crate) fn close(&mut self, reason: CloseReason, now: Instant) {
        if !self.is_open() {
            return;
        }
        self.life = Life::Closed {
            final_poll: FinalPoll::None,
        };
        self.events.push_back(Event::Closed(reason));
        self.probe = Probe::None;
        self.probe_out.clear();
        if self.active == Active::Polling {
            if self.poll_pending {
                let mut packets = self.drain_outbox();
                packets.push(OutPacket::Close);
                self.poll_final = Some(packets);
            } else {
                self.life = Life::Closed {
                    final_poll: FinalPoll::Owed {
                        until: now + self.timing.close_linger,
                    },
                };
            }
        }
        // On WebSocket the outbox is flushed, then the socket closed.
    }

    /// Closes for a protocol reason: buffered packets are dropped (as Node
    /// does) and a held GET gets `held_answer`.
    fn close_with(&mut self, reason: CloseReason, _now: Instant, held_answer: Vec<OutPacket>) {
        if !self.is_open() {
            return;
        }
        self.life = Life::Closed {
            final_poll: FinalPoll::None,
        };
        self.events.push_back(Event::Closed(reason));
        self.outbox.clear();
        self.queued_messages = 0;
        self.queued_bytes = 0;
        self.probe = Probe::None;
        self.probe_out.clear();
        if self.poll_pending && !held_answer.is_empty() {
            self.poll_final = Some(held_answer);
        } else if self.poll_pending {
            self.poll_final = Some(vec![OutPacket::Close]);
        }
    }

    /// Time passed: fires every deadline at or before `now`.
    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        match self.life {
            Life::Closed {
                final_poll: FinalPoll::Owed { until } | FinalPoll::Tombstone { until },
            } => {
                if now >= until {
                    self.life = Life::Closed {
                        final_poll: FinalPoll::None,
                    };
                    self.outbox.clear();
                    self.queued_messages = 0;
                    self.queued_bytes = 0;
                }
                return;
            }
            Life::Closed { .. } => return,
            Life::Open => {}
        }
        if let Probe::Waiting { deadline } | Probe::Probed { deadline } = self.probe {
            if now >= deadline {
                self.probe = Probe::None;
                self.probe_out.clear();
            }
        }
        match &mut self.heartbeat {
            Heartbeat::V4 {
                next_ping,
                pong_deadline,
            } => {
                if let Some(deadline) = *pong_deadline {
                    if now >= deadline {
                        self.close_with(CloseReason::PingTimeout, now, vec![OutPacket::Close]);
                        return;
                    }
                }
                if let Some(at) = *next_ping {
                    if now >= at {
                        *next_ping = None;
                        // Counted from when the ping was due, as Node's
                        // timers count (a timer firing a few ms late does
                        // not push the close later); a ping sent very late
                        // still leaves the client half the timeout.
                        let half = self.timing.ping_timeout / 2;
                        *pong_deadline = Some((at + self.timing.ping_timeout).max(now + half));
                        self.outbox.push_back(OutPacket::Ping);
                    }
                }
            }
            Heartbeat::V3 { deadline } => {
                if now >= *deadline {
                    self.close_with(CloseReason::PingTimeout, now, vec![OutPacket::Close]);
                }
            }
        }
    }

    /// The next deadline, if any.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        match self.life {
            Life::Closed {
                final_poll: FinalPoll::Owed { until } | FinalPoll::Tombstone { until },
            } => return Some(until),
            Life::Closed { .. } => return None,
            Life::Open => {}
        }
        let probe = match self.probe {
            Probe::None => None,
            Probe::Waiting { deadline } | Probe::Probed { deadline } => Some(deadline),
        };
        let heartbeat = match self.heartbeat {
            Heartbeat::V4 {
                next_ping,
                pong_deadline,
            } => match (next_ping, pong_deadline) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
            Heartbeat::V3 { deadline } => Some(deadline),
        };
        match (probe, heartbeat) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// A summary of what the WebSocket writer acts on; see [`WsSignal::wakes`].
    pub(crate) fn ws_signal(&self) -> WsSignal {
        WsSignal {
            outbox: self.outbox.len(),
            probe_out: self.probe_out.len(),
            probing: self.is_probing(),
            open: self.is_open(),
            active: self.active,
        }
    }

    /// Whether events wait for [`poll_event`](Self::poll_event).
    pub(crate) fn has_events(&self) -> bool {
        !self.events.is_empty()
    }

    /// The next event for the handler.
    pub(crate) fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Whether the WebSocket writer should close its socket after writing
    /// what [`take_ws_frames`](Self::take_ws_frames) returned.
    pub(crate) fn ws_should_close(&self) -> bool {
        !self.is_open() && self.outbox.is_empty()
    }

    fn drain_outbox(&mut self) -> Vec<OutPacket> {
        self.queued_messages = 0;
        self.queued_bytes = 0;
        self.outbox.drain(..).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Timing = Timing {
        ping_interval: 300,
        ping_timeout: 200,
        upgrade_timeout: 1000,
        close_linger: 5000,
    };

    fn at(ms: u64) -> Instant {
        Instant::from_millis(ms)
    }

    fn polling(version: Version) -> SessionState {
        SessionState::new(version, Active::Polling, Utf8Bytes::from("{}"), T, 4, at(0))
    }

    fn text(s: &str) -> Message {
        Message::Text(Utf8Bytes::from(s))
    }

    fn events(s: &mut SessionState) -> Vec<Event> {
        std::iter::from_fn(|| s.poll_event()).collect()
    }

    #[test]
    fn v4_first_ping_after_interval_then_timeout_closes() {
        let mut s = polling(Version::V4);
        assert_eq!(s.poll_timeout(), Some(at(300)));
        s.handle_timeout(at(299));
        assert_eq!(s.handle_get(at(299)), GetOutcome::Wait);
        s.handle_timeout(at(300));
        assert_eq!(s.take_poll_response(), Some(vec![OutPacket::Ping]));
        assert_eq!(s.poll_timeout(), Some(at(500)));
        s.handle_timeout(at(500));
        assert!(!s.is_open());
        assert_eq!(events(&mut s), [Event::Closed(CloseReason::PingTimeout)]);
        assert!(s.is_finished());
        assert_eq!(s.handle_get(at(501)), GetOutcome::Gone);
    }

    #[test]
    fn v4_pong_deadline_counts_from_the_due_ping() {
        let mut s = polling(Version::V4);
        s.handle_timeout(at(302)); // the timer fired 2 ms late
        assert_eq!(s.poll_timeout(), Some(at(500)));
        let mut s = polling(Version::V4);
        s.handle_timeout(at(450)); // very late: the client keeps half the timeout
        assert_eq!(s.poll_timeout(), Some(at(550)));
    }

    #[test]
    fn v4_pong_restarts_interval() {
        let mut s = polling(Version::V4);
        s.handle_timeout(at(300));
        assert_eq!(
            s.handle_get(at(301)),
            GetOutcome::Respond(vec![OutPacket::Ping])
        );
        let v = s.handle_packet(Channel::Polling, false, InPacket::Pong, at(350));
        assert_eq!(v, Verdict::Continue);
        assert_eq!(s.poll_timeout(), Some(at(650)));
        s.handle_timeout(at(600));
        assert!(s.is_open());
        s.handle_timeout(at(650));
        assert_eq!(
            s.handle_get(at(651)),
            GetOutcome::Respond(vec![OutPacket::Ping])
        );
    }

    #[test]
    fn heartbeat_without_poll_times_out_at_interval_plus_timeout() {
        // The suite: handshake, sleep(pingInterval + pingTimeout), GET → 400.
        let mut s = polling(Version::V4);
        s.handle_timeout(at(300));
        s.handle_timeout(at(500));
        assert_eq!(s.handle_get(at(501)), GetOutcome::Gone);
    }

    #[test]
    fn wrong_heartbeat_direction_closes() {
        for (version, packet) in [
            (Version::V4, InPacket::Ping { probe: false }),
            (Version::V3, InPacket::Pong),
        ] {
            let mut s = polling(version);
            assert_eq!(s.handle_get(at(1)), GetOutcome::Wait);
            let v = s.handle_packet(Channel::Polling, false, packet, at(2));
            assert_eq!(v, Verdict::Stop);
            assert_eq!(events(&mut s), [Event::Closed(CloseReason::TransportError)]);
            assert_eq!(s.take_poll_response(), Some(vec![OutPacket::Close]));
        }
    }

    #[test]
    fn v3_client_pings_get_pongs_and_refresh_deadline() {
        let mut s = polling(Version::V3);
        assert_eq!(s.poll_timeout(), Some(at(500)));
        let v = s.handle_packet(
            Channel::Polling,
            false,
            InPacket::Ping { probe: false },
            at(400),
        );
        assert_eq!(v, Verdict::Continue);
        assert_eq!(s.poll_timeout(), Some(at(900)));
        assert_eq!(
            s.handle_get(at(401)),
            GetOutcome::Respond(vec![OutPacket::Pong])
        );
        s.handle_timeout(at(899));
        assert!(s.is_open());
        s.handle_timeout(at(900));
        assert_eq!(events(&mut s), [Event::Closed(CloseReason::PingTimeout)]);
    }

    #[test]
    fn overlapping_get_closes_and_answers_pending_with_close() {
        let mut s = polling(Version::V4);
        assert_eq!(s.handle_get(at(1)), GetOutcome::Wait);
        assert_eq!(s.handle_get(at(2)), GetOutcome::Overlap);
        assert_eq!(s.take_poll_response(), Some(vec![OutPacket::Close]));
        assert_eq!(events(&mut s), [Event::Closed(CloseReason::TransportError)]);
        assert!(s.is_finished());
    }

    #[test]
    fn overlapping_post_closes() {
        let mut s = polling(Version::V4);
        assert_eq!(s.post_started(at(1)), Ok(()));
        assert_eq!(s.post_started(at(2)), Err(()));
        assert_eq!(events(&mut s), [Event::Closed(CloseReason::TransportError)]);
    }

    #[test]
    fn messages_are_batched_into_one_get() {
        let mut s = polling(Version::V4);
        for m in ["a", "b", "c"] {
            s.send(text(m)).unwrap();
        }
        assert_eq!(
            s.handle_get(at(1)),
            GetOutcome::Respond(vec![
                OutPacket::Message(text("a")),
                OutPacket::Message(text("b")),
                OutPacket::Message(text("c")),
            ])
        );
        // A held GET is answered when a message is queued.
        assert_eq!(s.handle_get(at(2)), GetOutcome::Wait);
        assert_eq!(s.take_poll_response(), None);
        s.send(text("d")).unwrap();
        assert_eq!(
            s.take_poll_response(),
            Some(vec![OutPacket::Message(text("d"))])
        );
    }

    #[test]
    fn byte_bound_reports_full_and_frees_after_flush() {
        let mut s = polling(Version::V4).with_byte_limit(5);
        s.send(text("abc")).unwrap();
        // The message that crosses the bound is still queued.
        s.send(Message::Binary(bytes::Bytes::from_static(b"abc")))
            .unwrap();
        assert_eq!(s.send(text("x")), Err(SendError::Full));
        assert!(matches!(s.handle_get(at(1)), GetOutcome::Respond(p) if p.len() == 2));
        assert_eq!(s.send(text("y")), Ok(()));
    }

    #[test]
    fn bounded_queue_reports_full_and_frees_after_flush() {
        let mut s = polling(Version::V4);
        for i in 0..4 {
            s.send(text(&i.to_string())).unwrap();
        }
        assert_eq!(s.send(text("x")), Err(SendError::Full));
        assert!(matches!(s.handle_get(at(1)), GetOutcome::Respond(p) if p.len() == 4));
        assert_eq!(s.send(text("y")), Ok(()));
    }

    /// Regression (binary emits interleaved): a packet's frames go in as
    /// one unit, or not at all when the bound cannot take every frame.
    #[test]
    fn a_unit_is_queued_whole_or_not_at_all() {
        let mut s = polling(Version::V4); // bound: 4 messages
        let bin = |b: &'static [u8]| Message::Binary(bytes::Bytes::from_static(b));
        s.send(text("a")).unwrap();
        s.send(text("b")).unwrap();
        let unit = [text("51-[\"f\",{}]"), bin(b"x"), bin(b"y")];
        assert_eq!(s.send_many(&unit), Err(SendError::Full));
        // Nothing of the refused unit is queued; a smaller one fits.
        assert_eq!(s.send_many(&unit[..2]), Ok(()));
        assert_eq!(
            s.handle_get(at(1)),
            GetOutcome::Respond(vec![
                OutPacket::Message(text("a")),
                OutPacket::Message(text("b")),
                OutPacket::Message(text("51-[\"f\",{}]")),
                OutPacket::Message(bin(b"x")),
            ])
        );
        assert_eq!(s.send_many(&unit), Ok(()));
        s.close(CloseReason::ForcedClose, at(2));
        assert_eq!(s.send_many(&unit), Err(SendError::Closed));
    }

    #[test]
    fn client_close_releases_poll_with_noop() {
        let mut s = polling(Version::V4);
        assert_eq!(s.handle_get(at(1)), GetOutcome::Wait);
        let v = s.handle_packet(Channel::Polling, false, InPacket::Close, at(2));
        assert_eq!(v, Verdict::Stop);
        assert_eq!(s.take_poll_response(), Some(vec![OutPacket::Noop]));
        assert_eq!(events(&mut s), [Event::Closed(CloseReason::TransportClose)]);
    }

    #[test]
    fn client_close_by_post_with_held_get_leaves_no_tombstone() {
        let mut s = polling(Version::V4);
        assert_eq!(s.handle_get(at(1)), GetOutcome::Wait);
        s.handle_packet(Channel::Polling, false, InPacket::Close, at(2));
        assert!(!s.is_tombstone());
        assert_eq!(s.take_poll_response(), Some(vec![OutPacket::Noop]));
        assert!(s.is_finished());
        assert_eq!(s.handle_get(at(3)), GetOutcome::Gone);
    }

    #[test]
    fn client_close_by_post_without_get_answers_the_next_get_once() {
        // protocol.md, Appendix: the suites send the GET and the POST `1`
        // concurrently; the POST may be handled first.
        for version in [Version::V4, Version::V3] {
            let mut s = polling(version);
            s.send(text("dropped")).unwrap();
            let v = s.handle_packet(Channel::Polling, false, InPacket::Close, at(10));
            assert_eq!(v, Verdict::Stop);
            assert_eq!(events(&mut s), [Event::Closed(CloseReason::TransportClose)]);
            assert!(!s.is_open());
            assert!(s.is_tombstone());
            assert!(!s.is_finished());
            assert_eq!(s.send(text("late")), Err(SendError::Closed));
            assert_eq!(s.poll_timeout(), Some(at(10 + CLIENT_CLOSE_GRACE_MS)));
            s.handle_timeout(at(9 + CLIENT_CLOSE_GRACE_MS));
            assert!(s.is_tombstone());
            assert_eq!(
                s.handle_get(at(9 + CLIENT_CLOSE_GRACE_MS)),
                GetOutcome::Respond(vec![OutPacket::Noop])
            );
            assert!(!s.is_tombstone());
            assert!(s.is_finished());
            assert_eq!(s.poll_timeout(), None);
            assert_eq!(s.handle_get(at(11)), GetOutcome::Gone);
        }
    }

    #[test]
    fn client_close_tombstone_expires_after_the_grace_period() {
        let mut s = polling(Version::V4);
        s.handle_packet(Channel::Polling, false, InPacket::Close, at(10));
        s.handle_timeout(at(10 + CLIENT_CLOSE_GRACE_MS));
        assert!(!s.is_tombstone());
        assert!(s.is_finished());
        assert_eq!(
            s.handle_get(at(10 + CLIENT_CLOSE_GRACE_MS)),
            GetOutcome::Gone
        );
    }

    #[test]
    fn client_close_on_websocket_leaves_no_tombstone() {
        let json = Utf8Bytes::from("{}");
        let mut s = SessionState::new(Version::V4, Active::WebSocket, json, T, 4, at(0));
        s.handle_packet(Channel::WebSocket, false, InPacket::Close, at(1));
        assert!(!s.is_tombstone());
        assert_eq!(events(&mut s), [Event::Closed(CloseReason::TransportClose)]);
    }

    #[test]
    fn messages_are_events_in_order() {
        let mut s = polling(Version::V4);
        for m in ["1", "2"] {
            s.handle_packet(Channel::Polling, false, InPacket::Message(text(m)), at(1));
        }
        assert_eq!(
            events(&mut s),
            [Event::Message(text("1")), Event::Message(text("2"))]
        );
    }

    #[test]
    fn upgrade_flow() {
        let mut s = polling(Version::V4);
        assert_eq!(s.handle_get(at(1)), GetOutcome::Wait);
        assert!(s.probe_opened(at(10)));
        assert!(!s.probe_opened(at(11)), "a second WebSocket is refused");
        assert_eq!(s.take_poll_response(), None);
        let v = s.handle_packet(
            Channel::WebSocket,
            true,
            InPacket::Ping { probe: true },
            at(20),
        );
        assert_eq!(v, Verdict::Continue);
        assert_eq!(s.take_probe_frames(), [OutPacket::PongProbe]);
        assert_eq!(s.take_poll_response(), Some(vec![OutPacket::Noop]));
        // Further GETs during the probe are released at once.
        assert_eq!(
            s.handle_get(at(21)),
            GetOutcome::Respond(vec![OutPacket::Noop])
        );
        s.send(text("queued")).unwrap();
        let v = s.handle_packet(Channel::WebSocket, true, InPacket::Upgrade, at(30));
        assert_eq!(v, Verdict::Continue);
        assert_eq!(s.active(), Active::WebSocket);
        assert!(!s.is_probing());
        assert_eq!(s.take_ws_frames(), [OutPacket::Message(text("queued"))]);
        assert_eq!(s.handle_get(at(31)), GetOutcome::WrongTransport);
        // Heartbeat now over the WebSocket.
        s.handle_timeout(at(300));
        assert_eq!(s.take_ws_frames(), [OutPacket::Ping]);
        s.handle_packet(Channel::WebSocket, false, InPacket::Pong, at(310));
        assert!(s.is_open());
    }

    #[test]
    fn upgrade_releases_held_get_with_close() {
        let mut s = polling(Version::V4);
        assert!(s.probe_opened(at(1)));
        s.handle_packet(Channel::WebSocket, true, InPacket::Upgrade, at(2));
        assert_eq!(s.handle_get(at(3)), GetOutcome::WrongTransport);
        let mut s = polling(Version::V4);
        assert!(s.probe_opened(at(1)));
        // Waiting (no probe yet): a GET is held.
        assert_eq!(s.handle_get(at(2)), GetOutcome::Wait);
        s.handle_packet(Channel::WebSocket, true, InPacket::Upgrade, at(3));
        assert_eq!(s.take_poll_response(), Some(vec![OutPacket::Close]));
    }

    #[test]
    fn other_packet_on_probe_cancels_upgrade() {
        let mut s = polling(Version::V4);
        assert!(s.probe_opened(at(1)));
        let v = s.handle_packet(
            Channel::WebSocket,
            true,
            InPacket::Message(text("x")),
            at(2),
        );
        assert_eq!(v, Verdict::Stop);
        assert!(!s.is_probing());
        assert!(s.is_open());
        assert!(events(&mut s).is_empty());
        assert!(s.probe_opened(at(3)), "a new upgrade may start");
    }

    #[test]
    fn upgrade_timeout_frees_probe() {
        let mut s = polling(Version::V4);
        assert!(s.probe_opened(at(100)));
        assert_eq!(s.poll_timeout(), Some(at(300)));
        s.handle_timeout(at(300)); // ping
        assert_eq!(s.poll_timeout(), Some(at(500)));
        s.handle_packet(Channel::Polling, false, InPacket::Pong, at(301));
        s.handle_timeout(at(601)); // another ping
        s.handle_packet(Channel::Polling, false, InPacket::Pong, at(602));
        s.handle_timeout(at(1100));
        assert!(!s.is_probing());
        assert!(s.is_open());
        let v = s.handle_packet(Channel::WebSocket, true, InPacket::Upgrade, at(1101));
        assert_eq!(v, Verdict::Stop);
        assert_eq!(s.active(), Active::Polling);
    }

    #[test]
    fn probe_socket_closing_cancels_upgrade_only() {
        let mut s = polling(Version::V4);
        assert!(s.probe_opened(at(1)));
        s.ws_closed(true, true, at(2));
        assert!(s.is_open());
        assert!(!s.is_probing());
    }

    #[test]
    fn websocket_session_starts_with_open_and_closes_on_ws_close() {
        let json = Utf8Bytes::from("{\"sid\":\"x\"}");
        let mut s = SessionState::new(Version::V4, Active::WebSocket, json.clone(), T, 4, at(0));
        s.send(text("hi")).unwrap();
        assert_eq!(
            s.take_ws_frames(),
            [OutPacket::Open(json), OutPacket::Message(text("hi"))]
        );
        assert!(!s.probe_opened(at(1)));
        s.ws_closed(false, false, at(2));
        assert_eq!(events(&mut s), [Event::Closed(CloseReason::TransportClose)]);
        assert!(s.ws_should_close());
    }

    #[test]
    fn server_close_with_held_get_flushes_then_closes() {
        let mut s = polling(Version::V4);
        assert_eq!(s.handle_get(at(1)), GetOutcome::Wait);
        s.close(CloseReason::ForcedClose, at(2));
        assert_eq!(s.send(text("late")), Err(SendError::Closed));
        assert_eq!(s.take_poll_response(), Some(vec![OutPacket::Close]));
        assert_eq!(events(&mut s), [Event::Closed(CloseReason::ForcedClose)]);
        assert!(s.is_finished());
    }

    #[test]
    fn server_close_without_get_owes_noop_close_until_linger() {
        let mut s = polling(Version::V4);
        s.send(text("bye")).unwrap();
        s.close(CloseReason::ServerShuttingDown, at(10));
        assert!(!s.is_finished());
        assert_eq!(s.poll_timeout(), Some(at(5010)));
        assert_eq!(
            s.handle_get(at(20)),
            GetOutcome::Respond(vec![
                OutPacket::Message(text("bye")),
                OutPacket::Noop,
                OutPacket::Close
            ])
        );
        assert!(s.is_finished());
        assert_eq!(s.handle_get(at(21)), GetOutcome::Gone);

        let mut s = polling(Version::V4);
        s.close(CloseReason::ForcedClose, at(10));
        s.handle_timeout(at(5010));
        assert!(s.is_finished());
        assert_eq!(s.handle_get(at(5011)), GetOutcome::Gone);
    }

    #[test]
    fn cancelled_poll_closes() {
        let mut s = polling(Version::V4);
        assert_eq!(s.handle_get(at(1)), GetOutcome::Wait);
        s.poll_cancelled(at(2));
        assert_eq!(events(&mut s), [Event::Closed(CloseReason::TransportError)]);
        assert!(s.is_finished());
    }

    #[test]
    fn parse_error_closes_once() {
        let mut s = polling(Version::V4);
        s.parse_error(at(1));
        s.parse_error(at(2));
        s.close(CloseReason::ForcedClose, at(3));
        assert_eq!(events(&mut s), [Event::Closed(CloseReason::ParseError)]);
    }

    #[test]
    fn straggling_post_after_upgrade_is_dropped() {
        let mut s = polling(Version::V4);
        assert!(s.probe_opened(at(1)));
        s.handle_packet(Channel::WebSocket, true, InPacket::Upgrade, at(2));
        let v = s.handle_packet(Channel::Polling, false, InPacket::Message(text("x")), at(3));
        assert_eq!(v, Verdict::Stop);
        assert!(events(&mut s).is_empty());
    }
}
