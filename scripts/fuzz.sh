#!/usr/bin/env bash
# Runs the cargo-fuzz (libFuzzer) targets of fuzz/ against oxio-codec.
#
#   scripts/fuzz.sh list                  the targets, one a line
#   scripts/fuzz.sh build                 build every target (release, nightly)
#   scripts/fuzz.sh smoke [SECONDS]       every target for SECONDS (default 30)
#   scripts/fuzz.sh long [SECONDS]        every target for SECONDS (default 600)
#   scripts/fuzz.sh run TARGET [SECONDS]  one target (default 600)
#
# Needs cargo-fuzz (`cargo +nightly install cargo-fuzz --locked`;
# scripts/test.sh installs it) and nightly Rust; without a nightly
# toolchain the default one is used with RUSTC_BOOTSTRAP=1, which lets it
# take cargo-fuzz's -Z flags. The targets are built once, then
# run one after the other, each in one process, with
# -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10 -max_len=4096.
#
# Corpora persist outside the clone, in $OXIO_FUZZ_CORPUS/<target>
# (default ~/.cache/oxio/fuzz-corpus); the committed seeds in
# fuzz/seeds/<target> are copied in before each run. Crash inputs go to
# $OXIO_FUZZ_ARTIFACTS/<target>/ (default ~/.cache/oxio/fuzz-artifacts).
#
# For each target it prints the executions and executions per second; the
# last line is
#
#   fuzz: N targets, total X executions, C crashes
#
# and the exit status is non-zero when any target crashed (the artifact's
# path is printed) or could not be built.
#
# Environment:
#   OXIO_FUZZ_TARGET_DIR   build directory (default "$CARGO_TARGET_DIR-fuzz",
#                          or ~/.cache/oxio/fuzz-target)
#   OXIO_FUZZ_CORPUS       working corpora (default ~/.cache/oxio/fuzz-corpus)
#   OXIO_FUZZ_ARTIFACTS    crash inputs (default ~/.cache/oxio/fuzz-artifacts)
#   OXIO_FUZZ_ARGS         extra libFuzzer flags for every run
#   OXIO_FUZZ_SANITIZER    cargo-fuzz sanitizer (default address; `none` runs
#                          about twice as fast: the codec has no unsafe code,
#                          but -malloc_limit_mb then has no effect). A build
#                          other than `address` goes to "<build dir>-<name>".
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FUZZ_DIR="$ROOT/fuzz"

if [ -n "${OXIO_FUZZ_TARGET_DIR:-}" ]; then
    TARGET_DIR="$OXIO_FUZZ_TARGET_DIR"
elif [ -n "${CARGO_TARGET_DIR:-}" ]; then
    TARGET_DIR="$CARGO_TARGET_DIR-fuzz"
else
    TARGET_DIR="$HOME/.cache/oxio/fuzz-target"
fi
SANITIZER="${OXIO_FUZZ_SANITIZER:-address}"
[ "$SANITIZER" = address ] || TARGET_DIR="$TARGET_DIR-$SANITIZER"
CORPUS_ROOT="${OXIO_FUZZ_CORPUS:-$HOME/.cache/oxio/fuzz-corpus}"
ARTIFACT_ROOT="${OXIO_FUZZ_ARTIFACTS:-$HOME/.cache/oxio/fuzz-artifacts}"
LIBFUZZER_FLAGS=(-rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10 -max_len=4096 -print_final_stats=1)

# The toolchain that builds the targets: nightly when rustup has it.
if command -v rustup >/dev/null 2>&1 && rustup run nightly rustc --version >/dev/null 2>&1; then
    CARGO=(cargo +nightly)
    RUSTC=(rustc +nightly)
else
    CARGO=(env RUSTC_BOOTSTRAP=1 cargo)
    RUSTC=(rustc)
fi

usage() {
    awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"
}

die() {
    echo "scripts/fuzz.sh: $*" >&2
    exit 2
}

targets() {
    (cd "$FUZZ_DIR/fuzz_targets" && ls -- *.rs) | sed 's/\.rs$//'
}

build() {
    command -v cargo >/dev/null 2>&1 || die "cargo not found"
    "${CARGO[@]}" fuzz --version >/dev/null 2>&1 ||
        die "cargo-fuzz is missing: cargo +nightly install cargo-fuzz --locked"
    echo "fuzz: building every target into $TARGET_DIR (sanitizer: $SANITIZER)"
    (cd "$FUZZ_DIR" && CARGO_TARGET_DIR="$TARGET_DIR" \
        "${CARGO[@]}" fuzz build --release --sanitizer "$SANITIZER") ||
        die "cargo fuzz build failed"
}

binary_of() {
    local host
    host="$("${RUSTC[@]}" -vV | sed -n 's/^host: //p')"
    echo "$TARGET_DIR/$host/release/$1"
}

TOTAL_EXECS=0
CRASHES=0
RAN=0

# run_one TARGET SECONDS
run_one() {
    local target="$1" secs="$2" bin corpus artifacts log status=0 execs rate
    bin="$(binary_of "$target")"
    [ -x "$bin" ] || die "no binary for target '$target' at $bin (build first)"
    corpus="$CORPUS_ROOT/$target"
    artifacts="$ARTIFACT_ROOT/$target"
    mkdir -p "$corpus" "$artifacts"
    if [ -d "$FUZZ_DIR/seeds/$target" ]; then
        cp -n "$FUZZ_DIR/seeds/$target"/* "$corpus"/ 2>/dev/null || true
    fi
    log="$(mktemp "${TMPDIR:-/tmp}/oxio-fuzz-$target.XXXXXX")"
    echo "fuzz: $target for ${secs}s (corpus $corpus)"
    # shellcheck disable=SC2086 # OXIO_FUZZ_ARGS is a list of flags
    "$bin" "${LIBFUZZER_FLAGS[@]}" -max_total_time="$secs" \
        -artifact_prefix="$artifacts/" ${OXIO_FUZZ_ARGS:-} "$corpus" >"$log" 2>&1 || status=$?
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
    rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)"
    execs="${execs:-0}"
    rate="${rate:-0}"
    TOTAL_EXECS=$((TOTAL_EXECS + execs))
    RAN=$((RAN + 1))
    if [ "$status" -ne 0 ]; then
        CRASHES=$((CRASHES + 1))
        echo "fuzz: $target CRASHED (exit $status) after $execs executions:"
        # The panic message (or sanitizer report) and libFuzzer's summary,
        # without the stack frames.
        grep -E -v '^[[:space:]]*#[0-9]+ ' "$log" | grep -E -A 4 'panicked at|ERROR: |SUMMARY' | head -n 40
        local artifact
        artifact="$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)"
        echo "fuzz: $target artifact: ${artifact:-none written (see the log above)}"
        echo "fuzz: reproduce with: $bin ${artifact:-<input>}"
    else
        printf 'fuzz: %-22s %12s executions  %8s exec/s  %s\n' \
            "$target" "$execs" "$rate" "$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)"
    fi
    rm -f "$log"
}

run_all() {
    local secs="$1" t
    build
    for t in $(targets); do
        run_one "$t" "$secs"
    done
    summary
}

summary() {
    echo "fuzz: $RAN targets, total $TOTAL_EXECS executions, $CRASHES crashes"
    [ "$CRASHES" -eq 0 ]
}

positive() {
    [[ "$1" =~ ^[1-9][0-9]*$ ]] || die "SECONDS must be a positive integer, not '$1'"
}

cmd="${1:-}"
case "$cmd" in
    list) targets ;;
    build) build ;;
    smoke)
        secs="${2:-30}"
        positive "$secs"
        run_all "$secs"
        ;;
    long)
        secs="${2:-600}"
        positive "$secs"
        run_all "$secs"
        ;;
    run)
        target="${2:-}"
        [ -n "$target" ] || die "run needs a TARGET (see: scripts/fuzz.sh list)"
        targets | grep -qx "$target" || die "unknown target '$target' (see: scripts/fuzz.sh list)"
        secs="${3:-600}"
        positive "$secs"
        build
        run_one "$target" "$secs"
        summary
        ;;
    -h | --help | help) usage ;;
    *)
        usage >&2
        exit 2
        ;;
esac
