#!/usr/bin/env bash
# tests/ops/units.sh SOURCE_DIR PKG_DIR: the packaged systemd units against
# the unpacked package (PKG_DIR/root, left by tests/ops/package.sh; built
# here when missing):
#   - `systemd-analyze verify --root` passes for newsclfd.service and an
#     instance of newsclfd@.service. With --root, ExecStart=/usr/sbin/newsclfd
#     resolves to the unpacked newsclfd (a check shows that a missing binary
#     fails); the base targets and /bin/kill (ExecReload) are copied in;
#   - `systemd-analyze security --offline=yes --root` gives both an overall
#     exposure level <= 2.0 (printed).
# No systemd as PID 1 is needed (docs/kafka.md, "systemd here").
set -euo pipefail
src=$(cd "$1" && pwd)
pkg=$2
# shellcheck source=../lib/checks.sh
. "$src/tests/lib/checks.sh"

if [ ! -x "$pkg/root/usr/sbin/newsclfd" ]; then
    bash "$src/tests/ops/package.sh" "$src" "$pkg" >"$tmp/package.log" 2>&1 ||
        { cat "$tmp/package.log"; exit 1; }
fi
root=$tmp/root
cp -a "$pkg/root" "$root"
unitdir=$root/lib/systemd/system
for t in sysinit basic multi-user network-online network network-pre local-fs local-fs-pre \
    swap sockets timers paths slices shutdown default emergency rescue; do
    [ -f "/lib/systemd/system/$t.target" ] && cp "/lib/systemd/system/$t.target" "$unitdir/"
done
for s in /lib/systemd/system/*.slice; do [ -f "$s" ] && cp "$s" "$unitdir/"; done
mkdir -p "$root/bin" "$root/tmp"
cp /bin/kill "$root/bin/kill"

verify() { # UNIT: silent and exit 0 means clean
    local outf=$tmp/verify.out
    (cd / && systemd-analyze verify --root="$root" --man=no "$@") >"$outf" 2>&1 || {
        cat "$outf"
        return 1
    }
    if [ -s "$outf" ]; then cat "$outf"; return 1; fi
}
check "systemd-analyze verify newsclfd.service" verify /lib/systemd/system/newsclfd.service
check "systemd-analyze verify newsclfd@.service (an instance)" verify newsclfd@test.service

mv "$root/usr/sbin/newsclfd" "$root/usr/sbin/newsclfd.away"
check "verify looks at the unpacked newsclfd (fails without it)" \
    sh -c "cd / && systemd-analyze verify --root='$root' --man=no \
           /lib/systemd/system/newsclfd.service 2>&1 | grep -q '/usr/sbin/newsclfd is not executable'"
mv "$root/usr/sbin/newsclfd.away" "$root/usr/sbin/newsclfd"

exposure() { # UNIT -> prints the level, returns 0 when <= 2.0
    local line level
    line=$(cd / && systemd-analyze security --offline=yes --root="$root" "$1" 2>&1 |
        grep 'Overall exposure level') || { echo "no exposure level for $1"; return 1; }
    level=$(sed -n 's/.*: \([0-9.]*\) .*/\1/p' <<<"$line")
    echo "      $line"
    awk -v l="$level" 'BEGIN { exit !(l != "" && l <= 2.0) }'
}
check "newsclfd.service exposure <= 2.0" exposure newsclfd.service
check "newsclfd@test.service exposure <= 2.0" exposure newsclfd@test.service

summary ops_units
