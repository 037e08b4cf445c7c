//! HTTP long-polling bodies: the GET answer and the POST payload
//! (docs/protocol.md §1.3, §1.5, §2 items 2–4).

use bytes::Bytes;
use oxio_codec::engineio::payload::{v3_binary, v3_text, v4};
use oxio_codec::engineio::{Error, Version};
use oxio_codec::Limits;

use std::sync::Arc;

use http::header::{self, HeaderValue};
use http::{Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Limited};

use super::body::{is_too_slow, BodyDeadline, DeadlineBody};
use super::http_error::{empty, RequestError};
use super::packets::{as_codec, push_text, to_owned};
use super::BoxError;
use crate::session::SessionShared;
use crate::session_state::{Channel, GetOutcome, InPacket, OutPacket, SessionState, Verdict};
use crate::Message;

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

// ------------------------------------------------------ the requests --

/// A 200 polling answer.
pub(crate) fn response(body: Bytes, content_type: &'static str) -> Response<Bytes> {
    let len = body.len();
    let mut res = Response::new(body);
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// Closes the session if the held GET is dropped before its answer (the
/// client went away).
struct PollGuard(Option<Arc<SessionShared>>);

impl Drop for PollGuard {
    fn drop(&mut self) {
        if let Some(s) = self.0.take() {
            s.with(|inner, now| {
                inner.poll_waiter = None;
                inner.state.poll_cancelled(now);
            });
        }
    }
}

/// Ends a POST: marks it finished, and closes the session if the POST was
/// dropped before its body was read (the client went away mid-request).
struct PostGuard(Option<Arc<SessionShared>>);

impl PostGuard {
    /// The POST completed; `f` runs with it marked finished.
    fn finish(mut self, f: impl FnOnce(&mut SessionState, oxio_codec::Instant)) {
        if let Some(s) = self.0.take() {
            s.with(|inner, now| {
                f(&mut inner.state, now);
                inner.state.post_finished();
            });
        }
    }
}

impl Drop for PostGuard {
    fn drop(&mut self) {
        if let Some(s) = self.0.take() {
            tracing::debug!("POST cancelled before its body arrived");
            s.with(|inner, now| {
                inner.state.post_finished();
                inner.state.transport_error(now);
            });
        }
    }
}

pub(crate) async fn get(session: Arc<SessionShared>) -> Response<Bytes> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let outcome = session.with(|inner, now| {
        // Deadlines already due apply first (the timer task may not have
        // run yet): a GET after the ping timeout finds the session gone.
        inner.state.handle_timeout(now);
        let outcome = inner.state.handle_get(now);
        if outcome == GetOutcome::Wait {
            inner.poll_waiter = Some(tx);
        }
        outcome
    });
    let version = session.lock().state.version();
    let packets = match outcome {
        GetOutcome::Respond(p) => p,
        GetOutcome::Wait => {
            let mut guard = PollGuard(Some(session.clone()));
            match rx.await {
                Ok(p) => {
                    guard.0 = None;
                    p
                }
                Err(_) => return RequestError::UnknownSid.to_response(),
            }
        }
        GetOutcome::Overlap => {
            tracing::debug!("overlapping GET");
            return empty(StatusCode::BAD_REQUEST);
        }
        GetOutcome::WrongTransport => return RequestError::BadRequest.to_response(),
        GetOutcome::Gone => return RequestError::UnknownSid.to_response(),
    };
    let (body, content_type) = encode_response(version, session.b64, &packets);
    response(body, content_type)
}

pub(crate) async fn post<B>(
    session: Arc<SessionShared>,
    req: Request<B>,
    max_payload: usize,
    deadline: BodyDeadline,
) -> Response<Bytes>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let version = session.lock().state.version();
    let binary = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(OCTET_STREAM));
    if binary && version == Version::V4 {
        tracing::debug!("binary POST in v4");
        session.with(|inner, now| inner.state.transport_error(now));
        return empty(StatusCode::BAD_REQUEST);
    }
    if session
        .with(|inner, now| inner.state.post_started(now))
        .is_err()
    {
        tracing::debug!("overlapping POST");
        return empty(StatusCode::BAD_REQUEST);
    }
    let guard = PostGuard(Some(session));
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let too_large = declared.is_some_and(|n| n > u64::try_from(max_payload).unwrap_or(u64::MAX));
    let body = if too_large {
        None
    } else {
        let body = DeadlineBody::new(req.into_body(), deadline);
        match Limited::new(body, max_payload).collect().await {
            Ok(b) => Some(b.to_bytes()),
            Err(e)
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some() =>
            {
                None
            }
            Err(e) if is_too_slow(&*e) => {
                // Node destroys the socket at its requestTimeout; the
                // session ends as for a POST cut short.
                tracing::info!(error = %e, "polling POST body too slow: closing the session and the connection");
                guard.finish(|state, now| state.transport_error(now));
                let mut res = empty(StatusCode::REQUEST_TIMEOUT);
                res.headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
                return res;
            }
            Err(e) => {
                tracing::debug!(error = %e, "POST body read failed");
                guard.finish(|state, now| state.transport_error(now));
                return empty(StatusCode::BAD_REQUEST);
            }
        }
    };
    let Some(body) = body else {
        // Node answers 413 and keeps the session.
        guard.finish(|_, _| {});
        return empty(StatusCode::PAYLOAD_TOO_LARGE);
    };
    let payload = decode_post(version, binary, &body, max_payload);
    guard.finish(|state, now| {
        for p in payload.packets {
            if state.handle_packet(Channel::Polling, false, p, now) == Verdict::Stop {
                break;
            }
        }
        if let Some(e) = payload.error {
            tracing::debug!(error = %e, "undecodable POST body");
            state.parse_error(now);
        }
    });
    let mut res = Response::new(Bytes::from_static(b"ok"));
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(2u32));
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Utf8Bytes;

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
