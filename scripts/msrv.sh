#!/usr/bin/env bash
# Builds the library crates with exactly the toolchain of the workspace's
# `rust-version` (the MSRV), so the declared MSRV stays true. Usage:
#
#   scripts/msrv.sh
#
# The toolchain is installed with `rustup toolchain install <MSRV> --profile
# minimal` when missing; a machine without rustup, or where the download
# fails, skips the check with a message (exit 0). Cached, it takes seconds.
#
# Checked: every library crate (oxio-codec with and without its default
# features and with defmt; oxio-engine, oxio-adapter, oxio-server,
# oxio-redis-adapter; oxio-client with tokio, tls and std), their library
# targets only (tests and examples may use dev-dependencies with a newer
# MSRV), with the committed Cargo.lock (`--locked`): the workspace's
# resolver 3 keeps the lock MSRV-compatible when it changes. oxio-client's
# `embassy-net` feature needs Rust 1.91 (smoltcp 0.13) and is left out.
#
# Environment:
#   OXIO_MSRV_TARGET_DIR   its own target directory (a different toolchain
#                          would rebuild everything in the shared one);
#                          default "${CARGO_TARGET_DIR:-~/.cache/oxio/target}-msrv"
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

MSRV="$(sed -n 's/^rust-version = "\([0-9.]*\)"$/\1/p' Cargo.toml | head -n 1)"
[ -n "$MSRV" ] || { echo "scripts/msrv.sh: no rust-version in the workspace Cargo.toml" >&2; exit 1; }

if ! command -v rustup >/dev/null 2>&1; then
    echo "msrv: skipped: rustup is not available to install Rust $MSRV"
    exit 0
fi
if ! rustup run "$MSRV" rustc --version >/dev/null 2>&1; then
    echo "installing Rust $MSRV (minimal profile)"
    if ! rustup toolchain install "$MSRV" --profile minimal; then
        echo "msrv: skipped: rustup could not install Rust $MSRV here"
        exit 0
    fi
fi

export CARGO_TARGET_DIR="${OXIO_MSRV_TARGET_DIR:-${CARGO_TARGET_DIR:-$HOME/.cache/oxio/target}-msrv}"
echo "msrv: $(rustup run "$MSRV" rustc --version), CARGO_TARGET_DIR=$CARGO_TARGET_DIR"

msrv_cargo() {
    echo "\$ cargo +$MSRV $*"
    rustup run "$MSRV" cargo "$@"
}

msrv_cargo check --locked --lib -p oxio-codec --no-default-features
msrv_cargo check --locked --lib -p oxio-codec --features defmt
msrv_cargo check --locked --lib -p oxio-codec -p oxio-engine -p oxio-adapter \
    -p oxio-server -p oxio-redis-adapter -p oxio-redis-streams-adapter
msrv_cargo check --locked --lib -p oxio-client --features tokio,tls,std
echo "msrv: the library crates build with Rust $MSRV"
