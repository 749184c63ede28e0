#!/usr/bin/env bash
# Checks the systemd units in this directory:
#   1. `systemd-analyze verify` accepts every unit (the templates through an
#      instance, hdis-sync@ci); any diagnostic about our units is a failure,
#      not only a non-zero exit (verify exits 0 on unknown keys and bad values).
#   2. `systemd-analyze security --offline=true` of every service, printed as a
#      table; an exposure above $MAX_EXPOSURE (default 2.0) is a failure.
#
# ExecStart= must name an executable, so the units are checked from a copy with
# /usr/bin/hdis-sync replaced by a built binary: $HDIS_SYNC_BIN, else the first
# of $CARGO_TARGET_DIR/{release,debug}/hdis-sync, target/{release,debug}/hdis-sync,
# /usr/bin/hdis-sync, else (nothing built) `true`: verify only checks that
# ExecStart= names an executable file.
#
# Installs Debian's `systemd` package when systemd-analyze is missing.
# Usage: systemd/verify.sh            (from anywhere; exit 0 = all good)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
max_exposure="${MAX_EXPOSURE:-2.0}"
instance=ci

services=(hdis-sync.service hdis-sync-daemon.service "hdis-sync@${instance}.service")
units=(hdis-sync.service hdis-sync.timer hdis-sync-daemon.service
    "hdis-sync@${instance}.service" "hdis-sync@${instance}.timer")
files=(hdis-sync.service hdis-sync.timer hdis-sync-daemon.service
    hdis-sync@.service hdis-sync@.timer)

if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "== systemd-analyze missing: installing Debian's systemd package"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y --no-install-recommends systemd; then
        apt-get update
        apt-get install -y --no-install-recommends systemd
    fi
fi
echo "== $(systemd-analyze --version | head -n1)"

bin="${HDIS_SYNC_BIN:-}"
if [ -z "$bin" ]; then
    for c in ${CARGO_TARGET_DIR:+"$CARGO_TARGET_DIR/release/hdis-sync" "$CARGO_TARGET_DIR/debug/hdis-sync"} \
        "$root/target/release/hdis-sync" "$root/target/debug/hdis-sync" /usr/bin/hdis-sync; do
        if [ -x "$c" ]; then bin="$c"; break; fi
    done
fi
if [ -n "$bin" ] && [ ! -x "$bin" ]; then
    echo "verify.sh: HDIS_SYNC_BIN=$bin is not an executable file" >&2
    exit 2
fi
if [ -z "$bin" ]; then
    # verify only needs ExecStart= to name an executable file.
    bin="$(type -P true)"
    echo "== no hdis-sync built (cargo build --release); ExecStart= checked with $bin"
else
    bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
    echo "== binary for ExecStart=: $bin"
fi

fail=0
passed=0
failed=0
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

for f in "${files[@]}"; do
    if [ ! -f "$here/$f" ]; then
        echo "FAIL: $f is missing" >&2
        fail=1
        continue
    fi
    # The shipped units must point at the packaged binary.
    if grep -E '^ExecStart=' "$here/$f" | grep -vq '^ExecStart=/usr/bin/hdis-sync '; then
        echo "FAIL: $f: ExecStart= must run /usr/bin/hdis-sync" >&2
        fail=1
    fi
    sed "s#/usr/bin/hdis-sync #${bin} #g" "$here/$f" >"$work/$f"
done
[ "$fail" -eq 0 ] || exit 1

echo "== systemd-analyze verify ${units[*]}"
cd "$work"
for u in "${units[@]}"; do
    set +e
    out="$(systemd-analyze verify "./$u" 2>&1)"
    rc=$?
    set -e
    # Diagnostics about other units (e.g. the host's own) are shown, not fatal.
    ours="$(printf '%s\n' "$out" | grep -E 'hdis-sync' || true)"
    if [ "$rc" -ne 0 ] || [ -n "$ours" ]; then
        echo "FAIL: $u (exit $rc)"
        printf '%s\n' "$out" | sed 's/^/    /'
        fail=1
        failed=$((failed + 1))
    else
        echo "ok    $u"
        passed=$((passed + 1))
        if [ -n "$out" ]; then printf '%s\n' "$out" | sed 's/^/    note: /'; fi
    fi
done

echo "== systemd-analyze security --offline=true (exposure 0.0 best .. 10.0 worst; limit $max_exposure)"
table="| unit | exposure | rating |
| --- | --- | --- |"
for u in "${services[@]}"; do
    set +e
    out="$(systemd-analyze security --offline=true --no-pager "./$u" 2>&1)"
    rc=$?
    set -e
    line="$(printf '%s\n' "$out" | grep 'Overall exposure level' || true)"
    # "→ Overall exposure level for X: 1.2 OK 🙂"
    level="$(printf '%s\n' "$line" | sed -nE 's/.*: ([0-9]+\.[0-9]+) ([A-Z]+).*/\1/p')"
    rating="$(printf '%s\n' "$line" | sed -nE 's/.*: ([0-9]+\.[0-9]+) ([A-Z]+).*/\2/p')"
    if [ "$rc" -ne 0 ] || [ -z "$level" ]; then
        echo "FAIL: security $u (exit $rc)"
        printf '%s\n' "$out" | sed 's/^/    /'
        fail=1
        failed=$((failed + 1))
        continue
    fi
    if awk -v l="$level" -v m="$max_exposure" 'BEGIN { exit !(l > m) }'; then
        echo "FAIL: $u exposure $level is above $max_exposure; what is still open:"
        printf '%s\n' "$out" | grep '✗' | sed 's/^/    /'
        fail=1
        failed=$((failed + 1))
    else
        passed=$((passed + 1))
    fi
    table="$table
| \`$u\` | $level | $rating |"
done
printf '%s\n' "$table"

echo "== what is still open in hdis-sync.service"
systemd-analyze security --offline=true --no-pager ./hdis-sync.service 2>&1 | grep '✗' | sed 's/^/    /' || true

if [ "$fail" -ne 0 ]; then
    echo "systemd/verify.sh: FAILED"
    echo "units: $passed passed, $failed failed"
    exit 1
fi
echo "systemd/verify.sh: all ${#units[@]} units verified, ${#services[@]} services at or below exposure $max_exposure"
echo "units: $passed passed, $failed failed"
