"""Scoring: pure functions on signal tables and arrays (fusion, weighted rerank, per-signal tables)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "RerankSignals",
    "add_fused",
    "add_rerank",
    "bm25_fractions",
    "rerank_scores",
    "rrf",
    "signal_tables",
]

# A signal's candidates: (scores, rows), best first.
Ranked = tuple[np.ndarray, np.ndarray]


def rrf(
    rankings: Mapping[str, Sequence[int]], *, k: int = 60, weights: Mapping[str, float] | None = None
) -> dict[int, float]:
    """Reciprocal rank fusion: score(d) = sum_s w_s / (k + rank_s(d)), ranks from 1.

    Args:
        rankings: signal name -> row ids, best first.
        k: smoothing constant (Cormack et al. 2009 use 60).
        weights: optional weight per signal (default 1).
    """
    fused: dict[int, float] = {}
    for name, rows in rankings.items():
        w = 1.0 if weights is None else weights.get(name, 1.0)
        for rank, row in enumerate(rows, start=1):
            fused[row] = fused.get(row, 0.0) + w / (k + rank)
    return fused


def signal_tables(
    ranked: Mapping[str, Ranked],
) -> tuple[dict[int, dict[str, float]], dict[int, dict[str, int]]]:
    """Each candidate row's score and rank (from 1) under every signal that found it.

    Args:
        ranked: signal name -> (scores, rows), best first.

    Returns:
        `(scores, ranks)`: row -> {signal: score} and row -> {signal: rank}, signals in
        the order of `ranked`.
    """
    scores: dict[int, dict[str, float]] = {}
    ranks: dict[int, dict[str, int]] = {}
    for name, (values, rows) in ranked.items():
        for rank, (score, row) in enumerate(zip(values.tolist(), rows.tolist()), start=1):
            scores.setdefault(row, {})[name] = float(score)
            ranks.setdefault(row, {})[name] = rank
    return scores, ranks


def bm25_fractions(bm25: np.ndarray | None, rows: Sequence[int]) -> np.ndarray:
    """BM25 score of each row divided by the query's best score over all rows (0 when none scores).

    Args:
        bm25: every row's BM25 score for the query, or None when no query term is indexed.
        rows: the rows wanted.
    """
    best = float(bm25.max()) if bm25 is not None and bm25.size else 0.0
    if bm25 is None or best <= 0:
        return np.zeros(len(rows), dtype=np.float64)
    return np.asarray(bm25[list(rows)], dtype=np.float64) / best


def rerank_scores(
    passage: np.ndarray,
    sentence: np.ndarray,
    bm25: np.ndarray,
    *,
    dense_weight: float,
    bm25_weight: float,
    coverage: np.ndarray | None = None,
    coverage_weight: float = 0.0,
) -> np.ndarray:
    """The rerank: score = a * cos(passage) + (1 - a) * best_sentence + w * bm25 / max_bm25 + c * coverage.

    All signals are comparable across queries: cosines as they are, BM25 already
    divided by the query's best BM25 score (see `bm25_fractions`), coverage a share
    of the question's terms (see `BM25Index.coverage`). With `c = 0` (or no coverage)
    this is the default weighted rerank.

    Args:
        passage: cosine of each candidate passage with the question.
        sentence: cosine of each candidate's best sentence (its passage cosine if it has none).
        bm25: each candidate's BM25 fraction.
        dense_weight: `a`.
        bm25_weight: `w`.
        coverage: share of the question's distinct terms found in each candidate, or None.
        coverage_weight: `c`.

    Returns:
        float64 scores, one per candidate.
    """
    a = dense_weight
    scores = (
        a * np.asarray(passage, dtype=np.float64)
        + (1 - a) * np.asarray(sentence, dtype=np.float64)
        + bm25_weight * np.asarray(bm25, dtype=np.float64)
    )
    if coverage is not None and coverage_weight:
        scores = scores + coverage_weight * np.asarray(coverage, dtype=np.float64)
    return scores


@dataclass(frozen=True)
class RerankSignals:
    """The rerank of candidate `rows` and the signals it used, aligned with `rows`.

    `coverage` is None when the rerank did not use term coverage, and NaN for a row it
    was not computed for (a row that could not reach the top k with it).
    """

    rows: Sequence[int]
    passage: np.ndarray
    sentence: np.ndarray
    rerank: np.ndarray
    coverage: np.ndarray | None = None


def add_rerank(table: dict[int, dict[str, float]], reranked: RerankSignals) -> dict[int, float]:
    """Record the rerank signals in each row's score table; return row -> rerank score.

    A row keeps the `dense` score of the vector search when it has one (else its exact
    passage cosine), and gains `sentence`, `coverage` (when the rerank used it) and `rerank`.
    """
    final: dict[int, float] = {}
    for i, row in enumerate(reranked.rows):
        scores = table[row]
        scores.setdefault("dense", float(reranked.passage[i]))
        scores["sentence"] = float(reranked.sentence[i])
        if reranked.coverage is not None and not np.isnan(reranked.coverage[i]):
            scores["coverage"] = float(reranked.coverage[i])
        scores["rerank"] = final[row] = float(reranked.rerank[i])
    return final


def add_fused(table: dict[int, dict[str, float]], fused: dict[int, float]) -> dict[int, float]:
    """Record each row's fused score in its score table under `fused`; return `fused`."""
    for row, score in fused.items():
        table[row]["fused"] = score
    return fused
