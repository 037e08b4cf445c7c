#!/usr/bin/env bash
# User vs kernel CPU of a server per unit of work: SERVER pinned to CPU 0,
# oxio-load to CPU 1; reads utime/stime (clock ticks) of the server process
# around the measured window. Usage: split.sh NAME PORT "LOADARGS" -- SERVERCMD...
set -u
name=$1 port=$2 args=$3; shift 4
L=$HOME/.cache/oxio/hm-target2/release/oxio-load
taskset -c 0 "$@" > /dev/null 2>&1 &
sleep 1.5
pid=$(pgrep -f -n -- "$port")
tick=$(getconf CLK_TCK)
taskset -c 1 $L $args --url http://127.0.0.1:$port --duration 12 --warmup 2 --json /tmp/split-$name.json > /tmp/split-$name.log 2>&1 &
lp=$!
sleep 4
read -r u0 s0 < <(awk '{print $14, $15}' /proc/$pid/stat)
sleep 8
read -r u1 s1 < <(awk '{print $14, $15}' /proc/$pid/stat)
wait $lp
kill $pid 2>/dev/null; sleep 1
python3 - "$name" "$u0" "$s0" "$u1" "$s1" "$tick" /tmp/split-$name.json <<'PY'
import json, sys
name, u0, s0, u1, s1, tick, js = sys.argv[1], *map(int, sys.argv[2:7]), sys.argv[7]
r = json.load(open(js))
rate = r['echo']['msgs_per_s'] if r['echo'] else r['broadcast']['deliveries_per_s']
units = rate * 8.0
us = lambda t: t / tick * 1e6 / units
print(f"{name}: {rate:,.0f}/s  user {us(u1-u0):.2f} µs  kernel {us(s1-s0):.2f} µs per unit")
PY
