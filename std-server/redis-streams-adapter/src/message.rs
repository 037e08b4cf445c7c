//! The messages of @socket.io/redis-streams-adapter 0.3.x (socket.io-adapter's
//! cluster format `{uid, nsp, type, data}`), as bytes:
//!
//! - stream entries: fields `uid`, `nsp`, `type` (the number as text) and
//!   `data` (JSON text, or base64 of msgpack when it holds binary);
//! - pub/sub messages (broadcasts with acks, fetch_sockets,
//!   server-side emits and every response): the whole message as msgpack;
//! - sessions: base64 of msgpack `{sid, pid, rooms, data}`.
//!
//! Binary values are placeholders plus attachments here (see
//! [`oxio_adapter::wire`]). Every decoder is bounded and returns a
//! [`MessageError`].

use base64::Engine as _;
use bytes::Bytes;
use oxio_adapter::wire::{
    inline_buffers, json_to_msgpack, msgpack_to_json, parse_json, read_msgpack, write_msgpack,
    MessageError, MsgLimits,
};
use oxio_adapter::{Cause, PersistedSession, Room, Sid};
use rmpv::Value;
use serde_json::{Map, Value as Json};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// socket.io-adapter's `MessageType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
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
}

impl Kind {
    pub(crate) fn from_u64(n: u64) -> Option<Kind> {
        Some(match n {
            3 => Kind::Broadcast,
            4 => Kind::SocketsJoin,
            5 => Kind::SocketsLeave,
            6 => Kind::DisconnectSockets,
            7 => Kind::FetchSockets,
            8 => Kind::FetchSocketsResponse,
            9 => Kind::ServerSideEmit,
            10 => Kind::ServerSideEmitResponse,
            11 => Kind::BroadcastClientCount,
            12 => Kind::BroadcastAck,
            // 1, 2 (heartbeats) and 13 (adapter close) are not used by
            // 0.3.x; unknown types are ignored.
            _ => return None,
        })
    }

    /// Whether Node may encode this type's data as msgpack (it may carry binary).
    fn may_carry_binary(self) -> bool {
        matches!(
            self,
            Kind::Broadcast
                | Kind::FetchSocketsResponse
                | Kind::ServerSideEmit
                | Kind::ServerSideEmitResponse
                | Kind::BroadcastAck
        )
    }
}

/// One cluster message: `data` is JSON whose binary values are
/// placeholders into `attachments`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Message {
    pub(crate) uid: String,
    pub(crate) nsp: String,
    pub(crate) kind: u64,
    pub(crate) data: Json,
    pub(crate) attachments: Vec<Bytes>,
}

impl Message {
    pub(crate) fn new(uid: &str, nsp: &str, kind: Kind, data: Json) -> Self {
        Message {
            uid: uid.to_owned(),
            nsp: nsp.to_owned(),
            kind: kind as u64,
            data,
            attachments: Vec::new(),
        }
    }

    pub(crate) fn kind(&self) -> Option<Kind> {
        Kind::from_u64(self.kind)
    }

    /// A field of `data`.
    pub(crate) fn field(&self, key: &str) -> Option<&Json> {
        self.data.get(key)
    }

    /// `data.requestId` as text.
    pub(crate) fn request_id(&self) -> Option<&str> {
        self.field("requestId").and_then(Json::as_str)
    }
}

/// The stream entry fields of `msg`, in Node's order (`uid`, `nsp`,
/// `type`, `data`). `data` is JSON unless it holds binary (and
/// `only_plaintext` is off), then base64 msgpack.
pub(crate) fn encode_entry(
    msg: &Message,
    only_plaintext: bool,
    max_depth: usize,
) -> Result<Vec<(&'static str, String)>, MessageError> {
    let mut fields = vec![
        ("uid", msg.uid.clone()),
        ("nsp", msg.nsp.clone()),
        ("type", msg.kind.to_string()),
    ];
    if !msg.data.is_null() {
        let binary = !msg.attachments.is_empty()
            && msg.kind().is_some_and(Kind::may_carry_binary)
            && !only_plaintext;
        let data = if binary {
            let v = json_to_msgpack(&msg.data, &msg.attachments, max_depth)?;
            B64.encode(write_msgpack(&v))
        } else {
            let mut data = msg.data.clone();
            inline_buffers(&mut data, &msg.attachments, max_depth);
            serde_json::to_string(&data).map_err(|e| MessageError::Json(Cause::new(e)))?
        };
        fields.push(("data", data));
    }
    Ok(fields)
}

/// A stream entry's fields back into a message. Entries without `nsp`
/// are not adapter messages (Node skips them too): `Shape("nsp")`.
pub(crate) fn decode_entry(
    fields: &[(String, String)],
    limits: &MsgLimits,
) -> Result<Message, MessageError> {
    let get = |k: &str| fields.iter().find(|(f, _)| f == k).map(|(_, v)| v.as_str());
    let nsp = get("nsp")
        .filter(|n| !n.is_empty())
        .ok_or(MessageError::Shape("nsp"))?;
    let uid = get("uid").unwrap_or_default();
    let kind = get("type")
        .and_then(|t| t.parse::<u64>().ok())
        .ok_or(MessageError::Shape("type"))?;
    let mut attachments = Vec::new();
    let data = match get("data") {
        None | Some("") => Json::Null,
        Some(d) => {
            oxio_adapter::wire::check_len(d.as_bytes(), limits)?;
            if d.starts_with('{') {
                parse_json(d, limits.max_depth)?
            } else {
                let bytes = B64
                    .decode(d)
                    .map_err(|e| MessageError::Msgpack(Cause::new(e)))?;
                let v = read_msgpack(&bytes, limits)?;
                msgpack_to_json(&v, &mut attachments, limits.max_depth)?
            }
        }
    };
    Ok(Message {
        uid: uid.to_owned(),
        nsp: nsp.to_owned(),
        kind,
        data,
        attachments,
    })
}

fn s(text: &str) -> Value {
    Value::String(text.into())
}

/// A pub/sub message: the whole message as msgpack `{type, data, uid, nsp}`.
pub(crate) fn encode_pubsub(msg: &Message, max_depth: usize) -> Result<Vec<u8>, MessageError> {
    let mut map = vec![(s("type"), Value::from(msg.kind))];
    if !msg.data.is_null() {
        map.push((
            s("data"),
            json_to_msgpack(&msg.data, &msg.attachments, max_depth)?,
        ));
    }
    map.push((s("uid"), s(&msg.uid)));
    map.push((s("nsp"), s(&msg.nsp)));
    Ok(write_msgpack(&Value::Map(map)))
}

/// A pub/sub message back.
pub(crate) fn decode_pubsub(bytes: &[u8], limits: &MsgLimits) -> Result<Message, MessageError> {
    let v = read_msgpack(bytes, limits)?;
    if !matches!(v, Value::Map(_)) {
        return Err(MessageError::Shape("map"));
    }
    let mut attachments = Vec::new();
    let Json::Object(mut m) = msgpack_to_json(&v, &mut attachments, limits.max_depth)? else {
        return Err(MessageError::Shape("map"));
    };
    let text = |m: &Map<String, Json>, k: &str| m.get(k).and_then(Json::as_str).map(str::to_owned);
    let nsp = text(&m, "nsp").ok_or(MessageError::Shape("nsp"))?;
    let uid = text(&m, "uid").unwrap_or_default();
    let kind = m
        .get("type")
        .and_then(Json::as_u64)
        .ok_or(MessageError::Shape("type"))?;
    let data = m.remove("data").unwrap_or(Json::Null);
    Ok(Message {
        uid,
        nsp,
        kind,
        data,
        attachments,
    })
}

/// A session as Node's streams adapter stores it: base64 of msgpack
/// `{sid, pid, rooms, data}`.
pub(crate) fn encode_session(
    session: &PersistedSession,
    max_depth: usize,
) -> Result<String, MessageError> {
    let rooms = Value::Array(session.rooms.iter().map(|r| s(r)).collect());
    let data = json_to_msgpack(&session.data, &[], max_depth)?;
    let v = Value::Map(vec![
        (s("sid"), s(session.sid.as_str())),
        (s("pid"), s(session.pid.as_str())),
        (s("rooms"), rooms),
        (s("data"), data),
    ]);
    Ok(B64.encode(write_msgpack(&v)))
}

/// A stored session back (Node's or ours). Binary values in `data` are
/// kept as Node Buffer JSON (`{"type":"Buffer","data":[...]}`).
pub(crate) fn decode_session(
    text: &str,
    limits: &MsgLimits,
) -> Result<PersistedSession, MessageError> {
    oxio_adapter::wire::check_len(text.as_bytes(), limits)?;
    let bytes = B64
        .decode(text.trim())
        .map_err(|e| MessageError::Msgpack(Cause::new(e)))?;
    let v = read_msgpack(&bytes, limits)?;
    let mut attachments = Vec::new();
    let json = msgpack_to_json(&v, &mut attachments, limits.max_depth)?;
    let field = |k: &str| {
        json.get(k)
            .and_then(Json::as_str)
            .filter(|s| !s.is_empty())
            .ok_or(MessageError::Shape("session"))
    };
    let sid = Sid::from(field("sid")?);
    let pid = Sid::from(field("pid")?);
    let rooms = json
        .get("rooms")
        .map(oxio_adapter::wire::room_list)
        .unwrap_or_default();
    let mut data = json.get("data").cloned().unwrap_or(Json::Null);
    inline_buffers(&mut data, &attachments, limits.max_depth);
    Ok(PersistedSession {
        sid,
        pid,
        rooms: rooms.into_iter().collect::<Vec<Room>>(),
        data,
    })
}

/// A stream entry id `<ms>-<seq>`, strictly digits (Node's
/// `/^[0-9]+-[0-9]+$/`); `None` otherwise.
pub(crate) fn parse_entry_id(id: &str) -> Option<(u64, u64)> {
    let (ms, seq) = id.split_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(ms) || !digits(seq) {
        return None;
    }
    Some((ms.parse().ok()?, seq.parse().ok()?))
}

/// The id just after `id` (Redis before 6.2 has no exclusive ranges).
pub(crate) fn next_entry_id(id: (u64, u64)) -> String {
    match id.1.checked_add(1) {
        Some(seq) => format!("{}-{seq}", id.0),
        None => format!("{}-0", id.0.saturating_add(1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lim() -> MsgLimits {
        MsgLimits::default()
    }

    #[test]
    fn entries_are_json_or_base64_msgpack() {
        let m = Message::new(
            "u1",
            "/",
            Kind::Broadcast,
            json!({"packet":{"type":2,"data":["e",1],"nsp":"/"},"opts":{"rooms":[],"except":[],"flags":{}}}),
        );
        let f = encode_entry(&m, false, 128).unwrap();
        assert_eq!(
            f,
            [
                ("uid", "u1".to_owned()),
                ("nsp", "/".to_owned()),
                ("type", "3".to_owned()),
                (
                    "data",
                    r#"{"packet":{"type":2,"data":["e",1],"nsp":"/"},"opts":{"rooms":[],"except":[],"flags":{}}}"#
                        .to_owned()
                ),
            ]
        );
        let owned: Vec<(String, String)> = f.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        assert_eq!(decode_entry(&owned, &lim()).unwrap(), m);

        // With binary: base64 of msgpack `{"packet": ... bin ...}`.
        let mut b = Message::new(
            "u1",
            "/",
            Kind::Broadcast,
            json!({"p":[{"_placeholder":true,"num":0}]}),
        );
        b.attachments = vec![Bytes::from_static(&[1, 2])];
        let f = encode_entry(&b, false, 128).unwrap();
        // 81 a1 70 91 c4 02 01 02
        assert_eq!(f[3], ("data", "gaFwkcQCAQI=".to_owned()));
        let owned: Vec<(String, String)> = f.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        assert_eq!(decode_entry(&owned, &lim()).unwrap(), b);
        // onlyPlaintext: Node's Buffer JSON.
        let f = encode_entry(&b, true, 128).unwrap();
        assert_eq!(f[3].1, r#"{"p":[{"type":"Buffer","data":[1,2]}]}"#);
    }

    #[test]
    fn pubsub_messages_are_msgpack() {
        let m = Message::new("u", "/", Kind::FetchSockets, json!({"requestId":"r"}));
        let bytes = encode_pubsub(&m, 128).unwrap();
        // {type: 7, data: {requestId: "r"}, uid: "u", nsp: "/"}
        assert_eq!(
            bytes,
            [
                &[0x84, 0xa4][..],
                b"type",
                &[0x07, 0xa4],
                b"data",
                &[0x81, 0xa9],
                b"requestId",
                &[0xa1, b'r', 0xa3],
                b"uid",
                &[0xa1, b'u', 0xa3],
                b"nsp",
                &[0xa1, b'/'],
            ]
            .concat()
        );
        assert_eq!(decode_pubsub(&bytes, &lim()).unwrap(), m);
    }

    #[test]
    fn sessions_round_trip() {
        let s = PersistedSession {
            sid: "s".into(),
            pid: "p".into(),
            rooms: vec!["s".into(), "r".into()],
            data: json!({"n": 1}),
        };
        let text = encode_session(&s, 128).unwrap();
        assert_eq!(decode_session(&text, &lim()).unwrap(), s);
    }

    #[test]
    fn bad_input_is_an_error() {
        let f = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect()
        };
        for bad in [
            f(&[("uid", "u"), ("type", "3")]),
            f(&[("nsp", "/"), ("type", "x")]),
            f(&[("nsp", "/"), ("type", "3"), ("data", "{")]),
            f(&[("nsp", "/"), ("type", "3"), ("data", "!!!")]),
            f(&[("nsp", "/"), ("type", "3"), ("data", "kQ==")]), // 91: truncated array
        ] {
            assert!(decode_entry(&bad, &lim()).is_err(), "{bad:?}");
        }
        let small = MsgLimits {
            max_len: 4,
            max_depth: 8,
        };
        assert!(matches!(
            decode_entry(
                &f(&[("nsp", "/"), ("type", "3"), ("data", "{\"a\":1}")]),
                &small
            ),
            Err(MessageError::TooLarge { .. })
        ));
        for bad in [&b""[..], b"\x91", b"\x80", b"\x81\xa3nsp\x01"] {
            assert!(decode_pubsub(bad, &lim()).is_err(), "{bad:?}");
        }
        for bad in ["", "!!", "gA==", "gaNzaWShcw=="] {
            assert!(decode_session(bad, &lim()).is_err(), "{bad:?}");
        }
        assert_eq!(parse_entry_id("1-2"), Some((1, 2)));
        for bad in [
            "",
            "1",
            "1-",
            "-1",
            "a-1",
            "1-2-3",
            "1 -2",
            "+1-2",
            "99999999999999999999-1",
        ] {
            assert_eq!(parse_entry_id(bad), None, "{bad:?}");
        }
        assert_eq!(next_entry_id((5, 9)), "5-10");
        assert_eq!(next_entry_id((5, u64::MAX)), "6-0");
    }
}
