"""The environment of one test run and the main() of every Python suite.

Arguments: --bin-dir (the CMake build), --source-dir (the repository),
--model (default $NEWSCLF_TEST_MODEL, else models/default). A test is
skipped (exit 77) when what it needs is missing: the model, a program on
PATH, or whatever the suite's own `needs` callback names.

Env is the run's scratch folder (kept, with every log in it, when the test
fails, or always with NEWSCLF_KEEP_LOGS=1), the processes started for it
(killed at the end) and the real Kafka clusters (stopped after them).

NEWSCLF_TEST_FULL=1 (FULL) selects the longer variants of a suite.
"""
import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time

from newsclf_test.checks import Fail, Skip, check, log

FULL = os.environ.get("NEWSCLF_TEST_FULL") == "1"
LABELS_DEFAULT = ["conflict", "sanctions", "trade", "vaccines"]


def model_labels(model):
    """The label names in model/manifest.json (LABELS_DEFAULT without one)."""
    try:
        with open(os.path.join(model, "manifest.json")) as f:
            lab = json.load(f).get("labels")
        if isinstance(lab, list) and lab:
            return [x if isinstance(x, str) else x.get("name") for x in lab]
    except (OSError, ValueError, AttributeError):
        pass
    return list(LABELS_DEFAULT)


class Env:
    def __init__(self, a, prefix="newsclf-test."):
        self.args = a
        self.bin = a.bin_dir
        self.src = a.source_dir
        self.model = a.model
        self.labels = model_labels(self.model)
        self.tmp = tempfile.mkdtemp(prefix=prefix)
        self.procs = []      # killed at cleanup
        self.clusters = []   # scripts/kafka clusters, stopped after the processes
        self.passed = 0      # checks counted by ok()
        self.counters = {}

    def path(self, *p):
        return os.path.join(self.tmp, *p)

    def tool(self, name):
        """A program of the build: "newsclfd", "bench/pipeline_load", ..."""
        return os.path.join(self.bin, *name.split("/"))

    def seq(self, name):
        """1, 2, ... per name: numbers the logs of repeated processes."""
        self.counters[name] = self.counters.get(name, 0) + 1
        return self.counters[name]

    def spawn(self, args, log=None, **kw):
        """Starts a process killed at cleanup; its stderr is appended to the
        file `log` in the scratch folder (discarded without one)."""
        err = open(self.path(log), "a") if log else subprocess.DEVNULL
        p = subprocess.Popen(args, stdout=kw.pop("stdout", subprocess.DEVNULL), stderr=err, **kw)
        if log:
            err.close()
        self.procs.append(p)
        return p

    def message_files(self, payloads, prefix="msg"):
        """One file per payload (bytes) in the scratch folder, for
        `pipeline_load produce -m`; their paths."""
        files = []
        for i, payload in enumerate(payloads):
            files.append(self.path("%s%d" % (prefix, i)))
            with open(files[-1], "wb") as f:
                f.write(payload)
        return files

    def ok(self, cond, what):
        """check() that prints and counts each check that passed."""
        check(cond, what)
        self.passed += 1
        print("ok    " + what, flush=True)

    def cleanup(self, keep):
        # the processes first: a daemon must not see its broker go away
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        for c in list(self.clusters):
            c.stop()
        if keep:
            print("logs kept in", self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def add_common_args(ap):
    ap.add_argument("--bin-dir", required=True, help="the CMake build directory")
    ap.add_argument("--source-dir", required=True, help="the repository")
    ap.add_argument("--model", default=os.environ.get("NEWSCLF_TEST_MODEL"),
                    help="model directory (default $NEWSCLF_TEST_MODEL, else models/default)")


def finish_args(a):
    a.bin_dir = os.path.abspath(a.bin_dir)
    a.source_dir = os.path.abspath(a.source_dir)
    a.model = os.path.abspath(a.model or os.path.join(a.source_dir, "models", "default"))
    return a


def missing(a, model=True, tools=(), needs=None):
    """Why the test cannot run (None when it can)."""
    if model and not os.path.exists(os.path.join(a.model, "manifest.json")):
        return "no model at %s (set NEWSCLF_TEST_MODEL)" % a.model
    for t in tools:
        if not shutil.which(t):
            return "%s not found (scripts/deps installs it)" % t
    return needs(a) if needs else None


def parse(tests, doc, many=False, add_args=None):
    """Arguments: TEST (one of tests; optional when there is only one) or,
    with many, any number of them (default: all, in order)."""
    ap = argparse.ArgumentParser(description=doc,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    if many:
        ap.add_argument("tests", nargs="*", help="default: all of " + " ".join(tests))
    elif len(tests) == 1:
        ap.add_argument("test", nargs="?", choices=sorted(tests), default=next(iter(tests)))
    else:
        ap.add_argument("test", choices=sorted(tests))
    add_common_args(ap)
    if add_args:
        add_args(ap)
    a = finish_args(ap.parse_args())
    names = (a.tests or list(tests)) if many else [a.test]
    for name in names:
        if name not in tests:
            ap.error("unknown test %s" % name)
    return a, names


def run(a, names, tests, setup=None, prefix="newsclf-test."):
    """Runs the named tests in one Env: each as test(env), or with setup as
    test(env, setup(env)) (e.g. one Kafka cluster shared by the cases).
    Returns the exit code: 0 passed, 1 failed, 77 skipped."""
    env = Env(a, prefix)
    code = 1
    name = names[0]
    try:
        ctx = setup(env) if setup else None
        for name in names:
            t0 = time.monotonic()
            log("== %s" % name)
            if setup:
                tests[name](env, ctx)
            else:
                tests[name](env)
            log("ok %s (%.1f s%s)" % (name, time.monotonic() - t0,
                                      ", %d checks" % env.passed if env.passed else ""))
        code = 0
    except Skip as e:
        print("skipped: %s" % e)
        code = 77
    except Fail as e:
        print("FAIL %s: %s" % (name, e), flush=True)
    finally:
        env.cleanup(keep=code == 1 or os.environ.get("NEWSCLF_KEEP_LOGS") == "1")
    log("%s: %s" % (" ".join(names), {0: "passed", 1: "FAILED", 77: "skipped"}[code]))
    return code


def main(tests, doc, many=False, add_args=None, model=True, tools=(), needs=None, setup=None,
         prefix="newsclf-test."):
    """A suite's main: parse(), then missing() (model may be a function of
    the test names), then run()."""
    a, names = parse(tests, doc, many, add_args)
    why = missing(a, model(names) if callable(model) else model, tools, needs)
    if why:
        print("skipped: %s" % why)
        return 77
    return run(a, names, tests, setup, prefix)
