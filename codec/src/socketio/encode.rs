//! Where Socket.IO packets are written.
//!
//! The encoder writes `<type>[<n>-][<nsp>,][<ack id>]<JSON>` into a buffer
//! the caller owns; the JSON comes from any `serde::Serialize` value and is
//! byte-identical to what `JSON.stringify` writes for the same value. Byte
//! fields (see [`Binary`](super::Binary)) become placeholders, the packet
//! type becomes BINARY_EVENT/BINARY_ACK with its count, and the bytes are
//! handed to the caller in attachment order.
//!
//! Argument lists follow one rule in both directions: a Rust tuple is the
//! list of arguments, `()` is no argument, [`Args`](super::Args) is a list
//! of any length, anything else is one argument.

use super::packet::Packet;
use super::{is_reserved_event, Error, PacketType, Version};
use crate::json::ser::{self, BinarySink, Write};
use crate::json::JsonError;
use crate::limits::MAX_SAFE_INTEGER;
use serde::Serialize;

/// What an encode wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Encoded {
    /// Bytes written to the front of the buffer.
    pub len: usize,
    /// Binary attachments the packet announces; send them next, in order.
    pub attachments: usize,
}

/// Writes Socket.IO packets for one protocol version.
///
/// ```
/// use oxio_codec::socketio::Encoder;
///
/// let enc = Encoder::default();
/// let mut buf = [0u8; 64];
/// let n = enc.event(&mut buf, "/", None, "message-back", &(1, "2", [[true]])).unwrap().len;
/// assert_eq!(&buf[..n], br#"2["message-back",1,"2",[[true]]]"#);
///
/// let n = enc.ack(&mut buf, "/admin", 13, &("bar",)).unwrap().len;
/// assert_eq!(&buf[..n], br#"3/admin,13["bar"]"#);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Encoder {
    /// The protocol revision to write.
    pub version: Version,
}

impl Encoder {
    /// An encoder for `version`.
    pub const fn new(version: Version) -> Self {
        Encoder { version }
    }

    /// CONNECT with no payload: a client joining a namespace (`0`,
    /// `0/admin,`), or a v4 server accepting one.
    ///
    /// ```
    /// let mut buf = [0u8; 16];
    /// let n = oxio_codec::socketio::Encoder::default().connect(&mut buf, "/admin").unwrap();
    /// assert_eq!(&buf[..n], b"0/admin,");
    /// ```
    pub fn connect(&self, buf: &mut [u8], namespace: &str) -> Result<usize, Error> {
        let mut out = Cursor::new(buf);
        write_header(&mut out, PacketType::Connect, namespace, None)?;
        Ok(out.len)
    }

    /// CONNECT with a payload: a client's auth object, or a v5 server's
    /// `{"sid":..}` answer.
    ///
    /// ```
    /// #[derive(serde::Serialize)]
    /// struct Auth<'a> { token: &'a str }
    /// let mut buf = [0u8; 32];
    /// let n = oxio_codec::socketio::Encoder::default()
    ///     .connect_with(&mut buf, "/admin", &Auth { token: "123" })
    ///     .unwrap();
    /// assert_eq!(&buf[..n], br#"0/admin,{"token":"123"}"#);
    /// ```
    pub fn connect_with<T: Serialize + ?Sized>(
        &self,
        buf: &mut [u8],
        namespace: &str,
        data: &T,
    ) -> Result<usize, Error> {
        let mut out = Cursor::new(buf);
        write_header(&mut out, PacketType::Connect, namespace, None)?;
        ser::to_writer(&mut out, data, None).map_err(map_ser)?;
        Ok(out.len)
    }

    /// DISCONNECT from a namespace (`1`, `1/admin,`).
    pub fn disconnect(&self, buf: &mut [u8], namespace: &str) -> Result<usize, Error> {
        let mut out = Cursor::new(buf);
        write_header(&mut out, PacketType::Disconnect, namespace, None)?;
        Ok(out.len)
    }

    /// CONNECT_ERROR with a message: `{"message":".."}` in v5, the bare
    /// string in v4.
    ///
    /// ```
    /// use oxio_codec::socketio::{Encoder, Version};
    /// let mut buf = [0u8; 64];
    /// let n = Encoder::default().connect_error(&mut buf, "/x", "Invalid namespace").unwrap();
    /// assert_eq!(&buf[..n], br#"4/x,{"message":"Invalid namespace"}"#);
    /// let n = Encoder::new(Version::V4).connect_error(&mut buf, "/x", "Invalid namespace").unwrap();
    /// assert_eq!(&buf[..n], br#"4/x,"Invalid namespace""#);
    /// ```
    pub fn connect_error(
        &self,
        buf: &mut [u8],
        namespace: &str,
        message: &str,
    ) -> Result<usize, Error> {
        self.connect_error_inner::<()>(buf, namespace, message, None)
    }

    /// CONNECT_ERROR with a message and data: `{"message":..,"data":..}` in
    /// v5; in v4 the data alone, or the message when the data is falsy
    /// (`null`, `false`, `0`, `""`), as the reference sends `err.data || err.message`.
    ///
    /// ```
    /// #[derive(serde::Serialize)]
    /// struct Why<'a> { content: &'a str }
    /// let mut buf = [0u8; 96];
    /// let n = oxio_codec::socketio::Encoder::default()
    ///     .connect_error_with_data(&mut buf, "/mw", "not authorized", &Why { content: "retry later" })
    ///     .unwrap();
    /// assert_eq!(&buf[..n], br#"4/mw,{"message":"not authorized","data":{"content":"retry later"}}"#);
    /// ```
    pub fn connect_error_with_data<T: Serialize + ?Sized>(
        &self,
        buf: &mut [u8],
        namespace: &str,
        message: &str,
        data: &T,
    ) -> Result<usize, Error> {
        self.connect_error_inner(buf, namespace, message, Some(data))
    }

    fn connect_error_inner<T: Serialize + ?Sized>(
        &self,
        buf: &mut [u8],
        namespace: &str,
        message: &str,
        data: Option<&T>,
    ) -> Result<usize, Error> {
        let mut out = Cursor::new(buf);
        write_header(&mut out, PacketType::ConnectError, namespace, None)?;
        match (self.version, data) {
            (Version::V5, data) => {
                out.write_all(br#"{"message":"#).map_err(map_ser)?;
                ser::write_str(&mut out, message).map_err(map_ser)?;
                if let Some(data) = data {
                    out.write_all(br#","data":"#).map_err(map_ser)?;
                    ser::to_writer(&mut out, data, None).map_err(map_ser)?;
                }
                out.write_all(b"}").map_err(map_ser)?;
            }
            (Version::V4, Some(data)) => {
                // `err.data || err.message`: falsy data gives way to the message.
                let start = out.len;
                ser::to_writer(&mut out, data, None).map_err(map_ser)?;
                let written = out.buf.get(start..out.len).unwrap_or_default();
                if matches!(written, b"null" | b"false" | b"0" | b"\"\"") {
                    out.len = start;
                    ser::write_str(&mut out, message).map_err(map_ser)?;
                }
            }
            (Version::V4, None) => ser::write_str(&mut out, message).map_err(map_ser)?,
        }
        Ok(out.len)
    }

    /// An EVENT (or BINARY_EVENT, when `args` hold bytes). `args` is a
    /// tuple of arguments, `()` for none, or a single argument. Attachment
    /// bytes are dropped; use [`Encoder::event_with_attachments`] (or
    /// [`for_each_attachment`]) to get them.
    ///
    /// ```
    /// let mut buf = [0u8; 32];
    /// let enc = oxio_codec::socketio::Encoder::default();
    /// let out = enc.event(&mut buf, "/admin", Some(12), "foo", &()).unwrap();
    /// assert_eq!(&buf[..out.len], br#"2/admin,12["foo"]"#);
    /// ```
    pub fn event<T: Serialize + ?Sized>(
        &self,
        buf: &mut [u8],
        namespace: &str,
        ack_id: Option<u64>,
        event: &str,
        args: &T,
    ) -> Result<Encoded, Error> {
        self.event_with_attachments(buf, namespace, ack_id, event, args, |_, _| {})
    }

    /// [`Encoder::event`], handing each attachment to `on_attachment(index, bytes)`
    /// in order while the JSON is written.
    pub fn event_with_attachments<T: Serialize + ?Sized>(
        &self,
        buf: &mut [u8],
        namespace: &str,
        ack_id: Option<u64>,
        event: &str,
        args: &T,
        on_attachment: impl FnMut(usize, &[u8]),
    ) -> Result<Encoded, Error> {
        if self.version == Version::V5 && is_reserved_event(event) {
            return Err(Error::ReservedEventName);
        }
        let mut out = Cursor::new(buf);
        encode_args(
            &mut out,
            PacketType::Event,
            namespace,
            ack_id,
            Some(event),
            args,
            on_attachment,
        )
    }

    /// An ACK (or BINARY_ACK) answering the event with `ack_id`.
    pub fn ack<T: Serialize + ?Sized>(
        &self,
        buf: &mut [u8],
        namespace: &str,
        ack_id: u64,
        args: &T,
    ) -> Result<Encoded, Error> {
        self.ack_with_attachments(buf, namespace, ack_id, args, |_, _| {})
    }

    /// [`Encoder::ack`], handing each attachment to `on_attachment(index, bytes)`.
    pub fn ack_with_attachments<T: Serialize + ?Sized>(
        &self,
        buf: &mut [u8],
        namespace: &str,
        ack_id: u64,
        args: &T,
        on_attachment: impl FnMut(usize, &[u8]),
    ) -> Result<Encoded, Error> {
        let mut out = Cursor::new(buf);
        encode_args(
            &mut out,
            PacketType::Ack,
            namespace,
            Some(ack_id),
            None,
            args,
            on_attachment,
        )
    }

    /// Writes a decoded packet back, header and raw payload, in canonical
    /// form (an explicit `/` namespace is dropped). Useful for forwarding
    /// without re-serializing.
    ///
    /// ```
    /// use oxio_codec::socketio::{Decoder, Encoder};
    /// let p = Decoder::default().decode(r#"61-/admin,15["bar",{"_placeholder":true,"num":0}]"#).unwrap();
    /// let mut buf = [0u8; 64];
    /// let n = Encoder::default().packet(&mut buf, &p).unwrap();
    /// assert_eq!(&buf[..n], br#"61-/admin,15["bar",{"_placeholder":true,"num":0}]"#);
    /// ```
    pub fn packet(&self, buf: &mut [u8], packet: &Packet<'_>) -> Result<usize, Error> {
        let mut out = Cursor::new(buf);
        let ty = packet.packet_type();
        out.write_all(&[ty.as_digit()]).map_err(map_ser)?;
        if ty.is_binary() {
            let mut digits = itoa::Buffer::new();
            out.write_all(digits.format(packet.attachment_count()).as_bytes())
                .map_err(map_ser)?;
            out.write_all(b"-").map_err(map_ser)?;
        }
        write_namespace_and_id(&mut out, packet.namespace(), packet.ack_id())?;
        if let Some(p) = packet.payload() {
            out.write_all(p.as_bytes()).map_err(map_ser)?;
        }
        Ok(out.len)
    }
}

/// Calls `f(index, bytes)` for each binary attachment in `args`, in the
/// order the encoder numbers them, without writing any JSON. For drivers
/// with no room to copy attachments while encoding.
///
/// ```
/// use oxio_codec::socketio::{encode::for_each_attachment, Binary};
/// let mut seen = 0;
/// let n = for_each_attachment(&(Binary(b"ab"), 1, Binary(b"c")), |i, b| {
///     seen += b.len();
///     assert!(i < 2);
/// })
/// .unwrap();
/// assert_eq!((n, seen), (2, 3));
/// ```
pub fn for_each_attachment<T: Serialize + ?Sized>(
    args: &T,
    f: impl FnMut(usize, &[u8]),
) -> Result<usize, Error> {
    let mut sink = Sink(f);
    ser::write_args(&mut Discard, None, args, Some(&mut sink)).map_err(map_ser)
}

/// Owned text and attachments of one encoded packet.
#[cfg(feature = "alloc")]
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EncodedPacket {
    /// The text frame (without the Engine.IO `4`).
    pub text: alloc::string::String,
    /// The binary attachments, in order.
    pub attachments: alloc::vec::Vec<alloc::vec::Vec<u8>>,
}

#[cfg(feature = "alloc")]
impl Encoder {
    /// [`Encoder::event`] into owned buffers, attachments included.
    ///
    /// ```
    /// use oxio_codec::socketio::{Binary, Encoder};
    /// let p = Encoder::default().event_to_owned("/", None, "up", &(Binary(&[1, 2]),)).unwrap();
    /// assert_eq!(p.text, r#"51-["up",{"_placeholder":true,"num":0}]"#);
    /// assert_eq!(p.attachments, [vec![1, 2]]);
    /// ```
    pub fn event_to_owned<T: Serialize + ?Sized>(
        &self,
        namespace: &str,
        ack_id: Option<u64>,
        event: &str,
        args: &T,
    ) -> Result<EncodedPacket, Error> {
        if self.version == Version::V5 && is_reserved_event(event) {
            return Err(Error::ReservedEventName);
        }
        owned(PacketType::Event, namespace, ack_id, Some(event), args)
    }

    /// [`Encoder::ack`] into owned buffers, attachments included.
    pub fn ack_to_owned<T: Serialize + ?Sized>(
        &self,
        namespace: &str,
        ack_id: u64,
        args: &T,
    ) -> Result<EncodedPacket, Error> {
        owned(PacketType::Ack, namespace, Some(ack_id), None, args)
    }
}

#[cfg(feature = "alloc")]
fn owned<T: Serialize + ?Sized>(
    ty: PacketType,
    namespace: &str,
    ack_id: Option<u64>,
    event: Option<&str>,
    args: &T,
) -> Result<EncodedPacket, Error> {
    let mut attachments = alloc::vec::Vec::new();
    let mut out = alloc::vec::Vec::with_capacity(64);
    encode_args(
        &mut out,
        ty,
        namespace,
        ack_id,
        event,
        args,
        |_, b: &[u8]| attachments.push(b.to_vec()),
    )?;
    let text = alloc::string::String::from_utf8(out)
        .map_err(|_| Error::Serialize(JsonError::InvalidString))?;
    Ok(EncodedPacket { text, attachments })
}

fn encode_args<O: Out, T: Serialize + ?Sized>(
    out: &mut O,
    ty: PacketType,
    namespace: &str,
    ack_id: Option<u64>,
    event: Option<&str>,
    args: &T,
    on_attachment: impl FnMut(usize, &[u8]),
) -> Result<Encoded, Error> {
    write_header(out, ty, namespace, ack_id)?;
    let mut sink = Sink(on_attachment);
    let attachments = ser::write_args(out, event, args, Some(&mut sink)).map_err(map_ser)?;
    if attachments > 0 {
        let binary = if ty == PacketType::Event {
            PacketType::BinaryEvent
        } else {
            PacketType::BinaryAck
        };
        let mut digits = itoa::Buffer::new();
        let count = digits.format(attachments);
        out.make_binary(binary.as_digit(), count.as_bytes())?;
    }
    Ok(Encoded {
        len: out.written(),
        attachments,
    })
}

fn write_header<O: Write>(
    out: &mut O,
    ty: PacketType,
    namespace: &str,
    ack_id: Option<u64>,
) -> Result<(), Error> {
    out.write_all(&[ty.as_digit()]).map_err(map_ser)?;
    write_namespace_and_id(out, namespace, ack_id)
}

fn write_namespace_and_id<O: Write>(
    out: &mut O,
    namespace: &str,
    ack_id: Option<u64>,
) -> Result<(), Error> {
    if !namespace.starts_with('/') || namespace.contains(',') {
        return Err(Error::InvalidNamespace);
    }
    if namespace != "/" {
        out.write_all(namespace.as_bytes()).map_err(map_ser)?;
        out.write_all(b",").map_err(map_ser)?;
    }
    if let Some(id) = ack_id {
        if id > MAX_SAFE_INTEGER {
            return Err(Error::AckIdTooLarge);
        }
        let mut digits = itoa::Buffer::new();
        out.write_all(digits.format(id).as_bytes())
            .map_err(map_ser)?;
    }
    Ok(())
}

fn map_ser(e: JsonError) -> Error {
    match e {
        JsonError::BufferFull => Error::BufferFull,
        e => Error::Serialize(e),
    }
}

struct Sink<F>(F);

impl<F: FnMut(usize, &[u8])> BinarySink for Sink<F> {
    fn attachment(&mut self, index: usize, bytes: &[u8]) -> Result<(), JsonError> {
        (self.0)(index, bytes);
        Ok(())
    }
}

struct Discard;

impl Write for Discard {
    fn write_all(&mut self, _: &[u8]) -> Result<(), JsonError> {
        Ok(())
    }
}

/// An output that can be turned into a binary packet after the fact: the
/// attachment count is only known once the JSON is written.
trait Out: Write {
    fn written(&self) -> usize;
    /// Replaces the type digit at offset 0 and inserts `<count>-` after it.
    fn make_binary(&mut self, digit: u8, count: &[u8]) -> Result<(), Error>;
}

/// Writes into a caller's slice.
struct Cursor<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl<'b> Cursor<'b> {
    fn new(buf: &'b mut [u8]) -> Self {
        Cursor { buf, len: 0 }
    }
}

// `#[inline]` on both: the serializer calls them once per `"`, `,`, `:` and
// key, and without it each became a cross-crate call plus a small `memmove`
// (measured: `sio_encode_event` ×2.0–2.5, benches/RESULTS.md).
impl Write for Cursor<'_> {
    #[inline]
    fn write_all(&mut self, bytes: &[u8]) -> Result<(), JsonError> {
        let end = self
            .len
            .checked_add(bytes.len())
            .ok_or(JsonError::BufferFull)?;
        self.buf
            .get_mut(self.len..end)
            .ok_or(JsonError::BufferFull)?
            .copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }

    #[inline]
    fn write_byte(&mut self, byte: u8) -> Result<(), JsonError> {
        let slot = self.buf.get_mut(self.len).ok_or(JsonError::BufferFull)?;
        *slot = byte;
        self.len += 1;
        Ok(())
    }

    #[inline]
    fn write_parts(&mut self, head: &[u8], body: &[u8], tail: &[u8]) -> Result<(), JsonError> {
        ser::put_parts(self.buf, &mut self.len, head, body, tail)
    }
}

impl Out for Cursor<'_> {
    fn written(&self) -> usize {
        self.len
    }

    fn make_binary(&mut self, digit: u8, count: &[u8]) -> Result<(), Error> {
        let extra = count.len() + 1;
        let new_len = self.len + extra;
        if new_len > self.buf.len() || self.len == 0 {
            return Err(Error::BufferFull);
        }
        self.buf.copy_within(1..self.len, 1 + extra);
        let slot = self.buf.get_mut(..1 + extra).ok_or(Error::BufferFull)?;
        if let Some((first, rest)) = slot.split_first_mut() {
            *first = digit;
            let (digits, dash) = rest.split_at_mut(count.len());
            digits.copy_from_slice(count);
            dash.fill(b'-');
        }
        self.len = new_len;
        Ok(())
    }
}

#[cfg(feature = "alloc")]
impl Out for alloc::vec::Vec<u8> {
    fn written(&self) -> usize {
        self.len()
    }

    fn make_binary(&mut self, digit: u8, count: &[u8]) -> Result<(), Error> {
        let first = self.first_mut().ok_or(Error::BufferFull)?;
        *first = digit;
        let insert = count.iter().copied().chain(core::iter::once(b'-'));
        self.splice(1..1, insert);
        Ok(())
    }
}
