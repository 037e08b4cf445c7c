//! Passes the linker scripts esp-hal needs (beyond `.cargo/config.toml`).

fn main() {
    for var in ["WIFI_SSID", "WIFI_PASSWORD", "SERVER_URL", "DEVICE_NAME"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
}
