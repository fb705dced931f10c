#!/usr/bin/env python3
"""newsclfd end to end under valgrind memcheck.

    valgrind.py --bin-dir DIR --source-dir DIR [--model DIR] [--valgrind-build DIR]

valgrind cannot run the AddressSanitizer build that scripts/test makes, so
when --bin-dir holds a sanitized build (NEWSCLF_SANITIZE=ON in its
CMakeCache.txt) this test configures and builds a RelWithDebInfo build
without sanitizers in --valgrind-build (default: BIN_DIR/valgrind; kept,
so later runs only rebuild what changed). An unsanitized --bin-dir is used
as it is.

The scenario, on the mock cluster (newsclf-mockbroker, as the daemon
tests): 300 dev articles and 40 bad inputs (one of every parser reason,
binary, spoofed headers), a refused reload (missing model), a good SIGHUP
reload under traffic (new thresholds), 100 more articles, SIGTERM. The
daemon runs as
  valgrind --tool=memcheck --error-exitcode=1 --leak-check=full
           --errors-for-leak-kinds=definite
and the test fails on any memcheck error or definite leak (exit code 1,
"ERROR SUMMARY" not 0) as well as on lost or wrong output.
Exit 0 pass, 1 fail, 77 skipped (no model or no valgrind).
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import hlib  # noqa: E402  (puts tests/lib on sys.path)
from newsclf_test import load  # noqa: E402
from newsclf_test.checks import Fail, check  # noqa: E402
from newsclf_test.corpus import dev_file  # noqa: E402
from newsclf_test.daemon import AGG, DL, Daemon, write_config  # noqa: E402
from newsclf_test.mockbroker import MockBroker  # noqa: E402

VG_OPTS = ["--tool=memcheck", "--error-exitcode=1", "--leak-check=full",
           "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite",
           "--num-callers=40", "--child-silent-after-fork=yes"]


def valgrind_build(a):
    if not hlib.sanitized(a.bin_dir):
        return a.bin_dir
    vb = a.valgrind_build or os.path.join(a.bin_dir, "valgrind")
    t0 = time.monotonic()
    for cmd in (["cmake", "-S", a.source_dir, "-B", vb, "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
                 "-DNEWSCLF_SANITIZE=OFF", "-DNEWSCLF_TESTS=OFF"],
                ["cmake", "--build", vb, "-j%d" % (os.cpu_count() or 2), "--target", "newsclfd",
                 "newsclf-mockbroker", "bench_pipeline"]):
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=900)
        if r.returncode != 0:
            raise Fail("%s failed:\n%s" % (" ".join(cmd), r.stdout.decode()[-3000:]))
    print("valgrind: unsanitized build in %s (%.0fs)" % (vb, time.monotonic() - t0))
    return vb


def bad_inputs(env):
    cases = [
        b'{"id": "x", "title": ',
        b"[1, 2, 3]",
        b'{"id": "u", "title": "caf\xe9", "body": "\xff\xfe"}',
        b"",
        b"   \n",
        b'{"id": "big", "body": "' + b"word " * 190000 + b'"}',  # 1 MB: too_large, truncated copy
        b'{"title": 5}',
        b'{"title": "a", "title": "b"}',
        b'{"a":' * 5000 + b"1" + b"}" * 5000,
        bytes(range(256)) * 4,
        b'{"title":"t","body":"b","x":' + b"[" * 990 + b"]" * 990 + b"}",  # valid, deep
        b'{"title":"t","body":"b","x":' + b"[" * 2000 + b"]" * 2000 + b"}",  # too deep
        b'{"title":"\\u0000t","body":"nul \\u0000 inside"}',  # valid
        b'{"id":"a\\u0000b","title":"t"}',
        b"\xc0\xaf overlong",
    ]
    return env.message_files(cases * 3, "bad")


def t_valgrind(env):
    t0 = time.monotonic()
    real = valgrind_build(env.args)
    vglog = env.path("valgrind.%p.log")
    env.bin = hlib.wrapped_bin_dir(env, real, "vgbin",
                                   ["valgrind"] + VG_OPTS + ["--log-file=" + vglog])
    b = MockBroker(env)
    load.precommit(env, b)
    dev = dev_file(env)
    files = bad_inputs(env)
    load.produce(env, b, files=files, headers=["trace-id=vg", "newsclf-error=spoofed"])
    load.produce(env, b, dev, n=300, keyed=True)
    n_good_bad = 2 * 3  # the deep and the NUL-escape articles are valid
    n_dl = len(files) - n_good_bad
    cfg = env.path("newsclf.yaml")
    shutil.copy(write_config(env, "a.yaml", env.model), cfg)
    d = Daemon(env, b, config=cfg, extra=["--set", "limits.shutdown_timeout_ms=60000",
                                          "--set", "kafka.consumer.session.timeout.ms=30000",
                                          "--set", "kafka.consumer.heartbeat.interval.ms=3000"])
    load.wait_count(env, b, AGG, 300 + n_good_bad, 240)
    load.wait_count(env, b, DL, n_dl, 60)
    print("valgrind: first batch done at %.0fs" % (time.monotonic() - t0))
    # a refused reload, then a good one with traffic in between
    shutil.copy(write_config(env, "broken.yaml", env.path("no-such-model")), cfg)
    d.proc.send_signal(signal.SIGHUP)
    d.wait_log(r"reload refused", 120)
    prod = load.produce(env, b, dev, n=100, keyed=True, rate=50, background=True)
    shutil.copy(write_config(env, "b.yaml", env.model, {l: 0.999 for l in env.labels}), cfg)
    d.proc.send_signal(signal.SIGHUP)
    d.wait_log(r"reloaded model", 120)
    check(prod.wait(120) == 0, "producer")
    load.wait_count(env, b, AGG, 400 + n_good_bad, 240)
    rc = d.stop(timeout=180)
    logs = [os.path.join(env.tmp, f) for f in os.listdir(env.tmp) if f.startswith("valgrind.")]
    text = ""
    for lf in logs:
        with open(lf, errors="replace") as f:
            text += f.read()
    summary = re.findall(r"ERROR SUMMARY: (\d+) errors", text)
    definite = re.findall(r"definitely lost: ([\d,]+) bytes", text)
    print("valgrind: exit %s, error summaries %s, definitely lost %s, %.0fs" %
          (rc, summary, definite or ["0"], time.monotonic() - t0))
    if rc != 0 or any(s != "0" for s in summary) or not summary:
        # show the first reports
        first = "\n".join(text.splitlines()[:120])
        raise Fail("memcheck: exit %s, summaries %s\n%s" % (rc, summary, first))
    check(all(x.replace(",", "") == "0" for x in definite), "definite leaks: %s" % definite)
    check(load.count(env, b, AGG) == 400 + n_good_bad, "aggregate count after the stop")
    dls = load.consume(env, b, [DL], n_dl)
    check(len(dls) == n_dl, "dead letters %d != %d" % (len(dls), n_dl))
    for r in dls:
        check(r["hdrs"].get("newsclf-error", [b"spoofed"])[0] != b"spoofed" and
              len(r["hdrs"]["newsclf-error"]) == 1, "spoofed newsclf-error header kept")
    print("valgrind: passed in %.0fs" % (time.monotonic() - t0))


def add_args(ap):
    ap.add_argument("--valgrind-build")


if __name__ == "__main__":
    sys.exit(hlib.main({"valgrind": t_valgrind}, __doc__, add_args=add_args,
                       tools=("valgrind",)))
