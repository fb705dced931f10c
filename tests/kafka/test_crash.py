#!/usr/bin/env python3
"""newsclfd SIGKILLed again and again on a real broker (one KRaft node).

  eos  kafka.delivery=exactly-once: 20,000 articles (fresh ids) on a
       6-partition topic, the daemon SIGKILLed at 5 random moments and
       restarted (same kafka.instance_id); once drained, a read_committed
       reader finds every input exactly once in the aggregate topic and once
       in each label topic its labels name.
  alo  the same with at-least-once: no input missing; the duplicates at
       most the outputs written in the 2 s before each kill plus what was in
       flight (limits.max_inflight_total, set to 1000 here).
  backlog  alo with all 10,000 inputs on the topic before the first start.
  In every case one input line in 97 is invalid (JSON cut short, not an
  object, invalid UTF-8): each is in the dead-letter topic once (at least
  once), nothing else is; the outputs of each input partition come in input
  offset order (repeats of earlier ones allowed at-least-once); the last
  run's counters add up (consumed = classified + dead-lettered).
  fenced  a second instance with the same kafka.instance_id: the first
       stops with a clear fatal error, nothing duplicated or lost.

The input streams in (2,000/s) while the daemon is killed and restarted.
The kill moments: random points of the input (a random count of records
on the aggregate topic, at least one written by the instance to be killed,
then a random 0-300 ms into the commit cycle).
NEWSCLF_TEST_FULL=1: 100,000 articles (backlog 40,000), 20 kills.

    test_crash.py [eos] [alo] [backlog] [fenced] --bin-dir DIR --source-dir DIR
"""
import re
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import kafkatest as kt  # noqa: E402  (puts tests/lib on sys.path)
from newsclf_test import load  # noqa: E402
from newsclf_test.checks import Fail, check, log, poll  # noqa: E402
from newsclf_test.cluster import Cluster  # noqa: E402
from newsclf_test.corpus import articles_file  # noqa: E402
from newsclf_test.testenv import FULL  # noqa: E402

N = 100000 if FULL else 20000
NB = 40000 if FULL else 10000  # backlog case
KILLS = 20 if FULL else 5
RATE = 4000 if FULL else 2000  # input articles/s
BAD_EVERY = 97  # one input line in BAD_EVERY is invalid
WINDOW = 2.0  # s: the inputs received this long before a kill may repeat
# In flight at a kill beyond the window: at most what the daemon holds.
INFLIGHT = 1000
LIMITS = ["--set", "limits.max_inflight_total=%d" % INFLIGHT,
          "--set", "limits.max_inflight_per_partition=%d" % (INFLIGHT // 2)]


def mixed_articles(env, n):
    """n input lines: numbered articles (ids a000000..) with one in
    BAD_EVERY replaced by an invalid input of its own bytes (JSON cut short,
    not an object, invalid UTF-8). Returns (path, {line number: bytes})."""
    path = articles_file(env, n)
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")[:n]
    bad = {}
    for i in range(BAD_EVERY // 2, n, BAD_EVERY):
        kind = (i // BAD_EVERY) % 3
        bad[i] = [b'{"id": "b%06d", "title": ' % i, b'[%d, "not an object"]' % i,
                  b'{"id": "c%06d", "title": "caf\xe9"}' % i][kind]
        lines[i] = bad[i]
    with open(path, "wb") as f:
        f.write(b"\n".join(lines) + b"\n")
    return path, bad


def crash_run(env, c, prefix, delivery, n=N, backlog=False):
    """Returns (aggregate, label topic, dead-letter duplicates, their
    bound: the aggregate records written in the WINDOW s before each kill
    plus INFLIGHT per kill)."""
    rng = kt.seed()
    group = prefix + "-group"
    intopic, agg = prefix + ".articles", prefix + ".labeled"
    kt.topics_for(c, prefix, labels=env.labels)
    path, bad = mixed_articles(env, n)
    load.precommit(env, c, group, intopic)
    if backlog:
        load.produce(env, c, path, n, topic=intopic, keyed=True)
        log("backlog: %d inputs (%d invalid) on %s before the first start" % (n, len(bad), intopic))
        prod = None
    else:
        # The input streams in while the daemon is killed and restarted, so
        # every kill is mid-stream whatever the machine's speed.
        prod = load.produce(env, c, path, n, topic=intopic, keyed=True, rate=RATE,
                            background=True)
        log("producing %d articles (%d invalid) to %s (6 partitions) at %d/s" %
            (n, len(bad), intopic, RATE))
    targets = sorted(rng.uniform(0.03, 0.85) * n for _ in range(KILLS))
    bound = 0
    for k, target in enumerate(targets, 1):
        # progress = records written to the aggregate topic (aborted ones
        # too); this instance must write some of its own before the kill
        base = load.offsets(env, c, group, agg)[1]
        target = max(target, base + 1)
        d = kt.start_daemon(env, c, prefix, group, "crash-1", delivery, extra=LIMITS)
        samples = [(time.monotonic(), base)]

        def progressed():
            if d.proc.poll() is not None:
                raise Fail("daemon exited (rc=%s), log %s" % (d.proc.returncode, d.log))
            samples.append((time.monotonic(), load.offsets(env, c, group, agg)[1]))
            return samples[-1][1] >= target

        poll(progressed, 120, "%d records on %s" % (target, agg), step=0.2)
        time.sleep(rng.uniform(0, 0.3))  # a random point of the commit cycle
        t_kill = time.monotonic()
        d.proc.kill()
        d.proc.wait()
        # written before the window opened: the last sample taken by then
        before = max([w for t, w in samples if t <= t_kill - WINDOW] + [base])
        window = load.offsets(env, c, group, agg)[1] - before
        bound += window + INFLIGHT
        done = load.offsets(env, c, group, intopic)[0]
        check(done < n, "kill %d came after the input was drained" % k)
        log("kill %d: SIGKILL with %d of %d inputs committed, %d outputs in the last %.0f s" %
            (k, done, n, window, WINDOW))
    check(prod is None or prod.wait(300) == 0, "producer failed")
    d = kt.start_daemon(env, c, prefix, group, "crash-1", delivery, extra=LIMITS)
    kt.wait_drained(env, c, group, intopic, n, 300, [d])
    check(d.stop() == 0, "exit code after SIGTERM (log %s)" % d.log)
    m = re.search(r"stopped consumed=(\d+) classified=(\d+) deadlettered=(\d+)", d.logtext())
    check(m and int(m.group(1)) == int(m.group(2)) + int(m.group(3)),
          "last run's counters do not add up: %s" % (m and m.group(0)))
    dups, label_dups, _, dl_dups = kt.check_outputs(env, c, prefix, n,
                                                    delivery == "exactly-once", bad, order=True)
    return dups, label_dups, dl_dups, bound


def t_eos(env, c):
    crash_run(env, c, "eos", "exactly-once")
    log("eos: %d inputs (1 in %d invalid, each dead-lettered once), %d SIGKILLs: every "
        "input exactly once, in input order per partition, 0 duplicates" % (N, BAD_EVERY, KILLS))


def alo_report(what, n, dups, label_dups, dl_dups, bound):
    # duplicates come only from inputs whose outputs were written but whose
    # offsets were not committed yet (commits every second, docs/kafka.md)
    check(dups + dl_dups <= bound, "%s: %d duplicates (%d aggregate + %d dead letters) over "
          "the bound %d" % (what, dups + dl_dups, dups, dl_dups, bound))
    log("%s: %d inputs (1 in %d invalid), %d SIGKILLs: none missing, in input order per "
        "partition; duplicates: %d in the aggregate topic (%.1f%%), %d dead letters, %d in "
        "label topics; bound %d (outputs of the last %.0f s before each kill + %d in flight)" %
        (what, n, BAD_EVERY, KILLS, dups, 100.0 * dups / n, dl_dups, label_dups, bound,
         WINDOW, INFLIGHT))


def t_alo(env, c):
    alo_report("alo", N, *crash_run(env, c, "alo", "at-least-once"))


def t_backlog(env, c):
    """at-least-once, all the input present before the first start: the
    daemon reads as fast as it can, and a crash loop still moves forward."""
    alo_report("backlog", NB, *crash_run(env, c, "blg", "at-least-once", NB, backlog=True))


def t_fenced(env, c):
    """A second instance with the same kafka.instance_id (an operator error,
    or a zombie after a network partition) fences the first: the first stops
    with a clear fatal error, the second goes on, and still every input is
    in the output exactly once (the zombie's open transaction is aborted)."""
    n = 3000
    prefix, group = "fen", "fen-group"
    intopic = prefix + ".articles"
    kt.topics_for(c, prefix, labels=env.labels)
    load.precommit(env, c, group, intopic)
    prod = load.produce(env, c, articles_file(env, n), n, topic=intopic, keyed=True, rate=1000,
                        background=True)
    d1 = kt.start_daemon(env, c, prefix, group, "dup", "exactly-once")
    poll(lambda: load.offsets(env, c, group, intopic)[0] >= 300, 60, "d1 committing")
    d2 = kt.start_daemon(env, c, prefix, group, "dup", "exactly-once")
    rc = d1.wait_exit(60, "once fenced")
    check(rc != 0, "fenced instance exit code %s" % rc)
    m = re.search(r"fatal: .*", d1.logtext())
    check(m and re.search(r"fenc", m.group(0), re.I),
          "no clear fatal 'fenced' error in %s" % d1.log)
    check(prod.wait(120) == 0, "producer failed")
    kt.wait_drained(env, c, group, intopic, n, 120, [d2])
    check(d2.stop() == 0, "second instance exit code (log %s)" % d2.log)
    kt.check_outputs(env, c, prefix, n, True)
    log("fenced: the first instance stopped (rc %d): %s; %d inputs exactly once" %
        (rc, m.group(0)[:160], n))


TESTS = {"eos": t_eos, "alo": t_alo, "backlog": t_backlog, "fenced": t_fenced}

if __name__ == "__main__":
    sys.exit(kt.main(TESTS, __doc__, lambda env: Cluster(env)))
