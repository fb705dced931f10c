#!/usr/bin/env python3
"""Outputs the broker refuses for good, on a real broker (one KRaft node).

The aggregate topic takes records of at most 64 KiB (max.message.bytes)
while the daemon's producer allows 1 MB (message.max.bytes), so librdkafka
sends the output of a big but valid article and the broker refuses it
(MSG_SIZE_TOO_LARGE), every time. 300 corpus articles with 3 big ones
(about 100 KB each) interleaved are produced to a 3-partition input topic.

  eos  kafka.delivery=exactly-once: each refusal aborts the transaction
       and the input comes again; after kafka.transaction.max_attempts (3)
       aborts on the same input it goes to the dead-letter topic inside the
       transaction. The input is drained (the group's committed offsets
       reach the end), the daemon still runs, and a read_committed reader
       finds every good article exactly once in the aggregate topic and
       each big one exactly once in the dead-letter topic with
       newsclf-error=produce_failed and a detail naming the broker's error
       and the attempts.
  alo  the same with at-least-once: no good article missing, each big one
       dead-lettered (at least once), input drained, daemon running.
  limits  the daemon with the producer's default batch.size (1 MB) warns at
       start that the aggregate topic's max.message.bytes is below it and
       names the setting to change; eos and alo (batch.size below the
       limit) did not warn.

The producer's batch.size is set below the topic's limit: the broker
checks max.message.bytes against whole record batches, and librdkafka does
not split a refused batch, so a batch of small records over the limit would
be refused too (README, Delivery).

    test_eos_poison.py [eos] [alo] --bin-dir DIR --source-dir DIR
"""
import json
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import kafkatest as kt  # noqa: E402  (puts tests/lib on sys.path)
from newsclf_test import load  # noqa: E402
from newsclf_test.checks import check, log, poll  # noqa: E402
from newsclf_test.cluster import Cluster  # noqa: E402
from newsclf_test.corpus import articles_file  # noqa: E402

N_GOOD = 300
BIG_AT = (40, 150, 260)  # positions of the big articles among the inputs
TOPIC_LIMIT = 65536      # the aggregate topic's max.message.bytes
BIG_BODY = 100000        # bytes of a big article's body (output > TOPIC_LIMIT)
BATCH = 16384            # the daemon's producer batch.size (< TOPIC_LIMIT)


def inputs_file(env):
    """N_GOOD corpus articles (ids a000000..) with big ones (ids big0..)
    at BIG_AT; returns (path, total, big ids)."""
    good = articles_file(env, N_GOOD, name="good.jsonl")
    with open(good) as f:
        lines = [l for l in f if l.strip()]
    body = []
    size = 0
    while size < BIG_BODY:
        a = json.loads(lines[len(body) % len(lines)])
        body.append(a.get("body") or a.get("title") or "news")
        size += len(body[-1]) + 2
    big = []
    for k, pos in enumerate(BIG_AT):
        ident = "big%d" % k
        big.append(ident)
        lines.insert(pos, json.dumps({"id": ident, "title": "A very long report %d" % k,
                                      "body": "\n\n".join(body)}) + "\n")
    path = env.path("inputs.jsonl")
    with open(path, "w") as f:
        f.writelines(lines)
    return path, len(lines), big


def make_topics(env, c, prefix, partitions):
    """PREFIX.articles and PREFIX.labeled with that many partitions (the
    latter limited to TOPIC_LIMIT bytes), PREFIX.deadletter and the label
    topics with one."""
    c.topics([(prefix + ".articles", partitions), (prefix + ".deadletter", 1)] +
             [("%s.labeled.%s" % (prefix, lab), 1) for lab in env.labels])
    c.topics([(prefix + ".labeled", partitions)], configs=["max.message.bytes=%d" % TOPIC_LIMIT])


def poison_run(env, c, prefix, delivery):
    group = prefix + "-group"
    intopic, agg, dl = prefix + ".articles", prefix + ".labeled", prefix + ".deadletter"
    make_topics(env, c, prefix, 3)
    path, total, big = inputs_file(env)
    load.precommit(env, c, group, intopic)
    load.produce(env, c, path, total, topic=intopic, keyed=True)
    log("%d inputs on %s (3 partitions), big ones: %s" % (total, intopic, ", ".join(big)))
    d = kt.start_daemon(env, c, prefix, group, prefix + "-1", delivery,
                        extra=["--set", "kafka.producer.batch.size=%d" % BATCH])
    kt.wait_drained(env, c, group, intopic, total, 40, [d])
    committed, end = load.offsets(env, c, group, intopic)
    check(committed == end == total, "committed %d, end %d, %d inputs" % (committed, end, total))
    check(d.proc.poll() is None, "the daemon exited (rc=%s), log %s" % (d.proc.returncode, d.log))

    ids = {}
    for r in kt.read(env, c, [agg], N_GOOD):
        ids[r["value"]["id"]] = ids.get(r["value"]["id"], 0) + 1
    want = {"a%06d" % i for i in range(N_GOOD)}
    check(not (want - set(ids)), "good articles missing from %s: %s" %
          (agg, sorted(want - set(ids))[:5]))
    check(set(ids) == want, "unexpected ids on %s: %s" % (agg, sorted(set(ids) - want)[:5]))
    dups = sum(n - 1 for n in ids.values())
    if delivery == "exactly-once":
        check(dups == 0, "%d duplicates on %s (exactly-once)" % (dups, agg))

    dead = {}
    for r in kt.read(env, c, [dl], len(big)):
        check(isinstance(r["value"], dict), "dead letter is not the input article")
        ident = r["value"]["id"]
        dead.setdefault(ident, []).append(r)
    check(set(dead) == set(big), "dead letters %s, expected %s" % (sorted(dead), big))
    for ident, rs in dead.items():
        if delivery == "exactly-once":
            check(len(rs) == 1, "%s dead-lettered %d times (exactly-once)" % (ident, len(rs)))
        for r in rs:
            err = r["hdrs"].get("newsclf-error", [])
            detail = b"".join(r["hdrs"].get("newsclf-error-detail", [])).decode()
            check(err == [b"produce_failed"], "%s: newsclf-error %s" % (ident, err))
            check("too large" in detail, "%s: detail without the broker error: %r" %
                  (ident, detail))
            if delivery == "exactly-once":
                check("3 " in detail and "abort" in detail,
                      "%s: detail without the attempts: %r" % (ident, detail))
    log("%s: %d good articles in %s (%d duplicates), %s dead-lettered: %s" %
        (delivery, len(ids), agg, dups, ", ".join(sorted(dead)),
         b"".join(dead[big[0]][0]["hdrs"]["newsclf-error-detail"]).decode()))
    if delivery == "exactly-once":
        check(re.search(r"warn .*dead-letter", d.logtext()),
              "no warning about the dead-lettered inputs in %s" % d.log)
    check(WARNING not in d.logtext(), "batch.size warning although batch.size < the limit")
    check(d.stop() == 0, "exit code after SIGTERM (log %s)" % d.log)


WARNING = "takes record batches of at most"


def t_limits(env, c):
    prefix = "limp"
    agg = prefix + ".labeled"
    make_topics(env, c, prefix, 1)
    load.precommit(env, c, prefix + "-group", prefix + ".articles")
    d = kt.start_daemon(env, c, prefix, prefix + "-group", prefix + "-1", "at-least-once")
    want = "output topic %s %s %d bytes" % (agg, WARNING, TOPIC_LIMIT)
    poll(lambda: want in d.logtext() or d.proc.poll() is not None, 30,
         "the batch.size warning in %s" % d.log)
    text = d.logtext()
    check(want in text, "no warning %r in %s" % (want, d.log))
    check("kafka.producer.batch.size below %d" % TOPIC_LIMIT in text,
          "the warning does not name the setting")
    check(text.count(WARNING) == 1, "other topics than %s were warned about" % agg)
    check(d.stop() == 0, "exit code after SIGTERM (log %s)" % d.log)
    log("limits: %s" % want)


def t_eos(env, c):
    poison_run(env, c, "eosp", "exactly-once")


def t_alo(env, c):
    poison_run(env, c, "alop", "at-least-once")


TESTS = {"eos": t_eos, "alo": t_alo, "limits": t_limits}

if __name__ == "__main__":
    sys.exit(kt.main(TESTS, __doc__, lambda env: Cluster(env)))
