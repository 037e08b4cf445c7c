//! The Socket.IO session rules of docs/protocol.md §3.4–3.5 over real
//! transports (HTTP long-polling and WebSocket, raw frames, exact bytes):
//! the CONNECT reply, invalid namespaces, `41`, and every violation that
//! makes the reference server close the whole connection.

use oxio_testkit::sio as sio_support;

use std::time::Duration;

use oxio_codec::socketio::Args;
use oxio_server::socketio::{AckSender, Data, SocketIo, SocketRef};
use sio_support::http::get;
use sio_support::{run, sio_config, start, Frame, Polling, SioServer, Ws};

/// `/` and `/custom`; `echo` acks its arguments.
async fn server() -> SioServer {
    let sio = SocketIo::builder()
        .connect_timeout(Duration::from_millis(1000))
        .build();
    for ns in ["/", "/custom"] {
        sio.io().ns(ns, |s: SocketRef| {
            s.on(
                "echo",
                |Data(Args(args)): Data<Args<Vec<serde_json::Value>>>, ack: AckSender| {
                    ack.send(&Args(args)).unwrap();
                },
            );
        });
    }
    start(sio_config(), sio).await
}

/// `40[/nsp,]{"sid":"<20 chars>"}` exactly, with a fresh id.
fn assert_connect_reply(reply: &str, ns: &str, eio_sid: &str) -> String {
    let prefix = format!(r#"40{ns}{{"sid":""#);
    let sid = reply
        .strip_prefix(&prefix)
        .and_then(|r| r.strip_suffix(r#""}"#))
        .unwrap_or_else(|| panic!("not a CONNECT reply for {ns:?}: {reply}"));
    assert_eq!(sid.len(), 20, "{reply}");
    assert!(
        sid.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "{reply}"
    );
    assert_ne!(sid, eio_sid, "the Socket.IO id is not the Engine.IO sid");
    sid.to_owned()
}

/// Frames that close the connection, each sent on a fresh connection that
/// has joined `/` (and nothing more): decode errors (§3.5), packets for a
/// namespace not joined, a second CONNECT, a client CONNECT_ERROR.
const FATAL_AFTER_JOIN: &[&str] = &[
    "4abc",                                         // unknown packet type
    "4",                                            // empty Socket.IO packet
    "47[]",                                         // type out of range
    "42{}",                                         // event payload not an array
    "42[]",                                         // empty event
    r#"42["disconnect"]"#,                          // reserved event name
    r#"42["connect",1]"#,                           // reserved event name
    "42[1",                                         // invalid JSON
    r#"42abc["echo",1]"#,                           // invalid ack id
    "43",                                           // ack without payload
    r#"43{"a":1}"#,                                 // ack payload not an array
    "41{}",                                         // DISCONNECT with a payload
    "40",                                           // second CONNECT for /
    "40null",                                       // CONNECT payload not an object
    "40[]",                                         // CONNECT payload not an object
    r#"40custom,"#,                                 // namespace without its slash: invalid JSON
    r#"42/custom,["echo",1]"#,                      // event for a namespace not joined
    r#"43/custom,1[]"#,                             // ack for a namespace not joined
    "41/custom,",                                   // DISCONNECT for a namespace not joined
    r#"44{"message":"no"}"#,                        // CONNECT_ERROR from a client
    r#"44/custom,{"message":"no"}"#,                // CONNECT_ERROR, namespace not joined
    r#"45-["echo",{"_placeholder":true,"num":0}]"#, // attachment count missing
    r#"450-["echo",1]"#,                            // zero attachments
    r#"4511-["echo",1]"#,                           // more than 10 attachments
    r#"45x-["echo",1]"#,                            // illegal attachment count
];

#[test]
fn websocket_violations_close_the_connection() {
    run(async {
        let srv = server().await;
        for bad in FATAL_AFTER_JOIN {
            let mut ws = Ws::eio4(srv.addr).await;
            assert_eq!(ws.join("40").await.len(), 20);
            ws.send(bad).await;
            assert_eq!(ws.closed().await, Vec::<String>::new(), "{bad}");
        }
        srv.stop().await;
    });
}

#[test]
fn websocket_violations_before_any_connect_close_the_connection() {
    run(async {
        let srv = server().await;
        for bad in [
            r#"42["echo",1]"#,
            r#"421["echo",1]"#,
            "43[]",
            "41",
            r#"44{"message":"no"}"#,
            "4abc",
        ] {
            let mut ws = Ws::eio4(srv.addr).await;
            ws.send(bad).await;
            assert_eq!(ws.closed().await, Vec::<String>::new(), "{bad}");
        }
        srv.stop().await;
    });
}

#[test]
fn websocket_binary_attachment_rules() {
    run(async {
        let srv = server().await;
        // A binary frame when no attachment is expected.
        let mut ws = Ws::eio4(srv.addr).await;
        ws.join("40").await;
        ws.send_binary(&[1, 2]).await;
        assert_eq!(ws.closed().await, Vec::<String>::new());
        // A text frame while attachments are pending.
        let mut ws = Ws::eio4(srv.addr).await;
        ws.join("40").await;
        ws.send(r#"452-["echo",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#)
            .await;
        ws.send_binary(&[1]).await;
        ws.send(r#"42["echo"]"#).await;
        assert_eq!(ws.closed().await, Vec::<String>::new());
        // A placeholder past the attachments.
        let mut ws = Ws::eio4(srv.addr).await;
        ws.join("40").await;
        ws.send(r#"451-3["echo",{"_placeholder":true,"num":1}]"#)
            .await;
        ws.send_binary(&[1]).await;
        assert_eq!(ws.closed().await, Vec::<String>::new());
        // Well-formed. A `serde_json::Value` cannot hold bytes, so this
        // handler sees the placeholder object and acks it back as JSON.
        let mut ws = Ws::eio4(srv.addr).await;
        ws.join("40").await;
        ws.send(r#"451-3["echo",{"_placeholder":true,"num":0}]"#)
            .await;
        ws.send_binary(&[7, 7]).await;
        assert_eq!(
            ws.next_text().await,
            r#"433[{"_placeholder":true,"num":0}]"#
        );
        srv.stop().await;
    });
}

#[test]
fn websocket_connect_reply_invalid_namespace_and_leave() {
    run(async {
        let srv = server().await;
        let mut ws = Ws::eio4(srv.addr).await;
        let eio_sid = ws.sid.clone();

        // Unknown namespace, with and without the trailing comma and auth:
        // refused, the connection stays open.
        for (connect, ns) in [
            ("40/x", "/x"),
            ("40/x,", "/x"),
            (r#"40/x,{"token":"1"}"#, "/x"),
            ("40/custom/deeper,", "/custom/deeper"),
        ] {
            ws.send(connect).await;
            assert_eq!(
                ws.next_text().await,
                format!(r#"44{ns},{{"message":"Invalid namespace"}}"#)
            );
        }

        // `40` and `40/custom,`: exactly `{"sid":...}`, a distinct id each.
        ws.send("40").await;
        let root = assert_connect_reply(&ws.next_text().await, "", &eio_sid);
        ws.send(r#"40/custom,{"token":"abc"}"#).await;
        let custom = assert_connect_reply(&ws.next_text().await, "/custom,", &eio_sid);
        assert_ne!(root, custom);

        // Events and acks per namespace, exact bytes.
        ws.send(r#"421["echo",1,"2",{"3":[true]}]"#).await;
        assert_eq!(ws.next_text().await, r#"431[1,"2",{"3":[true]}]"#);
        ws.send(r#"42/custom,2["echo"]"#).await;
        assert_eq!(ws.next_text().await, "43/custom,2[]");

        // `41/custom,`: nothing is sent back; `/` still works; a later
        // event for /custom is a violation.
        ws.send("41/custom,").await;
        ws.send(r#"423["echo","after"]"#).await;
        assert_eq!(ws.next_text().await, r#"433["after"]"#);
        // `41`: no namespace left, the connection stays open: the next
        // frame is the ping.
        ws.send("41").await;
        assert_eq!(ws.next().await, Frame::Text("2".into()));
        ws.send("3").await;
        // Joining again is allowed; then an event for the left /custom closes.
        ws.send("40").await;
        assert_connect_reply(&ws.next_text().await, "", &eio_sid);
        ws.send(r#"42/custom,["echo"]"#).await;
        assert_eq!(ws.closed().await, Vec::<String>::new());
        srv.stop().await;
    });
}

#[test]
fn websocket_connect_timeout_closes_a_session_that_joins_nothing() {
    run(async {
        let sio = SocketIo::builder()
            .connect_timeout(Duration::from_millis(200))
            .build();
        let config = oxio_server::config::EngineConfig {
            ping_interval: Duration::from_secs(10),
            ..sio_config()
        };
        let srv = start(config, sio).await;
        let mut ws = Ws::eio4(srv.addr).await;
        let started = tokio::time::Instant::now();
        // An invalid namespace does not count as joined.
        ws.send("40/nope,").await;
        assert_eq!(
            ws.next_text().await,
            r#"44/nope,{"message":"Invalid namespace"}"#
        );
        assert_eq!(ws.closed().await, Vec::<String>::new());
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(150) && took < Duration::from_secs(2),
            "{took:?}"
        );
        // Joining in time keeps it open past the timeout.
        let mut ws = Ws::eio4(srv.addr).await;
        ws.join("40").await;
        ws.quiet(400).await;
        ws.send(r#"42["x"]"#).await;
        ws.send("40/nope").await;
        assert_eq!(
            ws.next_text().await,
            r#"44/nope,{"message":"Invalid namespace"}"#
        );
        srv.stop().await;
    });
}

/// After a violation on polling: the next GET ends the session (`1`, after
/// a `6` when no GET was held), and the sid is then unknown.
async fn assert_polling_closed(p: &Polling, what: &str) {
    // A ping (`2`) may have been queued before the violation.
    let mut seen = Vec::new();
    for _ in 0..3 {
        let (status, packets) = p.get().await;
        assert_eq!(status, 200, "{what}: {packets:?}");
        seen.extend(packets);
        if seen.last().map(String::as_str) == Some("1") {
            break;
        }
    }
    let rest: Vec<&str> = seen
        .iter()
        .map(String::as_str)
        .filter(|p| *p != "2")
        .collect();
    assert!(rest == ["1"] || rest == ["6", "1"], "{what}: {seen:?}");
    let res = get(
        p.addr,
        &format!("/socket.io/?EIO=4&transport=polling&sid={}", p.sid),
    )
    .await;
    assert_eq!(
        (res.status, res.text().as_str()),
        (400, r#"{"code":1,"message":"Session ID unknown"}"#),
        "{what}"
    );
}

#[test]
fn polling_connect_events_and_violations() {
    run(async {
        let srv = server().await;

        // The CONNECT reply and an ack, exact bytes; binary as `b<base64>`.
        let p = Polling::open(srv.addr).await;
        // (Node, too, answers the refusal first: a join completes a tick
        // later, after the namespace's middlewares.)
        p.post(&["40/custom,", "40/x,"]).await;
        let mut got = p.read(2).await;
        got.sort();
        assert_connect_reply(&got[0], "/custom,", &p.sid);
        assert_eq!(got[1], r#"44/x,{"message":"Invalid namespace"}"#);
        p.post(&[r#"42/custom,9["echo",[1,{"a":null}],"é😀"]"#])
            .await;
        assert_eq!(p.read(1).await, [r#"43/custom,9[[1,{"a":null}],"é😀"]"#]);
        p.post(&["41/custom,"]).await;
        let (status, packets) = p.get().await;
        assert_eq!(
            (status, packets),
            (200, vec!["2".to_string()]),
            "only the ping after 41"
        );
        p.post(&["3"]).await;

        // Violations, each on a fresh session that joined `/`.
        for bad in FATAL_AFTER_JOIN {
            let p = Polling::open(srv.addr).await;
            p.post(&["40"]).await;
            assert_connect_reply(&p.read(1).await[0], "", &p.sid);
            p.post(&[bad]).await;
            assert_polling_closed(&p, bad).await;
        }

        // Before any CONNECT.
        let p = Polling::open(srv.addr).await;
        p.post(&[r#"42["echo",1]"#]).await;
        assert_polling_closed(&p, "event before CONNECT").await;

        // A held GET gets `1` when a violation arrives.
        let p = Polling::open(srv.addr).await;
        p.post(&["40"]).await;
        p.read(1).await;
        let path = format!("/socket.io/?EIO=4&transport=polling&sid={}", p.sid);
        let addr = p.addr;
        let held = tokio::spawn(async move { get(addr, &path).await });
        tokio::time::sleep(Duration::from_millis(50)).await;
        p.post(&["40"]).await; // a second CONNECT for /
        let res = held.await.unwrap();
        assert_eq!((res.status, res.text().as_str()), (200, "1"));
        srv.stop().await;
    });
}

/// Regression: packets sent a few ms apart must not wait for the client's
/// delayed ACK (Nagle's algorithm). Before `service::serve` set
/// `TCP_NODELAY`, the second of two events 5 ms apart arrived ~40 ms after
/// the first.
#[test]
fn events_sent_apart_are_not_held_back_by_nagle() {
    run(async {
        let sio = SocketIo::builder().build();
        sio.io().ns("/", |s: SocketRef| {
            s.on("go", |s: SocketRef| async move {
                for i in 0..4 {
                    let _ = s.emit("tick", &(i,));
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            });
        });
        let config = oxio_server::config::EngineConfig {
            ping_interval: Duration::from_secs(10),
            ..sio_config()
        };
        let srv = start(config, sio).await;
        let mut best = Duration::MAX;
        for _ in 0..3 {
            let mut ws = Ws::eio4(srv.addr).await;
            ws.join("40").await;
            ws.send(r#"42["go"]"#).await;
            assert_eq!(ws.next_text().await, r#"42["tick",0]"#);
            let first = tokio::time::Instant::now();
            for i in 1..4 {
                assert_eq!(ws.next_text().await, format!(r#"42["tick",{i}]"#));
            }
            best = best.min(first.elapsed());
            ws.close().await;
        }
        // 3 gaps of 5 ms; with Nagle the first gap alone is ~40 ms.
        assert!(best < Duration::from_millis(35), "ticks took {best:?}");
        srv.stop().await;
    });
}

/// The official suites' "closes the session upon ping timeout": a GET sent
/// pingInterval + pingTimeout after the handshake answer finds the session
/// gone. Against the suites (Node's timers), oxio failed this about one run
/// in three: the pong deadline counted from when the ping timer actually
/// fired (a ms or two late) and a GET arriving before the timer task ran
/// got the ping. In-process the race rarely shows; the deadline rule is
/// pinned by the engine's unit test `v4_pong_deadline_counts_from_the_due_ping`.
#[test]
fn polling_get_after_interval_plus_timeout_finds_the_session_gone() {
    run(async {
        let srv = server().await;
        let mut waits = Vec::new();
        for _ in 0..5 {
            let addr = srv.addr;
            waits.push(tokio::spawn(async move {
                let p = Polling::open(addr).await;
                tokio::time::sleep(Duration::from_millis(300 + 200)).await;
                let res = get(
                    addr,
                    &format!("/socket.io/?EIO=4&transport=polling&sid={}", p.sid),
                )
                .await;
                (res.status, res.text())
            }));
        }
        for w in waits {
            assert_eq!(
                w.await.unwrap(),
                (
                    400,
                    r#"{"code":1,"message":"Session ID unknown"}"#.to_owned()
                )
            );
        }
        srv.stop().await;
    });
}
