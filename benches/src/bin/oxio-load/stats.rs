//! Counters, latency histograms and the result file (`--json`).

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Largest latency recorded: 120 s in microseconds (longer ones are clamped).
const MAX_US: u64 = 120_000_000;

/// A latency histogram shared by the client tasks. Each task batches its
/// samples locally ([`Samples`]) so the lock is taken once per batch.
pub struct SharedHist(Mutex<Histogram<u64>>);

impl SharedHist {
    /// An empty histogram, 1 µs .. 120 s, 3 significant digits.
    pub fn new() -> SharedHist {
        // Constant, valid bounds: this cannot fail.
        let h = Histogram::new_with_bounds(1, MAX_US, 3).expect("valid histogram bounds");
        SharedHist(Mutex::new(h))
    }

    fn add(&self, samples: &[u64]) {
        let mut h = match self.0.lock() {
            Ok(h) => h,
            Err(poisoned) => poisoned.into_inner(),
        };
        for &us in samples {
            let _ = h.record(us.clamp(1, MAX_US));
        }
    }

    /// The percentiles, in milliseconds.
    pub fn summary(&self) -> Latency {
        let h = match self.0.lock() {
            Ok(h) => h,
            Err(poisoned) => poisoned.into_inner(),
        };
        let ms = |us: u64| us as f64 / 1000.0;
        Latency {
            samples: h.len(),
            mean_ms: h.mean() / 1000.0,
            p50_ms: ms(h.value_at_quantile(0.50)),
            p90_ms: ms(h.value_at_quantile(0.90)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            p999_ms: ms(h.value_at_quantile(0.999)),
            max_ms: ms(h.max()),
        }
    }
}

/// One task's unflushed samples.
pub struct Samples<'a> {
    hist: &'a SharedHist,
    buf: Vec<u64>,
}

impl<'a> Samples<'a> {
    /// A batch for `hist`.
    pub fn new(hist: &'a SharedHist) -> Self {
        Samples {
            hist,
            buf: Vec::with_capacity(256),
        }
    }

    /// Records one latency in microseconds.
    pub fn record(&mut self, us: u64) {
        self.buf.push(us);
        if self.buf.len() >= 256 {
            self.flush();
        }
    }

    /// Hands the batch to the shared histogram.
    pub fn flush(&mut self) {
        if !self.buf.is_empty() {
            self.hist.add(&self.buf);
            self.buf.clear();
        }
    }
}

impl Drop for Samples<'_> {
    fn drop(&mut self) {
        self.flush();
    }
}

/// A counter shared by the tasks.
#[derive(Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Adds one.
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    /// The current value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Latency percentiles (milliseconds).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Latency {
    /// Samples recorded.
    pub samples: u64,
    /// Mean.
    pub mean_ms: f64,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p999_ms: f64,
    /// Largest.
    pub max_ms: f64,
}

/// The connect phase (every scenario has one).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ConnectResult {
    /// Clients started.
    pub attempted: u64,
    /// Joined `/`.
    pub ok: u64,
    /// Failed (TCP, upgrade, handshake, refusal, timeout).
    pub failed: u64,
    /// First attempt to last answer, seconds.
    pub elapsed_s: f64,
    /// `ok / elapsed_s`.
    pub per_s: f64,
    /// TCP connect to the namespace's CONNECT answer.
    pub latency: Latency,
}

/// The `echo` scenario.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EchoResult {
    /// `echo` sent in the measured window.
    pub sent: u64,
    /// `echo-response` received in the measured window.
    pub received: u64,
    /// `received / duration`.
    pub msgs_per_s: f64,
    /// Round trip, `echo` sent to `echo-response` read.
    pub rtt: Latency,
}

/// The `broadcast` scenario.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BroadcastResult {
    /// Receivers connected when the run started.
    pub receivers: u64,
    /// `bcast` sent by the emitter in the measured window.
    pub emitted: u64,
    /// Copies that reached receivers (sent in the window).
    pub deliveries: u64,
    /// `emitted * receivers`.
    pub expected: u64,
    /// `deliveries / duration`.
    pub deliveries_per_s: f64,
    /// Emitter send to receiver read.
    pub latency: Latency,
}

/// The `idle` scenario.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IdleResult {
    /// Seconds the connections were held.
    pub held_s: f64,
    /// Connections still open at the end.
    pub alive_at_end: u64,
    /// Pings answered while holding.
    pub pings_answered: u64,
    /// Server RSS before connecting (KiB), with `--server-pid`.
    pub rss_before_kib: Option<u64>,
    /// Server RSS once all had connected (KiB).
    pub rss_connected_kib: Option<u64>,
    /// Server RSS at the end of the hold (KiB).
    pub rss_end_kib: Option<u64>,
    /// `(rss_end - rss_before) / alive_at_end`, bytes.
    pub bytes_per_conn: Option<f64>,
}

/// The server process seen from /proc (with `--server-pid`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ServerUsage {
    /// CPU time (user + system, all threads) the server used while sampled.
    pub cpu_s: f64,
    /// Wall time over which `cpu_s` was sampled (the measured window; for
    /// `connect`, the connect phase).
    pub wall_s: f64,
    /// `cpu_s / wall_s`: cores busy on average.
    pub cores: f64,
    /// Server CPU microseconds per message (echo: per round trip; broadcast:
    /// per delivery; connect: per connection); absent when nothing counted.
    pub cpu_us_per_msg: Option<f64>,
    /// RSS at the end of the run (KiB).
    pub rss_end_kib: Option<u64>,
}

/// Everything one run measured: the `--json` file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunResult {
    /// Always `oxio-load`.
    pub tool: String,
    /// Format version of this file.
    pub format: u32,
    /// `connect`, `echo`, `broadcast` or `idle`.
    pub scenario: String,
    /// `--label` (the server's name in reports).
    pub label: String,
    /// The `--url`s.
    pub urls: Vec<String>,
    /// `--clients`.
    pub clients: u64,
    /// Seconds since the Unix epoch when the run started.
    pub started_unix: u64,
    /// The measured window, seconds (0 for `connect`).
    pub duration_s: f64,
    /// Scenario options as given (inflight, rate, payload bytes...).
    pub params: serde_json::Map<String, serde_json::Value>,
    /// The connect phase.
    pub connect: ConnectResult,
    /// `echo` only.
    pub echo: Option<EchoResult>,
    /// `broadcast` only.
    pub broadcast: Option<BroadcastResult>,
    /// `idle` only.
    pub idle: Option<IdleResult>,
    /// The server's CPU and memory, with `--server-pid`.
    #[serde(default)]
    pub server: Option<ServerUsage>,
    /// Connections lost after connecting (closed by the server or failed).
    pub disconnects: u64,
    /// Frames the load could not read.
    pub protocol_errors: u64,
    /// The first distinct error messages (at most 10).
    pub errors: Vec<String>,
}

/// Keeps the first few distinct error messages.
#[derive(Default)]
pub struct ErrorLog(Mutex<Vec<String>>);

impl ErrorLog {
    /// Notes `msg` if it is new and fewer than 10 are kept.
    pub fn note(&self, msg: String) {
        let mut v = match self.0.lock() {
            Ok(v) => v,
            Err(p) => p.into_inner(),
        };
        if v.len() < 10 && !v.contains(&msg) {
            v.push(msg);
        }
    }
    /// The messages.
    pub fn take(&self) -> Vec<String> {
        match self.0.lock() {
            Ok(v) => v.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }
}

fn lat(l: &Latency) -> String {
    format!(
        "p50 {:.2} ms  p99 {:.2} ms  p99.9 {:.2} ms  max {:.2} ms  ({} samples)",
        l.p50_ms, l.p99_ms, l.p999_ms, l.max_ms, l.samples
    )
}

/// The human summary printed at the end of a run.
pub fn human(r: &RunResult) -> String {
    let mut rows: Vec<(String, String)> = vec![
        ("scenario".into(), r.scenario.clone()),
        (
            "server".into(),
            format!("{} ({})", r.label, r.urls.join(", ")),
        ),
        ("clients".into(), r.clients.to_string()),
        (
            "connected".into(),
            format!(
                "{} ok, {} failed in {:.2} s ({:.0}/s)",
                r.connect.ok, r.connect.failed, r.connect.elapsed_s, r.connect.per_s
            ),
        ),
        ("connect time".into(), lat(&r.connect.latency)),
    ];
    if let Some(e) = &r.echo {
        rows.push((
            "echo".into(),
            format!(
                "{:.0} msgs/s ({} sent, {} received in {:.1} s)",
                e.msgs_per_s, e.sent, e.received, r.duration_s
            ),
        ));
        rows.push(("round trip".into(), lat(&e.rtt)));
    }
    if let Some(b) = &r.broadcast {
        rows.push((
            "broadcast".into(),
            format!(
                "{:.0} deliveries/s ({} emitted to {}{} receivers: {} of {} delivered in {:.1} s)",
                b.deliveries_per_s,
                b.emitted,
                match r
                    .params
                    .get("room_size")
                    .and_then(serde_json::Value::as_u64)
                {
                    Some(k) if k > 0 => format!("rooms of {k} of "),
                    _ => String::new(),
                },
                b.receivers,
                b.deliveries,
                b.expected,
                r.duration_s
            ),
        ));
        rows.push(("latency".into(), lat(&b.latency)));
    }
    if let Some(i) = &r.idle {
        let kib = |v: Option<u64>| v.map_or("-".to_owned(), |v| format!("{v} KiB"));
        rows.push((
            "idle".into(),
            format!(
                "{} alive after {:.0} s, {} pings answered",
                i.alive_at_end, i.held_s, i.pings_answered
            ),
        ));
        rows.push((
            "server RSS".into(),
            format!(
                "before {}, connected {}, end {}; {} per connection",
                kib(i.rss_before_kib),
                kib(i.rss_connected_kib),
                kib(i.rss_end_kib),
                i.bytes_per_conn
                    .map_or("-".to_owned(), |b| format!("{:.0} bytes", b))
            ),
        ));
    }
    if let Some(u) = &r.server {
        rows.push((
            "server CPU".into(),
            format!(
                "{:.2} s in {:.1} s ({:.2} cores){}",
                u.cpu_s,
                u.wall_s,
                u.cores,
                u.cpu_us_per_msg
                    .map_or(String::new(), |c| format!(", {c:.1} µs per message"))
            ),
        ));
    }
    rows.push((
        "errors".into(),
        format!(
            "{} disconnects, {} protocol errors",
            r.disconnects, r.protocol_errors
        ),
    ));
    for e in &r.errors {
        rows.push(("".into(), e.clone()));
    }
    let w = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (k, v) in rows {
        out.push_str(&format!("{k:>w$}  {v}\n"));
    }
    out
}

/// Resident set size of `pid` in KiB (`VmRSS` of /proc/<pid>/status).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// CPU seconds (user + system, all threads) `pid` has used, from
/// /proc/<pid>/stat (fields 14 and 15, in USER_HZ = 100 ticks per second,
/// the value on every Linux architecture the load runs on).
pub fn cpu_s(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces.
    let after = stat.get(stat.rfind(')')?.checked_add(1)?..)?;
    let mut fields = after.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime.saturating_add(stime) as f64 / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_percentiles() {
        let h = SharedHist::new();
        {
            let mut s = Samples::new(&h);
            for us in 1..=1000u64 {
                s.record(us * 1000);
            }
        }
        let l = h.summary();
        assert_eq!(l.samples, 1000);
        assert!((l.p50_ms - 500.0).abs() < 1.0, "{l:?}");
        assert!((l.p99_ms - 990.0).abs() < 1.0, "{l:?}");
        assert!((l.max_ms - 1000.0).abs() < 1.0, "{l:?}");
    }

    #[test]
    fn rss_of_self() {
        let kib = rss_kib(std::process::id()).unwrap();
        assert!(kib > 100, "{kib}");
        assert_eq!(rss_kib(u32::MAX), None);
    }

    #[test]
    fn cpu_of_self_grows() {
        let before = cpu_s(std::process::id()).unwrap();
        let t = std::time::Instant::now();
        let mut x = 0u64;
        while t.elapsed() < std::time::Duration::from_millis(300) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        let after = cpu_s(std::process::id()).unwrap();
        assert!(after - before >= 0.1, "{before} -> {after}");
        assert_eq!(cpu_s(u32::MAX), None);
    }
}
