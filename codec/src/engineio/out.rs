//! Where the payload writers put their bytes: a caller's fixed slice, or
//! (with `alloc`) a growing `Vec`. Internal; the writers wrap it.

use super::Error;

/// An append-only output that hands out exactly sized regions to fill.
pub(crate) enum Out<'b> {
    /// A fixed buffer; `len` bytes of it are written.
    Slice { buf: &'b mut [u8], len: usize },
    /// A vector; everything from `start` on was written through this `Out`.
    #[cfg(feature = "alloc")]
    Vec {
        vec: &'b mut alloc::vec::Vec<u8>,
        start: usize,
    },
}

impl<'b> Out<'b> {
    pub(crate) fn slice(buf: &'b mut [u8]) -> Self {
        Out::Slice { buf, len: 0 }
    }

    #[cfg(feature = "alloc")]
    pub(crate) fn vec(vec: &'b mut alloc::vec::Vec<u8>) -> Self {
        let start = vec.len();
        Out::Vec { vec, start }
    }

    /// Bytes written so far.
    pub(crate) fn len(&self) -> usize {
        match self {
            Out::Slice { len, .. } => *len,
            #[cfg(feature = "alloc")]
            Out::Vec { vec, start } => vec.len().saturating_sub(*start),
        }
    }

    /// The bytes written so far.
    pub(crate) fn written(&self) -> &[u8] {
        match self {
            Out::Slice { buf, len } => buf.get(..*len).unwrap_or(&[]),
            #[cfg(feature = "alloc")]
            Out::Vec { vec, start } => vec.get(*start..).unwrap_or(&[]),
        }
    }

    /// Reserves the next `n` bytes and returns them to be filled. On
    /// [`Error::BufferFull`] nothing changes.
    pub(crate) fn append(&mut self, n: usize) -> Result<&mut [u8], Error> {
        match self {
            Out::Slice { buf, len } => {
                let end = len.checked_add(n).ok_or(Error::BufferFull)?;
                let region = buf.get_mut(*len..end).ok_or(Error::BufferFull)?;
                *len = end;
                Ok(region)
            }
            #[cfg(feature = "alloc")]
            Out::Vec { vec, .. } => {
                let old = vec.len();
                let end = old.checked_add(n).ok_or(Error::BufferFull)?;
                vec.try_reserve(n).map_err(|_| Error::BufferFull)?;
                vec.resize(end, 0);
                vec.get_mut(old..).ok_or(Error::BufferFull)
            }
        }
    }

    /// Forgets everything written after the first `len` bytes (used to undo
    /// a half-written entry, so a failed push leaves no trace).
    pub(crate) fn truncate(&mut self, len: usize) {
        match self {
            Out::Slice { len: written, .. } => *written = (*written).min(len),
            #[cfg(feature = "alloc")]
            Out::Vec { vec, start } => vec.truncate(start.saturating_add(len)),
        }
    }
}

/// Copies `bytes` to the front of `out` and returns the rest of `out`.
pub(crate) fn put<'o>(out: &'o mut [u8], bytes: &[u8]) -> Result<&'o mut [u8], Error> {
    let (head, tail) = out
        .split_at_mut_checked(bytes.len())
        .ok_or(Error::BufferFull)?;
    head.copy_from_slice(bytes);
    Ok(tail)
}
