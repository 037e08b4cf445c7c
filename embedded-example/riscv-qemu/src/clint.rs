//! The `embassy-time` driver of QEMU's virt board: the CLINT's machine
//! timer (`mtime`, 10 MHz, and hart 0's `mtimecmp`), one alarm for
//! embassy's timer queue, raised through the machine-timer interrupt.
//! embassy-time's tick rate is set to 10 MHz (`tick-hz-10_000_000`), so a
//! tick is one `mtime` count.

use core::cell::RefCell;
use core::ptr::{read_volatile, write_volatile};
use core::task::Waker;
use critical_section::Mutex;
use embassy_time_driver::Driver;
use embassy_time_queue_utils::Queue;

/// `mtime` (64-bit, read as two 32-bit halves on RV32).
const MTIME: usize = 0x0200_bff8;
/// Hart 0's `mtimecmp`.
const MTIMECMP: usize = 0x0200_4000;

struct ClintDriver {
    queue: Mutex<RefCell<Queue>>,
}

embassy_time_driver::time_driver_impl!(static DRIVER: ClintDriver = ClintDriver {
    queue: Mutex::new(RefCell::new(Queue::new())),
});

/// The current `mtime`: high half, low half, high half again until the
/// high half did not change in between (no carry missed).
fn mtime() -> u64 {
    loop {
        // SAFETY: MTIME is the CLINT's free-running counter on QEMU's virt
        // machine, always mapped; 32-bit volatile reads have no side effect.
        let (hi, lo, again) = unsafe {
            (
                read_volatile((MTIME + 4) as *const u32),
                read_volatile(MTIME as *const u32),
                read_volatile((MTIME + 4) as *const u32),
            )
        };
        if hi == again {
            return (u64::from(hi) << 32) | u64::from(lo);
        }
    }
}

/// Sets hart 0's `mtimecmp` (`u64::MAX`: never).
fn set_mtimecmp(at: u64) {
    // SAFETY: MTIMECMP is hart 0's compare register of the CLINT, always
    // mapped, and written only here (callers hold a critical section or run
    // in the timer interrupt, which runs with interrupts off). The high half
    // is first set to its maximum so that no intermediate value can raise a
    // spurious interrupt.
    unsafe {
        write_volatile((MTIMECMP + 4) as *mut u32, u32::MAX);
        write_volatile(MTIMECMP as *mut u32, at as u32);
        write_volatile((MTIMECMP + 4) as *mut u32, (at >> 32) as u32);
    }
}

impl ClintDriver {
    /// Arms the alarm for the queue's next expiry, waking what expired.
    fn rearm(&self, queue: &mut Queue) {
        loop {
            let next = queue.next_expiration(mtime());
            set_mtimecmp(next);
            // Past already: the interrupt may have been missed, go again.
            if next == u64::MAX || mtime() < next {
                return;
            }
        }
    }
}

impl Driver for ClintDriver {
    fn now(&self) -> u64 {
        mtime()
    }

    fn schedule_wake(&self, at: u64, waker: &Waker) {
        critical_section::with(|cs| {
            let mut queue = self.queue.borrow(cs).borrow_mut();
            if queue.schedule_wake(at, waker) {
                self.rearm(&mut queue);
            }
        });
    }
}

/// Disarms the compare register and enables the machine-timer interrupt
/// (global interrupts are enabled by the caller once everything is set).
pub fn init() {
    set_mtimecmp(u64::MAX);
    // SAFETY: enabling MTIE only lets the handler below run; it touches
    // nothing but the timer queue, under its critical section.
    unsafe { riscv::register::mie::set_mtimer() };
}

#[riscv_rt::core_interrupt(riscv::interrupt::Interrupt::MachineTimer)]
fn machine_timer() {
    critical_section::with(|cs| {
        let mut queue = DRIVER.queue.borrow(cs).borrow_mut();
        DRIVER.rearm(&mut queue);
    });
}
