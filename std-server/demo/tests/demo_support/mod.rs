//! The demo binary as a child process, for the tests that need the real
//! thing (a browser, the command line): started on 127.0.0.1 with
//! `--port 0`, its URL read from the startup log line, killed on drop.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The JWT secret the tests start the server with (32 bytes).
pub const SECRET: &str = "the demo binary tests' secret!!!";

/// What the server logs once it listens.
const LISTENING: &str = "oxio demo server listening on http://";

/// A running `oxio-server`; killed (and reaped) on drop.
pub struct DemoServer {
    child: Child,
    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub url: String,
    /// The `host:port` it listens on.
    pub addr: std::net::SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
}

impl DemoServer {
    /// Starts the binary with `--port 0` plus `extra` arguments and waits
    /// (up to 20 s) for its "listening on" line.
    pub fn start(extra: &[&str]) -> DemoServer {
        let mut child = Command::new(env!("CARGO_BIN_EXE_oxio-server"))
            .args(["--host", "127.0.0.1", "--port", "0", "--log", "info"])
            .args(["--jwt-secret", SECRET])
            .args(extra)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start the oxio-server binary");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel::<String>();
        // Both streams are drained for the whole run (a full pipe would
        // block the server), kept for failure messages, and scanned for
        // the startup line.
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        for stream in [Box::new(stdout) as Box<dyn Read + Send>, Box::new(stderr)] {
            let log = log.clone();
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if line.contains(LISTENING) {
                        let _ = tx.send(line.clone());
                    }
                    log.lock().unwrap().push(line);
                }
            });
        }
        drop(tx);
        let mut server = DemoServer {
            child,
            url: String::new(),
            addr: "127.0.0.1:0".parse().unwrap(),
            log,
        };
        let line = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(line) => line,
            Err(e) => panic!(
                "oxio-server did not log {LISTENING:?} ({e}); exit: {:?}; output:\n{}",
                server.child.try_wait(),
                server.log_text()
            ),
        };
        let rest = &line[line.find(LISTENING).unwrap() + LISTENING.len()..];
        let host_port = rest.split('/').next().unwrap();
        server.addr = host_port
            .parse()
            .unwrap_or_else(|e| panic!("bad address in {line:?}: {e}"));
        assert_eq!(server.addr.ip().to_string(), "127.0.0.1", "{line}");
        assert_ne!(server.addr.port(), 0, "{line}");
        server.url = format!("http://{host_port}");
        server
    }

    /// Everything the server printed so far.
    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Whether the server printed a line containing `needle` within 3 s
    /// (its output reaches the test through a pipe and a reader thread,
    /// so a line written just before an answer may arrive just after it).
    pub fn logged(&self, needle: &str) -> bool {
        let deadline = std::time::Instant::now() + Duration::from_secs(3);
        loop {
            if self.log_text().contains(needle) {
                return true;
            }
            if std::time::Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// How many file descriptors the process holds (`/proc/<pid>/fd`).
    pub fn fd_count(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ----- peers that may be missing ----------------------------------------

/// Whether a missing peer fails the test (`CI` or `OXIO_REQUIRE_NODE=1`)
/// rather than skipping it.
pub fn required() -> bool {
    std::env::var_os("CI").is_some() || std::env::var("OXIO_REQUIRE_NODE").is_ok_and(|v| v == "1")
}

/// Skips (with a loud notice past the output capture; returns false) or,
/// when [`required`], fails naming the install command.
pub fn missing(what: &str, why: &str, install: &str) -> bool {
    if required() {
        panic!("{what} needs {why}; run: {install}");
    }
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "\n!!! SKIPPING {what}: {why}. Run `{install}` to enable it. !!!\n"
    );
    false
}

/// The crate's folder.
pub fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `program` to completion with a hard `limit`: the child is killed
/// (SIGTERM, then SIGKILL 3 s later) if it runs longer or if the test
/// panics meanwhile.
pub struct Bounded {
    child: Option<Child>,
}

/// What a bounded run printed and how it ended.
#[derive(Debug)]
pub struct Output {
    /// The exit code (`None`: killed by a signal, e.g. at the limit).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// Whether it had to be killed at the limit.
    pub timed_out: bool,
    pub took: Duration,
}

impl Bounded {
    pub fn run(mut cmd: Command, limit: Duration) -> Output {
        let started = Instant::now();
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        let mut guard = Bounded { child: Some(child) };
        let read = |r: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut s = String::new();
                let _ = BufReader::new(r).read_to_string(&mut s);
                s
            })
        };
        let (out, err) = {
            let child = guard.child.as_mut().unwrap();
            (
                read(Box::new(child.stdout.take().unwrap())),
                read(Box::new(child.stderr.take().unwrap())),
            )
        };
        let mut timed_out = false;
        let code = loop {
            let child = guard.child.as_mut().unwrap();
            match child.try_wait() {
                Ok(Some(status)) => break status.code(),
                Ok(None) if started.elapsed() >= limit => {
                    timed_out = true;
                    guard.stop();
                    break None;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
                Err(e) => panic!("waiting for {cmd:?}: {e}"),
            }
        };
        guard.child = None;
        Output {
            code,
            stdout: out.join().unwrap_or_default(),
            stderr: err.join().unwrap_or_default(),
            timed_out,
            took: started.elapsed(),
        }
    }

    /// SIGTERM first (Node's Playwright then closes the browser it
    /// launched), SIGKILL if still alive after 3 s.
    fn stop(&mut self) {
        let Some(child) = self.child.as_mut() else {
            return;
        };
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let until = Instant::now() + Duration::from_secs(3);
        while Instant::now() < until {
            if matches!(child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Bounded {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A fresh, empty temporary folder named after `prefix`; removed on drop
/// unless [`TempDir::keep`] was called.
pub struct TempDir {
    pub path: PathBuf,
    keep: bool,
}

impl TempDir {
    pub fn new(prefix: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!("{prefix}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).unwrap();
        TempDir { path, keep: false }
    }

    /// Leaves the folder in place (its contents explain a failure).
    pub fn keep(&mut self) {
        self.keep = true;
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}
