#!/usr/bin/env bash
# The runs of "After the new WebSocket layer (issue 13), same run"
# (benches/RESULTS.md, Issue 11). From the repository root:
#   OX=.../release/oxio-bench-server SX=.../release/socketioxide-peer \
#   LOAD=.../release/oxio-load benches/results/issue11/after13/run.sh OUT
# OUT receives the callgrind files (*.cg, ~0.6 MB each) and the JSONs.
set -u
OUT=${1:?OUT directory}
export LOAD=${LOAD:?oxio-load}
OX=${OX:?oxio-bench-server} SX=${SX:?socketioxide-peer}
S=benches/results/issue11/callgrind_echo.sh
P=benches/results/issue11/pairdelta.py
for infl in 1 4; do for d in 3 10; do
    nice -n 19 $S oxio-echo$infl-d$d 39801 echo 100 $d $infl $OUT -- $OX --port 39801
    nice -n 19 $S siox-echo$infl-d$d 39802 echo 100 $d $infl $OUT -- $SX 39802
done; done
for spec in "bcast100 100" "bcast1000 1000" "room1000x100 1000 --room-size 100"; do
    set -- $spec; tag=$1 n=$2; shift 2
    for d in 3 10; do
        EXTRA="$*" nice -n 19 $S oxio-$tag-d$d 39803 broadcast $n $d 1 $OUT -- $OX --port 39803
        EXTRA="$*" nice -n 19 $S siox-$tag-d$d 39804 broadcast $n $d 1 $OUT -- $SX 39804
    done
done
for s in oxio siox; do
    for t in echo1 echo4 bcast100 bcast1000 room1000x100; do python3 $P $OUT $s-$t-d3 $s-$t-d10; done
done
