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

    /// Counts a new connection from `ip`, or refuses it (logged) when a
    /// limit is reached.
    pub(crate) fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<(ConnGuard, Pending), Refused> {
        let open = self.open.fetch_add(1, Ordering::SeqCst);
        let pending = self.pending.fetch_add(1, Ordering::SeqCst);
        // From here on the guards undo the counts on every path.
        let conn = ConnGuard {
            limiter: self.clone(),
            ip: None,
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
        let mut conn = conn;
        if let Some(max) = self.limits.max_connections_per_ip {
            let mut map = self.per_ip.locked();
            let n = map.entry(ip).or_insert(0);
            let current = *n;
            if current >= max {
                drop(map);
                self.log
                    .refused("per-address connection limit reached", current, max);
                return Err(Refused);
            }
            *n = current.saturating_add(1);
            conn.ip = Some(ip);
        }
        Ok((conn, pend))
    }
}

/// One open connection, counted until dropped (it travels with the socket
/// into a WebSocket after an upgrade).
#[derive(Debug)]
pub(crate) struct ConnGuard {
    limiter: Arc<Limiter>,
    ip: Option<IpAddr>,
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.limiter.open.fetch_sub(1, Ordering::SeqCst);
        if let Some(ip) = self.ip {
            let mut map = self.limiter.per_ip.locked();
            if let Some(n) = map.get_mut(&ip) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    map.remove(&ip);
                }
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
}

impl Default for Activity {
    fn default() -> Self {
        Activity {
            epoch: tokio::time::Instant::now(),
            last_ms: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            changed: Notify::new(),
        }
    }
}

impl Activity {
    fn touch(&self) {
        let ms = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.fetch_max(ms, Ordering::Relaxed);
    }

    fn moved(&self, n: usize) {
        if n > 0 {
            self.touch();
        }
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
