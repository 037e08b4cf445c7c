//! The oxio sensor device on QEMU's RISC-V `virt` board: the same
//! `oxio_client::device::run` as the Pico W and ESP32-C3 firmware, over a
//! virtio-net NIC (DHCP and TCP by embassy-net), with a simulated
//! thermometer and LED. Logs go to the board's UART (`-nographic`).
//!
//! Settings, read at boot from the kernel command line (QEMU's
//! `-append "url=... name=... period_ms=..."`, see `bootargs.rs`), with the
//! build-time environment variable of the same role as fallback:
//!
//! | boot argument | env at build | default |
//! |---|---|---|
//! | `url` | `SERVER_URL` | `http://10.0.2.2:3000` (the host's 127.0.0.1 under QEMU user networking) |
//! | `name` | `DEVICE_NAME` | `riscv-qemu` |
//! | `period_ms` | `PERIOD_MS` | `5000` |
//! | `connect_timeout_ms` | — | `20000` (the client's default) |

#![no_std]
#![no_main]

mod bootargs;
mod clint;
mod uart;
mod virtio_net;

use embassy_executor::{Executor, Spawner};
use embassy_net::tcp::client::TcpClientState;
use embassy_net::{Config as NetConfig, StackResources};
use embassy_time::{Duration, Timer};
use log::{error, info};
use oxio_client::device::{self, Led, Report, Thermometer};
use oxio_client::{Client, EmbassyNetConnector};
use oxio_codec::client::Config;
use portable_atomic::{AtomicU32, Ordering};
use static_cell::StaticCell;
use virtio_net::VirtioNet;

const SERVER_URL: &str = device::env_or(option_env!("SERVER_URL"), "http://10.0.2.2:3000");
const DEVICE_NAME: &str = device::env_or(option_env!("DEVICE_NAME"), "riscv-qemu");
const PERIOD_MS: &str = device::env_or(option_env!("PERIOD_MS"), "5000");

type Connector = EmbassyNetConnector<'static, 1, 1024, 1024>;
type DeviceClient = Client<'static, Connector, fn() -> u32>;

/// xorshift32 state. The virt board has no entropy source: seeded from the
/// timer and the MAC at boot. Good enough for WebSocket masks and backoff
/// jitter; not for TLS (not enabled here).
static RANDOM: AtomicU32 = AtomicU32::new(0x9e37_79b9);

fn random() -> u32 {
    critical_section::with(|_| {
        let mut x = RANDOM.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        RANDOM.store(x, Ordering::Relaxed);
        x
    })
}

#[embassy_executor::task]
async fn net_task(mut runner: embassy_net::Runner<'static, &'static mut VirtioNet>) -> ! {
    runner.run().await
}

/// The board has no LED: its state is kept and logged.
struct SimulatedLed(bool);

impl Led for SimulatedLed {
    async fn set(&mut self, on: bool) {
        self.0 = on;
    }
}

/// The board has no sensor: 21.0 °C plus a slow, deterministic drift.
struct SimulatedThermometer(u32);

impl Thermometer for SimulatedThermometer {
    async fn read_celsius(&mut self) -> f32 {
        self.0 = self.0.wrapping_add(1);
        21.0 + (self.0 % 10) as f32 / 10.0
    }
}

fn log(report: Report<'_>) {
    match report {
        Report::Ignored => {}
        r if r.is_problem() => log::warn!("{r}"),
        r => info!("{r}"),
    }
}

/// The boot settings (see the crate doc).
struct Settings {
    url: &'static str,
    name: &'static str,
    period_ms: u64,
    connect_timeout_ms: Option<u64>,
}

impl Settings {
    fn read(device_tree: usize) -> Settings {
        let args = bootargs::device_tree(device_tree)
            .and_then(bootargs::bootargs)
            .unwrap_or("");
        let period = bootargs::get(args, "period_ms").unwrap_or(PERIOD_MS);
        Settings {
            url: bootargs::get(args, "url").unwrap_or(SERVER_URL),
            name: bootargs::get(args, "name").unwrap_or(DEVICE_NAME),
            period_ms: period.parse::<u64>().unwrap_or(5000).max(100),
            connect_timeout_ms: bootargs::get(args, "connect_timeout_ms")
                .and_then(|ms| ms.parse().ok()),
        }
    }
}

/// The reset entry: QEMU passes the hart id in `a0` and the device tree's
/// address in `a1`.
#[riscv_rt::entry]
fn main(_hart: usize, device_tree: usize) -> ! {
    uart::init();
    info!("oxio riscv-qemu firmware: boot");
    clint::init();
    let settings = Settings::read(device_tree);
    static EXECUTOR: StaticCell<Executor> = StaticCell::new();
    EXECUTOR
        .init(Executor::new())
        .run(|spawner| match app(spawner, settings) {
            Ok(token) => spawner.spawn(token),
            Err(e) => error!("cannot start the application: {e:?}"),
        })
}

#[embassy_executor::task]
async fn app(spawner: Spawner, settings: Settings) {
    let Settings {
        url,
        name,
        period_ms,
        connect_timeout_ms,
    } = settings;
    info!("device {name}, server {url}, period {period_ms} ms");

    static NIC: StaticCell<VirtioNet> = StaticCell::new();
    let nic = match VirtioNet::probe() {
        Ok(nic) => NIC.init(nic),
        Err(e) => {
            error!("no usable NIC: {e}");
            loop {
                Timer::after_secs(3600).await;
            }
        }
    };
    let mac = nic.mac();
    RANDOM.store(
        (clint_now() as u32) ^ u32::from_le_bytes([mac[2], mac[3], mac[4], mac[5]]) | 1,
        Ordering::Relaxed,
    );
    let nic = nic.start();
    // SAFETY: the timer queue, the NIC and the logger are set up; their
    // handlers may run from here on.
    unsafe { riscv::interrupt::enable() };
    info!(
        "virtio-net MAC {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}, DMA pool {} of {} pages",
        mac[0],
        mac[1],
        mac[2],
        mac[3],
        mac[4],
        mac[5],
        VirtioNet::dma_pages_used(),
        virtio_net::POOL_PAGES
    );

    static RESOURCES: StaticCell<StackResources<4>> = StaticCell::new();
    let seed = u64::from(random()) << 32 | u64::from(random());
    let (stack, runner) = embassy_net::new(
        nic,
        NetConfig::dhcpv4(Default::default()),
        RESOURCES.init(StackResources::new()),
        seed,
    );
    match net_task(runner) {
        Ok(token) => spawner.spawn(token),
        Err(e) => error!("cannot start the network task: {e:?}"),
    }
    stack.wait_config_up().await;
    if let Some(config) = stack.config_v4() {
        info!("network up: {} (DHCP)", config.address);
    }

    static TCP: StaticCell<TcpClientState<1, 1024, 1024>> = StaticCell::new();
    static CONNECTOR: StaticCell<Connector> = StaticCell::new();
    let connector = CONNECTOR.init(EmbassyNetConnector::new(
        stack,
        TCP.init(TcpClientState::new()),
    ));
    static CLIENT: StaticCell<DeviceClient> = StaticCell::new();
    let config = Config {
        connect_timeout_ms: connect_timeout_ms.or(Config::DEFAULT.connect_timeout_ms),
        ..Config::default()
    };
    let client = match Client::new(&*connector, url, config, random as fn() -> u32) {
        Ok(c) => CLIENT.init(c),
        Err(e) => {
            error!("bad server URL {url}: {e}");
            loop {
                Timer::after_secs(3600).await;
            }
        }
    };
    let error = device::run(
        client,
        name,
        Duration::from_millis(period_ms),
        &mut SimulatedLed(false),
        &mut SimulatedThermometer(0),
        &mut log,
    )
    .await;
    // `run` returns only for a configuration error (see its doc): there is
    // nothing to retry, so say it and stay idle (no reset loop).
    error!("device stopped: {error}");
    loop {
        Timer::after_secs(3600).await;
    }
}

fn clint_now() -> u64 {
    embassy_time::Instant::now().as_ticks()
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    // Never reached in normal operation (the tests fail on this line).
    uart::print(format_args!("PANIC: {info}\n"));
    loop {
        riscv::asm::wfi();
    }
}
