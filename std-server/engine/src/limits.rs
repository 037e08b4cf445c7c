//! What oxio's server loop (`service::serve_app`) counts and times per
//! connection: open connections (global and per IP address), handshakes in
//! progress, bytes moved and requests in progress (for the idle deadline),
//! and the log line of a refusal (at most one a second).

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;

use crate::config::ServerLimits;
use crate::sync::LockExt;

/// Logs refusals past a limit: the first one at once, then at most one line
/// a second with the number refused meanwhile (an attack must not flood
/// the log).
#[derive(Debug, Default)]
pub(crate) struct RefusalLog {
    total: AtomicU64,
    unlogged: AtomicU64,
    last: Mutex<Option<Instant>>,
}

impl RefusalLog {
    /// One refusal: `what` limit, at `current` of `max`.
    pub(crate) fn refused(&self, what: &'static str, current: usize, max: usize) {
        let total = self.total.fetch_add(1, Ordering::Relaxed).saturating_add(1);
        let now = Instant::now();
        let mut last = self.last.locked();
        if last.is_none_or(|t| now.duration_since(t) >= Duration::from_secs(1)) {
            *last = Some(now);
            drop(last);
            let also = self.unlogged.swap(0, Ordering::Relaxed);
            tracing::warn!(
                current,
                max,
                refused_total = total,
                refused_since_last_line = also,
                "{what}: answered 503"
            );
        } else {
            self.unlogged.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The connection counters of one server loop.
#[derive(Debug)]
pub(crate) struct Limiter {
    limits: ServerLimits,
    open: AtomicUsize,
    pending: AtomicUsize,
    per_ip: Mutex<HashMap<IpAddr, usize>>,
    pub(crate) log: RefusalLog,
}

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Refused;

impl Limiter {
    pub(crate) fn new(limits: ServerLimits) -> Arc<Self> {
        Arc::new(Limiter {
            limits,
            open: AtomicUsize::new(0),
            pending: AtomicUsize::new(0),
            per_ip: Mutex::new(HashMap::new()),
            log: RefusalLog::default(),
        })
    }

    /// Counts a new connection from `peer`, or refuses it (logged) when a
    /// limit is reached. A connection from a trusted proxy is not counted
    /// per address here: its requests are ([`admit_request`](Self::admit_request)).
    pub(crate) fn admit(self: &Arc<Self>, peer: IpAddr) -> Result<(ConnGuard, Pending), Refused> {
        let open = self.open.fetch_add(1, Ordering::SeqCst);
        let pending = self.pending.fetch_add(1, Ordering::SeqCst);
        // From here on the guards undo the counts on every path.
        let conn = ConnGuard {
            limiter: self.clone(),
            slot: Arc::default(),
        };
        let pend = Pending {
            limiter: self.clone(),
            done: AtomicBool::new(false),
        };
        if let Some(max) = self.limits.max_connections {
            if open >= max {
                self.log.refused("connection limit reached", open, max);
                return Err(Refused);
            }
        }
        if let Some(max) = self.limits.max_pending_connections {
            if pending >= max {
                self.log
                    .refused("handshakes-in-progress limit reached", pending, max);
                return Err(Refused);
            }
        }
        if !self.is_trusted_proxy(peer) {
            let slot = self.take_address(peer)?;
            *conn.slot.locked() = slot;
        }
        Ok((conn, pend))
    }

    /// Whether the per-address limit applies to each request of a
    /// connection from `peer` (a trusted proxy) instead of the connection.
    pub(crate) fn is_trusted_proxy(&self, peer: IpAddr) -> bool {
        self.limits.max_connections_per_ip.is_some()
            && self.limits.trusted_proxies.iter().any(|n| n.contains(peer))
    }

    /// Counts one request from a trusted proxy `peer` against the client
    /// address its headers name, or refuses it (logged).
    pub(crate) fn admit_request(
        self: &Arc<Self>,
        peer: IpAddr,
        headers: &http::HeaderMap,
    ) -> Result<Option<AddressSlot>, Refused> {
        let client = client_address(&self.limits, peer, headers);
        self.take_address(client)
    }

    /// One place of `ip` under the per-address limit (`None` without a
    /// limit).
    fn take_address(self: &Arc<Self>, ip: IpAddr) -> Result<Option<AddressSlot>, Refused> {
        let Some(max) = self.limits.max_connections_per_ip else {
            return Ok(None);
        };
        let mut map = self.per_ip.locked();
        let n = map.entry(ip).or_insert(0);
        let current = *n;
        if current >= max {
            if current == 0 {
                map.remove(&ip);
            }
            drop(map);
            self.log
                .refused("per-address connection limit reached", current, max);
            return Err(Refused);
        }
        *n = current.saturating_add(1);
        Ok(Some(AddressSlot {
            limiter: self.clone(),
            ip,
        }))
    }
}

/// The client a request from a trusted proxy stands for: the rightmost
/// address of the client-address header that is not itself a trusted
/// proxy (entries left of it could be written by anyone), the leftmost
/// when all are trusted, or the proxy itself when the header is missing or
/// its rightmost untrusted entry is not an address.
pub(crate) fn client_address(
    limits: &ServerLimits,
    peer: IpAddr,
    headers: &http::HeaderMap,
) -> IpAddr {
    let trusted = |ip: IpAddr| limits.trusted_proxies.iter().any(|n| n.contains(ip));
    let values: Vec<&str> = headers
        .get_all(&limits.client_ip_header)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let mut leftmost = None;
    for entry in values.iter().rev().flat_map(|v| v.rsplit(',')) {
        match parse_forwarded_address(entry) {
            Some(ip) if trusted(ip) => leftmost = Some(ip),
            Some(ip) => return ip,
            None => return peer,
        }
    }
    leftmost.unwrap_or(peer)
}

/// One entry of a forwarded-for list: `1.2.3.4`, `1.2.3.4:5678`, `::1`
/// or `[::1]:5678`.
fn parse_forwarded_address(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(ip);
    }
    entry.parse::<std::net::SocketAddr>().ok().map(|a| a.ip())
}

/// One open connection, counted until dropped (it travels with the socket
/// into a WebSocket after an upgrade). Its address slot is the peer's for
/// a direct connection, or, for a trusted proxy's connection upgraded to a
/// WebSocket, the client's that the upgrade request named.
#[derive(Debug)]
pub(crate) struct ConnGuard {
    limiter: Arc<Limiter>,
    slot: Arc<Mutex<Option<AddressSlot>>>,
}

impl ConnGuard {
    /// Where the connection keeps its address slot.
    pub(crate) fn slot(&self) -> Arc<Mutex<Option<AddressSlot>>> {
        self.slot.clone()
    }
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.limiter.open.fetch_sub(1, Ordering::SeqCst);
    }
}

/// One place of an address under the per-address limit, held until dropped.
#[derive(Debug)]
pub(crate) struct AddressSlot {
    limiter: Arc<Limiter>,
    ip: IpAddr,
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut map = self.limiter.per_ip.locked();
        if let Some(n) = map.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

/// A handshake in progress: counted until its first request head is
/// complete ([`release`](Self::release)) or the connection ends.
#[derive(Debug)]
pub(crate) struct Pending {
    limiter: Arc<Limiter>,
    done: AtomicBool,
}

impl Pending {
    pub(crate) fn release(&self) {
        if !self.done.swap(true, Ordering::SeqCst) {
            self.limiter.pending.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.release();
    }
}

/// What a connection is doing, for the idle deadline.
#[derive(Debug)]
pub(crate) struct Activity {
    epoch: tokio::time::Instant,
    /// Milliseconds from `epoch` to the last byte moved or request ended.
    last_ms: AtomicU64,
    in_flight: AtomicUsize,
    changed: Notify,
    /// Whether anyone still watches for idleness: once the connection is
    /// upgraded (the heartbeat bounds a WebSocket) its bytes are not timed.
    watched: AtomicBool,
}

impl Default for Activity {
    fn default() -> Self {
        Activity {
            epoch: tokio::time::Instant::now(),
            last_ms: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            changed: Notify::new(),
            watched: AtomicBool::new(true),
        }
    }
}

impl Activity {
    fn touch(&self) {
        let ms = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.fetch_max(ms, Ordering::Relaxed);
    }

    fn moved(&self, n: usize) {
        if n > 0 && self.watched.load(Ordering::Relaxed) {
            self.touch();
        }
    }

    /// Nobody waits on [`idle_for`](Self::idle_for) any more (the HTTP
    /// connection ended or was upgraded): bytes moved from now on are not
    /// timed (a clock read per read and write of every WebSocket saved).
    pub(crate) fn unwatch(&self) {
        self.watched.store(false, Ordering::Relaxed);
    }

    /// A request is in progress until the guard is dropped.
    pub(crate) fn request(self: &Arc<Self>) -> RequestGuard {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        self.changed.notify_waiters();
        RequestGuard(self.clone())
    }

    fn quiet_until(&self, idle: Duration) -> tokio::time::Instant {
        self.epoch + Duration::from_millis(self.last_ms.load(Ordering::Relaxed)) + idle
    }

    /// Resolves once the connection has had no request in progress and
    /// moved no byte for `idle`.
    pub(crate) async fn idle_for(&self, idle: Duration) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.in_flight.load(Ordering::SeqCst) > 0 {
                changed.await;
                continue;
            }
            tokio::select! {
                _ = &mut changed => {}
                _ = tokio::time::sleep_until(self.quiet_until(idle)) => {
                    if self.in_flight.load(Ordering::SeqCst) == 0
                        && self.quiet_until(idle) <= tokio::time::Instant::now()
                    {
                        return;
                    }
                }
            }
        }
    }
}

/// Ends a request for [`Activity`].
#[derive(Debug)]
pub(crate) struct RequestGuard(Arc<Activity>);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.0.changed.notify_waiters();
    }
}

/// A connection's socket, recording activity and holding its count.
#[derive(Debug)]
pub(crate) struct TrackedIo<T> {
    io: T,
    activity: Arc<Activity>,
    _conn: ConnGuard,
}

impl<T> TrackedIo<T> {
    pub(crate) fn new(io: T, activity: Arc<Activity>, conn: ConnGuard) -> Self {
        TrackedIo {
            io,
            activity,
            _conn: conn,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for TrackedIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.io).poll_read(cx, buf);
        let n = buf.filled().len().saturating_sub(before);
        self.activity.moved(n);
        r
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for TrackedIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = r {
            self.activity.moved(n);
        }
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = r {
            self.activity.moved(n);
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(total: usize, pending: usize, per_ip: Option<usize>) -> ServerLimits {
        ServerLimits {
            max_connections: Some(total),
            max_pending_connections: Some(pending),
            max_connections_per_ip: per_ip,
            ..ServerLimits::default()
        }
    }

    #[test]
    fn counts_are_released_by_the_guards() {
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let l = Limiter::new(limits(3, 2, Some(2)));
        let first = l.admit(a).unwrap();
        let second = l.admit(a).unwrap();
        // Two handshakes in progress: the third waits its turn.
        assert!(l.admit(b).is_err());
        first.1.release();
        second.1.release();
        // Per address: a has two.
        assert!(l.admit(a).is_err());
        let third = l.admit(b).unwrap();
        third.1.release();
        // Three open in all.
        assert!(l.admit(b).is_err());
        drop(first);
        let again = l.admit(a).unwrap();
        assert_eq!(l.open.load(Ordering::SeqCst), 3);
        drop((second, third, again));
        assert_eq!(l.open.load(Ordering::SeqCst), 0);
        assert_eq!(l.pending.load(Ordering::SeqCst), 0);
        assert!(l.per_ip.locked().is_empty());
    }

    fn proxied(trusted: &[&str]) -> ServerLimits {
        ServerLimits {
            max_connections_per_ip: Some(1),
            trusted_proxies: trusted.iter().map(|t| t.parse().unwrap()).collect(),
            ..ServerLimits::default()
        }
    }

    fn client(limits: &ServerLimits, peer: &str, values: &[&str]) -> IpAddr {
        let mut headers = http::HeaderMap::new();
        for v in values {
            headers.append("x-forwarded-for", v.parse().unwrap());
        }
        client_address(limits, peer.parse().unwrap(), &headers)
    }

    #[test]
    fn the_client_is_the_rightmost_untrusted_forwarded_address() {
        let l = proxied(&["127.0.0.1", "10.0.0.0/8"]);
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(client(&l, "127.0.0.1", &["1.2.3.4"]), ip("1.2.3.4"));
        assert_eq!(
            client(&l, "127.0.0.1", &["1.2.3.4, 10.0.0.5"]),
            ip("1.2.3.4")
        );
        // A client-written entry on the left does not count.
        assert_eq!(
            client(&l, "127.0.0.1", &["6.6.6.6, 1.2.3.4"]),
            ip("1.2.3.4")
        );
        // Several header lines are one list, in order.
        assert_eq!(
            client(&l, "127.0.0.1", &["1.1.1.1", "2.2.2.2, 10.0.0.1"]),
            ip("2.2.2.2")
        );
        // Ports and brackets.
        assert_eq!(client(&l, "127.0.0.1", &["1.2.3.4:5678"]), ip("1.2.3.4"));
        assert_eq!(
            client(&l, "127.0.0.1", &["[2001:db8::1]:80"]),
            ip("2001:db8::1")
        );
        // Only proxies: the leftmost one. Nothing readable: the peer.
        assert_eq!(
            client(&l, "127.0.0.1", &["10.0.0.1, 10.0.0.2"]),
            ip("10.0.0.1")
        );
        assert_eq!(client(&l, "127.0.0.1", &[]), ip("127.0.0.1"));
        assert_eq!(
            client(&l, "127.0.0.1", &["1.2.3.4, unknown"]),
            ip("127.0.0.1")
        );
        assert_eq!(client(&l, "127.0.0.1", &[""]), ip("127.0.0.1"));
    }

    #[test]
    fn a_trusted_proxy_is_counted_per_request_not_per_connection() {
        let l = Limiter::new(proxied(&["127.0.0.1"]));
        let proxy: IpAddr = "127.0.0.1".parse().unwrap();
        let direct: IpAddr = "192.0.2.9".parse().unwrap();
        // Connections from the proxy are not limited per address ...
        let c1 = l.admit(proxy).unwrap();
        let c2 = l.admit(proxy).unwrap();
        // ... a direct client is.
        let d = l.admit(direct).unwrap();
        assert!(l.admit(direct).is_err());
        // Its requests are, by the forwarded address.
        let mut h = http::HeaderMap::new();
        h.insert("x-forwarded-for", "192.0.2.1".parse().unwrap());
        let slot = l.admit_request(proxy, &h).unwrap();
        assert!(slot.is_some());
        assert!(l.admit_request(proxy, &h).is_err());
        // The address behind the proxy and the direct one are distinct.
        h.insert("x-forwarded-for", "192.0.2.2".parse().unwrap());
        let other = l.admit_request(proxy, &h).unwrap();
        drop(slot);
        h.insert("x-forwarded-for", "192.0.2.1".parse().unwrap());
        let again = l.admit_request(proxy, &h).unwrap();
        drop((c1, c2, d, other, again));
        assert!(l.per_ip.locked().is_empty());
        assert_eq!(l.open.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn without_a_per_address_limit_no_proxy_is_special() {
        let l = Limiter::new(ServerLimits {
            trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
            ..ServerLimits::default()
        });
        assert!(!l.is_trusted_proxy("127.0.0.1".parse().unwrap()));
    }

    #[tokio::test(start_paused = true)]
    async fn idle_waits_for_requests_and_bytes() {
        let act = Arc::new(Activity::default());
        let start = tokio::time::Instant::now();
        let req = act.request();
        let a2 = act.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(3)).await;
            drop(req);
            tokio::time::sleep(Duration::from_millis(500)).await;
            a2.moved(10);
        });
        act.idle_for(Duration::from_secs(1)).await;
        // Request until 3 s; a byte at 3.5 s; then 1 s of quiet.
        assert_eq!(start.elapsed(), Duration::from_millis(4500));
    }
}
