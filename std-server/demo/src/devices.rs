//! Connected devices (issue 4): a device is a socket on `/` whose auth is
//! `{"device":"<name>"}`. The registry maps each name to its socket and
//! latest `sensor` reading, for `GET /api/devices`, the LED route and the
//! page's devices panel.

use core::fmt;
use oxio_server::socketio::{Sid, SocketRef};
use oxio_server::sync::LockExt;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

/// Longest device name accepted (64 bytes).
pub const MAX_DEVICE_NAME: usize = 64;

/// A device's name, as stored in its socket's extensions by the connect
/// middleware of `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceName(pub String);

/// Why a device name was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceNameError {
    /// `auth.device` is not a string.
    NotAString,
    /// The name is empty or longer than [`MAX_DEVICE_NAME`].
    BadLength,
    /// The name has a character other than ASCII letters, digits, `-`, `_`
    /// and `.` (it appears in URL paths).
    BadCharacter,
}

impl fmt::Display for DeviceNameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceNameError::NotAString => f.write_str("device name must be a string"),
            DeviceNameError::BadLength => {
                write!(f, "device name must be 1 to {MAX_DEVICE_NAME} bytes")
            }
            DeviceNameError::BadCharacter => {
                f.write_str("device name may only contain ASCII letters, digits, '-', '_' and '.'")
            }
        }
    }
}

impl std::error::Error for DeviceNameError {}

/// Checks a device name: 1 to [`MAX_DEVICE_NAME`] bytes of
/// `[A-Za-z0-9._-]`, so it can stand in a URL path unescaped.
pub fn validate_device_name(name: &str) -> Result<(), DeviceNameError> {
    if name.is_empty() || name.len() > MAX_DEVICE_NAME {
        return Err(DeviceNameError::BadLength);
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(DeviceNameError::BadCharacter);
    }
    Ok(())
}

/// One `sensor` reading.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    /// Temperature in °C.
    pub temp_c: f64,
    /// Milliseconds since the device booted.
    pub uptime_ms: u64,
}

/// A device as `GET /api/devices` and the page's `device-update` show it;
/// the reading fields are `null` until the first `sensor`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeviceStatus {
    /// The device's name.
    pub device: String,
    /// The latest temperature.
    pub temp_c: Option<f64>,
    /// The latest uptime.
    pub uptime_ms: Option<u64>,
    /// Whether the device is connected (`false` only in the last
    /// `device-update` after it left).
    pub connected: bool,
}

struct Entry {
    socket: SocketRef,
    reading: Option<Reading>,
}

impl Entry {
    fn status(&self, name: &str, connected: bool) -> DeviceStatus {
        DeviceStatus {
            device: name.to_owned(),
            temp_c: self.reading.map(|r| r.temp_c),
            uptime_ms: self.reading.map(|r| r.uptime_ms),
            connected,
        }
    }
}

/// The connected devices by name. A device that reconnects under the same
/// name replaces its older socket (whose later disconnect is then ignored).
#[derive(Default)]
pub struct DeviceRegistry {
    devices: Mutex<BTreeMap<String, Entry>>,
}

impl fmt::Debug for DeviceRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceRegistry")
            .field("devices", &self.lock().len())
            .finish()
    }
}

impl DeviceRegistry {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, Entry>> {
        self.devices.locked()
    }

    /// Registers `socket` as `name`; returns the status to announce and the
    /// socket it replaced, if any.
    pub fn connect(&self, name: &str, socket: SocketRef) -> (DeviceStatus, Option<SocketRef>) {
        let entry = Entry {
            socket,
            reading: None,
        };
        let status = entry.status(name, true);
        let old = self.lock().insert(name.to_owned(), entry);
        (status, old.map(|e| e.socket))
    }

    /// Removes `name` if it is still the socket `sid`; returns the last
    /// status (with `connected: false`).
    pub fn disconnect(&self, name: &str, sid: &Sid) -> Option<DeviceStatus> {
        let mut devices = self.lock();
        if devices.get(name).is_some_and(|e| e.socket.id() == sid) {
            devices.remove(name).map(|e| e.status(name, false))
        } else {
            None
        }
    }

    /// Stores a reading from socket `sid` for `name`; `None` if `name` is
    /// not that socket's device.
    pub fn update(&self, name: &str, sid: &Sid, reading: Reading) -> Option<DeviceStatus> {
        let mut devices = self.lock();
        let entry = devices.get_mut(name).filter(|e| e.socket.id() == sid)?;
        entry.reading = Some(reading);
        Some(entry.status(name, true))
    }

    /// The connected devices, by name.
    pub fn list(&self) -> Vec<DeviceStatus> {
        self.lock()
            .iter()
            .map(|(name, e)| e.status(name, true))
            .collect()
    }

    /// The socket of device `name`.
    pub fn socket(&self, name: &str) -> Option<SocketRef> {
        self.lock().get(name).map(|e| e.socket.clone())
    }
}
