//! The Tokio side of a session: the sans-IO [`SessionState`] behind a
//! mutex, the held poll, the heartbeat timer task, and the ordered delivery
//! of events to the handler.
//!
//! Locking: one `std::sync::Mutex` per session, never held across an
//! `.await` nor while the handler runs. Handler calls for one session are
//! serialized by a `dispatching` flag: whoever finds events queued and the
//! flag clear delivers them all, in order; a handler that calls back into
//! the session (`send`, `close`) only queues.

use crate::sync::LockExt;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use oxio_codec::engineio::{Transport, Version};
use oxio_codec::Instant;
use tokio::sync::{oneshot, Notify};

use crate::contract::{
    CloseReason, EngineHandler, HandshakeInfo, Message, SendError, Session, SessionHandle,
};
use crate::observe::EngineObserver;
use crate::session_state::{Active, Event, OutPacket, SessionState};
use crate::wake::WakeFlag;
use crate::Sid;

/// Where the driver reports a finished session: the layer that keeps the
/// sessions (the router) implements it. Defined here, below the router, so
/// the driver never names the router's type.
pub(crate) trait SessionRegistry: Send + Sync + 'static {
    /// `sid` is finished: forget it.
    fn session_finished(&self, sid: &Sid);
}

/// The engine's clock: milliseconds since the engine was created.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    epoch: tokio::time::Instant,
}

impl Clock {
    pub(crate) fn new() -> Self {
        Clock {
            epoch: tokio::time::Instant::now(),
        }
    }

    pub(crate) fn now(&self) -> Instant {
        let ms = self.epoch.elapsed().as_millis();
        Instant::from_millis(u64::try_from(ms).unwrap_or(u64::MAX))
    }

    pub(crate) fn to_tokio(self, at: Instant) -> tokio::time::Instant {
        let at = std::time::Duration::from_millis(at.as_millis());
        self.epoch.checked_add(at).unwrap_or_else(|| {
            // The far future: a deadline that never comes in practice.
            self.epoch + std::time::Duration::from_secs(86_400 * 365)
        })
    }
}

/// Everything behind the session's mutex.
pub(crate) struct Inner {
    /// The protocol logic.
    pub(crate) state: SessionState,
    /// Where the held GET waits for its answer.
    pub(crate) poll_waiter: Option<oneshot::Sender<Vec<OutPacket>>>,
    /// Someone is delivering events to the handler.
    dispatching: bool,
    /// The deadline the timer task last saw.
    deadline: Option<Instant>,
    /// Already removed from the engine's map.
    removed: bool,
}

/// One session, shared by its requests, its WebSocket task and its timer.
pub(crate) struct SessionShared {
    sid: Sid,
    version: Version,
    info: HandshakeInfo,
    /// v3: the client asked for base64 instead of binary (`b64=1`).
    pub(crate) b64: bool,
    inner: Mutex<Inner>,
    /// Wakes the WebSocket's task (there is at most one WebSocket).
    pub(crate) ws_wake: WakeFlag,
    /// Wakes the timer task when the deadline changes.
    timer_wake: Notify,
    handler: Arc<dyn EngineHandler>,
    registry: Weak<dyn SessionRegistry>,
    pub(crate) clock: Clock,
    me: Weak<SessionShared>,
    observer: Option<Arc<dyn EngineObserver>>,
}

/// Clears the dispatching flag even if the handler panics.
struct DispatchGuard<'a>(&'a SessionShared);

impl Drop for DispatchGuard<'_> {
    fn drop(&mut self) {
        self.0.lock().dispatching = false;
    }
}

impl SessionShared {
    /// A new session; call [`start`](Self::start) next.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        sid: Sid,
        info: HandshakeInfo,
        b64: bool,
        state: SessionState,
        handler: Arc<dyn EngineHandler>,
        registry: Weak<dyn SessionRegistry>,
        clock: Clock,
        observer: Option<Arc<dyn EngineObserver>>,
    ) -> Arc<Self> {
        let version = state.version();
        Arc::new_cyclic(|me| SessionShared {
            sid,
            version,
            info,
            b64,
            inner: Mutex::new(Inner {
                deadline: state.poll_timeout(),
                state,
                poll_waiter: None,
                // Held until `on_open` has run, so nothing overtakes it.
                dispatching: true,
                removed: false,
            }),
            ws_wake: WakeFlag::new(false),
            timer_wake: Notify::new(),
            handler,
            registry,
            clock,
            me: me.clone(),
            observer,
        })
    }

    /// Tells the handler the session is open, delivers whatever queued
    /// meanwhile, and starts the timer task.
    pub(crate) fn start(self: &Arc<Self>) {
        let session: Session = self.clone();
        {
            let _guard = DispatchGuard(self);
            self.handler.on_open(session);
        }
        self.dispatch();
        tokio::spawn(run_timer(self.clone()));
    }

    /// The session id.
    pub(crate) fn id(&self) -> &Sid {
        &self.sid
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.locked()
    }

    /// Runs `f` on the state at the current time, then releases a held poll
    /// whose answer is due, wakes the WebSocket writer and the timer as
    /// needed, delivers queued events, and forgets the session once it is
    /// finished.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut Inner, Instant) -> R) -> R {
        let now = self.clock.now();
        self.update(|inner| f(inner, now), || now)
    }

    /// [`with`](Self::with) for a change that does not depend on the time
    /// (queueing messages, taking frames to write): the clock is read only
    /// if what follows the change needs it. Two of the three session calls
    /// of an echo need no time; a clock read is ≈ 100 instructions.
    pub(crate) fn with_untimed<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        self.update(f, || self.clock.now())
    }

    fn update<R>(&self, f: impl FnOnce(&mut Inner) -> R, now: impl Fn() -> Instant) -> R {
        let (r, has_events, finished) = {
            let mut inner = self.lock();
            let before = inner.state.ws_signal();
            let was_polling = self.observer.is_some() && inner.state.active() == Active::Polling;
            let r = f(&mut inner);
            if was_polling && inner.state.active() == Active::WebSocket {
                if let Some(o) = &self.observer {
                    o.upgrade();
                }
            }
            self.after_change(&mut inner, now);
            if before.wakes(inner.state.ws_signal()) {
                self.ws_wake.wake();
            }
            // Claimed here, under the same lock: no second lock to claim it.
            let has_events = inner.state.has_events() && !inner.dispatching;
            if has_events {
                inner.dispatching = true;
            }
            let finished = inner.state.is_finished() && !inner.removed;
            if finished {
                inner.removed = true;
            }
            (r, has_events, finished)
        };
        if has_events {
            self.deliver();
        }
        if finished {
            if let Some(registry) = self.registry.upgrade() {
                registry.session_finished(&self.sid);
            }
        }
        r
    }

    fn after_change(&self, inner: &mut Inner, now: impl Fn() -> Instant) {
        if inner.poll_waiter.is_some() {
            if let Some(packets) = inner.state.take_poll_response() {
                if let Some(waiter) = inner.poll_waiter.take() {
                    if waiter.send(packets).is_err() {
                        // The GET went away as its answer was ready.
                        inner.state.transport_error(now());
                        if let Some(p) = inner.state.take_poll_response() {
                            drop(p);
                        }
                    }
                }
            }
        }
        let deadline = inner.state.poll_timeout();
        if deadline != inner.deadline || inner.state.is_finished() {
            inner.deadline = deadline;
            self.timer_wake.notify_one();
        }
    }

    /// Delivers queued events unless someone else already is.
    fn dispatch(&self) {
        {
            let mut inner = self.lock();
            if inner.dispatching {
                return;
            }
            inner.dispatching = true;
        }
        self.deliver();
    }

    /// Delivers queued events, in order, with the dispatching flag claimed
    /// by the caller. The flag is released under the same lock that finds
    /// the queue empty: an event queued by another thread is either seen
    /// here or finds the flag clear and is delivered by that thread (never
    /// left behind until the next change).
    fn deliver(&self) {
        let guard = DispatchGuard(self);
        let Some(me) = self.me.upgrade() else { return };
        let session: Session = me;
        loop {
            let (event, active) = {
                let mut inner = self.lock();
                match inner.state.poll_event() {
                    Some(e) => (e, inner.state.active()),
                    None => {
                        inner.dispatching = false;
                        drop(inner);
                        // Released above, under the lock.
                        std::mem::forget(guard);
                        return;
                    }
                }
            };
            match event {
                Event::Message(msg) => {
                    if let Some(o) = &self.observer {
                        o.message_in(message_len(&msg));
                    }
                    self.handler.on_message(&session, msg)
                }
                Event::Closed(reason) => {
                    tracing::debug!(sid = %self.sid, %reason, "session closed");
                    if let Some(o) = &self.observer {
                        let transport = match active {
                            Active::Polling => Transport::Polling,
                            Active::WebSocket => Transport::WebSocket,
                        };
                        o.session_closed(transport, reason);
                    }
                    self.handler.on_close(&session, reason);
                }
            }
        }
    }
}

/// A message's payload length in bytes.
fn message_len(msg: &Message) -> usize {
    match msg {
        Message::Text(t) => t.as_bytes().len(),
        Message::Binary(b) => b.len(),
    }
}

/// Sleeps until the session's next deadline, fires it, repeats until the
/// session is finished.
async fn run_timer(session: Arc<SessionShared>) {
    loop {
        let (deadline, finished) = {
            let inner = session.lock();
            (inner.state.poll_timeout(), inner.state.is_finished())
        };
        if finished {
            break;
        }
        match deadline {
            Some(at) => {
                tokio::select! {
                    _ = tokio::time::sleep_until(session.clock.to_tokio(at)) => {
                        session.with(|inner, now| inner.state.handle_timeout(now));
                    }
                    _ = session.timer_wake.notified() => {}
                }
            }
            None => session.timer_wake.notified().await,
        }
    }
}

impl SessionHandle for SessionShared {
    fn sid(&self) -> &str {
        self.sid.as_str()
    }

    fn protocol(&self) -> Version {
        self.version
    }

    fn info(&self) -> &HandshakeInfo {
        &self.info
    }

    fn send_many(&self, msgs: &[Message]) -> Result<(), SendError> {
        let sent = self.with_untimed(|inner| inner.state.send_many(msgs));
        if let Some(o) = &self.observer {
            match sent {
                Ok(()) => o.messages_out(msgs.len(), msgs.iter().map(message_len).sum()),
                Err(SendError::Full) => o.queue_full(),
                Err(SendError::Closed) => {}
            }
        }
        sent
    }

    fn close(&self, reason: CloseReason) {
        self.with(|inner, now| inner.state.close(reason, now));
    }

    fn is_open(&self) -> bool {
        self.lock().state.is_open()
    }

    fn transport_name(&self) -> Option<&'static str> {
        Some(match self.lock().state.active() {
            crate::session_state::Active::Polling => "polling",
            crate::session_state::Active::WebSocket => "websocket",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session_state::{Channel, InPacket, Timing};
    use crate::Utf8Bytes;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Counts the messages delivered to it.
    #[derive(Default)]
    struct Count(AtomicUsize);

    impl EngineHandler for Count {
        fn on_open(&self, _: Session) {}
        fn on_message(&self, _: &Session, _: Message) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
        fn on_close(&self, _: &Session, _: CloseReason) {}
    }

    struct Nowhere;

    impl SessionRegistry for Nowhere {
        fn session_finished(&self, _: &Sid) {}
    }

    /// Several threads queue messages into one session at once; after
    /// each round all of them were delivered. (The dispatcher used to find
    /// the queue empty under one lock and clear its flag under another, so
    /// a message queued in between could wait for the session's next
    /// change; the window is a few instructions wide and this test did not
    /// hit it on 2 cores, but it checks the guarantee.)
    #[test]
    fn messages_queued_from_several_threads_at_once_are_all_delivered() {
        const THREADS: usize = 4;
        const ROUNDS: usize = 5_000;
        let handler = Arc::new(Count::default());
        let registry: Arc<dyn SessionRegistry> = Arc::new(Nowhere);
        let clock = Clock::new();
        let timing = Timing {
            ping_interval: 25_000,
            ping_timeout: 20_000,
            upgrade_timeout: 10_000,
            close_linger: 5_000,
        };
        let state = SessionState::new(
            Version::V4,
            Active::WebSocket,
            Utf8Bytes::from("{}"),
            timing,
            1 << 20,
            clock.now(),
        );
        let info = HandshakeInfo {
            query: String::new(),
            headers: http::HeaderMap::new(),
            remote_addr: None,
            issued: std::time::SystemTime::now(),
            secure: false,
            url: "/engine.io/".into(),
        };
        let session = SessionShared::new(
            Sid::from("s"),
            info,
            false,
            state,
            handler.clone(),
            Arc::downgrade(&registry),
            clock,
            None,
        );
        // As `start` leaves it, without its timer task.
        session.lock().dispatching = false;
        // Rounds of one message per thread, all at once: after each round
        // every message must have been delivered, with no later change.
        let barrier = Arc::new(std::sync::Barrier::new(THREADS));
        let threads: Vec<_> = (0..THREADS)
            .map(|_| {
                let (session, barrier, handler) =
                    (session.clone(), barrier.clone(), handler.clone());
                std::thread::spawn(move || {
                    for round in 1..=ROUNDS {
                        barrier.wait();
                        let msg = InPacket::Message(Message::Text(Utf8Bytes::from_static("x")));
                        session.with(|inner, now| {
                            inner
                                .state
                                .handle_packet(Channel::WebSocket, false, msg, now)
                        });
                        barrier.wait();
                        // Whoever delivers finishes before `with` returns.
                        let got = handler.0.load(Ordering::SeqCst);
                        assert_eq!(
                            got,
                            round * THREADS,
                            "round {round}: a message was left behind"
                        );
                        barrier.wait();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(handler.0.load(Ordering::SeqCst), THREADS * ROUNDS);
    }
}
