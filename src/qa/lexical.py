"""BM25 over passages with bm25s: English stop words, Snowball stemming, sparse scores."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["BM25Index", "tokenize"]

logger = logging.getLogger(__name__)

_WORD = re.compile(r"(?u)\b\w\w+\b")
_stemmer = None
_stopwords: frozenset[str] | None = None


def _stem(words: list[str]) -> list[str]:
    global _stemmer
    if _stemmer is None:
        import Stemmer

        _stemmer = Stemmer.Stemmer("english")
    return _stemmer.stemWords(words)


def tokenize(text: str) -> list[str]:
    """Lower-cased, stop words removed, Snowball-stemmed word tokens."""
    global _stopwords
    if _stopwords is None:
        from bm25s.stopwords import STOPWORDS_EN

        _stopwords = frozenset(STOPWORDS_EN)
    words = [w for w in _WORD.findall(text.lower()) if w not in _stopwords]
    return _stem(words)


class BM25Index:
    """A bm25s index whose document i is passage row i."""

    def __init__(self, model) -> None:  # model: bm25s.BM25
        self._model = model

    @classmethod
    def build(cls, texts: Sequence[str], *, k1: float = 1.2, b: float = 0.75) -> BM25Index:
        import bm25s

        model = bm25s.BM25(k1=k1, b=b)
        corpus = [tokenize(t) for t in texts]
        # bm25s cannot index an all-empty corpus; an empty token keeps shapes valid.
        corpus = [toks or [""] for toks in corpus]
        if corpus:
            model.index(corpus, show_progress=False)
        return cls(model)

    def save(self, folder: Path) -> None:
        self._model.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, *, mmap: bool = False) -> BM25Index:
        import bm25s

        return cls(bm25s.BM25.load(str(folder), mmap=mmap, show_progress=False))

    @property
    def size(self) -> int:
        scores = getattr(self._model, "scores", None)
        return int(scores["num_docs"]) if scores else 0

    def search(self, query: str, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-n (scores, rows) for one query, best first; rows with score 0 are dropped."""
        if self.size == 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        ids = self._model.get_tokens_ids(tokenize(query))
        if not ids:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        scores = self._model.get_scores_from_ids(ids)
        n = min(n, scores.shape[0])
        top = np.argpartition(-scores, n - 1)[:n] if n < scores.shape[0] else np.arange(n)
        top = top[scores[top] > 0]
        # Sort by score, then by row for deterministic ties.
        order = np.lexsort((top, -scores[top]))
        top = top[order]
        return scores[top].astype(np.float32), top.astype(np.int64)
