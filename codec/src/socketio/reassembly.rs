//! Where a binary packet waits for its attachments.
//!
//! After a BINARY_EVENT or BINARY_ACK header announcing N attachments, the
//! next N Engine.IO messages must be binary; the packet is complete after
//! the N-th. The [`Reassembler`] enforces that order (a text message in
//! between, or a binary message nobody announced, is an error), the
//! attachment count and byte limits, and a deadline computed from the
//! caller's clock, so a driver can drop a packet whose attachments never
//! come. Frames are held as the driver's own buffer type (`Bytes`, `Vec`,
//! a pool slot...): nothing is copied.

use super::packet::{Layout, Packet};
use super::{Decoder, Error};
use crate::json::de::Attachments;
use crate::Instant;
use core::marker::PhantomData;

/// Storage for the attachments of one packet: `heapless::Vec<B, N>` on a
/// microcontroller, `Vec<B>` with `alloc`.
pub trait AttachmentStore<B>: Default {
    /// Appends `item`, or gives it back when full.
    fn push_attachment(&mut self, item: B) -> Result<(), B>;
    /// Most attachments this store can hold.
    fn capacity_hint(&self) -> usize;
    /// The attachments held, in arrival order.
    fn as_items(&self) -> &[B];
}

impl<B, const N: usize> AttachmentStore<B> for heapless::Vec<B, N> {
    fn push_attachment(&mut self, item: B) -> Result<(), B> {
        self.push(item)
    }
    fn capacity_hint(&self) -> usize {
        N
    }
    fn as_items(&self) -> &[B] {
        self
    }
}

#[cfg(feature = "alloc")]
impl<B> AttachmentStore<B> for alloc::vec::Vec<B> {
    fn push_attachment(&mut self, item: B) -> Result<(), B> {
        self.push(item);
        Ok(())
    }
    fn capacity_hint(&self) -> usize {
        usize::MAX
    }
    fn as_items(&self) -> &[B] {
        self
    }
}

#[derive(Debug)]
struct Pending<T> {
    text: T,
    layout: Option<Layout>,
    expected: usize,
    bytes: usize,
    deadline: Instant,
}

/// Collects binary attachments after a binary packet header.
///
/// `T` is the driver's owned text frame, `B` its binary frame, `S` where
/// attachments are kept.
///
/// ```
/// use oxio_codec::socketio::{Decoder, Reassembler};
/// use oxio_codec::Instant;
///
/// let mut r: Reassembler<&str, &[u8], heapless::Vec<&[u8], 4>> = Reassembler::new(Decoder::default());
/// let t0 = Instant::from_millis(0);
/// assert!(r.on_text(r#"51-["up",{"_placeholder":true,"num":0}]"#, t0).unwrap().is_none());
/// assert_eq!(r.poll_timeout(), Some(t0 + 30_000));
/// let done = r.on_binary(&[1, 2, 3][..], t0).unwrap().unwrap();
/// let (data,): (oxio_codec::socketio::Binary,) = done.packet().unwrap().args().unwrap();
/// assert_eq!(data.0, [1, 2, 3]);
/// ```
#[derive(Debug)]
pub struct Reassembler<T, B, S> {
    decoder: Decoder,
    pending: Option<Pending<T>>,
    store: S,
    _frames: PhantomData<B>,
}

impl<T: AsRef<str>, B: AsRef<[u8]>, S: AttachmentStore<B>> Reassembler<T, B, S> {
    /// A reassembler that decodes headers with `decoder` and applies its limits.
    pub fn new(decoder: Decoder) -> Self {
        Reassembler {
            decoder,
            pending: None,
            store: S::default(),
            _frames: PhantomData,
        }
    }

    /// Whether a binary packet is waiting for attachments.
    pub fn is_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// Takes a text message. A non-binary packet is complete at once; a
    /// binary one is held and `Ok(None)` returned.
    pub fn on_text(&mut self, text: T, now: Instant) -> Result<Option<Complete<T, S>>, Error> {
        if self.pending.is_some() {
            self.reset();
            return Err(Error::UnexpectedText);
        }
        let packet = self.decoder.decode(text.as_ref())?;
        let expected = packet.attachment_count();
        let layout = packet.layout(text.as_ref());
        if expected == 0 {
            return Ok(Some(Complete {
                text,
                layout,
                attachments: S::default(),
                decoder: self.decoder,
            }));
        }
        if expected > self.store.capacity_hint() {
            return Err(Error::TooManyAttachments {
                count: expected,
                max: self.store.capacity_hint(),
            });
        }
        self.pending = Some(Pending {
            text,
            layout,
            expected,
            bytes: 0,
            deadline: now + self.decoder.limits.attachment_timeout_ms,
        });
        Ok(None)
    }

    /// Takes a binary message; returns the packet once its last attachment is in.
    pub fn on_binary(&mut self, data: B, now: Instant) -> Result<Option<Complete<T, S>>, Error> {
        let Some(pending) = self.pending.as_mut() else {
            return Err(Error::UnexpectedBinary);
        };
        if now >= pending.deadline {
            self.reset();
            return Err(Error::AttachmentTimeout);
        }
        pending.bytes = pending.bytes.saturating_add(data.as_ref().len());
        if pending.bytes > self.decoder.limits.max_attachment_bytes {
            self.reset();
            return Err(Error::AttachmentsTooLarge);
        }
        let expected = pending.expected;
        if self.store.push_attachment(data).is_err() {
            self.reset();
            return Err(Error::TooManyAttachments {
                count: expected,
                max: self.store.capacity_hint(),
            });
        }
        if self.store.as_items().len() < expected {
            return Ok(None);
        }
        let (text, layout) = match self.pending.take() {
            Some(p) => (p.text, p.layout),
            None => return Err(Error::UnexpectedBinary),
        };
        Ok(Some(Complete {
            text,
            layout,
            attachments: core::mem::take(&mut self.store),
            decoder: self.decoder,
        }))
    }

    /// When the waiting packet expires, if one is waiting.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.pending.as_ref().map(|p| p.deadline)
    }

    /// Call when the clock reaches [`Reassembler::poll_timeout`]: drops an
    /// expired packet and reports it.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), Error> {
        match &self.pending {
            Some(p) if now >= p.deadline => {
                self.reset();
                Err(Error::AttachmentTimeout)
            }
            _ => Ok(()),
        }
    }

    /// Drops any waiting packet and its attachments.
    pub fn reset(&mut self) {
        self.pending = None;
        self.store = S::default();
    }
}

/// A packet with all its attachments.
#[derive(Debug)]
pub struct Complete<T, S> {
    text: T,
    /// The header decoded in `on_text`, so `packet()` need not decode again.
    layout: Option<Layout>,
    attachments: S,
    decoder: Decoder,
}

impl<T: AsRef<str>, S> Complete<T, S> {
    /// The packet, with placeholders resolving to the attachments.
    pub fn packet(&self) -> Result<Packet<'_>, Error>
    where
        S: Attachments,
    {
        let text = self.text.as_ref();
        // The frame was validated in `on_text`; decode again only if the
        // owned frame no longer matches the recorded layout.
        let packet = match self
            .layout
            .as_ref()
            .and_then(|l| Packet::from_layout(text, l))
        {
            Some(p) => p,
            None => self.decoder.decode(text)?,
        };
        Ok(packet.with_attachments(&self.attachments))
    }

    /// The text frame.
    pub fn text(&self) -> &T {
        &self.text
    }

    /// The attachments, in order.
    pub fn attachments(&self) -> &S {
        &self.attachments
    }

    /// The text frame and the attachments.
    pub fn into_parts(self) -> (T, S) {
        (self.text, self.attachments)
    }
}
