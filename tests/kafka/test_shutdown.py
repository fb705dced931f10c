#!/usr/bin/env python3
"""newsclfd stopped with SIGTERM at random moments of its start-up and of a
rebalance, on a real broker (one KRaft node), in both delivery modes.

  startup_alo  at-least-once: SIGTERM a random 0-1.5 s after the start
       (before, during or after the group join and the first assignment);
       every stop must exit 0 within limits.shutdown_timeout_ms. Then one
       daemon drains the input and every input is in the output.
  startup_eos  the same with exactly-once (no duplicates allowed).
  rebalance_alo / rebalance_eos  a second instance joins the group; the
       first is stopped a random 0-1.5 s later, during the rebalance.

Five start-up and five rebalance moments per mode (20 in all); with
NEWSCLF_TEST_FULL=1, 25 of each (100). NEWSCLF_TEST_SEED repeats a schedule.

    test_shutdown.py [startup_alo] [startup_eos] [rebalance_alo]
                     [rebalance_eos] --bin-dir DIR --source-dir DIR
"""
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import kafkatest as kt  # noqa: E402  (puts tests/lib on sys.path)
from newsclf_test import load  # noqa: E402
from newsclf_test.checks import check, log  # noqa: E402
from newsclf_test.cluster import Cluster  # noqa: E402
from newsclf_test.corpus import articles_file  # noqa: E402
from newsclf_test.testenv import FULL  # noqa: E402

MOMENTS = 25 if FULL else 5
N = 600
TIMEOUT_MS = 10000  # limits.shutdown_timeout_ms, as newsclf_test.daemon sets it


def stop_in_time(d, what):
    """SIGTERM; exit 0 within the shutdown timeout (the watchdog's grace
    period would be an exit 1 anyway)."""
    t0 = time.time()
    rc = d.stop(timeout=TIMEOUT_MS / 1000.0 + 10)
    took = time.time() - t0
    check(rc == 0, "%s: exit code %s after SIGTERM (log %s)" % (what, rc, d.log))
    check(took <= TIMEOUT_MS / 1000.0, "%s: SIGTERM took %.1f s (log %s)" % (what, took, d.log))
    return took


def setup_topics(env, c, prefix):
    group = prefix + "-group"
    kt.topics_for(c, prefix, in_parts=3, out_parts=3, labels=env.labels)
    load.precommit(env, c, group, prefix + ".articles")
    load.produce(env, c, articles_file(env, N), N, topic=prefix + ".articles", keyed=True)
    return group


def finish(env, c, prefix, group, delivery):
    d = kt.start_daemon(env, c, prefix, group, "sd-1", delivery)
    kt.wait_drained(env, c, group, prefix + ".articles", N, 300, [d])
    stop_in_time(d, "final")
    kt.check_outputs(env, c, prefix, N, delivery == "exactly-once")


def started(d):
    """Waits for the daemon's first log line: its signal handlers are in
    place from before it (a SIGTERM that meets the process before its main()
    runs, e.g. while the sanitizer runtime starts, kills it as for any
    program)."""
    d.wait_log(r"\S", 30)


def startup(env, c, prefix, delivery):
    rng = kt.seed()
    group = setup_topics(env, c, prefix)
    worst = 0.0
    for k in range(MOMENTS):
        d = kt.start_daemon(env, c, prefix, group, "sd-1", delivery)
        started(d)
        time.sleep(rng.uniform(0, 1.5))  # the random moment is the test
        worst = max(worst, stop_in_time(d, "start-up stop %d" % k))
    finish(env, c, prefix, group, delivery)
    log("%s: %d SIGTERMs during start-up, all exit 0, slowest %.1f s; %d inputs "
        "all delivered" % (prefix, MOMENTS, worst, N))


def rebalance(env, c, prefix, delivery):
    rng = kt.seed()
    group = setup_topics(env, c, prefix)
    worst = 0.0
    for k in range(MOMENTS):
        d1 = kt.start_daemon(env, c, prefix, group, "sd-1", delivery)
        d1.running()
        d2 = kt.start_daemon(env, c, prefix, group, "sd-2", delivery)
        started(d2)
        time.sleep(rng.uniform(0, 1.5))  # a random moment of the rebalance
        worst = max(worst, stop_in_time(d1, "rebalance stop %d (first)" % k))
        worst = max(worst, stop_in_time(d2, "rebalance stop %d (second)" % k))
    finish(env, c, prefix, group, delivery)
    log("%s: %d SIGTERMs during rebalances, all exit 0, slowest %.1f s; %d inputs "
        "all delivered" % (prefix, 2 * MOMENTS, worst, N))


TESTS = {
    "startup_alo": lambda env, c: startup(env, c, "sua", "at-least-once"),
    "startup_eos": lambda env, c: startup(env, c, "sue", "exactly-once"),
    "rebalance_alo": lambda env, c: rebalance(env, c, "rba", "at-least-once"),
    "rebalance_eos": lambda env, c: rebalance(env, c, "rbe", "exactly-once"),
}

if __name__ == "__main__":
    sys.exit(kt.main(TESTS, __doc__, lambda env: Cluster(env)))
