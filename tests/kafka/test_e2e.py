#!/usr/bin/env python3
"""The daemon suite's end-to-end test (tests/daemon/daemon_test.py t_e2e:
counts, routing, headers, schema, labels equal to offline classification,
output order) against a real Kafka broker instead of the mock cluster.

  alo  kafka.delivery=at-least-once (the default)
  eos  kafka.delivery=exactly-once (read_committed reader)

t_e2e is imported and run unchanged; only its Broker (the mock) is replaced
by topics on a real broker. t_e2e names its topics itself (news.articles,
news.labeled, news.labeled.<label>), so each mode gets its own one-node
cluster (about 2 s to start).

    test_e2e.py [alo] [eos] --bin-dir DIR --source-dir DIR
"""
import sys

import kafkatest as kt

dt = kt.daemon_test


def run_e2e(env, delivery):
    c = kt.Cluster(env, name="k-" + delivery)

    class RealBroker:
        """daemon_test.Broker's interface on the real cluster."""

        def __init__(self, env_, **_):
            self.bs = c.bs
            specs = [(dt.IN, dt.IN_PARTS), (dt.AGG, 3), (dt.DL, 1)]
            specs += [("news.labeled.%s" % lab, 1) for lab in env_.labels]
            c.topics(specs)

    class ModeDaemon(dt.Daemon):
        def __init__(self, env_, broker, extra=(), **kw):
            super().__init__(env_, broker, extra=["--set", "kafka.delivery=" + delivery,
                                                  "--set", "kafka.instance_id=e2e-1"] +
                             list(extra), **kw)

    saved = dt.Broker, dt.Daemon
    dt.Broker, dt.Daemon = RealBroker, ModeDaemon
    try:
        dt.t_e2e(env)
    finally:
        dt.Broker, dt.Daemon = saved
        c.stop()
        env.clusters.remove(c)


def t_alo(env, _):
    run_e2e(env, "at-least-once")


def t_eos(env, _):
    run_e2e(env, "exactly-once")


TESTS = {"alo": t_alo, "eos": t_eos}

if __name__ == "__main__":
    sys.exit(kt.main(TESTS, __doc__, lambda env: None))
