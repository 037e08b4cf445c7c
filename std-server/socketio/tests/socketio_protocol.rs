//! Socket.IO session rules through a fake Engine.IO session: connect and
//! auth, invalid namespaces, middleware, violations (docs/protocol.md §3.4–3.5),
//! disconnects and their reasons, the connect timeout, and v4 (EIO v3) clients.

use oxio_testkit::fake;

use fake::{open_v3, open_v5, server, settle};
use oxio_server::engine::CloseReason;
use oxio_server::socketio::{
    ConnectError, Data, DisconnectReason, Extension, HandshakeRef, SocketRef, State,
};
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Log = Arc<Mutex<Vec<String>>>;

fn log() -> Log {
    Arc::new(Mutex::new(Vec::new()))
}

fn entries(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

#[tokio::test]
async fn connect_with_auth_replies_with_exactly_sid() {
    let sio = server().build();
    let seen = log();
    let s2 = seen.clone();
    sio.io().ns(
        "/admin",
        move |s: SocketRef, Data(auth): Data<serde_json::Value>| {
            s2.lock().unwrap().push(format!("{} {}", s.id(), auth));
        },
    );
    let c = open_v5(&sio, "eio-sid-1");
    c.text(r#"0/admin,{"token":"123"}"#);
    let reply = c.fake.next_text().await;
    let json = reply.strip_prefix("0/admin,").expect(&reply);
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    let obj = v.as_object().unwrap();
    assert_eq!(obj.keys().collect::<Vec<_>>(), ["sid"]);
    let sid = obj["sid"].as_str().unwrap();
    assert_eq!(sid.len(), 20);
    assert_ne!(
        sid, "eio-sid-1",
        "the Socket.IO id is not the Engine.IO sid"
    );
    settle().await;
    assert_eq!(entries(&seen), [format!(r#"{sid} {{"token":"123"}}"#)]);
    assert!(c.fake.closed_reason().is_none());
}

#[tokio::test]
async fn root_namespace_exists_by_default_and_auth_defaults_to_empty_object() {
    let sio = server().build();
    let c = open_v5(&sio, "s");
    c.text("0");
    let reply = c.fake.next_text().await;
    assert!(reply.starts_with(r#"0{"sid":""#), "{reply}");
    let seen = log();
    let s2 = seen.clone();
    sio.io().ns("/x", move |h: HandshakeRef| {
        s2.lock().unwrap().push(h.auth_raw().to_owned());
    });
    c.text("0/x,");
    c.fake.next_text().await;
    settle().await;
    assert_eq!(entries(&seen), ["{}"]);
}

#[tokio::test]
async fn connect_then_emit_in_handler_keeps_order() {
    let sio = server().build();
    sio.io()
        .ns("/", |s: SocketRef, Data(auth): Data<serde_json::Value>| {
            s.emit("auth", &auth).unwrap();
        });
    let c = open_v5(&sio, "s");
    c.text(r#"0{"a":1}"#);
    assert!(c.fake.next_text().await.starts_with("0{\"sid\""));
    assert_eq!(c.fake.next_text().await, r#"2["auth",{"a":1}]"#);
}

#[tokio::test]
async fn invalid_namespace_gets_connect_error_and_stays_open() {
    let sio = server().build();
    let c = open_v5(&sio, "s");
    c.text("0/nope,");
    assert_eq!(
        c.fake.next_text().await,
        r#"4/nope,{"message":"Invalid namespace"}"#
    );
    assert!(c.fake.closed_reason().is_none());
    c.text("0");
    assert!(c.fake.next_text().await.starts_with("0{"));
    // The v5 decoder does not split a query off: it is part of the name.
    c.text("0/admin?x=1,");
    assert_eq!(
        c.fake.next_text().await,
        r#"4/admin?x=1,{"message":"Invalid namespace"}"#
    );
}

#[tokio::test]
async fn middleware_rejection_sends_message_and_data() {
    let sio = server().build();
    sio.io()
        .ns("/mw", |_s: SocketRef| {})
        .use_middleware(|_s: SocketRef| async move {
            Err(ConnectError::new("not authorized")
                .with_data(serde_json::json!({"content": "retry later"})))
        });
    sio.io()
        .ns("/plain", |_s: SocketRef| {})
        .use_middleware(|_s: SocketRef| async move { Err("nope".into()) });
    let c = open_v5(&sio, "s");
    c.text("0/mw,");
    assert_eq!(
        c.fake.next_text().await,
        r#"4/mw,{"message":"not authorized","data":{"content":"retry later"}}"#
    );
    c.text("0/plain,");
    assert_eq!(c.fake.next_text().await, r#"4/plain,{"message":"nope"}"#);
    assert!(c.fake.closed_reason().is_none());
    // A refused namespace can be tried again (and refused again).
    c.text("0/plain,");
    assert_eq!(c.fake.next_text().await, r#"4/plain,{"message":"nope"}"#);
}

#[tokio::test]
async fn middleware_runs_in_order_and_sets_extensions() {
    #[derive(Clone, Debug, PartialEq)]
    struct User(String);
    let sio = server().with_state(42u32).build();
    let seen = log();
    let s2 = seen.clone();
    sio.io()
        .ns(
            "/",
            move |Extension(user): Extension<User>, State(n): State<u32>| {
                s2.lock().unwrap().push(format!("{user:?} {n}"));
            },
        )
        .use_middleware(|s: SocketRef| async move {
            tokio::time::sleep(Duration::from_millis(5)).await;
            let token: serde_json::Value = s.handshake().auth().map_err(|_| "bad auth")?;
            let Some(name) = token["name"].as_str() else {
                return Err("no name".into());
            };
            s.extensions().insert(User(name.to_owned()));
            Ok(())
        })
        .use_middleware(|s: SocketRef| async move {
            match s.extensions().get::<User>() {
                Some(User(n)) if n != "mallory" => Ok(()),
                _ => Err("blocked".into()),
            }
        });
    let c = open_v5(&sio, "s");
    c.text(r#"0{"name":"mallory"}"#);
    assert_eq!(c.fake.next_text().await, r#"4{"message":"blocked"}"#);
    c.text(r#"0{"name":"ann"}"#);
    assert!(c.fake.next_text().await.starts_with("0{"));
    settle().await;
    assert_eq!(entries(&seen), [r#"User("ann") 42"#]);
}

/// docs/protocol.md §3.5 and §3.4: each of these closes the session with
/// `parse error`.
#[tokio::test]
async fn violations_close_the_session_with_parse_error() {
    let cases: &[(&str, &[&str])] = &[
        ("decode error", &["9"]),
        ("invalid json", &["0", "2[\"a\""]),
        ("event before connect", &[r#"2["x"]"#]),
        ("ack before connect", &[r#"30[]"#]),
        ("event for unjoined namespace", &["0", r#"2/admin,["x"]"#]),
        ("double connect", &["0", "0"]),
        ("client CONNECT_ERROR", &[r#"4{"message":"x"}"#]),
        ("disconnect for unjoined namespace", &["1/admin,"]),
        ("reserved event name", &["0", r#"2["disconnect"]"#]),
        ("empty event", &["0", "2[]"]),
        ("object event", &["0", "2{}"]),
        ("connect with array", &["0[]"]),
        ("disconnect with payload", &["0", "1{}"]),
        ("leading space", &[" 0"]),
        ("zero attachments", &["0", r#"50-["a"]"#]),
        ("too many attachments", &["0", r#"511-["a"]"#]),
        (
            "bad placeholder",
            &["0", r#"51-["a",{"_placeholder":true,"num":1}]"#],
        ),
        (
            "text while waiting for attachment",
            &["0", r#"51-["a",{"_placeholder":true,"num":0}]"#, "0"],
        ),
    ];
    for (name, frames) in cases {
        let sio = server().build();
        sio.io().ns("/admin", |_s: SocketRef| {});
        let c = open_v5(&sio, "s");
        for f in *frames {
            c.text(f);
            settle().await;
        }
        assert_eq!(
            c.fake.closed_reason(),
            Some(CloseReason::ParseError),
            "{name}"
        );
        assert_eq!(sio.io().session_count(), 0, "{name}: client forgotten");
    }
}

#[tokio::test]
async fn unexpected_binary_is_a_violation() {
    let sio = server().build();
    let c = open_v5(&sio, "s");
    c.connect("/").await;
    c.binary(&[1, 2]);
    assert_eq!(c.fake.wait_closed().await, CloseReason::ParseError);
}

#[tokio::test]
async fn event_during_middleware_is_a_violation() {
    let sio = server().build();
    sio.io()
        .ns("/", |_s: SocketRef| {})
        .use_middleware(|_s: SocketRef| async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            Ok(())
        });
    let c = open_v5(&sio, "s");
    c.text("0");
    c.text(r#"2["early"]"#);
    assert_eq!(c.fake.wait_closed().await, CloseReason::ParseError);
    settle().await;
    assert!(
        c.fake.all().is_empty(),
        "no CONNECT after the close: {:?}",
        c.fake.all()
    );
}

#[tokio::test]
async fn a_violation_on_one_session_does_not_touch_another() {
    let sio = server().build();
    sio.io().ns("/", |s: SocketRef| {
        s.on("ping", |s: SocketRef| {
            s.emit("pong", &()).unwrap();
        });
    });
    let good = open_v5(&sio, "good");
    let bad = open_v5(&sio, "bad");
    good.connect("/").await;
    bad.connect("/").await;
    bad.text("2{");
    assert_eq!(bad.fake.wait_closed().await, CloseReason::ParseError);
    good.text(r#"2["ping"]"#);
    assert_eq!(good.fake.next_text().await, r#"2["pong"]"#);
    assert!(good.fake.closed_reason().is_none());
}

#[tokio::test]
async fn client_disconnect_removes_socket_sends_nothing_and_stays_open() {
    let sio = server().build();
    let seen = log();
    let s2 = seen.clone();
    sio.io().ns("/admin", move |s: SocketRef| {
        let s3 = s2.clone();
        s.on_disconnect(move |s: SocketRef, reason: DisconnectReason| {
            s3.lock().unwrap().push(format!("{} {}", s.ns(), reason));
        });
    });
    let c = open_v5(&sio, "s");
    c.connect("/").await;
    c.connect("/admin").await;
    c.text("1/admin,");
    c.fake.assert_quiet().await;
    assert_eq!(entries(&seen), ["/admin client namespace disconnect"]);
    assert!(c.fake.closed_reason().is_none());
    assert_eq!(
        sio.io()
            .of("/admin")
            .unwrap()
            .fetch_sockets()
            .await
            .unwrap()
            .len(),
        0
    );
    // Leaving the last namespace keeps the connection too; joining again works.
    c.text("1");
    c.fake.assert_quiet().await;
    assert!(c.fake.closed_reason().is_none());
    c.connect("/admin").await;
    // And an event for the namespace left is now a violation.
    c.text(r#"2["x"]"#);
    assert_eq!(c.fake.wait_closed().await, CloseReason::ParseError);
}

#[tokio::test]
async fn transport_reasons_reach_disconnect_handlers() {
    for (reason, want) in [
        (CloseReason::TransportClose, "transport close"),
        (CloseReason::TransportError, "transport error"),
        (CloseReason::PingTimeout, "ping timeout"),
        (CloseReason::ParseError, "parse error"),
        (CloseReason::ForcedClose, "forced close"),
        (CloseReason::ServerShuttingDown, "server shutting down"),
    ] {
        let sio = server().build();
        let seen = log();
        let s2 = seen.clone();
        sio.io().ns("/", move |s: SocketRef| {
            let s3 = s2.clone();
            s.on_disconnect(move |s: SocketRef, r: DisconnectReason| {
                assert!(!s.connected());
                s3.lock().unwrap().push(r.to_string());
            });
        });
        let c = open_v5(&sio, "s");
        c.connect("/").await;
        c.transport_closed(reason);
        settle().await;
        assert_eq!(entries(&seen), [want]);
        assert_eq!(sio.io().session_count(), 0);
        assert!(sio.io().fetch_sockets().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn server_disconnect_sends_disconnect_packet() {
    let sio = server().build();
    let seen = log();
    let s2 = seen.clone();
    sio.io().ns("/admin", move |s: SocketRef| {
        let s3 = s2.clone();
        s.on_disconnect(move |_s: SocketRef, r: DisconnectReason| {
            s3.lock().unwrap().push(r.to_string());
        });
        s.on("kick", |s: SocketRef| s.disconnect());
        s.on("kill", |s: SocketRef| s.disconnect_and_close());
    });
    let c = open_v5(&sio, "s");
    c.connect("/").await;
    c.connect("/admin").await;
    c.text(r#"2/admin,["kick"]"#);
    assert_eq!(c.fake.next_text().await, "1/admin,");
    settle().await;
    assert_eq!(entries(&seen), ["server namespace disconnect"]);
    assert!(c.fake.closed_reason().is_none());
    c.connect("/admin").await;
    c.text(r#"2/admin,["kill"]"#);
    // Every namespace is told, then the connection closes.
    let mut frames = vec![c.fake.next_text().await, c.fake.next_text().await];
    frames.sort();
    assert_eq!(frames, ["1", "1/admin,"]);
    assert_eq!(c.fake.wait_closed().await, CloseReason::ForcedClose);
}

#[tokio::test(start_paused = true)]
async fn connect_timeout_closes_idle_sessions_only() {
    let sio = server()
        .connect_timeout(Duration::from_millis(45_000))
        .build();
    let idle = open_v5(&sio, "idle");
    let joined = open_v5(&sio, "joined");
    joined.connect("/").await;
    joined.text("1"); // leaving does not re-arm the timer (as in Node)
    tokio::time::sleep(Duration::from_millis(44_000)).await;
    assert!(idle.fake.closed_reason().is_none());
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(idle.fake.closed_reason(), Some(CloseReason::ForcedClose));
    assert!(joined.fake.closed_reason().is_none());
}

#[tokio::test(start_paused = true)]
async fn stalled_attachments_close_the_session() {
    let sio = server().build();
    let c = open_v5(&sio, "s");
    c.connect("/").await;
    c.text(r#"51-["a",{"_placeholder":true,"num":0}]"#);
    tokio::time::sleep(Duration::from_millis(29_000)).await;
    assert!(c.fake.closed_reason().is_none());
    tokio::time::sleep(Duration::from_millis(2_000)).await;
    assert_eq!(c.fake.closed_reason(), Some(CloseReason::ParseError));
}

#[tokio::test]
async fn v3_client_is_connected_to_root_implicitly() {
    let sio = server().build();
    let seen = log();
    let s2 = seen.clone();
    sio.io().ns("/", move |s: SocketRef| {
        s2.lock().unwrap().push(s.id().to_string());
        s.emit("hello", &(1,)).unwrap();
    });
    let c = open_v3(&sio, "eio3sid");
    assert_eq!(c.fake.next_text().await, "0");
    assert_eq!(c.fake.next_text().await, r#"2["hello",1]"#);
    assert_eq!(entries(&seen), ["eio3sid"]);
    // A v2 client never sends `0` for `/`; doing so is a double connect.
    c.text("0");
    assert_eq!(c.fake.wait_closed().await, CloseReason::ParseError);
}

#[tokio::test]
async fn v3_namespace_connect_takes_auth_from_query() {
    let sio = server().build();
    let seen = log();
    let s2 = seen.clone();
    sio.io().ns(
        "/admin",
        move |s: SocketRef, Data(auth): Data<serde_json::Value>| {
            s2.lock().unwrap().push(format!("{} {}", s.id(), auth));
        },
    );
    let c = open_v3(&sio, "abc");
    assert_eq!(c.fake.next_text().await, "0");
    c.text("0/admin?token=abc%21&x=1,");
    assert_eq!(c.fake.next_text().await, "0/admin,");
    settle().await;
    assert_eq!(entries(&seen), [r#"/admin#abc {"token":"abc!","x":"1"}"#]);
    c.text(r#"2/admin,["ev"]"#);
    c.text("0/nope,");
    assert_eq!(
        c.fake.next_text().await,
        r#"4/nope,{"message":"Invalid namespace"}"#
    );
}

#[tokio::test]
async fn v3_connect_errors_are_strings_or_data() {
    let sio = server().build();
    sio.io()
        .ns("/m", |_s: SocketRef| {})
        .use_middleware(|_s: SocketRef| async move { Err("Not authorized".into()) });
    sio.io()
        .ns("/d", |_s: SocketRef| {})
        .use_middleware(|_s: SocketRef| async move {
            Err(ConnectError::new("x").with_data(serde_json::json!({"code": 7})))
        });
    let c = open_v3(&sio, "abc");
    assert_eq!(c.fake.next_text().await, "0");
    c.text("0/m,");
    assert_eq!(c.fake.next_text().await, r#"4/m,"Not authorized""#);
    c.text("0/d,");
    assert_eq!(c.fake.next_text().await, r#"4/d,{"code":7}"#);
}

#[tokio::test]
async fn v3_root_refused_by_middleware() {
    let sio = server().build();
    sio.io()
        .ns("/", |_s: SocketRef| {})
        .use_middleware(|_s: SocketRef| async move { Err("go away".into()) });
    let c = open_v3(&sio, "abc");
    assert_eq!(c.fake.next_text().await, r#"4"go away""#);
    assert!(c.fake.closed_reason().is_none());
}

#[tokio::test]
async fn handshake_carries_request_data() {
    let sio = server().build();
    let seen = log();
    let s2 = seen.clone();
    sio.io().ns("/", move |h: HandshakeRef| {
        s2.lock().unwrap().push(format!(
            "{:?} {:?} {:?} {}",
            h.query_param("room"),
            h.header("x-test"),
            h.address.map(|a| a.to_string()),
            h.issued
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs()
        ));
    });
    let c = open_v5(&sio, "s");
    c.connect("/").await;
    settle().await;
    assert_eq!(
        entries(&seen),
        [r#"Some("a b") Some("yes") Some("127.0.0.1:4000") 1700000000"#]
    );
}

#[tokio::test]
async fn too_many_namespaces_are_refused() {
    let sio = server().max_namespaces_per_client(2).build();
    sio.io().ns("/a", |_s: SocketRef| {});
    sio.io().ns("/b", |_s: SocketRef| {});
    let c = open_v5(&sio, "s");
    c.connect("/").await;
    c.connect("/a").await;
    c.text("0/b,");
    assert_eq!(
        c.fake.next_text().await,
        r#"4/b,{"message":"Too many namespaces"}"#
    );
    assert!(c.fake.closed_reason().is_none());
}

#[tokio::test]
async fn io_close_shuts_every_session_down() {
    let sio = server().build();
    let a = open_v5(&sio, "a");
    let b = open_v5(&sio, "b");
    a.connect("/").await;
    sio.io().close();
    assert_eq!(
        a.fake.closed_reason(),
        Some(CloseReason::ServerShuttingDown)
    );
    assert_eq!(
        b.fake.closed_reason(),
        Some(CloseReason::ServerShuttingDown)
    );
    assert_eq!(sio.io().session_count(), 0);
}
