"""Evaluation metrics: ranking metrics via ranx, plus abstention, citation exactness and latency.

Ranking data uses the ranx/BEIR shapes: qrels `{qid: {passage_id: relevance}}` and runs
`{qid: {passage_id: score}}`. Ranking metrics are averaged over the queries in the
qrels that have at least one relevant item (answerable questions).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from qa.errors import ConfigError
from qa.types import Document, Hit

__all__ = [
    "RANKING_METRICS",
    "abstention_rate",
    "citation_exactness",
    "false_abstention_rate",
    "latency_percentiles",
    "ranking_metrics",
    "ranking_metrics_per_query",
]

# Reported for every configuration; `hit_rate@k` is added for the chosen cut-off k.
RANKING_METRICS: tuple[str, ...] = (
    "recall@1",
    "recall@3",
    "recall@5",
    "recall@10",
    "recall@100",
    "mrr@10",
    "ndcg@10",
)


def _judged(qrels: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, int]]:
    # ranx rejects queries without relevant items; they carry no ranking signal anyway.
    return {q: dict(rels) for q, rels in qrels.items() if any(r > 0 for r in rels.values())}


def _ranx_evaluate(
    qrels: Mapping[str, Mapping[str, int]],
    run: Mapping[str, Mapping[str, float]],
    metrics: Sequence[str],
    *,
    return_mean: bool,
):
    from ranx import Qrels, Run, evaluate  # slow import (numba): only when metrics are computed

    judged = _judged(qrels)
    if not judged:
        return None
    # Every judged query needs an entry, even if nothing was retrieved for it.
    full_run = {q: {d: float(s) for d, s in run.get(q, {}).items()} for q in judged}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba's uint64->int64 cast warning is harmless here
        try:
            return evaluate(Qrels(judged), Run(full_run), list(metrics), return_mean=return_mean)
        except (ValueError, KeyError) as exc:
            raise ConfigError(f"ranx cannot compute {list(metrics)}: {exc}; use ranx metric names") from exc


def ranking_metrics(
    qrels: Mapping[str, Mapping[str, int]],
    run: Mapping[str, Mapping[str, float]],
    metrics: Sequence[str] = RANKING_METRICS,
) -> dict[str, float | None]:
    """Mean ranking metrics computed by ranx; None for each metric when nothing is judged.

    With R_q the relevant items of query q, r_i the relevance (0/1) of the item at rank
    i, and Q the judged queries (|R_q| > 0), ranx computes:

    - `recall@k`   = mean_q |R_q ∩ top_k(q)| / |R_q|
    - `mrr@k`      = mean_q 1 / rank of the first relevant item in top_k(q) (0 if none)
    - `ndcg@k`     = mean_q DCG@k / IDCG@k, DCG@k = sum_{i<=k} (2^r_i - 1) / log2(i + 1),
      IDCG@k the DCG@k of the ideal ranking of R_q
    - `hit_rate@k` = mean_q [ |R_q ∩ top_k(q)| > 0 ]

    Ties in the run's scores are ordered by ranx; give strictly decreasing scores to fix
    the order (the evaluation passes rank-derived scores for this reason).
    """
    scores = _ranx_evaluate(qrels, run, metrics, return_mean=True)
    if scores is None:
        return {m: None for m in metrics}
    if len(metrics) == 1:  # ranx returns a bare number for a single metric
        scores = {metrics[0]: scores}
    return {m: float(scores[m]) for m in metrics}


def ranking_metrics_per_query(
    qrels: Mapping[str, Mapping[str, int]],
    run: Mapping[str, Mapping[str, float]],
    metrics: Sequence[str] = RANKING_METRICS,
) -> dict[str, dict[str, float]]:
    """Per-query values of the same ranx metrics: `{qid: {metric: value}}` (judged queries only)."""
    judged = list(_judged(qrels))
    scores = _ranx_evaluate(qrels, run, metrics, return_mean=False)
    if scores is None:
        return {}
    if len(metrics) == 1:
        scores = {metrics[0]: scores}
    return {q: {m: float(scores[m][i]) for m in metrics} for i, q in enumerate(judged)}


def abstention_rate(answered: Sequence[bool]) -> float | None:
    """Share of unanswerable questions on which the retriever abstained.

    abstention_rate = |{q unanswerable : not answered(q)}| / |unanswerable|; None if
    there are no unanswerable questions. Higher is better.
    """
    return None if not answered else sum(not a for a in answered) / len(answered)


def false_abstention_rate(answered: Sequence[bool]) -> float | None:
    """Share of answerable questions on which the retriever wrongly abstained.

    false_abstention_rate = |{q answerable : not answered(q)}| / |answerable|; None if
    there are no answerable questions. Lower is better.
    """
    return None if not answered else sum(not a for a in answered) / len(answered)


def citation_exactness(hits: Iterable[Hit], documents: Mapping[str, Document]) -> float | None:
    """Share of returned passages whose text equals the slice of the source they cite.

    citation_exactness = |{h : documents[h.doc].text[h.start:h.end] == h.text}| / |hits|;
    None when no passage was returned. It must be 1.0: qa never shows other text.
    """
    total = exact = 0
    for hit in hits:
        total += 1
        p = hit.passage
        doc = documents.get(p.doc_id)
        if doc is not None and doc.text[p.start : p.end] == p.text:
            exact += 1
    return None if total == 0 else exact / total


def latency_percentiles(latencies_ms: Sequence[float]) -> dict[str, float | None]:
    """p50 and p95 of per-question latency (milliseconds).

    p = numpy.percentile(latencies, {50, 95}) with linear interpolation between the
    closest ranks; None for both when there are no measurements.
    """
    values = [x for x in latencies_ms if not math.isnan(x)]
    if not values:
        return {"latency_p50_ms": None, "latency_p95_ms": None}
    p50, p95 = np.percentile(np.asarray(values, dtype=np.float64), [50, 95])
    return {"latency_p50_ms": float(p50), "latency_p95_ms": float(p95)}
