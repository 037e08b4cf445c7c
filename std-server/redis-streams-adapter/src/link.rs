//! The three Redis connections of a node and the tasks that keep them up:
//!
//! - the writer: one ordered queue of commands (XADD, PUBLISH, SET of a
//!   session), pipelined in batches; a broadcast's local delivery waits for
//!   its XADD (it needs the entry id as offset) and happens in queue order.
//!   Its connection is also lent for direct commands (XRANGE, GET/DEL,
//!   PUBSUB NUMSUB);
//! - the reader: `XREAD BLOCK <block> COUNT <read_count>` on the stream,
//!   from `$` at start and from the last id read after a reconnect (so
//!   nothing in the stream is missed while Redis was unreachable);
//! - the subscriber: each namespace's public and private channels.
//!
//! Each reconnects with exponential backoff and logs a warning when down.

use super::{Config, StreamsAdapter};
use crate::message::parse_entry_id;
use futures_util::StreamExt;
use oxio_adapter::sync::RwLockExt;
use oxio_adapter::{BroadcastOptions, Outgoing};
use redis::aio::MultiplexedConnection;
use redis::Value;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// A broadcast to deliver locally once its XADD answered.
pub(crate) struct Deliver {
    pub(crate) adapter: Weak<StreamsAdapter>,
    pub(crate) packet: Outgoing,
    pub(crate) opts: BroadcastOptions,
}

/// One command for the writer.
pub(crate) enum Job {
    /// `XADD <stream> MAXLEN ~ <max_len> * <fields>`, then `deliver`
    /// (with the entry id as offset).
    Xadd {
        fields: Vec<(&'static str, String)>,
        deliver: Option<Deliver>,
    },
    /// `PUBLISH <channel> <payload>`.
    Publish { channel: String, payload: Vec<u8> },
    /// `SET <key> <value> PX <ttl_ms>`.
    Set {
        key: String,
        value: String,
        ttl_ms: u64,
    },
}

impl Job {
    /// Delivers the broadcast without offset (its XADD failed or never ran).
    fn fail(self) {
        if let Job::Xadd {
            deliver: Some(d), ..
        } = self
        {
            if let Some(a) = d.adapter.upgrade() {
                a.deliver_local(&d.packet, &d.opts, None);
            }
        }
    }
}

/// A namespace to (un)subscribe.
pub(crate) enum SubCmd {
    Subscribe(Arc<str>),
    Unsubscribe(Arc<str>),
}

/// What the links are up to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Status {
    pub(crate) writer_up: bool,
    pub(crate) reader_up: bool,
    pub(crate) subscriber_up: bool,
    pub(crate) subscribed: HashSet<Arc<str>>,
}

/// State shared by the factory, the adapters and the link tasks.
pub(crate) struct Shared {
    pub(crate) cfg: Config,
    pub(crate) uid: String,
    pub(crate) namespaces: RwLock<HashMap<Arc<str>, Weak<StreamsAdapter>>>,
    pub(crate) jobs: mpsc::Sender<Job>,
    pub(crate) sub_tx: mpsc::UnboundedSender<SubCmd>,
    pub(crate) conn: watch::Receiver<Option<MultiplexedConnection>>,
    pub(crate) status: watch::Sender<Status>,
    pub(crate) shutdown: watch::Sender<bool>,
}

impl Shared {
    /// Queues `job`; never waits. A full queue (Redis slow or down) drops
    /// it with a warning (a broadcast is then delivered locally without
    /// offset).
    pub(crate) fn queue(&self, job: Job) {
        match self.jobs.try_send(job) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(j)) => {
                tracing::warn!("redis streams adapter: command queue full, message dropped");
                j.fail();
            }
            Err(mpsc::error::TrySendError::Closed(j)) => {
                tracing::debug!("redis streams adapter: closed, message dropped");
                j.fail();
            }
        }
    }

    pub(crate) fn adapter(&self, nsp: &str) -> Option<Arc<StreamsAdapter>> {
        self.namespaces.reading().get(nsp).and_then(Weak::upgrade)
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
    fn new(cfg: &Config) -> Self {
        Backoff {
            next: cfg.reconnect_min,
            min: cfg.reconnect_min,
            max: cfg.reconnect_max,
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

async fn connect(
    client: &redis::Client,
    cfg: &Config,
    response_timeout: Duration,
) -> Result<MultiplexedConnection, String> {
    let config = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(cfg.connect_timeout))
        .set_response_timeout(Some(response_timeout));
    match tokio::time::timeout(
        cfg.connect_timeout,
        client.get_multiplexed_async_connection_with_config(&config),
    )
    .await
    {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("connect timed out".into()),
    }
}

/// Most commands pipelined in one round trip.
const MAX_BATCH: usize = 256;

pub(crate) async fn run_writer(
    shared: Weak<Shared>,
    client: redis::Client,
    mut rx: mpsc::Receiver<Job>,
    conn_tx: watch::Sender<Option<MultiplexedConnection>>,
    mut shutdown: watch::Receiver<bool>,
    cfg: Config,
) {
    let mut backoff = Backoff::new(&cfg);
    let mut was_up = true;
    loop {
        if *shutdown.borrow() {
            return;
        }
        let mut conn = match connect(&client, &cfg, cfg.command_timeout).await {
            Ok(c) => c,
            Err(e) => {
                if was_up {
                    tracing::warn!(error = %e, "redis streams adapter: cannot connect the writer; cross-node delivery paused, retrying");
                    was_up = false;
                }
                if fail_until(&mut rx, backoff.step(), &mut shutdown).await {
                    return;
                }
                continue;
            }
        };
        if !was_up {
            tracing::info!("redis streams adapter: writer reconnected");
        }
        backoff.reset();
        let _ = conn_tx.send(Some(conn.clone()));
        if let Some(s) = shared.upgrade() {
            s.set_status(|st| st.writer_up = true);
        }
        let mut health = tokio::time::interval_at(
            tokio::time::Instant::now() + cfg.health_interval,
            cfg.health_interval,
        );
        health.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let ok = tokio::select! {
                _ = shutdown.changed() => return,
                job = rx.recv() => {
                    let Some(first) = job else { return };
                    let mut batch = vec![first];
                    while batch.len() < MAX_BATCH {
                        match rx.try_recv() {
                            Ok(j) => batch.push(j),
                            Err(_) => break,
                        }
                    }
                    run_batch(&mut conn, batch, &cfg).await
                }
                _ = health.tick() => {
                    matches!(
                        tokio::time::timeout(cfg.command_timeout, redis::cmd("PING").query_async::<Value>(&mut conn)).await,
                        Ok(Ok(_))
                    )
                }
            };
            if !ok {
                tracing::warn!("redis streams adapter: writer lost its connection; reconnecting");
                was_up = false;
                let _ = conn_tx.send(None);
                if let Some(s) = shared.upgrade() {
                    s.set_status(|st| st.writer_up = false);
                }
                break;
            }
        }
    }
}

/// Runs one batch as a pipeline, then delivers its broadcasts locally, in
/// order; false when the connection failed (every broadcast of the batch
/// is then delivered without offset).
async fn run_batch(conn: &mut MultiplexedConnection, batch: Vec<Job>, cfg: &Config) -> bool {
    let mut pipe = redis::pipe();
    for job in &batch {
        match job {
            Job::Xadd { fields, .. } => {
                let cmd = pipe
                    .cmd("XADD")
                    .arg(&cfg.stream_name)
                    .arg("MAXLEN")
                    .arg("~")
                    .arg(cfg.max_len)
                    .arg("*");
                for (k, v) in fields {
                    cmd.arg(*k).arg(v);
                }
            }
            Job::Publish { channel, payload } => {
                pipe.cmd("PUBLISH").arg(channel).arg(payload).ignore();
            }
            Job::Set { key, value, ttl_ms } => {
                pipe.cmd("SET")
                    .arg(key)
                    .arg(value)
                    .arg("PX")
                    .arg((*ttl_ms).max(1))
                    .ignore();
            }
        }
    }
    let ids = match tokio::time::timeout(cfg.command_timeout, pipe.query_async::<Vec<Value>>(conn))
        .await
    {
        Ok(Ok(ids)) => ids,
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "redis streams adapter: batch failed");
            batch.into_iter().for_each(Job::fail);
            return false;
        }
        Err(_) => {
            batch.into_iter().for_each(Job::fail);
            return false;
        }
    };
    let mut ids = ids.into_iter();
    for job in batch {
        if let Job::Xadd { deliver, .. } = job {
            let id = ids.next().and_then(|v| text(&v));
            if let Some(d) = deliver {
                if let Some(a) = d.adapter.upgrade() {
                    a.deliver_local(&d.packet, &d.opts, id.as_deref());
                }
            }
        }
    }
    true
}

/// Fails queued jobs for `d` (Redis is down); true on shutdown.
async fn fail_until(
    rx: &mut mpsc::Receiver<Job>,
    d: Duration,
    shutdown: &mut watch::Receiver<bool>,
) -> bool {
    let deadline = tokio::time::Instant::now() + d;
    loop {
        tokio::select! {
            () = tokio::time::sleep_until(deadline) => return *shutdown.borrow(),
            _ = shutdown.changed() => return true,
            j = rx.recv() => match j {
                Some(j) => j.fail(),
                None => return true,
            },
        }
    }
}

/// A bulk or simple string reply as text.
pub(crate) fn text(v: &Value) -> Option<String> {
    match v {
        Value::BulkString(b) => String::from_utf8(b.clone()).ok(),
        Value::SimpleString(s) => Some(s.clone()),
        Value::VerbatimString { text, .. } => Some(text.clone()),
        _ => None,
    }
}

/// A stream entry: its id and its fields.
pub(crate) type Entry = (String, Vec<(String, String)>);

/// The entries of an XRANGE reply (`[[id, [k, v, ...]], ...]`).
pub(crate) fn entries(v: &Value) -> Vec<Entry> {
    let Value::Array(list) = v else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|e| {
            let Value::Array(pair) = e else { return None };
            let id = text(pair.first()?)?;
            let fields = match pair.get(1)? {
                Value::Array(kv) => kv
                    .chunks(2)
                    .filter_map(|c| Some((text(c.first()?)?, text(c.get(1)?)?)))
                    .collect(),
                Value::Map(kv) => kv
                    .iter()
                    .filter_map(|(k, v)| Some((text(k)?, text(v)?)))
                    .collect(),
                _ => return None,
            };
            Some((id, fields))
        })
        .collect()
}

/// The entries of an XREAD reply for one stream (RESP2 array or RESP3 map).
fn read_entries(v: &Value) -> Vec<Entry> {
    match v {
        Value::Array(streams) => streams
            .iter()
            .filter_map(|s| match s {
                Value::Array(pair) => pair.get(1).map(entries),
                _ => None,
            })
            .flatten()
            .collect(),
        Value::Map(streams) => streams.iter().flat_map(|(_, e)| entries(e)).collect(),
        _ => Vec::new(),
    }
}

pub(crate) async fn run_reader(
    shared: Weak<Shared>,
    client: redis::Client,
    mut shutdown: watch::Receiver<bool>,
    cfg: Config,
) {
    let mut backoff = Backoff::new(&cfg);
    let mut was_up = true;
    let mut last = String::from("$");
    let wait = cfg.block_time.saturating_add(cfg.command_timeout);
    loop {
        if *shutdown.borrow() {
            return;
        }
        let mut conn = match connect(&client, &cfg, wait).await {
            Ok(c) => c,
            Err(e) => {
                if was_up {
                    tracing::warn!(error = %e, "redis streams adapter: cannot connect the reader; retrying");
                    was_up = false;
                }
                if sleep_or_shutdown(backoff.step(), &mut shutdown).await {
                    return;
                }
                continue;
            }
        };
        if last == "$" {
            // Start from the stream's current end, known before the reader
            // reports ready: what is added from now on is read.
            let mut cmd = redis::cmd("XREVRANGE");
            cmd.arg(&cfg.stream_name)
                .arg("+")
                .arg("-")
                .arg("COUNT")
                .arg(1);
            let q = cmd.query_async::<Value>(&mut conn);
            match tokio::time::timeout(cfg.command_timeout, q).await {
                Ok(Ok(v)) => {
                    last = entries(&v)
                        .into_iter()
                        .next()
                        .map_or_else(|| "0-0".to_owned(), |(id, _)| id);
                }
                _ => {
                    if sleep_or_shutdown(backoff.step(), &mut shutdown).await {
                        return;
                    }
                    continue;
                }
            }
        }
        if !was_up {
            tracing::info!("redis streams adapter: reader reconnected");
        }
        backoff.reset();
        if let Some(s) = shared.upgrade() {
            s.set_status(|st| st.reader_up = true);
        }
        loop {
            let block = u64::try_from(cfg.block_time.as_millis()).unwrap_or(u64::MAX);
            let mut cmd = redis::cmd("XREAD");
            cmd.arg("BLOCK")
                .arg(block)
                .arg("COUNT")
                .arg(cfg.read_count)
                .arg("STREAMS")
                .arg(&cfg.stream_name)
                .arg(&last);
            let q = cmd.query_async::<Value>(&mut conn);
            let reply = tokio::select! {
                _ = shutdown.changed() => return,
                r = tokio::time::timeout(wait, q) => r,
            };
            match reply {
                Ok(Ok(v)) => {
                    let Some(s) = shared.upgrade() else { return };
                    for (id, fields) in read_entries(&v) {
                        if parse_entry_id(&id).is_some() {
                            super::dispatch_entry(&s, &id, &fields);
                            last = id;
                        }
                    }
                }
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "redis streams adapter: reader lost its connection; reconnecting");
                    break;
                }
                Err(_) => {
                    tracing::warn!("redis streams adapter: XREAD timed out; reconnecting");
                    break;
                }
            }
        }
        was_up = false;
        if let Some(s) = shared.upgrade() {
            s.set_status(|st| st.reader_up = false);
        }
        if sleep_or_shutdown(backoff.step(), &mut shutdown).await {
            return;
        }
    }
}

pub(crate) async fn run_subscriber(
    shared: Weak<Shared>,
    client: redis::Client,
    mut cmds: mpsc::UnboundedReceiver<SubCmd>,
    mut shutdown: watch::Receiver<bool>,
    cfg: Config,
) {
    let mut backoff = Backoff::new(&cfg);
    let mut was_up = true;
    loop {
        if *shutdown.borrow() {
            return;
        }
        let Some(s) = shared.upgrade() else { return };
        let names: Vec<Arc<str>> = s.namespaces.reading().keys().cloned().collect();
        let uid = s.uid.clone();
        drop(s);
        let attempt = async {
            let pubsub = client.get_async_pubsub().await?;
            let (mut sink, stream) = pubsub.split();
            for nsp in &names {
                sink.subscribe(&super::channels(&cfg, nsp, &uid)[..])
                    .await?;
            }
            Ok::<_, redis::RedisError>((sink, stream))
        };
        let (mut sink, mut stream) = match tokio::time::timeout(cfg.connect_timeout, attempt).await
        {
            Ok(Ok(pair)) => pair,
            _ => {
                if was_up {
                    tracing::warn!(
                        "redis streams adapter: cannot connect the subscriber; retrying"
                    );
                    was_up = false;
                }
                if sleep_or_shutdown(backoff.step(), &mut shutdown).await {
                    return;
                }
                continue;
            }
        };
        if !was_up {
            tracing::info!("redis streams adapter: subscriber reconnected and resubscribed");
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
                        let chans = super::channels(&cfg, &nsp, &uid);
                        let r = tokio::time::timeout(cfg.command_timeout, sink.subscribe(&chans[..])).await;
                        let ok = matches!(r, Ok(Ok(())));
                        if ok {
                            if let Some(s) = shared.upgrade() {
                                s.set_status(|st| { st.subscribed.insert(nsp); });
                            }
                        }
                        ok
                    }
                    Some(SubCmd::Unsubscribe(nsp)) => {
                        let chans = super::channels(&cfg, &nsp, &uid);
                        let r = tokio::time::timeout(cfg.command_timeout, sink.unsubscribe(&chans[..])).await;
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
                        super::dispatch_pubsub(&s, msg.get_channel_name(), msg.get_payload_bytes());
                        true
                    }
                },
                _ = health.tick() => {
                    matches!(
                        tokio::time::timeout(cfg.command_timeout, sink.ping::<Value>()).await,
                        Ok(Ok(_))
                    )
                }
            };
            if !ok {
                tracing::warn!(
                    "redis streams adapter: subscriber lost its connection; reconnecting"
                );
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
