//! A sans-IO WebSocket server endpoint (RFC 6455) with permessage-deflate
//! (RFC 7692): bytes read from the socket in, messages and control events
//! out ([`Receiver`]); messages in, frame bytes to write out ([`Sender`]).
//! The socket task (`websocket.rs`) only moves bytes.
//!
//! Every fault closes the socket with the code the `ws` package uses:
//! 1002 for protocol errors (reserved bits, bad opcodes, RSV1 on a control
//! frame, unmasked frames), 1007 for invalid UTF-8 or deflate data, 1009 for
//! a message over the payload limit (counted after inflation).

use bytes::{Buf, Bytes, BytesMut};
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::ws_deflate::Agreed;
use crate::Utf8Bytes;

/// Close codes (RFC 6455 §7.4.1).
pub mod code {
    /// Protocol error.
    pub const PROTOCOL: u16 = 1002;
    /// Data not consistent with the message type (bad UTF-8, bad deflate data).
    pub const INVALID_DATA: u16 = 1007;
    /// Message too big.
    pub const TOO_BIG: u16 = 1009;
}

/// Frame opcodes.
pub mod op {
    /// Continuation of a fragmented message.
    pub const CONTINUATION: u8 = 0x0;
    /// Text message.
    pub const TEXT: u8 = 0x1;
    /// Binary message.
    pub const BINARY: u8 = 0x2;
    /// Close.
    pub const CLOSE: u8 = 0x8;
    /// Ping.
    pub const PING: u8 = 0x9;
    /// Pong.
    pub const PONG: u8 = 0xA;
}

/// Why the peer's input ends the connection: the close frame to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fail {
    /// Close code.
    pub code: u16,
    /// Close reason (also logged).
    pub reason: &'static str,
}

const fn fail(code: u16, reason: &'static str) -> Fail {
    Fail { code, reason }
}

const TOO_BIG: Fail = fail(code::TOO_BIG, "Max payload size exceeded");

/// One event from the peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// A complete text message (checked UTF-8).
    Text(Utf8Bytes),
    /// A complete binary message.
    Binary(Bytes),
    /// A ping: answer with a pong carrying the same payload.
    Ping(Bytes),
    /// A pong.
    Pong,
    /// A close frame: its code (none when the frame had no payload) and
    /// reason (valid UTF-8).
    Close(Option<u16>, Bytes),
}

/// The deflate side of a connection that agreed on permessage-deflate.
struct Inflate {
    /// Created on the first compressed message; dropped after each message
    /// when the client does not keep its context.
    ctx: Option<Decompress>,
    /// The client does not keep its LZ77 window across messages.
    reset_each_message: bool,
}

/// A message being assembled from fragments.
struct Partial {
    text: bool,
    compressed: bool,
    data: Vec<u8>,
    /// Bytes received on the wire for this message (compressed or not).
    wire_len: usize,
}

/// Parses and assembles what the client sends.
pub struct Receiver {
    max_payload: usize,
    inflate: Option<Inflate>,
    partial: Option<Partial>,
}

/// A parsed frame header.
#[derive(Debug, Clone, Copy)]
struct Header {
    fin: bool,
    rsv1: bool,
    /// RSV2 or RSV3 (no extension here defines them).
    rsv23: bool,
    opcode: u8,
    /// The masking key; `None` for an unmasked frame.
    mask: Option<[u8; 4]>,
    header_len: usize,
    len: usize,
}

impl Receiver {
    /// A receiver whose messages may not exceed `max_payload` bytes (after
    /// inflation); `deflate` is the agreed permessage-deflate, if any.
    pub fn new(max_payload: usize, deflate: Option<&Agreed>) -> Self {
        Receiver {
            max_payload,
            inflate: deflate.map(|a| Inflate {
                ctx: None,
                reset_each_message: a.client_no_context_takeover,
            }),
            partial: None,
        }
    }

    /// How many more bytes `buf` needs before the next frame is complete
    /// (0 when unknown or when one is complete), so the reader can reserve
    /// them at once. Bounded by the payload limit.
    pub fn wanted(&self, buf: &[u8]) -> usize {
        match parse_header(buf) {
            Some((h, _)) if h.len <= self.max_payload => {
                h.header_len.saturating_add(h.len).saturating_sub(buf.len())
            }
            _ => 0,
        }
    }

    /// Takes the next event out of `buf`, or `Ok(None)` when `buf` holds no
    /// complete frame yet (or only a fragment of a message).
    pub fn next(&mut self, buf: &mut BytesMut) -> Result<Option<Incoming>, Fail> {
        loop {
            let Some((h, extended_ok)) = parse_header(buf) else {
                return Ok(None);
            };
            if !extended_ok {
                return Err(fail(code::PROTOCOL, "invalid payload length"));
            }
            self.check(&h)?;
            if buf.len() < h.header_len.saturating_add(h.len) {
                return Ok(None);
            }
            buf.advance(h.header_len);
            let mut payload = buf.split_to(h.len);
            if let Some(mask) = h.mask {
                unmask(&mut payload, mask);
            }
            if let Some(event) = self.frame(h, payload)? {
                return Ok(Some(event));
            }
        }
    }

    /// The header checks, in the `ws` receiver's order.
    fn check(&self, h: &Header) -> Result<(), Fail> {
        let control = h.opcode >= op::CLOSE;
        if h.rsv23 {
            return Err(fail(code::PROTOCOL, "RSV2 and RSV3 must be clear"));
        }
        if h.rsv1 && (self.inflate.is_none() || control || h.opcode == op::CONTINUATION) {
            return Err(fail(code::PROTOCOL, "RSV1 must be clear"));
        }
        match h.opcode {
            op::CONTINUATION if self.partial.is_none() => {
                return Err(fail(code::PROTOCOL, "invalid opcode 0"))
            }
            op::TEXT | op::BINARY if self.partial.is_some() => {
                return Err(fail(code::PROTOCOL, "expected a continuation frame"))
            }
            op::CONTINUATION | op::TEXT | op::BINARY => {}
            op::CLOSE | op::PING | op::PONG => {
                if !h.fin {
                    return Err(fail(code::PROTOCOL, "FIN must be set"));
                }
                if h.len > 125 {
                    return Err(fail(code::PROTOCOL, "invalid payload length"));
                }
            }
            _ => return Err(fail(code::PROTOCOL, "invalid opcode")),
        }
        if h.mask.is_none() {
            return Err(fail(code::PROTOCOL, "MASK must be set"));
        }
        if !control {
            let so_far = self.partial.as_ref().map_or(0, |p| p.wire_len);
            if so_far.saturating_add(h.len) > self.max_payload {
                return Err(TOO_BIG);
            }
        }
        Ok(())
    }

    /// Handles one complete, unmasked frame.
    fn frame(&mut self, h: Header, payload: BytesMut) -> Result<Option<Incoming>, Fail> {
        match h.opcode {
            op::PING => return Ok(Some(Incoming::Ping(payload.freeze()))),
            op::PONG => return Ok(Some(Incoming::Pong)),
            op::CLOSE => return close_frame(payload.freeze()).map(Some),
            _ => {}
        }
        let text = h.opcode == op::TEXT;
        if h.opcode != op::CONTINUATION && h.fin && !h.rsv1 {
            // The common case: one uncompressed frame, no copy.
            let data = payload.freeze();
            return finish(text, data).map(Some);
        }
        let mut partial = match self.partial.take() {
            Some(p) => p,
            None => Partial {
                text,
                compressed: h.rsv1,
                data: Vec::new(),
                wire_len: 0,
            },
        };
        partial.wire_len = partial.wire_len.saturating_add(payload.len());
        if partial.compressed {
            self.inflate_into(&payload, &mut partial.data)?;
            if h.fin {
                self.inflate_into(&[0, 0, 0xff, 0xff], &mut partial.data)?;
                self.message_done();
            }
        } else {
            if partial.data.len().saturating_add(payload.len()) > self.max_payload {
                return Err(TOO_BIG);
            }
            partial.data.extend_from_slice(&payload);
        }
        if h.fin {
            return finish(partial.text, Bytes::from(partial.data)).map(Some);
        }
        self.partial = Some(partial);
        Ok(None)
    }

    /// After a compressed message: drops the inflate context when the
    /// client does not keep its window (the memory is freed between
    /// messages).
    fn message_done(&mut self) {
        if let Some(inf) = self.inflate.as_mut() {
            if inf.reset_each_message {
                inf.ctx = None;
            }
        }
    }

    /// Inflates `input` onto `out`, never past the payload limit.
    fn inflate_into(&mut self, mut input: &[u8], out: &mut Vec<u8>) -> Result<(), Fail> {
        let max = self.max_payload;
        let Some(inf) = self.inflate.as_mut() else {
            return Err(fail(code::PROTOCOL, "RSV1 must be clear"));
        };
        let ctx = inf.ctx.get_or_insert_with(|| Decompress::new(false));
        loop {
            if out.len() == out.capacity() {
                // Room for at most one byte past the limit, to detect it.
                let room = max.saturating_add(1).saturating_sub(out.len());
                if room == 0 {
                    return Err(TOO_BIG);
                }
                let want = input.len().saturating_mul(4).clamp(1024, 64 * 1024);
                out.reserve_exact(want.min(room));
            }
            let (in_before, out_before) = (ctx.total_in(), ctx.total_out());
            let status = ctx
                .decompress_vec(input, out, FlushDecompress::Sync)
                .map_err(|_| fail(code::INVALID_DATA, "invalid compressed data"))?;
            if out.len() > max {
                return Err(TOO_BIG);
            }
            let consumed = usize::try_from(ctx.total_in().saturating_sub(in_before)).unwrap_or(0);
            let produced = ctx.total_out().saturating_sub(out_before);
            input = input.get(consumed..).unwrap_or_default();
            if status == Status::StreamEnd {
                // A final block: what follows belongs to no stream.
                inf.ctx = None;
                return Ok(());
            }
            let room_left = out.len() < out.capacity();
            if (input.is_empty() && room_left) || (consumed == 0 && produced == 0 && room_left) {
                return Ok(());
            }
        }
    }
}

/// A complete message: text must be valid UTF-8.
fn finish(text: bool, data: Bytes) -> Result<Incoming, Fail> {
    if text {
        Utf8Bytes::try_from(data)
            .map(Incoming::Text)
            .map_err(|_| fail(code::INVALID_DATA, "invalid UTF-8 sequence"))
    } else {
        Ok(Incoming::Binary(data))
    }
}

/// Checks a close frame's payload (code, UTF-8 reason) as `ws` does.
fn close_frame(payload: Bytes) -> Result<Incoming, Fail> {
    match payload.as_ref() {
        [] => Ok(Incoming::Close(None, Bytes::new())),
        [_] => Err(fail(code::PROTOCOL, "invalid payload length 1")),
        [hi, lo, reason @ ..] => {
            let c = u16::from_be_bytes([*hi, *lo]);
            if !is_valid_close_code(c) {
                return Err(fail(code::PROTOCOL, "invalid status code"));
            }
            if std::str::from_utf8(reason).is_err() {
                return Err(fail(code::INVALID_DATA, "invalid UTF-8 sequence"));
            }
            Ok(Incoming::Close(Some(c), payload.slice(2..)))
        }
    }
}

/// The codes a peer may send (`ws`'s rule).
pub fn is_valid_close_code(c: u16) -> bool {
    (1000..=1014).contains(&c) && !matches!(c, 1004..=1006) || (3000..=4999).contains(&c)
}

/// Parses a frame header; `None` when incomplete. The flag is false when a
/// 64-bit length has its top bit set (RFC 6455 §5.2).
fn parse_header(buf: &[u8]) -> Option<(Header, bool)> {
    let (&b0, rest) = buf.split_first()?;
    let (&b1, rest) = rest.split_first()?;
    let masked = b1 & 0x80 != 0;
    let (len, ext, ok): (u64, usize, bool) = match b1 & 0x7f {
        126 => {
            let b = rest.get(..2)?;
            (
                u64::from(u16::from_be_bytes([
                    b.first().copied()?,
                    b.get(1).copied()?,
                ])),
                2,
                true,
            )
        }
        127 => {
            let b: [u8; 8] = rest.get(..8)?.try_into().ok()?;
            let n = u64::from_be_bytes(b);
            (n, 8, n >> 63 == 0)
        }
        n => (u64::from(n), 0, true),
    };
    let mask = match masked {
        true => Some(<[u8; 4]>::try_from(rest.get(ext..ext.checked_add(4)?)?).ok()?),
        false => None,
    };
    let header = Header {
        fin: b0 & 0x80 != 0,
        rsv1: b0 & 0x40 != 0,
        rsv23: b0 & 0x30 != 0,
        opcode: b0 & 0x0f,
        mask,
        header_len: 2usize
            .saturating_add(ext)
            .saturating_add(if masked { 4 } else { 0 }),
        len: usize::try_from(len).unwrap_or(usize::MAX),
    };
    Some((header, ok))
}

/// XORs `data` with `mask` (RFC 6455 §5.3).
fn unmask(data: &mut [u8], mask: [u8; 4]) {
    if mask == [0; 4] {
        return;
    }
    let m8 = u64::from_ne_bytes([
        mask[0], mask[1], mask[2], mask[3], mask[0], mask[1], mask[2], mask[3],
    ]);
    let mut chunks = data.chunks_exact_mut(8);
    for c in &mut chunks {
        if let Ok(a) = <[u8; 8]>::try_from(&*c) {
            c.copy_from_slice(&(u64::from_ne_bytes(a) ^ m8).to_ne_bytes());
        }
    }
    for (b, m) in chunks.into_remainder().iter_mut().zip(mask.iter().cycle()) {
        *b ^= m;
    }
}

/// The deflate side of what the server sends.
struct Deflate {
    ctx: Option<Compress>,
    level: u32,
    window_bits: u8,
    reset_each_message: bool,
    threshold: usize,
    scratch: Vec<u8>,
}

/// Writes frames: unmasked (server role), one frame per message,
/// compressed when permessage-deflate was agreed and the message reaches
/// the threshold.
pub struct Sender {
    deflate: Option<Deflate>,
}

/// Bytes of a frame header for a payload of `len` bytes (server: unmasked).
#[cfg(test)]
fn header_len(len: usize) -> usize {
    if len < 126 {
        2
    } else if len <= 0xffff {
        4
    } else {
        10
    }
}

/// Appends the header of an unmasked frame.
fn push_header(out: &mut Vec<u8>, fin_op: u8, rsv1: bool, len: usize) {
    let b0 = fin_op | if rsv1 { 0x40 } else { 0 };
    if len < 126 {
        out.extend_from_slice(&[b0, len as u8]);
    } else if let Ok(l) = u16::try_from(len) {
        let l = l.to_be_bytes();
        out.extend_from_slice(&[b0, 126, l[0], l[1]]);
    } else {
        out.extend_from_slice(&[b0, 127]);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
}

impl Sender {
    /// A sender; `deflate` is the agreed permessage-deflate, if any.
    pub fn new(deflate: Option<&Agreed>) -> Self {
        Sender {
            deflate: deflate.map(|a| Deflate {
                ctx: None,
                level: a.level,
                window_bits: a.server_window_bits,
                reset_each_message: a.server_no_context_takeover,
                threshold: a.threshold,
                scratch: Vec::new(),
            }),
        }
    }

    /// Appends one data message (`text` or binary) of `len` bytes, written
    /// by `fill` (which must append exactly `len` bytes, or fail and
    /// append nothing).
    pub fn push_message<E>(
        &mut self,
        out: &mut Vec<u8>,
        text: bool,
        len: usize,
        fill: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
    ) -> Result<(), E> {
        let fin_op = 0x80 | if text { op::TEXT } else { op::BINARY };
        match self.deflate.as_mut() {
            Some(d) if len >= d.threshold => {
                let mut scratch = std::mem::take(&mut d.scratch);
                scratch.clear();
                fill(&mut scratch)?;
                d.compress(out, fin_op, &scratch);
                if scratch.capacity() <= 64 * 1024 {
                    d.scratch = scratch;
                }
                Ok(())
            }
            _ => {
                let start = out.len();
                push_header(out, fin_op, false, len);
                let before = out.len();
                match fill(out) {
                    Ok(()) if out.len() == before.saturating_add(len) => Ok(()),
                    Ok(()) => {
                        // `fill` broke its promise: rewrite the header.
                        let body: Vec<u8> = out.split_off(before);
                        out.truncate(start);
                        push_header(out, fin_op, false, body.len());
                        out.extend_from_slice(&body);
                        Ok(())
                    }
                    Err(e) => {
                        out.truncate(start);
                        Err(e)
                    }
                }
            }
        }
    }

    /// Appends one data message whose bytes are at hand.
    pub fn push_bytes(&mut self, out: &mut Vec<u8>, text: bool, data: &[u8]) {
        let written = self.push_message(out, text, data.len(), |o| {
            o.extend_from_slice(data);
            Ok::<(), std::convert::Infallible>(())
        });
        if let Err(never) = written {
            match never {}
        }
    }

    /// Appends a control frame (its payload truncated to 125 bytes).
    pub fn push_control(out: &mut Vec<u8>, opcode: u8, payload: &[u8]) {
        let payload = payload.get(..125).unwrap_or(payload);
        push_header(out, 0x80 | opcode, false, payload.len());
        out.extend_from_slice(payload);
    }

    /// Appends a close frame with `code` and `reason` (none: empty payload).
    pub fn push_close(out: &mut Vec<u8>, code: Option<u16>, reason: &str) {
        let mut payload = Vec::with_capacity(reason.len().saturating_add(2));
        if let Some(c) = code {
            payload.extend_from_slice(&c.to_be_bytes());
            payload.extend_from_slice(reason.as_bytes());
        }
        Self::push_control(out, op::CLOSE, &payload);
    }
}

impl Deflate {
    /// Appends `data` as one compressed frame (RSV1, the trailing
    /// `00 00 ff ff` removed, RFC 7692 §7.2.1).
    fn compress(&mut self, out: &mut Vec<u8>, fin_op: u8, data: &[u8]) {
        let (level, bits) = (self.level, self.window_bits);
        let ctx = self.ctx.get_or_insert_with(|| new_compress(level, bits));
        let mut body: Vec<u8> = Vec::with_capacity(data.len() / 2 + 64);
        let mut input = data;
        loop {
            if body.len() == body.capacity() {
                body.reserve(data.len() / 4 + 64);
            }
            let before = ctx.total_in();
            let r = ctx.compress_vec(input, &mut body, FlushCompress::Sync);
            let consumed = usize::try_from(ctx.total_in().saturating_sub(before)).unwrap_or(0);
            input = input.get(consumed..).unwrap_or_default();
            if r.is_err() {
                // Cannot happen with a fresh buffer; send it uncompressed.
                self.ctx = None;
                push_header(out, fin_op, false, data.len());
                out.extend_from_slice(data);
                return;
            }
            if input.is_empty() && body.len() < body.capacity() {
                break;
            }
        }
        if body.ends_with(&[0, 0, 0xff, 0xff]) {
            body.truncate(body.len().saturating_sub(4));
        }
        if body.is_empty() {
            body.push(0);
        }
        push_header(out, fin_op, true, body.len());
        out.extend_from_slice(&body);
        if self.reset_each_message {
            self.ctx = None;
        }
    }
}

/// A raw-deflate compressor with `bits` of window (9 to 15).
fn new_compress(level: u32, bits: u8) -> Compress {
    Compress::new_with_window_bits(Compression::new(level.min(9)), false, bits.clamp(9, 15))
}

/// Frames as a client sends them, for tests of this layer and the socket's.
#[cfg(test)]
pub(crate) mod test_frames {
    /// One masked frame: `fin_op` is the first byte (FIN bit and opcode).
    pub(crate) fn masked(fin_op: u8, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
        let mut v = vec![fin_op];
        let len = payload.len();
        if len < 126 {
            v.push(0x80 | len as u8);
        } else if len <= 0xffff {
            v.push(0x80 | 126);
            v.extend_from_slice(&(len as u16).to_be_bytes());
        } else {
            v.push(0x80 | 127);
            v.extend_from_slice(&(len as u64).to_be_bytes());
        }
        v.extend_from_slice(&mask);
        v.extend(payload.iter().zip(mask.iter().cycle()).map(|(b, m)| b ^ m));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::test_frames::masked;
    use super::*;

    fn agreed() -> Agreed {
        Agreed {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_window_bits: 15,
            client_window_bits: None,
            threshold: 0,
            level: 6,
        }
    }

    fn read_all(r: &mut Receiver, bytes: &[u8]) -> Result<Vec<Incoming>, Fail> {
        let mut buf = BytesMut::from(bytes);
        let mut out = Vec::new();
        while let Some(e) = r.next(&mut buf)? {
            out.push(e);
        }
        Ok(out)
    }

    #[test]
    fn masked_text_is_unmasked_in_any_length() {
        for len in [0usize, 5, 125, 126, 65535, 65536, 70000] {
            let text = "a".repeat(len);
            let mut r = Receiver::new(1 << 20, None);
            let got = read_all(&mut r, &masked(0x81, text.as_bytes(), [1, 2, 3, 4])).unwrap();
            assert_eq!(got, vec![Incoming::Text(Utf8Bytes::from(text))]);
        }
    }

    #[test]
    fn a_zero_mask_key_is_a_mask() {
        let mut r = Receiver::new(100, None);
        let got = read_all(&mut r, &masked(0x82, b"\xff\xff", [0, 0, 0, 0])).unwrap();
        assert_eq!(got, vec![Incoming::Binary(Bytes::from_static(b"\xff\xff"))]);
        let got = read_all(&mut r, &masked(0x82, b"\x00\x01", [0xff; 4])).unwrap();
        assert_eq!(got, vec![Incoming::Binary(Bytes::from_static(b"\x00\x01"))]);
    }

    #[test]
    fn fragments_and_interleaved_ping() {
        let mut r = Receiver::new(100, None);
        let mut bytes = masked(0x01, b"he", [9, 8, 7, 6]);
        bytes.extend(masked(0x89, b"p", [1, 1, 1, 1]));
        bytes.extend(masked(0x80, b"llo", [5, 5, 5, 5]));
        let got = read_all(&mut r, &bytes).unwrap();
        assert_eq!(
            got,
            vec![
                Incoming::Ping(Bytes::from_static(b"p")),
                Incoming::Text(Utf8Bytes::from_static("hello"))
            ]
        );
    }

    #[test]
    fn protocol_faults_have_ws_codes() {
        let cases: &[(Vec<u8>, u16)] = &[
            (vec![0x81, 0x00], code::PROTOCOL),                 // unmasked
            (masked(0xC1, b"x", [1, 2, 3, 4]), code::PROTOCOL), // RSV1 without deflate
            (masked(0xA1, b"x", [1, 2, 3, 4]), code::PROTOCOL), // RSV2
            (masked(0x83, b"x", [1, 2, 3, 4]), code::PROTOCOL), // opcode 3
            (masked(0x80, b"x", [1, 2, 3, 4]), code::PROTOCOL), // lone continuation
            (masked(0x09, b"x", [1, 2, 3, 4]), code::PROTOCOL), // fragmented ping
            (masked(0x89, &[0; 126], [1, 2, 3, 4]), code::PROTOCOL), // long ping
            (masked(0x88, b"\x03", [1, 2, 3, 4]), code::PROTOCOL), // close of 1 byte
            (masked(0x88, b"\x03\xed", [1, 2, 3, 4]), code::PROTOCOL), // 1005
            (
                masked(0x88, b"\x03\xe8\xff", [1, 2, 3, 4]),
                code::INVALID_DATA,
            ),
            (masked(0x81, b"\xff", [1, 2, 3, 4]), code::INVALID_DATA),
            (masked(0x82, &[0; 101], [1, 2, 3, 4]), code::TOO_BIG),
        ];
        for (bytes, want) in cases {
            let mut r = Receiver::new(100, None);
            assert_eq!(
                read_all(&mut r, bytes).unwrap_err().code,
                *want,
                "{bytes:02x?}"
            );
        }
        let mut r = Receiver::new(100, Some(&agreed()));
        let rsv1_ping = masked(0xC9, b"", [1, 2, 3, 4]);
        assert_eq!(
            read_all(&mut r, &rsv1_ping).unwrap_err().code,
            code::PROTOCOL
        );
    }

    fn deflate_raw(data: &[u8]) -> Vec<u8> {
        let mut c = Compress::new(Compression::default(), false);
        let mut out = Vec::with_capacity(data.len() + 64);
        c.compress_vec(data, &mut out, FlushCompress::Sync).unwrap();
        assert!(out.ends_with(&[0, 0, 0xff, 0xff]));
        out.truncate(out.len() - 4);
        out
    }

    #[test]
    fn compressed_messages_round_trip_and_keep_context() {
        let a = agreed();
        let mut s = Sender::new(Some(&a));
        let mut r = Receiver::new(1 << 20, Some(&a));
        for _ in 0..3 {
            let msg = "hello hello hello hello".repeat(100);
            let mut out = Vec::new();
            s.push_message(&mut out, true, msg.len(), |o| {
                o.extend_from_slice(msg.as_bytes());
                Ok::<(), ()>(())
            })
            .unwrap();
            assert_eq!(out[0], 0xC1);
            assert!(out.len() < 100);
            // Re-mask it as a client would, and read it back.
            let payload = &out[header_len(out.len() - 2)..];
            let frame = masked(0xC1, payload, [3, 1, 4, 1]);
            let got = read_all(&mut r, &frame).unwrap();
            assert_eq!(got, vec![Incoming::Text(Utf8Bytes::from(msg))]);
        }
    }

    #[test]
    fn bad_deflate_data_is_1007_and_bombs_are_1009() {
        let a = agreed();
        let mut r = Receiver::new(1000, Some(&a));
        let bad = masked(0xC1, &[0xff, 0xff, 0xff, 0xff], [1, 2, 3, 4]);
        assert_eq!(read_all(&mut r, &bad).unwrap_err().code, code::INVALID_DATA);
        let mut r = Receiver::new(1000, Some(&a));
        let bomb = deflate_raw(&[b'a'; 100_000]);
        assert!(bomb.len() < 1000);
        let frame = masked(0xC2, &bomb, [1, 2, 3, 4]);
        assert_eq!(read_all(&mut r, &frame).unwrap_err(), TOO_BIG);
        // Exactly at the limit is fine.
        let mut r = Receiver::new(1000, Some(&a));
        let frame = masked(0xC2, &deflate_raw(&[b'a'; 1000]), [1, 2, 3, 4]);
        assert_eq!(
            read_all(&mut r, &frame).unwrap(),
            vec![Incoming::Binary(Bytes::from(vec![b'a'; 1000]))]
        );
    }

    #[test]
    fn small_messages_stay_uncompressed_below_the_threshold() {
        let a = Agreed {
            threshold: 1024,
            ..agreed()
        };
        let mut s = Sender::new(Some(&a));
        let mut out = Vec::new();
        s.push_message(&mut out, false, 3, |o| {
            o.extend_from_slice(b"abc");
            Ok::<(), ()>(())
        })
        .unwrap();
        assert_eq!(out, b"\x82\x03abc");
    }

    #[test]
    fn close_codes() {
        assert!(is_valid_close_code(1000));
        assert!(is_valid_close_code(4999));
        for c in [999, 1004, 1005, 1006, 1015, 1016, 2999, 5000] {
            assert!(!is_valid_close_code(c), "{c}");
        }
    }
}
