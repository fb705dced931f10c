"""Kafka from the harness's side, through bench/pipeline_load: produce,
consume (decoded by dump.decode), count, wait for a count, pre-commit a
group, read a group's offsets, create topics. `broker` is a MockBroker or a
Cluster; the harness talks to its `plain` address."""
import os
import re
import subprocess

from newsclf_test.checks import Fail, poll
from newsclf_test.daemon import IN
from newsclf_test.dump import decode


def run(env, *args, timeout=600, check_rc=True):
    """pipeline_load ARGS; Fail unless it exits 0 (or 3: consume found
    fewer records than expected)."""
    cmd = [env.tool("bench/pipeline_load")] + [str(x) for x in args]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    if check_rc and r.returncode not in (0, 3):
        raise Fail("%s: rc=%d %s" % (" ".join(cmd), r.returncode, r.stderr.decode()[-2000:]))
    return r


def produce(env, broker, lines=None, n=None, topic=IN, files=(), headers=(), keyed=False,
            rate=None, background=False, props=()):
    """Produces the lines of the file `lines` (cycled to n), and/or one
    message per file in files. background: returns the running process
    (its stderr in producer.log) instead of waiting. props: producer
    properties (KEY=VALUE, e.g. compression.type=zstd)."""
    args = ["produce", "-b", broker.plain, "-t", topic]
    for p in props:
        args += ["-X", p]
    if lines:
        args += ["-f", lines]
    if n is not None:
        args += ["-n", str(n)]
    for f in files:
        args += ["-m", f]
    for h in headers:
        args += ["--header", h]
    if keyed:
        args.append("--keyed")
    if rate:
        args += ["--rate", str(rate)]
    if background:
        return env.spawn([env.tool("bench/pipeline_load")] + args, log="producer.log")
    return run(env, *args)


def consume(env, broker, topics, expect=-1, idle_ms=3000, parse_json=False, props=()):
    """Every record of topics, from the beginning (see dump.decode);
    expect: wait for that many. props: librdkafka properties (KEY=VALUE)."""
    out = env.path("dump%d.jsonl" % env.seq("dump"))
    args = ["consume", "-b", broker.plain, "-t", ",".join(topics), "-n", expect,
            "--idle-ms", idle_ms, "--dump", out]
    for p in props:
        args += ["-X", p]
    run(env, *args)
    recs = decode(out, parse_json)
    os.unlink(out)
    return recs


def count(env, broker, topic, idle_ms=5000):
    r = run(env, "consume", "-b", broker.plain, "-t", topic, "--idle-ms", idle_ms)
    return int(r.stdout.decode().strip() or 0)


def wait_count(env, broker, topic, n, timeout):
    """Until topic holds at least n records."""
    last = [0]

    def enough():
        last[0] = count(env, broker, topic)
        return last[0] >= n

    try:
        poll(enough, timeout, "%d records on %s" % (n, topic), step=0.2)
    except Fail:
        raise Fail("only %d of %d records on %s" % (last[0], n, topic))


def precommit(env, broker, group="newsclf", topic=IN):
    """Commits offset 0 on every partition of topic for group, so daemons
    run with auto.offset.reset=error (docs/kafka.md): a silent reset shows
    as a failure."""
    run(env, "commit", "-b", broker.plain, "-g", group, "-t", topic)


def offsets(env, broker, group, topic):
    """(committed, end) summed over topic's partitions; (-1, -1) when the
    brokers do not answer in time (a broker may be down on purpose)."""
    try:
        r = run(env, "offsets", "-b", broker.plain, "-g", group, "-t", topic, check_rc=False,
                timeout=30)
    except subprocess.TimeoutExpired:
        return (-1, -1)
    m = re.match(r"committed=(\d+) end=(\d+)", r.stdout.decode())
    if not m:
        return (-1, -1)
    return int(m.group(1)), int(m.group(2))


def input_records(env, broker, topic=IN):
    """{(partition, offset): record} of the input topic."""
    return {(r["partition"], r["offset"]): r for r in consume(env, broker, [topic])}


def create_topics(env, broker, specs, rf=None, configs=()):
    """specs: [(name, partitions)], created in one Admin API request."""
    args = ["topics", "-b", broker.plain]
    if rf:
        args += ["--rf", rf]
    for c in configs:
        args += ["--config", c]
    run(env, *args + ["%s:%d" % (name, parts) for name, parts in specs], timeout=120)
