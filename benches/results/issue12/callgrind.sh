#!/usr/bin/env bash
# Usage: callgrind.sh NAME SCENARIO N DURATION INFLIGHT OUTDIR -- SERVER ARGS...
# (LOAD = path to oxio-load). Runs the server under callgrind, drives it
# with oxio-load (no warm-up: every message sent is counted), stops it with
# SIGTERM; prints the instruction total and the message counts.
set -euo pipefail
name=$1 scen=$2 n=$3 dur=$4 infl=$5 out=$6
shift 7
mkdir -p "$out"
valgrind --tool=callgrind --callgrind-out-file="$out/$name.cg" "$@" --port 0 >"$out/$name.server.log" 2>&1 &
pid=$!
port=""
for _ in $(seq 600); do
    port=$(sed -n 's/^listening on \([0-9]*\)$/\1/p' "$out/$name.server.log")
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { echo "server did not start"; cat "$out/$name.server.log"; exit 1; }
"$LOAD" "$scen" --url "http://127.0.0.1:$port" -n "$n" --label "$name" --warmup 0 --duration "$dur" \
    --inflight "$infl" --payload-bytes 32 --connect-timeout 60 --no-progress --json "$out/$name.json" >"$out/$name.load.log" 2>&1 || true
sleep 1
kill -TERM "$pid"
wait "$pid" || true
total=$(grep -m1 '^summary:\|^totals:' "$out/$name.cg" | awk '{print $2}')
rm -f "$out/$name.cg"
jq -r --arg n "$name" --arg ir "$total" 'if .scenario == "echo"
    then "\($n)\t\($ir)\t\(.echo.sent)"
    else "\($n)\t\($ir)\t\(.broadcast.emitted * .broadcast.receivers)" end' "$out/$name.json"
