"""A datatrove pipeline (JsonlReader -> RogueAIFilter -> JsonlWriter, removed documents to the
exclusion writer) over real shards keeps and removes what the CLI does."""

import json

import pytest

pytest.importorskip("datatrove")

from datatrove.executor import LocalPipelineExecutor  # noqa: E402
from datatrove.pipeline.readers import JsonlReader  # noqa: E402
from datatrove.pipeline.writers import JsonlWriter  # noqa: E402

import tropescan  # noqa: E402
from conftest import PIPELINE_SHARDS, cli_split, read_jsonl  # noqa: E402
from tropescan.datatrove import LABEL_KEY, SCORE_KEY, RogueAIFilter  # noqa: E402


def empty_texts(paths) -> int:
    """Documents with an empty text: the CLI keeps them (score 0), datatrove's reader drops them."""
    return sum(d["text"] == "" for p in paths for d in tropescan.read_documents(p))


@pytest.mark.parametrize("workers", [1, 2])
def test_datatrove_pipeline_keeps_and_removes_what_the_cli_does(
    workers, corpus, tropescan_bin, tmp_path
):
    paths = [corpus / s for s in PIPELINE_SHARDS]
    paths_file = tmp_path / "paths.txt"
    paths_file.write_text("".join(f"{s}\n" for s in PIPELINE_SHARDS))
    LocalPipelineExecutor(
        pipeline=[
            JsonlReader(str(corpus), paths_file=str(paths_file)),
            RogueAIFilter(exclusion_writer=JsonlWriter(str(tmp_path / "removed")), batch_size=256),
            JsonlWriter(str(tmp_path / "kept")),
        ],
        # Two tasks in two processes: the filter is pickled to each and builds its scanner there.
        tasks=2,
        workers=workers,
        logging_dir=str(tmp_path / "logs"),
    ).run()

    kept = [d for f in sorted((tmp_path / "kept").glob("*.jsonl.gz")) for d in read_jsonl(f)]
    removed = [d for f in sorted((tmp_path / "removed").glob("*.jsonl.gz")) for d in read_jsonl(f)]
    cli = cli_split(tropescan_bin, paths, tmp_path)
    assert cli.removed > 10, "the shards must hold flagged documents for this test to mean much"
    assert len(removed) == cli.removed
    assert len(kept) == cli.kept - empty_texts(paths)
    assert {d["id"] for d in removed} == cli.removed_ids

    # Score and label in every document's metadata; the reason on the removed ones.
    assert all(d["metadata"][LABEL_KEY] == d["metadata"]["filter_reason"] for d in removed)
    assert all(d["metadata"][SCORE_KEY] >= 0.5 for d in removed)
    assert all(SCORE_KEY in d["metadata"] and LABEL_KEY in d["metadata"] for d in kept)

    # datatrove's stats count every drop by its reason.
    stats = json.loads((tmp_path / "logs" / "stats.json").read_text())
    step = next(s for s in stats if "tropescan" in s["name"])
    dropped = {
        k.removeprefix("dropped_"): v["total"] if isinstance(v, dict) else v
        for k, v in step["stats"].items()
        if k.startswith("dropped_")
    }
    assert dropped == dict(cli.removed_by_label)
