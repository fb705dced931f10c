#!/usr/bin/env python3
"""newsclfd behind a slow broker, on a real broker (one KRaft node): memory
stays bounded in bytes (limits.max_inflight_bytes and what is derived from
it, README "Limits").

  quota  a client quota of 5 MB/s (producer_byte_rate) on the daemon's
         client id, and a backlog of large articles (860 KiB each: 100, or
         500 with NEWSCLF_TEST_FULL=1) on 3 partitions. VmRSS is sampled
         from /proc every 0.2 s: it stays under the README's ceiling,
         R0 + 3 x max_inflight_bytes + 16 x workers x max_article_bytes, R0
         being the RSS at the `running` line. The daemon is stopped with
         SIGTERM mid-stream (the producer queue full): exit 0 within
         limits.shutdown_timeout_ms; a second daemon finishes, and every
         input is in the aggregate topic.

    test_slowbroker.py [quota] --bin-dir DIR --source-dir DIR
"""
import json
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import kafkatest as kt  # noqa: E402  (puts tests/lib on sys.path)
from newsclf_test import load  # noqa: E402
from newsclf_test.checks import check, log, poll  # noqa: E402
from newsclf_test.cluster import Cluster  # noqa: E402
from newsclf_test.corpus import corpus_file  # noqa: E402
from newsclf_test.rss import RssSampler, rss_kib, sanitized  # noqa: E402
from newsclf_test.testenv import FULL  # noqa: E402

N = 500 if FULL else 100
ARTICLE_BYTES = 860 * 1024  # a JSON line, under limits.max_article_bytes
RATE = 5000000  # producer_byte_rate, bytes/s
CLIENT = "newsclf-slow"
TIMEOUT_MS = 10000  # limits.shutdown_timeout_ms, as newsclf_test.daemon sets it
MIB = 1024 * 1024
# The README's ceiling with the default limits (64 MiB, 2 workers, 900 KiB)
# above the RSS at the `running` line.
CEILING_MIB = (3 * 64 * MIB + 16 * 2 * 921600) / MIB
# A sanitized build keeps freed memory in quarantine: bounded here, and
# counted on top of the ceiling.
QUARANTINE_MIB = 16


def big_articles(env, n):
    """n articles of at most ARTICLE_BYTES (a corpus article's body repeated),
    ids a000000..; one JSON line each."""
    with open(corpus_file(env, "dev.jsonl")) as f:
        src = [json.loads(line) for line in f if line.strip()]
    path = env.path("big.jsonl")
    with open(path, "w") as f:
        for i in range(n):
            a = dict(src[i % len(src)])
            body = a.get("body") or a.get("title") or "news"
            a["body"] = (body + " ") * (ARTICLE_BYTES // (len(body) + 1))
            a["id"] = "a%06d" % i
            line = json.dumps(a)
            while len(line) > ARTICLE_BYTES:  # escapes make the line longer
                a["body"] = a["body"][:len(a["body"]) - (len(line) - ARTICLE_BYTES)]
                line = json.dumps(a)
            f.write(line + "\n")
    return path


def set_quota(c):
    c.kafka("tool", c.dir, "org.apache.kafka.tools.ConfigCommand", "--bootstrap-server", c.plain,
            "--alter", "--add-config", "producer_byte_rate=%d" % RATE, "--entity-type",
            "clients", "--entity-name", CLIENT)


def sampled(d):
    """The RSS sampler of a running daemon, with its base (KiB)."""
    d.running()
    base = rss_kib(d.proc.pid)
    check(base is not None, "no VmRSS for the daemon")
    s = RssSampler(d.proc.pid)
    s.start()
    return s, base


def t_quota(env, c):
    prefix = "sb"
    if sanitized(env.bin):  # the daemons inherit it
        os.environ["ASAN_OPTIONS"] = "%s:quarantine_size_mb=%d" % (
            os.environ.get("ASAN_OPTIONS", ""), QUARANTINE_MIB)
    group = prefix + "-group"
    kt.topics_for(c, prefix, in_parts=3, out_parts=3, labels=env.labels)
    set_quota(c)
    load.precommit(env, c, group, prefix + ".articles")
    load.produce(env, c, big_articles(env, N), N, topic=prefix + ".articles", keyed=True)
    extra = ["--set", "kafka.client_id=" + CLIENT]
    t0 = time.monotonic()
    d = kt.start_daemon(env, c, prefix, group, "sb-1", "at-least-once", extra)
    s, base = sampled(d)
    poll(lambda: load.offsets(env, c, group, prefix + ".articles")[0] >= N // 3, 300,
         "a third of the input committed", step=0.5)
    t1 = time.monotonic()
    rc = d.stop(timeout=TIMEOUT_MS / 1000.0 + 10)
    took = time.monotonic() - t1
    s.stop()
    check(rc == 0, "exit code %s after SIGTERM mid-stream (log %s)" % (rc, d.log))
    check(took <= TIMEOUT_MS / 1000.0, "SIGTERM took %.1f s (log %s)" % (took, d.log))
    peaks = [s.max_of({"start"})]
    d = kt.start_daemon(env, c, prefix, group, "sb-1", "at-least-once", extra)
    s2, base2 = sampled(d)
    kt.wait_drained(env, c, group, prefix + ".articles", N, 600, [d])
    s2.stop()
    peaks.append(s2.max_of({"start"}))
    check(d.stop(timeout=TIMEOUT_MS / 1000.0 + 10) == 0, "final stop: exit code not 0")
    kt.aggregate_by_id(env, c, prefix, N)
    slack = QUARANTINE_MIB if sanitized(env.bin) else 0
    for k, (b, p) in enumerate(zip((base, base2), peaks)):
        grew = (p - b) / 1024.0
        log("daemon %d: RSS %.0f MiB at start, peak %.0f MiB (+%.0f MiB; ceiling +%.0f MiB)" %
            (k + 1, b / 1024.0, p / 1024.0, grew, CEILING_MIB + slack))
        check(grew <= CEILING_MIB + slack, "daemon %d: RSS grew by %.0f MiB, over the ceiling "
              "of %.0f MiB" % (k + 1, grew, CEILING_MIB + slack))
    log("%d articles of %d KiB behind %d B/s: SIGTERM mid-stream exit 0 in %.1f s, all "
        "delivered in %.0f s" % (N, ARTICLE_BYTES // 1024, RATE, took, time.monotonic() - t0))


TESTS = {"quota": t_quota}

if __name__ == "__main__":
    sys.exit(kt.main(TESTS, __doc__, lambda env: Cluster(env)))
