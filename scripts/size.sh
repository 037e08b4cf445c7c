#!/usr/bin/env bash
# Prints what the codec costs in flash: builds codec/no-std-tests' size-probe
# (a minimal thumbv6m firmware image linking oxio-codec) with the firmware
# profile (`size`: opt-level "s", fat LTO, no overflow checks) and prints its
# section sizes. Not part of scripts/test.sh.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET=thumbv6m-none-eabi
export CARGO_TARGET_DIR="${OXIO_NO_STD_TARGET_DIR:-${CARGO_TARGET_DIR:-$HOME/.cache/oxio/target}-no-std-tests}"

die() {
    echo "scripts/size.sh: $*" >&2
    exit 1
}

# llvm-size from the rustup component, else binutils' arm-none-eabi-size.
find_size_tool() {
    local tool
    for tool in "$(rustc --print sysroot)"/lib/rustlib/*/bin/llvm-size; do
        [ -x "$tool" ] && { echo "$tool"; return; }
    done
    if command -v rustup >/dev/null 2>&1; then
        rustup component add llvm-tools >&2 || die "rustup component add llvm-tools failed"
        for tool in "$(rustc --print sysroot)"/lib/rustlib/*/bin/llvm-size; do
            [ -x "$tool" ] && { echo "$tool"; return; }
        done
    fi
    command -v arm-none-eabi-size && return
    die "no llvm-size (rustup component add llvm-tools) or arm-none-eabi-size found"
}

SIZE_TOOL="$(find_size_tool)"
(cd "$ROOT/codec/no-std-tests" && cargo build --profile size --bin size-probe --bin size-baseline) ||
    die "building size-probe failed"

# Prints the loadable sections of one image and sets TEXT and FLASH.
measure() {
    local elf="$CARGO_TARGET_DIR/$TARGET/size/$1" sections
    [ -f "$elf" ] || die "built, but $elf is missing"
    sections="$("$SIZE_TOOL" -A "$elf")" || die "$SIZE_TOOL failed on $elf"
    echo
    echo "$1:"
    # The loadable sections only; the rest is debug info, which stays on the host.
    grep -E '^(section|\.vector_table|\.text|\.rodata|\.data|\.bss|\.uninit) ' <<<"$sections"
    TEXT="$(awk '$1 == ".text" { print $2 }' <<<"$sections")"
    [ -n "$TEXT" ] || die "no .text section in $elf"
    FLASH="$(awk '$1 ~ /^\.(vector_table|text|rodata|data)$/ { n += $2 } END { print n }' <<<"$sections")"
}

measure size-baseline
BASE_TEXT=$TEXT BASE_FLASH=$FLASH
measure size-probe
echo
echo "size-probe .text: $TEXT bytes, flash (.vector_table + .text + .rodata + .data): $FLASH bytes"
echo "size-baseline .text: $BASE_TEXT bytes, flash: $BASE_FLASH bytes"
echo "codec share (decode + encode one Socket.IO event): .text $((TEXT - BASE_TEXT)) bytes, flash $((FLASH - BASE_FLASH)) bytes"
