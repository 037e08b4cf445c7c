//! Events, typed arguments, acks both ways, binary attachments, extractors,
//! packet middleware and ordering, through a fake Engine.IO session.

use oxio_testkit::fake;

use bytes::Bytes;
use fake::{open_v3, open_v5, server, settle};
use oxio_codec::socketio::{Binary, BinaryBuf};
use oxio_server::engine::CloseReason;
use oxio_server::socketio::{
    AckError, AckSender, Bin, Data, Event, MaybeExtension, PacketVerdict, Payload, SocketRef,
    TryData,
};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Log = Arc<Mutex<Vec<String>>>;

fn log() -> Log {
    Arc::new(Mutex::new(Vec::new()))
}

fn entries(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Msg {
    text: String,
    n: u32,
}

#[tokio::test]
async fn typed_arguments_follow_the_tuple_rule() {
    let sio = server().build();
    sio.io().ns("/", |s: SocketRef| {
        s.on("echo", |s: SocketRef, Data(v): Data<serde_json::Value>| {
            s.emit("echo", &v).unwrap();
        });
        s.on("pair", |s: SocketRef, Data((a, m)): Data<(u8, Msg)>| {
            s.emit("pair", &(m, a)).unwrap();
        });
        s.on(
            "spread",
            |s: SocketRef, Data(args): Data<(i32, String, Vec<Vec<bool>>)>| {
                s.emit("message-back", &args).unwrap();
            },
        );
        s.on("none", |s: SocketRef| s.emit("none", &()).unwrap());
    });
    let c = open_v5(&sio, "s");
    c.connect("/").await;
    for (input, want) in [
        (
            r#"2["echo",{"b":1,"a":[2]}]"#,
            r#"2["echo",{"b":1,"a":[2]}]"#,
        ),
        (r#"2["echo","é\n"]"#, r#"2["echo","é\n"]"#),
        (
            r#"2["pair",7,{"text":"hi","n":3}]"#,
            r#"2["pair",{"text":"hi","n":3},7]"#,
        ),
        (
            r#"2["spread",1,"2",[[true]]]"#,
            r#"2["message-back",1,"2",[[true]]]"#,
        ),
        (r#"2["none",1,2]"#, r#"2["none"]"#),
    ] {
        c.text(input);
        assert_eq!(c.fake.next_text().await, want, "{input}");
    }
    // Arguments of the wrong type: the handler is skipped, the session lives.
    c.text(r#"2["pair","x"]"#);
    c.fake.assert_quiet().await;
    assert!(c.fake.closed_reason().is_none());
}

#[tokio::test]
async fn try_data_raw_payload_and_fallback() {
    let sio = server().build();
    let seen = log();
    let s2 = seen.clone();
    sio.io().ns("/", move |s: SocketRef| {
        let s3 = s2.clone();
        s.on("try", move |TryData(r): TryData<u32>| {
            s3.lock().unwrap().push(format!("try {}", r.is_ok()));
        });
        let s3 = s2.clone();
        s.on_fallback(move |Event(name): Event, p: Payload| {
            let raw: Vec<&str> = p.raw_args().collect();
            s3.lock()
                .unwrap()
                .push(format!("fallback {name} {raw:?} {}", p.raw()));
        });
    });
    let c = open_v5(&sio, "s");
    c.connect("/").await;
    c.text(r#"2["try",5]"#);
    c.text(r#"2["try","x"]"#);
    c.text(r#"2["other",1,{"a":"b"}]"#);
    c.text(r#"2[42,true]"#);
    settle().await;
    assert_eq!(
        entries(&seen),
        [
            "try true",
            "try false",
            r#"fallback other ["1", "{\"a\":\"b\"}"] ["other",1,{"a":"b"}]"#,
            r#"fallback 42 ["true"] [42,true]"#,
        ]
    );
}

#[tokio::test]
async fn client_acks_are_answered() {
    let sio = server().build();
    sio.io().ns("/", |s: SocketRef| {
        s.on("add", |Data((a, b)): Data<(i64, i64)>, ack: AckSender| {
            assert!(ack.expected());
            ack.send(&(a + b,)).unwrap();
        });
        s.on("noack", |ack: AckSender| {
            assert!(!ack.expected());
            ack.send(&("ignored",)).unwrap();
        });
        s.on("later", |ack: AckSender| async move {
            tokio::time::sleep(Duration::from_millis(5)).await;
            ack.send(&()).unwrap();
        });
    });
    sio.io().ns("/admin", |s: SocketRef| {
        s.on("bar", |ack: AckSender| ack.send(&("bar",)).unwrap());
    });
    let c = open_v5(&sio, "s");
    c.connect("/").await;
    c.connect("/admin").await;
    c.text(r#"212["add",2,3]"#);
    assert_eq!(c.fake.next_text().await, "312[5]");
    c.text(r#"2["noack"]"#);
    c.fake.assert_quiet().await;
    c.text(r#"29007199254740991["later"]"#);
    assert_eq!(c.fake.next_text().await, "39007199254740991[]");
    c.text(r#"2/admin,13["bar"]"#);
    assert_eq!(c.fake.next_text().await, r#"3/admin,13["bar"]"#);
}

#[tokio::test]
async fn server_acks_resolve_time_out_and_are_freed() {
    let sio = server().ack_timeout(Duration::from_millis(200)).build();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    sio.io().ns("/", move |s: SocketRef| {
        tx.send(s).unwrap();
    });
    let c = open_v5(&sio, "s");
    c.connect("/").await;
    let socket = rx.recv().await.unwrap();

    // Answered: ids come from the namespace counter, from 0.
    let fut = socket.emit_with_ack("q", &(1,));
    assert_eq!(c.fake.next_text().await, r#"20["q",1]"#);
    assert_eq!(socket.pending_acks(), 1);
    c.text(r#"30["a",{"b":2}]"#);
    let payload = fut.await.unwrap();
    let (a, b): (String, serde_json::Value) = payload.args().unwrap();
    assert_eq!((a.as_str(), b["b"].as_u64()), ("a", Some(2)));
    assert_eq!(socket.pending_acks(), 0);
    // Duplicate and unknown ids are ignored.
    c.text(r#"30["again"]"#);
    c.text(r#"399[]"#);
    settle().await;
    assert!(c.fake.closed_reason().is_none());

    // Not answered: the timeout, and the slot is freed.
    let fut = socket.emit_with_ack("q", &());
    assert_eq!(c.fake.next_text().await, r#"21["q"]"#);
    assert_eq!(fut.await.unwrap_err(), AckError::Timeout);
    assert_eq!(socket.pending_acks(), 0);

    // A per-emit timeout.
    let fut = socket
        .timeout(Duration::from_millis(10))
        .emit_with_ack("q", &());
    c.fake.next_text().await;
    assert_eq!(fut.await.unwrap_err(), AckError::Timeout);

    // Disconnected while waiting.
    let fut = socket.emit_with_ack("q", &());
    assert_eq!(c.fake.next_text().await, r#"23["q"]"#);
    c.transport_closed(CloseReason::TransportClose);
    assert_eq!(fut.await.unwrap_err(), AckError::Disconnected);
    assert_eq!(socket.pending_acks(), 0);
    // After the disconnect, emits fail at once.
    assert!(matches!(
        socket.emit_with_ack("q", &()).await,
        Err(AckError::Emit(_))
    ));
}

#[tokio::test]
async fn pending_acks_are_bounded_per_socket() {
    let sio = server().max_pending_acks(2).build();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    sio.io().ns("/", move |s: SocketRef| tx.send(s).unwrap());
    let c = open_v5(&sio, "s");
    c.connect("/").await;
    let socket = rx.recv().await.unwrap();
    let a = socket.emit_with_ack("a", &());
    let b = socket.emit_with_ack("b", &());
    assert_eq!(
        socket.emit_with_ack("c", &()).await.unwrap_err(),
        AckError::TooManyPending
    );
    drop(a); // a waiter that gives up frees its slot
    let c2 = socket.emit_with_ack("c", &());
    assert_eq!(socket.pending_acks(), 2);
    drop((b, c2));
    assert_eq!(socket.pending_acks(), 0);
}

#[tokio::test]
async fn reserved_event_names_are_refused_on_emit() {
    let sio = server().build();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    sio.io().ns("/", move |s: SocketRef| tx.send(s).unwrap());
    let c = open_v5(&sio, "s");
    c.connect("/").await;
    let socket = rx.recv().await.unwrap();
    for name in [
        "connect",
        "connect_error",
        "disconnect",
        "disconnecting",
        "newListener",
        "removeListener",
    ] {
        assert!(socket.emit(name, &()).is_err(), "{name}");
        assert!(sio.io().emit(name, &()).is_err(), "{name}");
    }
    c.fake.assert_quiet().await;
}

#[tokio::test]
async fn binary_arrives_as_attachments_in_order() {
    let sio = server().build();
    let seen = log();
    let s2 = seen.clone();
    sio.io().ns("/", move |s: SocketRef| {
        let s3 = s2.clone();
        s.on(
            "bin",
            move |Data((name, a, b)): Data<(String, BinaryBuf, BinaryBuf)>, Bin(all): Bin| {
                s3.lock()
                    .unwrap()
                    .push(format!("{name} {:?} {:?} {}", a.0, b.0, all.len()));
            },
        );
        let s3 = s2.clone();
        s.on(
            "value",
            move |Data(v): Data<serde_json::Value>, Bin(all): Bin| {
                s3.lock().unwrap().push(format!("{v} {all:?}"));
            },
        );
        s.on("back", |ack: AckSender, Bin(all): Bin| {
            ack.send(&(BinaryBuf(all[0].to_vec()), "ok")).unwrap();
        });
    });
    let c = open_v5(&sio, "s");
    c.connect("/").await;
    c.text(r#"52-["bin","x",{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]"#);
    c.binary(&[1]);
    c.binary(&[2, 2]);
    c.text(r#"51-["value",{"_placeholder":true,"num":0}]"#);
    c.binary(&[9]);
    c.text(r#"51-7["back",{"_placeholder":true,"num":0}]"#);
    c.binary(&[5, 6]);
    assert_eq!(
        c.fake.next_text().await,
        r#"61-7[{"_placeholder":true,"num":0},"ok"]"#
    );
    assert_eq!(c.fake.next_binary().await, Bytes::from_static(&[5, 6]));
    assert_eq!(
        entries(&seen),
        ["x [2, 2] [1] 2", r#"{"_placeholder":true,"num":0} [b"\t"]"#]
    );
}

#[tokio::test]
async fn server_binary_emits_and_binary_acks() {
    let sio = server().build();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    sio.io()
        .ns("/admin", move |s: SocketRef| tx.send(s).unwrap());
    let c = open_v5(&sio, "s");
    c.connect("/admin").await;
    let socket = rx.recv().await.unwrap();
    socket
        .emit("file", &("a.bin", Binary(&[1, 2, 3]), Binary(&[4])))
        .unwrap();
    assert_eq!(
        c.fake.next_text().await,
        r#"52-/admin,["file","a.bin",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#
    );
    assert_eq!(c.fake.next_binary().await, Bytes::from_static(&[1, 2, 3]));
    assert_eq!(c.fake.next_binary().await, Bytes::from_static(&[4]));
    let fut = socket.emit_with_ack("give", &());
    assert_eq!(c.fake.next_text().await, r#"2/admin,0["give"]"#);
    c.text(r#"61-/admin,0[{"_placeholder":true,"num":0}]"#);
    c.binary(&[7, 7]);
    let (b,): (BinaryBuf,) = fut.await.unwrap().args().unwrap();
    assert_eq!(b.0, [7, 7]);
}

#[tokio::test]
async fn events_start_in_arrival_order() {
    let sio = server().build();
    let seen = log();
    let s2 = seen.clone();
    sio.io().ns("/", move |s: SocketRef| {
        let s3 = s2.clone();
        s.on("n", move |Data(n): Data<u32>| {
            let s4 = s3.clone();
            async move {
                s4.lock().unwrap().push(format!("start {n}"));
                // Later events start while this one waits.
                tokio::time::sleep(Duration::from_millis(u64::from(30 - n * 10))).await;
                s4.lock().unwrap().push(format!("end {n}"));
            }
        });
    });
    let c = open_v5(&sio, "s");
    c.connect("/").await;
    for n in 0..3 {
        c.text(&format!(r#"2["n",{n}]"#));
    }
    tokio::time::sleep(Duration::from_millis(80)).await;
    let got = entries(&seen);
    assert_eq!(got[..3], ["start 0", "start 1", "start 2"]);
    assert_eq!(got[3..], ["end 2", "end 1", "end 0"]);
}

#[tokio::test]
async fn disconnect_handler_runs_after_earlier_events() {
    let sio = server().build();
    let seen = log();
    let s2 = seen.clone();
    sio.io().ns("/", move |s: SocketRef| {
        let s3 = s2.clone();
        s.on("e", move |Data(n): Data<u32>| {
            s3.lock().unwrap().push(format!("e{n}"))
        });
        let s3 = s2.clone();
        s.on_disconnect(
            move |_s: SocketRef, r: oxio_server::socketio::DisconnectReason| {
                s3.lock().unwrap().push(r.to_string());
            },
        );
    });
    let c = open_v5(&sio, "s");
    c.connect("/").await;
    c.text(r#"2["e",1]"#);
    c.text(r#"2["e",2]"#);
    c.text("1");
    settle().await;
    assert_eq!(entries(&seen), ["e1", "e2", "client namespace disconnect"]);
}

#[tokio::test]
async fn packet_middleware_passes_drops_and_rejects() {
    let sio = server().build();
    let seen = log();
    let s2 = seen.clone();
    sio.io().ns("/", move |s: SocketRef| {
        s.use_packet(|_s: &SocketRef, event: &str, _p: &Payload| match event {
            "secret" => PacketVerdict::Reject("forbidden".into()),
            "noise" => PacketVerdict::Drop,
            _ => PacketVerdict::Pass,
        });
        s.use_packet(|_s: &SocketRef, _event: &str, p: &Payload| {
            if p.raw().len() > 40 {
                PacketVerdict::Reject("too big".into())
            } else {
                PacketVerdict::Pass
            }
        });
        let s3 = s2.clone();
        s.on_error(move |_s: SocketRef, err: String| {
            s3.lock().unwrap().push(format!("error {err}"))
        });
        let s3 = s2.clone();
        s.on_fallback(move |Event(e): Event| s3.lock().unwrap().push(e));
    });
    let c = open_v5(&sio, "s");
    c.connect("/").await;
    for f in [
        r#"2["ok"]"#,
        r#"2["secret"]"#,
        r#"2["noise"]"#,
        r#"2["big","0123456789012345678901234567890123456789"]"#,
        r#"2["ok2"]"#,
    ] {
        c.text(f);
    }
    settle().await;
    assert_eq!(
        entries(&seen),
        ["ok", "error forbidden", "error too big", "ok2"]
    );
}

#[tokio::test]
async fn extensions_and_handler_panics() {
    #[derive(Clone, Debug)]
    #[allow(dead_code)]
    struct Count(u32);
    let sio = server().build();
    let seen = log();
    let s2 = seen.clone();
    sio.io().ns("/", move |s: SocketRef| {
        s.extensions().insert(Count(1));
        let s3 = s2.clone();
        s.on(
            "get",
            move |MaybeExtension(c): MaybeExtension<Count>,
                  MaybeExtension(u): MaybeExtension<String>| {
                s3.lock().unwrap().push(format!("{c:?} {u:?}"));
            },
        );
        s.on("boom", |s: SocketRef| {
            if s.connected() {
                panic!("handler bug")
            }
        });
        s.on("boom-async", |s: SocketRef| async move {
            if s.connected() {
                panic!("async handler bug")
            }
        });
    });
    let c = open_v5(&sio, "s");
    c.connect("/").await;
    c.text(r#"2["boom"]"#);
    c.text(r#"2["boom-async"]"#);
    c.text(r#"2["get"]"#);
    settle().await;
    assert_eq!(entries(&seen), ["Some(Count(1)) None"]);
    assert!(c.fake.closed_reason().is_none());
}

#[tokio::test]
async fn v3_clients_use_the_same_event_encoding() {
    let sio = server().build();
    sio.io().ns("/", |s: SocketRef| {
        s.on(
            "echo",
            |s: SocketRef, Data(v): Data<serde_json::Value>, ack: AckSender| {
                s.emit("echo", &v).unwrap();
                ack.send(&(Binary(&[1]),)).unwrap();
            },
        );
    });
    let c = open_v3(&sio, "abc");
    assert_eq!(c.fake.next_text().await, "0");
    // v4 has no reserved-name check on the way in.
    c.text(r#"21["echo","x"]"#);
    assert_eq!(c.fake.next_text().await, r#"2["echo","x"]"#);
    assert_eq!(
        c.fake.next_text().await,
        r#"61-1[{"_placeholder":true,"num":0}]"#
    );
    assert_eq!(c.fake.next_binary().await, Bytes::from_static(&[1]));
    // ...but reserved names never reach handlers.
    sio.io().ns("/r", |s: SocketRef| {
        s.on("disconnect", |s: SocketRef| s.emit("bad", &()).unwrap());
        s.on_fallback(|s: SocketRef| s.emit("bad", &()).unwrap());
    });
    c.text("0/r,");
    assert_eq!(c.fake.next_text().await, "0/r,");
    c.text(r#"2/r,["disconnect"]"#);
    c.fake.assert_quiet().await;
    assert!(c.fake.closed_reason().is_none());
}

#[tokio::test]
async fn inbound_flood_closes_the_session() {
    let sio = server().inbound_queue_len(4).build();
    sio.io().ns("/", |s: SocketRef| {
        s.on("e", |_s: SocketRef| {});
    });
    let c = open_v5(&sio, "s");
    c.connect("/").await;
    // No await in between: the socket's task cannot run.
    for _ in 0..10 {
        c.text(r#"2["e"]"#);
    }
    assert_eq!(c.fake.closed_reason(), Some(CloseReason::ForcedClose));
}

#[tokio::test]
async fn an_event_without_a_payload_is_ignored_and_the_session_stays_open() {
    // socket.io-parser accepts `2` (no payload, so no event name); Node emits
    // `undefined`, which no listener receives. Regression test for the
    // codec change that stopped rejecting payload-less packets.
    let seen = log();
    let sio = server().build();
    let s2 = seen.clone();
    sio.io().ns("/", move |s: SocketRef| {
        let seen = s2.clone();
        s.on_fallback(move |ev: Event| seen.lock().unwrap().push(ev.0.to_string()));
        let seen = s2.clone();
        s.on("ping", move |s: SocketRef| {
            seen.lock().unwrap().push("ping".into());
            s.emit("pong", &()).unwrap();
        });
    });
    let c = open_v5(&sio, "s");
    c.connect("/").await;
    c.text("2");
    c.text("21");
    c.text(r#"2["ping"]"#);
    assert_eq!(c.fake.next_text().await, r#"2["pong"]"#);
    settle().await;
    assert_eq!(entries(&seen), ["ping"]);
    assert_eq!(c.fake.closed_reason(), None);
}
