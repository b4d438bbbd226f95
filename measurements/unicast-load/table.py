#!/usr/bin/env python3
"""Print the unicast-load sweep as a markdown table.

    table.py results-statime.txt [results-ptp4l.txt ...]

Each input line holds key=value pairs (run.sh's step line with the
generator's RESULT). "saturated" is a heuristic: the side whose CPU is at
>= 90% of one core (both programs are single-threaded), or whose sockets
dropped datagrams, when less than 99% of what was expected arrived.
"""
import sys

ANCHOR = "ptp4u (Meta): over 1M clients at 1 Hz on one CPU (baselines.md §4)"


def rows(path):
    for line in open(path):
        kv = dict(x.split("=", 1) for x in line.split() if "=" in x)
        if "clients" in kv:
            yield kv


def f(kv, k, default=0.0):
    try:
        return float(kv.get(k, default))
    except ValueError:
        return default


def saturated(kv):
    fr = min(f(kv, "sync_frac"), f(kv, "fu_frac"), f(kv, "dresp_frac"))
    # Busy: on a CPU or runnable and waiting for one (never sleeping).
    busy = f(kv, "srv_main_run_pct") + f(kv, "srv_main_runq_wait_pct")
    srv = f(kv, "srv_cpu_pct") >= 90 or busy >= 90 or f(kv, "srv_udp_rcvbuf_errors") > 0
    gen = f(kv, "gen_cpu_pct") >= 90 or f(kv, "gen_rx_dropped") > 0 or f(kv, "gen_send_failed") > 0
    if fr >= 0.99 and not (srv or gen):
        return "neither"
    side = [s for s, on in (("server", srv), ("generator", gen)) if on]
    if f(kv, "softnet_drops") > 0:
        side.append("kernel backlog")
    return "+".join(side) or "? (losses without CPU/drops)"


def main():
    print("| server | clients | served | Sync/s | Follow_Up/s | Announce/s | Delay_Resp/s "
          "| received of expected (Sync, FU, Ann, DResp) | server CPU % | server runq wait % | generator CPU % "
          "| exchanges/s/core | server pkts/s/core | server RSS MiB | lost (DResp, FU, Sync gaps) "
          "| drops (srv rcvbuf, gen, softnet) | load 1/5/15 before | saturated |")
    print("|" + "---|" * 18)
    for path in sys.argv[1:]:
        for kv in rows(path):
            if kv.get("failed"):
                print(f"| {kv.get('server')} | {kv['clients']} | failed |" + " |" * 15)
                continue
            print(
                f"| {kv.get('server')} | {int(f(kv, 'clients'))} | {int(f(kv, 'served_start'))} "
                f"| {f(kv, 'sync_ps'):.0f} | {f(kv, 'fu_ps'):.0f} | {f(kv, 'ann_ps'):.0f} "
                f"| {f(kv, 'dresp_ps'):.0f} "
                f"| {f(kv, 'sync_frac'):.3f}, {f(kv, 'fu_frac'):.3f}, {f(kv, 'ann_frac'):.3f}, "
                f"{f(kv, 'dresp_frac'):.3f} "
                f"| {f(kv, 'srv_cpu_pct'):.1f} | {f(kv, 'srv_main_runq_wait_pct'):.1f} "
                f"| {f(kv, 'gen_cpu_pct'):.1f} "
                f"| {f(kv, 'exchanges_per_core'):.0f} | {f(kv, 'srv_pkts_per_core'):.0f} "
                f"| {f(kv, 'srv_rss_kb') / 1024:.1f} "
                f"| {kv.get('dresp_lost')}, {kv.get('fu_missing')}, {kv.get('sync_gaps')} "
                f"| {kv.get('srv_udp_rcvbuf_errors')}, {kv.get('gen_rx_dropped')}, "
                f"{kv.get('softnet_drops')} "
                f"| {kv.get('load_before', '').replace(',', ' ')} | {saturated(kv)} |"
            )
    print()
    print(f"Anchor: {ANCHOR}; = 1,000,000 exchanges/s/core.")


if __name__ == "__main__":
    main()
