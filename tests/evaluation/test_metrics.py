"""The metrics: ranx cross-checked on tiny cases worked out by hand, and qa's own metrics."""

from __future__ import annotations

import math

import pytest

from qa.citations import cite
from qa.evaluation.metrics import (
    abstention_rate,
    citation_exactness,
    false_abstention_rate,
    latency_percentiles,
    ranking_metrics,
    ranking_metrics_per_query,
)
from qa.types import Document, Hit, Passage

# Two judged queries and one unjudged one (ignored: it has no relevant item).
QRELS = {
    "q1": {"a": 1, "c": 1},  # two relevant passages
    "q2": {"x": 1},  # one relevant passage
    "q3": {},  # unanswerable: no relevant passage
}
RUN = {
    # q1 ranking: a (rel), b, c (rel), d
    "q1": {"a": 4.0, "b": 3.0, "c": 2.0, "d": 1.0},
    # q2 ranking: y, z, x (rel) at rank 3
    "q2": {"y": 3.0, "z": 2.0, "x": 1.0},
    "q3": {"p": 1.0},
}


def test_recall_at_k_by_hand() -> None:
    m = ranking_metrics(QRELS, RUN, ["recall@1", "recall@2", "recall@3", "recall@10"])
    # q1: @1 {a} -> 1/2; @2 -> 1/2; @3 {a,c} -> 2/2.   q2: x at rank 3 -> 0, 0, 1.
    assert m["recall@1"] == pytest.approx((0.5 + 0.0) / 2)
    assert m["recall@2"] == pytest.approx((0.5 + 0.0) / 2)
    assert m["recall@3"] == pytest.approx((1.0 + 1.0) / 2)
    assert m["recall@10"] == pytest.approx(1.0)


def test_mrr_at_10_by_hand() -> None:
    # q1: first relevant at rank 1 -> 1/1.  q2: first relevant at rank 3 -> 1/3.
    # MRR@10 = (1 + 1/3) / 2 = 2/3.
    m = ranking_metrics(QRELS, RUN, ["mrr@10", "mrr@2"])
    assert m["mrr@10"] == pytest.approx(2 / 3)
    # With a cut-off of 2, q2's relevant item is outside: (1 + 0) / 2.
    assert m["mrr@2"] == pytest.approx(0.5)


def test_ndcg_at_10_by_hand() -> None:
    # Binary relevance: gain 2^1 - 1 = 1, discount log2(i + 1).
    # q1: DCG = 1/log2(2) + 1/log2(4) = 1 + 0.5 = 1.5; IDCG = 1 + 1/log2(3) = 1.6309298;
    #     nDCG = 1.5 / 1.6309298 = 0.9197208.
    # q2: DCG = 1/log2(4) = 0.5; IDCG = 1; nDCG = 0.5.
    # mean = (0.9197208 + 0.5) / 2 = 0.7098604.
    q1 = 1.5 / (1 + 1 / math.log2(3))
    m = ranking_metrics(QRELS, RUN, ["ndcg@10"])
    assert q1 == pytest.approx(0.9197208, abs=1e-7)
    assert m["ndcg@10"] == pytest.approx((q1 + 0.5) / 2)
    per_query = ranking_metrics_per_query(QRELS, RUN, ["ndcg@10"])
    assert per_query == {"q1": {"ndcg@10": pytest.approx(q1)}, "q2": {"ndcg@10": pytest.approx(0.5)}}


def test_ndcg_is_one_for_ideal_ranking_and_zero_without_relevant_hits() -> None:
    qrels = {"q": {"a": 1, "b": 1}}
    assert ranking_metrics(qrels, {"q": {"a": 2.0, "b": 1.0}}, ["ndcg@10"])["ndcg@10"] == pytest.approx(1.0)
    assert ranking_metrics(qrels, {"q": {"z": 2.0}}, ["ndcg@10"])["ndcg@10"] == pytest.approx(0.0)


def test_hit_rate_by_hand() -> None:
    # q1 has a relevant item at rank 1, q2 at rank 3.
    m = ranking_metrics(QRELS, RUN, ["hit_rate@1", "hit_rate@3"])
    assert m["hit_rate@1"] == pytest.approx(0.5)
    assert m["hit_rate@3"] == pytest.approx(1.0)


def test_query_with_nothing_retrieved_scores_zero() -> None:
    m = ranking_metrics({"q1": {"a": 1}, "q2": {"b": 1}}, {"q1": {"a": 1.0}}, ["recall@10", "mrr@10"])
    # q2 is missing from the run: it counts as a miss, not as skipped.
    assert m == {"recall@10": pytest.approx(0.5), "mrr@10": pytest.approx(0.5)}


def test_no_judged_query_gives_none() -> None:
    assert ranking_metrics({"q": {}}, {"q": {"a": 1.0}}, ["recall@10"]) == {"recall@10": None}


def test_abstention_rates() -> None:
    # 3 unanswerable questions, the retriever abstained (answered=False) on 2: 2/3.
    assert abstention_rate([False, False, True]) == pytest.approx(2 / 3)
    # 4 answerable questions, 1 wrongly abstained: 1/4.
    assert false_abstention_rate([True, True, False, True]) == pytest.approx(0.25)
    assert abstention_rate([]) is None
    assert false_abstention_rate([]) is None


def _hit(doc: Document, start: int, end: int, text: str | None = None) -> Hit:
    p = Passage(
        passage_id=f"{doc.doc_id}#{start}",
        doc_id=doc.doc_id,
        title=doc.title,
        text=doc.text[start:end] if text is None else text,
        start=start,
        end=end,
        paragraph_start=1,
        paragraph_end=1,
    )
    return Hit(passage=p, score=1.0, rank=1, citation=cite(p, doc))


def test_citation_exactness_counts_slices_that_match() -> None:
    doc = Document(doc_id="d.txt", title="d", text="Alpha beta. Gamma delta.", sha256="x")
    hits = [_hit(doc, 0, 11), _hit(doc, 12, 24), _hit(doc, 0, 5, text="ALPHA")]
    assert citation_exactness(hits, {"d.txt": doc}) == pytest.approx(2 / 3)
    # A passage whose document is unknown is not exact either.
    assert citation_exactness(hits[:1], {}) == 0.0
    assert citation_exactness([], {"d.txt": doc}) is None


def test_latency_percentiles_interpolate() -> None:
    # numpy linear interpolation on 1..10: p50 = 5.5, p95 = 1 + 0.95 * 9 = 9.55.
    lat = latency_percentiles([float(x) for x in range(10, 0, -1)])
    assert lat["latency_p50_ms"] == pytest.approx(5.5)
    assert lat["latency_p95_ms"] == pytest.approx(9.55)
    assert latency_percentiles([]) == {"latency_p50_ms": None, "latency_p95_ms": None}
