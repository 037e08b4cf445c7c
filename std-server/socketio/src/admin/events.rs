//! What the admin UI is told: the aggregated counters of `server_stats`,
//! the development events, and dates as JavaScript serializes them.

use crate::engine::Utf8Bytes;
use crate::socketio::SocketRef;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

/// Distinct (second, type, sub-type) counters kept between two stats at
/// most; past it, new keys are dropped (the reasons are few, so only a
/// stalled stats task gets there).
const MAX_KEYS: usize = 4096;

/// Counters per second, type and sub-type (Node's `EventBuffer`).
#[derive(Default)]
pub(super) struct EventBuffer {
    counts: HashMap<(u64, &'static str, Option<String>), u64>,
}

impl EventBuffer {
    /// Adds `n` to the counter of this second.
    pub(super) fn push(&mut self, kind: &'static str, sub: Option<&str>, n: u64) {
        self.push_at(SystemTime::now(), kind, sub, n);
    }

    /// Adds `n` to the counter of the second of `at`.
    pub(super) fn push_at(
        &mut self,
        at: SystemTime,
        kind: &'static str,
        sub: Option<&str>,
        n: u64,
    ) {
        let second = ms(at) / 1000 * 1000;
        if let Some(c) = self.counts.get_mut(&(second, kind, sub.map(str::to_owned))) {
            *c = c.saturating_add(n);
        } else if self.counts.len() < MAX_KEYS {
            self.counts
                .insert((second, kind, sub.map(str::to_owned)), n);
        }
    }

    /// The counters as `aggregatedEvents`, emptied.
    pub(super) fn take(&mut self) -> Value {
        let mut out: Vec<_> = self.counts.drain().collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Value::Array(
            out.into_iter()
                .map(|((timestamp, kind, sub), count)| match sub {
                    Some(sub) => json!({"timestamp": timestamp, "type": kind, "subType": sub, "count": count}),
                    None => json!({"timestamp": timestamp, "type": kind, "count": count}),
                })
                .collect(),
        )
    }
}

/// A development event, queued by the observer for the admin task.
pub(super) enum AdminEvent {
    Connected(SocketRef, SystemTime),
    Disconnected {
        nsp: String,
        id: String,
        reason: String,
        at: SystemTime,
    },
    Room {
        joined: bool,
        nsp: String,
        room: String,
        id: String,
        at: SystemTime,
    },
    Event {
        sent: bool,
        nsp: String,
        id: String,
        /// The packet's text frame; its JSON array starts at `json_at`.
        frame: Utf8Bytes,
        json_at: usize,
        at: SystemTime,
    },
}

/// Where the JSON array of an EVENT text frame starts: after the type
/// (`2`, or `5<n>-`), the namespace (`/nsp,`) and the ack id.
pub(super) fn json_start(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = match bytes.first()? {
        b'2' => 1,
        b'5' => text.find('-')? + 1,
        _ => return None,
    };
    if bytes.get(i) == Some(&b'/') {
        i += text.get(i..)?.find(',')? + 1;
    }
    while bytes.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    (bytes.get(i) == Some(&b'[')).then_some(i)
}

fn ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// `t` as JavaScript's `JSON.stringify(date)` writes it:
/// `2024-01-31T12:34:56.789Z`.
pub(super) fn iso_date(t: SystemTime) -> String {
    let total = ms(t);
    let millis = total % 1000;
    let secs = total / 1000;
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil(i64::try_from(days).unwrap_or(0));
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn dates_as_javascript_writes_them() {
        let at = |ms: u64| iso_date(UNIX_EPOCH + Duration::from_millis(ms));
        assert_eq!(at(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(at(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(at(1_798_761_599_999), "2026-12-31T23:59:59.999Z");
    }

    #[test]
    fn json_of_event_frames() {
        fn at(t: &str) -> Option<&str> {
            json_start(t).map(|i| &t[i..])
        }
        assert_eq!(at(r#"2["a",1]"#), Some(r#"["a",1]"#));
        assert_eq!(at(r#"2/x[y,12["a"]"#), Some(r#"["a"]"#));
        assert_eq!(
            at(r#"51-/n,["a",{"_placeholder":true,"num":0}]"#),
            Some(r#"["a",{"_placeholder":true,"num":0}]"#)
        );
        assert_eq!(at(r#"3/n,1["a"]"#), None);
        assert_eq!(at("2/n"), None);
        assert_eq!(at(""), None);
    }

    #[test]
    fn counters_aggregate_per_second_type_and_reason() {
        let mut b = EventBuffer::default();
        b.push("rawDisconnection", Some("transport close"), 1);
        b.push("rawDisconnection", Some("transport close"), 1);
        b.push("bytesIn", None, 10);
        let v = b.take();
        let list = v.as_array().unwrap();
        assert_eq!(list.len(), 2, "{v}");
        let disc = list
            .iter()
            .find(|e| e["type"] == "rawDisconnection")
            .unwrap();
        assert_eq!(
            (disc["subType"].as_str(), disc["count"].as_u64()),
            (Some("transport close"), Some(2))
        );
        assert_eq!(disc["timestamp"].as_u64().unwrap() % 1000, 0);
        let bytes = list.iter().find(|e| e["type"] == "bytesIn").unwrap();
        assert!(bytes.get("subType").is_none());
        assert_eq!(b.take(), json!([]));
    }
}
