//! HTTP long-polling bodies: the GET answer and the POST payload
//! (protocol.md §1.3, §1.5, §2 items 2–4).

use bytes::Bytes;
use oxio_codec::engineio::payload::{v3_binary, v3_text, v4};
use oxio_codec::engineio::{Error, Version};
use oxio_codec::Limits;

use super::packets::{as_codec, push_text, to_owned};
use crate::engine::session_state::{InPacket, OutPacket};
use crate::engine::Message;

/// `Content-Type` of text polling bodies.
pub(crate) const TEXT_PLAIN: &str = "text/plain; charset=UTF-8";
/// `Content-Type` of v3 binary (XHR2) bodies.
pub(crate) const OCTET_STREAM: &str = "application/octet-stream";

/// Encodes a GET answer: v4 packets joined by `0x1E`; v3 `<len>:<packet>`,
/// or the XHR2 binary format when a packet is binary and the session did
/// not ask for `b64`. Returns the body and its content type.
///
/// A v4 text message holding `0x1E` is written as is (as Node does); the
/// client will split it.
pub(crate) fn encode_response(
    version: Version,
    b64: bool,
    packets: &[OutPacket],
) -> (Bytes, &'static str) {
    let mut body = Vec::new();
    match version {
        Version::V4 => {
            for (i, p) in packets.iter().enumerate() {
                if i > 0 {
                    body.push(v4::SEPARATOR);
                }
                if let Err(e) = push_text(&mut body, &as_codec(p), Version::V4) {
                    tracing::warn!(error = %e, "packet dropped from a polling answer");
                }
            }
            (Bytes::from(body), TEXT_PLAIN)
        }
        Version::V3 => {
            let binary = !b64
                && packets
                    .iter()
                    .any(|p| matches!(p, OutPacket::Message(Message::Binary(_))));
            let result = if binary {
                let mut w = v3_binary::PayloadWriter::new_vec(&mut body);
                packets.iter().try_for_each(|p| w.push(&as_codec(p)))
            } else {
                let mut w = v3_text::PayloadWriter::new_vec(&mut body);
                packets.iter().try_for_each(|p| w.push(&as_codec(p)))
            };
            if let Err(e) = result {
                tracing::warn!(error = %e, "could not encode a v3 polling answer");
            }
            let content_type = if binary { OCTET_STREAM } else { TEXT_PLAIN };
            (Bytes::from(body), content_type)
        }
    }
}

/// A decoded POST body: the packets before the first error, and the error.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct PostPayload {
    /// Packets in order.
    pub packets: Vec<InPacket>,
    /// The decode error that stopped decoding (a parse error: the session
    /// closes after the packets are delivered).
    pub error: Option<Error>,
}

/// Decodes a POST body. `binary`: the request said
/// `Content-Type: application/octet-stream` (only valid in v3; the caller
/// refuses it in v4).
pub(crate) fn decode_post(
    version: Version,
    binary: bool,
    body: &Bytes,
    max_payload: usize,
) -> PostPayload {
    let limits = Limits {
        max_packet_len: max_payload,
        ..Limits::default()
    };
    let mut out = PostPayload::default();
    let mut push = |r: Result<oxio_codec::engineio::Packet<'_>, Error>| -> bool {
        match r.and_then(|p| to_owned(p, body)) {
            Ok(p) => {
                out.packets.push(p);
                true
            }
            Err(e) => {
                out.error = Some(e);
                false
            }
        }
    };
    match (version, binary) {
        (Version::V3, true) => {
            for r in v3_binary::decode(body, &limits) {
                if !push(r) {
                    break;
                }
            }
        }
        (Version::V3, false) => {
            for r in v3_text::decode_bytes(body, &limits) {
                if !push(r) {
                    break;
                }
            }
        }
        (Version::V4, _) => {
            for r in v4::decode_bytes(body, &limits) {
                if !push(r) {
                    break;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Utf8Bytes;

    fn text(s: &str) -> OutPacket {
        OutPacket::Message(Message::Text(Utf8Bytes::from(s)))
    }

    fn bin(b: &'static [u8]) -> OutPacket {
        OutPacket::Message(Message::Binary(Bytes::from_static(b)))
    }

    /// version, b64, packets, body, content type
    type Case = (Version, bool, Vec<OutPacket>, &'static [u8], &'static str);

    #[test]
    fn responses_by_version() {
        let cases: &[Case] = &[
            (
                Version::V4,
                false,
                vec![text("hello"), bin(&[1, 2, 3, 4])],
                b"4hello\x1ebAQIDBA==",
                TEXT_PLAIN,
            ),
            (
                Version::V4,
                false,
                vec![OutPacket::Noop, OutPacket::Close],
                b"6\x1e1",
                TEXT_PLAIN,
            ),
            (Version::V4, false, vec![OutPacket::Ping], b"2", TEXT_PLAIN),
            (
                Version::V3,
                false,
                vec![OutPacket::Noop, OutPacket::Close],
                b"1:61:1",
                TEXT_PLAIN,
            ),
            (
                Version::V3,
                false,
                vec![text("€😀")],
                b"4:4\xe2\x82\xac\xf0\x9f\x98\x80",
                TEXT_PLAIN,
            ),
            (
                Version::V3,
                false,
                vec![text("hello"), bin(&[1, 2, 3, 4])],
                &[
                    0x00, 0x06, 0xFF, 0x34, 0x68, 0x65, 0x6C, 0x6C, 0x6F, 0x01, 0x05, 0xFF, 0x04,
                    0x01, 0x02, 0x03, 0x04,
                ],
                OCTET_STREAM,
            ),
            (
                Version::V3,
                true,
                vec![text("hello"), bin(&[1, 2, 3, 4])],
                b"6:4hello10:b4AQIDBA==",
                TEXT_PLAIN,
            ),
        ];
        for (version, b64, packets, body, ct) in cases {
            let (got, got_ct) = encode_response(*version, *b64, packets);
            assert_eq!(got.as_ref(), *body, "{version:?} {packets:?}");
            assert_eq!(got_ct, *ct);
        }
    }

    #[test]
    fn post_bodies_stop_at_the_first_error() {
        let body = Bytes::from_static(b"4a\x1e4b\x1e9c\x1e4d");
        let p = decode_post(Version::V4, false, &body, 1000);
        assert_eq!(p.packets.len(), 2);
        assert!(p.error.is_some());
        let p = decode_post(Version::V4, false, &Bytes::new(), 1000);
        assert_eq!(p.error, Some(Error::Empty));
        let body = Bytes::from_static(b"19:42[\"message\",\"\xe2\x82\xac\xf0\x9f\x98\x80\"]");
        let p = decode_post(Version::V3, false, &body, 1000);
        assert_eq!(p.error, None);
        assert_eq!(
            p.packets,
            [InPacket::Message(Message::Text(Utf8Bytes::from(
                "2[\"message\",\"€😀\"]"
            )))]
        );
        let body = Bytes::from_static(&[0x01, 0x05, 0xFF, 0x04, 0x01, 0x02, 0x03, 0x04]);
        let p = decode_post(Version::V3, true, &body, 1000);
        assert_eq!(
            p.packets,
            [InPacket::Message(Message::Binary(Bytes::from_static(&[
                1, 2, 3, 4
            ])))]
        );
    }
}
