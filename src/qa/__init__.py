"""qa: local, offline, citation-first question answering over your documents."""

from __future__ import annotations

__version__ = "0.1.0"

from qa.config import IndexSettings, RetrievalMode  # noqa: E402
from qa.errors import (  # noqa: E402
    CitationError,
    ConfigError,
    CorpusError,
    IndexCorruptError,
    IndexLockedError,
    IndexMismatchError,
    IndexNotFoundError,
    InputError,
    ModelError,
    QAError,
)
from qa.types import Answer, Citation, Document, Highlight, Hit, Passage  # noqa: E402

__all__ = [
    "__version__",
    "Answer",
    "Citation",
    "CitationError",
    "ConfigError",
    "CorpusError",
    "Document",
    "Filter",
    "Highlight",
    "Hit",
    "IndexCorruptError",
    "IndexLockedError",
    "IndexMismatchError",
    "IndexNotFoundError",
    "IndexSettings",
    "InputError",
    "ModelError",
    "Passage",
    "QAError",
    "RetrievalMode",
    "Retriever",
    "build_index",
]


def __getattr__(name: str):
    # Lazy: importing qa must not pull in torch, FAISS or bm25s.
    if name == "Retriever":
        from qa.retrieval import Retriever

        return Retriever
    if name == "Filter":
        from qa.retrieval.filters import Filter

        return Filter
    if name == "build_index":
        from qa.indexing import build_index

        return build_index
    raise AttributeError(f"module 'qa' has no attribute {name!r}")
