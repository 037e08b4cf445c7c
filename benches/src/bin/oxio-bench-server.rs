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
//! one `io.emit` (compare.sh's `cluster-broadcast`). With `--redis-cluster
//! URL[,URL...]`, through the sharded adapter on a Redis Cluster
//! (`sharded-broadcast`). With `--recovery SECS`
//! (the cost of connection state recovery, benches/RESULTS.md, issue 12)
//! `echo` is answered as Node's `socket.emit` does it (arguments parsed and
//! re-encoded, through the adapter when recovery is on, so each answer is
//! recorded with an offset) and SECS > 0 turns recovery on with that
//! `max_disconnection_duration`; `--recovery 0` is the same path with
//! recovery off (the baseline).
//!
//! ```text
//! oxio-bench-server [--host 127.0.0.1] [--port 3000] [--redis redis://127.0.0.1:6379]
//!                   [--redis-cluster redis://127.0.0.1:7000,...] [--recovery SECS] [--metrics]
//!                   [--per-message-deflate] [--reuse-port]
//! ```
#![forbid(unsafe_code)]

use clap::Parser;
use oxio_server::config::EngineConfig;
use oxio_server::engine::Utf8Bytes;
use oxio_server::socketio::{AckSender, Io, Outgoing, Payload, SocketIo, SocketRef};
use serde_json::Value;
use std::io::Write as _;
use std::process::ExitCode;

/// The oxio server of the load comparison: `/` answers `echo` with
/// `echo-response` (same args) and re-emits `bcast` to every socket;
/// `POST /api/update` emits its JSON body as `bcast` to every socket.
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
    /// Echo through `socket.emit` (parsed arguments, recorded when recovery
    /// is on); SECS > 0 also turns connection state recovery on with that
    /// max disconnection duration, 0 leaves it off.
    #[arg(long, value_name = "SECS")]
    recovery: Option<u64>,
    /// Share broadcasts through a Redis Cluster with sharded pub/sub (the
    /// sharded adapter, as Node's createShardedAdapter, default options);
    /// waits for the cluster before printing `listening on`.
    #[arg(
        long,
        value_name = "URL[,URL...]",
        value_delimiter = ',',
        conflicts_with = "redis"
    )]
    redis_cluster: Vec<String>,
    /// Count Prometheus metrics (oxio_server::metrics, never scraped): to
    /// measure their cost (benches/RESULTS.md, issue 15).
    #[arg(long, env = "OXIO_BENCH_METRICS")]
    metrics: bool,
    /// Accept permessage-deflate (threshold 1024 bytes) from clients that
    /// offer it.
    #[arg(long)]
    per_message_deflate: bool,
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
    // Sized once: growing it three times was 9 % of a round trip's
    // instructions (benches/RESULTS.md, issue 11).
    // The received frame holds the args, so its length bounds theirs.
    let mut text = String::with_capacity(payload.frame().as_str().len() + 32);
    if attachments.is_empty() {
        text.push_str(r#"2["echo-response""#);
    } else {
        text.push_str(&format!(r#"5{}-["echo-response""#, attachments.len()));
    }
    for arg in payload.raw_args() {
        text.push(',');
        text.push_str(arg);
    }
    text.push(']');
    Outgoing::from_parts(Utf8Bytes::from(text), attachments.to_vec())
}

fn on_connect(io: &Io, s: &SocketRef, emit_echo: bool) {
    if emit_echo {
        s.on("echo", |s: SocketRef, payload: Payload| {
            let arg = payload
                .args::<(Value,)>()
                .map(|(v,)| v)
                .unwrap_or(Value::Null);
            let _ = s.emit("echo-response", &(arg,));
        });
    } else {
        s.on("echo", |s: SocketRef, payload: Payload| {
            // A closed or overflowing socket: nothing to do in a benchmark (the
            // load generator counts what does not come back).
            let _ = s.send_packet(&echo_response(&payload), false);
        });
    }
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

/// The REST fan-out of the load contract: `POST /api/update` emits its
/// body (one JSON value) as `bcast` to every socket of `/`, then answers
/// 200 `{}` (400 for a body that is not JSON).
fn rest_routes(io: Io) -> axum::Router {
    use axum::http::StatusCode;
    let update = move |body: axum::body::Bytes| {
        let io = io.clone();
        async move {
            match serde_json::from_slice::<Value>(&body) {
                Ok(arg) => {
                    let _ = io.emit("bcast", &(arg,));
                    (StatusCode::OK, "{}")
                }
                Err(_) => (StatusCode::BAD_REQUEST, "{}"),
            }
        }
    };
    axum::Router::new().route("/api/update", axum::routing::post(update))
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
    if let Some(secs) = cli.recovery.filter(|s| *s > 0) {
        sio = sio.connection_state_recovery(oxio_server::socketio::ConnectionStateRecovery {
            max_disconnection_duration: std::time::Duration::from_secs(secs),
            ..Default::default()
        });
    }
    if !cli.redis_cluster.is_empty() {
        let adapter = oxio_redis_adapter::ShardedRedisAdapter::builder(cli.redis_cluster.clone())
            .connect()
            .await
            .map_err(|e| std::io::Error::other(format!("sharded Redis adapter: {e}")))?;
        sio = sio.with_adapter(adapter);
    }
    let metrics = cli.metrics.then(oxio_server::metrics::Metrics::new);
    if let Some(m) = &metrics {
        sio = sio.metrics(m);
    }
    let sio = sio.build();
    let io = sio.io();
    let emit_echo = cli.recovery.is_some();
    sio.io()
        .ns("/", move |s: SocketRef| on_connect(&io, &s, emit_echo));
    let config = EngineConfig {
        per_message_deflate: cli
            .per_message_deflate
            .then(oxio_server::config::PerMessageDeflate::default),
        ..EngineConfig::default()
    };
    let engine = sio.engine(config);
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
    oxio_server::service::serve_app(listener, engine, rest_routes(sio.io()), signal).await;
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
