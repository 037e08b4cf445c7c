#!/usr/bin/env python3
"""Ir per echo round trip, metrics off and on, from run.sh's ir.txt.

Usage: irsum.py OUT_DIR (the folder holding ir.txt)."""
import collections
import re
import statistics as st
import sys

runs = collections.defaultdict(dict)
for line in open(f"{sys.argv[1]}/ir.txt"):
    m = re.match(r"echo-100-i4-d(\d+)-r(\d+)-(off|on): Ir (\d+) sent (\d+)", line)
    if m:
        d, r, v, ir, sent = m.groups()
        runs[(v, r)][int(d)] = (int(ir), int(sent))
per = {}
for v in ["off", "on"]:
    per[v] = []
    for (vv, r), x in sorted(runs.items()):
        if vv == v and 5 in x and 20 in x:
            per[v].append((x[20][0] - x[5][0]) / (x[20][1] - x[5][1]))
off, on = st.mean(per["off"]), st.mean(per["on"])
print("| metrics | Ir per round trip (mean) | per pair of runs |")
print("|---|---:|---|")
for v, x in [("off", off), ("on", on)]:
    print(f"| {v} | {x:,.0f} | {', '.join(f'{y:,.0f}' for y in per[v])} |")
print(f"\non/off = {on / off:.4f} ({(on / off - 1) * 100:+.2f} %)")
