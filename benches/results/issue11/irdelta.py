#!/usr/bin/env python3
"""Per-round-trip instructions by function: (Ir in the long run - Ir in the
short run) / (round trips long - short), from callgrind_annotate's
exclusive (self) or inclusive listing. Usage:
irdelta.py SHORT.cg SHORT.json LONG.cg LONG.json [--inclusive] [TOP]"""
import json
import re
import subprocess
import sys

def table(cg, inclusive):
    out = subprocess.run(["callgrind_annotate", f"--inclusive={'yes' if inclusive else 'no'}",
                          "--threshold=100", cg], capture_output=True, text=True).stdout
    t = {}
    for line in out.splitlines():
        m = re.match(r"^\s*([\d,]+) \([ \d.]+%\)\s+(.*)$", line)
        if m and "PROGRAM TOTALS" not in line:
            fn = m.group(2).split(":", 1)[-1].split(" [")[0]
            t[fn] = t.get(fn, 0) + int(m.group(1).replace(",", ""))
    return t

def rts(js):
    r = json.load(open(js))
    return r["echo"]["received"] if r["scenario"] == "echo" else r["broadcast"]["deliveries"]

args = [a for a in sys.argv[1:] if not a.startswith("--")]
inclusive = "--inclusive" in sys.argv
top = int(args[4]) if len(args) > 4 else 30
a, b = table(args[0], inclusive), table(args[2], inclusive)
d = rts(args[3]) - rts(args[1])
rows = sorted(((b.get(k, 0) - a.get(k, 0)) / d, k) for k in set(a) | set(b))
rows.reverse()
for per, k in rows[:top]:
    print(f"{per:9.0f}  {k[:150]}")
