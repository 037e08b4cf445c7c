//! The chat page (our own files, embedded in the binary) and the official
//! Socket.IO browser client (`socket.io.min.js`, installed by npm and read
//! from disk at request time: third-party code is not committed).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::path::{Path, PathBuf};

/// The page.
pub const INDEX_HTML: &str = include_str!("../web/index.html");
/// The page's script.
pub const APP_JS: &str = include_str!("../web/app.js");
/// The page's style sheet.
pub const STYLE_CSS: &str = include_str!("../web/style.css");

/// The file the page loads from `/socket.io.min.js`.
pub const CLIENT_FILE: &str = "socket.io.min.js";
/// Its source map, served at `/socket.io.min.js.map` when present.
pub const CLIENT_MAP_FILE: &str = "socket.io.min.js.map";

/// Where npm puts the client, relative to the demo package (`std-server/demo`).
pub const CLIENT_DIST: &str = "web/node_modules/socket.io-client/dist";

/// The command that installs the client (from the workspace root).
pub const NPM_INSTALL: &str = "npm ci --prefix std-server/demo/web";

/// Where to look for `socket.io.min.js`: an explicit folder, or else (in
/// order) `std-server/demo/web/node_modules/socket.io-client/dist` of the
/// source tree this binary was built from, then the same path under the
/// current directory, then `web/node_modules/...` under it (run from
/// `std-server/demo/`).
#[derive(Debug, Clone)]
pub struct ClientScript {
    dirs: Vec<PathBuf>,
}

impl Default for ClientScript {
    fn default() -> Self {
        let built = Path::new(env!("CARGO_MANIFEST_DIR")).join(CLIENT_DIST);
        ClientScript {
            dirs: vec![
                built,
                Path::new("std-server/demo").join(CLIENT_DIST),
                PathBuf::from(CLIENT_DIST),
            ],
        }
    }
}

impl ClientScript {
    /// Only `dir` (the `--client-dir` option).
    pub fn in_dir(dir: impl Into<PathBuf>) -> Self {
        ClientScript {
            dirs: vec![dir.into()],
        }
    }

    /// The folders searched, in order.
    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }

    /// The first existing path of `file` (a fixed name, never a request path).
    pub fn find(&self, file: &str) -> Option<PathBuf> {
        self.dirs.iter().map(|d| d.join(file)).find(|p| p.is_file())
    }

    /// Serves `file` from the first folder that has it, or 404 with the
    /// install command.
    pub async fn serve(&self, file: &str, content_type: &'static str) -> Response {
        if let Some(path) = self.find(file) {
            match tokio::fs::read(&path).await {
                Ok(bytes) => return asset(content_type, bytes),
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "cannot read the Socket.IO client")
                }
            }
        }
        let looked: Vec<String> = self.dirs.iter().map(|d| d.display().to_string()).collect();
        let body = format!(
            "{file} not found (looked in: {}).\nInstall the Socket.IO browser client with: {NPM_INSTALL}\n",
            looked.join(", ")
        );
        (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            body,
        )
            .into_response()
    }
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
