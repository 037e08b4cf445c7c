//! `oxio-load`: a Socket.IO load generator (Engine.IO v4 / Socket.IO v5
//! over WebSocket, framed with oxio-codec), and the report of
//! `benches/compare.sh`. See `oxio-load --help`.
#![forbid(unsafe_code)]

mod proto;
mod report;
mod run;
mod soak;
mod stats;

use clap::{Args, Parser, Subcommand};
use proto::{ConnectOptions, Target};
use run::{Common, Flow, Scenario};
use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

const ABOUT: &str = "A Socket.IO load generator: many clients in one process, \
Engine.IO v4 / Socket.IO v5 over a direct WebSocket (transport=websocket).";

const LONG_ABOUT: &str = "A Socket.IO load generator: many clients in one process, \
Engine.IO v4 / Socket.IO v5 over a direct WebSocket (transport=websocket, no polling), \
namespace /.

Every scenario first connects --clients clients (at most --connect-concurrency at once) \
and measures the connects; then:
  connect    leaves at once (connects/s, failures, p50/p99 connect time)
  echo       each client emits `echo` {\"t\":<µs>,\"p\":\"xx..\"} and reads `echo-response` \
with the same argument; --inflight messages per client (closed loop), or --rate per client: \
msgs/s and round-trip p50/p99/p99.9
  broadcast  one more client (the emitter, on the first --url) emits `bcast` {\"t\",\"p\"}; \
the server must send it to every socket (io.emit); receivers (round-robin over the --urls) \
measure deliveries/s and send-to-receive latency; with --room-size K the receivers \
join rooms of K (`join`, acked) and the emitter sends `bcast-room` to each room in turn \
(the emitter joins every room, so its own copy closes the loop)
  idle       holds the connections for --hold seconds answering pings; with --server-pid \
reports the server's RSS before/after and bytes per connection
  report     turns result files (--json) into the load section of RESULTS.md and SVG plots
  soak       a long mixed load against the demo server (oxio-server): connects and leaves, \
echo (text and binary), rooms joined and left, room messages, chat broadcasts, acks, \
binary broadcasts, on WebSocket and long-polling; samples the server's RSS, descriptors, \
threads and CPU (--server-pid) into a CSV and prints the RSS slope (see `oxio-load soak --help`)

With --server-pid (a server on this machine) every scenario also reports the server's \
CPU time over the measured window and CPU microseconds per message: steadier than \
msgs/s when the load generator and the server share a busy machine.

The server contract (echo, bcast, join, bcast-room) is in benches/peers/README.md; benches/compare.sh runs \
every scenario against oxio, socketioxide and Node's socket.io. RLIMIT_NOFILE is raised \
to its hard limit at start.";

#[derive(Debug, Parser)]
#[command(name = "oxio-load", version, about = ABOUT, long_about = LONG_ABOUT)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// A storm of connects: connects/s, failures, p50/p99 connect time.
    Connect(CommonArgs),
    /// `echo` round trips: msgs/s and round-trip p50/p99/p99.9.
    Echo {
        #[command(flatten)]
        common: CommonArgs,
        #[command(flatten)]
        flow: FlowArgs,
    },
    /// One emitter, N receivers: deliveries/s and end-to-end latency.
    Broadcast {
        #[command(flatten)]
        common: CommonArgs,
        #[command(flatten)]
        flow: FlowArgs,
    },
    /// Hold N connections (answering pings); server memory per connection.
    Idle {
        #[command(flatten)]
        common: CommonArgs,
        /// Seconds to hold the connections (default pingInterval is 25 s, so
        /// 30 s sees at least one ping).
        #[arg(long, value_name = "SECS", default_value_t = 30.0)]
        hold: f64,
        /// Seconds to wait after the last connect before reading the RSS.
        #[arg(long, value_name = "SECS", default_value_t = 2.0)]
        settle: f64,
    },
    /// Write the load section of RESULTS.md and plots from result files.
    Report(report::ReportArgs),
    /// A long mixed load against the demo server, sampling the server's
    /// RSS, file descriptors, threads and CPU into a CSV under
    /// benches/results/soak/; prints the slope of RSS over the last 2/3.
    /// Tokio's task count is not visible from outside the process.
    Soak(soak::SoakArgs),
}

#[derive(Debug, Args)]
struct CommonArgs {
    /// Server URL, http://host:port[/path] or ws://... (path default
    /// /socket.io/). Repeat for broadcast across nodes: the emitter uses the
    /// first, receivers are spread round-robin; other scenarios spread
    /// clients round-robin too.
    #[arg(
        long = "url",
        value_name = "URL",
        default_value = "http://127.0.0.1:3000"
    )]
    urls: Vec<String>,
    /// Clients (broadcast: receivers; the emitter is one more).
    #[arg(short = 'n', long, default_value_t = 100)]
    clients: usize,
    /// The server's name in the output (e.g. oxio, socketioxide, node).
    #[arg(long, default_value = "server")]
    label: String,
    /// Also write the results as JSON to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Connects in progress at once.
    #[arg(long, value_name = "N", default_value_t = 500)]
    connect_concurrency: usize,
    /// Seconds one connect (TCP + WebSocket + Engine.IO + namespace) may take.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    connect_timeout: f64,
    /// Spread clients over this many source addresses 127.0.0.1..N (loopback
    /// targets only), when one address runs out of ephemeral ports.
    #[arg(long, value_name = "N", default_value_t = 1)]
    source_ips: u8,
    /// Tokio worker threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// The server's process id (same machine): its CPU time over the
    /// measured window (/proc/PID/stat) and its RSS (/proc/PID/status,
    /// idle: before connecting, once connected, at the end) are reported.
    #[arg(long, value_name = "PID")]
    server_pid: Option<u32>,
    /// No progress bars (they are hidden anyway when stderr is not a terminal).
    #[arg(long)]
    no_progress: bool,
}

#[derive(Debug, Args)]
struct FlowArgs {
    /// Seconds measured (after the warm-up).
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    duration: f64,
    /// Seconds run before measuring.
    #[arg(long, value_name = "SECS", default_value_t = 2.0)]
    warmup: f64,
    /// Messages in flight per sender (closed loop: a new one is sent when
    /// one comes back). With --rate: the most unanswered at once.
    #[arg(long, value_name = "K", default_value_t = 1)]
    inflight: u32,
    /// Messages per second per sender, instead of the closed loop (0: closed loop).
    #[arg(long, value_name = "PER_S", default_value_t = 0.0)]
    rate: f64,
    /// Padding bytes in each message's argument.
    #[arg(long, value_name = "BYTES", default_value_t = 32)]
    payload_bytes: usize,
    /// Broadcast only: rooms of K receivers instead of `io.emit`. Receiver
    /// i joins room `room-{i / K}` (the contract's `join`, acked, during
    /// the connect), the emitter joins every room and sends `bcast-room`
    /// to the rooms in turn, so each message reaches K receivers.
    #[arg(long, value_name = "K", default_value_t = 0)]
    room_size: usize,
    /// Broadcast only: the emitter posts each message to the server's
    /// `POST /api/update` (the REST fan-out of the load contract: the body
    /// is the `bcast` argument, emitted to every socket of `/`) instead of
    /// sending `bcast` on its socket; its own copy still closes the loop.
    #[arg(long)]
    rest: bool,
}

impl FlowArgs {
    fn flow(&self) -> Result<Flow, String> {
        Ok(Flow {
            duration: secs(self.duration, "--duration")?,
            warmup: secs(self.warmup, "--warmup")?,
            inflight: self.inflight.max(1),
            rate: if self.rate.is_finite() && self.rate > 0.0 {
                self.rate
            } else {
                0.0
            },
            payload_bytes: self.payload_bytes,
            room_size: self.room_size,
            rest: self.rest,
        })
    }
}

fn secs(v: f64, name: &str) -> Result<Duration, String> {
    Duration::try_from_secs_f64(v).map_err(|e| format!("{name}: {e}"))
}

async fn common(args: &CommonArgs) -> Result<Common, String> {
    let mut targets = Vec::new();
    for url in &args.urls {
        targets.push(Target::parse(url).await.map_err(|e| e.to_string())?);
    }
    Ok(Common {
        targets,
        clients: args.clients,
        label: args.label.clone(),
        connect_concurrency: args.connect_concurrency,
        connect_timeout: secs(args.connect_timeout, "--connect-timeout")?,
        connect: ConnectOptions {
            source_ips: args.source_ips,
        },
        progress: !args.no_progress && std::io::stderr().is_terminal(),
        server_pid: args.server_pid,
    })
}

fn raise_nofile(wanted: u64) {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) if n < wanted => eprintln!(
            "oxio-load: warning: RLIMIT_NOFILE is {n}, fewer than the {wanted} sockets needed (raise the hard limit: ulimit -Hn)"
        ),
        Ok(_) => {}
        Err(e) => eprintln!("oxio-load: warning: cannot raise RLIMIT_NOFILE: {e}"),
    }
}

async fn run_scenario(args: &CommonArgs, scenario: Scenario) -> Result<(), String> {
    let common = common(args).await?;
    raise_nofile(args.clients as u64 + 64);
    let result = run::run(common, scenario).await;
    print!("{}", stats::human(&result));
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&result).map_err(|e| e.to_string())?;
        std::fs::write(path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if result.connect.ok == 0 {
        return Err("no client could connect".to_owned());
    }
    Ok(())
}

fn run_soak(args: soak::SoakArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("oxio-load: cannot start Tokio: {e}");
            return ExitCode::FAILURE;
        }
    };
    raise_nofile(4096);
    match runtime.block_on(soak::soak(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("oxio-load soak: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (common_args, scenario) = match cli.cmd {
        Cmd::Report(args) => {
            return match report::report(&args) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("oxio-load report: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Cmd::Soak(args) => return run_soak(args),
        Cmd::Connect(common) => (common, Ok(Scenario::Connect)),
        Cmd::Echo { common, flow } => {
            let s = flow.flow().map(Scenario::Echo);
            (common, s)
        }
        Cmd::Broadcast { common, flow } => {
            let s = flow.flow().map(Scenario::Broadcast);
            (common, s)
        }
        Cmd::Idle {
            common,
            hold,
            settle,
        } => {
            let s = secs(hold, "--hold").and_then(|hold| {
                Ok(Scenario::Idle {
                    hold,
                    settle: secs(settle, "--settle")?,
                })
            });
            (common, s)
        }
    };
    let scenario = match scenario {
        Ok(s) => s,
        Err(e) => {
            eprintln!("oxio-load: {e}");
            return ExitCode::from(2);
        }
    };
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = common_args.threads {
        builder.worker_threads(n.max(1));
    }
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("oxio-load: cannot start Tokio: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run_scenario(&common_args, scenario)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("oxio-load: {e}");
            ExitCode::FAILURE
        }
    }
}
