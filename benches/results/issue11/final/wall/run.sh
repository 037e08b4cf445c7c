#!/usr/bin/env bash
# The wall-clock runs of issue 11 (final), from the repository root.
set -u
OUT=${1:?OUT}; PINNED=${PINNED:-3}; UNPINNED=${UNPINNED:-2}
export OXIO_LOAD_TARGET=${OXIO_LOAD_TARGET:?}
SC="echo-1 echo broadcast fanout room-broadcast"
for i in $(seq 1 $PINNED); do
    SERVER_CPUS=0 LOAD_CPUS=1 BASE_PORT=$((39100+i*50)) benches/compare.sh --no-build --no-report \
        --servers "oxio socketioxide node" --scenarios "$SC" --out $OUT/pinned$i > $OUT/pinned$i.log 2>&1
done
# The floor (engine example floor_echo), pinned as the servers were.
L=$OXIO_LOAD_TARGET/release/oxio-load; F=$OXIO_LOAD_TARGET/release/examples/floor_echo
for spec in "100 1" "1000 1" "100 4" "1000 4"; do
    set -- $spec
    taskset -c 0 $F --port 39090 > /dev/null 2>&1 &
    sleep 0.5
    taskset -c 1 $L echo --url http://127.0.0.1:39090 -n $1 --inflight $2 --payload-bytes 32 --duration 10 --warmup 2 \
        --label floor --server-pid $(pgrep -f "floor_echo --port 39090") --json $OUT/floor-echo$2-$1.json > $OUT/floor-echo$2-$1.log 2>&1
    kill $(pgrep -f "floor_echo --port 39090"); sleep 1
done
for i in $(seq 1 $UNPINNED); do
    BASE_PORT=$((39400+i*50)) benches/compare.sh --no-build --no-report \
        --servers "oxio socketioxide node" --scenarios "$SC" --out $OUT/unpinned$i > $OUT/unpinned$i.log 2>&1
done
echo done > $OUT/ALLDONE
