//! Acknowledgements both ways: [`AckSender`] answers a client's event;
//! [`AckFuture`] and [`BroadcastAckFuture`] wait for clients to answer the
//! server's. Pending acks are bounded per socket, time out (default 5 s),
//! and are failed with [`AckError::Disconnected`] when the socket goes.

use super::{AckError, EmitError, Outgoing, Payload, Sid, SocketRef};
use oxio_adapter::{AckCollector, AckEvent, AckResponse, AckSink, BroadcastAcks};
use serde::Serialize;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Weak;
use std::task::{Context, Poll};
use tokio::sync::oneshot;
use tokio::time::Instant;

/// Answers the client's event, if the client asked for an answer. Sending
/// consumes it: one answer per event. Dropping it sends nothing (as in Node).
///
/// ```no_run
/// use oxio_server::socketio::{AckSender, Data, SocketRef};
///
/// fn on_connect(socket: SocketRef) {
///     socket.on("echo", |Data(v): Data<serde_json::Value>, ack: AckSender| {
///         let _ = ack.send(&(v,)); // a tuple is the argument list
///     });
/// }
/// ```
#[derive(Debug)]
pub struct AckSender {
    socket: SocketRef,
    ack_id: Option<u64>,
}

impl AckSender {
    pub(crate) fn new(socket: SocketRef, ack_id: Option<u64>) -> Self {
        AckSender { socket, ack_id }
    }

    /// Whether the client expects an answer.
    pub fn expected(&self) -> bool {
        self.ack_id.is_some()
    }

    /// Sends `args` (tuple rule; byte fields become attachments) as
    /// `3[/nsp,]<id>[...]` or `6...`. Does nothing if no answer was asked for.
    pub fn send<T: Serialize + ?Sized>(self, args: &T) -> Result<(), EmitError> {
        let Some(id) = self.ack_id else {
            return Ok(());
        };
        let packet =
            Outgoing::ack_in(self.socket.namespace().parser(), self.socket.ns(), id, args)?;
        self.socket.send_packet(&packet, false)
    }
}

/// Where a pending server-to-client ack goes when answered.
pub(crate) enum AckSlot {
    One(oneshot::Sender<Payload>),
    Many(AckSink),
}

impl AckSlot {
    fn is_closed(&self) -> bool {
        match self {
            AckSlot::One(tx) => tx.is_closed(),
            AckSlot::Many(tx) => tx.is_closed(),
        }
    }
}

/// One socket's pending acks, bounded.
pub(crate) struct AckRegistry {
    pending: HashMap<u64, AckSlot>,
    max: usize,
}

impl AckRegistry {
    pub(crate) fn new(max: usize) -> Self {
        AckRegistry {
            pending: HashMap::new(),
            max,
        }
    }

    pub(crate) fn insert(&mut self, id: u64, slot: AckSlot) -> Result<(), AckError> {
        if self.pending.len() >= self.max {
            // Waiters that gave up (timed out, dropped) free their slots here.
            self.pending.retain(|_, slot| !slot.is_closed());
            if self.pending.len() >= self.max {
                return Err(AckError::TooManyPending);
            }
        }
        self.pending.insert(id, slot);
        Ok(())
    }

    pub(crate) fn remove(&mut self, id: u64) {
        self.pending.remove(&id);
    }

    pub(crate) fn len(&self) -> usize {
        self.pending.len()
    }

    /// Resolves `id` with the client's answer; unknown ids are ignored.
    pub(crate) fn resolve(&mut self, id: u64, sid: &Sid, payload: Payload) {
        match self.pending.remove(&id) {
            Some(AckSlot::One(tx)) => {
                let _ = tx.send(payload);
            }
            Some(AckSlot::Many(tx)) => {
                let _ = tx.send(AckEvent::Response(AckResponse {
                    sid: sid.clone(),
                    result: Ok(payload),
                }));
            }
            None => tracing::trace!(%sid, id, "ack for an unknown id ignored"),
        }
    }

    /// Fails every pending ack: the socket is gone.
    pub(crate) fn fail_all(&mut self, sid: &Sid) {
        for (_, slot) in self.pending.drain() {
            if let AckSlot::Many(tx) = slot {
                let _ = tx.send(AckEvent::Response(AckResponse {
                    sid: sid.clone(),
                    result: Err(AckError::Disconnected),
                }));
            }
            // `One` senders are dropped: the waiter sees Disconnected.
        }
    }
}

/// The answer to [`Socket::emit_with_ack`](super::Socket::emit_with_ack):
/// resolves to the client's ack arguments, or [`AckError::Timeout`] /
/// [`AckError::Disconnected`]. The timeout runs from the emit, not from
/// the first poll. Dropping the future frees the pending slot.
#[must_use = "an ack future does nothing unless awaited"]
pub struct AckFuture {
    inner: Pin<Box<dyn Future<Output = Result<Payload, AckError>> + Send>>,
}

impl AckFuture {
    pub(crate) fn ready(result: Result<Payload, AckError>) -> Self {
        AckFuture {
            inner: Box::pin(std::future::ready(result)),
        }
    }

    pub(crate) fn waiting(
        rx: oneshot::Receiver<Payload>,
        deadline: Instant,
        socket: Weak<super::socket::Socket>,
        id: u64,
    ) -> Self {
        struct Guard {
            socket: Weak<super::socket::Socket>,
            id: u64,
        }
        impl Drop for Guard {
            fn drop(&mut self) {
                if let Some(s) = self.socket.upgrade() {
                    s.forget_ack(self.id);
                }
            }
        }
        let guard = Guard { socket, id };
        AckFuture {
            inner: Box::pin(async move {
                let guard = guard;
                match tokio::time::timeout_at(deadline, rx).await {
                    Ok(Ok(payload)) => Ok(payload),
                    Ok(Err(_)) => Err(AckError::Disconnected),
                    Err(_) => {
                        if let Some(s) = guard.socket.upgrade() {
                            s.ack_timed_out();
                        }
                        Err(AckError::Timeout)
                    }
                }
            }),
        }
    }
}

impl Future for AckFuture {
    type Output = Result<Payload, AckError>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}

impl std::fmt::Debug for AckFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AckFuture")
    }
}

/// The answers to a broadcast with acks: resolves when every reached client
/// answered (or disconnected) and every node reported, or at the timeout
/// with what arrived.
#[must_use = "a broadcast ack future does nothing unless awaited"]
pub struct BroadcastAckFuture {
    inner: Pin<Box<dyn Future<Output = Result<BroadcastAcks, EmitError>> + Send>>,
}

impl BroadcastAckFuture {
    pub(crate) fn failed(e: EmitError) -> Self {
        BroadcastAckFuture {
            inner: Box::pin(std::future::ready(Err(e))),
        }
    }

    pub(crate) fn collecting(collector: AckCollector, deadline: Instant) -> Self {
        BroadcastAckFuture {
            inner: Box::pin(async move { Ok(collector.collect(deadline).await) }),
        }
    }
}

impl Future for BroadcastAckFuture {
    type Output = Result<BroadcastAcks, EmitError>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}

impl std::fmt::Debug for BroadcastAckFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BroadcastAckFuture")
    }
}
