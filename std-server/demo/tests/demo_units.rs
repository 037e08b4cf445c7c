//! The demo's building blocks on their own: JWT keys, the rate limiter,
//! timestamps, device names, the device registry's rules, the echo packet.

#[allow(dead_code)]
use oxio_demo as demo;

use demo::auth::{AuthError, Claims, JwtKeys, TOKEN_LIFETIME};
use demo::clock::{epoch_millis, iso8601};
use demo::devices::{validate_device_name, DeviceNameError, MAX_DEVICE_NAME};
use demo::rate_limit::{RateLimiter, CHAT_MAX, CHAT_WINDOW};
use demo::realtime::echo_packet;
use oxio_server::socketio::Payload;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn secs(s: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(s)
}

#[test]
fn tokens_carry_sub_and_a_one_hour_expiry() {
    let keys = JwtKeys::from_secret(b"a test secret").unwrap();
    let now = SystemTime::now();
    let token = keys.issue("ann", now).unwrap();
    let claims = keys.verify(&token).unwrap();
    let now_s = now.duration_since(UNIX_EPOCH).unwrap().as_secs();
    assert_eq!(
        claims,
        Claims {
            sub: "ann".into(),
            iat: now_s,
            exp: now_s + 3600
        }
    );
    assert_eq!(TOKEN_LIFETIME, Duration::from_secs(3600));
    // The header says HS256.
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::HS256);
}

#[test]
fn tokens_are_refused_when_forged_expired_or_malformed() {
    let keys = JwtKeys::from_secret(b"a test secret").unwrap();
    let other = JwtKeys::from_secret(b"another secret").unwrap();
    let good = keys.issue("ann", SystemTime::now()).unwrap();
    let expired = keys
        .issue("ann", SystemTime::now() - Duration::from_secs(3601))
        .unwrap();
    // An unsigned token ({"alg":"none"}) with valid claims.
    let none = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhbm4iLCJleHAiOjQxMDI0NDQ4MDB9.";
    for (name, token) in [
        ("other key", other.issue("ann", SystemTime::now()).unwrap()),
        ("expired", expired),
        ("alg none", none.to_owned()),
        ("empty", String::new()),
        ("garbage", "a.b.c".to_owned()),
        ("truncated", good[..good.len() - 2].to_owned()),
    ] {
        assert!(
            matches!(keys.verify(&token), Err(AuthError::InvalidToken(_))),
            "{name}"
        );
    }
    assert!(other.verify(&good).is_err());
    assert_eq!(
        JwtKeys::from_secret(b"").err(),
        Some(AuthError::EmptySecret)
    );
    // Random keys verify their own tokens only.
    let r1 = JwtKeys::random().unwrap();
    let r2 = JwtKeys::random().unwrap();
    let t = r1.issue("bob", SystemTime::now()).unwrap();
    assert_eq!(r1.verify(&t).unwrap().sub, "bob");
    assert!(r2.verify(&t).is_err());
}

#[test]
fn a_token_without_sub_is_refused() {
    let secret = b"a test secret";
    let keys = JwtKeys::from_secret(secret).unwrap();
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &serde_json::json!({ "exp": 4_102_444_800u64 }),
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .unwrap();
    assert!(keys.verify(&token).is_err());
}

#[test]
fn rate_limiter_allows_twenty_per_sliding_ten_seconds() {
    assert_eq!((CHAT_MAX, CHAT_WINDOW), (20, Duration::from_secs(10)));
    let t0 = tokio::time::Instant::now();
    let mut rl = RateLimiter::chat();
    for i in 0..20 {
        assert!(rl.try_acquire(t0 + Duration::from_millis(i * 100)), "{i}");
    }
    // The 21st within the window is refused, and refusals do not count.
    assert!(!rl.try_acquire(t0 + Duration::from_secs(2)));
    assert!(!rl.try_acquire(t0 + Duration::from_millis(9_999)));
    // The first allowed one (at t0) leaves the window at t0 + 10 s.
    assert!(rl.try_acquire(t0 + Duration::from_secs(10)));
    assert!(!rl.try_acquire(t0 + Duration::from_millis(10_050)));
    assert!(rl.try_acquire(t0 + Duration::from_millis(10_100)));
    // After a quiet window, the full budget is back.
    let later = t0 + Duration::from_secs(60);
    for i in 0..20 {
        assert!(rl.try_acquire(later + Duration::from_millis(i)), "{i}");
    }
    assert!(!rl.try_acquire(later + Duration::from_millis(20)));
    // A zero budget refuses everything.
    assert!(!RateLimiter::new(0, CHAT_WINDOW).try_acquire(t0));
}

#[test]
fn iso8601_matches_javascript_to_iso_string() {
    for (t, want) in [
        (UNIX_EPOCH, "1970-01-01T00:00:00.000Z"),
        (secs(951_782_400), "2000-02-29T00:00:00.000Z"),
        (secs(951_868_799), "2000-02-29T23:59:59.000Z"),
        (secs(951_868_800), "2000-03-01T00:00:00.000Z"),
        (secs(1_700_000_000), "2023-11-14T22:13:20.000Z"),
        (secs(4_107_542_399), "2100-02-28T23:59:59.000Z"),
        (secs(4_107_542_400), "2100-03-01T00:00:00.000Z"),
        (secs(253_402_300_799), "9999-12-31T23:59:59.000Z"),
        (
            UNIX_EPOCH + Duration::from_millis(1_709_251_199_999),
            "2024-02-29T23:59:59.999Z",
        ),
        (
            UNIX_EPOCH + Duration::from_nanos(1_000_000_999_999),
            "1970-01-01T00:16:40.000Z",
        ),
        (
            UNIX_EPOCH - Duration::from_secs(1),
            "1970-01-01T00:00:00.000Z",
        ),
    ] {
        assert_eq!(iso8601(t), want);
    }
    assert_eq!(epoch_millis(secs(1_700_000_000)), 1_700_000_000_000);
    assert_eq!(epoch_millis(UNIX_EPOCH - Duration::from_secs(5)), 0);
}

#[test]
fn iso8601_agrees_with_a_day_by_day_walk() {
    // Every day from 1970 to 2200 against a calendar walked one day at a time.
    let mut y = 1970u64;
    let mut m = 1u64;
    let mut d = 1u64;
    for day in 0..(230 * 366) {
        let want = format!("{y:04}-{m:02}-{d:02}T00:00:00.000Z");
        assert_eq!(iso8601(secs(day * 86_400)), want);
        let leap = (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400);
        let len = match m {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        d += 1;
        if d > len {
            d = 1;
            m += 1;
            if m > 12 {
                m = 1;
                y += 1;
            }
        }
    }
}

#[test]
fn device_names_table() {
    let long = "a".repeat(MAX_DEVICE_NAME);
    let too_long = "a".repeat(MAX_DEVICE_NAME + 1);
    for (name, want) in [
        ("esp32-c3", Ok(())),
        ("pico_w.1", Ok(())),
        (long.as_str(), Ok(())),
        ("", Err(DeviceNameError::BadLength)),
        (too_long.as_str(), Err(DeviceNameError::BadLength)),
        ("a/b", Err(DeviceNameError::BadCharacter)),
        ("a b", Err(DeviceNameError::BadCharacter)),
        ("é", Err(DeviceNameError::BadCharacter)),
        ("a%2F", Err(DeviceNameError::BadCharacter)),
    ] {
        assert_eq!(validate_device_name(name), want, "{name:?}");
    }
    assert_eq!(
        DeviceNameError::BadCharacter.to_string(),
        "device name may only contain ASCII letters, digits, '-', '_' and '.'"
    );
}

#[test]
fn echo_packet_keeps_the_arguments_verbatim() {
    for (frame, ns, want) in [
        (r#"2["echo"]"#, "/", r#"2["echo-response"]"#),
        (
            r#"2["echo",1,"two",{"b":[true,null],"a":1.50}]"#,
            "/",
            r#"2["echo-response",1,"two",{"b":[true,null],"a":1.50}]"#,
        ),
        (
            r#"2/chat,["echo","x"]"#,
            "/chat",
            r#"2/chat,["echo-response","x"]"#,
        ),
    ] {
        let payload = Payload::from_event_text(frame).unwrap();
        let packet = echo_packet(ns, "echo-response", &payload);
        assert_eq!(packet.text().as_str(), want, "{frame}");
        assert_eq!(packet.attachments().count(), 0);
    }
}
