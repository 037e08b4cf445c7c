//! One Engine.IO session as Socket.IO sees it: binary reassembly, the
//! namespaces joined, the connect timeout, and the protocol rules of
//! docs/protocol.md §3.4–3.5 (every violation closes the session with
//! `parse error`; nothing a client sends panics or touches other clients).

use super::handler::{call_guarded, start};
use super::handshake::{auth_from_query, Handshake};
use super::server::{spawn, ServerInner};
use super::socket::{deliver, Restored, Socket};
use super::{ConnectError, DisconnectReason, Payload, Sid, SocketRef};
use bytes::Bytes;
use oxio_adapter::Parser;
use oxio_codec::msgpack::Encoder as MsgpackEncoder;
use oxio_codec::socketio::{
    Complete, Encoder, Error as CodecError, PacketType, Reassembler, Version,
};
use oxio_engine::sync::LockExt;
use oxio_engine::{CloseReason, Message, SendError, Session, Utf8Bytes};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::mpsc;

/// A text frame, as the reassembler holds it.
struct Text(Utf8Bytes);

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.0.as_str()
    }
}

/// An event on its way to a socket's dispatch task.
pub(crate) struct Inbound {
    event: Arc<str>,
    payload: Payload,
    ack_id: Option<u64>,
}

/// What the inbound queue holds: boxed, because a bounded tokio channel
/// allocates its first block of 32 slots when it is created, so every
/// connected socket, idle or not, pays 32 × the slot size up front
/// (32 × 104 B = 3.3 KiB unboxed, 256 B boxed). The box costs one small
/// allocation per event, next to the payload's own.
type Queued = Box<Inbound>;

struct NsEntry {
    socket: SocketRef,
    tx: mpsc::Sender<Queued>,
    connected: bool,
}

struct ClientState {
    reassembler: Reassembler<Text, Bytes, Vec<Bytes>>,
    nsps: HashMap<String, NsEntry>,
    /// Input is ignored from now on (a violation, or the session ended).
    closing: bool,
    ever_connected: bool,
    attachment_timer: bool,
    connect_timer: Option<tokio::task::AbortHandle>,
}

pub(crate) struct Client {
    session: Session,
    server: Arc<ServerInner>,
    version: Version,
    epoch: tokio::time::Instant,
    me: Weak<Client>,
    state: Mutex<ClientState>,
}

enum ConnectOutcome {
    Violation,
    Refused(&'static str),
    Started(SocketRef, mpsc::Receiver<Queued>, Option<Recover>),
}

#[derive(serde::Serialize)]
struct ConnectReply<'a> {
    sid: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pid: Option<&'a str>,
}

/// The CONNECT reply's data for the msgpack parser (`pid` may be `undefined`).
#[derive(serde::Serialize)]
struct MsgpackConnectReply<'a, P> {
    sid: &'a str,
    pid: P,
}

/// What a CONNECT asks to recover: its auth's `pid` and `offset`.
struct Recover {
    pid: String,
    offset: String,
}

/// Longest `pid` or `offset` worth looking up (ours are 20 and at most 23
/// characters); a longer one gets a new session.
const MAX_RECOVERY_ID: usize = 64;

/// The `pid` and `offset` of a CONNECT's auth, when both are strings (as
/// Node checks `typeof auth.pid === "string" && typeof auth.offset ===
/// "string"`); other keys of the auth are the application's.
fn recovery_request(auth: &str) -> Option<Recover> {
    #[derive(serde::Deserialize)]
    struct Auth {
        pid: Option<serde_json::Value>,
        offset: Option<serde_json::Value>,
    }
    let auth: Auth = serde_json::from_str(auth).ok()?;
    match (auth.pid?, auth.offset?) {
        (serde_json::Value::String(pid), serde_json::Value::String(offset))
            if pid.len() <= MAX_RECOVERY_ID && offset.len() <= MAX_RECOVERY_ID =>
        {
            Some(Recover { pid, offset })
        }
        _ => None,
    }
}

/// Runs a slice encoder with a buffer that grows until the frame fits
/// (for the small control packets: CONNECT, CONNECT_ERROR, DISCONNECT).
fn encode_buf(
    hint: usize,
    f: impl Fn(&mut [u8]) -> Result<usize, CodecError>,
) -> Result<Vec<u8>, CodecError> {
    const MAX: usize = 1 << 26;
    let mut len = hint.saturating_add(64);
    loop {
        let mut buf = vec![0u8; len];
        match f(&mut buf) {
            Ok(n) => {
                buf.truncate(n);
                return Ok(buf);
            }
            Err(CodecError::BufferFull) if len < MAX => len = len.saturating_mul(4),
            Err(e) => return Err(e),
        }
    }
}

/// [`encode_buf`] for a text frame.
fn encode_small(
    hint: usize,
    f: impl Fn(&mut [u8]) -> Result<usize, CodecError>,
) -> Result<Utf8Bytes, CodecError> {
    let text = String::from_utf8(encode_buf(hint, f)?)
        .map_err(|_| CodecError::Serialize(oxio_codec::json::JsonError::InvalidString))?;
    Ok(Utf8Bytes::from(text))
}

/// A control packet in the server's format: `json` writes the text frame,
/// `msgpack` the binary one.
fn control_message(
    parser: Parser,
    hint: usize,
    json: impl Fn(&mut [u8]) -> Result<usize, CodecError>,
    msgpack: impl Fn(&mut [u8]) -> Result<usize, CodecError>,
) -> Result<Message, CodecError> {
    match parser {
        Parser::Msgpack => Ok(Message::Binary(Bytes::from(encode_buf(hint, msgpack)?))),
        _ => Ok(Message::Text(encode_small(hint, json)?)),
    }
}

/// DISCONNECT from `ns`: `1[/nsp,]`, or its msgpack map.
pub(crate) fn disconnect_message(parser: Parser, ns: &str) -> Result<Message, CodecError> {
    control_message(
        parser,
        ns.len(),
        |buf| Encoder::default().disconnect(buf, ns),
        |buf| MsgpackEncoder::default().disconnect(buf, ns),
    )
}

/// The `auth` of a msgpack CONNECT as JSON text (how handshakes keep it);
/// `{}` when absent or when it holds what JSON cannot (bytes).
fn msgpack_auth(packet: &oxio_codec::msgpack::Packet<'_>) -> String {
    match packet.data::<serde_json::Value>() {
        Ok(Some(v)) => v.to_string(),
        _ => "{}".to_owned(),
    }
}

impl Client {
    #[cfg(feature = "admin-ui")]
    pub(crate) fn session(&self) -> &Session {
        &self.session
    }

    pub(crate) fn new(session: Session, server: Arc<ServerInner>) -> Arc<Client> {
        let version = match session.protocol() {
            oxio_codec::engineio::Version::V3 => Version::V4,
            oxio_codec::engineio::Version::V4 => Version::V5,
        };
        let decoder = oxio_codec::socketio::Decoder::new(version, server.config.limits);
        Arc::new_cyclic(|me| Client {
            session,
            server,
            version,
            epoch: tokio::time::Instant::now(),
            me: me.clone(),
            state: Mutex::new(ClientState {
                reassembler: Reassembler::new(decoder),
                nsps: HashMap::new(),
                closing: false,
                ever_connected: false,
                attachment_timer: false,
                connect_timer: None,
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ClientState> {
        self.state.locked()
    }

    fn now(&self) -> oxio_codec::Instant {
        let ms = self.epoch.elapsed().as_millis();
        oxio_codec::Instant::from_millis(u64::try_from(ms).unwrap_or(u64::MAX))
    }

    /// Starts the connect timeout; v4 clients join `/` implicitly.
    pub(crate) fn start(&self) {
        let weak = self.me.clone();
        let timeout = self.server.config.connect_timeout;
        let timer = spawn(async move {
            tokio::time::sleep(timeout).await;
            if let Some(client) = weak.upgrade() {
                client.on_connect_timeout();
            }
        });
        if let Some(timer) = timer {
            let mut st = self.lock();
            if st.ever_connected || st.closing {
                timer.abort();
            } else {
                st.connect_timer = Some(timer.abort_handle());
            }
        }
        if self.version == Version::V4 {
            self.on_connect("/".to_owned(), "{}".to_owned());
        }
    }

    fn on_connect_timeout(&self) {
        let close = {
            let st = self.lock();
            !st.ever_connected && !st.closing
        };
        if close {
            tracing::debug!(
                sid = self.session.sid(),
                "no namespace joined in time: closing"
            );
            self.session.close(CloseReason::ForcedClose);
        }
    }

    /// Closes the session for a protocol violation (once).
    fn violation(&self, why: &dyn std::fmt::Display) {
        {
            let mut st = self.lock();
            if st.closing {
                return;
            }
            st.closing = true;
        }
        tracing::debug!(sid = self.session.sid(), %why, "protocol violation: closing");
        self.session.close(CloseReason::ParseError);
    }

    pub(crate) fn on_message(&self, msg: Message) {
        if self.server.config.parser == Parser::Msgpack {
            return self.on_msgpack(msg);
        }
        let now = self.now();
        let result = {
            let mut st = self.lock();
            if st.closing {
                return;
            }
            match msg {
                Message::Text(t) => st.reassembler.on_text(Text(t), now),
                Message::Binary(b) => st.reassembler.on_binary(b, now),
            }
        };
        match result {
            Err(e) => self.violation(&e),
            Ok(None) => self.arm_attachment_timer(),
            Ok(Some(complete)) => self.on_packet(complete),
        }
    }

    /// One timer task per client drops a binary packet whose attachments
    /// stall past the limit (and closes the session, as any decode error).
    fn arm_attachment_timer(&self) {
        {
            let mut st = self.lock();
            if st.attachment_timer || st.closing {
                return;
            }
            st.attachment_timer = true;
        }
        let weak = self.me.clone();
        spawn(async move {
            loop {
                let Some(client) = weak.upgrade() else { return };
                let now = client.now();
                let wait = {
                    let mut st = client.lock();
                    match st.reassembler.poll_timeout() {
                        None => {
                            st.attachment_timer = false;
                            return;
                        }
                        Some(deadline) if now >= deadline => {
                            st.attachment_timer = false;
                            let expired = st.reassembler.handle_timeout(now);
                            drop(st);
                            if let Err(e) = expired {
                                client.violation(&e);
                            }
                            return;
                        }
                        Some(deadline) => deadline.saturating_since(now),
                    }
                };
                drop(client);
                tokio::time::sleep(Duration::from_millis(wait.max(1))).await;
            }
        });
    }

    fn on_packet(&self, complete: Complete<Text, Vec<Bytes>>) {
        let text_len = complete.text().0.as_str().len();
        let (ty, ns, ack_id, event, json_start, auth) = {
            let packet = match complete.packet() {
                Ok(p) => p,
                Err(e) => return self.violation(&e),
            };
            let (ns, query) = match self.version {
                Version::V4 => (packet.namespace_path(), packet.namespace_query()),
                Version::V5 => (packet.namespace(), None),
            };
            let json_start = packet
                .payload()
                .map(|p| text_len.saturating_sub(p.len()))
                .unwrap_or(text_len);
            let auth = if packet.packet_type() == PacketType::Connect {
                match (self.version, query) {
                    (Version::V4, Some(q)) => auth_from_query(q),
                    (Version::V4, None) => "{}".to_owned(),
                    (Version::V5, _) => packet.payload().unwrap_or("{}").to_owned(),
                }
            } else {
                String::new()
            };
            (
                packet.packet_type(),
                ns.to_owned(),
                packet.ack_id(),
                packet.event_name().map(|n| n.to_string()),
                json_start,
                auth,
            )
        };
        let max_depth = self.server.config.limits.max_depth;
        match ty {
            PacketType::Connect => self.on_connect(ns, auth),
            PacketType::Disconnect => self.on_client_disconnect(&ns),
            PacketType::ConnectError => self.violation(&"CONNECT_ERROR from a client"),
            PacketType::Event | PacketType::BinaryEvent => {
                // An event without a payload has no name: the reference
                // parser accepts it and Node emits `undefined`, which no
                // listener receives. Drop it the same way.
                let Some(event) = event else {
                    tracing::debug!(sid = self.session.sid(), ns, "event without a name ignored");
                    return;
                };
                let (text, attachments) = complete.into_parts();
                let payload = Payload::new(text.0, json_start, 1, attachments, max_depth);
                self.on_event(&ns, event.into(), payload, ack_id);
            }
            PacketType::Ack | PacketType::BinaryAck => {
                let (text, attachments) = complete.into_parts();
                let payload = Payload::new(text.0, json_start, 0, attachments, max_depth);
                self.on_ack(&ns, ack_id, payload);
            }
        }
    }

    /// A packet for the msgpack parser: one binary frame (a text frame is
    /// a violation, as `socket.io-msgpack-parser` fails to decode it).
    fn on_msgpack(&self, msg: Message) {
        if self.lock().closing {
            return;
        }
        let frame = match msg {
            Message::Binary(b) => b,
            Message::Text(_) => return self.violation(&"text frame for the msgpack parser"),
        };
        let decoder = oxio_codec::msgpack::Decoder::new(self.server.config.limits);
        let (ty, ns, ack_id, event, data, auth) = {
            let packet = match decoder.decode(&frame) {
                Ok(p) => p,
                Err(e) => return self.violation(&e),
            };
            let data = packet.raw_data().map(|d| {
                let start = (d.as_ptr() as usize).saturating_sub(frame.as_ptr() as usize);
                start..start.saturating_add(d.len())
            });
            let auth = if packet.packet_type() == PacketType::Connect {
                msgpack_auth(&packet)
            } else {
                String::new()
            };
            (
                packet.packet_type(),
                packet.namespace().to_owned(),
                packet.ack_id(),
                packet.event_name().map(Arc::<str>::from),
                data,
                auth,
            )
        };
        let max_depth = self.server.config.limits.max_depth;
        let payload = |skip| {
            data.clone()
                .and_then(|d| Payload::from_msgpack(frame.clone(), d, skip, max_depth))
        };
        match ty {
            PacketType::Connect => self.on_connect(ns, auth),
            PacketType::Disconnect => self.on_client_disconnect(&ns),
            PacketType::Event => match (event, payload(1)) {
                (Some(event), Some(payload)) => self.on_event(&ns, event, payload, ack_id),
                _ => {
                    tracing::debug!(sid = self.session.sid(), ns, "event without a name ignored");
                }
            },
            PacketType::Ack => match payload(0) {
                Some(payload) => self.on_ack(&ns, ack_id, payload),
                None => self.violation(&"ack without data"),
            },
            _ => self.violation(&"CONNECT_ERROR from a client"),
        }
    }

    fn connected_socket(&self, ns: &str) -> Option<SocketRef> {
        let st = self.lock();
        st.nsps
            .get(ns)
            .filter(|e| e.connected)
            .map(|e| e.socket.clone())
    }

    fn on_event(&self, ns: &str, event: Arc<str>, payload: Payload, ack_id: Option<u64>) {
        let queued = {
            let st = self.lock();
            match st.nsps.get(ns) {
                Some(e) if e.connected => Some(e.tx.try_send(Box::new(Inbound {
                    event,
                    payload,
                    ack_id,
                }))),
                _ => None,
            }
        };
        match queued {
            None => self.violation(&format_args!("event for namespace {ns} not joined")),
            Some(Ok(())) => {}
            Some(Err(mpsc::error::TrySendError::Full(_))) => {
                tracing::warn!(sid = self.session.sid(), ns, "inbound queue full: closing");
                let mut st = self.lock();
                st.closing = true;
                drop(st);
                self.session.close(CloseReason::ForcedClose);
            }
            // The socket is going away; its events are dropped with it.
            Some(Err(mpsc::error::TrySendError::Closed(_))) => {}
        }
    }

    fn on_ack(&self, ns: &str, ack_id: Option<u64>, payload: Payload) {
        let Some(socket) = self.connected_socket(ns) else {
            return self.violation(&format_args!("ack for namespace {ns} not joined"));
        };
        if let Some(id) = ack_id {
            socket.on_ack(id, payload);
        }
    }

    fn on_client_disconnect(&self, ns: &str) {
        let entry = {
            let mut st = self.lock();
            match st.nsps.get(ns) {
                Some(e) if e.connected => st.nsps.remove(ns),
                _ => None,
            }
        };
        match entry {
            // Nothing is sent back; the session stays open.
            Some(entry) => {
                entry
                    .socket
                    .close_with(DisconnectReason::ClientNamespaceDisconnect);
            }
            None => self.violation(&format_args!("DISCONNECT for namespace {ns} not joined")),
        }
    }

    fn socket_id(&self, ns: &str) -> Option<Sid> {
        match self.version {
            Version::V4 if ns == "/" => Some(Sid::from(self.session.sid())),
            Version::V4 => Some(Sid::from(format!("{ns}#{}", self.session.sid()))),
            Version::V5 => match Sid::generate() {
                Ok(sid) => Some(sid),
                Err(e) => {
                    tracing::error!(error = %e, "no socket id");
                    None
                }
            },
        }
    }

    fn on_connect(&self, ns: String, auth: String) {
        let outcome = {
            let mut st = self.lock();
            if st.closing {
                return;
            }
            if st.nsps.contains_key(&ns) {
                ConnectOutcome::Violation
            } else if st.nsps.len() >= self.server.config.max_namespaces_per_client {
                ConnectOutcome::Refused("Too many namespaces")
            } else {
                match (self.server.namespace_for_connect(&ns), self.socket_id(&ns)) {
                    (None, _) => ConnectOutcome::Refused("Invalid namespace"),
                    (Some(nsp), None) => {
                        nsp.end_connect();
                        ConnectOutcome::Refused("Internal error")
                    }
                    (Some(nsp), Some(id)) => {
                        let recover =
                            match (self.version, &self.server.config.connection_state_recovery) {
                                (Version::V5, Some(_)) => recovery_request(&auth),
                                _ => None,
                            };
                        let handshake = Handshake::new(self.session.info(), auth);
                        let socket = Socket::create(
                            id,
                            nsp,
                            self.session.clone(),
                            self.me.clone(),
                            self.version,
                            handshake,
                            self.server.clone(),
                            None,
                        );
                        let (tx, rx) = mpsc::channel(self.server.config.inbound_queue_len.max(1));
                        st.nsps.insert(
                            ns.clone(),
                            NsEntry {
                                socket: socket.clone(),
                                tx,
                                connected: false,
                            },
                        );
                        ConnectOutcome::Started(socket, rx, recover)
                    }
                }
            }
        };
        match outcome {
            ConnectOutcome::Violation => {
                self.violation(&format_args!("second CONNECT for namespace {ns}"))
            }
            // Node sends this as an object even to v4 clients; in msgpack
            // as `{type, nsp, data:{message}}`.
            ConnectOutcome::Refused(message) if self.server.config.parser == Parser::Msgpack => {
                let msg = encode_buf(ns.len() + message.len(), |buf| {
                    MsgpackEncoder::default().connect_refused(buf, &ns, message)
                })
                .map(|frame| Message::Binary(Bytes::from(frame)));
                match msg.map(|m| self.session.send(m)) {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => {
                        tracing::debug!(sid = self.session.sid(), error = %e, "CONNECT_ERROR not sent")
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot encode CONNECT_ERROR"),
                }
            }
            ConnectOutcome::Refused(message) => {
                self.send_connect_error(&ns, &ConnectError::new(message), Version::V5)
            }
            ConnectOutcome::Started(socket, rx, recover) => {
                let Some(me) = self.me.upgrade() else { return };
                let ns = socket.namespace().clone();
                if spawn(run_socket(me, socket.clone(), rx, recover)).is_none() {
                    socket.close_with(DisconnectReason::TransportError);
                    ns.end_connect();
                }
            }
        }
    }

    fn send_connect_error(&self, ns: &str, err: &ConnectError, version: Version) {
        let enc = Encoder::new(version);
        let mp = MsgpackEncoder::default();
        let msg = control_message(
            self.server.config.parser,
            ns.len() + err.message().len(),
            |buf| match err.data() {
                Some(data) => enc.connect_error_with_data(buf, ns, err.message(), data),
                None => enc.connect_error(buf, ns, err.message()),
            },
            |buf| match err.data() {
                Some(data) => mp.connect_error_with_data(buf, ns, err.message(), data),
                None => mp.connect_error(buf, ns, err.message()),
            },
        );
        match msg {
            Ok(msg) => {
                if let Err(e) = self.session.send(msg) {
                    tracing::debug!(sid = self.session.sid(), error = %e, "CONNECT_ERROR not sent");
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot encode CONNECT_ERROR"),
        }
    }

    /// Whether `socket` is still this session's pending or joined socket for its namespace.
    fn holds(&self, socket: &SocketRef) -> bool {
        let st = self.lock();
        !st.closing
            && st
                .nsps
                .get(socket.ns())
                .is_some_and(|e| e.socket == *socket)
    }

    /// A middleware refused the socket: forget it and tell the client.
    fn refuse(&self, socket: &SocketRef, err: &ConnectError) {
        let removed = {
            let mut st = self.lock();
            let same = st
                .nsps
                .get(socket.ns())
                .is_some_and(|e| e.socket == *socket);
            same && st.nsps.remove(socket.ns()).is_some()
        };
        socket.close_with(DisconnectReason::ServerNamespaceDisconnect);
        if removed {
            self.send_connect_error(socket.ns(), err, self.version);
        }
    }

    /// The middlewares passed: the socket joins, the client gets CONNECT.
    fn complete_connect(&self, socket: &SocketRef) -> bool {
        let reply = match self.version {
            Version::V5 => control_message(
                self.server.config.parser,
                socket.ns().len() + 40,
                |buf| {
                    Encoder::default().connect_with(
                        buf,
                        socket.ns(),
                        &ConnectReply {
                            sid: socket.id().as_str(),
                            pid: socket.pid().map(|p| p.as_str()),
                        },
                    )
                },
                |buf| {
                    let sid = socket.id().as_str();
                    let enc = MsgpackEncoder::default();
                    // Node writes `pid: undefined` without recovery.
                    match socket.pid() {
                        Some(pid) => enc.connect_with(
                            buf,
                            socket.ns(),
                            &MsgpackConnectReply {
                                sid,
                                pid: pid.as_str(),
                            },
                        ),
                        None => enc.connect_with(
                            buf,
                            socket.ns(),
                            &MsgpackConnectReply {
                                sid,
                                pid: oxio_codec::msgpack::Undefined,
                            },
                        ),
                    }
                },
            ),
            Version::V4 => control_message(
                self.server.config.parser,
                socket.ns().len(),
                |buf| Encoder::new(Version::V4).connect(buf, socket.ns()),
                |buf| MsgpackEncoder::default().connect(buf, socket.ns()),
            ),
        };
        let reply = match reply {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "cannot encode CONNECT");
                return false;
            }
        };
        let mut overflow = false;
        {
            let mut st = self.lock();
            if st.closing {
                return false;
            }
            let Some(entry) = st.nsps.get_mut(socket.ns()).filter(|e| e.socket == *socket) else {
                return false;
            };
            if !socket.set_connected() {
                return false;
            }
            entry.connected = true;
            st.ever_connected = true;
            if let Some(timer) = st.connect_timer.take() {
                timer.abort();
            }
            // Sent under the lock so nothing is queued for this namespace
            // before its CONNECT; `send` never calls back into us.
            if let Err(SendError::Full) = self.session.send(reply.clone()) {
                overflow = true;
            }
            socket.namespace().add_socket(socket);
            self.server.observers.each(|o| {
                o.packets_out(&self.session, std::slice::from_ref(&reply));
                o.room_joined(socket, &socket.id().as_str().into());
            });
        }
        if overflow {
            self.session.close(CloseReason::ForcedClose);
        }
        true
    }

    /// Connection state recovery: asks the adapter for session `pid` from
    /// `offset`. Restored: a socket with the old id, rooms and data
    /// replaces `fresh` (the socket made for a new session), and the
    /// packets the client missed are queued, before the CONNECT reply (as
    /// Node writes them). The adapter holds what is broadcast to the
    /// socket from then on until [`Adapter::restore_finished`](oxio_adapter::Adapter::restore_finished).
    /// Otherwise (unknown or expired session, offset gone, adapter error)
    /// `fresh` goes on as a new session, silently, as in Node.
    async fn restore(&self, fresh: SocketRef, recover: Recover) -> SocketRef {
        let ns = fresh.namespace().clone();
        let restored = match ns
            .adapter()
            .restore_session(&recover.pid, &recover.offset)
            .await
        {
            Ok(Some(r)) => r,
            Ok(None) => return fresh,
            Err(e) => {
                tracing::debug!(sid = self.session.sid(), error = %e, "session not restored");
                return fresh;
            }
        };
        let oxio_adapter::RestoredSession { session, missed } = restored;
        let sid = session.sid.clone();
        let socket = Socket::create(
            session.sid,
            ns.clone(),
            self.session.clone(),
            self.me.clone(),
            self.version,
            fresh.handshake().clone(),
            self.server.clone(),
            Some(Restored {
                sid: sid.clone(),
                pid: session.pid,
                data: session.data,
            }),
        );
        let swapped = {
            let mut st = self.lock();
            let closing = st.closing;
            match st.nsps.get_mut(ns.name()) {
                Some(e) if !closing && e.socket == fresh => {
                    e.socket = socket.clone();
                    true
                }
                _ => false,
            }
        };
        if !swapped {
            // The connection went away meanwhile.
            ns.adapter().restore_finished(&sid, false);
            ns.adapter().del_all(&sid);
            return fresh;
        }
        tracing::debug!(sid = %sid, missed = missed.len(), "connection state recovered");
        // Already done by the in-memory adapter; other adapters may not.
        ns.adapter().add_all(&sid, &session.rooms);
        for packet in &missed {
            if deliver(&self.session, packet, false, &self.server).is_err() {
                break;
            }
        }
        socket
    }

    pub(crate) fn remove_entry(&self, ns: &str, sid: &Sid) {
        let mut st = self.lock();
        if st.nsps.get(ns).is_some_and(|e| e.socket.id() == sid) {
            st.nsps.remove(ns);
        }
    }

    pub(crate) fn disconnect_all_and_close(&self) {
        let sockets: Vec<SocketRef> = {
            let st = self.lock();
            st.nsps
                .values()
                .filter(|e| e.connected)
                .map(|e| e.socket.clone())
                .collect()
        };
        for socket in sockets {
            socket.disconnect();
        }
        self.session.close(CloseReason::ForcedClose);
    }

    pub(crate) fn close_session(&self, reason: CloseReason) {
        self.session.close(reason);
    }

    pub(crate) fn on_close(&self, reason: CloseReason) {
        let entries = {
            let mut st = self.lock();
            st.closing = true;
            st.reassembler.reset();
            if let Some(timer) = st.connect_timer.take() {
                timer.abort();
            }
            std::mem::take(&mut st.nsps)
        };
        for (_, entry) in entries {
            entry.socket.close_with(reason.into());
        }
    }
}

/// Polls a future, turning a panic into `None`.
struct CatchUnwind<F>(Pin<Box<F>>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Option<F::Output>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.0.as_mut();
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Ready(v)) => Poll::Ready(Some(v)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(_) => Poll::Ready(None),
        }
    }
}

/// The task of one socket: middlewares, CONNECT, the connection handler,
/// then its events in order, then the disconnect handler.
async fn run_socket(
    client: Arc<Client>,
    socket: SocketRef,
    mut rx: mpsc::Receiver<Queued>,
    recover: Option<Recover>,
) {
    let socket = match recover {
        Some(recover) => client.restore(socket, recover).await,
        None => socket,
    };
    let ns = socket.namespace().clone();
    let mut refused = None;
    let skip_middlewares = socket.recovered()
        && client
            .server
            .config
            .connection_state_recovery
            .as_ref()
            .is_some_and(|c| c.skip_middlewares);
    let middlewares = if skip_middlewares {
        Vec::new()
    } else {
        ns.template().middlewares()
    };
    for middleware in middlewares {
        match CatchUnwind(Box::pin(middleware.call(socket.clone()))).await {
            Some(Ok(())) => {}
            Some(Err(e)) => {
                refused = Some(e);
                break;
            }
            None => {
                tracing::error!(sid = %socket.id(), "a connect middleware panicked");
                refused = Some(ConnectError::new("internal error"));
                break;
            }
        }
        if !client.holds(&socket) {
            break;
        }
    }
    let connected = match &refused {
        Some(err) => {
            client.refuse(&socket, err);
            false
        }
        None => client.complete_connect(&socket),
    };
    if socket.recovered() && !ns.adapter().restore_finished(socket.id(), connected) && connected {
        tracing::warn!(sid = %socket.id(), "too many packets held during the recovery: closing");
        client.close_session(CloseReason::ForcedClose);
    }
    ns.end_connect();
    if !connected {
        socket.close_with(DisconnectReason::TransportClose);
        return;
    }
    let handler = ns.template().handler();
    start(call_guarded(|| handler.call(&socket)).flatten()).await;
    // After the handler's synchronous part, so what it set (data, rooms)
    // is seen.
    client
        .server
        .observers
        .each(|o| o.socket_connected(&socket));
    drop(client);
    while let Some(inbound) = rx.recv().await {
        let Inbound {
            event,
            payload,
            ack_id,
        } = *inbound;
        start(socket.dispatch(event, payload, ack_id)).await;
    }
    socket.close_with(DisconnectReason::TransportClose);
    socket
        .server()
        .observers
        .each(|o| o.socket_disconnected(&socket, socket.reason()));
    if let Some(handler) = socket.disconnect_handler() {
        let reason = socket.reason();
        start(call_guarded(|| handler.call(socket.clone(), reason)).flatten()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every connected socket's inbound channel allocates 32 slots up front
    /// (see [`Queued`]): keep a slot one pointer wide, so an idle
    /// connection does not pay 3 KiB for events it never receives.
    #[test]
    fn an_inbound_queue_slot_is_one_pointer() {
        assert_eq!(size_of::<Queued>(), size_of::<usize>());
        // What boxing saves: the event itself is much larger.
        assert!(size_of::<Inbound>() >= 64, "{}", size_of::<Inbound>());
    }
}
