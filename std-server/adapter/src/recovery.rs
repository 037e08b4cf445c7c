//! Connection state recovery in one process (Node's `SessionAwareAdapter`
//! of socket.io-adapter): the options, the offsets, the replay buffer and
//! the sessions of disconnected sockets, all bounded.
//!
//! Locks: the replay buffer (`log`) is held while a broadcast is recorded
//! *and delivered*, so every client receives recorded packets in offset
//! order (a client acknowledges the last offset it saw: a packet delivered
//! out of order would be replayed twice). The sessions have a lock of
//! their own, taken after `log` when both are needed and never held while
//! calling out: persisting a session (which runs when a connection closes,
//! possibly from inside a delivery) never waits on `log`.

use crate::{BroadcastOptions, Outgoing, PersistedSession, RestoredSession, Room, RoomIndex};
use oxio_engine::sync::LockExt;
use oxio_engine::Sid;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// Connection state recovery (Node's `connectionStateRecovery` server
/// option): a client that lost its connection for less than
/// [`max_disconnection_duration`](Self::max_disconnection_duration) comes
/// back as the same socket (same id, rooms and `data`) and receives the
/// events it missed. Off unless set, as in Node.
///
/// Node keeps every packet of the last `max_disconnection_duration` and
/// every session without limit; oxio bounds both (the `max_*` fields).
/// When the buffer overflows, the oldest packets go, and a client whose
/// offset is gone gets a new session.
///
/// ```
/// use oxio_adapter::ConnectionStateRecovery;
/// use std::time::Duration;
///
/// let csr = ConnectionStateRecovery::default();
/// assert_eq!(csr.max_disconnection_duration, Duration::from_secs(120));
/// assert!(csr.skip_middlewares);
/// let csr = ConnectionStateRecovery { max_disconnection_duration: Duration::from_secs(30), ..csr };
/// # let _ = csr;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionStateRecovery {
    /// How long a disconnected socket's session, and a recorded packet,
    /// are kept (Node's `maxDisconnectionDuration`, default 2 minutes).
    pub max_disconnection_duration: Duration,
    /// A recovered socket skips the namespace's connect middlewares (Node's
    /// `skipMiddlewares`, default true).
    pub skip_middlewares: bool,
    /// Most packets the replay buffer of one namespace holds (default
    /// 65 536); the oldest go first.
    pub max_packets: usize,
    /// Most bytes (text frames and attachments) the replay buffer of one
    /// namespace holds (default 64 MiB); the oldest packets go first.
    pub max_bytes: usize,
    /// Most sessions of disconnected sockets one namespace keeps (default
    /// 65 536); the oldest go first.
    pub max_sessions: usize,
    /// How often expired sessions and packets are swept (default 60 s, as
    /// Node). Recording a packet also drops the expired ones at the front.
    pub sweep_interval: Duration,
}

impl Default for ConnectionStateRecovery {
    fn default() -> Self {
        ConnectionStateRecovery {
            max_disconnection_duration: Duration::from_secs(120),
            skip_middlewares: true,
            max_packets: 65_536,
            max_bytes: 64 << 20,
            max_sessions: 65_536,
            sweep_interval: Duration::from_secs(60),
        }
    }
}

/// Packets held for one socket being restored, from the moment its missed
/// packets were taken until it is connected: at most this many, else the
/// restore fails and the connection is closed (the client recovers again).
pub(crate) const MAX_HELD: usize = 4096;

/// A recorded packet's position: milliseconds since the Unix epoch, then
/// its rank within that millisecond (0 for the first).
type Key = (u64, u64);

const ALPHABET: &[u8; 64] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_";

fn encode64(mut n: u64, out: &mut String) {
    let mut digits = [0u8; 11];
    let mut len = 0;
    loop {
        let d = ALPHABET.get((n % 64) as usize).copied().unwrap_or(b'0');
        if let Some(slot) = digits.get_mut(len) {
            *slot = d;
        }
        len += 1;
        n /= 64;
        if n == 0 || len == digits.len() {
            break;
        }
    }
    for d in digits.iter().take(len).rev() {
        out.push(char::from(*d));
    }
}

fn decode64(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 11 {
        return None;
    }
    s.bytes().try_fold(0u64, |n, c| {
        let d = ALPHABET.iter().position(|&a| a == c)?;
        n.checked_mul(64)?.checked_add(d as u64)
    })
}

/// The offset string of `key`, in the shape of Node's `yeast()`: the
/// millisecond in base 64, then `.<rank - 1>` from the second id of a
/// millisecond on (`OzAb3Xy`, `OzAb3Xy.0`, `OzAb3Xy.1`, …).
fn offset_of(key: Key) -> String {
    let mut s = String::with_capacity(12);
    encode64(key.0, &mut s);
    if key.1 > 0 {
        s.push('.');
        encode64(key.1 - 1, &mut s);
    }
    s
}

/// The key of an offset this process made; `None` for anything else
/// (only the canonical spelling is accepted).
fn parse_offset(offset: &str) -> Option<Key> {
    if offset.len() > 24 {
        return None;
    }
    let key = match offset.split_once('.') {
        None => (decode64(offset)?, 0),
        Some((ms, rank)) => (decode64(ms)?, decode64(rank)?.checked_add(1)?),
    };
    (offset_of(key) == offset).then_some(key)
}

/// The last key handed out, process-wide (offsets are unique across
/// namespaces, as Node's module-wide `yeast`), never going back when the
/// wall clock does.
static LAST_KEY: Mutex<Key> = Mutex::new((0, 0));

fn next_key() -> Key {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    let mut last = LAST_KEY.locked();
    let key = if now > last.0 {
        (now, 0)
    } else {
        (last.0, last.1.saturating_add(1))
    };
    *last = key;
    key
}

struct Recorded {
    key: Key,
    at: Instant,
    size: usize,
    packet: Outgoing,
    rooms: Vec<Room>,
    except: Vec<Room>,
}

/// Packets for a socket being restored (see [`MAX_HELD`]).
#[derive(Default)]
pub(crate) struct Held {
    pub(crate) packets: Vec<(Outgoing, bool)>,
    pub(crate) overflowed: bool,
}

impl Held {
    pub(crate) fn push(&mut self, packet: &Outgoing, volatile: bool) {
        if self.packets.len() >= MAX_HELD {
            self.overflowed = true;
            self.packets.clear();
        }
        if !self.overflowed {
            self.packets.push((packet.clone(), volatile));
        }
    }
}

/// The replay buffer, and the sockets being restored.
#[derive(Default)]
pub(crate) struct Log {
    packets: VecDeque<Recorded>,
    bytes: usize,
    pub(crate) held: HashMap<Sid, Held>,
}

impl Log {
    fn pop_front(&mut self) {
        if let Some(p) = self.packets.pop_front() {
            self.bytes = self.bytes.saturating_sub(p.size);
        }
    }

    fn drop_expired(&mut self, threshold: Option<Instant>) {
        let Some(threshold) = threshold else { return };
        while self.packets.front().is_some_and(|p| p.at < threshold) {
            self.pop_front();
        }
    }

    fn position(&self, key: Key) -> Option<usize> {
        self.packets.binary_search_by(|p| p.key.cmp(&key)).ok()
    }
}

struct Stored {
    session: PersistedSession,
    at: Instant,
    order: u64,
}

#[derive(Default)]
struct Sessions {
    by_pid: HashMap<Sid, Stored>,
    /// `(disconnected at, counter)` → pid, oldest first.
    order: BTreeMap<(Instant, u64), Sid>,
    counter: u64,
}

impl Sessions {
    fn remove(&mut self, pid: &str) -> Option<Stored> {
        let stored = self.by_pid.remove(pid)?;
        self.order.remove(&(stored.at, stored.order));
        Some(stored)
    }

    fn pop_oldest(&mut self) {
        if let Some((_, pid)) = self.order.pop_first() {
            self.by_pid.remove(&pid);
        }
    }
}

/// One namespace's recovery state.
pub(crate) struct Recovery {
    pub(crate) config: ConnectionStateRecovery,
    pub(crate) log: Mutex<Log>,
    sessions: Mutex<Sessions>,
}

impl Recovery {
    pub(crate) fn new(config: ConnectionStateRecovery) -> Self {
        Recovery {
            config,
            log: Mutex::new(Log::default()),
            sessions: Mutex::new(Sessions::default()),
        }
    }

    fn threshold(&self, now: Instant) -> Option<Instant> {
        now.checked_sub(self.config.max_disconnection_duration)
    }

    /// Records `packet` (an event without ack, not volatile) in `log`:
    /// returns it with its offset appended, or `None` if it cannot carry
    /// one (then it is sent as it is, unrecorded).
    pub(crate) fn record(
        &self,
        log: &mut Log,
        packet: &Outgoing,
        opts: &BroadcastOptions,
        now: Instant,
    ) -> Option<Outgoing> {
        let key = next_key();
        let packet = packet.with_offset(&offset_of(key))?;
        let size = packet.size();
        log.drop_expired(self.threshold(now));
        log.packets.push_back(Recorded {
            key,
            at: now,
            size,
            packet: packet.clone(),
            rooms: opts.rooms.clone(),
            except: opts.except.clone(),
        });
        log.bytes = log.bytes.saturating_add(size);
        while log.packets.len() > self.config.max_packets || log.bytes > self.config.max_bytes {
            log.pop_front();
        }
        Some(packet)
    }

    pub(crate) fn persist(&self, session: PersistedSession, now: Instant) {
        if self.config.max_sessions == 0 {
            return;
        }
        let mut s = self.sessions.locked();
        s.remove(session.pid.as_str());
        while s.by_pid.len() >= self.config.max_sessions {
            s.pop_oldest();
        }
        s.counter = s.counter.wrapping_add(1);
        let order = s.counter;
        s.order.insert((now, order), session.pid.clone());
        s.by_pid.insert(
            session.pid.clone(),
            Stored {
                session,
                at: now,
                order,
            },
        );
    }

    /// Takes session `pid` if it is still valid and `offset` is still in
    /// the buffer: its missed packets, and the socket joins its rooms and
    /// has its packets held (see [`Held`]) from now on, all under `log`, so
    /// a concurrent broadcast is either among the missed ones or held,
    /// never both, never neither.
    pub(crate) fn restore(
        &self,
        index: &RoomIndex,
        pid: &str,
        offset: &str,
        now: Instant,
    ) -> Option<RestoredSession> {
        let key = parse_offset(offset)?;
        let mut log = self.log.locked();
        let mut sessions = self.sessions.locked();
        let stored = sessions.by_pid.get(pid)?;
        let expires = stored
            .at
            .checked_add(self.config.max_disconnection_duration);
        if expires.is_some_and(|t| t < now) {
            sessions.remove(pid);
            return None;
        }
        let rooms = stored.session.rooms.clone();
        let sid = stored.session.sid.clone();
        if log.held.contains_key(&sid) {
            return None;
        }
        let index_of = log.position(key)?;
        let missed = log
            .packets
            .iter()
            .skip(index_of + 1)
            .filter(|p| should_include(&rooms, &p.rooms, &p.except))
            .map(|p| p.packet.clone())
            .collect();
        let session = sessions.remove(pid)?.session;
        drop(sessions);
        index.add_all(&sid, &rooms);
        log.held.insert(sid, Held::default());
        Some(RestoredSession { session, missed })
    }

    /// Drops expired sessions and packets.
    pub(crate) fn sweep(&self, now: Instant) {
        let threshold = self.threshold(now);
        self.log.locked().drop_expired(threshold);
        if let Some(threshold) = threshold {
            let mut s = self.sessions.locked();
            while s
                .order
                .first_key_value()
                .is_some_and(|(k, _)| k.0 < threshold)
            {
                s.pop_oldest();
            }
        }
    }

    /// (packets, bytes, sessions) held now.
    pub(crate) fn stats(&self) -> (usize, usize, usize) {
        let (packets, bytes) = {
            let log = self.log.locked();
            (log.packets.len(), log.bytes)
        };
        (packets, bytes, self.sessions.locked().by_pid.len())
    }
}

/// Node's `shouldIncludePacket`: the session is in one of the target rooms
/// (or the packet went to everyone) and in none of the excluded ones.
fn should_include(session_rooms: &[Room], rooms: &[Room], except: &[Room]) -> bool {
    let included = rooms.is_empty() || session_rooms.iter().any(|r| rooms.contains(r));
    included && !session_rooms.iter().any(|r| except.contains(r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_look_like_yeast_and_parse_back() {
        assert_eq!(offset_of((0, 0)), "0");
        assert_eq!(offset_of((64, 0)), "10");
        assert_eq!(offset_of((1_700_000_000_000, 0)), "OlFvMW0");
        assert_eq!(offset_of((1_700_000_000_000, 1)), "OlFvMW0.0");
        assert_eq!(offset_of((1_700_000_000_000, 66)), "OlFvMW0.11");
        for key in [(0, 0), (1, 5), (1_700_000_000_000, 0), (u64::MAX, u64::MAX)] {
            assert_eq!(parse_offset(&offset_of(key)), Some(key), "{key:?}");
        }
        for bad in [
            "",
            ".",
            "a.",
            ".a",
            "00",
            "a.00",
            "a.b.c",
            "a b",
            "é",
            "1+2",
            "OlFvMW0.",
            "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
        ] {
            assert_eq!(parse_offset(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn keys_increase() {
        let mut last = next_key();
        for _ in 0..10_000 {
            let k = next_key();
            assert!(k > last);
            last = k;
        }
    }
}
