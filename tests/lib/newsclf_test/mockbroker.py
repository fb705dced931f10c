"""The mock cluster in its own process (newsclf-mockbroker,
tests/tools/mockbroker.c), so a daemon can be killed while the broker keeps
its data. `bs` is its bootstrap for the daemon and `plain` the same address
for the harness (a real Cluster has two). up()/down() bring the brokers up
and take them down (SIGUSR1/SIGUSR2)."""
import os
import signal

from newsclf_test.checks import Fail, poll
from newsclf_test.daemon import news_topics


class MockBroker:
    def __init__(self, env, topics=None, down=False):
        """topics: [(name, partitions)], default the daemon's own topics
        (news_topics(env.labels)); down: start with the brokers down."""
        if topics is None:
            topics = news_topics(env.labels)
        n = env.seq("broker")
        bsfile = env.path("bootstrap%d" % n)
        args = [env.tool("newsclf-mockbroker"), "--bootstrap-file", bsfile]
        for name, parts in topics:
            args += ["--topic", "%s:%d" % (name, parts)]
        if down:
            args.append("--down")
        self.proc = env.spawn(args, log="broker.log")

        def started():
            if self.proc.poll() is not None:
                raise Fail("newsclf-mockbroker exited (rc=%s), log %s" %
                           (self.proc.returncode, env.path("broker.log")))
            return os.path.exists(bsfile)

        poll(started, 10, "the mock broker", step=0.05)
        with open(bsfile) as f:
            self.bs = f.read().strip()
        self.plain = self.bs

    def up(self):
        self.proc.send_signal(signal.SIGUSR1)

    def down(self):
        self.proc.send_signal(signal.SIGUSR2)
