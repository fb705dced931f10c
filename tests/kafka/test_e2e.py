#!/usr/bin/env python3
"""The daemon suite's end-to-end scenario (tests/lib/newsclf_test/e2e.py,
also daemon_e2e: counts, routing, headers, schema, labels equal to offline
classification, output order) against a real Kafka broker instead of the
mock cluster.

  alo  kafka.delivery=at-least-once (the default)
  eos  kafka.delivery=exactly-once (read_committed reader)

The scenario uses the daemon's default topic names (news.articles,
news.labeled, news.labeled.<label>), so each mode gets its own one-node
cluster (about 2 s to start).

    test_e2e.py [alo] [eos] --bin-dir DIR --source-dir DIR
"""
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import kafkatest as kt  # noqa: E402  (puts tests/lib on sys.path)
from newsclf_test import e2e  # noqa: E402
from newsclf_test.cluster import Cluster  # noqa: E402
from newsclf_test.daemon import news_topics  # noqa: E402


def run_e2e(env, delivery):
    c = Cluster(env, name="k-" + delivery)
    try:
        c.topics(news_topics(env.labels))
        e2e.run(env, c, extra=["--set", "kafka.delivery=" + delivery,
                               "--set", "kafka.instance_id=e2e-1"])
    finally:
        c.stop()


def t_alo(env, _):
    run_e2e(env, "at-least-once")


def t_eos(env, _):
    run_e2e(env, "exactly-once")


TESTS = {"alo": t_alo, "eos": t_eos}

if __name__ == "__main__":
    sys.exit(kt.main(TESTS, __doc__, lambda env: None))
