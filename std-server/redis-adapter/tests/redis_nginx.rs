//! Sticky sessions: a real nginx with `ip_hash` in front of two oxio
//! nodes that share a Redis adapter. socket.io-client clients connect
//! through nginx from different /24 source addresses on loopback (nginx's
//! `ip_hash` keys IPv4 on the first three octets) until one client sits on
//! each node; both start with HTTP long-polling, upgrade to WebSocket, and
//! chat across the nodes, while nginx's access log shows every request of a
//! client went to the same node. A control run with round-robin (no
//! `ip_hash`) shows polling sessions break without sticky routing.
//!
//! Needs redis-server, nginx, node and `npm ci --prefix
//! std-server/redis-adapter/tests/redis_js` (skip notice otherwise; a failure under `CI`
//! / `OXIO_REQUIRE_NODE=1`).

mod redis_support;
use oxio_testkit::sio as sio_support;

use oxio_testkit::nginx::Nginx;
use redis_support::{Peer, Redis, RustNode};
use serde_json::json;

/// Whether client `name` has connected (`Some(true)`), failed to
/// (`Some(false)`) or neither yet.
fn outcome(n: &Peer, name: &str) -> Option<bool> {
    n.all().iter().find_map(|v| {
        if v["client"] != name {
            return None;
        }
        match v["ev"].as_str() {
            Some("connected") => Some(true),
            Some("connect_error" | "disconnected") => Some(false),
            _ => None,
        }
    })
}

#[test]
fn sticky_sessions_behind_nginx_ip_hash() {
    if !redis_support::nginx_ready() {
        return;
    }
    sio_support::run(async {
        let redis = Redis::start().await;
        let a = RustNode::start("A", &redis.url()).await;
        let b = RustNode::start("B", &redis.url()).await;
        let nginx = Nginx::start(&[a.server.addr, b.server.addr], true).await;
        let mut n = Peer::start(&redis.url()).await;
        let front = format!("http://127.0.0.1:{}", nginx.port);
        let both = ["polling", "websocket"];

        // Connect from 127.0.k.1 (one /24 each) until one client is on A
        // and one on B; ip_hash sends each /24 to one node, so ~half land
        // on each and 32 tries miss a node with probability 2^-31.
        let mut on_a: Option<(String, String)> = None;
        let mut on_b: Option<(String, String)> = None;
        for k in 1..=32 {
            let name = format!("p{k}");
            let ip = format!("127.0.{k}.1");
            n.client_from(&name, &front, &both, &ip).await;
            let c = n
                .wait(&format!("{name} connected"), |v| {
                    v["client"] == name.as_str()
                        && (v["ev"] == "connected" || v["ev"] == "connect_error")
                })
                .await;
            assert_eq!(c["ev"], "connected", "{name} from {ip}: {c}");
            let o = n
                .wait(&format!("{name} opened"), |v| {
                    v["ev"] == "opened" && v["client"] == name.as_str()
                })
                .await;
            assert_eq!(o["transport"], "polling", "{name} starts with polling");
            let r = n
                .cmd(json!({"cmd": "client_ack", "client": name, "event": "ping-node"}))
                .await;
            let seen = &r["args"][0];
            assert_eq!(seen["ip"], ip.as_str(), "nginx saw {name}'s source address");
            let slot = match seen["node"].as_str() {
                Some("A") => &mut on_a,
                Some("B") => &mut on_b,
                other => panic!("{name} on an unknown node {other:?}: {r}"),
            };
            if slot.is_none() {
                *slot = Some((name, ip));
                if on_a.is_some() && on_b.is_some() {
                    break;
                }
            } else {
                n.cmd(json!({"cmd": "client_close", "client": name})).await;
            }
        }
        let (Some((ca, ip_a)), Some((cb, ip_b))) = (on_a, on_b) else {
            panic!("32 source addresses did not reach both nodes through ip_hash");
        };
        eprintln!("through nginx: {ca} from {ip_a} on A, {cb} from {ip_b} on B");

        // Both upgrade from polling to WebSocket through nginx.
        for c in [&ca, &cb] {
            let u = n
                .wait(&format!("{c} upgraded"), |v| {
                    v["ev"] == "upgraded" && v["client"] == c.as_str()
                })
                .await;
            assert_eq!(u["transport"], "websocket");
        }

        // Chat across the nodes, both ways, several times: A's handler
        // broadcasts through Redis to B's client and vice versa.
        for i in 0..5 {
            for (from, to, node, other) in [(&ca, &cb, &a, &b), (&cb, &ca, &b, &a)] {
                let text = format!("{from} -> {to} #{i}");
                n.cmd(
                    json!({"cmd": "client_emit", "client": from, "event": "chat", "args": [text]}),
                )
                .await;
                n.got(to, "chat", json!([text])).await;
                node.seen
                    .wait(&format!("{} handled {text}", node.name), |v| {
                        v["chat"] == text.as_str()
                    })
                    .await;
                assert!(
                    !other.seen.all().iter().any(|v| v["chat"] == text.as_str()),
                    "{text} was handled by {} only",
                    node.name
                );
                let got = n
                    .all()
                    .into_iter()
                    .find(|v| {
                        v["ev"] == "event"
                            && v["client"] == to.as_str()
                            && v["args"] == json!([text])
                    })
                    .unwrap();
                assert_eq!(
                    got["transport"], "websocket",
                    "{to} got {text} on websocket"
                );
            }
        }
        assert!(
            !n.all().iter().any(
                |v| (v["client"] == ca.as_str() || v["client"] == cb.as_str())
                    && (v["ev"] == "disconnected" || v["ev"] == "connect_error")
            ),
            "no session broke: {:#?}",
            n.all()
        );

        // nginx's log: every request of each client went to its node, none
        // failed (no 400 "Session ID unknown"), polling then one upgrade.
        // The 101 line is written when the WebSocket closes.
        for c in [&ca, &cb] {
            n.cmd(json!({"cmd": "client_close", "client": c})).await;
        }
        for (ip, node) in [(&ip_a, &a), (&ip_b, &b)] {
            let upstream = node.server.addr.to_string();
            redis_support::eventually(&format!("the upgrade of {ip} logged"), 10, || {
                nginx
                    .log()
                    .iter()
                    .any(|(c, _, status, _)| c == ip && *status == 101)
            })
            .await;
            let lines: Vec<_> = nginx.log().into_iter().filter(|l| &l.0 == ip).collect();
            for (_, up, status, req) in &lines {
                assert_eq!(up, &upstream, "{ip} sticks to {}: {req}", node.name);
                assert!(*status == 200 || *status == 101, "{ip}: {status} for {req}");
            }
            let polls = lines
                .iter()
                .filter(|l| l.3.contains("transport=polling") && l.3.contains("sid="))
                .count();
            assert!(polls >= 2, "{ip} polled with its sid: {lines:#?}");
            let upgrades = lines
                .iter()
                .filter(|l| l.2 == 101 && l.3.contains("transport=websocket"))
                .count();
            assert_eq!(upgrades, 1, "{ip} upgraded once: {lines:#?}");
        }

        n.stop().await;
        nginx.stop().await;
        a.server.stop().await;
        b.server.stop().await;
        drop(redis);
    });
}

/// The control: the same two nodes behind round-robin nginx (no
/// `ip_hash`). nginx alternates the upstreams strictly, so the request
/// after a polling client's handshake reaches the other node, which does
/// not know the session: 400 and a failed connection.
#[test]
fn polling_breaks_behind_round_robin_nginx() {
    if !redis_support::nginx_ready() {
        return;
    }
    sio_support::run(async {
        let redis = Redis::start().await;
        let a = RustNode::start("A", &redis.url()).await;
        let b = RustNode::start("B", &redis.url()).await;
        let nginx = Nginx::start(&[a.server.addr, b.server.addr], false).await;
        let mut n = Peer::start(&redis.url()).await;
        let front = format!("http://127.0.0.1:{}", nginx.port);
        n.client_from("rr", &front, &["polling"], "127.0.0.1").await;
        redis_support::eventually("the round-robin client fails", 10, || {
            outcome(&n, "rr") == Some(false)
        })
        .await;
        let log = nginx.log();
        eprintln!("round-robin nginx log: {log:#?}");
        let handshake = log
            .iter()
            .find(|l| !l.3.contains("sid="))
            .unwrap_or_else(|| panic!("no handshake in {log:#?}"));
        assert_eq!(handshake.2, 200, "{log:#?}");
        assert!(
            log.iter()
                .any(|l| l.2 == 400 && l.3.contains("sid=") && l.1 != handshake.1),
            "the other node refused the session: {log:#?}"
        );

        n.stop().await;
        nginx.stop().await;
        a.server.stop().await;
        b.server.stop().await;
        drop(redis);
    });
}
