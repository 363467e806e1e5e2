"""Candidates: each signal's rows for a batch of questions (the only caller of the vector search and BM25 scoring)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from qa.config import RetrievalMode
from qa.index import Index
from qa.lexical import top_rows
from qa.retrieval.conversation import QueryContext, blend_bm25

__all__ = [
    "EXACT_FILTER_ROWS",
    "EXACT_FILTER_SHARE",
    "Candidates",
    "bm25_candidates",
    "bm25_scores",
    "collect",
    "dense_candidates",
    "filtered_dense_candidates",
    "passage_cosines",
]

# A signal's candidates: (scores, rows), best first.
Ranked = tuple[np.ndarray, np.ndarray]
# A filter allowing at most this many rows, or this share of the store, is searched exactly
# over their stored vectors; a larger one searches the store deeper until enough allowed rows
# come back. Measured with bench/filters.py (docs/FILTERS.md): below these the exact path is
# faster on a flat store, and on IVF-SQ8 it is exact where the deep search loses recall.
EXACT_FILTER_ROWS = 20_000
EXACT_FILTER_SHARE = 0.2


@dataclass
class Candidates:
    """One question's signals.

    Attributes:
        query_vector: the question's embedding, or None when nothing needs it.
        ranked: signal name (`dense`, `bm25`) -> (scores, rows), best first.
        bm25: every row's BM25 score (None if not computed or no query term is indexed).
        question: the question's own text (without earlier turns), for lexical rerank signals.
    """

    query_vector: np.ndarray | None
    ranked: dict[str, Ranked] = field(default_factory=dict)
    bm25: np.ndarray | None = None
    question: str = ""


def dense_candidates(index: Index, query_vectors: np.ndarray, depth: int) -> list[Ranked]:
    """The `depth` nearest passages of each question, ordered by (-score, row); empty slots dropped."""
    scores, rows = index.store.search(query_vectors, depth)
    out = []
    for s, r in zip(scores, rows):
        keep = r >= 0
        s, r = s[keep], r[keep]
        # FAISS leaves the order of equal scores unspecified; make it by row.
        order = np.lexsort((r, -s))
        out.append((s[order], r[order]))
    return out


def _best(scores: np.ndarray, rows: np.ndarray, depth: int) -> Ranked:
    """The `depth` best (score, row) pairs ordered by (-score, row)."""
    if len(rows) > depth:
        # Every row scoring at least the depth-th score, so a tie at the cut-off is decided by row.
        kth = np.partition(-scores, depth - 1)[depth - 1]
        keep = -scores <= kth
        scores, rows = scores[keep], rows[keep]
    order = np.lexsort((rows, -scores))[:depth]
    return scores[order], rows[order]


def filtered_dense_candidates(
    index: Index, query_vector: np.ndarray, allowed: np.ndarray, depth: int
) -> Ranked:
    """The `depth` nearest passages among the `allowed` rows (sorted int64), ordered by (-score, row).

    A small allowed set (EXACT_FILTER_ROWS, or EXACT_FILTER_SHARE of the store) is scored
    exactly against its stored vectors; a larger one is searched in the store ever deeper
    (x4) until `depth` allowed rows come back or the whole store was searched, so the
    filter applies before the top-k is taken.
    """
    if len(allowed) == 0 or depth < 1:
        return np.zeros(0, np.float32), np.zeros(0, np.int64)
    size = index.store.size
    if len(allowed) <= max(EXACT_FILTER_ROWS, EXACT_FILTER_SHARE * size):
        # Inner product equals cosine on normalised vectors.
        scores = np.asarray(index.vector_matrix()[allowed], dtype=np.float32) @ query_vector
        return _best(scores, allowed, depth)
    want = min(depth, len(allowed))
    n = min(size, max(depth, int(np.ceil(depth * size / len(allowed) * 2))))
    while True:
        (s,), (r,) = index.store.search(query_vector[None], n)
        keep = (r >= 0) & np.isin(r, allowed, assume_unique=False)
        if int(keep.sum()) >= want or n >= size:
            return _best(s[keep], r[keep], depth)
        n = min(size, n * 4)


def passage_cosines(index: Index, query_vector: np.ndarray, rows: Sequence[int]) -> np.ndarray:
    """Exact cosine of each row's stored passage vector with the question (float32)."""
    # Inner product equals cosine on normalised vectors.
    return np.asarray(index.vector_matrix()[list(rows)], dtype=np.float32) @ query_vector


def bm25_scores(
    index: Index, questions: Sequence[str], *, contexts: Sequence[QueryContext | None] | None = None
) -> list[np.ndarray | None]:
    """Every row's BM25 score per question (None where no query term is indexed).

    A question with a conversation context scores `s(new) + Σ w·s(earlier)`.
    """
    out = []
    for qi, q in enumerate(questions):
        scores = index.bm25.scores(q)
        context = contexts[qi] if contexts is not None else None
        if context is not None:
            earlier = [index.bm25.scores(e) for e in context.earlier]
            scores = blend_bm25(scores, earlier, context.bm25_weights)
        out.append(scores)
    return out


def masked_bm25(scores: np.ndarray | None, allowed: np.ndarray | None) -> np.ndarray | None:
    """Every row's BM25 score with rows outside `allowed` set to 0 (None: no filter)."""
    if scores is None or allowed is None:
        return scores
    out = np.zeros_like(scores)
    out[allowed] = scores[allowed]
    return out


def bm25_candidates(scores: np.ndarray | None, depth: int) -> Ranked:
    """The `depth` best BM25 rows (positive scores only), ties broken by row."""
    if scores is None:
        return np.zeros(0), np.zeros(0, np.int64)
    return top_rows(scores, depth)


def collect(
    index: Index,
    questions: Sequence[str],
    query_vectors: np.ndarray | None,
    *,
    mode: RetrievalMode,
    depth: int,
    full_bm25: bool,
    contexts: Sequence[QueryContext | None] | None = None,
    allowed: Sequence[np.ndarray | None] | None = None,
) -> list[Candidates]:
    """Each question's candidate signals for `mode`.

    Args:
        index: the snapshot searched.
        questions: question texts.
        query_vectors: their embeddings (required unless `mode` is BM25), or None.
        mode: dense, BM25 or both.
        depth: candidates taken from each signal.
        full_bm25: also keep every row's BM25 score (reranking divides by the best one).
        contexts: per question, the earlier turns its BM25 scores blend in (None: none);
            `query_vectors` are already blended by the caller.
        allowed: per question, the sorted rows a filter allows (None: every row); the
            filter applies before each signal's top `depth` is taken.
    """
    allowed = list(allowed) if allowed is not None else [None] * len(questions)
    dense: list[Ranked] = []
    if mode is not RetrievalMode.BM25:
        if query_vectors is None:
            raise ValueError(f"{mode.value} search needs the question vectors")
        unfiltered = [qi for qi, a in enumerate(allowed) if a is None]
        found = (
            dict(zip(unfiltered, dense_candidates(index, query_vectors[unfiltered], depth)))
            if unfiltered
            else {}
        )
        for qi, rows in enumerate(allowed):
            if rows is not None:
                found[qi] = filtered_dense_candidates(index, query_vectors[qi], rows, depth)
        dense = [found[qi] for qi in range(len(questions))]
    wants_bm25 = mode is not RetrievalMode.DENSE
    full: list[np.ndarray | None] = (
        [masked_bm25(s, a) for s, a in zip(bm25_scores(index, questions, contexts=contexts), allowed)]
        if wants_bm25 or full_bm25
        else [None] * len(questions)
    )
    out = []
    for qi in range(len(questions)):
        c = Candidates(
            query_vector=None if query_vectors is None else query_vectors[qi],
            bm25=full[qi],
            question=questions[qi],
        )
        if dense:
            c.ranked["dense"] = dense[qi]
        if wants_bm25:
            c.ranked["bm25"] = bm25_candidates(full[qi], depth)
        out.append(c)
    return out
