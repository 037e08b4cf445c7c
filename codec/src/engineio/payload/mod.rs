//! HTTP long-polling bodies: several packets in one request or response.
//!
//! Each format has its own module with a decoder (an iterator of borrowed
//! packets that stops after the first error, never a `Vec`) and a writer
//! (appends packets into a caller's `&mut [u8]`, or with `alloc` a `Vec`):
//!
//! - [`v4`]: packets joined by the record separator `0x1E`
//!   (`4hello\x1ebAQIDBA==`). Where a v4 polling body is split.
//! - [`v3_text`]: `<len>:<packet>` repeated, `len` in UTF-16 code units
//!   (`6:4hello10:b4AQIDBA==`).
//! - [`v3_binary`]: the XHR2 format, `<0|1><length digits>0xFF<bytes>`
//!   repeated, used by v3 servers when a response holds binary packets.
//!
//! Every decoder first refuses a body longer than
//! [`Limits::max_packet_len`](crate::Limits) with
//! [`Error::PayloadTooLarge`], and an empty
//! body with [`Error::Empty`]. Any decoder error is a
//! parse error: deliver the packets before it, then close the session.

pub mod v3_binary;
pub mod v3_text;
pub mod v4;

use super::Error;
use crate::Limits;

/// The up-front body check every payload decoder makes.
fn check_body_len(len: usize, limits: &Limits) -> Option<Error> {
    if len > limits.max_packet_len {
        Some(Error::PayloadTooLarge {
            len,
            max: limits.max_packet_len,
        })
    } else if len == 0 {
        Some(Error::Empty)
    } else {
        None
    }
}
