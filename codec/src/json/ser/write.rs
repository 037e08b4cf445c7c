//! Output targets ([`Write`]) and attachment receivers ([`BinarySink`]).

use crate::json::JsonError;

/// A byte sink the serializer writes JSON text into.
///
/// The serializer is generic over the writer, so every call is static
/// dispatch; string runs that need no escaping arrive in one `write_all`.
/// A writer either takes all of `bytes` or fails: partial writes are not
/// reported, because a failed serialization is discarded as a whole.
pub trait Write {
    /// Appends all of `bytes`, or fails (typically with
    /// [`JsonError::BufferFull`]).
    fn write_all(&mut self, bytes: &[u8]) -> Result<(), JsonError>;

    /// Appends one byte. Writers may override this with a cheaper path.
    #[inline]
    fn write_byte(&mut self, byte: u8) -> Result<(), JsonError> {
        self.write_all(&[byte])
    }

    /// Appends `head`, `body` and `tail`, in that order, or fails. The
    /// serializer writes every string that needs no escaping this way
    /// (`"` + text + `"`, or `,"` + key + `":`), so a writer that checks
    /// its space once for the three parts saves two checks per string.
    #[inline]
    fn write_parts(&mut self, head: &[u8], body: &[u8], tail: &[u8]) -> Result<(), JsonError> {
        self.write_all(head)?;
        self.write_all(body)?;
        self.write_all(tail)
    }
}

impl<W: Write + ?Sized> Write for &mut W {
    #[inline]
    fn write_all(&mut self, bytes: &[u8]) -> Result<(), JsonError> {
        (**self).write_all(bytes)
    }

    #[inline]
    fn write_byte(&mut self, byte: u8) -> Result<(), JsonError> {
        (**self).write_byte(byte)
    }

    #[inline]
    fn write_parts(&mut self, head: &[u8], body: &[u8], tail: &[u8]) -> Result<(), JsonError> {
        (**self).write_parts(head, body, tail)
    }
}

/// Copies `src` into `dst`, which must have the same length (else nothing
/// is copied). Up to 16 bytes go as two overlapping fixed-size moves
/// instead of a call to `memcpy`: most keys and short values are that
/// small, and the call dominated their cost.
#[inline(always)]
pub(crate) fn copy_short(dst: &mut [u8], src: &[u8]) {
    let n = src.len();
    if dst.len() != n {
        return;
    }
    if (8..=16).contains(&n) {
        copy_fixed::<8>(dst, src, 0);
        copy_fixed::<8>(dst, src, n - 8);
    } else if (4..8).contains(&n) {
        copy_fixed::<4>(dst, src, 0);
        copy_fixed::<4>(dst, src, n - 4);
    } else if n > 16 {
        dst.copy_from_slice(src);
    } else if n > 0 {
        // 1 to 3 bytes: first, middle, last (overlapping as needed).
        for i in [0, n / 2, n - 1] {
            if let (Some(d), Some(s)) = (dst.get_mut(i), src.get(i)) {
                *d = *s;
            }
        }
    }
}

#[inline(always)]
fn copy_fixed<const N: usize>(dst: &mut [u8], src: &[u8], at: usize) {
    let s = src.get(at..).and_then(|s| s.first_chunk::<N>());
    let d = dst.get_mut(at..).and_then(|d| d.first_chunk_mut::<N>());
    if let (Some(d), Some(s)) = (d, s) {
        *d = *s;
    }
}

/// [`Write::write_parts`] for a writer over a fixed buffer holding `*len`
/// bytes: one space check for the three parts.
#[inline(always)]
pub(crate) fn put_parts(
    buf: &mut [u8],
    len: &mut usize,
    head: &[u8],
    body: &[u8],
    tail: &[u8],
) -> Result<(), JsonError> {
    let start = *len;
    let body_at = start + head.len();
    let tail_at = body_at
        .checked_add(body.len())
        .ok_or(JsonError::BufferFull)?;
    let end = tail_at + tail.len();
    let dst = buf.get_mut(start..end).ok_or(JsonError::BufferFull)?;
    // Each part through a slice of its own (constant) length, so that the
    // head and tail copies are plain moves.
    if let Some(h) = dst.get_mut(..head.len()) {
        h.copy_from_slice(head);
    }
    if let Some(b) = dst.get_mut(head.len()..tail_at - start) {
        copy_short(b, body);
    }
    if let Some(t) = dst
        .get_mut(tail_at - start..)
        .and_then(|t| t.get_mut(..tail.len()))
    {
        t.copy_from_slice(tail);
    }
    *len = end;
    Ok(())
}

/// Writes into a caller-supplied buffer, without allocating.
///
/// A write that does not fit fails with [`JsonError::BufferFull`] and leaves
/// the buffer contents unspecified past [`len`](Self::len).
///
/// ```
/// use oxio_codec::json::ser::{SliceWriter, Write};
///
/// let mut buf = [0u8; 4];
/// let mut w = SliceWriter::new(&mut buf);
/// w.write_all(b"abc").unwrap();
/// assert_eq!(w.written(), b"abc");
/// assert!(w.write_all(b"de").is_err());
/// assert_eq!(w.len(), 3);
/// ```
#[derive(Debug)]
pub struct SliceWriter<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> SliceWriter<'a> {
    /// Starts writing at the beginning of `buf`.
    pub fn new(buf: &'a mut [u8]) -> Self {
        SliceWriter { buf, len: 0 }
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing has been written yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Total size of the underlying buffer.
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// The bytes written so far.
    pub fn written(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }

    /// Gives back the written part of the buffer with the buffer's lifetime.
    pub fn into_written(self) -> &'a [u8] {
        let len = self.len;
        let buf: &'a [u8] = self.buf;
        buf.get(..len).unwrap_or(&[])
    }
}

impl Write for SliceWriter<'_> {
    #[inline]
    fn write_all(&mut self, bytes: &[u8]) -> Result<(), JsonError> {
        let end = self
            .len
            .checked_add(bytes.len())
            .ok_or(JsonError::BufferFull)?;
        let dst = self
            .buf
            .get_mut(self.len..end)
            .ok_or(JsonError::BufferFull)?;
        dst.copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }

    #[inline]
    fn write_byte(&mut self, byte: u8) -> Result<(), JsonError> {
        let slot = self.buf.get_mut(self.len).ok_or(JsonError::BufferFull)?;
        *slot = byte;
        self.len += 1;
        Ok(())
    }

    #[inline]
    fn write_parts(&mut self, head: &[u8], body: &[u8], tail: &[u8]) -> Result<(), JsonError> {
        put_parts(self.buf, &mut self.len, head, body, tail)
    }
}

/// Counts bytes without storing them: serialize once into a `LenCounter`
/// to size a buffer exactly.
///
/// ```
/// use oxio_codec::json::ser::{to_writer, LenCounter};
///
/// let mut counter = LenCounter::new();
/// to_writer(&mut counter, &("a", 10), None).unwrap();
/// assert_eq!(counter.len(), br#"["a",10]"#.len());
/// ```
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LenCounter {
    len: usize,
}

impl LenCounter {
    /// A counter at zero.
    pub const fn new() -> Self {
        LenCounter { len: 0 }
    }

    /// Bytes counted so far.
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing has been counted.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Write for LenCounter {
    #[inline]
    fn write_all(&mut self, bytes: &[u8]) -> Result<(), JsonError> {
        self.len = self
            .len
            .checked_add(bytes.len())
            .ok_or(JsonError::BufferFull)?;
        Ok(())
    }
}

/// Appends to the vector; never fails (allocation failure aborts, as usual
/// for `Vec`).
#[cfg(feature = "alloc")]
impl Write for alloc::vec::Vec<u8> {
    #[inline]
    fn write_all(&mut self, bytes: &[u8]) -> Result<(), JsonError> {
        self.extend_from_slice(bytes);
        Ok(())
    }

    #[inline]
    fn write_byte(&mut self, byte: u8) -> Result<(), JsonError> {
        self.push(byte);
        Ok(())
    }

    #[inline]
    fn write_parts(&mut self, head: &[u8], body: &[u8], tail: &[u8]) -> Result<(), JsonError> {
        self.reserve(head.len() + body.len() + tail.len());
        self.extend_from_slice(head);
        self.extend_from_slice(body);
        self.extend_from_slice(tail);
        Ok(())
    }
}

/// Receives the binary values the serializer replaced by placeholders.
///
/// `index` is the placeholder's `num`: 0, 1, 2… in serialization order,
/// which is the order the attachments must be sent in. Any
/// `FnMut(usize, &[u8])` closure is a sink; implement the trait yourself to
/// be able to fail (for example when a fixed attachment table is full).
///
/// ```
/// use oxio_codec::json::ser::{to_slice_with_sink, BinarySink};
/// use serde_bytes::Bytes;
///
/// let mut total = 0;
/// let mut sink = |_index: usize, bytes: &[u8]| total += bytes.len();
/// let mut buf = [0u8; 64];
/// let (len, count) = to_slice_with_sink(&(Bytes::new(&[1, 2, 3]),), &mut buf, &mut sink).unwrap();
/// assert_eq!(&buf[..len], br#"[{"_placeholder":true,"num":0}]"#);
/// assert_eq!((count, total), (1, 3));
/// ```
pub trait BinarySink {
    /// Takes attachment number `index`.
    fn attachment(&mut self, index: usize, bytes: &[u8]) -> Result<(), JsonError>;
}

impl<F: FnMut(usize, &[u8])> BinarySink for F {
    #[inline]
    fn attachment(&mut self, index: usize, bytes: &[u8]) -> Result<(), JsonError> {
        self(index, bytes);
        Ok(())
    }
}

/// A sink that only counts attachments and their bytes: serialize into a
/// [`LenCounter`] with it to learn the packet's attachment count and total
/// binary size before encoding for real.
///
/// ```
/// use oxio_codec::json::ser::{to_writer, AttachmentCounter, LenCounter};
/// use serde_bytes::Bytes;
///
/// let mut len = LenCounter::new();
/// let mut counter = AttachmentCounter::new();
/// let n = to_writer(&mut len, &[Bytes::new(b"ab"), Bytes::new(b"c")], Some(&mut counter)).unwrap();
/// assert_eq!((n, counter.count(), counter.bytes()), (2, 2, 3));
/// ```
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct AttachmentCounter {
    count: usize,
    bytes: usize,
}

impl AttachmentCounter {
    /// A counter at zero.
    pub const fn new() -> Self {
        AttachmentCounter { count: 0, bytes: 0 }
    }

    /// Attachments seen.
    pub const fn count(&self) -> usize {
        self.count
    }

    /// Total bytes in the attachments seen.
    pub const fn bytes(&self) -> usize {
        self.bytes
    }
}

impl BinarySink for AttachmentCounter {
    fn attachment(&mut self, _index: usize, bytes: &[u8]) -> Result<(), JsonError> {
        self.count = self.count.saturating_add(1);
        self.bytes = self.bytes.saturating_add(bytes.len());
        Ok(())
    }
}
