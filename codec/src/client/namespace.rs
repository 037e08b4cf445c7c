//! The namespaces a session has joined or wants to join, one fixed slot each.

use super::{INFO_CAPACITY, NAMESPACE_CAPACITY};

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
}

impl Slot {
    pub(crate) const fn new() -> Self {
        Slot {
            state: State::Free,
            name: heapless::String::new(),
            info: heapless::String::new(),
            generation: 0,
        }
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
