//! Emits waiting for the server's acknowledgement: a fixed table of
//! 16-byte entries.

use super::event::CancelReason;
use crate::Instant;

/// Where a pending ack stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AckState {
    /// Waiting until the deadline.
    Waiting,
    /// The deadline passed; to be reported.
    TimedOut,
    /// It will never come; to be reported.
    Cancelled(CancelReason),
}

/// One emit waiting for its ack. Ids are the session's own counter, kept
/// below 2^32 so that an entry stays 16 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PendingAck {
    pub deadline: Instant,
    pub id: u32,
    pub slot: u8,
    pub state: AckState,
}

impl PendingAck {
    /// Whether it still waits for an answer.
    pub(crate) fn is_waiting(&self) -> bool {
        self.state == AckState::Waiting
    }

    /// Whether it is the ack `id` of `slot`.
    pub(crate) fn is(&self, slot: u8, id: u64) -> bool {
        self.slot == slot && u64::from(self.id) == id
    }

    /// Cancels it if it still waits.
    pub(crate) fn cancel(&mut self, reason: CancelReason) {
        if self.is_waiting() {
            self.state = AckState::Cancelled(reason);
        }
    }
}
