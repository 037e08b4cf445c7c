//! The floor of an echo round trip: the least a Socket.IO server must do
//! per `echo` on this machine, to compare real servers against
//! (benches/RESULTS.md, issue 11). One task per connection on the same
//! frame layer as oxio (`oxio_engine::transport::ws_proto`) and the same
//! hyper upgrade; it speaks just enough Engine.IO v4 / Socket.IO v5 over a
//! WebSocket for `oxio-load echo` (the open packet, the CONNECT reply to
//! `40`, and `42["echo",ARGS]` answered with `42["echo-response",ARGS]` by
//! rewriting the bytes): no session, no decoding, no handler, no queue, no
//! heartbeat. What a real server costs above it is its own work.
//!
//! ```text
//! cargo run --release -p oxio-engine --example floor_echo -- --port 3000
//! oxio-load echo --url http://127.0.0.1:3000 -n 100 --inflight 1
//! ```

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::{Bytes, BytesMut};
use http_body_util::Full;
use hyper::body::Incoming as Body;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use oxio_engine::transport::websocket_accept;
use oxio_engine::transport::ws_proto::{op, Incoming, Receiver, Sender};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

const OPEN: &str = r#"0{"sid":"floorfloorfloorfloor","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;
const CONNECTED: &str = r#"40{"sid":"floorsocketsocketsoc"}"#;
const ECHO: &str = r#"42["echo""#;
const ECHO_RESPONSE: &str = r#"42["echo-response""#;

/// The reply to one text message, appended to `out`.
fn answer(tx: &mut Sender, out: &mut Vec<u8>, text: &str) {
    if text == "40" {
        tx.push_bytes(out, true, CONNECTED.as_bytes());
    } else if let Some(rest) = text.strip_prefix(ECHO) {
        let mut reply = String::with_capacity(text.len() + 9);
        reply.push_str(ECHO_RESPONSE);
        reply.push_str(rest);
        tx.push_bytes(out, true, reply.as_bytes());
    }
}

/// Serves one upgraded connection until it closes.
async fn serve<S: AsyncRead + AsyncWrite + Unpin>(mut io: S) {
    let mut rx = Receiver::new(1_000_000, None);
    let mut tx = Sender::new(None);
    let mut rbuf = BytesMut::new();
    let mut out = Vec::new();
    tx.push_bytes(&mut out, true, OPEN.as_bytes());
    loop {
        loop {
            match rx.next(&mut rbuf) {
                Ok(Some(Incoming::Text(t))) => answer(&mut tx, &mut out, t.as_str()),
                Ok(Some(Incoming::Ping(p))) => Sender::push_control(&mut out, op::PONG, &p),
                Ok(Some(Incoming::Binary(_) | Incoming::Pong)) => {}
                Ok(Some(Incoming::Close(..))) | Err(_) => return,
                Ok(None) => break,
            }
        }
        if !out.is_empty() {
            if io.write_all(&out).await.is_err() {
                return;
            }
            out.clear();
        }
        rbuf.reserve(4096);
        match io.read_buf(&mut rbuf).await {
            Ok(n) if n > 0 => {}
            _ => return,
        }
    }
}

async fn handle(mut req: Request<Body>) -> Result<Response<Full<Bytes>>, Infallible> {
    let res = match websocket_accept(req.method(), req.headers(), None) {
        Ok((res, _)) => {
            let upgrade = hyper::upgrade::on(&mut req);
            tokio::spawn(async move {
                if let Ok(upgraded) = upgrade.await {
                    serve(TokioIo::new(upgraded)).await;
                }
            });
            res
        }
        Err(refusal) => *refusal,
    };
    Ok(res.map(Full::new))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut port = 3000u16;
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--port", Some(p)) => port = p.parse().map_err(std::io::Error::other)?,
            _ => return Err(std::io::Error::other("usage: floor_echo [--port N]")),
        }
    }
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
    println!("floor_echo listening on {}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(handle);
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades()
                .await;
        });
    }
}
