//! The firmware of `embedded-example/riscv-qemu` (the same
//! `oxio_client::device::run` as the Pico W and ESP32-C3 images, built for
//! `riscv32imc-unknown-none-elf`) booted on QEMU's RISC-V `virt` board,
//! talking to real servers:
//!
//! - the demo `oxio-server`: connection with the device's auth, listed by
//!   `GET /api/devices` with readings, `POST /api/devices/<name>/led`
//!   answered with the device's ack, the binary calibration table relayed
//!   intact to another socket;
//! - the same, killed and started again on the same port: the device
//!   reconnects with backoff, and the readings it emitted meanwhile arrive
//!   once each, in order (the offline buffer);
//! - a hostile server on that port (an oversized frame, a bad Engine.IO
//!   handshake, silence): the device logs each typed error, never panics
//!   or reboots, and comes back when the real server returns;
//! - the npm `socket.io` 4.8 server with an equivalent hub
//!   (`tests/js/device_hub.js`): events, acks both ways, binary.
//!
//! **Network.** QEMU's user-mode network stack (`-netdev user`) serves
//! DHCP to the board (10.0.2.15) and turns the board's TCP connections to
//! 10.0.2.2 into connections from the QEMU process to 127.0.0.1 on the
//! host; the servers listen on 127.0.0.1. No TAP device, no root, and no
//! packet leaves the machine: the firmware talks to QEMU's own DHCP server
//! and to 10.0.2.2 only (its URL holds an address, so no DNS query either).
//! (`-netdev user,restrict=on` would cut off 10.0.2.2 as well, so it is not
//! used.)
//!
//! **Port.** Each test picks a free port (the server's `--port 0`, or a
//! listener on port 0) and hands it to the firmware at boot on the kernel
//! command line: `-append "url=http://10.0.2.2:PORT name=... period_ms=..."`,
//! which QEMU puts in the device tree (`/chosen/bootargs`).
//!
//! **Needs** `qemu-system-riscv32` (Debian `qemu-system-misc`), the
//! `riscv32imc-unknown-none-elf` Rust target and the `oxio-server` binary
//! (built here with `cargo build --bin oxio-server` when missing). Without
//! QEMU the tests print a notice and pass, unless `OXIO_REQUIRE_QEMU=1`
//! (set by scripts/test.sh): then they fail. `OXIO_SKIP_QEMU=1` (set by
//! `scripts/test.sh --quick`) skips them. The firmware is built here
//! (`cargo build --release --locked` in its folder) into
//! `OXIO_FW_RISCV_TARGET` (default `~/.cache/oxio/target-fw-riscv`); a
//! failing test prints the board's UART log.

mod support;

use oxio_client::Event;
use oxio_codec::client::NO_AUTH;
use oxio_codec::socketio::Binary;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const QEMU: &str = "qemu-system-riscv32";
const SECRET: &str = "the QEMU device tests' jwt secret";
/// Longest wait for one expected step (boot, connection, reconnection).
const STEP: Duration = Duration::from_secs(30);

// ------------------------------------------------------------ prerequisites --

fn client_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn workspace_root() -> PathBuf {
    client_dir().join("../..")
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// Whether QEMU is there; skips loudly, or fails under `OXIO_REQUIRE_QEMU=1`.
/// `OXIO_SKIP_QEMU=1` (scripts/test.sh --quick) skips them anyway.
fn qemu_ready() -> bool {
    if std::env::var("OXIO_SKIP_QEMU").is_ok_and(|v| v == "1") {
        eprintln!("\n!!! SKIPPING the QEMU RISC-V firmware tests: OXIO_SKIP_QEMU=1 !!!\n");
        return false;
    }
    if Command::new(QEMU).arg("--version").output().is_ok() {
        return true;
    }
    if std::env::var("OXIO_REQUIRE_QEMU").is_ok_and(|v| v == "1") {
        panic!("{QEMU} not found (OXIO_REQUIRE_QEMU=1): apt-get install qemu-system-misc");
    }
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "\n!!! SKIPPING the QEMU RISC-V firmware tests: {QEMU} is not installed \
         (apt-get install qemu-system-misc). !!!\n"
    );
    false
}

/// The firmware image, built once per test run (release, own workspace,
/// own target directory; a no-op when up to date).
fn firmware() -> &'static Path {
    static ELF: OnceLock<PathBuf> = OnceLock::new();
    ELF.get_or_init(|| {
        let target = std::env::var_os("OXIO_FW_RISCV_TARGET")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/tmp".into()))
                    .join(".cache/oxio/target-fw-riscv")
            });
        let out = Command::new(cargo())
            .args(["build", "--release", "--locked"])
            .current_dir(client_dir().join("../riscv-qemu"))
            .env("CARGO_TARGET_DIR", &target)
            .output()
            .expect("cargo runs");
        assert!(
            out.status.success(),
            "building embedded-example/riscv-qemu failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        target.join("riscv32imc-unknown-none-elf/release/oxio-riscv-qemu")
    })
}

/// The demo server binary: `OXIO_SERVER_BIN`, else `oxio-server` beside
/// this test's own target directory (`cargo test --workspace` builds it for
/// the demo's tests), else built here by its name.
fn server_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("OXIO_SERVER_BIN") {
            return PathBuf::from(bin);
        }
        // <target>/<profile>/deps/qemu_riscv-<hash>
        let exe = std::env::current_exe().expect("test executable path");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("target/<profile>/deps");
        let bin = profile_dir.join("oxio-server");
        if !bin.exists() {
            let mut build = Command::new(cargo());
            build
                .args(["build", "--bin", "oxio-server"])
                .current_dir(workspace_root());
            if profile_dir.file_name().is_some_and(|n| n == "release") {
                build.arg("--release");
            }
            if let Some(target) = profile_dir.parent() {
                build.env("CARGO_TARGET_DIR", target);
            }
            let out = build.output().expect("cargo runs");
            assert!(
                out.status.success(),
                "cargo build --bin oxio-server failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        bin
    })
}

// -------------------------------------------------------------- processes --

/// Lines printed by a child process (both streams), kept for assertions.
#[derive(Clone, Default)]
struct Output(Arc<Mutex<Vec<String>>>);

impl Output {
    fn capture(&self, child: &mut Child) {
        let out = child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>);
        let err = child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>);
        for stream in [out, err].into_iter().flatten() {
            let lines = self.0.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    lines
                        .lock()
                        .unwrap()
                        .push(line.trim_end_matches('\r').to_string());
                }
            });
        }
    }

    fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }

    fn text(&self) -> String {
        self.lines().join("\n")
    }
}

/// The emulated board, killed on drop; a failing test prints its UART.
struct Board {
    child: Child,
    uart: Output,
    name: String,
}

impl Board {
    /// Boots the firmware against `http://10.0.2.2:<port>` (the host's
    /// 127.0.0.1 through QEMU's user-mode network).
    fn boot(name: &str, port: u16, extra: &str) -> Board {
        let args = format!("url=http://10.0.2.2:{port} name={name} period_ms=500 {extra}");
        let mut child = Command::new(QEMU)
            .args(["-machine", "virt", "-bios", "none", "-m", "64M"])
            .args(["-nographic", "-monitor", "none", "-serial", "stdio"])
            .args(["-global", "virtio-mmio.force-legacy=false"])
            .args(["-netdev", "user,id=net0"])
            .args(["-device", "virtio-net-device,netdev=net0"])
            .args(["-append", &args])
            .arg("-kernel")
            .arg(firmware())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("qemu-system-riscv32 starts");
        let uart = Output::default();
        uart.capture(&mut child);
        Board {
            child,
            uart,
            name: name.to_string(),
        }
    }

    fn lines(&self) -> Vec<String> {
        self.uart.lines()
    }

    fn count(&self, needle: &str) -> usize {
        self.lines().iter().filter(|l| l.contains(needle)).count()
    }

    /// Waits until `f` holds for the UART lines.
    async fn wait(&self, what: &str, f: impl Fn(&[String]) -> bool) {
        let end = Instant::now() + STEP;
        while Instant::now() < end {
            if f(&self.lines()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the board did not get to: {what}");
    }

    /// Waits for `n` lines containing `needle`.
    async fn wait_count(&self, needle: &str, n: usize) {
        let what = format!("{n} × {needle:?}");
        self.wait(&what, |lines| {
            lines.iter().filter(|l| l.contains(needle)).count() >= n
        })
        .await
    }

    /// Freezes (SIGSTOP) or resumes (SIGCONT) the QEMU process.
    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill {sig} qemu");
    }

    /// Never panicked, booted exactly once (no reset).
    fn assert_healthy(&self) {
        assert_eq!(self.count("PANIC"), 0, "the firmware panicked");
        assert_eq!(self.count("firmware: boot"), 1, "the firmware rebooted");
    }
}

impl Drop for Board {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "\n----- UART log of board {} -----\n{}\n----- end of UART log -----",
                self.name,
                self.uart.text()
            );
        }
    }
}

/// The demo `oxio-server` binary on 127.0.0.1, killed on drop.
struct Demo {
    child: Child,
    port: u16,
    out: Output,
}

impl Demo {
    /// Starts it on `port` (0: any) and waits for its "listening" line.
    async fn start(port: u16) -> Demo {
        let mut child = Command::new(server_bin())
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--log", "info", "--jwt-secret", SECRET])
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("oxio-server starts");
        let out = Output::default();
        out.capture(&mut child);
        const LISTENING: &str = "listening on http://127.0.0.1:";
        let end = Instant::now() + Duration::from_secs(20);
        loop {
            let line = out.lines().into_iter().find(|l| l.contains(LISTENING));
            if let Some(line) = line {
                let rest = &line[line.find(LISTENING).unwrap() + LISTENING.len()..];
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                let port = digits.parse().unwrap();
                return Demo { child, port, out };
            }
            assert!(
                Instant::now() < end,
                "oxio-server did not start: {}",
                out.text()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// SIGKILL, as a crash would.
    fn kill(mut self) -> u16 {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.port
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("\n----- oxio-server output -----\n{}", self.out.text());
        }
    }
}

/// One HTTP/1.1 request to 127.0.0.1:`port`; (status, JSON body).
async fn http(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{auth}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut response))
        .await
        .expect("HTTP response in time")
        .unwrap();
    let text = String::from_utf8(response).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").expect("HTTP head");
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    // Chunked bodies are not expected from the demo's JSON routes.
    (
        status,
        serde_json::from_str(body).unwrap_or(Value::String(body.into())),
    )
}

/// The demo's device list entry for `name`, if listed.
async fn listed(port: u16, name: &str) -> Option<Value> {
    let (status, list) = http(port, "GET", "/api/devices", None, None).await;
    assert_eq!(status, 200, "{list}");
    list.as_array()?
        .iter()
        .find(|d| d["device"] == name)
        .cloned()
}

/// Waits until `name` is listed as connected with a reading.
async fn wait_listed(port: u16, name: &str) -> Value {
    let end = Instant::now() + STEP;
    loop {
        if let Some(d) = listed(port, name).await {
            if d["connected"] == true && d["uptime_ms"].is_u64() && d["temp_c"].is_number() {
                return d;
            }
        }
        assert!(Instant::now() < end, "{name} never listed with a reading");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The uptimes of the readings the board logged with `needle`
/// ("buffered offline" / "acknowledged") since UART line `from`.
fn uptimes(lines: &[String], from: usize, needle: &str) -> Vec<u64> {
    lines
        .iter()
        .skip(from)
        .filter(|l| l.contains("sensor ") && l.contains(needle))
        .filter_map(|l| {
            l.rsplit("uptime_ms ")
                .next()?
                .trim_end_matches(')')
                .parse()
                .ok()
        })
        .collect()
}

/// An observer socket on the demo (the host client over Tokio).
async fn observer(url: &str) -> Box<TestClient> {
    let mut c = client(url, fast());
    c.connect("/", NO_AUTH).unwrap();
    assert_eq!(until(&mut c, "connected").await, "connected /");
    c
}

/// Drives `c` until `f` accepts an event (true) or `STEP` passes.
async fn observe(c: &mut TestClient, what: &str, mut f: impl FnMut(&Event<'_>) -> bool) {
    let end = embassy_time::Instant::now() + embassy_time::Duration::from_secs(STEP.as_secs());
    loop {
        match c.next_event_until(Some(end)).await {
            Ok(Some(e)) => {
                if f(&e) {
                    return;
                }
            }
            Ok(None) => panic!("observer: no {what} in time"),
            Err(e) => panic!("observer: {e} while waiting for {what}"),
        }
    }
}

// ------------------------------------------------------------------ tests --

/// Boot against the demo: auth, readings listed, LED acked by the device,
/// the binary calibration table relayed intact.
#[tokio::test(flavor = "current_thread")]
async fn device_on_the_demo_server() {
    if !qemu_ready() {
        return;
    }
    let demo = Demo::start(0).await;
    let mut obs = observer(&demo.url()).await;
    let board = Board::boot("qemu-demo", demo.port, "");

    // The device's `file` event, relayed by the demo to the other sockets.
    let mut got = None;
    observe(&mut obs, "the relayed file event", |e| {
        if let Event::Message(m) = e {
            if m.is("file") {
                let (name, bytes): (&str, Binary<'_>) = m.args().unwrap();
                got = Some((name.to_string(), bytes.0.to_vec()));
                return true;
            }
        }
        false
    })
    .await;
    let (name, bytes) = got.unwrap();
    assert_eq!(name, "qemu-demo");
    assert_eq!(bytes, (0..=255u8).collect::<Vec<_>>(), "calibration table");
    board
        .wait_count("calibration acknowledged: ok true, 256 bytes", 1)
        .await;

    let device = wait_listed(demo.port, "qemu-demo").await;
    let temp = device["temp_c"].as_f64().unwrap();
    assert!((21.0..=22.0).contains(&temp), "{device}");
    board.wait_count("acknowledged (uptime_ms", 1).await;

    let (status, login) = http(
        demo.port,
        "POST",
        "/api/login",
        None,
        Some(json!({"username": "qemu", "password": "x"})),
    )
    .await;
    assert_eq!(status, 200, "{login}");
    let token = login["token"].as_str().unwrap().to_string();
    for (on, line) in [(true, "led on"), (false, "led off")] {
        let (status, answer) = http(
            demo.port,
            "POST",
            "/api/devices/qemu-demo/led",
            Some(&token),
            Some(json!({ "on": on })),
        )
        .await;
        assert_eq!((status, answer), (200, json!({"ok": true})), "led {on}");
        board.wait_count(line, 1).await;
    }
    assert!(board
        .lines()
        .iter()
        .any(|l| l.contains("network up: 10.0.2.15/24 (DHCP)")));
    assert_eq!(board.count("INFO  connected"), 1, "one connection");
    board.assert_healthy();
}

/// Server killed, then started again on the same port: the device
/// reconnects with backoff, is listed again, and the readings it emitted
/// while the server was down arrive once each, in order.
#[tokio::test(flavor = "current_thread")]
async fn device_reconnects_and_delivers_the_offline_buffer() {
    if !qemu_ready() {
        return;
    }
    let name = "qemu-restart";
    let demo = Demo::start(0).await;
    let board = Board::boot(name, demo.port, "");
    wait_listed(demo.port, name).await;
    board.wait_count("acknowledged (uptime_ms", 1).await;

    let killed_at = board.lines().len();
    let port = demo.kill();
    // Down for a while: the device retries with growing delays and
    // buffers its readings.
    board
        .wait("2 reconnection attempts and 3 buffered readings", |l| {
            let rest = l.get(killed_at..).unwrap_or_default();
            rest.iter()
                .filter(|l| l.contains("reconnecting (attempt"))
                .count()
                >= 2
                && rest
                    .iter()
                    .filter(|l| l.contains("buffered offline"))
                    .count()
                    >= 3
        })
        .await;
    // Freeze the board while the server comes back and the observer
    // subscribes, so that no reading can slip past the observer.
    board.signal("-STOP");
    let demo = Demo::start(port).await;
    assert_eq!(demo.port, port);
    let mut obs = observer(&demo.url()).await;
    obs.emit_with_ack::<_, Value>("watch-devices", &())
        .await
        .unwrap();
    board.signal("-CONT");

    // The device-updates of this device, until one newer than every
    // buffered reading arrives (a reading acked after the reconnection).
    let mut seen: Vec<u64> = Vec::new();
    observe(&mut obs, "device-updates after the reconnection", |e| {
        let Event::Message(m) = e else { return false };
        if !m.is("device-update") {
            return false;
        }
        let (status,): (Value,) = m.args().unwrap();
        if status["device"] != name {
            return false;
        }
        if let Some(uptime) = status["uptime_ms"].as_u64() {
            seen.push(uptime);
        }
        // Stop at the first reading the device had acknowledged live.
        let acked_after = uptimes(&board.lines(), killed_at, "acknowledged (uptime");
        acked_after.iter().any(|a| seen.contains(a))
    })
    .await;
    let lines = board.lines();
    let buffered = uptimes(&lines, killed_at, "buffered offline");
    assert!(buffered.len() >= 3, "{buffered:?}");
    // The server saw exactly the buffered readings first, in order, once
    // each, then live (acknowledged) ones.
    assert_eq!(
        seen.get(..buffered.len()),
        Some(&buffered[..]),
        "seen {seen:?}"
    );
    let live = seen[buffered.len()..].to_vec();
    assert!(!live.is_empty(), "seen {seen:?}");
    board
        .wait("every live reading acknowledged", |l| {
            let acked = uptimes(l, killed_at, "acknowledged (uptime");
            live.iter().all(|u| acked.contains(u))
        })
        .await;
    let lines = board.lines();
    let mut sorted = seen.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted, seen, "in order, no duplicate");

    // Backoff: attempts numbered from 1, delays within the schedule
    // (1 s doubling to 5 s, ±50 %).
    let delays: Vec<(u32, u32)> = lines[killed_at..]
        .iter()
        .filter_map(|l| {
            let rest = l.split("reconnecting (attempt ").nth(1)?;
            let (attempt, rest) = rest.split_once(") in ")?;
            let ms = rest.split(' ').next()?;
            Some((attempt.parse().ok()?, ms.parse().ok()?))
        })
        .collect();
    assert!(delays.len() >= 2, "{delays:?}");
    for (i, (attempt, ms)) in delays.iter().enumerate() {
        assert_eq!(*attempt as usize, i + 1, "{delays:?}");
        let base = (1000u32 << i.min(3)).min(5000);
        assert!((base / 2..=base + base / 2).contains(ms), "{delays:?}");
    }
    wait_listed(port, name).await;
    assert_eq!(board.count("INFO  connected"), 2);
    board.assert_healthy();
}

/// A hostile server on the device's port: an oversized frame, a bad
/// Engine.IO handshake, then silence. The device logs each typed error,
/// does not panic or reboot, and rejoins the real server afterwards.
#[tokio::test(flavor = "current_thread")]
async fn device_survives_a_hostile_server() {
    if !qemu_ready() {
        return;
    }
    let name = "qemu-hostile";
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let board = Board::boot(name, port, "connect_timeout_ms=3000");
    let hostile = tokio::spawn(async move {
        let mut held = Vec::new();
        for index in 0.. {
            let (mut s, _) = listener.accept().await.unwrap();
            let key = read_upgrade(&mut s).await;
            match index {
                0 => {
                    // Open, then a frame announcing 2^40 bytes.
                    s.write_all(&upgrade_response(&key)).await.unwrap();
                    s.write_all(&text_frame(OPEN)).await.unwrap();
                    let mut header = vec![0x81, 127];
                    header.extend_from_slice(&(1u64 << 40).to_be_bytes());
                    s.write_all(&header).await.unwrap();
                }
                1 => {
                    // An Engine.IO open packet without a session id.
                    s.write_all(&upgrade_response(&key)).await.unwrap();
                    let bad = r#"0{"upgrades":[],"pingInterval":25000,"pingTimeout":20000}"#;
                    s.write_all(&text_frame(bad)).await.unwrap();
                }
                _ => {} // silence: no answer at all
            }
            held.push(s);
        }
    });

    let too_large = "(FrameTooLarge { len: 1099511627776, capacity: 4096 })";
    board.wait_count(too_large, 1).await;
    let bad_open = r#"(Protocol(EngineIo(InvalidHandshake(MissingField("sid")))))"#;
    board.wait_count(bad_open, 1).await;
    board
        .wait_count("after error: connection timed out (ConnectTimeout)", 1)
        .await;
    hostile.abort();
    let _ = hostile.await;

    let demo = Demo::start(port).await;
    wait_listed(demo.port, name).await;
    board
        .wait_count("calibration acknowledged: ok true, 256 bytes", 1)
        .await;
    // The hostile server never accepted the namespace: one connection.
    assert_eq!(board.count("INFO  connected"), 1);
    board.assert_healthy();
}

const OPEN: &str = r#"0{"sid":"hostile","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;

/// Reads a WebSocket upgrade request head; its Sec-WebSocket-Key.
async fn read_upgrade(s: &mut tokio::net::TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte).await.unwrap_or(0) == 0 {
            break;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_string();
    head.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("sec-websocket-key")
                .then(|| v.trim().to_string())
        })
        .unwrap_or_default()
}

fn upgrade_response(key: &str) -> Vec<u8> {
    use base64::Engine as _;
    let mut sha = sha1_smol::Sha1::new();
    sha.update(key.as_bytes());
    sha.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    let accept = base64::engine::general_purpose::STANDARD.encode(sha.digest().bytes());
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\n\r\n"
    )
    .into_bytes()
}

/// An unmasked server text frame (payload under 126 bytes).
fn text_frame(text: &str) -> Vec<u8> {
    assert!(text.len() < 126);
    let mut out = vec![0x81, text.len() as u8];
    out.extend_from_slice(text.as_bytes());
    out
}

/// The same device against the npm socket.io 4.8 server with an
/// equivalent hub: auth, `sensor` acked by the server, the binary table,
/// two `led` commands acked by the device.
#[tokio::test(flavor = "current_thread")]
async fn device_on_the_node_socket_io_server() {
    if !qemu_ready() {
        return;
    }
    let js = client_dir().join("tests/js");
    if !js.join("node_modules/socket.io").is_dir() {
        let required = std::env::var_os("CI").is_some()
            || std::env::var("OXIO_REQUIRE_NODE").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "run: npm ci --prefix embedded-example/client/tests/js"
        );
        eprintln!(
            "\n!!! SKIPPING the QEMU device vs Node test: tests/js/node_modules is missing !!!\n"
        );
        return;
    }
    let mut hub = Command::new("node")
        .arg(js.join("device_hub.js"))
        .arg("0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node starts");
    let out = Output::default();
    out.capture(&mut hub);
    struct Kill(Child, Output);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
            if std::thread::panicking() {
                eprintln!("\n----- device_hub.js output -----\n{}", self.1.text());
            }
        }
    }
    let hub = Kill(hub, out.clone());
    let end = Instant::now() + Duration::from_secs(20);
    let port: u16 = loop {
        if let Some(p) = out
            .lines()
            .iter()
            .find_map(|l| l.strip_prefix("port ")?.parse().ok())
        {
            break p;
        }
        assert!(
            Instant::now() < end,
            "device_hub.js did not start: {}",
            out.text()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let name = "qemu-node";
    let board = Board::boot(name, port, "");
    let entries = || -> Vec<Value> {
        out.lines()
            .iter()
            .filter_map(|l| serde_json::from_str(l.strip_prefix("log ")?).ok())
            .collect()
    };
    let end = Instant::now() + STEP;
    while !entries().iter().any(|e| e[0] == "led ack" && e[1] == false)
        || !entries().iter().any(|e| e[0] == "sensor")
    {
        assert!(Instant::now() < end, "hub log: {:?}", entries());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log = entries();
    assert_eq!(log[0], json!(["connect", {"device": name}]));
    let hex: String = (0..=255u8).map(|b| format!("{b:02x}")).collect();
    let files: Vec<&Value> = log.iter().filter(|e| e[0] == "file").collect();
    assert_eq!(files, [&json!(["file", name, hex])]);
    let leds: Vec<&Value> = log.iter().filter(|e| e[0] == "led ack").collect();
    assert_eq!(
        leds,
        [
            &json!(["led ack", true, {"ok": true}]),
            &json!(["led ack", false, {"ok": true}])
        ]
    );
    let sensor = log.iter().find(|e| e[0] == "sensor").unwrap();
    assert_eq!(sensor[1]["device"], name);
    assert!(
        sensor[1]["uptime_ms"].is_u64() && sensor[1]["temp_c"].is_number(),
        "{sensor}"
    );
    let uptime = sensor[1]["uptime_ms"].as_u64().unwrap();
    board
        .wait_count(&format!("acknowledged (uptime_ms {uptime})"), 1)
        .await;
    board
        .wait_count("calibration acknowledged: ok true, 256 bytes", 1)
        .await;
    board.wait_count("led on", 1).await;
    board.wait_count("led off", 1).await;
    board.assert_healthy();
    drop(hub);
}
