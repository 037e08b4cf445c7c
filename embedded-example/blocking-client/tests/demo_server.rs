//! The blocking client against the demo server, started in-process on a
//! Tokio runtime of its own (the server needs one; the client under test
//! runs on the test's thread with nothing but blocking sockets): device
//! auth on `/`, emits with acks, events from the server, a refused auth,
//! and a server restart on the same port.

use oxio_blocking_client::Client;
use oxio_codec::client::{Config, EmitOptions, Event, Incoming, Session};
use oxio_demo::{DemoConfig, JwtKeys};
use oxio_server::config::EngineConfig;
use oxio_server::engine::Engine;
use serde_json::json;
use std::net::SocketAddr;
use std::time::Duration;

const SECRET: &[u8] = b"the blocking client tests' secret";
const WAIT: Duration = Duration::from_secs(10);

/// The demo app (`oxio_demo::build`) with Socket.IO mounted, as the demo
/// binary serves it; stopped by dropping its runtime (every connection cut).
struct DemoServer {
    runtime: tokio::runtime::Runtime,
    addr: SocketAddr,
}

impl DemoServer {
    fn start(addr: &str) -> DemoServer {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let addr = runtime.block_on(async {
            let listener = oxio_server::service::bind(addr, 128).await.unwrap();
            let addr = listener.local_addr().unwrap();
            let keys = JwtKeys::from_secret(SECRET).unwrap();
            let (router, sio) = oxio_demo::build(DemoConfig::new(keys));
            let engine = Engine::new(EngineConfig::default(), sio);
            let app = router.layer(engine.layer());
            tokio::spawn(async move { axum::serve(listener, app).await });
            addr
        });
        DemoServer { runtime, addr }
    }

    /// Cuts every connection and stops listening.
    fn stop(self) {
        self.runtime.shutdown_timeout(Duration::from_secs(5));
    }
}

/// Quick reconnections, so the restart test is short.
fn fast() -> Config {
    Config {
        reconnection_delay_ms: 100,
        reconnection_delay_max_ms: 300,
        randomization_factor_permille: 0,
        connect_timeout_ms: Some(2_000),
        ..Config::default()
    }
}

/// What the client saw, as text: packets (`event [..]`, `ack <id> [..]`)
/// and connection events (`connected /`, `disconnected / <reason>`, ...).
#[derive(Default)]
struct Seen {
    packets: Vec<String>,
    events: Vec<String>,
}

impl Seen {
    fn packet(&mut self, p: Incoming<'_>) {
        self.packets.push(match p {
            Incoming::Event { packet, ack } => format!(
                "event {}{}",
                packet.payload().unwrap_or(""),
                if ack.is_some() { " (ack)" } else { "" }
            ),
            Incoming::Ack { id, packet } => format!("ack {id} {}", packet.payload().unwrap_or("")),
            // This client does not turn msgpack on.
            Incoming::MsgpackEvent { .. } | Incoming::MsgpackAck { .. } => "msgpack".into(),
        });
    }

    fn drain(&mut self, s: &mut Session<oxio_blocking_client::Jitter>) {
        while let Some(e) = s.poll_event() {
            self.events.push(match e {
                Event::Connected { namespace, .. } => format!("connected {namespace}"),
                Event::ConnectError { namespace, message } => {
                    format!("connect_error {namespace} {message}")
                }
                Event::Disconnected { namespace, reason } => {
                    format!("disconnected {namespace} {reason}")
                }
                Event::Reconnecting { .. } => "reconnecting".to_owned(),
                other => format!("{other:?}"),
            });
        }
    }

    fn count(list: &[String], item: &str) -> usize {
        list.iter().filter(|x| *x == item).count()
    }
}

/// Steps `c` until `done(seen)` or [`WAIT`]; fails with what was seen.
fn until(c: &mut Client, seen: &mut Seen, what: &str, done: impl Fn(&Seen) -> bool) {
    let seen_cell = std::cell::RefCell::new(std::mem::take(seen));
    let ok = c.run_until(
        WAIT,
        |p| seen_cell.borrow_mut().packet(p),
        |s| {
            let mut seen = seen_cell.borrow_mut();
            seen.drain(s);
            done(&seen)
        },
    );
    *seen = seen_cell.into_inner();
    assert!(
        ok,
        "timed out waiting for {what}; packets {:?}, events {:?}",
        seen.packets, seen.events
    );
}

const WELCOME: &str = r#"event ["welcome","Welcome to oxio"]"#;

fn sensor(temp_c: f64) -> serde_json::Value {
    json!({ "device": "blocking-1", "temp_c": temp_c, "uptime_ms": 1000 })
}

#[test]
fn device_auth_acks_events_and_a_server_restart_on_the_same_port() {
    let server = DemoServer::start("127.0.0.1:0");
    let addr = server.addr;
    let mut c = Client::new(&addr.to_string(), fast());
    let mut seen = Seen::default();
    c.session()
        .connect("/", Some(&json!({ "device": "blocking-1" })))
        .unwrap();
    until(&mut c, &mut seen, "connected and welcome", |s| {
        s.events == ["connected /"] && s.packets == [WELCOME]
    });
    assert!(c.has_transport());

    // An emit with an ack: the demo acks `sensor` only for a socket that
    // authenticated as a device.
    let now = c.now();
    let id = c
        .session()
        .emit(
            "/",
            "sensor",
            &(sensor(21.5),),
            EmitOptions::with_ack(5_000),
            now,
        )
        .unwrap()
        .unwrap();
    let want = format!(r#"ack {id} [{{"ok":true}}]"#);
    until(&mut c, &mut seen, &want, |s| s.packets.contains(&want));

    // An event from the server in answer to ours.
    let now = c.now();
    c.session()
        .emit("/", "echo", &("hi", 1, true), EmitOptions::default(), now)
        .unwrap();
    let echo = r#"event ["echo-response","hi",1,true]"#;
    until(&mut c, &mut seen, echo, |s| {
        s.packets.iter().any(|p| p == echo)
    });

    // The server goes away: the session sees the transport close, then
    // retries with backoff while the port is closed.
    server.stop();
    until(&mut c, &mut seen, "the disconnection", |s| {
        s.events
            .contains(&"disconnected / transport close".to_owned())
            && s.events.contains(&"reconnecting".to_owned())
    });
    // An emit made while disconnected waits in the offline buffer.
    let now = c.now();
    let buffered = c
        .session()
        .emit(
            "/",
            "sensor",
            &(sensor(22.0),),
            EmitOptions::with_ack(20_000),
            now,
        )
        .unwrap()
        .unwrap();
    // A new server on the same port: the session reconnects, joins `/`
    // again with the same auth (else `sensor` would be refused), and sends
    // the buffered emit.
    let server = DemoServer::start(&addr.to_string());
    assert_eq!(server.addr, addr);
    let want = format!(r#"ack {buffered} [{{"ok":true}}]"#);
    until(
        &mut c,
        &mut seen,
        "reconnection and the buffered ack",
        |s| {
            Seen::count(&s.events, "connected /") == 2
                && Seen::count(&s.packets, WELCOME) == 2
                && s.packets.contains(&want)
        },
    );
    server.stop();
}

#[test]
fn a_bad_device_name_is_refused_by_the_auth_middleware() {
    let server = DemoServer::start("127.0.0.1:0");
    let mut c = Client::new(&server.addr.to_string(), fast());
    let mut seen = Seen::default();
    c.session()
        .connect("/", Some(&json!({ "device": "no spaces" })))
        .unwrap();
    until(&mut c, &mut seen, "the connect error", |s| {
        !s.events.is_empty()
    });
    assert_eq!(seen.events.len(), 1, "{:?}", seen.events);
    assert!(
        seen.events[0].starts_with("connect_error / invalid device name"),
        "{:?}",
        seen.events
    );
    assert!(!c.session().is_connected("/"));
    assert!(seen.packets.is_empty(), "{:?}", seen.packets);
    server.stop();
}
