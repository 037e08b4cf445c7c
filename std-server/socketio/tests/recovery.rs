//! Connection state recovery (issue 12) through fake Engine.IO sessions:
//! the wire format (pid in CONNECT, offsets as last argument), what is
//! recorded, restore (missed packets before CONNECT, same id, rooms, data),
//! what is never restored (bad input, expired, namespace disconnects), and
//! broadcasts racing a recovery. The real npm client and Node's server are
//! in `recovery_node.rs`.

use oxio_testkit::fake;

use fake::{open_v3, open_v5, server, settle, Conn};
use oxio_codec::socketio::Binary;
use oxio_server::engine::CloseReason;
use oxio_server::socketio::{
    ConnectError, ConnectionStateRecovery, Data, SocketData, SocketIo, SocketIoBuilder, SocketRef,
};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn csr() -> ConnectionStateRecovery {
    ConnectionStateRecovery::default()
}

/// `/` joins the rooms named in the auth (`{"rooms":[..]}`), stores
/// `{"user":..}` as its data and records the sockets it saw.
fn app(builder: SocketIoBuilder, seen: Arc<Mutex<Vec<SocketRef>>>) -> SocketIo {
    app_counting(builder, seen, Arc::new(AtomicUsize::new(0)))
}

/// [`app`], with a connect middleware on `/` that counts its runs.
fn app_counting(
    builder: SocketIoBuilder,
    seen: Arc<Mutex<Vec<SocketRef>>>,
    middleware_runs: Arc<AtomicUsize>,
) -> SocketIo {
    let sio = builder.build();
    sio.io()
        .ns("/", move |s: SocketRef, Data(auth): Data<Value>| {
            if !s.recovered() {
                if let Some(rooms) = auth["rooms"].as_array() {
                    let rooms: Vec<String> = rooms
                        .iter()
                        .filter_map(|r| r.as_str().map(str::to_owned))
                        .collect();
                    s.join(rooms);
                }
                s.extensions()
                    .insert(SocketData(json!({"user": auth["user"].clone()})));
            }
            seen.lock().unwrap().push(s);
        })
        .use_middleware(move |_: SocketRef| {
            middleware_runs.fetch_add(1, Ordering::SeqCst);
            async { Ok::<(), ConnectError>(()) }
        });
    sio.io().ns("/chat", |_: SocketRef| {});
    sio
}

fn parse_connect(reply: &str, ns: &str) -> Value {
    let prefix = if ns == "/" {
        "0".to_owned()
    } else {
        format!("0{ns},")
    };
    let json = reply
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("not a CONNECT for {ns}: {reply}"));
    serde_json::from_str(json).unwrap()
}

/// Connects `/` with `auth`; (sid, pid).
async fn connect(c: &Conn, auth: Value) -> (String, String) {
    let v = parse_connect(&c.connect_raw("/", &auth.to_string()).await, "/");
    (
        v["sid"].as_str().unwrap().to_owned(),
        v["pid"].as_str().unwrap().to_owned(),
    )
}

/// The JSON array of an EVENT text frame (`2[..]`, `2/nsp,[..]`).
fn args(text: &str) -> Vec<Value> {
    let start = text.find('[').unwrap();
    serde_json::from_str(&text[start..]).unwrap()
}

fn last_offset(text: &str) -> String {
    args(text).last().unwrap().as_str().unwrap().to_owned()
}

fn is_offset(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        (7..=20).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    })
}

#[tokio::test]
async fn connect_reply_carries_a_pid_only_with_recovery_on() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sio = app(server().connection_state_recovery(csr()), seen.clone());
    let c = open_v5(&sio, "e1");
    let v = parse_connect(&c.connect_raw("/", "").await, "/");
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["sid", "pid"]);
    assert_eq!(v["sid"].as_str().unwrap().len(), 20);
    assert_eq!(v["pid"].as_str().unwrap().len(), 20);
    assert_ne!(v["sid"], v["pid"]);
    let v = parse_connect(&c.connect_raw("/chat", "").await, "/chat");
    assert_eq!(v["pid"].as_str().unwrap().len(), 20);

    // v4 (EIO3) clients get no pid: `0` as before.
    let c3 = open_v3(&sio, "e3");
    settle().await;
    assert_eq!(c3.fake.all().first().map(String::as_str), Some("0"));

    // Off (the default): no pid.
    let sio = app(server(), seen);
    let c = open_v5(&sio, "e2");
    let v = parse_connect(&c.connect_raw("/", "").await, "/");
    assert!(v.get("pid").is_none(), "{v}");
}

#[tokio::test]
async fn only_events_without_ack_and_not_volatile_get_an_offset() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sio = app(server().connection_state_recovery(csr()), seen.clone());
    let c = open_v5(&sio, "e1");
    connect(&c, json!({})).await;
    settle().await;
    let s = seen.lock().unwrap()[0].clone();
    let io = sio.io();

    s.emit("one", &(1,)).unwrap();
    io.emit("two", &("x",)).unwrap();
    io.local().emit("three", &()).unwrap();
    s.emit("bin", &(Binary(&[1, 2]),)).unwrap();
    s.volatile().emit("vol", &(4,)).unwrap();
    io.volatile().emit("vol2", &(5,)).unwrap();
    let _ask = s.emit_with_ack("ask", &(6,));
    let _ask2 = io.emit_with_ack("ask2", &(7,));

    let mut offsets = Vec::new();
    for (name, want_args) in [
        ("one", json!([1])),
        ("two", json!(["x"])),
        ("three", json!([])),
    ] {
        let t = c.fake.next_text().await;
        let a = args(&t);
        assert_eq!(a[0], name, "{t}");
        assert_eq!(Value::from(a[1..a.len() - 1].to_vec()), want_args, "{t}");
        assert!(is_offset(a.last().unwrap()), "{t}");
        offsets.push(last_offset(&t));
    }
    let t = c.fake.next_text().await;
    assert!(
        t.starts_with(r#"51-["bin",{"_placeholder":true,"num":0},""#),
        "{t}"
    );
    offsets.push(last_offset(&t));
    assert_eq!(&c.fake.next_binary().await[..], [1, 2]);
    assert_eq!(c.fake.next_text().await, r#"2["vol",4]"#);
    assert_eq!(c.fake.next_text().await, r#"2["vol2",5]"#);
    assert_eq!(c.fake.next_text().await, r#"20["ask",6]"#);
    assert_eq!(c.fake.next_text().await, r#"21["ask2",7]"#);
    let mut sorted = offsets.clone();
    sorted.dedup();
    assert_eq!(sorted.len(), 4, "offsets unique: {offsets:?}");

    // Off: nothing appended.
    let sio = app(server(), seen.clone());
    let c = open_v5(&sio, "e2");
    c.connect_raw("/", "").await;
    settle().await;
    sio.io().emit("two", &("x",)).unwrap();
    assert_eq!(c.fake.next_text().await, r#"2["two","x"]"#);
}

/// Connects a client in rooms `r1` and `r2`, hands it one event so it
/// knows an offset, then loses its transport with `reason`.
async fn connected_then_lost(sio: &SocketIo, reason: CloseReason) -> (String, String, String) {
    let c = open_v5(sio, "first");
    let (sid, pid) = connect(&c, json!({"rooms": ["r1", "r2"], "user": "ada"})).await;
    settle().await;
    sio.io().to("r1").emit("hello", &(0,)).unwrap();
    let offset = last_offset(&c.fake.next_text().await);
    c.transport_closed(reason);
    settle().await;
    (sid, pid, offset)
}

#[tokio::test]
async fn a_lost_client_gets_its_socket_back_and_what_it_missed_before_connect() {
    for reason in [
        CloseReason::TransportClose,
        CloseReason::TransportError,
        CloseReason::PingTimeout,
        CloseReason::ForcedClose,
        CloseReason::ServerShuttingDown,
    ] {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sio = app(server().connection_state_recovery(csr()), seen.clone());
        let other = open_v5(&sio, "other");
        connect(&other, json!({"rooms": ["r3"]})).await;
        let (sid, pid, offset) = connected_then_lost(&sio, reason).await;

        let io = sio.io();
        io.to("r1").emit("m", &(1,)).unwrap();
        io.to("r3").emit("m", &("not mine",)).unwrap();
        io.emit("m", &(2,)).unwrap();
        io.to("r2").except("r1").emit("m", &("excluded",)).unwrap();
        io.to(sid.as_str()).emit("m", &(3,)).unwrap();
        io.volatile().emit("m", &("volatile",)).unwrap();
        io.to(["r1", "r2"]).emit("m", &(Binary(&[9]),)).unwrap();

        let c = open_v5(&sio, "second");
        let auth = json!({"pid": pid, "offset": offset, "token": "t"});
        let got: Vec<Value> = {
            c.text(&format!("0{auth}"));
            let mut got = Vec::new();
            for _ in 0..3 {
                let a = args(&c.fake.next_text().await);
                got.push(a[1].clone());
            }
            got
        };
        assert_eq!(got, [json!(1), json!(2), json!(3)], "{reason:?}");
        assert!(c
            .fake
            .next_text()
            .await
            .starts_with(r#"51-["m",{"_placeholder":true,"num":0},""#));
        assert_eq!(&c.fake.next_binary().await[..], [9]);
        let v = parse_connect(&c.fake.next_text().await, "/");
        assert_eq!(
            (v["sid"].as_str(), v["pid"].as_str()),
            (Some(&*sid), Some(&*pid))
        );
        settle().await;
        let s = seen.lock().unwrap().last().unwrap().clone();
        assert!(s.recovered());
        assert_eq!(s.id().as_str(), sid);
        let mut rooms: Vec<String> = s.rooms().iter().map(|r| r.to_string()).collect();
        rooms.sort();
        let mut want = vec![sid.clone(), "r1".into(), "r2".into()];
        want.sort();
        assert_eq!(rooms, want);
        assert_eq!(
            s.extensions().get::<SocketData>(),
            Some(SocketData(json!({"user": "ada"})))
        );
        // The handshake is the new connection's.
        assert_eq!(s.handshake().auth_raw(), auth.to_string());
        // Live again: reached by its rooms.
        io.to("r2").emit("live", &()).unwrap();
        assert_eq!(args(&c.fake.next_text().await)[0], "live");
        c.fake.assert_quiet().await;
    }
}

#[tokio::test]
async fn nothing_is_kept_after_a_namespace_disconnect_or_a_parse_error() {
    for how in ["client", "server", "parse"] {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sio = app(server().connection_state_recovery(csr()), seen.clone());
        let c = open_v5(&sio, "first");
        let (sid, pid) = connect(&c, json!({"rooms": ["r1"]})).await;
        settle().await;
        sio.io().emit("hello", &()).unwrap();
        let offset = last_offset(&c.fake.next_text().await);
        match how {
            "client" => c.text("1"),
            "server" => seen.lock().unwrap()[0].disconnect(),
            _ => c.transport_closed(CloseReason::ParseError),
        }
        settle().await;
        sio.io().emit("m", &()).unwrap();
        let c2 = open_v5(&sio, "second");
        let (sid2, pid2) = connect(&c2, json!({"pid": pid, "offset": offset})).await;
        assert_ne!(sid2, sid, "{how}");
        assert_ne!(pid2, pid, "{how}");
        settle().await;
        assert!(!seen.lock().unwrap().last().unwrap().recovered());
    }
}

#[tokio::test]
async fn bad_recovery_input_gets_a_new_session_and_nothing_of_anyone_else() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sio = app(server().connection_state_recovery(csr()), seen.clone());
    let (sid, pid, offset) = connected_then_lost(&sio, CloseReason::TransportClose).await;
    sio.io().to("r1").emit("secret", &()).unwrap();
    // A /chat offset: valid, but from another stream.
    let chat = open_v5(&sio, "chat");
    chat.connect_raw("/chat", "").await;
    settle().await;
    sio.io().of("/chat").unwrap().emit("c", &()).unwrap();
    let chat_offset = last_offset(&chat.fake.next_text().await);

    let long = "A".repeat(100_000);
    for auth in [
        json!({"pid": "AAAAAAAAAAAAAAAAAAAA", "offset": offset}),
        json!({"pid": pid, "offset": "zzzzzzz"}),
        json!({"pid": pid, "offset": chat_offset}),
        json!({"pid": pid, "offset": "not an offset at all"}),
        json!({"pid": pid, "offset": 12}),
        json!({"pid": pid}),
        json!({"offset": offset}),
        json!({"pid": [pid], "offset": offset}),
        json!({"pid": {"x": pid}, "offset": [offset]}),
        json!({"pid": null, "offset": offset}),
        json!({"pid": format!("{pid}{long}"), "offset": offset}),
        json!({"pid": pid, "offset": format!("{offset}{long}")}),
        json!({"pid": pid.to_uppercase(), "offset": offset}),
        json!({"pid": sid, "offset": offset}),
    ] {
        let c = open_v5(&sio, "bad");
        c.text(&format!("0{auth}"));
        let reply = c.fake.next_text().await;
        let v = parse_connect(&reply, "/");
        assert_ne!(v["sid"].as_str(), Some(&*sid), "{auth}");
        assert_ne!(v["pid"].as_str(), Some(&*pid), "{auth}");
        settle().await;
        let s = seen.lock().unwrap().last().unwrap().clone();
        assert!(!s.recovered(), "{auth}");
        assert_eq!(s.rooms().len(), 1, "{auth}");
        c.fake.assert_quiet().await;
        c.close();
    }
    // The real owner still recovers, and gets the secret exactly once.
    let c = open_v5(&sio, "owner");
    c.text(&format!("0{}", json!({"pid": pid, "offset": offset})));
    assert_eq!(args(&c.fake.next_text().await)[0], "secret");
    let v = parse_connect(&c.fake.next_text().await, "/");
    assert_eq!(v["sid"].as_str(), Some(&*sid));
    // A session is used once: a second attempt with the same pid is new.
    let c2 = open_v5(&sio, "again");
    let (sid2, _) = connect(&c2, json!({"pid": pid, "offset": offset})).await;
    assert_ne!(sid2, sid);
}

#[tokio::test(start_paused = true)]
async fn an_expired_session_is_not_restored() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let opts = ConnectionStateRecovery {
        max_disconnection_duration: Duration::from_secs(5),
        ..csr()
    };
    let sio = app(server().connection_state_recovery(opts), seen.clone());
    let (sid, pid, offset) = connected_then_lost(&sio, CloseReason::TransportClose).await;
    // A packet recorded later keeps the client's offset's neighbours alive.
    tokio::time::advance(Duration::from_secs(6)).await;
    let c = open_v5(&sio, "late");
    let (sid2, pid2) = connect(&c, json!({"pid": pid, "offset": offset})).await;
    assert_ne!(sid2, sid);
    assert_ne!(pid2, pid);
}

#[tokio::test]
async fn middlewares_are_skipped_on_recovery_unless_told_otherwise() {
    for skip in [true, false] {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let ran = Arc::new(AtomicUsize::new(0));
        let opts = ConnectionStateRecovery {
            skip_middlewares: skip,
            ..csr()
        };
        let sio = app_counting(server().connection_state_recovery(opts), seen, ran.clone());
        let (sid, pid, offset) = connected_then_lost(&sio, CloseReason::TransportClose).await;
        assert_eq!(ran.load(Ordering::SeqCst), 1);
        let c = open_v5(&sio, "back");
        let (sid2, _) = connect(&c, json!({"pid": pid, "offset": offset})).await;
        assert_eq!(sid2, sid);
        assert_eq!(ran.load(Ordering::SeqCst), if skip { 1 } else { 2 });
    }
}

/// Broadcasts race the recovery: every event reaches the recovering
/// client exactly once, in order, whether it was missed (replayed before
/// CONNECT), held while the socket was being restored, or live.
#[test]
fn broadcasts_racing_a_recovery_arrive_exactly_once_in_order() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        for round in 0..20 {
            let seen = Arc::new(Mutex::new(Vec::new()));
            let sio = app(server().connection_state_recovery(csr()), seen.clone());
            let c = open_v5(&sio, "first");
            let (sid, pid) = connect(&c, json!({"rooms": ["r"]})).await;
            settle().await;
            let io = sio.io();
            io.to("r").emit("n", &(0,)).unwrap();
            let offset = last_offset(&c.fake.next_text().await);
            let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let sent = Arc::new(AtomicUsize::new(1));
            let mut tasks = Vec::new();
            // Two broadcasters, each numbering from one shared counter
            // under the send, so the recorded order is the counter order.
            let lock = Arc::new(Mutex::new(()));
            for _ in 0..2 {
                let (io, stop, sent, lock) = (io.clone(), stop.clone(), sent.clone(), lock.clone());
                tasks.push(tokio::spawn(async move {
                    while !stop.load(Ordering::SeqCst) {
                        {
                            let _g = lock.lock().unwrap();
                            let n = sent.fetch_add(1, Ordering::SeqCst);
                            io.to("r").emit("n", &(n,)).unwrap();
                        }
                        tokio::task::yield_now().await;
                    }
                }));
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
            c.close();
            tokio::time::sleep(Duration::from_millis(2)).await;
            let c2 = open_v5(&sio, "back");
            c2.text(&format!("0{}", json!({"pid": pid, "offset": offset})));
            tokio::time::sleep(Duration::from_millis(5)).await;
            stop.store(true, Ordering::SeqCst);
            for t in tasks {
                t.await.unwrap();
            }
            let total = sent.load(Ordering::SeqCst);
            settle().await;
            // What the first connection saw before it closed, then what
            // the second one got: 1..total, each once, in order.
            let mut numbers: Vec<u64> = Vec::new();
            for m in c.fake.all().iter().skip(2) {
                numbers.push(args(m)[1].as_u64().unwrap());
            }
            let before = numbers.len();
            let mut connect_at = None;
            for (i, m) in c2.fake.all().iter().enumerate() {
                if m.starts_with('0') {
                    let v = parse_connect(m, "/");
                    assert_eq!(v["sid"].as_str(), Some(&*sid), "round {round}");
                    connect_at = Some(i);
                    continue;
                }
                numbers.push(args(m)[1].as_u64().unwrap());
            }
            assert!(connect_at.is_some(), "round {round}: {:?}", c2.fake.all());
            // The first connection's unseen tail is replayed: the client
            // presented offset 0, so the second connection restarts at 1.
            let second: Vec<u64> = numbers[before..].to_vec();
            let want: Vec<u64> = (1..total as u64).collect();
            assert_eq!(second, want, "round {round}");
        }
    });
}
