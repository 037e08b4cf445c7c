#!/usr/bin/env bash
# Issue 15: the cost of Prometheus metrics on the echo benchmark, in
# instructions (callgrind). One oxio-bench-server binary, metrics off
# (default) and on (OXIO_BENCH_METRICS=true), alternating; for each, a 5 s and
# a 20 s run of `oxio-load echo` (100 clients, 4 in flight, 32-byte
# payloads) under benches/results/issue10/callgrind.sh. Per round trip =
# (Ir(20 s) - Ir(5 s)) / (sent(20 s) - sent(5 s)); irsum.py prints the table.
#
# Usage: run.sh TARGET_DIR OUT_DIR [REPS]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
target=$1 out=$2 reps=${3:-2}
bin="$target/release/oxio-bench-server"
export LOAD="$target/release/oxio-load"
port=${PORT_BASE:-39150}
for rep in $(seq "$reps"); do
    for d in 5 20; do
        for v in off on; do
            port=$((port + 1))
            metrics=false
            [ "$v" = on ] && metrics=true
            OXIO_BENCH_METRICS=$metrics "$here/../issue10/callgrind.sh" \
                "echo-100-i4-d$d-r$rep-$v" "$bin" "$port" echo 100 "$d" 4 "$out" | tee -a "$out/ir.txt"
        done
    done
done
