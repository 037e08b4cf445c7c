//! Redis goes away mid-test: each oxio node keeps delivering its local
//! broadcasts; Redis comes back on the same port: cross-node delivery
//! resumes without restarting any node (the adapter reconnects and
//! subscribes again).
//!
//! Needs redis-server, node and `npm ci --prefix std-server/redis-adapter/tests/redis_js`
//! (skip notice otherwise; a failure under `CI` / `OXIO_REQUIRE_NODE=1`).

mod redis_support;
use oxio_testkit::sio as sio_support;

use redis_support::{eventually, Peer, Redis, RustNode};
use serde_json::json;
use std::time::Duration;

#[test]
fn nodes_survive_a_redis_restart() {
    if !redis_support::ready() {
        return;
    }
    sio_support::run(async {
        let mut redis = Redis::start().await;
        let a = RustNode::start("A", &redis.url()).await;
        let b = RustNode::start("B", &redis.url()).await;
        // The peer process only hosts clients here (and a Node node that
        // reconnects on its own).
        let mut n = Peer::start(&redis.url()).await;
        n.client("a1", &a.url(), &[]).await;
        n.client("b1", &b.url(), &[]).await;
        let io_a = a.server.io.clone();
        let io_b = b.server.io.clone();
        io_a.emit("before", &(1,)).unwrap();
        n.got("b1", "before", json!([1])).await;

        redis.kill().await;
        eventually("A notices Redis is gone", 10, || !a.adapter.is_ready()).await;
        // Local delivery goes on, cross-node delivery cannot.
        io_a.emit("during", &("a",)).unwrap();
        io_b.emit("during", &("b",)).unwrap();
        n.got("a1", "during", json!(["a"])).await;
        n.got("b1", "during", json!(["b"])).await;
        assert!(
            io_a.server_count().await.is_err(),
            "no server count without Redis"
        );
        // Acks from local clients still come, within the timeout.
        let acks = io_a
            .timeout(Duration::from_secs(2))
            .emit_with_ack("ask", &("q",))
            .await
            .unwrap();
        assert_eq!(acks.values::<String>(), ["a1:q"]);

        redis.restart().await;
        assert!(
            a.adapter.ready(Duration::from_secs(15)).await,
            "A reconnects"
        );
        assert!(
            b.adapter.ready(Duration::from_secs(15)).await,
            "B reconnects"
        );
        // Cross-node delivery resumes, both ways.
        for (io, to, tag) in [(&io_a, "b1", "a"), (&io_b, "a1", "b")] {
            let mut delivered = false;
            for i in 0..40 {
                io.emit("after", &(tag, i)).unwrap();
                tokio::time::sleep(Duration::from_millis(100)).await;
                if n.events(to)
                    .iter()
                    .any(|(e, args)| e == "after" && args[0] == tag)
                {
                    delivered = true;
                    break;
                }
            }
            assert!(delivered, "{tag} -> {to} after the restart: {:#?}", n.all());
        }
        assert_eq!(io_a.server_count().await.unwrap(), 3);

        n.stop().await;
        a.server.stop().await;
        b.server.stop().await;
    });
}
