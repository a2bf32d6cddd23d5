"""Python scores equal the CLI's on every document of the shards the hand-labelled set
(tests/data/labelled/labels.tsv, 365 real documents) comes from."""

import collections
import csv

import pytest

import tropescan
from conftest import REPO, cli_lines, read_jsonl

LABELS = REPO / "tests/data/labelled/labels.tsv"


def labelled_ids() -> dict[str, set[str]]:
    by_shard = collections.defaultdict(set)
    with LABELS.open(newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            by_shard[row["shard"]].add(row["id"])
    return by_shard


def test_the_labelled_set_names_365_documents():
    assert sum(map(len, labelled_ids().values())) == 365


@pytest.mark.parametrize("shard", sorted(labelled_ids()))
def test_python_scores_equal_the_cli(shard, corpus, tropescan_bin):
    path = corpus / shard
    cli = cli_lines(tropescan_bin, [path])
    reader = tropescan.read_documents(path)
    docs = list(reader)
    assert reader.errors == []
    assert [d["id"] for d in docs] == [line["id"] for line in cli], "documents differ"
    # Documents without an id are named `#<line>` in labels.tsv (as tests/accuracy.rs reads it).
    named = {d["id"] for d in docs} | {f"#{d['line']}" for d in docs}
    assert labelled_ids()[shard] <= named, f"labelled ids missing from {shard}"

    results = tropescan.Scanner().score_batch([d["text"] for d in docs])
    fields = ("score", "label", "flagged", "hits")
    for doc, line, got in zip(docs, cli, results):
        assert got == {k: line[k] for k in fields}, f"{shard} {doc['id']}"


@pytest.mark.parametrize(
    "shard", sorted(s for s in labelled_ids() if ".json" in s)
)
def test_python_json_reading_gives_the_cli_texts(shard, corpus):
    """A Python user reading a JSONL shard with `json` scores the texts the CLI scores."""
    native = [d["text"] for d in tropescan.read_documents(corpus / shard)]
    mine = [d["text"] for d in read_jsonl(corpus / shard)]
    assert mine == native
