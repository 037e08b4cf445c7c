//! The HTTP side: the page, the client script, and the REST API.
//!
//! | route | auth | answer |
//! |---|---|---|
//! | `GET /` | — | the chat page |
//! | `GET /app.js`, `/style.css` | — | the page's script and style |
//! | `GET /metrics` | — | Prometheus metrics (OpenMetrics text) |
//! | `GET /health` | — | 200 `ok` |
//! | `GET /api/data` | — | 200 `{"message":"Hello from REST API"}` |
//! | `POST /api/login` | — | 200 `{"token":..}`; 400 `{"error":..}` |
//! | `POST /api/update` | Bearer | emits `dataUpdated`; 200 `{"message":"Data updated successfully"}` |
//! | `PUT /api/profile` | Bearer | emits `profileUpdated`; 200 `{"message":"Profile updated"}` |
//! | `GET /api/devices` | — | 200 `[{"device","temp_c","uptime_ms","connected"}]` |
//! | `POST /api/devices/{name}/led` | Bearer | the device's ack; 404, 502, 504 |
//!
//! Every error is JSON `{"error":"..."}` with its status; a missing or bad
//! token is 401 with `WWW-Authenticate: Bearer`, checked before the body.

use super::assets::{self, asset};
use super::auth::Claims;
use super::App;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use core::fmt;
use oxio_server::socketio::{AckError, EmitError};
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::SystemTime;

/// Longest user name `/api/login` accepts (64 bytes).
pub const MAX_USERNAME: usize = 64;

type AppState = Arc<App>;

/// The router of the page and the REST API (no `/socket.io/`).
pub fn router(app: Arc<App>, max_body_bytes: usize) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/app.js", get(app_js))
        .route("/style.css", get(style_css))
        .route("/metrics", get(metrics))
        .route("/health", get(health))
        .route("/api/data", get(data))
        .route("/api/login", post(login))
        .route("/api/update", post(update))
        .route("/api/profile", put(profile))
        .route("/api/devices", get(devices))
        .route("/api/devices/{name}/led", post(led))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(app)
}

/// A REST failure: its status and the `error` text of the JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// 400: the body is not what the route takes.
    BadRequest(String),
    /// 401: no token, or a bad one.
    Unauthorized(String),
    /// 404: no such route or device.
    NotFound(String),
    /// 413: the body is larger than the limit.
    PayloadTooLarge,
    /// 502: the device went away before answering.
    BadGateway(String),
    /// 503: the device has too many requests in flight.
    Busy(String),
    /// 504: the device did not answer in time.
    GatewayTimeout(String),
    /// 500: the server could not do it (an encoding or signing failure).
    Internal(String),
}

impl ApiError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::BadGateway(_) => StatusCode::BAD_GATEWAY,
            ApiError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::GatewayTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::BadRequest(m)
            | ApiError::Unauthorized(m)
            | ApiError::NotFound(m)
            | ApiError::BadGateway(m)
            | ApiError::Busy(m)
            | ApiError::GatewayTimeout(m)
            | ApiError::Internal(m) => f.write_str(m),
            ApiError::PayloadTooLarge => f.write_str("request body too large"),
        }
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() && !matches!(self, ApiError::GatewayTimeout(_)) {
            tracing::warn!(%status, error = %self, "request failed");
        }
        let mut res = (status, Json(json!({ "error": self.to_string() }))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    }
}

/// The user of a request with a valid `Authorization: Bearer <token>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthUser(pub Claims);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| ApiError::Unauthorized("missing bearer token".into()))?;
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .filter(|token| !token.is_empty())
            .ok_or_else(|| ApiError::Unauthorized("missing bearer token".into()))?;
        match app.jwt.verify(token) {
            Ok(claims) => Ok(AuthUser(claims)),
            Err(e) => {
                tracing::debug!(error = %e, "bearer token refused");
                Err(ApiError::Unauthorized("invalid token".into()))
            }
        }
    }
}

/// The request body as JSON (any content type: the demo's clients are
/// `curl` and `fetch`).
fn json_body(body: Result<Bytes, BytesRejection>) -> Result<Value, ApiError> {
    let bytes = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            ApiError::BadRequest(rejection.body_text())
        }
    })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::BadRequest(format!("request body is not valid JSON: {e}")))
}

async fn index(State(app): State<AppState>) -> Response {
    asset("text/html; charset=utf-8", app.index_html.clone())
}

async fn app_js() -> Response {
    asset("text/javascript; charset=utf-8", assets::APP_JS)
}

async fn style_css() -> Response {
    asset("text/css; charset=utf-8", assets::STYLE_CSS)
}

async fn metrics(State(app): State<AppState>) -> Response {
    match &app.metrics {
        Some(m) => asset(oxio_server::metrics::CONTENT_TYPE, m.encode()),
        None => not_found().await.into_response(),
    }
}

async fn health() -> Response {
    asset("text/plain; charset=utf-8", "ok")
}

async fn data() -> Json<Value> {
    Json(json!({ "message": "Hello from REST API" }))
}

async fn not_found() -> ApiError {
    ApiError::NotFound("not found".into())
}

/// `POST /api/login`: any non-empty user name and password (demo only).
async fn login(
    State(app): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body = json_body(body)?;
    let field = |name: &str| {
        body.get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let (Some(user), Some(_password)) = (field("username"), field("password")) else {
        return Err(ApiError::BadRequest(
            "username and password are required (non-empty strings)".into(),
        ));
    };
    if user.len() > MAX_USERNAME {
        return Err(ApiError::BadRequest(format!(
            "username is longer than {MAX_USERNAME} bytes"
        )));
    }
    let token = app
        .jwt
        .issue(user, SystemTime::now())
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    tracing::info!(user, "login");
    Ok(Json(json!({ "token": token })))
}

/// `POST /api/update`: `dataUpdated` with the body to every socket on `/`.
async fn update(
    State(app): State<AppState>,
    AuthUser(claims): AuthUser,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body = json_body(body)?;
    app.io
        .emit("dataUpdated", &(body,))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    tracing::info!(user = %claims.sub, "data updated");
    Ok(Json(json!({ "message": "Data updated successfully" })))
}

/// `PUT /api/profile`: `profileUpdated` with `{"user":<sub>, ...body}` to
/// every socket on `/`. The token's user wins over a `user` in the body.
async fn profile(
    State(app): State<AppState>,
    AuthUser(claims): AuthUser,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let Value::Object(fields) = json_body(body)? else {
        return Err(ApiError::BadRequest("body must be a JSON object".into()));
    };
    let mut out = Map::with_capacity(fields.len().saturating_add(1));
    out.insert("user".into(), Value::String(claims.sub.clone()));
    for (k, v) in fields {
        if k != "user" {
            out.insert(k, v);
        }
    }
    app.io
        .emit("profileUpdated", &(Value::Object(out),))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    tracing::info!(user = %claims.sub, "profile updated");
    Ok(Json(json!({ "message": "Profile updated" })))
}

/// `GET /api/devices`.
async fn devices(State(app): State<AppState>) -> Json<Value> {
    Json(json!(app.devices.list()))
}

/// `POST /api/devices/{name}/led` `{"on":bool}`: `led` to the device, and
/// its ack (the first argument, `null` if none) as the answer.
async fn led(
    State(app): State<AppState>,
    Path(name): Path<String>,
    AuthUser(claims): AuthUser,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let on = json_body(body)?
        .get("on")
        .and_then(Value::as_bool)
        .ok_or_else(|| {
            ApiError::BadRequest(r#"body must be {"on":true} or {"on":false}"#.into())
        })?;
    let socket = app
        .devices
        .socket(&name)
        .ok_or_else(|| ApiError::NotFound(format!("device {name} is not connected")))?;
    tracing::info!(user = %claims.sub, device = %name, on, "led");
    let reply = socket
        .timeout(app.led_timeout)
        .emit_with_ack("led", &(json!({ "on": on }),))
        .await;
    match reply {
        Ok(payload) => Ok(Json(
            payload
                .args::<(Value,)>()
                .map(|(v,)| v)
                .unwrap_or(Value::Null),
        )),
        Err(AckError::Timeout) => Err(ApiError::GatewayTimeout(format!(
            "device {name} did not acknowledge within {} ms",
            app.led_timeout.as_millis()
        ))),
        Err(AckError::Disconnected | AckError::Emit(EmitError::Closed)) => {
            Err(ApiError::BadGateway(format!("device {name} disconnected")))
        }
        Err(AckError::Emit(e)) => Err(ApiError::BadGateway(format!(
            "cannot reach device {name}: {e}"
        ))),
        Err(AckError::TooManyPending) => Err(ApiError::Busy(format!(
            "device {name} has too many requests in flight"
        ))),
        Err(e) => Err(ApiError::Internal(e.to_string())),
    }
}
