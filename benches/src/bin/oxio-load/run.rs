//! The scenarios: one Tokio task per client, all started together; the
//! main task drives the phases (connect, warm-up, measure, stop).

use crate::proto::{
    classify, now_us, stamped_event, stamped_room_event, Client, ClientError, ConnectOptions,
    Incoming, Kind, Target,
};
use crate::soak::Http;
use crate::stats::{
    rss_kib, BroadcastResult, ConnectResult, Counter, EchoResult, ErrorLog, IdleResult, RunResult,
    Samples, ServerUsage, SharedHist,
};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Map, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::{watch, Semaphore};
use tokio::time::MissedTickBehavior;

/// Options every scenario shares.
#[derive(Debug, Clone)]
pub struct Common {
    /// The servers (broadcast: emitter on the first, receivers round-robin).
    pub targets: Vec<Target>,
    /// Clients (receivers for `broadcast`).
    pub clients: usize,
    /// The server's name in the results.
    pub label: String,
    /// Connects in progress at once.
    pub connect_concurrency: usize,
    /// Give up on one connect after this.
    pub connect_timeout: Duration,
    /// Source addresses to spread over.
    pub connect: ConnectOptions,
    /// Show progress bars.
    pub progress: bool,
    /// The server process, for its CPU time and RSS.
    pub server_pid: Option<u32>,
}

/// The sending side of `echo` and `broadcast`.
#[derive(Debug, Clone)]
pub struct Flow {
    /// Measured window.
    pub duration: Duration,
    /// Run before measuring.
    pub warmup: Duration,
    /// Messages in flight per sender.
    pub inflight: u32,
    /// Per-sender send rate (messages/s); 0 = send when an answer returns.
    pub rate: f64,
    /// Padding in each message.
    pub payload_bytes: usize,
    /// Broadcast only: 0 sends `bcast` to every socket (`io.emit`); K > 0
    /// puts receiver i in room `room-{i / K}` (rooms of K), the emitter in
    /// every room, and sends `bcast-room` to the rooms in turn.
    pub room_size: usize,
    /// Broadcast only: post each message to `POST /api/update` instead of
    /// sending `bcast` on the emitter's socket (the REST fan-out).
    pub rest: bool,
}

impl Flow {
    /// The rooms of a room broadcast over `clients` receivers (none for
    /// `io.emit`).
    fn rooms(&self, clients: usize) -> usize {
        if self.room_size == 0 {
            0
        } else {
            clients.div_ceil(self.room_size)
        }
    }
}

fn room_name(i: usize) -> String {
    format!("room-{i}")
}

/// What to run.
#[derive(Debug, Clone)]
pub enum Scenario {
    /// Connect everyone, then leave.
    Connect,
    /// `echo` → `echo-response` round trips.
    Echo(Flow),
    /// One emitter's `bcast` to every receiver.
    Broadcast(Flow),
    /// Hold the connections.
    Idle {
        /// How long.
        hold: Duration,
        /// Wait after the last connect before reading the RSS.
        settle: Duration,
    },
}

impl Scenario {
    fn name(&self) -> &'static str {
        match self {
            Scenario::Connect => "connect",
            Scenario::Echo(_) => "echo",
            Scenario::Broadcast(_) => "broadcast",
            Scenario::Idle { .. } => "idle",
        }
    }

    fn params(&self) -> Map<String, Value> {
        let flow = |f: &Flow| {
            json!({
                "duration_s": f.duration.as_secs_f64(),
                "warmup_s": f.warmup.as_secs_f64(),
                "inflight": f.inflight,
                "rate": f.rate,
                "payload_bytes": f.payload_bytes,
                "room_size": f.room_size,
                "rest": f.rest,
            })
        };
        let v = match self {
            Scenario::Connect => json!({}),
            Scenario::Echo(f) | Scenario::Broadcast(f) => flow(f),
            Scenario::Idle { hold, settle } => json!({
                "hold_s": hold.as_secs_f64(),
                "settle_s": settle.as_secs_f64(),
            }),
        };
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }
}

/// When the measured window opens and closes, and when tasks leave.
#[derive(Debug, Clone, Copy)]
struct Plan {
    measure_from: Instant,
    measure_from_us: u64,
    stop_at: Instant,
    stop_us: u64,
    /// Receivers keep reading until then (late deliveries still count).
    linger_until: Instant,
}

impl Plan {
    fn in_window(&self, us: u64) -> bool {
        us >= self.measure_from_us && us < self.stop_us
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Plain,
    Emitter,
}

struct Ctx {
    scenario: Scenario,
    /// Receivers (broadcast) or clients.
    clients: usize,
    connect: ConnectOptions,
    connect_timeout: Duration,
    connect_sem: Semaphore,
    connected: Counter,
    connect_failed: Counter,
    connect_done: Counter,
    last_answer_us: AtomicU64,
    connect_hist: SharedHist,
    hist: SharedHist,
    sent: Counter,
    received: Counter,
    pings: Counter,
    alive_at_end: Counter,
    disconnects: Counter,
    protocol_errors: Counter,
    errors: ErrorLog,
}

impl Ctx {
    /// Answers pings, turns closes into errors; returns stamped events.
    async fn handle(
        &self,
        client: &mut Client,
        frame: &str,
    ) -> Result<Option<(Kind, u64)>, ClientError> {
        match classify(frame) {
            Ok(Incoming::Ping) => {
                client.send_text("3").await?;
                self.pings.inc();
                Ok(None)
            }
            Ok(Incoming::Closed) => Err(ClientError::Closed(format!("server sent {frame:.40}"))),
            Ok(Incoming::Stamped(kind, t)) => Ok(Some((kind, t))),
            Ok(Incoming::Other) => Ok(None),
            Err(e) => {
                self.protocol_errors.inc();
                self.errors.note(e.to_string());
                Ok(None)
            }
        }
    }
}

async fn tick(ticker: &mut Option<tokio::time::Interval>) {
    match ticker {
        Some(t) => {
            t.tick().await;
        }
        None => std::future::pending().await,
    }
}

fn ticker(flow: &Flow) -> Option<tokio::time::Interval> {
    (flow.rate > 0.0).then(|| {
        let mut t = tokio::time::interval(Duration::from_secs_f64(1.0 / flow.rate));
        t.set_missed_tick_behavior(MissedTickBehavior::Skip);
        t
    })
}

/// Sends one stamped event; counts it when sent inside the window.
async fn send_stamped(
    ctx: &Ctx,
    client: &mut Client,
    plan: &Plan,
    event: &str,
    padding: &str,
    flush: bool,
) -> Result<(), ClientError> {
    let t = now_us();
    let frame = match event.strip_prefix("room:") {
        Some(room) => stamped_room_event(room, t, padding),
        None => stamped_event(event, t, padding),
    };
    if flush {
        client.send_text(&frame).await?;
    } else {
        client.feed_text(&frame).await?;
    }
    if plan.in_window(t) {
        ctx.sent.inc();
    }
    Ok(())
}

async fn run_echo(
    ctx: &Ctx,
    client: &mut Client,
    plan: &Plan,
    flow: &Flow,
) -> Result<(), ClientError> {
    let padding = "x".repeat(flow.payload_bytes);
    let mut samples = Samples::new(&ctx.hist);
    let mut ticker = ticker(flow);
    let closed_loop = ticker.is_none();
    let mut inflight = 0u32;
    if closed_loop {
        for _ in 0..flow.inflight {
            send_stamped(ctx, client, plan, "echo", &padding, false).await?;
            inflight = inflight.saturating_add(1);
        }
        client.flush().await?;
    }
    let stop = tokio::time::sleep_until(plan.stop_at.into());
    tokio::pin!(stop);
    loop {
        tokio::select! {
            biased;
            () = &mut stop => return Ok(()),
            frame = client.next_text() => {
                let frame = frame?;
                if let Some((Kind::Echo, t)) = ctx.handle(client, &frame).await? {
                    inflight = inflight.saturating_sub(1);
                    let now = now_us();
                    if plan.in_window(now) {
                        ctx.received.inc();
                        samples.record(now.saturating_sub(t));
                    }
                    if closed_loop && now < plan.stop_us {
                        send_stamped(ctx, client, plan, "echo", &padding, true).await?;
                        inflight = inflight.saturating_add(1);
                    }
                }
            }
            () = tick(&mut ticker) => {
                if inflight < flow.inflight {
                    send_stamped(ctx, client, plan, "echo", &padding, true).await?;
                    inflight = inflight.saturating_add(1);
                }
            }
        }
    }
}

/// One broadcast message from the emitter: `bcast` (or `bcast-room`) on its
/// socket, or with `rest` a `POST /api/update` of the stamped argument.
async fn emit(
    ctx: &Ctx,
    client: &mut Client,
    rest: Option<&mut Http>,
    plan: &Plan,
    event: &str,
    padding: &str,
    flush: bool,
) -> Result<(), ClientError> {
    let Some(http) = rest else {
        return send_stamped(ctx, client, plan, event, padding, flush).await;
    };
    let t = now_us();
    let body = json!({ "t": t, "p": padding }).to_string();
    http.request("POST", "/api/update", body.as_bytes())
        .await
        .map_err(|e| ClientError::Protocol(format!("POST /api/update: {e}")))?;
    if plan.in_window(t) {
        ctx.sent.inc();
    }
    Ok(())
}

async fn run_emitter(
    ctx: &Ctx,
    client: &mut Client,
    target: &Target,
    plan: &Plan,
    flow: &Flow,
) -> Result<(), ClientError> {
    let padding = "x".repeat(flow.payload_bytes);
    let mut rest = flow.rest.then(|| Http::new(target));
    // `bcast`, or `room:<name>` for the rooms in turn (see `send_stamped`).
    let rooms: Vec<String> = (0..flow.rooms(ctx.clients))
        .map(|i| format!("room:{}", room_name(i)))
        .collect();
    let mut turn = 0usize;
    let mut event = move || {
        turn = turn.wrapping_add(1);
        rooms
            .get(turn % rooms.len().max(1))
            .cloned()
            .unwrap_or_else(|| "bcast".to_owned())
    };
    let mut ticker = ticker(flow);
    let closed_loop = ticker.is_none();
    let mut inflight = 0u32;
    if closed_loop {
        for _ in 0..flow.inflight {
            emit(ctx, client, rest.as_mut(), plan, &event(), &padding, false).await?;
            inflight = inflight.saturating_add(1);
        }
        client.flush().await?;
    }
    let stop = tokio::time::sleep_until(plan.stop_at.into());
    tokio::pin!(stop);
    // A closed loop that lost its own copy would stall: resend after 1 s.
    let mut last_progress = Instant::now();
    let mut watchdog = tokio::time::interval(Duration::from_millis(250));
    loop {
        tokio::select! {
            biased;
            () = &mut stop => return Ok(()),
            frame = client.next_text() => {
                let frame = frame?;
                if let Some((Kind::Bcast, _)) = ctx.handle(client, &frame).await? {
                    inflight = inflight.saturating_sub(1);
                    last_progress = Instant::now();
                    if closed_loop && now_us() < plan.stop_us {
                        emit(ctx, client, rest.as_mut(), plan, &event(), &padding, true).await?;
                        inflight = inflight.saturating_add(1);
                    }
                }
            }
            () = tick(&mut ticker) => {
                emit(ctx, client, rest.as_mut(), plan, &event(), &padding, true).await?;
            }
            _ = watchdog.tick(), if closed_loop => {
                if last_progress.elapsed() > Duration::from_secs(1) {
                    ctx.errors.note("emitter: own bcast copy not back within 1 s; resent".to_owned());
                    emit(ctx, client, rest.as_mut(), plan, &event(), &padding, true).await?;
                    last_progress = Instant::now();
                }
            }
        }
    }
}

async fn run_receiver(ctx: &Ctx, client: &mut Client, plan: &Plan) -> Result<(), ClientError> {
    let mut samples = Samples::new(&ctx.hist);
    let stop = tokio::time::sleep_until(plan.linger_until.into());
    tokio::pin!(stop);
    loop {
        tokio::select! {
            biased;
            () = &mut stop => return Ok(()),
            frame = client.next_text() => {
                let frame = frame?;
                if let Some((Kind::Bcast, t)) = ctx.handle(client, &frame).await? {
                    if plan.in_window(t) {
                        ctx.received.inc();
                        samples.record(now_us().saturating_sub(t));
                    }
                }
            }
        }
    }
}

/// Holds the connection, answering pings, until `until`.
async fn hold(ctx: &Ctx, client: &mut Client, until: Instant) -> Result<(), ClientError> {
    let stop = tokio::time::sleep_until(until.into());
    tokio::pin!(stop);
    loop {
        tokio::select! {
            biased;
            () = &mut stop => return Ok(()),
            frame = client.next_text() => {
                let frame = frame?;
                ctx.handle(client, &frame).await?;
            }
        }
    }
}

async fn client_task(
    ctx: Arc<Ctx>,
    target: Target,
    index: usize,
    role: Role,
    mut plan_rx: watch::Receiver<Option<Plan>>,
) {
    let (started, result) = {
        let _permit = ctx.connect_sem.acquire().await;
        let started = now_us();
        // A room broadcast joins its rooms as part of the connect.
        let rooms: Vec<String> = match &ctx.scenario {
            Scenario::Broadcast(f) if f.room_size > 0 => match role {
                Role::Emitter => (0..f.rooms(ctx.clients)).map(room_name).collect(),
                Role::Plain => vec![room_name(index / f.room_size)],
            },
            _ => Vec::new(),
        };
        let r = tokio::time::timeout(ctx.connect_timeout, async {
            let mut c = Client::connect(&target, index, ctx.connect).await?;
            for room in &rooms {
                c.join(room).await?;
            }
            Ok::<Client, ClientError>(c)
        })
        .await;
        (started, r)
    };
    let done = now_us();
    ctx.last_answer_us.fetch_max(done, Ordering::Relaxed);
    let mut client = match result {
        Ok(Ok(c)) => {
            let mut s = Samples::new(&ctx.connect_hist);
            s.record(done.saturating_sub(started));
            ctx.connected.inc();
            ctx.connect_done.inc();
            c
        }
        Ok(Err(e)) => {
            ctx.errors.note(format!("connect: {e}"));
            ctx.connect_failed.inc();
            ctx.connect_done.inc();
            return;
        }
        Err(_) => {
            ctx.errors
                .note(format!("connect: {}", ClientError::Timeout));
            ctx.connect_failed.inc();
            ctx.connect_done.inc();
            return;
        }
    };

    // Wait for the run to start, answering pings meanwhile.
    let waited: Result<Plan, ClientError> = async {
        loop {
            if let Some(plan) = *plan_rx.borrow_and_update() {
                return Ok(plan);
            }
            tokio::select! {
                changed = plan_rx.changed() => {
                    if changed.is_err() {
                        return Err(ClientError::Closed("load stopped".to_owned()));
                    }
                }
                frame = client.next_text() => {
                    let frame = frame?;
                    ctx.handle(&mut client, &frame).await?;
                }
            }
        }
    }
    .await;

    let outcome = match waited {
        Err(e) => Err(e),
        Ok(plan) => match (&ctx.scenario, role) {
            (Scenario::Echo(flow), _) => run_echo(&ctx, &mut client, &plan, flow).await,
            (Scenario::Broadcast(flow), Role::Emitter) => {
                run_emitter(&ctx, &mut client, &target, &plan, flow).await
            }
            (Scenario::Broadcast(_), Role::Plain) => run_receiver(&ctx, &mut client, &plan).await,
            (Scenario::Idle { .. } | Scenario::Connect, _) => {
                hold(&ctx, &mut client, plan.linger_until).await
            }
        },
    };
    match outcome {
        Ok(()) => ctx.alive_at_end.inc(),
        Err(e) => {
            ctx.disconnects.inc();
            ctx.errors.note(e.to_string());
        }
    }
    client.close(Duration::from_secs(1)).await;
}

fn bar(progress: bool, len: u64, prefix: &str) -> ProgressBar {
    let pb = if progress {
        ProgressBar::new(len)
    } else {
        ProgressBar::hidden()
    };
    if let Ok(style) = ProgressStyle::with_template(
        "{prefix:>10} [{elapsed_precise}] {wide_bar} {pos}/{len} {msg}",
    ) {
        pb.set_style(style);
    }
    pb.set_prefix(prefix.to_owned());
    pb
}

/// Runs `scenario` and returns what it measured.
pub async fn run(common: Common, scenario: Scenario) -> RunResult {
    let started_unix = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let ctx = Arc::new(Ctx {
        scenario: scenario.clone(),
        clients: common.clients,
        connect: common.connect,
        connect_timeout: common.connect_timeout,
        connect_sem: Semaphore::new(common.connect_concurrency.max(1)),
        connected: Counter::default(),
        connect_failed: Counter::default(),
        connect_done: Counter::default(),
        last_answer_us: AtomicU64::new(0),
        connect_hist: SharedHist::new(),
        hist: SharedHist::new(),
        sent: Counter::default(),
        received: Counter::default(),
        pings: Counter::default(),
        alive_at_end: Counter::default(),
        disconnects: Counter::default(),
        protocol_errors: Counter::default(),
        errors: ErrorLog::default(),
    });
    let server_pid = common.server_pid;
    let cpu = |pid: Option<u32>| {
        pid.and_then(crate::stats::cpu_s)
            .map(|c| (Instant::now(), c))
    };
    let cpu_connect_start = cpu(server_pid);
    let rss_before = server_pid.and_then(rss_kib);

    let (plan_tx, plan_rx) = watch::channel(None::<Plan>);
    let mut tasks = tokio::task::JoinSet::new();
    let emitter = matches!(scenario, Scenario::Broadcast(_));
    let total = common.clients + usize::from(emitter);
    let connect_start = now_us();
    for index in 0..total {
        let (role, target) = if emitter && index == common.clients {
            (Role::Emitter, common.targets.first())
        } else {
            (
                Role::Plain,
                common.targets.get(index % common.targets.len().max(1)),
            )
        };
        let Some(target) = target.cloned() else { break };
        tasks.spawn(client_task(
            ctx.clone(),
            target,
            index,
            role,
            plan_rx.clone(),
        ));
    }

    // Connect phase.
    let pb = bar(common.progress, total as u64, "connect");
    let total_u = total as u64;
    while ctx.connect_done.get() < total_u {
        pb.set_position(ctx.connect_done.get());
        pb.set_message(format!("{} failed", ctx.connect_failed.get()));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    pb.finish_and_clear();
    let connect_elapsed = ctx
        .last_answer_us
        .load(Ordering::Relaxed)
        .saturating_sub(connect_start) as f64
        / 1e6;
    let connected = ctx.connected.get();
    let cpu_connect_end = cpu(server_pid);

    let mut rss_connected = None;
    let (warmup, measure, linger) = match &scenario {
        Scenario::Connect => (Duration::ZERO, Duration::ZERO, Duration::ZERO),
        Scenario::Echo(f) => (f.warmup, f.duration, Duration::ZERO),
        Scenario::Broadcast(f) => (f.warmup, f.duration, Duration::from_secs(2)),
        Scenario::Idle { hold, settle, .. } => {
            tokio::time::sleep(*settle).await;
            rss_connected = server_pid.and_then(rss_kib);
            (Duration::ZERO, *hold, Duration::from_millis(500))
        }
    };
    let now = Instant::now();
    let now_u = now_us();
    let as_us = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
    let plan = Plan {
        measure_from: now + warmup,
        measure_from_us: now_u.saturating_add(as_us(warmup)),
        stop_at: now + warmup + measure,
        stop_us: now_u.saturating_add(as_us(warmup + measure)),
        linger_until: now + warmup + measure + linger,
    };
    let _ = plan_tx.send(Some(plan));

    // Run phase.
    let mut cpu_window = (None, None);
    if !matches!(scenario, Scenario::Connect) {
        let secs = (warmup + measure).as_secs().max(1);
        let pb = bar(common.progress, secs, scenario.name());
        let mut last = (Instant::now(), ctx.received.get());
        while Instant::now() < plan.stop_at {
            let next = (Instant::now() + Duration::from_millis(250)).min(plan.stop_at);
            if cpu_window.0.is_none() && next >= plan.measure_from {
                tokio::time::sleep_until(plan.measure_from.into()).await;
                cpu_window.0 = cpu(server_pid);
            }
            tokio::time::sleep_until(next.into()).await;
            let (t, n) = (Instant::now(), ctx.received.get());
            let rate =
                n.saturating_sub(last.1) as f64 / t.duration_since(last.0).as_secs_f64().max(1e-3);
            last = (t, n);
            pb.set_position(now.elapsed().as_secs().min(secs));
            let phase = if t < plan.measure_from {
                "warm-up"
            } else {
                "measuring"
            };
            pb.set_message(match &scenario {
                Scenario::Idle { .. } => format!(
                    "{phase}: {} open, {} pings, {} lost",
                    connected.saturating_sub(ctx.disconnects.get()),
                    ctx.pings.get(),
                    ctx.disconnects.get()
                ),
                _ => format!("{phase}: {rate:.0}/s, {} lost", ctx.disconnects.get()),
            });
        }
        pb.finish_and_clear();
        cpu_window.1 = cpu(server_pid);
    } else {
        cpu_window = (cpu_connect_start, cpu_connect_end);
    }
    let rss_end = server_pid.and_then(rss_kib);

    // Let the tasks finish (they stop by themselves), then give up on any left.
    let deadline = tokio::time::sleep_until((plan.linger_until + Duration::from_secs(10)).into());
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            next = tasks.join_next() => if next.is_none() { break },
            () = &mut deadline => {
                ctx.errors.note(format!("{} client tasks did not stop in time", tasks.len()));
                tasks.abort_all();
                break;
            }
        }
    }

    let duration_s = measure.as_secs_f64();
    let per_s = |n: u64| {
        if duration_s > 0.0 {
            n as f64 / duration_s
        } else {
            0.0
        }
    };
    let mut result = RunResult {
        tool: "oxio-load".to_owned(),
        format: 1,
        scenario: scenario.name().to_owned(),
        label: common.label.clone(),
        urls: common.targets.iter().map(|t| t.given.clone()).collect(),
        clients: common.clients as u64,
        started_unix,
        duration_s: if matches!(scenario, Scenario::Connect) {
            0.0
        } else {
            duration_s
        },
        params: scenario.params(),
        connect: ConnectResult {
            attempted: total_u,
            ok: connected,
            failed: ctx.connect_failed.get(),
            elapsed_s: connect_elapsed,
            per_s: if connect_elapsed > 0.0 {
                connected as f64 / connect_elapsed
            } else {
                0.0
            },
            latency: ctx.connect_hist.summary(),
        },
        disconnects: ctx.disconnects.get(),
        protocol_errors: ctx.protocol_errors.get(),
        errors: ctx.errors.take(),
        ..RunResult::default()
    };
    let counted = match &scenario {
        Scenario::Connect => Some(connected),
        Scenario::Echo(_) | Scenario::Broadcast(_) => Some(ctx.received.get()),
        Scenario::Idle { .. } => None,
    };
    if let (Some((t0, c0)), Some((t1, c1))) = cpu_window {
        let wall_s = t1.duration_since(t0).as_secs_f64();
        let cpu_s = (c1 - c0).max(0.0);
        let cores = if wall_s > 0.0 { cpu_s / wall_s } else { 0.0 };
        let rate = match &scenario {
            Scenario::Connect => {
                (connect_elapsed > 0.0).then(|| connected as f64 / connect_elapsed)
            }
            _ => counted.map(per_s),
        };
        result.server = Some(ServerUsage {
            cpu_s,
            wall_s,
            cores,
            cpu_us_per_msg: rate.filter(|r| *r > 0.0).map(|r| cores / r * 1e6),
            rss_end_kib: rss_end,
        });
    }
    match &scenario {
        Scenario::Connect => {}
        Scenario::Echo(_) => {
            result.echo = Some(EchoResult {
                sent: ctx.sent.get(),
                received: ctx.received.get(),
                msgs_per_s: per_s(ctx.received.get()),
                rtt: ctx.hist.summary(),
            });
        }
        Scenario::Broadcast(_) => {
            // The emitter is not a receiver.
            let receivers = connected.saturating_sub(1);
            let emitted = ctx.sent.get();
            // A room broadcast reaches one room (the last may be smaller).
            let per_message = match &scenario {
                Scenario::Broadcast(f) if f.room_size > 0 => receivers.min(f.room_size as u64),
                _ => receivers,
            };
            result.broadcast = Some(BroadcastResult {
                receivers,
                emitted,
                deliveries: ctx.received.get(),
                expected: emitted.saturating_mul(per_message),
                deliveries_per_s: per_s(ctx.received.get()),
                latency: ctx.hist.summary(),
            });
        }
        Scenario::Idle { .. } => {
            let alive = ctx.alive_at_end.get();
            result.idle = Some(IdleResult {
                held_s: duration_s,
                alive_at_end: alive,
                pings_answered: ctx.pings.get(),
                rss_before_kib: rss_before,
                rss_connected_kib: rss_connected,
                rss_end_kib: rss_end,
                bytes_per_conn: match (rss_before, rss_end) {
                    (Some(b), Some(e)) if alive > 0 => {
                        Some(e.saturating_sub(b) as f64 * 1024.0 / alive as f64)
                    }
                    _ => None,
                },
            });
        }
    }
    result
}
