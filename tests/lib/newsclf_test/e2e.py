"""The end-to-end scenario shared by the mock cluster (daemon_e2e) and real
Kafka (kafka_daemon_e2e): twice the dev set, keyed and with a header, goes
through one daemon; the outputs are checked for counts, routing to the
label topics, headers, the schema, timestamps, labels equal to `newsclf
classify` and the order within each input partition."""
import json
import re

from newsclf_test import load
from newsclf_test.checks import check
from newsclf_test.corpus import dev_file, offline_labels
from newsclf_test.daemon import AGG, DL, IN, Daemon

FIELDS = ("schema_version", "id", "labels", "scores", "decision", "model", "input",
          "classified_at", "article")


def check_record(r, v, src, offline):
    """One aggregate record r (value v) against its input record src."""
    for k in FIELDS:
        check(k in v, "output lacks %s: %s" % (k, v))
    check(v["schema_version"] == 1, "schema_version")
    check(v["input"]["topic"] == IN, "input.topic")
    check(r["ts"] == src["ts"], "output timestamp != input timestamp")
    check(v["input"]["timestamp"] == src["ts"], "input.timestamp")
    check(r["key"] == v["id"].encode(), "key != article id")
    check(v["article"]["id"] == v["id"], "article.id")
    check(r["hdrs"].get("trace-id") == [b"t-123"], "input header not copied")
    check(r["hdrs"].get("content-type") == [b"application/json"], "content-type header")
    check(r["hdrs"].get("newsclf-labels") == [",".join(v["labels"]).encode()],
          "newsclf-labels header %s vs %s" % (r["hdrs"].get("newsclf-labels"), v["labels"]))
    check(len(r["hdrs"].get("newsclf-model", [])) == 1, "newsclf-model header")
    check(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", v["classified_at"]),
          "classified_at not RFC 3339 UTC: %s" % v["classified_at"])
    check(sorted(v["labels"]) == offline.get(v["id"]),
          "labels of %s: daemon %s, offline %s" % (v["id"], v["labels"], offline.get(v["id"])))


def run(env, broker, extra=()):
    """The scenario on broker (its topics exist); extra: more daemon
    arguments (e.g. the delivery mode)."""
    load.precommit(env, broker)
    n_dev = sum(1 for _ in open(dev_file(env)))
    total = 2 * n_dev
    load.produce(env, broker, dev_file(env), n=total, headers=["trace-id=t-123"], keyed=True)
    d = Daemon(env, broker, extra=extra)
    load.wait_count(env, broker, AGG, total, 90)
    check(d.stop() == 0, "daemon exit code")
    inputs = load.input_records(env, broker)
    check(len(inputs) == total, "inputs on the broker: %d" % len(inputs))
    agg = load.consume(env, broker, [AGG], total)
    check(len(agg) == total, "aggregate records %d != %d" % (len(agg), total))
    offline = offline_labels(env, dev_file(env))
    last_in = {}
    by_input = {}
    for r in agg:
        v = json.loads(r["value"])
        key = (v["input"]["partition"], v["input"]["offset"])
        check(key not in by_input, "duplicate output for input %s" % (key,))
        check_record(r, v, inputs[key], offline)
        # outputs of one input partition are produced in input order
        pk = (r["partition"], key[0])
        check(last_in.get(pk, -1) < key[1], "output order within partition %s" % (pk,))
        last_in[pk] = key[1]
        by_input[key] = set(v["labels"])
    check(len(by_input) == total, "every input classified")
    for lab in env.labels:
        got = set()
        for r in load.consume(env, broker, ["news.labeled." + lab]):
            v = json.loads(r["value"])
            check(lab in v["labels"], "%s record without the label" % lab)
            got.add((v["input"]["partition"], v["input"]["offset"]))
        want = {k for k, labs in by_input.items() if lab in labs}
        check(got == want, "label topic %s: %d records, expected %d" % (lab, len(got), len(want)))
    check(load.count(env, broker, DL) == 0, "dead letters for good input")
    print("e2e: %d articles, %d label records" % (total, sum(len(x) for x in by_input.values())))
