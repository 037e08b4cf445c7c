//! # oxio-codec
//!
//! A `no_std`, zero-copy, allocation-free codec for Engine.IO (protocol v3 and v4)
//! and Socket.IO (protocol v4 and v5), shared by the oxio Tokio server and the
//! oxio Embassy client.
//!
//! The crate never touches a socket or a clock: it takes bytes (and, where a
//! protocol rule needs it, the current time) in, and gives borrowed views,
//! bytes to send and deadlines out. Every limit is in [`Limits`], with the
//! reference server's defaults.
//!
//! Layers, in the order bytes flow through them:
//! - [`engineio`]: Engine.IO packets, polling payloads and the handshake.
//! - [`socketio`]: Socket.IO packet headers (decoded lazily), events, acks,
//!   encoding from `serde` values, and binary attachment reassembly.
//! - [`json`]: the JSON validator, scanner, serializer and deserializer the
//!   Socket.IO layer uses; output is byte-identical to `JSON.stringify`.
//! - [`msgpack`]: the socket.io-msgpack-parser packet format (one msgpack
//!   map per packet, bytes inline), byte-identical to the Node parser.
//!
//! ```
//! use oxio_codec::socketio::{Decoder, PacketType};
//!
//! let packet = Decoder::default().decode(r#"2/chat,7["message",{"text":"hi"}]"#).unwrap();
//! assert_eq!(packet.packet_type(), PacketType::Event);
//! assert_eq!(packet.namespace(), "/chat");
//! assert_eq!(packet.ack_id(), Some(7));
//! assert_eq!(packet.event_name().unwrap().as_str(), Some("message"));
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
// Bad input must never panic: library code has no unwrap/expect/panic and
// no slice indexing (every site is in a doc example or a `#[cfg(test)]`
// module). The workspace's `[lints]` deny them; scripts/test.sh lints
// library code with them, so a new site fails the test command.
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

/// A sans-IO Socket.IO client session (WebSocket transport), for the Embassy client.
pub mod client;
pub mod engineio;
pub mod json;
pub mod limits;
pub mod msgpack;
pub mod socketio;
pub mod time;

pub use limits::Limits;

pub use time::Instant;
