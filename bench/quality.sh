#!/usr/bin/env bash
# bench/quality.sh: quality of newsclf on the shipped corpus, beside fastText.
#
#   1. Dev set: trains on models/corpus/train.jsonl and evaluates on
#      models/corpus/dev.jsonl:
#        - newsclf with the default settings (word uni+bigrams, char 4-grams,
#          passages, learned combination of document and passage scores);
#        - the same with the previous rule (--combine max: the maximum over
#          the document and its passages, Platt's sigmoid), which is what
#          newsclf trained before the learned combiner: "before" and "after";
#        - without character n-grams (faster, lower F1);
#        - without passages, split by body length, to show what passages do on
#          short and on long articles;
#        - fastText (-loss ova -wordNgrams 2, 50 epochs) on the same split,
#          when installed (apt-get install fasttext).
#      dev has 69 sanctions articles: a label's dev F1 moves by about +-0.04
#      between equally good models.
#   2. Nested 5-fold cross-validation on train+dev (8,715 articles; C,
#      combiner and threshold chosen inside each training fold), both
#      combiners on the same folds: the figures newsclf train stores in the
#      manifest (cv.nested), from a training on train+dev like
#      scripts/retrain's. These are the figures to judge a model change by.
#   3. The example article (models/corpus/example-article.txt) with that
#      model: each label's probability and threshold.
# Takes about 5 minutes on 2 cores. Prints markdown tables.
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

"$newsclf" train --quiet --no-nested --data $train --out "$tmp/full"
"$newsclf" train --quiet --no-nested --data $train --out "$tmp/max" --combine max
"$newsclf" train --quiet --no-nested --data $train --out "$tmp/nochar" --no-char-ngrams
"$newsclf" train --quiet --no-nested --data $train --out "$tmp/nopass" --no-passages
"$newsclf" train --quiet --data $train --data $dev --out "$tmp/all"
"$newsclf" explain --json --top 1 --model "$tmp/all" models/corpus/example-article.txt \
    > "$tmp/example.json"

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

for m in full max nochar nopass; do
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
cols = [("newsclf", full), ("newsclf, max rule (before)", load("max", "dev")),
        ("no char n-grams", load("nochar", "dev"))]
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
print("Dev set (trained on train.jsonl), F1:")
print()
print("| label | " + " | ".join(c for c, _ in cols) + " |")
print("|---|" + "---:|" * len(cols))
for l in labels:
    print(f"| {l} | " + " | ".join("%.3f" % r["labels"][l]["f1"] for _, r in cols) + " |")
print("| **macro-F1** | " + " | ".join("**%.3f**" % r["macro_f1"] for _, r in cols) + " |")
print("| micro-F1 | " + " | ".join("%.3f" % r["micro_f1"] for _, r in cols) + " |")
print()
print("Per label on dev, before (max rule) and after (learned combiner): "
      "precision / recall / F1 / support")
print()
print("| label | before P | before R | before F1 | after P | after R | after F1 | support |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
before = load("max", "dev")
for l in labels:
    b, a = before["labels"][l], full["labels"][l]
    print(f"| {l} | {b['precision']:.3f} | {b['recall']:.3f} | {b['f1']:.3f} | "
          f"{a['precision']:.3f} | {a['recall']:.3f} | {a['f1']:.3f} | {a['support']} |")
print()
print("Passages: macro-F1 by body length (dev)")
print()
print("| articles | n | with passages | without |")
print("|---|---:|---:|---:|")
for d in ("short", "long", "dev"):
    a, b = load("full", d), load("nopass", d)
    name = {"short": "body <= 60 words", "long": "body > 60 words", "dev": "all"}[d]
    print(f"| {name} | {a['documents']} | {a['macro_f1']:.3f} | {b['macro_f1']:.3f} |")

man = json.load(open(f"{tmp}/all/manifest.json"))
nested = man["cv"]["nested"]
lr, mx = nested["learned"], nested["max"]
print()
print(f"Nested {nested['folds']}-fold cross-validation on train+dev "
      f"({man['training']['documents']} articles; C, combiner and threshold chosen inside "
      "each training fold), F1 (precision / recall):")
print()
print("| label | learned combiner | max rule | difference |")
print("|---|---:|---:|---:|")
for l in labels:
    a, b = lr["labels"][l], mx["labels"][l]
    print(f"| {l} | {a['f1']:.3f} ({a['precision']:.3f} / {a['recall']:.3f}) | "
          f"{b['f1']:.3f} ({b['precision']:.3f} / {b['recall']:.3f}) | "
          f"{a['f1'] - b['f1']:+.3f} |")
print(f"| **macro-F1** | **{lr['macro_f1']:.3f}** | **{mx['macro_f1']:.3f}** | "
      f"**{lr['macro_f1'] - mx['macro_f1']:+.3f}** |")
print(f"| micro-F1 | {lr['micro_f1']:.3f} | {mx['micro_f1']:.3f} | "
      f"{lr['micro_f1'] - mx['micro_f1']:+.3f} |")
print()
print("The example article (models/corpus/example-article.txt), trained on train+dev:")
print()
print("| label | probability | threshold | margin |")
print("|---|---:|---:|---:|")
for l in json.load(open(f"{tmp}/example.json"))["labels"]:
    print(f"| {l['label']} | {l['probability']:.3f} | {l['threshold']:.2f} | "
          f"{l['probability'] - l['threshold']:+.3f} |")
PY
