//! permessage-deflate (RFC 7692) over real TCP with a raw client that sees
//! the frames themselves: the negotiated `Sec-WebSocket-Extensions`,
//! declined offers, RSV1 on messages at or above the threshold only,
//! compressed client messages (context kept across messages), and the
//! close codes of the `ws` package for bad frames: 1007 invalid deflate
//! data, 1002 RSV1 on a control frame or without the extension, 1009 a
//! message that inflates past `max_payload`.

use oxio_testkit::engine as engine_support;
use oxio_testkit::rawws::RawWs;

use engine_support::*;
use oxio_engine::config::{EngineConfig, PerMessageDeflate};

const PATH: &str = "/engine.io/?EIO=4&transport=websocket";
const OFFER: &str = "permessage-deflate; client_max_window_bits";

fn config(deflate: Option<PerMessageDeflate>) -> EngineConfig {
    EngineConfig {
        per_message_deflate: deflate,
        max_payload: 100_000,
        ..echo_config()
    }
}

fn on() -> Option<PerMessageDeflate> {
    Some(PerMessageDeflate::default())
}

/// Connects and reads the open packet (short: never compressed).
async fn open(srv: &Server, offer: &str) -> RawWs {
    let mut ws = RawWs::connect(srv.addr, PATH, offer).await;
    assert_eq!(ws.status, 101);
    let (open, compressed) = ws.next_text().await;
    assert!(open.starts_with("0{\"sid\""), "{open}");
    assert!(!compressed);
    ws
}

#[tokio::test]
async fn negotiated_and_compressed_from_the_threshold() {
    let srv = start(config(on())).await;
    let mut ws = open(&srv, OFFER).await;
    assert_eq!(
        ws.header("sec-websocket-extensions"),
        Some("permessage-deflate")
    );
    // Below the threshold (1024 bytes with the packet type): raw.
    let small = format!("4{}", "s".repeat(1022));
    ws.send_text(&small).await;
    assert_eq!(ws.next_text().await, (small.clone(), false));
    // At the threshold and above: RSV1, and it inflates to the message.
    for n in [1023, 10_000, 99_999] {
        let big = format!("4{}", "b".repeat(n));
        ws.send_text(&big).await;
        assert_eq!(ws.next_text().await, (big, true), "{n}");
    }
    // Compressed by the client, big and small, context kept.
    for n in [5, 3000, 5, 3000] {
        let m = format!("4{}", "c".repeat(n));
        ws.send_text_compressed(&m).await;
        assert_eq!(ws.next_text().await, (m, n >= 1023));
    }
    srv.log
        .wait_for(&format!("text:{}", "c".repeat(3000)))
        .await;
    srv.stop().await;
}

#[tokio::test]
async fn no_extension_unless_both_sides_want_it() {
    // Off on the server (the default): the offer is ignored.
    let srv = start(config(None)).await;
    let mut ws = open(&srv, OFFER).await;
    assert_eq!(ws.header("sec-websocket-extensions"), None);
    let big = format!("4{}", "b".repeat(5000));
    ws.send_text(&big).await;
    assert_eq!(ws.next_text().await, (big, false));
    srv.stop().await;
    // On, but no offer.
    let srv = start(config(on())).await;
    let ws = open(&srv, "").await;
    assert_eq!(ws.header("sec-websocket-extensions"), None);
    srv.stop().await;
}

#[tokio::test]
async fn offers_the_server_cannot_meet_are_declined() {
    let srv = start(config(on())).await;
    for (offer, answer) in [
        // zlib cannot write an 8-bit window; unknown and repeated
        // parameters; a value where none is allowed.
        ("permessage-deflate; server_max_window_bits=8", None),
        ("permessage-deflate; foo=1", None),
        ("permessage-deflate; server_no_context_takeover; server_no_context_takeover", None),
        ("permessage-deflate; client_no_context_takeover=1", None),
        // The next acceptable offer is taken.
        (
            "permessage-deflate; server_max_window_bits=8, permessage-deflate; server_max_window_bits=10",
            Some("permessage-deflate; server_max_window_bits=10"),
        ),
        (
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
            Some("permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
        ),
    ] {
        let mut ws = open(&srv, offer).await;
        assert_eq!(ws.header("sec-websocket-extensions"), answer, "{offer}");
        let big = format!("4{}", "d".repeat(5000));
        for _ in 0..2 {
            ws.send_text(&big).await;
            assert_eq!(ws.next_text().await, (big.clone(), answer.is_some()), "{offer}");
        }
    }
    srv.stop().await;
}

#[tokio::test]
async fn bad_compressed_frames_close_with_the_ws_codes() {
    let srv = start(config(on())).await;
    // Invalid deflate data: 1007.
    let mut ws = open(&srv, OFFER).await;
    ws.send_frame(0xC1, &[0xff, 0xff, 0xff, 0xff, 0xff]).await;
    assert_eq!(ws.close_code().await, Some(1007));
    // RSV1 on a control frame (ping): 1002.
    let mut ws = open(&srv, OFFER).await;
    ws.send_frame(0xC9, b"").await;
    assert_eq!(ws.close_code().await, Some(1002));
    // A compression bomb: 1 MB of zeros in ~1 KB, over max_payload (100 kB)
    // once inflated: 1009.
    let mut ws = open(&srv, OFFER).await;
    let bomb = RawWs::compress(format!("4{}", "0".repeat(1_000_000)).as_bytes());
    assert!(bomb.len() < 2000, "{}", bomb.len());
    ws.send_frame(0xC1, &bomb).await;
    assert_eq!(ws.close_code().await, Some(1009));
    srv.stop().await;
    // RSV1 without the extension: 1002.
    let srv = start(config(None)).await;
    let mut ws = open(&srv, OFFER).await;
    ws.send_frame(0xC1, &RawWs::compress(b"4hello")).await;
    assert_eq!(ws.close_code().await, Some(1002));
    srv.stop().await;
}

#[tokio::test]
async fn the_inflated_size_counts_against_max_payload() {
    let srv = start(config(on())).await;
    // Exactly max_payload once inflated: accepted.
    let mut ws = open(&srv, OFFER).await;
    let at_limit = format!("4{}", "x".repeat(99_999));
    ws.send_frame(0xC1, &RawWs::compress(at_limit.as_bytes()))
        .await;
    assert_eq!(ws.next_text().await, (at_limit, true));
    // One byte more: 1009, though the frame itself is tiny.
    let mut ws = open(&srv, OFFER).await;
    let over = format!("4{}", "x".repeat(100_000));
    ws.send_frame(0xC1, &RawWs::compress(over.as_bytes())).await;
    assert_eq!(ws.close_code().await, Some(1009));
    srv.stop().await;
}
