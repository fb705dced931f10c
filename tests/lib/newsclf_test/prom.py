"""Reading the daemon's /metrics: the Prometheus text format's samples by
name and labels (values only; tests/ops_daemon checks the format itself
with a real parser)."""
import re

from newsclf_test.checks import check

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_samples(text):
    """{name: [(labels dict, value)]}; Fail on a line that is no sample."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        check(m, "unparsable sample line: %r" % line)
        labels = dict(LABEL.findall(m.group(2) or ""))
        out.setdefault(m.group(1), []).append((labels, float(m.group(3))))
    return out


def value(s, name, **labels):
    """Value of the series with exactly these labels, 0 when absent."""
    for lab, v in s.get(name, []):
        if lab == labels:
            return v
    return 0.0


def series(s, name):
    return s.get(name, [])


def model_info(s):
    """[(name, version)] of the newsclf_model_info series whose value is 1."""
    return [(lab.get("name"), lab.get("version")) for lab, v in series(s, "newsclf_model_info")
            if v == 1]
