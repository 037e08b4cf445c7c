//! A sans-IO Socket.IO client session over a WebSocket (the quinn-proto
//! pattern): it never touches a socket or a clock.
//!
//! The driver (Embassy, Tokio, a test) owns the WebSocket and the timer and
//! runs a loop of a dozen lines around one [`Session`](crate::client::Session):
//!
//! ```text
//! inputs                                   outputs
//! handle_frame(frame, now) -> Incoming     poll_transmit(buf, now) -> frame to send
//! handle_timeout(now)                      poll_event() -> Event
//! transport_opened(now)                    poll_timeout() -> next deadline
//! transport_closed(now)                    poll_action(now) -> Connect / Close
//! connect / disconnect / emit / ack  (the application)
//! ```
//!
//! After any input, drain the outputs: send every frame `poll_transmit`
//! gives, handle every `poll_event`, do what `poll_action` says, and sleep
//! until `poll_timeout` or the next frame.
//!
//! What the session does (docs/protocol.md §1–§4, the socket.io-client
//! behaviour where the protocol leaves a choice):
//! - **Engine.IO**: the handshake on a direct `transport=websocket`
//!   connection; the heartbeat (v4: answer `2` with `3`, the server is lost
//!   after pingInterval + pingTimeout without a frame; v3: send `2` every
//!   pingInterval, the server is lost without `3` within pingTimeout).
//! - **Namespaces**: several at once, each with its auth, CONNECT queued
//!   until the Engine.IO session opens; CONNECT_ERROR and server DISCONNECT
//!   abandon a namespace (no automatic rejoin, as the reference).
//! - **Events and acks** both ways, binary attachments both ways, ack
//!   timeouts, acks cancelled on disconnection (the reference
//!   `_clearAcks`: emits already sent fail, buffered ones keep waiting).
//! - **Reconnection** with the reference `Backoff` (delay, factor, cap,
//!   randomization, max attempts); every namespace that was wanted is
//!   joined again with its auth, then its buffered emits go out, in order,
//!   once.
//! - **Connection state recovery** (socket.io ≥ 4.6 servers with
//!   `connectionStateRecovery`), as the reference `Socket`: the `pid` of
//!   the CONNECT answer and the last offset (an event's last element when
//!   it is a string and the event asks for no ack) are kept per namespace
//!   and sent back in the next CONNECT's auth (`{"pid","offset",...auth}`,
//!   the user's keys winning); the events the server replays before its
//!   answer are delivered, then
//!   [`Event::Connected`](crate::client::Event::Connected) says
//!   `recovered` (same pid). Bounded: [`PID_CAPACITY`](crate::client::PID_CAPACITY), [`OFFSET_CAPACITY`](crate::client::OFFSET_CAPACITY).
//! - **Offline buffer**: emits made while disconnected wait in the bounded
//!   queue ([`OfflinePolicy`](crate::client::OfflinePolicy) when full); volatile emits are never buffered.
//! - **Protocols**: Engine.IO v4 / Socket.IO v5, or v3 / v4 for socket.io
//!   2.x servers ([`Config::version`](crate::client::Config::version)).
//!
//! Memory: everything is inline and fixed by the type's const generics
//! (see [`Session`](crate::client::Session) for the figures); nothing allocates. Text packets from
//! the server are handed out borrowed from the driver's frame; binary ones
//! are reassembled in the session's own buffer (the driver reuses its
//! frame buffer between messages), see `reassembly.rs`.
//!
//! Where things are:
//!
//! | concept | file |
//! |---|---|
//! | the session: state, transport lifecycle, timers, events | `session.rs` |
//! | frames in | `session/receive.rs` |
//! | application calls and frames out | `session/send.rs` |
//! | the send queue / offline buffer | `outbox.rs` |
//! | binary packets from the server | `reassembly.rs` |
//! | heartbeat timers | `heartbeat.rs` |
//! | namespace slots, pending acks | `namespace.rs`, `acks.rs` |
//! | v3 auth as a query string | `query.rs` |
//! | configuration and backoff | `config.rs` |
//! | frames, actions | `driver.rs` |
//! | events, incoming packets | `event.rs` |
//! | errors | `error.rs` |
//!
//! ```
//! use oxio_codec::client::{Action, Config, EmitOptions, Event, Frame, FrameKind, Incoming, Session, NO_AUTH};
//! use oxio_codec::Instant;
//!
//! let mut session: Session<_> = Session::new(Config::default(), || 0x1234_5678);
//! let mut now = Instant::from_millis(0);
//! session.connect("/", NO_AUTH).unwrap();
//! session.emit("/", "hello", &("world",), EmitOptions::default(), now).unwrap(); // buffered
//!
//! // The driver opens the WebSocket it is asked for.
//! assert!(matches!(session.poll_action(now), Some(Action::Connect(_))));
//! session.transport_opened(now);
//!
//! // A scripted server.
//! let mut buf = [0u8; 256];
//! let mut sent = Vec::new();
//! let mut exchange = |session: &mut Session<_>, frame: &str, now| {
//!     let _ = session.handle_frame(Frame::Text(frame), now).unwrap();
//!     while let Some(t) = session.poll_transmit(&mut buf, now) {
//!         assert_eq!(t.kind, FrameKind::Text);
//!         sent.push(String::from_utf8(buf[..t.len].to_vec()).unwrap());
//!     }
//! };
//! exchange(&mut session, r#"0{"sid":"e1","upgrades":[],"pingInterval":25000,"pingTimeout":20000}"#, now);
//! exchange(&mut session, r#"40{"sid":"s1"}"#, now);
//! now = now + 25_000;
//! exchange(&mut session, "2", now);
//! assert_eq!(sent, ["40", r#"42["hello","world"]"#, "3"]);
//! assert_eq!(session.poll_event(), Some(Event::Connected { namespace: "/", sid: "s1", recovered: false }));
//! assert_eq!(session.poll_timeout(), Some(now + 45_000)); // server lost after that
//! ```

mod acks;
mod config;
mod driver;
mod error;
mod event;
mod heartbeat;
mod namespace;
mod outbox;
mod query;
mod reassembly;
mod session;

pub use config::{Config, OfflinePolicy, Random};
pub use driver::{Action, ConnectTarget, Frame, FrameKind, Transmit};
pub use error::{Error, FrameError};
pub use event::{AckId, AckRequest, CancelReason, DisconnectReason, Event, Incoming};
pub use session::{EmitOptions, Session, NO_AUTH};

/// Longest namespace name a session stores, in bytes.
pub const NAMESPACE_CAPACITY: usize = 32;

/// Longest socket id or CONNECT_ERROR message a session stores, in bytes
/// (a longer message is cut at a character boundary; a longer sid is refused).
pub const INFO_CAPACITY: usize = 48;

/// Longest private session id (`pid`, connection state recovery) a session
/// stores, in bytes: the reference server's ids are 20 characters
/// (15 random bytes in base64). A CONNECT answer with a longer `pid` is
/// taken as one without (no recovery for that connection).
pub const PID_CAPACITY: usize = 20;

/// Longest recovery offset a session stores, in bytes (decoded). Node's
/// in-memory adapter gives 7–12 characters (`yeast`, with a `.N` suffix),
/// the Redis Streams adapter `<ms>-<seq>` stream ids (15–20 in practice).
/// When an event's last argument is a longer string, the stored offset is
/// **dropped, not truncated**: the next CONNECT carries `pid` without
/// `offset`, which the server answers with a new session (`recovered:
/// false`) instead of replaying from a wrong position. A later event with
/// a short offset makes recovery possible again.
pub const OFFSET_CAPACITY: usize = 32;

/// Most binary attachments in one packet, both ways (the reference
/// server's `maxAttachments` default).
pub const MAX_ATTACHMENTS: usize = 10;

/// Connection events a session keeps until [`Session::poll_event`] takes
/// them (ack timeouts and cancellations do not count: they live in the ack
/// table).
pub const EVENT_CAPACITY: usize = 16;
