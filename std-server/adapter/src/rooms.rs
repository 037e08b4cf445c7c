//! Which socket is in which room, for one namespace on one node.

use crate::{BroadcastOptions, Room};
use oxio_engine::sync::RwLockExt;
use oxio_engine::Sid;
use std::collections::{HashMap, HashSet};
use std::sync::RwLock;

/// A two-way room index: rooms to sockets and sockets to rooms. A room
/// that loses its last socket is deleted; a socket stays known (and is
/// reached by room-less broadcasts) until [`RoomIndex::del_all`].
///
/// ```
/// use oxio_adapter::{BroadcastOptions, RoomIndex, Sid};
///
/// let idx = RoomIndex::default();
/// let (a, b) = (Sid::from("a"), Sid::from("b"));
/// idx.add_all(&a, &["a".into(), "r1".into(), "r2".into()]);
/// idx.add_all(&b, &["b".into(), "r2".into()]);
/// let opts = BroadcastOptions { rooms: vec!["r1".into(), "r2".into()], ..Default::default() };
/// let mut hit = idx.matching(&opts);
/// hit.sort();
/// assert_eq!(hit, [a.clone(), b.clone()]); // a is in both rooms, reached once
/// idx.del(&a, &["r1".into()]);
/// assert!(!idx.rooms().iter().any(|r| &**r == "r1")); // emptied: deleted
/// ```
#[derive(Debug, Default)]
pub struct RoomIndex {
    inner: RwLock<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    rooms: HashMap<Room, HashSet<Sid>>,
    sids: HashMap<Sid, HashSet<Room>>,
}

impl RoomIndex {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.reading()
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.writing()
    }

    /// Adds `sid` to `rooms` (and makes it known with no room if `rooms` is empty).
    pub fn add_all(&self, sid: &Sid, rooms: &[Room]) {
        let mut inner = self.write();
        let own = inner.sids.entry(sid.clone()).or_default();
        for room in rooms {
            own.insert(room.clone());
        }
        for room in rooms {
            inner
                .rooms
                .entry(room.clone())
                .or_default()
                .insert(sid.clone());
        }
    }

    /// Removes `sid` from `rooms`, deleting rooms left empty.
    pub fn del(&self, sid: &Sid, rooms: &[Room]) {
        let mut inner = self.write();
        for room in rooms {
            if let Some(own) = inner.sids.get_mut(sid) {
                own.remove(room);
            }
            Self::leave(&mut inner.rooms, sid, room);
        }
    }

    /// Forgets `sid`: removes it from every room.
    pub fn del_all(&self, sid: &Sid) {
        let mut inner = self.write();
        if let Some(own) = inner.sids.remove(sid) {
            for room in &own {
                Self::leave(&mut inner.rooms, sid, room);
            }
        }
    }

    fn leave(rooms: &mut HashMap<Room, HashSet<Sid>>, sid: &Sid, room: &Room) {
        if let Some(members) = rooms.get_mut(room) {
            members.remove(sid);
            if members.is_empty() {
                rooms.remove(room);
            }
        }
    }

    /// The rooms `sid` is in.
    pub fn rooms_of(&self, sid: &Sid) -> Vec<Room> {
        self.read()
            .sids
            .get(sid)
            .map(|r| r.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Every room with at least one socket.
    pub fn rooms(&self) -> Vec<Room> {
        self.read().rooms.keys().cloned().collect()
    }

    /// Whether `room` has at least one socket (no copy of the room list:
    /// a cluster adapter asks this for every broadcast another node sends).
    ///
    /// ```
    /// use oxio_adapter::{RoomIndex, Sid};
    ///
    /// let idx = RoomIndex::default();
    /// idx.add_all(&Sid::from("a"), &["r1".into()]);
    /// assert!(idx.has_room("r1") && !idx.has_room("r2"));
    /// ```
    pub fn has_room(&self, room: &str) -> bool {
        self.read().rooms.contains_key(room)
    }

    /// How many sockets are known.
    pub fn len(&self) -> usize {
        self.read().sids.len()
    }

    /// Whether no socket is known.
    pub fn is_empty(&self) -> bool {
        self.read().sids.is_empty()
    }

    /// The sockets `opts` targets, each once: members of any of
    /// `opts.rooms` (every known socket when it is empty) that are in none
    /// of `opts.except`.
    pub fn matching(&self, opts: &BroadcastOptions) -> Vec<Sid> {
        let inner = self.read();
        let excluded: HashSet<&Sid> = opts
            .except
            .iter()
            .filter_map(|r| inner.rooms.get(r))
            .flatten()
            .collect();
        if opts.rooms.is_empty() {
            return inner
                .sids
                .keys()
                .filter(|s| !excluded.contains(s))
                .cloned()
                .collect();
        }
        let mut seen: HashSet<&Sid> = HashSet::new();
        let mut out = Vec::new();
        for members in opts.rooms.iter().filter_map(|r| inner.rooms.get(r)) {
            for sid in members {
                if !excluded.contains(sid) && seen.insert(sid) {
                    out.push(sid.clone());
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(rooms: &[&str], except: &[&str]) -> BroadcastOptions {
        BroadcastOptions {
            rooms: rooms.iter().map(|r| Room::from(*r)).collect(),
            except: except.iter().map(|r| Room::from(*r)).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn matching_table() {
        let idx = RoomIndex::default();
        for (sid, rooms) in [
            ("a", &["a", "x", "y"][..]),
            ("b", &["b", "y"]),
            ("c", &["c"]),
        ] {
            let rooms: Vec<Room> = rooms.iter().map(|r| Room::from(*r)).collect();
            idx.add_all(&Sid::from(sid), &rooms);
        }
        for (rooms, except, want) in [
            (&[][..], &[][..], &["a", "b", "c"][..]),
            (&["x", "y"], &[], &["a", "b"]),
            (&["y", "x", "y"], &[], &["a", "b"]),
            (&["y"], &["a"], &["b"]),
            (&[], &["y"], &["c"]),
            (&["nope"], &[], &[]),
            (&["x"], &["x"], &[]),
        ] {
            let mut got: Vec<String> = idx
                .matching(&opts(rooms, except))
                .iter()
                .map(|s| s.to_string())
                .collect();
            got.sort();
            assert_eq!(got, want, "rooms {rooms:?} except {except:?}");
        }
    }

    #[test]
    fn rooms_are_deleted_when_empty_and_sockets_forgotten() {
        let idx = RoomIndex::default();
        let a = Sid::from("a");
        idx.add_all(&a, &[Room::from("a"), Room::from("r")]);
        idx.del(&a, &[Room::from("r"), Room::from("unknown")]);
        assert_eq!(idx.rooms(), [Room::from("a")]);
        idx.del(&a, &[Room::from("a")]);
        assert!(idx.rooms().is_empty());
        assert_eq!(idx.len(), 1, "a room-less socket is still known");
        assert_eq!(idx.matching(&opts(&[], &[])), std::slice::from_ref(&a));
        idx.del_all(&a);
        assert!(idx.is_empty());
        assert!(idx.rooms_of(&a).is_empty());
    }
}
