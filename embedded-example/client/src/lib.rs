//! An async, `no_std`, allocation-free Socket.IO client for Embassy (and
//! Tokio), driving the sans-IO [`oxio_codec::client::Session`] over a
//! WebSocket (`transport=websocket`, no polling).
//!
//! - IO: any `embedded-io-async` connection from a [`Connector`]:
//!   embassy-net (`EmbassyNetConnector`, feature `embassy-net`) on a
//!   microcontroller, Tokio (`TokioConnector`, feature `tokio`) on a PC.
//! - Timers: `embassy-time` (the firmware's time driver, or its `std`
//!   driver with a generic queue on a PC).
//! - Memory: see [`Client`]; with the defaults the whole client is one
//!   value of about 11.3 KB (measured in the README).
//!
//! - TLS (`wss://`, feature `tls`): see the `tls` module; the server's
//!   certificate is checked against the CA certificate you give.
//!
//! The application logic shared by the firmware examples and the host
//! example is in [`device`].
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "std")]
extern crate std;

mod client;
mod connector;
pub mod device;
mod error;
mod inbox;
#[cfg(feature = "tls")]
pub mod tls;
mod url;
mod ws;

pub use client::{Client, ClientSession, Event, Message};
#[cfg(feature = "tokio")]
pub use connector::TokioConnector;
pub use connector::{testing, Connector};
#[cfg(feature = "embassy-net")]
pub use connector::{EmbassyNetConnector, EmbassyNetError};
pub use error::{Error, TlsError};
#[cfg(feature = "tls")]
pub use tls::{TlsConnector, TlsRunner, TlsShared, TlsStream, TlsVerify};
pub use url::{Endpoint, UrlError};
pub use ws::HandshakeError;
