//! What the session tells the application: packets carrying data (from
//! [`Session::handle_frame`](super::Session::handle_frame), borrowed) and
//! connection events (from [`Session::poll_event`](super::Session::poll_event)).

use crate::socketio::Packet;
use core::fmt;

/// The id of an emit that waits for the server's acknowledgement.
///
/// ```
/// use oxio_codec::client::AckId;
///
/// assert_eq!(AckId(7).to_string(), "7");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AckId(pub u64);

impl fmt::Display for AckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// A server event's request for an acknowledgement: pass it to
/// [`Session::ack`](super::Session::ack) to answer.
///
/// It remembers the namespace and the connection it came from, so an
/// answer after that namespace reconnected (where the server's id means
/// nothing any more) is refused with
/// [`Error::StaleAck`](super::Error::StaleAck) instead of reaching the
/// wrong callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AckRequest {
    pub(crate) id: u64,
    pub(crate) slot: u8,
    pub(crate) generation: u8,
}

impl AckRequest {
    /// The server's ack id.
    pub fn id(&self) -> u64 {
        self.id
    }
}

/// A Socket.IO packet for the application, borrowed from the frame the
/// driver passed in (text packets) or from the session's reassembly buffer
/// (binary packets, with their attachments). Drop it before calling the
/// session again.
#[derive(Debug, Clone, Copy)]
pub enum Incoming<'a> {
    /// The server emitted an event on a namespace this client joined.
    /// Read it with [`Packet::event_name`] and [`Packet::args`]; binary
    /// placeholders resolve to the attachments.
    Event {
        /// The event.
        packet: Packet<'a>,
        /// Present when the server waits for an answer.
        ack: Option<AckRequest>,
    },
    /// The server acknowledged one of this client's emits; the arguments
    /// are [`Packet::args`]. Each id is delivered at most once, and never
    /// after its [`Event::AckTimeout`] or [`Event::AckCancelled`].
    Ack {
        /// The id [`Session::emit`](super::Session::emit) returned.
        id: AckId,
        /// The ack packet.
        packet: Packet<'a>,
    },
    /// [`Incoming::Event`] of a session speaking msgpack
    /// (`Config::msgpack`, feature `client-msgpack`): read it with
    /// [`msgpack::Packet::event_name`](crate::msgpack::Packet::event_name)
    /// and [`msgpack::Packet::args`](crate::msgpack::Packet::args); bytes
    /// are inline. Only sessions with msgpack on (feature
    /// `client-msgpack`) produce it.
    MsgpackEvent {
        /// The event, borrowed from the frame.
        packet: crate::msgpack::Packet<'a>,
        /// Present when the server waits for an answer.
        ack: Option<AckRequest>,
    },
    /// [`Incoming::Ack`] of a session speaking msgpack.
    MsgpackAck {
        /// The id [`Session::emit`](super::Session::emit) returned.
        id: AckId,
        /// The ack packet, borrowed from the frame.
        packet: crate::msgpack::Packet<'a>,
    },
}

/// Why a namespace stopped being connected. The names are the reference
/// client's `disconnect` reasons ([`DisconnectReason::as_str`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The server sent DISCONNECT for the namespace. It is not rejoined
    /// automatically.
    ServerDisconnect,
    /// The application called [`Session::disconnect`](super::Session::disconnect).
    ClientDisconnect,
    /// No frame arrived in pingInterval + pingTimeout (v4), or no pong in
    /// pingTimeout (v3). The session reconnects.
    PingTimeout,
    /// The transport closed or the server sent an Engine.IO `close`. The
    /// session reconnects.
    TransportClose,
    /// The server sent something that is not Engine.IO / Socket.IO (or a
    /// binary packet's attachments never came). The session reconnects.
    ParseError,
}

impl DisconnectReason {
    /// The reference client's name for the reason.
    ///
    /// ```
    /// use oxio_codec::client::DisconnectReason;
    ///
    /// assert_eq!(DisconnectReason::ServerDisconnect.as_str(), "io server disconnect");
    /// assert_eq!(DisconnectReason::PingTimeout.as_str(), "ping timeout");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            DisconnectReason::ServerDisconnect => "io server disconnect",
            DisconnectReason::ClientDisconnect => "io client disconnect",
            DisconnectReason::PingTimeout => "ping timeout",
            DisconnectReason::TransportClose => "transport close",
            DisconnectReason::ParseError => "parse error",
        }
    }
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an emit's acknowledgement will never come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum CancelReason {
    /// The emit had been sent and the connection (or the namespace) went
    /// away before the answer: the reference's "socket has been
    /// disconnected". Emits still buffered keep waiting instead.
    Disconnected,
    /// The emit was evicted from the offline buffer
    /// ([`OfflinePolicy::DropOldest`](super::OfflinePolicy::DropOldest)),
    /// or its namespace was abandoned while it was still buffered.
    Dropped,
}

impl fmt::Display for CancelReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CancelReason::Disconnected => "socket has been disconnected",
            CancelReason::Dropped => "emit dropped before it was sent",
        })
    }
}

/// A change of connection state, from [`Session::poll_event`](super::Session::poll_event).
///
/// Namespace names and texts are borrowed from the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Event<'s> {
    /// The server accepted the namespace (again, after a reconnection).
    /// Buffered emits for it are sent next, in order.
    Connected {
        /// The namespace.
        namespace: &'s str,
        /// The socket id: the server's `sid` (v5); in v3 mode the
        /// Engine.IO sid for `/` and `<nsp>#<sid>` for others, as the v2
        /// client computes it.
        sid: &'s str,
        /// Connection state recovery worked: the server answered with the
        /// same `pid` as before the disconnection (the reference
        /// `socket.recovered`), so this is the same socket (same sid,
        /// rooms) and the events it missed were delivered just before this
        /// event. Always false on a first connection, with a server
        /// without recovery, and in v3 mode.
        recovered: bool,
    },
    /// The server refused the namespace (middleware error, unknown
    /// namespace...). It is abandoned: buffered emits are dropped and
    /// pending acks cancelled; call [`Session::connect`](super::Session::connect)
    /// to try again.
    ConnectError {
        /// The namespace.
        namespace: &'s str,
        /// The server's message, truncated to
        /// [`INFO_CAPACITY`](super::INFO_CAPACITY) bytes.
        message: &'s str,
    },
    /// A connected namespace is no longer connected.
    Disconnected {
        /// The namespace.
        namespace: &'s str,
        /// Why; only [`DisconnectReason::PingTimeout`],
        /// [`DisconnectReason::TransportClose`] and
        /// [`DisconnectReason::ParseError`] are followed by a reconnection.
        reason: DisconnectReason,
    },
    /// An emit's ack did not arrive within its timeout. Its packet was
    /// removed from the buffer if it had not been sent.
    AckTimeout {
        /// The namespace of the emit.
        namespace: &'s str,
        /// The emit's id.
        id: AckId,
    },
    /// An emit's ack will never come.
    AckCancelled {
        /// The namespace of the emit.
        namespace: &'s str,
        /// The emit's id.
        id: AckId,
        /// Why.
        reason: CancelReason,
    },
    /// The heartbeat failed: the server is considered gone and the
    /// transport is being closed (a reconnection follows).
    ServerLost,
    /// A reconnection attempt is scheduled.
    Reconnecting {
        /// 1 for the first attempt after a loss.
        attempt: u32,
        /// Milliseconds until the attempt.
        delay_ms: u32,
    },
    /// [`Config::reconnection_attempts`](super::Config::reconnection_attempts)
    /// ran out (or reconnection is off): every namespace was abandoned,
    /// their buffered emits dropped and their acks cancelled.
    ReconnectFailed,
}
