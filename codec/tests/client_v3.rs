//! The client session in Engine.IO v3 / Socket.IO v4 mode, against a
//! scripted socket.io 2.x server: implicit `/`, auth in the namespace's
//! query string, client-driven heartbeat, string CONNECT errors, binary
//! frames with a type byte.

mod client_support;

use client_support::*;
use oxio_codec::client::{
    Action, Config, DisconnectReason, EmitOptions, Error, Frame, Incoming, NO_AUTH,
};
use oxio_codec::engineio::Version;
use oxio_codec::socketio::Binary;
use oxio_codec::Instant;
use DisconnectReason::*;

#[derive(serde::Serialize)]
struct Auth<'a> {
    token: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    room: Option<u32>,
}

fn v3() -> Config {
    Config {
        version: Version::V3,
        ..Config::default()
    }
}

/// `/` and `/admin` (auth `token=123`) joined.
fn connected_v3() -> Harness {
    let mut h: Harness = Harness::new(v3());
    h.s.connect("/", NO_AUTH).unwrap();
    let auth = Auth {
        token: "123",
        room: None,
    };
    h.s.connect("/admin", Some(&auth)).unwrap();
    assert_eq!(
        h.open_with(OPEN_V3),
        "/socket.io/?EIO=3&transport=websocket"
    );
    assert_eq!(h.sent(), [t("40/admin?token=123,")], "no CONNECT for /");
    assert_eq!(h.text("40"), Ok(In::Nothing));
    assert_eq!(h.text("40/admin,"), Ok(In::Nothing));
    assert_eq!(
        h.events(),
        [connected("/", "eio1"), connected("/admin", "/admin#eio1")]
    );
    h
}

#[test]
fn implicit_root_and_query_string_auth() {
    let h = connected_v3();
    assert_eq!(h.s.sid("/"), Some("eio1"));
    assert!(h.s.is_connected("/admin"));
}

#[test]
fn auth_values_are_url_encoded() {
    let mut h: Harness = Harness::new(v3());
    let auth = Auth {
        token: "a b&c=d/é",
        room: Some(7),
    };
    h.s.connect("/chat", Some(&auth)).unwrap();
    h.open_with(OPEN_V3);
    assert_eq!(
        h.sent(),
        [t("40/chat?token=a%20b%26c%3Dd%2F%C3%A9&room=7,")]
    );
}

#[test]
fn auth_for_root_or_nested_auth_is_refused() {
    let mut h: Harness = Harness::new(v3());
    let auth = Auth {
        token: "x",
        room: None,
    };
    assert_eq!(h.s.connect("/", Some(&auth)), Err(Error::AuthUnsupported));
    let nested = serde_json::json!({"a": {"b": 1}});
    assert_eq!(h.s.connect("/a", Some(&nested)), Err(Error::InvalidAuth));
    assert_eq!(h.s.connect("/a", Some(&serde_json::json!({}))), Ok(()));
    h.open_with(OPEN_V3);
    assert_eq!(h.sent(), [t("40/a,")]);
}

#[test]
fn the_client_pings_and_expects_a_pong() {
    let mut h = connected_v3();
    assert_eq!(h.s.poll_timeout(), Some(Instant::from_millis(25_000)));
    assert_eq!(h.text("2"), Ok(In::Nothing), "a v3 server does not ping");
    assert_eq!(h.sent(), []);
    h.skip_to_deadline();
    assert_eq!(h.sent(), [t("2")]);
    assert_eq!(h.s.poll_timeout(), Some(Instant::from_millis(30_000)));
    h.advance(100);
    assert_eq!(h.text("3"), Ok(In::Nothing));
    assert_eq!(h.s.poll_timeout(), Some(Instant::from_millis(50_100)));
    h.skip_to_deadline();
    assert_eq!(h.sent(), [t("2")]);
    h.advance(4_999);
    assert!(h.events().is_empty());
    h.advance(1);
    assert_eq!(
        h.events(),
        [
            Ev::ServerLost,
            disconnected("/", PingTimeout),
            disconnected("/admin", PingTimeout),
        ]
    );
    assert_eq!(h.action(), Some(Action::Close));
    assert_eq!(h.drop_transport(), [Ev::Reconnecting(1, 1000)]);
    h.skip_to_deadline();
    h.open_with(OPEN_V3);
    assert_eq!(
        h.sent(),
        [t("40/admin?token=123,")],
        "rejoined with its auth"
    );
}

#[test]
fn connect_errors_carry_a_string() {
    let mut h: Harness = Harness::new(v3());
    h.s.connect("/", NO_AUTH).unwrap();
    h.s.connect("/admin", NO_AUTH).unwrap();
    h.s.connect("/other", NO_AUTH).unwrap();
    h.open_with(OPEN_V3);
    assert_eq!(h.sent(), [t("40/admin,"), t("40/other,")]);
    assert_eq!(h.text(r#"44/admin,"Not authorized""#), Ok(In::Nothing));
    assert_eq!(
        h.text(r#"44/other,{"message":"Invalid namespace"}"#),
        Ok(In::Nothing)
    );
    assert_eq!(
        h.events(),
        [
            Ev::ConnectError("/admin".into(), "Not authorized".into()),
            Ev::ConnectError("/other".into(), "Invalid namespace".into()),
        ]
    );
}

#[test]
fn events_acks_and_binary_frames_with_a_type_byte() {
    let mut h = connected_v3();
    let now = h.now;
    // Socket.IO v4 has no reserved event names.
    assert_eq!(
        h.s.emit("/", "disconnect", &(), EmitOptions::default(), now),
        Ok(None)
    );
    h.s.emit(
        "/admin",
        "up",
        &(Binary(&[1, 2, 3]),),
        EmitOptions::with_ack(1000),
        now,
    )
    .unwrap();
    assert_eq!(
        h.sent(),
        [
            t(r#"42["disconnect"]"#),
            t(r#"451-/admin,0["up",{"_placeholder":true,"num":0}]"#),
            b(&[4, 1, 2, 3]),
        ]
    );
    assert_eq!(
        h.text(r#"43/admin,0["ok"]"#),
        Ok(ack("/admin", 0, r#"["ok"]"#))
    );
    // Numeric event names are allowed.
    assert_eq!(h.text(r#"42[1,"x"]"#), Ok(event("/", r#"[1,"x"]"#, None)));
    // A binary attachment in a binary frame (type byte 4) or a text frame (`b4<base64>`).
    h.text(r#"452-["file",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#)
        .unwrap();
    assert_eq!(h.bin(&[4, 9, 9]), Ok(In::Nothing));
    let now = h.now;
    match h.s.handle_frame(Frame::Text("b4CAg="), now).unwrap() {
        Some(Incoming::Event { packet, .. }) => {
            let (a, b): (Binary, Binary) = packet.args().unwrap();
            assert_eq!((a.0, b.0), (&[9u8, 9][..], &[8u8, 8][..]));
        }
        other => panic!("{other:?}"),
    }
    // A v3 binary frame of another type carries nothing.
    assert_eq!(h.bin(&[2, 1]), Ok(In::Nothing));
    // An ack with binary, answered in kind.
    h.text(r#"427["q"]"#).unwrap();
    let request = h.last_ack.unwrap();
    h.s.ack(request, &(Binary(&[5]),)).unwrap();
    assert_eq!(
        h.sent(),
        [t(r#"461-7[{"_placeholder":true,"num":0}]"#), b(&[4, 5])]
    );
}

#[test]
fn server_disconnect_of_root_in_v3() {
    let mut h = connected_v3();
    h.text("41").unwrap();
    assert_eq!(h.events(), [disconnected("/", ServerDisconnect)]);
    assert_eq!(h.action(), None, "/admin is still joined");
    h.drop_transport();
    h.skip_to_deadline();
    h.open_with(OPEN_V3);
    assert_eq!(h.sent(), [t("40/admin?token=123,")]);
    assert_eq!(
        h.text("40"),
        Ok(In::Nothing),
        "/ was left: its implicit join is ignored"
    );
    h.text("40/admin,").unwrap();
    assert_eq!(h.events().last(), Some(&connected("/admin", "/admin#eio1")));
}
