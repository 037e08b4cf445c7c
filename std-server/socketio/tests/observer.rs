//! The observer API (`Io::observe`): what an installed observer is told of
//! sessions, packets, sockets, rooms and events, through fake Engine.IO
//! sessions; and that nothing changes for the clients.

use oxio_testkit::fake;

use fake::{open_v5, server, settle};
use oxio_server::adapter::Room;
use oxio_server::engine::{CloseReason, Message, Session};
use oxio_server::socketio::{
    AckSender, DisconnectReason, Observer, Outgoing, Payload, Socket, SocketRef,
};
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl Recorder {
    fn push(&self, s: String) {
        self.0.lock().unwrap().push(s);
    }
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

fn len(m: &Message) -> usize {
    match m {
        Message::Text(t) => t.as_str().len(),
        Message::Binary(b) => b.len(),
    }
}

impl Observer for Recorder {
    fn session_opened(&self, session: &Session) {
        self.push(format!("open {}", session.sid()));
    }
    fn session_closed(&self, session: &Session, reason: CloseReason) {
        self.push(format!("close {} {reason}", session.sid()));
    }
    fn packet_in(&self, _: &Session, msg: &Message) {
        self.push(format!("in {}", len(msg)));
    }
    fn packets_out(&self, _: &Session, msgs: &[Message]) {
        let n: usize = msgs.iter().map(len).sum();
        self.push(format!("out {} {n}", msgs.len()));
    }
    fn socket_connected(&self, s: &SocketRef) {
        self.push(format!("connected {} rooms={}", s.ns(), s.rooms().len()));
    }
    fn socket_disconnected(&self, s: &SocketRef, reason: DisconnectReason) {
        self.push(format!("disconnected {} {reason}", s.ns()));
    }
    fn room_joined(&self, s: &Socket, room: &Room) {
        self.push(format!("join {} {}", s.ns(), name(s, room)));
    }
    fn room_left(&self, s: &Socket, room: &Room) {
        self.push(format!("leave {} {}", s.ns(), name(s, room)));
    }
    fn event_received(&self, s: &SocketRef, payload: &Payload) {
        self.push(format!("received {} {}", s.ns(), payload.raw()));
    }
    fn event_sent(&self, s: &Socket, packet: &Outgoing) {
        self.push(format!("sent {} {}", s.ns(), packet.text().as_str()));
    }
}

#[tokio::test]
async fn an_observer_sees_sessions_packets_sockets_rooms_and_events() {
    let sio = server().build();
    let io = sio.io();
    let rec = Arc::new(Recorder::default());
    io.observe(rec.clone()).unwrap();
    let io2 = io.clone();
    io.ns("/chat", move |s: SocketRef| {
        s.join("lobby");
        s.on("hi", |s: SocketRef, ack: AckSender| {
            let _ = s.emit("hello", &(1,));
            let _ = ack.send(&("ok",));
        });
        let io = io2.clone();
        s.on("move", move |s: SocketRef| {
            s.leave("lobby");
            let _ = io.of("/chat").unwrap().to(s.id()).sockets_join("picked");
        });
    });
    let c = open_v5(&sio, "sid1");
    c.connect("/chat").await;
    settle().await;
    assert_eq!(
        rec.take(),
        [
            "open sid1",
            "in 7",
            "out 1 37",
            "join /chat <own>",
            "join /chat lobby",
            "connected /chat rooms=2",
        ]
    );

    c.text(r#"2/chat,1["hi"]"#);
    assert_eq!(c.fake.next_text().await, r#"2/chat,["hello",1]"#);
    assert_eq!(c.fake.next_text().await, r#"3/chat,1["ok"]"#);
    assert_eq!(
        rec.take(),
        [
            "in 14",
            r#"received /chat ["hi"]"#,
            "out 1 18",
            r#"sent /chat 2/chat,["hello",1]"#,
            "out 1 14",
        ]
    );

    c.text(r#"2/chat,["move"]"#);
    settle().await;
    assert_eq!(
        rec.take(),
        [
            "in 15",
            r#"received /chat ["move"]"#,
            "leave /chat lobby",
            "join /chat picked",
        ]
    );

    c.transport_closed(CloseReason::TransportClose);
    settle().await;
    let mut tail = rec.take();
    tail.sort();
    let mut want = vec![
        "close sid1 transport close",
        "disconnected /chat transport close",
        "leave /chat <own>",
        "leave /chat picked",
    ];
    want.sort();
    assert_eq!(tail, want);
}

/// A room's name, `<own>` for the socket's own room (its id is random).
fn name(s: &Socket, room: &Room) -> String {
    let room = room.to_string();
    if room == s.id().to_string() {
        "<own>".into()
    } else {
        room
    }
}

struct Nothing;
impl Observer for Nothing {}

#[test]
fn observers_are_bounded() {
    let io = server().build().io();
    for _ in 0..oxio_server::socketio::MAX_OBSERVERS {
        io.observe(Arc::new(Nothing)).unwrap();
    }
    assert_eq!(
        io.observe(Arc::new(Nothing)),
        Err(oxio_server::socketio::TooManyObservers)
    );
}
