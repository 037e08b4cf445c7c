//! Raspberry Pi Pico W sensor device: Wi-Fi (cyw43), DHCP and DNS
//! (embassy-net), then `oxio_client::device::run`: `sensor` readings of the
//! RP2040's internal temperature sensor every 5 s with an ack, the on-board
//! LED switched by `led` events, reconnection forever. A Wi-Fi task joins
//! the access point and joins it again, with backoff, whenever the link
//! drops.
//!
//! Build-time settings (environment variables, defaults in brackets):
//! `WIFI_SSID` [oxio], `WIFI_PASSWORD` [oxio-password], `SERVER_URL`
//! [http://192.168.1.10:3000], `DEVICE_NAME` [picow], and
//! `CYW43_FIRMWARE_DIR` (required: the Wi-Fi blobs, see build.rs).

#![no_std]
#![no_main]

use cyw43::JoinOptions;
use cyw43_pio::{PioSpi, DEFAULT_CLOCK_DIVIDER};
use defmt::{error, info, unwrap, warn};
use embassy_executor::Spawner;
use embassy_net::tcp::client::TcpClientState;
use embassy_net::{Config as NetConfig, Stack, StackResources};
use embassy_rp::adc::{self, Adc, Async};
use embassy_rp::clocks::RoscRng;
use embassy_rp::gpio::{Level, Output};
use embassy_rp::peripherals::{DMA_CH0, PIO0};
use embassy_rp::pio::{self, Pio};
use embassy_rp::{bind_interrupts, dma};
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::mutex::Mutex;
use embassy_time::{with_timeout, Duration, Timer};
use oxio_client::device::{self, Led, Report, Thermometer};
use oxio_client::{Client, EmbassyNetConnector};
use oxio_codec::client::Config;
use static_cell::StaticCell;
use {defmt_rtt as _, panic_probe as _};

const WIFI_SSID: &str = device::env_or(option_env!("WIFI_SSID"), "oxio");
const WIFI_PASSWORD: &str = device::env_or(option_env!("WIFI_PASSWORD"), "oxio-password");
const SERVER_URL: &str = device::env_or(option_env!("SERVER_URL"), "http://192.168.1.10:3000");
const DEVICE_NAME: &str = device::env_or(option_env!("DEVICE_NAME"), "picow");

// cyw43's `join` copies these into 32- and 64-byte arrays (and panics if
// they are longer): refuse them at build time instead.
const _: () = assert!(WIFI_SSID.len() <= 32 && WIFI_PASSWORD.len() <= 64);

/// Longest wait for one join (scan, association, key exchange).
const JOIN_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest wait, after a successful join, for embassy-net to see the link up.
const LINK_UP_TIMEOUT: Duration = Duration::from_secs(10);

bind_interrupts!(struct Irqs {
    PIO0_IRQ_0 => pio::InterruptHandler<PIO0>;
    DMA_IRQ_0 => dma::InterruptHandler<DMA_CH0>;
    ADC_IRQ_FIFO => adc::InterruptHandler;
});

type Connector = EmbassyNetConnector<'static, 1, 1024, 1024>;
type DeviceClient = Client<'static, Connector, fn() -> u32>;
/// The cyw43 control handle, shared by the Wi-Fi task and the LED.
type SharedControl = Mutex<CriticalSectionRawMutex, cyw43::Control<'static>>;

fn random() -> u32 {
    RoscRng.next_u64() as u32
}

#[embassy_executor::task]
async fn cyw43_task(
    runner: cyw43::Runner<'static, cyw43::SpiBus<Output<'static>, PioSpi<'static, PIO0, 0>>>,
) -> ! {
    runner.run().await
}

#[embassy_executor::task]
async fn net_task(mut runner: embassy_net::Runner<'static, cyw43::NetDriver<'static>>) -> ! {
    runner.run().await
}

/// Keeps the station joined: joins at boot and again whenever the link
/// goes down (cyw43 turns a LINK-down or DEAUTH event, or a failed key
/// exchange, into link down; embassy-net then drops the DHCP lease and
/// asks again once the link is back). Failed joins are retried after
/// `device::wifi_backoff_ms` (1 s doubling to 30 s, ±25 %).
#[embassy_executor::task]
async fn wifi_task(control: &'static SharedControl, stack: Stack<'static>) -> ! {
    let mut failures: u32 = 0;
    loop {
        let joined = {
            let mut control = control.lock().await;
            let options = JoinOptions::new(WIFI_PASSWORD.as_bytes());
            with_timeout(JOIN_TIMEOUT, control.join(WIFI_SSID, options)).await
        };
        match joined {
            // cyw43 reports the link up before `join` returns; embassy-net
            // sees it at its next poll.
            Ok(Ok(())) => match with_timeout(LINK_UP_TIMEOUT, stack.wait_link_up()).await {
                Ok(()) => {
                    info!("Wi-Fi joined {}", WIFI_SSID);
                    failures = 0;
                    stack.wait_link_down().await;
                    warn!("Wi-Fi link lost, rejoining");
                    continue;
                }
                Err(_) => warn!("Wi-Fi joined but the link stayed down"),
            },
            Ok(Err(e)) => warn!("Wi-Fi join failed: {}", e),
            Err(_) => warn!("Wi-Fi join timed out"),
        }
        let delay_ms = device::wifi_backoff_ms(failures, random());
        failures = failures.saturating_add(1);
        info!("Wi-Fi join retry {} in {} ms", failures, delay_ms);
        Timer::after_millis(u64::from(delay_ms)).await;
    }
}

/// The on-board LED, wired to the CYW43's GPIO 0 (waits while the Wi-Fi
/// task is joining).
struct PicoLed(&'static SharedControl);

impl Led for PicoLed {
    async fn set(&mut self, on: bool) {
        self.0.lock().await.gpio_set(0, on).await;
    }
}

/// The RP2040's internal sensor (ADC channel 4): T = 27 - (V - 0.706) / 0.001721.
struct InternalSensor {
    adc: Adc<'static, Async>,
    channel: adc::Channel<'static>,
}

impl Thermometer for InternalSensor {
    async fn read_celsius(&mut self) -> f32 {
        match self.adc.read(&mut self.channel).await {
            Ok(raw) => {
                let volts = f32::from(raw) * 3.3 / 4096.0;
                27.0 - (volts - 0.706) / 0.001721
            }
            Err(_) => f32::NAN,
        }
    }
}

fn log(report: Report<'_>) {
    match report {
        Report::Ignored => {}
        r if r.is_problem() => warn!("{}", r),
        r => info!("{}", r),
    }
}

#[embassy_executor::main]
async fn main(spawner: Spawner) {
    let p = embassy_rp::init(Default::default());

    let fw = cyw43::aligned_bytes!(concat!(env!("OUT_DIR"), "/43439A0.bin"));
    let clm = cyw43::aligned_bytes!(concat!(env!("OUT_DIR"), "/43439A0_clm.bin"));
    let nvram = cyw43::aligned_bytes!(concat!(env!("OUT_DIR"), "/nvram_rp2040.bin"));

    let pwr = Output::new(p.PIN_23, Level::Low);
    let cs = Output::new(p.PIN_25, Level::High);
    let mut pio = Pio::new(p.PIO0, Irqs);
    let spi = PioSpi::new(
        &mut pio.common,
        pio.sm0,
        DEFAULT_CLOCK_DIVIDER,
        pio.irq0,
        cs,
        p.PIN_24,
        p.PIN_29,
        dma::Channel::new(p.DMA_CH0, Irqs),
    );
    static STATE: StaticCell<cyw43::State> = StaticCell::new();
    let (net_device, mut control, runner) =
        cyw43::new(STATE.init(cyw43::State::new()), pwr, spi, fw, nvram).await;
    spawner.spawn(unwrap!(cyw43_task(runner)));
    control.init(clm).await;
    control
        .set_power_management(cyw43::PowerManagementMode::PowerSave)
        .await;

    static RESOURCES: StaticCell<StackResources<4>> = StaticCell::new();
    let (stack, runner) = embassy_net::new(
        net_device,
        NetConfig::dhcpv4(Default::default()),
        RESOURCES.init(StackResources::new()),
        RoscRng.next_u64(),
    );
    spawner.spawn(unwrap!(net_task(runner)));

    static CONTROL: StaticCell<SharedControl> = StaticCell::new();
    let control: &'static SharedControl = CONTROL.init(Mutex::new(control));
    spawner.spawn(unwrap!(wifi_task(control, stack)));
    stack.wait_config_up().await;
    info!("network up; server {}", SERVER_URL);

    static TCP: StaticCell<TcpClientState<1, 1024, 1024>> = StaticCell::new();
    static CONNECTOR: StaticCell<Connector> = StaticCell::new();
    let connector = CONNECTOR.init(EmbassyNetConnector::new(
        stack,
        TCP.init(TcpClientState::new()),
    ));
    static CLIENT: StaticCell<DeviceClient> = StaticCell::new();
    let client = match Client::new(
        &*connector,
        SERVER_URL,
        Config {
            // Feature `msgpack`: every packet one binary msgpack frame.
            #[cfg(feature = "msgpack")]
            msgpack: true,
            ..Config::default()
        },
        random as fn() -> u32,
    ) {
        Ok(c) => CLIENT.init(c),
        Err(e) => defmt::panic!("bad SERVER_URL {}: {}", SERVER_URL, e),
    };

    let mut led = PicoLed(control);
    let mut sensor = InternalSensor {
        adc: Adc::new(p.ADC, Irqs, adc::Config::default()),
        channel: adc::Channel::new_temp_sensor(p.ADC_TEMP_SENSOR),
    };
    let error = device::run(
        client,
        DEVICE_NAME,
        Duration::from_secs(5),
        &mut led,
        &mut sensor,
        &mut log,
    )
    .await;
    // `run` returns only for a configuration error (see its doc). A panic
    // would halt the chip for good (panic-probe); instead log it, wait a
    // minute (so this can never become a tight reboot loop) and restart
    // from a clean state.
    error!("device stopped: {}; restarting in 60 s", error);
    Timer::after_secs(60).await;
    cortex_m::peripheral::SCB::sys_reset();
}
