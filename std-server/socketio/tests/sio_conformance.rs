//! The `conformance` example as the official suites use it: the binary is
//! started with `--port`, then driven with the exact frames of the
//! socket.io-protocol test suite (WebSocket) and their long-polling
//! equivalents, the Engine.IO echo at `/engine.io/` is checked, and SIGTERM
//! stops it gracefully.
#![cfg(unix)]

use oxio_testkit::sio as sio_support;

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use sio_support::http::{get, request};
use sio_support::{Frame, Polling, Ws};
use tokio::io::{AsyncBufReadExt, BufReader};

/// `target/<profile>/examples/conformance`, built by `cargo test`.
fn example_path() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    dir.join("examples").join("conformance")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Example {
    child: tokio::process::Child,
    addr: SocketAddr,
}

async fn start_example() -> Example {
    let port = free_port();
    let mut child = tokio::process::Command::new(example_path())
        .args(["--port", &port.to_string()])
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the conformance example is built by cargo test");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.contains("listening") {
                return;
            }
        }
        panic!("the example exited before listening");
    })
    .await
    .expect("listening in time");
    // Keep draining its output so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Example {
        child,
        addr: ([127, 0, 0, 1], port).into(),
    }
}

/// `initSocketIOConnection` of the suite: `40`, the CONNECT reply, `auth`.
async fn connected(addr: SocketAddr) -> Ws {
    let mut ws = Ws::eio4(addr).await;
    ws.send("40").await;
    assert!(ws.next_text().await.starts_with(r#"40{"sid":""#));
    assert_eq!(ws.next_text().await, r#"42["auth",{}]"#);
    ws
}

async fn socketio_suite_over_websocket(addr: SocketAddr) {
    // connect: main namespace, with and without auth; custom namespace.
    for (connect, ns, auth) in [
        ("40", "", "{}"),
        (r#"40{"token":"123"}"#, "", r#"{"token":"123"}"#),
        ("40/custom,", "/custom,", "{}"),
        (
            r#"40/custom,{"token":"abc"}"#,
            "/custom,",
            r#"{"token":"abc"}"#,
        ),
    ] {
        let mut ws = Ws::eio4(addr).await;
        ws.send(connect).await;
        let reply = ws.next_text().await;
        let json = reply.strip_prefix(&format!("40{ns}")).expect(&reply);
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(v.as_object().unwrap().keys().collect::<Vec<_>>(), ["sid"]);
        assert_eq!(v["sid"].as_str().unwrap().len(), 20);
        assert_ne!(v["sid"].as_str().unwrap(), ws.sid);
        assert_eq!(ws.next_text().await, format!(r#"42{ns}["auth",{auth}]"#));
        ws.close().await;
    }

    // Unknown namespace (no trailing comma): refused, connection kept.
    let mut ws = Ws::eio4(addr).await;
    ws.send("40/random").await;
    assert_eq!(
        ws.next_text().await,
        r#"44/random,{"message":"Invalid namespace"}"#
    );
    ws.send("40").await;
    assert!(ws.next_text().await.starts_with(r#"40{"sid":""#));
    ws.close().await;

    // Invalid handshake; no handshake at all (connectTimeout / ping timeout).
    let mut ws = Ws::eio4(addr).await;
    ws.send("4abc").await;
    assert_eq!(ws.closed().await, Vec::<String>::new());
    let mut ws = Ws::eio4(addr).await;
    ws.closed().await;

    // disconnect: `41` sends nothing back, the next frame is the ping.
    let mut ws = connected(addr).await;
    ws.send("41").await;
    assert_eq!(ws.next().await, Frame::Text("2".into()));
    ws.close().await;

    // Connect then disconnect from /custom; `/` still answers.
    let mut ws = connected(addr).await;
    ws.send("40/custom").await;
    assert!(ws.next_text().await.starts_with(r#"40/custom,{"sid":""#));
    assert_eq!(ws.next_text().await, r#"42/custom,["auth",{}]"#);
    ws.send("41/custom").await;
    ws.send(r#"42["message","message to main namespace"]"#)
        .await;
    assert_eq!(
        ws.next_text().await,
        r#"42["message-back","message to main namespace"]"#
    );
    ws.close().await;

    // message: plain text, binary, with acks.
    let mut ws = connected(addr).await;
    ws.send(r#"42["message",1,"2",{"3":[true]}]"#).await;
    assert_eq!(
        ws.next_text().await,
        r#"42["message-back",1,"2",{"3":[true]}]"#
    );
    ws.send(r#"452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#)
        .await;
    ws.send_binary(&[1, 2, 3]).await;
    ws.send_binary(&[4, 5, 6]).await;
    assert_eq!(
        ws.next_text().await,
        r#"452-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#
    );
    assert_eq!(ws.next_data().await, Frame::Binary(vec![1, 2, 3]));
    assert_eq!(ws.next_data().await, Frame::Binary(vec![4, 5, 6]));
    ws.send(r#"42456["message-with-ack",1,"2",{"3":[false]}]"#)
        .await;
    assert_eq!(ws.next_text().await, r#"43456[1,"2",{"3":[false]}]"#);
    ws.send(r#"452-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#)
        .await;
    ws.send_binary(&[1, 2, 3]).await;
    ws.send_binary(&[4, 5, 6]).await;
    assert_eq!(
        ws.next_text().await,
        r#"462-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#
    );
    assert_eq!(ws.next_data().await, Frame::Binary(vec![1, 2, 3]));
    assert_eq!(ws.next_data().await, Frame::Binary(vec![4, 5, 6]));
    // Binary nested in objects and arrays, mixed with JSON, any arity.
    ws.send(r#"452-["message",{"a":{"_placeholder":true,"num":1}},[{"_placeholder":true,"num":0}],null,-1.5]"#)
        .await;
    ws.send_binary(&[9]).await;
    ws.send_binary(&[8, 8]).await;
    assert_eq!(
        ws.next_text().await,
        r#"452-["message-back",{"a":{"_placeholder":true,"num":0}},[{"_placeholder":true,"num":1}],null,-1.5]"#,
        "placeholders are renumbered in order, as socket.io-parser does"
    );
    assert_eq!(ws.next_data().await, Frame::Binary(vec![8, 8]));
    assert_eq!(ws.next_data().await, Frame::Binary(vec![9]));
    ws.send("42[\"message\"]").await;
    assert_eq!(ws.next_text().await, r#"42["message-back"]"#);
    ws.close().await;

    // Invalid format: unknown type, invalid payload, invalid ack id.
    for bad in [
        "4abc",
        "42{}",
        r#"42abc["message-with-ack",1,"2",{"3":[false]}]"#,
    ] {
        let mut ws = connected(addr).await;
        ws.send(bad).await;
        assert_eq!(ws.closed().await, Vec::<String>::new(), "{bad}");
    }
}

async fn socketio_over_polling(addr: SocketAddr) {
    let p = Polling::open(addr).await;
    p.post(&[r#"40{"token":"123"}"#, "40/custom,"]).await;
    // Each namespace's CONNECT comes before its `auth`; the two namespaces
    // may interleave (Node answers them in request order).
    let got = p.read(4).await;
    let (root, custom): (Vec<&String>, Vec<&String>) = got
        .iter()
        .partition(|p| !p.starts_with("40/custom,") && !p.starts_with("42/custom,"));
    assert!(root[0].starts_with(r#"40{"sid":""#), "{got:?}");
    assert_eq!(root[1], r#"42["auth",{"token":"123"}]"#);
    assert!(custom[0].starts_with(r#"40/custom,{"sid":""#), "{got:?}");
    assert_eq!(custom[1], r#"42/custom,["auth",{}]"#);
    p.post(&[
        r#"42["message",1,"2",{"3":[true]}]"#,
        r#"451-5["message-with-ack",{"_placeholder":true,"num":0}]"#,
        "bAQID",
    ])
    .await;
    assert_eq!(
        p.read(3).await,
        [
            r#"42["message-back",1,"2",{"3":[true]}]"#,
            r#"461-5[{"_placeholder":true,"num":0}]"#,
            "bAQID",
        ]
    );
    // `41` over polling: nothing comes back but the next ping.
    p.post(&["41"]).await;
    let (status, packets) = p.get().await;
    assert_eq!((status, packets), (200, vec!["2".to_string()]));
    p.post(&["3"]).await;
}

#[test]
fn conformance_example_serves_both_suites_and_stops_on_sigterm() {
    sio_support::run(serves_both_suites_and_stops_on_sigterm());
}

async fn serves_both_suites_and_stops_on_sigterm() {
    let mut ex = start_example().await;
    let addr = ex.addr;

    // Engine.IO at /engine.io/: options, CORS, versions, echo.
    let res = get(addr, "/engine.io/?EIO=4&transport=polling").await;
    assert!(
        res.text()
            .contains(r#""pingInterval":300,"pingTimeout":200,"maxPayload":1000000}"#),
        "{}",
        res.text()
    );
    assert_eq!(res.header("access-control-allow-origin"), Some("*"));
    let mut ws = Ws::connect(addr, "/engine.io/", "EIO=4&transport=websocket").await;
    ws.send("4hello").await;
    assert_eq!(ws.next_data().await, Frame::Text("4hello".into()));
    ws.send_binary(&[1, 2, 3]).await;
    assert_eq!(ws.next_data().await, Frame::Binary(vec![1, 2, 3]));
    ws.close().await;

    // Socket.IO at /socket.io/: same options; EIO 3 and 4 only.
    let res = get(addr, "/socket.io/?EIO=4&transport=polling").await;
    assert!(res
        .text()
        .contains(r#""upgrades":["websocket"],"pingInterval":300"#));
    for bad in [
        "/socket.io/?transport=polling",
        "/socket.io/?EIO=abc&transport=polling",
        "/socket.io/?EIO=5&transport=polling",
    ] {
        let res = get(addr, bad).await;
        assert_eq!(
            (res.status, res.text().as_str()),
            (
                400,
                r#"{"code":5,"message":"Unsupported protocol version"}"#
            ),
            "{bad}"
        );
    }
    let res = get(addr, "/socket.io/?EIO=3&transport=polling").await;
    assert_eq!(res.status, 200);
    assert!(res.text().contains(r#":0{"sid":""#), "{}", res.text());
    let res = request(
        addr,
        "OPTIONS",
        "/socket.io/?EIO=4&transport=polling",
        &[
            ("Origin", "http://example.com"),
            ("Access-Control-Request-Method", "GET"),
        ],
        b"",
    )
    .await;
    assert_eq!(res.status, 204);
    assert_eq!(res.header("access-control-allow-origin"), Some("*"));
    assert_eq!(get(addr, "/elsewhere").await.status, 404);

    socketio_suite_over_websocket(addr).await;
    socketio_over_polling(addr).await;

    // SIGTERM: a held poll is answered with `1`, then the process exits 0.
    let p = Polling::open(addr).await;
    p.post(&["40"]).await;
    assert_eq!(p.read(2).await.len(), 2);
    let held = tokio::spawn(async move { p.get().await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let pid = ex.child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let (status, packets) = held.await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(packets.last().map(String::as_str), Some("1"), "{packets:?}");
    let status = tokio::time::timeout(Duration::from_secs(10), ex.child.wait())
        .await
        .expect("exits in time")
        .unwrap();
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn conformance_example_rejects_bad_arguments() {
    let out = tokio::process::Command::new(example_path())
        .args(["--port", "x"])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad port"));
}
