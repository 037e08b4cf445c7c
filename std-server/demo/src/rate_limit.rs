//! A sliding-window rate limit (the per-socket `chat:message` limit).

use std::collections::VecDeque;
use std::time::Duration;
use tokio::time::Instant;

/// `chat:message`s one socket may send per [`CHAT_WINDOW`] (20).
pub const CHAT_MAX: usize = 20;

/// The window of the chat limit (10 s).
pub const CHAT_WINDOW: Duration = Duration::from_secs(10);

/// Allows at most `max` events in any `window`. Only allowed events count:
/// a client that keeps sending while limited is let through again as soon
/// as its oldest allowed event leaves the window. Memory is bounded by `max`.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    max: usize,
    window: Duration,
    allowed: VecDeque<Instant>,
}

impl RateLimiter {
    /// A limiter of `max` events per `window`.
    pub fn new(max: usize, window: Duration) -> Self {
        RateLimiter {
            max,
            window,
            allowed: VecDeque::with_capacity(max),
        }
    }

    /// The chat limit: [`CHAT_MAX`] per [`CHAT_WINDOW`].
    pub fn chat() -> Self {
        Self::new(CHAT_MAX, CHAT_WINDOW)
    }

    /// Whether an event at `now` is allowed (and, if so, counts it).
    pub fn try_acquire(&mut self, now: Instant) -> bool {
        while let Some(&oldest) = self.allowed.front() {
            if now.saturating_duration_since(oldest) >= self.window {
                self.allowed.pop_front();
            } else {
                break;
            }
        }
        if self.allowed.len() >= self.max {
            return false;
        }
        self.allowed.push_back(now);
        true
    }
}
