//! The client over a real embassy-net stack, as on a microcontroller, on the
//! host and without privileges:
//!
//! ```text
//!  Client ── EmbassyNetConnector ── stack A (10.0.0.2) ══ in-memory cable ══ stack B (10.0.0.1)
//!                                                                              │ accepts TCP :3000
//!                                                                              └─ proxy ── tokio TcpStream ── oxio-server on 127.0.0.1
//! ```
//!
//! Both stacks use `embassy-net-driver-channel` devices (medium IP: no ARP);
//! a small future copies each side's outgoing packets into the other side's
//! receive queue. Stack B is the userspace bridge: it accepts the client's
//! TCP connection and pipes it to the in-process oxio-server through a
//! Tokio socket. Everything runs on one current-thread runtime (the channel
//! driver uses `NoopRawMutex`): the stacks, the cable and the bridge in one
//! future, the server in Tokio tasks. No TAP device, no root.

mod support;

use embassy_futures::join::join3;
use embassy_futures::select::{select, Either};
use embassy_net::driver::{HardwareAddress, LinkState};
use embassy_net::tcp::client::TcpClientState;
use embassy_net::tcp::TcpSocket;
use embassy_net::{Config, Ipv4Address, Ipv4Cidr, Stack, StackResources, StaticConfigV4};
use embassy_net_driver_channel as ch;
use embedded_io_async::Write as _;
use oxio_client::{Client, EmbassyNetConnector, Event};
use oxio_server::socketio::{AckSender, Data, SocketIo, SocketRef};
use serde_json::{json, Value};
use std::time::Duration;
use support::{describe, fast, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const MTU: usize = 1500;
const BRIDGE_PORT: u16 = 3000;

type Connector = EmbassyNetConnector<'static, 1, 1024, 1024>;

/// A stack on a fresh channel device at `ip`/24, with `'static` storage
/// (leaked: a test process).
fn stack(
    ip: [u8; 4],
    seed: u64,
) -> (
    Stack<'static>,
    embassy_net::Runner<'static, ch::Device<'static, MTU>>,
    ch::Runner<'static, MTU>,
) {
    let state = Box::leak(Box::new(ch::State::<MTU, 4, 4>::new()));
    let (runner, device) = ch::new(state, HardwareAddress::Ip);
    let config = Config::ipv4_static(StaticConfigV4 {
        address: Ipv4Cidr::new(Ipv4Address::new(ip[0], ip[1], ip[2], ip[3]), 24),
        gateway: None,
        dns_servers: Default::default(),
    });
    let resources = Box::leak(Box::new(StackResources::<4>::new()));
    let (stack, net) = embassy_net::new(device, config, resources, seed);
    (stack, net, runner)
}

/// The cable: every packet one side sends is received by the other.
async fn cable(a: ch::Runner<'static, MTU>, b: ch::Runner<'static, MTU>) {
    let (state_a, mut rx_a, mut tx_a) = a.split();
    let (state_b, mut rx_b, mut tx_b) = b.split();
    state_a.set_link_state(LinkState::Up);
    state_b.set_link_state(LinkState::Up);
    let a_to_b = async {
        loop {
            let packet = tx_a.tx_buf().await;
            let dst = rx_b.rx_buf().await;
            let n = packet.len().min(dst.len());
            dst[..n].copy_from_slice(&packet[..n]);
            rx_b.rx_done(n);
            tx_a.tx_done();
        }
    };
    let b_to_a = async {
        loop {
            let packet = tx_b.tx_buf().await;
            let dst = rx_a.rx_buf().await;
            let n = packet.len().min(dst.len());
            dst[..n].copy_from_slice(&packet[..n]);
            rx_a.rx_done(n);
            tx_b.tx_done();
        }
    };
    select(a_to_b, b_to_a).await;
}

/// Stack B's side of the bridge: accepts one TCP connection at a time on
/// `BRIDGE_PORT` and pipes it to `127.0.0.1:target` until either side
/// closes.
async fn bridge(stack: Stack<'static>, target: u16) {
    let mut rx = [0u8; 4096];
    let mut tx = [0u8; 4096];
    loop {
        let mut sock = TcpSocket::new(stack, &mut rx, &mut tx);
        if sock.accept(BRIDGE_PORT).await.is_err() {
            continue;
        }
        let Ok(stream) = tokio::net::TcpStream::connect(("127.0.0.1", target)).await else {
            sock.abort();
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (mut from_host, mut to_host) = stream.into_split();
        {
            let (mut from_client, mut to_client) = sock.split();
            let up = async {
                let mut buf = [0u8; 1024];
                loop {
                    match from_client.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            if to_host.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                    }
                }
                let _ = to_host.shutdown().await;
            };
            let down = async {
                let mut buf = [0u8; 1024];
                loop {
                    match from_host.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            if to_client.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                            let _ = to_client.flush().await;
                        }
                    }
                }
            };
            select(up, down).await;
        }
        sock.close();
        let _ =
            embassy_time::with_timeout(embassy_time::Duration::from_secs(1), sock.flush()).await;
    }
}

/// `/` greets with the auth it got, acks `add` with the sum, and answers
/// `poke` with a `poked` event.
fn app() -> SocketIo {
    let sio = SocketIo::builder().build();
    sio.io().ns("/", |s: SocketRef, Data(auth): Data<Value>| {
        s.emit("welcome", &auth).unwrap();
        s.on("add", |Data((a, b)): Data<(i64, i64)>, ack: AckSender| {
            ack.send(&(a + b,)).unwrap();
        });
        s.on("poke", |s: SocketRef, Data((n,)): Data<(u32,)>| {
            s.emit("poked", &(n * 2, "via embassy-net")).unwrap();
        });
    });
    sio
}

#[tokio::test(flavor = "current_thread")]
async fn client_over_embassy_net_through_a_userspace_bridge() {
    let srv = serve(app(), "127.0.0.1:0".parse().unwrap(), None).await;
    let (stack_a, mut net_a, ch_a) = stack([10, 0, 0, 2], 0x0a0a_0002);
    let (stack_b, mut net_b, ch_b) = stack([10, 0, 0, 1], 0x0a0a_0001);
    let tcp_state: &'static TcpClientState<1, 1024, 1024> =
        Box::leak(Box::new(TcpClientState::new()));
    let connector: &'static Connector =
        Box::leak(Box::new(EmbassyNetConnector::new(stack_a, tcp_state)));
    let url: &'static str = Box::leak(format!("http://10.0.0.1:{BRIDGE_PORT}").into_boxed_str());
    let mut c: Box<Client<'static, Connector, fn() -> u32>> =
        Box::new(Client::new(connector, url, fast(), support::rand as fn() -> u32).unwrap());

    let app = async {
        c.connect("/", Some(&json!({"device": "pico", "token": 7})))
            .unwrap();
        let mut seen = vec![];
        for _ in 0..2 {
            let until = embassy_time::Instant::now() + embassy_time::Duration::from_secs(5);
            match c.next_event_until(Some(until)).await {
                Ok(Some(e)) => seen.push(describe(&e)),
                other => panic!("no event: {:?}", other.map(|e| e.map(|e| describe(&e)))),
            }
        }
        assert_eq!(
            seen,
            [
                "connected /",
                r#"msg / ["welcome",{"device":"pico","token":7}] -"#
            ]
        );
        assert!(c.session().sid("/").is_some_and(|s| !s.is_empty()));

        let (sum,): (i64,) = c.emit_with_ack("add", &(40, 2)).await.unwrap();
        assert_eq!(sum, 42);

        c.emit("poke", &(21,)).await.unwrap();
        let until = embassy_time::Instant::now() + embassy_time::Duration::from_secs(5);
        match c.next_event_until(Some(until)).await {
            Ok(Some(Event::Message(m))) => {
                assert!(m.is("poked"));
                let (n, via): (u32, &str) = m.args().unwrap();
                assert_eq!((n, via), (42, "via embassy-net"));
            }
            other => panic!("{:?}", other.map(|e| e.map(|e| describe(&e)))),
        }
        c.close().await;
        assert!(!c.is_connected("/"));
    };
    let network = join3(
        select(net_a.run(), net_b.run()),
        cable(ch_a, ch_b),
        bridge(stack_b, srv.addr.port()),
    );
    match tokio::time::timeout(Duration::from_secs(30), select(app, network)).await {
        Ok(Either::First(())) => {}
        Ok(Either::Second(_)) => panic!("the network stopped"),
        Err(_) => panic!("timed out"),
    }
    srv.stop().await;
}
