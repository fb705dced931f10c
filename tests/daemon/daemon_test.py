#!/usr/bin/env python3
"""End-to-end tests of newsclfd against the mock cluster (newsclf-mockbroker).

Each test starts its own broker process (so the daemon can be killed while
the broker keeps its data), talks Kafka through bench/pipeline_load, and
waits for conditions by polling with a deadline, never by fixed sleeps.

    daemon_test.py TEST --bin-dir DIR --source-dir DIR [--model DIR]

TEST: e2e badinput restart_term restart_kill reload brokerdown
      shutdown_brokergone signals checkconfig pidfile compressed retrylog
Exit 0 pass, 1 fail, 77 skipped (no model yet).
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from newsclf_test import e2e, load  # noqa: E402
from newsclf_test.checks import Fail, check, poll  # noqa: E402
from newsclf_test.corpus import dev_file, offline_labels  # noqa: E402
from newsclf_test.daemon import (AGG, DL, IN, Daemon, model_thresholds,  # noqa: E402
                                 write_config)
from newsclf_test.mockbroker import MockBroker  # noqa: E402
from newsclf_test.testenv import main  # noqa: E402


def started_broker(env, down=False):
    """A mock broker; unless down, with the daemon's group pre-committed."""
    b = MockBroker(env, down=down)
    if not down:
        load.precommit(env, b)
    return b


def t_e2e(env):
    e2e.run(env, MockBroker(env))


def t_badinput(env):
    b = started_broker(env)
    good = [l for l in open(dev_file(env), "rb").read().split(b"\n") if l][:5]
    cases = [
        ("invalid_json", b'{"id": "x", "title": '),
        ("not_an_object", b'[1, 2, 3]'),
        ("invalid_utf8", b'{"id": "u", "title": "caf\xe9", "body": "\xff\xfe"}'),
        ("empty", b""),
        ("too_large", b'{"id": "big", "body": "' + b"word " * 6000 + b'"}'),
        # fits max_article_bytes, but its output does not fit message.max.bytes
        ("produce_failed", b'{"id": "wide", "title": "Sanctions", "body": "' +
         b"sanctions on exports " * 600 + b'"}'),
        ("binary", bytes(range(256)) * 4),
    ]
    expect = []  # (kind, bytes) in produce order
    for i, (reason, data) in enumerate(cases):
        expect += [("good", good[i % len(good)]), (reason, data)]
    expect.append(("good", good[0]))
    # one partition, so produce order is offset order
    load.produce(env, b, files=env.message_files([p for _, p in expect]),
                 headers=["trace-id=bad-1"])
    d = Daemon(env, b, extra=["--set", "limits.max_article_bytes=20000",
                              "--set", "kafka.producer.message.max.bytes=9000"])
    n_good = sum(1 for k, _ in expect if k == "good")
    n_bad = len(expect) - n_good
    load.wait_count(env, b, DL, n_bad, 60)
    load.wait_count(env, b, AGG, n_good, 30)
    check(d.stop() == 0, "daemon exit code")
    inputs = load.input_records(env, b)
    dls = load.consume(env, b, [DL], n_bad)
    check(len(dls) == n_bad, "dead letters: %d, expected %d" % (len(dls), n_bad))
    reasons = {}
    truncated = False
    for r in dls:
        h = {k: v[0].decode(errors="replace") for k, v in r["hdrs"].items()}
        for k in ("newsclf-error", "newsclf-error-detail", "newsclf-source-topic",
                  "newsclf-source-partition", "newsclf-source-offset",
                  "newsclf-source-timestamp"):
            check(k in h, "dead letter lacks header %s" % k)
        src = inputs[(int(h["newsclf-source-partition"]), int(h["newsclf-source-offset"]))]
        if "newsclf-truncated-from" in h:
            check(int(h["newsclf-truncated-from"]) == len(src["value"]) and
                  len(r["value"]) < len(src["value"]) and src["value"].startswith(r["value"]),
                  "truncated dead letter is not a prefix of the input")
            truncated = True
        else:
            check(r["value"] == src["value"], "dead letter bytes differ from the input")
        reasons[src["value"]] = h["newsclf-error"]
        check(h["newsclf-source-topic"] == IN, "source topic")
        check(int(h["newsclf-source-timestamp"]) == src["ts"], "source timestamp")
        check(h.get("trace-id") == "bad-1", "input headers kept on dead letters")
    for kind, payload in expect:
        if kind == "good":
            continue
        got = reasons.get(payload)
        if kind == "binary":
            check(got in ("invalid_utf8", "invalid_json", "bad_field"),
                  "binary input: reason %s" % got)
        else:
            check(got == kind, "%s input: reason %s" % (kind, got))
    agg = load.consume(env, b, [AGG], n_good)
    check(len(agg) == n_good, "good articles classified: %d of %d" % (len(agg), n_good))
    check(truncated, "the too-large input was not truncated to fit")
    # every input counted once, by its fate (produce_failed too)
    m = re.search(r"stopped consumed=(\d+) classified=(\d+) deadlettered=(\d+)", d.logtext())
    check(m, "no final counters in %s" % d.log)
    consumed, classified, dead = (int(x) for x in m.groups())
    check((consumed, classified, dead) == (len(expect), n_good, n_bad),
          "counters consumed=%d classified=%d deadlettered=%d, expected %d = %d + %d" %
          (consumed, classified, dead, len(expect), n_good, n_bad))
    print("badinput: reasons %s" % sorted(set(reasons.values())))


def t_compressed(env):
    """Input batches compressed with each codec librdkafka offers, and a
    JSON article behind a UTF-8 byte-order mark: every input classified as
    `newsclf classify` does, the BOM article under its own id."""
    b = started_broker(env)
    per = 40
    codecs = ("gzip", "snappy", "lz4", "zstd")
    for codec in codecs:
        load.produce(env, b, dev_file(env), n=per, keyed=True,
                     props=["compression.type=" + codec, "linger.ms=100"])
    first = json.loads(open(dev_file(env), "rb").readline())
    orig = first["id"]
    first["id"] = "bom-1"
    load.produce(env, b, files=env.message_files([b"\xef\xbb\xbf" + json.dumps(first).encode()]))
    total = per * len(codecs) + 1
    d = Daemon(env, b)
    load.wait_count(env, b, AGG, total, 60)
    check(d.stop() == 0, "daemon exit code")
    offline = offline_labels(env, dev_file(env))
    agg = load.consume(env, b, [AGG], total)
    check(len(agg) == total, "aggregate records %d != %d" % (len(agg), total))
    check(len(set(input_positions(agg))) == total, "one output per input")
    seen = set()
    for r in agg:
        v = json.loads(r["value"])
        src = orig if v["id"] == "bom-1" else v["id"]
        check(src in offline, "unknown id %r (the BOM article lost its id?)" % v["id"])
        check(sorted(v["labels"]) == offline[src], "labels of %s: daemon %s, offline %s" %
              (v["id"], v["labels"], offline[src]))
        seen.add(v["id"])
    check("bom-1" in seen, "the BOM article is not in the output under its id")
    check(load.count(env, b, DL) == 0, "dead letters for good input")
    print("compressed: %d inputs in %s batches and a BOM article, labels as newsclf classify" %
          (total - 1, "/".join(codecs)))


def input_positions(recs):
    """[(partition, offset)] of the inputs of aggregate records."""
    out = []
    for r in recs:
        inp = json.loads(r["value"])["input"]
        out.append((inp["partition"], inp["offset"]))
    return out


def restart(env, sig):
    b = started_broker(env)
    total = 4000
    d = Daemon(env, b)
    d.running()
    prod = load.produce(env, b, dev_file(env), n=total, keyed=True, rate=1000, background=True)
    load.wait_count(env, b, AGG, 300, 30)  # mid-stream
    rc = d.stop(sig)
    if sig == signal.SIGTERM:
        check(rc == 0, "exit code after SIGTERM: %s" % rc)
        check("stopped cleanly" in d.logtext(), "clean stop logged")
    check(prod.wait(60) == 0, "producer")
    mid = load.count(env, b, AGG)
    check(mid < total, "the stop happened mid-stream")
    d2 = Daemon(env, b)
    inputs = load.input_records(env, b)

    # After SIGKILL the aggregate topic holds duplicates, so a record count
    # says nothing about coverage: wait until every input has its output.
    def covered():
        n = load.count(env, b, AGG)
        return n >= total and not set(inputs) - set(input_positions(
            load.consume(env, b, [AGG], n)))

    try:
        poll(covered, 120, "an output for every input", step=0.5)
    except Fail:
        pass  # reported below with the number missing
    check(d2.stop() == 0, "second daemon exit code")
    keys = input_positions(load.consume(env, b, [AGG], load.count(env, b, AGG)))
    missing = set(inputs) - set(keys)
    check(not missing, "inputs never classified: %d" % len(missing))
    dups = len(keys) - len(set(keys))
    if sig == signal.SIGTERM:
        check(dups == 0, "duplicates after SIGTERM: %d" % dups)
    print("restart %s: %d inputs, %d outputs before the stop, %d duplicates" %
          (sig.name, total, mid, dups))


def t_restart_term(env):
    restart(env, signal.SIGTERM)


def t_restart_kill(env):
    restart(env, signal.SIGKILL)


def t_reload(env):
    b = started_broker(env)
    total = 4000
    cfg = env.path("newsclf.yaml")
    shutil.copy(write_config(env, "a.yaml", env.model), cfg)
    d = Daemon(env, b, config=cfg)
    d.running()
    prod = load.produce(env, b, dev_file(env), n=total, keyed=True, rate=800, background=True)
    load.wait_count(env, b, AGG, 500, 30)
    # 1. a broken model: refused, the old one keeps running
    shutil.copy(write_config(env, "broken.yaml", env.path("no-such-model")), cfg)
    d.proc.send_signal(signal.SIGHUP)
    d.wait_log(r"reload refused", 30)
    # 2. a good reload under traffic: every label needs probability 0.999
    thr = {lab: 0.999 for lab in env.labels}
    shutil.copy(write_config(env, "b.yaml", env.model, thr), cfg)
    d.proc.send_signal(signal.SIGHUP)
    d.wait_log(r"reloaded model", 30)
    check(prod.wait(60) == 0, "producer")
    load.wait_count(env, b, AGG, total, 90)
    check(d.stop() == 0, "daemon exit code")
    agg = load.consume(env, b, [AGG], total)
    check(len(agg) == total, "outputs %d != %d (lost or duplicated around a reload)" %
          (len(agg), total))
    # Per input partition, records classified with the old thresholds (a
    # label scored below 0.999) never follow one classified with the new
    # ones (a label at or above its old threshold but below 0.999, absent):
    # the swap happens once, between messages.
    old_thr = model_thresholds(env)
    tol = 1e-4
    state = {}
    n_old = n_new = 0
    outs = sorted((json.loads(r["value"]) for r in agg),
                  key=lambda v: (v["input"]["partition"], v["input"]["offset"]))
    for v in outs:
        p = v["input"]["partition"]
        sc = v["scores"]
        is_old = any(sc[l] < 0.999 - tol for l in v["labels"])
        is_new = any(l not in v["labels"] and old_thr.get(l, 0.5) + tol <= s < 0.999 - tol
                     for l, s in sc.items())
        check(not (is_old and is_new), "record consistent with neither thresholds: %s" % v)
        if is_new:
            state[p] = "new"
            n_new += 1
        if is_old:
            check(state.get(p) != "new", "partition %d went back to the old thresholds" % p)
            n_old += 1
    check(n_old > 0 and n_new > 0, "reload was not under traffic (old %d, new %d)" % (n_old, n_new))
    check("reloaded model" in d.logtext(), "reload logged")
    print("reload: %d records, %d classified before the swap, %d after (distinguishable ones)" %
          (len(agg), n_old, n_new))


def t_brokerdown(env):
    b = started_broker(env, down=True)
    d = Daemon(env, b, offset_reset="earliest")
    d.wait_log(r"cannot reach the brokers.*retrying", 30)
    check(d.proc.poll() is None, "daemon gave up while the broker is down")
    b.up()
    load.produce(env, b, dev_file(env), n=200, keyed=True)
    load.wait_count(env, b, AGG, 200, 90)
    check(d.stop() == 0, "daemon exit code")
    print("brokerdown: started while down, then classified 200")


def t_shutdown_brokergone(env):
    b = started_broker(env)
    load.produce(env, b, dev_file(env), n=300, keyed=True)
    d = Daemon(env, b, extra=["--set", "limits.shutdown_timeout_ms=3000"])
    load.wait_count(env, b, AGG, 300, 60)
    b.down()
    t0 = time.monotonic()
    rc = d.stop(timeout=20)
    took = time.monotonic() - t0
    check(took < 15, "shutdown with the broker gone took %.1fs" % took)
    print("shutdown_brokergone: exit %d after %.1fs" % (rc, took))


def t_pidfile(env):
    """--pid-file that is a symlink: replaced, its target never written;
    removed at exit only while it holds our pid."""
    b = started_broker(env)
    victim, link = env.path("victim"), env.path("newsclfd.pid")
    with open(victim, "w") as f:
        f.write("precious\n")
    os.symlink(victim, link)

    def ours(d):
        if os.path.islink(link) or not os.path.exists(link):
            return False
        with open(link) as f:
            return f.read() == "%d\n" % d.proc.pid

    d = Daemon(env, b, extra=["--pid-file", link])
    poll(lambda: ours(d), 20, "the pid file replaced by a regular file")
    check(open(victim).read() == "precious\n", "the symlink's target was written")
    check(d.stop() == 0, "daemon exit code")
    check(not os.path.lexists(link), "the pid file was not removed at exit")
    # another process's pid file (ours was replaced meanwhile) stays
    d = Daemon(env, b, extra=["--pid-file", link])
    poll(lambda: ours(d), 20, "the pid file")
    with open(link + ".new", "w") as f:
        f.write("1\n")
    os.rename(link + ".new", link)
    check(d.stop() == 0, "daemon exit code")
    check(open(link).read() == "1\n", "a pid file that is no longer ours was removed")
    check(open(victim).read() == "precious\n", "the symlink's target was changed")
    print("pidfile: symlink replaced, target untouched; removed only while ours")


def t_signals(env):
    # SIGTERM while the broker is down at start (docs/kafka.md #4381: no
    # close of a consumer that never had partitions): a clean, quick exit.
    b = started_broker(env, down=True)
    d = Daemon(env, b, offset_reset="earliest")
    d.wait_log(r"cannot reach the brokers", 30)
    t0 = time.monotonic()
    check(d.stop(timeout=15) == 0, "exit code of SIGTERM while the broker is down")
    check(time.monotonic() - t0 < 5, "SIGTERM while the broker is down was slow")
    # A second signal exits at once, even while a drain waits for a broker
    # that went away.
    b.up()
    load.precommit(env, b)
    load.produce(env, b, dev_file(env), n=100, keyed=True)
    d = Daemon(env, b, extra=["--set", "limits.shutdown_timeout_ms=20000"])
    load.wait_count(env, b, AGG, 100, 60)
    b.down()  # the drain's commit cannot finish
    first = time.monotonic()
    d.proc.send_signal(signal.SIGTERM)
    d.wait_log(r"draining", 10)
    # Signals within 100 ms of the first count as the same request (below).
    time.sleep(max(0.0, 0.2 - (time.monotonic() - first)))
    t0 = time.monotonic()
    rc = d.stop(timeout=10)
    check(rc == 130, "exit code after a second signal: %s" % rc)
    check(time.monotonic() - t0 < 3, "the second signal did not exit at once")
    # The same SIGTERM delivered twice (timeout(1) signals the process and
    # its group) is one request: a clean stop, exit 0. The two are sent 20 ms
    # apart so that the kernel does not merge them into one pending signal.
    b.up()
    load.produce(env, b, dev_file(env), n=50, keyed=True)
    d = Daemon(env, b)
    load.wait_count(env, b, AGG, 150, 60)
    d.proc.send_signal(signal.SIGTERM)
    time.sleep(0.02)
    d.proc.send_signal(signal.SIGTERM)
    rc = d.wait_exit(15, "after SIGTERM twice")
    check(rc == 0, "exit code after one SIGTERM delivered twice: %s" % rc)
    print("signals: ok")


def check_config(env, *args):
    """newsclfd --check-config ARGS: (exit code, stderr)."""
    r = subprocess.run([env.tool("newsclfd"), "--check-config"] + list(args) +
                       ["--set", "model.path=" + env.model],  # --check-config loads the model
                       capture_output=True, timeout=30)
    return r.returncode, r.stderr.decode()


def t_checkconfig(env):
    good = os.path.join(env.src, "config", "newsclf.yaml")
    rc, err = check_config(env, good)
    check(rc == 0, "good config refused: %s" % err)
    bad = env.path("bad.yaml")
    with open(bad, "w") as f:
        f.write("kafka:\n  brokers: \"x:1\"\n  no_such_key: 1\nlimits:\n  workers: many\n")
    rc, err = check_config(env, bad)
    check(rc == 1, "broken config accepted (rc=%d)" % rc)
    check(re.search(re.escape(bad) + r":3:\d+:", err), "error without file:line:column: " + err)
    check(re.search(re.escape(bad) + r":5:\d+:", err), "second error not reported: " + err)
    rc, _ = check_config(env, good, "--set", "kafka.consumer.enable.auto.commit=false")
    check(rc == 1, "guarded property accepted through --set")
    rc, err = check_config(env, good, "--set", "kafka.brokers=127.0.0.1:1")
    check(rc == 0, "--set override refused: %s" % err)
    # librdkafka's property names: a misspelled secret is refused with the
    # right name, its value never shown (daemon/kafka/props.c).
    pw = "Pw-%d-never-shown" % os.getpid()
    os.environ["NEWSCLF_TEST_PW"] = pw
    typo = env.path("typo.yaml")
    with open(typo, "w") as f:
        f.write("kafka:\n  consumer:\n    fetch.max.bytes: 1048576\n"
                "    sasl.pasword: \"${NEWSCLF_TEST_PW}\"\n"
                "  producer:\n    linger.ms: 5\n    bogus.property.x: 1\n")
    rc, err = check_config(env, typo)
    check(rc == 1, "misspelled librdkafka property accepted (rc=%d)" % rc)
    check(re.search(re.escape(typo) + r":4:\d+: kafka\.consumer\.sasl\.pasword: unknown "
                    r"librdkafka property \(did you mean 'sasl\.password'\?\)", err),
          "no did-you-mean for sasl.pasword: " + err)
    check(re.search(r"kafka\.producer\.bogus\.property\.x: unknown librdkafka property\n", err),
          "unknown producer property not reported: " + err)
    check(len(err.strip().splitlines()) == 2, "known properties reported too: " + err)
    check(pw not in err, "the misspelled secret's value was printed: " + err)
    print("checkconfig: ok")


def t_retrylog(env):
    """Brokers down at start: each retry line names them, its message is the
    message (JSON logs: brokers and retry_ms are fields), and the lines are
    as far apart as they announce."""
    d = Daemon(env, None, extra=["--set", "logging.format=json"])
    rx = re.compile(r"^\{.*retrying in.*\}$", re.M)
    lines = poll(lambda: (lambda m: m if len(m) >= 3 else None)(rx.findall(d.logtext())), 60,
                 "three retry lines")
    check(d.stop(timeout=15) == 0, "exit code of SIGTERM while the brokers are down")
    recs = [json.loads(l) for l in lines[:3]]
    when = []
    for i, r in enumerate(recs):
        ms = 1000 << i
        want = ("cannot reach the brokers: cannot read the cluster's metadata from 127.0.0.1:1: "
                "%s; retrying in %d ms")
        m = re.fullmatch(want % (r"(.+)", ms), r["message"])
        check(m and "=" not in m.group(1), "retry message %r" % r["message"])
        check(r.get("brokers") == "127.0.0.1:1", "brokers field %r" % r.get("brokers"))
        check(r.get("retry_ms") == str(ms), "retry_ms field %r" % r.get("retry_ms"))
        check(r["level"] == "warn", "level %r" % r["level"])
        t = time.strptime(r["time"][:19], "%Y-%m-%dT%H:%M:%S")
        when.append(time.mktime(t) + int(r["time"][20:23]) / 1000.0)
    for i in (1, 2):
        gap, want = when[i] - when[i - 1], (1000 << (i - 1)) / 1000.0
        check(want - 0.15 <= gap <= want + 1.0,
              "retry line %d came %.2f s after the one announcing %.1f s" % (i + 1, gap, want))
    print("retrylog: lines %.2f s and %.2f s apart (announced 1 s, 2 s)" %
          (when[1] - when[0], when[2] - when[1]))


TESTS = {
    "e2e": t_e2e,
    "badinput": t_badinput,
    "restart_term": t_restart_term,
    "restart_kill": t_restart_kill,
    "reload": t_reload,
    "brokerdown": t_brokerdown,
    "shutdown_brokergone": t_shutdown_brokergone,
    "signals": t_signals,
    "pidfile": t_pidfile,
    "checkconfig": t_checkconfig,
    "compressed": t_compressed,
    "retrylog": t_retrylog,
}

if __name__ == "__main__":
    sys.exit(main(TESTS, __doc__, model=lambda names: names != ["checkconfig"],
                  prefix="newsclfd-test."))
