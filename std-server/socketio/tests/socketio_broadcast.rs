//! Rooms, broadcast operators, slow readers, the adapter operations
//! (fetch_sockets, sockets_join/leave, disconnect_sockets, broadcasts with
//! acks) and dynamic namespaces, through fake Engine.IO sessions.

use oxio_testkit::fake;

use fake::{open_v3, open_v5, server, settle, Conn};
use oxio_codec::socketio::Binary;
use oxio_server::adapter::FetchedSocket;
use oxio_server::engine::{CloseReason, Message};
use oxio_server::socketio::{
    AckSender, Data, DisconnectReason, EmitError, OverflowPolicy, SocketIo, SocketRef,
};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A server whose `/` handler joins the rooms named in the auth payload
/// (`{"rooms":[...]}`) and relays a few events as broadcasts.
fn rooms_server(builder: oxio_server::socketio::SocketIoBuilder) -> SocketIo {
    let sio = builder.build();
    sio.io()
        .ns("/", |s: SocketRef, Data(auth): Data<serde_json::Value>| {
            if let Some(rooms) = auth["rooms"].as_array() {
                let rooms: Vec<String> = rooms
                    .iter()
                    .filter_map(|r| r.as_str().map(str::to_owned))
                    .collect();
                s.join(rooms);
            }
            s.on("to", |s: SocketRef, Data(room): Data<String>| {
                s.to(room).emit("msg", &("to",)).unwrap();
            });
            s.on("all-but-me", |s: SocketRef| {
                s.broadcast().emit("msg", &("broadcast",)).unwrap();
            });
            s.on("except", |s: SocketRef, Data(room): Data<String>| {
                s.except(room).emit("msg", &("except",)).unwrap();
            });
        });
    sio
}

async fn join(sio: &SocketIo, sid: &str, rooms: &[&str]) -> (Conn, String) {
    let c = open_v5(sio, sid);
    let auth = serde_json::json!({ "rooms": rooms });
    c.text(&format!("0{auth}"));
    let reply = c.fake.next_text().await;
    let v: serde_json::Value = serde_json::from_str(reply.strip_prefix('0').unwrap()).unwrap();
    (c, v["sid"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn rooms_reach_each_socket_once() {
    let sio = rooms_server(server());
    let (a, _) = join(&sio, "a", &["r1", "r2"]).await;
    let (b, _) = join(&sio, "b", &["r2"]).await;
    let (c, _) = join(&sio, "c", &[]).await;
    let io = sio.io();
    io.to(["r1", "r2"]).emit("news", &(1,)).unwrap();
    io.within("r1").to("r2").emit("news", &(2,)).unwrap();
    for conn in [&a, &b] {
        assert_eq!(conn.fake.next_text().await, r#"2["news",1]"#);
        assert_eq!(conn.fake.next_text().await, r#"2["news",2]"#);
        conn.fake.assert_quiet().await;
    }
    c.fake.assert_quiet().await;
    io.emit("all", &()).unwrap();
    for conn in [&a, &b, &c] {
        assert_eq!(conn.fake.next_text().await, r#"2["all"]"#);
    }
    io.except("r2").emit("x", &()).unwrap();
    assert_eq!(c.fake.next_text().await, r#"2["x"]"#);
    a.fake.assert_quiet().await;
    b.fake.assert_quiet().await;
}

#[tokio::test]
async fn a_broadcast_is_encoded_once() {
    let sio = rooms_server(server());
    let (a, _) = join(&sio, "a", &[]).await;
    let (b, _) = join(&sio, "b", &[]).await;
    sio.io().emit("bin", &(Binary(&[1, 2]),)).unwrap();
    let (ta, tb) = (a.fake.next().await, b.fake.next().await);
    let (ba, bb) = (a.fake.next().await, b.fake.next().await);
    match (ta, tb, ba, bb) {
        (Message::Text(ta), Message::Text(tb), Message::Binary(ba), Message::Binary(bb)) => {
            assert_eq!(ta.as_str(), r#"51-["bin",{"_placeholder":true,"num":0}]"#);
            assert_eq!(
                ta.as_bytes().as_ptr(),
                tb.as_bytes().as_ptr(),
                "shared text"
            );
            assert_eq!(ba.as_ptr(), bb.as_ptr(), "shared attachment");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn socket_operators_exclude_the_sender() {
    let sio = rooms_server(server());
    let (a, _) = join(&sio, "a", &["r"]).await;
    let (b, b_sid) = join(&sio, "b", &["r"]).await;
    let (c, _) = join(&sio, "c", &[]).await;
    a.text(r#"2["to","r"]"#);
    assert_eq!(b.fake.next_text().await, r#"2["msg","to"]"#);
    a.fake.assert_quiet().await;
    c.fake.assert_quiet().await;
    a.text(r#"2["all-but-me"]"#);
    assert_eq!(b.fake.next_text().await, r#"2["msg","broadcast"]"#);
    assert_eq!(c.fake.next_text().await, r#"2["msg","broadcast"]"#);
    a.fake.assert_quiet().await;
    // Excepting a socket id excludes that socket.
    a.text(&format!(r#"2["except","{b_sid}"]"#));
    assert_eq!(c.fake.next_text().await, r#"2["msg","except"]"#);
    a.fake.assert_quiet().await;
    b.fake.assert_quiet().await;
    // A socket id is a room: a private message.
    sio.io().to(b_sid.as_str()).emit("dm", &()).unwrap();
    assert_eq!(b.fake.next_text().await, r#"2["dm"]"#);
    a.fake.assert_quiet().await;
}

#[tokio::test]
async fn slow_readers_are_disconnected_and_volatile_packets_dropped() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sio = server().build();
    let s2 = seen.clone();
    sio.io().ns("/", move |s: SocketRef| {
        let s3 = s2.clone();
        s.on_disconnect(move |s: SocketRef, r: DisconnectReason| {
            s3.lock().unwrap().push(format!("{} {r}", s.id()));
        });
    });
    let fast = open_v5(&sio, "fast");
    let slow = open_v5(&sio, "slow");
    fast.connect("/").await;
    let slow_sid = slow.connect("/").await;
    slow.fake.set_capacity(1); // one message in flight, the CONNECT already read
    slow.fake.drain();
    let io = sio.io();
    io.emit("a", &()).unwrap(); // fills the slow queue
    io.volatile().emit("v", &()).unwrap(); // dropped for slow
    assert!(slow.fake.closed_reason().is_none());
    io.emit("b", &()).unwrap(); // slow is disconnected, fast is not held back
    assert_eq!(slow.fake.closed_reason(), Some(CloseReason::ForcedClose));
    for want in [r#"2["a"]"#, r#"2["v"]"#, r#"2["b"]"#] {
        assert_eq!(fast.fake.next_text().await, want);
    }
    assert_eq!(slow.fake.next_text().await, r#"2["a"]"#);
    slow.fake.assert_quiet().await;
    assert_eq!(*seen.lock().unwrap(), [format!("{slow_sid} forced close")]);
    assert!(fast.fake.closed_reason().is_none());
}

#[tokio::test]
async fn drop_packet_policy_keeps_the_slow_client() {
    let sio = server().overflow(OverflowPolicy::DropPacket).build();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    sio.io().ns("/", move |s: SocketRef| tx.send(s).unwrap());
    let c = open_v5(&sio, "s");
    c.connect("/").await;
    let socket = rx.recv().await.unwrap();
    c.fake.set_capacity(0);
    assert_eq!(socket.emit("x", &()), Err(EmitError::SlowClient));
    assert_eq!(socket.volatile().emit("x", &()), Ok(()));
    assert!(c.fake.closed_reason().is_none());
    // A binary packet goes in whole or not at all: with room for its text
    // but not its attachment, nothing of it is queued and the client stays.
    c.fake.drain();
    c.fake.set_capacity(1);
    assert_eq!(socket.volatile().emit("b", &(Binary(&[1]),)), Ok(()));
    assert_eq!(
        socket.emit("b", &(Binary(&[1]),)),
        Err(EmitError::SlowClient)
    );
    c.fake.assert_quiet().await;
    assert!(c.fake.closed_reason().is_none());
    c.fake.set_capacity(2);
    assert_eq!(socket.emit("b", &(Binary(&[1]),)), Ok(()));
    assert_eq!(
        c.fake.next_text().await,
        r#"51-["b",{"_placeholder":true,"num":0}]"#
    );
}

#[tokio::test]
async fn fetch_join_leave_and_disconnect_sockets() {
    let sio = rooms_server(server());
    let (a, a_sid) = join(&sio, "a", &["r1"]).await;
    let (b, b_sid) = join(&sio, "b", &["r2"]).await;
    let (c, _) = join(&sio, "c", &[]).await;
    let io = sio.io();

    let mut ids: Vec<String> = io
        .to("r1")
        .fetch_sockets()
        .await
        .unwrap()
        .iter()
        .map(|s| s.id().to_string())
        .collect();
    assert_eq!(ids, std::slice::from_ref(&a_sid));
    match &io.to("r1").fetch_sockets().await.unwrap()[0] {
        FetchedSocket::Local(s) => assert_eq!(s.handshake().auth_raw(), r#"{"rooms":["r1"]}"#),
        FetchedSocket::Remote(_) => panic!("memory adapter returns local sockets"),
    }
    assert_eq!(io.fetch_sockets().await.unwrap().len(), 3);

    io.to(["r1", "r2"]).sockets_join("both").unwrap();
    ids = io
        .to("both")
        .fetch_sockets()
        .await
        .unwrap()
        .iter()
        .map(|s| s.id().to_string())
        .collect();
    ids.sort();
    let mut want = vec![a_sid.clone(), b_sid.clone()];
    want.sort();
    assert_eq!(ids, want);
    let mut rooms: Vec<String> = io
        .rooms()
        .await
        .unwrap()
        .iter()
        .map(|r| r.to_string())
        .collect();
    rooms.sort();
    assert!(rooms.contains(&"both".to_owned()) && rooms.contains(&"r1".to_owned()));

    io.to("r1").sockets_leave(["both", "r1"]).unwrap();
    assert_eq!(io.to("both").fetch_sockets().await.unwrap().len(), 1);
    let rooms: Vec<String> = io
        .rooms()
        .await
        .unwrap()
        .iter()
        .map(|r| r.to_string())
        .collect();
    assert!(
        !rooms.contains(&"r1".to_owned()),
        "emptied room deleted: {rooms:?}"
    );

    io.to("r2").disconnect_sockets(false).unwrap();
    assert_eq!(b.fake.next_text().await, "1");
    assert!(b.fake.closed_reason().is_none());
    io.except(a_sid.as_str()).disconnect_sockets(true).unwrap();
    assert_eq!(c.fake.next_text().await, "1");
    assert_eq!(c.fake.closed_reason(), Some(CloseReason::ForcedClose));
    assert!(a.fake.closed_reason().is_none());
    assert_eq!(io.fetch_sockets().await.unwrap().len(), 1);
}

#[tokio::test]
async fn socket_rooms_join_and_leave() {
    let sio = server().build();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    sio.io().ns("/", move |s: SocketRef| tx.send(s).unwrap());
    let c = open_v5(&sio, "s");
    let sid = c.connect("/").await;
    let socket = rx.recv().await.unwrap();
    socket.join(["a", "b"]);
    let mut rooms: Vec<String> = socket.rooms().iter().map(|r| r.to_string()).collect();
    rooms.sort();
    let mut want = vec!["a".to_owned(), "b".to_owned(), sid.clone()];
    want.sort();
    assert_eq!(rooms, want);
    socket.leave("a");
    assert_eq!(socket.rooms().len(), 2);
    socket.leave_all();
    assert!(socket.rooms().is_empty());
    // Room-less sockets are still reached by namespace-wide broadcasts.
    sio.io().emit("x", &()).unwrap();
    assert_eq!(c.fake.next_text().await, r#"2["x"]"#);
    c.transport_closed(CloseReason::TransportClose);
    assert!(sio.io().rooms().await.unwrap().is_empty());
}

#[tokio::test]
async fn broadcast_with_acks_collects_answers() {
    let sio = server().build();
    let io = sio.io();
    let a = open_v5(&sio, "a");
    let b = open_v5(&sio, "b");
    a.connect("/").await;
    b.connect("/").await;
    let fut = io
        .timeout(Duration::from_millis(300))
        .emit_with_ack("q", &(1,));
    // One id for every socket, from the namespace counter.
    assert_eq!(a.fake.next_text().await, r#"20["q",1]"#);
    assert_eq!(b.fake.next_text().await, r#"20["q",1]"#);
    a.text(r#"30["a"]"#);
    b.text(r#"30["b"]"#);
    let acks = fut.await.unwrap();
    assert!(!acks.timed_out);
    assert_eq!(acks.expected, 2);
    let mut got: Vec<String> = acks.values();
    got.sort();
    assert_eq!(got, ["a", "b"]);

    // One answers, one disconnects, and with a third silent: timeout.
    let c = open_v5(&sio, "c");
    c.connect("/").await;
    let fut = io
        .timeout(Duration::from_millis(100))
        .emit_with_ack("q", &());
    for conn in [&a, &b, &c] {
        assert_eq!(conn.fake.next_text().await, r#"21["q"]"#);
    }
    a.text(r#"31["a"]"#);
    b.transport_closed(CloseReason::TransportClose);
    let acks = fut.await.unwrap();
    assert!(acks.timed_out);
    assert_eq!(acks.expected, 3);
    assert_eq!(acks.responses.len(), 2);
    assert_eq!(acks.values::<String>(), ["a"]);
}

#[tokio::test]
async fn single_node_adapter_answers_cluster_questions() {
    let sio = server().build();
    let io = sio.io();
    assert_eq!(io.server_count().await.unwrap(), 1);
    io.server_side_emit("hello", &(1,)).unwrap();
    assert!(io.server_side_emit("disconnect", &()).is_err());
}

#[tokio::test]
async fn io_emits_from_outside_handlers() {
    let sio = server().build();
    sio.io().ns("/chat", |s: SocketRef| s.join("lobby"));
    let a = open_v5(&sio, "a");
    let v3 = open_v3(&sio, "v3");
    assert_eq!(v3.fake.next_text().await, "0");
    a.connect("/chat").await;
    v3.text("0/chat,");
    assert_eq!(v3.fake.next_text().await, "0/chat,");
    let io = sio.io();
    // As from an HTTP route: another task, no socket at hand.
    tokio::spawn(async move {
        io.of("chat")
            .unwrap()
            .to("lobby")
            .emit("announce", &("hi",))
            .unwrap();
    })
    .await
    .unwrap();
    assert_eq!(a.fake.next_text().await, r#"2/chat,["announce","hi"]"#);
    assert_eq!(v3.fake.next_text().await, r#"2/chat,["announce","hi"]"#);
}

#[tokio::test]
async fn dynamic_namespaces_by_pattern_and_predicate() {
    let sio = server().build();
    let io = sio.io();
    io.dyn_ns("/room-{id}", |s: SocketRef| {
        s.on("where", |s: SocketRef, ack: AckSender| {
            ack.send(&(s.ns(),)).unwrap()
        });
    })
    .unwrap()
    .use_middleware(|s: SocketRef| async move {
        if s.ns() == "/room-locked" {
            Err("locked".into())
        } else {
            Ok(())
        }
    });
    io.dyn_ns_with(
        |name| name.starts_with("/team."),
        |s: SocketRef| {
            s.emit("team", &(s.ns(),)).unwrap();
        },
    );
    assert!(io.dyn_ns("/bad{", |_s: SocketRef| {}).is_err());
    let c = open_v5(&sio, "s");
    c.connect("/room-1").await;
    c.text(r#"2/room-1,5["where"]"#);
    assert_eq!(c.fake.next_text().await, r#"3/room-1,5["/room-1"]"#);
    c.text("0/room-locked,");
    assert_eq!(
        c.fake.next_text().await,
        r#"4/room-locked,{"message":"locked"}"#
    );
    c.connect("/team.red").await;
    assert_eq!(
        c.fake.next_text().await,
        r#"2/team.red,["team","/team.red"]"#
    );
    c.text("0/room-1/x,");
    assert_eq!(
        c.fake.next_text().await,
        r#"4/room-1/x,{"message":"Invalid namespace"}"#
    );
    assert!(io.of("/room-1").is_some());
    // Without cleanup, an emptied child stays.
    c.text("1/room-1,");
    settle().await;
    assert!(io.of("/room-1").is_some());
}

#[tokio::test]
async fn empty_child_namespaces_are_cleaned_up_when_asked() {
    let sio = server().cleanup_empty_child_namespaces(true).build();
    let io = sio.io();
    io.dyn_ns("/room-{id}", |_s: SocketRef| {}).unwrap();
    let a = open_v5(&sio, "a");
    let b = open_v5(&sio, "b");
    a.connect("/room-1").await;
    b.connect("/room-1").await;
    a.text("1/room-1,");
    settle().await;
    assert!(io.of("/room-1").is_some(), "still one socket");
    b.transport_closed(CloseReason::TransportClose);
    settle().await;
    assert!(io.of("/room-1").is_none(), "emptied child removed");
    // A refused connect also leaves nothing behind.
    io.dyn_ns("/shut-{id}", |_s: SocketRef| {})
        .unwrap()
        .use_middleware(|_s: SocketRef| async move { Err("no".into()) });
    a.text("0/shut-1,");
    assert_eq!(a.fake.next_text().await, r#"4/shut-1,{"message":"no"}"#);
    settle().await;
    assert!(io.of("/shut-1").is_none());
    // And it can be made again.
    a.connect("/room-1").await;
    assert!(io.of("/room-1").is_some());
    // Static namespaces are never removed.
    io.ns("/static", |_s: SocketRef| {});
    a.connect("/static").await;
    a.text("1/static,");
    settle().await;
    assert!(io.of("/static").is_some());
}
