//! Heartbeat timing over polling, with the conformance intervals
//! (pingInterval 300, pingTimeout 200).

use oxio_testkit::engine as engine_support;

use std::time::{Duration, Instant};

use engine_support::*;

#[tokio::test]
async fn v4_ping_arrives_after_ping_interval() {
    let srv = start(echo_config()).await;
    let started = Instant::now();
    let sid = handshake(srv.addr, "4").await;
    let path = poll_path(&sid, "4");
    let res = get(srv.addr, &path).await;
    let waited = started.elapsed();
    assert_eq!(res.text(), "2");
    assert!(waited >= Duration::from_millis(280), "{waited:?}");
    assert!(waited < Duration::from_millis(1000), "{waited:?}");
    // Pong: the next ping comes pingInterval later, and the session lives on.
    post(srv.addr, &path, b"3").await;
    let pong_at = Instant::now();
    assert_eq!(get(srv.addr, &path).await.text(), "2");
    assert!(pong_at.elapsed() >= Duration::from_millis(250));
    post(srv.addr, &path, b"3").await;
    assert!(srv.log.closes().is_empty());
    srv.stop().await;
}

#[tokio::test]
async fn v4_missing_pong_closes_with_ping_timeout() {
    let srv = start(echo_config()).await;
    let sid = handshake(srv.addr, "4").await;
    let path = poll_path(&sid, "4");
    assert_eq!(get(srv.addr, &path).await.text(), "2");
    // No pong: a held poll is released with `1` when the timeout fires.
    let res = get(srv.addr, &path).await;
    assert_eq!(res.text(), "1");
    srv.log.wait_for("close:ping timeout").await;
    assert_eq!(get(srv.addr, &path).await.status, 400);
    srv.stop().await;
}

#[tokio::test]
async fn timers_start_at_the_handshake() {
    // The suite: handshake, sleep(pingInterval + pingTimeout), GET → 400.
    let srv = start(echo_config()).await;
    let sid = handshake(srv.addr, "4").await;
    tokio::time::sleep(Duration::from_millis(300 + 200 + 50)).await;
    let res = get(srv.addr, &poll_path(&sid, "4")).await;
    assert_eq!(res.status, 400);
    assert_eq!(res.text(), r#"{"code":1,"message":"Session ID unknown"}"#);
    assert_eq!(srv.log.closes(), ["close:ping timeout"]);
    srv.stop().await;
}

#[tokio::test]
async fn wrong_heartbeat_direction_on_polling_closes() {
    let srv = start(echo_config()).await;
    let sid = handshake(srv.addr, "4").await;
    post(srv.addr, &poll_path(&sid, "4"), b"2").await;
    srv.log.wait_for("close:transport error").await;
    let sid = handshake(srv.addr, "3").await;
    post(srv.addr, &poll_path(&sid, "3"), b"1:3").await;
    assert_eq!(srv.log.closes().len(), 2);
    srv.stop().await;
}

#[tokio::test]
async fn v3_closes_without_client_ping() {
    let srv = start(echo_config()).await;
    let sid = handshake(srv.addr, "3").await;
    let path = poll_path(&sid, "3");
    // Pinging keeps it alive past pingInterval + pingTimeout.
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        post(srv.addr, &path, b"1:2").await;
        assert_eq!(get(srv.addr, &path).await.text(), "1:3");
    }
    assert!(srv.log.closes().is_empty());
    tokio::time::sleep(Duration::from_millis(550)).await;
    assert_eq!(get(srv.addr, &path).await.status, 400);
    assert_eq!(srv.log.closes(), ["close:ping timeout"]);
    srv.stop().await;
}
