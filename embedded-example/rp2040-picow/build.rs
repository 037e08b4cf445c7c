//! Puts memory.x on the linker path, passes the link scripts, and copies
//! the CYW43 Wi-Fi blobs from `CYW43_FIRMWARE_DIR` (not in the repository)
//! into OUT_DIR for `include_bytes!`.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

const BLOBS: [&str; 3] = ["43439A0.bin", "43439A0_clm.bin", "nvram_rp2040.bin"];

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::write(out.join("memory.x"), include_bytes!("memory.x")).expect("write memory.x");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
    println!("cargo:rerun-if-env-changed=CYW43_FIRMWARE_DIR");
    for var in ["WIFI_SSID", "WIFI_PASSWORD", "SERVER_URL", "DEVICE_NAME"] {
        println!("cargo:rerun-if-env-changed={var}");
    }

    let Some(dir) = env::var_os("CYW43_FIRMWARE_DIR") else {
        panic!(
            "\n\nCYW43_FIRMWARE_DIR is not set.\n\
             The Pico W firmware embeds the CYW43439 Wi-Fi blobs ({}), which are not in this\n\
             repository (Infineon licence). Point CYW43_FIRMWARE_DIR at a folder holding them,\n\
             e.g. a checkout of embassy's cyw43-firmware/ directory (tag cyw43-v0.7.0).\n\n",
            BLOBS.join(", ")
        );
    };
    let dir = Path::new(&dir);
    for blob in BLOBS {
        let from = dir.join(blob);
        println!("cargo:rerun-if-changed={}", from.display());
        if let Err(e) = fs::copy(&from, out.join(blob)) {
            panic!(
                "\n\nCYW43_FIRMWARE_DIR={}: cannot read {blob}: {e}\n\n",
                dir.display()
            );
        }
    }

    println!("cargo:rustc-link-arg-bins=--nmagic");
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
    println!("cargo:rustc-link-arg-bins=-Tlink-rp.x");
    println!("cargo:rustc-link-arg-bins=-Tdefmt.x");
}
