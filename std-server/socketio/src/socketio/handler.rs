//! Handler traits: what closures can be given to `io.ns(..)` and
//! `socket.on(..)`. A handler is a closure whose arguments are extractors
//! ([`super::extract`]); it may be synchronous or return a future.
//!
//! Both kinds are implemented for closures of up to 8 arguments. If an
//! extractor fails (arguments of the wrong type, a missing extension), the
//! handler is not called and the failure is logged at `debug`.

use super::extract::{FromConnectParts, FromMessageParts, MessageParts};
use super::{DisconnectReason, SocketRef};
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;

/// A boxed handler future.
pub(crate) type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Marker types that tell synchronous and asynchronous handlers apart.
#[doc(hidden)]
pub mod marker {
    /// The handler returns a future.
    pub struct Async;
    /// The handler returns `()`.
    pub struct Sync;
}

/// A namespace's connection handler: `Fn(extractors...)` or
/// `Fn(extractors...) -> impl Future<Output = ()>`, where each extractor
/// implements [`FromConnectParts`].
pub trait ConnectHandler<M>: Send + Sync + 'static {
    /// Runs the extractors and calls the handler; `None` when the handler
    /// is synchronous (it already ran) or an extractor failed.
    #[doc(hidden)]
    fn call(&self, socket: &SocketRef) -> Option<BoxFuture>;
}

/// An event handler: `Fn(extractors...)` or
/// `Fn(extractors...) -> impl Future<Output = ()>`, where each extractor
/// implements [`FromMessageParts`].
pub trait MessageHandler<M>: Send + Sync + 'static {
    /// Runs the extractors and calls the handler.
    #[doc(hidden)]
    fn call(&self, parts: MessageParts) -> Option<BoxFuture>;
}

/// A disconnect handler: `Fn(SocketRef, DisconnectReason)`, sync or async.
pub trait DisconnectHandler<M>: Send + Sync + 'static {
    /// Calls the handler.
    #[doc(hidden)]
    fn call(&self, socket: SocketRef, reason: DisconnectReason) -> Option<BoxFuture>;
}

impl<F, Fut> DisconnectHandler<marker::Async> for F
where
    F: Fn(SocketRef, DisconnectReason) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    fn call(&self, socket: SocketRef, reason: DisconnectReason) -> Option<BoxFuture> {
        Some(Box::pin(self(socket, reason)))
    }
}

impl<F> DisconnectHandler<marker::Sync> for F
where
    F: Fn(SocketRef, DisconnectReason) + Send + Sync + 'static,
{
    fn call(&self, socket: SocketRef, reason: DisconnectReason) -> Option<BoxFuture> {
        self(socket, reason);
        None
    }
}

macro_rules! impl_handlers {
    ($($ty:ident),*) => {
        #[allow(non_snake_case, unused_variables)]
        impl<F, Fut, $($ty,)*> ConnectHandler<(marker::Async, $($ty,)*)> for F
        where
            F: Fn($($ty,)*) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = ()> + Send + 'static,
            $($ty: FromConnectParts + Send + 'static,)*
        {
            fn call(&self, socket: &SocketRef) -> Option<BoxFuture> {
                $(
                    let $ty = match $ty::from_connect_parts(socket) {
                        Ok(v) => v,
                        Err(e) => {
                            tracing::debug!(sid = %socket.id(), error = %e, "connect handler not called: extractor failed");
                            return None;
                        }
                    };
                )*
                Some(Box::pin(self($($ty,)*)))
            }
        }

        #[allow(non_snake_case, unused_variables)]
        impl<F, $($ty,)*> ConnectHandler<(marker::Sync, $($ty,)*)> for F
        where
            F: Fn($($ty,)*) + Send + Sync + 'static,
            $($ty: FromConnectParts + Send + 'static,)*
        {
            fn call(&self, socket: &SocketRef) -> Option<BoxFuture> {
                $(
                    let $ty = match $ty::from_connect_parts(socket) {
                        Ok(v) => v,
                        Err(e) => {
                            tracing::debug!(sid = %socket.id(), error = %e, "connect handler not called: extractor failed");
                            return None;
                        }
                    };
                )*
                self($($ty,)*);
                None
            }
        }

        #[allow(non_snake_case, unused_variables, unused_mut)]
        impl<F, Fut, $($ty,)*> MessageHandler<(marker::Async, $($ty,)*)> for F
        where
            F: Fn($($ty,)*) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = ()> + Send + 'static,
            $($ty: FromMessageParts + Send + 'static,)*
        {
            fn call(&self, mut parts: MessageParts) -> Option<BoxFuture> {
                $(
                    let $ty = match $ty::from_message_parts(&mut parts) {
                        Ok(v) => v,
                        Err(e) => {
                            tracing::debug!(sid = %parts.socket.id(), event = %parts.event, error = %e, "event handler not called: extractor failed");
                            return None;
                        }
                    };
                )*
                Some(Box::pin(self($($ty,)*)))
            }
        }

        #[allow(non_snake_case, unused_variables, unused_mut)]
        impl<F, $($ty,)*> MessageHandler<(marker::Sync, $($ty,)*)> for F
        where
            F: Fn($($ty,)*) + Send + Sync + 'static,
            $($ty: FromMessageParts + Send + 'static,)*
        {
            fn call(&self, mut parts: MessageParts) -> Option<BoxFuture> {
                $(
                    let $ty = match $ty::from_message_parts(&mut parts) {
                        Ok(v) => v,
                        Err(e) => {
                            tracing::debug!(sid = %parts.socket.id(), event = %parts.event, error = %e, "event handler not called: extractor failed");
                            return None;
                        }
                    };
                )*
                self($($ty,)*);
                None
            }
        }
    };
}

impl_handlers!();
impl_handlers!(A1);
impl_handlers!(A1, A2);
impl_handlers!(A1, A2, A3);
impl_handlers!(A1, A2, A3, A4);
impl_handlers!(A1, A2, A3, A4, A5);
impl_handlers!(A1, A2, A3, A4, A5, A6);
impl_handlers!(A1, A2, A3, A4, A5, A6, A7);
impl_handlers!(A1, A2, A3, A4, A5, A6, A7, A8);

/// A type-erased connect handler.
pub(crate) trait ErasedConnect: Send + Sync + 'static {
    fn call(&self, socket: &SocketRef) -> Option<BoxFuture>;
}

/// A type-erased event handler.
pub(crate) trait ErasedMessage: Send + Sync + 'static {
    fn call(&self, parts: MessageParts) -> Option<BoxFuture>;
}

/// A type-erased disconnect handler.
pub(crate) trait ErasedDisconnect: Send + Sync + 'static {
    fn call(&self, socket: SocketRef, reason: DisconnectReason) -> Option<BoxFuture>;
}

pub(crate) struct Erased<H, M> {
    handler: H,
    _marker: PhantomData<fn() -> M>,
}

impl<H, M> Erased<H, M> {
    pub(crate) fn new(handler: H) -> Self {
        Erased {
            handler,
            _marker: PhantomData,
        }
    }
}

impl<H: ConnectHandler<M>, M: 'static> ErasedConnect for Erased<H, M> {
    fn call(&self, socket: &SocketRef) -> Option<BoxFuture> {
        self.handler.call(socket)
    }
}

impl<H: MessageHandler<M>, M: 'static> ErasedMessage for Erased<H, M> {
    fn call(&self, parts: MessageParts) -> Option<BoxFuture> {
        self.handler.call(parts)
    }
}

impl<H: DisconnectHandler<M>, M: 'static> ErasedDisconnect for Erased<H, M> {
    fn call(&self, socket: SocketRef, reason: DisconnectReason) -> Option<BoxFuture> {
        self.handler.call(socket, reason)
    }
}

pub(crate) fn erase_connect<H: ConnectHandler<M>, M: 'static>(h: H) -> Arc<dyn ErasedConnect> {
    Arc::new(Erased::new(h))
}

pub(crate) fn erase_message<H: MessageHandler<M>, M: 'static>(h: H) -> Arc<dyn ErasedMessage> {
    Arc::new(Erased::new(h))
}

pub(crate) fn erase_disconnect<H: DisconnectHandler<M>, M: 'static>(
    h: H,
) -> Arc<dyn ErasedDisconnect> {
    Arc::new(Erased::new(h))
}

/// Starts a handler future the way Node runs a listener: it runs at once,
/// on the caller's task, up to its first suspension point; the rest runs
/// on its own Tokio task. A panic in that first part is caught and logged.
pub(crate) async fn start(fut: Option<BoxFuture>) {
    let Some(mut fut) = fut else { return };
    let first = std::future::poll_fn(|cx| {
        let polled =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| fut.as_mut().poll(cx)));
        std::task::Poll::Ready(polled)
    })
    .await;
    match first {
        Ok(std::task::Poll::Ready(())) => {}
        Ok(std::task::Poll::Pending) => {
            super::server::spawn(fut);
        }
        Err(_) => tracing::error!("a Socket.IO handler panicked"),
    }
}

/// Runs a synchronous call, catching a panic (handlers are user code).
pub(crate) fn call_guarded<R>(f: impl FnOnce() -> R) -> Option<R> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => Some(r),
        Err(_) => {
            tracing::error!("a Socket.IO handler panicked");
            None
        }
    }
}
