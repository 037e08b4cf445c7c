//! Extractors: the arguments a handler can ask for.
//!
//! | extractor | connect handler | event handler |
//! |---|---|---|
//! | [`SocketRef`] | the new socket | the socket |
//! | [`Data<T>`] | the auth payload as `T` | the arguments as `T` (tuple rule) |
//! | [`TryData<T>`] | the same, as a `Result` | the same, as a `Result` |
//! | [`Bin`] | — | the binary attachments |
//! | [`AckSender`] | — | answers the client's ack |
//! | [`Event`] | — | the event name |
//! | [`Payload`] | — | raw access to the arguments |
//! | [`HandshakeRef`] | the handshake | the handshake |
//! | [`Extension<T>`] / [`MaybeExtension<T>`] | per-socket data | per-socket data |
//! | [`State<T>`] | server state | server state |
//!
//! `Data<T>` fails (the handler is skipped) when the arguments do not
//! deserialize; `Extension<T>` and `State<T>` fail when nothing of type `T`
//! was stored.

use super::ack::AckSender;
use super::{Handshake, Payload, SocketRef};
use bytes::Bytes;
use core::fmt;
use oxio_codec::socketio::Error as CodecError;
use serde::de::DeserializeOwned;
use std::convert::Infallible;
use std::sync::Arc;

/// What an event handler's extractors read from.
pub struct MessageParts {
    /// The socket.
    pub socket: SocketRef,
    /// The event name.
    pub event: Arc<str>,
    /// The arguments.
    pub payload: Payload,
    /// The client's ack id, taken by the first [`AckSender`] extractor.
    pub ack_id: Option<u64>,
}

/// An argument of a connection handler.
pub trait FromConnectParts: Sized {
    /// Why extraction failed.
    type Error: fmt::Display;
    /// Extracts from the newly connected socket.
    fn from_connect_parts(socket: &SocketRef) -> Result<Self, Self::Error>;
}

/// An argument of an event handler.
pub trait FromMessageParts: Sized {
    /// Why extraction failed.
    type Error: fmt::Display;
    /// Extracts from the received event.
    fn from_message_parts(parts: &mut MessageParts) -> Result<Self, Self::Error>;
}

impl FromConnectParts for SocketRef {
    type Error = Infallible;
    fn from_connect_parts(socket: &SocketRef) -> Result<Self, Infallible> {
        Ok(socket.clone())
    }
}

impl FromMessageParts for SocketRef {
    type Error = Infallible;
    fn from_message_parts(parts: &mut MessageParts) -> Result<Self, Infallible> {
        Ok(parts.socket.clone())
    }
}

/// Typed data: the auth payload in a connect handler, the event arguments
/// in an event handler (a tuple takes the arguments in order, any other
/// type the first one). The handler is skipped if it does not deserialize.
#[derive(Debug, Clone, PartialEq)]
pub struct Data<T>(pub T);

impl<T: DeserializeOwned> FromConnectParts for Data<T> {
    type Error = CodecError;
    fn from_connect_parts(socket: &SocketRef) -> Result<Self, CodecError> {
        socket.handshake().auth().map(Data)
    }
}

impl<T: DeserializeOwned> FromMessageParts for Data<T> {
    type Error = CodecError;
    fn from_message_parts(parts: &mut MessageParts) -> Result<Self, CodecError> {
        parts.payload.args().map(Data)
    }
}

/// Like [`Data`], but the handler always runs and gets the error.
#[derive(Debug, Clone, PartialEq)]
pub struct TryData<T>(pub Result<T, CodecError>);

impl<T: DeserializeOwned> FromConnectParts for TryData<T> {
    type Error = Infallible;
    fn from_connect_parts(socket: &SocketRef) -> Result<Self, Infallible> {
        Ok(TryData(socket.handshake().auth()))
    }
}

impl<T: DeserializeOwned> FromMessageParts for TryData<T> {
    type Error = Infallible;
    fn from_message_parts(parts: &mut MessageParts) -> Result<Self, Infallible> {
        Ok(TryData(parts.payload.args()))
    }
}

/// The event's binary attachments, in placeholder order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bin(pub Vec<Bytes>);

impl FromMessageParts for Bin {
    type Error = Infallible;
    fn from_message_parts(parts: &mut MessageParts) -> Result<Self, Infallible> {
        Ok(Bin(parts.payload.attachments().to_vec()))
    }
}

/// The event name (useful in a fallback handler).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event(pub String);

impl FromMessageParts for Event {
    type Error = Infallible;
    fn from_message_parts(parts: &mut MessageParts) -> Result<Self, Infallible> {
        Ok(Event(parts.event.to_string()))
    }
}

impl FromMessageParts for Payload {
    type Error = Infallible;
    fn from_message_parts(parts: &mut MessageParts) -> Result<Self, Infallible> {
        Ok(parts.payload.clone())
    }
}

impl FromMessageParts for AckSender {
    type Error = Infallible;
    fn from_message_parts(parts: &mut MessageParts) -> Result<Self, Infallible> {
        Ok(AckSender::new(parts.socket.clone(), parts.ack_id.take()))
    }
}

/// The socket's handshake.
#[derive(Debug, Clone)]
pub struct HandshakeRef(pub Arc<Handshake>);

impl std::ops::Deref for HandshakeRef {
    type Target = Handshake;
    fn deref(&self) -> &Handshake {
        &self.0
    }
}

impl FromConnectParts for HandshakeRef {
    type Error = Infallible;
    fn from_connect_parts(socket: &SocketRef) -> Result<Self, Infallible> {
        Ok(HandshakeRef(socket.handshake_arc()))
    }
}

impl FromMessageParts for HandshakeRef {
    type Error = Infallible;
    fn from_message_parts(parts: &mut MessageParts) -> Result<Self, Infallible> {
        Ok(HandshakeRef(parts.socket.handshake_arc()))
    }
}

/// Why [`Extension`] or [`State`] found nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing(pub &'static str);

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no value of type {} stored", self.0)
    }
}

impl std::error::Error for Missing {}

/// A clone of the socket's data of type `T` (stored with
/// `socket.extensions().insert(..)`, typically by a middleware).
#[derive(Debug, Clone, PartialEq)]
pub struct Extension<T>(pub T);

/// Like [`Extension`], `None` when absent.
#[derive(Debug, Clone, PartialEq)]
pub struct MaybeExtension<T>(pub Option<T>);

/// A clone of the server state of type `T` (given to
/// [`SocketIoBuilder::with_state`](super::SocketIoBuilder::with_state)).
#[derive(Debug, Clone, PartialEq)]
pub struct State<T>(pub T);

fn extension<T: Clone + Send + Sync + 'static>(socket: &SocketRef) -> Result<T, Missing> {
    socket
        .extensions()
        .get::<T>()
        .ok_or(Missing(std::any::type_name::<T>()))
}

fn state<T: Clone + Send + Sync + 'static>(socket: &SocketRef) -> Result<T, Missing> {
    socket
        .server_state()
        .get::<T>()
        .ok_or(Missing(std::any::type_name::<T>()))
}

impl<T: Clone + Send + Sync + 'static> FromConnectParts for Extension<T> {
    type Error = Missing;
    fn from_connect_parts(socket: &SocketRef) -> Result<Self, Missing> {
        extension(socket).map(Extension)
    }
}

impl<T: Clone + Send + Sync + 'static> FromMessageParts for Extension<T> {
    type Error = Missing;
    fn from_message_parts(parts: &mut MessageParts) -> Result<Self, Missing> {
        extension(&parts.socket).map(Extension)
    }
}

impl<T: Clone + Send + Sync + 'static> FromConnectParts for MaybeExtension<T> {
    type Error = Infallible;
    fn from_connect_parts(socket: &SocketRef) -> Result<Self, Infallible> {
        Ok(MaybeExtension(extension(socket).ok()))
    }
}

impl<T: Clone + Send + Sync + 'static> FromMessageParts for MaybeExtension<T> {
    type Error = Infallible;
    fn from_message_parts(parts: &mut MessageParts) -> Result<Self, Infallible> {
        Ok(MaybeExtension(extension(&parts.socket).ok()))
    }
}

impl<T: Clone + Send + Sync + 'static> FromConnectParts for State<T> {
    type Error = Missing;
    fn from_connect_parts(socket: &SocketRef) -> Result<Self, Missing> {
        state(socket).map(State)
    }
}

impl<T: Clone + Send + Sync + 'static> FromMessageParts for State<T> {
    type Error = Missing;
    fn from_message_parts(parts: &mut MessageParts) -> Result<Self, Missing> {
        state(&parts.socket).map(State)
    }
}
