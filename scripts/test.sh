#!/usr/bin/env bash
# The one test command: installs what is missing, then runs every check and
# test of the project. Usage:
#
#   scripts/test.sh            everything (what CI runs)
#   scripts/test.sh --quick    skip the no_std cross builds, the QEMU runs
#                              (codec cases, the RISC-V device firmware)
#                              and the fuzz smoke run
#
# Every step runs even when an earlier one failed, so one run shows all
# problems; a failed install stops the run at once. The last line is
#
#   N passed, M failed
#
# summing every `test result:` line cargo printed plus the cases run under
# QEMU. A step that fails without test results of its own (fmt, clippy, doc,
# a build, a test binary that does not compile) counts as one failure, so the
# run failed exactly when M > 0, and then the exit status is 1.
#
# Environment:
#   CARGO_TARGET_DIR         builds, cached outside the clone
#                            (default ~/.cache/oxio/target)
#   OXIO_NO_STD_TARGET_DIR   builds of the QEMU crate, its own workspace
#                            (default "$CARGO_TARGET_DIR-no-std-tests")
#   OXIO_TEST_TIMEOUT_SECS   limit for each `cargo test` step (default 1200)
#   OXIO_QEMU_TIMEOUT_SECS   limit for the QEMU run once built (default 300)
#   OXIO_FUZZ_SMOKE_SECS     seconds per fuzz target in the smoke run (default 25)
#   OXIO_FUZZ_TARGET_DIR     builds of the fuzz crate, its own workspace
#                            (default "$CARGO_TARGET_DIR-fuzz")
#   OXIO_FW_RISCV_TARGET     builds of the QEMU RISC-V device firmware, its
#                            own workspace (default ~/.cache/oxio/target-fw-riscv;
#                            scripts/firmware.sh uses the same)
#   OXIO_MSRV_TARGET_DIR     builds with the MSRV toolchain (scripts/msrv.sh)
#                            (default "$CARGO_TARGET_DIR-msrv")
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

QUICK=0
for arg in "$@"; do
    case "$arg" in
        --quick) QUICK=1 ;;
        -h | --help)
            awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"
            exit 0
            ;;
        *)
            echo "scripts/test.sh: unknown argument '$arg' (try --help)" >&2
            exit 2
            ;;
    esac
done

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/oxio/target}"
NO_STD_TARGET_DIR="${OXIO_NO_STD_TARGET_DIR:-$CARGO_TARGET_DIR-no-std-tests}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# Interop tests fail (instead of skipping) when their npm packages are missing.
export OXIO_REQUIRE_NODE=1
# The device firmware on the emulated RISC-V board (oxio-client's
# tests/qemu_riscv.rs): required in a full run (QEMU is installed below),
# skipped by --quick (which installs neither QEMU nor the riscv target).
export OXIO_FW_RISCV_TARGET="${OXIO_FW_RISCV_TARGET:-$HOME/.cache/oxio/target-fw-riscv}"
if [ "$QUICK" -eq 0 ]; then
    export OXIO_REQUIRE_QEMU=1
else
    export OXIO_SKIP_QEMU=1
fi
# A hung test must fail the run, not hang CI: limits for one `cargo test`
# step (build included) and for the QEMU run (after its build).
TEST_TIMEOUT_SECS="${OXIO_TEST_TIMEOUT_SECS:-1200}"
QEMU_TIMEOUT_SECS="${OXIO_QEMU_TIMEOUT_SECS:-300}"
FUZZ_SMOKE_SECS="${OXIO_FUZZ_SMOKE_SECS:-25}"
export OXIO_FUZZ_TARGET_DIR="${OXIO_FUZZ_TARGET_DIR:-$CARGO_TARGET_DIR-fuzz}"

NO_STD_TARGETS=(thumbv6m-none-eabi riscv32imc-unknown-none-elf)

LOG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/oxio-test.XXXXXX")"
trap 'rm -rf "$LOG_DIR"' EXIT

RUN_START=$SECONDS

# ---------------------------------------------------------------- output --

header() { printf '\n==> %s\n' "$*"; }

die() {
    printf '\nscripts/test.sh: %s\n' "$*" >&2
    exit 1
}

# ------------------------------------------------------------- installs --
# One function per dependency. Each checks first and returns quickly when the
# thing is already there; on a failure it stops the run with a clear message.
# Add new dependencies (npm/pip packages, redis-server, chromium, cargo-fuzz)
# as functions here and call them from install_all.

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root (or sudo) to run: $*"
    fi
}

APT_UPDATED=0
apt_install() {
    command -v apt-get >/dev/null 2>&1 ||
        die "apt-get not found: install these Debian packages by hand: $*"
    if [ "$APT_UPDATED" -eq 0 ]; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q ||
            die "apt-get update failed"
        APT_UPDATED=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" ||
        die "apt-get install $* failed"
}

install_rust_toolchain() {
    command -v cargo >/dev/null 2>&1 ||
        die "cargo not found: install Rust (stable) with rustup first"
    echo "rust: $(rustc --version)"
}

install_rust_targets() {
    local missing=() t installed
    if command -v rustup >/dev/null 2>&1; then
        installed="$(rustup target list --installed)" || die "rustup target list failed"
        for t in "${NO_STD_TARGETS[@]}"; do
            grep -qx "$t" <<<"$installed" || missing+=("$t")
        done
        if [ "${#missing[@]}" -gt 0 ]; then
            echo "installing Rust targets: ${missing[*]}"
            rustup target add "${missing[@]}" || die "rustup target add ${missing[*]} failed"
        fi
    else
        for t in "${NO_STD_TARGETS[@]}"; do
            [ -d "$(rustc --print sysroot)/lib/rustlib/$t" ] ||
                die "Rust target $t is missing and rustup is not available to add it"
        done
    fi
    echo "rust targets: ${NO_STD_TARGETS[*]}"
}

rustup_component() {
    local component="$1" probe="$2"
    if ! eval "$probe" >/dev/null 2>&1; then
        command -v rustup >/dev/null 2>&1 ||
            die "Rust component $component is missing and rustup is not available to add it"
        echo "installing Rust component: $component"
        rustup component add "$component" || die "rustup component add $component failed"
    fi
}

install_rustfmt() { rustup_component rustfmt 'cargo fmt --version'; }
install_clippy() { rustup_component clippy 'cargo clippy --version'; }

install_qemu_system_arm() {
    if ! command -v qemu-system-arm >/dev/null 2>&1; then
        echo "installing qemu-system-arm"
        apt_install qemu-system-arm
        command -v qemu-system-arm >/dev/null 2>&1 ||
            die "qemu-system-arm is still not on PATH after installing it"
    fi
    echo "qemu: $(qemu-system-arm --version | head -n 1)"
}

# The RISC-V `virt` board for the device firmware tests.
install_qemu_system_riscv() {
    apt_program qemu-system-riscv32 qemu-system-misc
}

# Debian programs the tests start themselves on 127.0.0.1: headless Chromium
# for the demo page, redis-server for the Redis adapter, nginx for the
# sticky-session test. apt_program COMMAND PACKAGE installs PACKAGE when
# COMMAND is not on PATH (or not at the given path).
apt_program() {
    local cmd="$1" pkg="$2"
    if ! command -v "$cmd" >/dev/null 2>&1; then
        echo "installing $pkg"
        apt_install "$pkg"
        command -v "$cmd" >/dev/null 2>&1 || die "$cmd is still not found after installing $pkg"
    fi
    echo "$pkg: $(command -v "$cmd")"
}

install_test_programs() {
    apt_program /usr/bin/chromium chromium
    apt_program redis-server redis-server
    # redis-cli builds the Redis Cluster of the sharded adapter's test.
    apt_program redis-cli redis-tools
    # nginx lives in /usr/sbin, which is not on every PATH.
    if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
        echo "installing nginx"
        apt_install nginx
    fi
    [ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || die "nginx is still not found after installing it"
    echo "nginx: $(command -v nginx || echo /usr/sbin/nginx)"
}

# npm packages for the interop tests, installed into each test folder from
# its committed package-lock.json (again when the lockfile changes).
npm_ci() {
    local dir="$1" stamp
    command -v node >/dev/null 2>&1 || die "node not found: install Node.js (the interop tests run the reference npm packages)"
    command -v npm >/dev/null 2>&1 || die "npm not found: install npm"
    stamp="$dir/node_modules/.oxio-lock-stamp"
    if [ -f "$stamp" ] && cmp -s "$dir/package-lock.json" "$stamp"; then
        return
    fi
    echo "installing npm packages in $dir"
    npm ci --prefix "$dir" --no-audit --no-fund || die "npm ci --prefix $dir failed"
    cp "$dir/package-lock.json" "$stamp"
}

install_npm_packages() {
    local dir
    local dirs=(
        codec/tests/interop
        std-server/testkit/js
        std-server/redis-adapter/tests/redis_js
        std-server/redis-streams-adapter/tests/streams_js
        std-server/demo/tests/browser
        std-server/demo/tests/admin_ui
        std-server/demo/web
        embedded-example/client/tests/js
    )
    for dir in "${dirs[@]}"; do
        npm_ci "$dir"
    done
    echo "npm packages: ${dirs[*]}"
}

# PyPI packages for the python-socketio interop tests, in a venv outside the
# clone (again when requirements.txt changes).
install_python_packages() {
    local venv="${OXIO_PY_VENV:-$HOME/.cache/oxio/py-venv}" req=std-server/testkit/py/requirements.txt
    command -v python3 >/dev/null 2>&1 || die "python3 not found: install Python 3"
    if [ -f "$venv/.oxio-req-stamp" ] && cmp -s "$req" "$venv/.oxio-req-stamp"; then
        echo "python packages: $venv"
        return
    fi
    if [ ! -x "$venv/bin/python" ]; then
        python3 -m venv "$venv" || die "python3 -m venv $venv failed (apt-get install python3-venv?)"
    fi
    "$venv/bin/pip" install -q -r "$req" || die "pip install -r $req failed"
    cp "$req" "$venv/.oxio-req-stamp"
    echo "python packages: $venv"
}
export OXIO_PY_VENV="${OXIO_PY_VENV:-$HOME/.cache/oxio/py-venv}"

# PyPI kosoku, which drives the Autobahn WebSocket cases (scripts/autobahn.sh),
# in a venv of its own (again when its requirements.txt changes).
install_autobahn() {
    local venv="${OXIO_AUTOBAHN_VENV:-$HOME/.cache/oxio/autobahn-venv}"
    local req=std-server/engine/examples/ws_echo/requirements.txt
    if [ -f "$venv/.oxio-req-stamp" ] && cmp -s "$req" "$venv/.oxio-req-stamp"; then
        echo "autobahn (kosoku): $venv"
        return
    fi
    if [ ! -x "$venv/bin/python" ]; then
        python3 -m venv "$venv" || die "python3 -m venv $venv failed (apt-get install python3-venv?)"
    fi
    "$venv/bin/pip" install -q -r "$req" || die "pip install -r $req failed"
    cp "$req" "$venv/.oxio-req-stamp"
    echo "autobahn (kosoku): $venv"
}
export OXIO_AUTOBAHN_VENV="${OXIO_AUTOBAHN_VENV:-$HOME/.cache/oxio/autobahn-venv}"

# cargo-fuzz builds the libFuzzer targets of fuzz/ (scripts/fuzz.sh). It
# wants nightly; without a nightly toolchain scripts/fuzz.sh falls back to
# the default one with RUSTC_BOOTSTRAP=1, so install with that one then.
install_cargo_fuzz() {
    local toolchain=()
    if command -v rustup >/dev/null 2>&1 && rustup run nightly rustc --version >/dev/null 2>&1; then
        toolchain=(+nightly)
    fi
    if ! cargo "${toolchain[@]}" fuzz --version >/dev/null 2>&1; then
        echo "installing cargo-fuzz"
        cargo "${toolchain[@]}" install cargo-fuzz --locked ||
            die "cargo ${toolchain[*]} install cargo-fuzz --locked failed"
    fi
    echo "cargo-fuzz: $(cargo "${toolchain[@]}" fuzz --version)"
}

install_all() {
    header "install: what is missing"
    install_rust_toolchain
    install_rustfmt
    install_clippy
    install_npm_packages
    install_python_packages
    install_autobahn
    install_test_programs
    if [ "$QUICK" -eq 0 ]; then
        install_rust_targets
        install_qemu_system_arm
        install_qemu_system_riscv
        install_cargo_fuzz
    fi
}

# ---------------------------------------------------------------- steps --

STEP_NO=0
FAILED_STEPS=()
STEP_TIMES=()
TOTAL_PASSED=0
TOTAL_FAILED=0

# Sums the `test result:` lines of a cargo log into STEP_PASSED/STEP_FAILED;
# STEP_RESULTS says whether there was any such line.
count_cargo_results() {
    local log="$1" line passed failed
    STEP_PASSED=0 STEP_FAILED=0 STEP_RESULTS=0
    while IFS= read -r line; do
        passed="$(sed -E 's/.* ([0-9]+) passed;.*/\1/' <<<"$line")"
        failed="$(sed -E 's/.* ([0-9]+) failed;.*/\1/' <<<"$line")"
        STEP_PASSED=$((STEP_PASSED + passed))
        STEP_FAILED=$((STEP_FAILED + failed))
        STEP_RESULTS=1
    done < <(sed -E 's/\x1b\[[0-9;]*m//g' "$log" |
        grep -E '^test result: (ok|FAILED)\. [0-9]+ passed; [0-9]+ failed;' || true)
}

# Reads the QEMU runner's closing `N passed, M failed` line.
count_qemu_results() {
    local log="$1" line
    STEP_PASSED=0 STEP_FAILED=0 STEP_RESULTS=0
    line="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1 || true)"
    if [ -n "$line" ]; then
        STEP_PASSED="${line%% passed*}"
        STEP_FAILED="$(sed -E 's/.* ([0-9]+) failed$/\1/' <<<"$line")"
        STEP_RESULTS=1
    fi
}

# step KIND NAME COMMAND...: runs COMMAND with its output shown and logged.
# KIND is "check" (no test counts), "cargo-test" or "qemu" (counted).
step() {
    local kind="$1" name="$2" status=0 start log
    shift 2
    STEP_NO=$((STEP_NO + 1))
    log="$LOG_DIR/step-$STEP_NO.log"
    header "[$STEP_NO] $name"
    echo "\$ $*"
    start=$SECONDS
    { "$@" 2>&1 | tee "$log"; } || status=$?

    STEP_PASSED=0 STEP_FAILED=0 STEP_RESULTS=0
    case "$kind" in
        cargo-test) count_cargo_results "$log" ;;
        qemu) count_qemu_results "$log" ;;
    esac
    TOTAL_PASSED=$((TOTAL_PASSED + STEP_PASSED))
    TOTAL_FAILED=$((TOTAL_FAILED + STEP_FAILED))

    local took=$((SECONDS - start))
    STEP_TIMES+=("$(printf '%5ss  %s' "$took" "$name")")
    if [ "$status" -ne 0 ]; then
        FAILED_STEPS+=("$name (exit $status)")
        # A failure that left no failed test behind (a build or a lint
        # failure) still has to show in the closing line.
        if [ "$STEP_FAILED" -eq 0 ]; then
            TOTAL_FAILED=$((TOTAL_FAILED + 1))
        fi
        printf '<== FAILED: %s (exit %s, %ss)\n' "$name" "$status" "$took"
    elif [ "$kind" != check ] && [ "$STEP_RESULTS" -eq 0 ]; then
        FAILED_STEPS+=("$name (printed no test results)")
        TOTAL_FAILED=$((TOTAL_FAILED + 1))
        printf '<== FAILED: %s printed no test results\n' "$name"
    else
        printf '<== ok: %s (%ss)\n' "$name" "$took"
    fi
}

# The QEMU crate is its own workspace with its own .cargo/config.toml (target
# and runner), which cargo only reads when started inside that directory.
in_no_std_tests() {
    (cd "$ROOT/codec/no-std-tests" && CARGO_TARGET_DIR="$NO_STD_TARGET_DIR" "$@")
}

# The QEMU RISC-V firmware: its own workspace and .cargo/config.toml.
in_riscv_qemu() {
    (cd "$ROOT/embedded-example/riscv-qemu" && CARGO_TARGET_DIR="$OXIO_FW_RISCV_TARGET" "$@")
}

# Runs COMMAND with a time limit; says so when the limit is what ended it.
with_timeout() {
    local secs="$1" status=0
    shift
    timeout --kill-after=10 "$secs" "$@" </dev/null || status=$?
    if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
        echo "timed out after ${secs}s (a test that never ends?): $*"
    fi
    return "$status"
}

run_qemu_cases() {
    in_no_std_tests cargo build --release || return
    in_no_std_tests with_timeout "$QEMU_TIMEOUT_SECS" cargo run --release
}

install_all

echo "CARGO_TARGET_DIR=$CARGO_TARGET_DIR"
[ "$QUICK" -eq 0 ] && echo "no_std tests target dir: $NO_STD_TARGET_DIR"

step check "cargo fmt (workspace)" cargo fmt --all -- --check
step check "layers: dependencies point one way (scripts/check-layers.sh)" scripts/check-layers.sh
step check "cargo fmt (codec/no-std-tests)" \
    cargo fmt --manifest-path codec/no-std-tests/Cargo.toml -- --check
step check "cargo fmt (firmware crates)" \
    sh -c 'cargo fmt --manifest-path embedded-example/rp2040-picow/Cargo.toml -- --check &&
        cargo fmt --manifest-path embedded-example/esp32c3/Cargo.toml -- --check &&
        cargo fmt --manifest-path embedded-example/riscv-qemu/Cargo.toml -- --check'
# oxio-client's `tls` feature (wss://) is on for the workspace's clippy and
# tests, so the TLS code is linted and tested with everything else.
# The workspace's [lints] (no unwrap/expect/panic/indexing) hold for library
# and binary code; test code (unit tests, integration tests, examples,
# benches) is linted with everything else but may unwrap.
TEST_CODE_ALLOW=(-A clippy::unwrap_used -A clippy::expect_used -A clippy::panic
    -A clippy::unreachable -A clippy::todo -A clippy::unimplemented -A clippy::indexing_slicing)
step check "cargo clippy (workspace, library and binary code, oxio-client/tls)" \
    cargo clippy --workspace --lib --bins --features oxio-client/tls -- -D warnings
step check "cargo clippy (workspace, test code, oxio-client/tls)" \
    cargo clippy --workspace --tests --examples --benches --features oxio-client/tls -- -D warnings "${TEST_CODE_ALLOW[@]}"
step check "cargo clippy (oxio-codec, no default features)" \
    sh -c 'cargo clippy -p oxio-codec --lib --no-default-features -- -D warnings &&
        cargo clippy -p oxio-codec --tests --no-default-features -- -D warnings "$@"' sh "${TEST_CODE_ALLOW[@]}"
# The QEMU device tests build this image themselves when needed; building
# it here first makes a build failure its own step, and lints its unsafe
# MMIO and driver code.
if [ "$QUICK" -eq 0 ]; then
    step check "firmware build + clippy: QEMU RISC-V device (embedded-example/riscv-qemu)" \
        in_riscv_qemu sh -c 'cargo build --release --locked && cargo clippy --release --locked -- -D warnings'
fi
step cargo-test "cargo test (workspace)" \
    with_timeout "$TEST_TIMEOUT_SECS" cargo test --workspace --features oxio-client/tls --no-fail-fast
step check "Autobahn WebSocket cases, short subset (scripts/autobahn.sh quick; full run: scripts/autobahn.sh)" \
    scripts/autobahn.sh quick
step cargo-test "cargo test (oxio-codec, no default features)" \
    with_timeout "$TEST_TIMEOUT_SECS" cargo test -p oxio-codec --no-default-features --no-fail-fast
step check "cargo doc (library crates, warnings denied)" \
    env RUSTDOCFLAGS="-D warnings" cargo doc -p oxio-codec -p oxio-engine -p oxio-adapter \
    -p oxio-server -p oxio-redis-adapter -p oxio-redis-streams-adapter --no-deps
# The declared MSRV (the workspace's rust-version) with exactly that
# toolchain; clippy's incompatible_msrv (on by default, denied by the
# clippy steps' -D warnings) catches newer std APIs without it.
step check "MSRV: library crates with the rust-version toolchain (scripts/msrv.sh)" \
    env OXIO_MSRV_TARGET_DIR="${OXIO_MSRV_TARGET_DIR:-$CARGO_TARGET_DIR-msrv}" scripts/msrv.sh

if [ "$QUICK" -eq 0 ]; then
    step check "no_std build: thumbv6m-none-eabi" \
        cargo build -p oxio-codec --no-default-features --release --target thumbv6m-none-eabi
    step check "no_std build: thumbv6m-none-eabi with defmt" \
        cargo build -p oxio-codec --no-default-features --features defmt --release --target thumbv6m-none-eabi
    step check "no_std build: riscv32imc-unknown-none-elf" \
        cargo build -p oxio-codec --no-default-features --release --target riscv32imc-unknown-none-elf
    step check "no_std build: oxio-client with tls, thumbv6m-none-eabi" \
        cargo build -p oxio-client --no-default-features --features tls --release --target thumbv6m-none-eabi
    step check "no_std build: oxio-client with msgpack, thumbv6m-none-eabi" \
        cargo build -p oxio-client --no-default-features --features msgpack --release --target thumbv6m-none-eabi
    step check "cargo clippy (codec/no-std-tests, thumbv6m)" \
        in_no_std_tests cargo clippy --release -- -D warnings
    step qemu "codec no_std cases under QEMU (Cortex-M, thumbv6m)" run_qemu_cases
    step check "fuzz smoke: every target ${FUZZ_SMOKE_SECS}s (scripts/fuzz.sh)" \
        scripts/fuzz.sh smoke "$FUZZ_SMOKE_SECS"
    step check "firmware builds (Pico W, ESP32-C3, QEMU RISC-V) and sizes (scripts/firmware.sh)" \
        scripts/firmware.sh
else
    echo
    echo "--quick: skipped the no_std cross builds, the QEMU run and the fuzz smoke run"
fi

header "summary"
printf '%s\n' "${STEP_TIMES[@]}"
printf '%5ss  total\n' "$((SECONDS - RUN_START))"
if [ "${#FAILED_STEPS[@]}" -gt 0 ]; then
    echo
    echo "FAILED steps:"
    printf '  - %s\n' "${FAILED_STEPS[@]}"
fi
echo
echo "$TOTAL_PASSED passed, $TOTAL_FAILED failed"
[ "$TOTAL_FAILED" -eq 0 ] && [ "${#FAILED_STEPS[@]}" -eq 0 ]
