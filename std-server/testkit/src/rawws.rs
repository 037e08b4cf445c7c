//! A raw WebSocket client that shows the frames themselves (FIN, RSV1,
//! opcode, payload as sent), for the permessage-deflate tests: it offers
//! whatever `Sec-WebSocket-Extensions` a test gives, sends hand-made
//! frames (compressed or not, valid or not), and inflates what the server
//! compressed.

use std::net::SocketAddr;
use std::time::Duration;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One frame as it came from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawFrame {
    pub fin: bool,
    pub rsv1: bool,
    pub opcode: u8,
    pub payload: Vec<u8>,
}

impl RawFrame {
    /// The close code of a close frame.
    pub fn close_code(&self) -> Option<u16> {
        (self.opcode == 8 && self.payload.len() >= 2)
            .then(|| u16::from_be_bytes([self.payload[0], self.payload[1]]))
    }
}

pub struct RawWs {
    stream: TcpStream,
    buf: Vec<u8>,
    /// The response head's headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    pub status: u16,
    inflate: Decompress,
    deflate: Compress,
}

impl RawWs {
    /// Opens `path` (e.g. `/socket.io/?EIO=4&transport=websocket`) with
    /// `extensions` as the `Sec-WebSocket-Extensions` offer (none if empty).
    pub async fn connect(addr: SocketAddr, path: &str, extensions: &str) -> RawWs {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let mut req = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        );
        if !extensions.is_empty() {
            req.push_str(&format!("Sec-WebSocket-Extensions: {extensions}\r\n"));
        }
        req.push_str("\r\n");
        stream.write_all(req.as_bytes()).await.unwrap();
        let mut buf = Vec::new();
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 4096];
            let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut chunk))
                .await
                .expect("a response head in time")
                .unwrap();
            assert!(n > 0, "closed before the response head");
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8(buf[..head_end].to_vec()).unwrap();
        let rest = buf[head_end..].to_vec();
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        RawWs {
            stream,
            buf: rest,
            headers,
            status,
            inflate: Decompress::new(false),
            deflate: Compress::new(Compression::default(), false),
        }
    }

    /// A response header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Sends one masked frame: `b0` is FIN/RSV/opcode as written.
    pub async fn send_frame(&mut self, b0: u8, payload: &[u8]) {
        let mask = [0x37u8, 0xfa, 0x21, 0x3d];
        let mut f = vec![b0];
        let len = payload.len();
        if len < 126 {
            f.push(0x80 | len as u8);
        } else if len <= 0xffff {
            f.push(0x80 | 126);
            f.extend_from_slice(&(len as u16).to_be_bytes());
        } else {
            f.push(0x80 | 127);
            f.extend_from_slice(&(len as u64).to_be_bytes());
        }
        f.extend_from_slice(&mask);
        f.extend(payload.iter().zip(mask.iter().cycle()).map(|(b, m)| b ^ m));
        self.stream.write_all(&f).await.unwrap();
    }

    /// Sends a text message uncompressed.
    pub async fn send_text(&mut self, text: &str) {
        self.send_frame(0x81, text.as_bytes()).await;
    }

    /// Sends a text message compressed (RSV1), keeping the client's context.
    pub async fn send_text_compressed(&mut self, text: &str) {
        let body = Self::compress_with(&mut self.deflate, text.as_bytes());
        self.send_frame(0xC1, &body).await;
    }

    /// Raw deflate of `data` with a fresh context, the `00 00 ff ff` tail
    /// removed (RFC 7692 §7.2.1).
    pub fn compress(data: &[u8]) -> Vec<u8> {
        Self::compress_with(&mut Compress::new(Compression::default(), false), data)
    }

    fn compress_with(c: &mut Compress, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len() + 1024);
        c.compress_vec(data, &mut out, FlushCompress::Sync).unwrap();
        assert!(out.ends_with(&[0, 0, 0xff, 0xff]));
        out.truncate(out.len() - 4);
        out
    }

    /// The next frame within 5 s; `None` at end of stream.
    pub async fn next_frame(&mut self) -> Option<RawFrame> {
        loop {
            if self.buf.len() >= 2 {
                let b0 = self.buf[0];
                let b1 = self.buf[1];
                assert_eq!(b1 & 0x80, 0, "server frames are not masked");
                let (len, hl) = match b1 & 0x7f {
                    126 if self.buf.len() >= 4 => {
                        (u16::from_be_bytes([self.buf[2], self.buf[3]]) as usize, 4)
                    }
                    127 if self.buf.len() >= 10 => (
                        u64::from_be_bytes(self.buf[2..10].try_into().unwrap()) as usize,
                        10,
                    ),
                    126 | 127 => (usize::MAX, 0),
                    n => (n as usize, 2),
                };
                if hl > 0 && self.buf.len() >= hl + len {
                    let payload = self.buf[hl..hl + len].to_vec();
                    self.buf.drain(..hl + len);
                    return Some(RawFrame {
                        fin: b0 & 0x80 != 0,
                        rsv1: b0 & 0x40 != 0,
                        opcode: b0 & 0x0f,
                        payload,
                    });
                }
            }
            let mut chunk = vec![0u8; 64 * 1024];
            let n = tokio::time::timeout(Duration::from_secs(5), self.stream.read(&mut chunk))
                .await
                .expect("a frame in time")
                .unwrap_or(0);
            if n == 0 {
                return None;
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// The next data message's text (pings and Engine.IO pings skipped),
    /// inflated when RSV1 is set, with whether it was compressed.
    pub async fn next_text(&mut self) -> (String, bool) {
        loop {
            let f = self.next_frame().await.expect("a frame, not the end");
            assert_ne!(f.opcode, 8, "closed by the server: {f:?}");
            if f.opcode != 1 {
                continue;
            }
            assert!(f.fin, "the server sends one frame per message");
            let data = if f.rsv1 {
                let mut input = f.payload.clone();
                input.extend_from_slice(&[0, 0, 0xff, 0xff]);
                let mut out = Vec::with_capacity(input.len() * 20 + 1024);
                loop {
                    let before = self.inflate.total_in() as usize;
                    self.inflate
                        .decompress_vec(&input, &mut out, FlushDecompress::Sync)
                        .unwrap();
                    let used = self.inflate.total_in() as usize - before;
                    input.drain(..used);
                    if input.is_empty() && out.len() < out.capacity() {
                        break;
                    }
                    out.reserve(out.capacity());
                }
                out
            } else {
                f.payload
            };
            let text = String::from_utf8(data).unwrap();
            if text == "2" {
                continue;
            }
            return (text, f.rsv1);
        }
    }

    /// Reads until the server's close frame and returns its code (`None`
    /// for an empty close frame); panics at end of stream without one.
    pub async fn close_code(&mut self) -> Option<u16> {
        loop {
            let f = self
                .next_frame()
                .await
                .expect("a close frame before the end");
            if f.opcode == 8 {
                return f.close_code();
            }
        }
    }
}
