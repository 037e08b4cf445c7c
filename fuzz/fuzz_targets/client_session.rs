//! The sans-IO client `Session` driven by an arbitrary scenario: server
//! frames (plausible handshakes, sane and insane; pings; Socket.IO
//! CONNECT / EVENT / ACK / BINARY_* / CONNECT_ERROR / DISCONNECT for a
//! few namespaces; attachments raw, v3-prefixed and base64; garbage),
//! clock moves (small, long, to the end of time; the timer firing or a
//! frame coming first), transport changes as a driver reports them, and
//! application calls (join with auth, leave, emit with and without ack,
//! volatile, answer an ack request). After every call the outputs are
//! drained as a driver does: `poll_transmit` (bounded), `poll_event`
//! (bounded), `poll_action`, `poll_timeout`.
//!
//! The input language is `oxio_fuzz::client` (seeds in
//! `seeds/client_session`); configurations are small so that limits are
//! reached: 2 or 4 namespaces, 2 or 6 pending acks, a 192-byte or 1 KiB
//! queue, a 48- or 256-byte reassembly buffer, 8..=508-byte frames.
//!
//! Invariants, beyond "no panic":
//! - every frame sent is at most `max_frame_len`, decodes with the
//!   codec's own Engine.IO decoder and, for messages, Socket.IO decoder;
//!   heartbeats are the version's (`3` in v4, `2` in v3); a binary
//!   packet's attachments follow its text, announced count, nothing but
//!   heartbeats in between (v3: `0x04` prefix); after a full drain on an
//!   open session no packet is half sent and every DISCONNECT the
//!   application asked for has gone out;
//! - after `handle_timeout(now)`, `poll_timeout()` is never before `now`,
//!   and repeated calls at one instant settle in a few rounds; an open
//!   session always has a deadline; a reconnection's deadline is within
//!   its announced delay, and the delay within `reconnection_delay_max_ms`;
//! - `queued_bytes() ≤ QUEUE`, `pending_acks() ≤ ACKS` and equal to the
//!   emits with an ack not yet answered, timed out or cancelled (a model);
//!   every ack id is handed out once (answer, timeout or cancellation),
//!   for the namespace it was emitted on; no event is ever dropped;
//! - incoming packets borrow the frame (text) or the session (binary) and
//!   are for connected namespaces; ack requests carry the packet's id;
//!   `FrameError::TooLarge` names the reassembly buffer's size;
//! - connection state: `is_connected` agrees with the events
//!   (Connected / Disconnected / ConnectError); connected implies open;
//!   `engine_sid` iff open; sids and messages fit `INFO_CAPACITY`; a
//!   protocol error or a server `close` leaves the session closed with
//!   `Action::Close` asked for, reason `ParseError` / `TransportClose`;
//!   each event comes only from the kind of call that can cause it;
//!   events for a namespace not connected only while it has a recovery
//!   `pid` (the server replays missed events before its CONNECT answer);
//!   `recovered` only with a pid.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oxio_codec::client::{
    AckRequest, Action, Config, DisconnectReason, EmitOptions, Error, Event, Frame, FrameError,
    FrameKind, Incoming, OfflinePolicy, Random, Session, INFO_CAPACITY,
};
use oxio_codec::engineio::{self, Version};
use oxio_codec::socketio::{Binary, Decoder, PacketType};
use oxio_codec::{Instant, Limits};
use oxio_fuzz::client::{Input, Op, Setup};
use oxio_fuzz::{Tree, SMALL_LIMITS};
use std::collections::{BTreeMap, BTreeSet};

/// `OXIO_FUZZ_TRACE=1` prints the input and every call (to read a crash).
fn trace() -> bool {
    static TRACE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("OXIO_FUZZ_TRACE").is_some())
}

fuzz_target!(|data: &[u8]| {
    let input = Input::parse(&mut arbitrary::Unstructured::new(data));
    if trace() {
        eprintln!("{:?}", input.setup);
    }
    if input.setup.flags & 0b10_0000 != 0 {
        twins::<4, 6, 1024, 256>(&input);
    } else {
        twins::<2, 2, 192, 48>(&input);
    }
});

/// Runs the scenario; when it passes short buffers to `poll_transmit`, runs
/// it again with full buffers only: a frame that does not fit a short
/// buffer stays queued, so both runs must send the same frames and report
/// the same events, call after call.
fn twins<const N: usize, const A: usize, const Q: usize, const RX: usize>(input: &Input) {
    let config = config(&input.setup);
    let jitter = |mut seed: u32| {
        move || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            seed
        }
    };
    let short = input
        .ops
        .iter()
        .any(|op| matches!(op, Op::ShortTransmit(_)));
    let first = Harness::<_, N, A, Q, RX>::new(config, jitter(input.setup.seed), short, false)
        .run(&input.ops);
    if short {
        let second = Harness::<_, N, A, Q, RX>::new(config, jitter(input.setup.seed), true, true)
            .run(&input.ops);
        for (i, (a, b)) in first.iter().zip(&second).enumerate() {
            assert_eq!(a, b, "call {i}: short buffers changed what the session did");
        }
        assert_eq!(first.len(), second.len());
    }
}

fn config(s: &Setup) -> Config {
    let max_frame_len = if s.max_frame >= 250 {
        4096
    } else {
        8 + 2 * usize::from(s.max_frame)
    };
    let limits = if s.flags & 0b100_0000 != 0 {
        SMALL_LIMITS
    } else {
        Limits::DEFAULT
    };
    Config {
        version: if s.flags & 1 != 0 {
            Version::V3
        } else {
            Version::V4
        },
        path: "/socket.io/",
        query: if s.flags & 0b1000_0000 != 0 {
            "token=abc"
        } else {
            ""
        },
        reconnection_attempts: (s.flags & 0b1_0000 != 0).then_some(u32::from(s.attempts % 4)),
        reconnection_delay_ms: u32::from(s.delay) * 10,
        reconnection_delay_max_ms: u32::from(s.delay_max) * 20,
        randomization_factor_permille: u16::from(s.jitter) * 5,
        reconnection_factor: u32::from(s.factor % 4),
        connect_timeout_ms: (s.flags & 0b1000 == 0).then_some(u64::from(s.connect_timeout) * 20),
        offline_policy: match (s.flags >> 1) & 3 {
            1 => OfflinePolicy::DropOldest,
            2 => OfflinePolicy::DropNewest,
            _ => OfflinePolicy::Error,
        },
        max_frame_len,
        limits: Limits {
            attachment_timeout_ms: u64::from(s.attachment_timeout) * 10,
            ..limits
        },
    }
}

// ---------------------------------------------------------------------------
// Tables the input's indexes pick from.

const LONG_NS: &str = "/abcdefghijklmnopqrstuvwxyz01234"; // 32 bytes: the most a slot holds

/// Namespaces the application uses; the last two are invalid.
const APP_NS: [&str; 7] = [
    "/",
    "/a",
    "/b",
    "/admin",
    LONG_NS,
    "/x,y",
    "/abcdefghijklmnopqrstuvwxyz012345",
];

/// Valid application namespaces (the ones events may name).
const VALID_NS: usize = 5;

/// Namespace parts of server packets (`""` is `/`).
const SERVER_NS: [&str; 6] = [
    "",
    "/a,",
    "/b,",
    "/admin,",
    "/zz,",
    "/abcdefghijklmnopqrstuvwxyz01234,",
];

const ACK_IDS: [&str; 6] = [
    "",
    "0",
    "1",
    "2",
    "9007199254740991",
    "99999999999999999999",
];

const COUNTS: [&str; 5] = ["", "1-", "2-", "3-", "11-"];

const PAYLOADS: [&str; 25] = [
    "",
    r#"{"sid":"s1"}"#,
    r#"{"sid":"0123456789012345678901234567890123456789012345678"}"#,
    r#"{"message":"nope"}"#,
    r#"{"message":"ééééééééééééééééééééééééééééééééé long message","data":{"x":1}}"#,
    r#"["e",1]"#,
    r#"["e",{"_placeholder":true,"num":0}]"#,
    r#"["e",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
    r#"[{"_placeholder":true,"num":0}]"#,
    "[]",
    r#""str""#,
    "[1,2]",
    r#"["message","x"]"#,
    "{}",
    r#"{"sid":1}"#,
    "[[[[[[[[[[1]]]]]]]]]]",
    r#"["e",{"_placeholder":true,"num":"0"}]"#,
    r#"["e",{"_placeholder":true,"num":5}]"#,
    r#"["connect"]"#,
    r#"[{"x":"\u00e9\ud83d\ude00"},null,true,-1.5e3]"#,
    r#""nope""#,
    // Connection state recovery: a pid, a too-long pid, offsets.
    r#"{"sid":"s1","pid":"p1"}"#,
    r#"{"sid":"s1","pid":"012345678901234567890"}"#,
    r#"["e",1,"MzAb3Xy.0"]"#,
    r#"["e","0123456789012345678901234567890123"]"#,
];

const TEMPLATES: [&str; 22] = [
    "2",
    "3",
    "2probe",
    "1",
    "5",
    "6",
    "3probe",
    "0",
    "4",
    "40",
    r#"40{"sid":"s1"}"#,
    "41",
    r#"42["e",1]"#,
    r#"4{"a""#,
    "b",
    "bAQID",
    "b4AQID",
    "",
    r#"451-["e",{"_placeholder":true,"num":0}]"#,
    "40/a,",
    r#"44{"message":"no"}"#,
    r#"42/a,["e"]"#,
];

const SIDS: [&str; 5] = [
    "e1",
    "",
    "012345678901234567890123456789012345678901234567",
    "0123456789012345678901234567890123456789012345678",
    r#"a\"b\u00e9"#,
];

fn handshake(sid: u8, variant: u8, interval: u16, timeout: u16) -> String {
    let sid = SIDS[usize::from(sid) % SIDS.len()];
    let (i, t) = (interval, timeout);
    match variant % 10 {
        0 => format!(
            r#"0{{"sid":"{sid}","upgrades":[],"pingInterval":{i},"pingTimeout":{t},"maxPayload":1000000}}"#
        ),
        1 => format!(r#"0{{"sid":"{sid}","pingInterval":{i},"pingTimeout":{t}}}"#),
        2 => format!(r#"0{{"sid":"{sid}","upgrades":[],"pingInterval":{i}}}"#),
        3 => format!(r#"0{{"sid":"{sid}","upgrades":[],"pingInterval":-{i},"pingTimeout":{t}}}"#),
        4 => format!(
            r#"0{{"sid":"{sid}","upgrades":[],"pingInterval":1e300,"pingTimeout":18446744073709551616}}"#
        ),
        5 => format!(
            r#"0{{"sid":"{sid}","upgrades":["websocket"],"pingInterval":{i},"pingTimeout":{t},"x":{{"y":[1,{{"z":null}}]}}}}"#
        ),
        6 => format!(r#"0{{"sid":"{sid}","upgrades":[],"pingInterval":{i}.5,"pingTimeout":{t}}}"#),
        7 => format!(r#"0{{"sid":"{sid}","upgrades":[],"pingInterval":"{i}","pingTimeout":{t}}}"#),
        8 => "0{".to_string(),
        _ => "0[]".to_string(),
    }
}

fn sio_frame(kind: u8, count: u8, ns: u8, ack: u8, payload: u8) -> String {
    let digit = char::from(b'0' + kind % 8);
    let count = COUNTS[usize::from(count) % COUNTS.len()];
    let ns = SERVER_NS[usize::from(ns) % SERVER_NS.len()];
    let ack = ACK_IDS[usize::from(ack) % ACK_IDS.len()];
    let payload = PAYLOADS[usize::from(payload) % PAYLOADS.len()];
    format!("4{digit}{count}{ns}{ack}{payload}")
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

enum Auth {
    None,
    Json(serde_json::Value),
    Text(&'static str),
}

fn auth(i: u8) -> Auth {
    match i % 6 {
        0 => Auth::None,
        1 => Auth::Json(serde_json::json!({"token": "abc"})),
        2 => Auth::Json(serde_json::json!({"n": 1, "b": true, "z": null, "s": "a b&c=é"})),
        3 => Auth::Text("not an object"),
        4 => Auth::Json(serde_json::json!({"nested": {"x": 1}})),
        _ => Auth::Json(serde_json::json!({"long": "x".repeat(200)})),
    }
}

const EVENTS: [&str; 6] = [
    "e",
    "message",
    "connect",
    "",
    "é\"\\",
    "a-rather-long-event-name-that-takes-up-much-of-a-small-frame-0123456789",
];

// ---------------------------------------------------------------------------
// The driver.

/// What the call being checked was, for the events it may cause.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Cause {
    /// `handle_frame`; `error` when it returned a protocol error (not
    /// `TooLarge`), `close` when the frame was an Engine.IO close.
    Frame {
        error: bool,
        close: bool,
    },
    Timeout,
    Closed,
    Disconnect,
    Emit,
    Other,
}

struct Harness<R, const N: usize, const A: usize, const Q: usize, const RX: usize> {
    s: Box<Session<R, N, A, Q, RX>>,
    config: Config,
    now: Instant,
    /// Ack requests from the server, newest last.
    requests: Vec<AckRequest>,
    /// Emits with an ack not yet answered, timed out or cancelled: id →
    /// namespace and deadline.
    outstanding: BTreeMap<u64, (&'static str, Instant)>,
    /// Namespaces connected, as the events told.
    connected: BTreeSet<&'static str>,
    /// Namespaces left while connected whose DISCONNECT has not been seen.
    leaving: BTreeSet<&'static str>,
    /// Attachments still to come of the binary packet being sent.
    attachments_due: usize,
    /// The driver's pending transport work.
    action: Option<Action>,
    buf: Vec<u8>,
    /// Frames, events and actions, one entry per call, when `record`.
    transcript: Vec<String>,
    record: bool,
    /// `ShortTransmit` does nothing.
    full_buffers_only: bool,
    /// The next drain starts with a buffer this short (`ShortTransmit`).
    short: Option<usize>,
}

fn app_ns(i: u8) -> &'static str {
    APP_NS[usize::from(i) % APP_NS.len()]
}

fn known_ns(name: &str) -> &'static str {
    APP_NS[..VALID_NS]
        .iter()
        .copied()
        .find(|n| *n == name)
        .unwrap_or_else(|| panic!("unknown namespace {name:?}"))
}

impl<R: Random, const N: usize, const A: usize, const Q: usize, const RX: usize>
    Harness<R, N, A, Q, RX>
{
    fn new(config: Config, random: R, record: bool, full_buffers_only: bool) -> Self {
        Harness {
            s: Box::new(Session::new(config, random)),
            config,
            now: Instant::from_millis(0),
            requests: Vec::new(),
            outstanding: BTreeMap::new(),
            connected: BTreeSet::new(),
            leaving: BTreeSet::new(),
            attachments_due: 0,
            action: None,
            buf: vec![0; 8192],
            transcript: Vec::new(),
            record,
            full_buffers_only,
            short: None,
        }
    }

    fn run(mut self, ops: &[Op]) -> Vec<String> {
        for op in ops {
            self.op(op);
        }
        self.transcript
    }

    fn note(&mut self, what: std::fmt::Arguments<'_>) {
        if self.record {
            use std::fmt::Write;
            let last = self.transcript.last_mut().expect("a call");
            let _ = write!(last, "{what}; ");
        }
    }

    fn op(&mut self, op: &Op) {
        if self.record {
            self.transcript.push(format!("{op:?}: "));
        }
        if trace() {
            eprintln!("@{} {op:?}", self.now.as_millis());
        }
        match op {
            Op::Template(i) => {
                let t = TEMPLATES[usize::from(*i) % TEMPLATES.len()];
                self.text(t);
            }
            Op::Handshake {
                sid,
                variant,
                interval,
                timeout,
            } => self.text(&handshake(*sid, *variant, *interval, *timeout)),
            Op::Sio {
                kind,
                count,
                ns,
                ack,
                payload,
            } => self.text(&sio_frame(*kind, *count, *ns, *ack, *payload)),
            Op::Attachment { len, fill, form } => {
                let bytes = vec![*fill; usize::from(*len)];
                match form % 4 {
                    0 => self.frame(Frame::Binary(&bytes)),
                    1 => self.frame(Frame::Binary(&[&[4][..], &bytes].concat())),
                    2 => self.text(&format!("b{}", base64(&bytes))),
                    _ => self.text(&format!("b4{}", base64(&bytes))),
                }
            }
            Op::RawText(b) => self.text(&String::from_utf8_lossy(b)),
            Op::RawBinary(b) => self.frame(Frame::Binary(b)),
            Op::Advance { ms, fire } => {
                self.now = self.now + u64::from(*ms);
                if *fire {
                    self.fire();
                }
            }
            Op::Jump(ms) => {
                self.now = self.now + u64::from(*ms);
                self.fire();
            }
            Op::EndOfTime(n) => {
                self.now = self.now.max(Instant::from_millis(u64::MAX - u64::from(*n)));
                self.fire();
            }
            Op::ToDeadline => {
                if let Some(d) = self.s.poll_timeout() {
                    self.now = self.now.max(d);
                }
                self.fire();
            }
            Op::FireNow => self.fire(),
            Op::Opened => self.opened(),
            Op::Closed => self.closed(),
            Op::Connect { ns, auth: a } => {
                let ns = app_ns(*ns);
                let result = match auth(*a) {
                    Auth::None => self.s.connect(ns, None::<&()>),
                    Auth::Json(v) => self.s.connect(ns, Some(&v)),
                    Auth::Text(t) => self.s.connect(ns, Some(t)),
                };
                if APP_NS[VALID_NS..].contains(&ns) {
                    assert_eq!(result, Err(Error::InvalidNamespace), "{ns}");
                }
                self.settle(Cause::Other);
            }
            Op::Disconnect(ns) => {
                let ns = app_ns(*ns);
                let was = self.connected.contains(ns);
                let result = self.s.disconnect(ns);
                if was {
                    assert_eq!(result, Ok(()), "leaving connected {ns}");
                    self.leaving.insert(ns);
                }
                self.settle(Cause::Disconnect);
                assert!(
                    !self.connected.contains(ns),
                    "{ns} still connected after leaving"
                );
            }
            Op::Emit {
                ns,
                event,
                args,
                flags,
                timeout,
            } => self.emit(app_ns(*ns), *event, *args, *flags, *timeout),
            Op::Ack { back, args } => {
                if let Some(i) = self.requests.len().checked_sub(1 + usize::from(*back) % 4) {
                    let request = self.requests[i];
                    let _ = match args % 4 {
                        0 => self.s.ack(request, &()),
                        1 => self.s.ack(request, &(1,)),
                        2 => self.s.ack(request, &(Binary(&[7]),)),
                        _ => self.s.ack(request, &("z".repeat(300),)),
                    };
                }
                self.settle(Cause::Other);
            }
            Op::Up { interval, timeout } => self.up(*interval, *timeout),
            Op::ShortTransmit(n) => {
                if !self.full_buffers_only {
                    self.short = Some(usize::from(*n));
                }
            }
        }
    }

    /// What a driver does to get the connection up.
    fn up(&mut self, interval: u16, timeout: u16) {
        for _ in 0..8 {
            if self.s.is_open() {
                return;
            }
            match self.action.take() {
                Some(Action::Connect(_)) => {
                    self.opened();
                    self.text(&handshake(0, 0, interval, timeout));
                }
                Some(Action::Close) => self.closed(),
                None => match self.s.poll_timeout() {
                    Some(d) => {
                        self.now = self.now.max(d);
                        self.fire();
                    }
                    None => return,
                },
            }
        }
    }

    fn opened(&mut self) {
        if matches!(self.action, Some(Action::Connect(_))) {
            self.action = None;
        }
        self.s.transport_opened(self.now);
        self.settle(Cause::Other);
    }

    fn closed(&mut self) {
        self.action = None;
        self.s.transport_closed(self.now);
        assert!(!self.s.is_open(), "open after transport_closed");
        self.settle(Cause::Closed);
    }

    fn fire(&mut self) {
        let now = self.now;
        self.s.handle_timeout(now);
        // Never a deadline in the past right after the timers fired; one
        // at `now` itself (a zero timeout armed now) fires on the next
        // call, and the timers settle in a few rounds.
        let mut rounds = 0;
        while let Some(d) = self.s.poll_timeout() {
            assert!(
                d >= now,
                "deadline {d:?} before now {now:?} after handle_timeout"
            );
            if d > now {
                break;
            }
            rounds += 1;
            assert!(rounds <= 4, "timers stuck at {now:?}");
            self.s.handle_timeout(now);
        }
        self.settle(Cause::Timeout);
    }

    fn text(&mut self, text: &str) {
        self.frame(Frame::Text(text));
    }

    fn frame(&mut self, frame: Frame<'_>) {
        let was_open = self.s.is_open();
        let before: Vec<&'static str> = self.connected.iter().copied().collect();
        let session_start = &*self.s as *const Session<R, N, A, Q, RX> as usize;
        let session = session_start..session_start + std::mem::size_of::<Session<R, N, A, Q, RX>>();
        let frame_range = match frame {
            Frame::Text(t) => t.as_bytes().as_ptr_range(),
            Frame::Binary(b) => b.as_ptr_range(),
        };
        let frame_range = frame_range.start as usize..frame_range.end as usize;
        let inside = |s: &[u8]| {
            if s == b"/" {
                return true; // the decoder's `/` for a frame that names none
            }
            let r = s.as_ptr_range();
            let r = r.start as usize..r.end as usize;
            (frame_range.start <= r.start && r.end <= frame_range.end)
                || (session.start <= r.start && r.end <= session.end)
        };
        let close = match frame {
            Frame::Text(t) => engineio::Packet::decode_text(t, self.config.version)
                .is_ok_and(|p| p.packet_type == engineio::PacketType::Close),
            Frame::Binary(_) => false,
        };
        let now = self.now;
        let mut request = None;
        let mut acked = None;
        let mut event_ns = None;
        if trace() {
            eprintln!("  frame {frame:?}");
        }
        let result = match self.s.handle_frame(frame, now) {
            Ok(None) => Ok(()),
            Ok(Some(Incoming::Event { packet, ack })) => {
                assert!(
                    inside(packet.namespace().as_bytes()),
                    "namespace not borrowed"
                );
                if let Some(p) = packet.payload() {
                    assert!(inside(p.as_bytes()), "payload not borrowed");
                }
                assert!(matches!(
                    packet.packet_type(),
                    PacketType::Event | PacketType::BinaryEvent
                ));
                assert_eq!(ack.map(|a| a.id()), packet.ack_id(), "ack request id");
                if let Some(atts) = packet.attachments() {
                    assert_eq!(atts.count(), packet.attachment_count());
                    for i in 0..atts.count() {
                        let a = atts.get(i).expect("announced attachment");
                        assert!(inside(a), "attachment not in the session");
                    }
                }
                let _ = packet.event_name();
                let _ = packet.args::<Vec<Tree>>();
                request = ack;
                event_ns = Some(known_ns(packet.namespace()));
                Ok(())
            }
            Ok(Some(Incoming::Ack { id, packet })) => {
                assert!(
                    inside(packet.namespace().as_bytes()),
                    "namespace not borrowed"
                );
                assert_eq!(packet.ack_id(), Some(id.0));
                assert!(matches!(
                    packet.packet_type(),
                    PacketType::Ack | PacketType::BinaryAck
                ));
                let _ = packet.args::<Vec<Tree>>();
                acked = Some((id.0, known_ns(packet.namespace())));
                Ok(())
            }
            // The fuzzed sessions speak the default parser.
            Ok(Some(Incoming::MsgpackEvent { .. } | Incoming::MsgpackAck { .. })) => {
                panic!("a msgpack packet from a session without msgpack")
            }
            Err(e) => Err(e),
        };
        if trace() {
            eprintln!("  -> {result:?} event {event_ns:?} {request:?} ack {acked:?}");
        }
        self.note(format_args!("{result:?} {event_ns:?} {acked:?}"));
        if let Some(ns) = event_ns {
            // Or recovering: the missed events come before the answer.
            assert!(
                self.connected.contains(ns) || self.s.pid(ns).is_some(),
                "event for {ns}, not connected"
            );
        }
        if let Some((id, ns)) = acked {
            let entry = self.outstanding.remove(&id);
            assert_eq!(entry.map(|e| e.0), Some(ns), "ack {id} delivered");
        }
        if let Some(r) = request {
            self.requests.push(r);
            if self.requests.len() > 8 {
                self.requests.remove(0);
            }
        }
        let error = match result {
            Err(FrameError::TooLarge { capacity, needed }) => {
                assert_eq!(capacity, RX);
                assert!(needed > 0);
                assert_eq!(self.s.is_open(), was_open, "TooLarge changed the link");
                false
            }
            Err(_) => true,
            Ok(()) => false,
        };
        let opened_now = !was_open && self.s.is_open();
        let lost = self.settle(Cause::Frame { error, close });
        if error || (close && was_open) {
            assert!(
                !self.s.is_open(),
                "still open after a protocol error or close"
            );
            assert_eq!(lost, Some(Action::Close), "no Close asked for");
            assert!(self.connected.is_empty(), "{:?} still connected", before);
        }
        if opened_now {
            assert!(self.s.engine_sid().is_some());
        }
    }

    fn emit(&mut self, ns: &'static str, event: u8, args: u8, flags: u8, timeout: u16) {
        let event = EVENTS[usize::from(event) % EVENTS.len()];
        let options = EmitOptions {
            volatile: flags & 1 != 0,
            ack: (flags & 2 != 0).then_some(if flags & 4 != 0 {
                u64::MAX
            } else {
                u64::from(timeout)
            }),
        };
        let now = self.now;
        let s = &mut self.s;
        let result = match args % 9 {
            0 => s.emit(ns, event, &(), options, now),
            1 => s.emit(ns, event, &(1,), options, now),
            2 => s.emit(ns, event, &("str",), options, now),
            3 => s.emit(ns, event, &("x".repeat(40),), options, now),
            4 => s.emit(ns, event, &(Binary(&[1, 2, 3]),), options, now),
            5 => s.emit(ns, event, &(1, Binary(&[4; 5]), Binary(&[])), options, now),
            6 => s.emit(ns, event, &([Binary(&[1]); 11],), options, now),
            7 => s.emit(
                ns,
                event,
                &serde_json::json!({"a": [1, {"b": null}], "c": "é"}),
                options,
                now,
            ),
            _ => s.emit(ns, event, &("y".repeat(300),), options, now),
        };
        let online = self.connected.contains(ns);
        match result {
            Ok(Some(id)) => {
                assert!(options.ack.is_some(), "an ack id without asking");
                let ns = known_ns(ns);
                let deadline = now + options.ack.unwrap_or(0);
                let fresh = self.outstanding.insert(id.0, (ns, deadline)).is_none();
                assert!(fresh, "ack id {id} reused");
            }
            Ok(None) => {
                if options.ack.is_some() {
                    assert_eq!(self.config.offline_policy, OfflinePolicy::DropNewest);
                    assert!(!online, "an online emit discarded");
                }
            }
            Err(Error::VolatileDropped) => assert!(options.volatile && !online),
            Err(_) => {}
        }
        if options.volatile && !online && APP_NS[..VALID_NS].contains(&ns) {
            assert!(result.is_err(), "a volatile emit buffered");
        }
        self.settle(Cause::Emit);
    }

    /// A frame the session sent.
    fn check_sent(&mut self, kind: FrameKind, frame: &[u8]) {
        let version = self.config.version;
        assert!(
            frame.len() <= self.config.max_frame_len,
            "frame of {} bytes over max_frame_len {}",
            frame.len(),
            self.config.max_frame_len
        );
        match kind {
            FrameKind::Binary => {
                assert!(self.attachments_due > 0, "a binary frame nobody announced");
                self.attachments_due -= 1;
                if version == Version::V3 {
                    assert_eq!(frame.first(), Some(&4), "v3 binary frame without 0x04");
                }
                engineio::Packet::decode_binary(frame, version).expect("binary frame decodes");
            }
            FrameKind::Text => {
                let text = std::str::from_utf8(frame).expect("text frame is UTF-8");
                let packet =
                    engineio::Packet::decode_text(text, version).expect("Engine.IO packet");
                let heartbeat = match version {
                    Version::V4 => engineio::PacketType::Pong,
                    Version::V3 => engineio::PacketType::Ping,
                };
                if packet.packet_type == heartbeat {
                    assert!(matches!(packet.data, engineio::Data::Text("")), "{text}");
                    return;
                }
                assert_eq!(packet.packet_type, engineio::PacketType::Message, "{text}");
                assert_eq!(self.attachments_due, 0, "attachments interrupted by {text}");
                let engineio::Data::Text(sio) = packet.data else {
                    panic!("a message that is not text: {text}");
                };
                let decoder = Decoder::new(self.config.socketio_version(), Limits::DEFAULT);
                let p = decoder
                    .decode(sio)
                    .unwrap_or_else(|e| panic!("{text}: {e}"));
                let ns = known_ns(p.namespace_path());
                match p.packet_type() {
                    PacketType::BinaryEvent | PacketType::BinaryAck => {
                        assert!(p.attachment_count() > 0);
                        self.attachments_due = p.attachment_count();
                    }
                    PacketType::Disconnect => {
                        self.leaving.remove(ns);
                    }
                    PacketType::ConnectError => panic!("the client sent CONNECT_ERROR: {text}"),
                    PacketType::Connect | PacketType::Event | PacketType::Ack => {}
                }
            }
        }
    }

    /// Drains the outputs as a driver does and checks the invariants;
    /// returns the action asked for.
    fn settle(&mut self, cause: Cause) -> Option<Action> {
        if !self.s.is_open() {
            // The transport is gone: nothing half sent survives it.
            self.attachments_due = 0;
            self.leaving.clear();
        }
        if let Some(len) = self.short.take() {
            let mut buf = vec![0u8; len];
            for _ in 0..4 {
                let Some(t) = self.s.poll_transmit(&mut buf, self.now) else {
                    break;
                };
                assert!(t.len <= len, "wrote {} bytes into {len}", t.len);
                self.note(format_args!("{:?} {:?}", t.kind, &buf[..t.len]));
                self.check_sent(t.kind, &buf[..t.len]);
            }
        }
        let mut buf = std::mem::take(&mut self.buf);
        let mut frames = 0;
        while let Some(t) = self.s.poll_transmit(&mut buf, self.now) {
            assert!(t.len <= buf.len());
            if trace() {
                eprintln!("  sent {:?}", String::from_utf8_lossy(&buf[..t.len]));
            }
            self.note(format_args!("{:?} {:?}", t.kind, &buf[..t.len]));
            self.check_sent(t.kind, &buf[..t.len]);
            frames += 1;
            assert!(frames <= 1000, "poll_transmit never ends");
        }
        self.buf = buf;

        let was_open = self.s.is_open();
        let mut reconnect_delay = None;
        let mut n = 0;
        let config = self.config;
        let mut recovered_ns = Vec::new();
        while let Some(event) = self.s.poll_event() {
            if trace() {
                eprintln!("  event {event:?}");
            }
            if self.record {
                use std::fmt::Write;
                if let Some(last) = self.transcript.last_mut() {
                    let _ = write!(last, "{event:?}; ");
                }
            }
            n += 1;
            assert!(n <= 64, "poll_event never ends");
            match event {
                Event::Connected {
                    namespace,
                    sid,
                    recovered,
                } => {
                    assert!(matches!(cause, Cause::Frame { .. }), "{cause:?}: {event:?}");
                    assert!(sid.len() <= INFO_CAPACITY);
                    if recovered {
                        recovered_ns.push(known_ns(namespace));
                    }
                    let ns = known_ns(namespace);
                    assert!(self.connected.insert(ns), "{ns} connected twice");
                }
                Event::ConnectError { namespace, message } => {
                    assert!(matches!(cause, Cause::Frame { .. }), "{cause:?}: {event:?}");
                    assert!(message.len() <= INFO_CAPACITY);
                    self.connected.remove(known_ns(namespace));
                }
                Event::Disconnected { namespace, reason } => {
                    use DisconnectReason::*;
                    let ok = match cause {
                        Cause::Frame { error: true, .. } => reason == ParseError,
                        Cause::Frame { close: true, .. } => reason == TransportClose,
                        Cause::Frame { .. } => reason == ServerDisconnect,
                        Cause::Timeout => matches!(reason, PingTimeout | ParseError),
                        Cause::Closed => reason == TransportClose,
                        Cause::Disconnect => reason == ClientDisconnect,
                        Cause::Emit | Cause::Other => false,
                    };
                    assert!(ok, "{cause:?}: {event:?}");
                    // A server DISCONNECT also abandons a namespace still
                    // joining, and is reported as the reference client does
                    // (`disconnect` without `connect`); other reasons only
                    // end a connection.
                    let ns = known_ns(namespace);
                    let was = self.connected.remove(ns);
                    assert!(
                        was || reason == ServerDisconnect,
                        "{ns} disconnected ({reason:?}), was not connected"
                    );
                }
                Event::AckTimeout { namespace, id } => {
                    assert_eq!(cause, Cause::Timeout, "{event:?}");
                    let (ns, deadline) = self.outstanding.remove(&id.0).expect("a waiting ack");
                    assert_eq!(ns, namespace, "{event:?}");
                    assert!(self.now >= deadline, "{event:?} before {deadline:?}");
                }
                Event::AckCancelled { namespace, id, .. } => {
                    let entry = self.outstanding.remove(&id.0);
                    assert_eq!(entry.map(|e| e.0), Some(namespace), "{event:?}");
                }
                Event::ServerLost => assert_eq!(cause, Cause::Timeout, "{event:?}"),
                Event::Reconnecting { attempt, delay_ms } => {
                    assert_eq!(cause, Cause::Closed, "{event:?}");
                    assert!(attempt >= 1);
                    if let Some(max) = config.reconnection_attempts {
                        assert!(attempt <= max, "{event:?} beyond {max}");
                    }
                    assert!(delay_ms <= config.reconnection_delay_max_ms, "{event:?}");
                    reconnect_delay = Some(delay_ms);
                }
                Event::ReconnectFailed => assert_eq!(cause, Cause::Closed, "{event:?}"),
                other => panic!("an event this target does not know: {other:?}"),
            }
        }
        assert_eq!(self.s.dropped_events(), 0);
        assert_eq!(was_open, self.s.is_open());
        for ns in recovered_ns {
            assert!(self.s.pid(ns).is_some(), "{ns} recovered without a pid");
        }

        if let Some(delay) = reconnect_delay {
            let d = self.s.poll_timeout().expect("a reconnection deadline");
            assert!(
                d <= self.now + u64::from(delay),
                "deadline {d:?} after the delay {delay}"
            );
        }

        let action = self.s.poll_action(self.now);
        if trace() && action.is_some() {
            eprintln!("  action {action:?}");
        }
        if action.is_some() {
            self.note(format_args!("{action:?}"));
        }
        match action {
            Some(Action::Connect(target)) => {
                assert_eq!(target.path, config.path);
                assert_eq!(target.version, config.version);
                assert_eq!(target.query, config.query);
                let mut url = [0u8; 128];
                assert_eq!(target.write_to(&mut url), Some(target.len()));
                self.action = action;
            }
            Some(Action::Close) => {
                assert_ne!(
                    cause,
                    Cause::Closed,
                    "Close asked right after transport_closed"
                );
                self.action = action;
            }
            None => {}
        }
        if cause == Cause::Timeout {
            // Every ack whose deadline passed was reported.
            for (id, (ns, deadline)) in &self.outstanding {
                assert!(
                    *deadline > self.now,
                    "ack {id} of {ns} due {deadline:?}, not reported"
                );
            }
        }
        self.check_state();
        action
    }

    /// What holds between calls.
    fn check_state(&mut self) {
        let s = &self.s;
        assert!(s.queued_bytes() <= Q, "queue {} > {Q}", s.queued_bytes());
        assert!(s.queued_bytes() <= s.queue_capacity());
        assert!(s.pending_acks() <= A);
        assert_eq!(
            s.pending_acks(),
            self.outstanding.len(),
            "pending acks vs emits waiting: {:?}",
            self.outstanding
        );
        let open = s.is_open();
        assert_eq!(s.engine_sid().is_some(), open);
        if let Some(sid) = s.engine_sid() {
            assert!(sid.len() <= INFO_CAPACITY);
        }
        for ns in &APP_NS[..VALID_NS] {
            let connected = s.is_connected(ns);
            assert_eq!(
                connected,
                self.connected.contains(ns),
                "{ns}: events vs state"
            );
            assert!(!connected || open, "{ns} connected without a session");
            assert_eq!(s.sid(ns).is_some(), connected);
            if let Some(sid) = s.sid(ns) {
                assert!(sid.len() <= INFO_CAPACITY);
            }
        }
        if open {
            assert!(
                s.poll_timeout().is_some(),
                "an open session without a deadline"
            );
            assert_eq!(self.attachments_due, 0, "a binary packet half sent");
            assert!(
                self.leaving.is_empty(),
                "DISCONNECT never sent: {:?}",
                self.leaving
            );
        }
    }
}
