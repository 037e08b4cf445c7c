//! Chaos (issue 16): Redis stops answering (SIGSTOP) for longer than the
//! adapter's request timeout. Requests that need the other nodes
//! (`fetch_sockets`, server-side acks) end within the timeout instead of
//! hanging, without answers from the other node; local work goes on; once
//! Redis resumes (SIGCONT) the same requests reach the other node again
//! without restarting a node.
//!
//! Needs redis-server (skip notice otherwise; a failure under `CI` /
//! `OXIO_REQUIRE_NODE=1`).

mod redis_support;
use oxio_server::adapter::AdapterError;
use oxio_testkit::sio as sio_support;

use redis_support::{Redis, RustNode};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_millis(800);

#[test]
fn requests_end_in_time_while_redis_is_paused_and_recover() {
    if !redis_support::redis_ready() {
        return;
    }
    sio_support::run(async {
        let redis = Redis::start().await;
        let a = RustNode::start_with("A", &redis.url(), |b| b.requests_timeout(TIMEOUT)).await;
        let b = RustNode::start_with("B", &redis.url(), |b| b.requests_timeout(TIMEOUT)).await;
        let io_a = a.server.io.clone();
        // Both nodes answer before the pause (once B has subscribed).
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let acks = io_a
                .server_side_emit_with_ack("ssevent", &("before",))
                .await;
            if format!("{acks:?}").contains("B:before") {
                break;
            }
            assert!(Instant::now() < deadline, "B never answered: {acks:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        io_a.fetch_sockets().await.expect("fetch before the pause");

        redis.signal("STOP");
        let paused = Instant::now();
        let started = Instant::now();
        let fetched = io_a.fetch_sockets().await;
        let took = started.elapsed();
        // The other nodes cannot be counted: a clear error, in time (Node
        // rejects after requestsTimeout), not a partial list.
        let text = match &fetched {
            Err(e @ (AdapterError::Unavailable(_) | AdapterError::Transport(_))) => {
                let cause = std::error::Error::source(e).map(|c| format!(": {c}"));
                format!("{e}{}", cause.unwrap_or_default())
            }
            Err(e) => panic!("unexpected error while Redis was paused: {e:?}"),
            Ok(local) => panic!("fetch_sockets answered while Redis was paused: {local:?}"),
        };
        assert!(took < TIMEOUT * 3, "fetch_sockets took {took:?}: {text}");
        let started = Instant::now();
        let acked = io_a
            .server_side_emit_with_ack("ssevent", &("during",))
            .await;
        let took = started.elapsed();
        assert!(took < TIMEOUT * 3, "server-side ack took {took:?}");
        let acks_during = format!("{acked:?}");
        assert!(
            !acks_during.contains("B:during"),
            "an ack crossed a paused Redis: {acks_during}"
        );
        // Local work is unaffected.
        io_a.emit("local", &(1,)).expect("local emit");
        // Longer than the request timeout, twice over.
        let pause = TIMEOUT * 3;
        tokio::time::sleep(pause.saturating_sub(paused.elapsed())).await;
        redis.signal("CONT");

        // Recovery: within a few seconds the same requests succeed.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let fetched = io_a.fetch_sockets().await;
            let acked = io_a.server_side_emit_with_ack("ssevent", &("after",)).await;
            if fetched.is_ok() && format!("{acked:?}").contains("B:after") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "not recovered: {fetched:?} {acked:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        println!("fetch_sockets while paused: {text}\nserver-side ack while paused: {acks_during}");
        drop(b);
    });
}
