//! # oxio-adapter
//!
//! What an adapter author needs, and nothing else. An adapter decides where
//! a namespace's broadcasts go: [`MemoryAdapter`] serves one process (the
//! default); a cluster adapter (Redis, in `oxio-redis-adapter` and
//! `oxio-redis-streams-adapter`) forwards
//! every operation a namespace offers to the other nodes.
//!
//! | concept | file |
//! |---|---|
//! | the contract: [`Adapter`], [`AdapterFactory`], connection state recovery hooks | `adapter.rs` |
//! | how an adapter reaches its namespace's local sockets: [`LocalSockets`], [`LocalNamespace`], one socket directly ([`LocalSocket`]), the server's packet format ([`Parser`]) | `local.rs` |
//! | who a broadcast reaches: [`Room`], [`IntoRooms`], [`BroadcastOptions`] | `options.rs` |
//! | packets: [`Outgoing`] (encoded once, queued as one unit), [`Payload`] (received arguments) | `packet.rs` |
//! | answers to a broadcast with acks: [`AckCollector`], [`AckEvent`] | `ack.rs` |
//! | server-side events between nodes: [`ServerEvent`] | `server_side.rs` |
//! | the room index, and who a broadcast reaches ([`Target`]): [`RoomIndex`] | `rooms.rs` |
//! | connection state recovery in one process: [`ConnectionStateRecovery`], offsets, the bounded replay buffer and sessions | `recovery.rs` |
//! | errors, each with its cause: [`AdapterError`], [`EmitError`], [`AckError`] | `error.rs` |
//! | cluster messages for adapters of several nodes: msgpack/JSON conversions, packets, broadcast options ([`wire`]) | `wire.rs` |
//!
//! Dependencies point one way: this crate knows the engine's value types
//! (ids, messages) and the codec, never the Socket.IO layer. The Socket.IO
//! layer implements [`LocalSockets`] for each namespace and hands the
//! adapter a [`LocalNamespace`]; an adapter acts on sockets only through it.
//!
//! Connection state recovery goes through [`Adapter::persist_session`],
//! [`Adapter::restore_session`] and [`Adapter::restore_finished`]
//! (defaults: nothing kept, nothing restored); [`MemoryAdapter::with_recovery`]
//! implements them. A server-wide packet format goes through
//! [`LocalSockets::parser`]: an adapter never assumes the JSON text format
//! of a packet it did not build itself.
//!
//! Membership calls (`add_all`, `del`, `del_all`, `socket_rooms`) concern
//! local sockets and are synchronous. Delivery never waits on a client:
//! local sends are queue pushes, and a slow client is disconnected or
//! (volatile) skipped. Operations that need answers from other nodes
//! return futures.
//!
//! ```
//! use oxio_adapter::{Adapter, BroadcastOptions, LocalNamespace, MemoryAdapter, Outgoing};
//!
//! let adapter = MemoryAdapter::new(LocalNamespace::detached("/"));
//! adapter.add_all(&"a".into(), &["a".into(), "lobby".into()]);
//! let packet = Outgoing::event("/", None, "news", &("hi",)).unwrap();
//! let opts = BroadcastOptions { rooms: vec!["lobby".into()], ..Default::default() };
//! adapter.broadcast(&packet, &opts).unwrap(); // socket "a" is not really connected: skipped
//! assert_eq!(adapter.index().rooms().len(), 2);
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod ack;
mod adapter;
mod error;
mod local;
mod memory;
mod options;
mod packet;
mod recovery;
mod rooms;
mod server_side;
pub mod wire;

pub use ack::{AckCollector, AckEvent, AckResponse, AckSink, BroadcastAcks};
pub use adapter::{Adapter, AdapterFactory, BoxFuture, PersistedSession, RestoredSession};
pub use error::{AckError, AdapterError, Cause, EmitError};
pub use local::{
    FoundSocket, LocalNamespace, LocalSocket, LocalSockets, Parser, RemoteSocketData, SocketHandle,
};
pub use memory::{MemoryAdapter, MemoryAdapterFactory};
pub use options::{BroadcastFlags, BroadcastOptions, IntoRooms, Room};
pub use oxio_engine::sync;
pub use oxio_engine::{Message, Sid, Utf8Bytes};
pub use packet::{Outgoing, Payload};
pub use recovery::ConnectionStateRecovery;
pub use rooms::{RoomIndex, Target};
pub use server_side::{ServerAck, ServerEvent, ServerSideAcks};
