//! Every bound the decoders enforce, in one place.
//!
//! A decoder that is handed untrusted bytes must never allocate, recurse or
//! loop without a bound. Each field below is such a bound; the defaults follow
//! the reference Node.js server where it has one, and are otherwise chosen so
//! that every real client fits while a hostile one cannot exhaust memory.

/// Limits applied while decoding. Start from [`Limits::default()`] and change
/// the fields you need.
///
/// ```
/// use oxio_codec::Limits;
///
/// let limits = Limits { max_attachments: 4, ..Limits::default() };
/// assert_eq!(limits.max_depth, 128);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Limits {
    /// Largest Engine.IO packet or polling payload, in bytes. Default
    /// 1 000 000, the reference `maxHttpBufferSize`.
    pub max_packet_len: usize,
    /// Most binary attachments one Socket.IO packet may announce. Default 10,
    /// the reference `maxAttachments`.
    pub max_attachments: usize,
    /// Most bytes all attachments of one packet may hold together. Default
    /// 10 000 000 (ten attachments of `max_packet_len`).
    pub max_attachment_bytes: usize,
    /// Deepest JSON nesting (arrays and objects) accepted. Default 128, the
    /// same as `serde_json`'s recursion limit.
    pub max_depth: usize,
    /// Largest ack id accepted. Default 2^53 − 1 (`Number.MAX_SAFE_INTEGER`):
    /// a larger id cannot round-trip through a JavaScript peer, so it is
    /// rejected rather than silently rounded.
    pub max_ack_id: u64,
    /// Longest namespace (including a v4 `?query`), in bytes. Default 2048.
    pub max_namespace_len: usize,
    /// How long a binary packet may wait for its attachments, in
    /// milliseconds, before the reassembler reports it expired. Default 30 000.
    pub attachment_timeout_ms: u64,
}

/// `Number.MAX_SAFE_INTEGER`, the largest integer a JavaScript peer can hold exactly.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

impl Limits {
    /// The defaults, usable in `const` contexts.
    pub const DEFAULT: Limits = Limits {
        max_packet_len: 1_000_000,
        max_attachments: 10,
        max_attachment_bytes: 10_000_000,
        max_depth: 128,
        max_ack_id: MAX_SAFE_INTEGER,
        max_namespace_len: 2048,
        attachment_timeout_ms: 30_000,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}
