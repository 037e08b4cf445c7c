//! Engine.IO heartbeat, client side (docs/protocol.md §1.7 and §2 item 1).
//!
//! - v4: the server sends `2` every pingInterval; the client answers `3`.
//!   The server is lost when nothing at all arrives for
//!   pingInterval + pingTimeout (the reference client re-arms this timer
//!   on pings only; any frame is proof of life, so every frame re-arms it
//!   here).
//! - v3: the client sends `2` pingInterval after the handshake and after
//!   each pong; the server must answer `3` within pingTimeout. Any frame
//!   also re-arms the pingInterval + pingTimeout silence timer, as the
//!   reference v2 client does.

use crate::engineio::Version;
use crate::Instant;

/// Heartbeat timers of an open connection.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Heartbeat {
    version: Version,
    interval: u64,
    timeout: u64,
    /// Lost when nothing arrives before this.
    silence_deadline: Instant,
    /// v3: when to send the next ping (none while one is outstanding).
    next_ping: Option<Instant>,
    /// v3: the outstanding ping's answer is due by this.
    pong_deadline: Option<Instant>,
    /// A heartbeat frame (`3` in v4, `2` in v3) is due.
    due: bool,
}

impl Heartbeat {
    /// Timers for a connection whose handshake arrived at `now`.
    pub(crate) fn new(version: Version, interval: u64, timeout: u64, now: Instant) -> Self {
        Heartbeat {
            version,
            interval,
            timeout,
            silence_deadline: now + interval.saturating_add(timeout),
            next_ping: (version == Version::V3).then(|| now + interval),
            pong_deadline: None,
            due: false,
        }
    }

    /// Any frame arrived.
    pub(crate) fn on_frame(&mut self, now: Instant) {
        self.silence_deadline = now + self.interval.saturating_add(self.timeout);
    }

    /// The server pinged (v4): a pong is due. Pings that arrive before the
    /// pong went out are answered once.
    pub(crate) fn on_ping(&mut self) {
        if self.version == Version::V4 {
            self.due = true;
        }
    }

    /// The server answered (v3): the next ping goes pingInterval from now.
    pub(crate) fn on_pong(&mut self, now: Instant) {
        if self.version == Version::V3 && self.pong_deadline.is_some() {
            self.pong_deadline = None;
            self.next_ping = Some(now + self.interval);
        }
    }

    /// The earliest timer.
    pub(crate) fn deadline(&self) -> Instant {
        [self.next_ping, self.pong_deadline]
            .into_iter()
            .flatten()
            .fold(self.silence_deadline, Instant::min)
    }

    /// Fires due timers; returns true when the server is lost.
    pub(crate) fn handle_timeout(&mut self, now: Instant) -> bool {
        if now >= self.silence_deadline {
            return true;
        }
        if self.pong_deadline.is_some_and(|d| now >= d) {
            return true;
        }
        if self.next_ping.is_some_and(|t| now >= t) {
            self.next_ping = None;
            self.pong_deadline = Some(now + self.timeout);
            self.due = true;
        }
        false
    }

    /// Takes the heartbeat frame to send, if one is due.
    pub(crate) fn take_frame(&mut self) -> Option<&'static [u8]> {
        if !self.due {
            return None;
        }
        self.due = false;
        Some(match self.version {
            Version::V4 => b"3",
            Version::V3 => b"2",
        })
    }

    /// Puts back the frame [`Heartbeat::take_frame`] gave (it could not be
    /// sent), so that it is due again.
    pub(crate) fn restore_frame(&mut self) {
        self.due = true;
    }

    /// Whether a heartbeat frame waits to be sent.
    pub(crate) fn is_due(&self) -> bool {
        self.due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> Instant {
        Instant::from_millis(ms)
    }

    #[test]
    fn v4_answers_pings_and_loses_the_server_after_silence() {
        let mut h = Heartbeat::new(Version::V4, 100, 50, at(0));
        assert_eq!(h.deadline(), at(150));
        h.on_ping();
        h.on_ping();
        assert_eq!(h.take_frame(), Some(&b"3"[..]));
        assert_eq!(h.take_frame(), None);
        h.on_frame(at(120));
        assert!(!h.handle_timeout(at(200)));
        assert_eq!(h.deadline(), at(270));
        assert!(h.handle_timeout(at(270)));
    }

    #[test]
    fn v3_pings_and_expects_a_pong() {
        let mut h = Heartbeat::new(Version::V3, 100, 50, at(0));
        assert_eq!(h.deadline(), at(100));
        assert!(!h.handle_timeout(at(100)));
        assert_eq!(h.take_frame(), Some(&b"2"[..]));
        assert_eq!(h.deadline(), at(150));
        h.on_frame(at(110));
        h.on_pong(at(110));
        assert_eq!(h.deadline(), at(210));
        assert!(!h.handle_timeout(at(210)));
        assert_eq!(h.take_frame(), Some(&b"2"[..]));
        // No answer within pingTimeout.
        assert!(h.handle_timeout(at(260)));
    }
}
