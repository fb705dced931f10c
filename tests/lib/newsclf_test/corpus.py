"""Test input from models/corpus and the offline reference: the dev file,
numbered copies of the corpus (fresh ids a000000.., so every input can be
found in the outputs) and `newsclf classify`, which the daemon's labels
must equal."""
import json
import os
import subprocess

from newsclf_test.checks import check


def corpus_file(env, name="dev.jsonl"):
    return os.path.join(env.src, "models", "corpus", name)


def dev_file(env):
    return corpus_file(env, "dev.jsonl")


def articles_file(env, n, name="articles.jsonl"):
    """n corpus articles (train + dev, repeated) with ids a000000..; the
    path of the file in the scratch folder."""
    src = []
    for fn in ("train.jsonl", "dev.jsonl"):
        with open(corpus_file(env, fn)) as f:
            src += [json.loads(line) for line in f if line.strip()]
    path = env.path(name)
    with open(path, "w") as f:
        for i in range(n):
            a = dict(src[i % len(src)])
            a["id"] = "a%06d" % i
            f.write(json.dumps(a) + "\n")
    return path


def classify(env, *args, stdin=None):
    """The records `newsclf classify --model env.model ARGS` prints."""
    r = subprocess.run([env.tool("newsclf"), "classify", "--model", env.model] + list(args),
                       input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    check(r.returncode == 0, "newsclf classify failed: %s" % r.stderr.decode())
    return [json.loads(line) for line in r.stdout.decode().splitlines()]


def offline_labels(env, path):
    """{id: sorted labels} of the articles in path."""
    return {o["id"]: sorted(o["labels"]) for o in classify(env, path)
            if "id" in o and "labels" in o}
