//! Where a binary packet from the server waits for its attachments.
//!
//! The driver reuses its frame buffer for every WebSocket message, so the
//! text of a BINARY_EVENT / BINARY_ACK cannot stay borrowed while its
//! attachments arrive. It is copied into a `[u8; R]` owned by the session,
//! and each attachment is appended after it:
//!
//! ```text
//! [ text | attachment 0 | attachment 1 | ... |  free  ]
//!          ends[0]        ends[1]
//! ```
//!
//! When the last one is in, the packet is decoded again from the buffer
//! and handed out with the buffer as its [`Attachments`], so everything the
//! application reads borrows the session until its next call. A packet
//! that does not fit is skipped: its remaining attachments are counted and
//! discarded as they arrive, and the connection is kept.

use super::MAX_ATTACHMENTS;
use crate::json::de::Attachments;
use crate::Instant;

/// What taking one attachment led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Progress {
    /// More attachments are expected.
    Pending,
    /// The packet is complete; read it with [`Reassembly::text`].
    Complete,
    /// The frame belonged to a skipped packet and was discarded.
    Skipped,
}

/// Why an attachment or a header was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// Nothing was expected (a protocol error).
    Unexpected,
    /// The packet does not fit; it is now skipped.
    TooLarge { needed: usize },
}

/// The reassembly buffer. `R` is its size in bytes.
pub(crate) struct Reassembly<const R: usize> {
    buf: [u8; R],
    text_len: usize,
    /// End offset of each attachment received so far.
    ends: heapless::Vec<u32, MAX_ATTACHMENTS, u8>,
    /// Attachments announced by the waiting packet (0: none waiting).
    expected: usize,
    /// Attachments still to discard for a skipped packet.
    skip: usize,
    deadline: Option<Instant>,
}

impl<const R: usize> Reassembly<R> {
    pub(crate) const fn new() -> Self {
        Reassembly {
            buf: [0; R],
            text_len: 0,
            ends: heapless::Vec::new(),
            expected: 0,
            skip: 0,
            deadline: None,
        }
    }

    /// Whether attachments are expected (for a kept or a skipped packet).
    pub(crate) fn is_waiting(&self) -> bool {
        self.expected > 0 || self.skip > 0
    }

    /// When the waiting packet expires.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.deadline.filter(|_| self.is_waiting())
    }

    /// Drops whatever is waiting.
    pub(crate) fn reset(&mut self) {
        self.text_len = 0;
        self.ends.clear();
        self.expected = 0;
        self.skip = 0;
        self.deadline = None;
    }

    /// Starts a packet: copies its text and expects `count` (≥ 1)
    /// attachments until `deadline`.
    pub(crate) fn start(
        &mut self,
        text: &str,
        count: usize,
        deadline: Instant,
    ) -> Result<(), Refused> {
        self.reset();
        self.deadline = Some(deadline);
        match self.buf.get_mut(..text.len()) {
            Some(dst) if count <= MAX_ATTACHMENTS => {
                dst.copy_from_slice(text.as_bytes());
                self.text_len = text.len();
                self.expected = count;
                Ok(())
            }
            _ => {
                self.skip = count;
                Err(Refused::TooLarge { needed: text.len() })
            }
        }
    }

    /// Takes one attachment: `len` bytes written by `fill` into the space
    /// it is given (which is at least `len` long). `fill` returns false if
    /// the bytes turned out invalid (bad base64), which refuses the frame.
    pub(crate) fn push(
        &mut self,
        len: usize,
        fill: impl FnOnce(&mut [u8]) -> bool,
    ) -> Result<Progress, Refused> {
        if self.skip > 0 {
            self.skip -= 1;
            if self.skip == 0 {
                self.reset();
            }
            return Ok(Progress::Skipped);
        }
        if self.expected == 0 {
            return Err(Refused::Unexpected);
        }
        let start = self.ends.last().map_or(self.text_len, |e| *e as usize);
        let end = start.saturating_add(len);
        let room = match (self.buf.get_mut(start..end), u32::try_from(end)) {
            (Some(dst), Ok(end32)) => Some((dst, end32)),
            _ => None,
        };
        let stored = match room {
            Some((dst, end32)) => {
                if !fill(dst) {
                    return Err(Refused::Unexpected);
                }
                self.ends.push(end32).is_ok()
            }
            None => false,
        };
        if !stored {
            // Skip what is left of this packet (this frame is consumed).
            let remaining = self.expected.saturating_sub(self.ends.len() + 1);
            let deadline = self.deadline;
            self.reset();
            self.skip = remaining;
            self.deadline = deadline;
            return Err(Refused::TooLarge { needed: end });
        }
        if self.ends.len() < self.expected {
            Ok(Progress::Pending)
        } else {
            self.expected = 0;
            self.deadline = None;
            Ok(Progress::Complete)
        }
    }

    /// The text of the last completed packet.
    pub(crate) fn text(&self) -> Option<&str> {
        core::str::from_utf8(self.buf.get(..self.text_len)?).ok()
    }

    /// The buffer's size.
    pub(crate) const fn capacity(&self) -> usize {
        R
    }
}

impl<const R: usize> Attachments for Reassembly<R> {
    fn count(&self) -> usize {
        self.ends.len()
    }

    fn get(&self, index: usize) -> Option<&[u8]> {
        let start = match index.checked_sub(1) {
            None => self.text_len,
            Some(prev) => *self.ends.get(prev)? as usize,
        };
        let end = *self.ends.get(index)? as usize;
        self.buf.get(start..end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy(bytes: &[u8]) -> impl FnOnce(&mut [u8]) -> bool + '_ {
        move |dst| {
            dst.copy_from_slice(bytes);
            true
        }
    }

    #[test]
    fn collects_attachments_after_the_text() {
        let mut r: Reassembly<64> = Reassembly::new();
        let t = Instant::from_millis(5);
        r.start("52-[\"x\"]", 2, t).unwrap();
        assert_eq!(r.deadline(), Some(t));
        assert_eq!(r.push(2, copy(&[1, 2])), Ok(Progress::Pending));
        assert_eq!(r.push(1, copy(&[3])), Ok(Progress::Complete));
        assert_eq!(r.text(), Some("52-[\"x\"]"));
        assert_eq!(Attachments::get(&r, 0), Some(&[1u8, 2][..]));
        assert_eq!(Attachments::get(&r, 1), Some(&[3u8][..]));
        assert_eq!(r.count(), 2);
        assert_eq!(r.deadline(), None);
        assert_eq!(r.push(1, copy(&[9])), Err(Refused::Unexpected));
    }

    #[test]
    fn too_large_packets_are_skipped_frame_by_frame() {
        let mut r: Reassembly<8> = Reassembly::new();
        let t = Instant::from_millis(0);
        assert_eq!(
            r.start("51-[\"too long\"]", 2, t),
            Err(Refused::TooLarge { needed: 15 })
        );
        assert!(r.is_waiting());
        assert_eq!(r.push(100, copy(&[])), Ok(Progress::Skipped));
        assert_eq!(r.push(100, copy(&[])), Ok(Progress::Skipped));
        assert!(!r.is_waiting());
        // An attachment that overflows: the rest of the packet is skipped.
        r.start("53-[1]", 3, t).unwrap();
        assert_eq!(
            r.push(10, copy(&[0; 10])),
            Err(Refused::TooLarge { needed: 16 })
        );
        assert_eq!(r.push(1, copy(&[0])), Ok(Progress::Skipped));
        assert_eq!(r.push(1, copy(&[0])), Ok(Progress::Skipped));
        assert_eq!(r.push(1, copy(&[0])), Err(Refused::Unexpected));
    }
}
