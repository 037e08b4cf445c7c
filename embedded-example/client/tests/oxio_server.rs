//! The client through the Tokio adapter against an in-process oxio-server.

mod support;

use oxio_client::Event;
use oxio_codec::client::{DisconnectReason, NO_AUTH};
use oxio_codec::socketio::{Binary, BinaryBuf};
use oxio_server::socketio::{AckSender, Bin, Data, SocketIo, SocketRef};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use support::*;

fn soon() -> embassy_time::Instant {
    embassy_time::Instant::now() + embassy_time::Duration::from_secs(5)
}

type Log = Arc<Mutex<Vec<String>>>;

fn app(log: Log) -> SocketIo {
    let sio = SocketIo::builder().build();
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
        s.on("blob", |s: SocketRef, Bin(all): Bin, ack: AckSender| {
            let mut back = all[0].to_vec();
            back.reverse();
            ack.send(&(all[0].len(),)).unwrap();
            s.emit("blob", &("rev", BinaryBuf(back))).unwrap();
        });
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
    let log = Log::default();
    let srv = serve(app(log.clone()), "127.0.0.1:0".parse().unwrap(), None).await;
    let mut c = client(&srv.url(), fast());
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
    let srv = serve(app(Log::default()), "127.0.0.1:0".parse().unwrap(), None).await;
    let mut c = client(&srv.url(), fast());
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
