#!/usr/bin/env python3
"""Instructions (Ir) and allocator calls per round trip (echo) or per
delivery (broadcast) from two callgrind_echo.sh runs of different
durations: (long - short) / (units long - units short), so connects and
start-up cancel out. Usage: pairdelta.py DIR SHORT_NAME LONG_NAME
(DIR holds NAME.cg and NAME.json as callgrind_echo.sh writes them)."""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def get(d, n):
    ir = None
    for line in open(f"{d}/{n}.cg", errors="replace"):
        if line.startswith(("summary:", "totals:")):
            ir = int(line.split()[1])
            break
    out = subprocess.run(["python3", f"{HERE}/mallocs.py", f"{d}/{n}.cg"],
                         capture_output=True, text=True).stdout
    r = json.load(open(f"{d}/{n}.json"))
    k = r["echo"]["received"] if r["scenario"] == "echo" else r["broadcast"]["deliveries"]
    return ir, int(out.split()[0]), k


d = sys.argv[1]
a, b = get(d, sys.argv[2]), get(d, sys.argv[3])
dk = b[2] - a[2]
print(f"{sys.argv[3]} - {sys.argv[2]}: units {a[2]} -> {b[2]}, "
      f"Ir/unit {(b[0] - a[0]) / dk:.0f}, allocs/unit {(b[1] - a[1]) / dk:.2f}")
