#!/usr/bin/env python3
"""newsclfd's log lines as journald and log pipelines read them.

    logs_test.py TEST --bin-dir DIR --source-dir DIR [--model DIR]

TEST:
  journal_json  the daemon with its stderr named by JOURNAL_STREAM (as
                systemd does) and logging.format json, brokers unreachable:
                every line starts with the sd-daemon priority of its level
                (<3> error, <4> warn, <6> info, <7> debug) and the rest is one
                object parsed by Python's json (time, level, message, the
                key=value context as fields); librdkafka's connection errors
                arrive as warnings with their client and broker.
  ratelimit     the same unreachable broker with librdkafka reconnecting
                every 10-20 ms: each client's identical connection error is
                logged at most once per 10 s (librdkafka alone repeats it
                every 0.5 s), and the text format is kept.
Exit 0 pass, 1 fail, 77 skipped (no model).
"""
import json
import os
import re
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from newsclf_test.checks import check, poll  # noqa: E402
from newsclf_test.daemon import Daemon  # noqa: E402
from newsclf_test.testenv import main  # noqa: E402

PRIORITY = {"error": "<3>", "warn": "<4>", "info": "<6>", "debug": "<7>"}
FAST_RECONNECT = []
for client in ("consumer", "producer"):
    FAST_RECONNECT += ["--set", "kafka.%s.reconnect.backoff.ms=10" % client,
                       "--set", "kafka.%s.reconnect.backoff.max.ms=20" % client]


def own_lines(d):
    """The daemon's log lines, without the ones its signal handler writes
    directly ("newsclfd: ...")."""
    return [ln for ln in d.logtext().splitlines() if ln and not ln.startswith("newsclfd: ")]


def t_journal_json(env):
    d = Daemon(env, None, extra=["--set", "logging.format=json"], journal=True)
    d.wait_log(r"cannot reach the brokers", 30)
    d.stop(timeout=30)
    rkafka = 0
    for ln in own_lines(d):
        m = re.match(r"<(\d)>(.*)$", ln)
        check(m, "line without a journal priority: %r" % ln)
        obj = json.loads(m.group(2))
        for k in ("time", "level", "message"):
            check(isinstance(obj.get(k), str), "field %s in %r" % (k, ln))
        check(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", obj["time"]), "time %r" % ln)
        check("<%s>" % m.group(1) == PRIORITY[obj["level"]],
              "priority <%s> for level %s" % (m.group(1), obj["level"]))
        if obj["message"].startswith("librdkafka: "):
            rkafka += 1
            check(obj["level"] == "warn", "librdkafka error as %s: %r" % (obj["level"], ln))
            check(obj.get("client", "").startswith("newsclfd#"), "client in %r" % ln)
            check(obj.get("broker", "").startswith("127.0.0.1:1/"), "broker in %r" % ln)
    starting = [json.loads(ln[3:]) for ln in own_lines(d) if '"starting"' in ln]
    check(starting and starting[0].get("brokers") == "127.0.0.1:1",
          "context of the starting line as fields: %r" % starting)
    check(rkafka > 0, "no librdkafka line")
    print("journal_json: %d lines, %d from librdkafka" % (len(own_lines(d)), rkafka))


def t_ratelimit(env):
    d = Daemon(env, None, extra=FAST_RECONNECT)
    first = d.wait_log(r"librdkafka: Connect to .* client=(\S+)", 30)
    t0 = time.monotonic()
    # librdkafka alone logs the refused connection again after 0.5 s (its
    # own suppression interval); keep the daemon reconnecting for 4 s.
    poll(lambda: time.monotonic() - t0 > 4 or None, 10, "4 s of reconnects")
    d.stop(timeout=30)
    per_client = {}
    for ln in own_lines(d):
        m = re.search(r"warn  librdkafka: Connect to .* client=(\S+) broker=(\S+)", ln)
        if m:
            per_client[m.groups()] = per_client.get(m.groups(), 0) + 1
    check(per_client, "no librdkafka connection line in text format")
    for (client, broker), n in per_client.items():
        check(n == 1, "%s to %s: %d identical lines in ~4 s" % (client, broker, n))
    print("ratelimit: one line per client in 4 s (%s), first from %s" %
          (", ".join(sorted(c for c, _ in per_client)), first.group(1)))


TESTS = {"journal_json": t_journal_json, "ratelimit": t_ratelimit}

if __name__ == "__main__":
    sys.exit(main(TESTS, __doc__, prefix="newsclf-logs."))
