//! The sensor-device application shared by the three firmware examples
//! (Pico W, ESP32-C3, QEMU RISC-V) and the host example: connect to `/`
//! with `{"device":"<name>"}`; on every connection send the binary
//! [`CALIBRATION`] table (`file` `"<name>"`, 256 bytes, with an ack); send
//! `sensor` `{"device","temp_c","uptime_ms"}` every period, with an ack
//! while connected and into the client's offline buffer (delivered once, in
//! order, after the reconnection) while not; switch the LED on a `led`
//! event `{"on":bool}` and answer it `{"ok":true}`; reconnect forever (the
//! session's backoff). Everything it does is told to the caller as a
//! [`Report`] (which implements `Display`, for the firmware's log).

use crate::client::{Client, Event};
use crate::connector::Connector;
use crate::error::Error;
use core::fmt;
use embassy_time::{Duration, Instant};
use oxio_codec::client::{DisconnectReason, Random};
use oxio_codec::socketio::Binary;
use serde::{Deserialize, Serialize};

/// A build-time setting: `option_env!("NAME")` if set, else `default`
/// (`const`, for the firmware's `const SERVER_URL: &str = env_or(..)`).
///
/// ```
/// use oxio_client::device::env_or;
///
/// const URL: &str = env_or(None, "http://192.168.1.10:3000");
/// assert_eq!(URL, "http://192.168.1.10:3000");
/// assert_eq!(env_or(Some("x"), "y"), "x");
/// ```
pub const fn env_or(value: Option<&'static str>, default: &'static str) -> &'static str {
    match value {
        Some(s) => s,
        None => default,
    }
}

/// The event that carries [`CALIBRATION`] (`file` name, binary, ack: the
/// oxio demo server answers `{"ok":true,"size":256}` and relays it to its
/// other sockets).
pub const BINARY_EVENT: &str = "file";

/// The device's calibration table, sent as a binary attachment on every
/// connection: every byte value once, 0x00 to 0xff in order (so a server
/// can check that nothing was lost, reordered or re-encoded as text).
pub static CALIBRATION: [u8; 256] = calibration();

// Evaluated at compile time only: an index out of range would fail the
// build, never the device.
#[allow(clippy::indexing_slicing)]
const fn calibration() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = i as u8;
        i += 1;
    }
    table
}

/// The server's answer to [`BINARY_EVENT`].
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
pub struct BinaryAck {
    /// Whether the server took it.
    pub ok: bool,
    /// The byte count the server received.
    pub size: u32,
}

/// An on/off output (the board's LED, or a simulated one). Async, as the
/// Pico W's LED sits behind the Wi-Fi chip.
#[allow(async_fn_in_trait)]
pub trait Led {
    /// Switches the LED.
    async fn set(&mut self, on: bool);
}

/// A temperature source (the RP2040's internal sensor, or a simulation).
#[allow(async_fn_in_trait)]
pub trait Thermometer {
    /// The temperature in °C.
    async fn read_celsius(&mut self) -> f32;
}

/// The auth object sent with the CONNECT of `/`.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Auth<'a> {
    /// The device name.
    pub device: &'a str,
}

/// One `sensor` event.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Reading<'a> {
    /// The device name.
    pub device: &'a str,
    /// The temperature.
    pub temp_c: f32,
    /// Milliseconds since boot.
    pub uptime_ms: u64,
}

/// The `led` command.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
pub struct LedCommand {
    /// The wanted state.
    pub on: bool,
}

/// The answer to a `led` command.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct LedAnswer {
    /// Always true once the LED is set.
    pub ok: bool,
}

/// What the application did, for the caller's log (defmt, println...).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Report<'a> {
    /// `/` is connected; `recovered` when the server restored its session
    /// (connection state recovery: the missed LED commands were replayed).
    Connected {
        /// The server's `socket.recovered`.
        recovered: bool,
    },
    /// `/` was refused.
    ConnectError(&'a str),
    /// `/` was lost.
    Disconnected(DisconnectReason),
    /// A reconnection attempt is scheduled.
    Reconnecting {
        /// Attempt number.
        attempt: u32,
        /// Delay before it.
        delay_ms: u32,
        /// Why the last attempt or connection ended, if known.
        error: Option<&'a Error>,
    },
    /// The server stopped answering pings.
    ServerLost,
    /// A reading was acknowledged.
    SensorAcked(Reading<'a>),
    /// A reading was put into the offline buffer (not connected): it goes
    /// out, once and in order, after the reconnection.
    SensorBuffered(Reading<'a>),
    /// A reading was not acknowledged (or could not be buffered).
    SensorFailed(&'a Error),
    /// The server acknowledged [`CALIBRATION`] (with `ok` and the byte
    /// count it received).
    BinarySent(BinaryAck),
    /// [`CALIBRATION`] was not acknowledged.
    BinaryFailed(&'a Error),
    /// The LED was switched.
    Led(bool),
    /// An event other than `led`, or a malformed one.
    Ignored,
    /// A call failed (the loop goes on).
    Failed(&'a Error),
}

impl Report<'_> {
    /// Whether this is worth a warning rather than an info line.
    pub fn is_problem(&self) -> bool {
        matches!(
            self,
            Report::ConnectError(_)
                | Report::Disconnected(_)
                | Report::Reconnecting { .. }
                | Report::ServerLost
                | Report::SensorFailed(_)
                | Report::BinaryFailed(_)
                | Report::BinarySent(BinaryAck { ok: false, .. })
                | Report::Failed(_)
        )
    }
}

/// One log line per report (the QEMU test reads these lines).
impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Report::Connected { recovered: false } => f.write_str("connected"),
            Report::Connected { recovered: true } => f.write_str("connected (session recovered)"),
            Report::ConnectError(m) => write!(f, "refused: {m}"),
            Report::Disconnected(r) => write!(f, "disconnected: {}", r.as_str()),
            Report::Reconnecting {
                attempt,
                delay_ms,
                error,
            } => {
                write!(f, "reconnecting (attempt {attempt}) in {delay_ms} ms")?;
                match error {
                    Some(e) => write!(f, " after error: {e} ({e:?})"),
                    None => Ok(()),
                }
            }
            Report::ServerLost => f.write_str("server lost"),
            Report::SensorAcked(r) => write!(
                f,
                "sensor {} C acknowledged (uptime_ms {})",
                r.temp_c, r.uptime_ms
            ),
            Report::SensorBuffered(r) => write!(
                f,
                "sensor {} C buffered offline (uptime_ms {})",
                r.temp_c, r.uptime_ms
            ),
            Report::SensorFailed(e) => write!(f, "sensor reading not delivered: {e}"),
            Report::BinarySent(ack) => write!(
                f,
                "calibration acknowledged: ok {}, {} bytes",
                ack.ok, ack.size
            ),
            Report::BinaryFailed(e) => write!(f, "calibration not acknowledged: {e}"),
            Report::Led(on) => write!(f, "led {}", if *on { "on" } else { "off" }),
            Report::Ignored => f.write_str("ignored an event"),
            Report::Failed(e) => write!(f, "error: {e} ({e:?})"),
        }
    }
}

/// The same lines for defmt (the Pico W's log), without `core::fmt`.
#[cfg(feature = "defmt")]
impl defmt::Format for Report<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        match self {
            Report::Connected { recovered: false } => defmt::write!(f, "connected"),
            Report::Connected { recovered: true } => {
                defmt::write!(f, "connected (session recovered)")
            }
            Report::ConnectError(m) => defmt::write!(f, "refused: {}", m),
            Report::Disconnected(r) => defmt::write!(f, "disconnected: {}", r.as_str()),
            Report::Reconnecting {
                attempt,
                delay_ms,
                error,
            } => match error {
                Some(e) => defmt::write!(
                    f,
                    "reconnecting (attempt {}) in {} ms after error: {}",
                    attempt,
                    delay_ms,
                    e
                ),
                None => defmt::write!(f, "reconnecting (attempt {}) in {} ms", attempt, delay_ms),
            },
            Report::ServerLost => defmt::write!(f, "server lost"),
            Report::SensorAcked(r) => defmt::write!(
                f,
                "sensor {} C acknowledged (uptime_ms {})",
                r.temp_c,
                r.uptime_ms
            ),
            Report::SensorBuffered(r) => defmt::write!(
                f,
                "sensor {} C buffered offline (uptime_ms {})",
                r.temp_c,
                r.uptime_ms
            ),
            Report::SensorFailed(e) => defmt::write!(f, "sensor reading not delivered: {}", e),
            Report::BinarySent(ack) => defmt::write!(
                f,
                "calibration acknowledged: ok {}, {} bytes",
                ack.ok,
                ack.size
            ),
            Report::BinaryFailed(e) => defmt::write!(f, "calibration not acknowledged: {}", e),
            Report::Led(on) => defmt::write!(f, "led {}", if *on { "on" } else { "off" }),
            Report::Ignored => defmt::write!(f, "ignored an event"),
            Report::Failed(e) => defmt::write!(f, "error: {}", e),
        }
    }
}

/// What to do after an event, with the client's borrow released.
enum Next {
    Tick,
    Led(LedCommand, Option<oxio_codec::client::AckRequest>),
    Connected { recovered: bool },
    Reconnecting { attempt: u32, delay_ms: u32 },
    Rejoin,
    Nothing,
}

/// First delay of [`wifi_backoff_ms`] (before jitter).
pub const WIFI_BACKOFF_MIN_MS: u32 = 1_000;
/// Largest delay of [`wifi_backoff_ms`] (before jitter).
pub const WIFI_BACKOFF_MAX_MS: u32 = 30_000;

/// How long a firmware waits before its next Wi-Fi join attempt after
/// `failures` failed ones in a row (0 for the first retry): 1 s doubling to
/// 30 s, then ±25 % from `random` so devices behind one access point do
/// not all retry at once. Never panics; the result is within
/// 750..=37 500 ms.
///
/// ```
/// use oxio_client::device::wifi_backoff_ms;
///
/// assert_eq!(wifi_backoff_ms(0, 250), 1_000); // 750 + 250 % 501
/// assert_eq!(wifi_backoff_ms(3, 0), 6_000); // 8 s - 25 %
/// assert_eq!(wifi_backoff_ms(u32::MAX, u32::MAX), 22_500 + u32::MAX % 15_001);
/// ```
pub fn wifi_backoff_ms(failures: u32, random: u32) -> u32 {
    let base = WIFI_BACKOFF_MIN_MS
        .checked_shl(failures.min(15))
        .unwrap_or(WIFI_BACKOFF_MAX_MS)
        .min(WIFI_BACKOFF_MAX_MS);
    let quarter = base / 4;
    (base - quarter).saturating_add(random % (2 * quarter + 1))
}

/// Runs the device forever: `period` between readings, acks awaited up to
/// `period`, readings buffered while disconnected, [`CALIBRATION`] sent on
/// every connection, reconnection with the session's backoff. Returns only
/// if the first `connect("/")` is refused by the session itself (a
/// configuration error such as a name too long for the CONNECT frame);
/// network and server errors never end it.
pub async fn run<C, R, const RX: usize, const TX: usize, const INBOX: usize>(
    client: &mut Client<'_, C, R, RX, TX, INBOX>,
    name: &str,
    period: Duration,
    led: &mut impl Led,
    thermometer: &mut impl Thermometer,
    report: &mut impl FnMut(Report<'_>),
) -> Error
where
    C: Connector,
    R: Random,
{
    let auth = Auth { device: name };
    if let Err(e) = client.connect("/", Some(&auth)) {
        return e;
    }
    client.set_ack_timeout_ms(period.as_millis().saturating_sub(500).max(500));
    let mut next = Instant::now() + period;
    loop {
        let what = match client.next_event_until(Some(next)).await {
            Ok(None) => Next::Tick,
            Ok(Some(Event::Message(m))) => {
                if m.is("led") {
                    match m.args::<LedCommand>() {
                        Ok(cmd) => Next::Led(cmd, m.ack_request()),
                        Err(_) => {
                            report(Report::Ignored);
                            Next::Nothing
                        }
                    }
                } else {
                    report(Report::Ignored);
                    Next::Nothing
                }
            }
            Ok(Some(Event::Connected { recovered, .. })) => Next::Connected { recovered },
            Ok(Some(Event::ConnectError { message, .. })) => {
                report(Report::ConnectError(message));
                Next::Rejoin
            }
            Ok(Some(Event::Disconnected { reason, .. })) => {
                report(Report::Disconnected(reason));
                if reason == DisconnectReason::ServerDisconnect {
                    Next::Rejoin
                } else {
                    Next::Nothing
                }
            }
            Ok(Some(Event::Reconnecting { attempt, delay_ms })) => {
                Next::Reconnecting { attempt, delay_ms }
            }
            Ok(Some(Event::ServerLost)) => {
                report(Report::ServerLost);
                Next::Nothing
            }
            Ok(Some(Event::ReconnectFailed)) => Next::Rejoin,
            Err(Error::Idle) => Next::Rejoin,
            Err(e) => {
                report(Report::Failed(&e));
                Next::Nothing
            }
        };
        match what {
            Next::Tick => {
                next = (next + period).max(Instant::now());
                let reading = Reading {
                    device: name,
                    temp_c: thermometer.read_celsius().await,
                    uptime_ms: Instant::now().as_millis(),
                };
                if client.is_connected("/") {
                    match client.emit_with_ack::<_, ()>("sensor", &reading).await {
                        Ok(()) => report(Report::SensorAcked(reading)),
                        Err(e) => report(Report::SensorFailed(&e)),
                    }
                } else {
                    // Without an ack: the offline buffer sends it after
                    // the reconnection (an ack would time out meanwhile).
                    match client.emit("sensor", &reading).await {
                        Ok(()) => report(Report::SensorBuffered(reading)),
                        Err(e) => report(Report::SensorFailed(&e)),
                    }
                }
            }
            Next::Connected { recovered } => {
                report(Report::Connected { recovered });
                let args = (name, Binary(&CALIBRATION));
                match client
                    .emit_with_ack::<_, BinaryAck>(BINARY_EVENT, &args)
                    .await
                {
                    Ok(ack) => report(Report::BinarySent(ack)),
                    Err(e) => report(Report::BinaryFailed(&e)),
                }
            }
            Next::Reconnecting { attempt, delay_ms } => report(Report::Reconnecting {
                attempt,
                delay_ms,
                error: client.last_error(),
            }),
            Next::Led(cmd, ack) => {
                led.set(cmd.on).await;
                report(Report::Led(cmd.on));
                if let Some(request) = ack {
                    if let Err(e) = client.ack(request, &LedAnswer { ok: true }).await {
                        report(Report::Failed(&e));
                    }
                }
            }
            Next::Rejoin => {
                // Refused or dropped by the server: ask again after a pause
                // (the session abandons such a namespace).
                embassy_time::Timer::after(period).await;
                if let Err(e) = client.connect("/", Some(&auth)) {
                    report(Report::Failed(&e));
                }
            }
            Next::Nothing => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wifi_backoff_doubles_to_the_cap_with_bounded_jitter() {
        // (failures, random, expected ms)
        let cases = [
            (0, 0, 750),
            (0, 500, 1_250),
            (0, 501, 750),
            (1, 0, 1_500),
            (1, 1_000, 2_500),
            (2, 0, 3_000),
            (3, 2_000, 8_000),
            (4, 0, 12_000),
            (5, 0, 22_500),
            (5, 15_000, 37_500),
            (6, 0, 22_500),
            (31, 7, 22_507),
            (32, 0, 22_500),
            (u32::MAX, 15_001, 22_500),
        ];
        for (failures, random, expected) in cases {
            assert_eq!(
                wifi_backoff_ms(failures, random),
                expected,
                "failures {failures}, random {random}"
            );
        }
    }

    #[test]
    fn calibration_is_every_byte_once_in_order() {
        assert!(CALIBRATION
            .iter()
            .enumerate()
            .all(|(i, &b)| usize::from(b) == i));
    }

    /// The QEMU device tests read these lines from the board's UART.
    #[test]
    fn reports_read_as_log_lines() {
        let reading = Reading {
            device: "d",
            temp_c: 21.5,
            uptime_ms: 1500,
        };
        let error = Error::FrameTooLarge {
            len: 1 << 40,
            capacity: 4096,
        };
        let cases = [
            (Report::Connected { recovered: false }, "connected"),
            (
                Report::Connected { recovered: true },
                "connected (session recovered)",
            ),
            (
                Report::SensorAcked(reading),
                "sensor 21.5 C acknowledged (uptime_ms 1500)",
            ),
            (
                Report::SensorBuffered(reading),
                "sensor 21.5 C buffered offline (uptime_ms 1500)",
            ),
            (
                Report::BinarySent(BinaryAck {
                    ok: true,
                    size: 256,
                }),
                "calibration acknowledged: ok true, 256 bytes",
            ),
            (Report::Led(false), "led off"),
            (
                Report::Reconnecting {
                    attempt: 2,
                    delay_ms: 1966,
                    error: Some(&error),
                },
                "reconnecting (attempt 2) in 1966 ms after error: frame of 1099511627776 bytes \
                 exceeds the 4096-byte receive buffer (FrameTooLarge { len: 1099511627776, \
                 capacity: 4096 })",
            ),
            (
                Report::Reconnecting {
                    attempt: 1,
                    delay_ms: 900,
                    error: None,
                },
                "reconnecting (attempt 1) in 900 ms",
            ),
        ];
        for (report, line) in cases {
            assert_eq!(std::format!("{report}"), line);
        }
        assert!(Report::Reconnecting {
            attempt: 1,
            delay_ms: 1,
            error: None
        }
        .is_problem());
        assert!(!Report::SensorBuffered(reading).is_problem());
    }

    #[test]
    fn wifi_backoff_stays_in_range_for_any_input() {
        for failures in (0..40).chain([u32::MAX - 1, u32::MAX]) {
            for random in [0, 1, 499, 12_345, u32::MAX / 2, u32::MAX] {
                let ms = wifi_backoff_ms(failures, random);
                assert!((750..=37_500).contains(&ms), "{failures} {random} -> {ms}");
            }
        }
    }
}
