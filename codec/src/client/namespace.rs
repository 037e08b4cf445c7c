//! The namespaces a session has joined or wants to join, one fixed slot each.

use super::{INFO_CAPACITY, NAMESPACE_CAPACITY, OFFSET_CAPACITY, PID_CAPACITY};

/// Where a namespace stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// Unused (or abandoned, its name kept until its events are read).
    Free,
    /// Wants to be connected; `sent` once its CONNECT went out on the
    /// current transport.
    Connecting { sent: bool },
    /// The server accepted it.
    Connected,
    /// The application left it while connected: DISCONNECT goes out after
    /// the packets queued before it, then the slot is freed.
    Disconnecting,
}

/// One namespace.
#[derive(Debug, Clone)]
pub(crate) struct Slot {
    pub state: State,
    pub name: heapless::String<NAMESPACE_CAPACITY, u8>,
    /// The socket id while connected; the CONNECT_ERROR message after a refusal.
    pub info: heapless::String<INFO_CAPACITY, u8>,
    /// Bumped on every (re)connection, so that stale ack requests are refused.
    pub generation: u8,
    /// Connection state recovery: the private session id from the last
    /// CONNECT answer (empty when the server sent none), kept, as the
    /// reference `Socket._pid`, until the slot is given to another
    /// namespace.
    pub pid: heapless::String<PID_CAPACITY, u8>,
    /// The last offset received (the reference `_lastOffset`); `None`
    /// before the first one, or after one too long to keep.
    pub offset: Option<heapless::String<OFFSET_CAPACITY, u8>>,
}

impl Slot {
    pub(crate) const fn new() -> Self {
        Slot {
            state: State::Free,
            name: heapless::String::new(),
            info: heapless::String::new(),
            generation: 0,
            pid: heapless::String::new(),
            offset: None,
        }
    }

    /// Whether the slot asks for recovery on its next CONNECT.
    pub(crate) fn has_pid(&self) -> bool {
        !self.pid.is_empty()
    }

    /// Whether events the server sends for it are delivered: once
    /// connected, and also between a recovering CONNECT and its answer
    /// (the server replays the missed events before the answer).
    pub(crate) fn accepts_events(&self) -> bool {
        match self.state {
            State::Connected => true,
            State::Connecting { sent } => sent && self.has_pid(),
            _ => false,
        }
    }

    /// Takes the last element of an event's data array as the recovery
    /// offset when it is a string (the reference `emitEvent`: only with a
    /// pid, only for events without an ack id, whose last argument would be
    /// the ack callback). A string longer than [`OFFSET_CAPACITY`] drops
    /// the offset.
    pub(crate) fn note_offset(&mut self, payload: Option<&str>, ack_id: Option<u64>) {
        if !self.has_pid() || ack_id.is_some() {
            return;
        }
        let Some(last) = payload
            .and_then(crate::json::scan::ArrayIter::new)
            .and_then(Iterator::last)
        else {
            return;
        };
        let Some(literal) = crate::json::scan::RawStr::from_literal(last) else {
            return;
        };
        let mut offset = heapless::String::new();
        for c in literal.chars() {
            if offset.push(c).is_err() {
                self.offset = None;
                return;
            }
        }
        self.offset = Some(offset);
    }

    /// [`Slot::note_offset`] for a msgpack event: `last` is the raw
    /// msgpack of its last element.
    pub(crate) fn note_msgpack_offset(&mut self, last: Option<&[u8]>, ack_id: Option<u64>) {
        if !self.has_pid() || ack_id.is_some() {
            return;
        }
        let Some(Ok(text)) = last.map(crate::msgpack::from_slice::<&str>) else {
            return;
        };
        let mut offset = heapless::String::new();
        if offset.push_str(text).is_err() {
            self.offset = None;
            return;
        }
        self.offset = Some(offset);
    }

    /// Whether the application still wants this namespace.
    pub(crate) fn is_active(&self) -> bool {
        matches!(self.state, State::Connecting { .. } | State::Connected)
    }

    /// Whether packets the server sends for it are delivered (the server
    /// answers a CONNECT before it sends anything else on a namespace).
    pub(crate) fn accepts_packets(&self) -> bool {
        self.state == State::Connected
    }

    /// Whether its queued emits and acks may be sent (the link being open).
    pub(crate) fn may_send(&self) -> bool {
        matches!(self.state, State::Connected | State::Disconnecting)
    }

    /// Replaces `info` with `text`, cut at a character boundary to fit.
    pub(crate) fn set_info(&mut self, text: impl IntoIterator<Item = char>) {
        self.info.clear();
        for c in text {
            if self.info.push(c).is_err() {
                break;
            }
        }
    }
}
