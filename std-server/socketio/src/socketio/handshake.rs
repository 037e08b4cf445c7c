//! What a socket knows about how it connected (Node's `socket.handshake`).

use crate::engine::HandshakeInfo;
use oxio_codec::socketio::Error as CodecError;
use serde::de::DeserializeOwned;
use std::net::SocketAddr;
use std::time::SystemTime;

/// The handshake of one socket: the Engine.IO request (query, headers,
/// address, time) and the namespace CONNECT's auth payload.
///
/// ```
/// use oxio_server::socketio::Handshake;
///
/// let h = Handshake::for_test("EIO=4&transport=polling&room=a%20b", r#"{"token":"123"}"#);
/// assert_eq!(h.query_param("room").as_deref(), Some("a b"));
/// #[derive(serde::Deserialize)]
/// struct Auth { token: String }
/// assert_eq!(h.auth::<Auth>().unwrap().token, "123");
/// ```
#[derive(Debug, Clone)]
pub struct Handshake {
    auth: String,
    /// The request URI's query string, undecoded.
    pub query: String,
    /// The request headers.
    pub headers: http::HeaderMap,
    /// The peer's address, when the transport knows it.
    pub address: Option<SocketAddr>,
    /// When the Engine.IO session was opened.
    pub issued: SystemTime,
    /// Whether the connection was TLS.
    pub secure: bool,
    /// The request path.
    pub url: String,
}

impl Handshake {
    pub(crate) fn new(info: &HandshakeInfo, auth: String) -> Self {
        Handshake {
            auth,
            query: info.query.clone(),
            headers: info.headers.clone(),
            address: info.remote_addr,
            issued: info.issued,
            secure: info.secure,
            url: info.url.clone(),
        }
    }

    /// A handshake with the given query and auth JSON and nothing else, for
    /// tests and examples.
    pub fn for_test(query: &str, auth: &str) -> Self {
        Handshake {
            auth: auth.to_owned(),
            query: query.to_owned(),
            headers: http::HeaderMap::new(),
            address: None,
            issued: SystemTime::UNIX_EPOCH,
            secure: false,
            url: "/socket.io/".to_owned(),
        }
    }

    /// The auth payload as JSON text: the CONNECT packet's object (v5), the
    /// namespace query as an object of strings (v4), `{}` when absent.
    pub fn auth_raw(&self) -> &str {
        &self.auth
    }

    /// The auth payload as `T`.
    pub fn auth<T: DeserializeOwned>(&self) -> Result<T, CodecError> {
        oxio_codec::json::de::from_str(&self.auth).map_err(CodecError::Deserialize)
    }

    /// The query parameters, percent-decoded, in order.
    pub fn query_pairs(&self) -> impl Iterator<Item = (String, String)> + '_ {
        query_pairs(&self.query)
    }

    /// The first query parameter named `key`, percent-decoded.
    pub fn query_param(&self, key: &str) -> Option<String> {
        self.query_pairs().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// A header's value, if present and visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Splits `a=1&b=x%20y` into decoded pairs (`+` is a space).
pub(crate) fn query_pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    query.split('&').filter(|p| !p.is_empty()).map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k), percent_decode(v))
    })
}

/// `application/x-www-form-urlencoded` decoding; malformed escapes are kept
/// literally, invalid UTF-8 becomes U+FFFD.
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).and_then(|h| {
                    let h = std::str::from_utf8(h).ok()?;
                    u8::from_str_radix(h, 16).ok()
                });
                match hex {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The v4 auth object made from a namespace's query (`/admin?token=abc`):
/// `{"token":"abc"}`, values as strings, the last of repeated keys winning.
pub(crate) fn auth_from_query(query: &str) -> String {
    let mut map = serde_json::Map::new();
    for (k, v) in query_pairs(query) {
        map.insert(k, serde_json::Value::String(v));
    }
    serde_json::Value::Object(map).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_table() {
        for (input, want) in [
            ("a%20b", "a b"),
            ("a+b", "a b"),
            ("%", "%"),
            ("%zz", "%zz"),
            ("%4", "%4"),
            ("%C3%A9", "é"),
            ("%ff", "\u{fffd}"),
            ("", ""),
        ] {
            assert_eq!(percent_decode(input), want, "{input}");
        }
    }

    #[test]
    fn auth_from_query_table() {
        assert_eq!(auth_from_query("token=abc"), r#"{"token":"abc"}"#);
        assert_eq!(auth_from_query("b=1&a=2"), r#"{"b":"1","a":"2"}"#);
        assert_eq!(auth_from_query("a=1&a=2"), r#"{"a":"2"}"#);
        assert_eq!(auth_from_query(""), "{}");
        assert_eq!(auth_from_query("flag"), r#"{"flag":""}"#);
    }
}
