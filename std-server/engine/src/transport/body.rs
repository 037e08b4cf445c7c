//! Request bodies with a deadline: a total time and a minimum rate
//! ([`EngineConfig::body_timeout`](crate::config::EngineConfig::body_timeout),
//! [`body_min_rate`](crate::config::EngineConfig::body_min_rate),
//! [`body_rate_grace`](crate::config::EngineConfig::body_rate_grace)).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Buf;
use http_body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

use super::BoxError;
use crate::config::EngineConfig;

/// The error a [`DeadlineBody`] ends with when its body arrives too slowly.
/// Find it with `downcast_ref` on the body's error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("request body too slow: {received} bytes after {elapsed_ms} ms")]
pub struct BodyTooSlow {
    /// Bytes received.
    pub received: u64,
    /// Time since the body started, in milliseconds.
    pub elapsed_ms: u64,
}

/// How fast a body must arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyDeadline {
    /// The whole body's time.
    pub timeout: Duration,
    /// Bytes per second after `grace`; 0: none.
    pub min_rate: u32,
    /// Time before the rate applies.
    pub grace: Duration,
}

impl BodyDeadline {
    /// The body deadline of `config`.
    pub fn from_config(config: &EngineConfig) -> Self {
        BodyDeadline {
            timeout: config.body_timeout,
            min_rate: config.body_min_rate,
            grace: config.body_rate_grace,
        }
    }

    /// When a body that started at `start` and has delivered `received`
    /// bytes must deliver more.
    ///
    /// ```
    /// use oxio_engine::transport::BodyDeadline;
    /// use std::time::Duration;
    ///
    /// let d = BodyDeadline { timeout: Duration::from_secs(300), min_rate: 1000, grace: Duration::from_secs(10) };
    /// assert_eq!(d.allowed(0), Duration::from_secs(10));
    /// assert_eq!(d.allowed(5000), Duration::from_secs(15));
    /// assert_eq!(d.allowed(10_000_000), Duration::from_secs(300));
    /// let no_rate = BodyDeadline { min_rate: 0, ..d };
    /// assert_eq!(no_rate.allowed(0), Duration::from_secs(300));
    /// ```
    pub fn allowed(&self, received: u64) -> Duration {
        if self.min_rate == 0 {
            return self.timeout;
        }
        let ms = received.saturating_mul(1000) / u64::from(self.min_rate);
        self.grace
            .saturating_add(Duration::from_millis(ms))
            .min(self.timeout)
    }
}

/// A request body that fails with [`BodyTooSlow`] when it misses its
/// [`BodyDeadline`] (counted from when it is wrapped).
pub struct DeadlineBody<B> {
    inner: Pin<Box<B>>,
    deadline: BodyDeadline,
    start: Instant,
    received: u64,
    sleep: Option<Pin<Box<Sleep>>>,
    failed: bool,
}

impl<B> std::fmt::Debug for DeadlineBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeadlineBody")
            .field("deadline", &self.deadline)
            .field("received", &self.received)
            .finish()
    }
}

impl<B> DeadlineBody<B> {
    /// Wraps `inner`; its time starts now.
    pub fn new(inner: B, deadline: BodyDeadline) -> Self {
        DeadlineBody {
            inner: Box::pin(inner),
            deadline,
            start: Instant::now(),
            received: 0,
            sleep: None,
            failed: false,
        }
    }

    fn due(&self) -> Instant {
        self.start + self.deadline.allowed(self.received)
    }
}

impl<B> Body for DeadlineBody<B>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    type Data = B::Data;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, BoxError>>> {
        let this = self.get_mut();
        if this.failed {
            return Poll::Ready(None);
        }
        match this.inner.as_mut().poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let n = u64::try_from(data.remaining()).unwrap_or(u64::MAX);
                    this.received = this.received.saturating_add(n);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => {
                let due = this.due();
                let sleep = match &mut this.sleep {
                    Some(s) => {
                        if s.deadline() != due {
                            s.as_mut().reset(due);
                        }
                        s
                    }
                    None => this.sleep.insert(Box::pin(tokio::time::sleep_until(due))),
                };
                if sleep.as_mut().poll(cx).is_ready() {
                    this.failed = true;
                    let elapsed = this.start.elapsed().as_millis();
                    return Poll::Ready(Some(Err(Box::new(BodyTooSlow {
                        received: this.received,
                        elapsed_ms: u64::try_from(elapsed).unwrap_or(u64::MAX),
                    }))));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.failed || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Whether `e` (a body error, possibly wrapped by a `Limited` body or a
/// collection) is a [`BodyTooSlow`].
pub(crate) fn is_too_slow(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if err.is::<BodyTooSlow>() {
            return true;
        }
        cur = err.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    /// A body that yields `chunks` then stays pending forever.
    struct Stalls(Vec<bytes::Bytes>);

    impl Body for Stalls {
        type Data = bytes::Bytes;
        type Error = std::convert::Infallible;
        fn poll_frame(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<bytes::Bytes>, Self::Error>>> {
            if self.0.is_empty() {
                Poll::Pending
            } else {
                let b = self.0.remove(0);
                Poll::Ready(Some(Ok(Frame::data(b))))
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_body_fails_at_its_deadline() {
        let d = BodyDeadline {
            timeout: Duration::from_secs(300),
            min_rate: 100,
            grace: Duration::from_secs(2),
        };
        let body = DeadlineBody::new(Stalls(vec![bytes::Bytes::from_static(&[0; 50])]), d);
        let start = Instant::now();
        let err = body.collect().await.err().unwrap();
        // 2 s of grace, then 50 bytes at 100 B/s: 0.5 s more.
        assert_eq!(start.elapsed(), Duration::from_millis(2500));
        assert!(is_too_slow(err.as_ref()), "{err}");
        assert_eq!(
            err.to_string(),
            "request body too slow: 50 bytes after 2500 ms"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_complete_body_passes() {
        let d = BodyDeadline {
            timeout: Duration::from_secs(1),
            min_rate: 1,
            grace: Duration::ZERO,
        };
        let body = DeadlineBody::new(http_body_util::Full::new(bytes::Bytes::from("abc")), d);
        assert_eq!(body.collect().await.unwrap().to_bytes(), "abc");
    }
}
