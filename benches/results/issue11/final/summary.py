#!/usr/bin/env python3
"""Medians of compare.sh runs (issue 11, final): for each pinning group
(directories given as GROUP=DIR,DIR,...), scenario, clients and server:
throughput, server CPU per unit (µs per round trip or per delivery, user +
system time of the server process) and p99 latency; then oxio's CPU ratio
to socketioxide's and its p99 against socketioxide's.
Usage: summary.py pinned=d1,d2,d3 unpinned=d4,d5"""
import glob, json, statistics, sys


def key(d):
    p = d["params"]
    if d["scenario"] == "broadcast" and p.get("room_size", 0) > 0:
        return "room-broadcast"
    if d["scenario"] == "broadcast" and p.get("rest"):
        return "fanout"
    if d["scenario"] == "echo":
        return "echo-1" if p["inflight"] == 1 else f"echo-{p['inflight']}"
    return d["scenario"]


def unit(d):
    if d["scenario"] == "echo":
        e = d["echo"]
        return e["msgs_per_s"], e["rtt"]["p99_ms"]
    b = d["broadcast"]
    return b["deliveries_per_s"], b["latency"]["p99_ms"]


for group in sys.argv[1:]:
    name, dirs = group.split("=")
    rows = {}
    for d in dirs.split(","):
        for f in glob.glob(f"{d}/*.json"):
            if f.endswith("meta.json"):
                continue
            r = json.load(open(f))
            if r["scenario"] not in ("echo", "broadcast"):
                continue
            rate, p99 = unit(r)
            rows.setdefault((key(r), r["clients"], r["label"]), []).append(
                (rate, r["server"]["cpu_us_per_msg"], p99))
    print(f"\n#### {name} ({len(dirs.split(','))} runs)\n")
    print("| shape | clients | server | rate/s (median) | server CPU µs per unit (median) | p99 ms (median) | runs |")
    print("|---|--:|---|--:|--:|--:|--:|")
    med = lambda v, i: statistics.median(x[i] for x in v)
    for k in sorted(rows):
        v = rows[k]
        print(f"| {k[0]} | {k[1]} | {k[2]} | {med(v,0):,.0f} | {med(v,1):.2f} | {med(v,2):.2f} | {len(v)} |")
    print()
    print("| shape | clients | oxio ÷ socketioxide CPU | oxio ÷ Node CPU | p99 oxio / socketioxide ms |")
    print("|---|--:|--:|--:|--:|")
    for k in sorted({(a, b) for a, b, _ in rows}):
        o, s, n = (rows.get((k[0], k[1], l)) for l in ("oxio", "socketioxide", "node"))
        if not o or not s:
            continue
        nr = f"{med(o,1)/med(n,1):.2f}" if n else "—"
        print(f"| {k[0]} | {k[1]} | **{med(o,1)/med(s,1):.2f}** | {nr} | {med(o,2):.2f} / {med(s,2):.2f} |")
