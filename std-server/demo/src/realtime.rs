//! The Socket.IO side of the demo.
//!
//! Namespace `/` (public):
//!
//! | client sends | server answers |
//! |---|---|
//! | (connect) | `welcome` `"Welcome to oxio"` |
//! | `echo` (any args) | `echo-response` with the same args, binary included |
//! | `chat:message` text (ack optional) | every other socket: `chat:message` `{"from":<sid>,"text"}`; ack `{"ok":true,"at":<ms>}` |
//! | more than 20 `chat:message` in 10 s | `error` `{"message":"Rate limit exceeded"}`, message dropped, ack `{"ok":false,"error":"Rate limit exceeded"}` |
//! | `join-room` name | joins; sender: `room-joined` name; whole room: `system` `"<sid> joined <name>"` |
//! | `leave-room` name | leaves |
//! | `room-message` `{"room","message"}` | others in the room: `room-message-received` `{"from","message"}` (sender must be a member) |
//! | `get-time` (ack optional) | `current-time` ISO-8601; ack with the same string |
//! | `file` name, binary, ack | ack `{"ok":true,"size":<bytes>}`; every other socket: `file` name, binary |
//! | `sensor` `{"device","temp_c","uptime_ms"}` ack (devices) | ack `{"ok":true}`; watchers: `device-update` |
//! | `watch-devices` (ack optional) | joins the watchers; ack with the device list; then `device-update` `{"device","temp_c","uptime_ms","connected"}` on every change |
//!
//! A device connects with `auth` `{"device":"<name>"}`; a bad name is
//! refused with CONNECT_ERROR `invalid device name`.
//!
//! Namespace `/admin`: the JWT in `auth.token` (or the handshake query's
//! `token`), else CONNECT_ERROR `{"message":"unauthorized"}`. On connect:
//! `hello` `{"user":<sub>}`; `stats` with an ack: ack `{"connected":<sockets on />}`.
//!
//! Bad arguments are answered, never silently dropped, when the client
//! can be told: an `error` event `{"message":..}`, or `{"ok":false,"error":..}`
//! on the ack of the events that take one.

use super::auth::JwtKeys;
use super::clock::{epoch_millis, iso8601};
use super::devices::{validate_device_name, DeviceName, DeviceNameError, DeviceStatus, Reading};
use super::rate_limit::RateLimiter;
use super::App;
use oxio_codec::socketio::{Binary, BinaryBuf};
use oxio_server::engine::Utf8Bytes;
use oxio_server::socketio::{
    AckSender, Bin, ConnectError, DisconnectReason, EmitError, Outgoing, Payload, SocketRef,
    TryData,
};
use oxio_server::sync::LockExt;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// What every socket on `/` hears first.
pub const WELCOME: &str = "Welcome to oxio";

/// Longest room name (64 bytes).
pub const MAX_ROOM_NAME: usize = 64;

/// Chat rooms live under this prefix so a client-chosen name never
/// collides with a socket's own room (its id) or an internal room.
pub const ROOM_PREFIX: &str = "room:";

/// The internal room of the sockets that asked for `device-update`s.
pub const DEVICE_WATCHERS: &str = "internal:device-watchers";

/// The `error` text of the chat rate limit.
pub const RATE_LIMITED: &str = "Rate limit exceeded";

/// The user of an `/admin` socket (the token's `sub`), stored by its
/// middleware.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminUser(pub String);

/// Registers `/` and `/admin` on the application's server.
pub fn register(app: &Arc<App>) {
    let root = app.clone();
    app.io
        .ns("/", move |s: SocketRef| on_connect(&root, s))
        .use_middleware(device_middleware);
    let admin = app.clone();
    let keys = app.jwt.clone();
    app.io
        .ns("/admin", move |s: SocketRef| on_admin_connect(&admin, s))
        .use_middleware(move |s: SocketRef| {
            let keys = keys.clone();
            async move { admin_middleware(&keys, &s) }
        });
}

/// Sends `error` `{"message":..}` to one socket.
fn send_error(s: &SocketRef, message: &str) {
    if let Err(e) = s.emit("error", &(json!({ "message": message }),)) {
        tracing::debug!(sid = %s.id(), error = %e, "cannot send error");
    }
}

/// Answers an ack with `{"ok":false,"error":..}` (if one was asked for).
fn nack(ack: AckSender, error: &str) {
    let _ = ack.send(&(json!({ "ok": false, "error": error }),));
}

fn log_emit(s: &SocketRef, event: &str, result: Result<(), EmitError>) {
    if let Err(e) = result {
        tracing::debug!(sid = %s.id(), event, error = %e, "emit failed");
    }
}

/// The connect middleware of `/`: a socket whose auth has `device` must
/// name itself validly; its name is stored as a [`DeviceName`].
async fn device_middleware(s: SocketRef) -> Result<(), ConnectError> {
    let auth: Value = s.handshake().auth().unwrap_or(Value::Null);
    match auth.get("device") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(name)) => match validate_device_name(name) {
            Ok(()) => {
                s.extensions().insert(DeviceName(name.clone()));
                Ok(())
            }
            Err(e) => Err(ConnectError::new(format!("invalid device name: {e}"))),
        },
        Some(_) => Err(ConnectError::new(format!(
            "invalid device name: {}",
            DeviceNameError::NotAString
        ))),
    }
}

fn notify_watchers(app: &App, status: &DeviceStatus) {
    if let Err(e) = app.io.to(DEVICE_WATCHERS).emit("device-update", &(status,)) {
        tracing::debug!(error = %e, "cannot send device-update");
    }
}

fn on_connect(app: &Arc<App>, s: SocketRef) {
    tracing::debug!(sid = %s.id(), "connected to /");
    log_emit(&s, "welcome", s.emit("welcome", &(WELCOME,)));

    if let Some(DeviceName(name)) = s.extensions().get::<DeviceName>() {
        let (status, replaced) = app.devices.connect(&name, s.clone());
        if let Some(old) = replaced.filter(|old| old != &s) {
            tracing::info!(device = %name, old = %old.id(), "device reconnected; old socket dropped");
            old.disconnect();
        }
        tracing::info!(device = %name, sid = %s.id(), "device connected");
        notify_watchers(app, &status);
    }

    s.on("echo", |s: SocketRef, payload: Payload| {
        let packet = echo_packet(s.ns(), "echo-response", &payload);
        log_emit(&s, "echo-response", s.send_packet(&packet, false));
    });

    let limiter = Arc::new(Mutex::new(RateLimiter::chat()));
    s.on(
        "chat:message",
        move |s: SocketRef, TryData(text): TryData<String>, ack: AckSender| {
            on_chat(&limiter, &s, text.ok(), ack)
        },
    );

    let a = app.clone();
    s.on(
        "join-room",
        move |s: SocketRef, TryData(name): TryData<String>| {
            let Some(name) = name.ok().filter(|n| valid_room(n)) else {
                return send_error(&s, "invalid room name");
            };
            s.join(format!("{ROOM_PREFIX}{name}"));
            log_emit(&s, "room-joined", s.emit("room-joined", &(&name,)));
            let text = format!("{} joined {}", s.id(), name);
            let result =
                a.io.to(format!("{ROOM_PREFIX}{name}"))
                    .emit("system", &(text,));
            log_emit(&s, "system", result);
        },
    );

    s.on(
        "leave-room",
        |s: SocketRef, TryData(name): TryData<String>| match name.ok().filter(|n| valid_room(n)) {
            Some(name) => s.leave(format!("{ROOM_PREFIX}{name}")),
            None => send_error(&s, "invalid room name"),
        },
    );

    s.on(
        "room-message",
        |s: SocketRef, TryData(msg): TryData<RoomMessage>| on_room_message(&s, msg.ok()),
    );

    s.on("get-time", |s: SocketRef, ack: AckSender| {
        let now = iso8601(SystemTime::now());
        log_emit(&s, "current-time", s.emit("current-time", &(&now,)));
        let _ = ack.send(&(now,));
    });

    s.on(
        "file",
        |s: SocketRef,
         TryData(file): TryData<(String, BinaryBuf)>,
         Bin(bins): Bin,
         ack: AckSender| {
            // The data must be an attachment (a string would also read as bytes).
            let (Ok((name, BinaryBuf(bytes))), 1) = (file, bins.len()) else {
                return nack(ack, "expected a file name and binary data");
            };
            let _ = ack.send(&(json!({ "ok": true, "size": bytes.len() }),));
            let result = s.broadcast().emit("file", &(name, Binary(&bytes)));
            log_emit(&s, "file", result);
        },
    );

    let a = app.clone();
    s.on(
        "sensor",
        move |s: SocketRef, TryData(msg): TryData<SensorMessage>, ack: AckSender| {
            on_sensor(&a, &s, msg.ok(), ack)
        },
    );

    let a = app.clone();
    s.on("watch-devices", move |s: SocketRef, ack: AckSender| {
        s.join(DEVICE_WATCHERS);
        let _ = ack.send(&(a.devices.list(),));
    });

    let a = app.clone();
    s.on_disconnect(move |s: SocketRef, reason: DisconnectReason| {
        tracing::debug!(sid = %s.id(), %reason, "disconnected from /");
        if let Some(DeviceName(name)) = s.extensions().get::<DeviceName>() {
            if let Some(status) = a.devices.disconnect(&name, s.id()) {
                tracing::info!(device = %name, %reason, "device disconnected");
                notify_watchers(&a, &status);
            }
        }
    });
}

fn valid_room(name: &str) -> bool {
    !name.is_empty() && name.len() <= MAX_ROOM_NAME
}

/// `chat:message`: relayed to every other socket, unless rate limited.
fn on_chat(limiter: &Mutex<RateLimiter>, s: &SocketRef, text: Option<String>, ack: AckSender) {
    let Some(text) = text else {
        return nack(ack, "text must be a string");
    };
    let allowed = limiter.locked().try_acquire(tokio::time::Instant::now());
    if !allowed {
        tracing::debug!(sid = %s.id(), "chat:message rate limited");
        send_error(s, RATE_LIMITED);
        return nack(ack, RATE_LIMITED);
    }
    let msg = json!({ "from": s.id(), "text": text });
    log_emit(
        s,
        "chat:message",
        s.broadcast().emit("chat:message", &(msg,)),
    );
    let _ = ack.send(&(json!({ "ok": true, "at": epoch_millis(SystemTime::now()) }),));
}

/// The arguments of `room-message`.
#[derive(Debug, Deserialize)]
pub struct RoomMessage {
    /// The room's name (as given to `join-room`).
    pub room: String,
    /// Any JSON value.
    pub message: Value,
}

fn on_room_message(s: &SocketRef, msg: Option<RoomMessage>) {
    let Some(RoomMessage { room, message }) = msg else {
        return send_error(s, r#"room-message takes {"room","message"}"#);
    };
    let internal = format!("{ROOM_PREFIX}{room}");
    if !valid_room(&room) || !s.rooms().iter().any(|r| **r == *internal) {
        return send_error(s, &format!("not in room {room}"));
    }
    let out = json!({ "from": s.id(), "message": message });
    let result = s.to(internal).emit("room-message-received", &(out,));
    log_emit(s, "room-message-received", result);
}

/// The arguments of `sensor`.
#[derive(Debug, Deserialize)]
pub struct SensorMessage {
    /// The device's name; must be the one it connected with, if given.
    pub device: Option<String>,
    /// Temperature in °C.
    pub temp_c: f64,
    /// Milliseconds since boot.
    pub uptime_ms: u64,
}

fn on_sensor(app: &App, s: &SocketRef, msg: Option<SensorMessage>, ack: AckSender) {
    let Some(DeviceName(name)) = s.extensions().get::<DeviceName>() else {
        return nack(
            ack,
            "not a device: connect with auth {\"device\":\"<name>\"}",
        );
    };
    let Some(msg) = msg else {
        return nack(ack, r#"sensor takes {"device","temp_c","uptime_ms"}"#);
    };
    if msg.device.as_ref().is_some_and(|d| *d != name) {
        return nack(ack, "device does not match the connection's device");
    }
    let reading = Reading {
        temp_c: msg.temp_c,
        uptime_ms: msg.uptime_ms,
    };
    match app.devices.update(&name, s.id(), reading) {
        Some(status) => {
            tracing::debug!(device = %name, temp_c = reading.temp_c, uptime_ms = reading.uptime_ms, "sensor");
            let _ = ack.send(&(json!({ "ok": true }),));
            notify_watchers(app, &status);
        }
        None => nack(ack, "device replaced by a newer connection"),
    }
}

/// The `/admin` middleware: a valid JWT from `auth.token`, or else from
/// the handshake query's `token`.
fn admin_middleware(keys: &JwtKeys, s: &SocketRef) -> Result<(), ConnectError> {
    let from_auth = s
        .handshake()
        .auth::<Value>()
        .ok()
        .and_then(|auth| auth.get("token")?.as_str().map(str::to_owned));
    let token = from_auth.or_else(|| s.handshake().query_param("token"));
    let Some(token) = token else {
        tracing::debug!(sid = %s.id(), "/admin refused: no token");
        return Err(ConnectError::new("unauthorized"));
    };
    match keys.verify(&token) {
        Ok(claims) => {
            s.extensions().insert(AdminUser(claims.sub));
            Ok(())
        }
        Err(e) => {
            tracing::debug!(sid = %s.id(), error = %e, "/admin refused");
            Err(ConnectError::new("unauthorized"))
        }
    }
}

fn on_admin_connect(app: &Arc<App>, s: SocketRef) {
    let user = s
        .extensions()
        .get::<AdminUser>()
        .map(|AdminUser(u)| u)
        .unwrap_or_default();
    tracing::info!(sid = %s.id(), %user, "admin connected");
    log_emit(&s, "hello", s.emit("hello", &(json!({ "user": user }),)));
    let a = app.clone();
    s.on("stats", move |ack: AckSender| {
        let io = a.io.clone();
        async move {
            if !ack.expected() {
                return;
            }
            let connected = match io.fetch_sockets().await {
                Ok(sockets) => sockets.len(),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot count sockets");
                    return nack(ack, "cannot count sockets");
                }
            };
            let _ = ack.send(&(json!({ "connected": connected }),));
        }
    });
}

/// The packet that re-sends `payload`'s arguments as they arrived (binary
/// attachments included) as event `event` on namespace `ns`. Built from the
/// received frame's raw argument texts, which the decoder has validated, so
/// nothing is re-serialized and placeholders keep their numbers.
pub fn echo_packet(ns: &str, event: &str, payload: &Payload) -> Outgoing {
    if payload.raw_msgpack().is_some() {
        let args: Vec<&[u8]> = payload.raw_msgpack_args().collect();
        return match oxio_codec::msgpack::Encoder::default()
            .event_raw_to_vec(ns, None, event, &args)
        {
            Ok(frame) => Outgoing::from_msgpack(frame.into()),
            // Only a reserved name or a namespace without `/` fail: the
            // demo's own names are neither.
            Err(_) => Outgoing::from_msgpack(bytes::Bytes::new()),
        };
    }
    let name = Value::String(event.to_owned()).to_string();
    let attachments = payload.attachments();
    let mut text = if attachments.is_empty() {
        String::from("2")
    } else {
        format!("5{}-", attachments.len())
    };
    if ns != "/" {
        text.push_str(ns);
        text.push(',');
    }
    text.push('[');
    text.push_str(&name);
    for arg in payload.raw_args() {
        text.push(',');
        text.push_str(arg);
    }
    text.push(']');
    Outgoing::from_parts(Utf8Bytes::from(text), attachments.to_vec())
}
