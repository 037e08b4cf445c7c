import json,glob,statistics,sys
rows={}
for f in glob.glob('benches/results/issue11/compare-after13/*/echo*.json'):
    d=json.load(open(f))
    if d['scenario']!='echo': continue
    key=(d['params']['inflight'],d['clients'],d['label'])
    rows.setdefault(key,[]).append((d['echo']['msgs_per_s'],d['server']['cpu_us_per_msg'],d['echo']['rtt'].get('p99_ms', d['echo']['rtt'].get('p99'))))
print("| in flight | clients | server | msgs/s (median) | server CPU µs/round trip (median) | p99 ms (median) | runs |")
print("|--:|--:|---|--:|--:|--:|--:|")
for k in sorted(rows):
    v=rows[k]
    m=lambda i: statistics.median([x[i] for x in v])
    print(f"| {k[0]} | {k[1]} | {k[2]} | {m(0):,.0f} | {m(1):.2f} | {m(2):.2f} | {len(v)} |")
for inf in (1,4):
  for n in (100,1000):
    try:
      o=statistics.median([x[1] for x in rows[(inf,n,'oxio')]]); s=statistics.median([x[1] for x in rows[(inf,n,'socketioxide')]])
      print(f"ratio oxio/socketioxide CPU, {inf} in flight, {n} clients: {o/s:.2f}")
    except KeyError: pass
