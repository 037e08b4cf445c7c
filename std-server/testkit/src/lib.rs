//! Test support shared by the oxio server crates' integration tests (a
//! dev-dependency only, never published):
//!
//! | module | what |
//! |---|---|
//! | [`engine`] | an Engine.IO echo server on 127.0.0.1:0 and a raw HTTP/1.1 client that shows exact statuses, headers and bodies |
//! | [`redis`] | a real `redis-server` on a free port, for the cluster adapters' tests |
//! | [`sio`] | an in-process Socket.IO server, raw WebSocket and polling clients, the Node and Python client runners |
//! | [`sio_app`] | the interop app the real clients talk to |
//! | [`rawws`] | a raw WebSocket client showing frames as sent (RSV1, opcode), for the permessage-deflate tests |
//! | [`fake`] | a fake Engine.IO session to drive the Socket.IO layer without a network |
//! | [`stress`] | the concurrent-emit tests' binary events and a client that reassembles and checks every packet |
//!
//! The npm and PyPI packages of the interop clients live beside this
//! crate (`js/`, `py/`); `scripts/test.sh` installs them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

pub mod engine;
pub mod fake;
pub mod nginx;
pub mod rawws;
pub mod redis;
pub mod sio;
pub mod sio_app;
pub mod stress;

/// What a handler saw, as short strings (`open`, `text:<t>`, `bin:<hex>`,
/// `close:<reason>`, or whatever a test's handler pushes).
#[derive(Clone, Default)]
pub struct Log(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl Log {
    pub fn push(&self, s: impl Into<String>) {
        self.0.lock().unwrap().push(s.into());
    }
    pub fn all(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
    /// Entries starting with `prefix`.
    pub fn with_prefix(&self, prefix: &str) -> Vec<String> {
        self.all()
            .into_iter()
            .filter(|e| e.starts_with(prefix))
            .collect()
    }
    /// The `close:<reason>` entries.
    pub fn closes(&self) -> Vec<String> {
        self.with_prefix("close:")
    }
    /// Waits (up to 5 s) until some entry equals `want`.
    pub async fn wait_for(&self, want: &str) {
        for _ in 0..500 {
            if self.all().iter().any(|e| e == want) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("never saw {want:?}; log: {:?}", self.all());
    }
}

/// This crate's folder (where `js/` and `py/` are).
pub fn dir() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
