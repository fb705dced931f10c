"""The daemon process: newsclfd started on a broker with the test's --set
overrides, its stderr in daemonN.log of the scratch folder; waiting for log
lines (readiness: partitions assigned; the metrics port), its HTTP
endpoints, signals and exit. Also the daemon's default topic names and the
small YAML configs the reload tests swap in."""
import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request

from newsclf_test.checks import Fail, poll

IN = "news.articles"
AGG = "news.labeled"
DL = "news.deadletter"
IN_PARTS = 3


def news_topics(labels, in_parts=IN_PARTS):
    """[(name, partitions)] of the daemon's default topics."""
    return ([(IN, in_parts), (AGG, 3), (DL, 1)] +
            [("news.labeled.%s" % lab, 1) for lab in labels])


def http_get(port, path, method="GET", timeout=10):
    """(status, body bytes, content type) of a request to 127.0.0.1:port;
    urllib.error.URLError when nothing listens."""
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read(), r.headers.get("Content-Type", "")
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers.get("Content-Type", "")


class Daemon:
    def __init__(self, env, broker, extra=(), config=None, offset_reset="error", metrics=None,
                 environ=None, journal=False):
        """broker: anything with `bs` (None: an address nothing listens on).
        metrics: the listen address of /metrics (None: disabled). extra:
        more arguments, last (a later --set wins). environ: variables on
        top of ours (NOTIFY_SOCKET and WATCHDOG_* removed). journal: stderr
        (the log file) is named by JOURNAL_STREAM, as systemd does for the
        journal's stream."""
        self.env = env
        self.log = env.path("daemon%d.log" % env.seq("daemon"))
        args = [env.tool("newsclfd")]
        if config:
            args += ["--config", config]
        args += ["--set", "kafka.brokers=" + (broker.bs if broker else "127.0.0.1:1"),
                 "--set", "kafka.instance_id=test-instance",
                 "--set", "kafka.consumer.auto.offset.reset=" + offset_reset,
                 "--set", "kafka.consumer.session.timeout.ms=6000",
                 "--set", "kafka.consumer.heartbeat.interval.ms=500",
                 "--set", "metrics.enabled=" + ("true" if metrics else "false")]
        if metrics:
            args += ["--set", "metrics.listen=" + metrics]
        args += ["--set", "limits.shutdown_timeout_ms=10000"]
        if not config:
            args += ["--set", "model.path=" + env.model]
        args += list(extra)
        e = {k: v for k, v in os.environ.items()
             if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")}
        e.pop("JOURNAL_STREAM", None)
        if journal:
            open(self.log, "a").close()
            st = os.stat(self.log)
            e["JOURNAL_STREAM"] = "%d:%d" % (st.st_dev, st.st_ino)
        e.update(environ or {})
        self.started = time.time()
        self.port = None
        self.proc = env.spawn(args, log=os.path.basename(self.log), env=e)

    def logtext(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def wait_log(self, pattern, timeout=30):
        """The first match of pattern in the log; Fail after timeout, or as
        soon as the daemon has exited without logging it."""
        rx = re.compile(pattern)

        def found():
            exited = self.proc.poll() is not None
            m = rx.search(self.logtext())
            if not m and exited:
                raise Fail("daemon exited (rc=%s) without logging /%s/; log %s" %
                           (self.proc.returncode, pattern, self.log))
            return m

        return poll(found, timeout, "daemon log /%s/" % pattern)

    def running(self):
        """Waits until the daemon holds partitions."""
        self.wait_log(r"partitions assigned count=[1-9]", 60)

    def wait_port(self, timeout=30):
        """The port of the metrics endpoint (metrics="127.0.0.1:0")."""
        m = self.wait_log(r"metrics endpoint listen=\S+ port=(\d+)", timeout)
        self.port = int(m.group(1))
        return self.port

    def get(self, path, method="GET"):
        """(status, body text, content type) from the metrics endpoint."""
        st, body, ctype = http_get(self.port, path, method)
        return st, body.decode(), ctype

    def wait_exit(self, timeout, why="by itself"):
        """The exit code; Fail, with the end of the log, when the daemon
        still runs after timeout seconds."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise Fail("newsclfd did not exit %s within %s s; log %s ends:\n%s" %
                       (why, timeout, self.log, "\n".join(self.logtext().splitlines()[-15:])))

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Sends sig; the exit code."""
        self.proc.send_signal(sig)
        return self.wait_exit(timeout, "after %s" % signal.Signals(sig).name)


def write_config(env, name, model, thresholds=None):
    """A YAML config in the scratch folder naming the model (and label
    thresholds); its path."""
    path = env.path(name)
    with open(path, "w") as f:
        f.write("model:\n  path: \"%s\"\n" % model)
        if thresholds:
            f.write("  thresholds:\n")
            for k, v in thresholds.items():
                f.write("    %s: %s\n" % (k, v))
    return path


def model_thresholds(env):
    """{label: threshold} of env.model's manifest (0.5 when not given)."""
    with open(os.path.join(env.model, "manifest.json")) as f:
        m = json.load(f)
    return {l["name"]: l.get("threshold", 0.5) for l in m.get("labels", []) if isinstance(l, dict)}
