"""Decoding `bench/pipeline_load consume --dump FILE` (one JSON line per
record: topic, partition, offset, ts, key_b64, value_b64, headers as
[name, value_b64] pairs).

Header names are written raw, not JSON-escaped, so each line is decoded as
Latin-1 and parsed without the control-character check: names come back
byte for byte, whatever the producer put in them."""
import base64
import json


def decode(path, parse_json=False):
    """[record]: dicts with topic, partition, offset, ts, key (bytes or
    None), value (bytes; with parse_json the parsed JSON when it parses),
    hlist [(name bytes, value bytes)] in record order and hdrs {name str:
    [value bytes]}."""
    recs = []
    with open(path, "rb") as f:
        for line in f:
            r = json.loads(line.decode("latin-1"), strict=False)
            key = r.pop("key_b64")
            r["key"] = base64.b64decode(key) if key is not None else None
            r["value"] = base64.b64decode(r.pop("value_b64"))
            if parse_json:
                try:
                    r["value"] = json.loads(r["value"])
                except ValueError:
                    pass
            r["hlist"] = [(n.encode("latin-1"), base64.b64decode(v)) for n, v in r.pop("headers")]
            r["hdrs"] = {}
            for name, v in r["hlist"]:
                r["hdrs"].setdefault(name.decode(errors="replace"), []).append(v)
            recs.append(r)
    return recs
