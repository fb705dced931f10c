# tests/lib/checks.sh: sourced by the shell tests (tests/ops/*.sh,
# tests/kafka/smoke.sh) after `set -euo pipefail`:
#   $tmp              a scratch folder (mktemp -d), removed on exit unless a
#                     check failed; a test's own on_exit() runs first
#   ok / bad WHAT     count a passed / failed check ($pass, $fail) and say so
#   check WHAT CMD... run CMD: ok or bad
#   wait_for SECONDS CMD...  run CMD every 0.2 s until it succeeds; 1 when
#                     it never did
#   summary NAME      "NAME: P passed, F failed"; exit status 1 on a failure
tmp=$(mktemp -d)
pass=0
fail=0
checks_exit() {
    if declare -F on_exit >/dev/null; then on_exit; fi
    if [ "$fail" = 0 ]; then rm -rf "$tmp"; else echo "kept $tmp"; fi
}
trap checks_exit EXIT
ok() { pass=$((pass + 1)); echo "ok    $*"; }
bad() { fail=$((fail + 1)); echo "FAIL  $*"; }
check() { # WHAT COMMAND...
    local what=$1
    shift
    if "$@"; then ok "$what"; else bad "$what"; fi
}
wait_for() { # SECONDS COMMAND...
    local deadline=$(($(date +%s%3N) + $1 * 1000))
    shift
    until "$@"; do
        [ "$(date +%s%3N)" -lt "$deadline" ] || return 1
        sleep 0.2
    done
}
summary() { # NAME [EXTRA]
    echo "$1: $pass passed, $fail failed${2:+ ($2)}"
    [ "$fail" = 0 ]
}
