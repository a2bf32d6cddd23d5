"""A datatrove filter step: drops rogue-AI narratives, says why, and keeps the score.

    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter
    from tropescan.datatrove import RogueAIFilter

    LocalPipelineExecutor(pipeline=[
        JsonlReader("shards/"),
        RogueAIFilter(exclusion_writer=JsonlWriter("out/removed")),
        JsonlWriter("out/kept"),
    ], tasks=4).run()

Every document gets ``metadata["tropescan_score"]`` and ``metadata["tropescan_label"]``; a
flagged one is dropped with its label as the reason, so datatrove's stats count
``dropped_rogue_ai_fiction`` and ``dropped_rogue_ai_discourse``, and the exclusion writer gets
``metadata["filter_reason"]``.
"""

from __future__ import annotations

try:
    from datatrove.pipeline.filters.base_filter import BaseFilter
except ModuleNotFoundError as e:  # pragma: no cover - depends on the environment
    if e.name != "datatrove":
        raise
    raise ImportError(
        "tropescan.datatrove needs datatrove: pip install 'tropescan[datatrove]'"
    ) from e

from tropescan._native import Scanner

#: Metadata keys the filter sets on every document.
SCORE_KEY = "tropescan_score"
LABEL_KEY = "tropescan_label"


class RogueAIFilter(BaseFilter):
    """Drops documents ``tropescan scan`` would flag.

    Args:
        lexicon: lexicon TOML file(s) replacing the embedded default (``--lexicon``).
        threshold: flag at score >= threshold; ``None`` uses the lexicon's (``--threshold``).
        flag_labels: labels that can be flagged (``--flag-labels``).
        add_lexicon: lexicon file(s) extending the one in use (``--add-lexicon``).
        threads: scoring threads per worker; ``None`` uses every core. With several datatrove
            tasks on one machine, set it to cores / tasks.
        exclusion_writer: a datatrove writer that receives the dropped documents.
        batch_size: documents scored per call (one call spreads a batch over the threads).
    """

    name = "🤖 tropescan rogue-AI"

    def __init__(
        self,
        lexicon=None,
        threshold: float | None = None,
        flag_labels: list[str] | None = None,
        add_lexicon=None,
        threads: int | None = None,
        exclusion_writer=None,
        batch_size: int = 1000,
    ):
        super().__init__(exclusion_writer=exclusion_writer, batch_size=batch_size)
        self.scanner_args = dict(
            lexicon=lexicon,
            threshold=threshold,
            flag_labels=flag_labels,
            add_lexicon=add_lexicon,
            threads=threads,
        )
        # Built on first use, in the worker process: the step is pickled to every task and a
        # compiled lexicon is worth building once per process, not shipping.
        self._scanner: Scanner | None = None

    @property
    def scanner(self) -> Scanner:
        if self._scanner is None:
            self._scanner = Scanner(**self.scanner_args)
        return self._scanner

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_scanner"] = None
        return state

    def _verdict(self, doc, result: dict):
        doc.metadata[SCORE_KEY] = result["score"]
        doc.metadata[LABEL_KEY] = result["label"]
        if result["flagged"]:
            return False, result["label"]
        return True

    def filter(self, doc) -> bool | tuple[bool, str]:
        return self._verdict(doc, self.scanner.score(doc.text))

    def filter_batch(self, batch: list) -> list[bool | tuple[bool, str]]:
        results = self.scanner.score_batch([doc.text for doc in batch])
        return [self._verdict(doc, r) for doc, r in zip(batch, results)]
