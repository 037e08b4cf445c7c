#!/usr/bin/env bash
# The cost of connection state recovery (issue 12): echo and fan-out with
# recovery off and on, on oxio (oxio-bench-server --recovery 0 / 120) and on
# Node's socket.io (server.js without / with --recovery 120000), measured
# with oxio-load --server-pid (server CPU microseconds per message, RSS at
# the end). Each configuration runs REPEAT times (default 3), one server at
# a time; prints one line per run and the medians. The results and the
# exact commands are in benches/RESULTS.md ("Issue 12 — cost of recovery").
#
# Usage: benches/recovery.sh [--no-build]
# Environment: CARGO_TARGET_DIR (oxio's release build), REPEAT (3),
# CLIENTS (100), DURATION (5 s), OUT (/tmp/oxio-recovery-bench).
# Needs: npm ci --prefix benches/peers/node.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
REPEAT="${REPEAT:-3}" CLIENTS="${CLIENTS:-100}" DURATION="${DURATION:-5}"
OUT="${OUT:-/tmp/oxio-recovery-bench}"
mkdir -p "$OUT"
if [ "${1:-}" != "--no-build" ]; then
    cargo build --release -p oxio-benches --bin oxio-bench-server --bin oxio-load
fi
LOAD="$TARGET/release/oxio-load"
SERVER_PID=""

start() { # label -> sets SERVER_PID and PORT
    local log="$OUT/server.log"
    case "$1" in
        oxio-off) "$TARGET/release/oxio-bench-server" --port 0 --recovery 0 >"$log" 2>&1 & ;;
        oxio-on) "$TARGET/release/oxio-bench-server" --port 0 --recovery 120 >"$log" 2>&1 & ;;
        node-off) node benches/peers/node/server.js 0 >"$log" 2>&1 & ;;
        node-on) node benches/peers/node/server.js 0 --recovery 120000 >"$log" 2>&1 & ;;
    esac
    SERVER_PID=$!
    for _ in $(seq 100); do
        PORT=$(sed -n 's/^listening on \([0-9]*\)$/\1/p' "$log")
        [ -n "$PORT" ] && return
        sleep 0.1
    done
    echo "server $1 did not start" >&2
    exit 1
}

stop() {
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
}
trap stop EXIT

for scenario in echo broadcast; do
    for label in oxio-off oxio-on node-off node-on; do
        for i in $(seq "$REPEAT"); do
            start "$label"
            extra=()
            [ "$scenario" = echo ] && extra=(--inflight 4)
            "$LOAD" "$scenario" --url "http://127.0.0.1:$PORT" -n "$CLIENTS" --label "$label" \
                --duration "$DURATION" --warmup 1 --server-pid "$SERVER_PID" --no-progress \
                "${extra[@]}" --json "$OUT/$scenario-$label-$i.json" >/dev/null
            stop
            jq -r --arg s "$scenario" --arg l "$label" '[$s, $l,
                (if $s == "echo" then .echo.msgs_per_s else .broadcast.deliveries_per_s end),
                .server.cpu_us_per_msg, .server.rss_end_kib,
                (if $s == "echo" then .echo.received else .broadcast.emitted end)] | @tsv' \
                "$OUT/$scenario-$label-$i.json"
        done
    done
done | tee "$OUT/runs.tsv"

echo
echo "medians (scenario, server, msgs/s, server CPU µs/msg, RSS at end KiB, packets recorded by the run):"
python3 - "$OUT/runs.tsv" <<'PY'
import sys, statistics, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    s, l, *v = line.split("\t")
    rows[(s, l)].append([float(x) if x.strip() not in ("", "null") else float("nan") for x in v])
for (s, l), runs in rows.items():
    med = [statistics.median(col) for col in zip(*runs)]
    print(f"{s:9} {l:9} {med[0]:10.0f} {med[1]:7.2f} {med[2]:9.0f} {med[3]:9.0f}")
PY
