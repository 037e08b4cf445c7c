//! The demo page in a real browser: the `oxio-server` binary on 127.0.0.1,
//! and headless Debian Chromium driven by npm `playwright-core`
//! (`tests/browser/chat.js`) with two pages of `/`. Page A chats through
//! the form and page B shows it; a REST `POST /api/update` (Bearer token
//! from `POST /api/login`) reaches both pages; page B logs in through its
//! own form, joins `/admin`, and its update form reaches both pages.
//!
//! Twice: with the npm-installed client, which the page loads from
//! `/socket.io/socket.io.min.js` (oxio-server's `serve_client`); and with
//! none (`--client-dir` names an empty folder), where the page loads the
//! pinned version from the official CDN with its integrity hash. The test
//! machine is offline, so chat.js answers the CDN URL with the npm file:
//! the browser checks it against the hash and runs it; altered bytes on a
//! third page are refused.
//!
//! Needs `apt-get install -y chromium` (or `$OXIO_CHROMIUM`),
//! `npm ci --prefix std-server/demo/tests/browser` and
//! `npm ci --prefix std-server/demo/web`. Without them the test prints a notice
//! and passes, unless `CI` or `OXIO_REQUIRE_NODE=1` is set: then it fails.

mod demo_support;

use demo_support::{crate_dir, missing, Bounded, DemoServer, TempDir};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const WHAT: &str = "the demo browser test (tests/demo_browser.rs)";
const INSTALL: &str = "apt-get install -y chromium nodejs npm && npm ci --prefix std-server/demo/tests/browser && npm ci --prefix std-server/demo/web";

fn chromium() -> PathBuf {
    std::env::var_os("OXIO_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// Whether everything the test drives is installed (else skip or fail).
fn ready() -> bool {
    let node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !node {
        return missing(WHAT, "node, which is not installed", INSTALL);
    }
    if !chromium().is_file() {
        return missing(
            WHAT,
            &format!("Chromium, missing at {}", chromium().display()),
            INSTALL,
        );
    }
    let browser = crate_dir().join("tests/browser/node_modules/playwright-core");
    if !browser.is_dir() {
        return missing(
            WHAT,
            "npm package playwright-core, missing from std-server/demo/tests/browser/node_modules",
            INSTALL,
        );
    }
    let client = crate_dir().join("web/node_modules/socket.io-client/dist/socket.io.min.js");
    if !client.is_file() {
        return missing(
            WHAT,
            "the page's Socket.IO client, missing from std-server/demo/web/node_modules",
            INSTALL,
        );
    }
    true
}

fn unique(tag: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{tag}-{}-{nanos}", std::process::id())
}

fn li(class: &str, text: &str) -> Value {
    json!({ "class": class, "text": text })
}

/// Runs chat.js against a demo server started with `extra`; with
/// `cdn_file`, chat.js answers the CDN with it. Checks everything both
/// runs share and returns chat.js's result.
fn chat_run(extra: &[&str], cdn_file: Option<&std::path::Path>) -> Value {
    let server = DemoServer::start(extra);
    let mut shots = TempDir::new("oxio-demo-browser");
    let chat = format!("hello from A ({})", unique("chat"));
    let rest_marker = unique("rest");
    let form_marker = unique("form");

    let mut cmd = Command::new("node");
    cmd.arg(crate_dir().join("tests/browser/chat.js"))
        .arg(&server.url)
        .arg(&chat)
        .arg(&rest_marker)
        .arg(&form_marker)
        .arg(&shots.path)
        .env("OXIO_CHROMIUM", chromium());
    if let Some(file) = cdn_file {
        cmd.env("OXIO_CDN_FILE", file);
    }
    let out = Bounded::run(cmd, Duration::from_secs(45));
    let shot_dir = shots.path.clone();
    let context = || {
        format!(
            "node exit {:?} after {:?} (timed out: {}); screenshots in {}\n--- stdout\n{}\n--- stderr\n{}\n--- server\n{}",
            out.code,
            out.took,
            out.timed_out,
            shot_dir.display(),
            out.stdout,
            out.stderr,
            server.log_text()
        )
    };
    let Some(line) = out.stdout.lines().rev().find(|l| l.starts_with('{')) else {
        shots.keep();
        panic!("chat.js printed no JSON result\n{}", context());
    };
    let r: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => {
            shots.keep();
            panic!("chat.js result is not JSON ({e})\n{}", context());
        }
    };
    if out.code != Some(0) || r["ok"] != true {
        shots.keep();
        panic!(
            "the browser run failed at step {}: {}\n{}",
            r["step"],
            r["error"],
            context()
        );
    }

    // Both pages connected, with distinct 20-character Socket.IO ids.
    assert_eq!(r["status"], json!({"a": "connected", "b": "connected"}));
    let id_a = r["ids"]["a"].as_str().unwrap();
    let id_b = r["ids"]["b"].as_str().unwrap();
    assert_eq!((id_a.len(), id_b.len()), (20, 20), "{}", r["ids"]);
    assert_ne!(id_a, id_b);
    assert_eq!(
        r["welcome"],
        json!({"a": "Welcome to oxio", "b": "Welcome to oxio"})
    );
    // The form was sent (and cleared).
    assert_eq!(r["chat_input_after"], "");
    // REST: login, then the update is accepted.
    assert_eq!(r["rest"]["login_status"], 200);
    assert_eq!(
        r["rest"]["update"],
        json!({"status": 200, "body": {"message": "Data updated successfully"}})
    );
    // The page's own login form: token stored, /admin joined with it.
    assert_eq!(r["login_status"], "logged in as carol");
    assert_eq!(r["admin_status"], "admin: carol");
    assert_eq!(r["error_text"], json!({"a": "", "b": ""}));
    // Exactly these entries, in this order, on each page.
    let rest_update = format!(r#"dataUpdated {{"marker":"{rest_marker}"}}"#);
    let form_update = format!(r#"dataUpdated {{"text":"{form_marker}"}}"#);
    assert_eq!(
        r["messages"]["a"],
        json!([
            li("mine", &format!("me: {chat}")),
            li("update", &rest_update),
            li("update", &form_update),
        ])
    );
    assert_eq!(
        r["messages"]["b"],
        json!([
            li("chat", &format!("{id_a}: {chat}")),
            li("update", &rest_update),
            li("update", &form_update),
        ])
    );
    assert_eq!(r["page_errors"], json!([]), "uncaught errors in the page");
    assert_eq!(r["console_errors"], json!([]), "errors in the console");
    assert_eq!(r["http_errors"], json!([]), "failed page requests");
    assert!(
        out.took < Duration::from_secs(30),
        "the browser run took {:?}",
        out.took
    );
    r
}

#[test]
fn two_pages_chat_and_see_rest_updates() {
    if !ready() {
        return;
    }
    let r = chat_run(&[], None);
    // The local copy, through serve_client.
    assert_eq!(
        r["client_script"],
        json!({"src": "/socket.io/socket.io.min.js", "integrity": null, "crossorigin": null})
    );
    assert_eq!(r["cdn_requests"], json!([]));
}

#[test]
fn without_the_npm_package_the_page_uses_the_cdn_copy_with_its_hash() {
    if !ready() {
        return;
    }
    let empty = TempDir::new("oxio-demo-no-client");
    let dir = empty.path.to_str().unwrap().to_owned();
    let file = crate_dir().join("web/node_modules/socket.io-client/dist/socket.io.min.js");
    let r = chat_run(&["--client-dir", &dir], Some(&file));
    let url = "https://cdn.socket.io/4.8.4/socket.io.min.js";
    assert_eq!(
        r["client_script"],
        json!({
            "src": url,
            "integrity": oxio_server::serve_client::integrity("4.8.4", "socket.io.min.js").unwrap(),
            "crossorigin": "anonymous",
        })
    );
    // Each page fetched it from the CDN once (and ran it: they connected).
    assert_eq!(
        r["cdn_requests"],
        json!([
            format!("a: {url}"),
            format!("b: {url}"),
            format!("altered: {url}")
        ])
    );
    // The altered copy was refused by the integrity check.
    assert_eq!(r["altered"]["io"], "undefined");
    let errors = r["altered"]["console_errors"].as_array().unwrap();
    assert!(
        errors
            .iter()
            .any(|e| e.as_str().unwrap().contains("integrity")),
        "{errors:?}"
    );
}

/// permessage-deflate in Chromium: the demo started with
/// `--per-message-deflate`; the page's Socket.IO client (WebSocket only)
/// negotiates the extension and echoes texts below and above the 1024-byte
/// threshold (`tests/browser/deflate.js`). A raw client on the same server
/// sees RSV1 on the server's frames from the threshold on only.
#[test]
fn chromium_negotiates_per_message_deflate() {
    if !ready() {
        return;
    }
    let server = DemoServer::start(&["--per-message-deflate"]);
    let mut cmd = Command::new("node");
    cmd.arg(crate_dir().join("tests/browser/deflate.js"))
        .arg(&server.url)
        .env("OXIO_CHROMIUM", chromium());
    let out = Bounded::run(cmd, Duration::from_secs(40));
    let context = format!(
        "node exit {:?}\n--- stdout\n{}\n--- stderr\n{}\n--- server\n{}",
        out.code,
        out.stdout,
        out.stderr,
        server.log_text()
    );
    let line = out
        .stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("deflate.js printed no JSON result\n{context}"));
    let r: Value = serde_json::from_str(line).unwrap();
    assert_eq!(r["ok"], true, "{context}");
    assert_eq!(r["extensions"], "permessage-deflate", "{context}");
    assert_eq!(
        r["echoes"],
        json!([10, 1000, 1100, 5000, 100000]
            .iter()
            .map(|n| json!({"n": n, "same": true}))
            .collect::<Vec<_>>()),
        "{context}"
    );

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use oxio_testkit::rawws::RawWs;
        // What Chromium offers.
        let offer = "permessage-deflate; client_max_window_bits";
        let mut ws =
            RawWs::connect(server.addr, "/socket.io/?EIO=4&transport=websocket", offer).await;
        assert_eq!(
            ws.header("sec-websocket-extensions"),
            Some("permessage-deflate")
        );
        let (open, compressed) = ws.next_text().await;
        assert!(open.starts_with("0{") && !compressed, "{open}");
        ws.send_text("40").await;
        for n in [10, 3000] {
            let text = "q".repeat(n);
            ws.send_text(&format!("42[\"echo\",\"{text}\"]")).await;
            let want = format!("42[\"echo-response\",\"{text}\"]");
            let got = loop {
                let (t, compressed) = ws.next_text().await;
                if t.starts_with("42[\"echo-response\"") {
                    break (t, compressed);
                }
            };
            assert_eq!(got, (want, n > 1000));
        }
    });
}
