//! The `oxio-server` binary's command line, end to end: the Socket.IO
//! `--connect-timeout` reaches the server (a WebSocket client that never
//! sends CONNECT is closed after it, one that joins `/` stays); the
//! browser client under `/socket.io/` and `/metrics`; and
//! `--parser msgpack` switches the packet format.

mod demo_support;

use demo_support::DemoServer;
use futures_util::{SinkExt, StreamExt};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open(server: &DemoServer) -> Ws {
    let url = format!("ws://{}/socket.io/?EIO=4&transport=websocket", server.addr);
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let open = ws.next().await.unwrap().unwrap();
    let open = open.to_text().unwrap().to_owned();
    assert!(open.starts_with(r#"0{"sid":""#), "{open}");
    ws
}

/// Reads frames until the server ends the connection, within `limit`;
/// returns the text frames seen (pings answered).
async fn until_closed(ws: &mut Ws, limit: Duration) -> Vec<String> {
    let mut texts = Vec::new();
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => panic!("still open after {limit:?}; saw {texts:?}"),
            Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return texts,
            Ok(Some(Ok(Message::Text(t)))) => {
                if t.as_str() == "2" {
                    ws.send(Message::text("3")).await.unwrap();
                } else {
                    texts.push(t.as_str().to_owned());
                }
            }
            Ok(Some(Ok(_))) => {}
        }
    }
}

#[tokio::test]
async fn connect_timeout_flag_closes_sessions_that_join_nothing() {
    let server = DemoServer::start(&["--connect-timeout", "300"]);
    let mut idle = open(&server).await;
    let mut joined = open(&server).await;
    let started = Instant::now();
    joined.send(Message::text("40")).await.unwrap();
    let reply = joined.next().await.unwrap().unwrap();
    assert!(
        reply.to_text().unwrap().starts_with(r#"40{"sid":""#),
        "{reply:?}"
    );
    // The idle one is closed with no Socket.IO packet.
    assert_eq!(
        until_closed(&mut idle, Duration::from_secs(5)).await,
        Vec::<String>::new()
    );
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_secs(3),
        "closed after {took:?}\n{}",
        server.log_text()
    );
    // The one that joined stays open past the timeout.
    tokio::time::sleep(Duration::from_millis(400)).await;
    joined
        .send(Message::text(r#"42["get-time"]"#))
        .await
        .unwrap();
    let mut got = Vec::new();
    while let Ok(Some(Ok(m))) = tokio::time::timeout(Duration::from_secs(3), joined.next()).await {
        if let Message::Text(t) = m {
            if t.as_str().starts_with(r#"42["current-time""#) {
                got.push(t.as_str().to_owned());
                break;
            }
        }
    }
    assert_eq!(got.len(), 1, "{}", server.log_text());
}

#[test]
fn connect_timeout_flag_rejects_zero() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_oxio-server"))
        .args(["--connect-timeout", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("invalid value '0' for '--connect-timeout <MS>'"),
        "{err}"
    );
}

/// The binary serves the browser client under `/socket.io/` (the npm copy
/// when installed, else a redirect to the pinned CDN copy) and Prometheus
/// metrics at `/metrics`.
#[tokio::test]
async fn the_binary_serves_the_client_and_metrics() {
    use oxio_testkit::engine::request;
    let installed = demo_support::crate_dir()
        .join("web/node_modules/socket.io-client/package.json")
        .is_file();
    let server = DemoServer::start(&[]);
    let res = request(server.addr, "GET", "/socket.io/socket.io.min.js", &[], b"").await;
    if installed {
        assert_eq!(res.status, 200);
        assert_eq!(res.header("etag"), Some("\"4.8.4\""));
        let res = request(
            server.addr,
            "GET",
            "/socket.io/socket.io.min.js",
            &[("If-None-Match", "\"4.8.4\"")],
            b"",
        )
        .await;
        assert_eq!(res.status, 304);
    } else {
        assert_eq!(res.status, 302);
    }
    // A handshake, then the scrape counts it.
    let res = request(
        server.addr,
        "GET",
        "/socket.io/?EIO=4&transport=polling",
        &[],
        b"",
    )
    .await;
    assert_eq!(res.status, 200);
    let res = request(server.addr, "GET", "/metrics", &[], b"").await;
    assert_eq!(res.status, 200);
    assert_eq!(
        res.header("content-type"),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    let text = res.text();
    assert!(
        text.contains("oxio_engine_handshakes_total{transport=\"polling\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("oxio_engine_connections{transport=\"polling\"} 1\n"),
        "{text}"
    );
    drop(server);

    let empty = demo_support::TempDir::new("oxio-demo-no-client");
    let server = DemoServer::start(&["--client-dir", empty.path.to_str().unwrap()]);
    let res = request(server.addr, "GET", "/socket.io/socket.io.min.js", &[], b"").await;
    assert_eq!(res.status, 302);
    assert_eq!(
        res.header("location"),
        Some("https://cdn.socket.io/4.8.4/socket.io.min.js")
    );
    assert!(
        server.log_text().contains("is not installed"),
        "{}",
        server.log_text()
    );
}

/// Issue 13: `--parser msgpack` makes the demo speak
/// socket.io-msgpack-parser: the CONNECT reply is a binary frame, `echo`
/// comes back as `echo-response` with the arguments as sent (bytes
/// inline), and a text CONNECT closes the connection.
#[tokio::test]
async fn parser_flag_switches_to_msgpack() {
    use oxio_codec::msgpack::{Decoder, Encoder};
    use oxio_codec::socketio::{Binary, PacketType};
    let server = DemoServer::start(&["--parser", "msgpack"]);
    let mut ws = open(&server).await;
    let mut buf = [0u8; 64];
    let n = Encoder::default().connect(&mut buf, "/").unwrap();
    ws.send(Message::binary(buf[..n].to_vec())).await.unwrap();
    let next_binary = |m: Message| match m {
        Message::Binary(b) => b.to_vec(),
        other => panic!("expected a binary frame, got {other:?}"),
    };
    let reply = next_binary(ws.next().await.unwrap().unwrap());
    let p = Decoder::default().decode(&reply).unwrap();
    assert_eq!(p.packet_type(), PacketType::Connect, "{reply:x?}");
    let frame = Encoder::default()
        .event_to_vec("/", None, "echo", &("hi", Binary(&[1, 2, 3])))
        .unwrap();
    ws.send(Message::binary(frame)).await.unwrap();
    let want = Encoder::default()
        .event_to_vec("/", None, "echo-response", &("hi", Binary(&[1, 2, 3])))
        .unwrap();
    let mut got = None;
    while let Ok(Some(Ok(m))) = tokio::time::timeout(Duration::from_secs(3), ws.next()).await {
        match m {
            Message::Text(t) if t.as_str() == "2" => ws.send(Message::text("3")).await.unwrap(),
            Message::Binary(b)
                if Decoder::default()
                    .decode(&b)
                    .ok()
                    .and_then(|p| p.event_name())
                    == Some("echo-response") =>
            {
                got = Some(b.to_vec());
                break;
            }
            _ => {}
        }
    }
    assert_eq!(got, Some(want), "{}", server.log_text());

    let mut text = open(&server).await;
    text.send(Message::text("40")).await.unwrap();
    assert_eq!(
        until_closed(&mut text, Duration::from_secs(5)).await,
        Vec::<String>::new()
    );
}
