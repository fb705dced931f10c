#!/usr/bin/env python3
"""Secrets stay secret: newsclfd against a real broker with SASL/PLAIN.

    secret_leaks.py TEST --bin-dir DIR --source-dir DIR [--model DIR]

TEST:
  leak      The broker (scripts/kafka --sasl-plain) takes a random password;
            the YAML reads it as ${NEWSCLF_TEST_SASL_PASSWORD} into
            kafka.consumer/producer sasl.password, and a TLS key password
            (${NEWSCLF_TEST_KEY_PASSWORD}) into ssl.key.password, with
            logging.level debug. No password string may appear in:
            --check-config and --dump-config output (also with secrets given
            by --set, in a config error on a secret key, in a malformed
            --set), every stderr log of a daemon that classifies articles,
            reloads (SIGHUP, with a changed literal secret in the file) and
            runs librdkafka with debug=all, /metrics, /healthz and /readyz
            when the metrics listener exists (skipped, and said, when not),
            and the stderr of daemons killed by SIGSEGV and SIGABRT.
  wrongpw   A wrong SASL password: newsclfd exits non-zero within 60 s with
            an error that says authentication failed (and does not log the
            wrong password either).
Exit 0 pass, 1 fail, 77 skipped (no model, or no Java for the broker).
"""
import os
import re
import resource
import secrets as rnd
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import hlib  # noqa: E402  (puts tests/lib on sys.path)
from newsclf_test import load  # noqa: E402
from newsclf_test.checks import check  # noqa: E402
from newsclf_test.cluster import Cluster  # noqa: E402
from newsclf_test.corpus import dev_file  # noqa: E402
from newsclf_test.daemon import AGG, IN, Daemon, http_get  # noqa: E402

USER = "newsclf"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def write_yaml(env, name, model, port, sasl_pw_expr, key_pw_expr, level="debug"):
    path = env.path(name)
    props = ("    security.protocol: \"SASL_PLAINTEXT\"\n"
             "    sasl.mechanisms: \"PLAIN\"\n"
             "    sasl.username: \"%s\"\n"
             "    sasl.password: \"%s\"\n"
             "    ssl.key.password: \"%s\"\n" % (USER, sasl_pw_expr, key_pw_expr))
    with open(path, "w") as f:
        f.write("kafka:\n  group: \"secrets\"\n  consumer:\n" + props + "  producer:\n" + props)
        f.write("outputs:\n  create_topics: true\n  partitions: 1\n")
        f.write("model:\n  path: \"%s\"\n" % model)
        f.write("logging:\n  level: %s\n" % level)
        f.write("metrics:\n  enabled: true\n  listen: \"127.0.0.1:%d\"\n" % port)
    return path


class Leaks:
    def __init__(self, pws):
        self.pws = [p.encode() for p in pws]
        self.found = []
        self.checked = 0

    def scan(self, what, data):
        if isinstance(data, str):
            data = data.encode(errors="replace")
        self.checked += 1
        for p in self.pws:
            i = data.find(p)
            if i >= 0:
                ctx = data[max(0, i - 120):i + len(p) + 40].decode(errors="replace")
                self.found.append("%s contains a password: ...%s..." % (what, ctx))


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, **kw)


def http_body(port, path):
    """The body of GET path from 127.0.0.1:port; None when nothing listens."""
    try:
        return http_get(port, path, timeout=5)[1]
    except (urllib.error.URLError, OSError):
        return None


def no_core():
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def t_leak(env):
    t0 = time.monotonic()
    sasl_pw = "Sasl-" + rnd.token_hex(12)
    key_pw = "KeyPw-" + rnd.token_hex(12)
    set_pw = "SetPw-" + rnd.token_hex(12)
    reload_pw = "ReloadPw-" + rnd.token_hex(12)
    leaks = Leaks([sasl_pw, key_pw, set_pw, reload_pw])
    os.environ["NEWSCLF_TEST_SASL_PASSWORD"] = sasl_pw
    os.environ["NEWSCLF_TEST_KEY_PASSWORD"] = key_pw
    no_core()  # the crash part must not leave core files (children inherit the limit)
    nd = os.path.join(env.bin, "newsclfd")
    k = Cluster(env, args=["--sasl-plain", "%s:%s" % (USER, sasl_pw)])
    k.topics([(IN, 1)])
    port = free_port()
    cfg = write_yaml(env, "newsclf.yaml", env.model, port, "${NEWSCLF_TEST_SASL_PASSWORD}",
                     "${NEWSCLF_TEST_KEY_PASSWORD}")

    # ---- offline: --check-config, --dump-config ----
    r = run([nd, "--check-config", cfg])
    check(r.returncode == 0, "--check-config refused the config: %s" % r.stderr.decode())
    leaks.scan("--check-config output", r.stdout + r.stderr)
    r = run([nd, "--dump-config", "--config", cfg])
    check(r.returncode == 0, "--dump-config failed: %s" % r.stderr.decode())
    leaks.scan("--dump-config output", r.stdout + r.stderr)
    check(b"sasl.password" in r.stdout, "--dump-config does not show sasl.password (masked)")
    r = run([nd, "--dump-config", "--config", cfg, "--set",
             "kafka.producer.sasl.password=" + set_pw, "--set",
             "kafka.consumer.ssl.key.password=" + set_pw])
    check(r.returncode == 0, "--dump-config with --set secrets failed: %s" % r.stderr.decode())
    leaks.scan("--dump-config --set output", r.stdout + r.stderr)
    r = run([nd, "--check-config", cfg, "--set", "kafka.producer.sasl.password:" + set_pw])
    check(r.returncode != 0, "a malformed --set was accepted")
    leaks.scan("--check-config with a malformed --set", r.stdout + r.stderr)
    # config errors on secret keys: a list, a map, an unset variable beside a set one
    bad = env.path("bad.yaml")
    with open(bad, "w") as f:
        f.write("kafka:\n  consumer:\n    sasl.password: [\"${NEWSCLF_TEST_SASL_PASSWORD}\"]\n"
                "  producer:\n    ssl.key.password: {x: \"%s\"}\n"
                "    sasl.password: \"%s${NEWSCLF_TEST_UNSET_VAR}\"\n" % (set_pw, set_pw))
    r = run([nd, "--check-config", bad])
    check(r.returncode != 0, "a config with a list as password was accepted")
    leaks.scan("--check-config of a broken config", r.stdout + r.stderr)
    r = run([nd, "--dump-config", "--config", bad])
    leaks.scan("--dump-config of a broken config", r.stdout + r.stderr)
    # a librdkafka-refused value of a secret property
    r = run([nd, "--check-config", cfg, "--set", "kafka.consumer.ssl.key.password=" + set_pw,
             "--set", "kafka.consumer.sasl.mechanisms=" + set_pw])
    leaks.scan("--check-config with a refused property", r.stdout + r.stderr)
    print("secrets: offline checks done at %.1fs" % (time.monotonic() - t0))

    # ---- a running daemon: classify, reload, metrics ----
    d = Daemon(env, k, config=cfg, offset_reset="earliest",
               extra=["--set", "metrics.enabled=true"])
    d.running()
    load.produce(env, k, dev_file(env), n=50, keyed=True)
    load.wait_count(env, k, AGG, 50, 60)
    metrics = None
    for path in ("/metrics", "/healthz", "/readyz"):
        body = http_body(port, path)
        if body is not None:
            leaks.scan("GET %s" % path, body)
            if path == "/metrics":
                metrics = body
    if metrics is None:
        print("secrets: no metrics listener on 127.0.0.1:%d (metrics part skipped)" % port)
    else:
        print("secrets: /metrics scanned (%d bytes)" % len(metrics))
    # reload with the password now a literal in the file (a restart-only key changed)
    shutil.copy(write_yaml(env, "reload.yaml", env.model, port, reload_pw,
                           "${NEWSCLF_TEST_KEY_PASSWORD}"), cfg)
    d.proc.send_signal(signal.SIGHUP)
    d.wait_log(r"reloaded model|reload refused", 30)
    time.sleep(1)
    shutil.copy(write_yaml(env, "orig.yaml", env.model, port, "${NEWSCLF_TEST_SASL_PASSWORD}",
                           "${NEWSCLF_TEST_KEY_PASSWORD}"), cfg)
    rc = d.stop()
    check(rc == 0, "daemon exit code %s: %s" % (rc, d.logtext()[-2000:]))
    print("secrets: daemon run done at %.1fs" % (time.monotonic() - t0))

    # ---- librdkafka debug=all ----
    d = Daemon(env, k, config=cfg, offset_reset="earliest",
               extra=["--set", "kafka.consumer.debug=all", "--set", "kafka.producer.debug=all",
                      "--set", "kafka.group=secrets-debug"])
    d.running()
    check(d.stop() == 0, "debug=all daemon exit code")
    check("facility=CONF" in d.logtext(), "librdkafka debug=all logged no configuration")

    # ---- crashes ----
    for sig in (signal.SIGSEGV, signal.SIGABRT):
        d = Daemon(env, k, config=cfg, offset_reset="earliest")
        d.running()
        rc = d.stop(sig, timeout=30)
        print("secrets: %s -> exit %s, %d bytes on stderr after it" %
              (sig.name, rc, len(d.logtext())))

    for f in sorted(os.listdir(env.tmp)):
        if f.startswith("daemon") and f.endswith(".log"):
            with open(env.path(f), "rb") as fh:
                data = fh.read()
            leaks.scan(f, data)
            check(len(data) > 0, "%s is empty" % f)
    check(not leaks.found, "\n  ".join(leaks.found))
    print("secrets: leak: %d outputs scanned, none holds a password (%.1fs)" %
          (leaks.checked, time.monotonic() - t0))


def t_wrongpw(env):
    t0 = time.monotonic()
    sasl_pw = "Sasl-" + rnd.token_hex(12)
    wrong = "Wrong-" + rnd.token_hex(12)
    os.environ["NEWSCLF_TEST_SASL_PASSWORD"] = wrong
    os.environ["NEWSCLF_TEST_KEY_PASSWORD"] = "KeyPw-" + rnd.token_hex(12)
    k = Cluster(env, args=["--sasl-plain", "%s:%s" % (USER, sasl_pw)])
    k.topics([(IN, 1)])
    cfg = write_yaml(env, "newsclf.yaml", env.model, free_port(), "${NEWSCLF_TEST_SASL_PASSWORD}",
                     "${NEWSCLF_TEST_KEY_PASSWORD}", level="info")
    d = Daemon(env, k, config=cfg, offset_reset="earliest")
    rc = d.wait_exit(60, "with a wrong SASL password (it should exit non-zero with an "
                     "authentication error)")
    log = d.logtext()
    took = time.monotonic() - t0
    check(rc != 0, "exit code %s with a wrong password" % rc)
    check(re.search(r"(?i)authenticat", log), "no authentication error in the log:\n" + log[-2000:])
    check(wrong not in log and sasl_pw not in log, "the log holds a password")
    print("secrets: wrongpw: exit %d after %.1fs: %s" %
          (rc, took, [l for l in log.splitlines() if re.search(r"(?i)authenticat", l)][-1][:200]))


if __name__ == "__main__":
    sys.exit(hlib.main({"leak": t_leak, "wrongpw": t_wrongpw}, __doc__, tools=("java",)))
