#!/usr/bin/env python3
"""Builds the end-to-end benchmark corpus from ../shared/corpus.

Documents of the real JSONL shards are resampled with a fixed seed and shuffled until the corpus
holds at least TARGET_MB of decompressed JSONL, then written as N shards, each as .jsonl.zst
(zstd -3, as crawl pipelines write) and .jsonl.gz (gzip -6). Ids of repeated documents get a
'#k' suffix so every id is unique. Deterministic: same corpus, same bytes.

usage: make_corpus.py CORPUS_DIR OUT_DIR [TARGET_MB] [SHARDS]
"""
import gzip
import json
import os
import random
import subprocess
import sys

SOURCES = [
    "plots/plots_all.jsonl.zst",
    "shards/prose.jsonl.zst",
    "shards/ag_news.jsonl.zst",
    "shards/wikitext2.jsonl.gz",
    "shards/gutenberg.jsonl",
    "web/dolma-cc_en_head-0091.jsonl.gz",
    "web/dolma-cc_en_head-0174.jsonl.gz",
    "crawl/dolma-provided-000.json.gz",
    "crawl/olmo-c4-sample.01.json.gz",
    "crawl/olmo-c4-sample.02.json.gz",
    "crawl/olmo-c4-sample.03.json.gz",
    "crawl/olmo-c4_100_domains_theguardian.jsonl.gz",
]


def read_lines(path):
    if path.endswith(".zst"):
        data = subprocess.run(["zstd", "-dc", path], check=True, capture_output=True).stdout
    elif path.endswith(".gz"):
        data = gzip.decompress(open(path, "rb").read())
    else:
        data = open(path, "rb").read()
    return [l for l in data.split(b"\n") if l.strip()]


def main():
    corpus, out = sys.argv[1], sys.argv[2]
    target = int(sys.argv[3]) if len(sys.argv) > 3 else 520
    shards = int(sys.argv[4]) if len(sys.argv) > 4 else 8
    docs = []
    for rel in SOURCES:
        for i, line in enumerate(read_lines(os.path.join(corpus, rel))):
            d = json.loads(line)
            if "id" not in d:
                d["id"] = f"{rel}:{i + 1}"
            docs.append(d)
    rng = random.Random(20261127)
    lines, size, copies = [], 0, {}
    while size < target * 1_000_000:
        d = dict(rng.choice(docs))
        k = copies.get(d["id"], 0)
        copies[d["id"]] = k + 1
        if k:
            d["id"] = f"{d['id']}#{k}"
        line = json.dumps(d, ensure_ascii=False).encode() + b"\n"
        lines.append(line)
        size += len(line)
    rng.shuffle(lines)
    os.makedirs(out, exist_ok=True)
    per = (len(lines) + shards - 1) // shards
    for s in range(shards):
        part = b"".join(lines[s * per:(s + 1) * per])
        base = os.path.join(out, f"part-{s:02d}.jsonl")
        subprocess.run(["zstd", "-q", "-3", "-f", "-o", base + ".zst"], input=part, check=True)
        with open(base + ".gz", "wb") as f:
            f.write(subprocess.run(["gzip", "-6", "-n"], input=part, check=True, capture_output=True).stdout)
    print(f"{len(lines)} documents, {size / 1e6:.1f} MB decompressed, {shards} shards in {out}")


if __name__ == "__main__":
    main()
