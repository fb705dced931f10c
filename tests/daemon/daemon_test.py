#!/usr/bin/env python3
"""End-to-end tests of newsclfd against the mock cluster (newsclf-mockbroker).

Each test starts its own broker process (so the daemon can be killed while
the broker keeps its data), talks Kafka through bench/pipeline_load, and
waits for conditions by polling with a deadline, never by fixed sleeps.

    daemon_test.py TEST --bin-dir DIR --source-dir DIR [--model DIR]

TEST: e2e badinput restart_term restart_kill reload brokerdown
      shutdown_brokergone signals checkconfig
Exit 0 pass, 1 fail, 77 skipped (no model yet).
"""
import argparse
import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

LABELS_DEFAULT = ["conflict", "sanctions", "trade", "vaccines"]
IN = "news.articles"
AGG = "news.labeled"
DL = "news.deadletter"
IN_PARTS = 3


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


def poll(cond, timeout, what, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(step)
    raise Fail("timed out after %ss waiting for: %s" % (timeout, what))


class Env:
    def __init__(self, a):
        self.bin = a.bin_dir
        self.src = a.source_dir
        self.model = a.model
        self.tmp = tempfile.mkdtemp(prefix="newsclfd-test.")
        self.procs = []
        self.labels = LABELS_DEFAULT
        mf = os.path.join(self.model, "manifest.json")
        try:
            with open(mf) as f:
                m = json.load(f)
            lab = m.get("labels")
            if isinstance(lab, list) and lab:
                self.labels = [x if isinstance(x, str) else x.get("name") for x in lab]
        except (OSError, ValueError, AttributeError):
            pass

    def path(self, *p):
        return os.path.join(self.tmp, *p)

    def tool(self, *args, check_rc=True, timeout=120):
        cmd = [os.path.join(self.bin, "bench", "pipeline_load")] + list(args)
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        if check_rc and r.returncode not in (0, 3):
            raise Fail("%s: rc=%d %s" % (" ".join(cmd), r.returncode, r.stderr.decode()))
        return r

    def cleanup(self, ok):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        if ok:
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            print("logs kept in", self.tmp)


class Broker:
    def __init__(self, env, down=False, in_parts=IN_PARTS):
        self.env = env
        bsfile = env.path("bootstrap")
        if os.path.exists(bsfile):
            os.unlink(bsfile)
        args = [os.path.join(env.bin, "newsclf-mockbroker"), "--bootstrap-file", bsfile,
                "--topic", "%s:%d" % (IN, in_parts), "--topic", AGG + ":3", "--topic", DL + ":1"]
        for lab in env.labels:
            args += ["--topic", "news.labeled.%s:1" % lab]
        if down:
            args.append("--down")
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                     stderr=open(env.path("broker.log"), "a"))
        env.procs.append(self.proc)
        poll(lambda: os.path.exists(bsfile), 10, "the mock broker")
        with open(bsfile) as f:
            self.bs = f.read().strip()

    def signal(self, sig):
        self.proc.send_signal(sig)


class Daemon:
    n = 0

    def __init__(self, env, broker, extra=(), config=None, offset_reset="error"):
        Daemon.n += 1
        self.env = env
        self.log = env.path("daemon%d.log" % Daemon.n)
        args = [os.path.join(env.bin, "newsclfd")]
        if config:
            args += ["--config", config]
        args += ["--set", "kafka.brokers=" + broker.bs,
                 "--set", "kafka.instance_id=test-instance",
                 "--set", "kafka.consumer.auto.offset.reset=" + offset_reset,
                 "--set", "kafka.consumer.session.timeout.ms=6000",
                 "--set", "kafka.consumer.heartbeat.interval.ms=500",
                 "--set", "metrics.enabled=false",
                 "--set", "limits.shutdown_timeout_ms=10000"]
        if not config:
            args += ["--set", "model.path=" + env.model]
        args += list(extra)
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=open(self.log, "w"))
        env.procs.append(self.proc)

    def logtext(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def wait_log(self, pattern, timeout=30):
        rx = re.compile(pattern)
        return poll(lambda: rx.search(self.logtext()) or (self.proc.poll() is not None and
                                                          rx.search(self.logtext())),
                    timeout, "daemon log /%s/" % pattern)

    def running(self):
        self.wait_log(r"partitions assigned count=[1-9]", 60)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise Fail("daemon did not exit within %ss of %s" % (timeout, sig))


def consume(env, broker, topics, expect=-1, idle_ms=3000):
    out = env.path("dump.jsonl")
    env.tool("consume", "-b", broker.bs, "-t", ",".join(topics), "-n", str(expect),
             "--idle-ms", str(idle_ms), "--dump", out)
    recs = []
    with open(out) as f:
        for line in f:
            r = json.loads(line)
            r["key"] = base64.b64decode(r["key_b64"]) if r["key_b64"] is not None else None
            r["value"] = base64.b64decode(r["value_b64"])
            r["hdrs"] = {}
            for name, v in r["headers"]:
                r["hdrs"].setdefault(name, []).append(base64.b64decode(v))
            recs.append(r)
    return recs


def count(env, broker, topic):
    r = env.tool("consume", "-b", broker.bs, "-t", topic, "--idle-ms", "5000")
    return int(r.stdout.decode().strip() or 0)


def wait_count(env, broker, topic, n, timeout):
    last = [0]

    def enough():
        last[0] = count(env, broker, topic)
        return last[0] >= n

    try:
        poll(enough, timeout, "%d records on %s" % (n, topic), step=0.2)
    except Fail:
        raise Fail("only %d of %d records on %s" % (last[0], n, topic))


def precommit(env, broker):
    # auto.offset.reset=error (docs/kafka.md): the group must start from a
    # committed offset, so a silent reset on the mock shows as a failure.
    env.tool("commit", "-b", broker.bs, "-g", "newsclf", "-t", IN)


def produce(env, broker, lines=None, n=None, files=(), headers=(), keyed=False, rate=None):
    args = ["produce", "-b", broker.bs, "-t", IN]
    if lines:
        args += ["-f", lines]
    if n is not None:
        args += ["-n", str(n)]
    for f in files:
        args += ["-m", f]
    for h in headers:
        args += ["--header", h]
    if keyed:
        args.append("--keyed")
    if rate:
        args += ["--rate", str(rate)]
    env.tool(*args)


def dev_file(env):
    return os.path.join(env.src, "models", "corpus", "dev.jsonl")


def offline_labels(env, path):
    r = subprocess.run([os.path.join(env.bin, "newsclf"), "classify", "--model", env.model, path],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    check(r.returncode == 0, "newsclf classify failed: %s" % r.stderr.decode())
    res = {}
    for line in r.stdout.decode().splitlines():
        o = json.loads(line)
        if "id" in o and "labels" in o:
            res[o["id"]] = sorted(o["labels"])
    return res


def input_records(env, broker):
    return {(r["partition"], r["offset"]): r for r in consume(env, broker, [IN])}


# ---------------------------------------------------------------- tests

def t_e2e(env):
    b = Broker(env)
    precommit(env, b)
    n_dev = sum(1 for _ in open(dev_file(env)))
    total = 2 * n_dev
    produce(env, b, dev_file(env), n=total, headers=["trace-id=t-123"], keyed=True)
    d = Daemon(env, b)
    wait_count(env, b, AGG, total, 90)
    check(d.stop() == 0, "daemon exit code")
    inputs = input_records(env, b)
    check(len(inputs) == total, "inputs on the broker: %d" % len(inputs))
    agg = consume(env, b, [AGG], total)
    check(len(agg) == total, "aggregate records %d != %d" % (len(agg), total))
    offline = offline_labels(env, dev_file(env))
    seen = set()
    last_in = {}
    by_input = {}
    for r in agg:
        v = json.loads(r["value"])
        for k in ("schema_version", "id", "labels", "scores", "decision", "model", "input",
                  "classified_at", "article"):
            check(k in v, "output lacks %s: %s" % (k, v))
        check(v["schema_version"] == 1, "schema_version")
        inp = v["input"]
        key = (inp["partition"], inp["offset"])
        check(inp["topic"] == IN, "input.topic")
        check(key not in seen, "duplicate output for input %s" % (key,))
        seen.add(key)
        src = inputs[key]
        check(r["ts"] == src["ts"], "output timestamp != input timestamp")
        check(inp["timestamp"] == src["ts"], "input.timestamp")
        check(r["key"] == v["id"].encode(), "key != article id")
        check(v["article"]["id"] == v["id"], "article.id")
        check(r["hdrs"].get("trace-id") == [b"t-123"], "input header not copied")
        check(r["hdrs"].get("content-type") == [b"application/json"], "content-type header")
        check(r["hdrs"].get("newsclf-labels") == [",".join(v["labels"]).encode()],
              "newsclf-labels header %s vs %s" % (r["hdrs"].get("newsclf-labels"), v["labels"]))
        check(len(r["hdrs"].get("newsclf-model", [])) == 1, "newsclf-model header")
        check(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", v["classified_at"]),
              "classified_at not RFC 3339 UTC: %s" % v["classified_at"])
        check(sorted(v["labels"]) == offline.get(v["id"]),
              "labels of %s: daemon %s, offline %s" % (v["id"], v["labels"], offline.get(v["id"])))
        # outputs of one input partition are produced in input order
        pk = (r["partition"], inp["partition"])
        check(last_in.get(pk, -1) < inp["offset"], "output order within partition %s" % (pk,))
        last_in[pk] = inp["offset"]
        by_input[key] = set(v["labels"])
    check(len(seen) == total, "every input classified")
    for lab in env.labels:
        recs = consume(env, b, ["news.labeled." + lab])
        got = set()
        for r in recs:
            v = json.loads(r["value"])
            check(lab in v["labels"], "%s record without the label" % lab)
            got.add((v["input"]["partition"], v["input"]["offset"]))
        want = {k for k, labs in by_input.items() if lab in labs}
        check(got == want, "label topic %s: %d records, expected %d" % (lab, len(got), len(want)))
    check(count(env, b, DL) == 0, "dead letters for good input")
    print("e2e: %d articles, %d label records" % (total, sum(len(x) for x in by_input.values())))


def t_badinput(env):
    b = Broker(env)
    precommit(env, b)
    good = [l for l in open(dev_file(env), "rb").read().split(b"\n") if l][:5]
    cases = [
        ("invalid_json", b'{"id": "x", "title": '),
        ("not_an_object", b'[1, 2, 3]'),
        ("invalid_utf8", b'{"id": "u", "title": "caf\xe9", "body": "\xff\xfe"}'),
        ("empty", b""),
        ("too_large", b'{"id": "big", "body": "' + b"word " * 6000 + b'"}'),
        # fits max_article_bytes, but its output does not fit message.max.bytes
        ("produce_failed", b'{"id": "wide", "title": "Sanctions", "body": "' +
         b"sanctions on exports " * 600 + b'"}'),
        ("binary", bytes(range(256)) * 4),
    ]
    files = []
    expect = []  # (kind, bytes) in produce order
    for i, (reason, data) in enumerate(cases):
        for kind, payload in (("good", good[i % len(good)]), (reason, data)):
            fn = env.path("msg%d" % len(files))
            with open(fn, "wb") as f:
                f.write(payload)
            files.append(fn)
            expect.append((kind, payload))
    fn = env.path("msg_last")
    with open(fn, "wb") as f:
        f.write(good[0])
    files.append(fn)
    expect.append(("good", good[0]))
    # one partition, so produce order is offset order
    produce(env, b, files=files, headers=["trace-id=bad-1"])
    d = Daemon(env, b, extra=["--set", "limits.max_article_bytes=20000",
                              "--set", "kafka.producer.message.max.bytes=9000"])
    n_good = sum(1 for k, _ in expect if k == "good")
    n_bad = len(expect) - n_good
    wait_count(env, b, DL, n_bad, 60)
    wait_count(env, b, AGG, n_good, 30)
    check(d.stop() == 0, "daemon exit code")
    inputs = input_records(env, b)
    by_payload = {}
    for key, r in inputs.items():
        by_payload.setdefault(r["value"], []).append(key)
    dls = consume(env, b, [DL], n_bad)
    check(len(dls) == n_bad, "dead letters: %d, expected %d" % (len(dls), n_bad))
    reasons = {}
    truncated = False
    for r in dls:
        h = {k: v[0].decode(errors="replace") for k, v in r["hdrs"].items()}
        for k in ("newsclf-error", "newsclf-error-detail", "newsclf-source-topic",
                  "newsclf-source-partition", "newsclf-source-offset",
                  "newsclf-source-timestamp"):
            check(k in h, "dead letter lacks header %s" % k)
        src = inputs[(int(h["newsclf-source-partition"]), int(h["newsclf-source-offset"]))]
        if "newsclf-truncated-from" in h:
            check(int(h["newsclf-truncated-from"]) == len(src["value"]) and
                  len(r["value"]) < len(src["value"]) and src["value"].startswith(r["value"]),
                  "truncated dead letter is not a prefix of the input")
            truncated = True
        else:
            check(r["value"] == src["value"], "dead letter bytes differ from the input")
        reasons[src["value"]] = h["newsclf-error"]
        check(h["newsclf-source-topic"] == IN, "source topic")
        check(int(h["newsclf-source-timestamp"]) == src["ts"], "source timestamp")
        check(h.get("trace-id") == "bad-1", "input headers kept on dead letters")
    for kind, payload in expect:
        if kind == "good":
            continue
        got = reasons.get(payload)
        if kind == "binary":
            check(got in ("invalid_utf8", "invalid_json", "bad_field"),
                  "binary input: reason %s" % got)
        else:
            check(got == kind, "%s input: reason %s" % (kind, got))
    agg = consume(env, b, [AGG], n_good)
    check(len(agg) == n_good, "good articles classified: %d of %d" % (len(agg), n_good))
    check(truncated, "the too-large input was not truncated to fit")
    print("badinput: reasons %s" % sorted(set(reasons.values())))


def restart(env, sig):
    b = Broker(env)
    precommit(env, b)
    total = 4000
    d = Daemon(env, b)
    d.running()
    prod = subprocess.Popen([os.path.join(env.bin, "bench", "pipeline_load"), "produce", "-b",
                             b.bs, "-t", IN, "-f", dev_file(env), "-n", str(total), "--keyed",
                             "--rate", "1000"], stderr=subprocess.DEVNULL)
    env.procs.append(prod)
    wait_count(env, b, AGG, 300, 30)  # mid-stream
    rc = d.stop(sig)
    if sig == signal.SIGTERM:
        check(rc == 0, "exit code after SIGTERM: %s" % rc)
        check("stopped cleanly" in d.logtext(), "clean stop logged")
    check(prod.wait(60) == 0, "producer")
    mid = count(env, b, AGG)
    check(mid < total, "the stop happened mid-stream")
    d2 = Daemon(env, b)
    inputs = input_records(env, b)
    agg = []

    def keys_of(recs):
        return [(json.loads(r["value"])["input"]["partition"],
                 json.loads(r["value"])["input"]["offset"]) for r in recs]

    # After SIGKILL the aggregate topic holds duplicates, so a record count
    # says nothing about coverage: wait until every input has its output.
    def covered():
        n = count(env, b, AGG)
        if n < total:
            return False
        agg[:] = consume(env, b, [AGG], n)
        return not set(inputs) - set(keys_of(agg))

    try:
        poll(covered, 120, "an output for every input", step=0.5)
    except Fail:
        pass  # reported below with the number missing
    check(d2.stop() == 0, "second daemon exit code")
    agg = consume(env, b, [AGG], count(env, b, AGG))
    keys = keys_of(agg)
    missing = set(inputs) - set(keys)
    check(not missing, "inputs never classified: %d" % len(missing))
    dups = len(keys) - len(set(keys))
    if sig == signal.SIGTERM:
        check(dups == 0, "duplicates after SIGTERM: %d" % dups)
    print("restart %s: %d inputs, %d outputs before the stop, %d duplicates" %
          (sig.name, total, mid, dups))


def t_restart_term(env):
    restart(env, signal.SIGTERM)


def t_restart_kill(env):
    restart(env, signal.SIGKILL)


def write_config(env, name, model, thresholds=None):
    path = env.path(name)
    with open(path, "w") as f:
        f.write("model:\n  path: \"%s\"\n" % model)
        if thresholds:
            f.write("  thresholds:\n")
            for k, v in thresholds.items():
                f.write("    %s: %s\n" % (k, v))
    return path


def model_thresholds(env):
    with open(os.path.join(env.model, "manifest.json")) as f:
        m = json.load(f)
    return {l["name"]: l.get("threshold", 0.5) for l in m.get("labels", []) if isinstance(l, dict)}


def t_reload(env):
    b = Broker(env)
    precommit(env, b)
    total = 4000
    cfg = env.path("newsclf.yaml")
    shutil.copy(write_config(env, "a.yaml", env.model), cfg)
    d = Daemon(env, b, config=cfg)
    d.running()
    prod = subprocess.Popen([os.path.join(env.bin, "bench", "pipeline_load"), "produce", "-b",
                             b.bs, "-t", IN, "-f", dev_file(env), "-n", str(total), "--keyed",
                             "--rate", "800"], stderr=subprocess.DEVNULL)
    env.procs.append(prod)
    wait_count(env, b, AGG, 500, 30)
    # 1. a broken model: refused, the old one keeps running
    shutil.copy(write_config(env, "broken.yaml", env.path("no-such-model")), cfg)
    d.proc.send_signal(signal.SIGHUP)
    d.wait_log(r"reload refused", 30)
    # 2. a good reload under traffic: every label needs probability 0.999
    thr = {lab: 0.999 for lab in env.labels}
    shutil.copy(write_config(env, "b.yaml", env.model, thr), cfg)
    d.proc.send_signal(signal.SIGHUP)
    d.wait_log(r"reloaded model", 30)
    check(prod.wait(60) == 0, "producer")
    wait_count(env, b, AGG, total, 90)
    check(d.stop() == 0, "daemon exit code")
    agg = consume(env, b, [AGG], total)
    check(len(agg) == total, "outputs %d != %d (lost or duplicated around a reload)" %
          (len(agg), total))
    # Per input partition, records classified with the old thresholds (a
    # label scored below 0.999) never follow one classified with the new
    # ones (a label at or above its old threshold but below 0.999, absent):
    # the swap happens once, between messages.
    old_thr = model_thresholds(env)
    tol = 1e-4
    state = {}
    n_old = n_new = 0
    for r in sorted(agg, key=lambda r: (json.loads(r["value"])["input"]["partition"],
                                        json.loads(r["value"])["input"]["offset"])):
        v = json.loads(r["value"])
        p = v["input"]["partition"]
        sc = v["scores"]
        is_old = any(sc[l] < 0.999 - tol for l in v["labels"])
        is_new = any(l not in v["labels"] and old_thr.get(l, 0.5) + tol <= s < 0.999 - tol
                     for l, s in sc.items())
        check(not (is_old and is_new), "record consistent with neither thresholds: %s" % v)
        if is_new:
            state[p] = "new"
            n_new += 1
        if is_old:
            check(state.get(p) != "new", "partition %d went back to the old thresholds" % p)
            n_old += 1
    check(n_old > 0 and n_new > 0, "reload was not under traffic (old %d, new %d)" % (n_old, n_new))
    check("reloaded model" in d.logtext(), "reload logged")
    print("reload: %d records, %d classified before the swap, %d after (distinguishable ones)" %
          (len(agg), n_old, n_new))


def t_brokerdown(env):
    b = Broker(env, down=True)
    d = Daemon(env, b, offset_reset="earliest")
    d.wait_log(r"cannot reach the brokers.*retrying", 30)
    check(d.proc.poll() is None, "daemon gave up while the broker is down")
    b.signal(signal.SIGUSR1)  # brokers up
    produce(env, b, dev_file(env), n=200, keyed=True)
    wait_count(env, b, AGG, 200, 90)
    check(d.stop() == 0, "daemon exit code")
    print("brokerdown: started while down, then classified 200")


def t_shutdown_brokergone(env):
    b = Broker(env)
    precommit(env, b)
    produce(env, b, dev_file(env), n=300, keyed=True)
    d = Daemon(env, b, extra=["--set", "limits.shutdown_timeout_ms=3000"])
    wait_count(env, b, AGG, 300, 60)
    b.signal(signal.SIGUSR2)  # brokers down
    t0 = time.monotonic()
    rc = d.stop(timeout=20)
    took = time.monotonic() - t0
    check(took < 15, "shutdown with the broker gone took %.1fs" % took)
    print("shutdown_brokergone: exit %d after %.1fs" % (rc, took))


def t_signals(env):
    # SIGTERM while the broker is down at start (docs/kafka.md #4381: no
    # close of a consumer that never had partitions): a clean, quick exit.
    b = Broker(env, down=True)
    d = Daemon(env, b, offset_reset="earliest")
    d.wait_log(r"cannot reach the brokers", 30)
    t0 = time.monotonic()
    check(d.stop(timeout=15) == 0, "exit code of SIGTERM while the broker is down")
    check(time.monotonic() - t0 < 5, "SIGTERM while the broker is down was slow")
    # A second signal exits at once, even while a drain waits for a broker
    # that went away.
    b.signal(signal.SIGUSR1)
    precommit(env, b)
    produce(env, b, dev_file(env), n=100, keyed=True)
    d = Daemon(env, b, extra=["--set", "limits.shutdown_timeout_ms=20000"])
    wait_count(env, b, AGG, 100, 60)
    b.signal(signal.SIGUSR2)  # brokers down: the drain's commit cannot finish
    d.proc.send_signal(signal.SIGTERM)
    d.wait_log(r"draining", 10)
    t0 = time.monotonic()
    rc = d.stop(timeout=10)
    check(rc == 130, "exit code after a second signal: %s" % rc)
    check(time.monotonic() - t0 < 3, "the second signal did not exit at once")
    print("signals: ok")


def t_checkconfig(env):
    nd = os.path.join(env.bin, "newsclfd")
    good = os.path.join(env.src, "config", "newsclf.yaml")
    r = subprocess.run([nd, "--check-config", good], capture_output=True, timeout=30)
    check(r.returncode == 0, "good config refused: %s" % r.stderr.decode())
    bad = env.path("bad.yaml")
    with open(bad, "w") as f:
        f.write("kafka:\n  brokers: \"x:1\"\n  no_such_key: 1\nlimits:\n  workers: many\n")
    r = subprocess.run([nd, "--check-config", bad], capture_output=True, timeout=30)
    err = r.stderr.decode()
    check(r.returncode == 1, "broken config accepted (rc=%d)" % r.returncode)
    check(re.search(re.escape(bad) + r":3:\d+:", err), "error without file:line:column: " + err)
    check(re.search(re.escape(bad) + r":5:\d+:", err), "second error not reported: " + err)
    r = subprocess.run([nd, "--check-config", good, "--set", "kafka.consumer.enable.auto.commit=false"],
                       capture_output=True, timeout=30)
    check(r.returncode == 1, "guarded property accepted through --set")
    r = subprocess.run([nd, "--check-config", good, "--set", "kafka.brokers=127.0.0.1:1"],
                       capture_output=True, timeout=30)
    check(r.returncode == 0, "--set override refused: %s" % r.stderr.decode())
    print("checkconfig: ok")


TESTS = {
    "e2e": t_e2e,
    "badinput": t_badinput,
    "restart_term": t_restart_term,
    "restart_kill": t_restart_kill,
    "reload": t_reload,
    "brokerdown": t_brokerdown,
    "shutdown_brokergone": t_shutdown_brokergone,
    "signals": t_signals,
    "checkconfig": t_checkconfig,
}


def add_common_args(ap):
    """The options of every test file that runs the daemon."""
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--model", default=os.environ.get("NEWSCLF_TEST_MODEL"))


def finish_args(a):
    """--model defaults to the source tree's models/default."""
    if not a.model:
        a.model = os.path.join(a.source_dir, "models", "default")
    return a


def no_model(a):
    """True (after printing why: the caller exits 77, skipped) when there is
    no model at a.model."""
    if os.path.exists(os.path.join(a.model, "manifest.json")):
        return False
    print("skipped: no model at %s (set NEWSCLF_TEST_MODEL)" % a.model)
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("test", choices=sorted(TESTS))
    add_common_args(ap)
    a = finish_args(ap.parse_args())
    if a.test != "checkconfig" and no_model(a):
        return 77
    env = Env(a)
    ok = False
    try:
        TESTS[a.test](env)
        ok = True
    except Fail as e:
        print("FAIL %s: %s" % (a.test, e))
    finally:
        env.cleanup(ok)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
