#!/usr/bin/env bash
# Copy the small artefacts of one run.sh output directory into a report directory:
# results.md, versions, resources, configs, CSV series, ptp4l logs and the GM log as they are,
# and the per-sample logs of the slaves of ours named in KEEP_LOGS (xz-compressed).
#   usage: collect.sh RUNDIR DEST [SLAVE_NAME...]   e.g. collect.sh /tmp/vb-final rep/run1 statime-default
set -euo pipefail
src=$1 dst=$2
shift 2
mkdir -p "$dst/cfg"
cp "$src"/results.md "$src"/versions.txt "$src"/resources.txt "$dst/"
cp "$src"/cfg/*.toml "$src"/cfg/*.cfg "$dst/cfg/"
cp "$src"/*.csv "$dst/"
cp "$src"/ptp4l-*.log "$src"/statime-gm.log "$dst/"
for name in "$@"; do
    xz -9 -c "$src/$name.log" >"$dst/$name.log.xz"
done
