#!/usr/bin/env python3
"""Draw set C: fresh held-out documents for the accuracy test, never used in development.

The sample is fixed by the seed and by plain regexes over the raw text; it never looks at
tropescan scores or lexicon hits, so it does not favour what the scorer already finds.
Rows already in labels.tsv (by shard and id, and plot summaries whose title is already
labelled under another source) are excluded. Prints `shard<TAB>id<TAB>stratum`, sorted.

Usage: python3 tests/data/labelled/sample_fresh.py [CORPUS_DIR]   (default ../shared/corpus or ../../shared/corpus)
"""
import gzip
import json
import os
import random
import re
import subprocess
import sys

SEED = 20261127
AI_WORD = re.compile(
    r"robot|android|cyborg|artificial intelligence|\bA\.?I\.?\b|computer|machine|droid|supercomputer",
    re.IGNORECASE,
)
# Strata: (name, shard, filter on the text, how many).
STRATA = [
    ("plots_ai", "plots/plots_all.jsonl.zst", True, 45),
    ("plots_plain", "plots/plots_all.jsonl.zst", False, 10),
    ("prose", "shards/prose.jsonl.zst", None, 25),
    ("ag_news_ai", "shards/ag_news.jsonl.zst", True, 10),
]
WEB_SHARDS = [
    "web/dolma-cc_en_head-0091.jsonl.gz",
    "web/dolma-cc_en_head-0174.jsonl.gz",
    "crawl/dolma-provided-000.json.gz",
]
WEB_COUNT = 5
# Drawn last (after the web rows): plot summaries with a stricter AI word, because "machine"
# and "computer" in AI_WORD mostly catch time machines and computer glitches, which leaves
# too few rogue-AI positives for precision and recall to mean anything.
STRONG_AI_WORD = re.compile(
    r"robot|android|cyborg|artificial intelligence|\bA\.?I\.?\b|supercomputer|droid",
    re.IGNORECASE,
)
STRONG_COUNT = 25
# Drawn very last: more prose rows (AI-risk essays and AI fiction), the richest source of
# gold positives, so that set C has enough of them.
PROSE_MORE_COUNT = 20


def read_jsonl(path):
    if path.endswith(".zst"):
        data = subprocess.run(["zstd", "-dc", path], check=True, capture_output=True).stdout
    elif path.endswith(".gz"):
        with gzip.open(path, "rb") as f:
            data = f.read()
    else:
        with open(path, "rb") as f:
            data = f.read()
    # split on "\n" only: str.splitlines would also break on U+2028 inside a string
    for line in data.decode("utf-8", errors="replace").split("\n"):
        try:
            doc = json.loads(line)
        except json.JSONDecodeError:
            continue  # blank or malformed line: not a candidate
        if isinstance(doc, dict) and isinstance(doc.get("id"), str) and isinstance(doc.get("text"), str):
            yield doc


def main():
    if len(sys.argv) > 1:
        corpus = sys.argv[1]
    else:  # same fallbacks as tests/util: ../shared/corpus, then ../../shared/corpus
        corpus = next(
            (c for c in ("../shared/corpus", "../../shared/corpus") if os.path.isdir(c)),
            "../shared/corpus",
        )
    here = os.path.dirname(os.path.abspath(__file__))
    labelled = set()
    with open(os.path.join(here, "labels.tsv"), encoding="utf-8") as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            labelled.add((cols[0], cols[1]))
    rng = random.Random(SEED)
    cache = {}

    def docs(shard):
        if shard not in cache:
            cache[shard] = list(read_jsonl(os.path.join(corpus, shard)))
        return cache[shard]

    # The same film appears under several sources; skip titles already labelled.
    labelled_titles = {
        d.get("title", "").strip().lower()
        for d in docs("plots/plots_all.jsonl.zst")
        if ("plots/plots_all.jsonl.zst", d["id"]) in labelled
    }
    out = []
    taken = set()
    for name, shard, want_ai, count in STRATA:
        pool = []
        for d in docs(shard):
            key = (shard, d["id"])
            if key in labelled or key in taken:
                continue
            if d.get("title") is not None and shard.startswith("plots/"):
                if d["title"].strip().lower() in labelled_titles:
                    continue
            if want_ai is not None and bool(AI_WORD.search(d["text"])) != want_ai:
                continue
            pool.append(d["id"])
        pool.sort()
        for doc_id in rng.sample(pool, min(count, len(pool))):
            taken.add((shard, doc_id))
            out.append((shard, doc_id, name))
    pool = sorted(
        (shard, d["id"]) for shard in WEB_SHARDS for d in docs(shard) if (shard, d["id"]) not in labelled
    )
    for shard, doc_id in rng.sample(pool, min(WEB_COUNT, len(pool))):
        out.append((shard, doc_id, "web"))
    plots = "plots/plots_all.jsonl.zst"
    pool = sorted(
        d["id"]
        for d in docs(plots)
        if (plots, d["id"]) not in labelled
        and (plots, d["id"]) not in taken
        and d.get("title", "").strip().lower() not in labelled_titles
        and STRONG_AI_WORD.search(d["text"])
    )
    for doc_id in rng.sample(pool, min(STRONG_COUNT, len(pool))):
        out.append((plots, doc_id, "plots_strong"))
        taken.add((plots, doc_id))
    prose = "shards/prose.jsonl.zst"
    pool = sorted(
        d["id"] for d in docs(prose) if (prose, d["id"]) not in labelled and (prose, d["id"]) not in taken
    )
    for doc_id in rng.sample(pool, min(PROSE_MORE_COUNT, len(pool))):
        out.append((prose, doc_id, "prose_more"))
    for row in sorted(out):
        print("\t".join(row))


if __name__ == "__main__":
    main()
