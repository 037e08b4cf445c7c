//! Time as the caller sees it.
//!
//! The codec has no clock. State machines that need time (attachment expiry,
//! and later the client session's heartbeat and backoff) take an [`Instant`]
//! from their driver, which reads it from Tokio, `embassy-time` or a test's
//! fake clock.

use core::ops::Add;

/// Milliseconds since an epoch the driver chooses (boot, process start, ...).
///
/// ```
/// use oxio_codec::Instant;
///
/// let t = Instant::from_millis(1_000);
/// assert_eq!((t + 500).as_millis(), 1_500);
/// assert!(t < t + 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Instant(u64);

impl Instant {
    /// An instant `ms` milliseconds after the driver's epoch.
    pub const fn from_millis(ms: u64) -> Self {
        Instant(ms)
    }

    /// Milliseconds since the driver's epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// Milliseconds from `earlier` to `self`, or 0 if `earlier` is later.
    pub const fn saturating_since(self, earlier: Instant) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

/// Adds milliseconds, saturating at the far future instead of overflowing.
impl Add<u64> for Instant {
    type Output = Instant;
    fn add(self, ms: u64) -> Instant {
        Instant(self.0.saturating_add(ms))
    }
}
