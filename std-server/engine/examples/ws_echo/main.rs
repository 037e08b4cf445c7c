//! A raw WebSocket echo server (no Engine.IO) on the frame layer oxio
//! serves with (`oxio_engine::transport::ws_proto`, permessage-deflate
//! negotiated by `websocket_accept`): every text or binary message is sent
//! back as it came; messages up to 16 MiB (what Autobahn's section 9
//! sends). It exists for the Autobahn test suite (see README.md next to
//! this file and `scripts/autobahn.sh`).
//!
//! ```text
//! cargo run --release -p oxio-engine --example ws_echo -- --port 9001 [--threshold 0]
//! ```

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::{Bytes, BytesMut};
use http_body_util::Full;
use hyper::body::Incoming as Body;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use oxio_engine::config::PerMessageDeflate;
use oxio_engine::transport::websocket_accept;
use oxio_engine::transport::ws_deflate::Agreed;
use oxio_engine::transport::ws_proto::{op, Incoming, Receiver, Sender};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

/// Largest message: Autobahn's section 9 sends 16 MiB.
const MAX_PAYLOAD: usize = 16 << 20;

/// Echoes one upgraded connection until it closes.
async fn echo<S: AsyncRead + AsyncWrite + Unpin>(mut io: S, deflate: Option<Agreed>) {
    let mut rx = Receiver::new(MAX_PAYLOAD, deflate.as_ref());
    let mut tx = Sender::new(deflate.as_ref());
    let mut rbuf = BytesMut::new();
    let mut out = Vec::new();
    loop {
        let mut closing = false;
        loop {
            match rx.next(&mut rbuf) {
                Ok(Some(Incoming::Text(t))) => tx.push_bytes(&mut out, true, t.as_str().as_bytes()),
                Ok(Some(Incoming::Binary(b))) => tx.push_bytes(&mut out, false, &b),
                Ok(Some(Incoming::Ping(p))) => Sender::push_control(&mut out, op::PONG, &p),
                Ok(Some(Incoming::Pong)) => {}
                Ok(Some(Incoming::Close(code, _))) => {
                    Sender::push_close(&mut out, code, "");
                    closing = true;
                    break;
                }
                Ok(None) => break,
                Err(fail) => {
                    Sender::push_close(&mut out, Some(fail.code), "");
                    closing = true;
                    break;
                }
            }
        }
        if !out.is_empty() {
            if io.write_all(&out).await.is_err() {
                return;
            }
            out.clear();
        }
        if closing {
            // Wait for the client's end of stream (dropping unread input
            // would reset the connection).
            let _ = io.shutdown().await;
            let mut sink = [0u8; 1024];
            while matches!(io.read(&mut sink).await, Ok(n) if n > 0) {}
            return;
        }
        rbuf.reserve(rx.wanted(&rbuf).max(4096));
        match io.read_buf(&mut rbuf).await {
            Ok(n) if n > 0 => {}
            _ => return,
        }
    }
}

async fn handle(
    mut req: Request<Body>,
    deflate: PerMessageDeflate,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let res = match websocket_accept(req.method(), req.headers(), Some(&deflate)) {
        Ok((res, agreed)) => {
            let upgrade = hyper::upgrade::on(&mut req);
            tokio::spawn(async move {
                if let Ok(upgraded) = upgrade.await {
                    echo(TokioIo::new(upgraded), agreed).await;
                }
            });
            res
        }
        Err(refusal) => *refusal,
    };
    Ok(res.map(Full::new))
}

fn args() -> Result<(u16, usize), String> {
    let mut args = std::env::args().skip(1);
    let (mut port, mut threshold) = (9001u16, 0usize);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--port" => {
                port = value("--port")?
                    .parse()
                    .map_err(|e| format!("--port: {e}"))?
            }
            "--threshold" => {
                threshold = value("--threshold")?
                    .parse()
                    .map_err(|e| format!("--threshold: {e}"))?
            }
            other => {
                return Err(format!(
                    "unknown argument {other:?} (--port N, --threshold N)"
                ))
            }
        }
    }
    Ok((port, threshold))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let (port, threshold) = args().map_err(std::io::Error::other)?;
    let deflate = PerMessageDeflate {
        threshold,
        ..PerMessageDeflate::default()
    };
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
    println!("ws_echo listening on {}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| handle(req, deflate));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades()
                .await;
        });
    }
}
