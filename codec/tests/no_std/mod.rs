//! Codec tests that need nothing but `core`, so the same cases run on the
//! host (`cargo test`, through `codec/tests/no_std_cases.rs`) and on an
//! emulated Cortex-M (`codec/no-std-tests`, under qemu-system-arm, which
//! `scripts/test.sh` runs).
//!
//! Each module declares its cases with one [`cases!`] invocation; a case is a
//! plain function that panics (through `assert!`) on failure. Cases must not
//! allocate: no `Vec`, `String` or `format!`; use fixed arrays and `heapless`
//! instead (the emulated build has no allocator, so such a case fails to
//! link there). Keep their stack use modest: the emulated board has 64 KB of
//! RAM and the runner fails when a case comes within 4 KB of the end.

/// Declares test cases and a `CASES` table listing them by name.
///
/// On the host each case is also a `#[test]`, so `cargo test` reports it by
/// name (`no_std::<module>::<case>`); on the MCU the runner walks the tables.
macro_rules! cases {
    ($($(#[$meta:meta])* fn $name:ident() $body:block)*) => {
        $($(#[$meta])* #[cfg_attr(test, test)] pub fn $name() $body)*
        /// Every case in this module, by name.
        pub const CASES: &[(&str, fn())] = &[$((stringify!($name), $name as fn())),*];
    };
}

pub mod client;
pub mod engineio;
pub mod json;
pub mod socketio;

/// One module's table, as `cases!` declares it: `(case name, case)` pairs.
pub type Cases = &'static [(&'static str, fn())];

/// All cases of all modules, grouped by module name.
pub const ALL: &[(&str, Cases)] = &[
    ("client", client::CASES),
    ("engineio", engineio::CASES),
    ("json", json::CASES),
    ("socketio", socketio::CASES),
];
