//! Ids: one type for Engine.IO session ids and Socket.IO socket ids, and
//! the one generator that makes them.

use core::fmt;
use std::borrow::Borrow;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// An id: an Engine.IO session id, or a Socket.IO socket id. Cheap to clone.
///
/// Fresh ids ([`Sid::generate`]) are 20 URL-safe characters made from 15
/// bytes of the OS CSPRNG, the shape of Node's `base64id`, but with no
/// counter part: every bit is random, so an id reveals nothing about the
/// server, and a session id (a secret: whoever knows it can use the
/// session) cannot be guessed.
///
/// A v5 socket gets a fresh id (not its session's id); a v4 (Engine.IO v3)
/// socket is named after its session: the session id on `/`, `/nsp#<sid>`
/// elsewhere (docs/protocol.md §4). Every socket is also a member of the room
/// named by its id, so `io.to(sid)` reaches one socket, as in Node.
///
/// ```
/// use oxio_engine::Sid;
///
/// let a = Sid::generate().unwrap();
/// assert_eq!(a.as_str().len(), 20);
/// assert!(a.as_str().bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
/// assert_ne!(a, Sid::generate().unwrap());
/// assert_eq!(Sid::from("/admin#abc").as_str(), "/admin#abc");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sid(Arc<str>);

/// The OS random source failed: no id can be made (a session id must not
/// be guessable, so there is no weaker fallback).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the OS random source failed")]
pub struct RandomError(#[source] getrandom::Error);

impl Sid {
    /// A fresh id from the OS CSPRNG (see the type's documentation).
    pub fn generate() -> Result<Self, RandomError> {
        let mut bytes = [0u8; 15];
        getrandom::fill(&mut bytes).map_err(RandomError)?;
        Ok(Sid(URL_SAFE_NO_PAD.encode(bytes).into()))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
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
