//! A wake-up flag for one waiting task, without a lock.
//!
//! A WebSocket's task waits for two things: bytes from the client and
//! frames from its session. With `tokio::select!` over a fresh read and a
//! `Notify`, every wake-up polled both again: the read through every layer
//! of the connection (and tokio's readiness lock) although only the session
//! had something, and the `Notify` re-registered under its lock. A
//! [`WakeFlag`] records *which* source woke the task: the session sets its
//! own flag; the read is polled with a waker that sets the read flag
//! ([`WakeFlag::waker`]). The task then polls only what woke it.
//!
//! ```text
//! waker side                          task side (one task at a time)
//! wake(): flag = true; wake task      poll_take(cx): register cx's waker;
//!                                                    take the flag
//! ```

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Wake, Waker};

use futures_util::task::AtomicWaker;

/// A flag set by [`wake`](Self::wake) and taken by the one task that waits
/// on it ([`poll_take`](Self::poll_take)): like `Notify::notify_one` with
/// its stored permit, for a single waiter.
#[derive(Default)]
pub(crate) struct WakeFlag {
    set: AtomicBool,
    task: AtomicWaker,
}

impl WakeFlag {
    /// A flag, already set when `set` (so the first poll looks).
    pub(crate) fn new(set: bool) -> Self {
        WakeFlag {
            set: AtomicBool::new(set),
            task: AtomicWaker::new(),
        }
    }

    /// Sets the flag and wakes the waiting task, if any.
    pub(crate) fn wake(&self) {
        self.set.store(true, Ordering::Release);
        self.task.wake();
    }

    /// Sets the flag without waking anyone (the task will look anyway).
    pub(crate) fn set(&self) {
        self.set.store(true, Ordering::Release);
    }

    /// Registers the task of `cx` as the one to wake, then takes the flag:
    /// true when it was set (and clears it). Registering first means a
    /// [`wake`](Self::wake) racing this call is never lost.
    pub(crate) fn poll_take(&self, cx: &Context<'_>) -> bool {
        self.task.register(cx.waker());
        self.set.swap(false, Ordering::AcqRel)
    }

    /// A waker that sets this flag and wakes the task registered by
    /// [`poll_take`](Self::poll_take): give it to a source polled on the
    /// task's behalf, and the task learns that source is ready.
    pub(crate) fn waker(self: &Arc<Self>) -> Waker {
        Waker::from(self.clone())
    }
}

impl Wake for WakeFlag {
    fn wake(self: Arc<Self>) {
        WakeFlag::wake(&self);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        WakeFlag::wake(self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// Counts its wake-ups.
    #[derive(Default)]
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_wake_before_the_poll_is_kept_and_taken_once() {
        let count = Arc::new(Count::default());
        let waker = Waker::from(count.clone());
        let cx = Context::from_waker(&waker);
        let flag = WakeFlag::new(false);
        assert!(!flag.poll_take(&cx));
        flag.wake();
        assert_eq!(
            count.0.load(Ordering::SeqCst),
            1,
            "the registered task is woken"
        );
        assert!(flag.poll_take(&cx));
        assert!(!flag.poll_take(&cx), "taken once");
        flag.wake();
        flag.wake();
        assert!(
            flag.poll_take(&cx),
            "two wakes, one take (a permit, not a count)"
        );
        assert!(!flag.poll_take(&cx));
    }

    #[test]
    fn its_waker_sets_the_flag_and_wakes_the_task() {
        let count = Arc::new(Count::default());
        let waker = Waker::from(count.clone());
        let cx = Context::from_waker(&waker);
        let flag = Arc::new(WakeFlag::new(true));
        assert!(flag.poll_take(&cx), "created set");
        let source = flag.waker();
        source.wake_by_ref();
        source.wake();
        assert_eq!(
            count.0.load(Ordering::SeqCst),
            1,
            "one registration, one wake"
        );
        assert!(flag.poll_take(&cx));
        flag.set();
        assert_eq!(count.0.load(Ordering::SeqCst), 1, "set does not wake");
        assert!(flag.poll_take(&cx));
    }

    #[tokio::test]
    async fn a_task_waiting_is_woken_from_another_thread() {
        let flag = Arc::new(WakeFlag::new(false));
        let other = flag.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            other.wake();
        });
        let wait = std::future::poll_fn(|cx| {
            if flag.poll_take(cx) {
                std::task::Poll::Ready(())
            } else {
                std::task::Poll::Pending
            }
        });
        tokio::time::timeout(std::time::Duration::from_secs(5), wait)
            .await
            .unwrap();
        t.join().unwrap();
    }
}
