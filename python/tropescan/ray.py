"""Ray Data steps: score a dataset's text column in parallel batches, then split it.

    import ray
    from tropescan.ray import TropescanBatch, kept, removed

    ds = ray.data.read_json("s3://bucket/shards/", lines=True)
    scored = ds.map_batches(TropescanBatch, fn_constructor_kwargs={"threads": 1},
                            batch_format="pyarrow", num_cpus=1,
                            compute=ray.data.ActorPoolStrategy(size=8))
    kept(scored).write_json("out/kept")

``TropescanBatch`` adds three columns, ``tropescan_score``, ``tropescan_label`` and
``tropescan_flagged``: the values ``tropescan scan`` prints for each text.
"""

from __future__ import annotations

from typing import Any

from tropescan._native import Scanner

SCORE = "tropescan_score"
LABEL = "tropescan_label"
FLAGGED = "tropescan_flagged"


class TropescanBatch:
    """A callable class for ``Dataset.map_batches``: one Scanner per actor, built once.

    Accepts and returns pandas DataFrames, pyarrow Tables or dicts of numpy arrays (any
    ``batch_format``). A missing (null) text scores as the empty text: never flagged.

    Args:
        text_column: the column holding the text.
        threads: scoring threads per actor (match it to the actor's ``num_cpus``);
            ``None`` uses every core.
        lexicon, threshold, flag_labels, add_lexicon: as for :class:`tropescan.Scanner`.
    """

    def __init__(
        self,
        text_column: str = "text",
        threads: int | None = None,
        lexicon=None,
        threshold: float | None = None,
        flag_labels: list[str] | None = None,
        add_lexicon=None,
    ):
        self.text_column = text_column
        self.scanner = Scanner(
            lexicon=lexicon,
            threshold=threshold,
            flag_labels=flag_labels,
            add_lexicon=add_lexicon,
            threads=threads,
        )

    def __call__(self, batch: Any) -> Any:
        texts = [t if isinstance(t, str) else "" for t in _column(batch, self.text_column)]
        results = self.scanner.score_batch(texts)
        columns = {
            SCORE: [r["score"] for r in results],
            LABEL: [r["label"] for r in results],
            FLAGGED: [r["flagged"] for r in results],
        }
        return _with_columns(batch, columns)


def _column(batch: Any, name: str) -> list:
    if hasattr(batch, "column_names") and hasattr(batch, "column"):  # pyarrow.Table
        return batch.column(name).to_pylist()
    column = batch[name]  # pandas.DataFrame or dict of numpy arrays
    return column.tolist() if hasattr(column, "tolist") else list(column)


def _with_columns(batch: Any, columns: dict[str, list]) -> Any:
    if hasattr(batch, "column_names") and hasattr(batch, "append_column"):  # pyarrow.Table
        import pyarrow as pa

        types = {SCORE: pa.float64(), LABEL: pa.string(), FLAGGED: pa.bool_()}
        for name, values in columns.items():
            if name in batch.column_names:
                batch = batch.drop_columns([name])
            batch = batch.append_column(name, pa.array(values, type=types[name]))
        return batch
    if hasattr(batch, "assign"):  # pandas.DataFrame
        return batch.assign(**columns)
    import numpy as np

    out = dict(batch)
    for name, values in columns.items():
        out[name] = np.asarray(values)
    return out


def score(ds, *, text_column: str = "text", actors: int | None = None,
          threads: int = 1, batch_size: int = 1000, **scanner_kwargs):
    """``ds`` with the three tropescan columns, scored by ``actors`` actors of ``threads`` cores
    each (``None``: an autoscaling pool). Leave CPUs for the read tasks: a pool holding every
    CPU starves them."""
    from ray.data import ActorPoolStrategy

    pool = ActorPoolStrategy(size=actors) if actors else ActorPoolStrategy(min_size=1, max_size=None)
    return ds.map_batches(
        TropescanBatch,
        fn_constructor_kwargs=dict(text_column=text_column, threads=threads, **scanner_kwargs),
        batch_format="pyarrow",
        batch_size=batch_size,
        compute=pool,
        num_cpus=threads,
    )


def kept(scored):
    """The rows of a scored dataset that were not flagged (tropescan columns kept)."""
    return scored.filter(lambda row: not row[FLAGGED])


def removed(scored):
    """The rows of a scored dataset that were flagged."""
    return scored.filter(lambda row: bool(row[FLAGGED]))
