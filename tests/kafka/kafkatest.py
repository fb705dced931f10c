"""What the real-Kafka suite (tests/kafka/test_*.py) shares beyond
tests/lib/newsclf_test: topics and daemons on a <prefix>.* namespace per
case, waiting until a group has committed its input, checking every output
against numbered inputs, and the random kill schedule.

Each test file starts one cluster (newsclf_test.cluster.Cluster), runs its
cases on it with their own topics and consumer groups, and stops it. Kafka
is read (read_committed) and written with bench/pipeline_load through the
cluster's PLAINTEXT harness listener. Every wait polls a condition with a
deadline; the only timed pauses are the random kill moments of crash tests.

NEWSCLF_TEST_FULL=1 selects the longer variants (more kills, more articles);
NEWSCLF_TEST_SEED fixes the random kill schedule (printed by every test).
"""
import os
import random
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from newsclf_test import load  # noqa: E402
from newsclf_test.checks import Fail, check, log, poll  # noqa: E402
from newsclf_test.daemon import Daemon  # noqa: E402
from newsclf_test.testenv import main as suite_main  # noqa: E402


def wait_drained(env, cluster, group, topic, n, timeout, daemons=()):
    """Until group's committed offsets of topic add up to n (everything
    consumed was committed). A daemon that exits meanwhile is an error."""
    last = [(-1, -1)]

    def done():
        for d in daemons:
            if d.proc.poll() is not None:
                raise Fail("daemon exited (rc=%s) before the input was drained; log %s" %
                           (d.proc.returncode, d.log))
        last[0] = load.offsets(env, cluster, group, topic)
        return last[0][0] >= n

    try:
        poll(done, timeout, "%d committed on %s" % (n, topic), step=0.5)
    except Fail:
        raise Fail("only %s of %d input offsets committed on %s" % (last[0], n, topic))


def read(env, cluster, topics, expect=-1):
    """Every record of topics as a read_committed reader sees it, values
    parsed as JSON (see newsclf_test.dump)."""
    return load.consume(env, cluster, topics, expect, parse_json=True,
                        props=["isolation.level=read_committed"])


def aggregate_by_id(env, cluster, prefix, n, bad=(), order=False):
    """{id: [records]} of <prefix>.labeled, checked to hold exactly the ids
    a000000.. of the n inputs (but those of the lines numbered in bad) and,
    with order, in input order (check_order)."""
    ids = {}
    recs = read(env, cluster, [prefix + ".labeled"], n - len(bad))
    if order:
        check_order(recs, lambda r: (r["value"]["input"]["partition"], r["value"]["input"]["offset"]),
                prefix + ".labeled")
    for r in recs:
        v = r["value"]
        check(isinstance(v, dict) and "id" in v, "aggregate record is not an output: %r" % (v,))
        ids.setdefault(v["id"], []).append(r)
    want = {"a%06d" % i for i in range(n) if i not in bad}
    missing = want - set(ids)
    extra = set(ids) - want
    check(not missing, "%d inputs missing from %s.labeled, e.g. %s" %
          (len(missing), prefix, sorted(missing)[:5]))
    check(not extra, "unknown ids on %s.labeled: %s" % (prefix, sorted(extra)[:5]))
    return ids


def check_label_topic(env, cluster, prefix, lab, labels, exactly_once):
    """<prefix>.labeled.<lab> holds once (at least once) exactly the inputs
    whose labels ({id: set}) have lab; returns its duplicates."""
    got = {}
    for r in read(env, cluster, ["%s.labeled.%s" % (prefix, lab)]):
        v = r["value"]
        check(lab in v["labels"], "%s record without the label" % lab)
        got[v["id"]] = got.get(v["id"], 0) + 1
    want = {k for k, labs in labels.items() if lab in labs}
    check(set(got) == want, "label topic %s: %d inputs, %d expected (missing %s, extra %s)" %
          (lab, len(got), len(want), sorted(want - set(got))[:3], sorted(set(got) - want)[:3]))
    d = sum(c - 1 for c in got.values())
    if exactly_once:
        check(d == 0, "label topic %s: %d duplicates (exactly-once)" % (lab, d))
    return d


def check_order(recs, source, what):
    """Per output partition, the outputs of each input partition come in
    input offset order: an input seen for the first time lies past every
    input of that partition seen before (an at-least-once replay may repeat
    earlier ones). source(record) -> (input partition, input offset)."""
    seen = {}  # (output partition, input partition) -> (offsets seen, highest)
    for r in sorted(recs, key=lambda r: (r["partition"], r["offset"])):
        ip, io = source(r)
        offs, top = seen.setdefault((r["partition"], ip), (set(), [-1]))
        if io in offs:
            continue
        check(io > top[0], "%s partition %d: input %d/%d after input %d/%d" %
              (what, r["partition"], ip, io, ip, top[0]))
        offs.add(io)
        top[0] = io


def check_deadletters(env, cluster, prefix, bad, exactly_once):
    """<prefix>.deadletter holds exactly the invalid inputs bad ({line
    number: bytes}), each once (at least once), every copy from one input
    position, in input order per partition. Returns its duplicates."""
    dl = load.consume(env, cluster, [prefix + ".deadletter"], len(bad),
                      props=["isolation.level=read_committed"])
    check_order(dl, lambda r: (int(r["hdrs"]["newsclf-source-partition"][0]),
                               int(r["hdrs"]["newsclf-source-offset"][0])), prefix + ".deadletter")
    want = {v: i for i, v in bad.items()}
    got = {}
    for r in dl:
        v = r["value"]
        check(v in want, "dead letter for good input: %r" % v[:80])
        check("newsclf-error" in r["hdrs"], "dead letter without newsclf-error")
        got.setdefault(v, set()).add((r["hdrs"]["newsclf-source-partition"][0],
                                      r["hdrs"]["newsclf-source-offset"][0]))
        got.setdefault((v, "n"), [0])[0] += 1
    missing = [want[v] for v in want if v not in got]
    check(not missing, "%d invalid inputs not dead-lettered, lines %s" %
          (len(missing), sorted(missing)[:5]))
    for v in want:
        check(len(got[v]) == 1, "invalid line %d dead-lettered from two positions" % want[v])
    dups = sum(got[(v, "n")][0] - 1 for v in want)
    if exactly_once:
        check(dups == 0, "%d duplicate dead letters (exactly-once)" % dups)
    return dups


def check_outputs(env, cluster, prefix, n, exactly_once, bad=None, order=False):
    """Reads <prefix>.labeled and its label topics and checks them against
    the n inputs a000000..: every input in the aggregate topic (exactly once
    with exactly_once, else at least once) and in input offset order per
    partition (with order), each label topic holding once (at least once) exactly the
    inputs whose aggregate record has the label, the invalid inputs bad
    ({line number: bytes}) dead-lettered and nothing else. Returns
    (aggregate duplicates, label topic duplicates, label records,
    dead-letter duplicates)."""
    bad = bad or {}
    ids = aggregate_by_id(env, cluster, prefix, n, bad, order)
    dups = sum(len(rs) for rs in ids.values()) - len(ids)
    if exactly_once:
        check(dups == 0, "%d duplicate records on %s.labeled (exactly-once), e.g. %s" %
              (dups, prefix, [k for k, v in ids.items() if len(v) > 1][:5]))
    # every copy of one input carries the same input position and labels
    labels = {}
    for k, rs in ids.items():
        pos = {(r["value"]["input"]["partition"], r["value"]["input"]["offset"]) for r in rs}
        check(len(pos) == 1, "input %s seen at two positions %s" % (k, pos))
        labs = {tuple(sorted(r["value"]["labels"])) for r in rs}
        check(len(labs) == 1, "input %s labeled differently: %s" % (k, labs))
        labels[k] = set(labs.pop())
    label_dups = sum(check_label_topic(env, cluster, prefix, lab, labels, exactly_once)
                     for lab in env.labels)
    dl_dups = check_deadletters(env, cluster, prefix, bad, exactly_once)
    return dups, label_dups, sum(len(v) for v in labels.values()), dl_dups


def topics_for(cluster, prefix, in_parts=6, out_parts=6, rf=None, labels=()):
    specs = [(prefix + ".articles", in_parts), (prefix + ".labeled", out_parts),
             (prefix + ".deadletter", 1)]
    specs += [("%s.labeled.%s" % (prefix, lab), 3) for lab in labels]
    cluster.topics(specs, rf=rf)


def daemon_args(prefix, group, instance, delivery, extra=()):
    """--set arguments for one newsclfd on the <prefix>.* topics."""
    a = ["--set", "kafka.input_topics=%s.articles" % prefix,
         "--set", "outputs.aggregate.topic=%s.labeled" % prefix,
         "--set", "outputs.labels.topic_prefix=%s.labeled." % prefix,
         "--set", "outputs.deadletter.topic=%s.deadletter" % prefix,
         "--set", "kafka.group=" + group,
         "--set", "kafka.instance_id=" + instance,
         "--set", "kafka.delivery=" + delivery,
         # a killed instance's open transaction blocks read_committed readers
         # and its partitions' next owner until it times out (docs/kafka.md)
         "--set", "kafka.producer.transaction.timeout.ms=10000",
         "--set", "kafka.consumer.session.timeout.ms=6000"]
    return a + list(extra)


def start_daemon(env, cluster, prefix, group, instance, delivery, extra=(), config=None):
    return Daemon(env, cluster, extra=daemon_args(prefix, group, instance, delivery, extra),
                  config=config)


def assigned_count(d):
    """Partitions d holds now, from its log (assigned minus revoked)."""
    n = 0
    for m in re.finditer(r"partitions (assigned|revoked) count=(\d+)", d.logtext()):
        n += int(m.group(2)) if m.group(1) == "assigned" else -int(m.group(2))
    return n


def seed():
    s = int(os.environ.get("NEWSCLF_TEST_SEED", "0")) or random.SystemRandom().randrange(1, 1 << 30)
    log("random seed %d (NEWSCLF_TEST_SEED=%d repeats this schedule)" % (s, s))
    return random.Random(s)


def main(tests, doc, setup):
    """Runs the named cases (default: all, in order) of one test file.
    setup(env) starts the file's cluster once and returns it; each case is
    called as case(env, cluster). Skipped (77) without java or kcat."""
    return suite_main(tests, doc, many=True, setup=setup, tools=("java", "kcat"),
                      prefix="newsclf-kafka-test.")
