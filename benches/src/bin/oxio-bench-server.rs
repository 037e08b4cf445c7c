//! `oxio-bench-server`: the oxio side of `benches/compare.sh`, with the load
//! contract every compared server implements (`benches/peers/README.md`):
//!
//! | client sends (namespace `/`) | server answers |
//! |---|---|
//! | `echo` (any args) | `echo-response` with the same args, to the sender |
//! | `bcast` (one argument) | `bcast` with that argument, to every socket (`io.emit`) |
//! | `join` (room name; with an ack) | joins that room, then acks with no arguments |
//! | `bcast-room` (room name, one argument) | `bcast` with the argument to every socket in the room (`io.to(room).emit`) |
//!
//! Engine.IO and Socket.IO settings are the library's defaults (pingInterval
//! 25 s, pingTimeout 20 s, maxPayload 1 MB, as in Node), no CORS, no demo
//! page: only `/socket.io/`. Listen backlog 511 (Node's). Prints `listening on <port>` once ready and
//! stops on Ctrl-C or SIGTERM. With `--redis URL`, broadcasts go through the
//! Redis adapter (`std-server/redis-adapter/README.md`), so several nodes on one Redis serve
//! one `io.emit` (compare.sh's `cluster-broadcast`).
//!
//! ```text
//! oxio-bench-server [--host 127.0.0.1] [--port 3000] [--redis redis://127.0.0.1:6379] [--reuse-port]
//! ```
#![forbid(unsafe_code)]

use clap::Parser;
use oxio_server::config::EngineConfig;
use oxio_server::engine::{Engine, Utf8Bytes};
use oxio_server::socketio::{AckSender, Io, Outgoing, Payload, SocketIo, SocketRef};
use serde_json::Value;
use std::io::Write as _;
use std::process::ExitCode;

/// The oxio server of the load comparison: `/` answers `echo` with
/// `echo-response` (same args) and re-emits `bcast` to every socket.
#[derive(Debug, Parser)]
#[command(name = "oxio-bench-server", version)]
struct Cli {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// TCP port (0: any free port; the chosen one is printed).
    #[arg(long, env = "PORT", default_value_t = 3000)]
    port: u16,
    /// Tokio worker threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// Share broadcasts with other nodes through this Redis (the Redis
    /// adapter, wire-compatible with @socket.io/redis-adapter); waits for
    /// Redis before printing `listening on`.
    #[arg(long, value_name = "URL")]
    redis: Option<String>,
    /// Share the port with other processes (`SO_REUSEPORT`, see
    /// `oxio_server::service::ListenOptions`): several servers on one port,
    /// joined by `--redis` (benches/scale.sh).
    #[arg(long)]
    reuse_port: bool,
}

/// `echo-response` carrying the event's arguments as they arrived (raw JSON
/// and attachments), without a parse/serialize round trip.
fn echo_response(payload: &Payload) -> Outgoing {
    let attachments = payload.attachments();
    let mut text = if attachments.is_empty() {
        String::from(r#"2["echo-response""#)
    } else {
        format!(r#"5{}-["echo-response""#, attachments.len())
    };
    for arg in payload.raw_args() {
        text.push(',');
        text.push_str(arg);
    }
    text.push(']');
    Outgoing::from_parts(Utf8Bytes::from(text), attachments.to_vec())
}

fn on_connect(io: &Io, s: &SocketRef) {
    s.on("echo", |s: SocketRef, payload: Payload| {
        // A closed or overflowing socket: nothing to do in a benchmark (the
        // load generator counts what does not come back).
        let _ = s.send_packet(&echo_response(&payload), false);
    });
    let all = io.clone();
    s.on("bcast", move |payload: Payload| {
        let arg = payload
            .args::<(Value,)>()
            .map(|(v,)| v)
            .unwrap_or(Value::Null);
        let _ = all.emit("bcast", &(arg,));
    });
    s.on("join", |s: SocketRef, payload: Payload, ack: AckSender| {
        if let Ok((room,)) = payload.args::<(String,)>() {
            s.join(room);
        }
        let _ = ack.send(&());
    });
    let io = io.clone();
    s.on("bcast-room", move |payload: Payload| {
        if let Ok((room, arg)) = payload.args::<(String, Value)>() {
            let _ = io.to(room).emit("bcast", &(arg,));
        }
    });
}

/// Node's listen backlog (511), for every compared server: Rust's
/// `TcpListener::bind` uses 128, which overflows in a connect storm (the
/// dropped SYNs come back after 1 s).
const BACKLOG: u32 = 511;

async fn listen(
    host: &str,
    port: u16,
    reuse_port: bool,
) -> std::io::Result<tokio::net::TcpListener> {
    oxio_server::service::bind_with(
        (host, port),
        oxio_server::service::ListenOptions {
            backlog: BACKLOG,
            reuse_port,
        },
    )
    .await
}

async fn run(cli: Cli) -> std::io::Result<()> {
    let mut sio = SocketIo::builder();
    if let Some(url) = &cli.redis {
        let adapter = oxio_redis_adapter::RedisAdapter::builder(url.as_str())
            .connect()
            .await
            .map_err(|e| std::io::Error::other(format!("Redis adapter ({url}): {e}")))?;
        sio = sio.with_adapter(adapter);
    }
    let sio = sio.build();
    let io = sio.io();
    sio.io().ns("/", move |s: SocketRef| on_connect(&io, &s));
    let engine = Engine::new(EngineConfig::default(), sio.clone());
    let listener = listen(&cli.host, cli.port, cli.reuse_port).await?;
    let port = listener.local_addr()?.port();
    println!("listening on {port}");
    std::io::stdout().flush()?;
    let signal = async {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            match signal(SignalKind::terminate()) {
                Ok(mut term) => {
                    tokio::select! {
                        _ = tokio::signal::ctrl_c() => {}
                        _ = term.recv() => {}
                    }
                }
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    };
    oxio_server::service::serve(listener, engine, signal).await;
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = cli.threads {
        builder.worker_threads(n.max(1));
    }
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("oxio-bench-server: cannot start Tokio: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("oxio-bench-server: {e}");
            ExitCode::FAILURE
        }
    }
}
