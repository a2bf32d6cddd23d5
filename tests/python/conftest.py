"""Shared fixtures for the Python tests: the corpus, the CLI binary, and the CLI's verdicts.

The tests compare the Python package against the `tropescan` binary built from the same tree,
so they say nothing the binary does not also say.
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# Real shards for the pipeline tests: every JSONL flavour and compression of the corpus
# (zstd, gzip, plain; dolma, C4, datatrove-style; with and without ids), ~8,000 documents,
# a few dozen of them flagged.
PIPELINE_SHARDS = [
    "shards/prose.jsonl.zst",
    "shards/ag_news.jsonl.zst",
    "shards/wikitext2.jsonl.gz",
    "shards/gutenberg.jsonl",
    "web/dolma-cc_en_head-0091.jsonl.gz",
    "web/dolma-cc_en_head-0174.jsonl.gz",
    "crawl/dolma-provided-000.json.gz",
    "crawl/olmo-c4-sample.01.json.gz",
    "crawl/olmo-c4_100_domains_theguardian.jsonl.gz",
]


def find_corpus() -> Path | None:
    """`$TROPESCAN_CORPUS`, else ../shared/corpus beside the repository (as tests/util does)."""
    for c in (os.environ.get("TROPESCAN_CORPUS"), REPO / "../shared/corpus"):
        if c and (Path(c) / "COUNTS.tsv").is_file():
            return Path(c).resolve()
    return None


@pytest.fixture(scope="session")
def corpus() -> Path:
    c = find_corpus()
    if c is None:
        msg = "corpus not found (set TROPESCAN_CORPUS or place it at ../shared/corpus)"
        sys.stderr.write(f"\n\n!!! SKIPPED: {msg} !!!\n\n")
        pytest.skip(msg)
    return c


@pytest.fixture(scope="session")
def tropescan_bin() -> Path:
    """The CLI: `$TROPESCAN_BIN`, else built here (a no-op after `cargo test`)."""
    if os.environ.get("TROPESCAN_BIN"):
        return Path(os.environ["TROPESCAN_BIN"])
    subprocess.run(
        ["cargo", "build", "--locked", "--quiet", "--bin", "tropescan"], cwd=REPO, check=True
    )
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    return target / "debug" / "tropescan"


def cli_lines(binary: Path, paths: list[Path]) -> list[dict]:
    """Every stdout line of `tropescan scan -q PATHS`, parsed, in input order."""
    out = subprocess.run(
        [str(binary), "scan", "-q", *map(str, paths)], capture_output=True, check=True
    )
    return [json.loads(line) for line in out.stdout.splitlines()]


@dataclass
class Split:
    """What a filter run kept and removed."""

    kept: int = 0
    removed: int = 0
    removed_by_label: collections.Counter = field(default_factory=collections.Counter)
    removed_ids: set = field(default_factory=set)


def cli_split_by_scan(binary: Path, paths: list[Path], tmp: Path) -> Split:
    """The CLI's split from `tropescan scan` stdout: removed = the lines with "flagged": true."""
    split = Split()
    for line in cli_lines(binary, paths):
        if line["flagged"]:
            split.removed += 1
            split.removed_by_label[line["label"]] += 1
            split.removed_ids.add(line["id"])
        else:
            split.kept += 1
    return split


def cli_split_by_filter(binary: Path, paths: list[Path], tmp: Path) -> Split:
    """The CLI's split from `tropescan filter PATHS -o DIR`: lines in DIR/kept and DIR/removed.
    Labels and ids come from the removed documents' lines."""
    out = tmp / "cli-filter"
    subprocess.run([str(binary), "filter", "-q", *map(str, paths), "-o", str(out)], check=True)
    split = Split()
    for part in ("kept", "removed"):
        for f in sorted((out / part).rglob("*")):
            if not f.is_file():
                continue
            for doc in read_jsonl(f):
                if part == "kept":
                    split.kept += 1
                else:
                    split.removed += 1
                    split.removed_ids.add(doc.get("id"))
    by_scan = cli_split_by_scan(binary, paths, tmp)
    split.removed_by_label = by_scan.removed_by_label
    return split


# The CLI command the pipeline tests compare against. Switch to `cli_split_by_filter` once
# `tropescan filter` is in main.
cli_split = cli_split_by_filter


def read_jsonl(path: Path):
    """The JSON objects of a .jsonl, .jsonl.gz or .jsonl.zst file (by magic bytes)."""
    import gzip
    import io

    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    elif raw[:4] == b"\x28\xb5\x2f\xfd":
        import zstandard

        raw = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(raw)).read()
    for line in raw.split(b"\n"):
        if line.strip():
            yield json.loads(line)
