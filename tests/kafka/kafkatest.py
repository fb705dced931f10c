"""Shared helpers of newsclfd's tests against real Apache Kafka (scripts/kafka).

Each test file starts one cluster (Cluster), runs its cases on it with their
own topics and consumer groups, and stops it. Daemons are started with
tests/daemon/daemon_test.py's Daemon (imported, not copied); Kafka is read
and written with bench/pipeline_load (read_committed by default) through the
cluster's PLAINTEXT harness listener. Every wait polls a condition with a
deadline; the only timed pauses are the random kill moments of crash tests.

NEWSCLF_TEST_FULL=1 selects the longer variants (more kills, more articles);
NEWSCLF_TEST_SEED fixes the random kill schedule (printed by every test).
"""
import argparse
import base64
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "daemon"))
import daemon_test  # noqa: E402  (Env, Daemon, poll, check, Fail)

Fail = daemon_test.Fail
check = daemon_test.check
poll = daemon_test.poll
FULL = os.environ.get("NEWSCLF_TEST_FULL") == "1"


def log(msg):
    print("%7.1f s  %s" % (time.monotonic() - T0, msg), flush=True)


T0 = time.monotonic()


class Cluster:
    """A scripts/kafka cluster in the test's temporary folder."""

    def __init__(self, env, name="k", brokers=1, args=()):
        self.env = env
        self.src = env.src
        self.dir = env.path(name)
        t0 = time.monotonic()
        r = subprocess.run([self.script(), "start", "--dir", self.dir, "--brokers", str(brokers),
                            "--owner", str(os.getpid())] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=180)
        if r.returncode != 0:
            raise Fail("scripts/kafka start: %s" % r.stderr.decode()[-2000:])
        self.vars = {}
        with open(os.path.join(self.dir, "env")) as f:
            for line in f:
                k, _, v = line.strip().partition("=")
                if k:
                    self.vars[k] = v
        self.bs = self.vars["KAFKA_BOOTSTRAP"]       # what the daemon uses
        self.plain = self.vars["KAFKA_BOOTSTRAP_PLAIN"]  # the harness's listener
        self.brokers = brokers
        env.clusters.append(self)
        log("cluster up: %d broker(s), %s (%.1f s)" % (brokers, self.bs, time.monotonic() - t0))

    def script(self):
        return os.path.join(self.src, "scripts", "kafka")

    def kafka(self, *args, timeout=120):
        r = subprocess.run([self.script()] + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
        if r.returncode != 0:
            raise Fail("scripts/kafka %s: %s" % (" ".join(args), r.stderr.decode()[-2000:]))
        return r.stdout.decode()

    def topics(self, specs, rf=None, configs=()):
        """specs: [(name, partitions)], created in one Admin API request
        (bench/pipeline_load topics; a TopicCommand JVM per topic is slow)."""
        args = [os.path.join(self.env.bin, "bench", "pipeline_load"), "topics", "-b", self.plain]
        if rf:
            args += ["--rf", str(rf)]
        for c in configs:
            args += ["--config", c]
        args += ["%s:%d" % (name, parts) for name, parts in specs]
        r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        if r.returncode != 0:
            raise Fail("creating topics: %s" % r.stderr.decode())

    def stop_broker(self, n, kill=False):
        self.kafka("stop-broker", self.dir, str(n), "--kill" if kill else "--term")

    def start_broker(self, n):
        self.kafka("start-broker", self.dir, str(n), timeout=180)

    def leader(self, topic, partition):
        """Node id of the partition's leader (kcat metadata, JSON)."""
        r = subprocess.run(["kcat", "-b", self.plain, "-L", "-J", "-t", topic, "-m", "5"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=30)
        md = json.loads(r.stdout.decode())
        for t in md.get("topics", []):
            for p in t.get("partitions", []):
                if p["partition"] == partition:
                    return p["leader"]
        raise Fail("no leader for %s/%d" % (topic, partition))

    def isr_full(self, topic, want):
        r = subprocess.run(["kcat", "-b", self.plain, "-L", "-J", "-t", topic, "-m", "5"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=30)
        try:
            md = json.loads(r.stdout.decode())
            parts = md["topics"][0]["partitions"]
        except (ValueError, KeyError, IndexError):
            return False
        return parts and all(len(p.get("isrs", [])) == want for p in parts)

    def stop(self):
        subprocess.run([self.script(), "stop", self.dir], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60)


class Env(daemon_test.Env):
    def __init__(self, a):
        super().__init__(a)
        # our own prefix: other suites sweep stale newsclfd-test.* folders
        os.rmdir(self.tmp)
        self.tmp = tempfile.mkdtemp(prefix="newsclf-kafka-test.")
        self.clusters = []

    def cleanup(self, ok):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        for c in self.clusters:
            c.stop()
        super().cleanup(ok)

    def load(self, *args, check_rc=True, timeout=300):
        cmd = [os.path.join(self.bin, "bench", "pipeline_load")] + list(args)
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        if check_rc and r.returncode not in (0, 3):
            raise Fail("%s: rc=%d %s" % (" ".join(cmd), r.returncode, r.stderr.decode()))
        return r


class Target:
    """What daemon_test.Daemon needs of a broker: .bs, the daemon's bootstrap."""

    def __init__(self, bs):
        self.bs = bs


def articles_file(env, n, name="articles.jsonl"):
    """n corpus articles (train + dev, repeated) with fresh ids a000001..:
    every input is identifiable in the outputs by its id."""
    src = []
    for fn in ("train.jsonl", "dev.jsonl"):
        with open(os.path.join(env.src, "models", "corpus", fn)) as f:
            src += [json.loads(line) for line in f if line.strip()]
    path = env.path(name)
    with open(path, "w") as f:
        for i in range(n):
            a = dict(src[i % len(src)])
            a["id"] = "a%06d" % i
            f.write(json.dumps(a) + "\n")
    return path


def produce(env, cluster, topic, path, n, rate=None, wait=True):
    args = [os.path.join(env.bin, "bench", "pipeline_load"), "produce", "-b", cluster.plain,
            "-t", topic, "-f", path, "-n", str(n), "--keyed"]
    if rate:
        args += ["--rate", str(rate)]
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    env.procs.append(p)
    if wait:
        check(p.wait(300) == 0, "producer failed: %s" % p.stderr.read().decode())
    return p


def precommit(env, cluster, group, topic):
    """Commits offset 0 on every partition, so daemons can run with
    auto.offset.reset=error (a silent reset shows as a failure)."""
    env.load("commit", "-b", cluster.plain, "-g", group, "-t", topic)


def offsets(env, cluster, group, topic):
    """(committed, end) summed over topic's partitions; (-1, -1) when the
    brokers do not answer in time (a broker may be down on purpose)."""
    try:
        r = env.load("offsets", "-b", cluster.plain, "-g", group, "-t", topic, check_rc=False,
                     timeout=30)
    except subprocess.TimeoutExpired:
        return (-1, -1)
    m = re.match(r"committed=(\d+) end=(\d+)", r.stdout.decode())
    if not m:
        return (-1, -1)
    return int(m.group(1)), int(m.group(2))


def wait_drained(env, cluster, group, topic, n, timeout, daemons=()):
    """Until group's committed offsets of topic add up to n (everything
    consumed was committed). A daemon that exits meanwhile is an error."""
    last = [(-1, -1)]

    def done():
        for d in daemons:
            if d.proc.poll() is not None:
                raise Fail("daemon exited (rc=%s) before the input was drained; log %s" %
                           (d.proc.returncode, d.log))
        last[0] = offsets(env, cluster, group, topic)
        return last[0][0] >= n

    try:
        poll(done, timeout, "%d committed on %s" % (n, topic), step=0.5)
    except Fail:
        raise Fail("only %s of %d input offsets committed on %s" % (last[0], n, topic))


def read(env, cluster, topics, expect=-1, idle_ms=3000):
    """Every record of topics (read_committed): [{topic, partition, offset,
    key, value (parsed JSON), hdrs}]."""
    out = env.path("read.jsonl")
    env.load("consume", "-b", cluster.plain, "-t", ",".join(topics), "-n", str(expect),
             "--idle-ms", str(idle_ms), "--dump", out, "-X", "isolation.level=read_committed")
    recs = []
    with open(out) as f:
        for line in f:
            r = json.loads(line)
            r["key"] = base64.b64decode(r["key_b64"]) if r["key_b64"] is not None else None
            raw = base64.b64decode(r["value_b64"])
            try:
                r["value"] = json.loads(raw)
            except ValueError:
                r["value"] = raw
            r["hdrs"] = {}
            for name, v in r["headers"]:
                r["hdrs"].setdefault(name, []).append(base64.b64decode(v))
            del r["key_b64"], r["value_b64"], r["headers"]
            recs.append(r)
    os.unlink(out)
    return recs


def check_outputs(env, cluster, prefix, n, exactly_once):
    """Reads <prefix>.labeled and its label topics and checks them against
    the n inputs a000000..: every input in the aggregate topic (exactly once
    with exactly_once, else at least once), each label topic holding once
    (at least once) exactly the inputs whose aggregate record has the label,
    nothing dead-lettered. Returns the number of duplicate aggregate records."""
    agg = read(env, cluster, [prefix + ".labeled"], n)
    ids = {}
    for r in agg:
        v = r["value"]
        check(isinstance(v, dict) and "id" in v, "aggregate record is not an output: %r" % (v,))
        ids.setdefault(v["id"], []).append(r)
    want = {"a%06d" % i for i in range(n)}
    missing = want - set(ids)
    extra = set(ids) - want
    check(not missing, "%d inputs missing from %s.labeled, e.g. %s" %
          (len(missing), prefix, sorted(missing)[:5]))
    check(not extra, "unknown ids on %s.labeled: %s" % (prefix, sorted(extra)[:5]))
    dups = len(agg) - len(ids)
    if exactly_once:
        check(dups == 0, "%d duplicate records on %s.labeled (exactly-once), e.g. %s" %
              (dups, prefix, [k for k, v in ids.items() if len(v) > 1][:5]))
    # every copy of one input carries the same input position and labels
    labels = {}
    for k, rs in ids.items():
        pos = {(r["value"]["input"]["partition"], r["value"]["input"]["offset"]) for r in rs}
        check(len(pos) == 1, "input %s seen at two positions %s" % (k, pos))
        labs = {tuple(sorted(r["value"]["labels"])) for r in rs}
        check(len(labs) == 1, "input %s labeled differently: %s" % (k, labs))
        labels[k] = set(labs.pop())
    label_dups = 0
    for lab in env.labels:
        recs = read(env, cluster, ["%s.labeled.%s" % (prefix, lab)])
        got = {}
        for r in recs:
            v = r["value"]
            check(lab in v["labels"], "%s record without the label" % lab)
            got[v["id"]] = got.get(v["id"], 0) + 1
        want_l = {k for k, labs in labels.items() if lab in labs}
        check(set(got) == want_l, "label topic %s: %d inputs, %d expected (missing %s, extra %s)" %
              (lab, len(got), len(want_l), sorted(want_l - set(got))[:3],
               sorted(set(got) - want_l)[:3]))
        d = sum(c - 1 for c in got.values())
        if exactly_once:
            check(d == 0, "label topic %s: %d duplicates (exactly-once)" % (lab, d))
        label_dups += d
    dl = read(env, cluster, [prefix + ".deadletter"])
    check(not dl, "%d dead letters for good input" % len(dl))
    return dups, label_dups, sum(len(v) for v in labels.values())


def topics_for(cluster, prefix, in_parts=6, out_parts=6, rf=None, labels=()):
    specs = [(prefix + ".articles", in_parts), (prefix + ".labeled", out_parts),
             (prefix + ".deadletter", 1)]
    specs += [("%s.labeled.%s" % (prefix, lab), 3) for lab in labels]
    cluster.topics(specs, rf=rf)


def daemon_args(prefix, group, instance, delivery, extra=()):
    """--set arguments for one newsclfd on the <prefix>.* topics."""
    a = ["--set", "kafka.input_topics=%s.articles" % prefix,
         "--set", "outputs.aggregate.topic=%s.labeled" % prefix,
         "--set", "outputs.labels.topic_prefix=%s.labeled." % prefix,
         "--set", "outputs.deadletter.topic=%s.deadletter" % prefix,
         "--set", "kafka.group=" + group,
         "--set", "kafka.instance_id=" + instance,
         "--set", "kafka.delivery=" + delivery,
         # a killed instance's open transaction blocks read_committed readers
         # and its partitions' next owner until it times out (docs/kafka.md)
         "--set", "kafka.producer.transaction.timeout.ms=10000",
         "--set", "kafka.consumer.session.timeout.ms=6000"]
    return a + list(extra)


def start_daemon(env, cluster, prefix, group, instance, delivery, extra=(), config=None):
    return daemon_test.Daemon(env, Target(cluster.bs),
                              extra=daemon_args(prefix, group, instance, delivery, extra),
                              config=config)


def assigned_count(d):
    """Partitions d holds now, from its log (assigned minus revoked)."""
    n = 0
    for m in re.finditer(r"partitions (assigned|revoked) count=(\d+)", d.logtext()):
        n += int(m.group(2)) if m.group(1) == "assigned" else -int(m.group(2))
    return n


def seed():
    s = int(os.environ.get("NEWSCLF_TEST_SEED", "0")) or random.SystemRandom().randrange(1, 1 << 30)
    log("random seed %d (NEWSCLF_TEST_SEED=%d repeats this schedule)" % (s, s))
    return random.Random(s)


def main(tests, doc, setup):
    """Runs the named cases (default: all, in order) of one test file.
    setup(env) starts the file's cluster once and returns it; each case is
    called as case(env, cluster)."""
    ap = argparse.ArgumentParser(description=doc)
    ap.add_argument("tests", nargs="*", help="cases to run (default: all): " + " ".join(tests))
    daemon_test.add_common_args(ap)
    a = daemon_test.finish_args(ap.parse_args())
    if daemon_test.no_model(a):
        return 77
    for tool in ("java", "kcat"):
        if subprocess.run(["sh", "-c", "command -v " + tool], stdout=subprocess.DEVNULL).returncode:
            print("skipped: %s not found (scripts/deps installs it)" % tool)
            return 77
    names = a.tests or list(tests)
    for name in names:
        if name not in tests:
            ap.error("unknown case %s" % name)
    env = Env(a)
    ok = False
    try:
        cluster = setup(env)
        for name in names:
            t0 = time.monotonic()
            log("== %s" % name)
            tests[name](env, cluster)
            log("ok %s (%.1f s)" % (name, time.monotonic() - t0))
        ok = True
    except Fail as e:
        print("FAIL: %s" % e, flush=True)
    finally:
        env.cleanup(ok)
    log("done: %s" % ("all passed" if ok else "FAILED"))
    return 0 if ok else 1
