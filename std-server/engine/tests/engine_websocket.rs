//! WebSocket tests with a real client (tokio-tungstenite) and raw TCP:
//! direct sessions, the polling → WebSocket upgrade with exact frames, the
//! upgrade timeout, 1009 on oversized messages, refused handshakes.

use oxio_testkit::engine as engine_support;

use std::time::Duration;

use engine_support::*;
use futures_util::{SinkExt, StreamExt};
use oxio_engine::config::EngineConfig;
use tokio::io::AsyncWriteExt;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message as Ws;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Client = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(addr: std::net::SocketAddr, query: &str) -> Client {
    let url = format!("ws://{addr}/engine.io/?{query}");
    tokio_tungstenite::connect_async(url).await.unwrap().0
}

/// The next data frame (text or binary), within 2 s.
async fn next(ws: &mut Client) -> Ws {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(2), ws.next())
            .await
            .expect("a frame in time")
            .expect("socket open")
            .expect("no error");
        match m {
            Ws::Ping(_) | Ws::Pong(_) => continue,
            m => return m,
        }
    }
}

/// Reads until the socket ends; returns the close frame's code if any.
async fn closed(ws: &mut Client) -> Option<CloseCode> {
    loop {
        match tokio::time::timeout(Duration::from_secs(3), ws.next())
            .await
            .expect("closes in time")
        {
            Some(Ok(Ws::Close(frame))) => return frame.map(|f| f.code),
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return None,
        }
    }
}

#[tokio::test]
async fn direct_websocket_echo_text_and_binary() {
    let srv = start(echo_config()).await;
    let mut ws = connect(srv.addr, "EIO=4&transport=websocket").await;
    let open = next(&mut ws).await.into_text().unwrap();
    assert!(open.starts_with(r#"0{"sid":""#), "{open}");
    assert!(
        open.ends_with(
            r#"","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}"#
        ),
        "{open}"
    );
    ws.send(Ws::text("4hello")).await.unwrap();
    assert_eq!(next(&mut ws).await, Ws::text("4hello"));
    ws.send(Ws::binary(vec![1, 2, 3, 4])).await.unwrap();
    assert_eq!(next(&mut ws).await, Ws::binary(vec![1, 2, 3, 4]));
    // `b<base64>` text frames are binary messages.
    ws.send(Ws::text("bAQIDBA==")).await.unwrap();
    assert_eq!(next(&mut ws).await, Ws::binary(vec![1, 2, 3, 4]));
    // Heartbeat over the socket.
    assert_eq!(next(&mut ws).await, Ws::text("2"));
    ws.send(Ws::text("3")).await.unwrap();
    assert_eq!(next(&mut ws).await, Ws::text("2"));
    ws.close(None).await.unwrap();
    srv.log.wait_for("close:transport close").await;
    srv.stop().await;
}

#[tokio::test]
async fn websocket_heartbeat_timeout_and_wrong_direction() {
    let srv = start(echo_config()).await;
    let mut ws = connect(srv.addr, "EIO=4&transport=websocket").await;
    next(&mut ws).await;
    assert_eq!(next(&mut ws).await, Ws::text("2"));
    // No pong: closed after pingTimeout.
    assert_eq!(closed(&mut ws).await, None);
    srv.log.wait_for("close:ping timeout").await;

    let mut ws = connect(srv.addr, "EIO=4&transport=websocket").await;
    next(&mut ws).await;
    ws.send(Ws::text("2")).await.unwrap();
    closed(&mut ws).await;
    srv.log.wait_for("close:transport error").await;
    srv.stop().await;
}

#[tokio::test]
async fn websocket_parse_error_closes() {
    let srv = start(echo_config()).await;
    let mut ws = connect(srv.addr, "EIO=4&transport=websocket").await;
    next(&mut ws).await;
    ws.send(Ws::text("9")).await.unwrap();
    closed(&mut ws).await;
    srv.log.wait_for("close:parse error").await;
    srv.stop().await;
}

#[tokio::test]
async fn oversized_message_closes_with_1009() {
    let srv = start(EngineConfig {
        max_payload: 1000,
        ..echo_config()
    })
    .await;
    let mut ws = connect(srv.addr, "EIO=4&transport=websocket").await;
    next(&mut ws).await;
    ws.send(Ws::text(format!("4{}", "x".repeat(999))))
        .await
        .unwrap();
    assert_eq!(next(&mut ws).await.len(), 1000);
    ws.send(Ws::text(format!("4{}", "x".repeat(1000))))
        .await
        .unwrap();
    assert_eq!(closed(&mut ws).await, Some(CloseCode::Size));
    srv.log.wait_for("close:transport error").await;
    srv.stop().await;
}

#[tokio::test]
async fn upgrade_with_exact_frames() {
    let srv = start(echo_config()).await;
    let sid = handshake(srv.addr, "4").await;
    let path = poll_path(&sid, "4");
    // A pending GET, released with `6` after the probe.
    let (a, p) = (srv.addr, path.clone());
    let held = tokio::spawn(async move { get(a, &p).await });
    tokio::time::sleep(Duration::from_millis(30)).await;
    let mut ws = connect(srv.addr, &format!("EIO=4&transport=websocket&sid={sid}")).await;
    ws.send(Ws::text("2probe")).await.unwrap();
    assert_eq!(next(&mut ws).await, Ws::text("3probe"));
    assert_eq!(held.await.unwrap().text(), "6");
    // A message queued before the upgrade completes is sent on the socket.
    post(srv.addr, &path, b"4queued").await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    ws.send(Ws::text("5")).await.unwrap();
    assert_eq!(next(&mut ws).await, Ws::text("4queued"));
    ws.send(Ws::text("4over ws")).await.unwrap();
    assert_eq!(next(&mut ws).await, Ws::text("4over ws"));
    // Polling is over for this sid.
    let res = get(srv.addr, &path).await;
    assert_eq!(res.text(), r#"{"code":3,"message":"Bad request"}"#);
    // A second WebSocket for the same sid: 101, then closed at once.
    let mut second = connect(srv.addr, &format!("EIO=4&transport=websocket&sid={sid}")).await;
    closed(&mut second).await;
    ws.send(Ws::text("4still")).await.unwrap();
    assert_eq!(next(&mut ws).await, Ws::text("4still"));
    assert!(srv.log.closes().is_empty());
    srv.stop().await;
}

#[tokio::test]
async fn upgrade_timeout_closes_the_probe_only() {
    let srv = start(EngineConfig {
        upgrade_timeout: Duration::from_millis(100),
        ping_interval: Duration::from_millis(5000),
        ping_timeout: Duration::from_millis(5000),
        ..echo_config()
    })
    .await;
    let sid = handshake(srv.addr, "4").await;
    let mut ws = connect(srv.addr, &format!("EIO=4&transport=websocket&sid={sid}")).await;
    ws.send(Ws::text("2probe")).await.unwrap();
    assert_eq!(next(&mut ws).await, Ws::text("3probe"));
    closed(&mut ws).await;
    // The session goes on over polling, and can try again.
    let path = poll_path(&sid, "4");
    post(srv.addr, &path, b"4after").await;
    assert_eq!(get(srv.addr, &path).await.text(), "4after");
    let mut ws = connect(srv.addr, &format!("EIO=4&transport=websocket&sid={sid}")).await;
    ws.send(Ws::text("2probe")).await.unwrap();
    assert_eq!(next(&mut ws).await, Ws::text("3probe"));
    ws.send(Ws::text("5")).await.unwrap();
    ws.send(Ws::text("4ws")).await.unwrap();
    assert_eq!(next(&mut ws).await, Ws::text("4ws"));
    assert!(srv.log.closes().is_empty());
    srv.stop().await;
}

#[tokio::test]
async fn other_packet_during_probe_cancels_upgrade() {
    let srv = start(echo_config()).await;
    let sid = handshake(srv.addr, "4").await;
    let mut ws = connect(srv.addr, &format!("EIO=4&transport=websocket&sid={sid}")).await;
    ws.send(Ws::text("4nope")).await.unwrap();
    closed(&mut ws).await;
    let path = poll_path(&sid, "4");
    post(srv.addr, &path, b"3").await;
    assert!(srv.log.closes().is_empty());
    srv.stop().await;
}

#[tokio::test]
async fn v3_websocket_binary_has_type_byte_and_client_pings() {
    let srv = start(echo_config()).await;
    let mut ws = connect(srv.addr, "EIO=3&transport=websocket").await;
    assert!(next(&mut ws).await.into_text().unwrap().starts_with("0{"));
    ws.send(Ws::binary(vec![4, 1, 2, 3, 4])).await.unwrap();
    assert_eq!(next(&mut ws).await, Ws::binary(vec![4, 1, 2, 3, 4]));
    ws.send(Ws::text("b4AQIDBA==")).await.unwrap();
    assert_eq!(next(&mut ws).await, Ws::binary(vec![4, 1, 2, 3, 4]));
    ws.send(Ws::text("2")).await.unwrap();
    assert_eq!(next(&mut ws).await, Ws::text("3"));
    ws.send(Ws::text("3")).await.unwrap();
    closed(&mut ws).await;
    srv.log.wait_for("close:transport error").await;
    srv.stop().await;
}

#[tokio::test]
async fn shutdown_closes_websockets() {
    let srv = start(echo_config()).await;
    let mut ws = connect(srv.addr, "EIO=4&transport=websocket").await;
    next(&mut ws).await;
    let log = srv.log.clone();
    srv.stop().await;
    closed(&mut ws).await;
    assert_eq!(log.closes(), ["close:server shutting down"]);
}

/// path, extra headers, status, body
type Case = (String, Vec<(&'static str, &'static str)>, u16, &'static str);

/// Raw upgrade requests: every refusal happens before any 101.
#[tokio::test]
async fn invalid_websocket_handshakes_are_refused_before_101() {
    let srv = start(echo_config()).await;
    let sid = handshake(srv.addr, "4").await;
    let key = "dGhlIHNhbXBsZSBub25jZQ==";
    let cases: Vec<Case> = vec![
        (
            "/engine.io/?EIO=5&transport=websocket".into(),
            vec![("Sec-WebSocket-Key", key), ("Sec-WebSocket-Version", "13")],
            400,
            "Unsupported protocol version",
        ),
        (
            "/engine.io/?transport=websocket".into(),
            vec![("Sec-WebSocket-Key", key), ("Sec-WebSocket-Version", "13")],
            400,
            "Unsupported protocol version",
        ),
        (
            "/engine.io/?EIO=4&transport=websocket&sid=nope".into(),
            vec![("Sec-WebSocket-Key", key), ("Sec-WebSocket-Version", "13")],
            400,
            "Session ID unknown",
        ),
        (
            "/engine.io/?EIO=4&transport=foo".into(),
            vec![("Sec-WebSocket-Key", key), ("Sec-WebSocket-Version", "13")],
            400,
            "Transport unknown",
        ),
        (
            "/engine.io/?EIO=4&transport=websocket".into(),
            vec![("Sec-WebSocket-Version", "13")],
            400,
            "Missing or invalid Sec-WebSocket-Key header",
        ),
        (
            "/engine.io/?EIO=4&transport=websocket".into(),
            vec![
                ("Sec-WebSocket-Key", "abc"),
                ("Sec-WebSocket-Version", "13"),
            ],
            400,
            "Missing or invalid Sec-WebSocket-Key header",
        ),
        (
            "/engine.io/?EIO=4&transport=websocket".into(),
            vec![("Sec-WebSocket-Key", key), ("Sec-WebSocket-Version", "12")],
            400,
            "Missing or invalid Sec-WebSocket-Version header",
        ),
        (
            format!("/engine.io/?EIO=4&transport=websocket&sid={sid}"),
            vec![("Sec-WebSocket-Version", "13")],
            400,
            "Missing or invalid Sec-WebSocket-Key header",
        ),
    ];
    for (path, extra, status, body) in cases {
        let mut headers = vec![("Upgrade", "websocket"), ("Connection", "Upgrade")];
        headers.extend(extra);
        let res = request(srv.addr, "GET", &path, &headers, b"").await;
        assert_eq!(res.status, status, "{path} {headers:?}");
        assert_eq!(res.text(), body, "{path}");
        assert_eq!(res.header("content-type"), Some("text/html"));
        assert_eq!(res.header("connection"), Some("close"));
    }
    // A good one, raw: 101 with the RFC accept key and the CORS header.
    let mut s = tokio::net::TcpStream::connect(srv.addr).await.unwrap();
    let req = format!(
        "GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let res = read_response(&mut s).await;
    assert_eq!(res.status, 101);
    assert_eq!(
        res.header("sec-websocket-accept"),
        Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    );
    assert_eq!(res.header("access-control-allow-origin"), Some("*"));
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_reader_never_blocks_senders() {
    let srv = start(EngineConfig {
        ping_interval: Duration::from_secs(20),
        ping_timeout: Duration::from_secs(20),
        ..echo_config()
    })
    .await;
    let sid_of = |open: Ws| open.into_text().unwrap()[9..29].to_string();
    // A client that never reads, and one that does.
    let mut slow = connect(srv.addr, "EIO=4&transport=websocket").await;
    let slow_sid = sid_of(next(&mut slow).await);
    let mut fast = connect(srv.addr, "EIO=4&transport=websocket").await;
    let fast_sid = sid_of(next(&mut fast).await);
    let slow_session = srv.engine.session(&slow_sid).unwrap();
    let fast_session = srv.engine.session(&fast_sid).unwrap();
    let chunk = bytes::Bytes::from(vec![7u8; 64 * 1024]);
    let started = std::time::Instant::now();
    let mut full = 0;
    for i in 0..2000 {
        use oxio_engine::{Message, SendError};
        match slow_session.send(Message::Binary(chunk.clone())) {
            Ok(()) => {}
            Err(SendError::Full) => full += 1,
            Err(e) => panic!("{e}"),
        }
        if i % 100 == 0 {
            fast_session
                .send(Message::Text(i.to_string().into()))
                .unwrap();
        }
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(2),
        "sends waited: {elapsed:?}"
    );
    assert!(
        full > 1000,
        "the slow reader's queue is bounded ({full} refused)"
    );
    for i in (0..2000).step_by(100) {
        assert_eq!(next(&mut fast).await, Ws::text(format!("4{i}")));
    }
    drop(slow);
    srv.stop().await;
}
