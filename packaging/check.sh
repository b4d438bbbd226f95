#!/usr/bin/env bash
# CI check of packaging/ with the system's own tools (see packaging/README.md):
#
#   packaging/check.sh [DAEMON]   (default: target/release/statime or
#                                 target/debug/statime; a debug build if neither)
#
# - systemd-analyze verify: the unit loads with no message at all, in a
#   scratch root holding the daemon at the ExecStart= path and the rendered
#   man pages its Documentation= names;
# - systemd-analyze security --offline: exposure at most $MAX_EXPOSURE;
# - AmbientCapabilities= and CapabilityBoundingSet= each set once, to exactly
#   CAP_SYS_TIME CAP_NET_RAW CAP_NET_BIND_SERVICE CAP_NET_ADMIN;
# - systemd-sysusers --root: the sysusers entry creates user and group
#   statime, the unit's User= and Group=, with no login shell;
# - udevadm verify on the rule, where udev has it (systemd >= 253).
# Nothing is installed on this machine: all of it happens in a scratch root.
set -euo pipefail
cd "$(dirname "$0")/.."

unit=packaging/systemd/statime.service
sysusers=packaging/systemd/statime.sysusers
rules=packaging/udev/60-statime-ptp.rules
want_caps="CAP_NET_ADMIN CAP_NET_BIND_SERVICE CAP_NET_RAW CAP_SYS_TIME"
MAX_EXPOSURE=${MAX_EXPOSURE:-3.5}

daemon="${1:-}"
if [ -z "$daemon" ]; then
    for d in target/release/statime target/debug/statime; do
        if [ -x "$d" ]; then daemon="$d"; break; fi
    done
fi
if [ -z "$daemon" ]; then
    cargo build --locked -p statime-linux --bin statime
    daemon=target/debug/statime
fi
[ -x "$daemon" ] || { echo "check.sh: $daemon is not an executable" >&2; exit 1; }
for tool in systemd-analyze systemd-sysusers; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "check.sh: $tool is missing; install the Debian package systemd" >&2
        exit 1
    }
done

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*" >&2; fail=1; }

# --- the scratch root: unit, daemon, systemd's own units, man pages
exec_path="$(sed -n 's/^ExecStart=[-@+!:]*\([^ ]*\).*/\1/p' "$unit")"
[ -n "$exec_path" ] || { echo "check.sh: no ExecStart= in $unit" >&2; exit 1; }
install -D -m 0755 "$daemon" "$scratch/root$exec_path"
install -D -m 0644 "$unit" "$scratch/root/etc/systemd/system/statime.service"
mkdir -p "$scratch/root/usr/lib/systemd"
cp -a /usr/lib/systemd/system "$scratch/root/usr/lib/systemd/"
docs/man/render.sh "$scratch/man" >/dev/null

# --- systemd-analyze verify: any message is a failure (unknown keys and
# bad values only warn, with exit status 0).
if out="$(MANPATH="$scratch/man" SYSTEMD_LOG_COLOR=0 \
    systemd-analyze verify --root="$scratch/root" statime.service 2>&1)" && [ -z "$out" ]; then
    ok "systemd-analyze verify $unit"
else
    bad "systemd-analyze verify $unit:"
    printf '%s\n' "$out" >&2
fi

# --- systemd-analyze security
sec="$(MANPATH="$scratch/man" systemd-analyze security --offline=true --no-pager \
    --root="$scratch/root" statime.service 2>&1 || true)"
exposure="$(printf '%s\n' "$sec" | sed -n 's/.*Overall exposure level for statime.service: \([0-9.]*\).*/\1/p')"
if [ -z "$exposure" ]; then
    bad "systemd-analyze security printed no exposure level:"
    printf '%s\n' "$sec" >&2
elif awk -v e="$exposure" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(e <= m) }'; then
    ok "systemd-analyze security: exposure $exposure (at most $MAX_EXPOSURE)"
else
    bad "systemd-analyze security: exposure $exposure is above $MAX_EXPOSURE"
    printf '%s\n' "$sec" | grep '✗' >&2 || true
fi

# --- capabilities: each key exactly once, exactly the four.
for key in AmbientCapabilities CapabilityBoundingSet; do
    n="$(grep -c "^[[:space:]]*$key=" "$unit" || true)"
    got="$(sed -n "s/^[[:space:]]*$key=//p" "$unit" | tr ' ' '\n' | sed '/^$/d' | sort | tr '\n' ' ' | sed 's/ $//')"
    if [ "$n" = 1 ] && [ "$got" = "$want_caps" ]; then
        ok "$key= $got"
    else
        bad "$key= is set $n times to '$got'; want once: $want_caps"
    fi
done

# --- sysusers: create the user in a scratch root, never on this machine.
user="$(sed -n 's/^User=//p' "$unit")"
group="$(sed -n 's/^Group=//p' "$unit")"
mkdir -p "$scratch/users/etc"
if out="$(systemd-sysusers --root="$scratch/users" "$PWD/$sysusers" 2>&1)"; then
    pw="$(grep "^$user:" "$scratch/users/etc/passwd" || true)"
    if [ -z "$pw" ]; then
        bad "$sysusers does not create the unit's User=$user"
    elif ! grep -q "^$group:" "$scratch/users/etc/group"; then
        bad "$sysusers does not create the unit's Group=$group"
    elif [[ "$pw" != *:/usr/sbin/nologin && "$pw" != *:/sbin/nologin ]]; then
        bad "$user gets a login shell: $pw"
    else
        ok "systemd-sysusers $sysusers: $pw"
    fi
else
    bad "systemd-sysusers $sysusers: $out"
fi

# --- udev rule
if command -v udevadm >/dev/null 2>&1 && udevadm verify --help >/dev/null 2>&1; then
    if out="$(udevadm verify "$rules" 2>&1)"; then
        ok "udevadm verify $rules"
    else
        bad "udevadm verify $rules: $out"
    fi
else
    echo "note: no 'udevadm verify' here (udev of systemd < 253); the rule's syntax is checked by statime-linux/tests/packaging.rs"
fi
if grep -q "GROUP=\"$group\"" "$rules"; then
    ok "$rules gives /dev/ptp* to group $group"
else
    bad "$rules does not name the unit's Group=$group"
fi

if [ "$fail" -ne 0 ]; then
    echo "packaging/check.sh: FAILED" >&2
    exit 1
fi
echo "packaging/check.sh: all checks passed"
