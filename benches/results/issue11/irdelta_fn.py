#!/usr/bin/env python3
"""Like irdelta.py --inclusive, but keeps only callgrind_annotate's
function entries (the lines ending in `[object]`), so a function inlined
into several files is not listed once per file. Usage:
irdelta_fn.py SHORT LONG [TOP] (paths without .cg/.json)."""
import json
import re
import subprocess
import sys


def table(cg):
    out = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=99.9", cg],
                         capture_output=True, text=True).stdout
    t = {}
    for line in out.splitlines():
        m = re.match(r"^\s*([\d,]+) \([ \d.]+%\)\s+(\S.*?):(.*) \[(.*)\]$", line)
        if m:
            t[m.group(3)] = t.get(m.group(3), 0) + int(m.group(1).replace(",", ""))
    return t


def units(js):
    r = json.load(open(js))
    return r["echo"]["received"] if r["scenario"] == "echo" else r["broadcast"]["deliveries"]


a, b = sys.argv[1], sys.argv[2]
ta, tb = table(a + ".cg"), table(b + ".cg")
d = units(b + ".json") - units(a + ".json")
rows = sorted(((tb.get(k, 0) - ta.get(k, 0)) / d, k) for k in set(ta) | set(tb))
rows.reverse()
for per, k in rows[:int(sys.argv[3]) if len(sys.argv) > 3 else 60]:
    print(f"{per:9.0f}  {k[:160]}")
