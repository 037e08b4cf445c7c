#!/usr/bin/env bash
# Issue 15: the cost of the observer hooks with metrics off: the bench
# server of the branch's base commit ("base") against this branch's, metrics
# off ("off"), alternating; same runs as run.sh.
#
# Usage: run-base.sh BASE_BIN NEW_BIN LOAD_BIN OUT_DIR [REPS]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
base=$1 new=$2 out=$4 reps=${5:-2}
export LOAD=$3
port=${PORT_BASE:-39250}
for rep in $(seq "$reps"); do
    for d in 5 20; do
        for v in base off; do
            port=$((port + 1))
            bin=$new
            [ "$v" = base ] && bin=$base
            OXIO_BENCH_METRICS=false "$here/../issue10/callgrind.sh" \
                "echo-100-i4-d$d-r$rep-$v" "$bin" "$port" echo 100 "$d" 4 "$out" | tee -a "$out/ir.txt"
        done
    done
done
