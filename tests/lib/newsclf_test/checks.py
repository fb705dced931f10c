"""Verdicts and waiting, for every suite: Fail (exit 1) and Skip (exit 77),
check(), poll() with a deadline instead of a fixed sleep, and log(), the
progress line with the seconds since the test started."""
import time

T0 = time.monotonic()


class Fail(Exception):
    """A check failed: the test exits 1."""


class Skip(Exception):
    """Something the test needs is missing: it exits 77 (ctest: skipped)."""


def check(cond, what):
    """Raises Fail(what) unless cond; returns cond."""
    if not cond:
        raise Fail(what)
    return cond


def poll(cond, timeout, what, step=0.1):
    """Calls cond() every `step` seconds until it returns something true,
    and returns that; Fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(step)
    raise Fail("timed out after %ss waiting for: %s" % (timeout, what))


def log(msg):
    print("%7.1f s  %s" % (time.monotonic() - T0, msg), flush=True)
