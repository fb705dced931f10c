#!/usr/bin/env python3
"""make_corpus.py - (re)builds the committed seed corpora in tests/fuzz/corpus/.

    tests/fuzz/make_corpus.py [--model DIR]

article  a few dozen dev articles (models/corpus/dev.jsonl), the plain-text
         example, and hand-made broken or unusual variants
config   the shipped config/newsclf.yaml, tests/data/config/*.yaml, and
         broken variants of the shipped file
model    the tiny fuzz model's files in the harness's container format
         (first byte: which file, 0x80 = fix its checksum; see
         harness_model.c), broken variants, and raw libsvm files. The files
         come from DIR, written by the harness itself:
             NC_FUZZ_EXPORT_MODEL=DIR build/fuzz/fuzz/fuzz_model -runs=0 EMPTY_DIR
         Without --model the model corpus is left as it is.
encode   byte layouts of harness_encode.c with realistic results

Deterministic: the same tree gives the same files. Keep the total small
(< 2 MB); libFuzzer finds the rest.
"""
import argparse
import json
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")


def reset(target):
    d = os.path.join(CORPUS, target)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    return d


def put(d, name, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# --------------------------------------------------------------------------
def article():
    d = reset("article")
    with open(os.path.join(SRC, "models/corpus/dev.jsonl"), "rb") as f:
        lines = f.read().splitlines()
    step = max(1, len(lines) // 30)
    for i in range(0, len(lines), step)[:30]:
        put(d, "dev-%04d.json" % i, lines[i])
    with open(os.path.join(SRC, "models/corpus/example-article.txt"), "rb") as f:
        example = f.read()
    put(d, "plain-example.txt", example)
    put(d, "plain-short.txt", "Oil prices rose after new sanctions on exports.\n")
    first = json.loads(lines[0])
    long_body = " ".join([first["body"]] * 8)
    seeds = {
        "json-long-passages.json": json.dumps({"id": "long", "title": first["title"],
                                               "body": long_body}),
        "json-html.json": json.dumps({"id": 1, "title": "A &amp; B &#x27;quoted&#39;",
                                      "body": "<p>Troops <b>advanced</b></p><script>var x = "
                                              "'<p>';</script><style>p{}</style><!-- note -->"
                                              " &eacute;t&eacute; &nbsp;&mdash; &#x1F600; "
                                              "&#0; &#xD800; &bogus; a < b & c"}),
        "json-unicode.json": json.dumps({"title": "Ελληνικά ΚΕΦΑΛΑΙΑ Кириллица ÉTÉ Œuvre "
                                                  "straße ĳssel", "body": "cafe\u0301 ２０２４ "
                                                  "\U0001F600 \u2014 \ufeff 中文 العربية"},
                                        ensure_ascii=False),
        "json-nul.json": '{"title": "a\\u0000b", "body": "c\\u0000d"}',
        "json-long-word.json": json.dumps({"body": "x" * 60 + " " + "é" * 40 + " " +
                                                   "0123456789" * 6}),
        "json-lang-fr.json": json.dumps({"title": "Les sanctions", "body": "texte", "lang": "fr"}),
        "json-lang-en-gb.json": json.dumps({"title": "Trade", "body": "tariffs", "lang": "en-GB"}),
        "json-id-real.json": '{"id": 1.5e300, "title": "x", "published": 1700000000.123}',
        "json-id-int.json": '{"id": -9223372036854775808, "title": "x"}',
        "json-text-key.json": json.dumps({"text": "vaccine trial results", "source": "wire",
                                          "outlet": "X", "date": 20240101, "url": "http://x/"}),
        "json-content-key.json": json.dumps({"content": "ceasefire talks", "title": None,
                                             "body": None, "extra": {"a": [1, 2.25, None]}}),
        "broken-truncated.json": lines[1][: len(lines[1]) // 2],
        "broken-duplicate-key.json": '{"title": "a", "title": "b"}',
        "broken-array.json": '[{"title": "a"}]',
        "broken-not-object.json": '"just a string"',
        "broken-empty-title.json": '{"title": "  ", "body": "\\t\\n"}',
        "broken-title-number.json": '{"title": 5, "body": "x"}',
        "broken-id-object.json": '{"id": {}, "title": "x"}',
        "broken-id-nul.json": '{"id": "a\\u0000", "title": "x"}',
        "broken-lang-nul.json": '{"lang": "e\\u0000n", "title": "x"}',
        "broken-date-bool.json": '{"date": true, "title": "x"}',
        "broken-whitespace.txt": " \t\r\n ",
        "broken-bad-escape.json": '{"title": "\\ud800"}',
    }
    for name, text in seeds.items():
        put(d, name, text)
    put(d, "broken-invalid-utf8.txt", b"Sanctions \xff\xfe on \xc3\x28 exports \xed\xa0\x80")
    put(d, "broken-invalid-utf8.json", b'{"title": "\xe2\x82"}')
    put(d, "plain-leading-space-brace.txt", b"  \n{ not json")


# --------------------------------------------------------------------------
def config():
    d = reset("config")
    with open(os.path.join(SRC, "config/newsclf.yaml"), "rb") as f:
        shipped = f.read()
    put(d, "shipped.yaml", shipped)
    data = os.path.join(SRC, "tests/data/config")
    if os.path.isdir(data):
        for name in sorted(os.listdir(data)):
            if name.endswith(".yaml"):
                with open(os.path.join(data, name), "rb") as f:
                    put(d, "data-" + name, f.read())
    text = shipped.decode()
    seeds = {
        "broken-truncated.yaml": text[: len(text) // 2],
        "broken-tabs.yaml": "kafka:\n\tgroup: x\n",
        "broken-dup-key.yaml": "kafka:\n  group: a\n  group: b\n",
        "broken-anchor-alias.yaml": "kafka: &k\n  group: a\noutputs: *k\n",
        "broken-deep.yaml": "a:" + "".join("\n" + "  " * i + "b:" for i in range(1, 40)) + " 1\n",
        "broken-flow.yaml": "{kafka: {input_topics: [a, [b]], group: {x: 1}}, model: [1]}\n",
        "broken-types.yaml": "limits:\n  workers: many\n  max_article_bytes: -1\n"
                             "metrics:\n  enabled: maybe\n  listen: ':99999'\n",
        "env-refs.yaml": "kafka:\n  group: ${NC_FUZZ_SET}\n  client_id: ${NC_FUZZ_UNSET:-dflt}\n"
                         "  instance_id: ${NC_FUZZ_EMPTY:-node}\n  brokers: \"$${x}:1\"\n"
                         "model:\n  path: ${NC_FUZZ_UNSET}\n",
        "env-malformed.yaml": "kafka:\n  group: ${\n  client_id: ${1A}\n  brokers: ${A:-x\n",
        "routes.yaml": "outputs:\n  routes:\n    - label: trade\n      topic: desk.trade\n"
                       "      min_probability: 0.9\n    - {label: conflict, topic: alerts}\n"
                       "    - label: x\n  article_fields: [id, title]\n"
                       "model:\n  thresholds: {trade: 0.7, conflict: 1.5}\n",
        "secrets.yaml": "kafka:\n  consumer:\n    sasl.password: hunter2\n    ssl.key.pem: k\n"
                        "  producer:\n    sasl.oauthbearer.config: x\n    linger.ms: 5\n",
        "regex-topics.yaml": "kafka:\n  input_topics: [\"^news\\\\..*\", \"^(\", \"news.labeled.x\"]\n",
        "scalars.yaml": "kafka:\n  group: 'single ''quoted'''\n  client_id: |\n    block\n"
                        "  instance_id: >-\n    folded\n  static_membership: !!bool true\n",
        "empty-doc.yaml": "---\n...\n",
        "bom.yaml": "\ufeffkafka:\n  group: g\n",
        "null-values.yaml": "kafka:\n  group: ~\n  input_topics:\n  consumer: null\n",
    }
    for name, t in seeds.items():
        put(d, name, t)
    put(d, "broken-utf8.yaml", b"kafka:\n  group: \xff\xfe\n")
    put(d, "broken-nul.yaml", b"kafka:\n  group: \"a\\0b\"\n")


# --------------------------------------------------------------------------
def model(src):
    d = reset("model")
    with open(os.path.join(src, "manifest.json"), "rb") as f:
        manifest = f.read()
    man = json.loads(manifest)
    files = ["manifest.json", "df.tsv"] + [l["file"] for l in man["labels"]]
    blobs = {}
    for name in files:
        with open(os.path.join(src, name), "rb") as f:
            blobs[name] = f.read()
    raw = len(files)  # selector of the raw nc_svmfile_check mode

    def seed(name, which, data, fix=False):
        put(d, name, bytes([which | (0x80 if fix else 0)]) + data)

    seed("manifest.bin", 0, manifest)
    seed("df.bin", 1, blobs["df.tsv"])
    seed("svm-conflict.bin", 2, blobs[files[2]])

    def mani(edit):
        m = json.loads(manifest)
        edit(m)
        return json.dumps(m, indent=2).encode()

    def feat(key, value):
        return lambda m: m["features"].__setitem__(key, value)

    seed("manifest-truncated.bin", 0, manifest[: len(manifest) // 2])
    seed("manifest-title-weight.bin", 0, mani(feat("title_weight", 1e-50)))
    seed("manifest-word-bits.bin", 0, mani(feat("word_bits", 24)))
    seed("manifest-no-passages.bin", 0, mani(feat("passages", None)))
    seed("manifest-no-char.bin", 0, mani(feat("char_ngrams", None)))
    seed("manifest-stopwords.bin", 0, mani(feat("stopwords", ["x", "", 3])))
    seed("manifest-version.bin", 0, mani(lambda m: m.__setitem__("format_version", 3)))
    seed("manifest-langs.bin", 0, mani(lambda m: m.__setitem__("languages", [])))
    seed("manifest-dup-label.bin", 0,
         mani(lambda m: m["labels"].append(dict(m["labels"][0]))))
    seed("manifest-path-file.bin", 0,
         mani(lambda m: m["labels"][0].__setitem__("file", "../manifest.json")))
    seed("manifest-platt.bin", 0,
         mani(lambda m: m["labels"][1].__setitem__("platt", {"A": 1e308, "B": -1e308})))
    seed("manifest-threshold.bin", 0,
         mani(lambda m: m["labels"][2].__setitem__("threshold", 1)))
    seed("manifest-duplicate-key.bin", 0, manifest.replace(b'"name"', b'"name": "x", "name"', 1))

    df = blobs["df.tsv"]
    head = df[: df.index(b"\n", 2000) + 1]
    seed("df-truncated-fixed.bin", 1, head, fix=True)
    seed("df-header-fixed.bin", 1, b"newsclf-df 1 8192 300\n", fix=True)
    seed("df-bad-dim-fixed.bin", 1, b"newsclf-df 1 4096 300\n0\t7\n", fix=True)
    seed("df-unsorted-fixed.bin", 1, b"newsclf-df 1 8192 300\n5\t1\n2\t1\n", fix=True)
    seed("df-truncated-nofix.bin", 1, head)

    svm = blobs[files[2]]
    hdr_end = svm.index(b"SV\n") + 3
    header = svm[:hdr_end]
    sv_line = svm[hdr_end:]
    cut = sv_line[: sv_line.index(b" ", 3000)] + b"\n"
    seed("svm-truncated-fixed.bin", 2, header + cut, fix=True)
    seed("svm-header-only-fixed.bin", 3, header, fix=True)
    seed("svm-huge-weight-fixed.bin", 4,
         header.replace(b"total_sv 1", b"total_sv 2").replace(b"nr_sv 1 0", b"nr_sv 2 0") +
         b"1e308 1:1e308 2:1e308\n1e308 1:1e308 2:1e308\n", fix=True)
    seed("svm-truncated-nofix.bin", 5, header + cut)

    # Raw libsvm files for nc_svmfile_check (dim of the tiny model: 8192).
    small_hdr = (b"svm_type c_svc\nkernel_type linear\nnr_class 2\ntotal_sv 3\nrho 0.25\n"
                 b"label 1 -1\nnr_sv 2 1\nSV\n")
    svs = b"0.5 1:0.1 7:0.2 8192:1\n0.25 3:1e-3\n-0.75 2:0.5 4:-2\n"
    seed("raw-small.bin", raw, small_hdr + svs)
    seed("raw-trailing-blank.bin", raw, small_hdr + svs + b"\n \n")
    seed("raw-labels-swapped.bin", raw, small_hdr.replace(b"label 1 -1", b"label -1 1") + svs)
    seed("raw-reordered-header.bin", raw,
         b"svm_type c_svc\nkernel_type linear\ntotal_sv 3\nnr_class 2\nrho 0.25\n"
         b"label 1 -1\nnr_sv 2 1\nSV\n" + svs)
    seed("raw-index-too-big.bin", raw, small_hdr + svs.replace(b"8192:1", b"8193:1"))
    seed("raw-not-increasing.bin", raw, small_hdr + svs.replace(b"7:0.2", b"1:0.2"))
    seed("raw-too-few.bin", raw, small_hdr + svs[: svs.index(b"\n") + 1])
    seed("raw-too-many.bin", raw, small_hdr + svs + b"1 1:1\n")
    seed("raw-nan.bin", raw, small_hdr.replace(b"rho 0.25", b"rho nan") + svs)
    seed("raw-rbf.bin", raw, small_hdr.replace(b"linear", b"rbf\ngamma 0.5") + svs)
    seed("raw-crlf.bin", raw, (small_hdr + svs).replace(b"\n", b"\r\n"))
    seed("raw-tiny-model.bin", raw, header + cut)


# --------------------------------------------------------------------------
def encode():
    d = reset("encode")

    def result(flags, labels, meta=None, message=b""):
        out = bytes([flags])
        for on, dec, prob in labels:
            out += bytes([on]) + struct.pack("<d", dec) + struct.pack("<d", prob)
        if meta:
            part, off, ts, at, topic = meta
            out += struct.pack("<iqqq", part, off, ts, at) + bytes([len(topic)]) + topic
        return out + message

    four = [(1, 1.25, 0.93), (0, -0.5, 0.12), (0, -2.0, 0.01), (1, 0.01, 0.51)]
    article = b'{"id": "a1", "title": "Oil", "body": "Sanctions on exports", "url": "http://x/"}'
    meta = (3, 12345, 1700000000123, 1764237600456, b"news.articles")
    put(d, "none.bin", result(0x00, four, message=article))
    put(d, "all-input.bin", result(0x02 | 0x08, four, meta, article))
    put(d, "list.bin", result(0x04, four, message=article))
    put(d, "empty-list.bin", result(0x06, four, message=article))
    put(d, "null-opts.bin", result(0x10, four, message=article))
    put(d, "skipped.bin", result(0x01 | 0x02, four, message=b'{"title": "x", "lang": "fr"}'))
    put(d, "plain-all.bin", result(0x02, four, message=b"Plain text body"))
    put(d, "plain-list.bin", result(0x04, four, message=b"Plain text body"))
    put(d, "extreme-meta.bin", result(0x0a, four, (-1, -(2 ** 63), -1, -(2 ** 63), b""), article))
    put(d, "max-meta.bin", result(0x0a, four, (2 ** 31 - 1, 2 ** 63 - 1, 2 ** 63 - 1, 2 ** 63 - 1,
                                              b"t" * 63), article))
    put(d, "subnormal.bin", result(0x00, [(1, 5e-324, 5e-324), (0, -0.0, -0.0), (1, 1.7e308, 1.0),
                                          (0, -1.7e308, 0.0)], message=article))
    put(d, "refused-article.bin", result(0x02, four, message=b"[1]"))
    put(d, "nul-body.bin", result(0x02, four, message=b'{"body": "a\\u0000b", "n": [1, {"x": null}]}'))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="directory with the tiny fuzz model's files")
    a = ap.parse_args()
    article()
    config()
    if a.model:
        model(a.model)
    encode()
    total = 0
    for root, _, names in os.walk(CORPUS):
        total += sum(os.path.getsize(os.path.join(root, n)) for n in names)
    print("corpus: %d bytes" % total)


if __name__ == "__main__":
    main()
