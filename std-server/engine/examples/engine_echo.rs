//! The Engine.IO half of the conformance example: at `/engine.io/`, an
//! Engine.IO server that echoes every message (text as text, binary as
//! binary), with pingInterval 300, pingTimeout 200, maxPayload 1000000,
//! CORS for any origin, and EIO 3 and 4 accepted (anything else: 400 code 5).
//!
//! ```text
//! cargo run -p oxio-server --example engine_echo -- --port 3000
//! ```

use std::time::Duration;

use oxio_engine::config::{Cors, EngineConfig};
use oxio_engine::{CloseReason, Engine, EngineHandler, Message, Session};

/// Sends every message back to its session.
struct Echo;

impl EngineHandler for Echo {
    fn on_open(&self, session: Session) {
        tracing::info!(sid = session.sid(), protocol = ?session.protocol(), "open");
    }

    fn on_message(&self, session: &Session, msg: Message) {
        if let Err(e) = session.send(msg) {
            tracing::warn!(sid = session.sid(), error = %e, "echo dropped");
        }
    }

    fn on_close(&self, session: &Session, reason: CloseReason) {
        tracing::info!(sid = session.sid(), %reason, "close");
    }
}

fn port_from_args() -> Result<u16, String> {
    let mut args = std::env::args().skip(1);
    let mut port = 3000;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => {
                let v = args.next().ok_or("--port needs a value")?;
                port = v.parse().map_err(|_| format!("bad port {v:?}"))?;
            }
            other => return Err(format!("unknown argument {other:?} (usage: --port N)")),
        }
    }
    Ok(port)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let port = match port_from_args() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("engine_echo: {e}");
            std::process::exit(2);
        }
    };
    let config = EngineConfig {
        path: "/engine.io/".into(),
        ping_interval: Duration::from_millis(300),
        ping_timeout: Duration::from_millis(200),
        max_payload: 1_000_000,
        cors: Some(Cors::any()),
        allow_eio3: true,
        ..EngineConfig::default()
    };
    let engine = Engine::new(config, Echo);
    oxio_engine::service::listen(("0.0.0.0", port), engine).await
}
