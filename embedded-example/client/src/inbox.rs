//! Events that arrive while the application waits for an acknowledgement
//! (and binary events, which the session reassembles in its own buffer),
//! copied into a fixed byte buffer until `next_event` hands them out.

use core::fmt::Write as _;
use oxio_codec::client::{AckRequest, MAX_ATTACHMENTS};
use oxio_codec::socketio::{Packet, PacketType};

/// An event read back: text, attachments, ack request.
pub(crate) type Entry<'a> = (
    &'a [u8],
    heapless::Vec<&'a [u8], MAX_ATTACHMENTS>,
    Option<AckRequest>,
);

/// Most events held at once.
pub(crate) const INBOX_EVENTS: usize = 8;

#[derive(Clone, Copy)]
struct Meta {
    ack: Option<AckRequest>,
    text_len: usize,
    total: usize,
    attachments: usize,
}

/// A FIFO of events: each is its Socket.IO text (without the ack id) then
/// its attachments, each as a 2-byte length and the bytes.
pub(crate) struct Inbox<const N: usize> {
    buf: [u8; N],
    len: usize,
    metas: heapless::Deque<Meta, INBOX_EVENTS>,
}

struct Cursor<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl Cursor<'_> {
    fn put(&mut self, bytes: &[u8]) -> Option<()> {
        let end = self.len.checked_add(bytes.len())?;
        self.buf.get_mut(self.len..end)?.copy_from_slice(bytes);
        self.len = end;
        Some(())
    }
}

impl core::fmt::Write for Cursor<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.put(s.as_bytes()).ok_or(core::fmt::Error)
    }
}

impl<const N: usize> Inbox<N> {
    pub(crate) const fn new() -> Self {
        Inbox {
            buf: [0; N],
            len: 0,
            metas: heapless::Deque::new(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.metas.is_empty()
    }

    /// Copies an event in; false (and nothing kept) when it does not fit.
    pub(crate) fn push(&mut self, packet: &Packet<'_>, ack: Option<AckRequest>) -> bool {
        if self.metas.is_full() {
            return false;
        }
        let start = self.len;
        let Some(rest) = self.buf.get_mut(start..) else {
            return false;
        };
        let mut c = Cursor { buf: rest, len: 0 };
        let count = packet.attachment_count();
        let binary = packet.packet_type() == PacketType::BinaryEvent;
        let nsp = packet.namespace();
        let ok = (|| {
            if binary {
                write!(c, "5{count}-").ok()?;
            } else {
                c.put(b"2")?;
            }
            if nsp != "/" && !nsp.is_empty() {
                write!(c, "{nsp},").ok()?;
            }
            c.put(packet.payload()?.as_bytes())?;
            let text_len = c.len;
            let atts = if binary {
                count.min(MAX_ATTACHMENTS)
            } else {
                0
            };
            for i in 0..atts {
                let bytes = packet.attachments()?.get(i)?;
                let n = u16::try_from(bytes.len()).ok()?;
                c.put(&n.to_le_bytes())?;
                c.put(bytes)?;
            }
            Some((text_len, atts))
        })();
        let Some((text_len, attachments)) = ok else {
            return false;
        };
        let total = c.len;
        self.len = start.saturating_add(total);
        let _ = self.metas.push_back(Meta {
            ack,
            text_len,
            total,
            attachments,
        });
        true
    }

    /// The oldest event: its text, attachments and ack request.
    /// Keeps a msgpack event's whole frame (bytes inline, no attachments).
    #[cfg(feature = "msgpack")]
    pub(crate) fn push_frame(&mut self, frame: &[u8], ack: Option<AckRequest>) -> bool {
        let start = self.len;
        let end = start.saturating_add(frame.len());
        if self.metas.is_full() {
            return false;
        }
        let Some(dst) = self.buf.get_mut(start..end) else {
            return false;
        };
        dst.copy_from_slice(frame);
        self.len = end;
        let _ = self.metas.push_back(Meta {
            ack,
            text_len: frame.len(),
            total: frame.len(),
            attachments: 0,
        });
        true
    }

    pub(crate) fn front(&self) -> Option<Entry<'_>> {
        let meta = self.metas.front()?;
        let entry = self.buf.get(..meta.total)?;
        let (text, mut rest) = entry.split_at_checked(meta.text_len)?;
        let mut atts = heapless::Vec::new();
        for _ in 0..meta.attachments {
            let (len, tail) = rest.split_at_checked(2)?;
            let n = usize::from(u16::from_le_bytes([*len.first()?, *len.get(1)?]));
            let (bytes, tail) = tail.split_at_checked(n)?;
            atts.push(bytes).ok()?;
            rest = tail;
        }
        Some((text, atts, meta.ack))
    }

    /// Removes the oldest event.
    pub(crate) fn pop(&mut self) {
        if let Some(meta) = self.metas.pop_front() {
            let total = meta.total.min(self.len);
            self.buf.copy_within(total..self.len, 0);
            self.len = self.len.saturating_sub(total);
        }
    }

    pub(crate) fn clear(&mut self) {
        self.len = 0;
        self.metas.clear();
    }
}
