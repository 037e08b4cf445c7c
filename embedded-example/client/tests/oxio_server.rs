//! The client through the Tokio adapter against an in-process oxio-server.

mod support;

use oxio_client::Event;
use oxio_codec::client::{DisconnectReason, NO_AUTH};
use oxio_codec::socketio::{Binary, BinaryBuf};
use oxio_server::socketio::{AckSender, Data, Parser, SocketIo, SocketRef};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use support::*;

fn soon() -> embassy_time::Instant {
    embassy_time::Instant::now() + embassy_time::Duration::from_secs(5)
}

type Log = Arc<Mutex<Vec<String>>>;

fn app(log: Log) -> SocketIo {
    app_with(Parser::Json, log)
}

/// [`app`] speaking `parser`.
fn app_with(parser: Parser, log: Log) -> SocketIo {
    let sio = SocketIo::builder().parser(parser).build();
    let io = sio.io();
    let l = log.clone();
    io.ns("/", move |s: SocketRef, Data(auth): Data<Value>| {
        l.lock().unwrap().push(format!("connect {auth}"));
        s.emit("hello", &auth).unwrap();
        let l2 = l.clone();
        s.on("sensor", move |Data(v): Data<Value>, ack: AckSender| {
            l2.lock().unwrap().push(format!("sensor {v}"));
            ack.send(&()).unwrap();
        });
        let l3 = l.clone();
        s.on("note", move |Data(v): Data<Value>| {
            l3.lock().unwrap().push(format!("note {v}"));
        });
        s.on("add", |Data((a, b)): Data<(i64, i64)>, ack: AckSender| {
            ack.send(&(a + b,)).unwrap();
        });
        // The bytes: an attachment (JSON) or inline (msgpack).
        s.on(
            "blob",
            |s: SocketRef, Data(b): Data<BinaryBuf>, ack: AckSender| {
                let mut back = b.0;
                back.reverse();
                ack.send(&(back.len(),)).unwrap();
                s.emit("blob", &("rev", BinaryBuf(back))).unwrap();
            },
        );
        let l4 = l.clone();
        s.on("ask", move |s3: SocketRef| {
            let l5 = l4.clone();
            tokio::spawn(async move {
                let r = s3.emit_with_ack("led", &json!({"on": true})).await;
                let v: Value = r.unwrap().args().unwrap();
                l5.lock().unwrap().push(format!("led ack {v}"));
            });
        });
    });
    io.ns("/admin", |s: SocketRef| {
        s.on("who", |s: SocketRef| s.emit("who", &("admin",)).unwrap());
    });
    io.ns("/closed", |_: SocketRef| {})
        .use_middleware(|_: SocketRef| async {
            Err(oxio_server::socketio::ConnectError::new("not authorized"))
        });
    sio
}

fn entries(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

#[tokio::test(flavor = "current_thread")]
async fn events_acks_and_binary_both_ways() {
    events_acks_and_binary(Parser::Json).await;
}

/// Issue 13: the client with `Config::msgpack` against a server with the
/// msgpack parser: the same exchange, bytes inline both ways.
#[tokio::test(flavor = "current_thread")]
async fn msgpack_events_acks_and_binary_both_ways() {
    events_acks_and_binary(Parser::Msgpack).await;
}

fn config_for(parser: Parser) -> oxio_codec::client::Config {
    match parser {
        Parser::Msgpack => fast_msgpack(),
        _ => fast(),
    }
}

async fn events_acks_and_binary(parser: Parser) {
    let log = Log::default();
    let srv = serve(
        app_with(parser, log.clone()),
        "127.0.0.1:0".parse().unwrap(),
        None,
    )
    .await;
    let mut c = client(&srv.url(), config_for(parser));
    c.connect("/", Some(&json!({"device": "dev1"}))).unwrap();
    assert_eq!(next(&mut c).await, "connected /");
    assert_eq!(next(&mut c).await, r#"msg / ["hello",{"device":"dev1"}] -"#);
    // Client → server with ack, typed answer.
    let (sum,): (i64,) = c.emit_with_ack("add", &(2, 40)).await.unwrap();
    assert_eq!(sum, 42);
    let () = c
        .emit_with_ack("sensor", &json!({"device": "dev1", "temp_c": 21.5}))
        .await
        .unwrap();
    // Binary client → server, server → client.
    let (n,): (usize,) = c
        .emit_with_ack("blob", &(Binary(&[1, 2, 3]),))
        .await
        .unwrap();
    assert_eq!(n, 3);
    match c
        .next_event_until(Some(soon()))
        .await
        .unwrap()
        .expect("no event within 5 s")
    {
        Event::Message(m) => {
            assert!(m.is("blob"), "{:?} {:?}", m, m.packet());
            let (tag, bytes): (&str, Binary<'_>) = m.args().unwrap();
            assert_eq!((tag, bytes.0), ("rev", &[3u8, 2, 1][..]));
        }
        other => panic!("{}", describe(&other)),
    }
    // Server → client with ack.
    c.emit("ask", &()).await.unwrap();
    let request = match c
        .next_event_until(Some(soon()))
        .await
        .unwrap()
        .expect("no event within 5 s")
    {
        Event::Message(m) => {
            assert!(m.is("led"));
            #[derive(serde::Deserialize)]
            struct Led {
                on: bool,
            }
            assert!(m.args::<Led>().unwrap().on);
            m.ack_request().unwrap()
        }
        other => panic!("{}", describe(&other)),
    };
    c.ack(request, &json!({"ok": true})).await.unwrap();
    for _ in 0..50 {
        if entries(&log).iter().any(|e| e.starts_with("led ack")) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        entries(&log),
        [
            r#"connect {"device":"dev1"}"#,
            r#"sensor {"device":"dev1","temp_c":21.5}"#,
            r#"led ack {"ok":true}"#,
        ]
    );
    c.close().await;
    srv.stop().await;
}

#[tokio::test(flavor = "current_thread")]
async fn two_namespaces_and_connect_error() {
    namespaces_and_connect_error(Parser::Json).await;
}

#[tokio::test(flavor = "current_thread")]
async fn msgpack_two_namespaces_and_connect_error() {
    namespaces_and_connect_error(Parser::Msgpack).await;
}

async fn namespaces_and_connect_error(parser: Parser) {
    let srv = serve(
        app_with(parser, Log::default()),
        "127.0.0.1:0".parse().unwrap(),
        None,
    )
    .await;
    let mut c = client(&srv.url(), config_for(parser));
    c.connect("/", NO_AUTH).unwrap();
    c.connect("/admin", NO_AUTH).unwrap();
    c.connect("/closed", NO_AUTH).unwrap();
    let mut seen = vec![];
    for _ in 0..4 {
        seen.push(next(&mut c).await);
    }
    seen.sort();
    assert_eq!(
        seen,
        [
            "connect_error /closed not authorized",
            "connected /",
            "connected /admin",
            r#"msg / ["hello",{}] -"#,
        ]
    );
    c.emit_to("/admin", "who", &()).await.unwrap();
    assert_eq!(next(&mut c).await, r#"msg /admin ["who","admin"] -"#);
    assert!(c.is_connected("/admin") && !c.is_connected("/closed"));
    c.disconnect("/admin").await.unwrap();
    assert!(!c.is_connected("/admin"));
    srv.stop().await;
}

#[tokio::test(flavor = "current_thread")]
async fn reconnects_after_restart_and_delivers_buffered_emits_once_in_order() {
    let log = Log::default();
    let srv = serve(app(log.clone()), "127.0.0.1:0".parse().unwrap(), None).await;
    let addr = srv.addr;
    let mut c = client(&srv.url(), fast());
    c.connect("/", Some(&json!({"n": 1}))).unwrap();
    assert_eq!(next(&mut c).await, "connected /");
    srv.stop().await;
    assert_eq!(
        until(&mut c, "disconnected").await,
        "disconnected / transport close"
    );
    for i in 0..3 {
        c.emit("note", &(i,)).await.unwrap(); // buffered
    }
    let srv = serve(app(log.clone()), addr, None).await;
    assert_eq!(until(&mut c, "connected").await, "connected /");
    c.emit("note", &(3,)).await.unwrap();
    let () = c.emit_with_ack("sensor", &"sync").await.unwrap();
    let notes: Vec<String> = entries(&log)
        .into_iter()
        .filter(|e| e.starts_with("note") || e.starts_with("connect"))
        .collect();
    assert_eq!(
        notes,
        [
            r#"connect {"n":1}"#,
            r#"connect {"n":1}"#,
            "note 0",
            "note 1",
            "note 2",
            "note 3"
        ]
    );
    srv.stop().await;
}

#[tokio::test(flavor = "current_thread")]
async fn server_disconnect_is_reported() {
    let sio = SocketIo::builder().build();
    sio.io().ns("/", |s: SocketRef| {
        s.on("kick", |s: SocketRef| {
            s.disconnect();
        });
    });
    let srv = serve(sio, "127.0.0.1:0".parse().unwrap(), None).await;
    let mut c = client(&srv.url(), fast());
    c.connect("/", NO_AUTH).unwrap();
    assert_eq!(next(&mut c).await, "connected /");
    c.emit("kick", &()).await.unwrap();
    assert_eq!(
        next(&mut c).await,
        format!("disconnected / {}", DisconnectReason::ServerDisconnect)
    );
    srv.stop().await;
}

/// `/` with connection state recovery on: logs each connection (auth, and
/// whether it was recovered); `drop` closes the connection under the
/// socket (a recoverable `forced close`).
fn recovering_app(log: Log) -> SocketIo {
    let sio = SocketIo::builder()
        .connection_state_recovery(oxio_server::socketio::ConnectionStateRecovery::default())
        .build();
    sio.io()
        .ns("/", move |s: SocketRef, Data(auth): Data<Value>| {
            log.lock()
                .unwrap()
                .push(format!("connect {} {} {auth}", s.id(), s.recovered()));
            s.on("drop", |s: SocketRef| s.close_connection());
        });
    sio
}

#[tokio::test(flavor = "current_thread")]
async fn connection_state_recovery_replays_missed_events_once() {
    let log = Log::default();
    let sio = recovering_app(log.clone());
    let io = sio.io();
    let srv = serve(sio, "127.0.0.1:0".parse().unwrap(), None).await;
    let mut c = client(&srv.url(), fast());
    c.connect("/", Some(&json!({"device": "dev1"}))).unwrap();
    assert_eq!(next(&mut c).await, "connected /");
    io.emit("news", &(0,)).unwrap();
    let first = next(&mut c).await;
    assert_eq!(news_number(&first), Some(0), "{first}");
    let offset = last_string(&first);

    for round in 1..=2 {
        c.emit("drop", &()).await.unwrap();
        assert_eq!(
            until(&mut c, "disconnected").await,
            "disconnected / transport close"
        );
        // Give the server time to persist the session, then broadcast
        // what the client misses (the client is not driven meanwhile, so
        // it cannot reconnect yet).
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        for i in 1..=3 {
            io.emit("news", &(round * 10 + i,)).unwrap();
        }
        let seen = events_until_connected(&mut c).await;
        let news: Vec<i64> = seen.iter().filter_map(|e| news_number(e)).collect();
        assert_eq!(
            news,
            [round * 10 + 1, round * 10 + 2, round * 10 + 3],
            "each missed event once, in order, before the Connected event: {seen:?}"
        );
        assert_eq!(
            seen.last().map(String::as_str),
            Some("recovered /"),
            "{seen:?}"
        );
        // Live events after the recovery, once.
        io.emit("news", &(round * 10 + 4,)).unwrap();
        let live = next(&mut c).await;
        assert_eq!(news_number(&live), Some(round * 10 + 4), "{live}");
    }
    let quiet = embassy_time::Instant::now() + embassy_time::Duration::from_millis(300);
    assert!(
        matches!(c.next_event_until(Some(quiet)).await, Ok(None)),
        "nothing twice"
    );

    // The server saw one socket, recovered twice, and the client's auth
    // merged with pid and offset (the first reconnection's offset is the
    // last event received before the drop).
    let connects = entries(&log);
    assert_eq!(connects.len(), 3, "{connects:?}");
    let fields: Vec<Vec<&str>> = connects
        .iter()
        .map(|e| e.splitn(4, ' ').collect())
        .collect();
    assert!(
        fields.iter().all(|f| f[1] == fields[0][1]),
        "same sid: {connects:?}"
    );
    let recovered: Vec<&str> = fields.iter().map(|f| f[2]).collect();
    assert_eq!(recovered, ["false", "true", "true"]);
    assert_eq!(fields[0][3], r#"{"device":"dev1"}"#);
    let auth: Value = serde_json::from_str(fields[1][3]).unwrap();
    assert_eq!(auth["device"], "dev1");
    assert_eq!(auth["offset"], offset.as_str());
    assert_eq!(auth["pid"].as_str().map(str::len), Some(20));
    let keys: Vec<&String> = auth.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["pid", "offset", "device"]);
    c.close().await;
    srv.stop().await;
}
