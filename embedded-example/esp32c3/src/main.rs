//! ESP32-C3 sensor device: Wi-Fi (esp-radio), DHCP and DNS (embassy-net),
//! then `oxio_client::device::run`: `sensor` readings of the chip's
//! internal temperature sensor every 5 s with an ack, an LED on
//! [`led_pin!`] switched by `led` events, reconnection forever. A Wi-Fi
//! task connects to the access point and connects again, with backoff,
//! whenever the station is disconnected.
//!
//! Build-time settings (environment variables, defaults in brackets):
//! `WIFI_SSID` [oxio], `WIFI_PASSWORD` [oxio-password], `SERVER_URL`
//! [http://192.168.1.10:3000], `DEVICE_NAME` [esp32c3].

#![no_std]
#![no_main]

use embassy_executor::Spawner;
use embassy_net::tcp::client::TcpClientState;
use embassy_net::{Config as NetConfig, StackResources};
use embassy_time::{with_timeout, Duration, Timer};
use esp_hal::gpio::{Level, Output, OutputConfig};
use esp_hal::rng::Rng;
use esp_hal::timer::timg::TimerGroup;
use esp_hal::tsens::{self, TemperatureSensor};
use esp_radio::wifi::sta::StationConfig;
use esp_radio::wifi::{
    AuthenticationMethodConfig, Config as WifiConfig, ControllerConfig, Interface, WifiController,
};
use log::{error, info, warn};
use oxio_client::device::{self, Led, Report, Thermometer};
use oxio_client::{Client, EmbassyNetConnector};
use oxio_codec::client::Config;
use static_cell::StaticCell;
use {esp_backtrace as _, esp_println as _};

esp_bootloader_esp_idf::esp_app_desc!();

const WIFI_SSID: &str = device::env_or(option_env!("WIFI_SSID"), "oxio");
const WIFI_PASSWORD: &str = device::env_or(option_env!("WIFI_PASSWORD"), "oxio-password");
const SERVER_URL: &str = device::env_or(option_env!("SERVER_URL"), "http://192.168.1.10:3000");
const DEVICE_NAME: &str = device::env_or(option_env!("DEVICE_NAME"), "esp32c3");

/// The LED's GPIO (an LED with a resistor to ground; change it here).
macro_rules! led_pin {
    ($p:expr) => {
        $p.GPIO8
    };
}

type Connector = EmbassyNetConnector<'static, 1, 1024, 1024>;
type DeviceClient = Client<'static, Connector, fn() -> u32>;

fn random() -> u32 {
    Rng::new().random()
}

#[embassy_executor::task]
async fn net_task(mut runner: embassy_net::Runner<'static, Interface>) -> ! {
    runner.run().await
}

/// Keeps the station associated: connects at boot and again as soon as
/// the StationDisconnected event comes; failed attempts are retried after
/// `device::wifi_backoff_ms` (1 s doubling to 30 s, ±25 %).
#[embassy_executor::task]
async fn wifi_task(mut controller: WifiController<'static>) -> ! {
    let mut failures: u32 = 0;
    loop {
        match controller.connect_async().await {
            Ok(_) => {
                info!("Wi-Fi connected");
                failures = 0;
                // The 10 s timeout only re-checks the state, in case the
                // event came before `wait_for_disconnect_async` subscribed
                // (it returns `NotConnected` at once then).
                let lost = loop {
                    let wait = controller.wait_for_disconnect_async();
                    if let Ok(lost) = with_timeout(Duration::from_secs(10), wait).await {
                        break lost;
                    }
                };
                match lost {
                    Ok(info) => warn!("Wi-Fi lost ({:?}), reconnecting", info.reason),
                    Err(_) => warn!("Wi-Fi lost, reconnecting"),
                }
                continue;
            }
            Err(e) => warn!("Wi-Fi connect failed: {e:?}"),
        }
        let delay_ms = device::wifi_backoff_ms(failures, random());
        failures = failures.saturating_add(1);
        info!("Wi-Fi connect retry {failures} in {delay_ms} ms");
        Timer::after_millis(u64::from(delay_ms)).await;
    }
}

struct GpioLed(Output<'static>);

impl Led for GpioLed {
    async fn set(&mut self, on: bool) {
        self.0.set_level(if on { Level::High } else { Level::Low });
    }
}

struct InternalSensor(TemperatureSensor<'static>);

impl Thermometer for InternalSensor {
    async fn read_celsius(&mut self) -> f32 {
        self.0.get_temperature().to_celsius()
    }
}

fn log(report: Report<'_>) {
    match report {
        Report::Ignored => {}
        r if r.is_problem() => warn!("{r}"),
        r => info!("{r}"),
    }
}

#[esp_rtos::main]
async fn main(spawner: Spawner) -> ! {
    esp_println::logger::init_logger_from_env();
    let peripherals =
        esp_hal::init(esp_hal::Config::default().with_cpu_clock(esp_hal::clock::CpuClock::max()));
    // The Wi-Fi driver needs a heap; the Socket.IO client does not.
    esp_alloc::heap_allocator!(#[esp_hal::ram(reclaimed)] size: 64 * 1024);
    esp_alloc::heap_allocator!(size: 36 * 1024);

    let timg0 = TimerGroup::new(peripherals.TIMG0);
    esp_rtos::start(timg0.timer0, peripherals.FROM_CPU_INTR0);

    let (Ok(ssid), Ok(password)) = (WIFI_SSID.try_into(), WIFI_PASSWORD.try_into()) else {
        panic!("WIFI_SSID or WIFI_PASSWORD too long");
    };
    let station = StationConfig::default()
        .with_ssid(ssid)
        .with_authentication(AuthenticationMethodConfig::Wpa2Personal(password));
    let controller = match WifiController::new(
        peripherals.WIFI,
        ControllerConfig::default().with_initial_config(WifiConfig::Station(station)),
    ) {
        Ok(c) => c,
        Err(e) => panic!("Wi-Fi init failed: {e:?}"),
    };
    let seed = u64::from(random()) << 32 | u64::from(random());
    static RESOURCES: StaticCell<StackResources<4>> = StaticCell::new();
    let (stack, runner) = embassy_net::new(
        Interface::station(),
        NetConfig::dhcpv4(Default::default()),
        RESOURCES.init(StackResources::new()),
        seed,
    );
    spawner.spawn(wifi_task(controller).unwrap());
    spawner.spawn(net_task(runner).unwrap());
    stack.wait_config_up().await;
    info!("network up; server {SERVER_URL}");

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
        Config::default(),
        random as fn() -> u32,
    ) {
        Ok(c) => CLIENT.init(c),
        Err(e) => panic!("bad SERVER_URL {SERVER_URL}: {e}"),
    };
    let mut led = GpioLed(Output::new(
        led_pin!(peripherals),
        Level::Low,
        OutputConfig::default(),
    ));
    let mut sensor = match TemperatureSensor::new(peripherals.TSENS, tsens::Config::default()) {
        Ok(s) => InternalSensor(s),
        Err(e) => panic!("temperature sensor: {e:?}"),
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
    // would stop the chip (esp-backtrace spins with interrupts off); instead
    // log it, wait a minute (so this can never become a tight reboot loop)
    // and restart from a clean state.
    error!("device stopped: {error}; restarting in 60 s");
    Timer::after_secs(60).await;
    esp_hal::system::software_reset()
}
