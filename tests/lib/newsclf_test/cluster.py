"""A real Apache Kafka cluster through scripts/kafka (KRaft on loopback), in
the test's scratch folder: start (with --owner, so a killed test leaves no
brokers behind), topics, stopping and starting single brokers, partition
leaders and ISRs (kcat metadata), stop. `bs` is the client listener the
daemon uses (KAFKA_BOOTSTRAP, secured when asked for), `plain` the
PLAINTEXT listener of the harness; `vars` the rest of DIR/env."""
import json
import os
import subprocess
import time

from newsclf_test import load
from newsclf_test.checks import Fail, log


class Cluster:
    def __init__(self, env, name="kafka", brokers=1, args=()):
        """args: more options of `scripts/kafka start` (--sasl-plain U:P,
        --tls, ...)."""
        self.env = env
        self.dir = env.path(name)
        t0 = time.monotonic()
        self.kafka("start", "--dir", self.dir, "--brokers", str(brokers),
                   "--owner", str(os.getpid()), *args, timeout=180)
        self.vars = {}
        with open(os.path.join(self.dir, "env")) as f:
            for line in f:
                k, _, v = line.rstrip("\n").partition("=")
                if k:
                    self.vars[k] = v
        self.bs = self.vars["KAFKA_BOOTSTRAP"]
        self.plain = self.vars["KAFKA_BOOTSTRAP_PLAIN"]
        self.brokers = brokers
        env.clusters.append(self)
        log("cluster up: %d broker(s), %s (%.1f s)" % (brokers, self.bs, time.monotonic() - t0))

    def kafka(self, *args, timeout=120):
        """scripts/kafka ARGS; its stdout, Fail when it fails."""
        cmd = [os.path.join(self.env.src, "scripts", "kafka")] + list(args)
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        if r.returncode != 0:
            raise Fail("scripts/kafka %s: %s" % (args[0], r.stderr.decode()[-2000:]))
        return r.stdout.decode()

    def topics(self, specs, rf=None, configs=()):
        """specs: [(name, partitions)] in one Admin API request (a
        TopicCommand JVM per topic is slow); configs: KEY=VALUE for each."""
        load.create_topics(self.env, self, specs, rf, configs)

    def stop_broker(self, n, kill=False):
        self.kafka("stop-broker", self.dir, str(n), "--kill" if kill else "--term")

    def start_broker(self, n):
        self.kafka("start-broker", self.dir, str(n), timeout=180)

    def partitions(self, topic):
        """kcat's metadata of topic's partitions ([] when there is none)."""
        r = subprocess.run(["kcat", "-b", self.plain, "-L", "-J", "-t", topic, "-m", "5"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=30)
        try:
            return json.loads(r.stdout.decode())["topics"][0]["partitions"]
        except (ValueError, KeyError, IndexError):
            return []

    def leader(self, topic, partition):
        """Node id of the partition's leader."""
        for p in self.partitions(topic):
            if p["partition"] == partition:
                return p["leader"]
        raise Fail("no leader for %s/%d" % (topic, partition))

    def isr_full(self, topic, want):
        """Every partition of topic has `want` in-sync replicas."""
        parts = self.partitions(topic)
        return bool(parts) and all(len(p.get("isrs", [])) == want for p in parts)

    def stop(self):
        if self in self.env.clusters:
            self.env.clusters.remove(self)
        subprocess.run([os.path.join(self.env.src, "scripts", "kafka"), "stop", self.dir],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
