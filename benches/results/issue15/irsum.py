#!/usr/bin/env python3
"""Ir per echo round trip of two variants, from run.sh's (off, on) or
run-base.sh's (base, off) ir.txt.

Usage: irsum.py OUT_DIR [A B] (the folder holding ir.txt; default off on)."""
import collections
import re
import statistics as st
import sys

runs = collections.defaultdict(dict)
for line in open(f"{sys.argv[1]}/ir.txt"):
    m = re.match(r"echo-100-i4-d(\d+)-r(\d+)-(\w+): Ir (\d+) sent (\d+)", line)
    if m:
        d, r, v, ir, sent = m.groups()
        runs[(v, r)][int(d)] = (int(ir), int(sent))
a, b = (sys.argv[2], sys.argv[3]) if len(sys.argv) > 3 else ("off", "on")
per = {}
for v in [a, b]:
    per[v] = []
    for (vv, r), x in sorted(runs.items()):
        if vv == v and 5 in x and 20 in x:
            per[v].append((x[20][0] - x[5][0]) / (x[20][1] - x[5][1]))
ma, mb = st.mean(per[a]), st.mean(per[b])
print("| variant | Ir per round trip (mean) | per pair of runs |")
print("|---|---:|---|")
for v, x in [(a, ma), (b, mb)]:
    print(f"| {v} | {x:,.0f} | {', '.join(f'{y:,.0f}' for y in per[v])} |")
print(f"\n{b}/{a} = {mb / ma:.4f} ({(mb / ma - 1) * 100:+.2f} %)")
