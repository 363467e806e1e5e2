"""BM25 over passages with bm25s: English stop words, Snowball stemming, sparse scores."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["BM25Index", "tokenize", "top_rows"]

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

    def scores(self, query: str) -> np.ndarray | None:
        """BM25 score of every row for one query, or None if no query term is indexed."""
        if self.size == 0:
            return None
        ids = self._model.get_tokens_ids(tokenize(query))
        if not ids:
            return None
        return self._model.get_scores_from_ids(ids)

    def coverage(self, query: str, rows: Sequence[int]) -> np.ndarray:
        """Share of the question's distinct terms that occur in each of `rows` (float64, 0..1).

        Terms are `tokenize`'s (stop words removed, stemmed); a term the index has never
        seen counts in the denominator and matches no row. All zeros when the question
        has no term.
        """
        out = np.zeros(len(rows), dtype=np.float64)
        terms = list(dict.fromkeys(tokenize(query)))
        if not terms or self.size == 0 or not len(rows):
            return out
        sparse = self._model.scores
        indptr, indices = sparse["indptr"], sparse["indices"]
        wanted = np.asarray(rows, dtype=np.int64)
        for term in self._model.get_tokens_ids(terms):
            out += np.isin(wanted, indices[indptr[term] : indptr[term + 1]])
        return out / len(terms)

    def search(self, query: str, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-n (scores, rows) for one query, best first; rows with score 0 are dropped."""
        scores = self.scores(query)
        if scores is None:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        return top_rows(scores, n)


def top_rows(scores: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The n highest positive scores and their rows, best first, ties broken by row."""
    n = min(n, scores.shape[0])
    if n <= 0:
        return np.zeros(0, np.float32), np.zeros(0, np.int64)
    # A tie at the cut-off must not depend on argpartition's choice: take every row
    # scoring at least the n-th score, then sort.
    top = np.argpartition(-scores, n - 1)[:n] if n < scores.shape[0] else np.arange(scores.shape[0])
    kth = scores[top].min()
    top = np.flatnonzero(scores >= kth) if n < scores.shape[0] else top
    top = top[scores[top] > 0]
    order = np.lexsort((top, -scores[top]))
    top = top[order][:n]
    return scores[top].astype(np.float32), top.astype(np.int64)
