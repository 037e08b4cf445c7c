//! Engine.IO v3 and v4: packets, polling payloads and the handshake.
//!
//! Everything here decodes into views borrowing the input and encodes into
//! a caller's buffer; nothing allocates unless you call an `alloc` helper.
//! Where to look:
//!
//! | concept | file |
//! |---|---|
//! | one packet, its text form and WebSocket binary frame | `packet.rs` ([`Packet`], [`PacketType`], [`Data`]) |
//! | `b<base64>` binary data | `base64.rs` ([`Base64`]) |
//! | v4 polling body, split on `0x1E` | `payload/v4.rs` ([`payload::v4`]) |
//! | v3 polling body `<len>:<packet>` (UTF-16 lengths) | `payload/v3_text.rs` ([`payload::v3_text`]) |
//! | v3 binary (XHR2) polling body | `payload/v3_binary.rs` ([`payload::v3_binary`]) |
//! | handshake JSON of the `open` packet | `handshake.rs`, reader in `handshake/parse.rs` ([`Handshake`]) |
//! | transport names and the `upgrades` set | `transport.rs` ([`Transport`], [`Upgrades`]) |
//! | protocol revision | `version.rs` ([`Version`]) |
//! | errors | `error.rs` ([`Error`], [`HandshakeError`]) |
//!
//! Every decode error is a parse error: the session must be closed
//! (docs/protocol.md §1.9).
//!
//! ```
//! use oxio_codec::engineio::{payload, Packet, PacketType, Version};
//! use oxio_codec::Limits;
//!
//! // A WebSocket text frame.
//! let ping = Packet::decode_text("2", Version::V4).unwrap();
//! assert_eq!(ping.packet_type, PacketType::Ping);
//!
//! // A polling POST body.
//! let mut texts = [""; 3];
//! for (slot, packet) in texts.iter_mut().zip(payload::v4::decode("4test1\x1e4test2\x1e4test3", &Limits::default())) {
//!     *slot = packet.unwrap().data.as_text().unwrap();
//! }
//! assert_eq!(texts, ["test1", "test2", "test3"]);
//! ```

mod base64;
mod error;
mod handshake;
mod out;
mod packet;
pub mod payload;
mod transport;
mod version;

pub use self::base64::Base64;
pub use error::{Error, HandshakeError};
pub use handshake::Handshake;
pub use packet::{Data, Packet, PacketType};
pub use transport::{Transport, Upgrades};
pub use version::Version;
