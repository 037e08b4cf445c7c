//! The two Redis Cluster connections of a sharded node and their tasks.
//!
//! - The publisher: one ordered queue; each batch is split by channel
//!   (one `SPUBLISH` pipeline per channel, so per-channel order holds) and
//!   the pipelines run at once, each on the master of its channel's slot.
//! - The subscriber: a RESP3 cluster connection whose `SSUBSCRIBE`s the
//!   `redis` crate routes to each channel's master. A health check reads
//!   the cluster's masters every interval; when they change (a failover),
//!   or the cluster does not answer three times in a row, or a subscribe
//!   fails, the connection is replaced by a fresh one (fresh slot map)
//!   that subscribes to every channel again, so delivery resumes without
//!   restarting the node.
//!
//! A cluster node that is down only pauses the channels of its slots;
//! meanwhile publishes to them fail and are dropped (pub/sub is
//! at-most-once, as in Node) and the publisher reconnects.

use super::{ShardedConfig, ShardedShared};
use futures_util::future::join_all;
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{PushInfo, PushKind, Value};
use std::collections::BTreeSet;
use std::sync::Weak;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// One message to publish.
pub(crate) struct Publish {
    pub(crate) channel: String,
    pub(crate) payload: Vec<u8>,
}

/// Channels to subscribe or unsubscribe.
pub(crate) enum SubCmd {
    Subscribe(Vec<String>),
    Unsubscribe(Vec<String>),
}

const MAX_BATCH: usize = 256;

/// Waits `d`, or less if shutdown is asked for; true when shutting down.
async fn sleep_or_shutdown(d: Duration, shutdown: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        () = tokio::time::sleep(d) => *shutdown.borrow(),
        _ = shutdown.changed() => true,
    }
}

/// Connects to the cluster, retrying with backoff; `None` on shutdown.
async fn connect(
    client: &ClusterClient,
    cfg: &ShardedConfig,
    what: &str,
    shutdown: &mut watch::Receiver<bool>,
) -> Option<ClusterConnection> {
    let mut delay = cfg.reconnect_min;
    let mut warned = false;
    loop {
        if *shutdown.borrow() {
            return None;
        }
        match tokio::time::timeout(cfg.connect_timeout, client.get_async_connection()).await {
            Ok(Ok(c)) => {
                if warned {
                    tracing::info!("sharded redis adapter: {what} connected");
                }
                return Some(c);
            }
            Ok(Err(e)) if !warned => {
                tracing::warn!(error = %e, "sharded redis adapter: cannot connect the {what}; retrying");
                warned = true;
            }
            Err(_) if !warned => {
                tracing::warn!("sharded redis adapter: {what} connect timed out; retrying");
                warned = true;
            }
            _ => {}
        }
        if sleep_or_shutdown(delay, shutdown).await {
            return None;
        }
        delay = delay.saturating_mul(2).min(cfg.reconnect_max);
    }
}

pub(crate) async fn run_publisher(
    shared: Weak<ShardedShared>,
    client: ClusterClient,
    mut rx: mpsc::Receiver<Publish>,
    conn_tx: watch::Sender<Option<ClusterConnection>>,
    mut shutdown: watch::Receiver<bool>,
    cfg: ShardedConfig,
) {
    loop {
        let Some(conn) = connect(&client, &cfg, "publisher", &mut shutdown).await else {
            return;
        };
        let _ = conn_tx.send(Some(conn.clone()));
        if let Some(s) = shared.upgrade() {
            s.status.send_modify(|st| st.publisher_up = true);
        }
        loop {
            let first = tokio::select! {
                _ = shutdown.changed() => return,
                m = rx.recv() => match m { Some(m) => m, None => return },
            };
            if let Err((channel, e)) = publish_batch(&conn, first, &mut rx, &cfg).await {
                // A node down or a stale slot map: a fresh connection reads
                // the slots again from the nodes that answer.
                tracing::warn!(%channel, error = %e, "sharded redis adapter: publish failed (cluster node down?); messages dropped, reconnecting the publisher");
                break;
            }
        }
        let _ = conn_tx.send(None);
        if let Some(s) = shared.upgrade() {
            s.status.send_modify(|st| st.publisher_up = false);
        }
        if sleep_or_shutdown(cfg.reconnect_min, &mut shutdown).await {
            return;
        }
    }
}

/// Publishes `first` and what else is queued (up to a batch): one
/// pipeline per channel, all at once. The first failure, if any.
async fn publish_batch(
    conn: &ClusterConnection,
    first: Publish,
    rx: &mut mpsc::Receiver<Publish>,
    cfg: &ShardedConfig,
) -> Result<(), (String, String)> {
    // Group by channel, keeping each channel's order.
    let mut groups: Vec<(String, redis::Pipeline)> = Vec::new();
    let mut add = |m: Publish| {
        let pos = match groups.iter().position(|(c, _)| *c == m.channel) {
            Some(p) => p,
            None => {
                groups.push((m.channel.clone(), redis::pipe()));
                groups.len() - 1
            }
        };
        if let Some((_, pipe)) = groups.get_mut(pos) {
            pipe.cmd("SPUBLISH").arg(&m.channel).arg(m.payload).ignore();
        }
    };
    add(first);
    for _ in 1..MAX_BATCH {
        match rx.try_recv() {
            Ok(m) => add(m),
            Err(_) => break,
        }
    }
    let sends = groups.into_iter().map(|(channel, pipe)| {
        let mut conn = conn.clone();
        async move {
            let r =
                tokio::time::timeout(cfg.command_timeout, pipe.query_async::<()>(&mut conn)).await;
            match r {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err((channel, e.to_string())),
                Err(_) => Err((channel, "timed out".to_owned())),
            }
        }
    });
    join_all(sends).await.into_iter().collect()
}

/// The masters of the cluster (`CLUSTER SHARDS`-free: `CLUSTER SLOTS`
/// answers on every Redis 7), as a comparable set of `host:port slots`.
async fn masters(conn: &mut ClusterConnection, timeout: Duration) -> Option<BTreeSet<String>> {
    let mut cmd = redis::cmd("CLUSTER");
    cmd.arg("SLOTS");
    let q = cmd.query_async::<Value>(conn);
    let Ok(Ok(Value::Array(ranges))) = tokio::time::timeout(timeout, q).await else {
        return None;
    };
    let mut out = BTreeSet::new();
    for r in ranges {
        let Value::Array(items) = r else { continue };
        let mut it = items.into_iter();
        let (Some(Value::Int(lo)), Some(Value::Int(hi)), Some(Value::Array(master))) =
            (it.next(), it.next(), it.next())
        else {
            continue;
        };
        let mut m = master.into_iter();
        let host = match m.next() {
            Some(Value::BulkString(b)) => String::from_utf8_lossy(&b).into_owned(),
            Some(Value::SimpleString(s)) => s,
            _ => continue,
        };
        let Some(Value::Int(port)) = m.next() else {
            continue;
        };
        out.insert(format!("{host}:{port} {lo}-{hi}"));
    }
    Some(out)
}

/// `SSUBSCRIBE` (or `SUNSUBSCRIBE`) each channel on its own (one command
/// may only name channels of one slot), all at once; true if all worked.
async fn each(conn: &ClusterConnection, chans: &[String], sub: bool, timeout: Duration) -> bool {
    let all = chans.iter().map(|ch| {
        let mut conn = conn.clone();
        async move {
            let r = if sub {
                tokio::time::timeout(timeout, conn.ssubscribe(ch)).await
            } else {
                tokio::time::timeout(timeout, conn.sunsubscribe(ch)).await
            };
            matches!(r, Ok(Ok(())))
        }
    });
    join_all(all).await.into_iter().all(|ok| ok)
}

pub(crate) async fn run_subscriber(
    shared: Weak<ShardedShared>,
    client: ClusterClient,
    mut pushes: mpsc::UnboundedReceiver<PushInfo>,
    mut cmds: mpsc::UnboundedReceiver<SubCmd>,
    mut shutdown: watch::Receiver<bool>,
    cfg: ShardedConfig,
) {
    loop {
        let Some(mut conn) = connect(&client, &cfg, "subscriber", &mut shutdown).await else {
            return;
        };
        // Every channel, on this connection (a new one after a failover).
        let Some(s) = shared.upgrade() else { return };
        let all = s.all_channels();
        drop(s);
        if !each(&conn, &all, true, cfg.command_timeout).await {
            tracing::warn!("sharded redis adapter: cannot subscribe yet; retrying");
            drop(conn);
            if sleep_or_shutdown(cfg.reconnect_min, &mut shutdown).await {
                return;
            }
            continue;
        }
        if let Some(s) = shared.upgrade() {
            s.status.send_modify(|st| {
                st.subscriber_up = true;
                st.subscribed = all.into_iter().collect();
            });
        }
        let mut topology = masters(&mut conn, cfg.command_timeout).await;
        let mut health = tokio::time::interval(cfg.health_interval);
        health.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failures = 0u32;
        let mut changed: Option<BTreeSet<String>> = None;
        loop {
            let rebuild = tokio::select! {
                _ = shutdown.changed() => return,
                cmd = cmds.recv() => {
                    let Some(cmd) = cmd else { return };
                    let (chans, sub) = match cmd {
                        SubCmd::Subscribe(c) => (c, true),
                        SubCmd::Unsubscribe(c) => (c, false),
                    };
                    let ok = chans.is_empty() || each(&conn, &chans, sub, cfg.command_timeout).await;
                    if !ok {
                        tracing::warn!(channels = ?chans, "sharded redis adapter: (un)subscribe failed; reconnecting the subscriber");
                    } else if sub {
                        if let Some(s) = shared.upgrade() {
                            s.status.send_modify(|st| st.subscribed.extend(chans));
                        }
                    }
                    !ok
                }
                push = pushes.recv() => {
                    let Some(push) = push else { return };
                    let mut data = push.data.into_iter();
                    match (push.kind, data.next(), data.next()) {
                        (PushKind::SMessage | PushKind::Message, Some(Value::BulkString(ch)), Some(Value::BulkString(payload))) => {
                            if let Ok(ch) = std::str::from_utf8(&ch) {
                                let Some(s) = shared.upgrade() else { return };
                                s.dispatch(ch, &payload);
                            }
                            false
                        }
                        // A node that no longer serves a channel's slot (it
                        // became a replica, or the slot moved) unsubscribes
                        // us: still wanted means subscribe again elsewhere.
                        (PushKind::SUnsubscribe, Some(Value::BulkString(ch)), _) => {
                            let Some(s) = shared.upgrade() else { return };
                            let wanted = std::str::from_utf8(&ch).is_ok_and(|ch| s.all_channels().iter().any(|c| c == ch));
                            if wanted {
                                tracing::info!(channel = %String::from_utf8_lossy(&ch), "sharded redis adapter: unsubscribed by the cluster; subscribing again");
                            }
                            wanted
                        }
                        _ => false,
                    }
                }
                _ = health.tick() => {
                    match masters(&mut conn, cfg.command_timeout).await {
                        // A new set of masters, seen twice in a row (a node
                        // that just restarted may briefly claim old slots).
                        Some(now) if topology.as_ref().is_some_and(|t| *t != now) => {
                            if changed.as_ref() == Some(&now) {
                                tracing::info!(was = ?topology, now = ?now, "sharded redis adapter: cluster masters changed; subscribing again");
                                true
                            } else {
                                changed = Some(now);
                                false
                            }
                        }
                        Some(now) => {
                            topology = Some(now);
                            changed = None;
                            failures = 0;
                            false
                        }
                        None => {
                            failures += 1;
                            failures >= 3
                        }
                    }
                }
            };
            if rebuild {
                break;
            }
        }
        if let Some(s) = shared.upgrade() {
            s.status.send_modify(|st| {
                st.subscriber_up = false;
                st.subscribed.clear();
            });
        }
        // Closes this connection's subscriptions before the next one's.
        drop(conn);
    }
}
