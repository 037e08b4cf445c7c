//! Messages between the nodes of a cluster, as cluster adapters put them
//! on the wire: conversions between msgpack values (binary as msgpack
//! `bin`; notepack's and @msgpack/msgpack's extensions read), JSON, and
//! oxio's own packet form — a JSON `[event, ...args]` whose binary values
//! are `{"_placeholder":true,"num":N}` objects, plus the attachments.
//! Shared by the Redis adapters (pub/sub and streams) so the format has one
//! implementation. Every decoder is bounded (message length, nesting
//! depth) and returns a typed [`MessageError`], never panics.
//!
//! ```
//! use oxio_adapter::wire::{self, MsgLimits, WirePacket};
//! use oxio_adapter::Outgoing;
//!
//! let out = Outgoing::event("/", None, "hi", &(1,)).unwrap();
//! let p = WirePacket::from_outgoing(&out, 128).unwrap();
//! assert_eq!(p.data, serde_json::json!(["hi", 1]));
//! let bytes = wire::write_msgpack(&p.to_msgpack(128).unwrap());
//! let back = wire::read_msgpack(&bytes, &MsgLimits::default()).unwrap();
//! let mut att = Vec::new();
//! let json = wire::msgpack_to_json(&back, &mut att, 128).unwrap();
//! assert_eq!(json["data"], serde_json::json!(["hi", 1]));
//! assert_eq!(p.to_outgoing(None, oxio_adapter::Parser::Json).unwrap(), out);
//! ```

use crate::{BroadcastFlags, BroadcastOptions, Cause, Outgoing, Room};
use bytes::Bytes;
use rmpv::{Integer, Value};
use serde_json::{Map, Number, Value as Json};
use std::time::Duration;

fn s(text: &str) -> Value {
    Value::String(text.into())
}
/// Why a message from Redis was ignored (or one could not be encoded).
/// Each variant built from a lower error keeps it as its `source()`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MessageError {
    /// Longer than the configured maximum.
    #[error("message of {len} bytes exceeds the {max}-byte limit")]
    TooLarge {
        /// Its length.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// Not valid msgpack.
    #[error("invalid msgpack")]
    Msgpack(#[source] Cause),
    /// Valid msgpack followed by more bytes.
    #[error("invalid msgpack: trailing bytes")]
    TrailingBytes,
    /// A msgpack string that is not UTF-8.
    #[error("invalid msgpack: a string is not UTF-8")]
    InvalidUtf8,
    /// Not valid JSON (or not encodable as JSON).
    #[error("invalid JSON")]
    Json(#[source] Cause),
    /// Nested deeper than the configured maximum.
    #[error("message nested too deeply")]
    TooDeep,
    /// Valid encoding, but not the expected shape (the field named is wrong).
    #[error("unexpected message shape: {0}")]
    Shape(&'static str),
    /// The packet could not be decoded or encoded as a Socket.IO frame.
    #[error("bad packet")]
    Packet(#[source] oxio_codec::socketio::Error),
}

/// Bounds on what is decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MsgLimits {
    /// The longest message accepted, in bytes (default 16 MiB).
    pub max_len: usize,
    /// The deepest nesting accepted (default 128).
    pub max_depth: usize,
}

impl Default for MsgLimits {
    fn default() -> Self {
        MsgLimits {
            max_len: 16 * 1024 * 1024,
            max_depth: 128,
        }
    }
}

/// A Socket.IO packet in oxio's form: `[event, ...args]` as JSON with
/// placeholders, and the binary attachments.
#[derive(Debug, Clone, PartialEq)]
pub struct WirePacket {
    /// The namespace.
    pub nsp: String,
    /// `[event, ...args]`, binary values as placeholders.
    pub data: Json,
    /// The binary values, in placeholder order.
    pub attachments: Vec<Bytes>,
}

/// Fails when `bytes` is longer than `limits.max_len`.
pub fn check_len(bytes: &[u8], limits: &MsgLimits) -> Result<(), MessageError> {
    if bytes.len() > limits.max_len {
        return Err(MessageError::TooLarge {
            len: bytes.len(),
            max: limits.max_len,
        });
    }
    Ok(())
}

/// Decodes one msgpack value filling all of `bytes`, within `limits`.
pub fn read_msgpack(bytes: &[u8], limits: &MsgLimits) -> Result<Value, MessageError> {
    check_len(bytes, limits)?;
    let mut rd = bytes;
    let v = rmpv::decode::read_value_with_max_depth(&mut rd, limits.max_depth).map_err(|e| {
        if matches!(e, rmpv::decode::Error::DepthLimitExceeded) {
            MessageError::TooDeep
        } else {
            MessageError::Msgpack(Cause::new(e))
        }
    })?;
    if !rd.is_empty() {
        return Err(MessageError::TrailingBytes);
    }
    Ok(v)
}

/// Encodes a msgpack value.
pub fn write_msgpack(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = rmpv::encode::write_value(&mut out, v);
    out
}
/// A JSON array of room names (numbers are taken as their text).
pub fn room_list(v: &Json) -> Vec<Room> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| match r {
                    Json::String(s) => Some(Room::from(s.as_str())),
                    // Node rooms may be numbers (Set of any); they travel as numbers.
                    Json::Number(n) => Some(Room::from(n.to_string().as_str())),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Broadcast options from their JSON form `{rooms, except, flags}`.
pub fn opts_from_json(v: &Json) -> BroadcastOptions {
    let mut opts = BroadcastOptions {
        rooms: v.get("rooms").map(room_list).unwrap_or_default(),
        except: v.get("except").map(room_list).unwrap_or_default(),
        flags: BroadcastFlags::default(),
    };
    if let Some(flags) = v.get("flags") {
        opts.flags.volatile = flags.get("volatile").and_then(Json::as_bool) == Some(true);
        opts.flags.local = flags.get("local").and_then(Json::as_bool) == Some(true);
        opts.flags.timeout = flags
            .get("timeout")
            .and_then(Json::as_u64)
            .map(Duration::from_millis);
    }
    opts
}

/// Broadcast options as JSON `{rooms, except[, flags]}`, as Node's adapters encode them.
pub fn opts_to_json(opts: &BroadcastOptions, with_flags: bool) -> Json {
    let mut m = Map::new();
    m.insert(
        "rooms".into(),
        Json::Array(opts.rooms.iter().map(|r| Json::from(&**r)).collect()),
    );
    m.insert(
        "except".into(),
        Json::Array(opts.except.iter().map(|r| Json::from(&**r)).collect()),
    );
    if with_flags {
        m.insert("flags".into(), flags_to_json(&opts.flags));
    }
    Json::Object(m)
}

fn flags_to_json(flags: &BroadcastFlags) -> Json {
    let mut f = Map::new();
    if flags.volatile {
        f.insert("volatile".into(), Json::Bool(true));
    }
    if flags.local {
        f.insert("local".into(), Json::Bool(true));
    }
    if let Some(t) = flags.timeout {
        let ms = u64::try_from(t.as_millis()).unwrap_or(u64::MAX);
        f.insert("timeout".into(), Json::from(ms));
    }
    Json::Object(f)
}

/// Days since 1970-01-01 to a civil date (proleptic Gregorian).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z.saturating_add(719_468);
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A JS Date (ms since the epoch) as `JSON.stringify` writes it.
pub fn iso_date(ms: i64) -> Json {
    // JS Dates span ±8.64e15 ms; beyond that JSON.stringify writes null.
    if !(-8_640_000_000_000_000..=8_640_000_000_000_000).contains(&ms) {
        return Json::Null;
    }
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    let (h, mi, sec, milli) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    );
    let year = if (0..=9999).contains(&y) {
        format!("{y:04}")
    } else {
        format!("{}{:06}", if y < 0 { '-' } else { '+' }, y.unsigned_abs())
    };
    Json::String(format!(
        "{year}-{m:02}-{d:02}T{h:02}:{mi:02}:{sec:02}.{milli:03}Z"
    ))
}

/// The placeholder object of attachment `n`.
pub fn placeholder(n: usize) -> Json {
    let mut m = Map::new();
    m.insert("_placeholder".into(), Json::Bool(true));
    m.insert("num".into(), Json::from(n));
    Json::Object(m)
}

/// The attachment number of a placeholder object.
pub fn as_placeholder(m: &Map<String, Json>) -> Option<usize> {
    if m.len() == 2 && m.get("_placeholder") == Some(&Json::Bool(true)) {
        return m
            .get("num")
            .and_then(Json::as_u64)
            .and_then(|n| usize::try_from(n).ok());
    }
    None
}

/// A notepack value as JSON; binary values become placeholders and go to
/// `attachments` (at most `max_attachments`). Depth is bounded by the
/// decoder's limit, which bounds this recursion too.
pub fn msgpack_to_json(
    v: &Value,
    attachments: &mut Vec<Bytes>,
    depth: usize,
) -> Result<Json, MessageError> {
    let depth = depth.checked_sub(1).ok_or(MessageError::TooDeep)?;
    let bin = |b: &[u8], attachments: &mut Vec<Bytes>| {
        attachments.push(Bytes::copy_from_slice(b));
        placeholder(attachments.len() - 1)
    };
    Ok(match v {
        Value::Nil => Json::Null,
        Value::Boolean(b) => Json::Bool(*b),
        Value::Integer(i) => int_to_json(i),
        Value::F32(f) => Number::from_f64(f64::from(*f)).map_or(Json::Null, Json::Number),
        Value::F64(f) => Number::from_f64(*f).map_or(Json::Null, Json::Number),
        Value::String(s) => match s.as_str() {
            Some(s) => Json::String(s.to_owned()),
            None => return Err(MessageError::InvalidUtf8),
        },
        Value::Binary(b) => bin(b, attachments),
        Value::Array(a) => Json::Array(
            a.iter()
                .map(|x| msgpack_to_json(x, attachments, depth))
                .collect::<Result<_, _>>()?,
        ),
        Value::Map(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let key = match k {
                    Value::String(s) => s.as_str().unwrap_or_default().to_owned(),
                    Value::Integer(i) => i.to_string(),
                    _ => continue,
                };
                // notepack writes `undefined` members too; JSON drops them.
                if matches!(v, Value::Ext(0, d) if d.len() == 1) {
                    continue;
                }
                out.insert(key, msgpack_to_json(v, attachments, depth)?);
            }
            Json::Object(out)
        }
        // notepack: fixext1 type 0 is `undefined`, fixext8 type 0 a Date,
        // other type-0 exts an ArrayBuffer; type -1 the msgpack timestamp.
        Value::Ext(0, d) if d.len() == 1 => Json::Null,
        Value::Ext(0, d) if d.len() == 8 => {
            let (hi, lo) = d.split_at(4);
            let hi = i32::from_be_bytes(hi.try_into().unwrap_or_default());
            let lo = u32::from_be_bytes(lo.try_into().unwrap_or_default());
            iso_date(i64::from(hi) * (1i64 << 32) + i64::from(lo))
        }
        Value::Ext(0, d) => bin(d, attachments),
        Value::Ext(-1, d) if d.len() == 4 => {
            let secs = u32::from_be_bytes(d.as_slice().try_into().unwrap_or_default());
            iso_date(i64::from(secs) * 1000)
        }
        Value::Ext(-1, d) if d.len() == 8 => {
            let all = u64::from_be_bytes(d.as_slice().try_into().unwrap_or_default());
            let secs = (all & 0x3_ffff_ffff) as i64;
            let nanos = (all >> 34) as i64;
            iso_date(secs.saturating_mul(1000) + nanos / 1_000_000)
        }
        Value::Ext(-1, d) if d.len() == 12 => {
            let (n, sec) = d.split_at(4);
            let nanos = u32::from_be_bytes(n.try_into().unwrap_or_default());
            let secs = i64::from_be_bytes(sec.try_into().unwrap_or_default());
            iso_date(secs.saturating_mul(1000) + i64::from(nanos / 1_000_000))
        }
        Value::Ext(t, d) => Json::Array(vec![Json::from(*t), bin(d, attachments)]),
    })
}

fn int_to_json(i: &Integer) -> Json {
    if let Some(u) = i.as_u64() {
        Json::from(u)
    } else if let Some(n) = i.as_i64() {
        Json::from(n)
    } else {
        Json::Null
    }
}

/// JSON with placeholders to a notepack value, binary as `bin`. Depth is
/// bounded by `depth` (JSON parsed here is itself depth-limited).
pub fn json_to_msgpack(
    v: &Json,
    attachments: &[Bytes],
    depth: usize,
) -> Result<Value, MessageError> {
    let depth = depth.checked_sub(1).ok_or(MessageError::TooDeep)?;
    Ok(match v {
        Json::Null => Value::Nil,
        Json::Bool(b) => Value::Boolean(*b),
        Json::Number(n) => {
            if let Some(u) = n.as_u64() {
                Value::from(u)
            } else if let Some(i) = n.as_i64() {
                Value::from(i)
            } else {
                Value::F64(n.as_f64().unwrap_or(0.0))
            }
        }
        Json::String(s) => Value::String(s.as_str().into()),
        Json::Array(a) => Value::Array(
            a.iter()
                .map(|x| json_to_msgpack(x, attachments, depth))
                .collect::<Result<_, _>>()?,
        ),
        Json::Object(m) => {
            if let Some(n) = as_placeholder(m) {
                let b = attachments
                    .get(n)
                    .ok_or(MessageError::Shape("placeholder without attachment"))?;
                return Ok(Value::Binary(b.to_vec()));
            }
            Value::Map(
                m.iter()
                    .map(|(k, v)| Ok((s(k), json_to_msgpack(v, attachments, depth)?)))
                    .collect::<Result<_, MessageError>>()?,
            )
        }
    })
}

/// Replaces placeholders with the JSON form of a Node Buffer
/// (`{"type":"Buffer","data":[..]}`), for messages that are pure JSON.
pub fn inline_buffers(v: &mut Json, attachments: &[Bytes], depth: usize) {
    let Some(depth) = depth.checked_sub(1) else {
        return;
    };
    match v {
        Json::Array(a) => a
            .iter_mut()
            .for_each(|x| inline_buffers(x, attachments, depth)),
        Json::Object(m) => {
            if let Some(b) = as_placeholder(m).and_then(|n| attachments.get(n)) {
                let mut o = Map::new();
                o.insert("type".into(), Json::from("Buffer"));
                o.insert(
                    "data".into(),
                    Json::Array(b.iter().map(|x| Json::from(*x)).collect()),
                );
                *v = Json::Object(o);
            } else {
                m.values_mut()
                    .for_each(|x| inline_buffers(x, attachments, depth));
            }
        }
        _ => {}
    }
}

/// The `[event, ...args]` of an EVENT packet, as JSON with placeholders.
pub fn packet_from_outgoing(
    packet: &Outgoing,
    max_depth: usize,
) -> Result<WirePacket, MessageError> {
    if let Some(frame) = packet.msgpack_frame() {
        return packet_from_msgpack(frame, max_depth);
    }
    let decoded = oxio_codec::socketio::Decoder::default()
        .decode(packet.text().as_str())
        .map_err(MessageError::Packet)?;
    let payload = decoded.payload().ok_or(MessageError::Shape("data"))?;
    let data = parse_json(payload, max_depth)?;
    Ok(WirePacket {
        nsp: decoded.namespace().to_owned(),
        data,
        attachments: packet.attachments().cloned().collect(),
    })
}

/// [`packet_from_outgoing`] for a packet of the msgpack parser: its
/// `data` (bytes inline) becomes JSON with placeholders and attachments,
/// the form every message to other nodes is built from.
fn packet_from_msgpack(frame: &[u8], max_depth: usize) -> Result<WirePacket, MessageError> {
    let limits = oxio_codec::Limits {
        max_packet_len: usize::MAX,
        max_depth,
        ..oxio_codec::Limits::DEFAULT
    };
    let decoded = oxio_codec::msgpack::Decoder::new(limits)
        .decode(frame)
        .map_err(MessageError::Packet)?;
    let raw = decoded.raw_data().ok_or(MessageError::Shape("data"))?;
    let lim = MsgLimits {
        max_len: usize::MAX,
        max_depth,
    };
    let mut attachments = Vec::new();
    let data = msgpack_to_json(&read_msgpack(raw, &lim)?, &mut attachments, max_depth)?;
    Ok(WirePacket {
        nsp: decoded.namespace().to_owned(),
        data,
        attachments,
    })
}

/// Parses JSON text, refusing values nested deeper than `max_depth`.
pub fn parse_json(text: &str, max_depth: usize) -> Result<Json, MessageError> {
    // serde_json's own recursion limit (128) bounds parsing; ours bounds
    // the conversions that follow.
    let v: Json = serde_json::from_str(text).map_err(|e| MessageError::Json(Cause::new(e)))?;
    if json_depth_exceeds(&v, max_depth) {
        return Err(MessageError::TooDeep);
    }
    Ok(v)
}

/// Whether `v` nests deeper than `max`, checked iteratively.
fn json_depth_exceeds(v: &Json, max: usize) -> bool {
    let mut stack = vec![(v, 1usize)];
    while let Some((v, d)) = stack.pop() {
        if d > max {
            return true;
        }
        match v {
            Json::Array(a) => stack.extend(a.iter().map(|x| (x, d + 1))),
            Json::Object(m) => stack.extend(m.values().map(|x| (x, d + 1))),
            _ => {}
        }
    }
    false
}

impl WirePacket {
    /// See [`packet_from_outgoing`].
    pub fn from_outgoing(packet: &Outgoing, max_depth: usize) -> Result<Self, MessageError> {
        packet_from_outgoing(packet, max_depth)
    }

    /// The packet as a Socket.IO frame for local clients (`ack_id` for a
    /// broadcast with acks), in the local server's `parser`.
    pub fn to_outgoing(
        &self,
        ack_id: Option<u64>,
        parser: crate::Parser,
    ) -> Result<Outgoing, MessageError> {
        let arr = self.data.as_array().ok_or(MessageError::Shape("data"))?;
        let Some(Json::String(event)) = arr.first() else {
            return Err(MessageError::Shape("event name"));
        };
        if parser == crate::Parser::Msgpack {
            let depth = usize::MAX;
            let args = arr
                .get(1..)
                .unwrap_or_default()
                .iter()
                .map(|a| {
                    Ok(write_msgpack(&json_to_msgpack(
                        a,
                        &self.attachments,
                        depth,
                    )?))
                })
                .collect::<Result<Vec<_>, MessageError>>()?;
            let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
            let frame = oxio_codec::msgpack::Encoder::default()
                .event_raw_to_vec(&self.nsp, ack_id, event, &refs)
                .map_err(MessageError::Packet)?;
            return Ok(Outgoing::from_msgpack(Bytes::from(frame)));
        }
        let mut text = String::new();
        if self.attachments.is_empty() {
            text.push('2');
        } else {
            text.push('5');
            text.push_str(&self.attachments.len().to_string());
            text.push('-');
        }
        if self.nsp != "/" {
            text.push_str(&self.nsp);
            text.push(',');
        }
        if let Some(id) = ack_id {
            text.push_str(&id.to_string());
        }
        text.push_str(
            &serde_json::to_string(&self.data).map_err(|e| MessageError::Json(Cause::new(e)))?,
        );
        Ok(Outgoing::from_parts(
            crate::Utf8Bytes::from(text),
            self.attachments.clone(),
        ))
    }

    /// The packet as msgpack `{type: 2, data, nsp}`, binary as `bin`.
    pub fn to_msgpack(&self, max_depth: usize) -> Result<Value, MessageError> {
        Ok(Value::Map(vec![
            (s("type"), Value::from(2)),
            (
                s("data"),
                json_to_msgpack(&self.data, &self.attachments, max_depth)?,
            ),
            (s("nsp"), s(&self.nsp)),
        ]))
    }
}

/// A packet from its JSON object form `{type: 2|5, nsp?, data}`.
pub fn wire_packet_from_json(
    packet: &Map<String, Json>,
    attachments: Vec<Bytes>,
) -> Result<WirePacket, MessageError> {
    match packet.get("type").and_then(Json::as_u64) {
        // EVENT, or BINARY_EVENT from an encoder that set it.
        Some(2) | Some(5) => {}
        _ => return Err(MessageError::Shape("packet type")),
    }
    let nsp = match packet.get("nsp") {
        None | Some(Json::Null) => "/".to_owned(),
        Some(Json::String(s)) => s.clone(),
        Some(_) => return Err(MessageError::Shape("packet nsp")),
    };
    let data = packet.get("data").cloned().unwrap_or(Json::Null);
    if !matches!(
        data.as_array().and_then(|a| a.first()),
        Some(Json::String(_))
    ) {
        return Err(MessageError::Shape("packet data"));
    }
    Ok(WirePacket {
        nsp,
        data,
        attachments,
    })
}
