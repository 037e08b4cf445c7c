#!/usr/bin/env bash
# Builds the three firmware examples in release (each its own workspace and
# target dir): Pico W, ESP32-C3 and the QEMU RISC-V board; prints their
# flash / static RAM, plus what oxio-client itself takes inside the Pico W
# image (code of oxio_client + oxio_codec symbols, and the Client value in
# .bss).
#
# Needs: rustup targets thumbv6m-none-eabi and riscv32imc-unknown-none-elf,
# the llvm-tools component (llvm-size, llvm-nm), python3, and the Pico W
# Wi-Fi blobs (not committed): CYW43_FIRMWARE_DIR, or else the folder
# shared/firmware/cyw43 beside the clone.
#
# Target dirs: OXIO_FW_PICOW_TARGET (~/.cache/oxio-fw-picow),
# OXIO_FW_ESP32C3_TARGET (~/.cache/oxio-fw-esp32c3), OXIO_FW_RISCV_TARGET
# (~/.cache/oxio/target-fw-riscv, shared with the QEMU device tests).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

export CYW43_FIRMWARE_DIR="${CYW43_FIRMWARE_DIR:-$root/../shared/firmware/cyw43}"
if [ ! -f "$CYW43_FIRMWARE_DIR/43439A0.bin" ]; then
    echo "firmware.sh: CYW43_FIRMWARE_DIR=$CYW43_FIRMWARE_DIR has no 43439A0.bin (Pico W Wi-Fi blobs)" >&2
    exit 1
fi

sysroot=$(rustc --print sysroot)
tools="$sysroot/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin"
if [ ! -x "$tools/llvm-size" ]; then
    rustup component add llvm-tools >/dev/null 2>&1 || true
fi
for t in llvm-size llvm-nm; do
    [ -x "$tools/$t" ] || { echo "firmware.sh: $t missing (rustup component add llvm-tools)" >&2; exit 1; }
done

picow_target=${OXIO_FW_PICOW_TARGET:-$HOME/.cache/oxio-fw-picow}
esp_target=${OXIO_FW_ESP32C3_TARGET:-$HOME/.cache/oxio-fw-esp32c3}
riscv_target=${OXIO_FW_RISCV_TARGET:-$HOME/.cache/oxio/target-fw-riscv}

build() { # dir target_dir
    local start=$SECONDS
    (cd "$root/embedded-example/$1" && CARGO_TARGET_DIR="$2" cargo build --release --locked)
    echo "== $1: built in $((SECONDS - start)) s"
}

build rp2040-picow "$picow_target"
build esp32c3 "$esp_target"
build riscv-qemu "$riscv_target"

picow_elf="$picow_target/thumbv6m-none-eabi/release/oxio-picow"
esp_elf="$esp_target/riscv32imc-unknown-none-elf/release/oxio-esp32c3"
riscv_elf="$riscv_target/riscv32imc-unknown-none-elf/release/oxio-riscv-qemu"

python3 - "$tools" "$picow_elf" "$esp_elf" "$riscv_elf" <<'PY'
import subprocess, sys
tools, picow, esp, riscv = sys.argv[1:5]

def sections(elf):
    out = subprocess.run([f"{tools}/llvm-size", "-A", elf], capture_output=True, text=True, check=True).stdout
    s = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1].isdigit():
            s[parts[0]] = int(parts[1])
    return s

def total(s, names):
    return sum(s.get(n, 0) for n in names)

p = sections(picow)
print("\n== Pico W (thumbv6m-none-eabi, release, fat LTO, opt-level s): llvm-size -A")
for n in [".vector_table", ".boot2", ".text", ".rodata", ".data", ".bss", ".uninit"]:
    print(f"   {n:14} {p.get(n, 0):>9}")
flash = total(p, [".vector_table", ".boot2", ".text", ".rodata", ".data"])
ram = total(p, [".data", ".bss", ".uninit"])
print(f"   flash {flash} B ({flash/1024:.1f} KiB, of which ~226 KiB are the CYW43 blobs); static RAM {ram} B ({ram/1024:.1f} KiB)")

nm = subprocess.run([f"{tools}/llvm-nm", "-S", "-C", picow], capture_output=True, text=True, check=True).stdout
code = {"oxio_client::device": 0, "oxio_client": 0, "oxio_codec": 0}
client_bss = 0
for line in nm.splitlines():
    parts = line.split(None, 3)
    if len(parts) < 4:
        continue
    size, kind, name = int(parts[1], 16), parts[2], parts[3]
    if kind in "tTrR":
        for crate in code:
            if name.startswith(crate + "::") or f"<{crate}::" in name or f"impl {crate}::" in name:
                code[crate] += size
                break
    if kind in "bB" and "::CLIENT::" in name:
        client_bss = size
client = code["oxio_client"] + code["oxio_codec"]
print(f"   oxio-client code in this image: oxio_client {code['oxio_client']} B + oxio_codec {code['oxio_codec']} B"
      f" = {client} B ({client/1024:.1f} KiB); the device application (oxio_client::device) {code['oxio_client::device']} B more"
      " (symbols named after the crates, after LTO)")
print(f"   Client value (state + buffers, static CLIENT in .bss): {client_bss} B ({client_bss/1024:.2f} KiB)")

e = sections(esp)
print("\n== ESP32-C3 (riscv32imc-unknown-none-elf, release, fat LTO, opt-level s): llvm-size -A")
for n in [".text", ".rodata", ".rodata.wifi", ".trap", ".rwtext", ".rwtext.wifi", ".data", ".data.wifi", ".bss"]:
    print(f"   {n:14} {e.get(n, 0):>9}")
flash = total(e, [".text", ".rodata", ".rodata.wifi", ".trap", ".rwtext", ".rwtext.wifi", ".data", ".data.wifi", ".flash.appdesc"])
dram = total(e, [".data", ".data.wifi", ".bss"])
iram = total(e, [".trap", ".rwtext", ".rwtext.wifi"])
print(f"   flash ~{flash} B ({flash/1024:.1f} KiB); static DRAM {dram} B ({dram/1024:.1f} KiB, includes the 36 KiB Wi-Fi heap); IRAM code {iram} B")

r = sections(riscv)
print("\n== QEMU virt RISC-V (riscv32imc-unknown-none-elf, release, fat LTO, opt-level s): llvm-size -A")
for n in [".text", ".init.rust", ".rodata", ".eh_frame", ".data", ".bss"]:
    print(f"   {n:14} {r.get(n, 0):>9}")
flash = total(r, [".text", ".init.rust", ".rodata", ".eh_frame", ".data"])
ram = total(r, [".data", ".bss"])
print(f"   flash (what a board would keep in flash; QEMU runs it from RAM) {flash} B ({flash/1024:.1f} KiB);"
      f" static RAM {ram} B ({ram/1024:.1f} KiB, includes the 16 KiB virtio DMA pool)")
PY
