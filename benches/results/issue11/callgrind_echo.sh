#!/usr/bin/env bash
# Usage: callgrind_echo.sh NAME PORT SCENARIO N DURATION INFLIGHT OUTDIR -- SERVER_CMD...
# Runs SERVER_CMD (which must listen on PORT) under callgrind, drives it with
# oxio-load (LOAD=path; no warm-up, so every message sent is counted), stops
# it with SIGTERM; prints the server's instructions (Ir) and allocator calls
# per round trip (echo) or per delivery (broadcast).
set -euo pipefail
name=$1 port=$2 scen=$3 n=$4 dur=$5 infl=$6 out=$7; shift 8
LOAD=${LOAD:?LOAD=path to oxio-load}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$out"
valgrind --tool=callgrind --callgrind-out-file="$out/$name.cg" "$@" >"$out/$name.server.log" 2>&1 &
pid=$!
for _ in $(seq 600); do grep -q "listening on" "$out/$name.server.log" && break; sleep 0.1; done
"$LOAD" "$scen" --url "http://127.0.0.1:$port" -n "$n" --label "$name" --warmup 0 --duration "$dur" \
    --inflight "$infl" --payload-bytes 32 --connect-timeout 60 --json "$out/$name.json" ${EXTRA:-} >"$out/$name.load.log" 2>&1 || true
sleep 1
kill -TERM "$pid"; wait "$pid" || true
total=$(grep -m1 '^summary:\|^totals:' "$out/$name.cg" | awk '{print $2}')
allocs=$(python3 "$HERE/mallocs.py" "$out/$name.cg" | cut -d' ' -f1)
python3 - "$out/$name.json" "$total" "$allocs" "$name" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); ir = int(sys.argv[2]); al = int(sys.argv[3])
if r['scenario'] == 'echo':
    e = r['echo']; k = e['received']
    print(f"{sys.argv[4]}: Ir {ir} allocs {al} round trips {k} connected {r['connect']['ok']} -> Ir/rt {ir/k:.0f} allocs/rt {al/k:.1f} (whole run incl. connects)")
else:
    b = r['broadcast']; k = b['deliveries']
    print(f"{sys.argv[4]}: Ir {ir} allocs {al} deliveries {k} of {b['expected']} -> Ir/delivery {ir/k:.0f} allocs/delivery {al/k:.2f} (whole run incl. connects)")
PY
