#!/usr/bin/env python3
"""Broker failure on a 3-node KRaft cluster (replication factor 3,
min.insync.replicas 2): while articles stream in, the leader of input
partition 0 is SIGKILLed, and started again once the daemon has gone on
without it. Nothing may be lost in either delivery mode; exactly-once must
also have no duplicate.

  alo  at-least-once: every input in the aggregate topic (duplicates
       counted and printed);
  eos  exactly-once: every input exactly once, label topics consistent.

If the daemon exits with an error on the way (e.g. docs/kafka.md #4438, a
fatal idempotence error after a broker loss) it is restarted, as systemd
would (Restart=on-failure), and the restart is reported: the guarantee is
about what reaches Kafka, not about one process surviving.
NEWSCLF_TEST_FULL=1: 40,000 articles per mode.

    test_brokerfail.py [alo] [eos] --bin-dir DIR --source-dir DIR
"""
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import kafkatest as kt  # noqa: E402  (puts tests/lib on sys.path)
from newsclf_test import load  # noqa: E402
from newsclf_test.checks import check, log, poll  # noqa: E402
from newsclf_test.cluster import Cluster  # noqa: E402
from newsclf_test.corpus import articles_file  # noqa: E402
from newsclf_test.testenv import FULL  # noqa: E402

N = 40000 if FULL else 8000
RATE = 1500
# The group coordinator may be on the killed broker: it moves once the
# controller drops that broker (broker.session.timeout.ms, 4 s here). A
# consumer session shorter than that times out first and, with static
# membership, librdkafka 2.0.2 then fences itself (FENCED_INSTANCE_ID,
# fatal: the daemon stops and is restarted). 20 s rides it out (the
# librdkafka default is 45 s).
EXTRA = ["--set", "kafka.consumer.session.timeout.ms=20000"]


def run(env, c, prefix, delivery):
    group = prefix + "-group"
    intopic, agg = prefix + ".articles", prefix + ".labeled"
    kt.topics_for(c, prefix, rf=3, labels=env.labels)
    load.precommit(env, c, group, intopic)
    path = articles_file(env, N)
    ds = [kt.start_daemon(env, c, prefix, group, prefix + "-1", delivery, EXTRA)]
    restarts = []

    def supervise():
        d = ds[-1]
        if d.proc.poll() is not None:
            restarts.append(d.proc.returncode)
            log("daemon exited rc=%s (log %s): restarting it" % (d.proc.returncode, d.log))
            check(len(restarts) <= 3, "daemon keeps failing, log %s" % d.log)
            ds.append(kt.start_daemon(env, c, prefix, group, prefix + "-1", delivery, EXTRA))

    def agg_at(n):
        def cond():
            supervise()
            return load.offsets(env, c, group, agg)[1] >= n
        return cond

    ds[0].running()
    log("%s running" % delivery)
    prod = load.produce(env, c, path, N, topic=intopic, keyed=True, rate=RATE,
                        background=True)
    poll(agg_at(N // 4), 120, "a quarter of the input classified", step=0.2)
    victim = c.leader(intopic, 0)
    at = load.offsets(env, c, group, intopic)[0]
    c.stop_broker(victim, kill=True)
    log("SIGKILLed broker %d (leader of %s/0) with %d of %d inputs committed" %
        (victim, intopic, at, N))
    poll(agg_at(int(N * 0.6)), 180, "60% of the input classified with a broker down",
         step=0.2)
    c.start_broker(victim)
    log("broker %d back" % victim)
    check(prod.wait(300) == 0, "producer failed")
    poll(lambda: supervise() or load.offsets(env, c, group, intopic)[0] >= N, 300,
         "input drained", step=0.5)
    check(ds[-1].stop() == 0, "exit code after SIGTERM (log %s)" % ds[-1].log)
    dups, label_dups, _, _ = kt.check_outputs(env, c, prefix, N, delivery == "exactly-once")
    poll(lambda: c.isr_full(intopic, 3), 60, "broker %d back in every ISR" % victim)
    log("%s: %d inputs, leader broker killed and restarted: none lost, %d duplicates, "
        "%d daemon restart(s)" % (delivery, N, dups, len(restarts)))


def t_alo(env, c):
    run(env, c, "bfa", "at-least-once")


def t_eos(env, c):
    run(env, c, "bfe", "exactly-once")


TESTS = {"alo": t_alo, "eos": t_eos}

if __name__ == "__main__":
    sys.exit(kt.main(TESTS, __doc__, lambda env: Cluster(env, brokers=3)))
