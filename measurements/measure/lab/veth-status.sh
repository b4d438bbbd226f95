#!/usr/bin/env bash
# A ptp4l master and, under it on the same veth link, a ptp4l slave and OUR slave, with our slave's
# JSON status socket open, for `measure capture --wrap` (live true error of our virtual clock from the
# status stream, no gdb). Reuses the veth-bench configurations (measurements/veth-bench/configs/).
#
#   usage: bash measurements/measure/lab/veth-status.sh SECONDS OUTDIR
#   leaves: OUTDIR/statime.sock (while running), statime.log, ptp4l-slave.log, ptp4l-master.log, cfg/
#
# Safety (as veth-bench/run.sh): no real clock is touched. ptp4l runs with `free_running 1`, software
# time stamps and without CAP_SYS_TIME; our slave uses `[clock] kind = "virtual"` (checked). Two
# namespaces and a veth pair made here are deleted on exit, including on Ctrl-C (SIGINT) and SIGTERM.
# Needs root, iproute2, linuxptp, a release build (cargo build --release -p statime-linux).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
VB=$REPO/measurements/veth-bench/configs
SECS=${1:?usage: veth-status.sh SECONDS OUTDIR}
OUT=${2:?usage: veth-status.sh SECONDS OUTDIR}
STATIME=${STATIME:-$REPO/target/release/statime}
NS_M=mstatus-$$-m
NS_S=mstatus-$$-s
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]:-}"; do [[ -n $pid ]] && kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]:-}"; do [[ -n $pid ]] && wait "$pid" 2>/dev/null || true; done
    ip netns del "$NS_M" 2>/dev/null || true
    ip netns del "$NS_S" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM
[[ $(id -u) -eq 0 ]] || { echo "must run as root" >&2; exit 1; }
[[ -x $STATIME ]] || { echo "no $STATIME; cargo build --release -p statime-linux" >&2; exit 1; }
mkdir -p "$OUT/cfg" "$OUT/bin"
cp "$STATIME" "$OUT/bin/statime"
ip netns add "$NS_M"
ip netns add "$NS_S"
ip link add vsm0 netns "$NS_M" type veth peer name vbs0 netns "$NS_S"
ip -n "$NS_M" link set dev vsm0 address 00:00:5e:00:53:1a
ip -n "$NS_S" link set dev vbs0 address 00:00:5e:00:53:1b
ip -n "$NS_M" addr add 192.0.2.10/24 dev vsm0
ip -n "$NS_S" addr add 192.0.2.11/24 dev vbs0
for ns in "$NS_M" "$NS_S"; do ip -n "$ns" link set lo up; done
ip -n "$NS_M" link set vsm0 up
ip -n "$NS_S" link set vbs0 up
ptp4l_cfg() { cat "$VB/ptp4l-common.cfg" <(grep -v '^\[global\]' "$VB/$1") >"$OUT/cfg/$2"; }
ptp4l_cfg ptp4l-master-16s.cfg ptp4l-master.cfg
ptp4l_cfg ptp4l-slave-16s.cfg ptp4l-slave.cfg
for c in ptp4l-master ptp4l-slave; do
    grep -Eq '^free_running[[:space:]]+1$' "$OUT/cfg/$c.cfg" || { echo "FATAL: $c not free_running" >&2; exit 1; }
done
# Our slave: the veth-bench slave (virtual clock +1 ms / +50 ppm, 16/s) in domain 1, with a status socket.
sed -e 's/@DOMAIN@/1/' -e 's/@IDENTITY@/00005efffe53b1ff/' "$VB/statime-slave.toml.in" >"$OUT/cfg/statime.toml"
printf '[observability]\nstatus-socket = "%s"\n' "$OUT/statime.sock" >>"$OUT/cfg/statime.toml"
grep -Eq '^kind = "virtual"$' "$OUT/cfg/statime.toml" || { echo "FATAL: not a virtual clock" >&2; exit 1; }
run_ptp4l() { # NAME NS IFACE
    ip netns exec "$2" setpriv --bounding-set -sys_time --inh-caps -sys_time -- \
        ptp4l -f "$OUT/cfg/$1.cfg" -i "$3" -S -m --uds_address="$OUT/$1.uds" >"$OUT/$1.log" 2>&1 &
    PIDS+=("$!")
}
run_ptp4l ptp4l-master "$NS_M" vsm0
sleep 1
run_ptp4l ptp4l-slave "$NS_S" vbs0
ip netns exec "$NS_S" "$OUT/bin/statime" -c "$OUT/cfg/statime.toml" --duration "${SECS}s" >"$OUT/statime.log" 2>&1 &
SLAVE=$!
PIDS+=("$SLAVE")
echo "running ${SECS} s -> $OUT" >&2
wait "$SLAVE" || echo "our slave exited with an error (see $OUT/statime.log)" >&2
