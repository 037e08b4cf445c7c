//! What the driver and the session hand each other: WebSocket frames in
//! and out, and the next thing the driver must do with its transport.

use crate::engineio::Version;
use core::fmt;

/// A WebSocket message as the driver received it (after reassembling
/// fragmented frames). The session borrows it only for the call.
///
/// ```
/// use oxio_codec::client::Frame;
///
/// let ping = Frame::Text("2");
/// let attachment = Frame::Binary(&[1, 2, 3]);
/// assert!(matches!(ping, Frame::Text("2")));
/// assert!(matches!(attachment, Frame::Binary([1, 2, 3])));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Frame<'a> {
    /// A text message: one Engine.IO packet in its text form.
    Text(&'a str),
    /// A binary message: a binary attachment (raw in v4, `0x04` + bytes in v3).
    Binary(&'a [u8]),
}

/// Whether a frame to send is a text or a binary WebSocket message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum FrameKind {
    /// Send as a text message (the bytes are UTF-8).
    Text,
    /// Send as a binary message.
    Binary,
}

/// A frame [`Session::poll_transmit`](super::Session::poll_transmit) wrote
/// to the front of the driver's buffer.
///
/// ```
/// use oxio_codec::client::{FrameKind, Transmit};
///
/// let t = Transmit { kind: FrameKind::Text, len: 1 };
/// let buf = *b"3";
/// assert_eq!(&buf[..t.len], b"3");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Transmit {
    /// Text or binary message.
    pub kind: FrameKind,
    /// Bytes written at the front of the buffer.
    pub len: usize,
}

/// What the driver must do with its transport next, from
/// [`Session::poll_action`](super::Session::poll_action).
///
/// ```
/// use oxio_codec::client::{Action, Config, Session, NO_AUTH};
/// use oxio_codec::Instant;
///
/// let mut s: Session<_> = Session::new(Config::default(), || 0);
/// s.connect("/", NO_AUTH).unwrap();
/// let now = Instant::from_millis(0);
/// match s.poll_action(now) {
///     Some(Action::Connect(target)) => {
///         let mut url = [0u8; 64];
///         let n = target.write_to(&mut url).unwrap();
///         assert_eq!(&url[..n], b"/socket.io/?EIO=4&transport=websocket");
///     }
///     other => panic!("{other:?}"),
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Action {
    /// Open a WebSocket to this path and query on the server, then call
    /// [`Session::transport_opened`](super::Session::transport_opened), or
    /// [`Session::transport_closed`](super::Session::transport_closed) if it
    /// fails.
    Connect(ConnectTarget),
    /// Close the WebSocket, then call
    /// [`Session::transport_closed`](super::Session::transport_closed).
    Close,
}

/// The request line target of a (re)connection: `path?EIO=<v>&transport=websocket[&query]`.
///
/// ```
/// use oxio_codec::client::ConnectTarget;
/// use oxio_codec::engineio::Version;
///
/// let t = ConnectTarget { path: "/socket.io/", version: Version::V3, query: "token=abc" };
/// assert_eq!(t.to_string(), "/socket.io/?EIO=3&transport=websocket&token=abc");
/// assert_eq!(t.len(), 47);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ConnectTarget {
    /// The endpoint path ([`Config::path`](super::Config::path)).
    pub path: &'static str,
    /// The Engine.IO revision asked for in `EIO=`.
    pub version: Version,
    /// Extra query parameters ([`Config::query`](super::Config::query)).
    pub query: &'static str,
}

impl ConnectTarget {
    fn pieces(&self) -> [&'static str; 5] {
        let protocol = match self.version {
            Version::V3 => "?EIO=3&transport=websocket",
            Version::V4 => "?EIO=4&transport=websocket",
        };
        let amp = if self.query.is_empty() { "" } else { "&" };
        [self.path, protocol, amp, self.query, ""]
    }

    /// Length in bytes of the target.
    pub fn len(&self) -> usize {
        self.pieces()
            .iter()
            .fold(0usize, |n, p| n.saturating_add(p.len()))
    }

    /// Always false: the target holds at least the protocol query.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Writes the target into the front of `buf`; `None` if it does not fit.
    pub fn write_to(&self, buf: &mut [u8]) -> Option<usize> {
        let mut len = 0usize;
        for piece in self.pieces() {
            let end = len.checked_add(piece.len())?;
            buf.get_mut(len..end)?.copy_from_slice(piece.as_bytes());
            len = end;
        }
        Some(len)
    }
}

/// Writes the target, as it goes on the HTTP request line.
impl fmt::Display for ConnectTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.pieces().iter().try_for_each(|p| f.write_str(p))
    }
}
