//! The WebSocket layer: the opening handshake (RFC 6455 §4) and frame
//! headers (edge-ws), without IO of its own beyond the caller's socket.

use base64::Engine as _;
use core::fmt;
use edge_ws::{FrameHeader, FrameType};

/// The GUID of RFC 6455 §1.3, appended to the key before hashing.
const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Most response header lines kept while parsing the handshake answer.
const MAX_HEADERS: usize = 24;

/// Why the WebSocket opening handshake failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum HandshakeError {
    /// The request does not fit the buffer (host or path too long).
    RequestTooLong,
    /// The response header is longer than the receive buffer.
    HeaderTooLong,
    /// The response is not HTTP, or has more than 24 header lines.
    Malformed,
    /// The server answered with another status than 101.
    Status(u16),
    /// `Sec-WebSocket-Accept` is missing or wrong (or `Upgrade` is not `websocket`).
    BadAccept,
    /// The connection closed during the handshake.
    Closed,
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandshakeError::RequestTooLong => {
                f.write_str("WebSocket request too long for the buffer")
            }
            HandshakeError::HeaderTooLong => f.write_str("WebSocket response header too long"),
            HandshakeError::Malformed => f.write_str("malformed WebSocket handshake response"),
            HandshakeError::Status(s) => write!(f, "WebSocket upgrade refused with HTTP {s}"),
            HandshakeError::BadAccept => f.write_str("wrong Sec-WebSocket-Accept in the handshake"),
            HandshakeError::Closed => {
                f.write_str("connection closed during the WebSocket handshake")
            }
        }
    }
}

impl core::error::Error for HandshakeError {}

/// The `Sec-WebSocket-Key` for a 16-byte nonce: 24 base64 characters.
pub(crate) fn key(nonce: &[u8; 16]) -> [u8; 24] {
    let mut out = [0u8; 24];
    let _ = base64::engine::general_purpose::STANDARD.encode_slice(nonce, &mut out);
    out
}

/// The `Sec-WebSocket-Accept` the server must send for `key`.
fn accept(key: &[u8; 24]) -> [u8; 28] {
    let mut sha = sha1_smol::Sha1::new();
    sha.update(key);
    sha.update(GUID);
    let mut out = [0u8; 28];
    let _ = base64::engine::general_purpose::STANDARD.encode_slice(sha.digest().bytes(), &mut out);
    out
}

/// Writes the upgrade request into `buf`; returns its length.
pub(crate) fn write_request(
    buf: &mut [u8],
    host: &str,
    port: u16,
    target: &oxio_codec::client::ConnectTarget,
    key: &[u8; 24],
) -> Result<usize, HandshakeError> {
    struct W<'b> {
        buf: &'b mut [u8],
        len: usize,
    }
    impl fmt::Write for W<'_> {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
            self.buf
                .get_mut(self.len..end)
                .ok_or(fmt::Error)?
                .copy_from_slice(s.as_bytes());
            self.len = end;
            Ok(())
        }
    }
    let mut w = W { buf, len: 0 };
    let key = core::str::from_utf8(key).map_err(|_| HandshakeError::RequestTooLong)?;
    fmt::write(
        &mut w,
        format_args!(
            "GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ),
    )
    .map_err(|_| HandshakeError::RequestTooLong)?;
    Ok(w.len)
}

/// Checks a complete response head (`head` ends with the blank line).
pub(crate) fn check_response(head: &[u8], key: &[u8; 24]) -> Result<(), HandshakeError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    match response.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => return Err(HandshakeError::Malformed),
    }
    let code = response.code.unwrap_or(0);
    if code != 101 {
        return Err(HandshakeError::Status(code));
    }
    let want = accept(key);
    let mut accepted = false;
    let mut upgrade = false;
    for h in response.headers.iter() {
        if h.name.eq_ignore_ascii_case("sec-websocket-accept") {
            accepted = h.value == want.as_slice();
        } else if h.name.eq_ignore_ascii_case("upgrade") {
            upgrade = h.value.eq_ignore_ascii_case(b"websocket");
        }
    }
    if accepted && upgrade {
        Ok(())
    } else {
        Err(HandshakeError::BadAccept)
    }
}

/// Where the blank line ending a response head is: the head's length.
pub(crate) fn head_len(buf: &[u8]) -> Option<usize> {
    buf.windows(4)
        .position(|w| w == b"\r\n\r\n")
        .and_then(|p| p.checked_add(4))
}

/// Room kept in front of an outgoing payload for its (masked) header.
pub(crate) const HEADER_ROOM: usize = 8;

/// Writes the masked header of a frame carrying `len` bytes (≤ 65535)
/// right before `payload_at`, masks the payload, and returns where the
/// frame starts.
pub(crate) fn frame_in_place(
    buf: &mut [u8],
    payload_at: usize,
    len: usize,
    frame_type: FrameType,
    mask: u32,
) -> Option<usize> {
    let header = FrameHeader {
        frame_type,
        payload_len: u64::try_from(len).ok()?,
        mask_key: Some(mask),
    };
    let hlen = header.serialized_len();
    let start = payload_at.checked_sub(hlen)?;
    let end = payload_at.checked_add(len)?;
    header.serialize(buf.get_mut(start..payload_at)?).ok()?;
    header.mask(buf.get_mut(payload_at..end)?, 0);
    Some(start)
}

/// A parsed incoming frame header.
pub(crate) struct Incoming {
    pub frame_type: FrameType,
    pub mask: Option<u32>,
    /// Offset of the payload from the frame start.
    pub payload_at: usize,
    pub len: usize,
}

/// What the buffered bytes hold.
pub(crate) enum Parsed {
    /// More bytes are needed.
    Incomplete,
    /// A frame header (its payload may still be incomplete).
    Header(Incoming),
    /// A frame header whose payload length does not even fit `usize`
    /// (beyond 4 GiB on a 32-bit microcontroller): too large, like any
    /// frame longer than the receive buffer.
    TooLarge(u64),
    /// Not a WebSocket frame.
    Invalid,
}

/// Parses the header at the front of `buf`.
pub(crate) fn parse(buf: &[u8]) -> Parsed {
    match FrameHeader::deserialize(buf) {
        Ok((h, payload_at)) => match usize::try_from(h.payload_len) {
            Ok(len) => Parsed::Header(Incoming {
                frame_type: h.frame_type,
                mask: h.mask_key,
                payload_at,
                len,
            }),
            Err(_) => Parsed::TooLarge(h.payload_len),
        },
        Err(edge_ws::Error::Incomplete(_)) => Parsed::Incomplete,
        Err(_) => Parsed::Invalid,
    }
}

/// Unmasks a payload in place (servers should not mask, but may).
pub(crate) fn unmask(payload: &mut [u8], mask: Option<u32>) {
    FrameHeader::mask_with(payload, mask, 0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_matches_rfc_example() {
        // RFC 6455 §1.3: key "dGhlIHNhbXBsZSBub25jZQ==" gives this accept.
        let key: [u8; 24] = *b"dGhlIHNhbXBsZSBub25jZQ==";
        assert_eq!(&accept(&key), b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        assert_eq!(
            &super::key(b"the sample nonce"),
            b"dGhlIHNhbXBsZSBub25jZQ=="
        );
    }

    #[test]
    fn response_checks() {
        let key: [u8; 24] = *b"dGhlIHNhbXBsZSBub25jZQ==";
        let ok = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
        assert_eq!(check_response(ok, &key), Ok(()));
        let bad = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: AAAA\r\n\r\n";
        assert_eq!(check_response(bad, &key), Err(HandshakeError::BadAccept));
        let refused = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
        assert_eq!(
            check_response(refused, &key),
            Err(HandshakeError::Status(400))
        );
        assert_eq!(
            check_response(b"garbage\r\n\r\n", &key),
            Err(HandshakeError::Malformed)
        );
        assert_eq!(head_len(ok), Some(ok.len()));
        assert_eq!(head_len(b"HTTP/1.1 101\r\n"), None);
    }

    #[test]
    fn frames_in_place() {
        let mut buf = [0u8; 16];
        buf[8..11].copy_from_slice(b"abc");
        let start = frame_in_place(&mut buf, 8, 3, FrameType::Text(false), 0).unwrap();
        assert_eq!(&buf[start..11], &[0x81, 0x83, 0, 0, 0, 0, b'a', b'b', b'c']);
        match parse(&buf[start..11]) {
            Parsed::Header(h) => assert_eq!((h.payload_at, h.len, h.mask), (6, 3, Some(0))),
            _ => panic!("not parsed"),
        }
        assert!(matches!(parse(&[0x81]), Parsed::Incomplete));
        assert!(matches!(parse(&[0x83, 0]), Parsed::Invalid));
    }
}
