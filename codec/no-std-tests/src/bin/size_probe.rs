//! A minimal firmware image that decodes one Socket.IO event and encodes
//! one, so `scripts/size.sh` can show what the codec costs in flash: the
//! difference between this image and `size-baseline` (the same skeleton
//! without the codec) is the codec's share. It never exits: build it, don't
//! run it.

#![no_std]
#![no_main]

use core::hint::black_box;

use cortex_m_rt::entry;
use oxio_codec::socketio::{Decoder, Encoder};

/// What the firmware example sends and receives.
#[derive(serde::Serialize, serde::Deserialize)]
struct Led {
    on: bool,
}

#[entry]
fn main() -> ! {
    // `black_box` keeps the optimizer from deleting the work being measured
    // or computing it at compile time.
    let frame: &str = black_box(r#"2/,5["led",{"on":true}]"#);
    let mut out = [0u8; 64];
    if let Ok(packet) = Decoder::default().decode(frame) {
        let is_led = packet.event_name().is_some_and(|n| n == "led");
        if let (true, Ok(led)) = (is_led, packet.args::<Led>()) {
            let id = packet.ack_id().unwrap_or(0);
            if let Ok(n) =
                Encoder::default().ack(&mut out, packet.namespace(), id, &(Led { on: led.on },))
            {
                black_box(&out[..n.len]);
            }
        }
    }
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
