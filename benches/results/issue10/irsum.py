#!/usr/bin/env python3
import re, json, collections, os, statistics as st
# Differential Ir per round trip / delivery from callgrind/ir.txt and callgrind/*.json
# (written by callgrind.sh): (Ir(20 s) - Ir(5 s)) / (messages(20 s) - messages(5 s)).
HERE = os.path.dirname(os.path.abspath(__file__))
runs = collections.defaultdict(dict)
for line in open(os.path.join(HERE, 'callgrind', 'ir.txt')):
    m = re.match(r'(\S+)-(\d+)-i(\d+)-d(\d+)-r(\d+)-(old|new): Ir (\d+) (?:sent|emitted) (\d+)', line)
    if not m: continue
    sc, n, infl, d, r, v, ir, cnt = m.groups()
    name = line.split(':')[0]
    js = json.load(open(os.path.join(HERE, 'callgrind', f'{name}.json')))
    msgs = js['echo']['sent'] if sc == 'echo' else js['broadcast']['expected']
    runs[(sc, int(n), int(infl), v, r)][int(d)] = (int(ir), msgs)
print('| scenario | clients | in flight | unit | Ir/unit old (per pair) | Ir/unit new (per pair) | new/old (mean) |')
print('|---|---:|---:|---|---|---|---:|')
keys = sorted({k[:3] for k in runs})
for sc, n, infl in keys:
    vals = {}
    for v in ['old', 'new']:
        vals[v] = []
        for r in ['1', '2', '3']:
            x = runs.get((sc, n, infl, v, r), {})
            if 5 in x and 20 in x:
                vals[v].append((x[20][0] - x[5][0]) / (x[20][1] - x[5][1]))
    if not vals['old'] or not vals['new']: continue
    unit = 'round trip' if sc == 'echo' else 'delivery'
    o, w = st.mean(vals['old']), st.mean(vals['new'])
    print(f"| {sc} | {n} | {infl} | {unit} | {o:,.0f} ({', '.join(f'{x:,.0f}' for x in vals['old'])}) | {w:,.0f} ({', '.join(f'{x:,.0f}' for x in vals['new'])}) | {w/o:.3f} |")
