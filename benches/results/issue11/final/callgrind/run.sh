#!/usr/bin/env bash
# callgrind runs of issue 11 (final): oxio then socketioxide per shape
set -u
cd /work/main
OUT=${1:?}
export LOAD=$HOME/.cache/oxio/hm-target/release/oxio-load
OX=$HOME/.cache/oxio/hm-target/release/oxio-bench-server
SX=$HOME/.cache/oxio-peer-socketioxide/release/socketioxide-peer
S=benches/results/issue11/callgrind_echo.sh
for infl in 1 4; do for d in 3 10; do
    $S oxio-echo$infl-d$d 39801 echo 100 $d $infl $OUT -- $OX --port 39801
    $S siox-echo$infl-d$d 39802 echo 100 $d $infl $OUT -- $SX 39802
done; done
for spec in "bcast100 100" "bcast1000 1000" "room1000x100 1000 --room-size 100"; do
    set -- $spec; tag=$1 n=$2; shift 2
    for d in 3 10; do
        EXTRA="$*" $S oxio-$tag-d$d 39803 broadcast $n $d 1 $OUT -- $OX --port 39803
        EXTRA="$*" $S siox-$tag-d$d 39804 broadcast $n $d 1 $OUT -- $SX 39804
    done
done
for s in oxio siox; do
    for t in echo1 echo4 bcast100 bcast1000 room1000x100; do python3 benches/results/issue11/pairdelta.py $OUT $s-$t-d3 $s-$t-d10; done
done
