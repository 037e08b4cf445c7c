//! The official Socket.IO admin UI (`@socket.io/admin-ui` 0.5.1) against
//! the demo (`--admin-ui`, namespace `/admin-ui`), and the same against
//! Node's `instrument()` (socket.io 4.8, `tests/admin_ui/node_server.js`,
//! shaped like the demo where the tests look):
//! - `protocol.js`: npm socket.io-client acting as the UI: exact event
//!   names and payload shapes (login, session id, config, all_sockets,
//!   server_stats, the development events, the commands); read-only and
//!   production modes;
//! - `ui.js`: the real UI (`ui/dist`, served by the server under test) in
//!   headless Debian Chromium: wrong and right password, the namespaces,
//!   the server, the sockets and rooms, a join and a disconnect from the
//!   UI; oxio and Node must show the same;
//! - `cluster.js`: two demo nodes on one redis-server (Redis adapter), the
//!   UI on one and the application client on the other.
//!
//! Needs node, Chromium (`$OXIO_CHROMIUM` or /usr/bin/chromium),
//! redis-server, and `npm ci --prefix std-server/demo/tests/admin_ui`.
//! Without them the tests print a notice and pass, unless `CI` or
//! `OXIO_REQUIRE_NODE=1` is set: then they fail.

mod demo_support;

use demo_support::{crate_dir, missing, Bounded, DemoServer, TempDir};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const WHAT: &str = "the admin UI tests (tests/demo_admin_ui.rs)";
const INSTALL: &str =
    "apt-get install -y chromium nodejs npm redis-server && npm ci --prefix std-server/demo/tests/admin_ui";
const NAMESPACE: &str = "/admin-ui";
const USER: &str = "admin";
const PASSWORD: &str = "s3cret pass";

fn js_dir() -> PathBuf {
    crate_dir().join("tests/admin_ui")
}

fn chromium() -> PathBuf {
    std::env::var_os("OXIO_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

fn ui_dist() -> PathBuf {
    js_dir().join("node_modules/@socket.io/admin-ui/ui/dist")
}

fn has(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Whether node and the npm packages are installed (else skip or fail).
fn ready() -> bool {
    if !has("node") {
        return missing(WHAT, "node, which is not installed", INSTALL);
    }
    for package in ["playwright-core", "socket.io", "socket.io-client"] {
        if !js_dir().join("node_modules").join(package).is_dir() {
            return missing(
                WHAT,
                &format!("npm package {package}, missing from tests/admin_ui"),
                INSTALL,
            );
        }
    }
    if !ui_dist().join("index.html").is_file() {
        return missing(
            WHAT,
            "npm package @socket.io/admin-ui, missing from tests/admin_ui",
            INSTALL,
        );
    }
    true
}

/// A bcrypt hash of [`PASSWORD`] (`$2b$`, cost 4: tests need no strength).
fn hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| bcrypt::hash(PASSWORD, 4).unwrap())
}

/// The demo with the admin UI on, its files served from the test folder.
fn demo(server_id: &str, extra: &[&str]) -> DemoServer {
    let dist = ui_dist();
    let mut args = vec![
        "--admin-ui",
        "--admin-ui-user",
        USER,
        "--admin-ui-password-hash",
        hash(),
        "--admin-ui-server-id",
        server_id,
        "--admin-ui-dist",
        dist.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    DemoServer::start(&args)
}

/// A child process killed (and reaped) on drop.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Node's reference server (`node_server.js`) and its URL.
fn node_server(server_id: &str) -> (Killed, String) {
    node_node(server_id, None)
}

/// Node's reference server, in the cluster of `redis` when given.
fn node_node(server_id: &str, redis: Option<&str>) -> (Killed, String) {
    let mut child = Command::new("node")
        .arg(js_dir().join("node_server.js"))
        .args([NAMESPACE, USER, hash(), server_id])
        .args(redis)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start node node_server.js");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("node_server.js printed {line:?}"))
        .to_owned();
    (Killed(child), url)
}

/// A redis-server on a free port, and its URL.
fn redis() -> Option<(Killed, String)> {
    if !has("redis-server") {
        missing(WHAT, "redis-server, which is not installed", INSTALL);
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start redis-server");
    let until = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < until, "redis-server did not come up");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some((Killed(child), format!("redis://127.0.0.1:{port}")))
}

/// Runs a script of `tests/admin_ui` and returns the JSON line it printed;
/// panics with its output (and `log`) unless it says `ok`.
fn run_js(script: &str, args: &[&str], log: &dyn Fn() -> String) -> Value {
    let mut cmd = Command::new("node");
    cmd.arg(js_dir().join(script))
        .args(args)
        .env("OXIO_CHROMIUM", chromium());
    let out = Bounded::run(cmd, Duration::from_secs(70));
    let line = out
        .stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or_default();
    let v: Value = serde_json::from_str(line).unwrap_or(Value::Null);
    assert!(
        v["ok"] == true && out.code == Some(0),
        "{script} failed at step {}: {}\n--- stdout\n{}\n--- stderr\n{}\n--- server\n{}",
        v["step"],
        v["error"],
        out.stdout,
        out.stderr,
        log()
    );
    v
}

/// The first `n` elements of an array.
fn head(v: &Value, n: usize) -> Value {
    Value::Array(
        v.as_array()
            .map(|a| a.iter().take(n).cloned().collect())
            .unwrap_or_default(),
    )
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    k.sort();
    k
}

const FEATURES: [&str; 9] = [
    "EMIT",
    "JOIN",
    "LEAVE",
    "DISCONNECT",
    "MJOIN",
    "MLEAVE",
    "MDISCONNECT",
    "AGGREGATED_EVENTS",
    "ALL_EVENTS",
];

/// What both servers must show to `protocol.js` (full mode).
fn check_protocol(r: &Value, server_id: &str) {
    let app = r["app_id"].as_str().unwrap();
    assert_eq!(r["wrong"], "invalid credentials");
    let session = r["session"].as_str().unwrap();
    assert!(
        session.len() == 16 && session.bytes().all(|b| b.is_ascii_hexdigit()),
        "{session}"
    );
    assert_eq!(r["with_session"], "connected");
    assert_eq!(r["config"], json!({ "supportedFeatures": FEATURES }));
    // The UI's own socket is listed, serialized as the UI expects.
    let me = &r["all_sockets"][0];
    assert_eq!(
        keys(me),
        [
            "clientId",
            "data",
            "handshake",
            "id",
            "nsp",
            "rooms",
            "transport"
        ]
    );
    assert_eq!(me["nsp"], NAMESPACE);
    assert_eq!(me["clientId"].as_str().unwrap().len(), 12);
    assert_eq!(
        keys(&me["handshake"]),
        ["address", "headers", "issued", "query", "secure", "time", "url", "xdomain"]
    );
    for stats in [&r["first_stats"], &r["stats"]] {
        assert_eq!(
            keys(stats),
            [
                "aggregatedEvents",
                "clientsCount",
                "hostname",
                "namespaces",
                "pid",
                "pollingClientsCount",
                "serverId",
                "uptime"
            ]
        );
        assert_eq!(stats["serverId"], server_id);
        for e in stats["aggregatedEvents"].as_array().unwrap() {
            assert_eq!(e["timestamp"].as_u64().unwrap() % 1000, 0, "{e}");
            assert!(e["count"].as_u64().unwrap() > 0, "{e}");
        }
    }
    let names: Vec<&str> = r["stats"]["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"/") && names.contains(&NAMESPACE),
        "{names:?}"
    );
    let types: Vec<&str> = r["first_stats"]["aggregatedEvents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    for t in [
        "rawConnection",
        "packetsIn",
        "packetsOut",
        "bytesIn",
        "bytesOut",
    ] {
        assert!(types.contains(&t), "{t} missing from {types:?}");
    }
    // The development events, with the app client's socket.
    let connected = &r["socket_connected"];
    assert_eq!(connected[0]["id"], app);
    assert_eq!(connected[0]["nsp"], "/");
    assert_eq!(connected[0]["rooms"], json!([app]));
    assert!(connected[1].as_str().unwrap().ends_with('Z'), "{connected}");
    assert_eq!(head(&r["room_joined"], 3), json!(["/", "room:lobby", app]));
    assert_eq!(
        head(&r["event_received"], 3),
        json!([json!("/"), json!(app), json!(["join-room", "lobby"])])
    );
    assert_eq!(
        head(&r["event_sent"][2], 2),
        json!([json!("room-joined"), json!("lobby")])
    );
    assert_eq!(
        head(&r["ui_join"], 3),
        json!([json!("/"), json!("picked"), json!(app)])
    );
    assert_eq!(
        head(&r["ui_leave"], 3),
        json!([json!("/"), json!("picked"), json!(app)])
    );
    assert_eq!(r["app_got"][0], "from-ui");
    assert_eq!(head(&r["app_got"][1], 2), json!([json!(1), json!("two")]));
    assert_eq!(r["app_disconnect"], "io server disconnect");
    assert_eq!(
        head(&r["socket_disconnected"], 3),
        json!([json!("/"), json!(app), json!("server namespace disconnect")])
    );
}

#[test]
fn the_ui_protocol_on_the_demo() {
    if !ready() {
        return;
    }
    let server = demo("oxio-1", &[]);
    let r = run_js(
        "protocol.js",
        &[&server.url, NAMESPACE, USER, PASSWORD],
        &|| server.log_text(),
    );
    check_protocol(&r, "oxio-1");
    // The demo's own namespaces are listed too.
    assert_eq!(
        r["stats"]["namespaces"],
        json!([
            {"name": "/", "socketsCount": 1},
            {"name": "/admin", "socketsCount": 0},
            {"name": "/admin-ui", "socketsCount": 1}
        ])
    );
}

#[test]
fn the_ui_protocol_is_the_same_on_node_instrument() {
    if !ready() {
        return;
    }
    let (_node, url) = node_server("node-1");
    let node = run_js("protocol.js", &[&url, NAMESPACE, USER, PASSWORD], &|| {
        String::new()
    });
    check_protocol(&node, "node-1");
    let server = demo("oxio-1", &[]);
    let oxio = run_js(
        "protocol.js",
        &[&server.url, NAMESPACE, USER, PASSWORD],
        &|| server.log_text(),
    );
    // Same serialized socket, stats and event shapes.
    assert_eq!(
        keys(&oxio["socket_connected"][0]),
        keys(&node["socket_connected"][0])
    );
    assert_eq!(keys(&oxio["stats"]), keys(&node["stats"]));
    assert_eq!(oxio["config"], node["config"]);
    assert_eq!(oxio["wrong"], node["wrong"]);
    assert_eq!(oxio["app_disconnect"], node["app_disconnect"]);
    assert_eq!(
        oxio["socket_disconnected"][2],
        node["socket_disconnected"][2]
    );
}

#[test]
fn read_only_refuses_the_commands_and_production_sends_stats_only() {
    if !ready() {
        return;
    }
    let server = demo("oxio-ro", &["--admin-ui-readonly"]);
    let r = run_js(
        "protocol.js",
        &[&server.url, NAMESPACE, USER, PASSWORD, "readonly"],
        &|| server.log_text(),
    );
    assert_eq!(
        r["config"],
        json!({ "supportedFeatures": ["AGGREGATED_EVENTS", "ALL_EVENTS"] })
    );
    assert_eq!(r["app_connected"], true);
    assert_eq!(r["app_got"], json!(["welcome"]));
    let events = r["event_names"].as_array().unwrap();
    assert!(!events.contains(&json!("room_left")), "{events:?}");
    drop(server);

    let server = demo("oxio-prod", &["--admin-ui-mode", "production"]);
    let r = run_js(
        "protocol.js",
        &[&server.url, NAMESPACE, USER, PASSWORD, "production"],
        &|| server.log_text(),
    );
    assert_eq!(
        r["config"]["supportedFeatures"],
        json!([
            "EMIT",
            "JOIN",
            "LEAVE",
            "DISCONNECT",
            "MJOIN",
            "MLEAVE",
            "MDISCONNECT",
            "AGGREGATED_EVENTS"
        ])
    );
    // Commands still work; only config, the session and stats come.
    assert_eq!(r["app_connected"], false);
    assert_eq!(
        head(&r["app_got"], 2),
        json!([json!("welcome"), json!("from-ui")])
    );
    assert_eq!(
        r["event_names"],
        json!(["config", "server_stats", "session"])
    );
}

/// What both servers must show in the browser.
fn check_ui(r: &Value, server_id: &str) {
    assert_eq!(r["index_status"], 200);
    assert_eq!(r["wrong_password_refused"], true);
    assert_eq!(r["wrong_password_message"], true);
    assert_eq!(r["status"], "connected");
    assert!(
        r["page_errors"].as_array().unwrap().is_empty(),
        "{}",
        r["page_errors"]
    );
    let (a, b) = (
        r["ids"]["a"].as_str().unwrap(),
        r["ids"]["b"].as_str().unwrap(),
    );
    let mut ids = vec![a, b];
    ids.sort();
    assert_eq!(r["sockets"], json!(ids));
    assert_eq!(r["rooms"], json!(["room:lobby"]));
    let mut b_rooms = vec![b, "picked"];
    b_rooms.sort();
    assert_eq!(r["b_rooms"], json!(b_rooms));
    assert_eq!(r["a_disconnect_reason"], "io server disconnect");
    assert_eq!(r["a_status_shown"], "disconnected");
    assert_eq!(r["b_connected"], true);
    // Servers page: id, host name, pid, uptime, clients, last seen, health.
    let servers = r["servers"].as_array().unwrap();
    assert_eq!(servers.len(), 1, "{servers:?}");
    let row = servers[0].as_array().unwrap();
    assert_eq!(row[0], server_id);
    assert!(row[2].as_str().unwrap().parse::<u32>().is_ok(), "{row:?}");
    assert_eq!(row[4], "3", "two app clients and the UI: {row:?}");
    assert_eq!(row[6].as_str().unwrap().to_lowercase(), "healthy");
}

#[test]
fn the_real_ui_in_chromium_shows_the_same_on_the_demo_and_on_node() {
    if !ready() {
        return;
    }
    if !chromium().is_file() {
        missing(
            WHAT,
            &format!("Chromium, missing at {}", chromium().display()),
            INSTALL,
        );
        return;
    }
    let mut shots = TempDir::new("oxio-admin-ui");
    let server = demo("oxio-1", &[]);
    let shot_dir = shots.path.join("oxio");
    let oxio = std::panic::catch_unwind(|| {
        run_js(
            "ui.js",
            &[
                &server.url,
                NAMESPACE,
                USER,
                PASSWORD,
                shot_dir.to_str().unwrap(),
            ],
            &|| server.log_text(),
        )
    });
    let Ok(oxio) = oxio else {
        shots.keep();
        panic!(
            "the UI on the demo failed; screenshots in {}",
            shots.path.display()
        );
    };
    check_ui(&oxio, "oxio-1");
    assert_eq!(
        oxio["namespaces"],
        json!([["/", "2"], ["/admin", "0"], ["/admin-ui", "1"]])
    );

    let (_node, url) = node_server("node-1");
    let shot_dir = shots.path.join("node");
    let node = run_js(
        "ui.js",
        &[&url, NAMESPACE, USER, PASSWORD, shot_dir.to_str().unwrap()],
        &|| String::new(),
    );
    check_ui(&node, "node-1");
    // Node's reference has no /admin namespace; the rest is the same.
    assert_eq!(node["namespaces"], json!([["/", "2"], ["/admin-ui", "1"]]));
}

#[test]
fn the_ui_on_one_node_sees_and_drives_the_other_through_redis() {
    if !ready() {
        return;
    }
    let Some((_redis, redis_url)) = redis() else {
        return;
    };
    let a = demo("node-a", &["--redis", &redis_url]);
    let b = demo("node-b", &["--redis", &redis_url]);
    let r = run_js(
        "cluster.js",
        &[&a.url, &b.url, NAMESPACE, USER, PASSWORD, "node-b"],
        &|| format!("--- node A\n{}\n--- node B\n{}", a.log_text(), b.log_text()),
    );
    check_cluster(&r);
    assert_eq!(r["server_ids"], json!(["node-a", "node-b"]));
}

/// What the UI on one node must see of the other (`cluster.js`).
fn check_cluster(r: &Value) {
    let app = r["app_id"].as_str().unwrap();
    // all_sockets fetched B's socket, with its client id and transport.
    let s = &r["app_in_all_sockets"];
    assert_eq!(s["id"], app);
    assert_eq!(s["transport"], "websocket");
    assert_eq!(s["clientId"].as_str().unwrap().len(), 12);
    let mut rooms: Vec<&str> = s["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    rooms.sort();
    let mut want = vec![app, "room:lobby"];
    want.sort();
    assert_eq!(rooms, want);
    assert_eq!(r["stats_of_b"]["clientsCount"], 1);
    assert_eq!(r["event_received"][2], json!(["join-room", "second"]));
    assert_eq!(r["room_joined"][1], "room:second");
    assert_eq!(r["app_got"], json!([7]));
    assert_eq!(r["app_disconnect"], "io server disconnect");
    assert_eq!(r["socket_disconnected"][2], "server namespace disconnect");
}

#[test]
fn the_ui_sees_a_mixed_cluster_of_oxio_and_node_instrument() {
    if !ready() {
        return;
    }
    let Some((_redis, redis_url)) = redis() else {
        return;
    };
    let oxio = demo("oxio-a", &["--redis", &redis_url]);
    let (_node, node_url) = node_node("node-b", Some(&redis_url));
    // The UI on oxio, the application client on Node...
    let r = run_js(
        "cluster.js",
        &[&oxio.url, &node_url, NAMESPACE, USER, PASSWORD, "node-b"],
        &|| oxio.log_text(),
    );
    check_cluster(&r);
    // ...and the UI on Node, the application client on oxio.
    let r = run_js(
        "cluster.js",
        &[&node_url, &oxio.url, NAMESPACE, USER, PASSWORD, "oxio-a"],
        &|| oxio.log_text(),
    );
    check_cluster(&r);
}

/// One HTTP/1.1 GET; the status code and body.
fn get(server: &DemoServer, path: &str) -> (u16, String) {
    let (status, _, body) = get_with(server, path, "");
    (status, body)
}

/// One HTTP/1.1 GET with extra header lines; status, head (lower case)
/// and body.
fn get_with(server: &DemoServer, path: &str, headers: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(server.addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\n{headers}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut bytes = Vec::new();
    s.read_to_end(&mut bytes).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    let status = text[9..12].parse().unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (status, head.to_lowercase(), body.to_owned())
}

#[test]
fn the_demo_serves_the_ui_files_and_nothing_else() {
    if !ready() {
        return;
    }
    let server = demo("oxio-1", &[]);
    assert_eq!(get(&server, "/admin-ui").0, 308);
    let (status, body) = get(&server, "/admin-ui/");
    assert_eq!(status, 200);
    assert!(body.contains("Socket.IO Admin UI"), "{body}");
    assert_eq!(get(&server, "/admin-ui/favicon.png").0, 200);
    assert_eq!(get(&server, "/admin-ui/../package.json").0, 404);
    assert_eq!(get(&server, "/admin-ui/%2e%2e/package.json").0, 404);
    assert_eq!(get(&server, "/admin-ui/nope.js").0, 404);
    // The hosted UI may connect from its own origin, with credentials.
    let (status, head, _) = get_with(
        &server,
        "/socket.io/?EIO=4&transport=polling",
        "Origin: https://admin.socket.io\r\n",
    );
    assert_eq!(status, 200);
    assert!(
        head.contains("access-control-allow-origin: https://admin.socket.io"),
        "{head}"
    );
    assert!(
        head.contains("access-control-allow-credentials: true"),
        "{head}"
    );
}

#[test]
fn admin_ui_flags_are_checked_at_startup() {
    let bin = env!("CARGO_BIN_EXE_oxio-server");
    let run = |args: &[&str]| {
        let mut cmd = Command::new(bin);
        cmd.args(["--port", "0"]).args(args).env("NO_COLOR", "1");
        Bounded::run(cmd, Duration::from_secs(20))
    };
    let out = run(&["--admin-ui"]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stdout.contains(
            "--admin-ui needs --admin-ui-user and --admin-ui-password-hash, or --admin-ui-no-auth"
        ),
        "{out:?}"
    );
    let out = run(&[
        "--admin-ui",
        "--admin-ui-user",
        "a",
        "--admin-ui-password-hash",
        "plain",
    ]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stdout
            .contains("admin UI: the password must be a valid bcrypt hash"),
        "{out:?}"
    );
    let out = run(&["--admin-ui-user", "a"]);
    assert_eq!(out.code, Some(2), "{out:?}");
}
