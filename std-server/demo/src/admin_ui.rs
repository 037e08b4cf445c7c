//! The official Socket.IO admin UI on the demo (`--admin-ui`): the server
//! side ([`oxio_server::admin`]) on its own namespace, `/admin-ui` by
//! default (the demo's `/admin` is its JWT-protected namespace), and the
//! UI's static files (`ui/dist` of the npm package `@socket.io/admin-ui`,
//! read from disk: third-party code is not committed) at `/admin-ui/`.
//! Without them, the hosted UI at <https://admin.socket.io> connects from
//! its own origin (the demo allows it with credentials).

use crate::assets::asset;
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use oxio_server::admin::{instrument, AdminAuth, AdminMode, AdminUi, AdminUiError, AdminUiOptions};
use oxio_server::socketio::Io;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// The admin UI's default namespace on the demo.
pub const NAMESPACE: &str = "/admin-ui";
/// Where the demo serves the UI's files.
pub const UI_PATH: &str = "/admin-ui/";
/// The hosted UI's origin, allowed by CORS (with credentials).
pub const HOSTED_ORIGIN: &str = "https://admin.socket.io";
/// Where npm puts the UI, relative to the demo package (`std-server/demo`).
pub const UI_DIST: &str = "web/node_modules/@socket.io/admin-ui/ui/dist";
/// The command that installs it (from the workspace root).
pub const NPM_INSTALL: &str =
    "npm install --prefix std-server/demo/web --no-save @socket.io/admin-ui@0.5.1";

/// The demo's admin UI settings (from the command line).
#[derive(Debug, Clone)]
pub struct AdminUiSettings {
    /// The namespace the UI connects to.
    pub namespace: String,
    /// None: authentication off; else the user name and bcrypt hash.
    pub login: Option<(String, String)>,
    /// Refuse the UI's commands.
    pub read_only: bool,
    /// Production (stats only) or development (every socket and event).
    pub mode: AdminMode,
    /// This node's name in the UI (default: the host name).
    pub server_id: Option<String>,
    /// The folder of the UI's `index.html` (default: [`UI_DIST`] of the
    /// source tree, then under the current folder).
    pub dist: Option<PathBuf>,
}

impl AdminUiSettings {
    /// The folders searched for the UI's files, in order.
    pub fn dist_dirs(&self) -> Vec<PathBuf> {
        match &self.dist {
            Some(d) => vec![d.clone()],
            None => vec![
                Path::new(env!("CARGO_MANIFEST_DIR")).join(UI_DIST),
                Path::new("std-server/demo").join(UI_DIST),
            ],
        }
    }

    /// The first folder holding `index.html`.
    pub fn find_dist(&self) -> Option<PathBuf> {
        self.dist_dirs()
            .into_iter()
            .find(|d| d.join("index.html").is_file())
    }
}

/// Installs the admin UI's server side on `io`.
///
/// # Errors
/// The hash is not a bcrypt hash (or no Tokio runtime).
pub fn install(io: &Io, settings: &AdminUiSettings) -> Result<AdminUi, AdminUiError> {
    let auth = match &settings.login {
        Some((user, hash)) => AdminAuth::basic(user, hash),
        None => AdminAuth::None,
    };
    let mut options = AdminUiOptions::new(auth)
        .namespace(settings.namespace.as_str())
        .read_only(settings.read_only)
        .mode(settings.mode);
    options.server_id.clone_from(&settings.server_id);
    instrument(io, options)
}

/// The routes serving the UI's files from `dist` at [`UI_PATH`].
pub fn routes(dist: PathBuf) -> axum::Router {
    let dist = Arc::new(dist);
    axum::Router::new()
        .route("/admin-ui", get(|| async { Redirect::permanent(UI_PATH) }))
        .route("/admin-ui/", get(index))
        .route("/admin-ui/{*file}", get(file))
        .with_state(dist)
}

async fn index(State(dist): State<Arc<PathBuf>>) -> Response {
    serve(&dist, "index.html").await
}

async fn file(State(dist): State<Arc<PathBuf>>, UrlPath(file): UrlPath<String>) -> Response {
    serve(&dist, &file).await
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("png") => "image/png",
        Some("svg") => "image/svg+xml",
        Some("map" | "json") => "application/json",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    }
}

/// Serves `rel` under `dist`: plain path segments only (no `..`, no root).
async fn serve(dist: &Path, rel: &str) -> Response {
    let rel = Path::new(rel);
    let plain = rel.components().all(|c| matches!(c, Component::Normal(_)));
    if !plain || rel.as_os_str().is_empty() {
        return StatusCode::NOT_FOUND.into_response();
    }
    let path = dist.join(rel);
    match tokio::fs::read(&path).await {
        Ok(bytes) => asset(content_type(&path), bytes),
        Err(_) => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "not found\n",
        )
            .into_response(),
    }
}
