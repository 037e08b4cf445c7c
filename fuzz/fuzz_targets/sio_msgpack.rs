//! The msgpack packet codec (`oxio_codec::msgpack`).
//!
//! Input: any bytes, decoded as one socket.io-msgpack-parser frame with
//! small limits.
//!
//! Invariants:
//! - decoding never panics, and an accepted packet respects the limits
//!   (type 0..=4, namespace length, ack id, depth) and borrows the input;
//! - the typed readers (`args`, `data`, `raw_args`, `event_name`,
//!   `connect_error_message`) never panic on an accepted packet, and every
//!   raw argument is one whole msgpack value;
//! - re-encoding an accepted EVENT or ACK (its arguments read back as
//!   `serde_json::Value`-like trees through serde) and decoding that gives
//!   the same header and the same arguments again (encode → decode →
//!   encode is stable);
//! - `from_slice` on any input never panics, and `to_vec` of what it read
//!   reads back as the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oxio_codec::msgpack::{self, Decoder, Encoder};
use oxio_codec::socketio::{Args, PacketType};
use oxio_codec::Limits;
use serde::de::IgnoredAny;

/// A msgpack value as serde sees it (compared through `Debug`, so NaN
/// equals NaN; maps keyed in order, duplicates merged).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
enum V {
    Null,
    Bool(bool),
    U(u64),
    I(i64),
    F(f64),
    S(String),
    // Before `B`: serde_bytes would also take an array of small numbers.
    A(Vec<V>),
    #[serde(with = "serde_bytes")]
    B(Vec<u8>),
    M(std::collections::BTreeMap<String, V>),
}

/// `v` as the encoder writes it back: a JavaScript number that is integral
/// (and within the integer forms) goes out as an integer, as notepack.io
/// writes it, so a float holding -6973005312.0 comes back as an integer.
fn as_written(v: &V) -> V {
    const TWO_64: f64 = 1.8446744073709552e19;
    const TWO_63: f64 = 9.223_372_036_854_776e18;
    match v {
        V::F(x) if (0.0..TWO_64).contains(x) && (*x as u64) as f64 == *x => V::U(*x as u64),
        V::F(x) if (-TWO_63..0.0).contains(x) && (*x as i64) as f64 == *x => V::I(*x as i64),
        V::A(items) => V::A(items.iter().map(as_written).collect()),
        V::M(map) => V::M(
            map.iter()
                .map(|(k, v)| (k.clone(), as_written(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn within(outer: &[u8], inner: &[u8]) -> bool {
    let o = outer.as_ptr_range();
    let i = inner.as_ptr_range();
    inner.is_empty() || (o.start <= i.start && i.end <= o.end)
}

fuzz_target!(|input: &[u8]| {
    let limits = Limits {
        max_depth: 16,
        max_namespace_len: 64,
        max_ack_id: 1_000_000,
        ..Limits::default()
    };
    // Any bytes as a value: never panics.
    let _ = msgpack::from_slice_with_depth::<IgnoredAny>(input, 16);

    let Ok(p) = Decoder::new(limits).decode(input) else {
        return;
    };
    assert!(!p.packet_type().is_binary());
    assert!(p.namespace().len() <= limits.max_namespace_len);
    assert!(within(input, p.namespace().as_bytes()));
    assert!(p.ack_id().is_none_or(|id| id <= limits.max_ack_id));
    if let Some(d) = p.raw_data() {
        assert!(within(input, d));
        assert!(msgpack::from_slice_with_depth::<IgnoredAny>(d, 16).is_ok());
    }
    let _ = p.event_name();
    let _ = p.connect_error_message();
    let _ = p.data::<IgnoredAny>();
    for raw in p.raw_args() {
        assert!(within(input, raw));
        assert!(msgpack::from_slice_with_depth::<IgnoredAny>(raw, 16).is_ok());
    }
    let enc = Encoder::default();
    let args = match p.packet_type() {
        PacketType::Event | PacketType::Ack => p.args::<Args<Vec<IgnoredAny>>>(),
        _ => return,
    };
    assert!(args.is_ok(), "validated arguments always read: {args:?}");
    // Re-encode through raw values kept as trees.
    let Ok(Args(values)) = p.args::<Args<Vec<V>>>() else {
        return; // a map with non-string keys, a Date, an extension: not a V
    };
    let again = match (p.packet_type(), p.event_name(), p.ack_id()) {
        (PacketType::Event, Some(name), id) => {
            enc.event_to_vec(p.namespace(), id, name, &Args(&values[..]))
        }
        (PacketType::Ack, _, Some(id)) => enc.ack_to_vec(p.namespace(), id, &Args(&values[..])),
        _ => return,
    };
    let Ok(again) = again else {
        return; // a namespace without its leading '/'
    };
    let q = match Decoder::new(limits).decode(&again) {
        Ok(q) => q,
        // An extension reads back as a `[type, bytes]` pair: one level
        // deeper than the leaf it was, so a frame at the depth limit
        // re-encodes past it.
        Err(oxio_codec::socketio::Error::InvalidMsgpack(msgpack::MsgpackError::TooDeep)) => return,
        Err(e) => panic!("our own encoding decodes: {e:?}"),
    };
    assert_eq!(
        (q.packet_type(), q.namespace(), q.ack_id()),
        (p.packet_type(), p.namespace(), p.ack_id())
    );
    let Args(back): Args<Vec<V>> = q.args().expect("reads back");
    let expected: Vec<V> = values.iter().map(as_written).collect();
    assert_eq!(format!("{back:?}"), format!("{expected:?}"));
    let third = match p.packet_type() {
        PacketType::Event => enc.event_to_vec(
            q.namespace(),
            q.ack_id(),
            q.event_name().unwrap_or(""),
            &Args(&back[..]),
        ),
        _ => enc.ack_to_vec(q.namespace(), q.ack_id().unwrap_or(0), &Args(&back[..])),
    };
    assert_eq!(third.ok(), Some(again));
});
