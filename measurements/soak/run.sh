#!/usr/bin/env bash
# Soak run (issue 9 item 5): a grandmaster and two slaves of ours on a
# bridged segment in network namespaces, virtual clocks only (no real clock
# is touched; nothing leaves the machine), for DURATION seconds. Every 10 s
# it records each slave's true error and servo state from its status socket;
# every 60 s each daemon's RSS and CPU time. Then analyze.py prints per-hour
# error percentiles, RSS growth, CPU and every log line above info.
#
#   sudo measurements/soak/run.sh [-t SECONDS] [-o OUTDIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=21600
OUT=/tmp/statime-soak
while getopts "t:o:" opt; do
    case $opt in
        t) DURATION=$OPTARG ;;
        o) OUT=$OPTARG ;;
        *) echo "usage: $0 [-t SECONDS] [-o OUTDIR]" >&2; exit 2 ;;
    esac
done
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces)" >&2; exit 1; }
BIN=${BIN:-target/release}
[ -x "$BIN/statime" ] || cargo build --release -p statime-linux
mkdir -p "$OUT"
ID=soak$$
SW=${ID}sw
cleanup() {
    for p in "$OUT"/*.pid; do [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null || true; done
    for n in 0 1 2; do ip netns del "${ID}h$n" 2>/dev/null || true; done
    ip netns del "$SW" 2>/dev/null || true
}
trap cleanup EXIT
ip netns add "$SW"
ip -n "$SW" link add br0 type bridge
ip -n "$SW" link set br0 type bridge mcast_snooping 0
ip -n "$SW" link set br0 up
for n in 0 1 2; do
    ns=${ID}h$n
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip link add "sk${n}$$" type veth peer name "sp${n}$$"
    ip link set "sk${n}$$" netns "$ns"
    ip link set "sp${n}$$" netns "$SW"
    ip -n "$SW" link set "sp${n}$$" master br0
    ip -n "$SW" link set "sp${n}$$" up
    ip -n "$ns" link set "sk${n}$$" address "02:00:5e:00:57:0$((n + 1))"
    ip -n "$ns" addr add "192.0.2.$((n + 1))/24" dev "sk${n}$$"
    ip -n "$ns" link set "sk${n}$$" up
done
for n in 0 1 2; do
    if [ $n = 0 ]; then
        top="priority1 = 10"; clock=""
    else
        top="slave-only = true"; clock="initial-offset = \"+1ms\"
frequency-error = $((n * 30)).0"
    fi
    cat > "$OUT/node$n.toml" <<CFG
$top

[[port]]
interface = "sk${n}$$"
transport = "udp-ipv4"
delay-mechanism = "E2E"
timestamping = "software"
sync-interval = -3
delay-interval = -3

[clock]
kind = "virtual"
$clock

[logging]
stdout = true
syslog = false
summary-interval = 6

[observability]
status-socket = "$OUT/node$n.sock"
CFG
    ip netns exec "${ID}h$n" "$BIN/statime" -c "$OUT/node$n.toml" > "$OUT/node$n.log" 2>&1 &
    echo $! > "$OUT/node$n.pid"
done
echo "soak: ${DURATION}s, output in $OUT" >&2
echo "t_s,node,true_error_s,servo_state,samples,rejected" > "$OUT/errors.csv"
echo "t_s,node,rss_kb,cpu_ticks" > "$OUT/resources.csv"
start=$(date +%s)
last_res=-60
while :; do
    now=$(( $(date +%s) - start ))
    [ "$now" -ge "$DURATION" ] && break
    for n in 1 2; do
        "$BIN/statime-ctl" status --json -s "$OUT/node$n.sock" 2>/dev/null \
            | python3 -c 'import json,sys; v=json.load(sys.stdin); s=v["servo"]; print(",".join(str(x) for x in (sys.argv[1], sys.argv[2], v.get("true_error_s"), s["state"], s["samples"], s["rejected"])))' "$now" "$n" \
            >> "$OUT/errors.csv" || echo "$now,$n,,unreachable,," >> "$OUT/errors.csv"
    done
    if [ $((now - last_res)) -ge 60 ]; then
        last_res=$now
        for n in 0 1 2; do
            pid=$(cat "$OUT/node$n.pid")
            rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo "")
            cpu=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo "")
            echo "$now,$n,$rss,$cpu" >> "$OUT/resources.csv"
        done
    fi
    sleep 10
done
python3 measurements/soak/analyze.py "$OUT"
