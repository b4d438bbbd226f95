#!/usr/bin/env python3
"""Summarise one veth-bench run directory (see run.sh): tables in OUT/results.md,
per-second series in OUT/*.csv.

usage: analyze.py OUTDIR [-t SECONDS]   (SECONDS = steady-state window, the last SECONDS s)
"""
import argparse, math, re, statistics, sys
from pathlib import Path

OFF = re.compile(r"master offset\s+(-?\d+) s(\d) freq\s+\S+ path delay\s+(-?\d+)")
SUMMARY = re.compile(r"summary: true error .* over (\d+) s after lock: mean (-?\d+) ns, rms (\d+) ns, max (\d+) ns")
LOCK = re.compile(r"summary: locked after ([\d.]+) s")


def pct(xs, q):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * q
    f = math.floor(k)
    c = min(f + 1, len(xs) - 1)
    return xs[f] + (xs[c] - xs[f]) * (k - f)


def stats(xs):
    n = len(xs)
    mean = sum(xs) / n
    sd = statistics.pstdev(xs)
    lo, hi = pct(xs, 0.01), pct(xs, 0.99)
    trimmed = [x for x in xs if lo <= x <= hi]
    return dict(n=n, mean=mean, sd=sd, sd_trim=statistics.pstdev(trimmed), rms=math.sqrt(sum(x * x for x in xs) / n),
                max=max(abs(x) for x in xs), p99abs=pct([abs(x) for x in xs], 0.99),
                p99dev=pct([abs(x - mean) for x in xs], 0.99))


def true_errors(text):
    m = re.search(r"TRUE_ERRORS_BEGIN(.*?)TRUE_ERRORS_END", text, re.S)
    if not m:
        return None
    return [float(x) for x in m.group(1).split()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("-t", type=int, default=300)
    a = ap.parse_args()
    out = Path(a.out)
    W = a.t
    lines = ["# veth-bench results: " + out.name, ""]
    lines += ["```", (out / "versions.txt").read_text().strip(), "```", ""]

    # ptp4l per-sample noise (one raw sample printed per second)
    ptp = {}
    for f in sorted(out.glob("ptp4l-slave-*.log")):
        offs = [(int(m[1]), int(m[3])) for m in OFF.finditer(f.read_text())]
        offs = offs[-W:]
        if len(offs) < 10:
            continue
        st = stats([o for o, _ in offs])
        st["delay"] = sum(d for _, d in offs) / len(offs)
        ptp[f.stem] = st
        (out / f"{f.stem}.offsets.csv").write_text(
            "offset_ns,path_delay_ns\n" + "".join(f"{o},{d}\n" for o, d in offs))
    if ptp:
        lines += ["## ptp4l per-sample `master offset` (free running, last %d samples)" % W, "",
                  "| slave | n | mean | SD | SD of p1..p99 | p99 abs | max abs | mean path delay |",
                  "|---|---|---|---|---|---|---|---|"]
        for k, s in ptp.items():
            lines.append(f"| {k} | {s['n']} | {s['mean']:+.0f} ns | {s['sd']:.0f} ns | {s['sd_trim']:.0f} ns "
                         f"| {s['p99abs']:.0f} ns | {s['max']:.0f} ns | {s['delay']:.0f} ns |")
        lines.append("")
    ref = ptp.get("ptp4l-slave-16s", {}).get("sd")
    ref1 = ptp.get("ptp4l-slave-1s", {}).get("sd")

    # ours: true error, once per second after lock
    lines += ["## Our slaves: true error of the virtual clock (virtual - CLOCK_REALTIME), 1/s, "
              "last %d s of the run" % W, "",
              "| slave | locked after | n | mean (asymmetry) | SD | p99 abs(x-mean) | p99 abs | RMS | max abs "
              "| SD / ptp4l-16/s SD | SD / ptp4l-1/s SD | daemon summary (whole run after lock) "
              "| measured offset mean / SD (per sample) |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for f in sorted(out.glob("statime-*.log")):
        if f.stem == "statime-gm":
            continue
        text = f.read_text()
        te = true_errors(text)
        summ = SUMMARY.search(text)
        lock = LOCK.search(text)
        offs = [int(m[1]) for m in OFF.finditer(text) if m[2] == "2"]
        nsync = 16
        mo = stats(offs[-W * nsync:]) if len(offs) > 10 else None
        if not te:
            lines.append(f"| {f.stem} | {lock[1] if lock else '-'} s | - | no series | | | | | | | | "
                         f"{summ.group(0) if summ else 'none'} | |")
            continue
        (out / f"{f.stem}.true-error.csv").write_text(
            "second_after_lock,true_error_ns\n" + "".join(f"{i},{x:.1f}\n" for i, x in enumerate(te)))
        s = stats(te[-W:])
        r16 = f"{s['sd'] / ref:.3f}" if ref else "-"
        r1 = f"{s['sd'] / ref1:.3f}" if ref1 else "-"
        sm = (f"mean {summ[2]}, rms {summ[3]}, max {summ[4]} ns over {summ[1]} s" if summ else "-")
        if summ:  # the dumped series must reproduce the daemon's own summary line
            whole = stats(te)
            ok = (len(te) == int(summ[1]) and abs(whole["mean"] - int(summ[2])) <= 1
                  and abs(whole["rms"] - int(summ[3])) <= 1 and abs(whole["max"] - int(summ[4])) <= 1)
            sm += " (series check: " + ("ok" if ok else "MISMATCH %d %.0f %.0f %.0f" % (
                len(te), whole["mean"], whole["rms"], whole["max"])) + ")"
        mos = f"{mo['mean']:+.0f} / {mo['sd']:.0f} ns" if mo else "-"
        lines.append(f"| {f.stem} | {lock[1] if lock else '-'} s | {s['n']} | {s['mean']:+.0f} ns | {s['sd']:.0f} ns "
                     f"| {s['p99dev']:.0f} ns | {s['p99abs']:.0f} ns | {s['rms']:.0f} ns | {s['max']:.0f} ns "
                     f"| {r16} | {r1} | {sm} | {mos} |")
    lines.append("")

    # resources
    res = out / "resources.txt"
    if res.exists():
        rows = {}
        for ln in res.read_text().splitlines()[1:]:
            p = ln.split()
            if len(p) != 7:
                continue
            rows.setdefault(p[1], []).append((float(p[0]), int(p[3]), int(p[4]) + int(p[5]), int(p[6])))
        lines += ["## Resources (sampled every 5 s)", "",
                  "| process | samples | VmRSS median | VmRSS max | CPU (utime+stime) over the run | CPU ms per s |",
                  "|---|---|---|---|---|---|"]
        for k, v in sorted(rows.items()):
            if len(v) < 2:
                continue
            dt = v[-1][0] - v[0][0]
            dticks = v[-1][2] - v[0][2]
            cpu = dticks / v[0][3] / dt
            rss = [x[1] for x in v]
            lines.append(f"| {k} | {len(v)} | {statistics.median(rss) / 1024:.1f} MiB | {max(rss) / 1024:.1f} MiB "
                         f"| {dticks / v[0][3]:.2f} s over {dt:.0f} s = {100 * cpu:.2f} % | {1000 * cpu:.2f} |")
        lines.append("")
    (out / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
