//! The Redis adapter with the msgpack parser (issue 13): two oxio nodes
//! and one Node socket.io 4.8 node, all three with the msgpack parser
//! (`socket.io-msgpack-parser` on the Node server and on every
//! socket.io-client), on one real redis-server. Broadcasts (text and
//! binary, inline bytes in nested values) cross the nodes both ways, room
//! targets hold, and broadcasts with acks collect the answers of every
//! node's clients.
//!
//! Needs redis-server, node and `npm ci --prefix std-server/redis-adapter/tests/redis_js`
//! (skip notice otherwise; a failure under `CI` / `OXIO_REQUIRE_NODE=1`).

mod redis_support;
use oxio_testkit::sio as sio_support;

use oxio_codec::socketio::Binary;
use oxio_server::socketio::Parser;
use redis_support::{Peer, Redis, RustNode};
use serde_json::{json, Value};
use std::time::Duration;

/// Connects msgpack client `name` to `url` in `rooms`.
async fn client(n: &mut Peer, name: &str, url: &str, rooms: &[&str]) {
    n.cmd(
        json!({"cmd": "client", "name": name, "url": url, "rooms": rooms,
                 "transports": ["websocket"], "parser": "msgpack"}),
    )
    .await;
    n.wait(&format!("{name} connected"), |v: &Value| {
        v["ev"] == "connected" && v["client"] == name
    })
    .await;
}

#[test]
fn msgpack_nodes_share_broadcasts_over_redis() {
    if !redis_support::ready() || !sio_support::node_ready("socket.io-msgpack-parser") {
        return;
    }
    sio_support::run(async {
        let redis = Redis::start().await;
        let a = RustNode::start_with_parser("A", &redis.url(), Parser::Msgpack).await;
        let b = RustNode::start_with_parser("B", &redis.url(), Parser::Msgpack).await;
        let mut n = Peer::start_with_parser(&redis.url(), json!({}), "msgpack").await;
        client(&mut n, "a1", &a.url(), &["r1"]).await;
        client(&mut n, "b1", &b.url(), &["r2"]).await;
        let n_url = n.url();
        client(&mut n, "n1", &n_url, &["r1", "r2"]).await;
        let io_a = a.server.io.clone();
        let io_b = b.server.io.clone();

        // Text broadcasts: oxio -> all, Node -> all.
        io_a.emit("hello", &("from-a",)).unwrap();
        for c in ["a1", "b1", "n1"] {
            n.got(c, "hello", json!(["from-a"])).await;
        }
        n.cmd(json!({"cmd": "emit", "event": "hello", "args": ["from-n"]}))
            .await;
        for c in ["a1", "b1", "n1"] {
            n.got(c, "hello", json!(["from-n"])).await;
        }

        // Binary broadcasts, inline bytes at any depth, to a room: from
        // oxio B (a1 and n1 hold r1), from Node (b1 and n1 hold r2).
        io_b.to("r1")
            .emit("bin", &(Binary(&[1, 2, 3]), json!({"k": "v"})))
            .unwrap();
        for c in ["a1", "n1"] {
            n.got(c, "bin", json!([{"$bin": [1, 2, 3]}, {"k": "v"}]))
                .await;
        }
        n.cmd(json!({"cmd": "emit", "to": "r2", "event": "bin2",
                     "args": [{"$bin": [0, 255]}, {"k": {"$bin": [9]}}]}))
            .await;
        for c in ["b1", "n1"] {
            n.got(c, "bin2", json!([{"$bin": [0, 255]}, {"k": {"$bin": [9]}}]))
                .await;
        }
        io_a.emit("sync", &(1,)).unwrap();
        n.got("b1", "sync", json!([1])).await;
        assert!(!n.has("b1", "bin"), "b1 is not in r1");
        assert!(!n.has("a1", "bin2"), "a1 is not in r2");

        // Broadcasts with acks: every client of every node answers.
        let acks = io_a
            .timeout(Duration::from_secs(3))
            .emit_with_ack("ask", &("q",))
            .await
            .unwrap();
        let mut got: Vec<String> = acks.values();
        got.sort();
        assert_eq!(got, ["a1:q", "b1:q", "n1:q"], "{acks:?}");
        assert!(!acks.timed_out);

        n.stop().await;
        a.server.stop().await;
        b.server.stop().await;
    });
}
