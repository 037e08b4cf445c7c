//! The one bounded byte queue holding everything the session will send.
//!
//! Entries are stored back to back in a `[u8; Q]`, oldest first:
//!
//! ```text
//! offset 0  kind        1 = event, 2 = ack (to the server), 3 = CONNECT
//!        1  slot        namespace slot index
//!        2  flags       bit 0 volatile, bit 1 has an ack id
//!        3  n           attachment count
//!        4  text_len    u32 LE, the Engine.IO text frame (with its `4`)
//!        8  ack_id      u64 LE
//!       16  lengths     n × u32 LE, one per attachment
//!           text        text_len bytes
//!           attachments the raw bytes, in order
//! ```
//!
//! Removing an entry moves the later ones down (`copy_within`), so the
//! queue never fragments; at the sizes a microcontroller uses (a few KB) a
//! move costs microseconds. The entry being transmitted (its text sent, its
//! attachments still going out) is tracked by offset so that it is always
//! finished before anything else of Socket.IO is sent.

use core::ops::Range;

/// Bytes of an entry's fixed header.
pub(crate) const HEADER: usize = 16;
/// Bytes of each attachment length in an entry.
const LEN_BYTES: usize = 4;

/// What an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// An emit.
    Event,
    /// The answer to a server event.
    Ack,
    /// The CONNECT packet of a namespace, kept (with its auth) to be sent
    /// again on every reconnection.
    Connect,
}

impl Kind {
    const fn byte(self) -> u8 {
        match self {
            Kind::Event => 1,
            Kind::Ack => 2,
            Kind::Connect => 3,
        }
    }

    const fn from_byte(b: u8) -> Option<Kind> {
        match b {
            1 => Some(Kind::Event),
            2 => Some(Kind::Ack),
            3 => Some(Kind::Connect),
            _ => None,
        }
    }
}

/// The header of a new entry.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Head {
    pub kind: Kind,
    pub slot: u8,
    pub volatile: bool,
    pub ack_id: Option<u64>,
}

/// One stored entry, parsed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    pub offset: usize,
    pub kind: Kind,
    pub slot: u8,
    pub volatile: bool,
    pub ack_id: Option<u64>,
    pub attachments: usize,
    pub text_len: usize,
    pub total: usize,
}

impl Entry {
    fn text_range(&self) -> Range<usize> {
        let start = self.offset + HEADER + self.attachments * LEN_BYTES;
        start..start + self.text_len
    }
}

/// Why a push did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PushError<E> {
    /// Not enough free bytes.
    Full,
    /// The writer failed.
    Write(E),
}

/// The queue. `Q` is its size in bytes.
pub(crate) struct Outbox<const Q: usize> {
    buf: [u8; Q],
    len: usize,
    /// The entry being transmitted: its offset and how many of its frames
    /// (text first, then attachments) have gone out.
    sending: Option<(usize, usize)>,
}

impl<const Q: usize> Outbox<Q> {
    pub(crate) const fn new() -> Self {
        Outbox {
            buf: [0; Q],
            len: 0,
            sending: None,
        }
    }

    /// Bytes in use.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The entry at `offset`, if one starts there.
    pub(crate) fn entry_at(&self, offset: usize) -> Option<Entry> {
        let used = self.buf.get(..self.len)?;
        let head = used.get(offset..offset.checked_add(HEADER)?)?;
        let kind = Kind::from_byte(*head.first()?)?;
        let slot = *head.get(1)?;
        let flags = *head.get(2)?;
        let attachments = usize::from(*head.get(3)?);
        let text_len = usize::try_from(read_u32(head, 4)?).ok()?;
        let ack_id = read_u64(head, 8)?;
        let table_end = offset
            .checked_add(HEADER)?
            .checked_add(attachments.checked_mul(LEN_BYTES)?)?;
        let table = used.get(offset + HEADER..table_end)?;
        let mut total = table_end.checked_add(text_len)?.checked_sub(offset)?;
        for i in 0..attachments {
            let n = usize::try_from(read_u32(table, i * LEN_BYTES)?).ok()?;
            total = total.checked_add(n)?;
        }
        if offset.checked_add(total)? > self.len {
            return None;
        }
        Some(Entry {
            offset,
            kind,
            slot,
            volatile: flags & 1 != 0,
            ack_id: (flags & 2 != 0).then_some(ack_id),
            attachments,
            text_len,
            total,
        })
    }

    /// Every entry, oldest first. Each step advances by at least
    /// [`HEADER`] bytes, so the walk is bounded by `Q / HEADER`.
    pub(crate) fn entries(&self) -> impl Iterator<Item = Entry> + '_ {
        let mut offset = 0usize;
        core::iter::from_fn(move || {
            let e = self.entry_at(offset)?;
            offset = offset.checked_add(e.total)?;
            Some(e)
        })
    }

    /// The text frame of `e`.
    pub(crate) fn text(&self, e: &Entry) -> &[u8] {
        self.buf.get(e.text_range()).unwrap_or_default()
    }

    /// Attachment `index` of `e`.
    pub(crate) fn attachment(&self, e: &Entry, index: usize) -> Option<&[u8]> {
        if index >= e.attachments {
            return None;
        }
        let table = self.buf.get(e.offset + HEADER..)?;
        let mut start = e.text_range().end;
        for i in 0..index {
            let n = usize::try_from(read_u32(table, i * LEN_BYTES)?).ok()?;
            start = start.checked_add(n)?;
        }
        let n = usize::try_from(read_u32(table, index * LEN_BYTES)?).ok()?;
        self.buf.get(start..start.checked_add(n)?)
    }

    /// The entry being transmitted and how many of its frames went out.
    pub(crate) fn sending(&self) -> Option<(Entry, usize)> {
        let (offset, done) = self.sending?;
        Some((self.entry_at(offset)?, done))
    }

    /// Records that `done` frames of the entry at `offset` went out.
    pub(crate) fn set_sending(&mut self, offset: usize, done: usize) {
        self.sending = Some((offset, done));
    }

    /// Forgets transmission progress (the transport closed: the entry will
    /// be sent again from its text).
    pub(crate) fn reset_sending(&mut self) {
        self.sending = None;
    }

    /// Removes the entry at `offset`, moving later entries down.
    pub(crate) fn remove(&mut self, offset: usize) {
        let Some(e) = self.entry_at(offset) else {
            return;
        };
        let end = offset + e.total;
        self.buf.copy_within(end..self.len, offset);
        self.len -= e.total;
        self.sending = match self.sending {
            Some((o, _)) if o == offset => None,
            Some((o, done)) if o > offset => Some((o - e.total, done)),
            other => other,
        };
    }

    /// Removes every entry for which `remove` says so (never the one being
    /// transmitted), calling `removed` for each. Bounded: each step either
    /// removes an entry or moves past it.
    pub(crate) fn purge(
        &mut self,
        mut remove: impl FnMut(&Entry) -> bool,
        mut removed: impl FnMut(&Entry),
    ) {
        let mut offset = 0usize;
        while let Some(e) = self.entry_at(offset) {
            let in_flight = matches!(self.sending, Some((o, _)) if o == offset);
            if !in_flight && remove(&e) {
                self.remove(offset);
                removed(&e);
            } else {
                offset += e.total;
            }
        }
    }

    /// Appends an entry with attachments of the given lengths. `write`
    /// gets the region for the text and the region for the attachments
    /// (exactly their total length) and returns the text length it wrote.
    /// On any error nothing is added.
    pub(crate) fn push<E>(
        &mut self,
        head: Head,
        attachment_lens: &[usize],
        write: impl FnOnce(&mut [u8], &mut [u8]) -> Result<usize, E>,
    ) -> Result<usize, PushError<E>> {
        let n = attachment_lens.len();
        let count = u8::try_from(n).map_err(|_| PushError::Full)?;
        let table = n.checked_mul(LEN_BYTES).ok_or(PushError::Full)?;
        let header = HEADER.checked_add(table).ok_or(PushError::Full)?;
        let att_total = attachment_lens
            .iter()
            .try_fold(0usize, |a, b| a.checked_add(*b))
            .ok_or(PushError::Full)?;
        let start = self.len;
        let free = self.buf.get_mut(start..).ok_or(PushError::Full)?;
        if free.len() < header.saturating_add(att_total) {
            return Err(PushError::Full);
        }
        let text_room = free.len() - header - att_total;
        let (head_region, rest) = free.split_at_mut(header);
        let (text_region, att_region) = rest.split_at_mut(text_room);
        let text_len = write(text_region, att_region).map_err(PushError::Write)?;
        if text_len > text_room {
            return Err(PushError::Full);
        }
        let text_len32 = u32::try_from(text_len).map_err(|_| PushError::Full)?;
        // The header.
        let mut flags = 0u8;
        if head.volatile {
            flags |= 1;
        }
        if head.ack_id.is_some() {
            flags |= 2;
        }
        let fixed: [u8; 4] = [head.kind.byte(), head.slot, flags, count];
        put(head_region, 0, &fixed);
        put(head_region, 4, &text_len32.to_le_bytes());
        put(head_region, 8, &head.ack_id.unwrap_or(0).to_le_bytes());
        for (i, l) in attachment_lens.iter().enumerate() {
            let l = u32::try_from(*l).map_err(|_| PushError::Full)?;
            put(head_region, HEADER + i * LEN_BYTES, &l.to_le_bytes());
        }
        // Move the attachments down to right after the text.
        let att_from = Q - att_total;
        let att_to = start + header + text_len;
        self.buf.copy_within(att_from..Q, att_to);
        self.len = att_to + att_total;
        Ok(start)
    }
}

fn put(region: &mut [u8], at: usize, bytes: &[u8]) {
    if let Some(dst) = region.get_mut(at..at + bytes.len()) {
        dst.copy_from_slice(bytes);
    }
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(b))
}

fn read_u64(bytes: &[u8], at: usize) -> Option<u64> {
    let b: [u8; 8] = bytes.get(at..at.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(kind: Kind, slot: u8) -> Head {
        Head {
            kind,
            slot,
            volatile: false,
            ack_id: None,
        }
    }

    fn push_text<const Q: usize>(
        q: &mut Outbox<Q>,
        h: Head,
        text: &[u8],
        atts: &[&[u8]],
    ) -> Result<usize, PushError<()>> {
        let mut lens = [0usize; 4];
        for (l, a) in lens.iter_mut().zip(atts) {
            *l = a.len();
        }
        q.push(h, &lens[..atts.len()], |t, a| {
            t.get_mut(..text.len()).ok_or(())?.copy_from_slice(text);
            let mut pos = 0;
            for att in atts {
                a.get_mut(pos..pos + att.len())
                    .ok_or(())?
                    .copy_from_slice(att);
                pos += att.len();
            }
            Ok(text.len())
        })
    }

    #[test]
    fn entries_round_trip_and_remove_compacts() {
        let mut q: Outbox<128> = Outbox::new();
        let a = push_text(&mut q, head(Kind::Event, 0), b"42[\"a\"]", &[]).unwrap();
        let b = push_text(
            &mut q,
            Head {
                ack_id: Some(9),
                ..head(Kind::Event, 1)
            },
            b"451-[\"b\"]",
            &[&[1, 2], &[3]],
        )
        .unwrap();
        assert_eq!(a, 0);
        let e = q.entry_at(b).unwrap();
        assert_eq!(e.ack_id, Some(9));
        assert_eq!(q.text(&e), b"451-[\"b\"]");
        assert_eq!(q.attachment(&e, 0), Some(&[1u8, 2][..]));
        assert_eq!(q.attachment(&e, 1), Some(&[3u8][..]));
        assert_eq!(q.attachment(&e, 2), None);
        assert_eq!(q.entries().count(), 2);
        q.set_sending(b, 1);
        q.remove(a);
        let (moved, done) = q.sending().unwrap();
        assert_eq!((moved.offset, done), (0, 1));
        assert_eq!(q.text(&moved), b"451-[\"b\"]");
        q.remove(0);
        assert_eq!(q.len(), 0);
        assert!(q.sending().is_none());
    }

    #[test]
    fn full_queue_refuses_without_change() {
        let mut q: Outbox<40> = Outbox::new();
        push_text(&mut q, head(Kind::Ack, 0), b"0123456789", &[]).unwrap();
        let before = q.len();
        assert_eq!(
            push_text(&mut q, head(Kind::Ack, 0), b"0123456789", &[]),
            Err(PushError::Full)
        );
        assert_eq!(q.len(), before);
        assert_eq!(
            push_text(&mut q, head(Kind::Ack, 0), b"x", &[&[0; 30]]),
            Err(PushError::Full)
        );
    }

    #[test]
    fn purge_skips_the_entry_in_flight() {
        let mut q: Outbox<256> = Outbox::new();
        for slot in 0..4 {
            push_text(&mut q, head(Kind::Event, slot), b"42[1]", &[]).unwrap();
        }
        let second = q.entries().nth(1).unwrap().offset;
        q.set_sending(second, 1);
        let mut gone = 0;
        q.purge(|_| true, |_| gone += 1);
        assert_eq!(gone, 3);
        assert_eq!(q.entries().count(), 1);
        assert_eq!(q.sending().unwrap().0.slot, 1);
    }
}
