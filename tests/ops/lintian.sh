#!/usr/bin/env bash
# tests/ops/lintian.sh SOURCE_DIR PKG_DIR: Debian policy on the .deb that
# tests/ops/package.sh left in PKG_DIR (built here when missing):
#   - lintian reports no error, and no warning that README.md's table "What
#     lintian still says" does not list (`*` there matches any text);
#   - the man pages and the changelog are gzip -9n (maximum compression, no
#     name, no time stamp) and hold exactly the source files; no man page is
#     shipped uncompressed; the changelog's top version is the package's;
#   - copyright is DEP-5, covers the code and the shipped model, gives the
#     text of every licence it names and names every training-data source
#     NOTICE lists;
#   - the binaries are stripped;
#   - /etc/newsclf/newsclf.yaml is shipped 0640, and the real postinst makes
#     it root:newsclf (run in a private mount namespace over a scratch /etc);
#   - prerm remove stops every instance and disables newsclfd.service and
#     each enabled newsclfd@NAME.service (real systemctl, offline, on a
#     scratch /etc).
# The namespace checks need root. Exit 77 (skipped) when everything that ran
# passed but lintian is not installed or the namespace checks could not run.
set -euo pipefail
src=$(cd "$1" && pwd)
pkg=$2
tmp=$(mktemp -d)
pass=0 fail=0 skipped=()
trap 'if [ "$fail" = 0 ]; then rm -rf "$tmp"; else echo "kept $tmp"; fi' EXIT
ok() { pass=$((pass + 1)); echo "ok    $*"; }
bad() { fail=$((fail + 1)); echo "FAIL  $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
skip() { skipped+=("$1"); echo "skip  $*"; }

if [ ! -x "$pkg/root/usr/sbin/newsclfd" ]; then
    bash "$src/tests/ops/package.sh" "$src" "$pkg" >"$tmp/package.log" 2>&1 ||
        { cat "$tmp/package.log"; exit 1; }
fi
deb=$(ls "$pkg"/newsclf_*.deb)
root=$pkg/root
ctrl=$tmp/control
dpkg-deb -e "$deb" "$ctrl"
dpkg-deb -c "$deb" >"$tmp/contents"
version=$(sed -n 's/^Version: //p' "$ctrl/control")

# ---- lintian ----
if command -v lintian >/dev/null 2>&1; then
    rc=0
    lintian --no-tag-display-limit "$deb" >"$tmp/lintian.out" 2>"$tmp/lintian.err" || rc=$?
    sed 's/^/      /' "$tmp/lintian.out"
    if [ "$rc" -gt 1 ]; then
        cat "$tmp/lintian.err"
        bad "lintian ran (exit $rc)"
    fi
    check "lintian: no error, every warning listed in README.md" \
        python3 - "$src/README.md" "$tmp/lintian.out" <<'EOF'
import re, sys
readme, out = sys.argv[1:]
section = re.search(r"^### What lintian still says\n(.*?)(?=^#)", open(readme).read(), re.S | re.M)
if not section:
    sys.exit("README.md has no section '### What lintian still says'")
listed = re.findall(r"^\| `([^`]+)` \|", section.group(1), re.M)
rx = [(p, re.compile("^" + ".*".join(map(re.escape, p.split("*"))) + "$")) for p in listed]
seen, failed = set(), False
for line in open(out):
    m = re.match(r"^([EW]): newsclf[^:]*: (.*)$", line.rstrip("\n"))
    if not m:
        continue
    hit = [p for p, r in rx if r.match(m.group(2))]
    seen.update(hit)
    if m.group(1) == "E" or not hit:
        failed = True
        print("      %s: %s" % ("error" if m.group(1) == "E" else "unlisted warning", m.group(2)))
for p in listed:
    if p not in seen:
        print("      note: README.md lists `%s`, which lintian no longer reports" % p)
sys.exit(1 if failed else 0)
EOF
else
    skip "lintian is not installed (scripts/deps installs it)"
fi

# ---- compressed man pages and changelog ----
gz_same() { # GZ SOURCE: gzip -9n, and decompresses to SOURCE
    python3 - "$1" "$2" <<'EOF'
import gzip, sys
gz, source = sys.argv[1:]
head = open(gz, "rb").read(10)
if head[:3] != b"\x1f\x8b\x08":
    sys.exit("%s: not gzip" % gz)
if head[3] & 0x08 or head[4:8] != b"\0\0\0\0":
    sys.exit("%s: has a file name or a time stamp (not gzip -n)" % gz)
if head[8] != 2:
    sys.exit("%s: not compressed with -9" % gz)
if gzip.open(gz).read() != open(source, "rb").read():
    sys.exit("%s: differs from %s" % (gz, source))
EOF
}
check "newsclf.1.gz is gzip -9n of man/newsclf.1" \
    gz_same "$root/usr/share/man/man1/newsclf.1.gz" "$src/man/newsclf.1"
check "newsclfd.8.gz is gzip -9n of man/newsclfd.8" \
    gz_same "$root/usr/share/man/man8/newsclfd.8.gz" "$src/man/newsclfd.8"
check "no man page is shipped uncompressed" \
    test -z "$(find "$root/usr/share/man" -type f ! -name '*.gz')"
check "changelog.gz is gzip -9n of scripts/deb/changelog" \
    gz_same "$root/usr/share/doc/newsclf/changelog.gz" "$src/scripts/deb/changelog"
check "the changelog's top entry is version $version" \
    test "$(dpkg-parsechangelog -l "$src/scripts/deb/changelog" -S Version)" = "$version"

# ---- copyright ----
check "copyright is DEP-5 and covers the code and the shipped model" \
    python3 - "$root/usr/share/doc/newsclf/copyright" "$src/NOTICE" <<'EOF'
import re, sys
text, notice = open(sys.argv[1]).read(), open(sys.argv[2]).read()
paras = [dict(re.findall(r"^(\S[^:]*):(.*(?:\n[ \t].*)*)", p, re.M)) for p in text.split("\n\n")]
problems = []
if paras[0].get("Format", "").strip() != "https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/":
    problems.append("no DEP-5 Format line")
files = {" ".join(p["Files"].split()): p for p in paras if "Files" in p}
if "*" not in files or not any("models/default/*" in f.split() for f in files):
    problems.append("no Files paragraph for * or for models/default/*")
texts = {p["License"].split("\n")[0].strip(): p["License"] for p in paras if "Files" not in p and "License" in p}
for f, p in files.items():
    for name in re.split(r"\s+(?:and|or)\s+", p.get("License", "").split("\n")[0].strip()):
        if name not in texts or len(texts[name].split("\n")) < 2:
            problems.append("Files: %s: no text for licence %r" % (f, name))
# Every source NOTICE lists ("Name (years), what") is named in copyright.
sources = re.findall(r"^(\S[^\n(]*?) \(\d{4}", notice.split("Sources and terms", 1)[1], re.M)
problems += ["source %r of NOTICE is not named" % s for s in sources if s not in text]
if not sources:
    problems.append("no sources found in NOTICE")
print("\n".join("      " + p for p in problems))
sys.exit(1 if problems else 0)
EOF

# ---- binaries, conffile mode ----
for b in usr/bin/newsclf usr/sbin/newsclfd; do
    check "/$b is stripped" \
        sh -c "! readelf -S '$root/$b' | grep -Eq '[.](symtab|debug_info)'"
done
check "/etc/newsclf/newsclf.yaml is shipped 0640 root" \
    grep -Eq '^-rw-r----- root/root .* \./etc/newsclf/newsclf\.yaml$' "$tmp/contents"

# ---- maintainer scripts in a private mount namespace ----
# A scratch overlay over /etc (and the package's units over
# /lib/systemd/system) keeps every change away from this machine; /run/systemd
# is a scratch tmpfs too, so systemctl stays offline (SYSTEMD_OFFLINE=1).
mkdir -p "$tmp/stubs" "$tmp/ovl"
for t in deb-systemd-invoke systemd-tmpfiles; do
    printf '#!/bin/sh\necho "%s $*" >>"%s"\n' "$t" "$tmp/calls" >"$tmp/stubs/$t"
    chmod +x "$tmp/stubs/$t"
done
cat >"$tmp/ns.sh" <<'EOF'
set -eu
root=$1 ctrl=$2 ovl=$3 stubs=$4 out=$5
mount --make-rprivate /
mount -t tmpfs tmpfs "$ovl"
mkdir "$ovl/etc" "$ovl/etc.w" "$ovl/units" "$ovl/units.w"
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$ovl/etc,workdir=$ovl/etc.w" /etc
mount -t overlay overlay \
    -o "lowerdir=/lib/systemd/system,upperdir=$ovl/units,workdir=$ovl/units.w" /lib/systemd/system
mkdir -p /run/systemd
mount -t tmpfs tmpfs /run/systemd
export SYSTEMD_OFFLINE=1 PATH="$stubs:$PATH"
cp "$root"/lib/systemd/system/newsclfd*.service /lib/systemd/system/

# As dpkg unpacks the conffile: root:root, the shipped mode.
mkdir -p /etc/newsclf /etc/sysusers.d
cp -p "$root/etc/newsclf/newsclf.yaml" /etc/newsclf/newsclf.yaml
chown root:root /etc/newsclf/newsclf.yaml
cp "$root/usr/lib/sysusers.d/newsclf.conf" /etc/sysusers.d/newsclf.conf
"$ctrl/postinst" configure
stat -c '%a %U %G' /etc/newsclf/newsclf.yaml >"$out/config-stat"

# Enabled: the single unit and two instances; systemd "runs".
systemctl enable newsclfd.service newsclfd@a.service 'newsclfd@b\x2dc.service' 2>/dev/null
find /etc/systemd/system -name 'newsclfd*' | sort >"$out/enabled-before"
mkdir /run/systemd/system
"$ctrl/prerm" remove
find /etc/systemd/system -name 'newsclfd*' | sort >"$out/enabled-after"
EOF
if [ "$(id -u)" = 0 ] && [ -d /lib/systemd/system ] && command -v systemctl >/dev/null &&
    unshare --mount true 2>/dev/null; then
    : >"$tmp/calls"
    if unshare --mount sh "$tmp/ns.sh" "$root" "$ctrl" "$tmp/ovl" "$tmp/stubs" "$tmp" \
        >"$tmp/ns.log" 2>&1; then
        ok "postinst and prerm ran in a private mount namespace"
    else
        cat "$tmp/ns.log"
        bad "postinst and prerm ran in a private mount namespace"
    fi
    check "postinst: /etc/newsclf/newsclf.yaml is 0640 root:newsclf" \
        test "$(cat "$tmp/config-stat" 2>/dev/null)" = "640 root newsclf"
    check "three units were enabled before prerm" \
        test "$(wc -l <"$tmp/enabled-before" 2>/dev/null)" = 3
    check "prerm remove disables newsclfd.service and every newsclfd@NAME.service" \
        test -f "$tmp/enabled-after" -a ! -s "$tmp/enabled-after"
    check "prerm remove stops newsclfd.service and every instance" \
        grep -qx "deb-systemd-invoke stop newsclfd.service newsclfd@\*.service" "$tmp/calls"
else
    skip "maintainer scripts in a mount namespace (needs root, unshare, systemd's tools)"
fi

echo "ops_lintian: $pass passed, $fail failed, ${#skipped[@]} skipped"
[ "$fail" = 0 ] || exit 1
[ ${#skipped[@]} = 0 ] || exit 77
