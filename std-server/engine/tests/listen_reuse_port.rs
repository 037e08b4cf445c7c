//! `ListenOptions::reuse_port` (`SO_REUSEPORT`): several listeners share
//! one port and the kernel spreads new connections over all of them; a
//! listener without the option cannot join them.
#![cfg(target_os = "linux")]

use std::time::Duration;

use oxio_engine::service::{bind_with, ListenOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listeners_with_reuse_port_share_a_port_and_each_accepts_connections() {
    let opts = ListenOptions {
        reuse_port: true,
        ..ListenOptions::default()
    };
    let a = bind_with("127.0.0.1:0", opts).await.unwrap();
    let addr = a.local_addr().unwrap();
    let b = bind_with(addr, opts).await.unwrap();
    assert_eq!(b.local_addr().unwrap(), addr);

    // Without the option the port is taken.
    let refused = bind_with(addr, ListenOptions::default()).await.unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::AddrInUse);

    // The kernel hashes each connection (source port included) to one of
    // the listeners: 64 connections reach both.
    let mut clients = Vec::new();
    for _ in 0..64 {
        clients.push(tokio::net::TcpStream::connect(addr).await.unwrap());
    }
    let mut counts = [0usize; 2];
    for (i, l) in [&a, &b].into_iter().enumerate() {
        while let Ok(Ok(_)) = tokio::time::timeout(Duration::from_millis(200), l.accept()).await {
            counts[i] += 1;
        }
    }
    assert_eq!(counts[0] + counts[1], 64, "{counts:?}");
    assert!(
        counts[0] > 0 && counts[1] > 0,
        "one listener got none: {counts:?}"
    );
}

#[tokio::test]
async fn without_reuse_port_a_second_listener_is_refused() {
    let a = bind_with("127.0.0.1:0", ListenOptions::default())
        .await
        .unwrap();
    let err = bind_with(a.local_addr().unwrap(), ListenOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
}
