#!/usr/bin/env bash
# bench/quality.sh: quality of newsclf on the shipped corpus, beside fastText.
#
# Trains on models/corpus/train.jsonl and evaluates on models/corpus/dev.jsonl:
#   1. newsclf with the default settings (word uni+bigrams, char 3-5-grams,
#      passages) -- the figures quoted in the README;
#   2. newsclf without character n-grams (faster, lower F1);
#   3. newsclf without passages, split by body length, to show that passages
#      change nothing on short articles and help on long ones;
#   4. fastText (-loss ova -wordNgrams 2, 50 epochs) on the same split, when
#      installed (apt-get install fasttext).
# Takes about 3 minutes on 2 cores. Prints markdown tables.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${NEWSCLF_BUILD:-build/release}
if [ ! -x "$build/newsclf" ]; then
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DNEWSCLF_TESTS=OFF >/dev/null
    cmake --build "$build" -j"$(nproc)" --target newsclf >/dev/null
fi
newsclf=$root/$build/newsclf
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
train=models/corpus/train.jsonl
dev=models/corpus/dev.jsonl
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-0}

"$newsclf" train --quiet --data $train --out "$tmp/full"
"$newsclf" train --quiet --data $train --out "$tmp/nochar" --no-char-ngrams
"$newsclf" train --quiet --data $train --out "$tmp/nopass" --no-passages

# Dev split by body length in words (passages start above 60 body words).
python3 - "$dev" "$tmp" <<'PY'
import json, sys, re
dev, tmp = sys.argv[1], sys.argv[2]
with open(dev) as f, open(tmp + "/short.jsonl", "w") as s, open(tmp + "/long.jsonl", "w") as l:
    for line in f:
        a = json.loads(line)
        words = len(re.findall(r"\w+", a.get("body") or ""))
        (l if words > 60 else s).write(line)
PY

for m in full nochar nopass; do
    for d in dev short long; do
        f=$dev
        [ $d = dev ] || f=$tmp/$d.jsonl
        "$newsclf" eval --model "$tmp/$m" --data "$f" --json > "$tmp/$m.$d.json"
    done
done

have_ft=0
if command -v fasttext >/dev/null; then
    have_ft=1
    python3 - "$train" "$dev" "$tmp" <<'PY'
import json, sys, re
train, dev, tmp = sys.argv[1:4]
def text(a):
    t = ((a.get("title") or "") + " " + (a.get("body") or "")).lower()
    return re.sub(r"\s+", " ", t).strip()
with open(train) as f, open(tmp + "/ft.train", "w") as o:
    for line in f:
        a = json.loads(line)
        labels = " ".join("__label__" + l for l in a["labels"]) or "__label__none"
        o.write(labels + " " + text(a) + "\n")
with open(dev) as f, open(tmp + "/ft.dev", "w") as o:
    for line in f:
        o.write(text(json.loads(line)) + "\n")
PY
    fasttext supervised -input "$tmp/ft.train" -output "$tmp/ft" -loss ova -wordNgrams 2 \
        -epoch 50 -dim 10 -bucket 2000000 -thread 2 -seed 1 -verbose 0 >/dev/null 2>&1
    fasttext predict-prob "$tmp/ft.bin" "$tmp/ft.dev" -1 0.5 > "$tmp/ft.pred"
fi

python3 - "$tmp" "$dev" "$have_ft" <<'PY'
import json, sys
tmp, dev, have_ft = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
def load(m, d): return json.load(open(f"{tmp}/{m}.{d}.json"))
full = load("full", "dev")
labels = list(full["labels"])
cols = [("newsclf", load("full", "dev")), ("no char n-grams", load("nochar", "dev"))]
if have_ft:
    gold = [json.loads(l)["labels"] for l in open(dev)]
    pred = []
    for line in open(f"{tmp}/ft.pred"):
        toks = line.split()
        pred.append([toks[i].replace("__label__", "") for i in range(0, len(toks), 2)])
    ft = {"labels": {}}
    macro = 0
    TP = FP = FN = 0
    for l in labels:
        tp = sum(1 for g, p in zip(gold, pred) if l in g and l in p)
        fp = sum(1 for g, p in zip(gold, pred) if l not in g and l in p)
        fn = sum(1 for g, p in zip(gold, pred) if l in g and l not in p)
        f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        ft["labels"][l] = {"f1": f1}
        macro += f1; TP += tp; FP += fp; FN += fn
    ft["macro_f1"] = macro / len(labels)
    ft["micro_f1"] = 2 * TP / (2 * TP + FP + FN)
    cols.append(("fastText (ova, bigrams)", ft))
print("| label | " + " | ".join(c for c, _ in cols) + " |")
print("|---|" + "---:|" * len(cols))
for l in labels:
    print(f"| {l} | " + " | ".join("%.3f" % r["labels"][l]["f1"] for _, r in cols) + " |")
print("| **macro-F1** | " + " | ".join("**%.3f**" % r["macro_f1"] for _, r in cols) + " |")
print("| micro-F1 | " + " | ".join("%.3f" % r["micro_f1"] for _, r in cols) + " |")
print()
print("Per label (newsclf, dev): precision / recall / F1 / support")
print()
print("| label | precision | recall | F1 | support |")
print("|---|---:|---:|---:|---:|")
for l in labels:
    s = full["labels"][l]
    print(f"| {l} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | {s['support']} |")
print()
print("Passages: macro-F1 by body length (dev)")
print()
print("| articles | n | with passages | without |")
print("|---|---:|---:|---:|")
for d in ("short", "long", "dev"):
    a, b = load("full", d), load("nopass", d)
    name = {"short": "body <= 60 words", "long": "body > 60 words", "dev": "all"}[d]
    print(f"| {name} | {a['documents']} | {a['macro_f1']:.3f} | {b['macro_f1']:.3f} |")
PY
