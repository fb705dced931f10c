#!/usr/bin/env bash
# bench/classify.sh - newsclf classification speed against fastText and wc -w.
#
# Builds ~40 MB of JSON lines from models/corpus/{dev,train}.jsonl, runs
# bench/classify on it (in-process rounds, model load time, peak RSS), then
# times three whole processes, model loading included, on the same articles:
#   newsclf   build/bench/classify --rounds 1 (parse + featurize + predict)
#   fastText  fasttext predict-prob (trained here on the same train set)
#   wc -w     over the same JSONL bytes, default locale and C.UTF-8
# and checks the floors of the issue:
#   newsclf articles/s >= 2.5 x fastText predict-prob articles/s
#   newsclf bytes/s    >= 0.35 x wc -w bytes/s (each wc -w row)
#
# Exit status: 0 every floor checked passed, 1 a floor failed, 2 usage or
# set-up error. See bench/README.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${NEWSCLF_BUILD:-$ROOT/build}
FASTTEXT=${FASTTEXT:-fasttext}
RUNS=3
ROUNDS=5
TARGET_MB=40
MARKDOWN=0
STAGES=0
MODEL=

usage() {
    cat <<EOF
usage: bench/classify.sh [--markdown] [--runs N] [--rounds N] [--mb N] [--stages]
                         [--build DIR] [MODEL]

Times newsclf (bench/classify), fastText predict-prob and wc -w as whole
processes on the same ~40 MB of articles and checks the speed floors.
  MODEL        model directory (default: models/default)
  --runs N     whole-process runs per tool; the median is reported (default 3)
  --rounds N   in-process rounds of bench/classify (default 5)
  --mb N       input size in MB, in whole copies of dev+train (default 40)
  --stages     also time parse only / parse + extract inside bench/classify
  --build DIR  CMake build directory (default: build; env NEWSCLF_BUILD)
  --markdown   print the results table as Markdown (for bench/README.md)
Environment: FASTTEXT=path to the fasttext binary (default: fasttext).
EOF
}

die() {
    echo "bench/classify.sh: $*" >&2
    exit 2
}

posint() {
    [[ $2 =~ ^[1-9][0-9]{0,5}$ ]] || die "$1 needs a positive integer, got '$2'"
}

while [[ $# -gt 0 ]]; do
    case $1 in
    -h | --help) usage; exit 0 ;;
    --markdown) MARKDOWN=1 ;;
    --stages) STAGES=1 ;;
    --runs) [[ $# -ge 2 ]] || die "--runs needs a value"; posint --runs "$2"; RUNS=$2; shift ;;
    --rounds) [[ $# -ge 2 ]] || die "--rounds needs a value"; posint --rounds "$2"; ROUNDS=$2; shift ;;
    --mb) [[ $# -ge 2 ]] || die "--mb needs a value"; posint --mb "$2"; TARGET_MB=$2; shift ;;
    --build) [[ $# -ge 2 ]] || die "--build needs a value"; BUILD=$2; shift ;;
    -*) usage >&2; exit 2 ;;
    *) [[ -z $MODEL ]] || die "one MODEL only"; MODEL=$1 ;;
    esac
    shift
done
MODEL=${MODEL:-$ROOT/models/default}

CLASSIFY=$BUILD/bench/classify
if [[ ! -x $CLASSIFY ]]; then
    die "$CLASSIFY not found; build it with:
  cmake -S $ROOT -B $BUILD -DCMAKE_BUILD_TYPE=Release && cmake --build $BUILD -j2 --target bench_classify"
fi
[[ -f $MODEL/manifest.json ]] || die "$MODEL is not a model directory (no manifest.json); train one with:
  $BUILD/newsclf train --data $ROOT/models/corpus/train.jsonl --out DIR --quiet"
CORPUS=$ROOT/models/corpus
for f in dev.jsonl train.jsonl; do
    [[ -f $CORPUS/$f ]] || die "$CORPUS/$f missing"
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/newsclf-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

say() { echo "$*" >&2; }

# Wall clock in seconds; EPOCHREALTIME (bash 5) avoids forking date(1).
now() {
    if [[ -n ${EPOCHREALTIME:-} ]]; then
        echo "${EPOCHREALTIME/,/.}"
    else
        date +%s.%N
    fi
}

calc() { LC_ALL=C awk "BEGIN { printf \"%.6f\", ($*) }"; }

median() { LC_ALL=C sort -g | LC_ALL=C awk '{ v[NR] = $1 } END {
    if (NR % 2) print v[(NR + 1) / 2]; else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# measure KEY STDIN CMD...: runs CMD $RUNS times (stdout discarded) and sets
# SECS[KEY] (median wall seconds) and RSS[KEY] (median peak RSS, MiB, when
# /usr/bin/time is there).
declare -A SECS RSS
TIME_BIN=
[[ -x /usr/bin/time ]] && TIME_BIN=/usr/bin/time
measure() {
    local key=$1 in=$2 i t0 t1
    shift 2
    : >"$WORK/secs" && : >"$WORK/rss"
    for ((i = 0; i < RUNS; i++)); do
        t0=$(now)
        if [[ -n $TIME_BIN ]]; then
            "$TIME_BIN" -f '%M' -o "$WORK/time.out" "$@" <"$in" >/dev/null ||
                die "failed: $* (exit status $?)"
            LC_ALL=C awk '{ printf "%.1f\n", $1 / 1024 }' "$WORK/time.out" >>"$WORK/rss"
        else
            "$@" <"$in" >/dev/null || die "failed: $* (exit status $?)"
        fi
        t1=$(now)
        calc "$t1 - $t0" >>"$WORK/secs"
        echo >>"$WORK/secs"
    done
    SECS[$key]=$(median <"$WORK/secs")
    RSS[$key]=-
    [[ ! -s $WORK/rss ]] || RSS[$key]=$(median <"$WORK/rss" | LC_ALL=C awk '{ printf "%.1f", $1 }')
}

# ---- input: dev + train repeated to about TARGET_MB ----
INPUT=$WORK/articles.jsonl
one=$(($(wc -c <"$CORPUS/dev.jsonl") + $(wc -c <"$CORPUS/train.jsonl")))
copies=$(((TARGET_MB * 1000000 + one / 2) / one))
((copies >= 1)) || copies=1
for ((i = 0; i < copies; i++)); do
    cat "$CORPUS/dev.jsonl" "$CORPUS/train.jsonl"
done >"$INPUT"
BYTES=$(wc -c <"$INPUT")

# ---- newsclf in-process: rounds, load time, RSS ----
say "bench/classify: $ROUNDS round(s) on $(LC_ALL=C awk -v b="$BYTES" 'BEGIN { printf "%.1f", b / 1e6 }') MB ..."
declare -A KV
stage_opt=()
((STAGES)) && stage_opt=(--stages)
"$CLASSIFY" --model "$MODEL" --rounds "$ROUNDS" "${stage_opt[@]}" --kv "$INPUT" >"$WORK/kv" ||
    die "bench/classify failed"
while IFS='=' read -r k v; do KV[$k]=$v; done <"$WORK/kv"
ARTICLES=${KV[articles]}
[[ ${KV[invalid]} == 0 ]] || say "warning: ${KV[invalid]} input lines are not valid articles"

# ---- fastText: install if we may, train on the same train set ----
HAVE_FT=1
FT_NOTE=
if ! command -v "$FASTTEXT" >/dev/null 2>&1; then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
        say "fastText missing: apt-get install -y fasttext ..."
        if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q fasttext >"$WORK/apt.log" 2>&1; then
            DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$WORK/apt.log" 2>&1 || true
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q fasttext >>"$WORK/apt.log" 2>&1 || true
        fi
    fi
    if ! command -v "$FASTTEXT" >/dev/null 2>&1; then
        HAVE_FT=0
        FT_NOTE="fastText not installed (and not root with apt-get): fastText comparison skipped"
        say "$FT_NOTE"
    fi
fi
if ((HAVE_FT)); then
    say "fastText: training (-loss ova -wordNgrams 2 -dim 10 -bucket 2000000) ..."
    "$CLASSIFY" --fasttext-train "$CORPUS/train.jsonl" >"$WORK/ft-train.txt" ||
        die "cannot derive the fastText training text"
    threads=$(nproc 2>/dev/null || echo 2)
    "$FASTTEXT" supervised -input "$WORK/ft-train.txt" -output "$WORK/ft" -loss ova \
        -wordNgrams 2 -dim 10 -bucket 2000000 -thread "$threads" -verbose 0 >"$WORK/ft-train.log" 2>&1 ||
        die "fastText training failed: $(tail -3 "$WORK/ft-train.log")"
    "$CLASSIFY" --fasttext-text "$INPUT" >"$WORK/ft-input.txt" ||
        die "cannot derive the fastText input text"
fi

# ---- whole processes, model loading included ----
say "whole-process runs ($RUNS each) ..."
measure newsclf /dev/null "$CLASSIFY" --model "$MODEL" --rounds 1 --kv "$INPUT"
if ((HAVE_FT)); then
    # k = -1: every label; threshold 0.5 as a multi-label decision.
    measure fasttext /dev/null "$FASTTEXT" predict-prob "$WORK/ft.bin" "$WORK/ft-input.txt" -1 0.5
fi
DEFAULT_CTYPE=$(locale 2>/dev/null | sed -n 's/^LC_CTYPE="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p')
DEFAULT_CTYPE=${DEFAULT_CTYPE:-C}
measure wc_default "$INPUT" wc -w
HAVE_UTF8=0
if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
    HAVE_UTF8=1
    measure wc_utf8 "$INPUT" env LC_ALL=C.UTF-8 wc -w
fi

# ---- report ----
aps() { calc "$ARTICLES / ${SECS[$1]}"; }
mbs() { calc "$BYTES / 1e6 / ${SECS[$1]}"; }
fmt() { LC_ALL=C awk -v v="$1" -v f="$2" 'BEGIN { printf f, v }'; }

rows=(newsclf)
names=("newsclf (bench/classify --rounds 1)")
if ((HAVE_FT)); then rows+=(fasttext); names+=("fastText predict-prob"); fi
rows+=(wc_default); names+=("wc -w (LC_CTYPE=$DEFAULT_CTYPE, default)")
if ((HAVE_UTF8)); then rows+=(wc_utf8); names+=("wc -w (C.UTF-8)"); fi

# Context lines: a list in Markdown, plain lines otherwise.
line() {
    if ((MARKDOWN)); then echo "- $*"; else echo "$*"; fi
}
med=${KV[round_median_s]}
line "newsclf classification benchmark, $(date -u +%Y-%m-%dT%H:%MZ)"
line "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
line "model: $MODEL (${KV[model_version]}, char n-grams ${KV[char_ngrams]/0-0/off})"
line "input: $ARTICLES articles, $(fmt "$(calc "$BYTES / 1e6")" %.1f) MB ($copies x dev+train JSONL, labels kept)"
line "in-process, 1 thread, $ROUNDS round(s): articles/s" \
    "$(fmt "$(calc "$ARTICLES / ${KV[round_max_s]}")" %.0f) min /" \
    "$(fmt "$(calc "$ARTICLES / $med")" %.0f) median /" \
    "$(fmt "$(calc "$ARTICLES / ${KV[round_min_s]}")" %.0f) max;" \
    "MB/s $(fmt "$(calc "$BYTES / 1e6 / ${KV[round_max_s]}")" %.2f) /" \
    "$(fmt "$(calc "$BYTES / 1e6 / $med")" %.2f) /" \
    "$(fmt "$(calc "$BYTES / 1e6 / ${KV[round_min_s]}")" %.2f)"
line "model load: $(fmt "${KV[load_s]}" %.3f) s; peak RSS ${KV[rss_after_load_mib]} MiB after load," \
    "${KV[rss_peak_mib]} MiB with the input in memory"
line "in-process total: $(fmt "${KV[process_s]}" %.2f) s (load + read + $ROUNDS round(s)$( ((STAGES)) && echo ' x 3 stages'))"
if ((STAGES)); then
    line "stages (us/article, fastest round): parse $(fmt "$(calc "${KV[stage_parse_s]} / $ARTICLES * 1e6")" %.1f)," \
        "+extract $(fmt "$(calc "(${KV[stage_extract_s]} - ${KV[stage_parse_s]}) / $ARTICLES * 1e6")" %.1f)," \
        "+vectors and predict $(fmt "$(calc "(${KV[stage_classify_s]} - ${KV[stage_extract_s]}) / $ARTICLES * 1e6")" %.1f);" \
        "$(fmt "$(calc "${KV[occurrences]} / $ARTICLES")" %.0f) feature occurrences," \
        "$(fmt "$(calc "${KV[passages]} / $ARTICLES")" %.1f) passages per article;" \
        "${KV[parsed_fast]:-?} of $ARTICLES articles parsed by simdjson alone"
fi
[[ -z $FT_NOTE ]] || line "$FT_NOTE"
line "whole process (median of $RUNS runs, model loading included); ratio = newsclf / tool:"
echo

if ((MARKDOWN)); then
    echo "| tool | seconds | articles/s | MB/s | ratio | peak RSS MiB |"
    echo "|---|---:|---:|---:|---:|---:|"
fi
if ((!MARKDOWN)); then
    printf '%-40s %8s %11s %8s %7s %9s\n' tool seconds articles/s MB/s ratio "RSS MiB"
fi
for i in "${!rows[@]}"; do
    k=${rows[$i]}
    ratio=$(fmt "$(calc "${SECS[$k]} / ${SECS[newsclf]}")" %.2f)
    [[ $k == newsclf ]] && ratio=1.00
    if ((MARKDOWN)); then
        echo "| ${names[$i]} | $(fmt "${SECS[$k]}" %.3f) | $(fmt "$(aps "$k")" %.0f) |" \
            "$(fmt "$(mbs "$k")" %.2f) | $ratio | ${RSS[$k]} |"
    else
        printf '%-40s %8s %11s %8s %7s %9s\n' "${names[$i]}" "$(fmt "${SECS[$k]}" %.3f)" \
            "$(fmt "$(aps "$k")" %.0f)" "$(fmt "$(mbs "$k")" %.2f)" "$ratio" "${RSS[$k]}"
    fi
done
echo

# ---- floors ----
status=0
# check NAME RATIO FLOOR
check() {
    local verdict=PASS
    if LC_ALL=C awk -v r="$2" -v f="$3" 'BEGIN { exit !(r < f) }'; then
        verdict=FAIL
        status=1
    fi
    if ((MARKDOWN)); then
        echo "- **$verdict** $1: $(fmt "$2" %.2f)x (floor ${3}x)"
    else
        echo "$verdict  $1: $(fmt "$2" %.2f)x (floor ${3}x)"
    fi
}
if ((HAVE_FT)); then
    check "newsclf articles/s vs fastText predict-prob" "$(calc "${SECS[fasttext]} / ${SECS[newsclf]}")" 2.5
else
    echo "SKIP  newsclf articles/s vs fastText predict-prob (fastText not installed)"
fi
check "newsclf bytes/s vs wc -w (LC_CTYPE=$DEFAULT_CTYPE)" "$(calc "${SECS[wc_default]} / ${SECS[newsclf]}")" 0.35
if ((HAVE_UTF8)); then
    check "newsclf bytes/s vs wc -w (C.UTF-8)" "$(calc "${SECS[wc_utf8]} / ${SECS[newsclf]}")" 0.35
fi
if ((STAGES)); then
    # The parse stage alone (JSON parsing + field extraction, in-process, no model
    # work, no load time) bounds what any featurizer behind it can reach.
    p_aps=$(calc "$ARTICLES / ${KV[stage_parse_s]}")
    p_mbs=$(calc "$BYTES / 1e6 / ${KV[stage_parse_s]}")
    echo
    line "ceiling: JSON parsing alone runs at $(fmt "$p_aps" %.0f) articles/s, $(fmt "$p_mbs" %.1f) MB/s" \
        "in-process =$( ((HAVE_FT)) && echo " $(fmt "$(calc "$p_aps / ($ARTICLES / ${SECS[fasttext]})")" %.2f)x fastText,")" \
        "$(fmt "$(calc "$p_mbs / ($BYTES / 1e6 / ${SECS[wc_default]})")" %.2f)x wc -w (LC_CTYPE=$DEFAULT_CTYPE)"
fi
exit $status
