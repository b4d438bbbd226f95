#!/usr/bin/env bash
# Run the operator guide's commands as written, as a new user would, on this
# machine: every ```sh block of docs/guide.md, in order, unless the line just
# before it is a marker
#     <!-- guide-check: skip: REASON -->
# (commands that need an Intel i210, that install packages, or that would
# steer this machine's clock).
#
#   docs/guide-check.sh            build with `cargo build --release` as the guide says
#   docs/guide-check.sh --debug    use the debug build `cargo test` left (CI: no release build)
#
# What differs from a real host, and why:
# - Nothing is installed on this machine. Paths are rebased into a scratch
#   root: /usr/local/, /etc/ and /run/statime in the guide's commands (and in
#   the files they write) become $ROOT/usr/local/ and so on. The user and
#   group statime are created by systemd-sysusers in $ROOT/etc/passwd,
#   from a copy of this machine's, so their IDs are free here.
# - There is no systemd or udevd here. `systemctl` and `journalctl` are
#   stand-ins: daemon-reload runs `systemd-analyze verify` on the installed
#   unit; enable/disable use the real `systemctl --root`; start/stop run the
#   unit's ExecStart= as its User=/Group= with its capabilities, under
#   NoNewPrivileges, in its RuntimeDirectory= (via setpriv), with stdout and
#   stderr going to the "journal" that `journalctl -u statime` prints.
#   `systemd-analyze` gets --root. `udevadm` is a no-op (no /dev/ptp* here).
#   `sudo` runs the command as root, `sudo -u USER`/`-g GROUP` with the
#   scratch root's IDs.
# - The commands run in a network namespace whose eth0 is one end of a veth
#   pair; a grandmaster (statime on a virtual clock) serves on the other end.
#   Nothing leaves the machine.
# - CAP_SYS_TIME is removed from the bounding set of everything the guide
#   runs, so no command can adjust this machine's clock whatever it says.
# - When strace is present the daemon runs under it, and every system call
#   it made must be in the unit's SystemCallFilter=.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
guide="$repo/docs/guide.md"

profile=release
if [ "${1:-}" = "--debug" ]; then
    profile=debug
elif [ -n "${1:-}" ]; then
    echo "usage: docs/guide-check.sh [--debug]" >&2
    exit 2
fi
if [ "$(id -u)" != 0 ]; then
    echo "guide-check.sh: needs root (network namespaces, setpriv)" >&2
    exit 1
fi
for tool in ip setpriv pmc systemd-analyze systemd-sysusers systemctl pandoc; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "guide-check.sh: $tool is missing (Debian: iproute2 util-linux linuxptp systemd pandoc)" >&2
        exit 1
    }
done
if [ "$profile" = debug ] && [ ! -x target/debug/statime ]; then
    cargo build --locked -p statime-linux --bins
fi

work="$(mktemp -d /tmp/statime-guide.XXXXXX)"
chmod 0755 "$work"
ROOT="$work/root"
mkdir -p "$ROOT/etc" "$ROOT/run" "$ROOT/usr/lib/systemd"
chmod 0755 "$ROOT"
cp /etc/passwd /etc/group "$ROOT/etc/"
cp -a /usr/lib/systemd/system "$ROOT/usr/lib/systemd/"
ns_gm="statime-guide-$$-gm"
ns="statime-guide-$$-host"
gm_pid=""

cleanup() {
    set +e
    if [ -f "$work/daemon.pid" ]; then
        kill "$(cat "$work/daemon.pid")" 2>/dev/null
    fi
    [ -n "$gm_pid" ] && kill "$gm_pid" 2>/dev/null && wait "$gm_pid" 2>/dev/null
    ip netns del "$ns_gm" 2>/dev/null
    ip netns del "$ns" 2>/dev/null
    if [ -z "${KEEP:-}" ]; then rm -rf "$work"; else echo "kept $work"; fi
}
trap cleanup EXIT

# --- the network: this "host" and a grandmaster, joined by a veth pair
ip netns add "$ns_gm"
ip netns add "$ns"
ip -n "$ns" link add eth0 type veth peer name eth0 netns "$ns_gm"
for n in "$ns_gm:192.0.2.1" "$ns:192.0.2.2"; do
    ip -n "${n%%:*}" addr add "${n#*:}/24" dev eth0
    ip -n "${n%%:*}" link set eth0 up
    ip -n "${n%%:*}" link set lo up
done
cat >"$work/gm.toml" <<'EOF'
# guide-check's grandmaster: a virtual clock (never a real one), fast
# Announce and Sync so that the guide's slave locks within seconds.
priority1 = 10
[[port]]
interface = "eth0"
timestamping = "software"
announce-interval = -2
sync-interval = -2
[clock]
kind = "virtual"
[logging]
stdout = true
syslog = false
EOF
gm_bin=""
for b in "target/$profile/statime" target/release/statime target/debug/statime; do
    if [ -x "$b" ]; then gm_bin="$b"; break; fi
done
if [ -z "$gm_bin" ]; then
    cargo build --locked -p statime-linux --bins
    gm_bin=target/debug/statime
fi
cp "$gm_bin" "$work/gm-statime"
ip netns exec "$ns_gm" setpriv --bounding-set=-sys_time --inh-caps=-sys_time \
    "$work/gm-statime" -c "$work/gm.toml" >"$work/gm.log" 2>&1 &
gm_pid=$!

# --- the guide's blocks, rebased, with the stand-ins in front
extract() {
    awk -v root="$ROOT" -v profile="$profile" '
        function rebase(s) {
            gsub(/\/usr\/local\//, root "/usr/local/", s)
            gsub(/\/etc\//, root "/etc/", s)
            gsub(/\/run\/statime/, root "/run/statime", s)
            if (profile == "debug") {
                gsub(/target\/release\//, "target/debug/", s)
                gsub(/cargo build --release/, "cargo build", s)
            }
            return s
        }
        /^<!-- guide-check: skip: .* -->$/ {
            skip = $0; sub(/^<!-- guide-check: skip: /, "", skip); sub(/ -->$/, "", skip)
            gsub(/[^A-Za-z0-9 .,:;()\/_+=-]/, "", skip)
            pending = NR; next
        }
        !inblock && /^```sh[[:space:]]*$/ {
            inblock = 1; n++; start = NR
            skipping = (pending == NR - 1)
            if (skipping) printf "echo \"== guide block %d (line %d): skipped: %s\"\n", n, start, skip
            else {
                printf "echo \"== guide block %d (line %d)\"\n", n, start
                printf "sed \"s/^/    $ /\" <<\047__GUIDE_BLOCK__\047\n"
                body = ""
            }
            next
        }
        inblock && /^```[[:space:]]*$/ {
            inblock = 0
            if (!skipping) { printf "%s__GUIDE_BLOCK__\n%s", body, body; ran++ }
            next
        }
        inblock && !skipping { body = body rebase($0) "\n" }
        END {
            if (inblock) { print "guide-check: unterminated code block" > "/dev/stderr"; exit 1 }
            printf "echo \"== guide-check: ran %d of %d blocks\"\n", ran, n
        }
    ' "$guide"
}

cat >"$work/prelude.sh" <<'PRELUDE'
set -euo pipefail
export PATH="$ROOT/usr/local/sbin:$ROOT/usr/local/bin:$PATH"
export MANPATH="$ROOT/usr/local/share/man" MANPAGER=cat PAGER=cat SYSTEMD_PAGER=cat
export CARGO_NET_OFFLINE=true
unit_file="$ROOT/etc/systemd/system/statime.service"
journal="$WORK/journal.log"
: >"$journal"

note() { echo "   (guide-check: $*)"; }
id_of() { awk -F: -v n="$2" '$1 == n { print $3 }' "$ROOT/etc/$1"; }
unit_value() { sed -n "s/^$1=//p" "$unit_file" | tail -n 1; }

sudo() {
    local user="" group=""
    while [ $# -gt 0 ]; do
        case "$1" in
            -u) user="$2"; shift 2 ;;
            -g) group="$2"; shift 2 ;;
            -E|-H) shift ;;
            --) shift; break ;;
            -*) echo "guide-check: sudo option $1 not emulated" >&2; return 1 ;;
            *) break ;;
        esac
    done
    if [ -z "$user$group" ]; then
        "$@"
        return
    fi
    local args=()
    if [ -n "$user" ]; then
        local uid; uid="$(id_of passwd "$user")"
        [ -n "$uid" ] || { echo "sudo: unknown user $user" >&2; return 1; }
        args+=(--reuid="$uid")
        [ -n "$group" ] || group="$(awk -F: -v n="$user" '$1 == n { print $4 }' "$ROOT/etc/passwd")"
    fi
    local gid; gid="$(id_of group "$group")"
    [ -n "$gid" ] || gid="$group"
    [[ "$gid" =~ ^[0-9]+$ ]] || { echo "sudo: unknown group $group" >&2; return 1; }
    setpriv "${args[@]}" --regid="$gid" --clear-groups -- "$@"
}

systemd-analyze() {
    local out
    out="$(command systemd-analyze --root="$ROOT" "$@" 2>&1)" || { echo "$out" >&2; return 1; }
    [ -z "$out" ] || { echo "$out"; [ "$1" != verify ] || return 1; }
}

systemd-sysusers() {
    command systemd-sysusers --root="$ROOT" "$@"
}

udevadm() {
    note "no udevd here: skipped udevadm $*"
}

daemon_running() {
    [ -f "$WORK/daemon.pid" ] && kill -0 "$(cat "$WORK/daemon.pid")" 2>/dev/null
}

start_statime() {
    daemon_running && { note "statime already running"; return; }
    [ -f "$unit_file" ] || { echo "Unit statime.service not found." >&2; return 5; }
    local user group uid gid dir mode caps exec um
    user="$(unit_value User)"; group="$(unit_value Group)"
    uid="$(id_of passwd "$user")"; gid="$(id_of group "$group")"
    [ -n "$uid" ] && [ -n "$gid" ] || { echo "statime.service: no user $user / group $group" >&2; return 1; }
    dir="$(unit_value RuntimeDirectory)"; mode="$(unit_value RuntimeDirectoryMode)"
    um="$(unit_value UMask)"
    if [ -n "$dir" ]; then
        install -d -m "${mode:-0755}" -o "$uid" -g "$gid" "$ROOT/run/$dir"
    fi
    # The unit's capabilities, less CAP_SYS_TIME: this check never lets the
    # daemon adjust the machine's clock (the guide's config only observes).
    caps="$(unit_value AmbientCapabilities | tr ' ' '\n' | grep -v '^CAP_SYS_TIME$' \
        | sed 's/^CAP_/+/' | tr 'A-Z' 'a-z' | paste -sd, -)"
    exec="$(unit_value ExecStart | sed -e "s|/usr/local/|$ROOT/usr/local/|g" -e "s|/etc/|$ROOT/etc/|g")"
    local wrap=()
    if command -v strace >/dev/null 2>&1; then
        wrap=(strace -f -qq -c -o "$WORK/syscalls.txt" --)
    fi
    [ "$(unit_value NoNewPrivileges)" = yes ] || { echo "guide-check: the unit must set NoNewPrivileges=yes" >&2; return 1; }
    # shellcheck disable=SC2086
    (
        umask "${um:-0022}"
        exec "${wrap[@]}" setpriv --reuid="$uid" --regid="$gid" --clear-groups \
            --inh-caps="-all,$caps" --ambient-caps="-all,$caps" --bounding-set="-all,$caps" \
            --no-new-privs -- $exec
    ) >>"$journal" 2>&1 &
    echo $! >"$WORK/wrapper.pid"
    # The daemon is the wrapper itself, or strace's child.
    local pid=$! i
    for i in $(seq 50); do
        if [ ${#wrap[@]} -eq 0 ]; then break; fi
        local child; child="$(pgrep -P "$pid" || true)"
        [ -n "$child" ] && { pid="$child"; break; }
        sleep 0.1
    done
    echo "$pid" >"$WORK/daemon.pid"
    sleep 1
    daemon_running || { echo "statime.service failed:" >&2; cat "$journal" >&2; return 1; }
}

stop_statime() {
    if daemon_running; then
        kill -TERM "$(cat "$WORK/daemon.pid")"
        local w; w="$(cat "$WORK/wrapper.pid")"
        local i
        for i in $(seq 50); do kill -0 "$w" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$w" 2>/dev/null; then
            echo "guide-check: statime did not stop on SIGTERM" >&2
            return 1
        fi
    fi
    rm -f "$WORK/daemon.pid"
    local dir; dir="$(unit_value RuntimeDirectory 2>/dev/null || true)"
    [ -z "$dir" ] || rm -rf "${ROOT:?}/run/$dir"
}

systemctl() {
    local now=0 args=()
    for a in "$@"; do
        case "$a" in
            --now) now=1 ;;
            --no-pager|--quiet|-q) ;;
            *) args+=("$a") ;;
        esac
    done
    local verb="${args[0]:-}" unit="${args[1]:-}"
    unit="${unit%.service}"
    case "$verb" in
        daemon-reload)
            [ ! -f "$unit_file" ] || systemd-analyze verify statime.service ;;
        enable|disable)
            [ "$unit" = statime ] || { note "skipped systemctl $*"; return; }
            command systemctl --root="$ROOT" "$verb" statime.service
            if [ "$now" = 1 ]; then
                if [ "$verb" = enable ]; then start_statime; else stop_statime; fi
            fi ;;
        start) [ "$unit" = statime ] && start_statime ;;
        stop) [ "$unit" = statime ] && stop_statime ;;
        restart) [ "$unit" = statime ] && { stop_statime; start_statime; } ;;
        status)
            [ "$unit" = statime ] || { note "skipped systemctl $*"; return; }
            if daemon_running; then
                echo "● statime.service - $(sed -n 's/^Description=//p' "$unit_file")"
                echo "     Active: active (running)  (guide-check stand-in)"
                echo "   Main PID: $(cat "$WORK/daemon.pid") (statime)"
            else
                echo "○ statime.service: inactive (dead)"
                return 3
            fi ;;
        *) echo "guide-check: systemctl $* is not emulated" >&2; return 1 ;;
    esac
}

journalctl() {
    local follow=0 lines="" a
    while [ $# -gt 0 ]; do
        case "$1" in
            -u) shift ;;
            -f) follow=1 ;;
            -e|-b|--no-pager) ;;
            -n) lines="$2"; shift ;;
        esac
        shift
    done
    if [ "$follow" = 1 ]; then
        # A person watches until the port is SLAVE, as the guide says; so
        # do we (at most 60 s).
        local i
        for i in $(seq 600); do
            grep -q "to SLAVE" "$journal" && break
            daemon_running || break
            sleep 0.1
        done
        note "following the journal stopped here, as Ctrl-C would"
    fi
    if [ -n "$lines" ]; then tail -n "$lines" "$journal"; else cat "$journal"; fi
}
PRELUDE

{
    echo "ROOT='$ROOT'; WORK='$work'"
    cat "$work/prelude.sh"
    extract
} >"$work/guide.sh"

echo "== guide-check: docs/guide.md in network namespace $ns, scratch root $ROOT ($profile build)"
start=$(date +%s)
status=0
ip netns exec "$ns" setpriv --bounding-set=-sys_time --inh-caps=-sys_time \
    bash "$work/guide.sh" 2>&1 | tee "$work/transcript.txt" || status=$?
[ -f "$work/daemon.pid" ] && kill "$(cat "$work/daemon.pid")" 2>/dev/null || true
rm -f "$work/daemon.pid"

fail=0
check() {
    if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1" >&2; fail=1; fi
}
check "every guide command succeeded" "[ $status = 0 ]"
check "the daemon, as user statime, followed the grandmaster" \
    "grep -q 'UNCALIBRATED to SLAVE' '$work/journal.log'"
check "pmc got CURRENT_DATA_SET from the management socket" \
    "grep -q 'RESPONSE MANAGEMENT CURRENT_DATA_SET' '$work/transcript.txt'"
check "the daemon logged no error" "! grep -q '^statime: ' '$work/journal.log'"
check "the removal section removed the unit" "[ ! -e '$ROOT/etc/systemd/system/statime.service' ]"
if [ -f "$work/syscalls.txt" ]; then
    expand() {
        command systemd-analyze syscall-filter "$1" | tail -n +2 | sed 's/^[[:space:]]*//' \
            | grep -v -e '^#' -e '^$' | while read -r s; do
                case "$s" in @*) expand "$s" ;; *) echo "$s" ;; esac
            done
    }
    filter="$(sed -n 's/^SystemCallFilter=//p' packaging/systemd/statime.service)"
    for g in $filter; do case "$g" in @*) expand "$g" ;; *) echo "$g" ;; esac; done | sort -u >"$work/allowed.txt"
    awk 'NF >= 5 && $NF ~ /^[a-z_0-9]+$/ && $NF != "syscall" && $NF != "total" { print $NF }' \
        "$work/syscalls.txt" | sort -u >"$work/used.txt"
    outside="$(comm -23 "$work/used.txt" "$work/allowed.txt" | tr '\n' ' ')"
    check "the daemon's $(wc -l <"$work/used.txt") system calls are all in SystemCallFilter=$filter${outside:+ (outside: $outside)}" \
        "[ -z '$outside' ] && [ -s '$work/used.txt' ]"
fi
echo "guide-check: $(($(date +%s) - start)) s"
if [ "$fail" -ne 0 ]; then
    echo "--- journal" >&2
    cat "$work/journal.log" >&2
    echo "--- grandmaster" >&2
    tail -n 20 "$work/gm.log" >&2
    exit 1
fi
echo "guide-check: docs/guide.md ran as written"
