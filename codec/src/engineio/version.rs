//! Which Engine.IO protocol revision a session speaks.

/// The Engine.IO protocol revision, from the `EIO` query parameter.
///
/// The two revisions share packet types but differ in the polling payload
/// framing, in how binary packets are written, and in heartbeat direction.
///
/// ```
/// use oxio_codec::engineio::Version;
///
/// assert_eq!(Version::from_eio_param("4"), Some(Version::V4));
/// assert_eq!(Version::from_eio_param("3"), Some(Version::V3));
/// assert_eq!(Version::from_eio_param(""), None);
/// assert_eq!(Version::V3.as_eio_param(), "3");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Version {
    /// Engine.IO v3 (`EIO=3`, socket.io JS v1 and v2, Socket.IO protocol v4).
    V3,
    /// Engine.IO v4 (`EIO=4`, socket.io JS v3 and v4, Socket.IO protocol v5).
    V4,
}

impl Version {
    /// Parses the `EIO` query value. Only exactly `3` and `4` are accepted:
    /// docs/protocol.md §1.1 recommends rejecting anything else (missing, empty or
    /// other numbers) with HTTP 400 code 5, unlike Node which maps it to v3.
    pub fn from_eio_param(value: &str) -> Option<Version> {
        match value {
            "3" => Some(Version::V3),
            "4" => Some(Version::V4),
            _ => None,
        }
    }

    /// The `EIO` query value for this revision (`"3"` or `"4"`).
    pub const fn as_eio_param(self) -> &'static str {
        match self {
            Version::V3 => "3",
            Version::V4 => "4",
        }
    }
}
