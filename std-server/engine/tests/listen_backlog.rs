//! The listen backlog of `service::bind` / `service::listen`: a connect
//! storm of a few hundred clients must not overflow the kernel's accept
//! queue (with `TcpListener::bind`'s 128, the extra SYNs are dropped and
//! those clients retry only after 1 s).
//!
//! Deterministic: the server does not accept at all while the clients
//! connect, so the accept queue alone has to hold every connection; the
//! kernel completes a TCP handshake without the application.

use std::time::Duration;

use oxio_engine::service::{bind, LISTEN_BACKLOG};

const CLIENTS: usize = 600;

/// Connects `CLIENTS` sockets at once to `addr`; how many completed within 1 s.
async fn storm(addr: std::net::SocketAddr) -> (usize, Vec<tokio::net::TcpStream>) {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..CLIENTS {
        tasks.spawn(async move {
            tokio::time::timeout(Duration::from_secs(1), tokio::net::TcpStream::connect(addr)).await
        });
    }
    let mut open = Vec::new();
    while let Some(r) = tasks.join_next().await {
        if let Ok(Ok(Ok(stream))) = r {
            open.push(stream);
        }
    }
    (open.len(), open)
}

/// The kernel caps the backlog at `net.core.somaxconn`.
fn somaxconn() -> Option<usize> {
    std::fs::read_to_string("/proc/sys/net/core/somaxconn")
        .ok()?
        .trim()
        .parse()
        .ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn six_hundred_simultaneous_connects_complete_within_one_second() {
    if let Some(max) = somaxconn() {
        if max < CLIENTS {
            eprintln!(
                "SKIPPED: net.core.somaxconn is {max} (< {CLIENTS}): the kernel caps the backlog"
            );
            return;
        }
    }
    let listener = bind("127.0.0.1:0", LISTEN_BACKLOG).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (done, open) = storm(addr).await;
    assert_eq!(
        done, CLIENTS,
        "only {done} of {CLIENTS} connects completed within 1 s with backlog {LISTEN_BACKLOG}"
    );
    // They are all queued for accept, none refused or reset.
    for _ in 0..CLIENTS {
        tokio::time::timeout(Duration::from_secs(1), listener.accept())
            .await
            .expect("a completed connection is waiting in the accept queue")
            .unwrap();
    }
    drop(open);
}

/// The control: the same storm against a 128 backlog (`TcpListener::bind`'s)
/// leaves clients waiting, so the test above measures the backlog.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_128_backlog_overflows_under_the_same_storm() {
    let listener = bind("127.0.0.1:0", 128).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (done, _open) = storm(addr).await;
    assert!(
        done < CLIENTS,
        "all {CLIENTS} connects completed with a 128 backlog: the storm test proves nothing"
    );
    assert!(
        done >= 128,
        "only {done} connects completed with a 128 backlog"
    );
}

#[tokio::test]
async fn bind_reports_an_unusable_address() {
    let listener = bind("127.0.0.1:0", LISTEN_BACKLOG).await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Same port, still listening: SO_REUSEADDR does not allow two listeners.
    let err = bind(addr, LISTEN_BACKLOG).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
}
