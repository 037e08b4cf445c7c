//! Who a broadcast reaches and how: rooms, [`BroadcastOptions`], flags.

use std::sync::Arc;
use std::time::Duration;

/// A room name. Every socket is in the room named by its own id.
pub type Room = Arc<str>;

/// Who a broadcast-style operation targets: sockets in any of `rooms` (all
/// sockets when empty), minus those in any of `except`. This is the
/// `opts` object @socket.io/redis-adapter puts on the wire.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BroadcastOptions {
    /// Target rooms; empty means every socket of the namespace.
    pub rooms: Vec<Room>,
    /// Rooms whose sockets are excluded (a sender's own id for `socket.broadcast()`).
    pub except: Vec<Room>,
    /// Delivery flags.
    pub flags: BroadcastFlags,
}

/// Flags of a broadcast, as Node names them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BroadcastFlags {
    /// Drop the packet for a client whose queue is full instead of
    /// disconnecting it.
    pub volatile: bool,
    /// This node only: do not forward to other nodes.
    pub local: bool,
    /// How long a broadcast with acks waits (the server default when `None`).
    pub timeout: Option<Duration>,
}

/// Room arguments: one name (`"a"`, a `String`, a [`Sid`](oxio_engine::Sid)) or several
/// (`["a", "b"]`, a `Vec`, a slice).
///
/// ```
/// use oxio_adapter::IntoRooms;
/// assert_eq!(IntoRooms::into_rooms("a").len(), 1);
/// assert_eq!(["a", "b"].into_rooms().len(), 2);
/// assert_eq!(vec![String::from("a")].into_rooms()[0].as_ref(), "a");
/// ```
pub trait IntoRooms {
    /// The rooms.
    fn into_rooms(self) -> Vec<Room>;
}

mod sealed {
    use super::Room;
    use oxio_engine::Sid;

    /// One room name.
    pub trait OneRoom {
        fn into_room(self) -> Room;
    }
    impl OneRoom for &str {
        fn into_room(self) -> Room {
            self.into()
        }
    }
    impl OneRoom for String {
        fn into_room(self) -> Room {
            self.into()
        }
    }
    impl OneRoom for &String {
        fn into_room(self) -> Room {
            self.as_str().into()
        }
    }
    impl OneRoom for Room {
        fn into_room(self) -> Room {
            self
        }
    }
    impl OneRoom for &Room {
        fn into_room(self) -> Room {
            self.clone()
        }
    }
    impl OneRoom for Sid {
        fn into_room(self) -> Room {
            self.as_str().into()
        }
    }
    impl OneRoom for &Sid {
        fn into_room(self) -> Room {
            self.as_str().into()
        }
    }
}

impl<T: sealed::OneRoom> IntoRooms for T {
    fn into_rooms(self) -> Vec<Room> {
        vec![self.into_room()]
    }
}

impl<T: sealed::OneRoom> IntoRooms for Vec<T> {
    fn into_rooms(self) -> Vec<Room> {
        self.into_iter().map(sealed::OneRoom::into_room).collect()
    }
}

impl<T: sealed::OneRoom, const N: usize> IntoRooms for [T; N] {
    fn into_rooms(self) -> Vec<Room> {
        self.into_iter().map(sealed::OneRoom::into_room).collect()
    }
}

impl<T: sealed::OneRoom + Clone> IntoRooms for &[T] {
    fn into_rooms(self) -> Vec<Room> {
        self.iter()
            .cloned()
            .map(sealed::OneRoom::into_room)
            .collect()
    }
}
