#!/usr/bin/env bash
# Connection scale on one machine (issue 11): many idle WebSocket clients,
# every ping answered, server RSS per connection.
#
#   benches/scale.sh one [N] [HOLD]
#       One demo server (oxio-server, the workspace's default binary) holds
#       N connections (default 19 000: one process may hold at most 20 000
#       descriptors here) for HOLD seconds (default 60) with
#       --ping-interval 25000; oxio-load idle answers every ping and reports
#       the server's RSS before and after, bytes per connection.
#   benches/scale.sh many [TOTAL] [PROCS] [HOLD]
#       PROCS (default 12) oxio-bench-server processes on ONE port with
#       --reuse-port (SO_REUSEPORT; the kernel spreads connections over
#       them), joined by --redis on a throw-away redis-server; PROCS load
#       processes (oxio-load idle, TOTAL/PROCS clients each, spread over 16
#       source addresses 127.0.0.1..16 so the 4-tuples never run short)
#       hold TOTAL connections (default 100 000) for HOLD seconds (default
#       60). Meanwhile one more oxio-load broadcast (100 receivers in one
#       room, spread by the kernel over the processes; bcast-room) proves
#       cross-process delivery: its `N of N delivered` must be complete.
#       Each oxio-bench-server keeps the engine's default limit of 10 000
#       connections, hence 12 processes by default. The servers'
#       RSS (sum) is read before and after the connects.
#
# Results (JSON per load process) go to $OUT (default /tmp/oxio-scale).
# Needs: redis-server (many); a hard RLIMIT_NOFILE of at least N + 100 per
# process. Environment: CARGO_TARGET_DIR (binaries), BASE_PORT (default 39500).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
MODE=${1:-one}
T=${CARGO_TARGET_DIR:-$ROOT/target}/release
OUT=${OUT:-/tmp/oxio-scale}
PORT=${BASE_PORT:-39500}
mkdir -p "$OUT"
ulimit -n "$(ulimit -Hn)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
wait_listening() { for _ in $(seq 300); do grep -q "listening" "$1" 2>/dev/null && return 0; sleep 0.1; done; echo "no server: $1" >&2; cat "$1" >&2; exit 1; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

cargo build --release -j2 -p oxio-demo -p oxio-benches --bin oxio-server --bin oxio-bench-server --bin oxio-load >&2

case "$MODE" in
one)
    N=${2:-19000} HOLD=${3:-60}
    "$T/oxio-server" --port "$PORT" --max-connections $((N + 500)) --log info >"$OUT/demo.log" 2>&1 &
    PIDS+=($!); SPID=$!
    wait_listening "$OUT/demo.log"
    echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
    "$T/oxio-load" idle --url "http://127.0.0.1:$PORT" -n "$N" --hold "$HOLD" --settle 5 \
        --source-ips 4 --connect-concurrency 500 --connect-timeout 60 --server-pid "$SPID" \
        --label oxio-demo --json "$OUT/idle-$N-demo.json" --no-progress
    echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
    ;;
many)
    TOTAL=${2:-100000} PROCS=${3:-12} HOLD=${4:-60}
    RPORT=$((PORT + 1))
    redis-server --port "$RPORT" --bind 127.0.0.1 --save "" --appendonly no >"$OUT/redis.log" 2>&1 &
    PIDS+=($!)
    sleep 0.5
    SPIDS=()
    for i in $(seq "$PROCS"); do
        "$T/oxio-bench-server" --port "$PORT" --reuse-port --redis "redis://127.0.0.1:$RPORT" \
            >"$OUT/server-$i.log" 2>&1 &
        PIDS+=($!); SPIDS+=($!)
        wait_listening "$OUT/server-$i.log"
    done
    before=0; for p in "${SPIDS[@]}"; do before=$((before + $(rss_kib "$p"))); done
    echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); servers' RSS before: $before KiB"
    PER=$((TOTAL / PROCS))
    LPIDS=()
    for i in $(seq "$PROCS"); do
        "$T/oxio-load" idle --url "http://127.0.0.1:$PORT" -n "$PER" --hold "$HOLD" --settle 10 \
            --source-ips 16 --connect-concurrency 200 --connect-timeout 120 \
            --label "oxio-x$PROCS-$i" --json "$OUT/idle-many-$i.json" --no-progress \
            >"$OUT/load-$i.log" 2>&1 &
        LPIDS+=($!)
    done
    # Once most connections are up, a broadcast across the processes.
    sleep $((HOLD / 2 + 20))
    after=0; for p in "${SPIDS[@]}"; do after=$((after + $(rss_kib "$p"))); done
    conns=$(ss -Htn state established "( sport = :$PORT )" | wc -l)
    echo "established to :$PORT: $conns; servers' RSS: $after KiB ($(( (after - before) * 1024 / (conns > 0 ? conns : 1) )) B/conn)"
    # A room of the 100 receivers (spread by the kernel over the processes),
    # so each message goes to them only, not to every idle connection.
    "$T/oxio-load" broadcast --url "http://127.0.0.1:$PORT" -n 100 --room-size 100 --duration 5 --warmup 1 \
        --label "oxio-x$PROCS-bcast" --json "$OUT/bcast-many.json" --no-progress | tee "$OUT/bcast.log"
    for p in "${LPIDS[@]}"; do wait "$p" || true; done
    for i in $(seq "$PROCS"); do grep -E "connected|idle|errors" "$OUT/load-$i.log" | sed "s/^/load $i: /"; done
    echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
    ;;
*) echo "usage: benches/scale.sh one [N] [HOLD] | many [TOTAL] [PROCS] [HOLD]" >&2; exit 2 ;;
esac
