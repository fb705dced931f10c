#!/usr/bin/env python3
"""CLI round trips of `newsclf` (daemon/cli/), run by ctest as core_cli.

usage: test_cli.py NEWSCLF CORPUS_DIR FIXTURE_MODEL_DIR

Exit codes under test: 0 ok, 1 runtime error, 2 usage error. Checks --help
of every command, usage errors, a missing model, classify output records
(JSON lines and --format text, error records with their reason codes),
eval --json (and its agreement with classify), explain, a
train -> eval -> classify round trip on a small subset, and a cross-validated
training (learned combiner, nested figures, --idf-data, --combine max).
"""
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

NEWSCLF, CORPUS, MODEL = sys.argv[1], sys.argv[2], sys.argv[3]
LABELS = ["conflict", "sanctions", "trade", "vaccines"]
RESULT_KEYS = ["schema_version", "id", "labels", "scores", "decision", "model"]
ERROR_KEYS = ["schema_version", "id", "error", "detail", "source", "line"]

failures = []
current = "?"
nchecks = 0


def check(cond, what):
    global nchecks
    nchecks += 1
    if not cond:
        failures.append(f"{current}: {what}")
        print(f"  FAIL {what}", flush=True)
    return cond


def run(args, stdin=None, env=None, expect_rc=None):
    """Runs newsclf with args; stdin as bytes or str. Returns (rc, out, err) as str."""
    e = dict(os.environ)
    e.pop("NEWSCLF_MODEL", None)
    if env:
        e.update(env)
    if isinstance(stdin, str):
        stdin = stdin.encode()
    p = subprocess.run([NEWSCLF] + args, input=stdin if stdin is not None else b"",
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e, timeout=120)
    out = p.stdout.decode("utf-8", "replace")
    err = p.stderr.decode("utf-8", "replace")
    if expect_rc is not None:
        check(p.returncode == expect_rc,
              f"newsclf {' '.join(args)[:120]} exited {p.returncode}, expected {expect_rc}; "
              f"stderr: {err.strip()[:300]}")
    return p.returncode, out, err


def one_line(s):
    lines = [l for l in s.split("\n") if l != ""]
    return len(lines) == 1


def json_lines(out):
    recs = []
    for i, line in enumerate(out.splitlines()):
        try:
            recs.append(json.loads(line, object_pairs_hook=lambda kv: kv))
        except ValueError as e:
            check(False, f"output line {i + 1} is not JSON ({e}): {line[:200]}")
            recs.append(None)
    return recs


def test(fn):
    global current
    current = fn.__name__
    print(f"[ RUN  ] {current}", flush=True)
    before = len(failures)
    try:
        fn()
    except Exception as e:  # a crash of the check itself is a failure too
        check(False, f"exception {type(e).__name__}: {e}")
    print(f"[ {'OK' if len(failures) == before else 'FAIL'}   ] {current}", flush=True)


# ---- help and usage ----

def test_help():
    for args in (["--help"], ["-h"], ["help"]):
        rc, out, _ = run(args, expect_rc=0)
        check(out.startswith("usage: newsclf <command>"), f"{args}: usage text")
        for cmd in ("classify", "train", "eval", "explain"):
            check(cmd in out, f"main --help lists {cmd}")
    for cmd in ("classify", "train", "eval", "explain"):
        rc, out, _ = run([cmd, "--help"], expect_rc=0)
        check(out.startswith(f"usage: newsclf {cmd}"), f"{cmd} --help starts with usage")
        rc, out, _ = run([cmd, "-h"], expect_rc=0)
    rc, out, _ = run(["--version"], expect_rc=0)
    check(out.startswith("newsclf "), "--version prints the version")
    rc, out, _ = run(["--help"], expect_rc=0)
    check(re.search(r"^\s+--version\s", out, re.M), "--help lists --version")
    check("only when --config names" in out, "--help states the default-config rule")
    for cmd in ("subscribe", "reclassify"):
        rc, out, _ = run([cmd, "--help"], expect_rc=0)
        check("no file is read otherwise" in out, f"{cmd} --help states the default-config rule")


def usage_error(args, cmd=None):
    """A usage error: exit 2, nothing on stdout, on stderr one line saying
    what is wrong and then the Try line (not the whole usage)."""
    rc, out, err = run(args, expect_rc=2)
    lines = err.rstrip("\n").split("\n")
    try_line = "Try 'newsclf %s--help'." % (cmd + " " if cmd else "")
    check(out == "", f"{args}: nothing on stdout for a usage error")
    check(len(lines) == 2 and lines[1] == try_line and "usage:" not in err,
          f"{args}: one line and {try_line!r}, got {err!r}")
    return lines[0]


def test_usage_errors():
    check(usage_error([]) == "newsclf: no command given", "no command")
    check(usage_error(["frobnicate"]) == 'newsclf: unknown command "frobnicate"',
          "unknown command named")
    for cmd in ("classify", "train", "eval", "explain", "subscribe", "reclassify"):
        first = usage_error([cmd, "--no-such-option"], cmd)
        check(first == f"newsclf {cmd}: unrecognized option '--no-such-option'",
              f"{cmd}: the option named: {first!r}")
    check(usage_error(["eval", "--model", MODEL], "eval") == "newsclf eval: --data is required",
          "eval without --data")
    usage_error(["classify", "--model", MODEL, "--format", "xml"], "classify")
    usage_error(["subscribe"], "subscribe")
    usage_error(["reclassify"], "reclassify")
    run(["train"], expect_rc=2)
    run(["train", "--data", "x.jsonl"], expect_rc=2)
    run(["train", "--out", "x"], expect_rc=2)
    run(["train", "--data", "x", "--out", "y", "--C", "-1"], expect_rc=2)
    run(["train", "--data", "x", "--out", "y", "--C", "1,abc"], expect_rc=2)
    run(["train", "--data", "x", "--out", "y", "--char-ngrams", "5-3"], expect_rc=2)
    run(["train", "--data", "x", "--out", "y", "--passages", "40,20"], expect_rc=2)
    run(["train", "--data", "x", "--out", "y", "extra-arg"], expect_rc=2)
    run(["eval", "--model", MODEL], expect_rc=2)
    run(["classify", "--model", MODEL, "--format", "xml"], expect_rc=2)
    run(["explain", "--model", MODEL, "a", "b"], expect_rc=2)


def test_set_errors_at_once():
    for cmd in (["subscribe", "--label", "trade"], ["reclassify", "--from", "beginning"]):
        rc, out, err = run(cmd + ["--brokers", "127.0.0.1:1", "--set", "kafka.grop=x",
                                  "--set", "kafka.group=ok", "--set", "limits.workers=0"],
                           expect_rc=1)
        want = (f"newsclf {cmd[0]}: --set: unknown key 'kafka.grop' (did you mean "
                "'kafka.group'?)\n--set 'limits.workers': '0' is out of range 1..256\n")
        check(err == want, f"{cmd[0]}: every --set error, got {err!r}")


def test_directory_input():
    d = tempfile.mkdtemp(prefix="newsclf-cli-")
    try:
        for whole in ([], ["--whole"]):
            rc, out, err = run(["classify", "--model", MODEL] + whole + [d], expect_rc=1)
            check(err == f"newsclf: {d}: is a directory\n", f"classify DIR {whole}: {err!r}")
            check(out == "", "classify DIR: nothing on stdout")
    finally:
        shutil.rmtree(d)


def test_missing_model():
    for args in (["classify"], ["explain"], ["eval", "--data", f"{CORPUS}/dev.jsonl"]):
        rc, out, err = run(args + ["--model", "/nonexistent/model"], stdin="hello\n",
                           expect_rc=1)
        check(one_line(err), f"{args[0]}: one-line message, got {err!r}")
        check(err.startswith("newsclf: model /nonexistent/model: cannot read manifest"),
              f"{args[0]}: message names the model: {err!r}")
        check(out == "", f"{args[0]}: nothing on stdout")
    # the default comes from $NEWSCLF_MODEL
    rc, out, err = run(["classify"], stdin="hello\n", env={"NEWSCLF_MODEL": "/nonexistent/env"},
                       expect_rc=1)
    check("/nonexistent/env" in err, "NEWSCLF_MODEL is the default model")
    # a broken model is a runtime error too
    tmp = tempfile.mkdtemp(prefix="newsclf-cli-")
    try:
        shutil.copytree(MODEL, f"{tmp}/m")
        with open(f"{tmp}/m/trade.svm", "ab") as f:
            f.write(b"1 1:1\n")
        rc, out, err = run(["classify", "--model", f"{tmp}/m"], stdin="x\n", expect_rc=1)
        check(one_line(err) and "trade.svm is damaged or truncated" in err,
              f"damaged model: {err!r}")
    finally:
        shutil.rmtree(tmp)
    # an unreadable input file
    run(["classify", "--model", MODEL, "/nonexistent/input.jsonl"], expect_rc=1)


# ---- classify ----

GOOD_INPUT = [
    ('{"id": "a1", "title": "Sanctions on Russia", "body": "The EU imposed new sanctions."}',
     "a1"),
    ('{"id": 42, "title": "Vaccine rollout", "text": "Hospitals began vaccinating staff."}',
     "42"),
    ('{"title": "Trade war", "content": "Tariffs on steel rise again.", "lang": "en-GB"}', None),
    ("Plain text: troops crossed the border overnight, officials said.", None),
    ("another plain line about tariffs and exports", None),
]

BAD_INPUT = [
    ('{"id": "x", "title": ', "invalid_json"),
    ('{"title": "a", "title": "b"}', "invalid_json"),
    ('{"title": "a"} trailing', "invalid_json"),
    ('[1, 2, 3]', "not_an_object"),
    (b'caf\xe9 au lait', "invalid_utf8"),
    ('{"id": "e"}', "empty"),
    ('   ', "empty"),
    ('{"title": "t", "body": 5}', "bad_field"),
    ('{"id": true, "title": "t"}', "bad_field"),
]


def classify_input():
    """Interleaved good and bad lines (plus blank lines, which are skipped)."""
    lines, expect = [], []
    bad = list(BAD_INPUT)
    for i, (text, id_) in enumerate(GOOD_INPUT):
        lines.append(text.encode())
        expect.append(("ok", id_))
        for _ in range(2):
            if bad:
                t, reason = bad.pop(0)
                lines.append(t if isinstance(t, bytes) else t.encode())
                expect.append(("error", reason))
        lines.append(b"")  # blank: no record
    for t, reason in bad:
        lines.append(t if isinstance(t, bytes) else t.encode())
        expect.append(("error", reason))
    return b"\n".join(lines) + b"\n", lines, expect


def check_result(rec, id_):
    keys = [k for k, _ in rec]
    check(keys == RESULT_KEYS, f"result keys {keys}")
    d = dict(rec)
    check(d["schema_version"] == 1, "schema_version 1")
    check(d["id"] == id_, f"id {d['id']!r}, expected {id_!r}")
    scores, decision = dict(d["scores"]), dict(d["decision"])
    check([k for k, _ in d["scores"]] == LABELS, "scores has every label, in model order")
    check([k for k, _ in d["decision"]] == LABELS, "decision has every label")
    check(all(0.0 <= scores[k] <= 1.0 for k in LABELS), "scores are probabilities")
    check(all(isinstance(decision[k], float) for k in LABELS), "decisions are numbers")
    check(isinstance(d["labels"], list) and all(l in LABELS for l in d["labels"]),
          "labels are model labels")
    # the fixture's thresholds are 0.5: a label is on exactly when its score is >= 0.5
    # (scores are printed with 6 significant digits)
    for k in LABELS:
        if k in d["labels"]:
            check(scores[k] >= 0.5 - 1e-5, f"{k} on with score {scores[k]}")
        else:
            check(scores[k] <= 0.5 + 1e-5, f"{k} off with score {scores[k]}")
    m = dict(d["model"])
    check(m["name"] == "default" and m["version"].startswith("default-"), "model name/version")


def test_classify_jsonl():
    data, lines, expect = classify_input()
    rc, out, err = run(["classify", "--model", MODEL], stdin=data, expect_rc=0)
    recs = json_lines(out)
    check(len(recs) == len(expect), f"{len(recs)} records for {len(expect)} non-blank lines")
    nonblank_lineno = [i + 1 for i, l in enumerate(lines) if l != b""]
    for rec, (kind, val), lineno in zip(recs, expect, nonblank_lineno):
        if rec is None:
            continue
        if kind == "ok":
            check_result(rec, val)
        else:
            keys = [k for k, _ in rec]
            check(keys == ERROR_KEYS, f"error record keys {keys}")
            d = dict(rec)
            check(d["error"] == val, f"line {lineno}: reason {d['error']!r}, expected {val!r}")
            check(d["id"] is None and d["source"] == "-" and d["line"] == lineno,
                  f"error record id/source/line: {d}")
            check(isinstance(d["detail"], str) and d["detail"] and "\n" not in d["detail"],
                  "error detail is one line")
    check(f"{len(GOOD_INPUT)} articles classified, {len(BAD_INPUT)} rejected" in err,
          f"summary on stderr: {err!r}")
    # same input from a file argument: same records, source named
    tmp = tempfile.mkdtemp(prefix="newsclf-cli-")
    try:
        path = f"{tmp}/in.jsonl"
        with open(path, "wb") as f:
            f.write(data)
        rc, out2, _ = run(["classify", "--model", MODEL, path, path], expect_rc=0)
        from_stdin = [json.loads(l) for l in out.splitlines()]
        from_file = [json.loads(l) for l in out2.splitlines()]
        check(len(from_file) == 2 * len(expect), "two files: records for both")
        for r in from_stdin:
            if "source" in r:
                r["source"] = path
        check(from_file == from_stdin + from_stdin, "file input gives the same records as stdin")
    finally:
        shutil.rmtree(tmp)


def test_classify_text():
    data, lines, expect = classify_input()
    rc, out, err = run(["classify", "--model", MODEL, "--format", "text"], stdin=data,
                       expect_rc=0)
    rows = out.splitlines()
    check(len(rows) == len(expect), f"{len(rows)} text rows for {len(expect)} lines")
    for row, (kind, val) in zip(rows, expect):
        cols = row.split("\t")
        if kind == "ok":
            check(len(cols) == 2 + len(LABELS), f"result row columns: {row!r}")
            check(cols[0] == (val if val is not None else "-"), f"id column {cols[0]!r}")
            check(cols[1] == "-" or all(l in LABELS for l in cols[1].split(",")),
                  f"labels column {cols[1]!r}")
            for col, label in zip(cols[2:], LABELS):
                name, _, p = col.partition("=")
                check(name == label and 0.0 <= float(p) <= 1.0, f"score column {col!r}")
        else:
            check(len(cols) == 3 and cols[1] == "error" and cols[2].startswith(val + ": "),
                  f"error row {row!r}, expected reason {val}")


def test_classify_options():
    # --whole: the file is one article
    rc, out, _ = run(["classify", "--model", MODEL, "--whole",
                      f"{CORPUS}/example-article.txt"], expect_rc=0)
    recs = json_lines(out)
    check(len(recs) == 1, "--whole gives one record")
    if recs and recs[0]:
        check_result(recs[0], None)
    # --article: the input is copied into the record
    rc, out, _ = run(["classify", "--model", MODEL, "--article"],
                     stdin='{"id": "k", "title": "T", "extra": [1]}\nplain words\n',
                     expect_rc=0)
    recs = json_lines(out)
    check(len(recs) == 2, "two records with --article")
    if len(recs) == 2 and recs[0] and recs[1]:
        d0, d1 = dict(recs[0]), dict(recs[1])
        check([k for k, _ in recs[0]] == RESULT_KEYS + ["article"], "article key last")
        check(dict(d0["article"]).get("extra") == [1], "JSON article passed through")
        check(dict(d1["article"]) == {"body": "plain words"}, "plain text article as body")
    # language not in the model: skipped, no labels or scores
    rc, out, _ = run(["classify", "--model", MODEL],
                     stdin='{"id": "de1", "title": "Sanktionen", "lang": "de"}\n', expect_rc=0)
    recs = json_lines(out)
    if recs and recs[0]:
        d = dict(recs[0])
        check([k for k, _ in recs[0]] == ["schema_version", "id", "labels", "scores", "decision",
                                          "skipped", "model"], "skipped record keys")
        check(d["skipped"] == "language" and d["labels"] == [] and d["scores"] == [],
              f"skipped record {d}")
    rc, out, _ = run(["classify", "--model", MODEL, "--format", "text"],
                     stdin='{"id": "de1", "title": "x", "lang": "de"}\n', expect_rc=0)
    check(out == "de1\t(skipped: language)\n", f"text skip row {out!r}")
    # --max-bytes
    rc, out, _ = run(["classify", "--model", MODEL, "--max-bytes", "20"],
                     stdin='{"title": "0123456789abcdefghij"}\nshort line\n', expect_rc=0)
    recs = json_lines(out)
    check(len(recs) == 2 and recs[0] and dict(recs[0]).get("error") == "too_large",
          "--max-bytes: too_large")
    check(len(recs) == 2 and recs[1] and dict(recs[1]).get("error") is None,
          "--max-bytes: a short line passes")
    # CRLF line endings are stripped
    rc, out, _ = run(["classify", "--model", MODEL], stdin=b'{"id": "c", "title": "x"}\r\n',
                     expect_rc=0)
    recs = json_lines(out)
    check(len(recs) == 1 and recs[0] and dict(recs[0])["id"] == "c", "CRLF input")
    # empty input: no output, success
    rc, out, _ = run(["classify", "--model", MODEL], stdin=b"", expect_rc=0)
    check(out == "", "empty input gives no output")


# ---- eval and explain ----

def truth_labels(path, n):
    with open(path, encoding="utf-8") as f:
        return [json.loads(l)["labels"] for l in f.readlines()[:n]]


def test_eval_json_matches_classify():
    tmp = tempfile.mkdtemp(prefix="newsclf-cli-")
    try:
        subset = f"{tmp}/dev150.jsonl"
        with open(f"{CORPUS}/dev.jsonl", encoding="utf-8") as f, open(subset, "w") as g:
            g.writelines(f.readlines()[:150])
        rc, out, _ = run(["eval", "--model", MODEL, "--data", subset, "--json"], expect_rc=0)
        check(one_line(out), "eval --json prints one line")
        ev = json.loads(out)
        check(sorted(ev) == ["documents", "exact_match", "labels", "macro_f1", "micro_f1"],
              f"eval keys {sorted(ev)}")
        check(ev["documents"] == 150, "documents counted")
        check(list(ev["labels"]) == LABELS, "every label evaluated")
        # recompute from classify's output: the same predictions
        rc, cout, _ = run(["classify", "--model", MODEL, subset], expect_rc=0)
        preds = [set(json.loads(l)["labels"]) for l in cout.splitlines()]
        truth = [set(t) for t in truth_labels(subset, 150)]
        check(len(preds) == 150, "classify: one record per article")
        tps = fps = fns = 0
        for label in LABELS:
            tp = sum(1 for p, t in zip(preds, truth) if label in p and label in t)
            fp = sum(1 for p, t in zip(preds, truth) if label in p and label not in t)
            fn = sum(1 for p, t in zip(preds, truth) if label not in p and label in t)
            got = ev["labels"][label]
            check((got["tp"], got["fp"], got["fn"]) == (tp, fp, fn),
                  f"{label}: eval tp/fp/fn {got['tp'], got['fp'], got['fn']} vs classify "
                  f"{tp, fp, fn}")
            check(got["support"] == tp + fn, f"{label}: support")
            f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
            check(abs(got["f1"] - f1) < 1e-12, f"{label}: f1")
            tps, fps, fns = tps + tp, fps + fp, fns + fn
        check(abs(ev["micro_f1"] - 2 * tps / (2 * tps + fps + fns)) < 1e-12, "micro_f1")
        exact = sum(1 for p, t in zip(preds, truth) if p == (t & set(LABELS))) / 150
        check(abs(ev["exact_match"] - exact) < 1e-12, "exact_match")
        # the table form
        rc, out, _ = run(["eval", "--model", MODEL, "--data", subset], expect_rc=0)
        for word in LABELS + ["micro-F1", "macro-F1", "exact-match"]:
            check(word in out, f"eval table shows {word}")
        # unlabeled data is a runtime error naming file:line
        with open(f"{tmp}/unlabeled.jsonl", "w") as g:
            g.write('{"title": "x", "labels": []}\n{"title": "no labels"}\n')
        rc, out, err = run(["eval", "--model", MODEL, "--data", f"{tmp}/unlabeled.jsonl"],
                           expect_rc=1)
        check("unlabeled.jsonl:2" in err, f"eval names the bad line: {err!r}")
    finally:
        shutil.rmtree(tmp)


def test_explain():
    example = f"{CORPUS}/example-article.txt"
    rc, out, _ = run(["explain", "--model", MODEL, example], expect_rc=0)
    heads = [l.split()[0] for l in out.splitlines() if l and not l.startswith(" ")]
    check(heads == LABELS, f"explain prints every label once, in order: {heads}")
    check(any(l.strip().startswith(("up", "down")) for l in out.splitlines()),
          "explain lists features")
    rc, out, _ = run(["explain", "--model", MODEL, "--json", "--top", "3"], stdin=open(
        example, "rb").read(), expect_rc=0)
    d = json.loads(out)
    check([l["label"] for l in d["labels"]] == LABELS, "explain --json: every label")
    for l in d["labels"]:
        check(len(l["up"]) <= 3 and len(l["down"]) <= 3, "--top limits the features")
        check(0 <= l["probability"] <= 1, "probability")
    rc, out, _ = run(["explain", "--model", MODEL, "--lines", "--json"],
                     stdin='{"id": "p", "title": "Sanctions"}\nplain text about vaccines\n',
                     expect_rc=0)
    rows = [json.loads(l) for l in out.splitlines()]
    check(len(rows) == 2 and rows[0]["id"] == "p" and rows[1]["id"] is None,
          "explain --lines: one object per line")
    rc, out, err = run(["explain", "--model", MODEL], stdin="[1]", expect_rc=1)
    check("not_an_object" in err, f"explain reports the reason: {err!r}")


# ---- train round trip ----

def test_train_eval_round_trip():
    tmp = tempfile.mkdtemp(prefix="newsclf-cli-")
    try:
        subset = f"{tmp}/train300.jsonl"
        with open(f"{CORPUS}/train.jsonl", encoding="utf-8") as f, open(subset, "w") as g:
            g.writelines(f.readlines()[:300])
        dev = f"{tmp}/dev60.jsonl"
        with open(f"{CORPUS}/dev.jsonl", encoding="utf-8") as f, open(dev, "w") as g:
            g.writelines(f.readlines()[:60])
        out_dir = f"{tmp}/model"
        rc, out, err = run(["train", "--data", subset, "--out", out_dir, "--folds", "0",
                            "--C", "1", "--name", "cli-test", "--word-bits", "16",
                            "--char-bits", "16", "--quiet"], env={"SOURCE_DATE_EPOCH": "0"},
                           expect_rc=0)
        check(err == "", f"--quiet training prints nothing: {err!r}")
        files = sorted(os.listdir(out_dir))
        check(files == ["conflict.svm", "df.tsv", "manifest.json", "sanctions.svm", "trade.svm",
                        "vaccines.svm"], f"model files {files}")
        with open(f"{out_dir}/manifest.json") as f:
            man = json.load(f)
        check(man["name"] == "cli-test" and man["created"] == "1970-01-01T00:00:00Z",
              "manifest name and created")
        check(man["features"]["word_bits"] == 16 and man["training"]["documents"] == 300,
              "manifest records the options")
        rc, out, _ = run(["eval", "--model", out_dir, "--data", dev, "--json"], expect_rc=0)
        ev = json.loads(out)
        check(ev["documents"] == 60 and list(ev["labels"]) == LABELS, "eval of the new model")
        rc, out, _ = run(["classify", "--model", out_dir], stdin="Sanctions on exports\n",
                         expect_rc=0)
        recs = json_lines(out)
        check(len(recs) == 1 and recs[0] and dict(dict(recs[0])["model"])["name"] == "cli-test",
              "classify with the new model")
        # --dev evaluates right after training
        rc, out, _ = run(["train", "--data", subset, "--out", f"{tmp}/model2", "--folds", "0",
                          "--word-bits", "16", "--char-bits", "16", "--quiet", "--dev", dev],
                         expect_rc=0)
        check(out.startswith(f"evaluation on {dev}:") and "micro-F1" in out, "train --dev")
        # training errors: exit 1 with one line naming the problem
        bad = f"{tmp}/bad.jsonl"
        with open(bad, "w") as g:
            g.write('{"title": "a", "labels": ["trade"]}\n{"title": \n')
        rc, out, err = run(["train", "--data", bad, "--out", f"{tmp}/m3", "--quiet"],
                           expect_rc=1)
        check(one_line(err) and f"{bad}:2: invalid_json" in err, f"bad data: {err!r}")
        with open(bad, "w") as g:
            g.write('{"title": "a", "labels": ["trade"]}\n{"title": "b", "labels": ["trade"]}\n')
        rc, out, err = run(["train", "--data", bad, "--out", f"{tmp}/m4", "--quiet"],
                           expect_rc=1)
        check(one_line(err) and "needs both positive and negative" in err,
              f"one-class label: {err!r}")
        with open(bad, "w") as g:
            g.write('{"title": "a", "labels": ["Trade"]}\n')
        rc, out, err = run(["train", "--data", bad, "--out", f"{tmp}/m5", "--quiet"],
                           expect_rc=1)
        check(one_line(err) and "labels[0] must be a name" in err, f"bad label: {err!r}")
        rc, out, err = run(["train", "--data", f"{tmp}/missing.jsonl", "--out", f"{tmp}/m6",
                            "--quiet"], expect_rc=1)
        check(one_line(err), f"missing data file: one line: {err!r}")
    finally:
        shutil.rmtree(tmp)


def test_train_cross_validated():
    """Cross-validation: the learned combiner (and --combine max), nested figures,
    --idf-data (gzip), explain's combiner inputs."""
    tmp = tempfile.mkdtemp(prefix="newsclf-cli-")
    try:
        with open(f"{CORPUS}/train.jsonl", encoding="utf-8") as f:
            lines = f.readlines()
        subset = f"{tmp}/train300.jsonl"
        with open(subset, "w") as g:
            g.writelines(lines[:300])
        unlabeled = f"{tmp}/unlabeled.jsonl.gz"
        with gzip.open(unlabeled, "wt", encoding="utf-8") as g:
            for line in lines[300:500]:
                a = json.loads(line)
                del a["labels"]
                g.write(json.dumps(a) + "\n")
        common = ["--data", subset, "--folds", "3", "--C", "1", "--jobs", "2",
                  "--word-bits", "16", "--char-bits", "16"]
        rc, out, err = run(["train"] + common + ["--idf-data", unlabeled, "--out", f"{tmp}/l"],
                           expect_rc=0)
        check("nested cross-validation" in err and "macro-F1" in err,
              f"training logs the nested figures: {err[-600:]!r}")
        with open(f"{tmp}/l/manifest.json") as f:
            man = json.load(f)
        tr = man["training"]
        check(man["format_version"] == 2 and tr["combine"] == "learned" and tr["nested_cv"],
              "learned combiner and nested cross-validation by default")
        check(tr["idf_files"] == ["unlabeled.jsonl.gz"] and tr["idf_documents"] == 200,
              f"--idf-data recorded: {tr.get('idf_files')} {tr.get('idf_documents')}")
        check(int(open(f"{tmp}/l/df.tsv").readline().split()[3]) == 500,
              "df.tsv counts the labeled and the unlabeled articles")
        nested = man["cv"]["nested"]
        check(nested["folds"] == 3 and set(nested) == {"folds", "learned", "max"} and
              list(nested["learned"]["labels"]) == LABELS, "manifest: nested figures")
        check(all(l["rule"] == "learned" and len(l["combiner"]["weights"]) == 5
                  for l in man["labels"]), "every label has a learned combiner")
        example = f"{CORPUS}/example-article.txt"
        rc, out, _ = run(["explain", "--model", f"{tmp}/l", example], expect_rc=0)
        check("combiner:" in out and "passage_max" in out and "(passage " in out,
              "explain shows the combiner's inputs and the best passage")
        rc, out, _ = run(["explain", "--model", f"{tmp}/l", "--json", example], expect_rc=0)
        comb = json.loads(out)["labels"][0]["combiner"]
        check(comb["rule"] == "learned" and list(comb["inputs"]) == [
            "document", "passage_max", "passage_top2_mean", "log1p_passages", "has_passages"]
              and isinstance(comb["best_passage"], int), f"explain --json: combiner {comb}")
        rc, out, err = run(["train"] + common + ["--combine", "max", "--no-nested", "--quiet",
                                                 "--out", f"{tmp}/m"], expect_rc=0)
        with open(f"{tmp}/m/manifest.json") as f:
            man = json.load(f)
        check(all(l["rule"] == "max" and "platt" in l for l in man["labels"]) and
              "nested" not in man["cv"] and not man["training"]["nested_cv"],
              "--combine max --no-nested")
        run(["train"] + common + ["--combine", "mean", "--out", f"{tmp}/x"], expect_rc=2)
        rc, out, err = run(["train"] + common + ["--idf-data", f"{tmp}/none.gz", "--quiet",
                                                 "--out", f"{tmp}/x"], expect_rc=1)
        check(one_line(err) and "none.gz" in err, f"missing --idf-data file: {err!r}")
        bad = f"{tmp}/bad.jsonl"
        with open(bad, "w") as g:
            g.write('{"title": "fine"}\nplain text is fine too\n{"title": \n')
        rc, out, err = run(["train"] + common + ["--idf-data", bad, "--quiet",
                                                 "--out", f"{tmp}/x"], expect_rc=1)
        check(one_line(err) and f"{bad}:3: invalid_json" in err, f"bad --idf-data: {err!r}")
    finally:
        shutil.rmtree(tmp)


def main():
    for fn in (test_help, test_usage_errors, test_set_errors_at_once, test_directory_input, test_missing_model, test_classify_jsonl,
               test_classify_text, test_classify_options, test_eval_json_matches_classify,
               test_explain, test_train_eval_round_trip, test_train_cross_validated):
        test(fn)
    if failures:
        print(f"\n{len(failures)} check(s) failed:")
        for f in failures:
            print(f"  {f}")
        return 1
    print(f"\nall {nchecks} CLI checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
