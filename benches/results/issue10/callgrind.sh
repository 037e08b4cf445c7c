#!/usr/bin/env bash
# Usage: callgrind.sh NAME BIN PORT SCENARIO N DURATION INFLIGHT OUTDIR (LOAD=path to oxio-load)

# Runs BIN under callgrind, drives it with oxio-load (no warm-up: every
# message sent is counted in `sent`), stops it with SIGTERM; writes
# OUTDIR/NAME.cg (callgrind) and OUTDIR/NAME.json (oxio-load).
set -euo pipefail
name=$1 bin=$2 port=$3 scen=$4 n=$5 dur=$6 infl=$7 out=$8
LOAD=${LOAD:-/root/.cache/oxio/bench-new-target/release/oxio-load}
mkdir -p "$out"
valgrind --tool=callgrind --callgrind-out-file="$out/$name.cg" "$bin" --port "$port" >"$out/$name.server.log" 2>&1 &
pid=$!
for _ in $(seq 600); do grep -q "listening on" "$out/$name.server.log" && break; sleep 0.1; done
grep -q "listening on" "$out/$name.server.log" || { echo "server did not start"; cat "$out/$name.server.log"; exit 1; }
"$LOAD" "$scen" --url "http://127.0.0.1:$port" -n "$n" --label "$name" --warmup 0 --duration "$dur" \
    --inflight "$infl" --payload-bytes 32 --connect-timeout 60 --json "$out/$name.json" >"$out/$name.load.log" 2>&1 || true
sleep 1
kill -TERM "$pid"
wait "$pid" || true
total=$(grep -m1 '^summary:\|^totals:' "$out/$name.cg" | awk '{print $2}')
python3 - "$out/$name.json" "$total" "$name" <<'PY'
import json,sys
r=json.load(open(sys.argv[1])); total=int(sys.argv[2])
if r['scenario']=='echo':
    e=r['echo']; print(f"{sys.argv[3]}: Ir {total} sent {e['sent']} received {e['received']} connected {r['connect']['ok']}")
else:
    b=r['broadcast']; print(f"{sys.argv[3]}: Ir {total} emitted {b['emitted']} deliveries {b['deliveries']} receivers {b['receivers']} expected {b['expected']}")
PY
