#!/usr/bin/env bash
# veth accuracy benchmark (issue 4, "Benchmarks"): in ONE run on ONE veth link
# between two network namespaces, side by side on different PTP domains:
#
#   domain 0  ptp4l master -> ptp4l slave, Sync/Delay_Req 1/s  (per-sample noise, as baselines.md s2)
#   domain 1  ptp4l master -> ptp4l slave, Sync/Delay_Req 16/s (per-sample noise at 16/s)
#             ptp4l master -> OUR slave "under-ptp4l"          (ours steered by ptp4l)
#   domain 2  OUR grandmaster -> one OUR slave per servo variant (variants/NAME.toml)
#
# Every slave of ours steers a virtual clock (started +1 ms / +50 ppm off) and is run under gdb
# only to dump, at exit, the once-per-second true-error series the daemon already collects
# (RunSummary.true_errors; see true-errors.gdb): the daemon is not modified.
#
#   usage: bash measurements/veth-bench/run.sh [-t SECONDS] [-o OUTDIR] [-u VARIANT] [-P] VARIANT...
#     -t  measurement window, s (default 300); daemons run SECONDS+30 s (lock + settling margin)
#     -o  output directory (default /tmp/veth-bench-<UTC time>)
#     -u  variant used for the slave under the ptp4l master (default: the first VARIANT)
#     -P  no ptp4l pairs (tuning runs: only our grandmaster and our slaves)
#     VARIANT  names of files in variants/ (default: default)
#   then: python3 measurements/veth-bench/analyze.py OUTDIR
#
# Safety (checked at run time): no real clock is touched. ptp4l runs with `free_running 1`,
# software time stamps, and without CAP_SYS_TIME (bounding and inheritable sets; verified in
# /proc/PID/status). Our daemons use `[clock] kind = "virtual"` only (checked in every config).
# Two namespaces + a veth pair created here are deleted on exit (trap). Needs root, a release
# build (cargo build --release -p statime-linux), linuxptp, iproute2, gdb, python3.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
STATIME=${STATIME:-$REPO/target/release/statime}

SECONDS_WIN=300
OUT=/tmp/veth-bench-$(date -u +%Y%m%dT%H%M%SZ)
UNDER=
WITH_PTP4L=1
while getopts "t:o:u:P" opt; do
    case $opt in
        t) SECONDS_WIN=$OPTARG ;;
        o) OUT=$OPTARG ;;
        u) UNDER=$OPTARG ;;
        P) WITH_PTP4L=0 ;;
        *) exit 2 ;;
    esac
done
shift $((OPTIND - 1))
VARIANTS=("$@")
[[ ${#VARIANTS[@]} -gt 0 ]] || VARIANTS=(default)
UNDER=${UNDER:-${VARIANTS[0]}}
RUN_S=$((SECONDS_WIN + 30))

TAG=$$
NS_M=vbench-$TAG-m
NS_S=vbench-$TAG-s
IF_M=vbm0
IF_S=vbs0
MAC_M=00:00:5e:00:53:0a
MAC_S=00:00:5e:00:53:0b

PIDS=()
SAMPLER=
log() { printf '[veth-bench] %s\n' "$*" >&2; }

cleanup() {
    local pid
    [[ -n $SAMPLER ]] && kill "$SAMPLER" 2>/dev/null || true
    for pid in "${PIDS[@]:-}"; do
        [[ -n $pid ]] && kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]:-}"; do
        [[ -n $pid ]] && wait "$pid" 2>/dev/null || true
    done
    for ns in "$NS_M" "$NS_S"; do
        ip netns del "$ns" 2>/dev/null || true
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[[ $(id -u) -eq 0 ]] || { log "must run as root (network namespaces)"; exit 1; }
for tool in ip ptp4l setpriv gdb python3; do
    command -v "$tool" >/dev/null || { log "missing $tool"; exit 1; }
done
[[ -x $STATIME ]] || { log "no $STATIME; cargo build --release -p statime-linux"; exit 1; }
for v in "${VARIANTS[@]}" "$UNDER"; do
    [[ -f $HERE/variants/$v.toml ]] || { log "no variants/$v.toml"; exit 1; }
done
mkdir -p "$OUT/cfg" "$OUT/bin"
# A private copy of the binaries: a rebuild during the run must not change what runs (and the
# gdb dump depends on this build's struct layout, cross-checked by analyze.py).
cp "$STATIME" "$(dirname "$STATIME")/statime-ctl" "$OUT/bin/"
STATIME=$OUT/bin/statime

# --- the link ------------------------------------------------------------------------------
ip netns add "$NS_M"
ip netns add "$NS_S"
ip link add "$IF_M" netns "$NS_M" type veth peer name "$IF_S" netns "$NS_S"
ip -n "$NS_M" link set dev "$IF_M" address "$MAC_M"
ip -n "$NS_S" link set dev "$IF_S" address "$MAC_S"
ip -n "$NS_M" addr add 192.0.2.10/24 dev "$IF_M"
ip -n "$NS_S" addr add 192.0.2.11/24 dev "$IF_S"
for ns in "$NS_M" "$NS_S"; do ip -n "$ns" link set lo up; done
ip -n "$NS_M" link set "$IF_M" up
ip -n "$NS_S" link set "$IF_S" up

{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "kernel: $(uname -sr); cpus: $(nproc)"
    echo "linuxptp: $(ptp4l -v 2>&1)"
    echo "statime: $STATIME ($(stat -c %y "$STATIME"))"
    echo "window: $SECONDS_WIN s; daemons run $RUN_S s"
    echo "variants (domain 2, under our GM): ${VARIANTS[*]}"
    echo "variant under the ptp4l master (domain 1): $UNDER"
    echo "ptp4l pairs: $WITH_PTP4L"
} >"$OUT/versions.txt"

check_no_sys_time() {
    local pid=$1 key val
    for key in CapEff CapPrm CapBnd CapInh CapAmb; do
        val=$(awk -v k="$key:" '$1 == k {print $2}' "/proc/$pid/status")
        if (( (16#$val >> 25) & 1 )); then
            log "FATAL: ptp4l pid $pid has CAP_SYS_TIME in $key ($val)"
            exit 1
        fi
    done
}

# start_ptp4l NAME NS IFACE CFG
start_ptp4l() {
    local name=$1 ns=$2 ifc=$3 cfg=$OUT/cfg/$1.cfg
    cat "$HERE/configs/ptp4l-common.cfg" <(grep -v '^\[global\]' "$HERE/configs/$4") >"$cfg"
    grep -Eq '^free_running[[:space:]]+1$' "$cfg" || { log "FATAL: $cfg lacks free_running 1"; exit 1; }
    grep -Eq '^time_stamping[[:space:]]+software$' "$cfg" || { log "FATAL: $cfg not software"; exit 1; }
    ip netns exec "$ns" setpriv --bounding-set -sys_time --inh-caps -sys_time -- \
        ptp4l -f "$cfg" -i "$ifc" -S -m --uds_address="$OUT/cfg/$name.sock" \
        >"$OUT/$name.log" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    sleep 0.3
    kill -0 "$pid" 2>/dev/null || { log "ptp4l $name exited"; cat "$OUT/$name.log" >&2; exit 1; }
    check_no_sys_time "$pid"
    echo "$name $pid" >>"$OUT/pids.txt"
}

# statime_cfg NAME DOMAIN IDENTITY VARIANT -> $OUT/cfg/NAME.toml
statime_cfg() {
    local cfg=$OUT/cfg/$1.toml
    sed -e "s/@DOMAIN@/$2/" -e "s/@IDENTITY@/$3/" "$HERE/configs/statime-slave.toml.in" >"$cfg"
    grep -v '^#' "$HERE/variants/$4.toml" >>"$cfg" || true
    "$(dirname "$STATIME")/statime-ctl" validate "$cfg" >/dev/null
}

# The daemon's pid under `ip netns exec gdb` (gdb forks the inferior).
inferior_pid() {
    local parent=$1 i child
    for i in $(seq 100); do
        child=$(ps -o pid= --ppid "$parent" | awk 'NR==1{print $1}')
        if [[ -n $child ]] && [[ $(cat "/proc/$child/comm" 2>/dev/null) == statime ]]; then
            echo "$child"; return 0
        fi
        sleep 0.1
    done
    return 1
}

# start_statime_slave NAME CFG
start_statime_slave() {
    local name=$1 cfg=$OUT/cfg/$1.toml
    grep -Eq '^kind = "virtual"$' "$cfg" || { log "FATAL: $cfg: not a virtual clock"; exit 1; }
    ip netns exec "$NS_S" gdb -q -nx -batch \
        -ex 'set startup-with-shell off' -x "$HERE/true-errors.gdb" \
        --args "$STATIME" -c "$cfg" --duration "${RUN_S}s" >"$OUT/$name.log" 2>&1 &
    local gpid=$!
    PIDS+=("$gpid")
    local pid
    pid=$(inferior_pid "$gpid") || { log "statime $name did not start"; cat "$OUT/$name.log" >&2; exit 1; }
    echo "$name $pid" >>"$OUT/pids.txt"
    SLAVE_GDB_PIDS+=("$gpid")
}

: >"$OUT/pids.txt"
SLAVE_GDB_PIDS=()

# --- masters ---------------------------------------------------------------------------------
cp "$HERE/configs/statime-gm.toml" "$OUT/cfg/statime-gm.toml"
grep -Eq '^kind = "virtual"$' "$OUT/cfg/statime-gm.toml" || exit 1
ip netns exec "$NS_M" "$STATIME" -c "$OUT/cfg/statime-gm.toml" --duration "$((RUN_S + 10))s" \
    >"$OUT/statime-gm.log" 2>&1 &
PIDS+=("$!"); echo "statime-gm $!" >>"$OUT/pids.txt"
if [[ $WITH_PTP4L == 1 ]]; then
    start_ptp4l ptp4l-master-1s "$NS_M" "$IF_M" ptp4l-master-1s.cfg
    start_ptp4l ptp4l-master-16s "$NS_M" "$IF_M" ptp4l-master-16s.cfg
fi
sleep 2

# --- slaves ----------------------------------------------------------------------------------
if [[ $WITH_PTP4L == 1 ]]; then
    start_ptp4l ptp4l-slave-1s "$NS_S" "$IF_S" ptp4l-slave-1s.cfg
    start_ptp4l ptp4l-slave-16s "$NS_S" "$IF_S" ptp4l-slave-16s.cfg
    # Not the MAC-derived identity: the ptp4l slave on this domain already uses it, and
    # multicast Delay_Resp are matched by requestingPortIdentity.
    statime_cfg statime-under-ptp4l 1 00005efffe53b100 "$UNDER"
    start_statime_slave statime-under-ptp4l
fi
i=0
for v in "${VARIANTS[@]}"; do
    i=$((i + 1))
    statime_cfg "statime-$v" 2 "$(printf '00005efffe53b2%02x' "$i")" "$v"
    start_statime_slave "statime-$v"
done
log "running ${RUN_S} s: $(awk '{printf "%s ", $1}' "$OUT/pids.txt")-> $OUT"

# --- resource sampler: VmRSS and utime+stime of every process, every 5 s ---------------------
CLK_TCK=$(getconf CLK_TCK)
(
    echo "t_s name pid vmrss_kb utime_ticks stime_ticks clk_tck"
    t0=$(date +%s.%N)
    while :; do
        now=$(date +%s.%N)
        while read -r name pid; do
            [[ -r /proc/$pid/stat ]] || continue
            rss=$(awk '$1 == "VmRSS:" {print $2}' "/proc/$pid/status" 2>/dev/null) || continue
            # fields 14, 15 of /proc/PID/stat (after the parenthesised comm)
            read -r ut st < <(sed 's/.*) //' "/proc/$pid/stat" | awk '{print $12, $13}') || continue
            echo "$(awk -v a="$now" -v b="$t0" 'BEGIN{printf "%.1f", a - b}') $name $pid ${rss:-0} $ut $st $CLK_TCK"
        done <"$OUT/pids.txt"
        sleep 5
    done
) >"$OUT/resources.txt" 2>/dev/null &
SAMPLER=$!

# --- wait for our slaves (they end by --duration), then stop everything ------------------------
for gpid in "${SLAVE_GDB_PIDS[@]}"; do
    wait "$gpid" || log "a statime slave exited with an error (see logs)"
done
kill "$SAMPLER" 2>/dev/null || true
SAMPLER=
cleanup
trap - EXIT
log "done: $OUT"
python3 "$HERE/analyze.py" "$OUT" -t "$SECONDS_WIN" || true
