#!/usr/bin/env python3
"""Calls to the named functions in a callgrind output file (the sum of the
`calls=` lines whose callee's name starts with one of the given names).
Usage: calls.py FILE.cg NAME..."""
import re
import sys

wanted = sys.argv[2:]
names = {}
total = {w: 0 for w in wanted}
cfn = None
name_re = re.compile(r"^(c?fn)=\((\d+)\)(?: (.*))?$")
for line in open(sys.argv[1], errors="replace"):
    m = name_re.match(line.rstrip("\n"))
    if m:
        kind, ident, name = m.groups()
        if name:
            names[ident] = name.split(" [")[0]
        cfn = names.get(ident) if kind == "cfn" else None
        continue
    if line.startswith("calls=") and cfn:
        for w in wanted:
            if cfn.startswith(w):
                total[w] += int(line.split("=")[1].split()[0])
                break
for w in wanted:
    print(f"{total[w]}\t{w}")
