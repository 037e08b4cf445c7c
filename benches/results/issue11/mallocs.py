#!/usr/bin/env python3
"""Counts calls to the allocator (malloc, calloc, realloc, posix_memalign,
aligned_alloc) in a callgrind output file: the sum of the `calls=` lines
whose callee is one of them. Usage: mallocs.py FILE.cg"""
import re
import sys

ALLOC = {"malloc", "calloc", "realloc", "posix_memalign", "aligned_alloc", "memalign"}
names = {}
total = {}
cfn = None
name_re = re.compile(r"^c?fn=\((\d+)\)(?: (.*))?$")
for line in open(sys.argv[1], errors="replace"):
    m = name_re.match(line.rstrip("\n"))
    if m:
        ident, name = m.group(1), m.group(2)
        if name:
            names[ident] = name.split(" ")[0]
        if line.startswith("cfn="):
            cfn = names.get(ident)
        continue
    if line.startswith("calls=") and cfn in ALLOC:
        total[cfn] = total.get(cfn, 0) + int(line.split("=")[1].split()[0])
        continue
    if not line.startswith(("calls=", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "+", "-", "*")):
        cfn = None if not line.startswith("cfn") else cfn
print(sum(total.values()), total)
