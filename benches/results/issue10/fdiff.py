#!/usr/bin/env python3
"""Needs the callgrind output files (PREFIX-d5-rN-old.cg ...; not committed, ~300 KB each).
Per-function self Ir per message, differential (long run - short run) / (msgs difference),
old vs new. usage: fdiff.py PREFIX MSGKEY  (PREFIX like cg/echo-100-i4, uses d5/d20, r1+r2)"""
import subprocess, re, sys, json, collections
pre = sys.argv[1]; reps = sys.argv[2].split(',') if len(sys.argv) > 2 else ['r1','r2']
def fn_ir(path):
    out = subprocess.run(['callgrind_annotate', '--threshold=100', '--inclusive=no', '--auto=no', path],
                         capture_output=True, text=True).stdout
    d = collections.Counter()
    for line in out.splitlines():
        m = re.match(r'\s*([\d,]+)\s+\([\s\d.]+%\)\s+(.*)$', line)
        if not m or 'PROGRAM TOTALS' in line: continue
        ir = int(m.group(1).replace(',', '')); name = m.group(2)
        # file:function [obj] -> function, normalised across the crate split
        name = re.sub(r'\s+\[[^\]]*\]$', '', name)
        name = name.split(':', 1)[1] if ':' in name and not name.startswith('<') and '/' in name.split(':',1)[0] else name
        name = re.sub(r"'\d+$", '', name)
        for a, b in [('oxio_server::engine::server::', 'oxio_engine::router::'), ('oxio_server::engine::', 'oxio_engine::'),
                     ('oxio_server::transport::', 'oxio_engine::transport::'), ('oxio_server::socketio::payload::', 'oxio_adapter::packet::'),
                     ('oxio_server::adapter::', 'oxio_adapter::'), ('oxio_server::service::', 'oxio_engine::service::')]:
            name = name.replace(a, b)
        d[name] += ir
    return d
def msgs(path):
    r = json.load(open(path))
    return r['echo']['sent'] if r['scenario'] == 'echo' else r['broadcast']['expected']
res = {}
for v in ['old', 'new']:
    acc = collections.Counter(); nm = 0
    for r in reps:
        a = fn_ir(f'{pre}-d20-{r}-{v}.cg'); b = fn_ir(f'{pre}-d5-{r}-{v}.cg')
        for k in set(a) | set(b): acc[k] += a[k] - b[k]
        nm += msgs(f'{pre}-d20-{r}-{v}.json') - msgs(f'{pre}-d5-{r}-{v}.json')
    res[v] = {k: x / nm for k, x in acc.items()}
    print(v, 'total Ir/msg', round(sum(acc.values()) / nm, 1), 'msgs', nm)
keys = set(res['old']) | set(res['new'])
rows = sorted(keys, key=lambda k: -abs(res['new'].get(k, 0) - res['old'].get(k, 0)))
print(f"{'old':>9} {'new':>9} {'diff':>8}  function")
for k in rows[:int(sys.argv[3]) if len(sys.argv) > 3 else 40]:
    o = res['old'].get(k, 0); n = res['new'].get(k, 0)
    print(f'{o:9.1f} {n:9.1f} {n-o:+8.1f}  {k[:170]}')
