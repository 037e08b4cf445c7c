//! Inputs shared by the oxio micro-benchmarks (`benches/*.rs`), the
//! allocation check (`tests/no_alloc.rs`) and the equivalence check
//! (`tests/equivalence.rs`), so every implementation is measured on the
//! same bytes.
//!
//! Every input is built by hand here (not with any of the encoders under
//! test), deterministically, and leaked once so it is `'static`: the
//! benchmarks can then hand socketioxide a zero-cost `Str::from(&'static str)`
//! and oxio a plain `&str`, the cheapest input each API accepts.
//!
//! ```
//! use oxio_benches::{event, EventSize};
//!
//! let e = event(EventSize::B60);
//! assert_eq!(e.frame.len(), 60);
//! assert!(e.frame.starts_with(r#"2["items",[{"id":0,"#));
//! assert_eq!(e.items.len(), 1);
//! ```
#![forbid(unsafe_code)]

use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// One record of the benchmark event's argument: what a shop or dashboard
/// would push. Only borrowable fields, so a zero-copy decoder can borrow
/// every string (the inputs hold no escapes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item<'a> {
    /// Record id.
    pub id: u32,
    /// Short product name.
    pub name: &'a str,
    /// Price in cents (integers: no float formatting differences between
    /// the implementations compared).
    pub cents: u32,
    /// Free text of varying length.
    pub note: &'a str,
}

/// The event name every Socket.IO fixture uses.
pub const EVENT_NAME: &str = "items";

const NAMES: [&str; 8] = [
    "pen",
    "notebook",
    "stapler",
    "desk lamp",
    "monitor arm",
    "usb-c cable",
    "keyboard",
    "office chair",
];

const NOTES: [&str; 6] = [
    "",
    "ships in 2 days",
    "back-ordered until next month, we will email you",
    "limited edition: only the blue finish this season",
    "free returns",
    "bundle with a matching organiser and save 10 percent at checkout",
];

/// Filler for padding a frame to an exact size (plain ASCII, no escapes).
const LOREM: &str = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor ";

/// The three event sizes of the Socket.IO benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventSize {
    /// A 60-byte frame: one short item (a chat line, a cursor move).
    B60,
    /// A 1 KiB frame: about a dozen items.
    K1,
    /// A 64 KiB frame: several hundred items.
    K64,
}

impl EventSize {
    /// All sizes, smallest first.
    pub const ALL: [EventSize; 3] = [EventSize::B60, EventSize::K1, EventSize::K64];

    /// The exact frame length in bytes.
    pub const fn bytes(self) -> usize {
        match self {
            EventSize::B60 => 60,
            EventSize::K1 => 1024,
            EventSize::K64 => 65536,
        }
    }

    /// The label used in benchmark ids and in RESULTS.md.
    pub const fn label(self) -> &'static str {
        match self {
            EventSize::B60 => "60B",
            EventSize::K1 => "1KB",
            EventSize::K64 => "64KB",
        }
    }
}

/// A Socket.IO event frame and the values it encodes.
#[derive(Debug, Clone)]
pub struct EventFixture {
    /// The Socket.IO text frame (the Engine.IO message body, without the
    /// Engine.IO `4`): `2["items",[{...},...]]`, default namespace, no ack id.
    pub frame: &'static str,
    /// The JSON array after the packet type: `["items",[...]]`.
    pub json: &'static str,
    /// The items in the frame's single argument, in order.
    pub items: Vec<Item<'static>>,
}

fn item_json(out: &mut String, item: &Item<'_>) {
    // Names and notes are plain ASCII without quotes or backslashes, so no
    // escaping is needed. Writing to a String cannot fail.
    let _ = write!(
        out,
        r#"{{"id":{},"name":"{}","cents":{},"note":"{}"}}"#,
        item.id, item.name, item.cents, item.note
    );
}

fn frame_of(items: &[Item<'_>]) -> String {
    let mut s = String::from("2[\"");
    s.push_str(EVENT_NAME);
    s.push_str("\",[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        item_json(&mut s, item);
    }
    s.push_str("]]");
    s
}

fn nth_item(i: usize) -> Item<'static> {
    let id = u32::try_from(i).unwrap_or(u32::MAX);
    Item {
        id,
        name: NAMES.get(i % NAMES.len()).copied().unwrap_or("pen"),
        cents: id.wrapping_mul(7919) % 100_000 + 5,
        note: NOTES.get(i % NOTES.len()).copied().unwrap_or(""),
    }
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// A frame of exactly `len` bytes: as many items as fit, the last item's
/// note padded with filler to land on `len` exactly. `len` must be at least
/// the one-item minimum (54 bytes); smaller requests get that minimum.
///
/// ```
/// let e = oxio_benches::event_of_len(300);
/// assert_eq!(e.frame.len(), 300);
/// assert_eq!(e.json, &e.frame[1..]);
/// ```
pub fn event_of_len(len: usize) -> EventFixture {
    let mut items = vec![nth_item(0)];
    while frame_of(&items).len() < len {
        items.push(nth_item(items.len()));
    }
    if items.len() > 1 && frame_of(&items).len() > len {
        items.pop();
    }
    let short = len.saturating_sub(frame_of(&items).len());
    if let Some(last) = items.last_mut() {
        let mut note = String::from(last.note);
        while note.len() < last.note.len() + short {
            let missing = last.note.len() + short - note.len();
            note.push_str(LOREM.get(..missing.min(LOREM.len())).unwrap_or(""));
        }
        last.note = leak(note);
    }
    let frame = leak(frame_of(&items));
    EventFixture {
        frame,
        json: frame.get(1..).unwrap_or(""),
        items,
    }
}

/// The event frame of one of the benchmark sizes.
pub fn event(size: EventSize) -> EventFixture {
    event_of_len(size.bytes())
}

/// Packets in each polling payload.
pub const PAYLOAD_PACKETS: usize = 1000;

/// A polling payload: its body and what a decoder must find in it.
#[derive(Debug, Clone)]
pub struct PayloadFixture {
    /// The body as sent.
    pub body: &'static [u8],
    /// How many packets it holds.
    pub packets: usize,
    /// The summed length of the packets' data (after the Engine.IO type).
    pub data_bytes: usize,
}

/// An Engine.IO v4 polling body: 1000 `4<socket.io event>` packets joined
/// by `0x1E`, 999 999 bytes (under the default 1 000 000-byte limit).
///
/// ```
/// let p = oxio_benches::payload_v4();
/// assert_eq!(p.body.len(), 999_999);
/// assert_eq!(p.body.iter().filter(|&&b| b == 0x1e).count(), 999);
/// ```
pub fn payload_v4() -> PayloadFixture {
    // 1000 packets of 999 bytes plus 999 separators.
    let event = event_of_len(998);
    let mut body = String::with_capacity(1_000_000);
    for i in 0..PAYLOAD_PACKETS {
        if i > 0 {
            body.push('\u{1e}');
        }
        body.push('4');
        body.push_str(event.frame);
    }
    PayloadFixture {
        body: leak(body).as_bytes(),
        packets: PAYLOAD_PACKETS,
        data_bytes: PAYLOAD_PACKETS * event.frame.len(),
    }
}

/// An Engine.IO v3 text polling body: 1000 `996:4<socket.io event>`
/// entries, exactly 1 000 000 bytes. Every third packet holds non-ASCII
/// text (`é`, `€`, `😀`), so the UTF-16 length rule is exercised.
///
/// ```
/// let p = oxio_benches::payload_v3_text();
/// assert_eq!(p.body.len(), 1_000_000);
/// assert!(p.body.starts_with(b"996:42[\"items\""));
/// assert!(std::str::from_utf8(p.body).unwrap().contains("991:42[\"items\""));
/// ```
pub fn payload_v3_text() -> PayloadFixture {
    let ascii = event_of_len(995);
    // Same byte length, fewer UTF-16 units: é (2 bytes, 1 unit),
    // € (3 bytes, 1 unit) and 😀 (4 bytes, 2 units) replace 9 ASCII bytes.
    let unicode = leak(ascii.frame.replacen("free returns", "é€😀 ok", 1));
    let mut body = String::with_capacity(1_000_000);
    let mut data_bytes = 0;
    for i in 0..PAYLOAD_PACKETS {
        let frame = if i % 3 == 2 && unicode.len() == ascii.frame.len() {
            unicode
        } else {
            ascii.frame
        };
        let units = 1 + frame.encode_utf16().count();
        let _ = write!(body, "{units}:4{frame}");
        data_bytes += frame.len();
    }
    PayloadFixture {
        body: leak(body).as_bytes(),
        packets: PAYLOAD_PACKETS,
        data_bytes,
    }
}

/// An Engine.IO v3 binary (XHR2) polling body: 1000 string entries
/// `00 09 09 05 FF 4<socket.io event>`, exactly 1 000 000 bytes.
///
/// ```
/// let p = oxio_benches::payload_v3_binary();
/// assert_eq!(p.body.len(), 1_000_000);
/// assert_eq!(&p.body[..6], &[0x00, 9, 9, 5, 0xff, b'4']);
/// ```
pub fn payload_v3_binary() -> PayloadFixture {
    let event = event_of_len(994);
    let mut body = Vec::with_capacity(1_000_000);
    for _ in 0..PAYLOAD_PACKETS {
        body.push(0x00);
        let len = 1 + event.frame.len();
        body.extend(len.to_string().bytes().map(|d| d - b'0'));
        body.push(0xff);
        body.push(b'4');
        body.extend_from_slice(event.frame.as_bytes());
    }
    PayloadFixture {
        body: Box::leak(body.into_boxed_slice()),
        packets: PAYLOAD_PACKETS,
        data_bytes: PAYLOAD_PACKETS * event.frame.len(),
    }
}

/// Engine.IO text packets of the benchmark sizes: `4` followed by a
/// socket.io event frame, so the packet is `len` bytes.
///
/// ```
/// assert_eq!(oxio_benches::eio_text_packet(1024).len(), 1024);
/// ```
pub fn eio_text_packet(len: usize) -> &'static str {
    let event = event_of_len(len.saturating_sub(1));
    leak(format!("4{}", event.frame))
}

/// Deterministic pseudo-random bytes (xorshift), for binary payloads that
/// do not compress or repeat.
///
/// ```
/// let a = oxio_benches::noise(16, 1);
/// assert_eq!(a.len(), 16);
/// assert_eq!(a, oxio_benches::noise(16, 1));
/// assert_ne!(a, oxio_benches::noise(16, 2));
/// ```
pub fn noise(len: usize, seed: u64) -> &'static [u8] {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let bytes: Vec<u8> = (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes().first().copied().unwrap_or(0)
        })
        .collect();
    Box::leak(bytes.into_boxed_slice())
}

/// Standard padded base64 of `data`, written here independently of the
/// implementations under test.
///
/// ```
/// assert_eq!(oxio_benches::base64(&[1, 2, 3, 4]), "AQIDBA==");
/// ```
pub fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sym = |v: u32| char::from(ALPHABET.get((v & 63) as usize).copied().unwrap_or(b'A'));
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let v = (b(0) << 16) | (b(1) << 8) | b(2);
        out.push(sym(v >> 18));
        out.push(sym(v >> 12));
        out.push(if chunk.len() > 1 { sym(v >> 6) } else { '=' });
        out.push(if chunk.len() > 2 { sym(v) } else { '=' });
    }
    out
}

/// A binary event with its attachments.
#[derive(Debug, Clone)]
pub struct BinaryFixture {
    /// The Socket.IO text frame announcing the attachments.
    pub frame: &'static str,
    /// The attachments, in order.
    pub attachments: [&'static [u8]; 2],
}

impl BinaryFixture {
    /// Text plus attachment bytes: what crosses the wire.
    pub fn total_bytes(&self) -> usize {
        self.frame.len() + self.attachments.iter().map(|a| a.len()).sum::<usize>()
    }
}

/// Size of each attachment of [`binary_event`].
pub const ATTACHMENT_BYTES: usize = 64 * 1024;

/// `52-["upload",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`
/// followed by two 64 KiB attachments.
///
/// ```
/// let b = oxio_benches::binary_event();
/// assert!(b.frame.starts_with("52-[\"upload\""));
/// assert_eq!(b.attachments[1].len(), 65536);
/// ```
pub fn binary_event() -> BinaryFixture {
    BinaryFixture {
        frame: r#"52-["upload",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
        attachments: [noise(ATTACHMENT_BYTES, 1), noise(ATTACHMENT_BYTES, 2)],
    }
}
