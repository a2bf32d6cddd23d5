"""tropescan: find rogue-AI / AI-villain narratives in pretraining corpora.

The scorer is the Rust crate's (the same values ``tropescan scan`` prints). Submodules
``tropescan.datatrove`` and ``tropescan.ray`` hold the pipeline steps; they import their
framework only when imported themselves, so this package needs neither.
"""

from tropescan._native import DocumentReader, Scanner, __version__, read_documents

__all__ = ["Scanner", "DocumentReader", "read_documents", "__version__"]
