#!/usr/bin/env bash
# Load comparison: oxio vs socketioxide vs Node's socket.io, with oxio-load.
#
# Builds the three servers in release (own target dirs under ~/.cache),
# then for every scenario and client count starts ONE server on 127.0.0.1,
# waits until it listens, runs oxio-load against it, stops it; collects the
# JSON results in benches/results/load/ and writes the load section of
# benches/RESULTS.md and the plots benches/results/load_*.svg
# (`oxio-load report`). Idempotent: each run replaces the previous results.
#
# Usage: benches/compare.sh [options]
#   --quick            small and short (100 clients, 3 s runs, idle 1 000 for 5 s),
#                      results and report in /tmp/oxio-load-quick (RESULTS.md untouched)
#   --big              also echo/broadcast at 5 000 clients
#   --servers "LIST"   subset of: oxio socketioxide node     (default: all three)
#   --scenarios "LIST" subset of: connect echo broadcast idle (default: all)
#   --no-build         use the binaries already built
#   --no-report        only collect the JSON files
#   --out DIR          where the JSON files go (default benches/results/load)
# Environment: OXIO_LOAD_TARGET (oxio's cargo target dir, default
# ~/.cache/oxio-load-target), SOCKETIOXIDE_TARGET (default
# ~/.cache/oxio-peer-socketioxide), BASE_PORT (default 39100), SERVER_CPUS
# and LOAD_CPUS (taskset CPU lists, e.g. SERVER_CPUS=0-3 LOAD_CPUS=4-7, to
# keep the server and the load generator off each other's cores).
#
# Needs: cargo, node + npm (the socket.io install: npm ci --prefix benches/peers/node).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

QUICK=0 BIG=0 BUILD=1 REPORT=1
SERVERS="oxio socketioxide node"
SCENARIOS="connect echo broadcast idle"
OUT=""
ARGS_GIVEN="$*"
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --big) BIG=1 ;;
        --servers) SERVERS="$2"; shift ;;
        --scenarios) SCENARIOS="$2"; shift ;;
        --no-build) BUILD=0 ;;
        --no-report) REPORT=0 ;;
        --out) OUT="$2"; shift ;;
        -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
        *) echo "compare.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

if [ -z "$OUT" ]; then
    if [ "$QUICK" = 1 ]; then OUT=/tmp/oxio-load-quick; else OUT="$ROOT/benches/results/load"; fi
fi
if [ "$QUICK" = 1 ]; then
    MARKDOWN="$OUT/RESULTS.md" PLOTS="$OUT" PLOTS_LINK=.
else
    MARKDOWN=benches/RESULTS.md PLOTS=benches/results PLOTS_LINK=results
fi
OXIO_TARGET=${OXIO_LOAD_TARGET:-$HOME/.cache/oxio-load-target}
SIOX_TARGET=${SOCKETIOXIDE_TARGET:-$HOME/.cache/oxio-peer-socketioxide}
LOAD="$OXIO_TARGET/release/oxio-load"
PORT=${BASE_PORT:-39100}
LOGS="$OUT/logs"
T_START=$(date +%s)

if [ "$QUICK" = 1 ]; then
    CONNECT_N="100"; ECHO_N="100"; BCAST_N="100"; IDLE_N="1000"
    FLOW=(--duration 3 --warmup 1); HOLD=5
else
    CONNECT_N="1000 10000"; ECHO_N="100 1000"; BCAST_N="100 1000"; IDLE_N="1000 10000"
    FLOW=(--duration 10 --warmup 2); HOLD=30
    if [ "$BIG" = 1 ]; then ECHO_N="$ECHO_N 5000"; BCAST_N="$BCAST_N 5000"; fi
fi
ECHO_OPTS=(--inflight 4 --payload-bytes 32)
BCAST_OPTS=(--inflight 1 --payload-bytes 32)

log() { printf '\n== %s\n' "$*" >&2; }

# ---- build -----------------------------------------------------------------
if [ "$BUILD" = 1 ]; then
    log "building oxio-load and oxio-bench-server (release, $OXIO_TARGET)"
    CARGO_TARGET_DIR="$OXIO_TARGET" cargo build --release -p oxio-benches \
        --bin oxio-load --bin oxio-bench-server
    case " $SERVERS " in *" socketioxide "*)
        log "building the socketioxide peer (release, $SIOX_TARGET)"
        CARGO_TARGET_DIR="$SIOX_TARGET" cargo build --release \
            --manifest-path benches/peers/socketioxide/Cargo.toml ;;
    esac
    case " $SERVERS " in *" node "*)
        if [ ! -d benches/peers/node/node_modules/socket.io ]; then
            log "installing socket.io (npm ci --prefix benches/peers/node)"
            npm ci --prefix benches/peers/node --no-audit --no-fund
        fi ;;
    esac
fi
[ -x "$LOAD" ] || { echo "compare.sh: $LOAD missing (run without --no-build)" >&2; exit 1; }

# ---- limits ----------------------------------------------------------------
HARD=$(ulimit -Hn)
ulimit -n "$HARD" 2>/dev/null || true
NOFILE=$(ulimit -n)
MAXN=0
for n in $CONNECT_N $ECHO_N $BCAST_N $IDLE_N; do [ "$n" -gt "$MAXN" ] && MAXN=$n; done
if [ "$NOFILE" != unlimited ] && [ "$NOFILE" -lt $((MAXN + 200)) ]; then
    echo "compare.sh: ulimit -n is $NOFILE, fewer than $((MAXN + 200)) (raise the hard limit)" >&2
    exit 1
fi

mkdir -p "$OUT" "$LOGS"

# ---- servers ---------------------------------------------------------------
SERVER_PID=""
stop_server() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=""
}
trap stop_server EXIT
trap 'stop_server; exit 130' INT TERM

PIN_SERVER=() PIN_LOAD=()
[ -n "${SERVER_CPUS:-}" ] && PIN_SERVER=(taskset -c "$SERVER_CPUS")
[ -n "${LOAD_CPUS:-}" ] && PIN_LOAD=(taskset -c "$LOAD_CPUS")

# start_server NAME PORT LOGFILE: starts it in the background, waits for
# "listening on".
start_server() {
    local name=$1 port=$2 logf=$3
    case "$name" in
        oxio) "${PIN_SERVER[@]}" "$OXIO_TARGET/release/oxio-bench-server" --port "$port" >"$logf" 2>&1 & ;;
        socketioxide) "${PIN_SERVER[@]}" "$SIOX_TARGET/release/socketioxide-peer" "$port" >"$logf" 2>&1 & ;;
        node) "${PIN_SERVER[@]}" node benches/peers/node/server.js "$port" >"$logf" 2>&1 & ;;
        *) echo "compare.sh: unknown server $name" >&2; exit 2 ;;
    esac
    SERVER_PID=$!
    for _ in $(seq 200); do
        grep -q "listening on" "$logf" 2>/dev/null && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "compare.sh: $name did not start (log: $logf)" >&2
    cat "$logf" >&2
    exit 1
}

# run NAME SCENARIO N [oxio-load options...]
run() {
    local name=$1 scenario=$2 n=$3; shift 3
    local tag="$scenario-$n-$name"
    rm -f "$OUT/$tag.json" "$LOGS/$tag".*.log
    PORT=$((PORT + 1))
    start_server "$name" "$PORT" "$LOGS/$tag.server.log"
    local extra=(--server-pid "$SERVER_PID")
    # Past 5 000 clients, spread over 8 loopback source addresses so the
    # ephemeral ports of earlier runs (TIME_WAIT) never run short.
    [ "$n" -ge 5000 ] && extra+=(--source-ips 8)
    log "$scenario, $n clients, $name (port $PORT)"
    if ! "${PIN_LOAD[@]}" "$LOAD" "$scenario" --url "http://127.0.0.1:$PORT" -n "$n" --label "$name" \
        --json "$OUT/$tag.json" "${extra[@]}" "$@" 2>&1 | tee "$LOGS/$tag.load.log"; then
        echo "compare.sh: oxio-load failed for $tag (continuing)" >&2
    fi
    stop_server
    sleep 1
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for scenario in $SCENARIOS; do
    case "$scenario" in
        connect) sizes=$CONNECT_N; opts=(--connect-concurrency 1000) ;;
        echo) sizes=$ECHO_N; opts=("${FLOW[@]}" "${ECHO_OPTS[@]}") ;;
        broadcast) sizes=$BCAST_N; opts=("${FLOW[@]}" "${BCAST_OPTS[@]}") ;;
        idle) sizes=$IDLE_N; opts=(--hold "$HOLD") ;;
        *) echo "compare.sh: unknown scenario $scenario" >&2; exit 2 ;;
    esac
    for n in $sizes; do
        for name in $SERVERS; do
            run "$name" "$scenario" "$n" "${opts[@]}"
        done
    done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
ELAPSED=$(( $(date +%s) - T_START ))

# ---- report ----------------------------------------------------------------
json_str() { python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1" 2>/dev/null \
    || printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//' || echo unknown)
MEM=$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)
SIOX_VER=$(grep -A1 '^name = "socketioxide"$' benches/peers/socketioxide/Cargo.lock 2>/dev/null | sed -n 's/version = "\(.*\)"/\1/p' || true)
SIO_VER=$(sed -n 's/^  "version": "\(.*\)",/\1/p' benches/peers/node/node_modules/socket.io/package.json 2>/dev/null | head -1 || true)
COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
cat >"$OUT/meta.json" <<EOF
{
  "Machine": $(json_str "$(nproc) cores ($CPU), $MEM RAM, Linux $(uname -r); load average $LOAD_BEFORE before, $LOAD_AFTER after"),
  "Versions": $(json_str "oxio $COMMIT; socketioxide ${SIOX_VER:-?} (axum 0.8); Node $(node --version 2>/dev/null || echo ?) with socket.io ${SIO_VER:-?}; $(rustc --version)"),
  "Command": $(json_str "${SERVER_CPUS:+SERVER_CPUS=$SERVER_CPUS }${LOAD_CPUS:+LOAD_CPUS=$LOAD_CPUS }benches/compare.sh $ARGS_GIVEN  (took ${ELAPSED} s; $(date -u +%Y-%m-%dT%H:%MZ))"),
  "Method": "one server at a time on 127.0.0.1, started fresh for each run; oxio-load (one process, Tokio, all cores) on the same machine; echo keeps 4 messages in flight per client, broadcast re-sends when the emitter's own copy returns; latencies include the load generator's own scheduling; server CPU from /proc/PID/stat"
}
EOF

if [ "$REPORT" = 1 ]; then
    log "report → $MARKDOWN, $PLOTS/load_*.svg"
    "$LOAD" report --meta "$OUT/meta.json" --markdown "$MARKDOWN" \
        --plots "$PLOTS" --plots-link "$PLOTS_LINK" "$OUT"/*-*.json
fi
log "done in ${ELAPSED} s; results in $OUT"
