//! The `engine_echo` conformance example as a user runs it: `--port`, the
//! `/engine.io/` path and options, and a graceful stop on SIGTERM that
//! answers a held poll with `1` before exiting.
#![cfg(unix)]

use oxio_testkit::engine as engine_support;

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use engine_support::*;
use tokio::io::{AsyncBufReadExt, BufReader};

/// `target/<profile>/examples/engine_echo`, built by `cargo test`.
fn example_path() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    dir.join("examples").join("engine_echo")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn engine_echo_serves_and_stops_on_sigterm() {
    let port = free_port();
    let mut child = tokio::process::Command::new(example_path())
        .args(["--port", &port.to_string()])
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the engine_echo example is built by cargo test");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let listening = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.contains("listening") {
                return;
            }
        }
        panic!("the example exited before listening");
    });
    listening.await.expect("listening in time");
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();

    let res = get(addr, "/engine.io/?EIO=4&transport=polling").await;
    assert!(res
        .text()
        .contains(r#""pingInterval":300,"pingTimeout":200,"maxPayload":1000000"#));
    assert_eq!(res.header("access-control-allow-origin"), Some("*"));
    let res = get(addr, "/engine.io/?EIO=2&transport=polling").await;
    assert_eq!(
        res.text(),
        r#"{"code":5,"message":"Unsupported protocol version"}"#
    );
    let sid = handshake(addr, "3").await;
    post(addr, &poll_path(&sid, "3"), b"6:4hello").await;
    assert_eq!(get(addr, &poll_path(&sid, "3")).await.text(), "6:4hello");

    let sid = handshake(addr, "4").await;
    let path = poll_path(&sid, "4");
    let held = tokio::spawn(async move { get(addr, &path).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    assert_eq!(held.await.unwrap().text(), "1");
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("exits in time")
        .unwrap();
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn engine_echo_rejects_bad_arguments() {
    let out = tokio::process::Command::new(example_path())
        .arg("--bogus")
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage: --port N"));
}
