//! The sharded adapter on a real Redis Cluster (three masters, one replica
//! each, started by the test) with two oxio nodes and one Node socket.io
//! 4.8 node using `createShardedAdapter` of @socket.io/redis-adapter 8.x
//! (the `redis` package's cluster client), with real socket.io-client
//! clients on every node:
//!
//! - `dynamic` (the default mode): broadcasts, rooms (on their own
//!   channels, subscribed only where the room is held), except, binary,
//!   broadcasts with acks, fetchSockets and remote join/leave/disconnect,
//!   serverSideEmit with and without acks, both ways;
//! - `static`: the master of the main channel is killed; a replica takes
//!   over and delivery between the oxio nodes resumes without restarting
//!   any node (the Node node is checked before the failover only: its
//!   node-redis 4.7 cluster client does not move its sharded subscription);
//! - `dynamic-private`: broadcasts to a socket id travel on that socket's
//!   own channel; malformed messages are ignored.
//!
//! Needs redis-server ≥ 7, redis-cli, node and
//! `npm ci --prefix std-server/redis-adapter/tests/redis_js` (skip notice
//! otherwise; a failure under `CI` / `OXIO_REQUIRE_NODE=1`).

mod redis_support;
use oxio_testkit::sio as sio_support;

use oxio_codec::socketio::Binary;
use oxio_redis_adapter::{ShardedAdapterFactory, ShardedRedisAdapter, SubscriptionMode};
use oxio_server::adapter::FetchedSocket;
use redis_support::cluster::RedisCluster;
use redis_support::{Peer, RustNode};
use serde_json::{json, Value};
use std::time::Duration;

async fn node(
    name: &'static str,
    cluster: &RedisCluster,
    mode: SubscriptionMode,
) -> RustNode<ShardedAdapterFactory> {
    let adapter = ShardedRedisAdapter::builder(cluster.urls())
        .subscription_mode(mode)
        .requests_timeout(Duration::from_secs(3))
        .health_interval(Duration::from_millis(250))
        .connect()
        .await
        .expect("connect to the Redis Cluster");
    RustNode::with_factory(name, adapter, sio_support::sio_config()).await
}

/// Waits (up to 10 s) until sharded `channel` has `want` subscribers.
async fn numsub_is(cluster: &RedisCluster, channel: &str, want: usize) {
    let mut got = 0;
    for _ in 0..100 {
        got = cluster.shard_numsub(channel).await;
        if got == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{channel} has {got} subscribers, not {want}");
}

/// Waits until every node counts `n` servers.
async fn servers(io: &[&oxio_server::socketio::Io], peer: &mut Peer, n: usize) {
    for _ in 0..100 {
        let mut ok = peer.cmd(json!({"cmd": "serverCount"})).await == json!(n);
        for io in io {
            ok &= io.server_count().await.ok() == Some(n);
        }
        if ok {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the nodes never counted {n} servers");
}

#[test]
fn sharded_dynamic_three_nodes_on_a_cluster() {
    if !redis_support::ready() || !redis_support::cluster::ready() {
        return;
    }
    sio_support::run(async {
        let cluster = RedisCluster::start().await;
        let a = node("A", &cluster, SubscriptionMode::Dynamic).await;
        let b = node("B", &cluster, SubscriptionMode::Dynamic).await;
        let mut n = Peer::start_with(&cluster.peer_arg(), json!({})).await;
        let a1 = n.client("a1", &a.url(), &["r1"]).await;
        let b1 = n.client("b1", &b.url(), &["r2"]).await;
        let n1 = n.client("n1", &n.url(), &["r1", "r2"]).await;
        let n2 = n.client("n2", &n.url(), &[]).await;
        let io_a = a.server.io.clone();
        let io_b = b.server.io.clone();
        servers(&[&io_a, &io_b], &mut n, 3).await;

        // Rooms have their own channels, subscribed where they are held;
        // socket ids do not (dynamic mode).
        let r1 = "socket.io#/#r1#";
        let r2 = "socket.io#/#r2#";
        for (ch, want) in [(r1, 2), (r2, 2)] {
            numsub_is(&cluster, ch, want).await;
        }
        assert_eq!(cluster.shard_numsub(&format!("socket.io#/#{a1}#")).await, 0);

        // (1) Broadcasts reach every node: Rust -> all, Node -> all.
        io_a.emit("hello", &("from-a",)).unwrap();
        for c in ["a1", "b1", "n1", "n2"] {
            n.got(c, "hello", json!(["from-a"])).await;
        }
        n.cmd(json!({"cmd": "emit", "event": "hello", "args": ["from-n"]}))
            .await;
        for c in ["a1", "b1", "n1", "n2"] {
            n.got(c, "hello", json!(["from-n"])).await;
        }

        // (2) Rooms (on the room channel), except, local, several rooms.
        io_b.to("r1").emit("room", &("b-r1",)).unwrap();
        io_b.emit("sync", &(1,)).unwrap();
        n.got("a1", "room", json!(["b-r1"])).await;
        n.got("n1", "room", json!(["b-r1"])).await;
        for c in ["b1", "n2"] {
            n.got(c, "sync", json!([1])).await;
            assert!(!n.has(c, "room"), "{c} is not in r1");
        }
        n.cmd(json!({"cmd": "emit", "to": "r2", "event": "room2", "args": ["n-r2"]}))
            .await;
        n.got("b1", "room2", json!(["n-r2"])).await;
        n.got("n1", "room2", json!(["n-r2"])).await;
        n.cmd(json!({"cmd": "emit", "except": ["r2"], "event": "exc", "args": ["n-not-r2"]}))
            .await;
        n.cmd(json!({"cmd": "emit", "event": "sync", "args": [2]}))
            .await;
        n.got("a1", "exc", json!(["n-not-r2"])).await;
        n.got("n2", "exc", json!(["n-not-r2"])).await;
        for c in ["b1", "n1"] {
            n.got(c, "sync", json!([2])).await;
            assert!(!n.has(c, "exc"), "{c} is in r2");
        }
        io_a.to(["r1", "r2"])
            .except("r1")
            .emit("multi", &("a",))
            .unwrap();
        io_a.local().emit("loc", &("a-only",)).unwrap();
        io_a.emit("sync", &(3,)).unwrap();
        n.got("b1", "multi", json!(["a"])).await;
        n.got("a1", "loc", json!(["a-only"])).await;
        for c in ["a1", "b1", "n1", "n2"] {
            n.got(c, "sync", json!([3])).await;
        }
        for c in ["b1", "n1", "n2"] {
            assert!(!n.has(c, "loc"), "local() stays on node A ({c})");
        }
        for c in ["a1", "n1", "n2"] {
            assert!(!n.has(c, "multi"), "{c} is in r1 or in no room");
        }
        // A socket id as the room: the main channel (it looks like one).
        io_a.to(n2.as_str()).emit("to-id", &(1,)).unwrap();
        n.got("n2", "to-id", json!([1])).await;

        // (3) Binary across nodes, both ways (msgpack messages).
        io_a.emit("bin", &(Binary(&[1, 2, 3]), "x")).unwrap();
        for c in ["a1", "b1", "n1", "n2"] {
            n.got(c, "bin", json!([{"$bin": [1, 2, 3]}, "x"])).await;
        }
        n.cmd(json!({"cmd": "emit", "to": "r2", "event": "bin2", "args": [{"$bin": [0, 255]}, {"k": {"$bin": [9]}}]}))
            .await;
        for c in ["b1", "n1"] {
            n.got(c, "bin2", json!([{"$bin": [0, 255]}, {"k": {"$bin": [9]}}]))
                .await;
        }

        // (4) Broadcasts with acks: every client of every node answers.
        let acks = io_a
            .timeout(Duration::from_secs(3))
            .emit_with_ack("ask", &("q",))
            .await
            .unwrap();
        let mut got: Vec<String> = acks.values();
        got.sort();
        assert_eq!(got, ["a1:q", "b1:q", "n1:q", "n2:q"], "{acks:?}");
        assert_eq!(acks.expected, 4);
        assert!(!acks.timed_out);
        let acks = io_b
            .to("r1")
            .timeout(Duration::from_secs(3))
            .emit_with_ack("ask", &("r",))
            .await
            .unwrap();
        let mut got: Vec<String> = acks.values();
        got.sort();
        assert_eq!(got, ["a1:r", "n1:r"]);
        let from_node = n
            .cmd(json!({"cmd": "emitWithAck", "event": "ask", "args": ["s"], "timeout": 3000}))
            .await;
        let mut got: Vec<String> = serde_json::from_value(from_node).unwrap();
        got.sort();
        assert_eq!(got, ["a1:s", "b1:s", "n1:s", "n2:s"]);

        // (5) fetchSockets from Rust: local and remote sockets with their data.
        let sockets = io_a.fetch_sockets().await.unwrap();
        let mut ids: Vec<String> = sockets.iter().map(|s| s.id().to_string()).collect();
        ids.sort();
        let mut want = vec![a1.clone(), b1.clone(), n1.clone(), n2.clone()];
        want.sort();
        assert_eq!(ids, want);
        let remote_n2 = sockets
            .iter()
            .find(|s| s.id().as_str() == n2)
            .cloned()
            .unwrap();
        match &remote_n2 {
            FetchedSocket::Remote(r) => {
                assert_eq!(r.data, json!({"node": "js", "name": "n2"}));
                assert_eq!(r.handshake["auth"]["name"], "n2");
                assert_eq!(r.rooms, [oxio_server::adapter::Room::from(n2.as_str())]);
            }
            FetchedSocket::Local(_) => panic!("n2 is on the Node node"),
        }
        let in_r2 = io_a.to("r2").fetch_sockets().await.unwrap();
        let mut ids: Vec<String> = in_r2.iter().map(|s| s.id().to_string()).collect();
        ids.sort();
        let mut want = vec![b1.clone(), n1.clone()];
        want.sort();
        assert_eq!(ids, want);
        // Remote join from Rust: the Node node subscribes to the new room.
        remote_n2.join("r9").unwrap();
        numsub_is(&cluster, "socket.io#/#r9#", 1).await;
        io_b.to("r9").emit("r9", &("in",)).unwrap();
        n.got("n2", "r9", json!(["in"])).await;
        remote_n2.leave("r9").unwrap();
        numsub_is(&cluster, "socket.io#/#r9#", 0).await;

        // fetchSockets from Node sees the Rust sockets and their data.
        let from_node = n.cmd(json!({"cmd": "fetchSockets"})).await;
        let a1_seen = from_node
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == a1.as_str())
            .cloned()
            .unwrap_or_else(|| panic!("a1 missing from {from_node}"));
        assert_eq!(a1_seen["data"], json!({"node": "A", "name": "a1"}));
        let mut rooms = vec![a1.clone(), "r1".to_owned()];
        rooms.sort();
        assert_eq!(a1_seen["rooms"], json!(rooms));
        assert_eq!(from_node.as_array().unwrap().len(), 4);
        // Remote join from Node onto a Rust socket: node A subscribes to
        // the room's channel and gets the Node node's broadcast to it.
        n.cmd(json!({"cmd": "remote", "id": a1, "join": "rj"}))
            .await;
        numsub_is(&cluster, "socket.io#/#rj#", 1).await;
        n.cmd(json!({"cmd": "emit", "to": "rj", "event": "rj", "args": [1]}))
            .await;
        n.got("a1", "rj", json!([1])).await;
        // Remote disconnects, both ways.
        n.cmd(json!({"cmd": "remote", "id": b1, "disconnect": true}))
            .await;
        n.wait("b1 disconnected", |v| {
            v["ev"] == "disconnected" && v["client"] == "b1"
        })
        .await;
        remote_n2.disconnect(false).unwrap();
        let d = n
            .wait("n2 disconnected", |v| {
                v["ev"] == "disconnected" && v["client"] == "n2"
            })
            .await;
        assert_eq!(d["reason"], "io server disconnect");

        // (6) serverSideEmit, with and without acks, both ways.
        let acks = io_a
            .server_side_emit_with_ack("ssevent", &("x",))
            .await
            .unwrap();
        let mut got: Vec<Value> = acks.responses.clone();
        got.sort_by_key(|v| v.to_string());
        assert_eq!(got, [json!("B:x"), json!("node:x")], "{acks:?}");
        assert_eq!(acks.expected, 2);
        assert!(!acks.timed_out);
        assert!(
            !a.seen.all().iter().any(|v| v["server_side"] == "x"),
            "a node does not hear itself"
        );
        let from_node = n
            .cmd(json!({"cmd": "serverSideEmitWithAck", "event": "ssevent", "args": ["y"]}))
            .await;
        let mut got: Vec<String> = serde_json::from_value(from_node).unwrap();
        got.sort();
        assert_eq!(got, ["A:y", "B:y"]);
        io_b.server_side_emit("ssevent", &("z",)).unwrap();
        a.seen
            .wait("A got z", |v| v["server_side"] == "z" && v["ack"] == false)
            .await;
        n.wait("Node got z", |v| {
            v["ev"] == "server_side" && v["args"] == json!(["z"]) && v["ack"] == false
        })
        .await;

        n.stop().await;
        a.server.stop().await;
        b.server.stop().await;
        drop(cluster);
    });
}

/// Emits `event` with 1, 2, ... from `emit` every 100 ms until every
/// client in `clients` got one of them (at most `secs`).
async fn until_delivered(
    n: &Peer,
    clients: &[&str],
    event: &str,
    secs: u64,
    mut emit: impl FnMut(u64),
) {
    for i in 0..secs * 10 {
        emit(i);
        tokio::time::sleep(Duration::from_millis(100)).await;
        if clients.iter().all(|c| n.has(c, event)) {
            return;
        }
    }
    let missing: Vec<_> = clients.iter().filter(|c| !n.has(c, event)).collect();
    panic!("{event} never reached {missing:?}");
}

#[test]
fn sharded_static_survives_a_master_failover() {
    if !redis_support::ready() || !redis_support::cluster::ready() {
        return;
    }
    sio_support::run(async {
        let mut cluster = RedisCluster::start().await;
        let a = node("A", &cluster, SubscriptionMode::Static).await;
        let b = node("B", &cluster, SubscriptionMode::Static).await;
        let mut n =
            Peer::start_with(&cluster.peer_arg(), json!({"subscriptionMode": "static"})).await;
        n.client("a1", &a.url(), &["r1"]).await;
        n.client("b1", &b.url(), &["r1"]).await;
        n.client("n1", &n.url(), &["r1"]).await;
        let io_a = a.server.io.clone();
        let io_b = b.server.io.clone();
        servers(&[&io_a, &io_b], &mut n, 3).await;
        // Static: no room channel.
        io_a.to("r1").emit("before", &(1,)).unwrap();
        for c in ["a1", "b1", "n1"] {
            n.got(c, "before", json!([1])).await;
        }
        assert_eq!(cluster.shard_numsub("socket.io#/#r1#").await, 0);
        assert_eq!(cluster.shard_numsub("socket.io#/#").await, 3);

        // Kill the master of the main channel; a replica takes over.
        let m = cluster.master_of("socket.io#/#").await;
        cluster.kill(m).await;
        cluster.wait_ok(30).await;
        assert_ne!(cluster.master_of("socket.io#/#").await, m);

        // Delivery between the oxio nodes resumes with no node restarted:
        // broadcasts both ways, acks, fetchSockets. (The Node node is left
        // out from here: node-redis 4.7's cluster client keeps its sharded
        // subscription on the dead address, and in our runs did not move
        // it even once the old master was back as a replica.)
        let ia = io_a.clone();
        until_delivered(&n, &["a1", "b1"], "after-a", 30, |i| {
            let _ = ia.to("r1").emit("after-a", &(i,));
        })
        .await;
        let ib = io_b.clone();
        until_delivered(&n, &["a1", "b1"], "after-b", 30, |i| {
            let _ = ib.emit("after-b", &(i,));
        })
        .await;
        for io in [&io_a, &io_b] {
            assert_eq!(io.server_count().await.unwrap(), 2);
        }
        // Every channel (the response channels may live on the failed
        // shard too) is back within seconds.
        let mut tries = 0;
        loop {
            let acks = io_b
                .timeout(Duration::from_secs(1))
                .emit_with_ack("ask", &("f",))
                .await
                .unwrap();
            let mut got: Vec<String> = acks.values();
            got.sort();
            if got == ["a1:f", "b1:f"] && !acks.timed_out {
                break;
            }
            tries += 1;
            assert!(tries < 20, "acks after the failover: {acks:?}");
        }
        eprintln!("acks complete after {tries} incomplete tries");
        assert_eq!(io_a.fetch_sockets().await.unwrap().len(), 2);
        let acks = io_a
            .server_side_emit_with_ack("ssevent", &("after",))
            .await
            .unwrap();
        assert_eq!(acks.responses, [json!("B:after")], "{acks:?}");

        // The old master comes back as a replica; the oxio nodes go on.
        cluster.restart(m).await;
        cluster.wait_ok(30).await;
        let ia = io_a.clone();
        until_delivered(&n, &["a1", "b1"], "back", 30, |i| {
            let _ = ia.emit("back", &(i,));
        })
        .await;

        n.stop().await;
        a.server.stop().await;
        b.server.stop().await;
        drop(cluster);
    });
}

#[test]
fn sharded_dynamic_private_uses_socket_channels() {
    if !redis_support::ready() || !redis_support::cluster::ready() {
        return;
    }
    sio_support::run(async {
        let cluster = RedisCluster::start().await;
        let mode = SubscriptionMode::DynamicPrivate;
        let a = node("A", &cluster, mode).await;
        let mut n = Peer::start_with(
            &cluster.peer_arg(),
            json!({"subscriptionMode": "dynamic-private"}),
        )
        .await;
        let a1 = n.client("a1", &a.url(), &[]).await;
        let n1 = n.client("n1", &n.url(), &[]).await;
        let io_a = a.server.io.clone();
        for ch in [format!("socket.io#/#{a1}#"), format!("socket.io#/#{n1}#")] {
            numsub_is(&cluster, &ch, 1).await;
        }
        // Malformed or unknown messages are ignored (on channels only node
        // A listens to: the Node adapter would crash on some of them).
        let own = format!("socket.io#/#{a1}#");
        let response = format!("socket.io#/#{}#", a.adapter.uid());
        for ch in [&own, &response] {
            let m = cluster.master_of(ch).await;
            for junk in [
                "{\"uid\":1",
                "\u{c1}\u{c1}",
                r#"{"uid":"x","nsp":"/","type":99}"#,
                r#"{"uid":"x","nsp":"/","type":3,"data":{"packet":{"type":2,"data":[1]},"opts":{}}}"#,
                r#"{"uid":"x","nsp":"/","type":3,"data":7}"#,
                r#"{"uid":"x","nsp":"/","type":12,"data":{"requestId":"nope","packet":1}}"#,
            ] {
                let out = cluster.nodes[m].cli(&["spublish", ch, junk]).await;
                assert_eq!(out.trim(), "1", "{ch} {junk}");
            }
        }
        io_a.to(n1.as_str()).emit("direct", &("a->n1",)).unwrap();
        n.got("n1", "direct", json!(["a->n1"])).await;
        n.cmd(json!({"cmd": "emit", "to": a1, "event": "direct", "args": ["n->a1"]}))
            .await;
        n.got("a1", "direct", json!(["n->a1"])).await;
        // Its channel goes when the socket does.
        n.cmd(json!({"cmd": "client_close", "client": "a1"})).await;
        let ch = format!("socket.io#/#{a1}#");
        numsub_is(&cluster, &ch, 0).await;

        n.stop().await;
        a.server.stop().await;
        drop(cluster);
    });
}
