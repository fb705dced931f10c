#!/usr/bin/env python3
"""Hostile record envelopes: a key or headers too large for any output.

    poison.py --bin-dir DIR --source-dir DIR [--model DIR] [--producer BIN]

The input topic takes 8 MiB records; the daemon's producer keeps Kafka's
default 1 MB. Messages, each between two valid articles:
  bigkey_bad   invalid JSON with a 1.5 MB key
  bigkey_good  a plain-text article with a 1.5 MB key (output key = input key)
  bighdr_bad   invalid JSON with 1.5 MB of headers
  bighdr_good  a valid article with 1.5 MB of headers
Whatever newsclfd does with them (dead-letter a trimmed copy, or drop with
a log line), it must go on: the daemon stays alive, the articles after them
are classified, and a SIGTERM exits 0. A deterministic failure on one input
would otherwise stop the daemon at the same offset after every restart.
Exit 0 pass, 1 fail, 77 skipped.
"""
import json
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import hlib  # noqa: E402  (puts tests/lib on sys.path)
from newsclf_test import load  # noqa: E402
from newsclf_test.checks import Fail, check, poll  # noqa: E402
from newsclf_test.cluster import Cluster  # noqa: E402
from newsclf_test.corpus import dev_file  # noqa: E402
from newsclf_test.daemon import AGG, DL, Daemon  # noqa: E402

BIG = 1500 * 1024


def t_poison(env):
    t0 = time.monotonic()
    prod = hlib.producer_binary(env)
    k = Cluster(env)
    with open(dev_file(env), "rb") as f:
        good = [l.strip() for l in f if l.strip()][:10]
    hdrs = [(b"h%d" % i, b"v" * 1024) for i in range(BIG // 1024)]
    cases = [
        ("bigkey_bad", {"key": b"K" * BIG, "value": b'{"title": '}),
        ("bigkey_good", {"key": b"K" * BIG, "value": b"Sanctions on oil exports widen"}),
        ("bighdr_bad", {"key": b"k", "value": b'{"title": ', "headers": hdrs}),
        ("bighdr_good", {"key": b"k", "value": good[0], "headers": hdrs}),
    ]
    failures = []
    for n, (name, rec) in enumerate(cases):
        # each case on its own input topic and group: one stuck case must
        # not hide what the daemon does with the others
        topic = "in.%s" % name
        k.topics([(topic, 1)], configs=["max.message.bytes=8388608"])
        recs = [{"key": b"g1", "value": good[1]}, dict(rec), {"key": b"g2", "value": good[2]}]
        for r in recs:
            r["partition"] = 0
        pos = hlib.produce_records(env, prod, k, topic, recs, name)
        d = Daemon(env, k, offset_reset="earliest",
                   extra=["--set", "outputs.create_topics=true", "--set", "outputs.partitions=1",
                          "--set", "kafka.input_topics=%s" % topic,
                          "--set", "kafka.group=poison-%s" % name])
        d.running()

        def finished():
            if d.proc.poll() is not None:
                return True
            agg = load.consume(env, k, [AGG], idle_ms=1000)
            return any(json.loads(r["value"])["input"] == {"topic": topic, "partition": 0,
                                                           "offset": pos[2][1]} or
                       (json.loads(r["value"])["input"]["topic"] == topic and
                        json.loads(r["value"])["input"]["offset"] == pos[2][1]) for r in agg)

        try:
            poll(finished, 60, "the article after %s" % name, step=1)
        except Fail:
            pass
        if d.proc.poll() is not None:
            fatal = [l for l in d.logtext().splitlines() if "fatal:" in l]
            failures.append("%s: newsclfd stopped (exit %s): %s" %
                            (name, d.proc.returncode, fatal[0][25:300] if fatal else "?"))
            print("poison: %s: daemon stopped" % name)
            continue
        rc = d.stop()
        dls = [r for r in load.consume(env, k, [DL])
               if dict(r["hlist"]).get(b"newsclf-source-topic") == topic.encode()]
        agg = [r for r in load.consume(env, k, [AGG])
               if json.loads(r["value"])["input"]["topic"] == topic]
        offs = {json.loads(r["value"])["input"]["offset"] for r in agg}
        what = "classified" if pos[1][1] in offs else (
            "dead-lettered as %s" % dict(dls[0]["hlist"]).get(b"newsclf-error", b"?").decode()
            if dls else "dropped")
        print("poison: %s: %s, exit %d" % (name, what, rc))
        if rc != 0 or pos[0][1] not in offs or pos[2][1] not in offs:
            failures.append("%s: exit %s, articles around it classified: %s" %
                            (name, rc, sorted(offs)))
    check(not failures, "\n  ".join(failures))
    print("poison: passed in %.1fs" % (time.monotonic() - t0))


if __name__ == "__main__":
    sys.exit(hlib.main({"poison": t_poison}, __doc__, tools=("java",)))
