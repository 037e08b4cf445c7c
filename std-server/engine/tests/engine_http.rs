//! Black-box HTTP tests of the engine over real TCP: the handshake, polling,
//! every error row of docs/protocol.md §1.10, CORS, v3 payloads, shutdown.

use oxio_testkit::engine as engine_support;

use std::time::Duration;

use engine_support::*;
use oxio_engine::config::{Cookie, Cors, CorsOrigins, EngineConfig};

const JSON: &str = "application/json";
const TEXT: &str = "text/plain; charset=UTF-8";

#[tokio::test]
async fn handshake_body_and_headers() {
    let srv = start(echo_config()).await;
    let res = get(srv.addr, "/engine.io/?EIO=4&transport=polling").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-type"), Some(TEXT));
    assert_eq!(res.header("cache-control"), Some("no-store"));
    assert_eq!(res.header("access-control-allow-origin"), Some("*"));
    assert_eq!(res.header("set-cookie"), None);
    let text = res.text();
    assert_eq!(
        res.header("content-length"),
        Some(text.len().to_string().as_str())
    );
    let sid = &text[9..29];
    assert_eq!(
        text,
        format!(
            r#"0{{"sid":"{sid}","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}}"#
        )
    );
    assert!(sid
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
    srv.log.wait_for("open").await;
    srv.stop().await;
}

/// method, path, extra headers, status, body
type Row = (
    &'static str,
    String,
    Vec<(&'static str, &'static str)>,
    u16,
    &'static str,
);

#[tokio::test]
async fn error_table() {
    let srv = start(echo_config()).await;
    let sid = handshake(srv.addr, "4").await;
    let a = srv.addr;
    // (method, path, extra headers, status, body)
    let rows: Vec<Row> = vec![
        (
            "GET",
            "/engine.io/?EIO=4".into(),
            vec![],
            400,
            r#"{"code":0,"message":"Transport unknown"}"#,
        ),
        (
            "GET",
            "/engine.io/?EIO=4&transport=tobi".into(),
            vec![],
            400,
            r#"{"code":0,"message":"Transport unknown"}"#,
        ),
        (
            "GET",
            "/engine.io/?EIO=4&transport=webtransport".into(),
            vec![],
            400,
            r#"{"code":0,"message":"Transport unknown"}"#,
        ),
        (
            "GET",
            "/engine.io/?EIO=4&transport=polling&sid=test".into(),
            vec![],
            400,
            r#"{"code":1,"message":"Session ID unknown"}"#,
        ),
        (
            "POST",
            "/engine.io/?EIO=4&transport=polling&sid=test".into(),
            vec![],
            400,
            r#"{"code":1,"message":"Session ID unknown"}"#,
        ),
        (
            "POST",
            "/engine.io/?EIO=4&transport=polling".into(),
            vec![],
            400,
            r#"{"code":2,"message":"Bad handshake method"}"#,
        ),
        (
            "PUT",
            "/engine.io/?EIO=4&transport=polling".into(),
            vec![],
            400,
            r#"{"code":2,"message":"Bad handshake method"}"#,
        ),
        (
            "GET",
            "/engine.io/?EIO=4&transport=websocket".into(),
            vec![],
            400,
            r#"{"code":3,"message":"Bad request"}"#,
        ),
        (
            "GET",
            format!("/engine.io/?EIO=4&transport=websocket&sid={sid}"),
            vec![],
            400,
            r#"{"code":3,"message":"Bad request"}"#,
        ),
        (
            "GET",
            "/engine.io/?EIO=5&transport=polling".into(),
            vec![],
            400,
            r#"{"code":5,"message":"Unsupported protocol version"}"#,
        ),
        (
            "GET",
            "/engine.io/?transport=polling".into(),
            vec![],
            400,
            r#"{"code":5,"message":"Unsupported protocol version"}"#,
        ),
        (
            "GET",
            "/engine.io/?EIO=abc&transport=polling".into(),
            vec![],
            400,
            r#"{"code":5,"message":"Unsupported protocol version"}"#,
        ),
    ];
    for (method, path, headers, status, body) in rows {
        let res = request(a, method, &path, &headers, b"").await;
        assert_eq!(res.status, status, "{method} {path}");
        assert_eq!(res.text(), body, "{method} {path}");
        assert_eq!(res.header("content-type"), Some(JSON), "{method} {path}");
        assert_eq!(
            res.header("access-control-allow-origin"),
            Some("*"),
            "CORS on errors"
        );
    }
    // Another method with a valid sid: 500, empty.
    let res = request(a, "PUT", &poll_path(&sid, "4"), &[], b"").await;
    assert_eq!((res.status, res.body.len()), (500, 0));
    // Outside the engine path: 404 from the inner service.
    let res = get(a, "/engine.io?EIO=4&transport=polling").await;
    assert_eq!(res.status, 404);
    srv.stop().await;
}

#[tokio::test]
async fn eio3_refused_unless_allowed() {
    let srv = start(EngineConfig {
        allow_eio3: false,
        ..echo_config()
    })
    .await;
    let res = get(srv.addr, "/engine.io/?EIO=3&transport=polling").await;
    assert_eq!(res.status, 400);
    assert_eq!(
        res.text(),
        r#"{"code":5,"message":"Unsupported protocol version"}"#
    );
    srv.stop().await;
}

#[tokio::test]
async fn allow_request_forbids_with_403() {
    let mut config = echo_config();
    config.allow_request = Some(std::sync::Arc::new(
        |parts: &http::request::Parts| match parts.headers.get("x-token").map(|v| v.as_bytes()) {
            Some(b"good") => Ok(()),
            Some(_) => Err("bad \"token\"".into()),
            None => Err(String::new()),
        },
    ));
    let srv = start(config).await;
    let path = "/engine.io/?EIO=4&transport=polling";
    let res = get(srv.addr, path).await;
    assert_eq!(res.status, 403);
    assert_eq!(res.header("content-type"), Some(JSON));
    assert_eq!(res.text(), r#"{"code":4,"message":"Forbidden"}"#);
    let res = request(srv.addr, "GET", path, &[("X-Token", "nope")], b"").await;
    assert_eq!(res.text(), r#"{"code":4,"message":"bad \"token\""}"#);
    let res = request(srv.addr, "GET", path, &[("X-Token", "good")], b"").await;
    assert_eq!(res.status, 200);
    srv.stop().await;
}

#[tokio::test]
async fn echo_over_polling_batches_three_messages() {
    let srv = start(echo_config()).await;
    let sid = handshake(srv.addr, "4").await;
    let path = poll_path(&sid, "4");
    let res = post(srv.addr, &path, b"4test1\x1e4test2\x1e4test3").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.text(), "ok");
    assert_eq!(res.header("content-type"), Some("text/html"));
    assert_eq!(res.header("access-control-allow-origin"), Some("*"));
    let res = get(srv.addr, &path).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-type"), Some(TEXT));
    assert_eq!(res.text(), "4test1\x1e4test2\x1e4test3");
    // Binary (base64 in v4 polling) comes back as binary.
    post(srv.addr, &path, b"bAQIDBA==\x1e4\xe2\x82\xac").await;
    assert_eq!(
        get(srv.addr, &path).await.body,
        b"bAQIDBA==\x1e4\xe2\x82\xac"
    );
    assert!(srv.log.all().contains(&"bin:01020304".to_string()));
    srv.stop().await;
}

#[tokio::test]
async fn held_get_is_answered_by_a_later_post() {
    let srv = start(echo_config()).await;
    let sid = handshake(srv.addr, "4").await;
    let path = poll_path(&sid, "4");
    let (a, p) = (srv.addr, path.clone());
    let held = tokio::spawn(async move { get(a, &p).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    post(srv.addr, &path, b"4hello").await;
    let res = held.await.unwrap();
    assert_eq!(res.text(), "4hello");
    srv.stop().await;
}

#[tokio::test]
async fn overlapping_get_closes_the_session() {
    let srv = start(echo_config()).await;
    let sid = handshake(srv.addr, "4").await;
    let path = poll_path(&sid, "4");
    let (a, p) = (srv.addr, path.clone());
    let held = tokio::spawn(async move { get(a, &p).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let second = get(srv.addr, &path).await;
    assert_eq!((second.status, second.body.len()), (400, 0));
    let first = held.await.unwrap();
    assert_eq!((first.status, first.text().as_str()), (200, "1"));
    srv.log.wait_for("close:transport error").await;
    let res = get(srv.addr, &path).await;
    assert_eq!(res.text(), r#"{"code":1,"message":"Session ID unknown"}"#);
    srv.stop().await;
}

#[tokio::test]
async fn overlapping_post_closes_the_session() {
    let srv = start(echo_config()).await;
    let sid = handshake(srv.addr, "4").await;
    let path = poll_path(&sid, "4");
    // A POST whose body never finishes arriving.
    let mut slow = tokio::net::TcpStream::connect(srv.addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n4abc"
    );
    tokio::io::AsyncWriteExt::write_all(&mut slow, head.as_bytes())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let res = post(srv.addr, &path, b"4second").await;
    assert_eq!((res.status, res.body.len()), (400, 0));
    srv.log.wait_for("close:transport error").await;
    drop(slow);
    srv.stop().await;
}

#[tokio::test]
async fn binary_post_in_v4_is_refused_and_closes() {
    let srv = start(echo_config()).await;
    let sid = handshake(srv.addr, "4").await;
    let path = poll_path(&sid, "4");
    let res = request(
        srv.addr,
        "POST",
        &path,
        &[("Content-Type", "application/octet-stream")],
        &[1, 2, 3],
    )
    .await;
    assert_eq!((res.status, res.body.len()), (400, 0));
    srv.log.wait_for("close:transport error").await;
    assert_eq!(get(srv.addr, &path).await.status, 400);
    srv.stop().await;
}

#[tokio::test]
async fn body_over_max_payload_is_413_and_keeps_the_session() {
    let srv = start(EngineConfig {
        max_payload: 100,
        ..echo_config()
    })
    .await;
    let sid = handshake(srv.addr, "4").await;
    let path = poll_path(&sid, "4");
    let big = vec![b'4'; 101];
    let res = post(srv.addr, &path, &big).await;
    assert_eq!((res.status, res.body.len()), (413, 0));
    // Exactly the limit is fine, and the session is still there.
    let ok = vec![b'4'; 100];
    assert_eq!(post(srv.addr, &path, &ok).await.text(), "ok");
    assert_eq!(get(srv.addr, &path).await.body, ok);
    assert!(srv.log.closes().is_empty());
    srv.stop().await;
}

#[tokio::test]
async fn parse_error_delivers_earlier_packets_then_closes() {
    let srv = start(echo_config()).await;
    let sid = handshake(srv.addr, "4").await;
    let path = poll_path(&sid, "4");
    let res = post(srv.addr, &path, b"4a\x1e9oops\x1e4b").await;
    assert_eq!(res.text(), "ok");
    srv.log.wait_for("close:parse error").await;
    let log = srv.log.all();
    assert!(log.contains(&"text:a".to_string()));
    assert!(!log.contains(&"text:b".to_string()));
    srv.stop().await;
}

#[tokio::test]
async fn client_close_packet_closes() {
    let srv = start(echo_config()).await;
    let sid = handshake(srv.addr, "4").await;
    let path = poll_path(&sid, "4");
    let (a, p) = (srv.addr, path.clone());
    let held = tokio::spawn(async move { get(a, &p).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    post(srv.addr, &path, b"1").await;
    assert_eq!(held.await.unwrap().text(), "6");
    srv.log.wait_for("close:transport close").await;
    srv.stop().await;
}

#[tokio::test]
async fn cancelled_poll_closes_the_session() {
    let srv = start(echo_config()).await;
    let sid = handshake(srv.addr, "4").await;
    let path = poll_path(&sid, "4");
    let mut s = tokio::net::TcpStream::connect(srv.addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
    tokio::io::AsyncWriteExt::write_all(&mut s, req.as_bytes())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    drop(s);
    srv.log.wait_for("close:transport error").await;
    srv.stop().await;
}

#[tokio::test]
async fn cancelled_post_closes_the_session() {
    let srv = start(echo_config()).await;
    let sid = handshake(srv.addr, "4").await;
    let path = poll_path(&sid, "4");
    let mut s = tokio::net::TcpStream::connect(srv.addr).await.unwrap();
    let head = format!("POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n4ab");
    tokio::io::AsyncWriteExt::write_all(&mut s, head.as_bytes())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    drop(s);
    srv.log.wait_for("close:transport error").await;
    assert_eq!(get(srv.addr, &path).await.status, 400);
    srv.stop().await;
}

#[tokio::test]
async fn cors_preflight_and_credentials() {
    let srv = start(echo_config()).await;
    let res = request(
        srv.addr,
        "OPTIONS",
        "/engine.io/?EIO=4&transport=polling",
        &[
            ("Origin", "http://a.example"),
            ("Access-Control-Request-Headers", "content-type"),
        ],
        b"",
    )
    .await;
    assert_eq!(res.status, 204);
    assert_eq!(res.header("access-control-allow-origin"), Some("*"));
    assert_eq!(
        res.header("access-control-allow-methods"),
        Some("GET,HEAD,PUT,PATCH,POST,DELETE")
    );
    assert_eq!(
        res.header("access-control-allow-headers"),
        Some("content-type")
    );
    assert_eq!(res.header("vary"), Some("Access-Control-Request-Headers"));
    // Node also sends `Content-Length: 0`; hyper never writes one on a 204.
    assert_eq!(res.body.len(), 0);
    srv.stop().await;

    let srv = start(EngineConfig {
        cors: Some(Cors {
            origins: CorsOrigins::List(vec!["http://a.example".into()]),
            credentials: true,
        }),
        ..echo_config()
    })
    .await;
    let path = "/engine.io/?EIO=4&transport=polling";
    let res = request(
        srv.addr,
        "GET",
        path,
        &[("Origin", "http://a.example")],
        b"",
    )
    .await;
    assert_eq!(
        res.header("access-control-allow-origin"),
        Some("http://a.example")
    );
    assert_eq!(res.header("access-control-allow-credentials"), Some("true"));
    assert_eq!(res.header("vary"), Some("Origin"));
    let res = request(
        srv.addr,
        "GET",
        path,
        &[("Origin", "http://evil.example")],
        b"",
    )
    .await;
    assert_eq!(res.header("access-control-allow-origin"), None);
    srv.stop().await;

    // CORS off (the default): no headers, and OPTIONS is a bad handshake.
    let srv = start(EngineConfig {
        cors: None,
        ..echo_config()
    })
    .await;
    let res = request(
        srv.addr,
        "OPTIONS",
        path,
        &[("Origin", "http://a.example")],
        b"",
    )
    .await;
    assert_eq!(res.status, 400);
    assert_eq!(res.text(), r#"{"code":2,"message":"Bad handshake method"}"#);
    assert_eq!(res.header("access-control-allow-origin"), None);
    srv.stop().await;
}

#[tokio::test]
async fn cookie_option() {
    let srv = start(EngineConfig {
        cookie: Some(Cookie::default()),
        ..echo_config()
    })
    .await;
    let res = get(srv.addr, "/engine.io/?EIO=4&transport=polling").await;
    let sid = &res.text()[9..29];
    assert_eq!(
        res.header("set-cookie"),
        Some(format!("io={sid}; Path=/; HttpOnly; SameSite=Lax").as_str())
    );
    srv.stop().await;
}

#[tokio::test]
async fn upgrades_off_and_websocket_off_in_handshake() {
    let srv = start(EngineConfig {
        allow_upgrades: false,
        ..echo_config()
    })
    .await;
    let res = get(srv.addr, "/engine.io/?EIO=4&transport=polling").await;
    assert!(res.text().contains(r#""upgrades":[]"#), "{}", res.text());
    srv.stop().await;
    let srv = start(EngineConfig {
        websocket: false,
        ..echo_config()
    })
    .await;
    let res = get(srv.addr, "/engine.io/?EIO=4&transport=websocket").await;
    assert_eq!(res.text(), r#"{"code":0,"message":"Transport unknown"}"#);
    srv.stop().await;
}

#[tokio::test]
async fn v3_text_payloads() {
    let srv = start(echo_config()).await;
    let res = get(srv.addr, "/engine.io/?EIO=3&transport=polling").await;
    let text = res.text();
    let (len, packet) = text.split_once(':').unwrap();
    assert_eq!(len.parse::<usize>().unwrap(), packet.len());
    assert!(packet.starts_with(r#"0{"sid":""#));
    let sid = &packet[9..29];
    let path = poll_path(sid, "3");
    // UTF-16 lengths: € counts 1, 😀 counts 2.
    let res = post(srv.addr, &path, "19:42[\"message\",\"€😀\"]".as_bytes()).await;
    assert_eq!(res.text(), "ok");
    let res = get(srv.addr, &path).await;
    assert_eq!(res.header("content-type"), Some(TEXT));
    assert_eq!(res.text(), "19:42[\"message\",\"€😀\"]");
    srv.stop().await;
}

#[tokio::test]
async fn v3_binary_payloads_exact_bytes() {
    let srv = start(echo_config()).await;
    let sid = handshake(srv.addr, "3").await;
    let path = poll_path(&sid, "3");
    // A binary (XHR2) POST: `4hello` then binary 01 02 03 04.
    let body = [
        0x00, 0x06, 0xFF, 0x34, 0x68, 0x65, 0x6C, 0x6C, 0x6F, 0x01, 0x05, 0xFF, 0x04, 0x01, 0x02,
        0x03, 0x04,
    ];
    let res = request(
        srv.addr,
        "POST",
        &path,
        &[("Content-Type", "application/octet-stream")],
        &body,
    )
    .await;
    assert_eq!(res.text(), "ok");
    let res = get(srv.addr, &path).await;
    assert_eq!(res.header("content-type"), Some("application/octet-stream"));
    assert_eq!(res.body, body);
    // Base64 text form in a text POST, echoed in XHR2 form.
    post(srv.addr, &path, b"10:b4AQIDBA==").await;
    let res = get(srv.addr, &path).await;
    assert_eq!(res.body, [0x01, 0x05, 0xFF, 0x04, 0x01, 0x02, 0x03, 0x04]);
    srv.stop().await;
}

#[tokio::test]
async fn v3_b64_session_gets_base64_text() {
    let srv = start(echo_config()).await;
    let res = get(srv.addr, "/engine.io/?EIO=3&transport=polling&b64=1").await;
    let sid = res.text()[res.text().find("\"sid\":\"").unwrap() + 7..][..20].to_string();
    let path = format!("{}&b64=1", poll_path(&sid, "3"));
    post(srv.addr, &path, b"6:4hello10:b4AQIDBA==").await;
    let res = get(srv.addr, &path).await;
    assert_eq!(res.header("content-type"), Some(TEXT));
    assert_eq!(res.text(), "6:4hello10:b4AQIDBA==");
    srv.stop().await;
}

#[tokio::test]
async fn v3_client_ping_gets_pong() {
    let srv = start(echo_config()).await;
    let sid = handshake(srv.addr, "3").await;
    let path = poll_path(&sid, "3");
    post(srv.addr, &path, b"1:2").await;
    assert_eq!(get(srv.addr, &path).await.text(), "1:3");
    srv.stop().await;
}

#[tokio::test]
async fn server_close_answers_held_poll_then_forgets() {
    let srv = start(echo_config()).await;
    let sid = handshake(srv.addr, "4").await;
    let path = poll_path(&sid, "4");
    let (a, p) = (srv.addr, path.clone());
    let held = tokio::spawn(async move { get(a, &p).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let session = srv.engine.session(&sid).unwrap();
    session
        .send(oxio_engine::Message::Text("bye".into()))
        .unwrap_or(());
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(held.await.unwrap().text(), "4bye");
    session.close(oxio_engine::CloseReason::ForcedClose);
    assert!(!session.is_open());
    // No held GET: the next one gets `6`, `1`.
    assert_eq!(get(srv.addr, &path).await.text(), "6\x1e1");
    assert_eq!(get(srv.addr, &path).await.status, 400);
    assert_eq!(srv.log.closes(), ["close:forced close"]);
    srv.stop().await;
}

#[tokio::test]
async fn graceful_shutdown_releases_held_polls() {
    let srv = start(echo_config()).await;
    let sid = handshake(srv.addr, "4").await;
    let path = poll_path(&sid, "4");
    let (a, p) = (srv.addr, path.clone());
    let held = tokio::spawn(async move { get(a, &p).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let log = srv.log.clone();
    srv.stop().await;
    let res = held.await.unwrap();
    assert_eq!((res.status, res.text().as_str()), (200, "1"));
    assert_eq!(log.closes(), ["close:server shutting down"]);
}

#[tokio::test]
async fn mounts_on_axum_next_to_rest_routes() {
    let log = Log::default();
    let engine = oxio_engine::Engine::new(echo_config(), Echo(log.clone()));
    let app = axum::Router::new()
        .route("/health", axum::routing::get(|| async { "healthy" }))
        .layer(engine.layer());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let res = get(addr, "/health").await;
    assert_eq!((res.status, res.text().as_str()), (200, "healthy"));
    let sid = handshake(addr, "4").await;
    post(addr, &poll_path(&sid, "4"), b"4hi").await;
    assert_eq!(get(addr, &poll_path(&sid, "4")).await.text(), "4hi");
    // WebSocket upgrades work through axum too.
    let url = format!("ws://{addr}/engine.io/?EIO=4&transport=websocket");
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    use futures_util::StreamExt;
    let open = ws.next().await.unwrap().unwrap();
    assert!(open.to_text().unwrap().starts_with("0{"));
    engine.shutdown();
    server.abort();
}

#[tokio::test]
async fn slow_reader_queue_is_bounded() {
    let srv = start(EngineConfig {
        max_queued_messages: 3,
        ..echo_config()
    })
    .await;
    let sid = handshake(srv.addr, "4").await;
    let session = srv.engine.session(&sid).unwrap();
    use oxio_engine::{Message, SendError};
    for i in 0..3 {
        session.send(Message::Text(i.to_string().into())).unwrap();
    }
    // The fourth does not wait: it is handed back at once.
    let full = session.send(Message::Text("x".into()));
    assert_eq!(full, Err(SendError::Full));
    assert_eq!(
        get(srv.addr, &poll_path(&sid, "4")).await.text(),
        "40\x1e41\x1e42"
    );
    assert_eq!(session.send(Message::Text("y".into())), Ok(()));
    srv.stop().await;
}

#[tokio::test]
async fn handshake_info_and_503_after_shutdown() {
    let srv = start(echo_config()).await;
    let res = request(
        srv.addr,
        "GET",
        "/engine.io/?EIO=4&transport=polling&t=abc&token=x",
        &[("X-Custom", "1")],
        b"",
    )
    .await;
    let sid = &res.text()[9..29];
    let session = srv.engine.session(sid).unwrap();
    let info = session.info();
    assert_eq!(info.query, "EIO=4&transport=polling&t=abc&token=x");
    assert_eq!(info.url, "/engine.io/");
    assert_eq!(info.headers["x-custom"], "1");
    assert_eq!(
        info.remote_addr.map(|a| a.ip()),
        Some([127, 0, 0, 1].into())
    );
    assert!(!info.secure);
    assert_eq!(session.protocol(), oxio_codec::engineio::Version::V4);
    assert_eq!(session.sid(), sid);
    srv.engine.shutdown();
    assert!(!session.is_open());
    let res = get(srv.addr, "/engine.io/?EIO=4&transport=polling").await;
    assert_eq!((res.status, res.body.len()), (503, 0));
    srv.stop().await;
}
