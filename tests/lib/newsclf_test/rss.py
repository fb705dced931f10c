"""VmRSS of a process from /proc: one reading, a sampling thread with
labelled phases, and whether a build is sanitized (its RSS then includes
the sanitizer's quarantine and shadow memory)."""
import os
import re
import threading
import time


def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class RssSampler(threading.Thread):
    """Samples VmRSS of pid every `step` seconds; `mark(tag)` labels the
    samples that follow, so phases (warm-up, rest) can be compared."""

    def __init__(self, pid, step=0.2):
        super().__init__(daemon=True)
        self.pid = pid
        self.step = step
        self.tag = "start"
        self.samples = []  # (monotonic, tag, kib)
        self.stop_ev = threading.Event()

    def mark(self, tag):
        self.tag = tag

    def run(self):
        while not self.stop_ev.is_set():
            v = rss_kib(self.pid)
            if v is not None:
                self.samples.append((time.monotonic(), self.tag, v))
            self.stop_ev.wait(self.step)

    def stop(self):
        self.stop_ev.set()
        self.join(5)

    def max_of(self, tags):
        vals = [v for _, t, v in self.samples if t in tags]
        return max(vals) if vals else None


def sanitized(bin_dir):
    """True when bin_dir is a NEWSCLF_SANITIZE=ON build (CMakeCache.txt)."""
    try:
        with open(os.path.join(bin_dir, "CMakeCache.txt")) as f:
            return bool(re.search(r"^NEWSCLF_SANITIZE:BOOL=(ON|TRUE|1)$", f.read(), re.M | re.I))
    except OSError:
        return False
