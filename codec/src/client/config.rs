//! What a client session is told up front: protocol revision, URL path,
//! reconnection schedule, offline-buffer policy and decode limits.

use crate::engineio::Version;
use crate::Limits;

/// What [`Session::emit`](super::Session::emit) does with an emit made while
/// its namespace is not connected, when the queue has no room left for it.
///
/// The queue is shared: buffered emits, emits waiting for the transport,
/// acks to the server and the CONNECT packets (with their auth) all live
/// in it. The policy only ever evicts *buffered emits* (emits whose
/// namespace is not connected); it never touches the rest.
///
/// ```
/// use oxio_codec::client::{Config, OfflinePolicy};
///
/// let config = Config { offline_policy: OfflinePolicy::DropOldest, ..Config::default() };
/// assert_eq!(Config::default().offline_policy, OfflinePolicy::Error);
/// # let _ = config;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum OfflinePolicy {
    /// Refuse the new emit with [`Error::QueueFull`](super::Error::QueueFull);
    /// nothing already buffered is lost. The default: nothing disappears
    /// without the application being told.
    #[default]
    Error,
    /// Evict the oldest buffered emits (any namespace) until the new one
    /// fits. An evicted emit that expected an ack is reported as
    /// [`Event::AckCancelled`](super::Event::AckCancelled) with
    /// [`CancelReason::Dropped`](super::CancelReason::Dropped).
    DropOldest,
    /// Discard the new emit silently: `emit` returns `Ok(None)` and no ack
    /// is registered.
    DropNewest,
}

/// How a [`Session`](super::Session) behaves. Every field has the
/// socket.io-client default where the reference has one.
///
/// ```
/// use oxio_codec::client::Config;
/// use oxio_codec::engineio::Version;
///
/// let config = Config {
///     version: Version::V3, // an old socket.io 2.x server
///     reconnection_attempts: Some(5),
///     ..Config::default()
/// };
/// assert_eq!(config.reconnection_delay_ms, 1000);
/// assert_eq!(config.reconnection_delay_max_ms, 5000);
/// assert_eq!(config.path, "/socket.io/");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Config {
    /// Engine.IO revision to speak: [`Version::V4`] (Socket.IO v5, servers
    /// socket.io 3.x/4.x; the default) or [`Version::V3`] (Socket.IO v4,
    /// servers socket.io 2.x, or 4.x with `allowEIO3`).
    pub version: Version,
    /// URL path of the endpoint, with the trailing slash the reference
    /// server matches on. Default `/socket.io/`.
    pub path: &'static str,
    /// Extra query parameters appended after the protocol ones, without a
    /// leading `&` (for example `token=abc`), already URL-encoded. Default
    /// empty.
    pub query: &'static str,
    /// Reconnection attempts after a lost or failed connection before
    /// giving up; `None` (the default, the reference's `Infinity`) never
    /// gives up, `Some(0)` never reconnects.
    pub reconnection_attempts: Option<u32>,
    /// Delay before the first reconnection attempt, in ms. Default 1000
    /// (`reconnectionDelay`).
    pub reconnection_delay_ms: u32,
    /// Largest delay between attempts, in ms. Default 5000
    /// (`reconnectionDelayMax`).
    pub reconnection_delay_max_ms: u32,
    /// Jitter, in thousandths of the delay: 500 (the default) is the
    /// reference's `randomizationFactor` 0.5, so a 1000 ms delay becomes
    /// 500..=1500 ms. Values above 1000 are treated as 1000.
    pub randomization_factor_permille: u16,
    /// Growth of the delay per attempt. Default 2 (the reference `Backoff`).
    pub reconnection_factor: u32,
    /// How long an attempt may take from [`Action::Connect`](super::Action::Connect)
    /// to the server's `open` packet, in ms, before it is abandoned.
    /// Default `Some(20_000)` (the reference `timeout`); `None` waits forever.
    pub connect_timeout_ms: Option<u64>,
    /// What to do with an emit made while disconnected when the queue is full.
    pub offline_policy: OfflinePolicy,
    /// Largest WebSocket frame the session produces, in bytes: an emit or
    /// ack whose text (or any attachment) would be larger is refused with
    /// [`Error::TooLarge`](super::Error::TooLarge). Pass
    /// [`Session::poll_transmit`](super::Session::poll_transmit) a buffer at
    /// least this long. Default 4096.
    pub max_frame_len: usize,
    /// Bounds applied to what the server sends (JSON depth, attachment
    /// count, attachment deadline...). Default [`Limits::DEFAULT`].
    pub limits: Limits,
    /// Speak `socket.io-msgpack-parser` 3.x instead of the default parser
    /// (the server must use it too: Node's `parser` option, oxio's
    /// `Parser::Msgpack`): every packet is one binary frame holding a
    /// msgpack map, bytes sit inline (no attachments, no base64), and
    /// what the server sends is read with [`crate::msgpack::Decoder`]
    /// (events and acks arrive as [`Incoming::MsgpackEvent`](super::Incoming::MsgpackEvent)
    /// and [`Incoming::MsgpackAck`](super::Incoming::MsgpackAck)). Engine.IO
    /// v4 only ([`Version::V4`]). Default false; feature `client-msgpack`.
    #[cfg(feature = "client-msgpack")]
    pub msgpack: bool,
}

impl Config {
    /// The defaults, usable in `const` contexts.
    pub const DEFAULT: Config = Config {
        version: Version::V4,
        path: "/socket.io/",
        query: "",
        reconnection_attempts: None,
        reconnection_delay_ms: 1000,
        reconnection_delay_max_ms: 5000,
        randomization_factor_permille: 500,
        reconnection_factor: 2,
        connect_timeout_ms: Some(20_000),
        offline_policy: OfflinePolicy::Error,
        max_frame_len: 4096,
        limits: Limits::DEFAULT,
        #[cfg(feature = "client-msgpack")]
        msgpack: false,
    };

    /// Whether the session speaks msgpack (`Config::msgpack`, Engine.IO
    /// v4); always false without the `client-msgpack` feature, so the
    /// msgpack paths are compiled out.
    pub const fn uses_msgpack(&self) -> bool {
        #[cfg(feature = "client-msgpack")]
        {
            self.msgpack && matches!(self.version, Version::V4)
        }
        #[cfg(not(feature = "client-msgpack"))]
        {
            false
        }
    }

    /// The Socket.IO revision that goes with [`Config::version`].
    ///
    /// ```
    /// use oxio_codec::{client::Config, engineio, socketio};
    ///
    /// let v3 = Config { version: engineio::Version::V3, ..Config::default() };
    /// assert_eq!(v3.socketio_version(), socketio::Version::V4);
    /// assert_eq!(Config::default().socketio_version(), socketio::Version::V5);
    /// ```
    pub const fn socketio_version(&self) -> crate::socketio::Version {
        match self.version {
            Version::V3 => crate::socketio::Version::V4,
            Version::V4 => crate::socketio::Version::V5,
        }
    }

    /// The delay before reconnection attempt number `attempt + 1`, in ms,
    /// for the random draw `random` (uniform over `u32`): the reference
    /// `Backoff.duration()` in integer arithmetic.
    ///
    /// `delay = reconnection_delay_ms × factor^attempt`; then, with jitter
    /// `j` and `rand = random / 2^32`, `deviation = ⌊rand × j × delay⌋`,
    /// subtracted when `⌊rand × 10⌋` is even and added when odd; the result
    /// is capped at `reconnection_delay_max_ms`.
    ///
    /// ```
    /// use oxio_codec::client::Config;
    ///
    /// let c = Config::default();
    /// assert_eq!(c.reconnect_delay(0, 0), 1000); // rand 0: no deviation
    /// assert_eq!(c.reconnect_delay(0, 1 << 31), 1250); // rand 0.5: +25 %
    /// assert_eq!(c.reconnect_delay(1, 0), 2000);
    /// assert_eq!(c.reconnect_delay(10, 0), 5000); // capped
    /// ```
    pub fn reconnect_delay(&self, attempt: u32, random: u32) -> u32 {
        const CAP: u64 = u32::MAX as u64;
        let growth = u64::from(self.reconnection_factor)
            .checked_pow(attempt)
            .unwrap_or(u64::MAX);
        let ms = u64::from(self.reconnection_delay_ms)
            .saturating_mul(growth)
            .min(CAP);
        let jitter = u64::from(self.randomization_factor_permille.min(1000));
        let ms = if jitter == 0 {
            ms
        } else {
            // ms × jitter / 1000 ≤ 2^32, and × random < 2^64: no overflow.
            let spread = ms.saturating_mul(jitter) / 1000;
            let deviation = spread.saturating_mul(u64::from(random)) >> 32;
            let tenths = u64::from(random).saturating_mul(10) >> 32;
            if tenths % 2 == 0 {
                ms.saturating_sub(deviation)
            } else {
                ms.saturating_add(deviation)
            }
        };
        let capped = ms.min(u64::from(self.reconnection_delay_max_ms));
        u32::try_from(capped).unwrap_or(u32::MAX)
    }
}

impl Default for Config {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Where a session gets the randomness for reconnection jitter.
///
/// Any `FnMut() -> u32` closure is a source, so a test passes `|| 0` and a
/// firmware passes its hardware RNG. The values only spread reconnection
/// attempts of many clients apart; they need not be cryptographic.
///
/// ```
/// use oxio_codec::client::Random;
///
/// let mut counter = 0u32;
/// let mut source = || { counter += 1; counter };
/// assert_eq!(Random::next_u32(&mut source), 1);
/// ```
pub trait Random {
    /// A value uniformly distributed over `u32`.
    fn next_u32(&mut self) -> u32;
}

impl<F: FnMut() -> u32> Random for F {
    fn next_u32(&mut self) -> u32 {
        self()
    }
}
