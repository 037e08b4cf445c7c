//! `wss://` (feature `tls`): the client through embedded-tls against an
//! in-process oxio-server behind a TLS 1.3 terminator (tokio-rustls), with
//! certificates made at test time (rcgen).
#![cfg(feature = "tls")]

mod support;

use embassy_futures::select::{select, Either};
use embassy_sync::blocking_mutex::raw::NoopRawMutex;
use oxio_client::tls::FULL_RECORD_LEN;
use oxio_client::{
    Client, Error, Event, TlsConnector, TlsError, TlsRunner, TlsShared, TlsVerify, TokioConnector,
};
use oxio_codec::client::NO_AUTH;
use oxio_server::socketio::{AckSender, Data, SocketIo, SocketRef};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use support::*;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A CA (its DER) and a way to issue leaves with it.
struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        Ca { issuer }
    }

    fn der(&self) -> Vec<u8> {
        self.issuer.der().to_vec()
    }

    /// A leaf for `names` (DNS names or IP literals) signed by this CA.
    fn leaf(&self, names: &[&str]) -> Identity {
        let key = KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let cert = CertificateParams::new(names)
            .unwrap()
            .signed_by(&key, &self.issuer)
            .unwrap();
        Identity {
            chain: vec![cert.der().clone()],
            key: key.serialize_der(),
        }
    }
}

/// What the TLS server presents.
struct Identity {
    chain: Vec<CertificateDer<'static>>,
    key: Vec<u8>,
}

/// A self-signed leaf (no CA).
fn self_signed(names: &[&str]) -> Identity {
    let key = KeyPair::generate().unwrap();
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    let cert = CertificateParams::new(names)
        .unwrap()
        .self_signed(&key)
        .unwrap();
    Identity {
        chain: vec![cert.der().clone()],
        key: key.serialize_der(),
    }
}

/// A TLS 1.3 terminator on 127.0.0.1 forwarding to `upstream`; counts
/// the connections it made to the Socket.IO server.
struct Terminator {
    addr: SocketAddr,
    upstream_connections: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Terminator {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn terminator(upstream: SocketAddr, id: Identity) -> Terminator {
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(id.key));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS13])
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(id.chain, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let upstream_connections = Arc::new(AtomicUsize::new(0));
    let count = upstream_connections.clone();
    let task = tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let count = count.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut up) = tokio::net::TcpStream::connect(upstream).await else {
                    return;
                };
                count.fetch_add(1, Ordering::SeqCst);
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut up).await;
            });
        }
    });
    Terminator {
        addr,
        upstream_connections,
        task,
    }
}

fn app() -> SocketIo {
    let sio = SocketIo::builder().build();
    sio.io().ns("/", |s: SocketRef| {
        s.on("add", |Data((a, b)): Data<(i64, i64)>, ack: AckSender| {
            ack.send(&(a + b,)).unwrap();
        });
    });
    sio
}

type Shared = TlsShared<NoopRawMutex, 2048, 2048>;
type TlsClient<'a> = Client<'a, TlsConnector<'a, NoopRawMutex, 2048, 2048>, fn() -> u32>;

/// What a client run ended with.
#[derive(Debug, PartialEq)]
enum Outcome {
    /// Connected, and `add(2, 40)` was acknowledged with this.
    Sum(i64),
    /// Never connected; the client's last error.
    Failed(Option<Error>),
}

/// Runs a client for `url` with `verify` beside its TLS runner: connect
/// `/`, then `add(2, 40)` with an ack. Gives up after 3 s.
async fn run_client(url: &str, verify: TlsVerify<'_>) -> Outcome {
    let shared = Shared::new();
    let connector = TlsConnector::new(&shared);
    let mut read_record = vec![0u8; FULL_RECORD_LEN];
    let mut write_record = vec![0u8; 4096];
    let mut runner = TlsRunner::new(
        &shared,
        &TokioConnector,
        verify,
        rand_core::OsRng,
        &mut read_record,
        &mut write_record,
    );
    let mut client: Box<TlsClient<'_>> =
        Box::new(Client::new(&connector, url, fast(), rand as fn() -> u32).unwrap());
    let app = async {
        client.connect("/", NO_AUTH).unwrap();
        let deadline = embassy_time::Instant::now() + embassy_time::Duration::from_secs(3);
        loop {
            let (connected, over) = match client.next_event_until(Some(deadline)).await {
                Ok(Some(Event::Connected { .. })) => (true, false),
                Ok(Some(_)) => (false, false),
                Ok(None) | Err(_) => (false, true),
            };
            if connected {
                break;
            }
            if over {
                return Outcome::Failed(client.last_error().cloned());
            }
            if client.last_error().is_some() {
                return Outcome::Failed(client.last_error().cloned());
            }
        }
        let (sum,): (i64,) = client.emit_with_ack("add", &(2, 40)).await.unwrap();
        Outcome::Sum(sum)
    };
    match select(runner.run(), app).await {
        Either::First(never) => match never {},
        Either::Second(outcome) => outcome,
    }
}

#[tokio::test(flavor = "current_thread")]
async fn verified_wss_connects_and_gets_an_ack() {
    let srv = serve(app(), "127.0.0.1:0".parse().unwrap(), None).await;
    let ca = Ca::new("oxio test CA");
    let term = terminator(srv.addr, ca.leaf(&["localhost", "127.0.0.1"])).await;
    let ca_der = ca.der();
    let url = format!("wss://localhost:{}", term.addr.port());
    assert_eq!(
        run_client(&url, TlsVerify::Ca(&ca_der)).await,
        Outcome::Sum(42)
    );
    assert_eq!(term.upstream_connections.load(Ordering::SeqCst), 1);
    // The same through an IP literal in the URL, checking a DNS name.
    let url = format!("wss://127.0.0.1:{}", term.addr.port());
    let verify = TlsVerify::CaForName {
        ca: &ca_der,
        server_name: "localhost",
    };
    assert_eq!(run_client(&url, verify).await, Outcome::Sum(42));
    // IP SANs are not matched (embedded-tls compares DNS names): an IP URL
    // with `Ca` fails closed; `CaForName` above is the way.
    assert_eq!(
        run_client(&url, TlsVerify::Ca(&ca_der)).await,
        Outcome::Failed(Some(Error::Tls(TlsError::Certificate)))
    );
    // Insecure mode to an IP literal (no SNI sent) connects.
    assert_eq!(
        run_client(&url, TlsVerify::Insecure_DangerNoVerification).await,
        Outcome::Sum(42)
    );
    assert_eq!(term.upstream_connections.load(Ordering::SeqCst), 3);
    srv.stop().await;
}

#[tokio::test(flavor = "current_thread")]
async fn reconnects_reuse_the_record_buffers() {
    // Three connections one after the other through one runner: each ends
    // with the client leaving (its close frame, then close_notify).
    let srv = serve(app(), "127.0.0.1:0".parse().unwrap(), None).await;
    let ca = Ca::new("oxio test CA");
    let ca_der = ca.der();
    let term = terminator(srv.addr, ca.leaf(&["localhost"])).await;
    let url = format!("wss://localhost:{}", term.addr.port());
    let shared = Shared::new();
    let connector = TlsConnector::new(&shared);
    let mut read_record = vec![0u8; FULL_RECORD_LEN];
    let mut write_record = vec![0u8; 2048];
    let mut runner = TlsRunner::new(
        &shared,
        &TokioConnector,
        TlsVerify::Ca(&ca_der),
        rand_core::OsRng,
        &mut read_record,
        &mut write_record,
    );
    let mut client: Box<TlsClient<'_>> =
        Box::new(Client::new(&connector, &url, fast(), rand as fn() -> u32).unwrap());
    let app = async {
        let mut sums = Vec::new();
        for round in 0..3i64 {
            client.connect("/", NO_AUTH).unwrap();
            loop {
                if matches!(client.next_event().await, Ok(Event::Connected { .. })) {
                    break;
                }
            }
            let (sum,): (i64,) = client.emit_with_ack("add", &(round, 1)).await.unwrap();
            sums.push(sum);
            client.disconnect("/").await.unwrap();
        }
        sums
    };
    let sums = match select(runner.run(), app).await {
        Either::First(never) => match never {},
        Either::Second(s) => s,
    };
    assert_eq!(sums, vec![1, 2, 3]);
    assert_eq!(term.upstream_connections.load(Ordering::SeqCst), 3);
    srv.stop().await;
}

#[tokio::test(flavor = "current_thread")]
async fn wrong_ca_is_refused_before_socketio() {
    let srv = serve(app(), "127.0.0.1:0".parse().unwrap(), None).await;
    let ca = Ca::new("oxio test CA");
    let term = terminator(srv.addr, ca.leaf(&["localhost"])).await;
    let other = Ca::new("oxio test CA").der(); // same name, other key
    let url = format!("wss://localhost:{}", term.addr.port());
    assert_eq!(
        run_client(&url, TlsVerify::Ca(&other)).await,
        Outcome::Failed(Some(Error::Tls(TlsError::Certificate)))
    );
    assert_eq!(term.upstream_connections.load(Ordering::SeqCst), 0);
    // A self-signed server is refused too.
    let term2 = terminator(srv.addr, self_signed(&["localhost"])).await;
    let url = format!("wss://localhost:{}", term2.addr.port());
    assert_eq!(
        run_client(&url, TlsVerify::Ca(&ca.der())).await,
        Outcome::Failed(Some(Error::Tls(TlsError::Certificate)))
    );
    assert_eq!(term2.upstream_connections.load(Ordering::SeqCst), 0);
    srv.stop().await;
}

#[tokio::test(flavor = "current_thread")]
async fn wrong_server_name_is_refused() {
    let srv = serve(app(), "127.0.0.1:0".parse().unwrap(), None).await;
    let ca = Ca::new("oxio test CA");
    let ca_der = ca.der();
    let term = terminator(srv.addr, ca.leaf(&["sensors.example"])).await;
    let url = format!("wss://localhost:{}", term.addr.port());
    assert_eq!(
        run_client(&url, TlsVerify::Ca(&ca_der)).await,
        Outcome::Failed(Some(Error::Tls(TlsError::Certificate)))
    );
    let verify = TlsVerify::CaForName {
        ca: &ca_der,
        server_name: "other.example",
    };
    assert_eq!(
        run_client(&url, verify).await,
        Outcome::Failed(Some(Error::Tls(TlsError::Certificate)))
    );
    assert_eq!(term.upstream_connections.load(Ordering::SeqCst), 0);
    // The right name through the override connects.
    let verify = TlsVerify::CaForName {
        ca: &ca_der,
        server_name: "sensors.example",
    };
    assert_eq!(run_client(&url, verify).await, Outcome::Sum(42));
    srv.stop().await;
}

#[tokio::test(flavor = "current_thread")]
async fn chain_through_an_intermediate_is_refused() {
    // A leaf signed by an intermediate of the trusted CA: embedded-tls does
    // not check basicConstraints, so such chains are refused (the
    // intermediate would have to be the trust anchor).
    let srv = serve(app(), "127.0.0.1:0".parse().unwrap(), None).await;
    let root = Ca::new("oxio root");
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, "oxio intermediate");
    let inter =
        CertifiedIssuer::signed_by(params, KeyPair::generate().unwrap(), &root.issuer).unwrap();
    let inter = Ca { issuer: inter };
    let mut id = inter.leaf(&["localhost"]);
    id.chain.push(CertificateDer::from(inter.der()));
    let term = terminator(srv.addr, id).await;
    let url = format!("wss://localhost:{}", term.addr.port());
    assert_eq!(
        run_client(&url, TlsVerify::Ca(&root.der())).await,
        Outcome::Failed(Some(Error::Tls(TlsError::Certificate)))
    );
    // With the intermediate as the trust anchor it connects.
    assert_eq!(
        run_client(&url, TlsVerify::Ca(&inter.der())).await,
        Outcome::Sum(42)
    );
    srv.stop().await;
}

#[tokio::test(flavor = "current_thread")]
async fn insecure_mode_connects_to_a_self_signed_server() {
    let srv = serve(app(), "127.0.0.1:0".parse().unwrap(), None).await;
    let term = terminator(srv.addr, self_signed(&["localhost"])).await;
    let url = format!("wss://localhost:{}", term.addr.port());
    assert_eq!(
        run_client(&url, TlsVerify::Insecure_DangerNoVerification).await,
        Outcome::Sum(42)
    );
    srv.stop().await;
}

#[tokio::test(flavor = "current_thread")]
async fn plain_server_gives_a_tls_error_and_urls_must_match_the_connector() {
    // A plain (non-TLS) server behind a wss:// URL: the handshake fails.
    let srv = serve(app(), "127.0.0.1:0".parse().unwrap(), None).await;
    let url = format!("wss://localhost:{}", srv.addr.port());
    let ca = Ca::new("oxio test CA").der();
    match run_client(&url, TlsVerify::Ca(&ca)).await {
        Outcome::Failed(Some(Error::Tls(_))) => {}
        other => panic!("expected a TLS error, got {other:?}"),
    }
    // wss:// needs the TLS connector, and the TLS connector needs wss://.
    let plain: Result<Client<'_, _, _>, _> =
        Client::new(&TokioConnector, "wss://localhost:1", fast(), || 1);
    assert_eq!(plain.err(), Some(Error::Url(oxio_client::UrlError::Scheme)));
    let shared = Shared::new();
    let tls = TlsConnector::new(&shared);
    let c: Result<TlsClient<'_>, _> =
        Client::new(&tls, "ws://localhost:1", fast(), rand as fn() -> u32);
    assert_eq!(c.err(), Some(Error::Url(oxio_client::UrlError::Scheme)));
    srv.stop().await;
}

/// A TCP proxy on 127.0.0.1 that hands the server's bytes to the client
/// in 61-byte pieces, 1 ms apart, so TLS records arrive in parts.
async fn trickle(to: SocketAddr) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = tokio::net::TcpStream::connect(to).await else {
                return;
            };
            let (mut cr, mut cw) = client.into_split();
            let (mut sr, mut sw) = server.into_split();
            tokio::spawn(async move {
                let _ = tokio::io::copy(&mut cr, &mut sw).await;
            });
            tokio::spawn(async move {
                let mut buf = [0u8; 61];
                loop {
                    let n = match sr.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    if cw.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                }
            });
        }
    });
    (addr, task)
}

#[tokio::test(flavor = "current_thread")]
async fn records_arriving_in_pieces_while_the_client_sends() {
    // Big server events arrive a few bytes at a time while the client
    // keeps emitting and its timers keep cancelling reads: every event and
    // every ack must come through intact (the runner only sends between
    // two incoming records, the client only ever cancels pipe reads).
    let sio = SocketIo::builder().build();
    sio.io().ns("/", |s: SocketRef| {
        s.on("echo", |s: SocketRef, Data(text): Data<String>| {
            s.emit("big", &(text,)).unwrap();
        });
        s.on("add", |Data((a, b)): Data<(i64, i64)>, ack: AckSender| {
            ack.send(&(a + b,)).unwrap();
        });
    });
    let srv = serve(sio, "127.0.0.1:0".parse().unwrap(), None).await;
    let ca = Ca::new("oxio test CA");
    let ca_der = ca.der();
    let term = terminator(srv.addr, ca.leaf(&["localhost"])).await;
    let (slow, proxy) = trickle(term.addr).await;
    let url = format!("wss://localhost:{}", slow.port());

    let shared = Shared::new();
    let connector = TlsConnector::new(&shared);
    let mut read_record = vec![0u8; FULL_RECORD_LEN];
    let mut write_record = vec![0u8; 4096];
    let mut runner = TlsRunner::new(
        &shared,
        &TokioConnector,
        TlsVerify::Ca(&ca_der),
        rand_core::OsRng,
        &mut read_record,
        &mut write_record,
    );
    type BigClient<'a> =
        Client<'a, TlsConnector<'a, NoopRawMutex, 2048, 2048>, fn() -> u32, 4096, 2048, 8192>;
    let mut client: Box<BigClient<'_>> =
        Box::new(Client::new(&connector, &url, fast(), rand as fn() -> u32).unwrap());
    let app = async {
        client.connect("/", NO_AUTH).unwrap();
        loop {
            let connected = matches!(client.next_event().await, Ok(Event::Connected { .. }));
            if connected {
                break;
            }
        }
        let mut got = Vec::new();
        let mut sums = Vec::new();
        for i in 0..12i64 {
            let text: String = (0..1500)
                .map(|k| char::from(b'a' + ((k + i) % 26) as u8))
                .collect();
            client.emit("echo", &(text,)).await.unwrap();
            // Short waits: the timer cancels reads in the middle of
            // records, and the next emit comes while one is arriving.
            let until = embassy_time::Instant::now() + embassy_time::Duration::from_millis(3);
            while let Ok(Some(event)) = client.next_event_until(Some(until)).await {
                if let Event::Message(m) = event {
                    let (t,): (String,) = m.args().unwrap();
                    got.push(t);
                }
            }
        }
        let deadline = embassy_time::Instant::now() + embassy_time::Duration::from_secs(5);
        while got.len() < 12 {
            match client.next_event_until(Some(deadline)).await {
                Ok(Some(Event::Message(m))) => {
                    let (t,): (String,) = m.args().unwrap();
                    got.push(t);
                }
                Ok(Some(_)) => {}
                _ => break,
            }
        }
        for i in 0..3i64 {
            let (sum,): (i64,) = client.emit_with_ack("add", &(i, 1000)).await.unwrap();
            sums.push(sum);
        }
        (
            got,
            sums,
            client.last_error().cloned(),
            client.dropped_events(),
        )
    };
    let (got, sums, last_error, dropped) = match select(runner.run(), app).await {
        Either::First(never) => match never {},
        Either::Second(r) => r,
    };
    assert_eq!(last_error, None);
    assert_eq!(dropped, 0);
    assert_eq!(sums, vec![1000, 1001, 1002]);
    assert_eq!(got.len(), 12);
    for (i, t) in got.iter().enumerate() {
        let want: String = (0..1500)
            .map(|k| char::from(b'a' + ((k + i) % 26) as u8))
            .collect();
        assert_eq!(t, &want, "event {i}");
    }
    assert_eq!(term.upstream_connections.load(Ordering::SeqCst), 1);
    proxy.abort();
    srv.stop().await;
}

#[test]
fn runner_ram() {
    // The runner future lives in a task's static storage on a device.
    let shared = Shared::new();
    let mut r = [0u8; 0];
    let mut w = [0u8; 0];
    let mut runner = TlsRunner::new(
        &shared,
        &TokioConnector,
        TlsVerify::Insecure_DangerNoVerification,
        rand_core::OsRng,
        &mut r,
        &mut w,
    );
    let fut = runner.run();
    let size = std::mem::size_of_val(&fut);
    println!(
        "runner future: {size} B; TlsShared<_, 2048, 2048>: {} B",
        std::mem::size_of::<Shared>()
    );
    assert!(size < 16 * 1024, "runner future is {size} B");
}
