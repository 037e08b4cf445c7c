//! The messages of socket.io-adapter's `ClusterAdapter`, which Node's
//! `createShardedAdapter` publishes: `{uid, nsp, type, data}` as JSON, or
//! as notepack msgpack when `data` carries binary (then binary values are
//! msgpack `bin`). Decoding sniffs a leading `{` as the sender does.
//!
//! `data` is kept in the classic codec's form (JSON with binary
//! placeholders plus attachments), so the classic adapter's helpers read
//! its `opts`, `rooms`, `packet` and `requestId` unchanged.

use crate::codec::{self, Envelope, MessageError, MsgLimits, WirePacket};
use bytes::Bytes;
use oxio_adapter::{BroadcastOptions, Payload};
use rmpv::Value;
use serde_json::{json, Map, Value as Json};

/// The `type` numbers of a cluster message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MessageType {
    InitialHeartbeat = 1,
    Heartbeat = 2,
    Broadcast = 3,
    SocketsJoin = 4,
    SocketsLeave = 5,
    DisconnectSockets = 6,
    FetchSockets = 7,
    FetchSocketsResponse = 8,
    ServerSideEmit = 9,
    ServerSideEmitResponse = 10,
    BroadcastClientCount = 11,
    BroadcastAck = 12,
    AdapterClose = 13,
}

impl MessageType {
    pub(crate) fn from_u64(n: u64) -> Option<Self> {
        use MessageType::*;
        Some(match n {
            1 => InitialHeartbeat,
            2 => Heartbeat,
            3 => Broadcast,
            4 => SocketsJoin,
            5 => SocketsLeave,
            6 => DisconnectSockets,
            7 => FetchSockets,
            8 => FetchSocketsResponse,
            9 => ServerSideEmit,
            10 => ServerSideEmitResponse,
            11 => BroadcastClientCount,
            12 => BroadcastAck,
            13 => AdapterClose,
            _ => return None,
        })
    }
}

/// A decoded cluster message.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ClusterMessage {
    pub(crate) uid: String,
    pub(crate) nsp: String,
    pub(crate) kind: MessageType,
    /// `data`'s fields (empty when absent), binary as placeholders into
    /// its attachments.
    pub(crate) data: Envelope,
}

/// Encodes `{uid, nsp, type, data}`: JSON when there is no attachment,
/// msgpack otherwise (`data`'s placeholders become `bin`).
pub(crate) fn encode(
    uid: &str,
    nsp: &str,
    kind: MessageType,
    data: Json,
    attachments: &[Bytes],
    max_depth: usize,
) -> Result<Vec<u8>, MessageError> {
    let has_data = !data.is_null();
    if attachments.is_empty() {
        let mut m = Map::new();
        m.insert("uid".into(), Json::from(uid));
        m.insert("nsp".into(), Json::from(nsp));
        m.insert("type".into(), Json::from(kind as u8));
        if has_data {
            m.insert("data".into(), data);
        }
        return Ok(codec::encode_json(Json::Object(m)));
    }
    let s = |t: &str| Value::String(t.into());
    let mut fields = vec![
        (s("uid"), s(uid)),
        (s("nsp"), s(nsp)),
        (s("type"), Value::from(kind as u8)),
    ];
    if has_data {
        fields.push((s("data"), codec::to_msgpack(&data, attachments, max_depth)?));
    }
    Ok(codec::write_msgpack(&Value::Map(fields)))
}

/// Decodes a cluster message (JSON or msgpack).
pub(crate) fn decode(bytes: &[u8], limits: &MsgLimits) -> Result<ClusterMessage, MessageError> {
    let mut env = codec::decode_envelope(bytes, limits)?;
    let kind = env
        .fields
        .get("type")
        .and_then(Json::as_u64)
        .and_then(MessageType::from_u64)
        .ok_or(MessageError::Shape("type"))?;
    let uid = env.str_field("uid").unwrap_or_default().to_owned();
    let nsp = env.str_field("nsp").unwrap_or("/").to_owned();
    let data = match env.fields.remove("data") {
        Some(Json::Object(m)) => m,
        None | Some(Json::Null) => Map::new(),
        Some(_) => return Err(MessageError::Shape("data")),
    };
    Ok(ClusterMessage {
        uid,
        nsp,
        kind,
        data: Envelope {
            fields: data,
            attachments: env.attachments,
        },
    })
}

/// The `packet` of a BROADCAST: a Socket.IO EVENT packet object.
pub(crate) fn packet_json(p: &WirePacket) -> Json {
    json!({ "type": 2, "data": p.data, "nsp": p.nsp })
}

/// `data` of a BROADCAST: `{opts: {rooms, except, flags}, packet, requestId?}`.
pub(crate) fn broadcast_data(
    p: &WirePacket,
    opts: &BroadcastOptions,
    request_id: Option<&str>,
) -> Json {
    let mut m = Map::new();
    m.insert("opts".into(), codec::opts_to_json(opts, true));
    m.insert("packet".into(), packet_json(p));
    if let Some(id) = request_id {
        m.insert("requestId".into(), Json::from(id));
    }
    Json::Object(m)
}

/// The first argument of a client's ack, as JSON with placeholders, and
/// the attachments it may refer to (the `packet` of a BROADCAST_ACK).
pub(crate) fn first_ack_arg(
    payload: &Payload,
    max_depth: usize,
) -> Result<(Json, Vec<Bytes>), MessageError> {
    let args = codec::parse_json(payload.raw(), max_depth)?;
    let first = args
        .as_array()
        .and_then(|a| a.first())
        .cloned()
        .unwrap_or(Json::Null);
    Ok((first, payload.attachments().to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> MsgLimits {
        MsgLimits::default()
    }

    #[test]
    fn json_message_round_trip() {
        let bytes = encode(
            "u1",
            "/",
            MessageType::SocketsJoin,
            json!({"opts": {"rooms": ["a"], "except": []}, "rooms": ["b"]}),
            &[],
            16,
        )
        .unwrap();
        assert_eq!(
            std::str::from_utf8(&bytes).unwrap(),
            r#"{"uid":"u1","nsp":"/","type":4,"data":{"opts":{"rooms":["a"],"except":[]},"rooms":["b"]}}"#
        );
        let m = decode(&bytes, &limits()).unwrap();
        assert_eq!((m.uid.as_str(), m.nsp.as_str()), ("u1", "/"));
        assert_eq!(m.kind, MessageType::SocketsJoin);
        assert_eq!(m.data.rooms("rooms"), vec![oxio_adapter::Room::from("b")]);
        assert_eq!(m.data.opts().rooms, vec![oxio_adapter::Room::from("a")]);
    }

    #[test]
    fn binary_goes_as_msgpack_and_back() {
        let p = WirePacket {
            nsp: "/".into(),
            data: json!(["ev", {"_placeholder": true, "num": 0}]),
            attachments: vec![Bytes::from_static(&[1, 2, 3])],
        };
        let data = broadcast_data(&p, &BroadcastOptions::default(), None);
        let bytes = encode("u", "/", MessageType::Broadcast, data, &p.attachments, 16).unwrap();
        assert_ne!(bytes.first(), Some(&b'{'));
        // notepack: a map of 4 whose first key is "uid".
        assert_eq!(&bytes[..5], &[0x84, 0xa3, b'u', b'i', b'd']);
        let m = decode(&bytes, &limits()).unwrap();
        assert_eq!(m.kind, MessageType::Broadcast);
        let back = m.data.packet().unwrap();
        assert_eq!(back.data, p.data);
        assert_eq!(back.attachments, p.attachments);
    }

    #[test]
    fn no_data_and_bad_input() {
        let bytes = encode("u", "/x", MessageType::AdapterClose, Json::Null, &[], 8).unwrap();
        assert_eq!(bytes, br#"{"uid":"u","nsp":"/x","type":13}"#);
        assert!(decode(&bytes, &limits()).unwrap().data.fields.is_empty());
        for bad in [
            &b"{"[..],
            br#"{"uid":"u","type":99}"#,
            br#"{"uid":"u","type":3,"data":[1]}"#,
            &[0xc1][..],
            &[],
        ] {
            assert!(decode(bad, &limits()).is_err(), "{bad:?}");
        }
    }
}
