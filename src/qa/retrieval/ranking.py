"""Ranking one question's candidates: final scores (rerank, RRF or one signal), order, hits, confidence."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from qa.config import RetrievalMode
from qa.embedding import Embedder
from qa.index import Index
from qa.retrieval.candidates import Candidates, passage_cosines
from qa.retrieval.coverage import term_coverage
from qa.retrieval.hits import (
    SentenceMatch,
    build_hits,
    confidence,
    embedded_highlights,
    hit_ranks,
    matched_highlights,
    order_rows,
    sentence_matches,
)
from qa.retrieval.scoring import (
    RerankSignals,
    add_fused,
    add_rerank,
    bm25_fractions,
    rerank_scores,
    rrf,
    signal_tables,
)
from qa.types import Hit

__all__ = ["Plan", "Weights", "rank_candidates"]


@dataclass(frozen=True)
class Plan:
    """What one search call does for every question."""

    mode: RetrievalMode
    k: int
    rerank: bool
    highlight: bool


@dataclass(frozen=True)
class Weights:
    """The retriever's fusion weights: passage vs best-sentence cosine, BM25, term coverage, the RRF constant."""

    dense: float
    bm25: float
    rrf_k: int
    coverage: float = 0.0


def rank_candidates(
    index: Index,
    found: Candidates,
    plan: Plan,
    weights: Weights,
    *,
    embedder: Callable[[], Embedder],
) -> tuple[list[Hit], float | None]:
    """One question's hits and confidence from its candidate signals.

    `embedder()` gives the model, needed only to highlight passages of an index without
    sentence vectors.
    """
    signal_scores, signal_ranks = signal_tables(found.ranked)
    rows = sorted(signal_scores)
    qv = found.query_vector
    sentences = index.sentences
    matches: dict[int, SentenceMatch] = {}
    if qv is not None and sentences is not None and (plan.rerank or plan.highlight):
        matches = sentence_matches(sentences, qv, rows if plan.rerank else [])
    final, final_rank = _score(index, found, rows, matches, plan=plan, weights=weights, table=signal_scores)
    ordered = order_rows(final, index.passages, plan.k)
    if ordered and qv is not None and sentences is not None:
        # The confidence (and the highlights) need every returned row's sentences.
        matches = sentence_matches(sentences, qv, ordered, matches)
    marks = None
    if plan.highlight and sentences is not None:
        marks = matched_highlights(sentences, ordered, matches)
    hits = build_hits(
        index,
        ordered,
        scores=final,
        signal_scores=signal_scores,
        ranks=hit_ranks(signal_ranks, ordered, final_rank),
        highlights=marks,
    )
    if plan.highlight and qv is not None and sentences is None and hits:
        embedded = embedded_highlights(qv, [h.passage for h in hits], index.documents, embedder())
        hits = [replace(h, highlights=m) for h, m in zip(hits, embedded)]
    return hits, confidence(index, qv, ordered, matches)


def _score(
    index: Index,
    found: Candidates,
    rows: list[int],
    matches: dict[int, SentenceMatch],
    *,
    plan: Plan,
    weights: Weights,
    table: dict[int, dict[str, float]],
) -> tuple[dict[int, float], str | None]:
    """Each candidate row's final score (recorded in `table` too), and the key of its final rank.

    Reranking needs sentence matches; without them hybrid search falls back to
    reciprocal rank fusion, and a single signal ranks by its own score.
    """
    if plan.rerank and matches:
        return add_rerank(
            table, _rerank(index, found, rows, matches, mode=plan.mode, weights=weights, k=plan.k)
        ), "rerank"
    final_rank = "fused" if plan.mode is RetrievalMode.HYBRID or plan.rerank else None
    if plan.mode is RetrievalMode.HYBRID:
        ranked_rows = {name: r.tolist() for name, (_, r) in found.ranked.items()}
        return add_fused(table, rrf(ranked_rows, k=weights.rrf_k)), final_rank
    (name,) = found.ranked
    return {row: s[name] for row, s in table.items()}, final_rank


def _rerank(
    index: Index,
    found: Candidates,
    rows: list[int],
    matches: dict[int, SentenceMatch],
    *,
    mode: RetrievalMode,
    weights: Weights,
    k: int,
) -> RerankSignals:
    """The rerank of `rows` and the passage and sentence cosines (and term coverage) it used.

    BM25 and term coverage are lexical signals: a dense-only rerank uses neither. `k`:
    how many rows the caller keeps (coverage is computed only where it can matter).
    """
    if found.query_vector is None:
        raise ValueError("reranking needs the question vector")
    passage = passage_cosines(index, found.query_vector, rows)
    sentence = np.array(
        [matches[row][0] if row in matches else float(passage[i]) for i, row in enumerate(rows)],
        dtype=np.float64,
    )
    lexical = mode is not RetrievalMode.DENSE
    fractions = bm25_fractions(found.bm25, rows)
    bm25_weight = weights.bm25 if lexical else 0.0
    scores = rerank_scores(passage, sentence, fractions, dense_weight=weights.dense, bm25_weight=bm25_weight)
    coverage = None
    if lexical and weights.coverage > 0 and found.question:
        # Coverage adds at most `weights.coverage`: a row whose score stays below the k-th
        # best even with all of it cannot reach the top k, so it is not tokenized. The top
        # k (and their ranks) are exactly those of scoring every row; a skipped row keeps
        # its score without coverage, and no `coverage` in its score table (NaN here).
        coverage = np.full(len(rows), np.nan)
        if len(rows) > k:
            kth = np.partition(scores, len(rows) - k)[len(rows) - k]
            near = np.flatnonzero(scores + weights.coverage >= kth)
        else:
            near = np.arange(len(rows))
        coverage[near] = term_coverage(index, found.question, [rows[i] for i in near])
        scores = rerank_scores(
            passage,
            sentence,
            fractions,
            dense_weight=weights.dense,
            bm25_weight=bm25_weight,
            coverage=np.nan_to_num(coverage, nan=0.0),
            coverage_weight=weights.coverage,
        )
    return RerankSignals(rows=rows, passage=passage, sentence=sentence, rerank=scores, coverage=coverage)
