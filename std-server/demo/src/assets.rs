//! The chat page (our own files, embedded in the binary) and where its
//! official Socket.IO browser client comes from: the npm package installed
//! in `std-server/demo/web` when present (served by oxio-server's
//! `serve_client` at `/socket.io/socket.io.min.js`), otherwise the
//! official CDN copy of the same pinned version, loaded with its
//! subresource-integrity hash. Third-party code is never committed.

use axum::http::{header, HeaderValue};
use axum::response::Response;
use oxio_server::serve_client::{ServeClient, ServeClientError};
use std::path::{Path, PathBuf};

/// The page (its client `<script>` tag is [`CLIENT_TAG_PLACEHOLDER`]).
pub const INDEX_HTML: &str = include_str!("../web/index.html");
/// The page's script.
pub const APP_JS: &str = include_str!("../web/app.js");
/// The page's style sheet.
pub const STYLE_CSS: &str = include_str!("../web/style.css");

/// The line of `index.html` that [`index_html`] replaces with the client's
/// `<script>` tag.
pub const CLIENT_TAG_PLACEHOLDER: &str = "<!-- socket.io client -->";

/// The client file the page loads.
pub const CLIENT_FILE: &str = "socket.io.min.js";

/// The `socket.io-client` version `web/package.json` pins: the CDN
/// fallback loads this version (a test checks the two agree).
pub const PINNED_CLIENT: &str = "4.8.4";

/// Where npm puts the client package, relative to the demo package
/// (`std-server/demo`).
pub const CLIENT_PACKAGE: &str = "web/node_modules/socket.io-client";

/// The command that installs the local copy (from the workspace root).
pub const NPM_INSTALL: &str = "npm ci --prefix std-server/demo/web";

/// The folders searched for the client package, in order: `dir` alone
/// when given (`--client-dir`: the package folder, or its `dist/`);
/// otherwise `std-server/demo/web/node_modules/socket.io-client` of the
/// source tree this binary was built from, then the same path under the
/// current directory, then `web/node_modules/...` under it (run from
/// `std-server/demo/`).
pub fn client_packages(dir: Option<&Path>) -> Vec<PathBuf> {
    match dir {
        Some(d) if d.file_name().is_some_and(|n| n == "dist") => {
            vec![d.parent().map(Path::to_path_buf).unwrap_or_default()]
        }
        Some(d) => vec![d.to_path_buf()],
        None => vec![
            Path::new(env!("CARGO_MANIFEST_DIR")).join(CLIENT_PACKAGE),
            Path::new("std-server/demo").join(CLIENT_PACKAGE),
            PathBuf::from(CLIENT_PACKAGE),
        ],
    }
}

/// The client from the first of [`client_packages`] that holds it, else
/// the CDN copy of [`PINNED_CLIENT`].
pub fn find_client(dir: Option<&Path>) -> Result<ServeClient, ServeClientError> {
    ServeClient::find_or_cdn(&client_packages(dir), PINNED_CLIENT)
}

/// The page with the client's `<script>` tag in place.
pub fn index_html(client: Option<&ServeClient>) -> String {
    let tag = client
        .and_then(|c| c.script_tag("/socket.io/", CLIENT_FILE))
        .unwrap_or_default();
    INDEX_HTML.replace(CLIENT_TAG_PLACEHOLDER, &tag)
}

/// A static file response: its type, `nosniff`, and no caching (the demo
/// is edited and rebuilt often).
pub fn asset(content_type: &'static str, body: impl Into<axum::body::Body>) -> Response {
    let mut res = Response::new(body.into());
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res
}
