#!/usr/bin/env python3
"""`newsclf subscribe` and `newsclf reclassify` against the mock cluster.

    kafka_cli.py subscribe|reclassify --bin-dir DIR --source-dir DIR

Each test starts its own newsclf-mockbroker process and uses kcat (Debian's,
on librdkafka 2.0.2 like ours) to produce input and read output. Waits poll
with deadlines. Exit 0 pass, 1 fail, 77 skipped (no kcat or no model).
"""
import json
import os
import pty
import re
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from newsclf_test.checks import Fail  # noqa: E402
from newsclf_test.corpus import classify, dev_file  # noqa: E402
from newsclf_test.mockbroker import MockBroker  # noqa: E402
from newsclf_test.testenv import main  # noqa: E402


def newsclf(env, *args, check_rc=0, timeout=60, stdin=None):
    """`newsclf ARGS`; Fail unless it exits check_rc (None: any code)."""
    r = subprocess.run([env.tool("newsclf")] + list(args), input=stdin,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    if check_rc is not None and r.returncode != check_rc:
        raise Fail("newsclf %s: exit %d (expected %d): %s" % (
            " ".join(args), r.returncode, check_rc, r.stderr.decode()[-2000:]))
    return r


def kcat_produce(b, topic, lines, keyed=False, partition=None):
    data = "".join(l + "\n" for l in lines).encode()
    args = ["kcat", "-P", "-b", b.bs, "-t", topic]
    if keyed:
        args += ["-K", "\t"]
    if partition is not None:
        args += ["-p", str(partition)]
    subprocess.run(args, input=data, check=True, timeout=60, stderr=subprocess.DEVNULL)


def kcat_consume(b, topic):
    """Every message of topic as kcat's JSON envelope."""
    r = subprocess.run(["kcat", "-C", "-b", b.bs, "-t", topic, "-o", "beginning", "-e",
                        "-q", "-J"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       timeout=60, check=True)
    return [json.loads(l) for l in r.stdout.decode().splitlines() if l.strip()]


def model_name(env):
    with open(os.path.join(env.model, "manifest.json")) as f:
        return json.load(f)["name"]


def dev_lines(env, n):
    with open(dev_file(env)) as f:
        return [l.rstrip("\n") for l in f][:n]


def offline(env, lines):
    """newsclf classify --article on the lines: id -> record."""
    recs = classify(env, "--article", stdin=("\n".join(lines) + "\n").encode())
    return {x["id"]: x for x in recs}


def on_tty(env, args, environ):
    """newsclf ARGS with stdout on a pseudo-terminal; what it printed."""
    master, slave = pty.openpty()
    p = subprocess.Popen([env.tool("newsclf")] + list(args), stdout=slave,
                         stderr=subprocess.DEVNULL, env=dict(os.environ, **environ))
    env.procs.append(p)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    p.wait(timeout=60)
    return out.decode(errors="replace")


def subscribe_display(env, b):
    """Colours (--color, NO_COLOR, a terminal or not), times with their
    offset, --from beginning|end|TIME and the named unreachable broker."""
    base = ["subscribe", "--brokers", b.bs, "--label", "trade", "--from", "beginning",
            "--timeout-ms", "4000"]
    sgr = re.compile(r"\x1b\[1;36mtrade\x1b\[0m \x1b\[(32|33|2)m[01]\.\d\d\x1b\[0m")
    plain = newsclf(env, *base, "--max-messages", "5").stdout.decode()
    env.ok(plain.count("\n") == 5 and "\x1b" not in plain, "no colour when stdout is a pipe")
    col = newsclf(env, *base, "--max-messages", "5", "--color", "always").stdout.decode()
    env.ok(len(sgr.findall(col)) == 5, "--color always: labels and probabilities coloured: %r"
           % col[:200])
    tty = on_tty(env, base + ["--max-messages", "5"], {"NO_COLOR": ""})
    env.ok(len(sgr.findall(tty)) == 5, "a terminal: coloured (NO_COLOR empty): %r" % tty[:200])
    tty = on_tty(env, base + ["--max-messages", "5"], {"NO_COLOR": "1"})
    env.ok(tty.count("\n") == 5 and "\x1b" not in tty, "NO_COLOR=1 on a terminal: no colour")
    tty = on_tty(env, base + ["--max-messages", "5", "--color", "never"], {})
    env.ok(tty.count("\n") == 5 and "\x1b" not in tty, "--color never on a terminal")
    r = newsclf(env, *base, "--color", "sometimes", check_rc=2)
    env.ok(b"--color must be" in r.stderr, "--color sometimes: usage error")

    for tz, off in (("UTC", "+00:00"), ("Asia/Kolkata", "+05:30"), ("America/Caracas", "-04:00")):
        r = subprocess.run([env.tool("newsclf")] + base + ["--max-messages", "2"],
                           stdout=subprocess.PIPE, env=dict(os.environ, TZ=tz), timeout=60)
        lines = r.stdout.decode().splitlines()
        env.ok(len(lines) == 2 and all(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}"
                                                + re.escape(off) + " ", l) for l in lines),
               "TZ=%s: times with their offset %s: %s" % (tz, off, lines[:1]))

    r = newsclf(env, *base[:-4], "--from", "end", "--timeout-ms", "3000")
    env.ok(r.stdout == b"", "--from end: nothing already there")
    r = newsclf(env, *base[:-4], "--from", "2000-01-01T00:00:00+01:00", "--timeout-ms", "3000")
    env.ok(r.returncode == 0, "--from TIME accepted (the mock looks up no time: from the end)")
    r = newsclf(env, *base[:-4], "--from", "yesterday", check_rc=2)
    env.ok(b"--from must be" in r.stderr, "--from yesterday: usage error")
    r = newsclf(env, *base[:-4], "--from", "2026-01-01", "--group", "g", check_rc=2)
    env.ok(b"--from TIME needs no --group" in r.stderr, "--from TIME with --group refused")
    r = newsclf(env, "subscribe", "--brokers", "127.0.0.1:1", "--label", "trade", check_rc=1)
    env.ok(b"cannot read the cluster's metadata from 127.0.0.1:1: " in r.stderr,
           "the unreachable broker is named: " + r.stderr.decode()[-200:])


# ---- subscribe ----

def test_subscribe(env):
    b = MockBroker(env, [("news.labeled." + l, 1) for l in env.labels])
    recs = offline(env, dev_lines(env, 300))
    for lab in env.labels:
        kcat_produce(b, "news.labeled." + lab,
                     [json.dumps(r) for r in recs.values() if lab in r["labels"]])
    follow = ("sanctions", "trade")
    want = {i for i, r in recs.items() if set(follow) & set(r["labels"])}
    r = newsclf(env, "subscribe", "--brokers", b.bs, "--label", "sanctions", "--label", "trade",
                "--from-beginning", "--format", "jsonl", "--max-messages", str(len(want)),
                "--timeout-ms", "30000")
    got = [json.loads(l)["id"] for l in r.stdout.decode().splitlines()]
    env.ok(sorted(got) == sorted(want),
           "--from-beginning --format jsonl: each of the %d articles once, also those on "
           "both topics (got %d)" % (len(want), len(got)))

    t0 = time.monotonic()
    r = newsclf(env, "subscribe", "--brokers", b.bs, "--label", "sanctions", "--label", "trade",
                "--from-beginning", "--format", "jsonl", "--min-prob", "0.99",
                "--timeout-ms", "3000")
    got = sorted(json.loads(l)["id"] for l in r.stdout.decode().splitlines())
    want_p = sorted(i for i, x in recs.items()
                    if any(l in x["labels"] and x["scores"][l] >= 0.99 for l in follow))
    env.ok(got == want_p and 0 < len(got) < len(want),
           "--min-prob 0.99 keeps exactly the %d articles with scores[label] >= 0.99"
           % len(want_p))
    env.ok(time.monotonic() - t0 < 15, "--timeout-ms ends the command")

    # Live: only what arrives after "ready" is shown, in the pretty format.
    p = subprocess.Popen([env.tool("newsclf"), "subscribe", "--brokers", b.bs,
                          "--label", "vaccines", "--max-messages", "3", "--timeout-ms", "30000"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=dict(os.environ, TZ="UTC"))
    env.procs.append(p)
    line = p.stderr.readline().decode()
    env.ok("ready" in line, "prints ready once the start offsets are fixed: " + line.strip())
    new = [dict(x, id="live-%d" % k) for k, x in
           enumerate(r2 for r2 in recs.values() if "vaccines" in r2["labels"])][:3]
    for x in new:
        x["article"] = dict(x.get("article", {}), title="Live title %s" % x["id"],
                            outlet="Test Wire")
    kcat_produce(b, "news.labeled.vaccines", [json.dumps(x) for x in new])
    out, _ = p.communicate(timeout=30)
    lines = out.decode().splitlines()
    env.ok(p.returncode == 0 and len(lines) == 3, "stops after --max-messages 3 (exit %s)"
           % p.returncode)
    env.ok(all("Live title live-" in l and "[Test Wire]" in l and " vaccines " in l
               for l in lines),
           "pretty lines: time, labels with probabilities, title, outlet: " + lines[0])

    # A group: the second run starts where the first one stopped. (The mock
    # cluster lets the second member in only after the first one's session
    # timed out, whatever LeaveGroup said: hence the short session.)
    conflict = [i for i, x in recs.items() if "conflict" in x["labels"]]
    r = newsclf(env, "subscribe", "--brokers", b.bs, "--label", "conflict", "--group", "g1",
                "-X", "session.timeout.ms=6000", "-X", "heartbeat.interval.ms=500",
                "--from-beginning", "--format", "jsonl", "--max-messages", str(len(conflict)),
                "--timeout-ms", "30000")
    env.ok(len(r.stdout.decode().splitlines()) == len(conflict),
           "--group g1 --from-beginning reads all %d" % len(conflict))
    kcat_produce(b, "news.labeled.conflict", [json.dumps(dict(recs[conflict[0]], id="after"))])
    r = newsclf(env, "subscribe", "--brokers", b.bs, "--label", "conflict", "--group", "g1",
                "-X", "session.timeout.ms=6000", "-X", "heartbeat.interval.ms=500",
                "--from-beginning", "--format", "jsonl", "--max-messages", "1",
                "--timeout-ms", "30000")
    got = [json.loads(l)["id"] for l in r.stdout.decode().splitlines()]
    env.ok(got == ["after"], "the same group again continues after its commit: %s" % got)

    r = newsclf(env, "subscribe", "--brokers", b.bs, check_rc=2)
    env.ok(b"--label" in r.stderr, "no --label: usage error (exit 2)")
    r = newsclf(env, "subscribe", "--brokers", b.bs, "--label", "nosuch", check_rc=1)
    env.ok(b"news.labeled.nosuch does not exist" in r.stderr, "an unknown label is an error")
    subscribe_display(env, b)


# ---- reclassify ----

def test_reclassify(env):
    b = MockBroker(env, [("news.articles", 3), ("news.labeled", 3), ("news.deadletter", 1),
                         ("sanctions.desk", 1), ("reclass.out", 1)] +
                   [("news.labeled." + l, 1) for l in env.labels])
    lines = dev_lines(env, 120)
    recs = offline(env, lines)
    keyed = ["%s\t%s" % (json.loads(l)["id"], l) for l in lines]
    kcat_produce(b, "news.articles", keyed[:60], keyed=True)
    kcat_produce(b, "news.articles", ["x\t[1, 2]", "y\t{not json"], keyed=True, partition=0)
    kcat_produce(b, "news.articles", keyed[60:], keyed=True)
    cfg = env.path("newsclf.yaml")
    with open(cfg, "w") as f:
        f.write("kafka:\n  brokers: \"%s\"\n  input_topics: [news.articles]\n"
                "outputs:\n  routes:\n    - label: sanctions\n      topic: sanctions.desk\n"
                "      min_probability: 0.9\n" % b.bs)

    r = newsclf(env, "reclassify", "--config", cfg, "--from", "beginning", "--model", env.model)
    err = r.stderr.decode()
    env.ok("122 read, 120 classified, 2 unreadable" in err, "counts: " + err.strip()[-120:])
    agg = kcat_consume(b, "news.labeled")
    out = {json.loads(m["payload"])["id"]: (m, json.loads(m["payload"])) for m in agg}
    env.ok(len(agg) == 120 and set(out) == set(recs),
           "every readable article once on the aggregate topic (%d)" % len(agg))
    same = all(out[i][1]["labels"] == recs[i]["labels"] and
               all(abs(out[i][1]["scores"][l] - recs[i]["scores"][l]) < 1e-9 for l in env.labels)
               for i in recs)
    env.ok(same, "labels and scores equal `newsclf classify`'s")
    ins = [x["input"] for _, x in out.values()]
    env.ok(all(i["topic"] == "news.articles" and i["partition"] in (0, 1, 2) and
               isinstance(i["offset"], int) for i in ins) and
           len({(i["partition"], i["offset"]) for i in ins}) == 120 and
           all(isinstance(x.get("classified_at"), str) for _, x in out.values()),
           "the record carries input {topic, partition, offset} and classified_at")
    m = next(iter(out.values()))[0]
    h = m.get("headers") or {}
    if isinstance(h, list):
        h = dict(zip(h[0::2], h[1::2]))
    env.ok(h.get("newsclf-reclassified") == "true" and "newsclf-labels" in h and
           h.get("newsclf-model", "").startswith(model_name(env) + " "),
           "headers newsclf-labels, newsclf-model, newsclf-reclassified: %s" % sorted(h))
    env.ok(all(m["key"] == i for i, (m, _) in out.items()), "keyed by article id")
    for lab in env.labels:
        got = sorted(json.loads(x["payload"])["id"] for x in kcat_consume(b, "news.labeled." + lab))
        want = sorted(i for i, x in recs.items() if lab in x["labels"])
        env.ok(got == want, "news.labeled.%s has exactly its %d articles" % (lab, len(want)))
    desk = sorted(json.loads(x["payload"])["id"] for x in kcat_consume(b, "sanctions.desk"))
    env.ok(desk == sorted(i for i, x in recs.items() if x["scores"]["sanctions"] >= 0.9),
           "the route sanctions.desk (min_probability 0.9) gets its %d" % len(desk))

    r = newsclf(env, "reclassify", "--config", cfg, "--model", env.model, "--from", "0:1",
                "--to", "0:6", "--output-topic", "reclass.out")
    got = [json.loads(x["payload"])["input"] for x in kcat_consume(b, "reclass.out")]
    env.ok([(g["partition"], g["offset"]) for g in got] == [(0, o) for o in range(1, 6)]
           or (len(got) < 5 and all(g["partition"] == 0 for g in got)),
           "--from 0:1 --to 0:6 --output-topic: partition 0, offsets 1..5 only (%d)" % len(got))
    n_out = len(got)

    hour_ago = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3600))
    r = newsclf(env, "reclassify", "--config", cfg, "--model", env.model, "--from", hour_ago,
                "--dry-run")
    printed = [json.loads(l) for l in r.stdout.decode().splitlines()]
    env.ok(len(printed) == 120 and len(kcat_consume(b, "reclass.out")) == n_out and
           len(kcat_consume(b, "news.labeled")) == 120,
           "--from <an hour ago> --dry-run prints all 120, produces nothing")
    future = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() + 3600))
    r = newsclf(env, "reclassify", "--config", cfg, "--model", env.model, "--from", future,
                "--dry-run")
    env.ok(r.stdout == b"", "--from <in an hour>: nothing")
    r = newsclf(env, "reclassify", "--config", cfg, "--model", env.model, "--from", "beginning",
                "--to", hour_ago, "--dry-run")
    env.ok(r.stdout == b"", "--to <an hour ago>: nothing")

    r = newsclf(env, "reclassify", "--config", cfg, "--from", "beginning", "--dump",
                "--input-topic", "news.articles")
    env_lines = [json.loads(l) for l in r.stdout.decode().splitlines()]
    env.ok(len(env_lines) == 122 and all({"topic", "partition", "offset", "timestamp",
                                          "value"} <= set(e) for e in env_lines),
           "--dump prints the 122 messages as envelopes")

    r = newsclf(env, "reclassify", "--config", cfg, "--model", env.model, "--from", "beginning",
                "--output-topic", "news.articles", check_rc=2)
    env.ok(b"also an input topic" in r.stderr, "--output-topic = an input topic is refused")
    r = newsclf(env, "reclassify", "--config", cfg, "--from", "yesterday", check_rc=2)
    env.ok(b"RFC 3339" in r.stderr, "a bad --from is a usage error")
    r = newsclf(env, "reclassify", "--config", cfg, "--from", "beginning", "--input-topic",
                "nosuch", "--dump", check_rc=1)
    env.ok(b"topic nosuch does not exist" in r.stderr, "a missing input topic is an error")


TESTS = {"subscribe": test_subscribe, "reclassify": test_reclassify}

if __name__ == "__main__":
    sys.exit(main(TESTS, __doc__, tools=("kcat",), prefix="newsclf-ops."))
