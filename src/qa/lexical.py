"""BM25 over passages with bm25s: English stop words, Snowball stemming, sparse scores."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["BM25Index", "distinct_terms", "tokenize", "top_rows"]

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
    """Lower-cased, stop words removed, Snowball-stemmed word tokens.

    A stop word written in capitals is an acronym, not a function word, and is kept:
    "US" (the country), "IT", "NO" (nitric oxide), "IS" (immunosuppressive).
    """
    global _stopwords
    if _stopwords is None:
        _stopwords = frozenset(_bm25s_stopwords())
    words = []
    for w in _WORD.findall(text):
        lw = w.lower()
        if lw not in _stopwords or w.isupper():
            words.append(lw)
    return _stem(words)


def distinct_terms(text: str) -> list[str]:
    """`tokenize`'s terms of `text`, each once, in order of first use."""
    return list(dict.fromkeys(tokenize(text)))


class BM25Index:
    """A bm25s index whose document i is passage row i."""

    def __init__(self, model) -> None:  # model: bm25s.BM25
        self._model = model

    @classmethod
    def build(cls, texts: Sequence[str], *, k1: float = 1.2, b: float = 0.75) -> BM25Index:
        import bm25s

        model = bm25s.BM25(k1=k1, b=b)
        # Token ids, not token strings: a list of ints that share the vocabulary's int
        # objects holds 8 bytes per token, a list of stemmed strings ~60 (6 GB at 1M
        # passages). bm25s builds the same matrix from (ids, vocab) as from tokens.
        vocab: dict[str, int] = {}
        ids = []
        for text in texts:
            # bm25s cannot index an all-empty corpus; an empty token keeps shapes valid.
            ids.append([vocab.setdefault(w, len(vocab)) for w in (tokenize(text) or [""])])
        if ids:
            model.index((ids, vocab), show_progress=False)
        return cls(model)

    def save(self, folder: Path) -> None:
        self._model.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, *, mmap: bool = False) -> BM25Index:
        """Open a saved index. Indexes scored without a non-occurrence term (the default
        `lucene` method) are read by `SavedBM25` without importing bm25s (whose import,
        numba and scipy, takes ~1.5 s); others load through bm25s."""
        params = json.loads((Path(folder) / "params.index.json").read_text(encoding="utf-8"))
        if params.get("method", "lucene") in SavedBM25.METHODS:
            return cls(SavedBM25.load(Path(folder), params, mmap=mmap))
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

    def term_hits(self, terms: Sequence[str], rows: Sequence[int]) -> np.ndarray:
        """Which of `terms` (already tokenized) each of `rows` holds: bool (len(rows), len(terms)).

        Read from the score matrix's columns, so no text is tokenized; a term the index
        has never seen matches no row.
        """
        out = np.zeros((len(rows), len(terms)), dtype=bool)
        if not len(terms) or self.size == 0 or not len(rows):
            return out
        sparse = self._model.scores
        indptr, indices = sparse["indptr"], sparse["indices"]
        wanted = np.asarray(rows, dtype=np.int64)
        vocab = self._model.get_tokens_ids
        for j, term in enumerate(terms):
            ids = vocab([term])
            if ids:
                out[:, j] = np.isin(wanted, indices[indptr[ids[0]] : indptr[ids[0] + 1]])
        return out

    def coverage(self, query: str, rows: Sequence[int]) -> np.ndarray:
        """Share of the question's distinct terms that occur in each of `rows`' BM25 text
        (passage and context; float64, 0..1). All zeros when the question has no term."""
        terms = distinct_terms(query)
        if not terms:
            return np.zeros(len(rows), dtype=np.float64)
        return self.term_hits(terms, rows).sum(axis=1, dtype=np.float64) / len(terms)

    def search(self, query: str, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-n (scores, rows) for one query, best first; rows with score 0 are dropped."""
        scores = self.scores(query)
        if scores is None:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        return top_rows(scores, n)


class SavedBM25:
    """A saved bm25s index read with numpy alone: the eager score matrix (CSC, one column
    per token) summed over the query's tokens exactly as bm25s 0.3 does it (same order,
    same dtype), so scores are bit-identical."""

    METHODS = ("lucene", "robertson", "atire")  # no non-occurrence term

    def __init__(
        self,
        vocab: dict[str, int],
        data: np.ndarray,
        indices: np.ndarray,
        indptr: np.ndarray,
        num_docs: int,
        dtype: str,
    ) -> None:
        self.vocab_dict = vocab
        self.scores = {"data": data, "indices": indices, "indptr": indptr, "num_docs": num_docs}
        self.dtype = np.dtype(dtype)

    @classmethod
    def load(cls, folder: Path, params: dict, *, mmap: bool) -> SavedBM25:
        mode = "r" if mmap else None
        vocab = json.loads((folder / "vocab.index.json").read_text(encoding="utf-8"))
        arrays = [
            np.load(folder / f"{name}.csc.index.npy", mmap_mode=mode)
            for name in ("data", "indices", "indptr")
        ]
        return cls(vocab, *arrays, num_docs=int(params["num_docs"]), dtype=params.get("dtype", "float32"))

    def get_tokens_ids(self, tokens: list[str]) -> list[int]:
        return [self.vocab_dict[t] for t in tokens if t in self.vocab_dict]

    def get_scores_from_ids(self, ids: list[int]) -> np.ndarray:
        data, indices, indptr = self.scores["data"], self.scores["indices"], self.scores["indptr"]
        ids_arr = np.asarray(ids, dtype=np.int64)
        if int(ids_arr.max(initial=0)) >= len(indptr) - 1:
            raise ValueError("a query token id is outside the BM25 index (damaged vocabulary)")
        scores = np.zeros(self.scores["num_docs"], dtype=self.dtype)
        for start, end in zip(indptr[ids_arr].tolist(), indptr[ids_arr + 1].tolist()):
            np.add.at(scores, indices[start:end], data[start:end])
        return scores


def _bm25s_stopwords() -> tuple[str, ...]:
    """bm25s' English stop words, read from its module file without importing the package."""
    import importlib.util

    spec = importlib.util.find_spec("bm25s")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("bm25s is not installed; run `make setup`")
    path = Path(spec.origin).parent / "stopwords.py"
    module_spec = importlib.util.spec_from_file_location("_qa_bm25s_stopwords", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return tuple(module.STOPWORDS_EN)


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
