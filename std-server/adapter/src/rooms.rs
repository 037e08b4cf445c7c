//! Which socket is in which room, for one namespace on one node.

use crate::{
    AckError, AckSink, BroadcastOptions, EmitError, LocalNamespace, Outgoing, Room, SocketHandle,
};
use oxio_engine::sync::RwLockExt;
use oxio_engine::Sid;
use smallvec::SmallVec;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::RwLock;

/// The hasher of maps and sets keyed by socket id. Ids are made by
/// servers (random, fixed length), so a fast seeded hash is enough; maps
/// keyed by room name (chosen by applications, possibly from client
/// input) keep the standard library's SipHash.
type IdHasher = foldhash::fast::RandomState;

/// The members of one room: each socket, with the socket itself when the
/// index holds it.
type Members = HashMap<Sid, Option<SocketHandle>, IdHasher>;

/// Up to this many `except` rooms are checked one by one for each
/// candidate; more are merged into one set first.
const EXCEPT_LOOKUPS: usize = 4;

/// A two-way room index: rooms to sockets and sockets to rooms. A room
/// that loses its last socket is deleted; a socket stays known (and is
/// reached by room-less broadcasts) until [`RoomIndex::del_all`].
///
/// The index may hold each socket itself ([`RoomIndex::add_all_with`]):
/// a broadcast then hands out the sockets it reaches ([`RoomIndex::targets`])
/// and delivery needs no lookup by id.
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
#[derive(Default)]
pub struct RoomIndex {
    inner: RwLock<Inner>,
}

impl fmt::Debug for RoomIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.read();
        f.debug_struct("RoomIndex")
            .field("rooms", &inner.rooms.len())
            .field("sockets", &inner.sids.len())
            .finish()
    }
}

#[derive(Default)]
struct Inner {
    rooms: HashMap<Room, Members>,
    sids: HashMap<Sid, Entry, IdHasher>,
}

/// One known socket: its rooms, and itself when the index holds it (the
/// same handle is in each of its rooms' members).
#[derive(Default)]
struct Entry {
    rooms: HashSet<Room>,
    socket: Option<SocketHandle>,
}

/// One socket a broadcast reaches: the socket itself when the index holds
/// it, else its id (delivered through the namespace, by lookup).
#[derive(Clone)]
pub enum Target {
    /// The socket itself.
    Socket(SocketHandle),
    /// A socket the index knows only by id.
    Id(Sid),
}

impl Target {
    fn new(sid: &Sid, socket: &Option<SocketHandle>) -> Self {
        match socket {
            Some(s) => Target::Socket(s.clone()),
            None => Target::Id(sid.clone()),
        }
    }

    /// The socket's id.
    pub fn id(&self) -> &Sid {
        match self {
            Target::Socket(s) => s.id(),
            Target::Id(sid) => sid,
        }
    }

    /// Queues `packet` for this socket: directly, or through `ns` by id
    /// (see [`LocalSockets::send`](crate::LocalSockets::send)).
    pub fn send(
        &self,
        ns: &LocalNamespace,
        packet: &Outgoing,
        volatile: bool,
    ) -> Result<(), EmitError> {
        match self {
            Target::Socket(s) => s.send(packet, volatile),
            Target::Id(sid) => ns.send(sid, packet, volatile),
        }
    }

    /// Queues `packet`, which carries ack id `ack_id`, for this socket and
    /// routes its answer to `sink` (see
    /// [`LocalSockets::send_with_ack`](crate::LocalSockets::send_with_ack)).
    pub fn send_with_ack(
        &self,
        ns: &LocalNamespace,
        packet: &Outgoing,
        ack_id: u64,
        sink: AckSink,
        volatile: bool,
    ) -> Result<(), AckError> {
        match self {
            Target::Socket(s) => s.send_with_ack(packet, ack_id, sink, volatile),
            Target::Id(sid) => ns.send_with_ack(sid, packet, ack_id, sink, volatile),
        }
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Socket(s) => f.debug_tuple("Socket").field(s.id()).finish(),
            Target::Id(sid) => f.debug_tuple("Id").field(sid).finish(),
        }
    }
}

/// Which sockets one broadcast reaches, resolved against the index
/// (the rooms looked up once).
struct Plan<'a> {
    /// No room given: every known socket.
    all: bool,
    /// The distinct rooms given that exist.
    rooms: SmallVec<[&'a Members; 4]>,
    /// The distinct `except` rooms that exist.
    except: SmallVec<[&'a Members; 4]>,
}

impl<'a> Plan<'a> {
    fn new(inner: &'a Inner, opts: &BroadcastOptions) -> Self {
        fn distinct<'a>(inner: &'a Inner, rooms: &[Room]) -> SmallVec<[&'a Members; 4]> {
            let mut out: SmallVec<[&'a Members; 4]> = SmallVec::new();
            for members in rooms.iter().filter_map(|r| inner.rooms.get(r)) {
                if !out.iter().any(|m| std::ptr::eq(*m, members)) {
                    out.push(members);
                }
            }
            out
        }
        Plan {
            all: opts.rooms.is_empty(),
            rooms: if opts.rooms.is_empty() {
                SmallVec::new()
            } else {
                distinct(inner, &opts.rooms)
            },
            except: distinct(inner, &opts.except),
        }
    }

    /// At least as many as the sockets reached.
    fn upper_bound(&self, inner: &Inner) -> usize {
        if self.all {
            inner.sids.len()
        } else {
            self.rooms.iter().map(|m| m.len()).sum()
        }
    }

    /// Calls `f` once for each socket reached: in a room given (any known
    /// socket when none is) and in no `except` room.
    fn for_each(&self, inner: &'a Inner, mut f: impl FnMut(&'a Sid, &'a Option<SocketHandle>)) {
        let merged: Option<HashSet<&Sid, IdHasher>> =
            (self.except.len() > EXCEPT_LOOKUPS).then(|| {
                let mut set = HashSet::with_capacity_and_hasher(
                    self.except.iter().map(|m| m.len()).sum(),
                    IdHasher::default(),
                );
                set.extend(self.except.iter().flat_map(|m| m.keys()));
                set
            });
        let excluded = |sid: &Sid| match &merged {
            Some(set) => set.contains(sid),
            None => self.except.iter().any(|m| m.contains_key(sid)),
        };
        if self.all {
            for (sid, entry) in &inner.sids {
                if !excluded(sid) {
                    f(sid, &entry.socket);
                }
            }
            return;
        }
        match self.rooms.as_slice() {
            [] => {}
            // One room: its members are distinct already.
            [members] => {
                for (sid, socket) in members.iter() {
                    if !excluded(sid) {
                        f(sid, socket);
                    }
                }
            }
            several => {
                let mut seen: HashSet<&Sid, IdHasher> =
                    HashSet::with_capacity_and_hasher(self.upper_bound(inner), IdHasher::default());
                for members in several {
                    for (sid, socket) in members.iter() {
                        if !excluded(sid) && seen.insert(sid) {
                            f(sid, socket);
                        }
                    }
                }
            }
        }
    }
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
        self.add_all_with(sid, rooms, |_| None);
    }

    /// [`add_all`](Self::add_all), and when the index does not hold socket
    /// `sid` itself yet, asks `socket` for it (under the index's lock, so a
    /// socket removed with [`del_all`](Self::del_all) meanwhile is never
    /// kept: `socket` must not call back into this index). From then on
    /// [`targets`](Self::targets) hands it out.
    ///
    /// ```
    /// use oxio_adapter::{BroadcastOptions, RoomIndex, Sid, Target};
    ///
    /// let idx = RoomIndex::default();
    /// idx.add_all_with(&Sid::from("a"), &["r".into()], |_| None);
    /// let t = idx.targets(&BroadcastOptions::default());
    /// assert!(matches!(&t[..], [Target::Id(id)] if id.as_str() == "a"));
    /// ```
    pub fn add_all_with(
        &self,
        sid: &Sid,
        rooms: &[Room],
        socket: impl FnOnce(&Sid) -> Option<SocketHandle>,
    ) {
        let mut inner = self.write();
        let Inner {
            rooms: by_room,
            sids,
        } = &mut *inner;
        let entry = sids.entry(sid.clone()).or_default();
        if entry.socket.is_none() {
            if let Some(handle) = socket(sid) {
                for room in &entry.rooms {
                    if let Some(slot) = by_room.get_mut(room).and_then(|m| m.get_mut(sid)) {
                        *slot = Some(handle.clone());
                    }
                }
                entry.socket = Some(handle);
            }
        }
        for room in rooms {
            if entry.rooms.insert(room.clone()) {
                by_room
                    .entry(room.clone())
                    .or_default()
                    .insert(sid.clone(), entry.socket.clone());
            }
        }
    }

    /// Removes `sid` from `rooms`, deleting rooms left empty.
    pub fn del(&self, sid: &Sid, rooms: &[Room]) {
        let mut inner = self.write();
        for room in rooms {
            if let Some(own) = inner.sids.get_mut(sid) {
                own.rooms.remove(room);
            }
            Self::leave(&mut inner.rooms, sid, room);
        }
    }

    /// Forgets `sid`: removes it from every room (and drops the socket
    /// itself if the index held it).
    pub fn del_all(&self, sid: &Sid) {
        let mut inner = self.write();
        if let Some(own) = inner.sids.remove(sid) {
            for room in &own.rooms {
                Self::leave(&mut inner.rooms, sid, room);
            }
        }
    }

    fn leave(rooms: &mut HashMap<Room, Members>, sid: &Sid, room: &Room) {
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
            .map(|e| e.rooms.iter().cloned().collect())
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
        let plan = Plan::new(&inner, opts);
        let mut out = Vec::with_capacity(plan.upper_bound(&inner));
        plan.for_each(&inner, |sid, _| out.push(sid.clone()));
        out
    }

    /// The sockets `opts` targets, as [`matching`](Self::matching), each
    /// as a [`Target`] to deliver to: the socket itself when the index
    /// holds it. Resolved at once; a socket that disconnects before the
    /// delivery answers [`EmitError::Closed`].
    pub fn targets(&self, opts: &BroadcastOptions) -> Vec<Target> {
        let inner = self.read();
        let plan = Plan::new(&inner, opts);
        let mut out = Vec::with_capacity(plan.upper_bound(&inner));
        plan.for_each(&inner, |sid, socket| out.push(Target::new(sid, socket)));
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

    /// A socket that counts what it is sent and may act on the index
    /// while being sent to (as a handler reacting to a delivery would).
    struct Fake {
        id: Sid,
        got: std::sync::atomic::AtomicUsize,
        on_send: Box<dyn Fn() + Send + Sync>,
    }

    impl crate::LocalSocket for Fake {
        fn id(&self) -> &Sid {
            &self.id
        }
        fn send(&self, _: &Outgoing, _: bool) -> Result<(), EmitError> {
            self.got.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            (self.on_send)();
            Ok(())
        }
        fn send_with_ack(&self, _: &Outgoing, _: u64, _: AckSink, _: bool) -> Result<(), AckError> {
            Err(AckError::Emit(EmitError::Closed))
        }
    }

    fn fake(id: &str, on_send: impl Fn() + Send + Sync + 'static) -> Arc<Fake> {
        Arc::new(Fake {
            id: Sid::from(id),
            got: Default::default(),
            on_send: Box::new(on_send),
        })
    }

    fn rooms(names: &[&str]) -> Vec<Room> {
        names.iter().map(|r| Room::from(*r)).collect()
    }

    /// What `targets` hands out: (id, held) sorted.
    fn targets(idx: &RoomIndex, rooms: &[&str], except: &[&str]) -> Vec<(String, bool)> {
        let mut got: Vec<(String, bool)> = idx
            .targets(&opts(rooms, except))
            .iter()
            .map(|t| (t.id().to_string(), matches!(t, Target::Socket(_))))
            .collect();
        got.sort();
        got
    }

    use crate::{AckError, AckSink, EmitError, Outgoing};
    use std::sync::Arc;

    /// Matching against a plain model, over many room/except combinations,
    /// with more `except` rooms than are checked one by one.
    #[test]
    fn matching_agrees_with_a_model() {
        let idx = RoomIndex::default();
        let names = ["r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7"];
        let mut model: Vec<(Sid, Vec<&str>)> = Vec::new();
        for i in 0..40u32 {
            let sid = Sid::from(format!("s{i}").as_str());
            // Room k when bit k of a spread of i is set.
            let mine: Vec<&str> = (0..names.len())
                .filter(|k| (i.wrapping_mul(2654435761) >> (k + 3)) & 1 == 1)
                .map(|k| names[k])
                .collect();
            idx.add_all(&sid, &rooms(&mine));
            model.push((sid, mine));
        }
        let mut seed = 7u32;
        for _ in 0..300 {
            let mut pick = |max: usize| {
                seed = seed.wrapping_mul(1103515245).wrapping_add(12345);
                (seed >> 16) as usize % max
            };
            let (nr, ne) = (pick(4), pick(7));
            let r: Vec<&str> = (0..nr).map(|_| names[pick(names.len())]).collect();
            let e: Vec<&str> = (0..ne).map(|_| names[pick(names.len())]).collect();
            let mut want: Vec<String> = model
                .iter()
                .filter(|(_, m)| r.is_empty() || r.iter().any(|x| m.contains(x)))
                .filter(|(_, m)| !e.iter().any(|x| m.contains(x)))
                .map(|(s, _)| s.to_string())
                .collect();
            want.sort();
            let mut got: Vec<String> = idx
                .matching(&opts(&r, &e))
                .iter()
                .map(|s| s.to_string())
                .collect();
            got.sort();
            assert_eq!(got, want, "rooms {r:?} except {e:?}");
            let t: Vec<String> = targets(&idx, &r, &e).into_iter().map(|t| t.0).collect();
            assert_eq!(t, want, "targets, rooms {r:?} except {e:?}");
        }
    }

    /// A socket held by the index is handed out in every room it is in
    /// (joined before and after it was held), once per broadcast, and
    /// is dropped on `del_all`.
    #[test]
    fn held_sockets_are_handed_out_once_and_dropped_when_forgotten() {
        let idx = RoomIndex::default();
        let a = fake("a", || {});
        // Joins before it is connected: not held yet.
        idx.add_all_with(&a.id, &rooms(&["r1"]), |_| None);
        assert_eq!(targets(&idx, &["r1"], &[]), [("a".into(), false)]);
        // Connected: held, in r1 too.
        let handle: crate::SocketHandle = a.clone();
        idx.add_all_with(&a.id, &rooms(&["a", "r2"]), |_| Some(handle.clone()));
        // Not asked again once held.
        idx.add_all_with(&a.id, &rooms(&["r3"]), |_| panic!("asked twice"));
        idx.add_all(&Sid::from("b"), &rooms(&["b", "r2", "x"]));
        for (r, e, want) in [
            (&["r1"][..], &[][..], &[("a", true)][..]),
            (&["r1", "r2", "r3"], &[], &[("a", true), ("b", false)]),
            (&["r2", "r2"], &["x"], &[("a", true)]),
            (&[], &["r3"], &[("b", false)]),
            (&["r1", "r2"], &["a", "x"], &[]),
        ] {
            let want: Vec<(String, bool)> = want.iter().map(|(s, h)| (s.to_string(), *h)).collect();
            assert_eq!(targets(&idx, r, e), want, "rooms {r:?} except {e:?}");
        }
        // Delivered once though a is in all three rooms.
        let p = Outgoing::event("/", None, "e", &()).unwrap();
        let ns = crate::LocalNamespace::detached("/");
        for t in idx.targets(&opts(&["r1", "r2", "r3"], &["x"])) {
            t.send(&ns, &p, false).unwrap();
        }
        assert_eq!(a.got.load(std::sync::atomic::Ordering::Relaxed), 1);
        // Leaving one room keeps it held in the others; forgetting drops it.
        idx.del(&a.id, &rooms(&["r1"]));
        assert_eq!(targets(&idx, &["r2"], &["x"]), [("a".into(), true)]);
        // `a` and `handle`, then one per room (r2, r3, a) and the entry.
        assert_eq!(Arc::strong_count(&a), 2 + 4);
        idx.del_all(&a.id);
        assert_eq!(Arc::strong_count(&a), 2);
        drop(handle);
        assert_eq!(Arc::strong_count(&a), 1);
    }

    /// Sockets leave, join and disconnect while a broadcast is delivered
    /// (from the delivery itself): the index is not locked during
    /// delivery, every socket resolved gets the packet once, and the
    /// changes hold afterwards.
    #[test]
    fn the_index_changes_during_a_delivery() {
        let idx = Arc::new(RoomIndex::default());
        let weak = Arc::downgrade(&idx);
        let churn = move || {
            if let Some(idx) = weak.upgrade() {
                idx.del(&Sid::from("s1"), &rooms(&["r"]));
                idx.del_all(&Sid::from("s2"));
                idx.add_all(&Sid::from("late"), &rooms(&["r"]));
            }
        };
        let sockets: Vec<Arc<Fake>> = (0..4)
            .map(|i| {
                if i == 0 {
                    fake("s0", churn.clone())
                } else {
                    fake(&format!("s{i}"), || {})
                }
            })
            .collect();
        for s in &sockets {
            let h: crate::SocketHandle = s.clone();
            idx.add_all_with(&s.id, &rooms(&["r", "q"]), |_| Some(h));
        }
        let p = Outgoing::event("/", None, "e", &()).unwrap();
        let ns = crate::LocalNamespace::detached("/");
        let mut n = 0;
        for t in idx.targets(&opts(&["r", "q"], &[])) {
            let _ = t.send(&ns, &p, false);
            n += 1;
        }
        assert_eq!(n, 4, "resolved before the changes");
        for s in &sockets {
            assert_eq!(
                s.got.load(std::sync::atomic::Ordering::Relaxed),
                1,
                "{:?}",
                s.id
            );
        }
        assert_eq!(
            targets(&idx, &["r"], &[]),
            [
                ("late".into(), false),
                ("s0".into(), true),
                ("s3".into(), true)
            ]
        );
        assert_eq!(
            targets(&idx, &["q"], &[]).len(),
            3,
            "s1 still in q, s2 gone"
        );
        assert_eq!(Arc::strong_count(&sockets[2]), 1, "s2 dropped");
    }
}
