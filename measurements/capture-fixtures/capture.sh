#!/usr/bin/env bash
# Capture real PTP traffic between two linuxptp ptp4l instances (and pmc)
# running in two private network namespaces joined by a veth pair, then
# turn the captures into byte fixtures + tshark decodes for parser tests.
#
#   usage: bash measurements/capture-fixtures/capture.sh [scenario ...]
#   scenarios: udp4-e2e udp6-e2e l2-e2e udp4-p2p l2-p2p mgmt unicast gptp
#              (default: all of them)
#
# Environment:
#   CAPTURE_OUT      directory for pcaps and logs (default /tmp/ptp4l-capture)
#   CAPTURE_SECONDS  capture length per scenario (default 16)
#   FIXTURE_DIR      where extract.py writes fixtures
#                    (default <repo>/statime/tests/fixtures/ptp4l)
#
# Safety properties (checked at run time):
#   * every ptp4l runs with `free_running 1` and without CAP_SYS_TIME, so it
#     cannot adjust the host clock;
#   * software timestamping only;
#   * all traffic stays on a veth pair inside two namespaces created here and
#     removed again on exit (trap), whatever happens.
#
# Needs root, and the Debian packages linuxptp, tshark, iproute2, python3.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CFG=$HERE/configs
OUT=${CAPTURE_OUT:-/tmp/ptp4l-capture}
DUR=${CAPTURE_SECONDS:-16}
FIXTURE_DIR=${FIXTURE_DIR:-$REPO/statime/tests/fixtures/ptp4l}
ALL_SCENARIOS=(udp4-e2e udp6-e2e l2-e2e udp4-p2p l2-p2p mgmt unicast gptp)

NS_M=ptpfix-master
NS_S=ptpfix-slave
IF_M=ptpfix-m0
IF_S=ptpfix-s0
# IANA documentation MAC (RFC 7042) and address (RFC 5737 / RFC 3849) ranges.
MAC_M=00:00:5e:00:53:0a
MAC_S=00:00:5e:00:53:0b
IP4_M=192.0.2.10
IP4_S=192.0.2.11
IP6_M=2001:db8::a
IP6_S=2001:db8::b

PIDS=()

log() { printf '[capture] %s\n' "$*" >&2; }

stop_pids() {
    local pid
    for pid in "${PIDS[@]:-}"; do
        [[ -n "$pid" ]] || continue
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]:-}"; do
        [[ -n "$pid" ]] || continue
        wait "$pid" 2>/dev/null || true
    done
    PIDS=()
}

delete_netns() {
    local ns
    for ns in "$NS_M" "$NS_S"; do
        if ip netns list | grep -qw "$ns"; then
            ip netns del "$ns"
        fi
    done
}

cleanup() {
    stop_pids
    delete_netns
}
trap cleanup EXIT
trap 'exit 130' INT TERM

setup_netns() {
    delete_netns
    ip netns add "$NS_M"
    ip netns add "$NS_S"
    ip link add "$IF_M" netns "$NS_M" type veth peer name "$IF_S" netns "$NS_S"
    local ns ifc mac ip4 ip6
    for ns in "$NS_M" "$NS_S"; do
        if [[ $ns == "$NS_M" ]]; then
            ifc=$IF_M mac=$MAC_M ip4=$IP4_M ip6=$IP6_M
        else
            ifc=$IF_S mac=$MAC_S ip4=$IP4_S ip6=$IP6_S
        fi
        ip -n "$ns" link set lo up
        ip -n "$ns" link set dev "$ifc" address "$mac"
        # No duplicate address detection and no router solicitations: keeps
        # IPv6 usable at once and the capture quiet.
        ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$ifc.accept_dad=0"
        ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$ifc.router_solicitations=0"
        ip -n "$ns" addr add "$ip4/24" dev "$ifc"
        ip -n "$ns" addr add "$ip6/64" dev "$ifc" nodad
        ip -n "$ns" link set dev "$ifc" up
    done
}

# Refuse to go on if a ptp4l still holds CAP_SYS_TIME (bit 25).
check_no_sys_time() {
    local pid=$1 key val
    for key in CapEff CapPrm CapBnd CapInh CapAmb; do
        val=$(awk -v k="$key:" '$1 == k {print $2}' "/proc/$pid/status")
        if (( (16#$val >> 25) & 1 )); then
            log "FATAL: pid $pid still has CAP_SYS_TIME in $key ($val)"
            exit 1
        fi
    done
}

# start_ptp4l ROLE NS IFACE CONFIG [extra ptp4l args...]
start_ptp4l() {
    local role=$1 ns=$2 ifc=$3 cfg=$4
    shift 4
    grep -Eq '^[[:space:]]*free_running[[:space:]]+1' "$cfg" \
        || { log "FATAL: $cfg lacks free_running 1"; exit 1; }
    ip netns exec "$ns" \
        setpriv --bounding-set -sys_time --inh-caps -sys_time -- \
        ptp4l -f "$cfg" -i "$ifc" -S -m \
        --uds_address="$RUN/$role.sock" "$@" \
        >"$OUT/$SCEN.$role.log" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    sleep 0.3
    if ! kill -0 "$pid" 2>/dev/null; then
        log "FATAL: ptp4l $role exited early; see $OUT/$SCEN.$role.log"
        cat "$OUT/$SCEN.$role.log" >&2
        exit 1
    fi
    check_no_sys_time "$pid"
    log "ptp4l $role pid $pid in $ns: $*"
}

start_capture() {
    local pcap=$OUT/$SCEN.pcap
    rm -f "$pcap"
    ip netns exec "$NS_S" tshark -q -i "$IF_S" -F pcap -w "$pcap" \
        -a "duration:$DUR" >"$OUT/$SCEN.tshark.log" 2>&1 &
    CAP_PID=$!
    PIDS+=("$CAP_PID")
    local i
    for i in $(seq 50); do
        grep -q 'Capturing on' "$OUT/$SCEN.tshark.log" 2>/dev/null && return 0
        sleep 0.1
    done
    log "FATAL: tshark did not start"; cat "$OUT/$SCEN.tshark.log" >&2; exit 1
}

wait_capture() {
    wait "$CAP_PID" || true
    stop_pids
    log "$SCEN: $(tshark -r "$OUT/$SCEN.pcap" 2>/dev/null | wc -l) frames -> $OUT/$SCEN.pcap"
}

# pair TRANSPORT DELAY: master (priority1 10) and slave (default 128).
start_pair() {
    local transport=$1 delay=$2
    start_ptp4l master "$NS_M" "$IF_M" "$CFG/base.cfg" \
        --network_transport="$transport" --delay_mechanism="$delay" --priority1=10
    # Start the slave a little later so that it hears the master's Announce
    # before its own announce-receipt timeout (fewer slave Announces).
    sleep 2
    start_ptp4l slave "$NS_S" "$IF_S" "$CFG/base.cfg" \
        --network_transport="$transport" --delay_mechanism="$delay"
}

run_pmc() {
    # pmc sends GET requests (with a dataset-shaped TLV body, pmc's default)
    # to 224.0.1.129:320 with boundaryHops 1; ptp4l answers with RESPONSE or
    # MANAGEMENT_ERROR_STATUS.
    ip netns exec "$NS_S" pmc -4 -i "$IF_S" -b 1 "$@" >>"$OUT/$SCEN.pmc.log" 2>&1 || true
}

scenario() {
    SCEN=$1
    log "=== scenario $SCEN (${DUR}s)"
    setup_netns
    : >"$OUT/$SCEN.pmc.log"
    start_capture
    case $SCEN in
        udp4-e2e) start_pair UDPv4 E2E ;;
        udp6-e2e) start_pair UDPv6 E2E ;;
        l2-e2e)   start_pair L2 E2E ;;
        udp4-p2p) start_pair UDPv4 P2P ;;
        l2-p2p)   start_pair L2 P2P ;;
        mgmt)
            start_pair UDPv4 E2E
            sleep 6
            run_pmc 'GET DEFAULT_DATA_SET' 'GET CURRENT_DATA_SET' \
                'GET PARENT_DATA_SET' 'GET TIME_PROPERTIES_DATA_SET' \
                'GET PORT_DATA_SET' 'GET TIME_STATUS_NP' 'GET PORT_PROPERTIES_NP'
            sleep 0.5
            run_pmc 'GET CLOCK_DESCRIPTION' 'GET USER_DESCRIPTION' \
                'GET VERSION_NUMBER' 'GET NULL_MANAGEMENT' 'GET PRIORITY1' \
                'GET DOMAIN' 'GET TIMESCALE_PROPERTIES' \
                'GET TRACEABILITY_PROPERTIES' 'GET GRANDMASTER_SETTINGS_NP' \
                'GET PORT_DATA_SET_NP' 'GET PORT_STATS_NP' 'GET DELAY_MECHANISM'
            sleep 0.5
            # legacy form: GET with an empty (zero-length data) management TLV
            ip netns exec "$NS_S" pmc -4 -i "$IF_S" -b 1 -z 'GET DEFAULT_DATA_SET' \
                >>"$OUT/$SCEN.pmc.log" 2>&1 || true
            ;;
        unicast)
            start_ptp4l master "$NS_M" "$IF_M" "$CFG/unicast-master.cfg"
            start_ptp4l slave "$NS_S" "$IF_S" "$CFG/unicast-slave.cfg"
            ;;
        gptp)
            start_ptp4l master "$NS_M" "$IF_M" "$CFG/gptp.cfg" --priority1=246
            start_ptp4l slave "$NS_S" "$IF_S" "$CFG/gptp.cfg"
            ;;
        *) log "unknown scenario $SCEN"; exit 2 ;;
    esac
    wait_capture
    delete_netns
}

main() {
    [[ $(id -u) -eq 0 ]] || { log "must run as root"; exit 1; }
    local tool
    for tool in ptp4l pmc tshark ip setpriv python3; do
        command -v "$tool" >/dev/null || { log "missing $tool"; exit 1; }
    done
    mkdir -p "$OUT"
    RUN=$OUT/run
    mkdir -p "$RUN"
    local scenarios=("$@")
    [[ ${#scenarios[@]} -gt 0 ]] || scenarios=("${ALL_SCENARIOS[@]}")
    {
        echo "linuxptp: $(ptp4l -v 2>&1)"
        echo "tshark: $(tshark --version 2>/dev/null | head -1)"
        echo "kernel: $(uname -sr)"
        echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    } >"$OUT/versions.txt"
    local s
    for s in "${scenarios[@]}"; do
        scenario "$s"
    done
    [[ -n ${SKIP_EXTRACT:-} ]] && return 0
    python3 "$HERE/extract.py" --pcap-dir "$OUT" --out "$FIXTURE_DIR" \
        --master-mac "$MAC_M" "${scenarios[@]}"
}

main "$@"
