//! The messages of @socket.io/redis-adapter 8.x (docs/protocol.md §6), as
//! bytes: the msgpack broadcast array `[uid, packet, opts]`, and the
//! requests and responses, JSON or msgpack (sniffed on a leading `{`).
//!
//! Packets are converted between the wire's msgpack values (binary as
//! msgpack `bin`) and oxio's own form, a JSON text whose binary values are
//! `{"_placeholder":true,"num":N}` objects plus the attachments. Every
//! decoder is bounded: message length, nesting depth, and no panic on any
//! input.

use bytes::Bytes;
use oxio_adapter::{BroadcastFlags, BroadcastOptions, Cause, Room};
use oxio_adapter::{Outgoing, Parser, Payload};
use rmpv::{Integer, Value};
use serde_json::{Map, Number, Value as Json};
use std::time::Duration;

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
pub(crate) struct MsgLimits {
    pub(crate) max_len: usize,
    pub(crate) max_depth: usize,
}

impl Default for MsgLimits {
    fn default() -> Self {
        MsgLimits {
            max_len: 16 * 1024 * 1024,
            max_depth: 128,
        }
    }
}

/// The request (and response) `type` numbers of the classic adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RequestType {
    Sockets = 0,
    AllRooms = 1,
    RemoteJoin = 2,
    RemoteLeave = 3,
    RemoteDisconnect = 4,
    RemoteFetch = 5,
    ServerSideEmit = 6,
    Broadcast = 7,
    BroadcastClientCount = 8,
    BroadcastAck = 9,
}

impl RequestType {
    pub(crate) fn from_u64(n: u64) -> Option<Self> {
        Some(match n {
            0 => RequestType::Sockets,
            1 => RequestType::AllRooms,
            2 => RequestType::RemoteJoin,
            3 => RequestType::RemoteLeave,
            4 => RequestType::RemoteDisconnect,
            5 => RequestType::RemoteFetch,
            6 => RequestType::ServerSideEmit,
            7 => RequestType::Broadcast,
            8 => RequestType::BroadcastClientCount,
            9 => RequestType::BroadcastAck,
            _ => return None,
        })
    }
}

/// A Socket.IO packet in oxio's form: `[event, ...args]` as JSON with
/// placeholders, and the binary attachments.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WirePacket {
    pub(crate) nsp: String,
    pub(crate) data: Json,
    pub(crate) attachments: Vec<Bytes>,
}

/// A broadcast received on `<prefix>#<nsp>#...`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RemoteBroadcast {
    pub(crate) uid: String,
    pub(crate) packet: WirePacket,
    pub(crate) opts: BroadcastOptions,
}

/// A decoded request or response: its fields as JSON (binary values are
/// placeholders into `attachments`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Envelope {
    pub(crate) fields: Map<String, Json>,
    pub(crate) attachments: Vec<Bytes>,
}

impl Envelope {
    pub(crate) fn str_field(&self, key: &str) -> Option<&str> {
        self.fields.get(key).and_then(Json::as_str)
    }

    pub(crate) fn kind(&self) -> Option<RequestType> {
        self.fields
            .get("type")
            .and_then(Json::as_u64)
            .and_then(RequestType::from_u64)
    }

    /// `opts: {rooms, except}` (absent: every socket).
    pub(crate) fn opts(&self) -> BroadcastOptions {
        self.fields
            .get("opts")
            .map(opts_from_json)
            .unwrap_or_default()
    }

    /// A string array field (`rooms`).
    pub(crate) fn rooms(&self, key: &str) -> Vec<Room> {
        self.fields.get(key).map(room_list).unwrap_or_default()
    }

    /// The `packet` field of a BROADCAST request as a packet.
    pub(crate) fn packet(&self) -> Result<WirePacket, MessageError> {
        let packet = self
            .fields
            .get("packet")
            .and_then(Json::as_object)
            .ok_or(MessageError::Shape("packet"))?;
        wire_packet_from_json(packet, self.attachments.clone())
    }
}

fn check_len(bytes: &[u8], limits: &MsgLimits) -> Result<(), MessageError> {
    if bytes.len() > limits.max_len {
        return Err(MessageError::TooLarge {
            len: bytes.len(),
            max: limits.max_len,
        });
    }
    Ok(())
}

fn read_msgpack(bytes: &[u8], limits: &MsgLimits) -> Result<Value, MessageError> {
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

fn write_msgpack(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = rmpv::encode::write_value(&mut out, v);
    out
}

fn s(text: &str) -> Value {
    Value::String(text.into())
}

fn room_list(v: &Json) -> Vec<Room> {
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

fn opts_from_json(v: &Json) -> BroadcastOptions {
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

fn opts_to_json(opts: &BroadcastOptions, with_flags: bool) -> Json {
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
fn iso_date(ms: i64) -> Json {
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

fn placeholder(n: usize) -> Json {
    let mut m = Map::new();
    m.insert("_placeholder".into(), Json::Bool(true));
    m.insert("num".into(), Json::from(n));
    Json::Object(m)
}

fn as_placeholder(m: &Map<String, Json>) -> Option<usize> {
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
fn to_json(v: &Value, attachments: &mut Vec<Bytes>, depth: usize) -> Result<Json, MessageError> {
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
                .map(|x| to_json(x, attachments, depth))
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
                out.insert(key, to_json(v, attachments, depth)?);
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
fn to_msgpack(v: &Json, attachments: &[Bytes], depth: usize) -> Result<Value, MessageError> {
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
                .map(|x| to_msgpack(x, attachments, depth))
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
                    .map(|(k, v)| Ok((s(k), to_msgpack(v, attachments, depth)?)))
                    .collect::<Result<_, MessageError>>()?,
            )
        }
    })
}

/// Replaces placeholders with the JSON form of a Node Buffer
/// (`{"type":"Buffer","data":[..]}`), for messages that are pure JSON.
pub(crate) fn inline_buffers(v: &mut Json, attachments: &[Bytes], depth: usize) {
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
pub(crate) fn packet_from_outgoing(
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
    let data = to_json(&read_msgpack(raw, &lim)?, &mut attachments, max_depth)?;
    Ok(WirePacket {
        nsp: decoded.namespace().to_owned(),
        data,
        attachments,
    })
}

fn parse_json(text: &str, max_depth: usize) -> Result<Json, MessageError> {
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
    /// The packet as a Socket.IO frame for local clients (`ack_id` for a
    /// broadcast with acks).
    pub(crate) fn to_outgoing(
        &self,
        ack_id: Option<u64>,
        parser: Parser,
    ) -> Result<Outgoing, MessageError> {
        let arr = self.data.as_array().ok_or(MessageError::Shape("data"))?;
        let Some(Json::String(event)) = arr.first() else {
            return Err(MessageError::Shape("event name"));
        };
        if parser == Parser::Msgpack {
            let depth = usize::MAX;
            let args = arr
                .get(1..)
                .unwrap_or_default()
                .iter()
                .map(|a| Ok(write_msgpack(&to_msgpack(a, &self.attachments, depth)?)))
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
            oxio_adapter::Utf8Bytes::from(text),
            self.attachments.clone(),
        ))
    }

    fn to_msgpack(&self, max_depth: usize) -> Result<Value, MessageError> {
        Ok(Value::Map(vec![
            (s("type"), Value::from(2)),
            (
                s("data"),
                to_msgpack(&self.data, &self.attachments, max_depth)?,
            ),
            (s("nsp"), s(&self.nsp)),
        ]))
    }
}

fn wire_packet_from_json(
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

/// `[uid, packet, opts]`, notepack-encoded, as Node publishes on
/// `<prefix>#<nsp>#`.
pub(crate) fn encode_broadcast(
    uid: &str,
    packet: &WirePacket,
    opts: &BroadcastOptions,
    max_depth: usize,
) -> Result<Vec<u8>, MessageError> {
    let opts = to_msgpack(&opts_to_json(opts, true), &[], max_depth)?;
    Ok(write_msgpack(&Value::Array(vec![
        s(uid),
        packet.to_msgpack(max_depth)?,
        opts,
    ])))
}

/// Decodes `[uid, packet, opts]`.
pub(crate) fn decode_broadcast(
    bytes: &[u8],
    limits: &MsgLimits,
) -> Result<RemoteBroadcast, MessageError> {
    let v = read_msgpack(bytes, limits)?;
    let arr = v.as_array().ok_or(MessageError::Shape("broadcast array"))?;
    let uid = arr
        .first()
        .and_then(Value::as_str)
        .ok_or(MessageError::Shape("uid"))?
        .to_owned();
    let mut attachments = Vec::new();
    let packet = match arr.get(1) {
        Some(p @ Value::Map(_)) => to_json(p, &mut attachments, limits.max_depth)?,
        _ => return Err(MessageError::Shape("packet")),
    };
    let packet = wire_packet_from_json(
        packet.as_object().ok_or(MessageError::Shape("packet"))?,
        attachments,
    )?;
    let opts = match arr.get(2) {
        Some(o @ Value::Map(_)) => {
            let mut none = Vec::new();
            opts_from_json(&to_json(o, &mut none, limits.max_depth)?)
        }
        None | Some(Value::Nil) => BroadcastOptions::default(),
        Some(_) => return Err(MessageError::Shape("opts")),
    };
    Ok(RemoteBroadcast { uid, packet, opts })
}

/// Decodes a request or response: JSON when it starts with `{`, notepack
/// msgpack otherwise.
pub(crate) fn decode_envelope(bytes: &[u8], limits: &MsgLimits) -> Result<Envelope, MessageError> {
    check_len(bytes, limits)?;
    if bytes.first() == Some(&b'{') {
        let text = std::str::from_utf8(bytes).map_err(|e| MessageError::Json(Cause::new(e)))?;
        match parse_json(text, limits.max_depth)? {
            Json::Object(fields) => Ok(Envelope {
                fields,
                attachments: Vec::new(),
            }),
            _ => Err(MessageError::Shape("object")),
        }
    } else {
        let v = read_msgpack(bytes, limits)?;
        if !matches!(v, Value::Map(_)) {
            return Err(MessageError::Shape("map"));
        }
        let mut attachments = Vec::new();
        match to_json(&v, &mut attachments, limits.max_depth)? {
            Json::Object(fields) => Ok(Envelope {
                fields,
                attachments,
            }),
            _ => Err(MessageError::Shape("map")),
        }
    }
}

/// A JSON request or response.
pub(crate) fn encode_json(fields: Json) -> Vec<u8> {
    serde_json::to_vec(&fields).unwrap_or_default()
}

/// `{uid, requestId, type: 7, packet, opts}`, notepack (it may carry binary).
pub(crate) fn encode_broadcast_request(
    uid: &str,
    request_id: &str,
    packet: &WirePacket,
    opts: &BroadcastOptions,
    max_depth: usize,
) -> Result<Vec<u8>, MessageError> {
    let opts = to_msgpack(&opts_to_json(opts, true), &[], max_depth)?;
    Ok(write_msgpack(&Value::Map(vec![
        (s("uid"), s(uid)),
        (s("requestId"), s(request_id)),
        (s("type"), Value::from(RequestType::Broadcast as u8)),
        (s("packet"), packet.to_msgpack(max_depth)?),
        (s("opts"), opts),
    ])))
}

/// `{type: 9, requestId, packet}`, notepack: `packet` is the client's
/// first ack argument (binary as `bin`).
pub(crate) fn encode_broadcast_ack(
    request_id: &str,
    payload: &Payload,
    max_depth: usize,
) -> Result<Vec<u8>, MessageError> {
    if payload.raw_msgpack().is_some() {
        let lim = MsgLimits {
            max_len: usize::MAX,
            max_depth,
        };
        let first = match payload.raw_msgpack_args().next() {
            Some(raw) => read_msgpack(raw, &lim)?,
            None => Value::Nil,
        };
        return Ok(write_msgpack(&Value::Map(vec![
            (s("type"), Value::from(RequestType::BroadcastAck as u8)),
            (s("requestId"), s(request_id)),
            (s("packet"), first),
        ])));
    }
    let args = parse_json(payload.raw(), max_depth)?;
    let first = args
        .as_array()
        .and_then(|a| a.first())
        .cloned()
        .unwrap_or(Json::Null);
    Ok(write_msgpack(&Value::Map(vec![
        (s("type"), Value::from(RequestType::BroadcastAck as u8)),
        (s("requestId"), s(request_id)),
        (
            s("packet"),
            to_msgpack(&first, payload.attachments(), max_depth)?,
        ),
    ])))
}

/// The `packet` of a BROADCAST_ACK response as an ack [`Payload`] with
/// one argument.
pub(crate) fn ack_payload(env: &Envelope, max_depth: usize) -> Result<Payload, MessageError> {
    let first = env.fields.get("packet").cloned().unwrap_or(Json::Null);
    let text = serde_json::to_string(&Json::Array(vec![first]))
        .map_err(|e| MessageError::Json(Cause::new(e)))?;
    Ok(Payload::new(
        oxio_adapter::Utf8Bytes::from(text),
        0,
        0,
        env.attachments.clone(),
        max_depth,
    ))
}

/// JSON `opts: {rooms, except}` for the remote join/leave/disconnect/fetch requests.
pub(crate) fn opts_json(opts: &BroadcastOptions) -> Json {
    opts_to_json(opts, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lim() -> MsgLimits {
        MsgLimits::default()
    }

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn rooms(r: &[&str]) -> Vec<Room> {
        r.iter().map(|x| Room::from(*x)).collect()
    }

    /// docs/protocol.md §6's example: `[uid, {type:2,data:["hello","you"],nsp:"/"}, {rooms:["room1"],except:[],flags:{}}]`.
    const EXAMPLE: &str = "93 a6 616263313233 \
        83 a4 74797065 02 a4 64617461 92 a5 68656c6c6f a3 796f75 a3 6e7370 a1 2f \
        83 a5 726f6f6d73 91 a5 726f6f6d31 a6 657863657074 90 a5 666c616773 80";

    #[test]
    fn broadcast_encodes_to_exact_bytes() {
        let packet = WirePacket {
            nsp: "/".into(),
            data: json!(["hello", "you"]),
            attachments: vec![],
        };
        let opts = BroadcastOptions {
            rooms: rooms(&["room1"]),
            ..Default::default()
        };
        assert_eq!(
            encode_broadcast("abc123", &packet, &opts, 128).unwrap(),
            hex(EXAMPLE)
        );
    }

    #[test]
    fn broadcast_decodes_from_exact_bytes() {
        let b = decode_broadcast(&hex(EXAMPLE), &lim()).unwrap();
        assert_eq!(b.uid, "abc123");
        assert_eq!(b.packet.nsp, "/");
        assert_eq!(b.packet.data, json!(["hello", "you"]));
        assert_eq!(b.opts.rooms, rooms(&["room1"]));
        assert!(b.opts.except.is_empty());
        assert_eq!(b.opts.flags, BroadcastFlags::default());
        assert_eq!(
            b.packet
                .to_outgoing(None, Parser::Json)
                .unwrap()
                .text()
                .as_str(),
            r#"2["hello","you"]"#
        );
    }

    #[test]
    fn binary_round_trips_as_msgpack_bin() {
        let out = Outgoing::event(
            "/chat",
            None,
            "up",
            &(1, oxio_codec::socketio::Binary(&[7, 8])),
        )
        .unwrap();
        let p = packet_from_outgoing(&out, 128).unwrap();
        let opts = BroadcastOptions {
            except: rooms(&["x"]),
            flags: BroadcastFlags {
                volatile: true,
                local: false,
                timeout: Some(Duration::from_millis(1500)),
            },
            ..Default::default()
        };
        let bytes = encode_broadcast("u", &p, &opts, 128).unwrap();
        // The binary argument is `c4 02 07 08`, inline.
        let want_data = hex("a4 64617461 93 a2 7570 01 c4 02 0708");
        assert!(bytes.windows(want_data.len()).any(|w| w == want_data));
        let back = decode_broadcast(&bytes, &lim()).unwrap();
        assert_eq!(back.packet.nsp, "/chat");
        assert_eq!(back.opts, opts);
        let again = back.packet.to_outgoing(Some(4), Parser::Json).unwrap();
        assert_eq!(
            again.text().as_str(),
            r#"51-/chat,4["up",1,{"_placeholder":true,"num":0}]"#
        );
        assert_eq!(
            again.attachments().collect::<Vec<_>>(),
            [&Bytes::from_static(&[7, 8])]
        );
    }

    #[test]
    fn notepack_specials() {
        // {type:2, data:["d", undefined-ext, date-ext, arraybuffer-ext, nsp absent]}
        let bytes = hex("93 a1 75 82 a4 74797065 02 a4 64617461 94 a1 64 d4 00 00 \
             d7 00 00000000 00000000 c7 02 00 0102 80");
        let b = decode_broadcast(&bytes, &lim()).unwrap();
        assert_eq!(b.packet.nsp, "/", "nsp defaults to /");
        assert_eq!(
            b.packet.data,
            json!(["d", null, "1970-01-01T00:00:00.000Z", {"_placeholder":true,"num":0}])
        );
        assert_eq!(b.packet.attachments, [Bytes::from_static(&[1, 2])]);
        assert_eq!(
            iso_date(1_700_000_000_123),
            json!("2023-11-14T22:13:20.123Z")
        );
        assert_eq!(iso_date(-1), json!("1969-12-31T23:59:59.999Z"));
    }

    #[test]
    fn envelopes_sniff_json_and_msgpack() {
        let j = decode_envelope(
            br#"{"uid":"abc","requestId":"r1","type":2,"opts":{"rooms":["a"],"except":["b"]},"rooms":["c"]}"#,
            &lim(),
        )
        .unwrap();
        assert_eq!(j.kind(), Some(RequestType::RemoteJoin));
        assert_eq!(j.str_field("uid"), Some("abc"));
        assert_eq!(j.opts().rooms, rooms(&["a"]));
        assert_eq!(j.opts().except, rooms(&["b"]));
        assert_eq!(j.rooms("rooms"), rooms(&["c"]));

        // {type:9, requestId:"r2", packet: bin[5]}
        let m = decode_envelope(
            &hex("83 a4 74797065 09 a9 726571756573744964 a2 7232 a6 7061636b6574 c4 01 05"),
            &lim(),
        )
        .unwrap();
        assert_eq!(m.kind(), Some(RequestType::BroadcastAck));
        let p = ack_payload(&m, 128).unwrap();
        assert_eq!(p.raw(), r#"[{"_placeholder":true,"num":0}]"#);
        assert_eq!(p.attachments(), [Bytes::from_static(&[5])]);
        // And back.
        let enc = encode_broadcast_ack("r2", &p, 128).unwrap();
        assert_eq!(
            enc,
            hex("83 a4 74797065 09 a9 726571756573744964 a2 7232 a6 7061636b6574 c4 01 05")
        );
    }

    #[test]
    fn broadcast_request_exact_bytes() {
        let packet = WirePacket {
            nsp: "/".into(),
            data: json!(["e"]),
            attachments: vec![],
        };
        let enc =
            encode_broadcast_request("u", "r", &packet, &BroadcastOptions::default(), 128).unwrap();
        assert_eq!(
            enc,
            hex(
                "85 a3 756964 a1 75 a9 726571756573744964 a1 72 a4 74797065 07 \
                 a6 7061636b6574 83 a4 74797065 02 a4 64617461 91 a1 65 a3 6e7370 a1 2f \
                 a4 6f707473 83 a5 726f6f6d73 90 a6 657863657074 90 a5 666c616773 80"
            )
        );
        let env = decode_envelope(&enc, &lim()).unwrap();
        assert_eq!(env.kind(), Some(RequestType::Broadcast));
        assert_eq!(env.packet().unwrap(), packet);
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        type Check = fn(&MessageError) -> bool;
        let cases: Vec<(Vec<u8>, Check)> = vec![
            (vec![], |e| matches!(e, MessageError::Msgpack(_))),
            (hex("93"), |e| {
                matches!(e, MessageError::Msgpack(_) | MessageError::TrailingBytes)
            }),
            (hex("92 a1 75 80"), |e| {
                matches!(e, MessageError::Shape("packet type"))
            }),
            (hex("90"), |e| matches!(e, MessageError::Shape("uid"))),
            (hex("c0"), |e| {
                matches!(e, MessageError::Shape("broadcast array"))
            }),
            (hex("93 01 80 80"), |e| {
                matches!(e, MessageError::Shape("uid"))
            }),
            // packet.data is not an event array
            (hex("93 a1 75 82 a4 74797065 02 a4 64617461 90 80"), |e| {
                matches!(e, MessageError::Shape("packet data"))
            }),
            // nsp is a number
            (
                hex("93 a1 75 83 a4 74797065 02 a4 64617461 91 a1 65 a3 6e7370 01 80"),
                |e| matches!(e, MessageError::Shape("packet nsp")),
            ),
            // opts is a string
            (
                hex("93 a1 75 82 a4 74797065 02 a4 64617461 91 a1 65 a1 78"),
                |e| matches!(e, MessageError::Shape("opts")),
            ),
            // a huge claimed array length, no elements
            (hex("dd ffffffff"), |e| {
                matches!(e, MessageError::Msgpack(_))
            }),
            // trailing bytes
            (
                hex("93 a1 75 82 a4 74797065 02 a4 64617461 91 a1 65 80 00"),
                |e| matches!(e, MessageError::TrailingBytes),
            ),
            // invalid UTF-8 in a string
            (
                hex("93 a1 75 82 a4 74797065 02 a4 64617461 92 a1 65 a1 ff 80"),
                |e| matches!(e, MessageError::InvalidUtf8),
            ),
        ];
        for (bytes, ok) in cases {
            let e = decode_broadcast(&bytes, &lim()).unwrap_err();
            assert!(ok(&e), "{bytes:02x?}: {e}");
        }
        // Too deep: 200 nested arrays.
        let mut deep = hex("93 a1 75 82 a4 74797065 02 a4 64617461");
        deep.extend(std::iter::repeat_n(0x91u8, 200));
        deep.push(0xc0);
        assert_eq!(decode_broadcast(&deep, &lim()), Err(MessageError::TooDeep));
        let small = MsgLimits {
            max_len: 4,
            max_depth: 8,
        };
        assert_eq!(
            decode_broadcast(&hex(EXAMPLE), &small),
            Err(MessageError::TooLarge {
                len: hex(EXAMPLE).len(),
                max: 4
            })
        );
        for bad in [
            &b"{"[..],
            b"{\"a\":",
            b"[1]",
            b"\x01",
            b"\xc1",
            b"{\"type\":\xff}",
        ] {
            assert!(decode_envelope(bad, &lim()).is_err(), "{bad:?}");
        }
        let deep_json = format!("{{\"a\":{}1{}}}", "[".repeat(100), "]".repeat(100));
        let tight = MsgLimits {
            max_len: 1 << 20,
            max_depth: 50,
        };
        assert_eq!(
            decode_envelope(deep_json.as_bytes(), &tight),
            Err(MessageError::TooDeep)
        );
        // A placeholder pointing past the attachments cannot be encoded.
        let p = WirePacket {
            nsp: "/".into(),
            data: json!(["e", {"_placeholder":true,"num":3}]),
            attachments: vec![],
        };
        assert!(encode_broadcast("u", &p, &BroadcastOptions::default(), 128).is_err());
        assert_eq!(
            WirePacket {
                nsp: "/".into(),
                data: json!([1]),
                attachments: vec![]
            }
            .to_outgoing(None, Parser::Json),
            Err(MessageError::Shape("event name"))
        );
    }

    #[test]
    fn buffers_inline_for_json() {
        let mut v = json!(["x", {"_placeholder":true,"num":0}]);
        inline_buffers(&mut v, &[Bytes::from_static(&[1, 2])], 16);
        assert_eq!(v, json!(["x", {"type":"Buffer","data":[1,2]}]));
    }
}
