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
import os
import shutil
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hlib  # noqa: E402
from hlib import Fail, check, dt  # noqa: E402

BIG = 1500 * 1024


def t_poison(env, a):
    t0 = time.monotonic()
    prod = hlib.producer_binary(env, a)
    k = hlib.Kafka(env)
    with open(dt.dev_file(env), "rb") as f:
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
        k.topic(topic, 1, "max.message.bytes=8388608")
        recs = [{"key": b"g1", "value": good[1]}, dict(rec), {"key": b"g2", "value": good[2]}]
        for r in recs:
            r["partition"] = 0
        pos = hlib.produce_records(env, prod, k.bs, topic, recs, name)
        d = dt.Daemon(env, k, offset_reset="earliest",
                      extra=["--set", "outputs.create_topics=true", "--set", "outputs.partitions=1",
                             "--set", "kafka.input_topics=%s" % topic,
                             "--set", "kafka.group=poison-%s" % name])
        d.running()

        def finished():
            if d.proc.poll() is not None:
                return True
            agg = hlib.dump(env, k, [dt.AGG], idle_ms=1000)
            return any(json.loads(r["value"])["input"] == {"topic": topic, "partition": 0,
                                                           "offset": pos[2][1]} or
                       (json.loads(r["value"])["input"]["topic"] == topic and
                        json.loads(r["value"])["input"]["offset"] == pos[2][1]) for r in agg)

        try:
            hlib.poll(finished, 60, "the article after %s" % name, step=1)
        except Fail:
            pass
        if d.proc.poll() is not None:
            fatal = [l for l in d.logtext().splitlines() if "fatal:" in l]
            failures.append("%s: newsclfd stopped (exit %s): %s" %
                            (name, d.proc.returncode, fatal[0][25:300] if fatal else "?"))
            print("poison: %s: daemon stopped" % name)
            continue
        rc = d.stop()
        dls = [r for r in hlib.dump(env, k, [dt.DL])
               if dict(r["hlist"]).get(b"newsclf-source-topic") == topic.encode()]
        agg = [r for r in hlib.dump(env, k, [dt.AGG])
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


def main():
    ap = hlib.args_parser(__doc__)
    a = hlib.finish_args(ap.parse_args())
    if hlib.no_model(a):
        return 77
    if not shutil.which("java"):
        print("skipped: no java for scripts/kafka")
        return 77
    return hlib.run_main({"poison": t_poison}, "poison", a)


if __name__ == "__main__":
    sys.exit(main())
