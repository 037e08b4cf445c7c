//! `serve_client` (Node's `serveClient`) over raw HTTP on 127.0.0.1: the
//! paths, Node's headers (ETag, Cache-Control, Content-Type), 304 on
//! `If-None-Match`, gzip, the CDN fallback's redirect; and the pinned
//! integrity hashes recomputed from the installed npm package.

use base64::Engine as _;
use oxio_server::config::EngineConfig;
use oxio_server::serve_client::{integrity, ServeClient, CLIENT_FILES, KNOWN_CLIENTS};
use oxio_server::socketio::SocketIo;
use oxio_testkit::engine::{request, Res};
use oxio_testkit::sio::{self, SioServer};
use sha2::Digest;
use std::io::Read;
use std::path::{Path, PathBuf};

/// A fake `socket.io-client` package whose files hold their own names.
fn fake_package(version: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "oxio-serve-client-{}-{version}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("dist")).unwrap();
    std::fs::write(
        dir.join("package.json"),
        format!(r#"{{"name":"socket.io-client","version":"{version}"}}"#),
    )
    .unwrap();
    for f in CLIENT_FILES {
        // Long enough to be worth compressing.
        std::fs::write(dir.join("dist").join(f), format!("/* {f} */\n").repeat(200)).unwrap();
    }
    dir
}

async fn serve(client: Option<ServeClient>, path: &str) -> SioServer {
    let mut b = SocketIo::builder();
    if let Some(c) = client {
        b = b.serve_client(c);
    }
    let config = EngineConfig {
        path: path.into(),
        ..EngineConfig::default()
    };
    sio::start(config, b.build()).await
}

async fn get(server: &SioServer, path: &str, headers: &[(&str, &str)]) -> Res {
    request(server.addr, "GET", path, headers, b"").await
}

fn gunzip(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body)
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[test]
fn files_are_served_with_nodes_headers_and_304() {
    sio::run(async {
        let pkg = fake_package("4.8.4");
        let client = ServeClient::from_package(&pkg).unwrap();
        assert_eq!(client.version(), "4.8.4");
        let server = serve(Some(client), "/socket.io/").await;
        for f in CLIENT_FILES {
            let res = get(&server, &format!("/socket.io/{f}"), &[]).await;
            assert_eq!(res.status, 200, "{f}");
            assert_eq!(res.body, std::fs::read(pkg.join("dist").join(f)).unwrap());
            assert_eq!(res.header("etag"), Some("\"4.8.4\""), "{f}");
            assert_eq!(res.header("cache-control"), Some("public, max-age=0"));
            let ty = if f.ends_with(".map") {
                "application/json; charset=utf-8"
            } else {
                "application/javascript; charset=utf-8"
            };
            assert_eq!(res.header("content-type"), Some(ty), "{f}");
            assert_eq!(res.header("content-encoding"), None);
        }
        // A query string is ignored, as Node's pattern allows it.
        let res = get(&server, "/socket.io/socket.io.js?v=4.8.4", &[]).await;
        assert_eq!(res.status, 200);

        // 304 for the strong and the weak tag, with no body; another tag: 200.
        for tag in ["\"4.8.4\"", "W/\"4.8.4\""] {
            let res = get(
                &server,
                "/socket.io/socket.io.min.js",
                &[("If-None-Match", tag)],
            )
            .await;
            assert_eq!((res.status, res.body.len()), (304, 0), "{tag}");
            assert_eq!(res.header("etag"), None);
        }
        let res = get(
            &server,
            "/socket.io/socket.io.min.js",
            &[("If-None-Match", "\"4.8.3\"")],
        )
        .await;
        assert_eq!(res.status, 200);

        // gzip when accepted.
        let res = get(
            &server,
            "/socket.io/socket.io.min.js",
            &[("Accept-Encoding", "gzip, deflate, br")],
        )
        .await;
        assert_eq!(res.status, 200);
        assert_eq!(res.header("content-encoding"), Some("gzip"));
        let raw = std::fs::read(pkg.join("dist/socket.io.min.js")).unwrap();
        assert!(res.body.len() < raw.len());
        assert_eq!(gunzip(&res.body), raw);

        // Node's pattern admits socket.io.msgpack.js, which is not shipped.
        let res = get(&server, "/socket.io/socket.io.msgpack.js", &[]).await;
        assert_eq!(res.status, 404);
        // Anything else under the path is Engine.IO's.
        for path in ["/socket.io/socket.io.jsx", "/socket.io/x/socket.io.js"] {
            let res = get(&server, path, &[]).await;
            assert_eq!(res.status, 400, "{path}");
            assert_eq!(res.text(), r#"{"code":0,"message":"Transport unknown"}"#);
        }
        // Engine.IO still works.
        let res = get(&server, "/socket.io/?EIO=4&transport=polling", &[]).await;
        assert_eq!(res.status, 200);
        assert!(res.text().starts_with("0{\"sid\":"), "{}", res.text());
        server.stop().await;

        // Another engine path: the files follow it.
        let server = serve(Some(ServeClient::from_package(&pkg).unwrap()), "/rt/").await;
        assert_eq!(get(&server, "/rt/socket.io.js", &[]).await.status, 200);
        assert_eq!(
            get(&server, "/socket.io/socket.io.js", &[]).await.status,
            404
        );
        server.stop().await;
        std::fs::remove_dir_all(&pkg).unwrap();
    });
}

/// Without `serve_client`, as Node with `serveClient: false`: Engine.IO
/// answers the path.
#[test]
fn off_by_default() {
    sio::run(async {
        let server = serve(None, "/socket.io/").await;
        let res = get(&server, "/socket.io/socket.io.js", &[]).await;
        assert_eq!(res.status, 400);
        assert_eq!(res.text(), r#"{"code":0,"message":"Transport unknown"}"#);
        server.stop().await;
    });
}

#[test]
fn the_cdn_fallback_redirects_to_the_pinned_version() {
    sio::run(async {
        let missing = std::env::temp_dir().join("oxio-no-such-package");
        let client = ServeClient::find_or_cdn(&[&missing], "4.8.4").unwrap();
        assert_eq!(client.local_dir(), None);
        assert!(ServeClient::cdn("1.0.0").is_err());
        let server = serve(Some(client), "/socket.io/").await;
        for f in CLIENT_FILES {
            let res = get(&server, &format!("/socket.io/{f}"), &[]).await;
            assert_eq!(res.status, 302, "{f}");
            let to = format!("https://cdn.socket.io/4.8.4/{f}");
            assert_eq!(res.header("location"), Some(to.as_str()));
            assert!(res.body.is_empty());
        }
        let res = get(
            &server,
            "/socket.io/socket.io.min.js",
            &[("If-None-Match", "\"4.8.4\"")],
        )
        .await;
        assert_eq!(res.status, 304);
        server.stop().await;
    });
}

/// The installed copies of the client this repository pins.
fn installed_packages() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    [
        "demo/web/node_modules/socket.io-client",
        "testkit/js/node_modules/socket.io-client",
    ]
    .iter()
    .map(|p| root.join(p))
    .filter(|p| p.join("package.json").is_file())
    .collect()
}

/// The integrity hashes kept in the code are those of the installed npm
/// package's files (npm checked the package against the lock's sha512).
#[test]
fn known_hashes_match_the_installed_package() {
    let mut checked = 0;
    for pkg in installed_packages() {
        let client = ServeClient::from_package(&pkg).unwrap();
        if !KNOWN_CLIENTS.iter().any(|c| c.version == client.version()) {
            continue;
        }
        for f in CLIENT_FILES.iter().filter(|f| !f.ends_with(".map")) {
            let bytes = std::fs::read(pkg.join("dist").join(f)).unwrap();
            let hash =
                base64::engine::general_purpose::STANDARD.encode(sha2::Sha384::digest(&bytes));
            assert_eq!(
                integrity(client.version(), f),
                Some(format!("sha384-{hash}").as_str()),
                "{} {f}",
                pkg.display()
            );
            checked += 1;
        }
    }
    if checked == 0 {
        let required = std::env::var_os("CI").is_some()
            || std::env::var("OXIO_REQUIRE_NODE").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "no installed socket.io-client of a pinned version: npm ci --prefix std-server/demo/web"
        );
        eprintln!("\n!!! SKIPPING the integrity check: npm ci --prefix std-server/demo/web !!!\n");
    }
}
