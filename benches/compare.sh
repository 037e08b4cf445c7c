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
#   --servers "LIST"   subset of: oxio socketioxide node oxio-baseline, run in the
#                      order given (default: oxio socketioxide node, plus
#                      oxio-baseline when OXIO_BASELINE_BIN is set)
#   --scenarios "LIST" subset of: connect echo echo-1 broadcast fanout room-broadcast idle
#                      cluster-broadcast sharded-broadcast (default: all but
#                      sharded-broadcast; cluster-broadcast is skipped with a
#                      notice when redis-server is missing, unless named here).
#                      echo: ECHO_INFLIGHT (default 4) messages in flight per client;
#                      echo-1: one in flight (closed loop), the common shape of real
#                      traffic; broadcast: a socket's `bcast` to all (io.emit);
#                      fanout: the same message posted to `POST /api/update`
#                      (REST) and emitted to all 1 000;
#                      room-broadcast: a socket's `bcast-room` to rooms of ROOM_SIZE
#                      (default 100) of the 1 000 receivers in turn
#   --no-build         use the binaries already built
#   --no-report        only collect the JSON files
#   --out DIR          where the JSON files go (default benches/results/load)
# Environment: OXIO_LOAD_TARGET (oxio's cargo target dir, default
# ~/.cache/oxio-load-target), SOCKETIOXIDE_TARGET (default
# ~/.cache/oxio-peer-socketioxide), BASE_PORT (default 39100), SERVER_CPUS
# and LOAD_CPUS (taskset CPU lists, e.g. SERVER_CPUS=0-3 LOAD_CPUS=4-7, to
# keep the server and the load generator off each other's cores),
# ECHO_INFLIGHT (echo messages in flight per client, default 4), ROOM_SIZE
# (room-broadcast's room size, default 100; --quick: 10).
#
# Two oxio builds side by side: OXIO_BASELINE_BIN=/path/to/oxio-bench-server
# (e.g. built from an older commit in a worktree, with its own
# CARGO_TARGET_DIR) adds the server "oxio-baseline": that binary, started
# and measured exactly like "oxio" (same oxio-load, same pinning, same
# options, in the same run), reported as a fourth column "oxio (baseline)"
# with the ratio oxio/oxio (baseline). It must take the same command line
# (--port, --redis) and speak the load contract of benches/peers/README.md.
# For before/after figures alternate the order over repeated runs, e.g.
#   for i in 1 2 3; do OXIO_BASELINE_BIN=... benches/compare.sh --no-report \
#     --servers "oxio-baseline oxio" --scenarios "echo broadcast" --out DIR/$i; done
#
# cluster-broadcast: one redis-server (started on a free port, no persistence,
# stopped at the end), two nodes of the same server on it (oxio-bench-server
# --redis, or Node with @socket.io/redis-adapter), the emitter on node A and
# the receivers alternating over A and B (oxio-load broadcast --url A --url B).
# oxio, oxio-baseline and node only (the socketioxide peer has no Redis adapter); server CPU
# and memory are not sampled (two processes).
#
# sharded-broadcast (only when named): the same on a Redis Cluster of six
# redis-server processes (three masters, one replica each, cluster-enabled,
# joined by redis-cli --cluster create, in a temporary folder, stopped and
# removed at the end) with the sharded adapter (oxio-bench-server
# --redis-cluster, or Node's createShardedAdapter over node-redis 4.7
# createCluster), default subscription mode (dynamic). Needs Redis >= 7.
# Its results stay out of the generated report (which would take them for
# cluster-broadcast rows): see benches/RESULTS.md, "Issue 15".
#
# Needs: cargo, node + npm (the socket.io install: npm ci --prefix benches/peers/node);
# redis-server for cluster-broadcast (apt-get install -y redis-server).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

QUICK=0 BIG=0 BUILD=1 REPORT=1
SERVERS="oxio socketioxide node${OXIO_BASELINE_BIN:+ oxio-baseline}"
SCENARIOS="connect echo echo-1 broadcast fanout room-broadcast idle cluster-broadcast"
SCENARIOS_GIVEN=0
OUT=""
ARGS_GIVEN="$*"
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --big) BIG=1 ;;
        --servers) SERVERS="$2"; shift ;;
        --scenarios) SCENARIOS="$2"; SCENARIOS_GIVEN=1; shift ;;
        --no-build) BUILD=0 ;;
        --no-report) REPORT=0 ;;
        --out) OUT="$2"; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
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
    CONNECT_N="100"; ECHO_N="100"; BCAST_N="100"; IDLE_N="1000"; CLUSTER_N="100"; ROOM_N="100"; FANOUT_N="100"
    FLOW=(--duration 3 --warmup 1); HOLD=5
else
    CONNECT_N="1000 10000"; ECHO_N="100 1000"; BCAST_N="100 1000"; IDLE_N="1000 10000"
    CLUSTER_N="100 1000"; ROOM_N="1000"; FANOUT_N="1000"
    FLOW=(--duration 10 --warmup 2); HOLD=30
    if [ "$BIG" = 1 ]; then ECHO_N="$ECHO_N 5000"; BCAST_N="$BCAST_N 5000"; fi
fi
ECHO_OPTS=(--inflight "${ECHO_INFLIGHT:-4}" --payload-bytes 32)
ECHO1_OPTS=(--inflight 1 --payload-bytes 32)
BCAST_OPTS=(--inflight 1 --payload-bytes 32)
ROOM_SIZE=${ROOM_SIZE:-100}
[ "$QUICK" = 1 ] && ROOM_SIZE=${ROOM_SIZE_QUICK:-10}
ROOM_OPTS=(--inflight 1 --payload-bytes 32 --room-size "$ROOM_SIZE")

log() { printf '\n== %s\n' "$*" >&2; }

for name in $SERVERS; do
    case "$name" in
        oxio|socketioxide|node) ;;
        oxio-baseline)
            if [ -z "${OXIO_BASELINE_BIN:-}" ] || [ ! -x "$OXIO_BASELINE_BIN" ]; then
                echo "compare.sh: oxio-baseline needs OXIO_BASELINE_BIN=<an oxio-bench-server binary> (got '${OXIO_BASELINE_BIN:-}')" >&2
                exit 2
            fi ;;
        *) echo "compare.sh: unknown server $name (see --help)" >&2; exit 2 ;;
    esac
done
# The name in the results and the report's column.
label_of() { if [ "$1" = oxio-baseline ]; then echo "oxio (baseline)"; else echo "$1"; fi; }

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
        # Again whenever the lockfile changed since the last install.
        stamp=benches/peers/node/node_modules/.oxio-lock-stamp
        if ! cmp -s benches/peers/node/package-lock.json "$stamp"; then
            log "installing the Node peer's packages (npm ci --prefix benches/peers/node)"
            npm ci --prefix benches/peers/node --no-audit --no-fund
            cp benches/peers/node/package-lock.json "$stamp"
        fi ;;
    esac
fi
[ -x "$LOAD" ] || { echo "compare.sh: $LOAD missing (run without --no-build)" >&2; exit 1; }

# ---- limits ----------------------------------------------------------------
HARD=$(ulimit -Hn)
ulimit -n "$HARD" 2>/dev/null || true
NOFILE=$(ulimit -n)
MAXN=0
for n in $CONNECT_N $ECHO_N $BCAST_N $IDLE_N $CLUSTER_N $ROOM_N; do [ "$n" -gt "$MAXN" ] && MAXN=$n; done
if [ "$NOFILE" != unlimited ] && [ "$NOFILE" -lt $((MAXN + 200)) ]; then
    echo "compare.sh: ulimit -n is $NOFILE, fewer than $((MAXN + 200)) (raise the hard limit)" >&2
    exit 1
fi

mkdir -p "$OUT" "$LOGS"

# ---- cluster-broadcast: Redis -----------------------------------------------
case " $SCENARIOS " in *" cluster-broadcast "*)
    if ! command -v redis-server >/dev/null; then
        if [ "$SCENARIOS_GIVEN" = 1 ]; then
            echo "compare.sh: cluster-broadcast needs redis-server (apt-get install -y redis-server)" >&2
            exit 1
        fi
        printf '\n!! SKIPPING cluster-broadcast: redis-server not found (apt-get install -y redis-server)\n\n' >&2
        SCENARIOS=$(echo " $SCENARIOS " | sed 's/ cluster-broadcast / /')
    fi ;;
esac

# ---- servers ---------------------------------------------------------------
SERVER_PID="" SERVER_PIDS=() REDIS_PID="" REDIS_URL=""
CLUSTER_PIDS=() CLUSTER_URLS="" CLUSTER_DIR=""
stop_pid() {
    local pid=$1
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
}
stop_server() {
    local pid
    for pid in "${SERVER_PIDS[@]}"; do stop_pid "$pid"; done
    SERVER_PID="" SERVER_PIDS=()
}
stop_cluster() {
    local pid
    for pid in "${CLUSTER_PIDS[@]}"; do stop_pid "$pid"; done
    CLUSTER_PIDS=() CLUSTER_URLS=""
    [ -n "$CLUSTER_DIR" ] && rm -rf "$CLUSTER_DIR"
    CLUSTER_DIR=""
}
stop_all() { stop_server; stop_pid "$REDIS_PID"; REDIS_PID=""; stop_cluster; }
trap stop_all EXIT
trap 'stop_all; exit 130' INT TERM

# start_redis: a throw-away redis-server on a free port (no persistence).
start_redis() {
    [ -n "$REDIS_PID" ] && return 0
    local port logf="$LOGS/redis.log"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null \
        || echo $((PORT + 20000)))
    redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no >"$logf" 2>&1 &
    REDIS_PID=$!
    for _ in $(seq 100); do
        if redis-cli -p "$port" ping 2>/dev/null | grep -q PONG; then
            REDIS_URL="redis://127.0.0.1:$port"
            log "redis-server on port $port (pid $REDIS_PID)"
            return 0
        fi
        kill -0 "$REDIS_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "compare.sh: redis-server did not start (log: $logf)" >&2
    cat "$logf" >&2
    exit 1
}

PIN_SERVER=() PIN_LOAD=()
[ -n "${SERVER_CPUS:-}" ] && PIN_SERVER=(taskset -c "$SERVER_CPUS")
[ -n "${LOAD_CPUS:-}" ] && PIN_LOAD=(taskset -c "$LOAD_CPUS")

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_redis_cluster: six throw-away cluster-enabled redis-servers (no
# persistence) joined as three masters with one replica each.
start_redis_cluster() {
    [ -n "$CLUSTER_URLS" ] && return 0
    local i port bus addrs=() urls=()
    CLUSTER_DIR=$(mktemp -d /tmp/oxio-bench-cluster.XXXXXX)
    for i in 1 2 3 4 5 6; do
        port=$(free_port); bus=$(free_port)
        mkdir -p "$CLUSTER_DIR/n$i"
        (cd "$CLUSTER_DIR/n$i" && exec redis-server --port "$port" --cluster-port "$bus" \
            --bind 127.0.0.1 --cluster-enabled yes --cluster-config-file nodes.conf \
            --cluster-node-timeout 1000 --save "" --appendonly no >"$LOGS/redis-cluster-$i.log" 2>&1) &
        CLUSTER_PIDS+=($!)
        addrs+=("127.0.0.1:$port"); urls+=("redis://127.0.0.1:$port")
        for _ in $(seq 100); do
            redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break
            sleep 0.1
        done
    done
    redis-cli --cluster create "${addrs[@]}" --cluster-replicas 1 --cluster-yes >"$LOGS/redis-cluster-create.log" 2>&1 \
        || { echo "compare.sh: redis-cli --cluster create failed (log: $LOGS/redis-cluster-create.log)" >&2; exit 1; }
    for _ in $(seq 200); do
        local ok=1 a
        for a in "${addrs[@]}"; do
            redis-cli -p "${a#*:}" cluster info 2>/dev/null | grep -q 'cluster_state:ok' || { ok=0; break; }
        done
        [ "$ok" = 1 ] && break
        sleep 0.1
    done
    CLUSTER_URLS=$(IFS=,; echo "${urls[*]}")
    log "Redis Cluster on ${addrs[*]} ($(redis-server --version | sed -n 's/.*v=\([0-9.]*\).*/\1/p'))"
}

# start_server NAME PORT LOGFILE [REDIS_URL | cluster:URL,URL...]: starts it in the background
# (with the Redis adapter when REDIS_URL is given), waits for "listening on".
start_server() {
    local name=$1 port=$2 logf=$3 redis=${4:-}
    local r=()
    case "$redis" in
        "") ;;
        cluster:*) r=(--redis-cluster "${redis#cluster:}") ;;
        *) r=(--redis "$redis") ;;
    esac
    case "$name" in
        oxio) "${PIN_SERVER[@]}" "$OXIO_TARGET/release/oxio-bench-server" --port "$port" "${r[@]}" >"$logf" 2>&1 & ;;
        oxio-baseline) "${PIN_SERVER[@]}" "$OXIO_BASELINE_BIN" --port "$port" "${r[@]}" >"$logf" 2>&1 & ;;
        socketioxide)
            [ -n "$redis" ] && { echo "compare.sh: the socketioxide peer has no Redis adapter" >&2; exit 2; }
            "${PIN_SERVER[@]}" "$SIOX_TARGET/release/socketioxide-peer" "$port" >"$logf" 2>&1 & ;;
        node) "${PIN_SERVER[@]}" node benches/peers/node/server.js "$port" "${r[@]}" >"$logf" 2>&1 & ;;
        *) echo "compare.sh: unknown server $name" >&2; exit 2 ;;
    esac
    SERVER_PID=$!
    SERVER_PIDS+=("$SERVER_PID")
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
    local cmd=$scenario
    case "$scenario" in echo-1) cmd=echo ;; room-broadcast | fanout) cmd=broadcast ;; esac
    if ! "${PIN_LOAD[@]}" "$LOAD" "$cmd" --url "http://127.0.0.1:$PORT" -n "$n" --label "$(label_of "$name")" \
        --json "$OUT/$tag.json" "${extra[@]}" "$@" 2>&1 | tee "$LOGS/$tag.load.log"; then
        echo "compare.sh: oxio-load failed for $tag (continuing)" >&2
    fi
    stop_server
    sleep 1
}

# run_cluster SCENARIO NAME N [oxio-load options...]: two nodes on one
# Redis (cluster-broadcast) or on a Redis Cluster (sharded-broadcast).
run_cluster() {
    local scenario=$1 name=$2 n=$3; shift 3
    local tag="$scenario-$n-$name" via
    rm -f "$OUT/$tag.json" "$LOGS/$tag".*.log
    if [ "$scenario" = sharded-broadcast ]; then
        start_redis_cluster
        via="cluster:$CLUSTER_URLS"
    else
        start_redis
        via=$REDIS_URL
    fi
    local pa=$((PORT + 1)) pb=$((PORT + 2))
    PORT=$pb
    start_server "$name" "$pa" "$LOGS/$tag.server-a.log" "$via"
    start_server "$name" "$pb" "$LOGS/$tag.server-b.log" "$via"
    local extra=()
    [ "$n" -ge 5000 ] && extra+=(--source-ips 8)
    log "$scenario, $n receivers, two $name nodes (ports $pa, $pb; $via)"
    if ! "${PIN_LOAD[@]}" "$LOAD" broadcast --url "http://127.0.0.1:$pa" --url "http://127.0.0.1:$pb" \
        -n "$n" --label "$(label_of "$name")" --json "$OUT/$tag.json" "${extra[@]}" "$@" 2>&1 | tee "$LOGS/$tag.load.log"; then
        echo "compare.sh: oxio-load failed for $tag (continuing)" >&2
    fi
    stop_server
    sleep 1
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for scenario in $SCENARIOS; do
    if [ "$scenario" = cluster-broadcast ] || [ "$scenario" = sharded-broadcast ]; then
        for n in $CLUSTER_N; do
            for name in $SERVERS; do
                [ "$name" = socketioxide ] && continue
                run_cluster "$scenario" "$name" "$n" "${FLOW[@]}" "${BCAST_OPTS[@]}"
            done
        done
        continue
    fi
    case "$scenario" in
        connect) sizes=$CONNECT_N; opts=(--connect-concurrency 1000) ;;
        echo) sizes=$ECHO_N; opts=("${FLOW[@]}" "${ECHO_OPTS[@]}") ;;
        echo-1) sizes=$ECHO_N; opts=("${FLOW[@]}" "${ECHO1_OPTS[@]}") ;;
        broadcast) sizes=$BCAST_N; opts=("${FLOW[@]}" "${BCAST_OPTS[@]}") ;;
        room-broadcast) sizes=$ROOM_N; opts=("${FLOW[@]}" "${ROOM_OPTS[@]}") ;;
        fanout) sizes=$FANOUT_N; opts=("${FLOW[@]}" "${BCAST_OPTS[@]}" --rest) ;;
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
BASELINE=""
case " $SERVERS " in *" oxio-baseline "*)
    BASELINE="; oxio (baseline): $OXIO_BASELINE_BIN (sha256 $(sha256sum "$OXIO_BASELINE_BIN" | cut -c1-12))" ;;
esac
cat >"$OUT/meta.json" <<EOF
{
  "Machine": $(json_str "$(nproc) cores ($CPU), $MEM RAM, Linux $(uname -r); load average $LOAD_BEFORE before, $LOAD_AFTER after"),
  "Versions": $(json_str "oxio $COMMIT$BASELINE; socketioxide ${SIOX_VER:-?} (axum 0.8); Node $(node --version 2>/dev/null || echo ?) with socket.io ${SIO_VER:-?}; $(rustc --version)"),
  "Command": $(json_str "${OXIO_BASELINE_BIN:+OXIO_BASELINE_BIN=$OXIO_BASELINE_BIN }${ECHO_INFLIGHT:+ECHO_INFLIGHT=$ECHO_INFLIGHT }${SERVER_CPUS:+SERVER_CPUS=$SERVER_CPUS }${LOAD_CPUS:+LOAD_CPUS=$LOAD_CPUS }benches/compare.sh $ARGS_GIVEN  (took ${ELAPSED} s; $(date -u +%Y-%m-%dT%H:%MZ))"),
  "Method": "one server at a time on 127.0.0.1, started fresh for each run; oxio-load (one process, Tokio, all cores) on the same machine; echo keeps ${ECHO_INFLIGHT:-4} messages in flight per client, echo-1 one, room-broadcast sends to rooms of $ROOM_SIZE in turn, broadcast re-sends when the emitter's own copy returns; cluster-broadcast: two nodes of one server on one redis-server ($(redis-server --version 2>/dev/null | sed -n 's/.*v=\([0-9.]*\).*/\1/p' || echo ?)), emitter on node A, receivers alternating A/B; latencies include the load generator's own scheduling; server CPU from /proc/PID/stat"
}
EOF

if [ "$REPORT" = 1 ]; then
    log "report → $MARKDOWN, $PLOTS/load_*.svg"
    "$LOAD" report --meta "$OUT/meta.json" --markdown "$MARKDOWN" \
        --plots "$PLOTS" --plots-link "$PLOTS_LINK" $(ls "$OUT"/*-*.json | grep -v '/sharded-broadcast-')
fi
log "done in ${ELAPSED} s; results in $OUT"
