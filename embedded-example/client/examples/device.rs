//! The firmware's application on a PC: the same `oxio_client::device::run`
//! as the Pico W, ESP32-C3 and QEMU RISC-V examples, with a simulated thermometer and
//! an LED printed to stdout.
//!
//! ```text
//! cargo run -p oxio-client --features tokio --example device -- --url http://127.0.0.1:3000 --name dev1
//! ```
//! Options: `--period-ms N` (default 5000).

use oxio_client::device::{self, Led, Report, Thermometer};
use oxio_client::{Client, TokioConnector};
use oxio_codec::client::Config;

struct PrintedLed;

impl Led for PrintedLed {
    async fn set(&mut self, on: bool) {
        println!("led {}", if on { "on" } else { "off" });
    }
}

/// 20 °C plus a slow sawtooth, so readings change.
struct SimulatedThermometer(u32);

impl Thermometer for SimulatedThermometer {
    async fn read_celsius(&mut self) -> f32 {
        self.0 = self.0.wrapping_add(1);
        20.0 + (self.0 % 10) as f32 * 0.25
    }
}

struct Args {
    url: String,
    name: String,
    period_ms: u64,
}

fn args() -> Result<Args, String> {
    let mut out = Args {
        url: "http://127.0.0.1:3000".into(),
        name: "dev1".into(),
        period_ms: 5000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--url" => out.url = value()?,
            "--name" => out.name = value()?,
            "--period-ms" => {
                out.period_ms = value()?
                    .parse()
                    .map_err(|_| "bad --period-ms".to_string())?
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(out)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("device: {e} (usage: --url URL --name NAME [--period-ms N])");
            std::process::exit(2);
        }
    };
    let url: &'static str = Box::leak(args.url.into_boxed_str());
    let seed = std::process::id();
    let mut client: Box<Client<'_, _, _>> =
        match Client::new(&TokioConnector, url, Config::default(), move || {
            seed.wrapping_mul(2_654_435_761)
        }) {
            Ok(c) => Box::new(c),
            Err(e) => {
                eprintln!("device: {e}");
                std::process::exit(2);
            }
        };
    let error = device::run(
        &mut client,
        &args.name,
        embassy_time::Duration::from_millis(args.period_ms),
        &mut PrintedLed,
        &mut SimulatedThermometer(0),
        &mut |r: Report<'_>| println!("{r}"),
    )
    .await;
    eprintln!("device stopped: {error}");
    std::process::exit(1);
}
