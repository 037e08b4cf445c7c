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
use super::packets::{as_codec, push_text, to_owned, Backing};
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
        match r.and_then(|p| to_owned(p, Backing::Bytes(body))) {
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

// ------------------------------------------------- HTTP compression --

/// An HTTP content coding the polling transport can apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Coding {
    Gzip,
    Deflate,
}

impl Coding {
    fn name(self) -> &'static str {
        match self {
            Coding::Gzip => "gzip",
            Coding::Deflate => "deflate",
        }
    }
}

/// JavaScript's `parseFloat` on a q-value: the longest numeric prefix, or NaN.
fn parse_q(text: &str) -> f64 {
    let text = text.trim_start();
    let mut end = 0;
    let mut seen_dot = false;
    for (i, c) in text.char_indices() {
        match c {
            '0'..='9' => end = i + 1,
            '+' | '-' if i == 0 => {}
            '.' if !seen_dot => seen_dot = true,
            _ => break,
        }
    }
    text.get(..end)
        .and_then(|t| t.parse::<f64>().ok())
        .unwrap_or(f64::NAN)
}

/// The coding Node's engine.io picks for `Accept-Encoding`
/// (`accepts(req).encodings(["gzip", "deflate"])`, negotiator 0.6): for
/// each coding, the best matching entry (exact name over `*`, then the
/// higher q, then the later entry); codings with q > 0 sorted by q, exact
/// before `*`, earlier entry, then gzip before deflate.
pub(crate) fn negotiate(accept: &str) -> Option<Coding> {
    // (q, specificity, header position) of the best entry for gzip, deflate.
    let mut best: [Option<(f64, u8, usize)>; 2] = [None, None];
    for (pos, entry) in accept.split(',').enumerate() {
        let entry = entry.trim();
        let (name, params) = entry.split_once(';').unwrap_or((entry, ""));
        let name = name.trim_end();
        if name.is_empty() || name.contains(char::is_whitespace) {
            continue;
        }
        let mut q = 1.0;
        if !params.is_empty() {
            for p in params.split(';') {
                let mut kv = p.trim().split('=');
                if kv.next() == Some("q") {
                    q = kv.next().map_or(f64::NAN, parse_q);
                }
            }
        }
        for (slot, coding) in best.iter_mut().zip([Coding::Gzip, Coding::Deflate]) {
            let s = if name.eq_ignore_ascii_case(coding.name()) {
                1
            } else if name == "*" {
                0
            } else {
                continue;
            };
            let better = match *slot {
                None => true,
                // Node compares (s, q, position) with `a - b || …`: a NaN
                // q difference counts as equal.
                Some((bq, bs, bo)) => {
                    s > bs
                        || (s == bs
                            && (q > bq
                                || (q.partial_cmp(&bq) != Some(std::cmp::Ordering::Less)
                                    && pos > bo)))
                }
            };
            if better {
                *slot = Some((q, s, pos));
            }
        }
    }
    let [gzip, deflate] = best;
    let rank = |b: Option<(f64, u8, usize)>| b.filter(|(q, _, _)| *q > 0.0);
    match (rank(gzip), rank(deflate)) {
        (None, None) => None,
        (Some(_), None) => Some(Coding::Gzip),
        (None, Some(_)) => Some(Coding::Deflate),
        (Some((gq, gs, go)), Some((dq, ds, do_))) => {
            let deflate_first = dq > gq || (dq == gq && (ds > gs || (ds == gs && do_ < go)));
            Some(if deflate_first {
                Coding::Deflate
            } else {
                Coding::Gzip
            })
        }
    }
}

/// Compresses `body` with `coding` at zlib level `level`.
pub(crate) fn compress_body(body: &[u8], coding: Coding, level: u32) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    let level = flate2::Compression::new(level.min(9));
    let out = Vec::with_capacity(body.len() / 2 + 64);
    match coding {
        Coding::Gzip => {
            let mut e = flate2::write::GzEncoder::new(out, level);
            e.write_all(body)?;
            e.finish()
        }
        Coding::Deflate => {
            let mut e = flate2::write::ZlibEncoder::new(out, level);
            e.write_all(body)?;
            e.finish()
        }
    }
}

/// Node's `httpCompression` on a polling GET answer: a 200 whose body is at
/// least `threshold` bytes is compressed with the coding `Accept-Encoding`
/// prefers (see [`negotiate`]) and gets `Content-Encoding`; anything else
/// goes out as it is.
pub(crate) fn compress(
    mut res: Response<Bytes>,
    request: &http::HeaderMap,
    config: Option<&crate::config::HttpCompression>,
) -> Response<Bytes> {
    let Some(config) = config else {
        return res;
    };
    if res.status() != StatusCode::OK || res.body().len() < config.threshold {
        return res;
    }
    let Some(coding) = request
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .and_then(negotiate)
    else {
        return res;
    };
    match compress_body(res.body(), coding, config.level) {
        Ok(compressed) => {
            let len = compressed.len();
            *res.body_mut() = Bytes::from(compressed);
            let h = res.headers_mut();
            h.insert(
                header::CONTENT_ENCODING,
                HeaderValue::from_static(coding.name()),
            );
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
            res
        }
        Err(e) => {
            tracing::debug!(error = %e, "compression failed; sending the body raw");
            res
        }
    }
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

    /// Each header against the answer of Node's `accepts(req).encodings(["gzip","deflate"])`
    /// (accepts 1.3.8, negotiator 0.6.3), recorded with node.
    #[test]
    fn accept_encoding_as_node_negotiates() {
        use super::{negotiate, Coding::*};
        let cases = [
            ("gzip, deflate, br", Some(Gzip)),
            ("deflate, gzip", Some(Deflate)),
            ("gzip;q=0.5, deflate", Some(Deflate)),
            ("gzip;q=0, deflate;q=0", None),
            ("*", Some(Gzip)),
            ("identity", None),
            ("br", None),
            ("*;q=0", None),
            ("gzip;q=0, *", Some(Deflate)),
            ("", None),
            ("deflate;q=0.5, gzip;q=0.5", Some(Deflate)),
            ("GZIP", Some(Gzip)),
            ("gzip;q=0.8, deflate;q=0.9", Some(Deflate)),
            ("*;q=0.5, gzip;q=0.1", Some(Deflate)),
            ("gzip;q=1.0, identity; q=0.5, *;q=0", Some(Gzip)),
            ("x gzip", None),
        ];
        for (header, want) in cases {
            assert_eq!(negotiate(header), want, "{header:?}");
        }
    }

    #[test]
    fn compression_threshold_and_codings() {
        use super::{compress, response};
        use crate::config::HttpCompression;
        use std::io::Read;
        let cfg = HttpCompression::default();
        let big = Bytes::from("4".to_string() + &"hello ".repeat(300));
        let mut h = http::HeaderMap::new();
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip, deflate"),
        );
        let res = compress(response(big.clone(), TEXT_PLAIN), &h, Some(&cfg));
        assert_eq!(res.headers()[header::CONTENT_ENCODING], "gzip");
        assert_eq!(
            res.headers()[header::CONTENT_LENGTH],
            res.body().len().to_string()
        );
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&res.body()[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, big);
        // Below the threshold, without a config, or refused: raw.
        let small = Bytes::from_static(b"4hi");
        let res = compress(response(small.clone(), TEXT_PLAIN), &h, Some(&cfg));
        assert!(res.headers().get(header::CONTENT_ENCODING).is_none());
        let res = compress(response(big.clone(), TEXT_PLAIN), &h, None);
        assert_eq!(res.body(), &big);
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip;q=0, deflate"),
        );
        let res = compress(response(big.clone(), TEXT_PLAIN), &h, Some(&cfg));
        assert_eq!(res.headers()[header::CONTENT_ENCODING], "deflate");
        let mut out = Vec::new();
        flate2::read::ZlibDecoder::new(&res.body()[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, big);
    }
}
