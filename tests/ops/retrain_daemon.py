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
import argparse
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "daemon"))
import daemon_test as dt  # noqa: E402
from daemon_test import Fail, poll  # noqa: E402

NAME = "news"
BATCH = 150          # articles per pipeline_load run
RATE = 300           # articles/s within a batch
MIN_TOTAL = 3000


class T:
    passed = 0


def ok(cond, what):
    if not cond:
        raise Fail(what)
    T.passed += 1
    print("ok    " + what, flush=True)


def manifest(d):
    with open(os.path.join(d, "manifest.json")) as f:
        return json.load(f)


def metrics(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as r:
        return r.read().decode()


def model_info(text):
    """[(name, version)] of the newsclf_model_info series whose value is 1."""
    out = []
    for line in text.splitlines():
        m = re.match(r'^newsclf_model_info\{([^}]*)\}\s+(\S+)', line)
        if m and float(m.group(2)) == 1:
            lab = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(1)))
            out.append((lab.get("name"), lab.get("version")))
    return out


def sample(text, name):
    for line in text.splitlines():
        m = re.match(r'^%s(?:\{\})?\s+(\S+)' % re.escape(name), line)
        if m:
            return float(m.group(1))
    return None


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
                dt.produce(self.env, self.broker, self.lines, n=BATCH, keyed=True, rate=RATE)
                self.produced += BATCH
        except Exception as e:  # noqa: BLE001 - reported by the main thread
            self.error = e

    def catch_up(self, env, broker):
        """A time t such that every article created up to t has been classified."""
        t = time.time()
        self.wait_more(BATCH)          # the batch in progress at t is complete
        dt.wait_count(env, broker, dt.AGG, self.produced, 60)
        return t

    def wait_more(self, n, timeout=60):
        """Returns once n more articles were produced."""
        target = self.produced + n
        poll(lambda: self.produced >= target or self.error, timeout,
             "%d more articles produced" % n)
        if self.error:
            raise Fail("producer: %s" % self.error)


def run(env, args):
    src, bin_ = env.src, env.bin
    retrain = os.path.join(src, "scripts", "retrain")
    renv = dict(os.environ, NEWSCLF=os.path.join(bin_, "newsclf"))
    store = env.path("store")
    os.makedirs(store)
    pidfile = env.path("newsclfd.pid")

    corpus = os.path.join(src, "models", "corpus", "train.jsonl")
    with open(corpus, encoding="utf-8") as f:
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

    nlog = [0]

    def retrain_run(want, *a):
        nlog[0] += 1
        log = env.path("retrain%d.log" % nlog[0])
        cmd = [retrain, "--store", store, "--name", NAME] + list(a)
        t0 = time.time()
        with open(log, "w") as lf:
            r = subprocess.run(cmd, stdout=lf, stderr=subprocess.STDOUT, env=renv, timeout=200)
        t1 = time.time()
        with open(log, errors="replace") as lf:
            text = lf.read()
        if r.returncode != want:
            print("--- %s exited %d, expected %d:\n%s" % (" ".join(cmd), r.returncode, want, text))
        return r.returncode, text, t0, t1

    def link(name):
        p = os.path.join(store, name)
        return os.readlink(p) if os.path.islink(p) else None

    t_start = time.monotonic()
    # 1. the first version, before the daemon exists
    rc, _, _, _ = retrain_run(0, "--data", env.path("small.jsonl"), "--no-reload", "--", "--folds", "0")
    ok(rc == 0, "first version deployed into the empty store (--no-reload)")
    v1dir = link("current")
    ok(v1dir is not None and os.path.isfile(os.path.join(store, v1dir, "manifest.json")),
       "current -> a version directory (%s)" % v1dir)
    m1 = manifest(os.path.join(store, v1dir))
    v1 = m1["version"]
    env.labels = [x if isinstance(x, str) else x.get("name") for x in m1["labels"]]

    b = dt.Broker(env)
    dt.precommit(env, b)
    d = dt.Daemon(env, b, extra=["--set", "model.path=" + os.path.join(store, "current"),
                                 "--set", "metrics.enabled=true",
                                 "--set", "metrics.listen=127.0.0.1:0",
                                 "--pid-file", pidfile])
    m = d.wait_log(r"metrics endpoint listen=\S+ port=(\d+)", 30)
    port = int(m.group(1))
    url = "http://127.0.0.1:%d/metrics" % port
    d.running()
    poll(lambda: os.path.exists(pidfile), 10, "the pid file")
    with open(pidfile) as f:
        ok(int(f.read().strip()) == d.proc.pid, "--pid-file holds the daemon's pid")
    text = metrics(port)
    ok(model_info(text) == [(NAME, v1)], "/metrics shows %s %s" % (NAME, v1))
    reloads0 = sample(text, "newsclf_reloads_total") or 0

    common = ["--pid-file", pidfile, "--metrics-url", url, "--reload-timeout", "30"]
    stream = Stream(env, b, dt.dev_file(env))
    stream.start()
    try:
        stream.wait_more(2 * BATCH)
        t_a = stream.catch_up(env, b)

        # 2. a better candidate, deployed under traffic
        rc, out, t2a, t2b = retrain_run(0, "--data", env.path("more.jsonl"), *common,
                                        "--", "--folds", "0")
        ok(rc == 0, "retrain on more data deployed under traffic (%.1f s)" % (t2b - t2a))
        ok("reload confirmed" in out, "scripts/retrain confirmed the reload through /metrics")
        v2dir = link("current")
        m2 = manifest(os.path.join(store, v2dir))
        v2 = m2["version"]
        ok(v2dir != v1dir and v2 != v1, "current moved: %s -> %s" % (v1dir, v2dir))
        ok(link("previous") == v1dir, "previous -> %s" % v1dir)
        text = metrics(port)
        ok(model_info(text) == [(NAME, v2)], "/metrics shows the new version %s" % v2)
        ok(sample(text, "newsclf_reloads_total") == reloads0 + 1, "one reload counted")
        ok(not sample(text, "newsclf_reload_failures_total"), "no reload failure")
        ok(d.proc.poll() is None, "the daemon kept running")
        stream.wait_more(2 * BATCH)

        # 3. shuffled labels: refused, the deployed model keeps serving
        rc, out, t3a, t3b = retrain_run(3, "--data", env.path("garbage.jsonl"), *common,
                                        "--", "--folds", "0")
        ok(rc == 3, "retrain on shuffled labels refused with exit 3 (%.1f s)" % (t3b - t3a))
        ok(re.search(r"^refused: .*reference: macro-F1", out, re.M),
           "the reference set of the earlier deploys refused it")
        ok(link("current") == v2dir, "current unchanged after the refusal")
        ok(link("previous") == v1dir, "previous unchanged after the refusal")
        text = metrics(port)
        ok(model_info(text) == [(NAME, v2)], "/metrics still shows %s" % v2)
        ok(sample(text, "newsclf_reloads_total") == reloads0 + 1, "no reload for the refusal")
        t_b = stream.catch_up(env, b)

        # 4. rollback
        rc, out, t4a, t4b = retrain_run(0, "--rollback", *common)
        ok(rc == 0, "--rollback succeeded (%.1f s)" % (t4b - t4a))
        ok(link("current") == v1dir and link("previous") == v2dir,
           "current -> %s, previous -> %s" % (v1dir, v2dir))
        text = metrics(port)
        ok(model_info(text) == [(NAME, v1)], "/metrics shows the previous version %s again" % v1)
        ok(sample(text, "newsclf_reloads_total") == reloads0 + 2, "a second reload counted")
        ok(not sample(text, "newsclf_reload_failures_total"), "still no reload failure")
        stream.wait_more(2 * BATCH)
    except BaseException:
        stream.abort.set()
        raise
    finally:
        stream.stop_at_min.set()
        stream.join(120)
    if stream.error:
        raise Fail("producer: %s" % stream.error)
    ok(not stream.is_alive(), "the stream ended")
    total = stream.produced
    t_prod = time.monotonic() - t_start

    # 5. drained: every input offset once in news.labeled
    dt.wait_count(env, b, dt.AGG, total, 90)
    ok(d.proc.poll() is None, "the daemon is still running after the stream")
    rc = d.stop()
    ok(rc == 0, "SIGTERM: the daemon exited 0")
    ok(not os.path.exists(pidfile), "the pid file was removed")
    ok(not re.search(r"reload refused", d.logtext()), "no reload refused in the daemon log")
    inputs = dt.input_records(env, b)
    ok(len(inputs) == total, "%d inputs on the broker" % total)
    agg = dt.consume(env, b, [dt.AGG], total)
    outs = {}
    dups = 0
    for r in agg:
        v = json.loads(r["value"])
        key = (v["input"]["partition"], v["input"]["offset"])
        if key in outs:
            dups += 1
        outs[key] = (v["model"]["name"], v["model"]["version"], v["input"]["timestamp"])
    missing = set(inputs) - set(outs)
    ok(not missing, "every input offset appears in news.labeled (%d missing of %d)" %
       (len(missing), total))
    ok(not set(outs) - set(inputs), "no output for an unknown input")
    ok(dups == 0, "no input classified twice (%d duplicates)" % dups)
    ok(all(n == NAME for n, _, _ in outs.values()), "model.name is %s everywhere" % NAME)
    bad = [(k, ver) for k, (_, ver, _) in outs.items() if ver not in (v1, v2)]
    ok(not bad, "model.version is %s or %s everywhere %s" % (v1, v2, bad[:3]))

    def ms(t):
        return int(t * 1000)
    # Created up to t_a / t_b: classified before the next step began.
    phases = {"before the retrain": (None, ms(t_a), v1),
              "between the confirmed deploy and the rollback": (ms(t2b) + 1, ms(t_b), v2),
              "after the confirmed rollback": (ms(t4b) + 1, None, v1)}
    for what, (lo, hi, want) in phases.items():
        sel = [ver for _, ver, ts in outs.values()
               if (lo is None or ts >= lo) and (hi is None or ts < hi)]
        wrong = sum(1 for ver in sel if ver != want)
        ok(sel and not wrong, "%d records created %s carry %s (%d do not)" %
           (len(sel), what, want, wrong))
    during = sum(1 for _, _, ts in outs.values() if ms(t2a) <= ts <= ms(t2b))
    ok(during > 0, "%d articles were created while the deploying retrain ran" % during)
    # Per input partition, in offset order: old, new, old; each switch once.
    for p in sorted({k[0] for k in outs}):
        seq = [outs[k][1] for k in sorted(k for k in outs if k[0] == p)]
        runs = [x for i, x in enumerate(seq) if i == 0 or seq[i - 1] != x]
        names = " -> ".join("v1" if r == v1 else "v2" for r in runs)
        ok(runs in ([v1], [v1, v2], [v1, v2, v1], [v2], [v2, v1]),
           "input partition %d: versions in offset order %s (%d records)" % (p, names, len(seq)))
    n1 = sum(1 for _, ver, _ in outs.values() if ver == v1)
    print("retrain_daemon: %d articles streamed in %.1f s, %d classified with %s, %d with %s; "
          "retrain %.1f s, refused retrain %.1f s, rollback %.1f s" %
          (total, t_prod, n1, v1, total - n1, v2, t2b - t2a, t3b - t3a, t4b - t4a))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--source-dir", required=True)
    a = ap.parse_args()
    a.bin_dir = os.path.abspath(a.bin_dir)
    a.source_dir = os.path.abspath(a.source_dir)
    need = [os.path.join(a.source_dir, "models", "corpus", "train.jsonl"),
            os.path.join(a.source_dir, "models", "corpus", "dev.jsonl"),
            os.path.join(a.bin_dir, "newsclf"), os.path.join(a.bin_dir, "newsclfd"),
            os.path.join(a.bin_dir, "newsclf-mockbroker"),
            os.path.join(a.bin_dir, "bench", "pipeline_load")]
    for p in need:
        if not os.path.exists(p):
            print("skipped: %s is missing" % p)
            return 77
    a.model = os.path.join(a.bin_dir, "no-model-yet")  # the store's, once deployed
    env = dt.Env(a)
    ok_ = False
    t0 = time.monotonic()
    try:
        run(env, a)
        ok_ = True
    except (Fail, subprocess.SubprocessError, OSError, ValueError, KeyError) as e:
        print("FAIL  %s" % e)
    finally:
        env.cleanup(ok_)
    print("ops_retrain_daemon: %d passed, %s (%.1f s)" % (T.passed, "ok" if ok_ else "FAILED",
                                                         time.monotonic() - t0))
    return 0 if ok_ else 1


if __name__ == "__main__":
    sys.exit(main())
