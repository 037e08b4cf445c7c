//! The Redis adapter's state in oxio-server's Prometheus metrics, against
//! a real redis-server: `oxio_adapter_up` follows Redis going away and
//! coming back, and `oxio_adapter_publish_queue_depth` grows while Redis
//! does not answer (SIGSTOP) and drains once it does (SIGCONT). The probe
//! is the one the demo registers for `--redis`.
//!
//! Needs redis-server (skip notice otherwise; a failure under `CI` /
//! `OXIO_REQUIRE_NODE=1`).

mod redis_support;
use oxio_testkit::sio as sio_support;

use oxio_redis_adapter::RedisAdapter;
use oxio_server::metrics::{AdapterState, Metrics};
use oxio_server::socketio::SocketIo;
use redis_support::{eventually, Redis};
use std::time::Duration;

fn gauge(metrics: &Metrics, name: &str) -> i64 {
    let text = metrics.encode();
    let prefix = format!("{name}{{adapter=\"redis\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .unwrap_or_else(|| panic!("no {prefix} in\n{text}"))
        .parse()
        .unwrap()
}

#[test]
fn adapter_state_follows_redis() {
    if !redis_support::redis_ready() {
        return;
    }
    sio_support::run(async {
        let mut redis = Redis::start().await;
        let factory = RedisAdapter::builder(redis.url()).build().unwrap();
        let metrics = Metrics::new();
        let probe = factory.clone();
        metrics.watch_adapter("redis", move || AdapterState {
            up: probe.is_ready(),
            publish_queue_depth: probe.publish_queue_depth(),
        });
        let sio = SocketIo::builder()
            .with_adapter(factory.clone())
            .metrics(&metrics)
            .build();
        let io = sio.io();
        assert!(factory.ready(Duration::from_secs(5)).await);
        assert_eq!(gauge(&metrics, "oxio_adapter_up"), 1);
        assert_eq!(gauge(&metrics, "oxio_adapter_publish_queue_depth"), 0);

        // Redis answers nothing: the publisher waits, broadcasts queue up.
        redis.signal("STOP");
        let mut depth = 0;
        for i in 0..400 {
            let _ = io.emit("tick", &(i,));
            depth = gauge(&metrics, "oxio_adapter_publish_queue_depth");
            if depth > 10 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(depth > 10, "publish queue depth {depth}");
        redis.signal("CONT");
        eventually("the queue drained", 10, || {
            gauge(&metrics, "oxio_adapter_publish_queue_depth") == 0
        })
        .await;

        // Redis gone, then back on the same port.
        redis.kill().await;
        eventually("up = 0", 10, || gauge(&metrics, "oxio_adapter_up") == 0).await;
        redis.restart().await;
        eventually("up = 1 again", 15, || {
            gauge(&metrics, "oxio_adapter_up") == 1
        })
        .await;
        factory.close();
    });
}
