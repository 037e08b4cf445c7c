//! A byte field that travels as a binary attachment.
//!
//! `serde` has a bytes type, but `Vec<u8>` and `&[u8]` serialize as
//! sequences of numbers. Wrap byte fields in [`Binary`] (borrowed) or
//! [`BinaryBuf`] (owned, with `alloc`) — or use `serde_bytes` — and the
//! encoder turns them into `{"_placeholder":true,"num":N}` plus an
//! attachment, while the decoder turns placeholders back into bytes.

use core::fmt;
use serde::de::{Deserialize, Deserializer, Visitor};
use serde::ser::{Serialize, Serializer};

/// Borrowed bytes that serialize as a binary attachment.
///
/// ```
/// use oxio_codec::socketio::{Binary, Encoder};
///
/// #[derive(serde::Serialize)]
/// struct Frame<'a> { id: u8, data: Binary<'a> }
///
/// let mut buf = [0u8; 64];
/// let mut sent = Vec::new();
/// let enc = Encoder::default()
///     .event_with_attachments(&mut buf, "/", None, "frame", &(Frame { id: 1, data: Binary(&[1, 2, 3]) },), |_, b| sent.push(b.to_vec()))
///     .unwrap();
/// assert_eq!(&buf[..enc.len], br#"51-["frame",{"id":1,"data":{"_placeholder":true,"num":0}}]"#);
/// assert_eq!(sent, [vec![1, 2, 3]]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Binary<'a>(pub &'a [u8]);

impl Serialize for Binary<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Binary<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct BorrowedBytes;
        impl<'de> Visitor<'de> for BorrowedBytes {
            type Value = &'de [u8];
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a binary attachment")
            }
            fn visit_borrowed_bytes<E: serde::de::Error>(
                self,
                v: &'de [u8],
            ) -> Result<Self::Value, E> {
                Ok(v)
            }
            fn visit_bytes<E: serde::de::Error>(self, _: &[u8]) -> Result<Self::Value, E> {
                Err(E::custom(
                    "binary data cannot be borrowed here; use BinaryBuf",
                ))
            }
        }
        deserializer.deserialize_bytes(BorrowedBytes).map(Binary)
    }
}

impl AsRef<[u8]> for Binary<'_> {
    fn as_ref(&self) -> &[u8] {
        self.0
    }
}

/// Owned bytes that serialize as a binary attachment.
///
/// ```
/// use oxio_codec::socketio::{BinaryBuf, Decoder};
///
/// let p = Decoder::default().decode(r#"51-["file",{"_placeholder":true,"num":0}]"#).unwrap();
/// let attachments: Vec<Vec<u8>> = vec![vec![7, 8]];
/// let p = p.with_attachments(&attachments);
/// let (file,): (BinaryBuf,) = p.args().unwrap();
/// assert_eq!(file.0, [7, 8]);
/// ```
#[cfg(feature = "alloc")]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct BinaryBuf(pub alloc::vec::Vec<u8>);

#[cfg(feature = "alloc")]
impl Serialize for BinaryBuf {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

#[cfg(feature = "alloc")]
impl<'de> Deserialize<'de> for BinaryBuf {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OwnedBytes;
        impl<'de> Visitor<'de> for OwnedBytes {
            type Value = alloc::vec::Vec<u8>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a binary attachment")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
                Ok(v.to_vec())
            }
            fn visit_byte_buf<E: serde::de::Error>(
                self,
                v: alloc::vec::Vec<u8>,
            ) -> Result<Self::Value, E> {
                Ok(v)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Self::Value, A::Error> {
                let mut out = alloc::vec::Vec::new();
                while let Some(b) = seq.next_element::<u8>()? {
                    out.push(b);
                }
                Ok(out)
            }
        }
        deserializer.deserialize_byte_buf(OwnedBytes).map(BinaryBuf)
    }
}

#[cfg(feature = "alloc")]
impl AsRef<[u8]> for BinaryBuf {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}
