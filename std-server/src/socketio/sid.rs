//! Socket ids.

use core::fmt;
use std::borrow::Borrow;
use std::sync::Arc;

/// A socket id: 20 random URL-safe characters for v5 clients (a fresh id,
/// not the Engine.IO session id), or for v4 clients the Engine.IO sid on
/// `/` and `/nsp#<sid>` elsewhere (protocol.md §4). Cheap to clone. Every
/// socket is also a member of the room named by its id, so
/// `io.to(sid.as_str())` reaches one socket, as in Node.
///
/// ```
/// use oxio_server::socketio::Sid;
///
/// let a = Sid::random();
/// assert_eq!(a.as_str().len(), 20);
/// assert_ne!(a, Sid::random());
/// assert_eq!(Sid::from("/admin#abc").as_str(), "/admin#abc");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sid(Arc<str>);

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

impl Sid {
    /// A fresh random id: 15 random bytes as 20 base64url characters, as
    /// Node's `base64id` makes them. Falls back to a time-and-counter id if
    /// the OS random source fails (it is an identifier, not a secret).
    pub fn random() -> Self {
        let mut bytes = [0u8; 15];
        if getrandom::fill(&mut bytes).is_err() {
            fallback_bytes(&mut bytes);
        }
        let mut out = String::with_capacity(20);
        for chunk in bytes.chunks_exact(3) {
            if let [a, b, c] = chunk {
                let n = (u32::from(*a) << 16) | (u32::from(*b) << 8) | u32::from(*c);
                for shift in [18u32, 12, 6, 0] {
                    let idx = ((n >> shift) & 63) as usize;
                    out.push(char::from(ALPHABET.get(idx).copied().unwrap_or(b'A')));
                }
            }
        }
        Sid(out.into())
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn fallback_bytes(bytes: &mut [u8; 15]) {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut seed = nanos ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    for b in bytes.iter_mut() {
        // xorshift64
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        *b = seed as u8;
    }
}

impl From<&str> for Sid {
    fn from(s: &str) -> Self {
        Sid(s.into())
    }
}

impl From<String> for Sid {
    fn from(s: String) -> Self {
        Sid(s.into())
    }
}

impl AsRef<str> for Sid {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Sid {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for Sid {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Sid {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl serde::Serialize for Sid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}
