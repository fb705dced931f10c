"""Shared helpers of the hardening tests (tests/hardening/*.py).

Builds on tests/daemon/daemon_test.py (imported, not copied): its Env,
Daemon, consume(), count(), poll() and check() work against any object with
a `bs` attribute, so a real Apache Kafka cluster (scripts/kafka) stands in
for the mock broker here.
"""
import base64
import json
import os
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "daemon"))
import daemon_test as dt  # noqa: E402

Fail = dt.Fail
check = dt.check
poll = dt.poll


def args_parser(doc):
    import argparse
    ap = argparse.ArgumentParser(description=doc)
    dt.add_common_args(ap)
    ap.add_argument("--producer", help="hostile_produce binary (default: compiled on the fly)")
    return ap


finish_args = dt.finish_args
no_model = dt.no_model


class Kafka:
    """One real broker (scripts/kafka) in env's temporary folder; `bs` is
    the client bootstrap, so daemon_test's helpers take it as a broker."""

    def __init__(self, env, *opts):
        self.env = env
        self.script = os.path.join(env.src, "scripts", "kafka")
        self.dir = env.path("kafka")
        r = subprocess.run([self.script, "start", "--dir", self.dir, "--owner", str(os.getpid())] +
                           list(opts), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=180)
        if r.returncode != 0:
            raise Fail("scripts/kafka start failed: %s" % r.stderr.decode()[-2000:])
        self.vars = {}
        with open(os.path.join(self.dir, "env")) as f:
            for line in f:
                if "=" in line:
                    k, v = line.rstrip("\n").split("=", 1)
                    self.vars[k] = v
        self.bs = self.vars["KAFKA_BOOTSTRAP"]
        self.plain = self.vars.get("KAFKA_BOOTSTRAP_PLAIN", self.bs)
        env.kafka = self

    def topic(self, name, parts, *configs):
        r = subprocess.run([self.script, "topic", self.dir, name, str(parts), "1"] + list(configs),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        if r.returncode != 0:
            raise Fail("scripts/kafka topic %s failed: %s" % (name, r.stderr.decode()[-2000:]))

    def stop(self):
        subprocess.run([self.script, "stop", self.dir], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=120)


class PlainView:
    """The harness side of a secured cluster: its PLAINTEXT listener."""

    def __init__(self, kafka):
        self.bs = kafka.plain


def make_env(a):
    env = dt.Env(a)
    env.kafka = None
    orig = env.cleanup

    def cleanup(ok):
        # daemons first (they must not see the broker go away mid-test)
        for p in env.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        if env.kafka:
            env.kafka.stop()
        orig(ok)
    env.cleanup = cleanup
    return env


def run_main(tests, name, a):
    env = make_env(a)
    ok = False
    try:
        tests[name](env, a)
        ok = True
    except Fail as e:
        print("FAIL %s: %s" % (name, e))
    finally:
        # NEWSCLF_KEEP_LOGS=1: keep the folder (logs, dumps) after a pass too
        env.cleanup(ok and os.environ.get("NEWSCLF_KEEP_LOGS") != "1")
    return 0 if ok else 1


def producer_binary(env, a):
    if a.producer:
        return a.producer
    out = env.path("hostile_produce")
    src = os.path.join(HERE, "hostile_produce.c")
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "rdkafka"], stdout=subprocess.PIPE,
                           check=True).stdout.decode().split()
    subprocess.run(["cc", "-std=c11", "-D_POSIX_C_SOURCE=200809L", "-O2", "-o", out, src] + flags,
                   check=True)
    return out


def write_spec(path, records):
    """records: dicts with partition, key, value (bytes or None), headers
    [(name bytes, value bytes or None)]."""
    with open(path, "wb") as f:
        for r in records:
            f.write(struct.pack("<i", r.get("partition", -1)))
            for b in (r.get("key"), r.get("value")):
                if b is None:
                    f.write(struct.pack("<i", -1))
                else:
                    f.write(struct.pack("<i", len(b)))
                    f.write(b)
            hs = r.get("headers") or []
            f.write(struct.pack("<i", len(hs)))
            for n, v in hs:
                f.write(struct.pack("<i", len(n)))
                f.write(n)
                if v is None:
                    f.write(struct.pack("<i", -1))
                else:
                    f.write(struct.pack("<i", len(v)))
                    f.write(v)


def produce_records(env, prod, bootstrap, topic, records, name="spec"):
    """Produces records; returns [(partition, offset)] in record order."""
    spec = env.path(name + ".bin")
    rep = env.path(name + ".report")
    write_spec(spec, records)
    r = subprocess.run([prod, bootstrap, topic, spec, rep], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=600)
    if r.returncode != 0:
        raise Fail("hostile_produce: rc=%d %s" % (r.returncode, r.stderr.decode()[-2000:]))
    pos = [None] * len(records)
    with open(rep) as f:
        for line in f:
            i, p, o, e = line.split()
            check(e == "NO_ERROR", "record %s not delivered: %s" % (i, e))
            pos[int(i)] = (int(p), int(o))
    check(all(x is not None for x in pos), "a record without a delivery report")
    os.unlink(spec)
    return pos


def load_dump(path):
    """pipeline_load's --dump, read byte-faithfully: header names are written
    raw (no JSON escaping), so the line is decoded as Latin-1 and parsed
    without the control-character check."""
    recs = []
    with open(path, "rb") as f:
        for line in f:
            r = json.loads(line.decode("latin-1"), strict=False)
            r["key"] = base64.b64decode(r["key_b64"]) if r["key_b64"] is not None else None
            r["value"] = base64.b64decode(r["value_b64"])
            r["hlist"] = [(n.encode("latin-1"), base64.b64decode(v)) for n, v in r["headers"]]
            recs.append(r)
    return recs


def dump(env, broker, topics, expect=-1, idle_ms=3000):
    out = env.path("dump.jsonl")
    env.tool("consume", "-b", broker.bs, "-t", ",".join(topics), "-n", str(expect),
             "--idle-ms", str(idle_ms), "--dump", out, timeout=600)
    recs = load_dump(out)
    os.unlink(out)
    return recs


def count(env, broker, topic):
    r = env.tool("consume", "-b", broker.bs, "-t", topic, "--idle-ms", "2000", timeout=600)
    return int(r.stdout.decode().strip() or 0)


def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class RssSampler(threading.Thread):
    """Samples VmRSS of pid every `step` seconds; `mark(tag)` labels the
    samples that follow, so phases (warm-up, rest) can be compared."""

    def __init__(self, pid, step=0.2):
        super().__init__(daemon=True)
        self.pid = pid
        self.step = step
        self.tag = "start"
        self.samples = []  # (monotonic, tag, kib)
        self.stop_ev = threading.Event()

    def mark(self, tag):
        self.tag = tag

    def run(self):
        while not self.stop_ev.is_set():
            v = rss_kib(self.pid)
            if v is not None:
                self.samples.append((time.monotonic(), self.tag, v))
            self.stop_ev.wait(self.step)

    def stop(self):
        self.stop_ev.set()
        self.join(5)

    def max_of(self, tags):
        vals = [v for _, t, v in self.samples if t in tags]
        return max(vals) if vals else None


def wrapped_bin_dir(env, real, name, prefix):
    """A bin dir whose newsclfd runs the real one behind prefix (a list of
    words, e.g. valgrind and its options), so daemon_test's Daemon and
    Broker are reused unchanged."""
    import shlex
    d = env.path(name)
    os.makedirs(d)
    for f in ("bench", "newsclf-mockbroker", "newsclf"):
        os.symlink(os.path.join(real, f), os.path.join(d, f))
    w = os.path.join(d, "newsclfd")
    with open(w, "w") as f:
        f.write("#!/bin/sh\nexec %s %s \"$@\"\n" %
                (" ".join(shlex.quote(x) for x in prefix),
                 shlex.quote(os.path.join(real, "newsclfd"))))
    os.chmod(w, 0o755)
    return d


def sanitized(bin_dir):
    """True when bin_dir is a NEWSCLF_SANITIZE=ON build (CMakeCache.txt)."""
    import re
    try:
        with open(os.path.join(bin_dir, "CMakeCache.txt")) as f:
            return bool(re.search(r"^NEWSCLF_SANITIZE:BOOL=(ON|TRUE|1)$", f.read(), re.M | re.I))
    except OSError:
        return False
