#!/usr/bin/env python3
"""Medians over runs of compare.sh --out DIR/<run> JSON files: oxio (new) vs oxio (baseline)."""
import json, sys, glob, os, statistics as st
root = sys.argv[1]
rows = {}
for f in sorted(glob.glob(os.path.join(root, '*', '*.json'))):
    if f.endswith('meta.json'):
        continue
    r = json.load(open(f))
    sc = r['scenario']; n = r['clients']; lab = r['label']
    inflight = r.get('params', {}).get('inflight')
    if sc == 'echo':
        rate = r['echo']['msgs_per_s']; p99 = r['echo']['rtt']['p99_ms']
    else:
        rate = r['broadcast']['deliveries_per_s']; p99 = r['broadcast']['latency']['p99_ms']
    srv = r.get('server') or {}
    rows.setdefault((sc, inflight, n), {}).setdefault(lab, []).append(
        (srv.get('cpu_us_per_msg'), rate, srv.get('cores'), p99, os.path.basename(os.path.dirname(f))))
print('| scenario | clients | in flight | runs | CPU µs/msg old | CPU µs/msg new | new/old CPU | msgs/s old | msgs/s new | new/old msgs/s | server cores old / new | p99 ms old / new |')
print('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|')
for (sc, infl, n), labs in sorted(rows.items()):
    o = labs.get('oxio (baseline)', []); w = labs.get('oxio', [])
    if not o or not w:
        continue
    med = lambda xs, i: st.median([x[i] for x in xs if x[i] is not None])
    co, cn = med(o, 0), med(w, 0); ro, rn = med(o, 1), med(w, 1)
    print(f'| {sc} | {n} | {infl} | {len(o)}/{len(w)} | {co:.2f} | {cn:.2f} | {cn/co:.3f} | {ro:.0f} | {rn:.0f} | {rn/ro:.3f} | {med(o,2):.2f} / {med(w,2):.2f} | {med(o,3):.1f} / {med(w,3):.1f} |')
print()
print('raw (run: cpu µs/msg, msgs/s):')
for (sc, infl, n), labs in sorted(rows.items()):
    for lab, xs in sorted(labs.items()):
        print(f'  {sc} n={n} inflight={infl} {lab}: ' + '; '.join(f'{x[4]}: {x[0]:.2f}, {x[1]:.0f}' for x in xs))
