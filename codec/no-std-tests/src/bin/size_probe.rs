//! A minimal firmware image that links the codec, so `scripts/size.sh` can
//! show what the codec costs in flash.
//!
//! Today it only reads [`oxio_codec::Limits`]; it is meant to decode and
//! encode one Socket.IO event once that API exists, so that its `.text` is
//! what a real client pays. It never exits: build it, don't run it.

#![no_std]
#![no_main]

use core::hint::black_box;

use cortex_m_rt::entry;

#[entry]
fn main() -> ! {
    // `black_box` keeps the optimizer from deleting the work being measured.
    let limits = black_box(oxio_codec::Limits::default());
    black_box(limits.max_packet_len);
    loop {
        cortex_m::asm::wfi();
    }
}

/// The smallest possible handler, so the probe measures the codec and not
/// panic formatting.
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    cortex_m::asm::udf()
}
