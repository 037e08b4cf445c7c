//! What the observer hooks cost on the broadcast path: 100 sockets on fake
//! Engine.IO sessions (no network), 5000 broadcasts of one small event,
//! median of 7 runs, with no observer, with an observer that does nothing,
//! and with the admin UI installed (production, then development mode).
//!
//! ```sh
//! cargo run --release -p oxio-server --features admin-ui --example observer_cost
//! ```

use oxio_server::admin::{instrument, AdminAuth, AdminMode, AdminUiOptions};
use oxio_server::socketio::{Io, Observer, SocketIo, SocketRef};
use oxio_testkit::fake::{open_v5, settle, Conn};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SOCKETS: usize = 100;
const BROADCASTS: usize = 5000;
const RUNS: usize = 7;

struct Nothing;
impl Observer for Nothing {}

async fn setup(kind: &str) -> (Io, Vec<Conn>) {
    let sio = SocketIo::builder().build();
    let io = sio.io();
    io.ns("/", |_: SocketRef| {});
    match kind {
        "no-op observer" => io.observe(Arc::new(Nothing)).expect("observer"),
        "admin UI, production" | "admin UI, development" => {
            let mode = if kind.ends_with("production") {
                AdminMode::Production
            } else {
                AdminMode::Development
            };
            let ui =
                instrument(&io, AdminUiOptions::new(AdminAuth::None).mode(mode)).expect("admin UI");
            std::mem::forget(ui);
        }
        _ => {}
    }
    let mut conns = Vec::new();
    for i in 0..SOCKETS {
        let c = open_v5(&sio, &format!("s{i}"));
        c.connect("/").await;
        conns.push(c);
    }
    settle().await;
    (io, conns)
}

async fn run(kind: &str) -> Duration {
    let (io, conns) = setup(kind).await;
    let mut times = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        for i in 0..BROADCASTS {
            io.emit("tick", &(i,)).expect("emit");
        }
        times.push(t.elapsed());
        for c in &conns {
            c.fake.drain();
        }
        // Lets the admin task send what it queued, outside the timing.
        settle().await;
    }
    times.sort();
    times[RUNS / 2]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let base = run("none").await;
    for kind in [
        "none",
        "no-op observer",
        "admin UI, production",
        "admin UI, development",
    ] {
        let t = if kind == "none" {
            base
        } else {
            run(kind).await
        };
        let per = t.as_nanos() as f64 / (BROADCASTS * SOCKETS) as f64;
        println!(
            "{kind:<24} {:>8.2} ms for {BROADCASTS} broadcasts to {SOCKETS} sockets ({per:.0} ns per delivery, {:+.1} %)",
            t.as_secs_f64() * 1000.0,
            (t.as_secs_f64() / base.as_secs_f64() - 1.0) * 100.0
        );
    }
}
