//! The server address: `ws://`, `http://`, `wss://` or `https://` URLs.

use core::fmt;

/// Where the client connects: host, port and whether TLS is used.
///
/// The URL's path is not used: the Socket.IO path comes from
/// [`Config::path`](oxio_codec::client::Config::path) (default `/socket.io/`).
///
/// ```
/// use oxio_client::Endpoint;
///
/// let e = Endpoint::parse("http://192.168.1.10:3000").unwrap();
/// assert_eq!((e.host, e.port, e.secure), ("192.168.1.10", 3000, false));
/// let e = Endpoint::parse("wss://example.com/").unwrap();
/// assert_eq!((e.host, e.port, e.secure), ("example.com", 443, true));
/// assert!(Endpoint::parse("ftp://x").is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Endpoint<'a> {
    /// Host name or IP literal, as given.
    pub host: &'a str,
    /// TCP port (80 / 443 when absent).
    pub port: u16,
    /// `wss://` or `https://`.
    pub secure: bool,
}

/// Why a URL was refused by [`Endpoint::parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum UrlError {
    /// The scheme is not `ws`, `wss`, `http` or `https`.
    Scheme,
    /// The host is empty or holds characters a host cannot hold.
    Host,
    /// The port is not a number in 1..=65535.
    Port,
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UrlError::Scheme => "URL scheme must be ws, wss, http or https",
            UrlError::Host => "URL host is empty or invalid",
            UrlError::Port => "URL port is not a number in 1..=65535",
        })
    }
}

impl core::error::Error for UrlError {}

impl<'a> Endpoint<'a> {
    /// Parses `scheme://host[:port][/path]`.
    pub fn parse(url: &'a str) -> Result<Self, UrlError> {
        let (scheme, rest) = url.split_once("://").ok_or(UrlError::Scheme)?;
        let (secure, default_port) = match scheme {
            "ws" | "http" => (false, 80),
            "wss" | "https" => (true, 443),
            _ => return Err(UrlError::Scheme),
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => {
                let port: u16 = p.parse().map_err(|_| UrlError::Port)?;
                if port == 0 {
                    return Err(UrlError::Port);
                }
                (h, port)
            }
            None => (authority, default_port),
        };
        let valid = !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_');
        if !valid {
            return Err(UrlError::Host);
        }
        Ok(Endpoint { host, port, secure })
    }
}
