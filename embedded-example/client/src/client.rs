//! The async client: one WebSocket, one sans-IO session, fixed buffers.

use crate::connector::Connector;
use crate::error::Error;
use crate::inbox::Inbox;
use crate::url::Endpoint;
use crate::ws::{self, Parsed, HEADER_ROOM};
use edge_ws::FrameType;
use embassy_futures::select::{select, Either};
use embassy_time::{Instant as EInstant, Timer};
use embedded_io_async::{Read, Write};
use oxio_codec::client::{
    AckId, AckRequest, Action, Config, ConnectTarget, DisconnectReason, EmitOptions,
    Event as SEvent, Frame, FrameKind, Incoming, Random, Session, INFO_CAPACITY, MAX_ATTACHMENTS,
    NAMESPACE_CAPACITY,
};
use oxio_codec::socketio::{Decoder, Packet};
use serde::{de::DeserializeOwned, Deserialize, Serialize};

/// The session type a [`Client`] drives: 4 namespaces, 8 pending acks, a
/// 2048-byte send queue and a 1024-byte binary reassembly buffer.
pub type ClientSession<R> = Session<R, 4, 8, 2048, 1024>;

/// Status events kept while an ack is awaited.
const STATUS_CAPACITY: usize = 4;

/// A connection event kept by the client (owned copy of a session event).
#[derive(Debug, Clone)]
enum Status {
    /// The namespace, and whether its session was recovered.
    Connected(heapless::String<NAMESPACE_CAPACITY>, bool),
    ConnectError(
        heapless::String<NAMESPACE_CAPACITY>,
        heapless::String<INFO_CAPACITY>,
    ),
    Disconnected(heapless::String<NAMESPACE_CAPACITY>, DisconnectReason),
    Reconnecting {
        attempt: u32,
        delay_ms: u32,
    },
    ServerLost,
    ReconnectFailed,
}

fn copy<const N: usize>(s: &str) -> heapless::String<N> {
    let mut out = heapless::String::new();
    for c in s.chars() {
        if out.push(c).is_err() {
            break;
        }
    }
    out
}

/// What the application gets from [`Client::next_event`].
///
/// Returned by value and dropped before the next call, so the size of
/// [`Message`] (it holds up to 10 attachment slices) costs stack only briefly.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
#[non_exhaustive]
pub enum Event<'a> {
    /// The server emitted an event.
    Message(Message<'a>),
    /// A namespace is connected (again, after a reconnection).
    Connected {
        /// The namespace.
        namespace: &'a str,
        /// Connection state recovery worked (a server with
        /// `connectionStateRecovery`): same socket id and rooms as before
        /// the disconnection, and the events missed meanwhile were
        /// delivered, once each, as [`Event::Message`]s just before this
        /// event. False on a first connection and when the server started
        /// a new session.
        recovered: bool,
    },
    /// The server refused a namespace (it is abandoned: call
    /// [`Client::connect`] to try again).
    ConnectError {
        /// The namespace.
        namespace: &'a str,
        /// The server's message (truncated to 48 bytes).
        message: &'a str,
    },
    /// A namespace is no longer connected.
    Disconnected {
        /// The namespace.
        namespace: &'a str,
        /// Why; ping timeouts, transport closes and parse errors are
        /// followed by a reconnection.
        reason: DisconnectReason,
    },
    /// A reconnection attempt is scheduled.
    Reconnecting {
        /// 1 for the first attempt after a loss.
        attempt: u32,
        /// Delay before the attempt.
        delay_ms: u32,
    },
    /// The heartbeat failed: the server stopped answering.
    ServerLost,
    /// Reconnection attempts ran out.
    ReconnectFailed,
}

/// A server event, borrowed from the client's buffers until the next call.
#[derive(Debug)]
pub struct Message<'a> {
    body: Body<'a>,
    attachments: AttachmentList<'a>,
    ack: Option<AckRequest>,
    decoder: Decoder,
}

/// A kept event: a text packet, or (feature `msgpack`) a msgpack frame.
#[derive(Debug, Clone, Copy)]
enum Body<'a> {
    Text(&'a str),
    #[cfg(feature = "msgpack")]
    Msgpack(&'a [u8]),
}

impl<'a> Message<'a> {
    fn text(&self) -> Result<&'a str, oxio_codec::socketio::Error> {
        match self.body {
            Body::Text(text) => Ok(text),
            #[cfg(feature = "msgpack")]
            Body::Msgpack(_) => Err(oxio_codec::socketio::Error::UnexpectedBinary),
        }
    }

    /// The Socket.IO packet (decoded again from the kept text; it was
    /// validated on arrival). A msgpack event (feature `msgpack`) has
    /// none: see `Message::msgpack_packet`.
    pub fn packet(&self) -> Result<Packet<'_>, oxio_codec::socketio::Error> {
        let packet = self.decoder.decode(self.text()?)?;
        Ok(if self.attachments.0.is_empty() {
            packet
        } else {
            packet.with_attachments(&self.attachments)
        })
    }

    /// The msgpack packet of an event from a server with the msgpack
    /// parser (decoded again from the kept frame); `None` for a text event.
    #[cfg(feature = "msgpack")]
    pub fn msgpack_packet(
        &self,
    ) -> Option<Result<oxio_codec::msgpack::Packet<'a>, oxio_codec::socketio::Error>> {
        match self.body {
            Body::Msgpack(frame) => {
                Some(oxio_codec::msgpack::Decoder::new(self.decoder.limits).decode(frame))
            }
            Body::Text(_) => None,
        }
    }

    /// The event name when it holds no escapes.
    pub fn name(&self) -> Option<&'a str> {
        #[cfg(feature = "msgpack")]
        if let Some(p) = self.msgpack_packet() {
            return p.ok()?.event_name();
        }
        self.decoder
            .decode(self.text().ok()?)
            .ok()?
            .event_name()?
            .as_str()
    }

    /// Whether the event is called `name`.
    pub fn is(&self, name: &str) -> bool {
        #[cfg(feature = "msgpack")]
        if let Some(p) = self.msgpack_packet() {
            return p.ok().and_then(|p| p.event_name()) == Some(name);
        }
        self.text()
            .ok()
            .and_then(|t| self.decoder.decode(t).ok())
            .and_then(|p| p.event_name())
            .is_some_and(|n| n.eq_str(name))
    }

    /// The namespace the event came on.
    pub fn namespace(&self) -> &'a str {
        #[cfg(feature = "msgpack")]
        if let Some(p) = self.msgpack_packet() {
            return p.map_or("/", |p| p.namespace());
        }
        self.text()
            .ok()
            .and_then(|t| self.decoder.decode(t).ok())
            .map_or("/", |p| p.namespace())
    }

    /// The arguments after the event name (a tuple takes them in order,
    /// another type takes the first one; binary placeholders resolve to
    /// the attachments, msgpack bytes are inline).
    pub fn args<'s, T: Deserialize<'s>>(&'s self) -> Result<T, oxio_codec::socketio::Error> {
        #[cfg(feature = "msgpack")]
        if let Some(p) = self.msgpack_packet() {
            return p?.args();
        }
        self.packet()?.args()
    }

    /// Present when the server waits for an answer: give it to [`Client::ack`].
    pub fn ack_request(&self) -> Option<AckRequest> {
        self.ack
    }
}

/// The attachments of a binary event, for the codec's deserializer.
#[derive(Debug, Default)]
struct AttachmentList<'a>(heapless::Vec<&'a [u8], MAX_ATTACHMENTS>);

impl oxio_codec::json::de::Attachments for AttachmentList<'_> {
    fn count(&self) -> usize {
        self.0.len()
    }
    fn get(&self, index: usize) -> Option<&[u8]> {
        <[&[u8]]>::get(self.0.as_slice(), index).copied()
    }
}

/// What was handed out last, released at the start of the next call.
#[derive(Debug, Clone, Copy)]
enum Delivered {
    Nothing,
    Rx(usize),
    Inbox,
}

/// An ack from the server, for the callback of [`Client::step`].
#[derive(Clone, Copy)]
enum AckPacket<'p> {
    Text(Packet<'p>),
    #[cfg(feature = "msgpack")]
    Msgpack(oxio_codec::msgpack::Packet<'p>),
}

impl<'p> AckPacket<'p> {
    fn args<T: Deserialize<'p>>(&self) -> Result<T, oxio_codec::socketio::Error> {
        match self {
            AckPacket::Text(p) => p.args(),
            #[cfg(feature = "msgpack")]
            AckPacket::Msgpack(p) => p.args(),
        }
    }
}

/// What one turn of the loop led to.
enum Step {
    /// Something happened; go on.
    Progress,
    /// `until` was reached.
    Deadline,
    /// No connection, no timer: nothing will ever happen.
    Idle,
    /// A text event is ready in the receive buffer.
    TextEvent {
        start: usize,
        end: usize,
        ack: Option<AckRequest>,
        release: usize,
        /// A msgpack frame, not a text packet.
        binary: bool,
    },
}

/// An async Socket.IO client over one WebSocket (`transport=websocket`),
/// with every buffer inline (no allocator): put it in a `StaticCell` on a
/// microcontroller.
///
/// - `RX` (default 4096): the receive buffer; the largest frame accepted
///   from the server is `RX` minus its header (2 to 14 bytes).
/// - `TX` (default 2048): the send buffer; the largest frame sent is
///   `TX - 8` bytes (also bounded by the 2048-byte session queue).
/// - `INBOX` (default 512): bytes for events that arrive while
///   [`Client::emit_with_ack`] waits, and for binary events.
///
/// Calls: [`Client::connect`] a namespace, then call [`Client::next_event`]
/// (or [`Client::next_event_until`]) in a loop: it drives everything
/// (connection, reconnection with backoff, heartbeat, timers) and returns
/// events. [`Client::emit`] and [`Client::ack`] send at once when connected
/// and buffer otherwise; [`Client::emit_with_ack`] waits for the answer.
///
/// Every call may be cancelled (for example by a `select`): a cancelled
/// connection attempt or write is detected at the next call, and the
/// connection is closed and opened again.
///
/// ```no_run
/// # async fn demo() -> Result<(), oxio_client::Error> {
/// use oxio_client::{Client, Event, TokioConnector};
/// use oxio_codec::client::Config;
///
/// let mut client: Client<'_, _, _> =
///     Client::new(&TokioConnector, "http://127.0.0.1:3000", Config::default(), || 4)?;
/// client.connect("/", Some(&serde_json::json!({"device": "dev1"})))?;
/// client.emit("sensor", &(21.5,)).await?;
/// let answer: (bool,) = client.emit_with_ack("ping", &()).await?;
/// loop {
///     // Take what you need out of the event, then answer (the event
///     // borrows the client's buffers until then).
///     let request = match client.next_event().await? {
///         Event::Message(m) if m.is("led") => m.ack_request(),
///         _ => None,
///     };
///     if let Some(request) = request {
///         client.ack(request, &(true,)).await?;
///     }
/// }
/// # }
/// ```
pub struct Client<
    'c,
    C: Connector + 'c,
    R: Random,
    const RX: usize = 4096,
    const TX: usize = 2048,
    const INBOX: usize = 512,
> {
    connector: &'c C,
    endpoint: Endpoint<'c>,
    session: ClientSession<R>,
    conn: Option<C::Connection<'c>>,
    rx: [u8; RX],
    rx_start: usize,
    rx_end: usize,
    tx: [u8; TX],
    inbox: Inbox<INBOX>,
    statuses: heapless::Deque<Status, STATUS_CAPACITY>,
    current: Option<Status>,
    delivered: Delivered,
    rng: u32,
    busy: bool,
    ack_timeout_ms: u64,
    dropped: u32,
    last_error: Option<Error>,
}

/// A kept event's body: a msgpack frame when `binary` (feature
/// `msgpack`), else a text packet.
fn body_of(bytes: &[u8], binary: bool) -> Body<'_> {
    #[cfg(feature = "msgpack")]
    if binary {
        return Body::Msgpack(bytes);
    }
    let _ = binary;
    Body::Text(core::str::from_utf8(bytes).unwrap_or(""))
}

fn now() -> oxio_codec::Instant {
    oxio_codec::Instant::from_millis(EInstant::now().as_millis())
}

/// The session's deadlines saturate at `u64::MAX` ms (a server may announce
/// an absurd pingInterval); `EInstant::from_millis` multiplies by the tick
/// rate and would overflow, so anything beyond ~584 years (at 1 MHz) is
/// `EInstant::MAX`: the far future stays the far future.
fn to_embassy(i: oxio_codec::Instant) -> EInstant {
    const FAR_MS: u64 = u64::MAX / embassy_time::TICK_HZ;
    let ms = i.as_millis();
    if ms >= FAR_MS {
        EInstant::MAX
    } else {
        EInstant::from_millis(ms)
    }
}

fn xorshift(state: &mut u32) -> u32 {
    let mut x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    x
}

fn io_kind<E: embedded_io_async::Error>(e: E) -> Error {
    Error::Io(e.kind())
}

impl<'c, C: Connector + 'c, R: Random, const RX: usize, const TX: usize, const INBOX: usize>
    Client<'c, C, R, RX, TX, INBOX>
{
    /// A client for the server at `url`: `http://` or `ws://`, or with a
    /// TLS connector (feature `tls`, `TlsConnector`)
    /// `https://` or `wss://`; other combinations are refused with
    /// [`UrlError::Scheme`](crate::UrlError::Scheme). Nothing happens
    /// until [`Client::connect`]. `config.max_frame_len` is lowered to what
    /// the send buffer holds.
    ///
    /// ```
    /// use oxio_client::{Client, Error, TokioConnector, UrlError};
    /// use oxio_codec::client::Config;
    ///
    /// let c: Result<Client<'_, _, _>, _> = Client::new(&TokioConnector, "ws://10.0.0.2:3000", Config::default(), || 1);
    /// assert!(c.is_ok());
    /// let c: Result<Client<'_, _, _>, _> = Client::new(&TokioConnector, "gopher://x", Config::default(), || 1);
    /// assert_eq!(c.err(), Some(Error::Url(UrlError::Scheme)));
    /// ```
    pub fn new(
        connector: &'c C,
        url: &'c str,
        mut config: Config,
        mut random: R,
    ) -> Result<Self, Error> {
        let endpoint = Endpoint::parse(url).map_err(Error::Url)?;
        if endpoint.secure != C::TLS {
            return Err(Error::Url(crate::url::UrlError::Scheme));
        }
        config.max_frame_len = config.max_frame_len.min(TX.saturating_sub(HEADER_ROOM));
        let seed = random.next_u32() | 1;
        Ok(Client {
            connector,
            endpoint,
            session: Session::new(config, random),
            conn: None,
            rx: [0; RX],
            rx_start: 0,
            rx_end: 0,
            tx: [0; TX],
            inbox: Inbox::new(),
            statuses: heapless::Deque::new(),
            current: None,
            delivered: Delivered::Nothing,
            rng: seed,
            busy: false,
            ack_timeout_ms: 10_000,
            dropped: 0,
            last_error: None,
        })
    }

    /// The sans-IO session (state queries: `is_connected`, `sid`, `queued_bytes`...).
    pub fn session(&self) -> &ClientSession<R> {
        &self.session
    }

    /// Whether `namespace` is connected.
    pub fn is_connected(&self, namespace: &str) -> bool {
        self.session.is_connected(namespace)
    }

    /// Why the last connection attempt failed or the last connection
    /// ended; also the last frame the session refused.
    pub fn last_error(&self) -> Option<&Error> {
        self.last_error.as_ref()
    }

    /// Events dropped because the inbox or the status ring was full.
    pub fn dropped_events(&self) -> u32 {
        self.dropped
    }

    /// The timeout of [`Client::emit_with_ack`] (default 10 s).
    pub fn set_ack_timeout_ms(&mut self, ms: u64) {
        self.ack_timeout_ms = ms;
    }

    /// Joins `namespace` with `auth` (a JSON object; [`NO_AUTH`](oxio_codec::client::NO_AUTH)
    /// for none). The connection is opened by the next call that waits
    /// ([`Client::next_event`], [`Client::emit_with_ack`]); the outcome
    /// comes as [`Event::Connected`] or [`Event::ConnectError`]. After a
    /// reconnection the namespace is joined again with the same auth.
    pub fn connect<A: Serialize + ?Sized>(
        &mut self,
        namespace: &str,
        auth: Option<&A>,
    ) -> Result<(), Error> {
        self.session
            .connect(namespace, auth)
            .map_err(Error::Session)
    }

    /// Leaves `namespace` (sends DISCONNECT); the connection is closed
    /// when no namespace is left.
    pub async fn disconnect(&mut self, namespace: &str) -> Result<(), Error> {
        self.recover();
        self.session.disconnect(namespace)?;
        self.flush().await;
        self.actions().await;
        Ok(())
    }

    /// Emits `event` on `/` (see [`Client::emit_to`]).
    pub async fn emit<T: Serialize + ?Sized>(
        &mut self,
        event: &str,
        args: &T,
    ) -> Result<(), Error> {
        self.emit_to("/", event, args).await
    }

    /// Emits `event` with `args` (a tuple is the argument list) on
    /// `namespace`. Sent at once when connected; buffered (in order,
    /// delivered once) while the namespace is not connected.
    pub async fn emit_to<T: Serialize + ?Sized>(
        &mut self,
        namespace: &str,
        event: &str,
        args: &T,
    ) -> Result<(), Error> {
        self.recover();
        self.session
            .emit(namespace, event, args, EmitOptions::default(), now())?;
        self.flush().await;
        Ok(())
    }

    /// Emits `event` on `/` and waits for the server's acknowledgement,
    /// deserialized as `T` (tuple rule as for arguments; `()` ignores them).
    pub async fn emit_with_ack<A: Serialize + ?Sized, T: DeserializeOwned>(
        &mut self,
        event: &str,
        args: &A,
    ) -> Result<T, Error> {
        let timeout = self.ack_timeout_ms;
        self.emit_with_ack_to("/", event, args, timeout).await
    }

    /// Emits `event` on `namespace` and waits at most `timeout_ms` for the
    /// acknowledgement. Meanwhile the connection is served as usual;
    /// events that arrive are kept in the inbox for [`Client::next_event`].
    pub async fn emit_with_ack_to<A: Serialize + ?Sized, T: DeserializeOwned>(
        &mut self,
        namespace: &str,
        event: &str,
        args: &A,
        timeout_ms: u64,
    ) -> Result<T, Error> {
        self.recover();
        let id = self
            .session
            .emit(
                namespace,
                event,
                args,
                EmitOptions::with_ack(timeout_ms),
                now(),
            )?
            .ok_or(Error::Dropped)?;
        let mut result: Option<Result<T, Error>> = None;
        loop {
            let step = self
                .step(None, Some(id), &mut |got, packet| {
                    if got == id {
                        result = Some(packet.args::<T>().map_err(Error::Decode));
                    }
                })
                .await;
            if let Some(r) = result.take() {
                return r;
            }
            match step? {
                Step::Idle => return Err(Error::Idle),
                Step::Progress | Step::Deadline | Step::TextEvent { .. } => {}
            }
        }
    }

    /// Answers a server event's acknowledgement request with `args`.
    pub async fn ack<T: Serialize + ?Sized>(
        &mut self,
        request: AckRequest,
        args: &T,
    ) -> Result<(), Error> {
        self.recover();
        self.session.ack(request, args)?;
        self.flush().await;
        Ok(())
    }

    /// Waits for the next event, driving the connection meanwhile.
    /// [`Error::Idle`] when nothing can happen any more.
    pub async fn next_event(&mut self) -> Result<Event<'_>, Error> {
        match self.next_event_until(None).await? {
            Some(e) => Ok(e),
            None => Err(Error::Idle),
        }
    }

    /// [`Client::next_event`], giving up at `until` with `Ok(None)`, so a
    /// firmware loop can do periodic work without cancelling anything.
    pub async fn next_event_until(
        &mut self,
        until: Option<EInstant>,
    ) -> Result<Option<Event<'_>>, Error> {
        self.recover();
        loop {
            if !self.inbox.is_empty() {
                if self.inbox.front().is_none() {
                    self.inbox.clear();
                    continue;
                }
                self.delivered = Delivered::Inbox;
                return Ok(self.inbox_message().map(Event::Message));
            }
            if let Some(status) = self.statuses.pop_front() {
                self.current = Some(status);
                return Ok(self.current_event());
            }
            match self.step(until, None, &mut |_, _| {}).await? {
                Step::Progress => {}
                Step::Deadline => return Ok(None),
                Step::Idle => return Err(Error::Idle),
                Step::TextEvent {
                    start,
                    end,
                    ack,
                    release,
                    binary,
                } => {
                    self.delivered = Delivered::Rx(release);
                    let bytes = self.rx.get(start..end).unwrap_or_default();
                    let body = body_of(bytes, binary);
                    return Ok(Some(Event::Message(Message {
                        body,
                        attachments: AttachmentList::default(),
                        ack,
                        decoder: self.decoder(),
                    })));
                }
            }
        }
    }

    /// Leaves every namespace and closes the connection.
    pub async fn close(&mut self) {
        self.recover();
        let mut names: heapless::Vec<heapless::String<NAMESPACE_CAPACITY>, 4> =
            heapless::Vec::new();
        for ns in ["/"] {
            if self.session.is_connected(ns) {
                let _ = names.push(copy(ns));
            }
        }
        for ns in &names {
            let _ = self.session.disconnect(ns);
        }
        self.flush().await;
        self.actions().await;
        self.close_transport().await;
    }

    fn decoder(&self) -> Decoder {
        let config = self.session.config();
        Decoder::new(config.socketio_version(), config.limits)
    }

    fn inbox_message(&self) -> Option<Message<'_>> {
        let (bytes, attachments, ack) = self.inbox.front()?;
        Some(Message {
            body: body_of(bytes, self.session.config().uses_msgpack()),
            attachments: AttachmentList(attachments),
            ack,
            decoder: self.decoder(),
        })
    }

    fn current_event(&self) -> Option<Event<'_>> {
        Some(match self.current.as_ref()? {
            Status::Connected(ns, recovered) => Event::Connected {
                namespace: ns,
                recovered: *recovered,
            },
            Status::ConnectError(ns, m) => Event::ConnectError {
                namespace: ns,
                message: m,
            },
            Status::Disconnected(ns, reason) => Event::Disconnected {
                namespace: ns,
                reason: *reason,
            },
            Status::Reconnecting { attempt, delay_ms } => Event::Reconnecting {
                attempt: *attempt,
                delay_ms: *delay_ms,
            },
            Status::ServerLost => Event::ServerLost,
            Status::ReconnectFailed => Event::ReconnectFailed,
        })
    }

    /// Frees what the previous call handed out.
    fn release(&mut self) {
        match self.delivered {
            Delivered::Nothing => {}
            Delivered::Rx(end) => self.rx_start = end.min(self.rx_end),
            Delivered::Inbox => self.inbox.pop(),
        }
        self.delivered = Delivered::Nothing;
        self.current = None;
    }

    /// A previous call was cancelled in the middle of a connection attempt
    /// or a write: the stream cannot be trusted, start again.
    fn recover(&mut self) {
        self.release();
        if self.busy {
            self.busy = false;
            self.lose(Error::Closed);
        }
    }

    /// The transport is gone (or must go): drop it and tell the session.
    fn lose(&mut self, error: Error) {
        self.conn = None;
        self.rx_start = 0;
        self.rx_end = 0;
        self.delivered = Delivered::Nothing;
        self.last_error = Some(error);
        self.session.transport_closed(now());
    }

    async fn close_transport(&mut self) {
        if let Some(conn) = self.conn.as_mut() {
            // A masked close frame without payload, best effort.
            let mask = xorshift(&mut self.rng).to_be_bytes();
            let frame = [0x88, 0x80, mask[0], mask[1], mask[2], mask[3]];
            // Bounded: a server that stopped reading must not hold us here.
            self.busy = true;
            let _ = embassy_time::with_timeout(CLOSE_WRITE_TIMEOUT, async {
                conn.write_all(&frame).await?;
                conn.flush().await
            })
            .await;
            self.busy = false;
        }
        self.conn = None;
        self.rx_start = 0;
        self.rx_end = 0;
        self.delivered = Delivered::Nothing;
        self.session.transport_closed(now());
    }

    /// Does what the session asks of the transport.
    async fn actions(&mut self) {
        while let Some(action) = self.session.poll_action(now()) {
            match action {
                Action::Connect(target) => self.open(target).await,
                Action::Close => self.close_transport().await,
            }
        }
    }

    async fn open(&mut self, target: ConnectTarget) {
        self.conn = None;
        self.rx_start = 0;
        self.rx_end = 0;
        let mut nonce = [0u8; 16];
        for chunk in nonce.chunks_mut(4) {
            let r = xorshift(&mut self.rng).to_le_bytes();
            chunk.copy_from_slice(r.get(..chunk.len()).unwrap_or(&[]));
        }
        let deadline = self.session.poll_timeout().map(to_embassy);
        self.busy = true;
        let fut = open_ws::<C, RX>(
            self.connector,
            self.endpoint,
            &target,
            &nonce,
            &mut self.rx,
            &mut self.tx,
        );
        let result = match deadline {
            Some(d) => embassy_time::with_deadline(d, fut)
                .await
                .unwrap_or(Err(Error::ConnectTimeout)),
            None => fut.await,
        };
        self.busy = false;
        match result {
            Ok((conn, start, end)) => {
                self.conn = Some(conn);
                self.rx_start = start;
                self.rx_end = end;
                self.session.transport_opened(now());
            }
            Err(e) => self.lose(e),
        }
    }

    /// Sends every frame the session has.
    async fn flush(&mut self) {
        loop {
            let Some(conn) = self.conn.as_mut() else {
                return;
            };
            let Some(payload) = self.tx.get_mut(HEADER_ROOM..) else {
                return;
            };
            let Some(t) = self.session.poll_transmit(payload, now()) else {
                return;
            };
            let ft = match t.kind {
                FrameKind::Text => FrameType::Text(false),
                FrameKind::Binary => FrameType::Binary(false),
            };
            let mask = xorshift(&mut self.rng);
            let Some(start) = ws::frame_in_place(&mut self.tx, HEADER_ROOM, t.len, ft, mask) else {
                return;
            };
            let end = HEADER_ROOM.saturating_add(t.len);
            let Some(bytes) = self.tx.get(start..end) else {
                return;
            };
            self.busy = true;
            let r = write_timed(conn, &mut self.session, bytes).await;
            self.busy = false;
            if let Err(e) = r {
                self.lose(e);
                return;
            }
        }
    }

    /// Moves session events into the status ring; resolves the awaited ack.
    fn collect(&mut self, waiting: Option<AckId>) -> Result<(), Error> {
        let mut outcome = Ok(());
        while let Some(event) = self.session.poll_event() {
            let status = match event {
                SEvent::Connected {
                    namespace,
                    recovered,
                    ..
                } => Status::Connected(copy(namespace), recovered),
                SEvent::ConnectError { namespace, message } => {
                    Status::ConnectError(copy(namespace), copy(message))
                }
                SEvent::Disconnected { namespace, reason } => {
                    Status::Disconnected(copy(namespace), reason)
                }
                SEvent::Reconnecting { attempt, delay_ms } => {
                    Status::Reconnecting { attempt, delay_ms }
                }
                SEvent::ServerLost => Status::ServerLost,
                SEvent::ReconnectFailed => Status::ReconnectFailed,
                SEvent::AckTimeout { id, .. } => {
                    if Some(id) == waiting {
                        outcome = Err(Error::AckTimeout);
                    }
                    continue;
                }
                SEvent::AckCancelled { id, reason, .. } => {
                    if Some(id) == waiting {
                        outcome = Err(Error::AckCancelled(reason));
                    }
                    continue;
                }
                // Events a newer codec adds (`Event` is non_exhaustive)
                // are not reported until this client knows them.
                _ => continue,
            };
            if self.statuses.is_full() {
                self.statuses.pop_front();
                self.dropped = self.dropped.saturating_add(1);
            }
            let _ = self.statuses.push_back(status);
        }
        outcome
    }

    /// One turn: transport actions, sends, events, one frame or one wait.
    async fn step(
        &mut self,
        until: Option<EInstant>,
        waiting: Option<AckId>,
        on_ack: &mut dyn FnMut(AckId, AckPacket<'_>),
    ) -> Result<Step, Error> {
        self.actions().await;
        self.flush().await;
        self.collect(waiting)?;
        if let Some(step) = self.frame(waiting.is_some(), on_ack).await {
            self.collect(waiting)?;
            return Ok(step);
        }
        let wake = self.session.poll_timeout().map(to_embassy);
        let deadline = match (wake, until) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if until.is_some_and(|u| EInstant::now() >= u) {
            return Ok(Step::Deadline);
        }
        if self.conn.is_none() && deadline.is_none() {
            return Ok(Step::Idle);
        }
        // Make room: unread bytes go to the front.
        if self.rx_start > 0 {
            self.rx.copy_within(self.rx_start..self.rx_end, 0);
            self.rx_end = self.rx_end.saturating_sub(self.rx_start);
            self.rx_start = 0;
        }
        let timer = async {
            match deadline {
                Some(d) => Timer::at(d).await,
                None => core::future::pending().await,
            }
        };
        let read = match self.conn.as_mut() {
            Some(conn) => {
                let space = self.rx.get_mut(self.rx_end..).unwrap_or(&mut []);
                match select(conn.read(space), timer).await {
                    Either::First(r) => Some(r),
                    Either::Second(()) => None,
                }
            }
            None => {
                timer.await;
                None
            }
        };
        match read {
            Some(Ok(0)) => self.lose(Error::Closed),
            Some(Ok(n)) => self.rx_end = self.rx_end.saturating_add(n).min(RX),
            Some(Err(e)) => self.lose(io_kind(e)),
            None => {
                self.session.handle_timeout(now());
                if until.is_some_and(|u| EInstant::now() >= u) {
                    self.collect(waiting)?;
                    return Ok(Step::Deadline);
                }
            }
        }
        self.collect(waiting)?;
        Ok(Step::Progress)
    }

    /// Handles the first complete frame in the receive buffer, if any.
    async fn frame(
        &mut self,
        stash: bool,
        on_ack: &mut dyn FnMut(AckId, AckPacket<'_>),
    ) -> Option<Step> {
        self.conn.as_ref()?;
        let buffered = self.rx.get(self.rx_start..self.rx_end)?;
        let header = match ws::parse(buffered) {
            Parsed::Incomplete => return None,
            Parsed::Invalid => {
                self.lose(Error::WebSocket);
                return Some(Step::Progress);
            }
            Parsed::TooLarge(len) => {
                self.lose(Error::FrameTooLarge { len, capacity: RX });
                return Some(Step::Progress);
            }
            Parsed::Header(h) => h,
        };
        let total = header.payload_at.checked_add(header.len);
        let Some(total) = total.filter(|t| *t <= RX) else {
            self.lose(Error::FrameTooLarge {
                len: header.len as u64,
                capacity: RX,
            });
            return Some(Step::Progress);
        };
        if buffered.len() < total {
            return None;
        }
        let ps = self.rx_start.saturating_add(header.payload_at);
        let pe = self.rx_start.saturating_add(total);
        let payload = self.rx.get_mut(ps..pe)?;
        ws::unmask(payload, header.mask);
        let payload: &[u8] = payload;
        match header.frame_type {
            FrameType::Text(false) => {
                let Ok(text) = core::str::from_utf8(payload) else {
                    self.lose(Error::NotUtf8);
                    return Some(Step::Progress);
                };
                let result = self.session.handle_frame(Frame::Text(text), now());
                match result {
                    Ok(Some(Incoming::Event { packet, ack })) => {
                        if stash {
                            if !self.inbox.push(&packet, ack) {
                                self.dropped = self.dropped.saturating_add(1);
                                self.last_error = Some(Error::InboxFull);
                            }
                        } else {
                            return Some(Step::TextEvent {
                                start: ps.saturating_add(1),
                                end: pe,
                                ack,
                                release: pe,
                                binary: false,
                            });
                        }
                    }
                    Ok(Some(Incoming::Ack { id, packet })) => on_ack(id, AckPacket::Text(packet)),
                    // Only sessions speaking msgpack give these, on binary frames.
                    Ok(Some(Incoming::MsgpackEvent { .. } | Incoming::MsgpackAck { .. })) => {}
                    Ok(None) => {}
                    Err(e) => self.last_error = Some(Error::Protocol(e)),
                }
            }
            FrameType::Binary(false) => {
                let result = self.session.handle_frame(Frame::Binary(payload), now());
                match result {
                    Ok(Some(Incoming::Event { packet, ack })) => {
                        if !self.inbox.push(&packet, ack) {
                            self.dropped = self.dropped.saturating_add(1);
                            self.last_error = Some(Error::InboxFull);
                        }
                    }
                    Ok(Some(Incoming::Ack { id, packet })) => on_ack(id, AckPacket::Text(packet)),
                    #[cfg(feature = "msgpack")]
                    Ok(Some(Incoming::MsgpackEvent { ack, .. })) => {
                        if stash {
                            if !self.inbox.push_frame(payload, ack) {
                                self.dropped = self.dropped.saturating_add(1);
                                self.last_error = Some(Error::InboxFull);
                            }
                        } else {
                            return Some(Step::TextEvent {
                                start: ps,
                                end: pe,
                                ack,
                                release: pe,
                                binary: true,
                            });
                        }
                    }
                    #[cfg(feature = "msgpack")]
                    Ok(Some(Incoming::MsgpackAck { id, packet })) => {
                        on_ack(id, AckPacket::Msgpack(packet))
                    }
                    // Without the feature the session never speaks msgpack.
                    #[cfg(not(feature = "msgpack"))]
                    Ok(Some(Incoming::MsgpackEvent { .. } | Incoming::MsgpackAck { .. })) => {}
                    Ok(None) => {}
                    Err(e) => self.last_error = Some(Error::Protocol(e)),
                }
            }
            FrameType::Ping => {
                let mut pong = [0u8; 6 + 125];
                let len = payload.len();
                let Some(dst) = pong
                    .get_mut(6..6usize.saturating_add(len))
                    .filter(|_| len <= 125)
                else {
                    self.lose(Error::WebSocket);
                    return Some(Step::Progress);
                };
                dst.copy_from_slice(payload);
                let mask = xorshift(&mut self.rng);
                if let (Some(start), Some(conn)) = (
                    ws::frame_in_place(&mut pong, 6, len, FrameType::Pong, mask),
                    self.conn.as_mut(),
                ) {
                    self.busy = true;
                    let bytes = pong.get(start..6 + len).unwrap_or(&[]);
                    let r = write_timed(conn, &mut self.session, bytes).await;
                    self.busy = false;
                    if let Err(e) = r {
                        self.lose(e);
                        return Some(Step::Progress);
                    }
                }
            }
            FrameType::Pong => {}
            FrameType::Close => {
                self.lose(Error::Closed);
                return Some(Step::Progress);
            }
            FrameType::Text(true) | FrameType::Binary(true) | FrameType::Continue(_) => {
                self.lose(Error::WebSocket);
                return Some(Step::Progress);
            }
        }
        self.rx_start = pe;
        Some(Step::Progress)
    }
}

/// How long the best-effort close frame may take to go out.
const CLOSE_WRITE_TIMEOUT: embassy_time::Duration = embassy_time::Duration::from_secs(1);

/// Writes (and flushes) `bytes` whole while the session's timers keep
/// running: a server that stops reading fills the TCP buffers and a write
/// never completes, so each due timer is handled meanwhile, and once the
/// session has given the connection up (heartbeat lost) the write is
/// abandoned with `Io(TimedOut)`: the caller drops the connection.
async fn write_timed<W: Write, R: Random>(
    conn: &mut W,
    session: &mut ClientSession<R>,
    bytes: &[u8],
) -> Result<(), Error> {
    let mut rest = bytes;
    let mut flushed = false;
    while !flushed {
        let deadline = session.poll_timeout().map(to_embassy);
        let timer = async {
            match deadline {
                Some(d) => Timer::at(d).await,
                None => core::future::pending().await,
            }
        };
        let io = async {
            if rest.is_empty() {
                conn.flush().await.map(|()| None)
            } else {
                conn.write(rest).await.map(Some)
            }
        };
        match select(io, timer).await {
            Either::First(Ok(None)) => flushed = true,
            Either::First(Ok(Some(0))) => {
                return Err(Error::Io(embedded_io_async::ErrorKind::WriteZero))
            }
            Either::First(Ok(Some(n))) => rest = rest.get(n..).unwrap_or(&[]),
            Either::First(Err(e)) => return Err(io_kind(e)),
            Either::Second(()) => {
                session.handle_timeout(now());
                if !session.is_open() {
                    return Err(Error::Io(embedded_io_async::ErrorKind::TimedOut));
                }
            }
        }
    }
    Ok(())
}

/// Connects, sends the upgrade request and checks the answer. Returns the
/// connection and the unread bytes' range in `rx` (the server's first
/// frames may follow the head in the same read).
async fn open_ws<'c, C: Connector + 'c, const RX: usize>(
    connector: &'c C,
    endpoint: Endpoint<'c>,
    target: &ConnectTarget,
    nonce: &[u8; 16],
    rx: &mut [u8; RX],
    tx: &mut [u8],
) -> Result<(C::Connection<'c>, usize, usize), Error> {
    let mut conn = connector
        .connect(endpoint.host, endpoint.port)
        .await
        .map_err(|e| C::connect_error(&e))?;
    let key = ws::key(nonce);
    let n = ws::write_request(tx, endpoint.host, endpoint.port, target, &key)
        .map_err(Error::Handshake)?;
    conn.write_all(tx.get(..n).unwrap_or(&[]))
        .await
        .map_err(io_kind)?;
    conn.flush().await.map_err(io_kind)?;
    let mut filled = 0usize;
    loop {
        let space = rx.get_mut(filled..).unwrap_or(&mut []);
        if space.is_empty() {
            return Err(Error::Handshake(crate::ws::HandshakeError::HeaderTooLong));
        }
        let got = conn.read(space).await.map_err(io_kind)?;
        if got == 0 {
            return Err(Error::Handshake(crate::ws::HandshakeError::Closed));
        }
        // Search only where the blank line can newly appear.
        let from = filled.saturating_sub(3);
        filled = filled.saturating_add(got).min(RX);
        if let Some(pos) = rx.get(from..filled).and_then(ws::head_len) {
            let head = from.saturating_add(pos);
            ws::check_response(rx.get(..head).unwrap_or(&[]), &key).map_err(Error::Handshake)?;
            return Ok((conn, head, filled));
        }
    }
}
