#!/usr/bin/env python3
"""scripts/retrain against the REAL daemon: newsclfd on newsclf-mockbroker,
model.path = <store>/current, reloaded by SIGHUP through --pid-file and
confirmed through its /metrics (a free loopback port).

    retrain_daemon.py --bin-dir DIR --source-dir DIR

While a continuous stream of articles flows through the daemon (batches of
bench/pipeline_load, at least 3,000 articles):
  1. a first version (300 articles of models/corpus/train.jsonl) is deployed
     into a scratch store with --no-reload, then the daemon starts on it;
  2. a retrain on more data (1,500 articles) deploys: exit 0, `current`
     moved, `previous` is the first version, /metrics shows the new version
     (and one reload);
  3. a retrain on the same articles with shuffled labels is refused (exit 3):
     `current` unchanged, /metrics still shows the same version, no reload;
  4. --rollback: the first version is back in /metrics, `current` and
     `previous` swapped;
  5. the stream is drained: every input offset appears exactly once in
     news.labeled (nothing dropped, nothing repeated); records created before
     the retrain carry the first version in model.version, those created
     between the deploy's confirmation and the rollback the second, those
     created after the rollback the first again; within each input partition
     the version changes only at the two switches (old, new, old);
  6. SIGTERM: the daemon exits 0.
Training uses `-- --folds 0` and small data. Exit 0 pass, 1 fail, 77 skipped
(no corpus, no newsclf-mockbroker or bench/pipeline_load in the build).
"""
import json
import os
import random
import re
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from newsclf_test import load  # noqa: E402
from newsclf_test.checks import Fail, poll  # noqa: E402
from newsclf_test.corpus import corpus_file, dev_file  # noqa: E402
from newsclf_test.daemon import AGG, Daemon  # noqa: E402
from newsclf_test.mockbroker import MockBroker  # noqa: E402
from newsclf_test.prom import model_info, parse_samples, value  # noqa: E402
from newsclf_test.testenv import main, model_labels  # noqa: E402

NAME = "news"
BATCH = 150          # articles per pipeline_load run
RATE = 300           # articles/s within a batch
MIN_TOTAL = 3000


def manifest(d):
    with open(os.path.join(d, "manifest.json")) as f:
        return json.load(f)


def metrics(d):
    """The daemon's /metrics, parsed (newsclf_test.prom)."""
    return parse_samples(d.get("/metrics")[1])


class Stream(threading.Thread):
    """Produces batches of BATCH articles until stopped (and MIN_TOTAL reached)."""

    def __init__(self, env, broker, lines):
        super().__init__(daemon=True)
        self.env, self.broker, self.lines = env, broker, lines
        self.produced = 0
        self.stop_at_min = threading.Event()
        self.abort = threading.Event()
        self.error = None

    def run(self):
        try:
            while not self.abort.is_set() and \
                    not (self.stop_at_min.is_set() and self.produced >= MIN_TOTAL):
                load.produce(self.env, self.broker, self.lines, n=BATCH, keyed=True, rate=RATE)
                self.produced += BATCH
        except Exception as e:  # noqa: BLE001 - reported by the main thread
            self.error = e

    def catch_up(self, env, broker):
        """A time t such that every article created up to t has been classified."""
        t = time.time()
        self.wait_more(BATCH)          # the batch in progress at t is complete
        load.wait_count(env, broker, AGG, self.produced, 60)
        return t

    def wait_more(self, n, timeout=60):
        """Returns once n more articles were produced."""
        target = self.produced + n
        poll(lambda: self.produced >= target or self.error, timeout,
             "%d more articles produced" % n)
        if self.error:
            raise Fail("producer: %s" % self.error)


def training_files(env):
    """small (300 articles of train.jsonl), more (1,500) and garbage (the
    1,500 with their labels shuffled) in the scratch folder."""
    with open(corpus_file(env, "train.jsonl"), encoding="utf-8") as f:
        lines = [l for l in f if l.strip()]
    with open(env.path("small.jsonl"), "w", encoding="utf-8") as f:
        f.writelines(lines[:300])
    with open(env.path("more.jsonl"), "w", encoding="utf-8") as f:
        f.writelines(lines[:1500])
    arts = [json.loads(l) for l in lines[:1500]]
    labels = [a["labels"] for a in arts]
    random.Random(7).shuffle(labels)
    with open(env.path("garbage.jsonl"), "w", encoding="utf-8") as f:
        for a, lab in zip(arts, labels):
            a["labels"] = lab
            f.write(json.dumps(a, ensure_ascii=False) + "\n")


class Store:
    """The scratch model store and scripts/retrain runs on it."""

    def __init__(self, env):
        self.env = env
        self.dir = env.path("store")
        os.makedirs(self.dir)
        self.renv = dict(os.environ, NEWSCLF=env.tool("newsclf"))
        self.common = []  # options of every run once the daemon exists

    def retrain(self, want, *args):
        """(exit code, output, start, end) of `scripts/retrain ARGS`; the
        output is printed when the code is not `want`."""
        log = self.env.path("retrain%d.log" % self.env.seq("retrain"))
        cmd = [os.path.join(self.env.src, "scripts", "retrain"), "--store", self.dir,
               "--name", NAME] + self.common + list(args)
        t0 = time.time()
        with open(log, "w") as lf:
            r = subprocess.run(cmd, stdout=lf, stderr=subprocess.STDOUT, env=self.renv,
                               timeout=200)
        t1 = time.time()
        with open(log, errors="replace") as lf:
            text = lf.read()
        if r.returncode != want:
            print("--- %s exited %d, expected %d:\n%s" % (" ".join(cmd), r.returncode, want, text))
        return r.returncode, text, t0, t1

    def link(self, name):
        p = os.path.join(self.dir, name)
        return os.readlink(p) if os.path.islink(p) else None

    def version(self, vdir):
        return manifest(os.path.join(self.dir, vdir))["version"]


def check_metrics(env, d, version, reloads, what):
    """/metrics shows version (and, when reloads is given, that many
    reloads) and no reload failure."""
    s = metrics(d)
    env.ok(model_info(s) == [(NAME, version)], "/metrics shows %s (%s)" % (version, what))
    if reloads is not None:
        env.ok(value(s, "newsclf_reloads_total") == reloads, "%d reload(s) counted" % reloads)
    env.ok(not value(s, "newsclf_reload_failures_total"), "no reload failure")


def deploy_steps(env, st, d, stream, b, v1dir, v1, reloads0):
    """Steps 2-4 under traffic. Returns the second version and the times:
    "deploy", "refused", "rollback": (start, end) of each retrain run; "a",
    "b": every article created up to then was classified before step 2,
    before step 4."""
    times = {}
    stream.wait_more(2 * BATCH)
    times["a"] = stream.catch_up(env, b)

    # 2. a better candidate, deployed under traffic
    rc, out, t2a, t2b = st.retrain(0, "--data", env.path("more.jsonl"), "--", "--folds", "0")
    times["deploy"] = (t2a, t2b)
    env.ok(rc == 0, "retrain on more data deployed under traffic (%.1f s)" % (t2b - t2a))
    env.ok("reload confirmed" in out, "scripts/retrain confirmed the reload through /metrics")
    v2dir = st.link("current")
    v2 = st.version(v2dir)
    env.ok(v2dir != v1dir and v2 != v1, "current moved: %s -> %s" % (v1dir, v2dir))
    env.ok(st.link("previous") == v1dir, "previous -> %s" % v1dir)
    check_metrics(env, d, v2, reloads0 + 1, "the new version")
    env.ok(d.proc.poll() is None, "the daemon kept running")
    stream.wait_more(2 * BATCH)

    # 3. shuffled labels: refused, the deployed model keeps serving
    rc, out, t3a, t3b = st.retrain(3, "--data", env.path("garbage.jsonl"), "--", "--folds", "0")
    times["refused"] = (t3a, t3b)
    env.ok(rc == 3, "retrain on shuffled labels refused with exit 3 (%.1f s)" % (t3b - t3a))
    env.ok(re.search(r"^refused: .*reference: macro-F1", out, re.M),
           "the reference set of the earlier deploys refused it")
    env.ok(st.link("current") == v2dir, "current unchanged after the refusal")
    env.ok(st.link("previous") == v1dir, "previous unchanged after the refusal")
    check_metrics(env, d, v2, reloads0 + 1, "still; no reload for the refusal")
    times["b"] = stream.catch_up(env, b)

    # 4. rollback
    rc, out, t4a, t4b = st.retrain(0, "--rollback")
    times["rollback"] = (t4a, t4b)
    env.ok(rc == 0, "--rollback succeeded (%.1f s)" % (t4b - t4a))
    env.ok(st.link("current") == v1dir and st.link("previous") == v2dir,
           "current -> %s, previous -> %s" % (v1dir, v2dir))
    check_metrics(env, d, v1, reloads0 + 2, "the previous version again")
    stream.wait_more(2 * BATCH)
    return v2, times


def outputs_by_input(env, b, total):
    """{(partition, offset): (model name, model version, input timestamp)}
    of news.labeled, checked to cover every input once."""
    inputs = load.input_records(env, b)
    env.ok(len(inputs) == total, "%d inputs on the broker" % total)
    outs = {}
    dups = 0
    for r in load.consume(env, b, [AGG], total):
        v = json.loads(r["value"])
        key = (v["input"]["partition"], v["input"]["offset"])
        if key in outs:
            dups += 1
        outs[key] = (v["model"]["name"], v["model"]["version"], v["input"]["timestamp"])
    missing = set(inputs) - set(outs)
    env.ok(not missing, "every input offset appears in news.labeled (%d missing of %d)" %
           (len(missing), total))
    env.ok(not set(outs) - set(inputs), "no output for an unknown input")
    env.ok(dups == 0, "no input classified twice (%d duplicates)" % dups)
    return outs


def check_versions(env, outs, v1, v2, times):
    """Which model classified what: by creation time and, per input
    partition, in offset order (old, new, old; each switch once)."""
    env.ok(all(n == NAME for n, _, _ in outs.values()), "model.name is %s everywhere" % NAME)
    bad = [(k, ver) for k, (_, ver, _) in outs.items() if ver not in (v1, v2)]
    env.ok(not bad, "model.version is %s or %s everywhere %s" % (v1, v2, bad[:3]))

    def ms(t):
        return int(t * 1000)
    # Created up to times a / b: classified before the next step began.
    phases = {"before the retrain": (None, ms(times["a"]), v1),
              "between the confirmed deploy and the rollback":
              (ms(times["deploy"][1]) + 1, ms(times["b"]), v2),
              "after the confirmed rollback": (ms(times["rollback"][1]) + 1, None, v1)}
    for what, (lo, hi, want) in phases.items():
        sel = [ver for _, ver, ts in outs.values()
               if (lo is None or ts >= lo) and (hi is None or ts < hi)]
        wrong = sum(1 for ver in sel if ver != want)
        env.ok(sel and not wrong, "%d records created %s carry %s (%d do not)" %
               (len(sel), what, want, wrong))
    t2a, t2b = times["deploy"]
    during = sum(1 for _, _, ts in outs.values() if ms(t2a) <= ts <= ms(t2b))
    env.ok(during > 0, "%d articles were created while the deploying retrain ran" % during)
    for p in sorted({k[0] for k in outs}):
        seq = [outs[k][1] for k in sorted(k for k in outs if k[0] == p)]
        runs = [x for i, x in enumerate(seq) if i == 0 or seq[i - 1] != x]
        names = " -> ".join("v1" if r == v1 else "v2" for r in runs)
        env.ok(runs in ([v1], [v1, v2], [v1, v2, v1], [v2], [v2, v1]),
               "input partition %d: versions in offset order %s (%d records)" %
               (p, names, len(seq)))


def t_retrain_daemon(env):
    st = Store(env)
    pidfile = env.path("newsclfd.pid")
    training_files(env)
    t_start = time.monotonic()
    # 1. the first version, before the daemon exists
    rc, _, _, _ = st.retrain(0, "--data", env.path("small.jsonl"), "--no-reload",
                             "--", "--folds", "0")
    env.ok(rc == 0, "first version deployed into the empty store (--no-reload)")
    v1dir = st.link("current")
    env.ok(v1dir is not None and os.path.isfile(os.path.join(st.dir, v1dir, "manifest.json")),
           "current -> a version directory (%s)" % v1dir)
    v1 = st.version(v1dir)
    env.model = os.path.join(st.dir, "current")
    env.labels = model_labels(env.model)

    b = MockBroker(env)
    load.precommit(env, b)
    d = Daemon(env, b, metrics="127.0.0.1:0", extra=["--pid-file", pidfile])
    d.wait_port()
    d.running()
    poll(lambda: os.path.exists(pidfile), 10, "the pid file")
    with open(pidfile) as f:
        env.ok(int(f.read().strip()) == d.proc.pid, "--pid-file holds the daemon's pid")
    s = metrics(d)
    env.ok(model_info(s) == [(NAME, v1)], "/metrics shows %s %s" % (NAME, v1))
    reloads0 = value(s, "newsclf_reloads_total")

    st.common = ["--pid-file", pidfile, "--reload-timeout", "30",
                 "--metrics-url", "http://127.0.0.1:%d/metrics" % d.port]
    stream = Stream(env, b, dev_file(env))
    stream.start()
    try:
        v2, times = deploy_steps(env, st, d, stream, b, v1dir, v1, reloads0)
    except BaseException:
        stream.abort.set()
        raise
    finally:
        stream.stop_at_min.set()
        stream.join(120)
    if stream.error:
        raise Fail("producer: %s" % stream.error)
    env.ok(not stream.is_alive(), "the stream ended")
    total = stream.produced
    t_prod = time.monotonic() - t_start

    # 5. drained: every input offset once in news.labeled
    load.wait_count(env, b, AGG, total, 90)
    env.ok(d.proc.poll() is None, "the daemon is still running after the stream")
    env.ok(d.stop() == 0, "SIGTERM: the daemon exited 0")
    env.ok(not os.path.exists(pidfile), "the pid file was removed")
    env.ok(not re.search(r"reload refused", d.logtext()), "no reload refused in the daemon log")
    outs = outputs_by_input(env, b, total)
    check_versions(env, outs, v1, v2, times)
    n1 = sum(1 for _, ver, _ in outs.values() if ver == v1)
    took = {k: times[k][1] - times[k][0] for k in ("deploy", "refused", "rollback")}
    print("retrain_daemon: %d articles streamed in %.1f s, %d classified with %s, %d with %s; "
          "retrain %.1f s, refused retrain %.1f s, rollback %.1f s" %
          (total, t_prod, n1, v1, total - n1, v2, took["deploy"], took["refused"],
           took["rollback"]))


def missing_parts(a):
    """The corpus and the programs the test runs (no model is needed: it
    trains its own)."""
    for p in (os.path.join(a.source_dir, "models", "corpus", "train.jsonl"),
              os.path.join(a.source_dir, "models", "corpus", "dev.jsonl"),
              os.path.join(a.bin_dir, "newsclf"), os.path.join(a.bin_dir, "newsclfd"),
              os.path.join(a.bin_dir, "newsclf-mockbroker"),
              os.path.join(a.bin_dir, "bench", "pipeline_load")):
        if not os.path.exists(p):
            return "%s is missing" % p
    return None


if __name__ == "__main__":
    sys.exit(main({"retrain_daemon": t_retrain_daemon}, __doc__, model=False,
                  needs=missing_parts, prefix="newsclfd-test."))
