//! Support for the concurrent-emit tests: binary events whose attachments
//! say who sent them, and a WebSocket client that reassembles every packet
//! with `oxio_codec`'s [`Reassembler`] and checks each one against its
//! header.
//!
//! An event `bin` carries `[sender, seq, [<attachment>...]]`: 1 to 3
//! attachments (see [`attachments`]) whose bytes start with the sender,
//! the sequence number and the attachment's index, followed by a filler of
//! varying length. A packet whose frames were interleaved with another
//! packet's therefore fails the reassembler (a text frame where an
//! attachment was due) or the content check (another packet's attachment).

use crate::sio::Ws;
use oxio_codec::socketio::{Binary, BinaryBuf, Complete, Decoder, PacketType, Reassembler};
use oxio_codec::Instant;
use std::collections::BTreeMap;
use std::sync::{Arc, Barrier, Mutex};

/// How many attachments event `seq` of `sender` carries: 1, 2 or 3.
pub fn attachment_count(sender: u32, seq: u32) -> usize {
    1 + ((sender + seq) % 3) as usize
}

/// Attachment `k` of event `seq` of `sender`: 6 header bytes (sender,
/// seq, k, big-endian) then 0 to 60 filler bytes, all distinct per
/// (sender, seq, k).
pub fn attachment(sender: u32, seq: u32, k: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(70);
    v.extend_from_slice(&(sender as u16).to_be_bytes());
    v.extend_from_slice(&(seq as u16).to_be_bytes());
    v.extend_from_slice(&(k as u16).to_be_bytes());
    let filler = ((seq as usize) * 7 + k * 13 + sender as usize) % 61;
    v.extend((0..filler).map(|i| (sender as usize * 31 + seq as usize + k * 7 + i) as u8));
    v
}

/// Every attachment of event `seq` of `sender`.
pub fn attachments(sender: u32, seq: u32) -> Vec<Vec<u8>> {
    (0..attachment_count(sender, seq))
        .map(|k| attachment(sender, seq, k))
        .collect()
}

/// Emits event `seq` of `sender` through `emit` (a socket's, a
/// broadcast's): `emit("bin", &(sender, seq, [attachments]))`.
pub fn emit_bin<E, F>(sender: u32, seq: u32, emit: F) -> Result<(), E>
where
    F: FnOnce(&str, &(u32, u32, Vec<Binary<'_>>)) -> Result<(), E>,
{
    let owned = attachments(sender, seq);
    let bins: Vec<Binary<'_>> = owned.iter().map(|a| Binary(a)).collect();
    emit("bin", &(sender, seq, bins))
}

/// How many items the tasks of [`at_once`] handle between two meetings.
pub const ROUND: usize = 25;

/// Runs `job(task, item)` for every item of every share, each share on a
/// thread of its own (Tokio's blocking pool, so they truly run in
/// parallel), the threads meeting at a barrier every [`ROUND`] items so
/// that they keep doing it at the same time. Every share must have the same
/// length. A job's error does not stop its thread (the others would wait
/// at the barrier forever); the first one is returned once all are done.
pub async fn at_once<T, F>(shares: Vec<Vec<T>>, job: F) -> Result<(), String>
where
    T: Send + 'static,
    F: Fn(usize, T) -> Result<(), String> + Send + Sync + 'static,
{
    let len = shares.first().map_or(0, Vec::len);
    assert!(shares.iter().all(|s| s.len() == len), "unequal shares");
    let barrier = Arc::new(Barrier::new(shares.len()));
    let job = Arc::new(job);
    let first_error = Arc::new(Mutex::new(None));
    let threads: Vec<_> = shares
        .into_iter()
        .enumerate()
        .map(|(task, share)| {
            let (barrier, job, first_error) = (barrier.clone(), job.clone(), first_error.clone());
            tokio::task::spawn_blocking(move || {
                for (i, item) in share.into_iter().enumerate() {
                    if i % ROUND == 0 {
                        barrier.wait();
                    }
                    if let Err(e) = job(task, item) {
                        first_error.lock().unwrap().get_or_insert(e);
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.await.unwrap();
    }
    let first = first_error.lock().unwrap().take();
    match first {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// `senders` shares of `0..each` (sequence numbers), for [`at_once`].
pub fn sequences(senders: u32, each: u32) -> Vec<Vec<u32>> {
    (0..senders).map(|_| (0..each).collect()).collect()
}

/// A raw Engine.IO v4 WebSocket client that yields whole Socket.IO
/// packets (answering pings on the way).
pub struct PacketWs {
    pub ws: Ws,
    re: Reassembler<String, Vec<u8>, Vec<Vec<u8>>>,
    /// Packets completed so far (for failure messages).
    pub packets: usize,
}

/// A complete packet: its text frame and its attachments.
pub type Packet = Complete<String, Vec<Vec<u8>>>;

impl PacketWs {
    pub fn new(ws: Ws) -> PacketWs {
        PacketWs {
            ws,
            re: Reassembler::new(Decoder::default()),
            packets: 0,
        }
    }

    /// The next complete Socket.IO packet (3 s per frame at most). Panics
    /// on a frame out of place, which is what interleaved packets look like.
    pub async fn next_packet(&mut self) -> Packet {
        let t0 = Instant::from_millis(0);
        loop {
            let done = match self.ws.next().await {
                crate::sio::Frame::Text(t) if t == "2" => {
                    self.ws.send("3").await;
                    continue;
                }
                crate::sio::Frame::Text(t) => match t.strip_prefix('4') {
                    Some(sio) => self.re.on_text(sio.to_owned(), t0),
                    None => panic!("unexpected Engine.IO packet {t:?}"),
                },
                crate::sio::Frame::Binary(b) => self.re.on_binary(b, t0),
            };
            match done {
                Ok(Some(p)) => {
                    self.packets += 1;
                    return p;
                }
                Ok(None) => {}
                Err(e) => panic!(
                    "frame out of place after {} whole packets (interleaved packets?): {e:?}",
                    self.packets
                ),
            }
        }
    }
}

/// Tallies `bin` events: every event checked against its header, each
/// sender's events counted and checked in order.
#[derive(Default, Debug)]
pub struct Tally {
    /// Next sequence number expected from each sender.
    pub next: BTreeMap<u32, u32>,
    /// Events received.
    pub events: usize,
}

impl Tally {
    /// Checks one packet: a `bin` event (binary) whose attachments are
    /// exactly those its header names, and the next one of its sender.
    pub fn check(&mut self, p: &Packet) {
        let packet = p
            .packet()
            .unwrap_or_else(|e| panic!("bad packet {:?}: {e:?}", p.text()));
        assert_eq!(
            packet.packet_type(),
            PacketType::BinaryEvent,
            "{}",
            p.text()
        );
        assert!(packet.event_name().unwrap() == "bin", "{}", p.text());
        let (sender, seq, bins): (u32, u32, Vec<BinaryBuf>) = packet
            .args()
            .unwrap_or_else(|e| panic!("bad args in {:?}: {e:?}", p.text()));
        let got: Vec<Vec<u8>> = bins.into_iter().map(|b| b.0).collect();
        assert!(
            got == attachments(sender, seq),
            "event {sender}/{seq} ({}) came with attachments {got:?}",
            p.text()
        );
        let next = self.next.entry(sender).or_insert(0);
        assert_eq!(seq, *next, "sender {sender}: event {seq} out of order");
        *next += 1;
        self.events += 1;
    }

    /// Asserts every sender of `senders` sent exactly `per_sender` events.
    pub fn assert_complete(&self, senders: impl IntoIterator<Item = u32>, per_sender: u32) {
        let want: BTreeMap<u32, u32> = senders.into_iter().map(|s| (s, per_sender)).collect();
        assert_eq!(self.next, want);
    }
}
