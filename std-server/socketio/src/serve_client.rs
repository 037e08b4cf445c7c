//! Serving the official Socket.IO browser client, as Node's `serveClient`:
//! `<path>socket.io.js`, `socket.io.min.js`, `socket.io.msgpack.min.js`,
//! `socket.io.esm.min.js` and their `.map` source maps, under the engine
//! path (`/socket.io/socket.io.min.js` by default).
//!
//! The files are not part of this crate: they come from the npm package
//! `socket.io-client` found on disk ([`ServeClient::from_package`]), read
//! once and kept in memory. Answers are Node's: `ETag: "<client
//! version>"`, `Cache-Control: public, max-age=0`, `Content-Type:
//! application/javascript; charset=utf-8` (`application/json` for the
//! maps), 304 with no body when `If-None-Match` names that tag (strong or
//! weak), and the body gzip-compressed when the request accepts gzip
//! (compressed once, on first use).
//!
//! Without the package, [`ServeClient::cdn`] points at the official CDN
//! copy of a pinned version instead: the paths answer `302 Found` to
//! `https://cdn.socket.io/<version>/<file>`, and
//! [`ServeClient::script_tag`] gives pages a `<script>` tag with the file's
//! subresource-integrity hash ([`KNOWN_CLIENTS`]), so the browser refuses
//! any other bytes.
//!
//! ```
//! use oxio_server::serve_client::ServeClient;
//! use oxio_server::socketio::SocketIo;
//!
//! // The npm package when present, else the CDN copy of 4.8.4.
//! let client = ServeClient::find_or_cdn(&["node_modules/socket.io-client"], "4.8.4").unwrap();
//! let tag = client.script_tag("/socket.io/", "socket.io.min.js").unwrap();
//! assert!(tag.starts_with("<script src="));
//! let (engine, _io) = SocketIo::builder().serve_client(client).build_engine();
//! # let _ = engine;
//! ```

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Response, StatusCode};
use oxio_engine::config::ExtraRoute;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// The files served, as named in the package's `dist/` folder.
pub const CLIENT_FILES: [&str; 8] = [
    "socket.io.js",
    "socket.io.js.map",
    "socket.io.min.js",
    "socket.io.min.js.map",
    "socket.io.msgpack.min.js",
    "socket.io.msgpack.min.js.map",
    "socket.io.esm.min.js",
    "socket.io.esm.min.js.map",
];

/// The official CDN (the one the Socket.IO documentation links): a
/// version's files are at `<CDN_BASE>/<version>/<file>`, byte for byte
/// the npm package's `dist/` files.
pub const CDN_BASE: &str = "https://cdn.socket.io";

/// A client version whose CDN files can be used, with the
/// subresource-integrity hash (`sha384-<base64>`) of each script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinnedClient {
    /// The `socket.io-client` version.
    pub version: &'static str,
    /// `(file, integrity)` for the four scripts of [`CLIENT_FILES`].
    pub integrity: [(&'static str, &'static str); 4],
}

/// The versions [`ServeClient::cdn`] accepts. Each hash was computed from
/// the `dist/` file of the version's npm tarball, itself checked against
/// the `sha512` integrity of the package lock (the tests recompute them
/// from an installed package); add a version the same way.
pub const KNOWN_CLIENTS: &[PinnedClient] = &[PinnedClient {
    version: "4.8.4",
    integrity: [
        (
            "socket.io.js",
            "sha384-Reot/vo8FFwN0x9+TUlfgfqhwfzvBM0YeCDPf977fZzLqc55oTKZGNv8BZA0LR4J",
        ),
        (
            "socket.io.min.js",
            "sha384-fBrXvbDtHoeKWJ/hcA6M+YGueiDW+h45I7V6F2kD1S8bOkrF9rZYPLVkCR6BLR/1",
        ),
        (
            "socket.io.msgpack.min.js",
            "sha384-G06Oz7sN7VkeQ7zQJ+NFzkffen41Glll0eKRMFYp6xlvMue5ad0z4hFwDPVmCzwV",
        ),
        (
            "socket.io.esm.min.js",
            "sha384-834VzTcRncaUC59tAyCD5pGCYi2irsZ3S07X7ieWfWcwnEcZ5bSFjFLIGSVY8oTF",
        ),
    ],
}];

/// The integrity hash of `file` of client `version`, when known.
///
/// ```
/// use oxio_server::serve_client::integrity;
/// assert!(integrity("4.8.4", "socket.io.min.js").unwrap().starts_with("sha384-"));
/// assert_eq!(integrity("4.8.4", "socket.io.min.js.map"), None);
/// assert_eq!(integrity("0.0.1", "socket.io.min.js"), None);
/// ```
pub fn integrity(version: &str, file: &str) -> Option<&'static str> {
    KNOWN_CLIENTS
        .iter()
        .find(|c| c.version == version)?
        .integrity
        .iter()
        .find(|(f, _)| *f == file)
        .map(|(_, h)| *h)
}

/// Why a client source could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ServeClientError {
    /// A file of the package could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The package's `package.json` has no string `version`.
    #[error("{0} has no version")]
    NoVersion(PathBuf),
    /// [`ServeClient::cdn`] was asked for a version not in [`KNOWN_CLIENTS`].
    #[error("no integrity hashes known for socket.io-client {0}")]
    UnknownVersion(String),
}

/// One file in memory: raw, and gzip-compressed on first use.
#[derive(Debug)]
struct File {
    name: &'static str,
    raw: Bytes,
    gzip: OnceLock<Option<Bytes>>,
}

impl File {
    fn gzipped(&self) -> Option<&Bytes> {
        self.gzip
            .get_or_init(|| gzip(&self.raw).map(Bytes::from))
            .as_ref()
    }
}

#[derive(Debug)]
enum Source {
    Local { files: Vec<File>, dir: PathBuf },
    Cdn,
}

/// Where the browser client comes from; give it to
/// [`SocketIoBuilder::serve_client`](crate::socketio::SocketIoBuilder::serve_client).
/// Cheap to clone.
#[derive(Debug, Clone)]
pub struct ServeClient {
    version: Arc<str>,
    source: Arc<Source>,
}

impl ServeClient {
    /// Reads the client from the npm package folder `package`
    /// (`.../node_modules/socket.io-client`): its `package.json` version and
    /// the [`CLIENT_FILES`] of its `dist/` folder.
    pub fn from_package(package: impl AsRef<Path>) -> Result<Self, ServeClientError> {
        let package = package.as_ref();
        let manifest = package.join("package.json");
        let text = std::fs::read(&manifest).map_err(|source| ServeClientError::Read {
            path: manifest.clone(),
            source,
        })?;
        let version = serde_json::from_slice::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("version")?.as_str().map(str::to_owned))
            .ok_or_else(|| ServeClientError::NoVersion(manifest.clone()))?;
        let dist = package.join("dist");
        let mut files = Vec::with_capacity(CLIENT_FILES.len());
        for name in CLIENT_FILES {
            let path = dist.join(name);
            let raw =
                std::fs::read(&path).map_err(|source| ServeClientError::Read { path, source })?;
            files.push(File {
                name,
                raw: Bytes::from(raw),
                gzip: OnceLock::new(),
            });
        }
        Ok(ServeClient {
            version: version.into(),
            source: Arc::new(Source::Local { files, dir: dist }),
        })
    }

    /// The official CDN copy of `version` (one of [`KNOWN_CLIENTS`]).
    pub fn cdn(version: &str) -> Result<Self, ServeClientError> {
        if !KNOWN_CLIENTS.iter().any(|c| c.version == version) {
            return Err(ServeClientError::UnknownVersion(version.to_owned()));
        }
        Ok(ServeClient {
            version: version.into(),
            source: Arc::new(Source::Cdn),
        })
    }

    /// The first of `packages` that holds the client, else (logging why
    /// each was not used, at debug level) the CDN copy of `version`.
    pub fn find_or_cdn(
        packages: &[impl AsRef<Path>],
        version: &str,
    ) -> Result<Self, ServeClientError> {
        for p in packages {
            match Self::from_package(p) {
                Ok(c) => return Ok(c),
                Err(e) => tracing::debug!(error = %e, "socket.io-client package not used"),
            }
        }
        Self::cdn(version)
    }

    /// The client version (also the `ETag`).
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The `dist/` folder the files were read from; `None` for the CDN.
    pub fn local_dir(&self) -> Option<&Path> {
        match &*self.source {
            Source::Local { dir, .. } => Some(dir),
            Source::Cdn => None,
        }
    }

    /// Where a page loads `file` from: `<engine_path><file>` for a local
    /// copy, the CDN URL otherwise.
    pub fn url(&self, engine_path: &str, file: &str) -> String {
        match &*self.source {
            Source::Local { .. } => format!("{}/{file}", engine_path.trim_end_matches('/')),
            Source::Cdn => self.cdn_url(file),
        }
    }

    fn cdn_url(&self, file: &str) -> String {
        format!("{CDN_BASE}/{}/{file}", self.version)
    }

    /// A `<script>` tag for one of the four scripts: from the engine path
    /// for a local copy; from the CDN with `integrity` and
    /// `crossorigin="anonymous"` otherwise. `None` for another file name,
    /// or (CDN) when its hash is unknown.
    ///
    /// ```
    /// use oxio_server::serve_client::ServeClient;
    /// let tag = ServeClient::cdn("4.8.4").unwrap().script_tag("/socket.io/", "socket.io.min.js").unwrap();
    /// assert!(tag.starts_with(r#"<script src="https://cdn.socket.io/4.8.4/socket.io.min.js" integrity="sha384-"#));
    /// assert!(tag.ends_with(r#" crossorigin="anonymous"></script>"#));
    /// ```
    pub fn script_tag(&self, engine_path: &str, file: &str) -> Option<String> {
        if !CLIENT_FILES.contains(&file) || file.ends_with(".map") {
            return None;
        }
        match &*self.source {
            Source::Local { .. } => Some(format!(
                r#"<script src="{}"></script>"#,
                self.url(engine_path, file)
            )),
            Source::Cdn => {
                let hash = integrity(&self.version, file)?;
                Some(format!(
                    r#"<script src="{}" integrity="{hash}" crossorigin="anonymous"></script>"#,
                    self.cdn_url(file)
                ))
            }
        }
    }

    /// The answer to a request whose path is under `engine_path`, when it
    /// names a client file (Node's pattern: `socket.io(.msgpack|.esm)?(.min)?.js(.map)?`);
    /// `None` lets the request through to Engine.IO.
    pub fn respond(
        &self,
        engine_path: &str,
        parts: &http::request::Parts,
    ) -> Option<Response<Bytes>> {
        let base = engine_path.trim_end_matches('/');
        let name = parts.uri.path().strip_prefix(base)?.strip_prefix('/')?;
        if !is_client_name(name) {
            return None;
        }
        let Some(file) = CLIENT_FILES.iter().find(|f| **f == name) else {
            // Matches the pattern but is not shipped (socket.io.msgpack.js).
            return Some(plain(StatusCode::NOT_FOUND));
        };
        let etag = format!("\"{}\"", self.version);
        if let Some(sent) = parts.headers.get(header::IF_NONE_MATCH) {
            let sent = sent.as_bytes();
            let weak = format!("W/{etag}");
            if sent == etag.as_bytes() || sent == weak.as_bytes() {
                return Some(plain(StatusCode::NOT_MODIFIED));
            }
        }
        match &*self.source {
            Source::Cdn => {
                let mut res = plain(StatusCode::FOUND);
                if let Ok(v) = HeaderValue::from_str(&self.cdn_url(file)) {
                    res.headers_mut().insert(header::LOCATION, v);
                }
                Some(res)
            }
            Source::Local { files, .. } => {
                let f = files.iter().find(|f| f.name == *file)?;
                let zipped = accepts_gzip(&parts.headers).then(|| f.gzipped()).flatten();
                let use_gzip = zipped.is_some();
                let body = zipped.unwrap_or(&f.raw).clone();
                let mut res = Response::new(body);
                let h = res.headers_mut();
                h.insert(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=0"),
                );
                let content_type = if file.ends_with(".map") {
                    "application/json; charset=utf-8"
                } else {
                    "application/javascript; charset=utf-8"
                };
                h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
                if let Ok(v) = HeaderValue::from_str(&etag) {
                    h.insert(header::ETAG, v);
                }
                if use_gzip {
                    h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                }
                Some(res)
            }
        }
    }

    /// The engine hook ([`EngineConfig::extra_route`](crate::config::EngineConfig::extra_route))
    /// that answers with [`respond`](Self::respond).
    pub fn route(&self, engine_path: &str) -> ExtraRoute {
        let me = self.clone();
        let path = engine_path.to_owned();
        Arc::new(move |parts| me.respond(&path, parts))
    }
}

/// Node's `socket\.io(\.msgpack|\.esm)?(\.min)?\.js(\.map)?`, whole name.
fn is_client_name(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("socket.io") else {
        return false;
    };
    let rest = rest
        .strip_prefix(".msgpack")
        .or_else(|| rest.strip_prefix(".esm"))
        .unwrap_or(rest);
    let rest = rest.strip_prefix(".min").unwrap_or(rest);
    matches!(rest, ".js" | ".js.map")
}

/// Whether `Accept-Encoding` admits gzip (a `gzip` or `*` coding whose `q`
/// is not 0).
fn accepts_gzip(headers: &http::HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim();
            let zero = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !zero
        })
}

fn gzip(raw: &[u8]) -> Option<Vec<u8>> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(raw).ok()?;
    e.finish().ok()
}

fn plain(status: StatusCode) -> Response<Bytes> {
    let mut res = Response::new(Bytes::new());
    *res.status_mut() = status;
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_names_follow_nodes_pattern() {
        for ok in CLIENT_FILES {
            assert!(is_client_name(ok), "{ok}");
        }
        assert!(is_client_name("socket.io.msgpack.js"));
        for bad in [
            "socket.io",
            "socket.io.min.min.js",
            "socket.io.esm.msgpack.js",
            "socket.io.jsx",
            "x/socket.io.js",
            "",
        ] {
            assert!(!is_client_name(bad), "{bad}");
        }
    }

    #[test]
    fn gzip_acceptance() {
        let h = |v: &str| {
            let mut m = http::HeaderMap::new();
            m.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
            m
        };
        assert!(accepts_gzip(&h("gzip, deflate, br")));
        assert!(accepts_gzip(&h("br;q=1, GZIP;q=0.5")));
        assert!(accepts_gzip(&h("*")));
        assert!(!accepts_gzip(&h("gzip;q=0, br")));
        assert!(!accepts_gzip(&h("identity")));
        assert!(!accepts_gzip(&http::HeaderMap::new()));
    }
}
