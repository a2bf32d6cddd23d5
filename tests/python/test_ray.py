"""A Ray Data job on a local Ray cluster over real shards keeps and removes what the CLI does,
and TropescanBatch works with every batch format."""

import collections

import pytest

ray = pytest.importorskip("ray")

import tropescan  # noqa: E402
import tropescan.ray as tray  # noqa: E402
from conftest import PIPELINE_SHARDS, cli_split  # noqa: E402


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    yield
    ray.shutdown()


def test_batch_formats_get_the_same_columns():
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    texts = ["The AI seized control and exterminated humanity.", "Budget news.", None]
    step = tray.TropescanBatch(threads=1)
    want = tropescan.Scanner().score_batch([t or "" for t in texts])
    df = step(pd.DataFrame({"text": texts, "n": [1, 2, 3]}))
    table = step(pa.table({"text": texts}))
    arrays = step({"text": np.array(texts, dtype=object)})
    for out in (df.to_dict("list"), table.to_pydict(), {k: list(v) for k, v in arrays.items()}):
        assert out[tray.SCORE] == [r["score"] for r in want]
        assert out[tray.LABEL] == [r["label"] for r in want]
        assert [bool(x) for x in out[tray.FLAGGED]] == [True, False, False]
    assert df["n"].tolist() == [1, 2, 3]


def test_ray_job_keeps_and_removes_what_the_cli_does(local_ray, corpus, tropescan_bin, tmp_path):
    paths = [corpus / s for s in PIPELINE_SHARDS]
    ds = ray.data.read_json([str(p) for p in paths], lines=True)
    # One scoring actor of one CPU: the other CPU stays free for the read tasks (two actors
    # would hold both CPUs and starve the reads for ever).
    scored = tray.score(ds, actors=1, threads=1, batch_size=500).materialize()
    removed = tray.removed(scored).take_all()
    kept = tray.kept(scored).count()

    cli = cli_split(tropescan_bin, paths, tmp_path)
    assert cli.removed > 10
    assert len(removed) == cli.removed
    assert kept == cli.kept
    # Documents without an id field (C4) get `<path>:<line>` from the CLI and none from Ray.
    assert {r["id"] for r in removed if r.get("id")} <= cli.removed_ids
    assert collections.Counter(r[tray.LABEL] for r in removed) == cli.removed_by_label
