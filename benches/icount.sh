#!/usr/bin/env bash
# Instruction counts per codec operation, oxio against socketioxide's common
# parser (the criterion benches sio_header_event_name / sio_encode_event):
# each operation runs N and 0 times under callgrind; (Ir(N) - Ir(0)) / N is
# one operation's instructions, independent of the machine's load.
#
# Usage: benches/icount.sh [N]   (default 2000; needs valgrind)
# Environment: CARGO_TARGET_DIR (where examples/codec_icount is built).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
N=${1:-2000}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
cargo build --release -j2 -p oxio-benches --example codec_icount >&2
BIN="$TARGET/release/examples/codec_icount"
ir() {
    local f
    f=$(mktemp)
    valgrind --tool=callgrind --callgrind-out-file="$f" "$BIN" "$1" "$2" "$3" >/dev/null 2>&1
    grep -m1 '^summary:\|^totals:' "$f" | awk '{print $2}'
    rm -f "$f"
}
printf '| operation | size | oxio Ir/op | socketioxide Ir/op | socketioxide ÷ oxio |\n|---|---|--:|--:|--:|\n'
for what in decode encode; do
    for size in 60B 1KB 64KB; do
        n=$N
        [ "$size" = 64KB ] && n=$((N / 20))
        declare -A per
        for impl in oxio siox; do
            a=$(ir "$impl-$what" "$size" 0)
            b=$(ir "$impl-$what" "$size" "$n")
            per[$impl]=$(( (b - a) / n ))
        done
        printf '| %s | %s | %d | %d | %.2f× |\n' "$what" "$size" "${per[oxio]}" "${per[siox]}" \
            "$(echo "${per[siox]} / ${per[oxio]}" | bc -l)"
    done
done
