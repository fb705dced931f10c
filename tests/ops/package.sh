#!/usr/bin/env bash
# tests/ops/package.sh SOURCE_DIR [OUT_DIR]: builds the Debian package the way
# a release would (Release, NEWSCLF_TESTS=OFF, prefix /usr, cpack) in a
# scratch build directory, unpacks it (dpkg-deb -x / -e) and checks:
#   - the file list: programs, man pages, config, shipped model (read-only,
#     root-owned), units, sysusers.d / tmpfiles.d entries, NOTICE; nothing
#     outside the expected directories;
#   - conffiles: /etc/newsclf/newsclf.yaml, and each listed file is shipped;
#   - Depends: the runtime libraries, from dpkg-shlibdeps (libsystemd0 and
#     libmicrohttpd12 required as soon as newsclfd links them);
#   - maintainer scripts: present, executable, `sh -n` clean, and what
#     postinst/prerm/postrm do, run with stub systemd tools on PATH;
#   - sysusers.d + tmpfiles.d applied to the unpacked root (--root) give the
#     newsclf user and /var/lib/newsclf/models/current -> the shipped model,
#     which the packaged newsclf loads.
# With OUT_DIR, the .deb and the unpacked root stay in OUT_DIR/{*.deb,root}
# for tests/ops/units.sh (the ops_units test).
set -euo pipefail
src=$(cd "$1" && pwd)
out=${2:-}
# shellcheck source=../lib/checks.sh
. "$src/tests/lib/checks.sh"
t0=$(date +%s)

cmake -S "$src" -B "$tmp/b" -DCMAKE_BUILD_TYPE=Release -DNEWSCLF_TESTS=OFF \
    -DCMAKE_INSTALL_PREFIX=/usr >"$tmp/cmake.log" 2>&1 || { cat "$tmp/cmake.log"; exit 1; }
cmake --build "$tmp/b" -j"$(nproc)" >"$tmp/build.log" 2>&1 || { tail -30 "$tmp/build.log"; exit 1; }
(cd "$tmp/b" && cpack >"$tmp/cpack.log" 2>&1) || { cat "$tmp/cpack.log"; exit 1; }
deb=$(ls "$tmp"/b/newsclf_*.deb)
echo "built $(basename "$deb") in $(($(date +%s) - t0)) s"
root=$tmp/root
ctrl=$tmp/control
dpkg-deb -x "$deb" "$root"
dpkg-deb -e "$deb" "$ctrl"
dpkg-deb -c "$deb" >"$tmp/contents"

# ---- file list ----
files=(usr/bin/newsclf usr/sbin/newsclfd usr/sbin/newsclf-retrain
       usr/share/man/man1/newsclf.1.gz usr/share/man/man8/newsclfd.8.gz
       etc/newsclf/newsclf.yaml
       usr/share/newsclf/models/default/manifest.json usr/share/newsclf/models/default/df.tsv
       lib/systemd/system/newsclfd.service "lib/systemd/system/newsclfd@.service"
       usr/lib/sysusers.d/newsclf.conf usr/lib/tmpfiles.d/newsclf.conf
       usr/share/doc/newsclf/NOTICE)
for f in "${files[@]}"; do check "ships /$f" test -f "$root/$f"; done
for f in usr/bin/newsclf usr/sbin/newsclfd usr/sbin/newsclf-retrain; do
    check "/$f is executable" test -x "$root/$f"
done
check "every label of the shipped model is shipped" python3 - "$root/usr/share/newsclf/models/default" <<'EOF'
import json, os, sys
d = sys.argv[1]
m = json.load(open(d + "/manifest.json"))
sys.exit(0 if all(os.path.isfile(os.path.join(d, l["file"])) for l in m["labels"]) else 1)
EOF
check "model files are read-only and root-owned" \
    test -z "$(grep ' ./usr/share/newsclf/models/default/.' "$tmp/contents" | grep -v '^-r--r--r-- root/root')"
check "the man pages are not empty" test -n "$(zcat "$root/usr/share/man/man8/newsclfd.8.gz")"
check "newsclfd(8) renders without warnings" \
    test -z "$(zcat "$root/usr/share/man/man8/newsclfd.8.gz" | groff -man -Tutf8 -ww -z 2>&1)"
check "the unit and tmpfiles paths agree with the package" \
    grep -q '^L /var/lib/newsclf/models/current .* /usr/share/newsclf/models/default$' \
    "$root/usr/lib/tmpfiles.d/newsclf.conf"
stray=$(awk '{print $6}' "$tmp/contents" | grep -v '/$' |
    grep -Ev '^\./(usr/(bin|sbin)/|usr/share/(man|doc/newsclf|newsclf)/|etc/newsclf/|lib/systemd/system/|usr/lib/(sysusers|tmpfiles)\.d/)' || true)
check "nothing outside the expected directories${stray:+: $stray}" test -z "$stray"

# ---- conffiles ----
check "conffiles lists /etc/newsclf/newsclf.yaml" grep -qx /etc/newsclf/newsclf.yaml "$ctrl/conffiles"
while read -r c; do
    [ -n "$c" ] && check "conffile $c is shipped" test -f "$root$c"
done <"$ctrl/conffiles"
check "every file in /etc is a conffile" \
    test -z "$(cd "$root" && find etc -type f | sed 's|^|/|' | grep -vxFf "$ctrl/conffiles")"

# ---- Depends ----
depends=$(sed -n 's/^Depends: //p' "$ctrl/control")
echo "Depends: $depends"
need=(librdkafka1 libyaml-0-2 libsvm3 libjansson4 libxxhash0)
needed=$(readelf -d "$root/usr/sbin/newsclfd" "$root/usr/bin/newsclf" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p')
grep -q '^libsystemd\.so' <<<"$needed" && need+=(libsystemd0)
grep -q '^libmicrohttpd\.so' <<<"$needed" && need+=(libmicrohttpd12)
for p in "${need[@]}"; do
    check "Depends has $p" grep -Eq "(^|, )$p( |,|$)" <<<"$depends"
done
for p in libsystemd0 libmicrohttpd12; do
    grep -Eq "(^|, )$p( |,|$)" <<<"$depends" ||
        echo "note  $p not in Depends: newsclfd does not link it (yet)"
done
check "Depends has python3 (newsclf-retrain)" grep -Eq "(^|, )python3( |,|$)" <<<"$depends"

# ---- maintainer scripts ----
for s in postinst prerm postrm; do
    check "$s is executable" test -x "$ctrl/$s"
    check "$s passes sh -n" sh -n "$ctrl/$s"
done
# Run them with stubs: every systemd tool just logs its arguments.
mkdir -p "$tmp/stubs"
for t in systemd-sysusers systemd-tmpfiles systemctl adduser; do
    printf '#!/bin/sh\necho "%s $*" >>"%s"\n' "$t" "$tmp/calls" >"$tmp/stubs/$t"
    chmod +x "$tmp/stubs/$t"
done
: >"$tmp/calls"
check "postinst configure succeeds" env PATH="$tmp/stubs:$PATH" "$ctrl/postinst" configure
check "postinst runs systemd-sysusers newsclf.conf" grep -qx 'systemd-sysusers newsclf.conf' "$tmp/calls"
check "postinst runs systemd-tmpfiles --create newsclf.conf" \
    grep -qx 'systemd-tmpfiles --create newsclf.conf' "$tmp/calls"
if [ -d /run/systemd/system ]; then
    check "postinst reloads systemd" grep -q '^systemctl daemon-reload' "$tmp/calls"
else
    check "postinst leaves systemctl alone when systemd is not running" \
        test -z "$(grep '^systemctl' "$tmp/calls" || true)"
fi
check "postinst reloads systemd only when it runs" \
    grep -q 'if \[ -d /run/systemd/system \]; then' "$ctrl/postinst"
check "postinst does not enable or start the daemon" \
    test -z "$(grep -v '^ *#' "$ctrl/postinst" | grep -E 'systemctl (enable|start)' || true)"
check "prerm remove succeeds" env PATH="$tmp/stubs:$PATH" "$ctrl/prerm" remove
check "prerm stops every instance" grep -q "deb-systemd-invoke stop newsclfd.service 'newsclfd@\*.service'" "$ctrl/prerm"
check "postrm remove succeeds" env PATH="$tmp/stubs:$PATH" "$ctrl/postrm" remove
check "postrm purge removes the model store" grep -q 'rm -rf /var/lib/newsclf$' "$ctrl/postrm"

# ---- sysusers.d and tmpfiles.d on the unpacked root ----
inst=$tmp/inst
cp -a "$root" "$inst"
mkdir -p "$inst/etc"
check "systemd-sysusers --root creates the newsclf user" \
    sh -c "systemd-sysusers --root='$inst' newsclf.conf >/dev/null 2>&1 && grep -q '^newsclf:' '$inst/etc/passwd'"
check "systemd-tmpfiles --root --create succeeds" \
    systemd-tmpfiles --root="$inst" --create newsclf.conf
check "/var/lib/newsclf/models/current -> the shipped model" \
    test "$(readlink "$inst/var/lib/newsclf/models/current")" = /usr/share/newsclf/models/default
check "the packaged newsclf loads the packaged model" \
    sh -c "'$root/usr/bin/newsclf' classify --model '$root/usr/share/newsclf/models/default' \
           --whole '$src/models/corpus/example-article.txt' | grep -q '\"labels\":\\[\"'"
# The installed retrain script names itself as installed, and without
# arguments says what data it needs (exit 2) instead of failing on a path.
check "newsclf-retrain --help names itself newsclf-retrain" \
    sh -c "'$root/usr/sbin/newsclf-retrain' --help | head -1 | grep -q '^newsclf-retrain: '"
retrain_out=$("$root/usr/sbin/newsclf-retrain" 2>&1) && retrain_rc=0 || retrain_rc=$?
check "newsclf-retrain without arguments exits 2" test "$retrain_rc" = 2
check "newsclf-retrain without arguments explains the data it needs" \
    grep -q '^newsclf-retrain: no labeled articles given' <<<"$retrain_out"
check "newsclf-retrain without arguments shows the --data form" \
    grep -q 'newsclf-retrain --data LABELED.jsonl' <<<"$retrain_out"
# --check-config also loads the model; model.path names the installed
# store's symlink, which points into / here, so the packaged model is named.
check "newsclfd --check-config accepts the packaged config" \
    "$root/usr/sbin/newsclfd" --check-config "$root/etc/newsclf/newsclf.yaml" \
    --set "model.path=$root/usr/share/newsclf/models/default"

if [ -n "$out" ]; then
    rm -rf "$out"
    mkdir -p "$out"
    cp "$deb" "$out/"
    cp -a "$root" "$out/root"
fi
summary ops_package "$(($(date +%s) - t0)) s"
