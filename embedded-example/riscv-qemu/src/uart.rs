//! The log: the ns16550 UART of QEMU's virt board at 0x1000_0000 (QEMU's
//! `-nographic` / `-serial` output), behind the `log` crate.

use core::fmt::{self, Write};

/// The UART's base address (transmit holding register at +0).
const UART: usize = 0x1000_0000;
/// Line status register; bit 5: the transmit holding register is empty.
const LSR: usize = UART + 5;
const LSR_THR_EMPTY: u8 = 1 << 5;

/// Writes bytes to the UART, waiting for room before each one.
pub struct Uart;

impl Uart {
    fn put(byte: u8) {
        // SAFETY: UART and LSR are the ns16550's registers on QEMU's virt
        // machine, always mapped; byte reads of LSR and byte writes of THR
        // have no effect beyond sending the byte. Callers hold a critical
        // section, so bytes of two messages do not interleave.
        unsafe {
            while core::ptr::read_volatile(LSR as *const u8) & LSR_THR_EMPTY == 0 {}
            core::ptr::write_volatile(UART as *mut u8, byte);
        }
    }
}

impl Write for Uart {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for b in s.bytes() {
            if b == b'\n' {
                Uart::put(b'\r');
            }
            Uart::put(b);
        }
        Ok(())
    }
}

/// Prints one formatted line (whole, under a critical section).
pub fn print(args: fmt::Arguments<'_>) {
    critical_section::with(|_| {
        let _ = Uart.write_fmt(args);
    });
}

struct Logger;

impl log::Log for Logger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        // virtio-drivers reports its feature negotiation at info level.
        metadata.level() <= log::Level::Warn || !metadata.target().starts_with("virtio_drivers")
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            let ms = embassy_time::Instant::now().as_millis();
            print(format_args!(
                "{}.{:03} {:<5} {}\n",
                ms / 1000,
                ms % 1000,
                record.level(),
                record.args()
            ));
        }
    }

    fn flush(&self) {}
}

static LOGGER: Logger = Logger;

/// Installs the UART logger (level info). Call once, first thing at boot.
pub fn init() {
    // SAFETY: `set_logger_racy` must not run concurrently with another
    // logger call: it runs once at boot, before interrupts are enabled and
    // before any task starts (riscv32imc has no atomic compare-and-swap,
    // so the non-racy `set_logger` does not exist).
    let _ = unsafe { log::set_logger_racy(&LOGGER) };
    // SAFETY: as above (single hart, interrupts still off).
    unsafe { log::set_max_level_racy(log::LevelFilter::Info) };
}
