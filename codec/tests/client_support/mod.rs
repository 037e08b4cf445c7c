//! A scripted fake server around a client session: exact frames in, exact
//! frames, events and incoming packets out, on a fake clock.

#![allow(dead_code)]

use oxio_codec::client::{
    AckRequest, Action, CancelReason, Config, DisconnectReason, Event, Frame, FrameError,
    FrameKind, Incoming, Session,
};
use oxio_codec::json::de::Attachments;
use oxio_codec::Instant;

/// The handshake of a v4 server with the reference defaults.
pub const OPEN: &str = r#"0{"sid":"eio1","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;
/// A v3 handshake (no maxPayload).
pub const OPEN_V3: &str =
    r#"0{"sid":"eio1","upgrades":[],"pingInterval":25000,"pingTimeout":5000}"#;

/// A frame the client sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Out {
    Text(String),
    Bin(Vec<u8>),
}

pub fn t(s: &str) -> Out {
    Out::Text(s.to_string())
}

pub fn b(bytes: &[u8]) -> Out {
    Out::Bin(bytes.to_vec())
}

/// An event, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ev {
    /// Namespace, sid, recovered.
    Connected(String, String, bool),
    ConnectError(String, String),
    Disconnected(String, DisconnectReason),
    AckTimeout(String, u64),
    AckCancelled(String, u64, CancelReason),
    ServerLost,
    Reconnecting(u32, u32),
    ReconnectFailed,
}

pub fn connected(ns: &str, sid: &str) -> Ev {
    Ev::Connected(ns.into(), sid.into(), false)
}

/// A connection whose session the server recovered.
pub fn recovered(ns: &str, sid: &str) -> Ev {
    Ev::Connected(ns.into(), sid.into(), true)
}

pub fn disconnected(ns: &str, reason: DisconnectReason) -> Ev {
    Ev::Disconnected(ns.into(), reason)
}

impl From<Event<'_>> for Ev {
    fn from(e: Event<'_>) -> Self {
        match e {
            Event::Connected {
                namespace,
                sid,
                recovered,
            } => Ev::Connected(namespace.into(), sid.into(), recovered),
            Event::ConnectError { namespace, message } => {
                Ev::ConnectError(namespace.into(), message.into())
            }
            Event::Disconnected { namespace, reason } => Ev::Disconnected(namespace.into(), reason),
            Event::AckTimeout { namespace, id } => Ev::AckTimeout(namespace.into(), id.0),
            Event::AckCancelled {
                namespace,
                id,
                reason,
            } => Ev::AckCancelled(namespace.into(), id.0, reason),
            Event::ServerLost => Ev::ServerLost,
            Event::Reconnecting { attempt, delay_ms } => Ev::Reconnecting(attempt, delay_ms),
            Event::ReconnectFailed => Ev::ReconnectFailed,
            other => panic!("an event these tests do not know: {other:?}"),
        }
    }
}

/// An incoming packet, owned: namespace, raw payload, ack, attachments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum In {
    Nothing,
    Event {
        ns: String,
        payload: String,
        ack: Option<u64>,
        attachments: Vec<Vec<u8>>,
    },
    Ack {
        ns: String,
        id: u64,
        payload: String,
        attachments: Vec<Vec<u8>>,
    },
}

pub fn event(ns: &str, payload: &str, ack: Option<u64>) -> In {
    In::Event {
        ns: ns.into(),
        payload: payload.into(),
        ack,
        attachments: vec![],
    }
}

pub fn ack(ns: &str, id: u64, payload: &str) -> In {
    In::Ack {
        ns: ns.into(),
        id,
        payload: payload.into(),
        attachments: vec![],
    }
}

/// A msgpack value as JSON text; with bytes inside (which JSON cannot
/// show), its raw msgpack in hex.
fn msgpack_json(raw: Option<&[u8]>) -> String {
    let raw = raw.unwrap_or(b"\xc0");
    oxio_codec::msgpack::from_slice::<serde_json::Value>(raw)
        .map(|v| v.to_string())
        .unwrap_or_else(|_| format!("{raw:02x?}"))
}

fn attachments_of(a: Option<&dyn Attachments>) -> Vec<Vec<u8>> {
    let Some(a) = a else { return vec![] };
    (0..a.count()).map(|i| a.get(i).unwrap().to_vec()).collect()
}

/// A session with the defaults for its const parameters unless given.
pub struct Harness<
    const N: usize = 4,
    const A: usize = 8,
    const Q: usize = 2048,
    const R: usize = 1024,
> {
    pub s: Session<fn() -> u32, N, A, Q, R>,
    pub now: Instant,
    pub last_ack: Option<AckRequest>,
}

fn zero() -> u32 {
    0
}

impl<const N: usize, const A: usize, const Q: usize, const R: usize> Harness<N, A, Q, R> {
    /// A session whose jitter source always draws 0 (no jitter).
    pub fn new(config: Config) -> Self {
        Harness {
            s: Session::new(config, zero as fn() -> u32),
            now: Instant::from_millis(0),
            last_ack: None,
        }
    }

    pub fn text(&mut self, frame: &str) -> Result<In, FrameError> {
        self.frame(Frame::Text(frame))
    }

    pub fn bin(&mut self, bytes: &[u8]) -> Result<In, FrameError> {
        self.frame(Frame::Binary(bytes))
    }

    pub fn frame(&mut self, frame: Frame<'_>) -> Result<In, FrameError> {
        let now = self.now;
        let got = match self.s.handle_frame(frame, now)? {
            None => (In::Nothing, None),
            Some(Incoming::Event { packet, ack }) => (
                In::Event {
                    ns: packet.namespace().into(),
                    payload: packet.payload().unwrap_or_default().into(),
                    ack: ack.map(|a| a.id()),
                    attachments: attachments_of(packet.attachments()),
                },
                ack,
            ),
            Some(Incoming::Ack { id, packet }) => (
                In::Ack {
                    ns: packet.namespace().into(),
                    id: id.0,
                    payload: packet.payload().unwrap_or_default().into(),
                    attachments: attachments_of(packet.attachments()),
                },
                None,
            ),
            // msgpack: the data array shown as JSON.
            Some(Incoming::MsgpackEvent { packet, ack }) => (
                In::Event {
                    ns: packet.namespace().into(),
                    payload: msgpack_json(packet.raw_data()),
                    ack: ack.map(|a| a.id()),
                    attachments: vec![],
                },
                ack,
            ),
            Some(Incoming::MsgpackAck { id, packet }) => (
                In::Ack {
                    ns: packet.namespace().into(),
                    id: id.0,
                    payload: msgpack_json(packet.raw_data()),
                    attachments: vec![],
                },
                None,
            ),
        };
        if got.1.is_some() {
            self.last_ack = got.1;
        }
        self.check();
        Ok(got.0)
    }

    /// Every frame the session wants to send now.
    pub fn sent(&mut self) -> Vec<Out> {
        let mut buf = [0u8; 4096];
        let mut out = vec![];
        while let Some(t) = self.s.poll_transmit(&mut buf, self.now) {
            assert!(t.len <= buf.len());
            let bytes = buf[..t.len].to_vec();
            out.push(match t.kind {
                FrameKind::Text => {
                    Out::Text(String::from_utf8(bytes).expect("text frames are UTF-8"))
                }
                FrameKind::Binary => Out::Bin(bytes),
            });
            assert!(out.len() < 10_000, "poll_transmit never ends");
        }
        self.check();
        out
    }

    pub fn events(&mut self) -> Vec<Ev> {
        let mut out = vec![];
        while let Some(e) = self.s.poll_event() {
            out.push(Ev::from(e));
            assert!(out.len() < 10_000, "poll_event never ends");
        }
        out
    }

    pub fn action(&mut self) -> Option<Action> {
        self.s.poll_action(self.now)
    }

    /// Moves the clock and fires the timers.
    pub fn advance(&mut self, ms: u64) {
        self.now = self.now + ms;
        self.s.handle_timeout(self.now);
        self.check();
    }

    /// Moves the clock to the session's next deadline and fires it.
    pub fn skip_to_deadline(&mut self) -> Instant {
        let d = self.s.poll_timeout().expect("a deadline");
        assert!(d >= self.now, "deadline in the past");
        self.now = d;
        self.s.handle_timeout(d);
        self.check();
        d
    }

    /// Connect action, transport open, handshake; returns the URL asked for.
    pub fn open_with(&mut self, handshake: &str) -> String {
        let url = match self.action() {
            Some(Action::Connect(target)) => target.to_string(),
            other => panic!("expected a Connect action, got {other:?}"),
        };
        self.s.transport_opened(self.now);
        assert_eq!(self.text(handshake), Ok(In::Nothing));
        assert!(self.s.is_open());
        url
    }

    pub fn open(&mut self) -> String {
        self.open_with(OPEN)
    }

    /// The transport dropped; returns the events.
    pub fn drop_transport(&mut self) -> Vec<Ev> {
        self.s.transport_closed(self.now);
        self.check();
        self.events()
    }

    /// The invariants every state keeps.
    pub fn check(&self) {
        assert!(self.s.queued_bytes() <= Q);
        assert!(self.s.pending_acks() <= A);
    }
}
