#!/usr/bin/env bash
# 5-minute soaks, --peer-contract, of oxio-bench-server, socketioxide and Node (issue 16's comparison), in parallel.
set -u
L=/root/.cache/oxio/bench-new-target/release/oxio-load
OUT=/root/soak/peers/out
mkdir -p $OUT
/root/.cache/oxio/bench-new-target/release/oxio-bench-server --port 3801 > oxio.log 2>&1 & P1=$!
/root/.cache/oxio/peer-sx-target/release/socketioxide-peer 3802 > sx.log 2>&1 & P2=$!
node /work/main/benches/peers/node/server.js 3803 > node.log 2>&1 & P3=$!
sleep 2
run() { $L soak --url http://127.0.0.1:$1 --server-pid $2 --duration 300 --sample-every 10 -n 100 --rate 2 --session-secs 20 --polling-share 0.25 --peer-contract --label $3 --out-dir $OUT > $OUT/$3.log 2>&1; }
run 3801 $P1 oxio-peer-contract & A=$!
run 3802 $P2 socketioxide-peer-contract & B=$!
run 3803 $P3 node-peer-contract & C=$!
wait $A $B $C
kill $P1 $P2 $P3
echo peers-done
