#!/usr/bin/env python3
"""newsclfd SIGKILLed again and again on a real broker (one KRaft node).

  eos  kafka.delivery=exactly-once: 20,000 articles (fresh ids) on a
       6-partition topic, the daemon SIGKILLed at 5 random moments and
       restarted (same kafka.instance_id); once drained, a read_committed
       reader finds every input exactly once in the aggregate topic and once
       in each label topic its labels name.
  alo  the same with at-least-once: no input missing; duplicates are
       counted and printed.
  fenced  a second instance with the same kafka.instance_id: the first
       stops with a clear fatal error, nothing duplicated or lost.

The input streams in (2,000/s) while the daemon is killed and restarted.
The kill moments: random points of the input (a random count of records
on the aggregate topic, at least one written by the instance to be killed,
then a random 0-300 ms into the commit cycle).
NEWSCLF_TEST_FULL=1: 100,000 articles, 20 kills.

    test_crash.py [eos] [alo] [fenced] --bin-dir DIR --source-dir DIR
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
KILLS = 20 if FULL else 5
RATE = 4000 if FULL else 2000  # input articles/s


def crash_run(env, c, prefix, delivery):
    rng = kt.seed()
    group = prefix + "-group"
    intopic, agg = prefix + ".articles", prefix + ".labeled"
    kt.topics_for(c, prefix, labels=env.labels)
    path = articles_file(env, N)
    load.precommit(env, c, group, intopic)
    # The input streams in while the daemon is killed and restarted, so
    # every kill is mid-stream whatever the machine's speed.
    prod = load.produce(env, c, path, N, topic=intopic, keyed=True, rate=RATE,
                        background=True)
    log("producing %d articles to %s (6 partitions) at %d/s" % (N, intopic, RATE))
    targets = sorted(rng.uniform(0.03, 0.85) * N for _ in range(KILLS))
    for k, target in enumerate(targets, 1):
        # progress = records written to the aggregate topic (aborted ones
        # too); this instance must write some of its own before the kill
        target = max(target, load.offsets(env, c, group, agg)[1] + 1)
        d = kt.start_daemon(env, c, prefix, group, "crash-1", delivery)

        def progressed():
            if d.proc.poll() is not None:
                raise Fail("daemon exited (rc=%s), log %s" % (d.proc.returncode, d.log))
            return load.offsets(env, c, group, agg)[1] >= target

        poll(progressed, 120, "%d records on %s" % (target, agg), step=0.2)
        time.sleep(rng.uniform(0, 0.3))  # a random point of the commit cycle
        d.proc.kill()
        d.proc.wait()
        done = load.offsets(env, c, group, intopic)[0]
        check(done < N, "kill %d came after the input was drained" % k)
        log("kill %d: SIGKILL with %d of %d inputs committed" % (k, done, N))
    check(prod.wait(300) == 0, "producer failed")
    d = kt.start_daemon(env, c, prefix, group, "crash-1", delivery)
    kt.wait_drained(env, c, group, intopic, N, 300, [d])
    check(d.stop() == 0, "exit code after SIGTERM (log %s)" % d.log)
    return kt.check_outputs(env, c, prefix, N, delivery == "exactly-once")


def t_eos(env, c):
    dups, label_dups, label_recs = crash_run(env, c, "eos", "exactly-once")
    log("eos: %d inputs, %d SIGKILLs: every input exactly once in eos.labeled, "
        "%d label records, 0 duplicates" % (N, KILLS, label_recs))


def t_alo(env, c):
    dups, label_dups, label_recs = crash_run(env, c, "alo", "at-least-once")
    log("alo: %d inputs, %d SIGKILLs: none missing; duplicates: %d in alo.labeled "
        "(%.1f%%), %d in label topics" % (N, KILLS, dups, 100.0 * dups / N, label_dups))


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


TESTS = {"eos": t_eos, "alo": t_alo, "fenced": t_fenced}

if __name__ == "__main__":
    sys.exit(kt.main(TESTS, __doc__, lambda env: Cluster(env)))
