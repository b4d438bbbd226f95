#!/usr/bin/env bash
# Unicast server benchmark (issue 7 item 2): how many unicast PTP clients at
# 1 Hz one server serves per CPU core. Two network namespaces joined by a
# veth pair (nothing leaves the machine): the server (our daemon from a
# release build, or ptp4l with -s ptp4l) at 192.168.77.1, and unicast-load
# at 192.168.77.2 simulating N clients from 10.1.x.y (AnyIP: a local route
# for 10.0.0.0/8 on lo; the server's namespace routes 10.0.0.0/8 to the
# generator). For each N the server is started afresh, becomes MASTER (no
# other master on the link), the clients negotiate Announce (1/2 s), Sync
# (1/s) and Delay_Resp grants over a ramp-up and send one Delay_Req per
# second; after a warm-up the generator measures a steady-state window and
# samples the server's CPU time and RSS from /proc. The real clock is never
# adjusted: our daemon runs on the system clock observe-only, ptp4l with
# free_running 1 and without CAP_SYS_TIME.
#
#   sudo measurements/unicast-load/run.sh [-s statime|ptp4l] [-o OUTDIR] [-w WINDOW_S] [-k] [-p] N...
#
# -k keeps going after a step that lost more than 5% (default: stop there).
# -p pins the server to CPU 1 and the generator to CPU 0 (taskset).
# PTP4L_TX_TIMEOUT=MS sets ptp4l's tx_timestamp_timeout (default 10).
# Needs a release build: cargo build --release -p statime-linux -p unicast-load
# (BIN=DIR picks the directory of the binaries; default target/release).
set -euo pipefail
cd "$(dirname "$0")/../.."
SERVER=statime
OUT=/tmp/unicast-load
WINDOW=20
KEEP=0
PIN_S=()
PIN_G=()
while getopts "s:o:w:kp" opt; do
    case $opt in
        s) SERVER=$OPTARG ;;
        o) OUT=$OPTARG ;;
        w) WINDOW=$OPTARG ;;
        k) KEEP=1 ;;
        p) PIN_S=(taskset -c 1); PIN_G=(taskset -c 0) ;;
        *) echo "usage: $0 [-s statime|ptp4l] [-o OUTDIR] [-w WINDOW_S] [-k] [-p] N..." >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || set -- 1000 5000 20000 50000 100000 200000
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces)" >&2; exit 1; }
BIN=${BIN:-target/release}
for b in statime unicast-load; do
    [ -x "$BIN/$b" ] || { echo "no $BIN/$b: cargo build --release -p statime-linux -p unicast-load" >&2; exit 1; }
done
mkdir -p "$OUT"
ID=ul$$
NS_S=${ID}s
NS_G=${ID}g
IF_S=uls$$
IF_G=ulg$$
SRV_PID=
cleanup() {
    [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null || true
    ip netns del "$NS_S" 2>/dev/null || true
    ip netns del "$NS_G" 2>/dev/null || true
}
trap cleanup EXIT
ip netns add "$NS_S"
ip netns add "$NS_G"
ip link add "$IF_S" type veth peer name "$IF_G"
ip link set "$IF_S" netns "$NS_S"
ip link set "$IF_G" netns "$NS_G"
for ns in "$NS_S" "$NS_G"; do ip -n "$ns" link set lo up; done
ip -n "$NS_S" addr add 192.168.77.1/24 dev "$IF_S"
ip -n "$NS_G" addr add 192.168.77.2/24 dev "$IF_G"
ip -n "$NS_S" link set "$IF_S" up
ip -n "$NS_G" link set "$IF_G" up
ip -n "$NS_S" route add 10.0.0.0/8 via 192.168.77.2
ip -n "$NS_G" route add local 10.0.0.0/8 dev lo

udp_counters() { # InDatagrams RcvbufErrors SndbufErrors OutDatagrams of a namespace
    ip netns exec "$1" awk '/^Udp:/ { if (h) { print $2, $6, $7, $5; exit } h = 1 }' /proc/net/snmp
}
softnet_drops() { python3 -c "import sys; print(sum(int(l.split()[1], 16) for l in open('/proc/net/softnet_stat')))"; }

start_server() { # N -> SRV_PID, log in $OUT/$SERVER-N.log
    local n=$1 log="$OUT/$SERVER-$1.log"
    if [ "$SERVER" = statime ]; then
        cat > "$OUT/statime.toml" <<CFG
priority1 = 100

[[port]]
interface = "$IF_S"
transport = "udp-ipv4"
timestamping = "software"
unicast-listen = true
inhibit-multicast-service = true
unicast-max-clients = 10000000
unicast-max-duration = 3600

[clock]
kind = "system"
observe-only = true

[logging]
level = "info"
format = "ptp4l"
stdout = true
syslog = false
summary-interval = 2
CFG
        ip netns exec "$NS_S" "${PIN_S[@]}" "$BIN/statime" -c "$OUT/statime.toml" > "$log" 2>&1 &
    else
        cat > "$OUT/ptp4l.cfg" <<CFG
[global]
free_running 1
time_stamping software
use_syslog 0
verbose 1
logging_level 6
priority1 100
unicast_listen 1
inhibit_multicast_service 1
tx_timestamp_timeout ${PTP4L_TX_TIMEOUT:-10}
summary_interval 2

[$IF_S]
network_transport UDPv4
CFG
        ip netns exec "$NS_S" "${PIN_S[@]}" setpriv --bounding-set -sys_time --inh-caps -sys_time -- \
            ptp4l -f "$OUT/ptp4l.cfg" > "$log" 2>&1 &
    fi
    SRV_PID=$!
    # MASTER after the announce receipt timeout (nothing else on the link).
    for _ in $(seq 1 60); do
        grep -q "to MASTER" "$log" 2>/dev/null && return 0
        sleep 0.5
    done
    echo "the server did not become MASTER:" >&2
    tail -20 "$log" >&2
    return 1
}

RESULTS="$OUT/results-$SERVER.txt"
: > "$RESULTS"
{
    echo "date: $(date -u +%FT%TZ)"
    echo "kernel: $(uname -r)"
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-) x $(nproc)"
    echo "server: $SERVER $([ "$SERVER" = statime ] && "$BIN/statime" --version 2>/dev/null || ptp4l -v 2>&1)"
} > "$OUT/machine-$SERVER.txt"
for n in "$@"; do
    start_server "$n"
    s0=$(udp_counters "$NS_S"); g0=$(udp_counters "$NS_G"); d0=$(softnet_drops)
    load0=$(cut -d' ' -f1-3 /proc/loadavg)
    ip netns exec "$NS_G" "${PIN_G[@]}" "$BIN/unicast-load" -n "$n" --server-pid "$SRV_PID" \
        --window "$WINDOW" > "$OUT/gen-$SERVER-$n.out" 2> "$OUT/gen-$SERVER-$n.err" || {
        echo "generator failed for N=$n:" >&2; tail -5 "$OUT/gen-$SERVER-$n.err" >&2; }
    s1=$(udp_counters "$NS_S"); g1=$(udp_counters "$NS_G"); d1=$(softnet_drops)
    load1=$(cut -d' ' -f1-3 /proc/loadavg)
    # ptp4l stuck in tx-timestamp timeouts takes long to see SIGTERM.
    kill "$SRV_PID" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$SRV_PID" 2>/dev/null || true
    wait "$SRV_PID" 2>/dev/null || true
    SRV_PID=
    read -r si sr ss _ <<< "$s0"; read -r si1 sr1 ss1 _ <<< "$s1"
    read -r gi gr gs _ <<< "$g0"; read -r gi1 gr1 gs1 _ <<< "$g1"
    line="server=$SERVER pinned=${#PIN_S[@]} load_before=${load0// /,} load_after=${load1// /,} srv_udp_rcvbuf_errors=$((sr1 - sr)) srv_udp_sndbuf_errors=$((ss1 - ss)) gen_udp_rcvbuf_errors=$((gr1 - gr)) softnet_drops=$((d1 - d0)) $(grep '^RESULT' "$OUT/gen-$SERVER-$n.out" || echo RESULT clients=$n failed=1)"
    echo "$line" >> "$RESULTS"
    echo "$line" >&2
    grep -h "unicast clients\|Delay_Resp refused\|error\|warn" "$OUT/$SERVER-$n.log" | tail -3 >&2 || true
    if [ "$KEEP" = 0 ] && python3 - "$line" <<'PY'
import sys
kv = dict(x.split("=", 1) for x in sys.argv[1].split() if "=" in x)
fr = [float(kv.get(k, 0)) for k in ("sync_frac", "fu_frac", "dresp_frac")]
sys.exit(0 if min(fr) < 0.95 else 1)
PY
    then
        echo "N=$n lost more than 5%: stopping the sweep" >&2
        break
    fi
done
python3 measurements/unicast-load/table.py "$RESULTS"
