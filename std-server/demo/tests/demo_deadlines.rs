//! Issue 16: every connection has a deadline and the server's resources
//! are bounded. The demo binary runs as a child process with short limits
//! (flags); each test attacks it with one class of misbehaving clients and
//! checks that they are closed within the limit (not before), that a fresh
//! client is served meanwhile, and that the server's file-descriptor count
//! (`/proc/<pid>/fd`) returns to its baseline.

mod demo_support;

use demo_support::DemoServer;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Sends one request on a fresh connection and returns (status, body).
async fn http(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\nContent-Type: text/plain\r\n\r\n",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    s.write_all(body).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
        .await
        .expect("answer in time")
        .unwrap();
    parse(&out)
}

fn parse(raw: &[u8]) -> (u16, String) {
    let text = String::from_utf8_lossy(raw).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// A fresh client is served: GET /health answers 200.
async fn served(addr: SocketAddr) {
    let started = Instant::now();
    let (status, _) = http(addr, "GET", "/health", b"").await;
    assert_eq!(status, 200);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "a fresh client waited {:?}",
        started.elapsed()
    );
}

/// Reads until the server closes `s`; returns what it sent.
async fn until_eof(s: &mut TcpStream, limit: Duration) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Err(_) => panic!(
                "still open after {limit:?}; got {:?}",
                String::from_utf8_lossy(&out)
            ),
            Ok(Ok(0)) | Ok(Err(_)) => return out,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// Opens `n` connections at once.
async fn connect_many(addr: SocketAddr, n: usize) -> Vec<TcpStream> {
    let mut all = Vec::with_capacity(n);
    for _ in 0..n {
        all.push(TcpStream::connect(addr).await.unwrap());
    }
    all
}

/// The server's descriptors once it is warm (one request served, its
/// connection closed).
async fn baseline(server: &DemoServer) -> usize {
    served(server.addr).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.fd_count()
}

/// Waits until the server holds at most `baseline` descriptors.
async fn back_to(server: &DemoServer, baseline: usize, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        let now = server.fd_count();
        if now <= baseline {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{now} descriptors after {limit:?}, baseline {baseline}\n{}",
            server.log_text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Closes every stream at once and returns when each saw its end: the
/// times (from `since`) at which each was closed by the server.
async fn closed_times(streams: Vec<TcpStream>, since: Instant, limit: Duration) -> Vec<Duration> {
    let tasks: Vec<_> = streams
        .into_iter()
        .map(|mut s| {
            tokio::spawn(async move {
                until_eof(&mut s, limit).await;
                since.elapsed()
            })
        })
        .collect();
    let mut times = Vec::new();
    for t in tasks {
        times.push(t.await.unwrap());
    }
    times
}

fn range(times: &[Duration]) -> (Duration, Duration) {
    let min = times.iter().min().copied().unwrap_or_default();
    let max = times.iter().max().copied().unwrap_or_default();
    (min, max)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_that_never_send_a_byte_are_closed_after_the_idle_timeout() {
    let server = DemoServer::start(&["--idle-timeout", "1000"]);
    let base = baseline(&server).await;
    let start = Instant::now();
    let silent = connect_many(server.addr, 500).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        server.fd_count() >= base + 500,
        "{} descriptors, baseline {base}",
        server.fd_count()
    );
    served(server.addr).await;
    let times = closed_times(silent, start, Duration::from_secs(10)).await;
    let (first, last) = range(&times);
    assert!(
        first >= Duration::from_millis(900),
        "first closed at {first:?}"
    );
    assert!(last < Duration::from_secs(4), "last closed at {last:?}");
    back_to(&server, base, Duration::from_secs(3)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_request_heads_are_closed_after_the_header_timeout() {
    // Idle 800 ms never fires (a header line every 300 ms); the head
    // deadline (2 s from accept) does.
    let server = DemoServer::start(&["--idle-timeout", "800", "--header-timeout", "2000"]);
    let base = baseline(&server).await;
    let start = Instant::now();
    let streams = connect_many(server.addr, 300).await;
    let tasks: Vec<_> = streams
        .into_iter()
        .map(|s| {
            tokio::spawn(async move {
                let (mut r, mut w) = s.into_split();
                let dribble = async {
                    let _ = w.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n").await;
                    for i in 0u32.. {
                        tokio::time::sleep(Duration::from_millis(300)).await;
                        if w.write_all(format!("X-{i}: y\r\n").as_bytes())
                            .await
                            .is_err()
                        {
                            break;
                        }
                    }
                    std::future::pending::<()>().await;
                };
                let mut buf = [0u8; 256];
                tokio::select! {
                    () = dribble => unreachable!(),
                    r = tokio::time::timeout(Duration::from_secs(10), r.read(&mut buf)) => {
                        let n = r.expect("still open after 10 s").unwrap_or(0);
                        assert_eq!(n, 0, "answered: {:?}", String::from_utf8_lossy(&buf[..n]));
                    }
                }
                start.elapsed()
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    served(server.addr).await;
    let mut times = Vec::new();
    for t in tasks {
        times.push(t.await.unwrap());
    }
    let (first, last) = range(&times);
    assert!(
        first >= Duration::from_millis(1800),
        "first closed at {first:?}"
    );
    assert!(last < Duration::from_secs(5), "last closed at {last:?}");
    back_to(&server, base, Duration::from_secs(3)).await;
}

/// Opens a polling session on the demo; returns its sid.
async fn polling_session(addr: SocketAddr) -> String {
    let (status, body) = http(addr, "GET", "/socket.io/?EIO=4&transport=polling", b"").await;
    assert_eq!(status, 200, "{body}");
    let at = body.find("\"sid\":\"").unwrap() + 7;
    body[at..at + 20].to_owned()
}

/// Sends a request head announcing `announced` body bytes, then `sent`.
async fn slow_post(addr: SocketAddr, path: &str, announced: usize, sent: &[u8]) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: {announced}\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(sent).await.unwrap();
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_slower_than_the_minimum_rate_get_408_and_are_closed() {
    // 1 s of grace then 1024 B/s: ten bytes of 900 kB are too slow after
    // about 1.01 s.
    let server = DemoServer::start(&[
        "--body-rate-grace",
        "1000",
        "--body-min-rate",
        "1024",
        "--idle-timeout",
        "800",
    ]);
    let base = baseline(&server).await;
    let mut sids = Vec::new();
    for _ in 0..100 {
        sids.push(polling_session(server.addr).await);
    }
    let start = Instant::now();
    let mut posts = Vec::new();
    for sid in &sids {
        let path = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
        posts.push(slow_post(server.addr, &path, 900_000, b"40\x1e42[\"a\"").await);
    }
    // A REST route's body is held to the same rate.
    let mut rest = Vec::new();
    for _ in 0..100 {
        rest.push(slow_post(server.addr, "/api/login", 50_000, b"{\"user\":").await);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    served(server.addr).await;
    let tasks: Vec<_> = posts
        .into_iter()
        .map(|mut s| {
            tokio::spawn(async move {
                let raw = until_eof(&mut s, Duration::from_secs(10)).await;
                (start.elapsed(), parse(&raw).0)
            })
        })
        .collect();
    for t in tasks {
        let (at, status) = t.await.unwrap();
        assert_eq!(status, 408);
        assert!(
            at >= Duration::from_millis(950) && at < Duration::from_secs(4),
            "{at:?}"
        );
    }
    for mut s in rest {
        let raw = until_eof(&mut s, Duration::from_secs(5)).await;
        let (status, body) = parse(&raw);
        // axum reports the body error as a 4xx; the connection is closed.
        assert!((400..500).contains(&status), "{status} {body}");
    }
    assert!(start.elapsed() < Duration::from_secs(5));
    // The sessions were closed with their POSTs.
    for sid in &sids[..5] {
        let path = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
        let (status, body) = http(server.addr, "GET", &path, b"").await;
        assert_eq!(status, 400, "{body}");
    }
    back_to(&server, base, Duration::from_secs(3)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kept_alive_connections_close_when_idle_but_held_polls_stay() {
    let server = DemoServer::start(&["--idle-timeout", "600", "--ping-interval", "2000"]);
    let base = baseline(&server).await;
    // Keep-alive: one request answered, then silence.
    let mut s = TcpStream::connect(server.addr).await.unwrap();
    s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = s.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    let answered = Instant::now();
    let rest = until_eof(&mut s, Duration::from_secs(5)).await;
    assert!(rest.is_empty() || rest.ends_with(b"ok"), "{rest:?}");
    let idle = answered.elapsed();
    assert!(
        idle >= Duration::from_millis(550) && idle < Duration::from_secs(2),
        "{idle:?}"
    );
    // A held polling GET is a request in progress: it outlives the idle
    // timeout and gets the ping at 2 s; then its connection idles out.
    let sid = polling_session(server.addr).await;
    let mut s = TcpStream::connect(server.addr).await.unwrap();
    let get =
        format!("GET /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\n\r\n");
    let sent = Instant::now();
    s.write_all(get.as_bytes()).await.unwrap();
    let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let held = sent.elapsed();
    let (status, body) = parse(&buf[..n]);
    assert_eq!((status, body.as_str()), (200, "2"));
    assert!(held >= Duration::from_millis(1800), "{held:?}");
    let answered = Instant::now();
    until_eof(&mut s, Duration::from_secs(5)).await;
    assert!(answered.elapsed() >= Duration::from_millis(550));
    back_to(&server, base, Duration::from_secs(3)).await;
}

/// Reads what the server answers a connection it refuses: a 503, then EOF.
async fn refused(addr: SocketAddr, from: Option<&str>) -> (u16, String) {
    let mut s = match from {
        None => TcpStream::connect(addr).await.unwrap(),
        Some(ip) => {
            let sock = tokio::net::TcpSocket::new_v4().unwrap();
            sock.bind(format!("{ip}:0").parse().unwrap()).unwrap();
            sock.connect(addr).await.unwrap()
        }
    };
    let raw = until_eof(&mut s, Duration::from_secs(3)).await;
    parse(&raw)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_connection_limit_new_connections_get_503() {
    let mut server = DemoServer::start(&[
        "--max-connections",
        "40",
        "--max-pending-connections",
        "0",
        "--idle-timeout",
        "30000",
    ]);
    let base = baseline(&server).await;
    let mut held = connect_many(server.addr, 40).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    for _ in 0..20 {
        assert_eq!(refused(server.addr, None).await.0, 503);
    }
    assert!(server.running());
    // One place frees: the next client is served.
    held.truncate(39);
    tokio::time::sleep(Duration::from_millis(200)).await;
    served(server.addr).await;
    assert!(
        server.logged("connection limit reached: answered 503"),
        "{}",
        server.log_text()
    );
    let log = server.log_text();
    // Throttled: 20 refusals in well under a second, one line.
    assert_eq!(log.matches("connection limit reached").count(), 1, "{log}");
    drop(held);
    back_to(&server, base, Duration::from_secs(3)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_per_address_limit_that_address_gets_503_and_others_are_served() {
    let server = DemoServer::start(&["--max-connections-per-ip", "5", "--idle-timeout", "30000"]);
    let base = baseline(&server).await;
    let held = connect_many(server.addr, 5).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(refused(server.addr, None).await.0, 503);
    // Another address (the whole 127/8 is loopback on Linux).
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.bind("127.0.0.2:0".parse().unwrap()).unwrap();
    let mut other = sock.connect(server.addr).await.unwrap();
    other
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (status, _) = parse(&until_eof(&mut other, Duration::from_secs(3)).await);
    assert_eq!(status, 200);
    assert!(
        server.logged("per-address connection limit reached"),
        "{}",
        server.log_text()
    );
    drop(held);
    tokio::time::sleep(Duration::from_millis(200)).await;
    served(server.addr).await;
    back_to(&server, base, Duration::from_secs(3)).await;
}

/// Sends one request with an `X-Forwarded-For` header on a fresh
/// connection from 127.0.0.1 (the "proxy") and returns the connection and
/// the answer's status line code; a WebSocket upgrade (`ws`) stays open.
async fn forwarded(addr: SocketAddr, client: &str, ws: bool) -> (TcpStream, u16) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let req = if ws {
        format!(
            "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\n\
             Upgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
             X-Forwarded-For: {client}\r\n\r\n"
        )
    } else {
        format!("GET /health HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: {client}\r\n\r\n")
    };
    s.write_all(req.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(3), s.read(&mut byte))
            .await
            .expect("an answer in time")
            .unwrap();
        assert_eq!(
            n,
            1,
            "closed before the head: {:?}",
            String::from_utf8_lossy(&head)
        );
        head.push(byte[0]);
    }
    (s, parse(&head).0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_the_per_address_limit_counts_the_forwarded_client() {
    let server = DemoServer::start(&[
        "--max-connections-per-ip",
        "2",
        "--trusted-proxies",
        "127.0.0.1,10.0.0.0/8",
        "--idle-timeout",
        "30000",
    ]);
    let base = baseline(&server).await;
    // Two WebSockets for client 192.0.2.1 through the proxy (127.0.0.1),
    // one through a second trusted proxy (10.0.0.7) in the chain.
    let (ws1, s1) = forwarded(server.addr, "192.0.2.1", true).await;
    let (ws2, s2) = forwarded(server.addr, "192.0.2.1, 10.0.0.7", true).await;
    assert_eq!((s1, s2), (101, 101));
    // Its third request is refused, on a connection of the proxy that is
    // itself not limited (four connections from 127.0.0.1 are open).
    let (_third, s3) = forwarded(server.addr, "192.0.2.1", true).await;
    assert_eq!(s3, 503);
    let (_health, s4) = forwarded(server.addr, "192.0.2.1", false).await;
    assert_eq!(s4, 503);
    // A client cannot pick another address by prepending one: the
    // rightmost untrusted entry counts.
    let (_spoof, s5) = forwarded(server.addr, "198.51.100.9, 192.0.2.1", false).await;
    assert_eq!(s5, 503);
    // Other clients behind the same proxy are served.
    let (_other, s6) = forwarded(server.addr, "192.0.2.2", false).await;
    assert_eq!(s6, 200);
    assert!(
        server.logged("per-address connection limit reached"),
        "{}",
        server.log_text()
    );
    // The client closes a WebSocket: its place frees.
    drop(ws1);
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let (_s, status) = forwarded(server.addr, "192.0.2.1", false).await;
        if status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "the place did not free");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop((ws2, _third, _health, _spoof, _other));
    back_to(&server, base, Duration::from_secs(3)).await;
}

/// A WebSocket upgrade through `proxy` from local address `from`; the
/// status of the answer, and the connection (open when it is 101).
async fn upgrade_from(proxy: SocketAddr, from: &str) -> (u16, TcpStream) {
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.bind(format!("{from}:0").parse().unwrap()).unwrap();
    let mut s = sock.connect(proxy).await.unwrap();
    s.write_all(
        b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\n\
          Upgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .await
    .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut byte))
            .await
            .expect("an answer in time")
            .unwrap();
        assert_eq!(n, 1, "closed before the head");
        head.push(byte[0]);
    }
    (parse(&head).0, s)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_nginx_each_client_address_has_its_own_limit() {
    let has_nginx = std::process::Command::new("nginx")
        .arg("-v")
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok();
    if !has_nginx && !demo_support::missing("the nginx test", "nginx", "apt-get install -y nginx") {
        return;
    }
    let server = DemoServer::start(&[
        "--max-connections-per-ip",
        "2",
        "--trusted-proxies",
        "127.0.0.1",
        "--idle-timeout",
        "30000",
    ]);
    let nginx = oxio_testkit::nginx::Nginx::start(&[server.addr], false).await;
    let proxy: SocketAddr = format!("127.0.0.1:{}", nginx.port).parse().unwrap();
    // Client 127.0.0.2 holds two WebSockets through nginx; its third is
    // refused, while client 127.0.0.3 behind the same nginx is served.
    let (s1, ws1) = upgrade_from(proxy, "127.0.0.2").await;
    let (s2, _ws2) = upgrade_from(proxy, "127.0.0.2").await;
    assert_eq!((s1, s2), (101, 101));
    let (s3, _) = upgrade_from(proxy, "127.0.0.2").await;
    assert_eq!(s3, 503);
    let (s4, _ws4) = upgrade_from(proxy, "127.0.0.3").await;
    assert_eq!(s4, 101);
    // 127.0.0.2 closes one: it may open another.
    drop(ws1);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (status, _ws) = upgrade_from(proxy, "127.0.0.2").await;
        if status == 101 {
            break;
        }
        assert!(Instant::now() < deadline, "the place did not free");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let statuses: Vec<u16> = nginx.log().iter().map(|l| l.2).collect();
    assert!(statuses.contains(&503), "{statuses:?}");
    nginx.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_address_header_of_an_untrusted_peer_is_ignored() {
    // 127.0.0.1 is not a trusted proxy here: each connection counts
    // against it, whatever address the header names.
    let server = DemoServer::start(&[
        "--max-connections-per-ip",
        "2",
        "--trusted-proxies",
        "10.0.0.1",
        "--idle-timeout",
        "30000",
    ]);
    let (_a, sa) = forwarded(server.addr, "192.0.2.1", true).await;
    let (_b, sb) = forwarded(server.addr, "192.0.2.2", true).await;
    assert_eq!((sa, sb), (101, 101));
    assert_eq!(refused(server.addr, None).await.0, 503);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_handshakes_in_progress_limit_new_connections_get_503() {
    let server = DemoServer::start(&["--max-pending-connections", "10", "--idle-timeout", "30000"]);
    let base = baseline(&server).await;
    let mut pending = connect_many(server.addr, 10).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(refused(server.addr, None).await.0, 503);
    // One of them completes a request: it no longer counts, and stays open.
    let mut done = pending.pop().unwrap();
    done.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 512];
    let n = done.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    served(server.addr).await;
    assert!(
        server.logged("handshakes-in-progress limit reached"),
        "{}",
        server.log_text()
    );
    drop((pending, done));
    back_to(&server, base, Duration::from_secs(3)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_session_limit_handshakes_get_503() {
    let server = DemoServer::start(&["--max-sessions", "3"]);
    let mut sids = Vec::new();
    for _ in 0..3 {
        sids.push(polling_session(server.addr).await);
    }
    let (status, _) = http(
        server.addr,
        "GET",
        "/socket.io/?EIO=4&transport=polling",
        b"",
    )
    .await;
    assert_eq!(status, 503);
    served(server.addr).await;
    assert!(
        server.logged("session limit reached"),
        "{}",
        server.log_text()
    );
    // A client closes its session: a place frees.
    let path = format!("/socket.io/?EIO=4&transport=polling&sid={}", sids[0]);
    assert_eq!(http(server.addr, "POST", &path, b"1").await.0, 200);
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let (status, _) = http(
            server.addr,
            "GET",
            "/socket.io/?EIO=4&transport=polling",
            b"",
        )
        .await;
        if status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "still {status}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgrade_not_completed_in_time_is_dropped_and_polling_goes_on() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let server = DemoServer::start(&["--upgrade-timeout", "1000", "--ping-interval", "20000"]);
    let base = baseline(&server).await;
    let sid = polling_session(server.addr).await;
    let poll = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    let url = format!(
        "ws://{}/socket.io/?EIO=4&transport=websocket&sid={sid}",
        server.addr
    );
    // Two clients that start an upgrade and never finish it: one silent,
    // one that probes and never sends the upgrade packet.
    let started = Instant::now();
    let (mut silent, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .unwrap();
    let close_silent = tokio::spawn(async move {
        while let Some(Ok(m)) = silent.next().await {
            assert!(m.is_close(), "{m:?}");
        }
        started.elapsed()
    });
    let at = close_silent.await.unwrap();
    assert!(
        at >= Duration::from_millis(900) && at < Duration::from_secs(3),
        "{at:?}"
    );
    let (mut probe, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .unwrap();
    let started = Instant::now();
    probe.send(Message::text("2probe")).await.unwrap();
    let mut frames = Vec::new();
    while let Some(Ok(m)) = probe.next().await {
        if let Message::Text(t) = m {
            frames.push(t.as_str().to_owned());
        }
    }
    let at = started.elapsed();
    assert_eq!(frames, ["3probe"]);
    assert!(
        at >= Duration::from_millis(900) && at < Duration::from_secs(3),
        "{at:?}"
    );
    // The session still runs over polling: a Socket.IO CONNECT by POST is
    // answered on the next GET.
    assert_eq!(
        http(server.addr, "POST", &poll, b"40").await,
        (200, "ok".into())
    );
    let (status, body) = http(server.addr, "GET", &poll, b"").await;
    assert_eq!(status, 200);
    assert!(body.starts_with("40{\"sid\":"), "{body}");
    back_to(&server, base, Duration::from_secs(3)).await;
}
