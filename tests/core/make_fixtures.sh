#!/bin/sh
# make_fixtures.sh NEWSCLF CORPUS_DIR OUT_DIR
#
# Trains the small models the core's model tests share (ctest fixture
# core_models), on 400 articles without cross-validation (C = 1), about a
# second each:
#   OUT_DIR/compact  default features; the default file form (the folded
#                    weight vector as one support vector)
#   OUT_DIR/fullsv   the same with libsvm's own support vectors (--full-sv)
#   OUT_DIR/tiny     2^14 + 2^14 hash buckets: cheap to copy and load, for the
#                    broken-model tests that load it a hundred times
set -eu
newsclf=$1
corpus=$2
out=$3

rm -rf "$out"
mkdir -p "$out"
SOURCE_DATE_EPOCH=1700000000
export SOURCE_DATE_EPOCH

"$newsclf" train --data "$corpus/train.jsonl" --limit 400 --folds 0 --C 1 \
    --out "$out/compact" --quiet &
p1=$!
"$newsclf" train --data "$corpus/train.jsonl" --limit 400 --folds 0 --C 1 --full-sv \
    --out "$out/fullsv" --quiet &
p2=$!
"$newsclf" train --data "$corpus/train.jsonl" --limit 400 --folds 0 --C 1 \
    --word-bits 14 --char-bits 14 --out "$out/tiny" --quiet &
p3=$!
rc=0
wait "$p1" || rc=1
wait "$p2" || rc=1
wait "$p3" || rc=1
if [ "$rc" -ne 0 ]; then
    echo "make_fixtures.sh: training a fixture model failed" >&2
    exit 1
fi
for m in compact fullsv tiny; do
    test -f "$out/$m/manifest.json" || { echo "make_fixtures.sh: $out/$m incomplete" >&2; exit 1; }
done
echo "fixture models in $out"
