#!/usr/bin/env bash
# tests/ops/retrain.sh BUILD_DIR SOURCE_DIR: scripts/retrain's deploy
# workflow against a scratch model store and a fake daemon
# (tests/ops/fake_daemon.py: /metrics on a free loopback port, rewritten on
# SIGHUP from <store>/current):
#   1. the first retrain deploys (nothing to compare with);
#   2. a retrain on more data improves and deploys; the reload is confirmed
#      through /metrics; previous = the first version;
#   3. a retrain on shuffled labels is refused (exit 3), current unchanged;
#      the reference set (held-out articles of earlier deploys) shows it even
#      though this run's own held-out labels are shuffled too;
#   4. --rollback returns to the first version, confirmed;
#   5. a reload whose effect never shows is undone (exit 4), current unchanged;
#   6. feedback from a Kafka topic (mock cluster) replaces --data labels by id,
#      the latest message winning, and the 10% bucket is held out.
# Small data and `-- --folds 0` keep it to a few seconds.
set -euo pipefail
bin=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
retrain=$src/scripts/retrain
export NEWSCLF=$bin/newsclf
# shellcheck source=../lib/checks.sh
. "$src/tests/lib/checks.sh"
pids=()
on_exit() { # the fake daemon and the mock broker
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}

store=$tmp/store
mkdir -p "$store"
corpus=$src/models/corpus/train.jsonl
head -300 "$corpus" >"$tmp/small.jsonl"
head -1500 "$corpus" >"$tmp/more.jsonl"
python3 - "$tmp/more.jsonl" "$tmp/garbage.jsonl" <<'EOF'
import json, random, sys
arts = [json.loads(l) for l in open(sys.argv[1])]
labels = [a["labels"] for a in arts]
rnd = random.Random(7)
rnd.shuffle(labels)
with open(sys.argv[2], "w") as f:
    for a, l in zip(arts, labels):
        a["labels"] = l
        f.write(json.dumps(a) + "\n")
EOF

# The fake daemon, reloading on SIGHUP.
python3 "$src/tests/ops/fake_daemon.py" --store "$store" --port-file "$tmp/port" \
    --pid-file "$tmp/daemon.pid" --ignore-hup-file "$tmp/ignore-hup" &
pids+=($!)
wait_for 10 test -s "$tmp/port" || { echo "FAIL  the fake daemon did not start"; exit 1; }
url=http://127.0.0.1:$(cat "$tmp/port")/metrics
common=(--store "$store" --name news --pid-file "$tmp/daemon.pid" --metrics-url "$url"
        --reload-timeout 5)

version_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1] + "/manifest.json"))["version"])' "$1"; }
metrics_has() { python3 -c 'import sys,urllib.request; sys.exit(0 if sys.argv[2] in urllib.request.urlopen(sys.argv[1]).read().decode() else 1)' "$url" "version=\"$1\""; }
run() { # EXPECTED_RC LOG ARGS...
    local want=$1 log=$2 rc=0
    shift 2
    "$retrain" "$@" >"$log" 2>&1 || rc=$?
    if [ "$rc" != "$want" ]; then
        echo "--- scripts/retrain $* exited $rc, expected $want:"
        cat "$log"
        return 1
    fi
}

t0=$(date +%s%N)
# 1. first deploy
check "first retrain deploys into an empty store" \
    run 0 "$tmp/r1.log" "${common[@]}" --data "$tmp/small.jsonl" -- --folds 0
v1=$(readlink "$store/current")
check "current -> a version directory" test -f "$store/$v1/manifest.json"
check "reload confirmed: /metrics shows $v1" metrics_has "$(version_of "$store/current")"

# 2. more data: better, deployed
check "retrain on more data deploys" \
    run 0 "$tmp/r2.log" "${common[@]}" --data "$tmp/more.jsonl" --keep 2 -- --folds 0
sed -n '/^comparison on/,/accepted/p' "$tmp/r2.log"
v2=$(readlink "$store/current")
check "current switched ($v1 -> $v2)" test "$v1" != "$v2"
check "previous -> $v1" test "$(readlink "$store/previous")" = "$v1"
check "reload confirmed: /metrics shows $v2" metrics_has "$(version_of "$store/current")"
check "the comparison table was printed" grep -q '^macro-F1' "$tmp/r2.log"

# 3. garbage labels: refused
check "retrain on shuffled labels is refused (exit 3)" \
    run 3 "$tmp/r3.log" "${common[@]}" --data "$tmp/garbage.jsonl" -- --folds 0
sed -n '/^comparison on/,/refused/p' "$tmp/r3.log"
check "the reference set of the earlier deploy refused it" grep -q 'reference: macro-F1' "$tmp/r3.log"
check "current unchanged after the refusal" test "$(readlink "$store/current")" = "$v2"

# 4. rollback
check "--rollback works" run 0 "$tmp/r4.log" "${common[@]}" --rollback
check "current -> $v1 again" test "$(readlink "$store/current")" = "$v1"
check "previous -> $v2" test "$(readlink "$store/previous")" = "$v2"
check "rollback confirmed: /metrics shows $v1" metrics_has "$(version_of "$store/current")"

# 5. a reload that never takes effect
touch "$tmp/ignore-hup"
check "an unconfirmed reload is undone (exit 4)" \
    run 4 "$tmp/r5.log" "${common[@]}" --data "$tmp/more.jsonl" --reload-timeout 2 -- --folds 0
check "the log says it switched back" grep -q 'switched current back' "$tmp/r5.log"
check "current back at $v1" test "$(readlink "$store/current")" = "$v1"
rm -f "$tmp/ignore-hup"
check "no temporary links left in the store" \
    test -z "$(find "$store" -maxdepth 1 -name '.*.tmp')"
echo "deploy steps: $(( ($(date +%s%N) - t0) / 1000000 )) ms"

# 6. feedback from Kafka (mock cluster)
"$bin/newsclf-mockbroker" --bootstrap-file "$tmp/bootstrap" --topic news.feedback:2 \
    >/dev/null 2>"$tmp/broker.log" &
pids+=($!)
wait_for 10 test -s "$tmp/bootstrap" || { echo "FAIL  the mock broker did not start"; exit 1; }
bs=$(cat "$tmp/bootstrap")
# Three corrections of the first article of small.jsonl (the last wins), one
# of the second, and one new article; each as one message.
python3 - "$tmp/small.jsonl" "$tmp/feedback.txt" <<'EOF'
import json, sys
arts = [json.loads(l) for l in open(sys.argv[1])][:2]
out = open(sys.argv[2], "w")
for labels in (["trade"], ["conflict"], ["sanctions", "vaccines"]):
    a = dict(arts[0]); a["labels"] = labels; out.write(json.dumps(a) + "\n")
b = dict(arts[1]); b["labels"] = ["vaccines"]; out.write(json.dumps(b) + "\n")
out.write(json.dumps({"id": "fb-new-1", "title": "New", "body": "A new article.",
                      "labels": ["trade"]}) + "\n")
EOF
kcat -P -b "$bs" -t news.feedback -p 0 -l "$tmp/feedback.txt" 2>>"$tmp/broker.log"
check "--prepare-only with the feedback topic" \
    run 0 "$tmp/r6.log" --store "$tmp/store2" --data "$tmp/small.jsonl" --brokers "$bs" \
    --prepare-only --workdir "$tmp/work"
check "feedback replaced the labels (latest wins), 301 articles, bucket held out" \
    python3 - "$tmp/small.jsonl" "$tmp/work" <<'EOF'
import hashlib, json, sys
small = [json.loads(l) for l in open(sys.argv[1])]
rows = {}
for part in ("train", "heldout"):
    for l in open(sys.argv[2] + "/" + part + ".jsonl"):
        a = json.loads(l)
        rows[a["id"]] = (part, a["labels"])
ok = len(rows) == 301
ok &= rows[small[0]["id"]][1] == ["sanctions", "vaccines"]
ok &= rows[small[1]["id"]][1] == ["vaccines"]
ok &= rows["fb-new-1"][1] == ["trade"]
for i, (part, _) in rows.items():
    held = int(hashlib.sha1(i.encode()).hexdigest()[:8], 16) % 10 == 0
    ok &= (part == "heldout") == held
print("articles=%d heldout=%d" % (len(rows), sum(p == "heldout" for p, _ in rows.values())))
sys.exit(0 if ok else 1)
EOF

summary ops_retrain "$(( ($(date +%s%N) - t0) / 1000000 )) ms"
