#!/usr/bin/env bash
# Render the man pages docs/man/NAME.SECTION.md to roff (NAME.SECTION) with
# pandoc and check the result, so that the pages in the tree always build:
#
#   docs/man/render.sh [OUTDIR]      (default: target/man)
#
# Each page becomes OUTDIR/manSECTION/NAME.SECTION. It fails when
#   - pandoc warns about anything (--fail-if-warnings);
#   - the page does not start with a NAME section of the form
#     "name - description" that mandb can index (lexgrog), or lacks
#     SYNOPSIS/DESCRIPTION (statime.toml(5) may use DESCRIPTION alone);
#   - groff or man(1) print any warning while formatting it.
# View a rendered page with: man -l target/man/man8/statime.8
# Needs pandoc, groff-base and man-db (Debian packages of those names).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${1:-$root/target/man}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

for tool in pandoc groff man lexgrog; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "render.sh: $tool is missing; install the Debian packages pandoc groff-base man-db" >&2
        exit 1
    fi
done

# The version in every footer, from the workspace manifest.
version="$(sed -n '/^\[workspace.package\]/,/^\[/ s/^version *= *"\(.*\)"/\1/p' "$root/Cargo.toml" | head -n 1)"
[ -n "$version" ] || { echo "render.sh: no [workspace.package] version in Cargo.toml" >&2; exit 1; }

# The date of a page is the date of its last commit, so that rendering the
# same tree twice gives the same bytes; uncommitted pages get today's date.
page_date() {
    local d=""
    if git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
        if git -C "$root" diff --quiet HEAD -- "$1" 2>/dev/null; then
            d="$(git -C "$root" log -1 --format=%cs -- "$1" 2>/dev/null || true)"
        fi
    fi
    if [ -z "$d" ]; then
        if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
            d="$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%d)"
        else
            d="$(date -u +%Y-%m-%d)"
        fi
    fi
    echo "$d"
}

fail=0
count=0
shopt -s nullglob
pages=("$here"/*.md)
[ ${#pages[@]} -gt 0 ] || { echo "render.sh: no pages in $here" >&2; exit 1; }
for md in "${pages[@]}"; do
    file="$(basename "$md" .md)"          # statime.toml.5
    name="${file%.*}"                      # statime.toml
    section="${file##*.}"                  # 5
    case "$section" in
        1) header="User Commands" ;;
        5) header="File Formats Manual" ;;
        7) header="Miscellaneous Information Manual" ;;
        8) header="System Manager's Manual" ;;
        *) echo "$md: file name must be NAME.SECTION.md with section 1, 5, 7 or 8" >&2; fail=1; continue ;;
    esac
    mkdir -p "$out/man$section"
    roff="$out/man$section/$file"
    log="$(mktemp)"
    if ! pandoc --standalone --from markdown --to man --fail-if-warnings \
        --metadata title="$name" --metadata section="$section" \
        --metadata date="$(page_date "$md")" --metadata footer="statime $version" \
        --metadata header="$header" \
        --output "$roff" "$md" 2>"$log"; then
        echo "$md: pandoc failed:" >&2
        cat "$log" >&2
        fail=1
        rm -f "$log"
        continue
    fi
    if [ -s "$log" ]; then
        echo "$md: pandoc said:" >&2
        cat "$log" >&2
        fail=1
    fi

    # Structure: the first section is NAME ("name - description"), and the
    # usual sections are top-level (.SH), not subsections.
    sections="$(sed -n 's/^\.SH "\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$roff")"
    first="$(printf '%s\n' "$sections" | head -n 1)"
    if [ "$first" != "NAME" ]; then
        echo "$md: the first section must be '# NAME', found '${first:-none}'" >&2
        fail=1
    fi
    for want in DESCRIPTION "SEE ALSO"; do
        if ! printf '%s\n' "$sections" | grep -qx "$want"; then
            echo "$md: no top-level '# $want' section" >&2
            fail=1
        fi
    done
    if [ "$section" = 8 ] && ! printf '%s\n' "$sections" | grep -qx SYNOPSIS; then
        echo "$md: no top-level '# SYNOPSIS' section" >&2
        fail=1
    fi
    if ! whatis_line="$(lexgrog "$roff" 2>&1)" || ! printf '%s' "$whatis_line" | grep -q "\"$name - "; then
        echo "$md: mandb cannot read the NAME line ('$name - description'): $whatis_line" >&2
        fail=1
    fi

    # Formatting: every groff warning (-ww) and man's own are errors.
    : >"$log"
    groff -man -ww -z -t "$roff" 2>>"$log" || echo "groff exited with status $?" >>"$log"
    LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$roff" >/dev/null 2>>"$log" \
        || echo "man exited with status $?" >>"$log"
    if [ -s "$log" ]; then
        echo "$md: formatting $roff gave warnings:" >&2
        cat "$log" >&2
        fail=1
    fi
    rm -f "$log"
    count=$((count + 1))
    echo "man: $roff"
done

if [ "$fail" -ne 0 ]; then
    echo "render.sh: man pages have errors (see above)" >&2
    exit 1
fi
echo "render.sh: $count man pages rendered and checked into $out"
