//! Interop with the real npm Engine.IO clients, driven by
//! `std-server/testkit/js/engine_client.js`: engine.io-client 6.6.x (EIO 4) and 3.5.x
//! (EIO 3, against `allow_eio3`), each over polling only, WebSocket only,
//! and polling upgraded to WebSocket; text, binary, batches, UTF-16-heavy
//! text and the heartbeat.
//!
//! Needs `npm ci --prefix std-server/testkit/js`. Without it the tests print a
//! notice and pass, unless `CI` or `OXIO_REQUIRE_NODE=1` is set: then they fail.

use oxio_testkit::engine as engine_support;

use std::path::PathBuf;
use std::time::Duration;

use engine_support::*;

const INSTALL: &str = "npm ci --prefix std-server/testkit/js";

fn js_dir() -> PathBuf {
    oxio_testkit::dir().join("js")
}

/// Whether node and the npm packages are there; panics when they must be.
fn node_ready() -> bool {
    let modules = js_dir().join("node_modules/engine.io-client-v3");
    let node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok();
    if node && modules.is_dir() {
        return true;
    }
    let required = std::env::var_os("CI").is_some()
        || std::env::var("OXIO_REQUIRE_NODE").is_ok_and(|v| v == "1");
    let why = if node {
        "std-server/testkit/js/node_modules is missing"
    } else {
        "node is not installed"
    };
    if required {
        panic!("Engine.IO interop tests need Node.js and the npm clients ({why}); run: {INSTALL}");
    }
    // Written to the real stderr, past the test harness's output capture.
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "\n!!! SKIPPING Engine.IO interop tests: {why}. Run `{INSTALL}` to enable them. !!!\n"
    );
    false
}

async fn run_client(lib: &str, mode: &str) {
    if !node_ready() {
        return;
    }
    let srv = start(echo_config()).await;
    let out = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::process::Command::new("node")
            .arg(js_dir().join("engine_client.js"))
            .arg(format!("http://{}", srv.addr))
            .arg(lib)
            .arg(mode)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("node client finished in time")
    .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let result = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .unwrap_or_else(|| panic!("no RESULT line; stdout: {stdout} stderr: {stderr}"));
    let transport = if mode == "polling" {
        "polling"
    } else {
        "websocket"
    };
    let mut steps = vec![format!(
        "open:{}",
        if mode == "websocket" {
            "websocket"
        } else {
            "polling"
        }
    )];
    if mode == "upgrade" {
        steps.push("upgrade:websocket".into());
    }
    steps.extend([
        "text:hello".to_string(),
        "binary:[1,2,3,4]".into(),
        "batch:a,b,c".into(),
        "unicode:€😀".into(),
        format!("alive:{transport}"),
    ]);
    let quoted: Vec<String> = steps.iter().map(|s| format!("\"{s}\"")).collect();
    let want = format!("{{\"ok\":true,\"steps\":[{}]}}", quoted.join(","));
    assert_eq!(result, want, "stderr: {stderr}");
    assert!(out.status.success());
    // The server saw the same messages and, at the end, the client leave.
    srv.log.wait_for("close:transport close").await;
    let log = srv.log.all();
    assert_eq!(log.first().map(String::as_str), Some("open"));
    assert!(log.contains(&"bin:01020304".to_string()), "{log:?}");
    assert_eq!(srv.log.closes(), ["close:transport close"]);
    srv.stop().await;
}

#[tokio::test]
async fn eio4_client_polling_only() {
    run_client("v4", "polling").await;
}

#[tokio::test]
async fn eio4_client_websocket_only() {
    run_client("v4", "websocket").await;
}

#[tokio::test]
async fn eio4_client_upgrade() {
    run_client("v4", "upgrade").await;
}

#[tokio::test]
async fn eio3_client_polling_only() {
    run_client("v3", "polling").await;
}

#[tokio::test]
async fn eio3_client_websocket_only() {
    run_client("v3", "websocket").await;
}

#[tokio::test]
async fn eio3_client_upgrade() {
    run_client("v3", "upgrade").await;
}
