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
use oxio_adapter::wire::{
    check_len, msgpack_to_json as to_json, opts_from_json, read_msgpack, room_list,
    wire_packet_from_json,
};
pub(crate) use oxio_adapter::wire::{
    inline_buffers, json_to_msgpack as to_msgpack, opts_to_json, packet_from_outgoing, parse_json,
    write_msgpack, MessageError, MsgLimits, WirePacket,
};
use oxio_adapter::{BroadcastOptions, Cause, Payload, Room};
use rmpv::Value;
use serde_json::{Map, Value as Json};

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

fn s(text: &str) -> Value {
    Value::String(text.into())
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
    use oxio_adapter::wire::iso_date;
    use oxio_adapter::{BroadcastFlags, Outgoing, Parser};
    use serde_json::json;
    use std::time::Duration;

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
