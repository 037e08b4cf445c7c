//! Runs every oxio-codec no_std case on an emulated Cortex-M.
//!
//! The cases are the ones `cargo test` runs on the host (codec/tests/no_std),
//! compiled here for `thumbv6m-none-eabi` (the RP2040's instruction set)
//! against the codec without `std` or `alloc`, and without a global allocator:
//! a case that needed a heap would not link. `cargo run --release` starts the
//! binary in QEMU (see .cargo/config.toml), which prints over semihosting:
//!
//! ```text
//! test engineio::some_case ... ok
//! ...
//! stack: 1234 of 65528 bytes used
//! 12 passed, 0 failed
//! ```
//!
//! and exits 0. A failing case (any panic) prints `FAILED`, the panic
//! message and `N passed, 1 failed`, and QEMU exits non-zero; so does a
//! hard fault, an empty case table, or a stack that came close to its end.

#![no_std]
#![no_main]

use core::panic::PanicInfo;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use cortex_m_rt::{entry, exception, ExceptionFrame};
use cortex_m_semihosting::{debug, hprint, hprintln};

#[macro_use]
#[path = "../../tests/no_std/mod.rs"]
mod cases;

/// Marks "no module / no case is running" in the two position statics.
const NONE: usize = usize::MAX;

// Where the run is, for the panic and fault handlers. ARMv6-M has atomic
// loads and stores but no compare-and-swap, which is all this needs: one
// core, one writer, and the handlers only read.
static MODULE: AtomicUsize = AtomicUsize::new(NONE);
static CASE: AtomicUsize = AtomicUsize::new(NONE);
static PASSED: AtomicUsize = AtomicUsize::new(0);
static FAILING: AtomicBool = AtomicBool::new(false);

/// Fail the run if fewer than this many bytes of the stack were never
/// touched: a case that deep is one small change away from overflowing into
/// `.bss`, which on a Cortex-M corrupts memory silently.
const STACK_MARGIN: usize = 4096;

#[entry]
fn main() -> ! {
    for (m, (module, module_cases)) in cases::ALL.iter().enumerate() {
        MODULE.store(m, Ordering::SeqCst);
        for (c, (name, case)) in module_cases.iter().enumerate() {
            CASE.store(c, Ordering::SeqCst);
            hprint!("test {}::{} ... ", module, name);
            case();
            hprintln!("ok");
            PASSED.store(PASSED.load(Ordering::SeqCst) + 1, Ordering::SeqCst);
        }
    }
    MODULE.store(NONE, Ordering::SeqCst);
    CASE.store(NONE, Ordering::SeqCst);

    let passed = PASSED.load(Ordering::SeqCst);
    let (used, size) = stack::usage();
    hprintln!("stack: {} of {} bytes used", used, size);
    if passed == 0 {
        hprintln!("no cases ran: the case table is empty");
        fail(passed);
    }
    if size.saturating_sub(used) < STACK_MARGIN {
        hprintln!(
            "the stack came within {} bytes of its end (margin {})",
            size.saturating_sub(used),
            STACK_MARGIN
        );
        fail(passed);
    }
    hprintln!("{} passed, 0 failed", passed);
    exit(debug::EXIT_SUCCESS)
}

/// The `(module, case)` names of the running case, if one is running.
fn current_case() -> Option<(&'static str, &'static str)> {
    let (module, module_cases) = cases::ALL.get(MODULE.load(Ordering::SeqCst))?;
    let (name, _) = module_cases.get(CASE.load(Ordering::SeqCst))?;
    Some((module, name))
}

/// Prints the closing line for a failed run and ends it with a failure.
fn fail(passed: usize) -> ! {
    hprintln!("{} passed, 1 failed", passed);
    exit(debug::EXIT_FAILURE)
}

/// Ends QEMU with `status` (exit code 0 for success, 1 for failure).
fn exit(status: debug::ExitStatus) -> ! {
    debug::exit(status);
    // Only reached if the debugger lets the program continue.
    loop {
        cortex_m::asm::wfi();
    }
}

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    if FAILING.load(Ordering::SeqCst) {
        // A panic while reporting a panic: stop without printing more.
        exit(debug::EXIT_FAILURE);
    }
    FAILING.store(true, Ordering::SeqCst);
    match current_case() {
        // The case's `test module::name ... ` prefix is already printed.
        Some(_) => hprintln!("FAILED"),
        None => hprintln!("panic outside any case"),
    }
    hprintln!("{}", info);
    fail(PASSED.load(Ordering::SeqCst))
}

/// A hard fault (bad memory access, an unaligned access on an M0, a stack
/// that ran off the start of RAM) ends the run instead of hanging QEMU.
#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    FAILING.store(true, Ordering::SeqCst);
    match current_case() {
        Some(_) => hprintln!("FAILED"),
        None => hprintln!("hard fault outside any case"),
    }
    hprintln!("hard fault at pc {:#010x}", frame.pc());
    fail(PASSED.load(Ordering::SeqCst))
}

/// Stack high-water mark. cortex-m-rt's `paint-stack` feature fills the whole
/// stack region with a known word before `main`; the lowest word that no
/// longer holds it is as deep as the stack has ever been.
mod stack {
    use cortex_m_rt::STACK_PAINT_VALUE;

    extern "C" {
        // Both from cortex-m-rt's link.x: the stack grows down from
        // `_stack_start` (top of RAM) towards `_stack_end` (end of .bss).
        static _stack_start: u32;
        static _stack_end: u32;
    }

    /// `(bytes used at the deepest point so far, bytes in the stack region)`.
    pub fn usage() -> (usize, usize) {
        let top = core::ptr::addr_of!(_stack_start) as usize;
        let bottom = core::ptr::addr_of!(_stack_end) as usize;
        let mut word = bottom;
        while word < top {
            // SAFETY: `word` is 4-aligned (link.x asserts `_stack_end % 4 ==
            // 0`) and inside [_stack_end, _stack_start), RAM that belongs to
            // the stack and nothing else. Every word read lies below the
            // deepest point the stack ever reached (the scan stops there),
            // so below this function's own frame: no live data is read.
            let value = unsafe { core::ptr::read_volatile(word as *const u32) };
            if value != STACK_PAINT_VALUE {
                break;
            }
            word += 4;
        }
        (top - word, top - bottom)
    }
}
