//! `http_compression` over real TCP with the raw testkit client: a polling
//! GET answer of at least the threshold is gzip- or deflate-compressed as
//! `Accept-Encoding` prefers (Node's negotiation), with exact headers, and
//! decompresses to the very payload an uncompressed answer carries.

use oxio_testkit::engine as engine_support;

use std::io::Read;

use engine_support::*;
use oxio_engine::config::{EngineConfig, HttpCompression};

const TEXT: &str = "text/plain; charset=UTF-8";

/// Opens a session, has the echo handler queue `message`, and GETs it with
/// `accept` as `Accept-Encoding`.
async fn echoed(config: EngineConfig, message: &str, accept: Option<&str>) -> Res {
    let srv = start(config).await;
    let sid = handshake(srv.addr, "4").await;
    let path = poll_path(&sid, "4");
    let res = post(srv.addr, &path, format!("4{message}").as_bytes()).await;
    assert_eq!(res.status, 200, "{}", res.text());
    srv.log.wait_for(&format!("text:{message}")).await;
    let headers: Vec<(&str, &str)> = accept.map(|a| ("Accept-Encoding", a)).into_iter().collect();
    let res = request(srv.addr, "GET", &path, &headers, b"").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-type"), Some(TEXT));
    assert_eq!(
        res.header("content-length"),
        Some(res.body.len().to_string().as_str())
    );
    srv.stop().await;
    res
}

fn gunzip(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn inflate(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(body)
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[tokio::test]
async fn gzip_and_deflate_by_accept_encoding() {
    let message = "x".repeat(3000);
    let payload = format!("4{message}").into_bytes();

    let res = echoed(echo_config(), &message, Some("gzip, deflate, br")).await;
    assert_eq!(res.header("content-encoding"), Some("gzip"));
    assert!(res.body.len() < 200, "compressed: {} bytes", res.body.len());
    assert_eq!(gunzip(&res.body), payload);

    let res = echoed(echo_config(), &message, Some("deflate, gzip")).await;
    assert_eq!(res.header("content-encoding"), Some("deflate"));
    assert_eq!(inflate(&res.body), payload);

    let res = echoed(echo_config(), &message, Some("gzip;q=0, *")).await;
    assert_eq!(res.header("content-encoding"), Some("deflate"));
    assert_eq!(inflate(&res.body), payload);
}

#[tokio::test]
async fn raw_when_refused_absent_small_or_off() {
    let message = "y".repeat(3000);
    let payload = format!("4{message}").into_bytes();
    for accept in [
        None,
        Some("gzip;q=0, deflate;q=0"),
        Some("identity"),
        Some("br"),
    ] {
        let res = echoed(echo_config(), &message, accept).await;
        assert_eq!(res.header("content-encoding"), None, "{accept:?}");
        assert_eq!(res.body, payload, "{accept:?}");
    }
    // Threshold: 1023 bytes raw, 1024 compressed (Node's strict `<`).
    let res = echoed(echo_config(), &"z".repeat(1021), Some("gzip")).await;
    assert_eq!(
        (res.header("content-encoding"), res.body.len()),
        (None, 1022)
    );
    let res = echoed(echo_config(), &"z".repeat(1022), Some("gzip")).await;
    assert_eq!(res.body.len(), 1023);
    assert_eq!(res.header("content-encoding"), None);
    let res = echoed(echo_config(), &"z".repeat(1023), Some("gzip")).await;
    assert_eq!(res.header("content-encoding"), Some("gzip"));
    assert_eq!(gunzip(&res.body).len(), 1024);
    // A custom threshold, and compression off.
    let config = EngineConfig {
        http_compression: Some(HttpCompression {
            threshold: 10,
            level: 9,
        }),
        ..echo_config()
    };
    let res = echoed(config, "0123456789", Some("gzip")).await;
    assert_eq!(res.header("content-encoding"), Some("gzip"));
    assert_eq!(gunzip(&res.body), b"40123456789");
    let config = EngineConfig {
        http_compression: None,
        ..echo_config()
    };
    let res = echoed(config, &message, Some("gzip")).await;
    assert_eq!(res.header("content-encoding"), None);
    assert_eq!(res.body, payload);
}
