#!/usr/bin/env python3
"""Summarise a soak run (measurements/soak/run.sh): per-hour true-error
percentiles per slave, RSS growth and CPU per daemon, and every log line
above info. Prints Markdown."""
import csv
import math
import os
import sys
from collections import defaultdict

out = sys.argv[1]
CLK_TCK = os.sysconf("SC_CLK_TCK")


def pct(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    k = min(len(v) - 1, max(0, math.ceil(p / 100 * len(v)) - 1))
    return v[k]


rows = list(csv.DictReader(open(os.path.join(out, "errors.csv"))))
by = defaultdict(list)
unlocked = defaultdict(int)
for r in rows:
    if not r["true_error_s"] or r["true_error_s"] == "None":
        continue
    t = int(r["t_s"])
    if t < 120:  # lock and settling
        continue
    if not r["servo_state"].startswith("locked"):
        unlocked[(r["node"], t // 3600)] += 1
    by[(r["node"], t // 3600)].append(abs(float(r["true_error_s"])) * 1e9)
print("| slave | hour | samples | p50 (ns) | p95 (ns) | p99 (ns) | max (ns) | not locked |")
print("|---|---|---|---|---|---|---|---|")
for (node, hour), v in sorted(by.items()):
    print(f"| {node} | {hour} | {len(v)} | {pct(v, 50):.0f} | {pct(v, 95):.0f} | "
          f"{pct(v, 99):.0f} | {max(v):.0f} | {unlocked[(node, hour)]} |")
res = defaultdict(list)
for r in csv.DictReader(open(os.path.join(out, "resources.csv"))):
    if r["rss_kb"] and r["cpu_ticks"]:
        res[r["node"]].append((int(r["t_s"]), int(r["rss_kb"]), int(r["cpu_ticks"])))
print()
print("| daemon | RSS first (kB) | RSS last (kB) | RSS max (kB) | CPU over the run |")
print("|---|---|---|---|---|")
for node, v in sorted(res.items()):
    (t0, r0, c0), (t1, r1, c1) = v[0], v[-1]
    cpu = (c1 - c0) / CLK_TCK / max(1, t1 - t0) * 100
    print(f"| node{node} | {r0} | {r1} | {max(x[1] for x in v)} | {cpu:.2f}% |")
print()
for n in range(3):
    path = os.path.join(out, f"node{n}.log")
    bad = [l.rstrip() for l in open(path, errors="replace")
           if "warning:" in l or "error:" in l or "FAULTY" in l or " s1 " in l]
    print(f"node{n}: {len(bad)} log lines above info")
    for l in bad[:20]:
        print(f"    {l}")
