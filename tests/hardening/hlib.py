"""What the hardening tests (tests/hardening/*.py) share beyond
tests/lib/newsclf_test: the hostile producer (tests/tools/hostile_produce.c:
any key, value and header bytes to any partition), VmRSS sampling, a build
directory whose newsclfd runs behind a wrapper (valgrind, unshare, setpriv),
and main() with the suite's --producer option.
"""
import os
import shlex
import struct
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from newsclf_test.checks import Fail, check  # noqa: E402
from newsclf_test.rss import RssSampler, rss_kib, sanitized  # noqa: E402,F401
from newsclf_test.testenv import main as suite_main  # noqa: E402


def main(tests, doc, add_args=None, tools=(), needs=None):
    """A hardening test's main (newsclf_test.testenv.main) with
    --producer BIN: the hostile_produce binary (default: compiled on the
    fly into the scratch folder)."""
    def args(ap):
        ap.add_argument("--producer", help="hostile_produce binary (default: compiled on the fly)")
        if add_args:
            add_args(ap)
    return suite_main(tests, doc, add_args=args, tools=tools, needs=needs,
                      prefix="newsclfd-test.")


def producer_binary(env):
    if env.args.producer:
        return env.args.producer
    out = env.path("hostile_produce")
    src = os.path.join(env.src, "tests", "tools", "hostile_produce.c")
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


def produce_records(env, prod, broker, topic, records, name="spec"):
    """Produces records through the hostile producer `prod`; returns
    [(partition, offset)] in record order."""
    spec = env.path(name + ".bin")
    rep = env.path(name + ".report")
    write_spec(spec, records)
    r = subprocess.run([prod, broker.plain, topic, spec, rep], stdout=subprocess.PIPE,
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


def wrapped_bin_dir(env, real, name, prefix):
    """A bin dir whose newsclfd runs the real one behind prefix (a list of
    words, e.g. valgrind and its options), so newsclf_test's Daemon and
    MockBroker run unchanged."""
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


