#!/usr/bin/env python3
"""newsclfd warns at start when it runs as root.

    root_warning.py --bin-dir DIR --source-dir DIR [--model DIR]

Starts newsclfd on the mock cluster (newsclf-mockbroker) as root (directly
when the test runs as root, else in a user namespace, `unshare -r`, where
the daemon's euid is 0) and checks for a warn-level log line that mentions
root before the partitions are assigned. When the test runs as root and
setpriv(1) is there, it also starts the daemon as nobody and checks that no
such line appears.
Exit 0 pass, 1 fail, 77 skipped (no model, or no way to be root).
"""
import os
import re
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import hlib  # noqa: E402  (puts tests/lib on sys.path)
from newsclf_test import load  # noqa: E402
from newsclf_test.checks import check  # noqa: E402
from newsclf_test.daemon import Daemon  # noqa: E402
from newsclf_test.mockbroker import MockBroker  # noqa: E402

ROOT_LINE = re.compile(r"^\S+ warn\s.*\broot\b", re.M | re.I)
AS_NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def start_and_stop(env, b, bin_dir):
    real = env.bin
    env.bin = bin_dir
    try:
        d = Daemon(env, b)
    finally:
        env.bin = real
    d.running()
    rc = d.stop()
    check(rc == 0, "daemon exit code %s: %s" % (rc, d.logtext()[-1500:]))
    return d.logtext()


def t_root(env):
    b = MockBroker(env)
    load.precommit(env, b)
    if os.geteuid() == 0:
        how = "as root"
        bin_dir = env.bin
    else:
        how = "in a user namespace (unshare -r)"
        bin_dir = hlib.wrapped_bin_dir(env, env.bin, "nsbin", ["unshare", "-r"])
    log = start_and_stop(env, b, bin_dir)
    m = ROOT_LINE.search(log)
    check(m, "no warning about running as root (%s) in the start-up log:\n%s" %
          (how, "\n".join(log.splitlines()[:8])))
    print("root_warning: %s: %s" % (how, m.group(0)[:200]))
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        return
    probe = subprocess.run(AS_NOBODY + [env.tool("newsclfd"), "--check-config",
                                        os.path.join(env.src, "config", "newsclf.yaml")],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    readable = os.access(env.model, os.R_OK) and subprocess.run(
        AS_NOBODY + ["test", "-r", os.path.join(env.model, "manifest.json")]).returncode == 0
    if probe.returncode != 0 or not readable:
        print("root_warning: nobody cannot run this build or read the model; "
              "the negative check (no warning as nobody) is skipped")
        return
    nobody = hlib.wrapped_bin_dir(env, env.bin, "nobodybin", AS_NOBODY)
    log = start_and_stop(env, b, nobody)
    check(not ROOT_LINE.search(log), "a root warning while running as nobody")
    print("root_warning: as nobody: no warning")


def no_root(_args):
    """Why the daemon cannot run as root here (None when it can)."""
    if os.geteuid() != 0 and (not shutil.which("unshare") or subprocess.run(
            ["unshare", "-r", "true"], stderr=subprocess.DEVNULL).returncode != 0):
        return "not root and no user namespaces"
    return None


if __name__ == "__main__":
    sys.exit(hlib.main({"root": t_root}, __doc__, needs=no_root))
