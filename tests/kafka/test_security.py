#!/usr/bin/env python3
"""newsclfd against a broker that wants SASL/PLAIN over TLS (scripts/kafka
start --sasl-plain USER:PASSWORD --tls: SASL_SSL, a test CA). The password
reaches the daemon only through the environment: the YAML says
sasl.password: "${NC_TEST_SASL_PASSWORD}".

  secure     exactly-once over SASL_SSL: every input exactly once; the
             password appears in no log line
  wrongpw    a wrong password: a clear error naming authentication and a
             non-zero exit within seconds, not a retry loop
  noca       no ssl.ca.location (the broker's certificate cannot be
             verified): a clear TLS error and a non-zero exit

    test_security.py [secure] [wrongpw] [noca] --bin-dir DIR --source-dir DIR
"""
import os
import random
import string
import re
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import kafkatest as kt  # noqa: E402  (puts tests/lib on sys.path)
from newsclf_test import load  # noqa: E402
from newsclf_test.checks import check, log  # noqa: E402
from newsclf_test.cluster import Cluster  # noqa: E402
from newsclf_test.corpus import articles_file  # noqa: E402

N = 500
USER = "newsclf"
PASSWORD = "".join(random.SystemRandom().choice(string.ascii_letters) for _ in range(20))


def config(env, c, name, ca=True):
    """A YAML config for the <name>.* topics; secrets from the environment."""
    sec = ["security.protocol: SASL_SSL", "sasl.mechanisms: PLAIN",
           "sasl.username: %s" % USER, 'sasl.password: "${NC_TEST_SASL_PASSWORD}"']
    if ca:
        sec.append('ssl.ca.location: "%s"' % c.vars["KAFKA_SSL_CA_LOCATION"])
    lines = ["kafka:", '  brokers: "%s"' % c.bs, "  consumer:"]
    lines += ["    " + s for s in sec]
    lines += ["  producer:"] + ["    " + s for s in sec]
    lines += ["model:", '  path: "%s"' % env.model]
    path = env.path(name + ".yaml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def setup(env):
    c = Cluster(env, args=["--sasl-plain", "%s:%s" % (USER, PASSWORD), "--tls"])
    check(c.vars["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL", "cluster is not SASL_SSL")
    return c


def refused(env, c, name, password, ca, pattern):
    os.environ["NC_TEST_SASL_PASSWORD"] = password
    kt.topics_for(c, name, labels=env.labels)
    d = kt.start_daemon(env, c, name, name + "-group", name + "-1", "exactly-once",
                        config=config(env, c, name, ca))
    t0 = time.monotonic()
    rc = d.wait_exit(60, "with %s" % name)
    took = time.monotonic() - t0
    text = d.logtext()
    check(rc != 0, "exit code 0 with %s" % name)
    m = re.search(r"cannot start: .*", text)
    check(m and re.search(pattern, m.group(0), re.I),
          "no clear start-up error matching /%s/ (log %s)" % (pattern, d.log))
    check(password not in text, "the password is in the log")
    log("%s: exit %d after %.1f s: %s" % (name, rc, took, m.group(0)[:200]))


def t_secure(env, c):
    os.environ["NC_TEST_SASL_PASSWORD"] = PASSWORD
    name = "sec"
    kt.topics_for(c, name, labels=env.labels)
    load.precommit(env, c, name + "-group", name + ".articles")
    load.produce(env, c, articles_file(env, N), N, topic=name + ".articles", keyed=True)
    d = kt.start_daemon(env, c, name, name + "-group", name + "-1", "exactly-once",
                        config=config(env, c, name))
    kt.wait_drained(env, c, name + "-group", name + ".articles", N, 120, [d])
    check(d.stop() == 0, "exit code after SIGTERM (log %s)" % d.log)
    check(PASSWORD not in d.logtext(), "the password is in the daemon's log")
    kt.check_outputs(env, c, name, N, True)
    log("secure: %d inputs exactly once over SASL_SSL (PLAIN), password from ${VAR}" % N)


def t_wrongpw(env, c):
    refused(env, c, "wpw", "not-" + PASSWORD, True, r"authentication|SASL")


def t_noca(env, c):
    refused(env, c, "noca", PASSWORD, False, r"SSL|certificate")


TESTS = {"secure": t_secure, "wrongpw": t_wrongpw, "noca": t_noca}

if __name__ == "__main__":
    sys.exit(kt.main(TESTS, __doc__, setup))
