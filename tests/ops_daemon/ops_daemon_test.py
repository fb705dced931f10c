#!/usr/bin/env python3
"""Operations tests of newsclfd: /metrics, /healthz, /readyz and the systemd
notify protocol, against the mock cluster (newsclf-mockbroker).

    ops_daemon_test.py TEST --bin-dir DIR --source-dir DIR [--model DIR]

TEST:
  metrics           an end-to-end run with good and bad input: the counters
                    add up (consumed = classified + dead-lettered, produced
                    per topic = labels, = records on the broker, per-label
                    counts = offline classification), lag and queue gauges,
                    the text parses (promtool, else python3-prometheus-client);
                    /healthz, /readyz 503 before the broker exists, 200 after.
  notify            a fake NOTIFY_SOCKET and WATCHDOG_USEC: READY, periodic
                    STATUS, WATCHDOG within the interval, RELOADING/READY
                    around a refused and a good SIGHUP reload (and the reload
                    metrics), STOPPING; in that order.
  notify_brokerdown READY (STATUS "waiting for broker") and WATCHDOG while the
                    broker is down; SIGTERM gives STOPPING and exit 0.
  zero_series       before any input (broker down): every label of the model
                    and every dead-letter reason has its series at 0, and the
                    process metrics (process_cpu_seconds_total, resident
                    memory, open and max fds, start time) are there and
                    plausible; the text parses.
  openmetrics       /metrics by Accept: OpenMetrics 1.0.0 for
                    application/openmetrics-text (as Prometheus asks), the
                    Prometheus text otherwise; each parsed by the official
                    client's parser for it, the same series in both.
  reload_labels     a SIGHUP reload to a model with other labels: their
                    newsclf_articles_labeled_total series appear at 0, the
                    earlier labels' stay.
  check_config      --check-config's offline checks, one case each: a broker
                    entry without a port, a port out of range, a missing TLS
                    file, a missing model, a model file changed after its
                    checksum was recorded, a threshold for an unknown label;
                    all reported at once with file:line:col; exit 1 (0 with
                    everything right).
  startfail         errors no waiting heals (bad config, bad model, metrics
                    address in use, bad consumer property) exit non-zero
                    without READY.
Exit 0 pass, 1 fail, 77 skipped (no model, or no Prometheus text parser).

The broker, the daemon and the conventions (poll with deadlines, never
fixed sleeps) come from tests/lib/newsclf_test.
"""
import functools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from newsclf_test import load  # noqa: E402
from newsclf_test.checks import Skip, check, poll  # noqa: E402
from newsclf_test.corpus import classify, dev_file  # noqa: E402
from newsclf_test.daemon import (AGG, DL, IN, IN_PARTS, Daemon, news_topics,  # noqa: E402
                                 write_config)
from newsclf_test.mockbroker import MockBroker  # noqa: E402
from newsclf_test.prom import model_info, parse_samples, series, value  # noqa: E402
from newsclf_test.testenv import main, model_labels  # noqa: E402

METRICS = "127.0.0.1:0"  # the metrics endpoint on a free loopback port
WATCHDOG_USEC = 2000000


def metrics_text(d):
    """GET /metrics of d: status 200 and the text format's content type."""
    st, body, ctype = d.get("/metrics")
    check(st == 200, "/metrics status %d" % st)
    check(ctype.startswith("text/plain; version=0.0.4"), "/metrics content type %s" % ctype)
    return body


# ---------------------------------------------------------------- Prometheus text

# Prints {family: type} of the exposition on stdin, with prometheus_client's
# parser; run by the Python that has the module (Debian's python3-prometheus-
# client lives in /usr/bin/python3's path, which a pyenv python3 lacks).
CLIENT_PARSE = """
import json, sys
from prometheus_client.parser import text_string_to_metric_families
types = {}
for fam in text_string_to_metric_families(sys.stdin.read()):
    # the client strips _total from counter family names
    types.setdefault(fam.name, fam.type)
    types.setdefault(fam.name + "_total", fam.type)
print(json.dumps(types))
"""


@functools.lru_cache(maxsize=None)
def client_python():
    """A Python interpreter that can import prometheus_client, or None."""
    for py in dict.fromkeys([sys.executable, "/usr/bin/python3"]):
        if py and os.path.exists(py) and subprocess.run(
                [py, "-c", "import prometheus_client.parser"], capture_output=True,
                timeout=30).returncode == 0:
            return py
    return None


def parser_kind():
    """promtool when installed, else prometheus_client; the environment
    variable NEWSCLF_TEST_PROM_PARSER=promtool|prometheus_client forces one."""
    want = os.environ.get("NEWSCLF_TEST_PROM_PARSER", "")
    if want in ("", "promtool") and shutil.which("promtool"):
        return "promtool"
    if want in ("", "prometheus_client") and client_python():
        return "prometheus_client"
    return None


def validate(env, text):
    """Parses the exposition with a real parser: `promtool check metrics`
    (Debian: prometheus), else prometheus_client (python3-prometheus-client).
    Both check the syntax; promtool also lints names, HELP and counter
    suffixes. Returns {family: type} from the parser."""
    kind = parser_kind()
    if kind is None:
        raise Skip("no Prometheus text parser: install prometheus (promtool) or "
                   "python3-prometheus-client")
    types = {}
    if kind == "promtool":
        # Syntax and lint (names, HELP, counter suffixes); exit 1 on any
        # problem.
        r = subprocess.run(["promtool", "check", "metrics"], input=text.encode(),
                           capture_output=True, timeout=60)
        check(r.returncode == 0, "promtool check metrics: %s%s" %
              (r.stdout.decode(), r.stderr.decode()))
        for line in text.splitlines():
            m = re.match(r"# TYPE (\S+) (\S+)$", line)
            if m:
                types[m.group(1)] = m.group(2)
    py = None if os.environ.get("NEWSCLF_TEST_PROM_PARSER") == "promtool" else client_python()
    if py:
        r = subprocess.run([py, "-c", CLIENT_PARSE], input=text.encode(), capture_output=True,
                           timeout=60)
        check(r.returncode == 0, "prometheus_client cannot parse /metrics: %s" %
              r.stderr.decode()[-2000:])
        for k, v in json.loads(r.stdout).items():
            types.setdefault(k, v)
    return types


# {"type": {family: type}, "samples": [[name, labels, value]]} of the
# exposition on stdin, parsed by prometheus_client's parser for the format
# named in argv[1] ("text" or "openmetrics").
CLIENT_PARSE_AS = """
import json, sys
if sys.argv[1] == "openmetrics":
    from prometheus_client.openmetrics.parser import text_string_to_metric_families
else:
    from prometheus_client.parser import text_string_to_metric_families
out = {"type": {}, "samples": []}
for fam in text_string_to_metric_families(sys.stdin.read()):
    out["type"][fam.name] = fam.type
    out["samples"] += [[s.name, s.labels, s.value] for s in fam.samples]
print(json.dumps(out))
"""


def client_parse(text, fmt):
    """prometheus_client's parse of text in fmt ("text", "openmetrics"):
    ({family: type}, {(sample name, sorted label items): value})."""
    py = client_python()
    if py is None:
        raise Skip("no python3-prometheus-client")
    r = subprocess.run([py, "-c", CLIENT_PARSE_AS, fmt], input=text.encode(),
                       capture_output=True, timeout=60)
    check(r.returncode == 0, "prometheus_client's %s parser refuses /metrics: %s" %
          (fmt, r.stderr.decode()[-2000:]))
    out = json.loads(r.stdout)
    return out["type"], {(n, tuple(sorted(lab.items()))): v for n, lab, v in out["samples"]}


def scrape(d, accept=None):
    """(content type, body) of GET /metrics with this Accept header."""
    req = urllib.request.Request("http://127.0.0.1:%d/metrics" % d.port,
                                 headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(req, timeout=10) as r:
        check(r.status == 200, "/metrics status %d" % r.status)
        return r.headers.get("Content-Type", ""), r.read().decode()


def check_histogram(s, name, expect_count=None):
    buckets = sorted(((float(lab["le"]), v) for lab, v in series(s, name + "_bucket")),
                     key=lambda x: x[0])
    check(buckets and buckets[-1][0] == float("inf"), "%s has a +Inf bucket" % name)
    check(all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:])),
          "%s buckets are cumulative" % name)
    count = value(s, name + "_count")
    check(buckets[-1][1] == count, "%s +Inf bucket == _count" % name)
    check(value(s, name + "_sum") >= 0, "%s _sum >= 0" % name)
    if expect_count is not None:
        check(count == expect_count, "%s count %d, expected %d" % (name, count, expect_count))


# ---------------------------------------------------------------- notify socket

class NotifySocket:
    """A fake systemd: a unix datagram socket that records each message."""

    def __init__(self, env):
        self.path = env.path("notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.msgs = []  # (monotonic time, {key: value}, raw text)
        self.lock = threading.Lock()
        self.done = False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.done:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            text = data.decode(errors="replace")
            kv = {}
            for line in text.split("\n"):
                if "=" in line:
                    k, v = line.split("=", 1)
                    kv[k] = v
            with self.lock:
                self.msgs.append((time.monotonic(), kv, text))

    def environ(self):
        """The daemon's environment for this socket and WATCHDOG_USEC."""
        return {"NOTIFY_SOCKET": self.path, "WATCHDOG_USEC": str(WATCHDOG_USEC)}

    def snapshot(self):
        with self.lock:
            return list(self.msgs)

    def wait(self, pred, timeout, what):
        """The first message (after the ones already seen if start is given)
        matching pred."""
        def found():
            for m in self.snapshot():
                if pred(m[1]):
                    return m
            return None
        return poll(found, timeout, "notify message: " + what)

    def index(self, key, val, start=0):
        for i, m in enumerate(self.snapshot()[start:], start):
            if m[1].get(key) == val:
                return i
        return -1

    def close(self):
        self.done = True
        self.t.join(2)
        self.sock.close()


def events(ns):
    """The lifecycle events in order: READY, RELOADING, STOPPING."""
    out = []
    for t, kv, _ in ns.snapshot():
        for k in ("READY", "RELOADING", "STOPPING"):
            if kv.get(k) == "1":
                out.append(k)
    return out


# ---------------------------------------------------------------- tests

def t_metrics(env):
    kind = parser_kind()
    if kind is None:
        raise Skip("no Prometheus text parser")
    b = MockBroker(env, down=True)
    d = Daemon(env, b, metrics=METRICS, offset_reset="earliest")
    d.wait_port()
    # Alive but not ready: the broker does not exist yet.
    st, body, _ = d.get("/healthz")
    check(st == 200 and body.strip() == "ok", "/healthz before the broker: %d %r" % (st, body))
    d.wait_log(r"cannot reach the brokers", 30)
    st, body, _ = d.get("/readyz")
    check(st == 503 and "waiting for broker" in body,
          "/readyz before the broker: %d %r" % (st, body))
    st, _, _ = d.get("/nope")
    check(st == 404, "unknown path: %d" % st)
    st, _, _ = d.get("/metrics", method="POST")
    check(st == 405, "POST /metrics: %d" % st)
    text = metrics_text(d)
    validate(env, text)
    s = parse_samples(text)
    with open(os.path.join(env.model, "manifest.json")) as f:
        mf = json.load(f)
    info = series(s, "newsclf_model_info")
    check(info == [({"name": mf["name"], "version": mf["version"]}, 1.0)],
          "newsclf_model_info before the broker: %s" % info)
    loaded = value(s, "newsclf_model_loaded_timestamp_seconds")
    check(d.started - 5 <= loaded <= time.time() + 1, "model loaded timestamp %s" % loaded)
    ver = subprocess.run([os.path.join(env.bin, "newsclfd"), "--version"], capture_output=True,
                         timeout=10).stdout.decode().split()[-1]
    check(series(s, "newsclf_build_info") == [({"version": ver}, 1.0)],
          "newsclf_build_info: %s (newsclfd --version: %s)" % (series(s, "newsclf_build_info"),
                                                              ver))
    as_root = "running as root" in d.logtext()
    check(as_root == (os.geteuid() == 0), "root warning logged: %s, euid %d" %
          (as_root, os.geteuid()))

    # The broker comes up; good and bad input.
    b.up()
    poll(lambda: d.get("/readyz")[0] == 200, 60, "/readyz 200 once the broker is up")
    n_dev = sum(1 for _ in open(dev_file(env)))
    total_good = 2 * n_dev
    bad = [("invalid_json", b'{"id": "x", "title": '), ("invalid_json", b'{"id": 1,}'),
           ("not_an_object", b"[1, 2]"), ("empty", b"   ")]
    load.produce(env, b, dev_file(env), n=total_good, keyed=True)
    load.produce(env, b, files=env.message_files([p for _, p in bad], "bad"))
    total = total_good + len(bad)

    def settled():
        s = parse_samples(metrics_text(d))
        done = (value(s, "newsclf_articles_consumed_total", topic=IN) == total and
                value(s, "newsclf_inflight_messages") == 0)
        return s if done else None
    poll(settled, 120, "all %d inputs consumed and done" % total, step=0.5)
    # Lag and queue depth come from the statistics callback (every 5 s).
    s = poll(lambda: (lambda s: s if len(series(s, "newsclf_consumer_lag_messages")) == IN_PARTS
                      and all(v == 0 for _, v in series(s, "newsclf_consumer_lag_messages"))
                      else None)(parse_samples(metrics_text(d))),
             30, "consumer lag 0 on every input partition", step=0.5)
    text = metrics_text(d)
    types = validate(env, text)
    s = parse_samples(text)

    consumed = value(s, "newsclf_articles_consumed_total", topic=IN)
    classified = value(s, "newsclf_articles_classified_total")
    # Every reason has a series from the start (t_zero_series); compare the hit ones.
    dead = {lab["reason"]: v for lab, v in series(s, "newsclf_articles_deadlettered_total") if v}
    check(consumed == total, "consumed %d != %d" % (consumed, total))
    check(classified == total_good, "classified %d != %d" % (classified, total_good))
    check(consumed == classified + sum(dead.values()),
          "consumed %d != classified %d + dead-lettered %d" % (consumed, classified,
                                                               sum(dead.values())))
    want_dead = {}
    for reason, _ in bad:
        want_dead[reason] = want_dead.get(reason, 0) + 1
    check(dead == want_dead, "dead-lettered by reason %s, expected %s" % (dead, want_dead))

    produced = {lab["topic"]: v for lab, v in series(s, "newsclf_records_produced_total")}
    labeled = {lab["label"]: v for lab, v in series(s, "newsclf_articles_labeled_total")}
    check(produced.get(AGG) == classified, "produced to %s %s != classified %d" %
          (AGG, produced.get(AGG), classified))
    check(produced.get(DL) == sum(dead.values()), "produced to %s %s != dead-lettered %d" %
          (DL, produced.get(DL), sum(dead.values())))
    # Offline labels of the same articles: each dev article went in twice.
    offline = {}
    for rec in classify(env, dev_file(env)):
        for lab in rec.get("labels", []):
            offline[lab] = offline.get(lab, 0) + 2
    for lab in env.labels:
        t = "news.labeled." + lab
        check(labeled.get(lab, 0) == offline.get(lab, 0),
              "label %s: metric %s, offline %d" % (lab, labeled.get(lab), offline.get(lab, 0)))
        check(produced.get(t, 0) == labeled.get(lab, 0),
              "produced to %s %s != label count %s" % (t, produced.get(t), labeled.get(lab)))
    check(set(produced) <= {AGG, DL} | {"news.labeled." + x for x in env.labels},
          "records produced to unexpected topics: %s" % sorted(produced))
    # ... and what the broker holds.
    for t, v in sorted(produced.items()):
        n = load.count(env, b, t)
        check(n == v, "%s: %d records on the broker, metric %d" % (t, n, v))
    check(value(s, "newsclf_records_failed_total") == 0 and
          not series(s, "newsclf_records_failed_total"), "no failed records")

    check_histogram(s, "newsclf_classification_duration_seconds", total)
    check_histogram(s, "newsclf_end_to_end_latency_seconds", total)
    check(value(s, "newsclf_producer_queue_messages") == 0 and
          "newsclf_producer_queue_bytes" in s, "producer queue gauges")
    check(value(s, "newsclf_assigned_partitions") == IN_PARTS, "assigned partitions")
    check(value(s, "newsclf_rebalances_total", event="assigned") >= 1, "rebalance counted")
    check(value(s, "newsclf_reloads_total") == 0 and
          value(s, "newsclf_reload_failures_total") == 0, "no reloads")
    for fam, typ in (("newsclf_articles_consumed_total", "counter"),
                     ("newsclf_consumer_lag_messages", "gauge"),
                     ("newsclf_end_to_end_latency_seconds", "histogram"),
                     ("newsclf_model_info", "gauge")):
        check(types.get(fam) == typ, "%s parsed as %s" % (fam, types.get(fam)))
    st, body, _ = d.get("/readyz")
    check(st == 200 and body.strip() == "ready", "/readyz while running: %d %r" % (st, body))
    check(d.stop() == 0, "daemon exit code")
    print("metrics: %d consumed = %d classified + %d dead-lettered; labels %s; parser %s" %
          (consumed, classified, sum(dead.values()),
           {k: int(v) for k, v in sorted(labeled.items())}, kind))


def t_notify(env):
    ns = NotifySocket(env)
    try:
        b = MockBroker(env)
        load.precommit(env, b)
        load.produce(env, b, dev_file(env), n=300, keyed=True)
        cfg = env.path("newsclf.yaml")
        shutil.copy(write_config(env, "good.yaml", env.model), cfg)
        d = Daemon(env, b, metrics=METRICS, config=cfg, environ=ns.environ())
        d.wait_port()
        ns.wait(lambda kv: kv.get("READY") == "1", 30, "READY=1")
        load.wait_count(env, b, AGG, 300, 60)
        # Periodic STATUS with the one-line summary.
        st = ns.wait(lambda kv: "articles/s" in kv.get("STATUS", ""), 20,
                     "STATUS= with articles/s")[1]["STATUS"]
        check(re.search(r"[\d.]+ articles/s, lag (\d+|unknown), \d+ partitions, model \S+", st),
              "STATUS line: %r" % st)
        s0 = parse_samples(metrics_text(d))
        loaded0 = value(s0, "newsclf_model_loaded_timestamp_seconds")
        info0 = series(s0, "newsclf_model_info")

        # 1. a reload that is refused (no such model): RELOADING, READY, the old model stays
        shutil.copy(write_config(env, "broken.yaml", env.path("no-such-model")), cfg)
        n_before = len(events(ns))
        d.proc.send_signal(signal.SIGHUP)
        poll(lambda: events(ns)[n_before:] == ["RELOADING", "READY"], 30,
             "RELOADING then READY after a refused reload")
        s1 = parse_samples(metrics_text(d))
        check(value(s1, "newsclf_reload_failures_total") == 1 and
              value(s1, "newsclf_reloads_total") == 0, "reload failure counted")
        check(series(s1, "newsclf_model_info") == info0, "model info after a refused reload")
        check(value(s1, "newsclf_model_loaded_timestamp_seconds") == loaded0,
              "loaded-at timestamp after a refused reload")

        # 2. a good reload
        shutil.copy(write_config(env, "good2.yaml", env.model, {env.labels[0]: 0.9}), cfg)
        n_before = len(events(ns))
        d.proc.send_signal(signal.SIGHUP)
        poll(lambda: events(ns)[n_before:] == ["RELOADING", "READY"], 30,
             "RELOADING then READY after a good reload")
        s2 = parse_samples(metrics_text(d))
        check(value(s2, "newsclf_reloads_total") == 1, "reload counted")
        check(series(s2, "newsclf_model_info") == info0, "model info after the reload: %s" %
              series(s2, "newsclf_model_info"))
        check(value(s2, "newsclf_model_loaded_timestamp_seconds") > loaded0,
              "loaded-at timestamp moves on a reload")
        rel = [kv for _, kv, _ in ns.snapshot() if kv.get("RELOADING") == "1"]
        check(all(kv.get("MONOTONIC_USEC", "").isdigit() for kv in rel),
              "RELOADING=1 carries MONOTONIC_USEC")

        rc = d.stop()
        check(rc == 0, "daemon exit code %s" % rc)
        ns.wait(lambda kv: kv.get("STOPPING") == "1", 5, "STOPPING=1")
        ev = events(ns)
        check(ev == ["READY", "RELOADING", "READY", "RELOADING", "READY", "STOPPING"],
              "lifecycle messages in order: %s" % ev)
        # The watchdog: pings from READY to STOPPING, never further apart
        # than the interval systemd would enforce.
        msgs = ns.snapshot()
        t_ready = next(t for t, kv, _ in msgs if kv.get("READY") == "1")
        t_stop = next(t for t, kv, _ in msgs if kv.get("STOPPING") == "1")
        pings = [t for t, kv, _ in msgs if kv.get("WATCHDOG") == "1" and t_ready <= t <= t_stop]
        span = t_stop - t_ready
        check(len(pings) >= span / (WATCHDOG_USEC / 1e6) - 1,
              "%d watchdog pings in %.1fs" % (len(pings), span))
        gaps = [b2 - a2 for a2, b2 in zip([t_ready] + pings, pings)]
        check(max(gaps) < WATCHDOG_USEC / 1e6,
              "watchdog gap %.2fs >= WATCHDOG_USEC %.1fs" % (max(gaps), WATCHDOG_USEC / 1e6))
        print("notify: %s; %d watchdog pings in %.1fs (max gap %.2fs); STATUS %r" %
              (" ".join(ev), len(pings), span, max(gaps), st))
    finally:
        ns.close()


def t_notify_brokerdown(env):
    ns = NotifySocket(env)
    try:
        b = MockBroker(env, down=True)
        d = Daemon(env, b, metrics=METRICS, offset_reset="earliest", environ=ns.environ())
        m = ns.wait(lambda kv: kv.get("READY") == "1", 30, "READY=1 with the broker down")
        check("waiting for broker" in m[1].get("STATUS", ""),
              "STATUS at READY: %r" % m[1].get("STATUS"))
        d.wait_port()
        d.wait_log(r"cannot reach the brokers", 30)
        check(d.proc.poll() is None, "daemon alive while the broker is down")
        ns.wait(lambda kv: kv.get("WATCHDOG") == "1", 15, "WATCHDOG=1 while waiting for the broker")
        check(d.get("/readyz")[0] == 503, "/readyz while the broker is down")
        rc = d.stop(timeout=15)
        check(rc == 0, "exit code of SIGTERM while the broker is down: %s" % rc)
        ns.wait(lambda kv: kv.get("STOPPING") == "1", 5, "STOPPING=1")
        check(events(ns) == ["READY", "STOPPING"], "messages: %s" % events(ns))
        print("notify_brokerdown: READY while waiting for the broker, then STOPPING")
    finally:
        ns.close()


DL_REASONS = ("invalid_json", "not_an_object", "invalid_utf8", "empty", "too_large",
              "bad_field", "encode_failed", "classify_failed", "produce_failed")


def t_zero_series(env):
    b = MockBroker(env, down=True)
    d = Daemon(env, b, metrics=METRICS)
    d.wait_port()
    # The endpoint comes up before the model is loaded: wait for its series.
    text = poll(lambda: (lambda t: t if "newsclf_model_info{" in t else None)(metrics_text(d)),
                30, "newsclf_model_info")
    validate(env, text)
    s = parse_samples(text)
    labels = model_labels(env.model)
    got = {lab["label"]: v for lab, v in series(s, "newsclf_articles_labeled_total")}
    check(got == {lab: 0 for lab in labels}, "labeled series %r, model labels %r" % (got, labels))
    got = {lab["reason"]: v for lab, v in series(s, "newsclf_articles_deadlettered_total")}
    check(got == {r: 0 for r in DL_REASONS}, "dead-letter series %r" % got)
    now = time.time()
    start = value(s, "process_start_time_seconds")
    check(d.started - 1 <= start <= now, "process_start_time_seconds %f, started %f" %
          (start, d.started))
    check(0 < value(s, "process_open_fds") <= value(s, "process_max_fds"), "open/max fds")
    check(len(os.listdir("/proc/%d/fd" % d.proc.pid)) >= value(s, "process_open_fds") - 2,
          "open fds vs /proc")
    check(value(s, "process_resident_memory_bytes") > 1 << 20, "resident memory")
    cpu0 = value(s, "process_cpu_seconds_total")
    check(cpu0 > 0, "process_cpu_seconds_total %f" % cpu0)
    cpu1 = value(parse_samples(metrics_text(d)), "process_cpu_seconds_total")
    check(cpu1 >= cpu0, "cpu seconds went down: %f -> %f" % (cpu0, cpu1))
    check(d.stop(timeout=30) == 0, "exit code")
    print("zero_series: %d labels, %d reasons at 0; start %.1f s after launch, cpu %.3f s" %
          (len(labels), len(DL_REASONS), start - d.started, cpu1))


PROMETHEUS_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                     "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
OM_CTYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"
TEXT_CTYPE = "text/plain; version=0.0.4; charset=utf-8"


def t_openmetrics(env):
    b = MockBroker(env, down=True)
    d = Daemon(env, b, metrics=METRICS)
    d.wait_port()
    poll(lambda: "newsclf_model_info{" in metrics_text(d), 30, "newsclf_model_info")
    for accept, want in ((None, TEXT_CTYPE), ("text/plain", TEXT_CTYPE), ("*/*", TEXT_CTYPE),
                         ("application/openmetrics-text", OM_CTYPE),
                         (PROMETHEUS_ACCEPT, OM_CTYPE),
                         ("application/openmetrics-text;q=0, text/plain", TEXT_CTYPE)):
        ctype, body = scrape(d, accept)
        check(ctype == want, "Accept %r: content type %r, want %r" % (accept, ctype, want))
        check(body.endswith("# EOF\n") == (want == OM_CTYPE), "Accept %r: # EOF" % accept)
    _, om = scrape(d, PROMETHEUS_ACCEPT)
    _, text = scrape(d)
    om_types, om_samples = client_parse(om, "openmetrics")
    text_types, text_samples = client_parse(text, "text")
    # Bucket bounds are numbers: "1.0" in OpenMetrics is "1" in the text.
    om_samples, text_samples = ({(n, tuple((k, float(v) if k == "le" else v) for k, v in lab)): x
                                 for (n, lab), x in smp.items()}
                                for smp in (om_samples, text_samples))
    # The same series either way (values of the process metrics move on).
    check(set(om_samples) == set(text_samples), "series differ: only OpenMetrics %r, only text %r"
          % (sorted(set(om_samples) - set(text_samples))[:5],
             sorted(set(text_samples) - set(om_samples))[:5]))
    check(om_types == text_types, "family types differ: %r vs %r" % (om_types, text_types))
    check(om_types.get("newsclf_articles_labeled") == "counter" and
          om_types.get("newsclf_classification_duration_seconds") == "histogram" and
          om_types.get("process_cpu_seconds") == "counter", "OpenMetrics types %r" % om_types)
    labels = model_labels(env.model)
    got = {dict(lab)["label"]: v for (n, lab), v in om_samples.items()
           if n == "newsclf_articles_labeled_total"}
    check(got == {lab: 0 for lab in labels}, "OpenMetrics labeled series %r" % got)
    check(d.stop(timeout=30) == 0, "exit code")
    print("openmetrics: %d families, %d series, parsed in both formats" %
          (len(om_types), len(om_samples)))


# Label renames of the reload_labels model: two labels of the corpus under
# other names, so the reloaded model has labels the first one lacks.
RENAMED = {"trade": "commerce", "conflict": "war"}


def train_renamed(env):
    """A small model trained on 300 corpus articles with RENAMED labels."""
    data = env.path("renamed.jsonl")
    with open(os.path.join(env.src, "models", "corpus", "train.jsonl"), encoding="utf-8") as f, \
            open(data, "w", encoding="utf-8") as g:
        for line in f.readlines()[:300]:
            a = json.loads(line)
            a["labels"] = [RENAMED.get(lab, lab) for lab in a.get("labels", [])]
            g.write(json.dumps(a) + "\n")
    out = env.path("renamed-model")
    r = subprocess.run([env.tool("newsclf"), "train", "--data", data, "--out", out, "--folds", "0",
                        "--C", "1", "--name", "renamed", "--word-bits", "16", "--char-bits", "16",
                        "--quiet"], capture_output=True, timeout=600)
    check(r.returncode == 0, "newsclf train: %s" % r.stderr.decode()[-2000:])
    return out


def t_reload_labels(env):
    model2 = train_renamed(env)
    labels1, labels2 = model_labels(env.model), model_labels(model2)
    check(set(labels2) - set(labels1) == set(RENAMED.values()), "renamed model's labels %r"
          % labels2)
    # A reload needs the pipeline running, and the new labels' topics.
    b = MockBroker(env, topics=news_topics(sorted(set(labels1) | set(labels2))))
    load.precommit(env, b)
    cfg = env.path("newsclf.yaml")
    shutil.copy(write_config(env, "first.yaml", env.model), cfg)
    d = Daemon(env, b, metrics=METRICS, config=cfg)
    d.wait_port()
    poll(lambda: "newsclf_model_info{" in metrics_text(d), 30, "newsclf_model_info")
    s = parse_samples(metrics_text(d))
    got = {lab["label"] for lab, _ in series(s, "newsclf_articles_labeled_total")}
    check(got == set(labels1), "labeled series before the reload %r" % got)
    shutil.copy(write_config(env, "second.yaml", model2), cfg)
    d.proc.send_signal(signal.SIGHUP)
    s = poll(lambda: (lambda s: s if value(s, "newsclf_reloads_total") == 1 else None)(
        parse_samples(metrics_text(d))), 60, "newsclf_reloads_total 1")
    got = {lab["label"]: v for lab, v in series(s, "newsclf_articles_labeled_total")}
    check(got == {lab: 0 for lab in set(labels1) | set(labels2)},
          "labeled series after the reload %r, labels %r then %r" % (got, labels1, labels2))
    check([n for n, _ in model_info(s)] == ["renamed"], "model info %r" % model_info(s))
    validate(env, metrics_text(d))
    check(d.stop(timeout=30) == 0, "exit code")
    print("reload_labels: %d labels before, %d after the reload (%s new)" %
          (len(labels1), len(got), ", ".join(sorted(RENAMED.values()))))


def t_check_config(env):
    def run(*args):
        r = subprocess.run([env.tool("newsclfd"), "--check-config"] + list(args),
                           capture_output=True, text=True, timeout=60)
        return r.returncode, r.stderr
    cfg = env.path("check.yaml")
    with open(cfg, "w") as f:
        f.write('kafka:\n  brokers: "localhost:9092,nohost,h:70000"\n'
                "  producer:\n    ssl.certificate.location: %s\n"
                "model:\n  path: %s\n" % (env.path("no-cert.pem"), env.path("no-model")))
    rc, err = run(cfg)
    check(rc == 1, "rc %d for a bad config" % rc)
    for want in (r"check.yaml:2:\d+: kafka.brokers: 'nohost' is not host:port",
                 r"check.yaml:2:\d+: kafka.brokers: 'h:70000' is not host:port",
                 r"check.yaml:4:\d+: kafka.producer.ssl.certificate.location: .*no such file",
                 r"check.yaml:6:\d+: model.path: .*no-model"):
        check(re.search(want, err), "no /%s/ in:\n%s" % (want, err))
    model = env.path("model")
    shutil.copytree(env.model, model)
    good = ["--set", "model.path=" + model]
    rc, err = run("/dev/null", *good)
    check(rc == 0, "rc %d with a good model: %s" % (rc, err))
    rc, err = run("/dev/null", *good, "--set", "model.thresholds.no_such_label=0.5")
    check(rc == 1 and "model.thresholds" in err and "no_such_label" in err,
          "unknown label threshold: rc %d %s" % (rc, err))
    name = sorted(n for n in os.listdir(model) if n != "manifest.json")[0]
    with open(os.path.join(model, name), "ab") as f:
        f.write(b"\n# changed\n")
    rc, err = run("/dev/null", *good)
    check(rc == 1 and "model.path" in err, "changed %s: rc %d %s" % (name, rc, err))
    print("check_config: brokers, TLS file, model missing/changed, threshold label reported")


def t_startfail(env):
    ns = NotifySocket(env)
    try:
        b = MockBroker(env)
        bad_yaml = env.path("bad.yaml")
        with open(bad_yaml, "w") as f:
            f.write("kafka:\n  no_such_key: 1\n")
        busy = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        cases = [
            ("bad config", dict(config=bad_yaml)),
            ("bad model", dict(extra=["--set", "model.path=" + env.path("no-such-model")])),
            ("metrics address in use",
             dict(metrics="127.0.0.1:%d" % busy.getsockname()[1])),
            ("bad consumer property",
             dict(extra=["--set", "kafka.consumer.session.timeout.ms=soon"])),
        ]
        results = []
        for name, kw in cases:
            n0 = len(ns.snapshot())
            kw.setdefault("metrics", METRICS)
            d = Daemon(env, b, environ=ns.environ(), **kw)
            rc = d.wait_exit(30, "(%s)" % name)
            check(rc != 0, "%s: exit code 0" % name)
            ready = [kv for _, kv, _ in ns.snapshot()[n0:] if kv.get("READY") == "1"]
            check(not ready, "%s: READY=1 was sent" % name)
            results.append("%s rc=%d" % (name, rc))
        busy.close()
        print("startfail: " + ", ".join(results))
    finally:
        ns.close()


TESTS = {
    "metrics": t_metrics,
    "notify": t_notify,
    "notify_brokerdown": t_notify_brokerdown,
    "startfail": t_startfail,
    "zero_series": t_zero_series,
    "check_config": t_check_config,
    "openmetrics": t_openmetrics,
    "reload_labels": t_reload_labels,
}


if __name__ == "__main__":
    sys.exit(main(TESTS, __doc__, prefix="newsclfd-test."))
