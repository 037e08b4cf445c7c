//! The demo's HTTP side through `tower::ServiceExt::oneshot` on its Router:
//! exact status codes and bodies, login and Bearer auth, and the Socket.IO
//! events REST routes cause, seen by fake Engine.IO sessions.

#[allow(dead_code)]
use oxio_demo as demo;

use oxio_testkit::fake;

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use demo::{DemoConfig, JwtKeys};
use fake::{settle, Conn};
use oxio_server::serve_client::{integrity, ServeClient};
use oxio_server::socketio::SocketIo;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tower::ServiceExt;

const SECRET: &[u8] = b"the demo tests' secret, 32 bytes";

struct App {
    router: Router,
    sio: SocketIo,
    keys: JwtKeys,
}

fn app_with(f: impl FnOnce(&mut DemoConfig)) -> App {
    let keys = JwtKeys::from_secret(SECRET).unwrap();
    let mut config = DemoConfig::new(keys.clone());
    f(&mut config);
    let (router, sio) = demo::build(config);
    App { router, sio, keys }
}

fn app() -> App {
    app_with(|_| {})
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text()))
    }
    fn content_type(&self) -> &str {
        self.headers
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }
}

async fn call(router: &Router, method: Method, uri: &str, auth: Option<&str>, body: &str) -> Reply {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(auth) = auth {
        req = req.header(header::AUTHORIZATION, auth);
    }
    let req = req.body(Body::from(body.to_owned())).unwrap();
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

async fn get(router: &Router, uri: &str) -> Reply {
    call(router, Method::GET, uri, None, "").await
}

fn bearer(keys: &JwtKeys, user: &str) -> String {
    format!("Bearer {}", keys.issue(user, SystemTime::now()).unwrap())
}

/// A browser-like socket on `/`, past its CONNECT reply and `welcome`.
async fn browser(sio: &SocketIo, sid: &str) -> Conn {
    let c = fake::open_v5_query(sio, sid, "EIO=4&transport=websocket");
    c.connect_with("/", "").await;
    assert_eq!(
        c.fake.next_text().await,
        r#"2["welcome","Welcome to oxio"]"#
    );
    c
}

/// A device socket on `/` named `name`, past CONNECT and `welcome`.
async fn device(sio: &SocketIo, name: &str) -> Conn {
    let c = fake::open_v5_query(sio, name, "EIO=4&transport=websocket");
    c.connect_with("/", &json!({ "device": name }).to_string())
        .await;
    assert_eq!(
        c.fake.next_text().await,
        r#"2["welcome","Welcome to oxio"]"#
    );
    c
}

#[tokio::test]
async fn health_and_data() {
    let app = app();
    let r = get(&app.router, "/health").await;
    assert_eq!((r.status, r.text()), (StatusCode::OK, "ok"));
    assert_eq!(r.content_type(), "text/plain; charset=utf-8");
    let r = get(&app.router, "/api/data").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.text(), r#"{"message":"Hello from REST API"}"#);
    assert_eq!(r.content_type(), "application/json");
}

#[tokio::test]
async fn login_issues_an_hs256_token_for_one_hour() {
    let app = app();
    let before = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let r = call(
        &app.router,
        Method::POST,
        "/api/login",
        None,
        r#"{"username":"ann","password":"pw"}"#,
    )
    .await;
    let after = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let body = r.json();
    assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
    let token = body["token"].as_str().unwrap();
    let claims = app.keys.verify(token).unwrap();
    assert_eq!(claims.sub, "ann");
    assert!((before..=after).contains(&claims.iat));
    assert_eq!(claims.exp, claims.iat + 3600);
    assert_eq!(
        jsonwebtoken::decode_header(token).unwrap().alg,
        jsonwebtoken::Algorithm::HS256
    );
    // The token opens the Bearer routes.
    let r = call(
        &app.router,
        Method::POST,
        "/api/update",
        Some(&format!("Bearer {token}")),
        "{}",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn login_refusals_are_400_with_an_error() {
    let app = app();
    let required = r#"{"error":"username and password are required (non-empty strings)"}"#;
    let long_user = json!({ "username": "u".repeat(65), "password": "p" }).to_string();
    for (body, want) in [
        ("{}", required),
        (r#"{"username":"ann"}"#, required),
        (r#"{"password":"pw"}"#, required),
        (r#"{"username":"","password":"pw"}"#, required),
        (r#"{"username":"ann","password":""}"#, required),
        (r#"{"username":1,"password":"pw"}"#, required),
        (r#"{"username":"ann","password":null}"#, required),
        ("[]", required),
        (
            long_user.as_str(),
            r#"{"error":"username is longer than 64 bytes"}"#,
        ),
    ] {
        let r = call(&app.router, Method::POST, "/api/login", None, body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(r.text(), want, "{body}");
    }
    for body in ["", "not json", r#"{"username":"ann","#] {
        let r = call(&app.router, Method::POST, "/api/login", None, body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        let error = r.json()["error"].as_str().unwrap().to_owned();
        assert!(
            error.starts_with("request body is not valid JSON: "),
            "{error}"
        );
    }
    // 64 bytes is still fine.
    let body = json!({ "username": "u".repeat(64), "password": "p" }).to_string();
    let r = call(&app.router, Method::POST, "/api/login", None, &body).await;
    assert_eq!(r.status, StatusCode::OK);
    // Only POST.
    let r = get(&app.router, "/api/login").await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn bearer_routes_refuse_missing_and_bad_tokens_with_401() {
    let app = app();
    let other = JwtKeys::from_secret(b"not the server's secret").unwrap();
    let expired = format!(
        "Bearer {}",
        app.keys
            .issue("ann", SystemTime::now() - Duration::from_secs(3601))
            .unwrap()
    );
    let good = app.keys.issue("ann", SystemTime::now()).unwrap();
    let missing = r#"{"error":"missing bearer token"}"#;
    let invalid = r#"{"error":"invalid token"}"#;
    let cases: Vec<(Option<String>, &str)> = vec![
        (None, missing),
        (Some(String::new()), missing),
        (Some("Bearer".into()), missing),
        (Some("Bearer ".into()), missing),
        (Some(format!("Basic {good}")), missing),
        (Some(good.clone()), missing),
        (Some("Bearer not-a-jwt".into()), invalid),
        (Some(expired), invalid),
        (Some(bearer(&other, "ann")), invalid),
        (Some(format!("Bearer {}x", good)), invalid),
    ];
    let routes = [
        (Method::POST, "/api/update"),
        (Method::PUT, "/api/profile"),
        (Method::POST, "/api/devices/esp32/led"),
    ];
    for (method, uri) in routes {
        for (auth, want) in &cases {
            // The body is bad too: authentication is checked first.
            let r = call(
                &app.router,
                method.clone(),
                uri,
                auth.as_deref(),
                "not json",
            )
            .await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{uri} {auth:?}");
            assert_eq!(r.text(), *want, "{uri} {auth:?}");
            assert_eq!(r.headers.get(header::WWW_AUTHENTICATE).unwrap(), "Bearer");
        }
    }
    // The scheme is case-insensitive.
    let r = call(
        &app.router,
        Method::POST,
        "/api/update",
        Some(&format!("bearer {good}")),
        "1",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn update_sends_data_updated_to_every_socket_on_root() {
    let app = app();
    let a = browser(&app.sio, "a").await;
    let b = browser(&app.sio, "b").await;
    let admin = fake::open_v5_query(&app.sio, "adm", "EIO=4");
    let token = app.keys.issue("root", SystemTime::now()).unwrap();
    admin
        .connect_with("/admin", &json!({ "token": token }).to_string())
        .await;
    assert_eq!(
        admin.fake.next_text().await,
        r#"2/admin,["hello",{"user":"root"}]"#
    );
    let auth = bearer(&app.keys, "ann");
    for (body, frame) in [
        (
            r#"{"temp":21.5,"list":[1,"x",null]}"#,
            r#"2["dataUpdated",{"temp":21.5,"list":[1,"x",null]}]"#,
        ),
        // An array is one argument, not an argument list.
        ("[1,2]", r#"2["dataUpdated",[1,2]]"#),
        (r#""text""#, r#"2["dataUpdated","text"]"#),
    ] {
        let r = call(&app.router, Method::POST, "/api/update", Some(&auth), body).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.text(), r#"{"message":"Data updated successfully"}"#);
        assert_eq!(a.fake.next_text().await, frame);
        assert_eq!(b.fake.next_text().await, frame);
    }
    admin.fake.assert_quiet().await;
    // A bad body, with a good token: 400 and nothing sent.
    let r = call(&app.router, Method::POST, "/api/update", Some(&auth), "{").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    a.fake.assert_quiet().await;
}

#[tokio::test]
async fn profile_sends_profile_updated_with_the_token_user() {
    let app = app();
    let a = browser(&app.sio, "a").await;
    let auth = bearer(&app.keys, "ann");
    let r = call(
        &app.router,
        Method::PUT,
        "/api/profile",
        Some(&auth),
        r#"{"name":"Ann","user":"mallory","age":30}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.text(), r#"{"message":"Profile updated"}"#);
    assert_eq!(
        a.fake.next_text().await,
        r#"2["profileUpdated",{"user":"ann","name":"Ann","age":30}]"#
    );
    let r = call(&app.router, Method::PUT, "/api/profile", Some(&auth), "{}").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        a.fake.next_text().await,
        r#"2["profileUpdated",{"user":"ann"}]"#
    );
    for body in ["[]", "1", r#""x""#, "null"] {
        let r = call(&app.router, Method::PUT, "/api/profile", Some(&auth), body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(r.text(), r#"{"error":"body must be a JSON object"}"#);
    }
    a.fake.assert_quiet().await;
    let r = call(&app.router, Method::POST, "/api/profile", Some(&auth), "{}").await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn devices_list_follows_connects_readings_and_disconnects() {
    let app = app();
    let r = get(&app.router, "/api/devices").await;
    assert_eq!((r.status, r.text()), (StatusCode::OK, "[]"));
    let pico = device(&app.sio, "pico").await;
    let esp = device(&app.sio, "esp32").await;
    let _browser = browser(&app.sio, "browser").await;
    let r = get(&app.router, "/api/devices").await;
    assert_eq!(
        r.text(),
        concat!(
            r#"[{"device":"esp32","temp_c":null,"uptime_ms":null,"connected":true},"#,
            r#"{"device":"pico","temp_c":null,"uptime_ms":null,"connected":true}]"#
        )
    );
    esp.text(r#"21["sensor",{"device":"esp32","temp_c":21.5,"uptime_ms":5000}]"#);
    assert_eq!(esp.fake.next_text().await, r#"31[{"ok":true}]"#);
    pico.text(r#"27["sensor",{"device":"pico","temp_c":-3,"uptime_ms":10000}]"#);
    assert_eq!(pico.fake.next_text().await, r#"37[{"ok":true}]"#);
    let r = get(&app.router, "/api/devices").await;
    assert_eq!(
        r.text(),
        concat!(
            r#"[{"device":"esp32","temp_c":21.5,"uptime_ms":5000,"connected":true},"#,
            r#"{"device":"pico","temp_c":-3.0,"uptime_ms":10000,"connected":true}]"#
        )
    );
    esp.close();
    settle().await;
    let r = get(&app.router, "/api/devices").await;
    assert_eq!(
        r.text(),
        r#"[{"device":"pico","temp_c":-3.0,"uptime_ms":10000,"connected":true}]"#
    );
}

#[tokio::test]
async fn led_sends_led_with_an_ack_and_returns_the_device_answer() {
    let app = app();
    let esp = device(&app.sio, "esp32").await;
    let auth = bearer(&app.keys, "ann");
    for (i, (on, ack, want)) in [
        (true, r#"[{"ok":true}]"#, r#"{"ok":true}"#),
        (
            false,
            r#"[{"ok":true,"led":false}]"#,
            r#"{"ok":true,"led":false}"#,
        ),
        // An ack without arguments answers null.
        (true, "[]", "null"),
    ]
    .into_iter()
    .enumerate()
    {
        let router = app.router.clone();
        let auth = auth.clone();
        let body = json!({ "on": on }).to_string();
        let req = tokio::spawn(async move {
            call(
                &router,
                Method::POST,
                "/api/devices/esp32/led",
                Some(&auth),
                &body,
            )
            .await
        });
        assert_eq!(
            esp.fake.next_text().await,
            format!(r#"2{i}["led",{{"on":{on}}}]"#)
        );
        esp.text(&format!("3{i}{ack}"));
        let r = req.await.unwrap();
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.text(), want);
        assert_eq!(r.content_type(), "application/json");
    }
}

#[tokio::test(start_paused = true)]
async fn led_answers_504_when_the_device_stays_silent_for_5_s() {
    let app = app();
    let esp = device(&app.sio, "esp32").await;
    let auth = bearer(&app.keys, "ann");
    let router = app.router.clone();
    let start = tokio::time::Instant::now();
    let req = tokio::spawn(async move {
        let r = call(
            &router,
            Method::POST,
            "/api/devices/esp32/led",
            Some(&auth),
            r#"{"on":true}"#,
        )
        .await;
        (r, start.elapsed())
    });
    assert_eq!(esp.fake.next_text().await, r#"20["led",{"on":true}]"#);
    let (r, elapsed) = req.await.unwrap();
    assert_eq!(r.status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(
        r.text(),
        r#"{"error":"device esp32 did not acknowledge within 5000 ms"}"#
    );
    assert!(elapsed >= Duration::from_secs(5), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(6), "{elapsed:?}");
    // A late ack is ignored.
    esp.text(r#"30[{"ok":true}]"#);
    esp.fake.assert_quiet().await;
}

#[tokio::test]
async fn led_errors() {
    let app = app();
    let esp = device(&app.sio, "esp32").await;
    let auth = bearer(&app.keys, "ann");
    let led = |uri: &'static str, body: &'static str| {
        let router = app.router.clone();
        let auth = auth.clone();
        async move { call(&router, Method::POST, uri, Some(&auth), body).await }
    };
    let r = led("/api/devices/nope/led", r#"{"on":true}"#).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.text(), r#"{"error":"device nope is not connected"}"#);
    for body in ["{}", r#"{"on":1}"#, r#"{"on":"true"}"#, "[true]", "true"] {
        let r = led("/api/devices/esp32/led", body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            r.text(),
            r#"{"error":"body must be {\"on\":true} or {\"on\":false}"}"#
        );
    }
    esp.fake.assert_quiet().await;
    // The device leaves while the request waits: 502.
    let req = tokio::spawn(led("/api/devices/esp32/led", r#"{"on":false}"#));
    assert_eq!(esp.fake.next_text().await, r#"20["led",{"on":false}]"#);
    esp.close();
    let r = req.await.unwrap();
    assert_eq!(r.status, StatusCode::BAD_GATEWAY);
    assert_eq!(r.text(), r#"{"error":"device esp32 disconnected"}"#);
    let r = led("/api/devices/esp32/led", r#"{"on":true}"#).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_page_and_its_files_are_served() {
    let app = app();
    for (uri, file, ty) in [
        (
            "/app.js",
            include_str!("../web/app.js"),
            "text/javascript; charset=utf-8",
        ),
        (
            "/style.css",
            include_str!("../web/style.css"),
            "text/css; charset=utf-8",
        ),
    ] {
        let r = get(&app.router, uri).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}");
        assert_eq!(r.text(), file, "{uri}");
        assert_eq!(r.content_type(), ty, "{uri}");
        assert_eq!(
            r.headers.get(header::X_CONTENT_TYPE_OPTIONS).unwrap(),
            "nosniff"
        );
    }
    let page = get(&app.router, "/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.content_type(), "text/html; charset=utf-8");
    assert!(page.text().contains(r#"<script src="/app.js"></script>"#));
    assert!(!page.text().contains(demo::assets::CLIENT_TAG_PLACEHOLDER));
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("oxio-demo-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A fake `socket.io-client` package: `package.json` and the eight files.
fn fake_package(name: &str, version: &str) -> PathBuf {
    let dir = temp_dir(name);
    std::fs::write(
        dir.join("package.json"),
        format!(r#"{{"name":"socket.io-client","version":"{version}"}}"#),
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("dist")).unwrap();
    for f in oxio_server::serve_client::CLIENT_FILES {
        std::fs::write(dir.join("dist").join(f), format!("/* {f} */")).unwrap();
    }
    dir
}

/// The page's client tag: the engine path for a local copy, the official
/// CDN with the pinned version's integrity hash otherwise, and nothing
/// (the page then says the client is missing) without a client.
#[tokio::test]
async fn the_page_loads_the_local_client_or_the_cdn_copy() {
    let pkg = fake_package("client", "4.8.4");
    for dir in [pkg.clone(), pkg.join("dist")] {
        let client = demo::assets::find_client(Some(&dir)).unwrap();
        assert_eq!(client.local_dir(), Some(pkg.join("dist").as_path()));
        let app = app_with(|c| c.client = Some(client));
        let page = get(&app.router, "/").await.text().to_owned();
        assert!(
            page.contains("  <script src=\"/socket.io/socket.io.min.js\"></script>\n  <script src=\"/app.js\">"),
            "{page}"
        );
    }
    std::fs::remove_dir_all(&pkg).unwrap();

    // --client-dir naming a folder without the package: the CDN copy.
    let client = demo::assets::find_client(Some(&pkg)).unwrap();
    assert_eq!(client.local_dir(), None);
    assert_eq!(client.version(), demo::assets::PINNED_CLIENT);
    let app = app_with(|c| c.client = Some(client));
    let page = get(&app.router, "/").await.text().to_owned();
    let tag = format!(
        r#"<script src="https://cdn.socket.io/4.8.4/socket.io.min.js" integrity="{}" crossorigin="anonymous"></script>"#,
        integrity("4.8.4", "socket.io.min.js").unwrap()
    );
    assert!(page.contains(&tag), "{page}");

    let app = app_with(|c| c.client = None);
    let page = get(&app.router, "/").await.text().to_owned();
    assert!(!page.contains("socket.io.min.js"), "{page}");

    // The default looks in the source tree's std-server/demo/web first.
    assert_eq!(
        demo::assets::client_packages(None).first().unwrap(),
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("web/node_modules/socket.io-client")
    );
}

/// The CDN fallback loads the version web/package.json pins (and its
/// lock installs), and that version's hashes are known.
#[test]
fn the_cdn_fallback_is_the_pinned_client() {
    let manifest: Value = serde_json::from_str(include_str!("../web/package.json")).unwrap();
    assert_eq!(
        manifest["dependencies"]["socket.io-client"],
        demo::assets::PINNED_CLIENT
    );
    let lock: Value = serde_json::from_str(include_str!("../web/package-lock.json")).unwrap();
    assert_eq!(
        lock["packages"]["node_modules/socket.io-client"]["version"],
        demo::assets::PINNED_CLIENT
    );
    let cdn = ServeClient::cdn(demo::assets::PINNED_CLIENT).unwrap();
    for f in [
        "socket.io.js",
        "socket.io.min.js",
        "socket.io.msgpack.min.js",
        "socket.io.esm.min.js",
    ] {
        let tag = cdn.script_tag("/socket.io/", f).unwrap();
        assert!(tag.contains(r#" integrity="sha384-"#), "{tag}");
    }
}

#[tokio::test]
async fn metrics_are_served_as_openmetrics_text() {
    let app = app();
    let r = get(&app.router, "/metrics").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.content_type(),
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    assert!(r.text().contains("# TYPE oxio_engine_handshakes counter\n"));
    assert!(r.text().ends_with("# EOF\n"));
    let app = app_with(|c| c.metrics = None);
    let r = get(&app.router, "/metrics").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn unknown_routes_and_large_bodies() {
    let app = app();
    for uri in ["/nope", "/api/nope", "/socket.io/", "/api/devices/x"] {
        let r = get(&app.router, uri).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(r.text(), r#"{"error":"not found"}"#, "{uri}");
    }
    let big = format!(
        r#"{{"username":"ann","password":"{}"}}"#,
        "p".repeat(64 * 1024)
    );
    let r = call(&app.router, Method::POST, "/api/login", None, &big).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.text(), r#"{"error":"request body too large"}"#);
    let auth = bearer(&app.keys, "ann");
    let big = format!("[\"{}\"]", "x".repeat(64 * 1024));
    let r = call(&app.router, Method::POST, "/api/update", Some(&auth), &big).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
}
