//! Two oxio nodes (each with its own `RedisStreamsAdapter`) and one Node
//! socket.io 4.8 node with @socket.io/redis-streams-adapter 0.3.1, all with
//! connection state recovery on, on one real redis-server, with real
//! socket.io-client 4.8 clients (`tests/streams_js/peer.js`):
//!
//! - broadcasts (rooms, except, binary) with their stream entry id as
//!   offset, broadcasts with acks, fetchSockets, remote join, serverSideEmit
//!   with and without acks and the server count, both ways;
//! - recovery across nodes: a client drops its connection to one node and
//!   comes back on another (oxio → oxio, oxio → Node, Node → oxio) and
//!   recovers its id, rooms and every event broadcast meanwhile from any
//!   node, exactly once and in order. socket.io-client reconnects to the URL
//!   it started with, so the test **carries the client's pid and last
//!   offset into a new client for the other node** (its own `_pid` and
//!   `_lastOffset`, which it sends in its CONNECT auth) — no proxy;
//! - broadcasts racing a recovery (two nodes emitting every 10 ms): each
//!   once, in order, across the two connections;
//! - a Redis restart: local delivery meanwhile, cross-node after;
//! - bad input across nodes: the pid of another client's expired session,
//!   an offset from another stream, forged values: a new session.
//!
//! Needs redis-server, node and `npm ci --prefix std-server/redis-streams-adapter/tests/streams_js`
//! (skip notice otherwise; a failure under `CI` / `OXIO_REQUIRE_NODE=1`).

mod streams_support;
use oxio_testkit::sio as sio_support;

use oxio_codec::socketio::Binary;
use oxio_server::adapter::FetchedSocket;
use serde_json::{json, Value};
use std::time::Duration;
use streams_support::{is_entry_id, OxioNode, Peer, RedisServer};

const TWO_MINUTES: Duration = Duration::from_secs(120);

#[test]
fn three_nodes_share_broadcasts_acks_fetch_sockets_and_server_side_emits() {
    if !streams_support::ready() {
        return;
    }
    sio_support::run(async {
        let redis = RedisServer::start().await;
        let a = OxioNode::start("A", &redis.url(), TWO_MINUTES).await;
        let b = OxioNode::start("B", &redis.url(), TWO_MINUTES).await;
        let mut n = Peer::start(&redis.url(), TWO_MINUTES).await;
        let a1 = n.client("a1", &a.url(), &["r1"], None).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        n.client("b1", &b.url(), &["r1", "r2"], None).await;
        n.client("n1", &n.url(), &["r1"], None).await;
        n.client("n2", &n.url(), &[], None).await;
        let io_a = a.server.io.clone();
        let io_b = b.server.io.clone();

        // Every node counts the three subscribers of the public channel.
        assert_eq!(io_a.server_count().await.unwrap(), 3);
        assert_eq!(n.cmd(json!({"cmd": "serverCount"})).await, json!(3));

        // Broadcasts from oxio reach every node's clients, each with the
        // stream entry id as offset (the same id everywhere).
        io_a.to("r1").emit("e", &(1,)).unwrap();
        let mut ids = Vec::new();
        for c in ["a1", "b1", "n1"] {
            let args = n.got(c, "e", json!(1)).await;
            assert_eq!(args.as_array().unwrap().len(), 2, "{args}");
            assert!(is_entry_id(&args[1]), "{args}");
            ids.push(args[1].clone());
        }
        assert!(ids.iter().all(|i| *i == ids[0]), "{ids:?}");
        // From Node, with except.
        n.cmd(json!({"cmd": "emit", "to": "r1", "except": "r2", "event": "e", "args": [2]}))
            .await;
        n.got("a1", "e", json!(2)).await;
        n.got("n1", "e", json!(2)).await;
        // Binary from oxio, to everyone.
        io_b.emit("bin", &(Binary(&[0, 255]), "x")).unwrap();
        for c in ["a1", "b1", "n1", "n2"] {
            let args = n.got(c, "bin", json!({"$bin": [0, 255]})).await;
            assert_eq!(args[1], "x");
            assert!(is_entry_id(&args[2]), "{args}");
        }
        // Binary from Node reaches oxio's clients.
        n.cmd(json!({"cmd": "emit", "event": "bin2", "args": [{"$bin": [7]}]}))
            .await;
        n.got("a1", "bin2", json!({"$bin": [7]})).await;
        n.got("b1", "bin2", json!({"$bin": [7]})).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            !n.firsts("b1", "e").contains(&json!(2)),
            "b1 is in r2: excepted"
        );
        assert!(n.firsts("n2", "e").is_empty(), "n2 is in no room");

        // Broadcasts with acks, both ways (acks are not recorded: no offset).
        let acks = io_a
            .timeout(Duration::from_secs(8))
            .emit_with_ack("ask", &("q",))
            .await
            .unwrap();
        let mut got: Vec<String> = acks.values();
        got.sort();
        assert_eq!(got, ["a1:q", "b1:q", "n1:q", "n2:q"], "{acks:?}");
        assert_eq!((acks.expected, acks.timed_out), (4, false));
        let from_node = n
            .cmd(json!({"cmd": "emitWithAck", "to": "r1", "event": "ask", "args": ["s"]}))
            .await;
        let mut got: Vec<String> = serde_json::from_value(from_node).unwrap();
        got.sort();
        assert_eq!(got, ["a1:s", "b1:s", "n1:s"]);

        // fetchSockets both ways, with the remote sockets' data.
        let sockets = io_b.fetch_sockets().await.unwrap();
        assert_eq!(sockets.len(), 4);
        let remote_a1 = sockets
            .iter()
            .find(|s| s.id().as_str() == a1)
            .cloned()
            .unwrap();
        match &remote_a1 {
            FetchedSocket::Remote(r) => {
                assert_eq!(r.data, json!({"node": "A", "name": "a1"}));
                let mut rooms: Vec<String> = r.rooms.iter().map(|r| r.to_string()).collect();
                rooms.sort();
                let mut want = vec![a1.clone(), "r1".into()];
                want.sort();
                assert_eq!(rooms, want);
            }
            FetchedSocket::Local(_) => panic!("a1 is on node A"),
        }
        let from_node = n.cmd(json!({"cmd": "fetchSockets", "to": "r2"})).await;
        assert_eq!(from_node.as_array().unwrap().len(), 1, "{from_node}");
        assert_eq!(from_node[0]["data"], json!({"node": "B", "name": "b1"}));

        // Remote join from Node onto an oxio socket (a stream entry), then
        // a broadcast from the other oxio node reaches it.
        n.cmd(json!({"cmd": "remote", "id": a1, "join": "rj"}))
            .await;
        assert!(
            joined_locally(&io_a, "rj", &a1).await,
            "a1 joined rj through the Node node"
        );
        io_b.to("rj").emit("rj", &(1,)).unwrap();
        n.got("a1", "rj", json!(1)).await;
        // And from the other oxio node. A remote join is published, not
        // awaited (as Node's `RemoteSocket.join`): wait until node A applied
        // it before Node emits to the room, or the emit may overtake it.
        remote_a1.join("rk").unwrap();
        assert!(
            joined_locally(&io_a, "rk", &a1).await,
            "a1 joined rk through node B"
        );
        n.cmd(json!({"cmd": "emit", "to": "rk", "event": "rk", "args": [1]}))
            .await;
        n.got("a1", "rk", json!(1)).await;

        // serverSideEmit, with and without acks, both ways.
        let acks = io_a
            .server_side_emit_with_ack("ssevent", &("x",))
            .await
            .unwrap();
        let mut got: Vec<Value> = acks.responses.clone();
        got.sort_by_key(|v| v.to_string());
        assert_eq!(got, [json!("B:x"), json!("js:x")], "{acks:?}");
        assert_eq!((acks.expected, acks.timed_out), (2, false));
        assert!(!a.seen.all().iter().any(|v| v["server_side"] == "x"));
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
        drop(redis);
    });
}

/// Whether socket `id` is in `room` on the node of `io` within 5 s.
async fn joined_locally(io: &oxio_server::socketio::Io, room: &str, id: &str) -> bool {
    for _ in 0..100 {
        let here = io.to(room).local().fetch_sockets().await.unwrap();
        if here.iter().any(|s| s.id().as_str() == id) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// Where a client connects: an oxio node or the Node node.
#[derive(Clone, Copy, Debug)]
enum At {
    A,
    B,
    Node,
}

#[test]
fn a_client_recovers_on_another_node() {
    if !streams_support::ready() {
        return;
    }
    sio_support::run(async {
        let redis = RedisServer::start().await;
        let a = OxioNode::start("A", &redis.url(), TWO_MINUTES).await;
        let b = OxioNode::start("B", &redis.url(), TWO_MINUTES).await;
        let mut n = Peer::start(&redis.url(), TWO_MINUTES).await;
        let url = |at: At, n: &Peer| match at {
            At::A => a.url(),
            At::B => b.url(),
            At::Node => n.url(),
        };
        for (i, (from, to)) in [(At::A, At::B), (At::A, At::Node), (At::Node, At::A)]
            .into_iter()
            .enumerate()
        {
            let first = format!("c{i}");
            let second = format!("c{i}-back");
            let room = format!("room{i}");
            let u = url(from, &n);
            let c = n.client(&first, &u, &[room.as_str()], None).await;
            let id = c["id"].as_str().unwrap().to_owned();
            // An offset to come back with.
            a.server.io.to(room.as_str()).emit("m", &(0,)).unwrap();
            n.got(&first, "m", json!(0)).await;
            let held = n.drop_client(&first).await;
            assert_eq!(held["id"], id.as_str());
            assert!(is_entry_id(&held["offset"]), "{held}");
            tokio::time::sleep(Duration::from_millis(300)).await;

            // Meanwhile, from every node: to the room, to the socket's own
            // id, to everyone; and one for another room.
            a.server.io.to(room.as_str()).emit("m", &(1,)).unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
            n.cmd(json!({"cmd": "emit", "to": room, "event": "m", "args": [2]}))
                .await;
            tokio::time::sleep(Duration::from_millis(50)).await;
            b.server.io.to(id.as_str()).emit("m", &(3,)).unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
            n.cmd(json!({"cmd": "emit", "to": "elsewhere", "event": "m", "args": ["not mine"]}))
                .await;
            a.server.io.emit("m", &(4,)).unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
            n.cmd(json!({"cmd": "emit", "to": room, "event": "m", "args": [{"$bin": [5]}]}))
                .await;
            tokio::time::sleep(Duration::from_millis(300)).await;

            // Back on another node, without the rooms in its auth.
            let back = n.client(&second, &url(to, &n), &[], Some(&held)).await;
            assert_eq!(back["recovered"], true, "{from:?} -> {to:?}: {back}");
            assert_eq!(back["id"], id.as_str(), "{from:?} -> {to:?}");
            tokio::time::sleep(Duration::from_millis(300)).await;
            let got = n.firsts(&second, "m");
            assert_eq!(
                got,
                [json!(1), json!(2), json!(3), json!(4), json!({"$bin": [5]})],
                "{from:?} -> {to:?}: every missed event once, in order"
            );
            for (_, args) in n.events(&second) {
                assert!(
                    is_entry_id(args.as_array().unwrap().last().unwrap()),
                    "{args}"
                );
            }
            // Its rooms came back: a broadcast to the room reaches it.
            b.server.io.to(room.as_str()).emit("after", &(6,)).unwrap();
            n.got(&second, "after", json!(6)).await;
            let who = n.cmd(json!({"cmd": "whoami", "client": second})).await;
            assert_eq!(who["recovered"], true);
            let mut want = vec![id.clone(), room.clone()];
            want.sort();
            assert_eq!(who["rooms"], json!(want), "{from:?} -> {to:?}");
            // A session is restored once (GET + DEL, as Node's): the same
            // pid and offset again get a new session.
            let again = n
                .client(&format!("{second}-again"), &url(from, &n), &[], Some(&held))
                .await;
            assert_eq!(again["recovered"], false, "{from:?}: {again}");
            assert_ne!(again["id"], id.as_str());
            n.cmd(json!({"cmd": "client_close", "client": second}))
                .await;
        }
        n.stop().await;
        a.server.stop().await;
        b.server.stop().await;
        drop(redis);
    });
}

/// Broadcasts keep coming (from an oxio node and from the Node node, every
/// 10 ms) while a client drops and recovers on another oxio node: what the
/// first connection got plus what the recovered one got (missed packets,
/// then those held during the restore, then live ones) is every number once,
/// in order.
#[test]
fn broadcasts_racing_a_recovery_arrive_once_in_order() {
    if !streams_support::ready() {
        return;
    }
    sio_support::run(async {
        let redis = RedisServer::start().await;
        let a = OxioNode::start("A", &redis.url(), TWO_MINUTES).await;
        let b = OxioNode::start("B", &redis.url(), TWO_MINUTES).await;
        let mut n = Peer::start(&redis.url(), TWO_MINUTES).await;
        n.client("c", &a.url(), &["t"], None).await;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let io_a = a.server.io.clone();
        let (s2, io2) = (stop.clone(), io_a.clone());
        let ticker = tokio::spawn(async move {
            let mut i = 0u64;
            while !s2.load(std::sync::atomic::Ordering::SeqCst) {
                i += 1;
                io2.to("t").emit("ta", &(i,)).unwrap();
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            i
        });
        n.cmd(json!({"cmd": "ticker", "event": "tn", "to": "t", "every": 10}))
            .await;
        n.got("c", "ta", json!(5)).await;
        n.got("c", "tn", json!(5)).await;
        let held = n.drop_client("c").await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let back = n.client("c-back", &b.url(), &[], Some(&held)).await;
        assert_eq!(back["recovered"], true, "{back}");
        tokio::time::sleep(Duration::from_millis(300)).await;
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let last_a = ticker.await.unwrap();
        let last_n = n.cmd(json!({"cmd": "ticker_stop", "event": "tn"})).await;
        n.got("c-back", "ta", json!(last_a)).await;
        n.got("c-back", "tn", last_n.clone()).await;
        for (event, last) in [("ta", last_a), ("tn", last_n.as_u64().unwrap())] {
            let mut all = n.firsts("c", event);
            all.extend(n.firsts("c-back", event));
            let want: Vec<Value> = (1..=last).map(|i| json!(i)).collect();
            assert_eq!(all, want, "{event}: each once, in order");
        }
        n.stop().await;
        a.server.stop().await;
        b.server.stop().await;
        drop(redis);
    });
}

/// Redis goes away and comes back on the same port: meanwhile each node
/// serves its own clients (local delivery, without offset); afterwards
/// broadcasts cross nodes again with offsets.
#[test]
fn nodes_survive_a_redis_restart() {
    if !streams_support::ready() {
        return;
    }
    sio_support::run(async {
        let mut redis = RedisServer::start().await;
        let a = OxioNode::start("A", &redis.url(), TWO_MINUTES).await;
        let b = OxioNode::start("B", &redis.url(), TWO_MINUTES).await;
        let mut n = Peer::start(&redis.url(), TWO_MINUTES).await;
        n.client("a1", &a.url(), &["r"], None).await;
        n.client("b1", &b.url(), &["r"], None).await;
        a.server.io.to("r").emit("e", &(1,)).unwrap();
        n.got("b1", "e", json!(1)).await;

        redis.kill().await;
        a.server.io.to("r").emit("e", &(2,)).unwrap();
        let args = n.got("a1", "e", json!(2)).await;
        assert_eq!(args, json!([2]), "delivered locally, without offset");
        redis.restart().await;
        assert!(
            a.adapter.ready(Duration::from_secs(15)).await,
            "A reconnected"
        );
        assert!(
            b.adapter.ready(Duration::from_secs(15)).await,
            "B reconnected"
        );
        a.server.io.to("r").emit("e", &(3,)).unwrap();
        let args = n.got("b1", "e", json!(3)).await;
        assert!(is_entry_id(&args[1]), "{args}");
        assert!(
            !n.firsts("b1", "e").contains(&json!(2)),
            "lost while Redis was down"
        );
        n.stop().await;
        a.server.stop().await;
        b.server.stop().await;
        drop(redis);
    });
}

#[test]
fn bad_input_across_nodes_gets_a_new_session() {
    if !streams_support::ready() {
        return;
    }
    sio_support::run(async {
        let redis = RedisServer::start().await;
        let short = Duration::from_millis(1000);
        let a = OxioNode::start("A", &redis.url(), short).await;
        let b = OxioNode::start("B", &redis.url(), short).await;
        let mut n = Peer::start(&redis.url(), short).await;

        // The pid of another client's expired session (stored by oxio, then
        // by Node), presented to the other kinds of node.
        for (k, (home, other)) in [(a.url(), n.url()), (n.url(), b.url())]
            .into_iter()
            .enumerate()
        {
            let owner = format!("owner{k}");
            n.client(&owner, &home, &["secret"], None).await;
            a.server.io.to("secret").emit("s", &(0,)).unwrap();
            n.got(&owner, "s", json!(0)).await;
            let held = n.drop_client(&owner).await;
            tokio::time::sleep(Duration::from_millis(1500)).await;
            let thief = format!("thief{k}");
            let c = n.client(&thief, &other, &[], Some(&held)).await;
            assert_eq!(c["recovered"], false, "{c}");
            assert_ne!(c["id"], held["id"]);
            a.server.io.to("secret").emit("s", &(1,)).unwrap();
            tokio::time::sleep(Duration::from_millis(300)).await;
            assert!(
                n.events(&thief).is_empty(),
                "never another socket's rooms or events"
            );
        }

        // An offset from another stream, with a valid fresh session: a new
        // session (and, as Node's, the session is taken anyway).
        let other_stream = redis.cli(&["XADD", "another-stream", "*", "k", "v"]);
        assert!(is_entry_id(&json!(other_stream)), "{other_stream}");
        for (k, (home, other)) in [(n.url(), a.url()), (b.url(), n.url())]
            .into_iter()
            .enumerate()
        {
            let owner = format!("o{k}");
            n.client(&owner, &home, &["r"], None).await;
            a.server.io.to("r").emit("s", &(0,)).unwrap();
            n.got(&owner, "s", json!(0)).await;
            let mut held = n.drop_client(&owner).await;
            held["offset"] = json!(other_stream);
            let c = n
                .client(&format!("{owner}-back"), &other, &[], Some(&held))
                .await;
            assert_eq!(c["recovered"], false, "{c}");
            assert_ne!(c["id"], held["id"]);
        }

        // Forged values: too long, not an entry id, not strings.
        for (k, (pid, offset)) in [
            (json!("p".repeat(5000)), json!("1-1")),
            (json!("abc"), json!("1-1-1")),
            (json!("abc"), json!("99999999999999999999999-1")),
            (json!(12), json!("1-1")),
            (json!("abc"), json!(["1-1"])),
        ]
        .into_iter()
        .enumerate()
        {
            for url in [a.url(), n.url()] {
                let resume = json!({"pid": pid, "offset": offset});
                let c = n
                    .client(
                        &format!("forged{k}-{}", url.len()),
                        &url,
                        &[],
                        Some(&resume),
                    )
                    .await;
                assert_eq!(c["recovered"], false, "{c}");
            }
        }
        n.stop().await;
        a.server.stop().await;
        b.server.stop().await;
        drop(redis);
    });
}
