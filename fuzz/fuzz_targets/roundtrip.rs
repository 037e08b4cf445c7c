//! Round trips from structured, arbitrary descriptions:
//! - Engine.IO packets: text form and binary frame, and lists of packets
//!   through the three polling payload formats;
//! - Socket.IO packets built with `Encoder` (every packet kind, both
//!   versions, binary attachments at any depth);
//! - JSON values through our serializer, read back by `serde_json` and by
//!   our deserializer.
//!
//! Invariants: encode → decode gives the same packet (same fields, same
//! arguments, attachments resolved to the same bytes); encoding the decoded
//! value gives the same bytes again; the encoder refuses exactly what the
//! protocol cannot carry (reserved names, ack ids over 2^53 − 1, binary
//! data on a v4 non-message packet, 0x1E in v4 polling text).
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use oxio_codec::engineio::{self, payload, Data};
use oxio_codec::json::de::{from_str_with, DeOptions};
use oxio_codec::json::ser;
use oxio_codec::limits::MAX_SAFE_INTEGER;
use oxio_codec::socketio::{self, Decoder, Encoder, EventName, PacketType, Version};
use oxio_codec::Limits;
use oxio_fuzz::{Tree, PLACEHOLDER_KEY};
use serde::ser::{Serialize, SerializeTuple, Serializer};

#[derive(Debug)]
enum Input {
    Eio(EioDesc),
    Sio(SioDesc),
    Json(Tree),
}

impl<'a> Arbitrary<'a> for Input {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(match u.choose_index(3)? {
            0 => Input::Eio(u.arbitrary()?),
            1 => Input::Sio(SioDesc::arbitrary(u)?),
            _ => Input::Json(Tree::arbitrary_with(u, 5, false)?),
        })
    }
}

// ------------------------------------------------------------ Engine.IO --

#[derive(Debug, Arbitrary)]
enum EioData {
    Text(String),
    Binary(Vec<u8>),
}

#[derive(Debug, Arbitrary)]
struct EioDesc {
    v3: bool,
    packets: Vec<(u8, EioData)>,
}

fn eio(desc: &EioDesc) {
    let version = if desc.v3 {
        engineio::Version::V3
    } else {
        engineio::Version::V4
    };
    let packets: Vec<engineio::Packet<'_>> = desc
        .packets
        .iter()
        .map(|(ty, data)| {
            let ty = engineio::PacketType::ALL[usize::from(*ty) % 7];
            let data = match data {
                EioData::Text(t) => Data::Text(t),
                EioData::Binary(b) => Data::Binary(b),
            };
            engineio::Packet::new(ty, data)
        })
        .collect();
    for p in &packets {
        eio_packet(p, version);
    }

    if version == engineio::Version::V4 {
        // v4 polling: refused packets are skipped, the rest must come back.
        let mut body = Vec::new();
        let mut w = payload::v4::PayloadWriter::new_vec(&mut body);
        let mut kept = Vec::new();
        for p in &packets {
            let has_sep = p.data.as_text().is_some_and(|t| t.contains('\u{1e}'));
            match w.push(p) {
                Ok(()) => kept.push(*p),
                Err(engineio::Error::SeparatorInText) => assert!(has_sep),
                Err(engineio::Error::BinaryNotMessage) => {
                    assert!(p.data.is_binary() && p.packet_type != engineio::PacketType::Message)
                }
                Err(e) => panic!("v4 push of {p:?}: {e:?}"),
            }
        }
        check_body(
            payload::v4::decode_bytes(&body, &Limits::DEFAULT),
            &kept,
            &body,
        );
        if !kept.is_empty() {
            assert_eq!(payload::v4::encode_to_vec(&kept), Ok(body.clone()));
        }
    }

    if version == engineio::Version::V3 {
        let body = payload::v3_text::encode_to_vec(&packets).expect("v3 text body");
        check_body(
            payload::v3_text::decode_bytes(&body, &Limits::DEFAULT),
            &packets,
            &body,
        );
        let body = payload::v3_binary::encode_to_vec(&packets).expect("v3 binary body");
        check_body(
            payload::v3_binary::decode(&body, &Limits::DEFAULT),
            &packets,
            &body,
        );
    }
}

fn check_body<'a>(
    it: impl Iterator<Item = Result<engineio::Packet<'a>, engineio::Error>>,
    want: &[engineio::Packet<'_>],
    body: &[u8],
) {
    let got: Vec<_> = it.take(want.len() + 2).collect();
    if want.is_empty() {
        assert!(body.is_empty());
        assert_eq!(got, [Err(engineio::Error::Empty)]);
        return;
    }
    let got: Vec<_> = got
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("own body {body:?} fails: {e:?}")))
        .collect();
    assert_eq!(got, want, "body {body:?}");
}

fn eio_packet(p: &engineio::Packet<'_>, version: engineio::Version) {
    let v4_non_message_binary = version == engineio::Version::V4
        && p.data.is_binary()
        && p.packet_type != engineio::PacketType::Message;
    match p.to_text(version) {
        Ok(text) => {
            assert!(!v4_non_message_binary);
            assert_eq!(text.len(), p.encoded_text_len(version));
            let mut buf = vec![0u8; text.len()];
            assert_eq!(p.encode_text(&mut buf, version), Ok(text.len()));
            assert_eq!(buf, text.as_bytes());
            let d = engineio::Packet::decode_text(&text, version).expect("own text decodes");
            assert_eq!(&d, p);
            assert_eq!(
                d.to_text(version).as_ref(),
                Ok(&text),
                "second encode differs"
            );
        }
        Err(e) => {
            assert_eq!(e, engineio::Error::BinaryNotMessage);
            assert!(v4_non_message_binary);
        }
    }
    if p.data.is_binary() && !v4_non_message_binary {
        let frame = p.to_binary_frame(version).expect("binary frame");
        let d = engineio::Packet::decode_binary(&frame, version).expect("own frame decodes");
        assert_eq!(&d, p);
        assert_eq!(d.to_binary_frame(version), Ok(frame));
    }
}

// ------------------------------------------------------------ Socket.IO --

/// One argument of an event or ack: JSON (bytes allowed at any depth).
#[derive(Debug)]
struct Arg(Tree);

#[derive(Debug)]
enum SioKind {
    Connect(Option<Tree>),
    Disconnect,
    Event { name: String, args: Vec<Arg> },
    Ack { args: Vec<Arg> },
    ConnectError { message: String, data: Option<Tree> },
}

#[derive(Debug)]
struct SioDesc {
    v4: bool,
    namespace: String,
    ack: Option<u64>,
    kind: SioKind,
}

impl SioDesc {
    fn arbitrary(u: &mut Unstructured<'_>) -> arbitrary::Result<Self> {
        let v4 = u.arbitrary()?;
        let mut ns: String = u.arbitrary()?;
        ns.retain(|c| c != ',');
        ns.truncate(ns.floor_char_boundary(64));
        let namespace = if u.arbitrary()? {
            "/".to_owned()
        } else {
            format!("/{ns}")
        };
        let ack = match u.choose_index(4)? {
            0 => None,
            1 => Some(u.int_in_range(0..=99)?),
            2 => Some(u.int_in_range(0..=MAX_SAFE_INTEGER)?),
            _ => Some(u.arbitrary()?),
        };
        let args = |u: &mut Unstructured<'_>| -> arbitrary::Result<Vec<Arg>> {
            let mut args = Vec::new();
            while args.len() < 5 && u.arbitrary::<bool>()? {
                args.push(Arg(Tree::arbitrary_with(u, 4, true)?));
            }
            Ok(args)
        };
        let kind = match u.choose_index(5)? {
            0 => SioKind::Connect(if u.arbitrary()? {
                Some(object(u)?)
            } else {
                None
            }),
            1 => SioKind::Disconnect,
            2 => SioKind::Event {
                name: if u.arbitrary()? {
                    socketio::RESERVED_EVENTS[u.choose_index(6)?].to_owned()
                } else {
                    u.arbitrary()?
                },
                args: args(u)?,
            },
            3 => SioKind::Ack { args: args(u)? },
            _ => SioKind::ConnectError {
                message: u.arbitrary()?,
                data: if u.arbitrary()? {
                    Some(Tree::arbitrary_with(u, 4, false)?)
                } else {
                    None
                },
            },
        };
        Ok(SioDesc {
            v4,
            namespace,
            ack,
            kind,
        })
    }
}

/// An arbitrary JSON object.
fn object(u: &mut Unstructured<'_>) -> arbitrary::Result<Tree> {
    loop {
        if let t @ Tree::Map(_) = Tree::arbitrary_with(u, 4, false)? {
            return Ok(t);
        }
        if u.is_empty() {
            return Ok(Tree::Map(Vec::new()));
        }
    }
}

/// The arguments, spread (a tuple is the argument list).
struct Spread<'a>(&'a [Arg]);

impl Serialize for Spread<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut t = s.serialize_tuple(self.0.len())?;
        for a in self.0 {
            t.serialize_element(&a.0)?;
        }
        t.end()
    }
}

fn sio(desc: &SioDesc) {
    let version = if desc.v4 { Version::V4 } else { Version::V5 };
    let enc = Encoder::new(version);
    let limits = Limits {
        max_attachments: usize::MAX,
        ..Limits::DEFAULT
    };
    let decoder = Decoder::new(version, limits);
    let ns = desc.namespace.as_str();
    // Room for any packet the description can give: escaping grows a
    // string at most 6x, a placeholder is ~30 bytes; Debug is close enough.
    let mut buf = vec![0u8; 8 * format!("{desc:?}").len() + 256];
    let mut attachments: Vec<Vec<u8>> = Vec::new();

    // What should be read back: the type, and each argument (placeholders
    // as objects) or the whole payload.
    let (ty, ack, expected_args, expected_payload, result) = match &desc.kind {
        SioKind::Connect(data) => {
            let r = match data {
                Some(d) => enc.connect_with(&mut buf, ns, d),
                None => enc.connect(&mut buf, ns),
            };
            (
                PacketType::Connect,
                None,
                None,
                data.as_ref().map(Tree::without_sink),
                r.map(|len| socketio::Encoded {
                    len,
                    attachments: 0,
                }),
            )
        }
        SioKind::Disconnect => (
            PacketType::Disconnect,
            None,
            None,
            None,
            enc.disconnect(&mut buf, ns).map(|len| socketio::Encoded {
                len,
                attachments: 0,
            }),
        ),
        SioKind::Event { name, args } => {
            let r =
                enc.event_with_attachments(&mut buf, ns, desc.ack, name, &Spread(args), |i, b| {
                    assert_eq!(i, attachments.len(), "attachment order");
                    attachments.push(b.to_vec());
                });
            let expected: Vec<Tree> = args.iter().map(|a| a.0.normalized()).collect();
            (PacketType::Event, desc.ack, Some(expected), None, r)
        }
        SioKind::Ack { args } => {
            let id = desc.ack.unwrap_or(0);
            let r = enc.ack_with_attachments(&mut buf, ns, id, &Spread(args), |i, b| {
                assert_eq!(i, attachments.len(), "attachment order");
                attachments.push(b.to_vec());
            });
            let expected: Vec<Tree> = args.iter().map(|a| a.0.normalized()).collect();
            (PacketType::Ack, Some(id), Some(expected), None, r)
        }
        SioKind::ConnectError { message, data } => {
            let r = match data {
                Some(d) => enc.connect_error_with_data(&mut buf, ns, message, d),
                None => enc.connect_error(&mut buf, ns, message),
            };
            let payload = match (version, data) {
                (Version::V5, d) => {
                    let mut m = vec![("message".to_owned(), Tree::Str(message.clone()))];
                    if let Some(d) = d {
                        m.push(("data".to_owned(), d.without_sink()));
                    }
                    Tree::Map(m)
                }
                // `err.data || err.message`: an empty string is falsy too.
                (Version::V4, Some(Tree::Str(d))) if d.is_empty() => Tree::Str(message.clone()),
                (Version::V4, Some(d)) => d.without_sink(),
                (Version::V4, None) => Tree::Str(message.clone()),
            };
            (
                PacketType::ConnectError,
                None,
                None,
                Some(payload),
                r.map(|len| socketio::Encoded {
                    len,
                    attachments: 0,
                }),
            )
        }
    };

    // What the encoder must refuse.
    let reserved = matches!(&desc.kind, SioKind::Event { name, .. }
        if version == Version::V5 && socketio::is_reserved_event(name));
    let bad_ack = ack.is_some_and(|id| id > MAX_SAFE_INTEGER);
    let encoded = match result {
        Ok(e) => e,
        Err(socketio::Error::ReservedEventName) => {
            assert!(reserved);
            return;
        }
        Err(socketio::Error::AckIdTooLarge) => {
            assert!(bad_ack && !reserved);
            return;
        }
        Err(e) => panic!("encoding {desc:?} failed: {e:?}"),
    };
    assert!(!reserved && !bad_ack, "encoder accepted {desc:?}");
    assert_eq!(encoded.attachments, attachments.len());
    let text = std::str::from_utf8(&buf[..encoded.len]).expect("encoder writes UTF-8");

    // Payload shapes the decoder refuses although the encoder writes them
    // (as the reference encoder does): a v4 CONNECT_ERROR whose data is
    // neither an object nor a string. A number there even reads as an ack
    // id (`41.5`), so the error varies; it must be an error.
    if let (Version::V4, SioKind::ConnectError { data: Some(d), .. }) = (version, &desc.kind) {
        if !matches!(d, Tree::Map(_) | Tree::Str(_)) {
            // Falsy data (`null`, `false`, `0`) gives way to the message
            // (`err.data || err.message`), which decodes as a string.
            if let Ok(p) = decoder.decode(text) {
                // Or, as with socket.io-parser, an integer's digits read as
                // an ack id and nothing is left for the payload.
                assert!(
                    p.payload().is_none_or(|s| s.starts_with('"')),
                    "v4 CONNECT_ERROR {text:?} with non-object data decodes"
                );
            }
            return;
        }
    }

    let p = decoder
        .decode(text)
        .unwrap_or_else(|e| panic!("own packet {text:?} from {desc:?} fails: {e:?}"));
    let want_ty = match (ty, attachments.len()) {
        (PacketType::Event, n) if n > 0 => PacketType::BinaryEvent,
        (PacketType::Ack, n) if n > 0 => PacketType::BinaryAck,
        (t, _) => t,
    };
    assert_eq!(p.packet_type(), want_ty);
    assert_eq!(p.namespace(), ns);
    assert_eq!(p.ack_id(), ack);
    assert_eq!(p.attachment_count(), attachments.len());

    // The canonical form is what the encoder wrote.
    let mut again = vec![0u8; text.len()];
    assert_eq!(enc.packet(&mut again, &p), Ok(text.len()));
    assert_eq!(
        again,
        text.as_bytes(),
        "Encoder::packet differs from the encoder"
    );

    if let SioKind::Event { name, .. } = &desc.kind {
        let got = p.event_name().expect("an event has a name");
        assert!(got.eq_str(name), "event name {got:?} vs {name:?}");
        assert!(matches!(got, EventName::String(_)));
        assert_eq!(&got.to_string(), name);
    }

    if let Some(expected) = expected_args {
        let raw: Vec<&str> = p.raw_args().collect();
        assert_eq!(raw.len(), expected.len(), "argument count of {text:?}");
        let resolved = p.with_attachments(&attachments);
        let opts = DeOptions {
            max_depth: limits.max_depth,
            attachments: Some(&attachments),
        };
        let mut numbered = Vec::new();
        for (r, want) in raw.iter().zip(&expected) {
            // With the attachments, placeholders read as the bytes.
            let got: Tree = from_str_with(r, &opts, None)
                .unwrap_or_else(|e| panic!("argument {r:?} fails: {e:?}"));
            assert_eq!(&got, want, "argument {r:?}");
            // Without them, as placeholder objects (as serde_json sees them).
            let plain: Tree = serde_json::from_str(r).expect("serde_json reads an argument");
            assert_eq!(plain, want.with_placeholders(&mut numbered));
        }
        let first: (Option<Tree>, Option<Tree>) = resolved
            .args()
            .unwrap_or_else(|e| panic!("args of {text:?} fail: {e:?}"));
        let opt = |i: usize| expected.get(i).filter(|t| **t != Tree::Null).cloned();
        assert_eq!(first, (opt(0), opt(1)));
        // Placeholders are numbered depth first, in attachment order.
        assert_eq!(numbered, attachments);
    }
    if let Some(want) = expected_payload {
        let got: Tree = p
            .data()
            .unwrap_or_else(|e| panic!("payload of {text:?} fails: {e:?}"))
            .expect("a payload");
        assert_eq!(got, want, "payload of {text:?}");
        assert!(!want.has_key(PLACEHOLDER_KEY));
    } else if !matches!(&desc.kind, SioKind::Event { .. } | SioKind::Ack { .. }) {
        assert_eq!(p.payload(), None);
    }
    if let SioKind::ConnectError { message, .. } = &desc.kind {
        let err = p.connect_error().expect("a CONNECT_ERROR body");
        if version == Version::V5 {
            assert!(err.message.expect("message").eq_str(message));
        }
    }
}

// ----------------------------------------------------------------- JSON --

fn json(t: &Tree) {
    let text = ser::to_string(t).expect("a tree serializes");
    let want = t.without_sink();
    let theirs: Tree = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("serde_json cannot read {text:?}: {e}"));
    assert_eq!(theirs, want, "serde_json reads {text:?}");
    let ours: Tree = from_str_with(&text, &DeOptions::default(), None)
        .unwrap_or_else(|e| panic!("we cannot read {text:?}: {e:?}"));
    assert_eq!(ours, want, "we read {text:?}");
    // Writing what we read gives the same text.
    assert_eq!(ser::to_string(&ours).as_ref(), Ok(&text), "second write");
    let mut len = ser::LenCounter::new();
    ser::to_writer(&mut len, t, None).expect("counting");
    assert_eq!(len.len(), text.len());
}

fuzz_target!(|input: Input| {
    match &input {
        Input::Eio(d) => eio(d),
        Input::Sio(d) => sio(d),
        Input::Json(t) => json(t),
    }
});
