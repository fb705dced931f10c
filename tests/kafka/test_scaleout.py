#!/usr/bin/env python3
"""Scale-out: three newsclfd instances in one consumer group (exactly-once,
static membership, kafka.instance_id so-1..so-3) share a 6-partition input
on a real broker while articles stream in. Mid-stream so-1 gets SIGTERM
(clean exit, its last transaction committed), later so-2 gets SIGKILL (its
open transaction is aborted by the broker after transaction.timeout.ms).
Each time the partitions move to the survivors (counted from their logs);
once drained, a read_committed reader finds every input exactly once in the
aggregate topic and in the label topics its labels name.

Static members do not leave the group on close: their partitions move only
after session.timeout.ms (4 s here).
NEWSCLF_TEST_FULL=1: 60,000 articles.

Also zombie: an instance frozen past its session timeout (see t_zombie).

    test_scaleout.py [scaleout] [zombie] --bin-dir DIR --source-dir DIR
"""
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import kafkatest as kt  # noqa: E402  (puts tests/lib on sys.path)
from newsclf_test import load  # noqa: E402
from newsclf_test.checks import Fail, check, log, poll  # noqa: E402
from newsclf_test.cluster import Cluster  # noqa: E402
from newsclf_test.corpus import articles_file  # noqa: E402
from newsclf_test.testenv import FULL  # noqa: E402

N = 60000 if FULL else 12000
RATE = 1500
EXTRA = ["--set", "kafka.consumer.session.timeout.ms=4000",
         "--set", "kafka.producer.transaction.timeout.ms=6000"]


def t_scaleout(env, c):
    prefix, group = "so", "so-group"
    intopic, agg = prefix + ".articles", prefix + ".labeled"
    kt.topics_for(c, prefix, labels=env.labels)
    load.precommit(env, c, group, intopic)
    path = articles_file(env, N)
    ds = [kt.start_daemon(env, c, prefix, group, "so-%d" % i, "exactly-once", EXTRA)
          for i in (1, 2, 3)]

    def holding(daemons, want_each=1, total=None):
        def cond():
            for d in ds:
                if d in daemons and d.proc.poll() is not None:
                    raise Fail("instance exited (rc=%s), log %s" % (d.proc.returncode, d.log))
            counts = [kt.assigned_count(d) for d in daemons]
            if total is not None and sum(counts) != total:
                return False
            return all(n >= want_each for n in counts) and counts
        return cond

    counts = poll(holding(ds, 1, 6), 60, "3 instances sharing 6 partitions")
    log("partitions per instance: %s" % counts)
    prod = load.produce(env, c, path, N, topic=intopic, keyed=True, rate=RATE,
                        background=True)

    def agg_at(n):
        return lambda: load.offsets(env, c, group, agg)[1] >= n

    poll(agg_at(N // 4), 120, "a quarter of the input classified", step=0.2)
    rc = ds[0].stop()
    check(rc == 0, "so-1 exit code after SIGTERM: %s (log %s)" % (rc, ds[0].log))
    check("transaction committed before" in ds[0].logtext() or
          "stopped cleanly" in ds[0].logtext(), "so-1 stopped cleanly")
    counts = poll(holding(ds[1:], 1, 6), 60, "so-2 and so-3 taking over so-1's partitions")
    log("so-1 SIGTERMed at %d of %d inputs; survivors hold %s" %
        (load.offsets(env, c, group, intopic)[0], N, counts))
    poll(agg_at(int(N * 0.6)), 120, "60% of the input classified", step=0.2)
    ds[1].proc.kill()
    ds[1].proc.wait()
    poll(holding(ds[2:], 6, 6), 60, "so-3 taking over every partition")
    log("so-2 SIGKILLed; so-3 holds all 6 partitions")
    check(prod.wait(300) == 0, "producer failed")
    kt.wait_drained(env, c, group, intopic, N, 300, [ds[2]])
    check(ds[2].stop() == 0, "so-3 exit code after SIGTERM (log %s)" % ds[2].log)
    dups, _, label_recs, _ = kt.check_outputs(env, c, prefix, N, True)
    log("scaleout: %d inputs exactly once across 3 -> 2 -> 1 instances, %d label records" %
        (N, label_recs))


def t_zombie(env, c):
    """An instance frozen (SIGSTOP) longer than its session timeout, while
    its transaction is open: the group gives its partitions to the other
    instance, which redoes the uncommitted input. Thawed (SIGCONT), the
    zombie finds its assignment lost: it aborts its transaction, drops what
    it had in flight, rewinds to the committed offsets of whatever it is
    assigned next and goes on. Every input still exactly once.
    (Without static membership: librdkafka 2.0.2 fences a static member
    that rejoins after its session timed out, a fatal error.)"""
    import signal
    import time
    n = 8000
    prefix, group = "zo", "zo-group"
    intopic, agg = prefix + ".articles", prefix + ".labeled"
    kt.topics_for(c, prefix, labels=env.labels)
    load.precommit(env, c, group, intopic)
    extra = ["--set", "kafka.static_membership=false",
             "--set", "kafka.consumer.session.timeout.ms=3000",
             "--set", "kafka.producer.transaction.timeout.ms=30000",
             # a transaction stays open for a while: the freeze lands in one
             "--set", "kafka.transaction.commit_every_ms=2000",
             "--set", "kafka.transaction.commit_every_messages=100000"]
    z = kt.start_daemon(env, c, prefix, group, "zo-1", "exactly-once", extra)
    z.running()
    prod = load.produce(env, c, articles_file(env, n), n, topic=intopic, keyed=True, rate=1000,
                        background=True)
    poll(lambda: load.offsets(env, c, group, agg)[1] >= 1500, 60, "zo-1 producing")
    z.proc.send_signal(signal.SIGSTOP)
    frozen = time.monotonic()
    other = kt.start_daemon(env, c, prefix, group, "zo-2", "exactly-once", extra)
    poll(lambda: kt.assigned_count(other) == 6, 60, "zo-2 taking every partition")
    log("zo-1 frozen; zo-2 took its partitions after %.1f s" % (time.monotonic() - frozen))
    z.proc.send_signal(signal.SIGCONT)
    z.wait_log(r"lost=1", 30)
    z.wait_log(r"transaction aborted|rewound", 30)
    check(prod.wait(120) == 0, "producer failed")
    kt.wait_drained(env, c, group, intopic, n, 120, [z, other])
    check(z.stop() == 0, "zo-1 exit code (log %s)" % z.log)
    check(other.stop() == 0, "zo-2 exit code (log %s)" % other.log)
    kt.check_outputs(env, c, prefix, n, True)
    check("rewound to the last committed offsets" in z.logtext(),
          "zo-1 did not rewind after the abort (log %s)" % z.log)
    aborted = re.search(r"transaction aborted .*", z.logtext())
    log("zombie: %s; %d inputs exactly once" % (aborted.group(0)[:120] if aborted else
                                                "(no transaction was open)", n))


TESTS = {"scaleout": t_scaleout, "zombie": t_zombie}

if __name__ == "__main__":
    sys.exit(kt.main(TESTS, __doc__, lambda env: Cluster(env)))
