#!/usr/bin/env python3
"""Hostile-input soak of newsclfd against a real Apache Kafka broker.

    soak.py --bin-dir DIR --source-dir DIR [--model DIR] [--producer BIN]
            [--messages N] [--seed S]

N messages (10,000; 100,000 with NEWSCLF_TEST_FULL=1; or --messages) mix
valid articles of models/corpus/{dev,train}.jsonl with hostile input:
random bytes, truncated JSON, JSON nested 10,000 deep, 5 MB strings (the
input topic takes 8 MiB records), invalid and overlong UTF-8, NUL bytes,
thousands of unknown keys, numbers where strings belong, duplicate keys,
headers with odd bytes (and spoofed newsclf-* headers), empty keys and
values. Every message carries the outcome it must have: classified, or
dead-lettered with one reason (invalid_json, not_an_object, invalid_utf8,
empty, too_large, bad_field), known by construction.

The input goes in 5 chunks of 20%; after each the test waits until the
daemon has accounted for it. VmRSS (/proc/PID/status) is sampled every
0.2 s. Asserts:
  - the daemon is alive after the last chunk and exits 0 on SIGTERM;
  - RSS bounds: the peak after the warm-up (the first chunk, 20% of the
    input) is at most the warm-up peak + 64 MiB (RSS_SLACK_MIB; the
    consumer's prefetch, queued.max.messages.kbytes, is 64 MiB), and the
    settled RSS (once a chunk is accounted for) after the last chunk is at
    most the one after the second chunk + 16 MiB (SETTLED_SLACK_MIB): a leak climbs;
  - each input offset appears exactly once in news.labeled or
    news.deadletter, classified + dead-lettered = produced;
  - each dead letter has exactly one newsclf-error header, with the
    expected reason, the source headers, and the input bytes (or a prefix
    with newsclf-truncated-from for too_large); input headers are copied,
    spoofed newsclf-* headers are replaced.
Exit 0 pass, 1 fail, 77 skipped (no model, or no Java for the broker).
"""
import json
import os
import random
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import hlib  # noqa: E402  (puts tests/lib on sys.path)
from newsclf_test import load  # noqa: E402
from newsclf_test.checks import Fail, check, poll  # noqa: E402
from newsclf_test.cluster import Cluster  # noqa: E402
from newsclf_test.daemon import AGG, DL, IN, Daemon  # noqa: E402
from newsclf_test.testenv import FULL  # noqa: E402

PARTS = 3
CHUNKS = 5
RSS_SLACK_MIB = 64
SETTLED_SLACK_MIB = 16
MAX_ARTICLE = 900 * 1024
MB5 = 5 * 1024 * 1024

OK = "classified"


def dumps(o):
    return json.dumps(o, ensure_ascii=False).encode()


def load_corpus(src):
    arts = []
    for name in ("dev.jsonl", "train.jsonl"):
        with open(os.path.join(src, "models", "corpus", name), "rb") as f:
            for line in f:
                line = line.strip()
                if not line or len(line) > MAX_ARTICLE:
                    continue
                try:
                    pairs = []
                    o = json.loads(line, object_pairs_hook=lambda p: pairs.append(p) or dict(p))
                except ValueError:
                    continue
                if not isinstance(o, dict) or any(len(p) != len({k for k, _ in p}) for p in pairs):
                    continue
                t, b = o.get("title"), o.get("body")
                if not isinstance(t, str) or not isinstance(b, str) or not (t.strip() or b.strip()):
                    continue
                arts.append((line, o))
    return arts


class Gen:
    """Each generator returns (value, expected outcome, headers or None)."""

    def __init__(self, rng, corpus):
        self.r = rng
        self.corpus = corpus

    def art(self):
        return self.r.choice(self.corpus)

    def rbytes(self, n):
        return bytes(self.r.getrandbits(8) for _ in range(n))

    # ---- valid ----
    def valid(self):
        return self.art()[0], OK, None

    def valid_idnum(self):
        o = dict(self.art()[1])
        o["id"] = self.r.choice([self.r.randint(-2**62, 2**62), 3.25, 0])
        return dumps(o), OK, None

    def plain_text(self):
        o = self.art()[1]
        return ("%s\n\n%s" % (o["title"], o["body"])).strip().encode(), OK, None

    def unicode_text(self):
        ranges = [(0x41, 0x5a), (0xe0, 0xff), (0x391, 0x3c9), (0x410, 0x44f), (0x4e00, 0x4fff),
                  (0x1f600, 0x1f64f), (0x300, 0x36f), (0x20, 0x20)]
        s = "A" + "".join(chr(self.r.randint(*self.r.choice(ranges)))
                          for _ in range(self.r.randint(1, 3000)))
        return s.encode(), OK, None

    def punct_text(self):
        return b"!!! ??? ... --- ###", OK, None

    def nul_escape(self):
        o = dict(self.art()[1])
        o["body"] = o["body"] + "\u0000tail\u0000"
        o["title"] = "\u0000" + o["title"]
        return dumps(o), OK, None

    def plain_nul(self):
        o = self.art()[1]
        return o["title"].encode() + b"\x00\x00" + o["body"].encode() + b"\x00", OK, None

    def many_keys(self):
        o = dict(self.art()[1])
        for i in range(self.r.randint(2000, 5000)):
            o["unknown_%d" % i] = self.r.choice([i, "v%d" % i, None, True, [i], {"n": i}])
        return dumps(o), OK, None

    def nested_ok(self):
        line = self.art()[0]
        d = self.r.choice([100, 500, 999])  # 1000 with the outer object: the parser's limit
        return line[:-1] + b',"deep":' + b"[" * d + b"]" * d + b"}", OK, None

    def nested_too_deep(self):
        line = self.art()[0]
        d = self.r.choice([1000, 1500, 2046])  # over 1000 levels, under jansson's 2048
        return line[:-1] + b',"deep":' + b"[" * d + b"]" * d + b"}", "invalid_json", None

    def null_fields(self):
        o = dict(self.art()[1])
        for k in ("url", "lang", "source", "outlet", "id", "published", "date", "text"):
            o[k] = None
        return dumps(o), OK, None

    def case_not_dup(self):
        o = self.art()[1]
        return dumps({"Title": "x", "title": o["title"], "TITLE": "y", "body": o["body"]}), OK, None

    def at_limit(self):
        head = b'{"id":"at-limit","title":"Sanctions on oil trade","body":"'
        tail = b'"}'
        words = b"sanctions trade vaccines conflict export tariffs "
        n = MAX_ARTICLE - len(head) - len(tail)
        body = (words * (n // len(words) + 1))[:n]
        return head + body + tail, OK, None

    def odd_headers(self):
        hs = [(b"x-\xff\xfe", b"\x00\x01\xff"), (b"\x01\x7fctl", b""), (b"trace-id", b"t-\x00-1"),
              (b"null-value", None), (b"long", b"v" * 10000), (b"dup", b"1"), (b"dup", b"2"),
              (b"", b"empty-name"), (b"newsclf-labels", b"spoofed"), (b"newsclf-model", b"x"),
              (b"content-type", b"text/evil")]
        hs += [(b"h%d" % i, self.rbytes(8)) for i in range(self.r.randint(1, 100))]
        return self.art()[0], OK, hs

    # ---- dead letters ----
    def random_bytes(self):
        b = bytearray(self.rbytes(self.r.randint(1, 4096)))
        b[0] = self.r.choice([c for c in range(256) if c not in b" \t\r\n{["])
        b.insert(self.r.randint(0, len(b)), 0xFF)
        return bytes(b), "invalid_utf8", None

    def random_brace(self):
        return b"{" + b"\xff" + self.rbytes(self.r.randint(0, 2000)), "invalid_utf8", None

    def random_bracket(self):
        return b" [" + self.rbytes(self.r.randint(0, 2000)) + b"\xfe", "invalid_utf8", None

    def truncated(self):
        line = self.art()[0]
        for _ in range(100):
            k = self.r.randint(1, len(line) - 1)
            if line[k] & 0xC0 != 0x80:
                return line[:k], "invalid_json", None
        return line[:1], "invalid_json", None

    def deep_object(self):
        d = 10000
        return b'{"a":' * d + b"1" + b"}" * d, "invalid_json", None

    def deep_array_field(self):
        d = 10000
        return (b'{"title":"x","body":"y","deep":' + b"[" * d + b"]" * d + b"}",
                "invalid_json", None)

    def deep_array(self):
        d = 10000
        return b"[" * d + b"]" * d, "not_an_object", None

    def huge_string(self):
        kind = self.r.randrange(3)
        if kind == 0:
            return b'{"id":"big","title":"x","body":"' + b"a" * MB5 + b'"}', "too_large", None
        if kind == 1:
            return b"plain " * (MB5 // 6), "too_large", None
        return b"\xff" * MB5, "too_large", None  # size is checked first

    def over_limit(self):
        n = self.r.randint(MAX_ARTICLE + 1, 1200 * 1024)
        head = b'{"title":"t","body":"'
        return head + b"x" * (n - len(head) - 2) + b'"}', "too_large", None

    BAD_UTF8 = [b"\xff", b"\xfe", b"\x80", b"\xc3", b"\xc0\xaf", b"\xc1\xbf", b"\xe0\x80\xaf",
                b"\xf0\x80\x80\xaf", b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xf4\x90\x80\x80",
                b"\xf8\x88\x80\x80\x80", b"\xfc\x84\x80\x80\x80\x80", b"\xe2\x82"]

    def bad_utf8_json(self):
        o = self.art()[1]
        bad = self.r.choice(self.BAD_UTF8)
        where = self.r.randrange(3)
        t = json.dumps(o["title"])[1:-1].encode()
        b = json.dumps(o["body"])[1:-1].encode()
        if where == 0:
            t = t[: len(t) // 2] + bad + t[len(t) // 2:]
        elif where == 1:
            b = b + bad
        v = b'{"title":"' + t + b'","body":"' + b + b'"'
        if where == 2:
            v += b',"k' + bad + b'":1'
        return v + b"}", "invalid_utf8", None

    def bad_utf8_text(self):
        o = self.art()[1]
        return o["title"].encode() + b" " + self.r.choice(self.BAD_UTF8) + b" tail", \
            "invalid_utf8", None

    def raw_nul_json(self):
        o = self.art()[1]
        if self.r.randrange(2):
            return (b'{"title":"' + o["title"].encode().replace(b'"', b"") + b'\x00","body":"x"}',
                    "invalid_json", None)
        return b'{"title":"t",\x00"body":"x"}', "invalid_json", None

    def nul_in_id(self):
        return self.r.choice([b'{"id":"a\\u0000b","title":"t","body":"b"}',
                              b'{"lang":"en\\u0000","title":"t","body":"b"}']), "bad_field", None

    def nul_in_key(self):
        return b'{"a\\u0000":1,"title":"t","body":"b"}', "invalid_json", None

    def wrong_type(self):
        o = self.art()[1]
        bad = self.r.choice([1, 1.5, -7, True, False, [], ["x"], {}, {"x": "y"}])
        field = self.r.choice(["title", "body", "text", "content", "url", "lang", "source",
                               "outlet", "id", "published", "date"])
        if field == "id" and not isinstance(bad, (list, dict, bool)):
            bad = [bad]
        if field in ("published", "date") and isinstance(bad, (int, float)) and \
                not isinstance(bad, bool):
            bad = {"n": bad}
        v = {"title": o["title"]} if field != "title" else {"body": o["body"]}
        v[field] = bad
        return dumps(v), "bad_field", None

    def duplicate(self):
        o = self.art()[1]
        t = json.dumps(o["title"]).encode()
        return self.r.choice([
            b'{"title":' + t + b',"body":"x","title":"other"}',
            b'{"title":' + t + b',"k":1,"k":2}',
            b'{"title":' + t + b',"x":{"k":1,"y":[{"z":1,"z":1}]}}',
            b'{"id":"a","id":"a","title":' + t + b"}",
        ]), "invalid_json", None

    def empty(self):
        return self.r.choice([b"", None, b"   \n\t\r ", b"{}", b'{"title":"  ","body":"\\n"}',
                              b'{"title":null,"body":null,"x":1}', b'{"title":"","text":""}',
                              b' \n {"id":"e"} ']), "empty", None

    def array(self):
        return self.r.choice([b'[{"title":"x"}]', b" \n[1,2]", b"[]"]), "not_an_object", None

    def json_oddities(self):
        return self.r.choice([
            b'{"id":123456789012345678901234567890,"title":"t","body":"b"}',  # too big integer
            b'{"title":"t","body":"b","x":1e999}',
            b'{"title":"\\ud800","body":"x"}',
            b'{"title":"t","body":"b"} x',
            b'{"title":"t","body":"b"}{}',
            b'{"title":"t","body":"b",}',
            b"{'title':'t'}",
            b'{"title":"t\\x41"}',
        ]), "invalid_json", None

    def spoofed_headers(self):
        v, exp, _ = self.r.choice([self.truncated, self.random_bytes, self.wrong_type,
                                   self.empty])()
        hs = [(b"newsclf-error", b"spoofed"), (b"newsclf-source-offset", b"-1"),
              (b"newsclf-error-detail", b"\x00\xff"), (b"trace-id", b"spoof-1")]
        return v, exp, hs


def mix(full):
    # (generator, weight per 10,000 messages)
    return [
        ("valid", 5400), ("valid_idnum", 150), ("plain_text", 200), ("unicode_text", 100),
        ("punct_text", 20), ("nul_escape", 80), ("plain_nul", 80), ("many_keys", 40),
        ("nested_ok", 40), ("nested_too_deep", 20), ("null_fields", 80), ("case_not_dup", 30), ("at_limit", 2),
        ("odd_headers", 300),
        ("random_bytes", 400), ("random_brace", 80), ("random_bracket", 50), ("truncated", 500),
        ("deep_object", 40), ("deep_array_field", 40), ("deep_array", 40), ("huge_string", 5),
        ("over_limit", 20), ("bad_utf8_json", 400), ("bad_utf8_text", 150),
        ("raw_nul_json", 120), ("nul_in_id", 60), ("nul_in_key", 40), ("wrong_type", 450),
        ("duplicate", 350), ("empty", 300), ("array", 100), ("json_oddities", 200),
        ("spoofed_headers", 100),
    ]


def generate(n, seed, corpus):
    rng = random.Random(seed)
    g = Gen(rng, corpus)
    kinds = mix(False)
    names = [k for k, _ in kinds]
    weights = [w for _, w in kinds]
    # every kind at least once in the first chunk, so the warm-up sees each
    seq = names[:] + rng.choices(names, weights, k=max(0, n - len(names)))
    first = max(len(names), n // CHUNKS)
    head = seq[:first]
    rng.shuffle(head)
    seq = head + seq[first:]
    recs = []
    for i, kind in enumerate(seq[:n]):
        value, expect, hs = getattr(g, kind)()
        r = rng.random()
        key = b"k%d" % i if r < 0.8 else (b"" if r < 0.9 else (None if r < 0.95 else b"\x00\xff k"))
        recs.append({"partition": i % PARTS, "key": key, "value": value, "headers": hs,
                     "expect": expect, "kind": kind})
    return recs


def header_list(hs):
    return [(n, v if v is not None else b"") for n, v in (hs or [])]


def limit_allocator_retention(bin_dir):
    """Keeps freed memory from looking like growth: RSS must tell leaks
    from noise."""
    if hlib.sanitized(bin_dir):
        # AddressSanitizer keeps freed memory in a quarantine (256 MiB by
        # default) that fills long after the warm-up: keep it small so RSS
        # still tells leaks from noise (ASan's leak check runs at exit).
        os.environ["ASAN_OPTIONS"] = (os.environ.get("ASAN_OPTIONS", "") +
                                      ":quarantine_size_mb=8:thread_local_quarantine_size_kb=256"
                                      ":allocator_release_to_os_interval_ms=500").lstrip(":")
        print("soak: sanitized build, ASAN_OPTIONS=%s" % os.environ["ASAN_OPTIONS"])
    else:
        # glibc raises its mmap threshold after a big block is freed, so the
        # 5 MB messages later come from arena heaps that keep their pages
        # (tens of MiB of retention, not a leak). A fixed threshold sends
        # every block over 1 MiB back to the OS when freed.
        os.environ["GLIBC_TUNABLES"] = "glibc.malloc.mmap_threshold=1048576"


def feed(env, k, d, prod, recs, sampler, t0):
    """Produces recs in CHUNKS chunks, each once the daemon has accounted
    for the one before; returns the input positions (in record order) and
    the settled RSS after each chunk."""
    per = (len(recs) + CHUNKS - 1) // CHUNKS
    positions = []
    want_agg = want_dl = 0
    settled = []  # RSS once each chunk is accounted for
    for c in range(CHUNKS):
        sampler.mark("warmup" if c == 0 else "chunk%d" % c)
        part = recs[c * per:(c + 1) * per]
        if not part:
            continue
        positions += hlib.produce_records(env, prod, k, IN, part, "chunk%d" % c)
        want_agg += sum(1 for r in part if r["expect"] == OK)
        want_dl += len(part) - sum(1 for r in part if r["expect"] == OK)
        last = [0, 0]

        def caught_up():
            last[0] = load.count(env, k, AGG, idle_ms=2000)
            last[1] = load.count(env, k, DL, idle_ms=2000)
            return last[0] >= want_agg and last[1] >= want_dl

        try:
            poll(caught_up, 60 + len(part) / 100, "chunk %d" % c, step=0.5)
        except Fail:
            raise Fail("chunk %d: news.labeled %d of %d, news.deadletter %d of %d (daemon %s)" %
                       (c, last[0], want_agg, last[1], want_dl,
                        "alive" if d.proc.poll() is None else "exited %s" % d.proc.returncode))
        check(d.proc.poll() is None, "daemon died during chunk %d" % c)
        time.sleep(0.5)
        settled.append(hlib.rss_kib(d.proc.pid) or 0)
        print("soak: chunk %d done at %.1fs, settled RSS %d KiB" %
              (c, time.monotonic() - t0, settled[-1]))
    return positions, settled


def check_rss(sampler, settled):
    warm = sampler.max_of({"warmup"})
    rest = sampler.max_of({"chunk%d" % c for c in range(1, CHUNKS)} | {"idle"})
    idle = sampler.max_of({"idle"})
    print("soak: RSS warm-up peak %d KiB, peak after warm-up %d KiB, idle %d KiB, bound %d KiB" %
          (warm, rest, idle, warm + RSS_SLACK_MIB * 1024))
    check(rest <= warm + RSS_SLACK_MIB * 1024,
          "RSS grew after warm-up: %d KiB > %d KiB + %d MiB" % (rest, warm, RSS_SLACK_MIB))
    # a leak shows as a settled RSS that climbs chunk after chunk
    check(settled[-1] <= settled[1] + SETTLED_SLACK_MIB * 1024,
          "settled RSS climbs: %s KiB (the second chunk's + %d MiB allowed)" %
          (settled, SETTLED_SLACK_MIB))


class Accounting:
    """Every input offset once in news.labeled or news.deadletter, with the
    outcome, bytes and headers it must have; the first problems noted."""
    MINE = (b"newsclf-labels", b"newsclf-model", b"content-type")

    def __init__(self, by_pos):
        self.by_pos = by_pos
        self.seen = {}
        self.bad = []
        self.reasons = {}
        self.with_headers = 0

    def note(self, msg):
        if len(self.bad) < 20:
            self.bad.append(msg)

    def source(self, pos, what):
        """The input at pos, counted as accounted for; None (noted) when
        none was produced there."""
        self.seen[pos] = self.seen.get(pos, 0) + 1
        src = self.by_pos.get(pos)
        if src is None:
            self.note("%s for an input never produced: %s" % (what, pos))
        return src

    def output(self, r):
        v = json.loads(r["value"])
        pos = (v["input"]["partition"], v["input"]["offset"])
        check(v["input"]["topic"] == IN, "input.topic")
        src = self.source(pos, "output")
        if src is None:
            return
        if src["expect"] != OK:
            self.note("%s input %s (%s) was classified, expected %s" %
                      (src["kind"], pos, src["value"][:60] if src["value"] else None,
                       src["expect"]))
        names = [h for h, _ in r["hlist"]]
        for h in self.MINE:
            if names.count(h) != 1:
                self.note("output %s: %d %s headers" % (pos, names.count(h), h.decode()))
        ctype = [x for x in r["hlist"] if x[0] == b"content-type"]
        if ctype != [(b"content-type", b"application/json")]:
            self.note("output %s: content-type %s" % (pos, ctype))
        want_h = [x for x in header_list(src["headers"]) if x[0] not in self.MINE]
        got_h = [x for x in r["hlist"] if x[0] not in self.MINE]
        self.with_headers += bool(got_h)
        if want_h != got_h:
            self.note("output %s: input headers not copied faithfully (%d vs %d)" %
                      (pos, len(got_h), len(want_h)))

    def dead_letter(self, r):
        h = {}
        for name, val in r["hlist"]:
            h.setdefault(name, []).append(val)
        for name in (b"newsclf-error", b"newsclf-error-detail", b"newsclf-source-topic",
                     b"newsclf-source-partition", b"newsclf-source-offset",
                     b"newsclf-source-timestamp"):
            if len(h.get(name, [])) != 1:
                self.note("dead letter %s/%s: %d %s headers" %
                          (r["partition"], r["offset"], len(h.get(name, [])), name.decode()))
        try:
            pos = (int(h[b"newsclf-source-partition"][-1]), int(h[b"newsclf-source-offset"][-1]))
        except (KeyError, ValueError):
            self.note("dead letter without a usable source position")
            return
        src = self.source(pos, "dead letter")
        if src is None:
            return
        reason = h[b"newsclf-error"][-1].decode(errors="replace")
        self.reasons[reason] = self.reasons.get(reason, 0) + 1
        if reason != src["expect"]:
            self.note("%s input %s (%r) dead-lettered as %s, expected %s" %
                      (src["kind"], pos, (src["value"] or b"")[:60], reason, src["expect"]))
        sv = src["value"] or b""
        if b"newsclf-truncated-from" in h:
            if not (int(h[b"newsclf-truncated-from"][0]) == len(sv) and len(r["value"]) < len(sv)
                    and sv.startswith(r["value"])):
                self.note("dead letter %s: truncated copy is not a prefix" % (pos,))
        elif r["value"] != sv:
            self.note("dead letter %s: bytes differ from the input" % (pos,))
        if h[b"newsclf-source-topic"] != [IN.encode()]:
            self.note("dead letter %s: source topic %s" % (pos, h[b"newsclf-source-topic"]))
        if r["key"] != src["key"] and not (r["key"] in (None, b"") and src["key"] in (None, b"")):
            self.note("dead letter %s: key %r, input key %r" % (pos, r["key"], src["key"]))
        want_h = [x for x in header_list(src["headers"]) if not x[0].startswith(b"newsclf-")]
        got_h = [x for x in r["hlist"] if not x[0].startswith(b"newsclf-")]
        if want_h != got_h:
            self.note("dead letter %s: input headers not copied faithfully" % (pos,))

    def finish(self):
        """(inputs never accounted for, inputs accounted for twice)."""
        missing = [p for p in self.by_pos if p not in self.seen]
        dup = [p for p, c in self.seen.items() if c > 1]
        for p in missing[:5]:
            self.note("input %s (%s, expected %s) has no output and no dead letter" %
                      (p, self.by_pos[p]["kind"], self.by_pos[p]["expect"]))
        for p in dup[:5]:
            self.note("input %s accounted for %d times" % (p, self.seen[p]))
        return missing, dup


def t_soak(env):
    a = env.args
    n = a.messages or (100000 if FULL else 10000)
    seed = a.seed if a.seed is not None else int(os.environ.get("NEWSCLF_SOAK_SEED", "20261127"))
    sys.setrecursionlimit(20000)  # outputs carry arrays nested up to 1000 deep
    t0 = time.monotonic()
    corpus = load_corpus(env.src)
    check(len(corpus) > 100, "corpus too small: %d" % len(corpus))
    recs = generate(n, seed, corpus)
    print("soak: %d messages, seed %d, %.1f MB, generated in %.1fs" %
          (n, seed, sum(len(r["value"] or b"") for r in recs) / 1e6, time.monotonic() - t0))
    limit_allocator_retention(a.bin_dir)
    prod = hlib.producer_binary(env)
    k = Cluster(env)
    k.topics([(IN, PARTS)], configs=["max.message.bytes=8388608"])
    print("soak: broker up, topic created at %.1fs" % (time.monotonic() - t0))
    d = Daemon(env, k, offset_reset="earliest",
               extra=["--set", "outputs.create_topics=true",
                      "--set", "outputs.partitions=%d" % PARTS,
                      "--set", "kafka.group=soak"])
    d.running()
    sampler = hlib.RssSampler(d.proc.pid)
    sampler.start()
    positions, settled = feed(env, k, d, prod, recs, sampler, t0)
    sampler.mark("idle")
    time.sleep(1)
    check(d.proc.poll() is None, "daemon not alive after the soak")
    sampler.stop()
    rc = d.stop(timeout=40)
    check(rc == 0, "exit code after SIGTERM: %s" % rc)
    check("stopped cleanly" in d.logtext(), "clean stop logged")
    check_rss(sampler, settled)

    by_pos = {}
    for r, pos in zip(recs, positions):
        check(pos not in by_pos, "two inputs at one offset %s" % (pos,))
        by_pos[pos] = r
    want_agg = sum(1 for r in recs if r["expect"] == OK)
    want_dl = len(recs) - want_agg
    agg = load.consume(env, k, [AGG], want_agg)
    dls = load.consume(env, k, [DL], want_dl)
    acc = Accounting(by_pos)
    for r in agg:
        acc.output(r)
    for r in dls:
        acc.dead_letter(r)
    missing, dup = acc.finish()
    print("soak: %d produced, %d classified (%d with copied input headers), %d dead-lettered %s" %
          (len(recs), len(agg), acc.with_headers, len(dls),
           json.dumps(acc.reasons, sort_keys=True)))
    check(not acc.bad, "%d problems, first ones:\n  " % len(acc.bad) + "\n  ".join(acc.bad))
    check(len(agg) + len(dls) == len(recs) and not missing and not dup,
          "classified %d + dead-lettered %d != produced %d (missing %d, duplicated %d)" %
          (len(agg), len(dls), len(recs), len(missing), len(dup)))
    check(len(agg) == want_agg and len(dls) == want_dl, "outcome counts")
    print("soak: passed in %.1fs" % (time.monotonic() - t0))


def add_args(ap):
    ap.add_argument("--messages", type=int)
    ap.add_argument("--seed", type=int)


if __name__ == "__main__":
    sys.exit(hlib.main({"soak": t_soak}, __doc__, add_args=add_args, tools=("java",)))
