//! The demo's Socket.IO handlers through fake Engine.IO sessions, frame by
//! frame: `/` (welcome, echo, chat and its rate limit, rooms, time, files,
//! devices) and `/admin` (JWT from auth or query, hello, stats).

#[allow(dead_code)]
use oxio_demo as demo;

use oxio_testkit::fake;

use demo::{DemoConfig, JwtKeys};
use fake::{settle, Conn};
use oxio_server::socketio::SocketIo;
use serde_json::{json, Value};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SECRET: &[u8] = b"the demo tests' secret, 32 bytes";
const WELCOME: &str = r#"2["welcome","Welcome to oxio"]"#;

fn server() -> (SocketIo, JwtKeys) {
    let keys = JwtKeys::from_secret(SECRET).unwrap();
    let (_router, sio) = demo::build(DemoConfig::new(keys.clone()));
    (sio, keys)
}

/// A socket on `/` past its `welcome`; returns it and its socket id.
async fn join(sio: &SocketIo, name: &str) -> (Conn, String) {
    join_with(sio, name, "").await
}

async fn join_with(sio: &SocketIo, name: &str, auth: &str) -> (Conn, String) {
    let c = fake::open_v5_query(sio, name, "EIO=4&transport=websocket");
    let sid = c.connect_with("/", auth).await;
    assert_eq!(c.fake.next_text().await, WELCOME);
    (c, sid)
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

#[tokio::test]
async fn connecting_to_root_gets_welcome() {
    let (sio, _) = server();
    let c = fake::open_v5_query(&sio, "a", "EIO=4");
    let reply = c.connect_raw("/", "").await;
    assert!(reply.starts_with(r#"0{"sid":""#), "{reply}");
    assert_eq!(c.fake.next_text().await, WELCOME);
    c.fake.assert_quiet().await;
}

#[tokio::test]
async fn echo_returns_the_same_arguments_to_the_sender_only() {
    let (sio, _) = server();
    let (a, _) = join(&sio, "a").await;
    let (b, _) = join(&sio, "b").await;
    for (input, want) in [
        (r#"2["echo"]"#, r#"2["echo-response"]"#),
        (r#"2["echo","hi"]"#, r#"2["echo-response","hi"]"#),
        (
            r#"2["echo",1,{"z":[true,null],"a":"é\n"},2.50,-0]"#,
            r#"2["echo-response",1,{"z":[true,null],"a":"é\n"},2.50,-0]"#,
        ),
        // An ack id is not answered: the reply is the event.
        (r#"27["echo","x"]"#, r#"2["echo-response","x"]"#),
    ] {
        a.text(input);
        assert_eq!(a.fake.next_text().await, want, "{input}");
    }
    // Binary arguments come back as attachments, bytes unchanged.
    a.text(r#"52-["echo","f",{"_placeholder":true,"num":0},{"n":{"_placeholder":true,"num":1}}]"#);
    a.binary(&[1, 2, 3]);
    a.binary(&[]);
    assert_eq!(
        a.fake.next_text().await,
        r#"52-["echo-response","f",{"_placeholder":true,"num":0},{"n":{"_placeholder":true,"num":1}}]"#
    );
    assert_eq!(&a.fake.next_binary().await[..], [1, 2, 3]);
    assert_eq!(&a.fake.next_binary().await[..], [] as [u8; 0]);
    a.fake.assert_quiet().await;
    b.fake.assert_quiet().await;
}

#[tokio::test]
async fn chat_message_goes_to_every_other_socket_and_is_acked() {
    let (sio, _) = server();
    let (a, a_id) = join(&sio, "a").await;
    let (b, _) = join(&sio, "b").await;
    let (c, _) = join(&sio, "c").await;
    let before = now_ms();
    a.text(r#"23["chat:message","hello \"all\""]"#);
    let want = format!(r#"2["chat:message",{{"from":"{a_id}","text":"hello \"all\""}}]"#);
    assert_eq!(b.fake.next_text().await, want);
    assert_eq!(c.fake.next_text().await, want);
    let ack = a.fake.next_text().await;
    let args: Value = serde_json::from_str(ack.strip_prefix("33").expect(&ack)).unwrap();
    let at = args[0]["at"].as_u64().expect(&ack);
    assert_eq!(args, json!([{ "ok": true, "at": at }]));
    assert!((before..=now_ms()).contains(&at), "{at}");
    // Without an ack it is relayed all the same.
    a.text(r#"2["chat:message","again"]"#);
    let want = format!(r#"2["chat:message",{{"from":"{a_id}","text":"again"}}]"#);
    assert_eq!(b.fake.next_text().await, want);
    assert_eq!(c.fake.next_text().await, want);
    // Not a string: refused on the ack, relayed to no one.
    a.text(r#"24["chat:message",{"text":"x"}]"#);
    assert_eq!(
        a.fake.next_text().await,
        r#"34[{"ok":false,"error":"text must be a string"}]"#
    );
    a.text(r#"2["chat:message",5]"#);
    for s in [&a, &b, &c] {
        s.fake.assert_quiet().await;
    }
}

#[tokio::test(start_paused = true)]
async fn more_than_20_chat_messages_in_10_s_are_dropped_with_an_error() {
    let (sio, _) = server();
    let (a, a_id) = join(&sio, "a").await;
    let (b, _) = join(&sio, "b").await;
    for i in 0..20 {
        a.text(&format!(r#"2{i}["chat:message","m{i}"]"#));
        assert_eq!(
            b.fake.next_text().await,
            format!(r#"2["chat:message",{{"from":"{a_id}","text":"m{i}"}}]"#)
        );
        assert!(a
            .fake
            .next_text()
            .await
            .starts_with(&format!(r#"3{i}[{{"ok":true,"at":"#)));
        tokio::time::advance(Duration::from_millis(100)).await;
    }
    // The 21st (at 2 s) and a 22nd without an ack: error, dropped.
    a.text(r#"220["chat:message","too many"]"#);
    assert_eq!(
        a.fake.next_text().await,
        r#"2["error",{"message":"Rate limit exceeded"}]"#
    );
    assert_eq!(
        a.fake.next_text().await,
        r#"320[{"ok":false,"error":"Rate limit exceeded"}]"#
    );
    a.text(r#"2["chat:message","still too many"]"#);
    assert_eq!(
        a.fake.next_text().await,
        r#"2["error",{"message":"Rate limit exceeded"}]"#
    );
    a.fake.assert_quiet().await;
    b.fake.assert_quiet().await;
    // Another socket has its own budget.
    b.text(r#"2["chat:message","from b"]"#);
    assert!(a.fake.next_text().await.contains("from b"));
    // 10 s after the first message, one slot is free again.
    tokio::time::advance(Duration::from_secs(8)).await;
    a.text(r#"2["chat:message","back"]"#);
    assert_eq!(
        b.fake.next_text().await,
        format!(r#"2["chat:message",{{"from":"{a_id}","text":"back"}}]"#)
    );
    a.text(r#"2["chat:message","and again too soon"]"#);
    assert_eq!(
        a.fake.next_text().await,
        r#"2["error",{"message":"Rate limit exceeded"}]"#
    );
    b.fake.assert_quiet().await;
}

#[tokio::test]
async fn rooms_join_leave_and_messages() {
    let (sio, _) = server();
    let (a, a_id) = join(&sio, "a").await;
    let (b, b_id) = join(&sio, "b").await;
    let (c, c_id) = join(&sio, "c").await;

    a.text(r#"2["join-room","lobby"]"#);
    assert_eq!(a.fake.next_text().await, r#"2["room-joined","lobby"]"#);
    assert_eq!(
        a.fake.next_text().await,
        format!(r#"2["system","{a_id} joined lobby"]"#)
    );
    b.text(r#"2["join-room","lobby"]"#);
    assert_eq!(b.fake.next_text().await, r#"2["room-joined","lobby"]"#);
    let joined = format!(r#"2["system","{b_id} joined lobby"]"#);
    assert_eq!(b.fake.next_text().await, joined);
    assert_eq!(a.fake.next_text().await, joined);
    c.fake.assert_quiet().await;

    a.text(r#"2["room-message",{"room":"lobby","message":"yo"}]"#);
    assert_eq!(
        b.fake.next_text().await,
        format!(r#"2["room-message-received",{{"from":"{a_id}","message":"yo"}}]"#)
    );
    b.text(r#"2["room-message",{"room":"lobby","message":{"any":["json"]}}]"#);
    assert_eq!(
        a.fake.next_text().await,
        format!(r#"2["room-message-received",{{"from":"{b_id}","message":{{"any":["json"]}}}}]"#)
    );
    a.fake.assert_quiet().await;
    b.fake.assert_quiet().await;
    c.fake.assert_quiet().await;

    // Only members may post.
    c.text(r#"2["room-message",{"room":"lobby","message":"let me in"}]"#);
    assert_eq!(
        c.fake.next_text().await,
        r#"2["error",{"message":"not in room lobby"}]"#
    );
    // After leaving, b neither gets nor sends room messages.
    b.text(r#"2["leave-room","lobby"]"#);
    b.fake.assert_quiet().await;
    a.text(r#"2["room-message",{"room":"lobby","message":"alone"}]"#);
    b.text(r#"2["room-message",{"room":"lobby","message":"gone"}]"#);
    assert_eq!(
        b.fake.next_text().await,
        r#"2["error",{"message":"not in room lobby"}]"#
    );
    a.fake.assert_quiet().await;
    b.fake.assert_quiet().await;

    // A room named like a socket id is a chat room, not that socket.
    c.text(&format!(r#"2["join-room","{b_id}"]"#));
    assert_eq!(
        c.fake.next_text().await,
        format!(r#"2["room-joined","{b_id}"]"#)
    );
    assert_eq!(
        c.fake.next_text().await,
        format!(r#"2["system","{c_id} joined {b_id}"]"#)
    );
    c.text(&format!(
        r#"2["room-message",{{"room":"{b_id}","message":"psst"}}]"#
    ));
    b.fake.assert_quiet().await;

    // Bad arguments.
    let long = "r".repeat(65);
    for input in [
        r#"2["join-room",""]"#.to_owned(),
        format!(r#"2["join-room","{long}"]"#),
        r#"2["join-room",7]"#.to_owned(),
        r#"2["join-room"]"#.to_owned(),
        r#"2["leave-room",""]"#.to_owned(),
    ] {
        a.text(&input);
        assert_eq!(
            a.fake.next_text().await,
            r#"2["error",{"message":"invalid room name"}]"#,
            "{input}"
        );
    }
    a.text(r#"2["room-message","lobby"]"#);
    assert_eq!(
        a.fake.next_text().await,
        r#"2["error",{"message":"room-message takes {\"room\",\"message\"}"}]"#
    );
    // 64 bytes is fine.
    a.text(&format!(r#"2["join-room","{}"]"#, "r".repeat(64)));
    assert_eq!(
        a.fake.next_text().await,
        format!(r#"2["room-joined","{}"]"#, "r".repeat(64))
    );
}

#[tokio::test]
async fn get_time_sends_current_time_and_acks_the_same_string() {
    let (sio, _) = server();
    let (a, _) = join(&sio, "a").await;
    let (b, _) = join(&sio, "b").await;
    let before = SystemTime::now();
    a.text(r#"2["get-time"]"#);
    let frame = a.fake.next_text().await;
    let (iso,): (String,) = serde_json::from_str(
        &frame
            .strip_prefix(r#"2["current-time","#)
            .map(|rest| format!("[{rest}"))
            .expect(&frame),
    )
    .unwrap();
    assert_eq!(iso.len(), 24, "{iso}");
    let bytes = iso.as_bytes();
    for (i, c) in [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
        (23, b'Z'),
    ] {
        assert_eq!(bytes[i], c, "{iso}");
    }
    let lo = demo::clock::iso8601(before - Duration::from_millis(1));
    let hi = demo::clock::iso8601(SystemTime::now());
    assert!(lo <= iso && iso <= hi, "{lo} {iso} {hi}");

    a.text(r#"29["get-time"]"#);
    let frame = a.fake.next_text().await;
    let iso = frame
        .strip_prefix(r#"2["current-time","#)
        .and_then(|s| s.strip_suffix(']'))
        .expect(&frame)
        .to_owned();
    assert_eq!(a.fake.next_text().await, format!("39[{iso}]"));
    a.fake.assert_quiet().await;
    b.fake.assert_quiet().await;
}

#[tokio::test]
async fn file_is_acked_with_its_size_and_sent_to_every_other_socket() {
    let (sio, _) = server();
    let (a, _) = join(&sio, "a").await;
    let (b, _) = join(&sio, "b").await;
    let (c, _) = join(&sio, "c").await;
    let data: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
    a.text(r#"51-5["file","notes.bin",{"_placeholder":true,"num":0}]"#);
    a.binary(&data);
    assert_eq!(a.fake.next_text().await, r#"35[{"ok":true,"size":1000}]"#);
    for s in [&b, &c] {
        assert_eq!(
            s.fake.next_text().await,
            r#"51-["file","notes.bin",{"_placeholder":true,"num":0}]"#
        );
        assert_eq!(&s.fake.next_binary().await[..], &data[..]);
    }
    // An empty file is a file.
    a.text(r#"51-6["file","empty",{"_placeholder":true,"num":0}]"#);
    a.binary(&[]);
    assert_eq!(a.fake.next_text().await, r#"36[{"ok":true,"size":0}]"#);
    assert_eq!(
        b.fake.next_text().await,
        r#"51-["file","empty",{"_placeholder":true,"num":0}]"#
    );
    assert!(b.fake.next_binary().await.is_empty());
    // Not binary, or more than one attachment: refused on the ack, sent to no one.
    a.text(r#"27["file","x","not binary"]"#);
    assert_eq!(
        a.fake.next_text().await,
        r#"37[{"ok":false,"error":"expected a file name and binary data"}]"#
    );
    a.text(r#"52-8["file","x",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#);
    a.binary(&[1]);
    a.binary(&[2]);
    assert_eq!(
        a.fake.next_text().await,
        r#"38[{"ok":false,"error":"expected a file name and binary data"}]"#
    );
    a.fake.assert_quiet().await;
    b.fake.assert_quiet().await;
    let rest: Vec<String> = c.fake.take_now().iter().map(fake::show).collect();
    assert_eq!(
        rest,
        [
            r#"51-["file","empty",{"_placeholder":true,"num":0}]"#,
            "<bin:0>"
        ]
    );
}

#[tokio::test]
async fn admin_requires_a_jwt_in_auth_or_query() {
    let (sio, keys) = server();
    let good = keys.issue("ann", SystemTime::now()).unwrap();
    let expired = keys
        .issue("ann", SystemTime::now() - Duration::from_secs(3601))
        .unwrap();
    let forged = JwtKeys::from_secret(b"other")
        .unwrap()
        .issue("ann", SystemTime::now())
        .unwrap();
    let refused = r#"4/admin,{"message":"unauthorized"}"#;
    for (query, auth) in [
        ("EIO=4", String::new()),
        ("EIO=4", "{}".to_owned()),
        ("EIO=4", json!({ "token": "" }).to_string()),
        ("EIO=4", json!({ "token": "garbage" }).to_string()),
        ("EIO=4", json!({ "token": expired }).to_string()),
        ("EIO=4", json!({ "token": forged }).to_string()),
        ("EIO=4&token=garbage", String::new()),
        ("EIO=4", json!({ "user": "ann" }).to_string()),
    ] {
        let c = fake::open_v5_query(&sio, "x", query);
        assert_eq!(
            c.connect_raw("/admin", &auth).await,
            refused,
            "{query} {auth}"
        );
        c.fake.assert_quiet().await;
    }

    // auth.token
    let c = fake::open_v5_query(&sio, "a", "EIO=4");
    c.connect_with("/admin", &json!({ "token": good }).to_string())
        .await;
    assert_eq!(
        c.fake.next_text().await,
        r#"2/admin,["hello",{"user":"ann"}]"#
    );
    c.fake.assert_quiet().await;

    // The handshake query's token (io("/admin", { query: { token } })).
    let bob = keys.issue("bob", SystemTime::now()).unwrap();
    let c = fake::open_v5_query(&sio, "q", &format!("EIO=4&transport=polling&token={bob}"));
    c.connect_with("/admin", "").await;
    assert_eq!(
        c.fake.next_text().await,
        r#"2/admin,["hello",{"user":"bob"}]"#
    );
}

#[tokio::test]
async fn admin_stats_counts_the_sockets_on_root() {
    let (sio, keys) = server();
    let token = keys.issue("ann", SystemTime::now()).unwrap();
    let admin = fake::open_v5_query(&sio, "adm", "EIO=4");
    admin
        .connect_with("/admin", &json!({ "token": token }).to_string())
        .await;
    assert_eq!(
        admin.fake.next_text().await,
        r#"2/admin,["hello",{"user":"ann"}]"#
    );

    admin.text(r#"2/admin,1["stats"]"#);
    assert_eq!(
        admin.fake.next_text().await,
        r#"3/admin,1[{"connected":0}]"#
    );
    let (a, _) = join(&sio, "a").await;
    let (_b, _) = join_with(&sio, "b", r#"{"device":"esp32"}"#).await;
    admin.text(r#"2/admin,2["stats"]"#);
    assert_eq!(
        admin.fake.next_text().await,
        r#"3/admin,2[{"connected":2}]"#
    );
    a.close();
    settle().await;
    admin.text(r#"2/admin,3["stats"]"#);
    assert_eq!(
        admin.fake.next_text().await,
        r#"3/admin,3[{"connected":1}]"#
    );
    // Without an ack there is nothing to answer.
    admin.text(r#"2/admin,["stats"]"#);
    admin.fake.assert_quiet().await;
    // The same session on `/` too counts once on `/`.
    admin.connect_with("/", "").await;
    assert_eq!(admin.fake.next_text().await, WELCOME);
    admin.text(r#"2/admin,4["stats"]"#);
    assert_eq!(
        admin.fake.next_text().await,
        r#"3/admin,4[{"connected":2}]"#
    );
}

#[tokio::test]
async fn devices_connect_with_a_valid_name_only() {
    let (sio, _) = server();
    for (auth, message) in [
        (r#"{"device":""}"#, "invalid device name: device name must be 1 to 64 bytes"),
        (r#"{"device":"a/b"}"#, "invalid device name: device name may only contain ASCII letters, digits, '-', '_' and '.'"),
        (r#"{"device":5}"#, "invalid device name: device name must be a string"),
        (r#"{"device":["x"]}"#, "invalid device name: device name must be a string"),
    ] {
        let c = fake::open_v5_query(&sio, "d", "EIO=4");
        assert_eq!(
            c.connect_raw("/", auth).await,
            json!({ "message": message }).to_string().replacen('{', "4{", 1),
            "{auth}"
        );
        c.fake.assert_quiet().await;
    }
    // `device: null` is an ordinary socket.
    let (c, _) = join_with(&sio, "n", r#"{"device":null}"#).await;
    c.text(r#"21["sensor",{"temp_c":1,"uptime_ms":1}]"#);
    assert_eq!(
        c.fake.next_text().await,
        r#"31[{"ok":false,"error":"not a device: connect with auth {\"device\":\"<name>\"}"}]"#
    );
}

#[tokio::test]
async fn watchers_see_devices_come_report_and_go() {
    let (sio, _) = server();
    let (watcher, _) = join(&sio, "w").await;
    let (bystander, _) = join(&sio, "by").await;
    watcher.text(r#"21["watch-devices"]"#);
    assert_eq!(watcher.fake.next_text().await, "31[[]]");

    let (esp, _) = join_with(&sio, "esp", r#"{"device":"esp32"}"#).await;
    assert_eq!(
        watcher.fake.next_text().await,
        r#"2["device-update",{"device":"esp32","temp_c":null,"uptime_ms":null,"connected":true}]"#
    );
    esp.text(r#"20["sensor",{"device":"esp32","temp_c":22.25,"uptime_ms":5000}]"#);
    assert_eq!(esp.fake.next_text().await, r#"30[{"ok":true}]"#);
    assert_eq!(
        watcher.fake.next_text().await,
        r#"2["device-update",{"device":"esp32","temp_c":22.25,"uptime_ms":5000,"connected":true}]"#
    );
    // `device` may be left out; a wrong one or a bad reading is refused.
    esp.text(r#"21["sensor",{"temp_c":23,"uptime_ms":10000}]"#);
    assert_eq!(esp.fake.next_text().await, r#"31[{"ok":true}]"#);
    assert_eq!(
        watcher.fake.next_text().await,
        r#"2["device-update",{"device":"esp32","temp_c":23,"uptime_ms":10000,"connected":true}]"#
    );
    for (i, (input, error)) in [
        (
            r#"{"device":"pico","temp_c":1,"uptime_ms":1}"#,
            "device does not match the connection's device",
        ),
        (
            r#"{"device":"esp32","temp_c":"hot","uptime_ms":1}"#,
            r#"sensor takes {\"device\",\"temp_c\",\"uptime_ms\"}"#,
        ),
        (
            r#"{"device":"esp32","temp_c":1,"uptime_ms":-1}"#,
            r#"sensor takes {\"device\",\"temp_c\",\"uptime_ms\"}"#,
        ),
    ]
    .into_iter()
    .enumerate()
    {
        esp.text(&format!(r#"2{}["sensor",{input}]"#, i + 2));
        assert_eq!(
            esp.fake.next_text().await,
            format!(r#"3{}[{{"ok":false,"error":"{error}"}}]"#, i + 2)
        );
    }
    // A new watcher gets the current list on its ack.
    let (late, _) = join(&sio, "late").await;
    late.text(r#"25["watch-devices"]"#);
    assert_eq!(
        late.fake.next_text().await,
        r#"35[[{"device":"esp32","temp_c":23,"uptime_ms":10000,"connected":true}]]"#
    );

    esp.close();
    let gone =
        r#"2["device-update",{"device":"esp32","temp_c":23,"uptime_ms":10000,"connected":false}]"#;
    assert_eq!(watcher.fake.next_text().await, gone);
    assert_eq!(late.fake.next_text().await, gone);
    bystander.fake.assert_quiet().await;
    watcher.fake.assert_quiet().await;
}

#[tokio::test]
async fn a_device_reconnecting_replaces_its_old_socket() {
    let (sio, _) = server();
    let (watcher, _) = join(&sio, "w").await;
    watcher.text(r#"21["watch-devices"]"#);
    assert_eq!(watcher.fake.next_text().await, "31[[]]");
    let (old, _) = join_with(&sio, "old", r#"{"device":"esp32"}"#).await;
    let connected =
        r#"2["device-update",{"device":"esp32","temp_c":null,"uptime_ms":null,"connected":true}]"#;
    assert_eq!(watcher.fake.next_text().await, connected);
    let (new, _) = join_with(&sio, "new", r#"{"device":"esp32"}"#).await;
    // The old socket is disconnected from `/`; watchers see only the new one.
    assert_eq!(old.fake.next_text().await, "1");
    assert_eq!(watcher.fake.next_text().await, connected);
    watcher.fake.assert_quiet().await;
    new.text(r#"21["sensor",{"temp_c":5,"uptime_ms":1}]"#);
    assert_eq!(new.fake.next_text().await, r#"31[{"ok":true}]"#);
    assert!(watcher.fake.next_text().await.contains(r#""temp_c":5,"#));
    old.close();
    settle().await;
    watcher.fake.assert_quiet().await;
}
