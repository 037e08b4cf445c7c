//! The two Redis connections of a node and the tasks that keep them up:
//! the publisher (one ordered queue, pipelined, plus the connection
//! `PUBSUB NUMSUB` uses) and the subscriber (the namespaces' channels,
//! re-subscribed after every reconnect). Both reconnect with exponential
//! backoff and log a warning when the link goes down; meanwhile publishes
//! are dropped (pub/sub is at-most-once anyway) and local delivery goes on.

use super::{Config, RedisAdapter};
use futures_util::StreamExt;
use oxio_adapter::sync::RwLockExt;
use redis::aio::MultiplexedConnection;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// One message to publish.
pub(crate) struct Publish {
    pub(crate) channel: String,
    pub(crate) payload: Vec<u8>,
}

/// A namespace to (un)subscribe.
pub(crate) enum SubCmd {
    Subscribe(Arc<str>),
    Unsubscribe(Arc<str>),
}

/// What the links are up to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Status {
    pub(crate) publisher_up: bool,
    pub(crate) subscriber_up: bool,
    pub(crate) subscribed: HashSet<Arc<str>>,
}

/// State shared by the factory, the adapters and the link tasks.
pub(crate) struct Shared {
    pub(crate) cfg: Config,
    pub(crate) uid: String,
    pub(crate) namespaces: RwLock<HashMap<Arc<str>, Weak<RedisAdapter>>>,
    pub(crate) pub_tx: mpsc::Sender<Publish>,
    pub(crate) sub_tx: mpsc::UnboundedSender<SubCmd>,
    pub(crate) conn: watch::Receiver<Option<MultiplexedConnection>>,
    pub(crate) status: watch::Sender<Status>,
    pub(crate) shutdown: watch::Sender<bool>,
}

impl Shared {
    /// Queues a publish; never waits. A full queue (Redis slow or down)
    /// drops the message with a warning.
    pub(crate) fn publish(&self, channel: String, payload: Vec<u8>) {
        match self.pub_tx.try_send(Publish { channel, payload }) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(p)) => {
                tracing::warn!(channel = %p.channel, "redis adapter: publish queue full, message dropped");
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                tracing::debug!("redis adapter: closed, message dropped");
            }
        }
    }

    pub(crate) fn adapters(&self) -> Vec<Arc<RedisAdapter>> {
        self.namespaces
            .reading()
            .values()
            .filter_map(Weak::upgrade)
            .collect()
    }

    fn set_status(&self, f: impl FnOnce(&mut Status)) {
        self.status.send_modify(f);
    }
}

/// Exponential backoff between `min` and `max`.
struct Backoff {
    next: Duration,
    min: Duration,
    max: Duration,
}

impl Backoff {
    fn new(min: Duration, max: Duration) -> Self {
        Backoff {
            next: min,
            min,
            max,
        }
    }
    fn reset(&mut self) {
        self.next = self.min;
    }
    fn step(&mut self) -> Duration {
        let d = self.next;
        self.next = self.next.saturating_mul(2).min(self.max);
        d
    }
}

/// Waits `d`, or less if shutdown is asked for; true when shutting down.
async fn sleep_or_shutdown(d: Duration, shutdown: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        () = tokio::time::sleep(d) => *shutdown.borrow(),
        _ = shutdown.changed() => true,
    }
}

const MAX_BATCH: usize = 256;

pub(crate) async fn run_publisher(
    shared: Weak<Shared>,
    client: redis::Client,
    mut rx: mpsc::Receiver<Publish>,
    conn_tx: watch::Sender<Option<MultiplexedConnection>>,
    mut shutdown: watch::Receiver<bool>,
    cfg: Config,
) {
    let mut backoff = Backoff::new(cfg.reconnect_min, cfg.reconnect_max);
    let mut was_up = true;
    loop {
        if *shutdown.borrow() {
            return;
        }
        let conn = tokio::time::timeout(
            cfg.connect_timeout,
            client.get_multiplexed_async_connection(),
        )
        .await;
        let mut conn = match conn {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => {
                if was_up {
                    tracing::warn!(error = %e, "redis adapter: cannot connect the publisher; cross-node delivery paused, retrying");
                    was_up = false;
                }
                if drop_until(&mut rx, backoff.step(), &mut shutdown).await {
                    return;
                }
                continue;
            }
            Err(_) => {
                if was_up {
                    tracing::warn!("redis adapter: publisher connect timed out; retrying");
                    was_up = false;
                }
                if drop_until(&mut rx, backoff.step(), &mut shutdown).await {
                    return;
                }
                continue;
            }
        };
        if !was_up {
            tracing::info!("redis adapter: publisher reconnected");
        }
        backoff.reset();
        let _ = conn_tx.send(Some(conn.clone()));
        if let Some(s) = shared.upgrade() {
            s.set_status(|st| st.publisher_up = true);
        }
        let mut health = tokio::time::interval_at(
            tokio::time::Instant::now() + cfg.health_interval,
            cfg.health_interval,
        );
        health.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let ok = tokio::select! {
                _ = shutdown.changed() => return,
                msg = rx.recv() => {
                    let Some(first) = msg else { return };
                    let mut pipe = redis::pipe();
                    pipe.cmd("PUBLISH").arg(&first.channel).arg(&first.payload).ignore();
                    let mut n = 1;
                    while n < MAX_BATCH {
                        match rx.try_recv() {
                            Ok(m) => {
                                pipe.cmd("PUBLISH").arg(&m.channel).arg(&m.payload).ignore();
                                n += 1;
                            }
                            Err(_) => break,
                        }
                    }
                    matches!(
                        tokio::time::timeout(cfg.command_timeout, pipe.query_async::<()>(&mut conn)).await,
                        Ok(Ok(()))
                    )
                }
                _ = health.tick() => {
                    matches!(
                        tokio::time::timeout(cfg.command_timeout, redis::cmd("PING").query_async::<redis::Value>(&mut conn)).await,
                        Ok(Ok(_))
                    )
                }
            };
            if !ok {
                tracing::warn!("redis adapter: publisher lost its connection; cross-node delivery paused, reconnecting");
                was_up = false;
                let _ = conn_tx.send(None);
                if let Some(s) = shared.upgrade() {
                    s.set_status(|st| st.publisher_up = false);
                }
                break;
            }
        }
    }
}

/// Drops queued publishes for `d` (Redis is down); true on shutdown.
async fn drop_until(
    rx: &mut mpsc::Receiver<Publish>,
    d: Duration,
    shutdown: &mut watch::Receiver<bool>,
) -> bool {
    let deadline = tokio::time::Instant::now() + d;
    loop {
        tokio::select! {
            () = tokio::time::sleep_until(deadline) => return *shutdown.borrow(),
            _ = shutdown.changed() => return true,
            m = rx.recv() => match m {
                Some(m) => tracing::debug!(channel = %m.channel, "redis adapter: down, message dropped"),
                None => return true,
            },
        }
    }
}

fn channels(cfg: &Config, nsp: &str, uid: &str) -> (String, [String; 3]) {
    let names = super::Channels::new(&cfg.prefix, nsp, uid);
    (
        format!("{}*", names.broadcast),
        [names.request, names.response, names.specific_response],
    )
}

pub(crate) async fn run_subscriber(
    shared: Weak<Shared>,
    client: redis::Client,
    mut cmds: mpsc::UnboundedReceiver<SubCmd>,
    mut shutdown: watch::Receiver<bool>,
    cfg: Config,
    uid: String,
) {
    let mut backoff = Backoff::new(cfg.reconnect_min, cfg.reconnect_max);
    let mut was_up = true;
    loop {
        if *shutdown.borrow() {
            return;
        }
        let Some(s) = shared.upgrade() else { return };
        let names: Vec<Arc<str>> = s.namespaces.reading().keys().cloned().collect();
        drop(s);
        let attempt = async {
            let pubsub = client.get_async_pubsub().await?;
            let (mut sink, stream) = pubsub.split();
            for nsp in &names {
                let (pattern, chans) = channels(&cfg, nsp, &uid);
                sink.psubscribe(&pattern).await?;
                sink.subscribe(&chans[..]).await?;
            }
            Ok::<_, redis::RedisError>((sink, stream))
        };
        let (mut sink, mut stream) = match tokio::time::timeout(cfg.connect_timeout, attempt).await
        {
            Ok(Ok(pair)) => pair,
            other => {
                if was_up {
                    match other {
                        Ok(Err(e)) => {
                            tracing::warn!(error = %e, "redis adapter: cannot connect the subscriber; retrying")
                        }
                        _ => {
                            tracing::warn!("redis adapter: subscriber connect timed out; retrying")
                        }
                    }
                    was_up = false;
                }
                if sleep_or_shutdown(backoff.step(), &mut shutdown).await {
                    return;
                }
                continue;
            }
        };
        if !was_up {
            tracing::info!("redis adapter: subscriber reconnected and resubscribed");
        }
        backoff.reset();
        if let Some(s) = shared.upgrade() {
            s.set_status(|st| {
                st.subscriber_up = true;
                st.subscribed = names.iter().cloned().collect();
            });
        }
        let mut health = tokio::time::interval_at(
            tokio::time::Instant::now() + cfg.health_interval,
            cfg.health_interval,
        );
        health.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let ok = tokio::select! {
                _ = shutdown.changed() => return,
                cmd = cmds.recv() => match cmd {
                    None => return,
                    Some(SubCmd::Subscribe(nsp)) => {
                        let (pattern, chans) = channels(&cfg, &nsp, &uid);
                        let r = tokio::time::timeout(cfg.command_timeout, async {
                            sink.psubscribe(&pattern).await?;
                            sink.subscribe(&chans[..]).await
                        }).await;
                        let ok = matches!(r, Ok(Ok(())));
                        if ok {
                            if let Some(s) = shared.upgrade() {
                                s.set_status(|st| { st.subscribed.insert(nsp); });
                            }
                        }
                        ok
                    }
                    Some(SubCmd::Unsubscribe(nsp)) => {
                        let (pattern, chans) = channels(&cfg, &nsp, &uid);
                        let r = tokio::time::timeout(cfg.command_timeout, async {
                            sink.punsubscribe(&pattern).await?;
                            sink.unsubscribe(&chans[..]).await
                        }).await;
                        if let Some(s) = shared.upgrade() {
                            s.set_status(|st| { st.subscribed.remove(&nsp); });
                        }
                        matches!(r, Ok(Ok(())))
                    }
                },
                msg = stream.next() => match msg {
                    None => false,
                    Some(msg) => {
                        let Some(s) = shared.upgrade() else { return };
                        super::dispatch(&s, msg.get_channel_name(), msg.get_payload_bytes());
                        true
                    }
                },
                _ = health.tick() => {
                    matches!(
                        tokio::time::timeout(cfg.command_timeout, sink.ping::<redis::Value>()).await,
                        Ok(Ok(_))
                    )
                }
            };
            if !ok {
                tracing::warn!("redis adapter: subscriber lost its connection; reconnecting");
                was_up = false;
                if let Some(s) = shared.upgrade() {
                    s.set_status(|st| {
                        st.subscriber_up = false;
                        st.subscribed.clear();
                    });
                }
                break;
            }
        }
    }
}
