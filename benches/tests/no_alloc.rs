//! The decode paths (and encoding into a caller's slice) allocate nothing.
//!
//! A counting `#[global_allocator]` wraps the system allocator. Counting is
//! switched on per thread (the test harness runs tests on parallel threads,
//! and each test counts only its own allocations). Every path runs in a loop
//! over the benchmark inputs; `the_counter_sees_allocations` proves the
//! counter counts, so a zero elsewhere means something.
#![deny(unsafe_code)]

use oxio_benches::{
    binary_event, eio_text_packet, event, noise, payload_v3_binary, payload_v3_text, payload_v4,
    EventSize, Item, EVENT_NAME,
};
use oxio_codec::engineio::payload::{v3_binary, v3_text, v4};
use oxio_codec::engineio::{Base64, Data, Packet, Version};
use oxio_codec::socketio::{Binary, Decoder, Encoder, Reassembler};
use oxio_codec::{Instant, Limits};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;

/// Rounds per path: enough to catch an allocation that happens only
/// sometimes (a buffer grown on the n-th call).
const ROUNDS: usize = 200;

thread_local! {
    // `const` initialisers and no destructors: reading these never allocates.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

fn note_allocation() {
    // `try_with`: the allocator can run while thread-locals are torn down.
    let _ = COUNTING.try_with(|on| {
        if on.get() {
            let _ = COUNT.try_with(|n| n.set(n.get() + 1));
        }
    });
}

/// The system allocator, counting allocations and reallocations made while
/// the current thread has counting on.
struct CountingAllocator;

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged, so `System`'s guarantees hold; the counting touches only
// const-initialised thread-locals and never allocates.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: forwarded as is (see the impl's comment).
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: forwarded as is.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation();
        // SAFETY: forwarded as is.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Allocations `f` makes on this thread.
fn allocations_in(f: impl FnOnce()) -> usize {
    COUNT.with(|n| n.set(0));
    COUNTING.with(|on| on.set(true));
    f();
    COUNTING.with(|on| on.set(false));
    COUNT.with(Cell::get)
}

#[test]
fn the_counter_sees_allocations() {
    // Known allocations, including the codec's own `alloc` conveniences.
    assert_eq!(
        allocations_in(|| drop(black_box(Vec::<u8>::with_capacity(16)))),
        1
    );
    let n = allocations_in(|| {
        for _ in 0..10 {
            let text = Packet::message_text("hello")
                .to_text(Version::V4)
                .expect("text form");
            black_box(text);
        }
    });
    assert_eq!(n, 10);
    let e = event(EventSize::K1);
    let p = Decoder::default().decode(e.frame).expect("valid frame");
    let n = allocations_in(|| {
        let items: Vec<Item<'_>> = p.args().expect("items");
        black_box(items);
    });
    assert!(n >= 1, "a Vec target allocates: {n}");
    // And nothing is counted when nothing allocates.
    assert_eq!(
        allocations_in(|| {
            black_box([0u8; 64]);
        }),
        0
    );
}

#[test]
fn engineio_packet_decode_allocates_nothing() {
    let texts: Vec<&str> = EventSize::ALL
        .iter()
        .map(|s| eio_text_packet(s.bytes()))
        .collect();
    let data = noise(4096, 3);
    let b64 = format!("b{}", oxio_benches::base64(data));
    let v3_frame: Vec<u8> = [&[4u8][..], data].concat();
    let mut out = vec![0u8; data.len()];
    let n = allocations_in(|| {
        for _ in 0..ROUNDS {
            for text in &texts {
                let p = Packet::decode_text(black_box(text), Version::V4).expect("text packet");
                assert_eq!(p.data.len(), text.len() - 1);
            }
            let p = Packet::decode_text(black_box(&b64), Version::V4).expect("base64 packet");
            let Data::Base64(b) = p.data else {
                panic!("not base64")
            };
            assert_eq!(b.decode_into(&mut out).expect("fits"), data);
            let p = Packet::decode_binary(black_box(data), Version::V4).expect("v4 frame");
            assert_eq!(p.data.len(), data.len());
            let p = Packet::decode_binary(black_box(&v3_frame), Version::V3).expect("v3 frame");
            assert_eq!(p, Packet::message_binary(data));
            assert!(Base64::new("AQIDBA==").is_ok());
        }
    });
    assert_eq!(n, 0);
}

#[test]
fn payload_iteration_allocates_nothing() {
    let limits = Limits::default();
    let (p4, p3t, p3b) = (payload_v4(), payload_v3_text(), payload_v3_binary());
    let n = allocations_in(|| {
        for _ in 0..ROUNDS / 20 {
            let count = v4::decode_bytes(black_box(p4.body), &limits)
                .map(|p| p.expect("valid").data.len())
                .sum::<usize>();
            assert_eq!(count, p4.data_bytes);
            let count = v3_text::decode_bytes(black_box(p3t.body), &limits)
                .map(|p| p.expect("valid").data.len())
                .sum::<usize>();
            assert_eq!(count, p3t.data_bytes);
            let count = v3_binary::decode(black_box(p3b.body), &limits)
                .map(|p| p.expect("valid").data.len())
                .sum::<usize>();
            assert_eq!(count, p3b.data_bytes);
        }
    });
    assert_eq!(n, 0);
}

/// A borrowed argument struct, as a handler would declare it.
#[derive(serde::Deserialize, Debug, PartialEq)]
struct Chat<'a> {
    room: &'a str,
    text: &'a str,
    seq: u64,
    urgent: bool,
}

#[test]
fn socketio_decode_allocates_nothing() {
    let decoder = Decoder::default();
    let events: Vec<_> = EventSize::ALL.iter().map(|s| event(*s)).collect();
    let small = event(EventSize::B60);
    let k1 = event(EventSize::K1);
    let chat =
        r#"2/chat,17["chat",{"room":"lobby","text":"hello there","seq":42,"urgent":false},3]"#;
    let escaped = r#"2["caf\u00e9 \"au\" lait",1]"#;
    let mut name_buf = [0u8; 32];
    let n = allocations_in(|| {
        for _ in 0..ROUNDS {
            for e in &events {
                // Header + event name: what routing needs.
                let p = decoder.decode(black_box(e.frame)).expect("valid frame");
                assert_eq!(p.event_name().expect("event").as_str(), Some(EVENT_NAME));
                // The opt-in lazy path: header and name now, then the
                // deferred validation.
                let h = decoder
                    .decode_header(black_box(e.frame))
                    .expect("valid header");
                assert_eq!(h.event_name().expect("event").as_str(), Some(EVENT_NAME));
                assert_eq!(h.validate().expect("valid frame"), p);
            }
            let h = decoder
                .decode_header(black_box(chat))
                .expect("valid header");
            let (msg, _): (Chat<'_>, u8) = h.args().expect("chat");
            assert_eq!(msg.room, "lobby");
            // Typed decode into borrowed values, fixed-capacity collections.
            let p = decoder.decode(black_box(small.frame)).expect("valid frame");
            let (items,): (heapless::Vec<Item<'_>, 1>,) = p.args().expect("items");
            assert_eq!(items.as_slice(), small.items.as_slice());
            let p = decoder.decode(black_box(k1.frame)).expect("valid frame");
            let items: heapless::Vec<Item<'_>, 32> = p.args().expect("items");
            assert_eq!(items.as_slice(), k1.items.as_slice());
            let p = decoder.decode(black_box(chat)).expect("valid frame");
            assert!(p.event_name().expect("event") == "chat");
            let (msg, n): (Chat<'_>, u8) = p.args().expect("chat");
            assert_eq!(
                (msg, n, p.namespace(), p.ack_id()),
                (
                    Chat {
                        room: "lobby",
                        text: "hello there",
                        seq: 42,
                        urgent: false
                    },
                    3,
                    "/chat",
                    Some(17)
                )
            );
            // An escaped event name, decoded into a caller's buffer.
            let p = decoder.decode(black_box(escaped)).expect("valid frame");
            let name = p.event_name().expect("event");
            assert!(name == "café \"au\" lait");
            assert_eq!(
                name.unescape_into(&mut name_buf).expect("fits"),
                "café \"au\" lait"
            );
        }
    });
    assert_eq!(n, 0);
}

#[test]
fn reassembly_with_a_heapless_store_allocates_nothing() {
    let fixture = binary_event();
    let [a0, a1] = fixture.attachments;
    let now = Instant::from_millis(0);
    let mut r: Reassembler<&str, &[u8], heapless::Vec<&[u8], 2>> =
        Reassembler::new(Decoder::default());
    let n = allocations_in(|| {
        for _ in 0..ROUNDS {
            assert!(r
                .on_text(black_box(fixture.frame), now)
                .expect("header")
                .is_none());
            assert!(r.on_binary(black_box(a0), now).expect("first").is_none());
            let done = r
                .on_binary(black_box(a1), now)
                .expect("second")
                .expect("complete");
            let p = done.packet().expect("packet");
            assert!(p.event_name().expect("event") == "upload");
            let (x, y): (Binary<'_>, Binary<'_>) = p.args().expect("two attachments");
            assert_eq!((x.0, y.0), (a0, a1));
        }
    });
    assert_eq!(n, 0);
}

#[test]
fn encoding_into_a_slice_allocates_nothing() {
    let encoder = Encoder::default();
    let events: Vec<_> = EventSize::ALL.iter().map(|s| event(*s)).collect();
    let data = noise(1024, 5);
    let mut buf = vec![0u8; 70_000];
    let n = allocations_in(|| {
        for _ in 0..ROUNDS {
            for e in &events {
                let out = encoder
                    .event(&mut buf, "/", None, EVENT_NAME, black_box(&e.items))
                    .expect("fits");
                assert_eq!(buf.get(..out.len), Some(e.frame.as_bytes()));
            }
            let out = encoder
                .ack(&mut buf, "/chat", 7, &(true, "ok"))
                .expect("fits");
            assert_eq!(buf.get(..out.len), Some(&br#"3/chat,7[true,"ok"]"#[..]));
            let mut seen = 0;
            let out = encoder
                .event_with_attachments(&mut buf, "/", None, "up", &(Binary(data),), |_, b| {
                    seen += b.len()
                })
                .expect("fits");
            assert_eq!((out.attachments, seen), (1, data.len()));
            let n = Packet::message_binary(data)
                .encode_text(&mut buf, Version::V4)
                .expect("fits");
            assert_eq!(n, 1 + data.len().div_ceil(3) * 4);
            let n = Packet::message_text("hello")
                .encode_text(&mut buf, Version::V4)
                .expect("fits");
            assert_eq!(buf.get(..n), Some(&b"4hello"[..]));
            let mut w = v4::PayloadWriter::new(&mut buf);
            w.push(&Packet::message_text("a")).expect("fits");
            w.push(&Packet::ping()).expect("fits");
            assert_eq!(w.as_bytes(), b"4a\x1e2");
        }
    });
    assert_eq!(n, 0);
}
