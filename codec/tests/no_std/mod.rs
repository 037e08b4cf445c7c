//! Codec tests that need nothing but `core`, so the same cases run on the
//! host (`cargo test`, through `codec/tests/no_std_cases.rs`) and on an
//! emulated Cortex-M (`codec/no-std-tests`, under qemu-system-arm).
//!
//! Each module declares its cases with [`cases!`]; a case is a plain function
//! that panics (through `assert!`) on failure. Cases must not allocate: no
//! `Vec`, `String` or `format!`; use fixed arrays and `heapless` instead.

/// Declares test cases and a `CASES` table listing them by name.
macro_rules! cases {
    ($($(#[$meta:meta])* fn $name:ident() $body:block)*) => {
        $($(#[$meta])* pub fn $name() $body)*
        /// Every case in this module, by name.
        pub const CASES: &[(&str, fn())] = &[$((stringify!($name), $name as fn())),*];
    };
}

pub mod engineio;
pub mod json;
pub mod socketio;

/// All cases of all modules, grouped by module name.
pub const ALL: &[(&str, &[(&str, fn())])] = &[
    ("engineio", engineio::CASES),
    ("json", json::CASES),
    ("socketio", socketio::CASES),
];
