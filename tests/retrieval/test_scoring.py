"""Scoring: reciprocal rank fusion, the weighted rerank and per-signal tables, on small arrays."""

from __future__ import annotations

import numpy as np
import pytest

from qa.retrieval.scoring import (
    RerankSignals,
    add_fused,
    add_rerank,
    bm25_fractions,
    rerank_scores,
    rrf,
    signal_tables,
)


def test_rrf_by_hand() -> None:
    fused = rrf({"a": [1, 2, 3], "b": [3, 1]}, k=60)
    assert fused[1] == pytest.approx(1 / 61 + 1 / 62)
    assert fused[2] == pytest.approx(1 / 62)
    assert fused[3] == pytest.approx(1 / 63 + 1 / 61)


def test_rrf_weights_scale_each_signal() -> None:
    fused = rrf({"a": [7], "b": [7, 8]}, k=10, weights={"a": 2.0})
    assert fused == {7: pytest.approx(2 / 11 + 1 / 11), 8: pytest.approx(1 / 12)}


def test_signal_tables_give_scores_and_ranks_from_one() -> None:
    ranked = {
        "dense": (np.array([0.9, 0.5], np.float32), np.array([4, 2])),
        "bm25": (np.array([3.0], np.float32), np.array([2])),
    }
    scores, ranks = signal_tables(ranked)
    assert scores == {4: {"dense": pytest.approx(0.9)}, 2: {"dense": 0.5, "bm25": 3.0}}
    assert ranks == {4: {"dense": 1}, 2: {"dense": 2, "bm25": 1}}
    assert list(scores[2]) == ["dense", "bm25"]  # the order of the signals
    assert all(type(v) is float for s in scores.values() for v in s.values())


def test_signal_tables_of_nothing() -> None:
    assert signal_tables({"bm25": (np.zeros(0), np.zeros(0, np.int64))}) == ({}, {})


def test_bm25_fractions_divide_by_the_best_score_of_all_rows() -> None:
    bm25 = np.array([0.0, 2.0, 4.0, 1.0], np.float32)
    assert bm25_fractions(bm25, [3, 1]).tolist() == [0.25, 0.5]
    assert bm25_fractions(bm25, [3, 1]).dtype == np.float64


@pytest.mark.parametrize("bm25", [None, np.zeros(3, np.float32), np.zeros(0, np.float32)])
def test_bm25_fractions_are_zero_when_nothing_scores(bm25) -> None:
    assert bm25_fractions(bm25, [0, 1]).tolist() == [0.0, 0.0]


def test_rerank_is_the_documented_weighted_sum() -> None:
    passage = np.array([0.5, 0.2], np.float32)
    sentence = np.array([0.8, 0.2])
    bm25 = np.array([1.0, 0.0])
    got = rerank_scores(passage, sentence, bm25, dense_weight=0.4, bm25_weight=0.2)
    assert got.tolist() == [
        0.4 * float(passage[0]) + 0.6 * 0.8 + 0.2 * 1.0,
        0.4 * float(passage[1]) + 0.6 * 0.2 + 0.2 * 0.0,
    ]


def test_add_rerank_keeps_the_search_dense_score_and_records_the_rest() -> None:
    table = {1: {"dense": 0.7}, 2: {"bm25": 3.0}}
    reranked = RerankSignals(
        rows=[1, 2],
        passage=np.array([0.69, 0.1], np.float32),
        sentence=np.array([0.8, 0.1]),
        rerank=np.array([0.75, 0.2]),
    )
    assert add_rerank(table, reranked) == {1: 0.75, 2: 0.2}
    assert table[1] == {"dense": 0.7, "sentence": 0.8, "rerank": 0.75}
    assert table[2] == {"bm25": 3.0, "dense": float(np.float32(0.1)), "sentence": 0.1, "rerank": 0.2}


def test_add_fused_records_under_fused() -> None:
    table = {1: {"dense": 0.7}, 2: {"bm25": 3.0}}
    assert add_fused(table, {2: 0.5, 1: 0.25}) == {2: 0.5, 1: 0.25}
    assert table == {1: {"dense": 0.7, "fused": 0.25}, 2: {"bm25": 3.0, "fused": 0.5}}


def test_rerank_scores_add_weighted_coverage() -> None:
    passage, sentence, bm25 = np.array([0.5, 0.2]), np.array([0.6, 0.9]), np.array([1.0, 0.0])
    cov = np.array([0.0, 1.0])
    base = rerank_scores(passage, sentence, bm25, dense_weight=0.4, bm25_weight=0.2)
    got = rerank_scores(
        passage, sentence, bm25, dense_weight=0.4, bm25_weight=0.2, coverage=cov, coverage_weight=0.15
    )
    assert got == pytest.approx(base + 0.15 * cov)
    assert got[1] == pytest.approx(0.4 * 0.2 + 0.6 * 0.9 + 0.15)
    # No coverage, or a zero weight: the weighted rerank unchanged.
    same = rerank_scores(
        passage, sentence, bm25, dense_weight=0.4, bm25_weight=0.2, coverage=cov, coverage_weight=0
    )
    assert same == pytest.approx(base)


def test_add_rerank_records_coverage_only_when_used() -> None:
    rows = [3, 5]
    used = RerankSignals(
        rows, np.array([0.1, 0.2]), np.array([0.3, 0.4]), np.array([1.0, 2.0]), np.array([0.5, 1.0])
    )
    table: dict[int, dict[str, float]] = {3: {}, 5: {"dense": 0.25}}
    add_rerank(table, used)
    assert table[3]["coverage"] == 0.5 and table[5]["coverage"] == 1.0
    unused = RerankSignals(rows, np.array([0.1, 0.2]), np.array([0.3, 0.4]), np.array([1.0, 2.0]))
    table2: dict[int, dict[str, float]] = {3: {}, 5: {}}
    add_rerank(table2, unused)
    assert "coverage" not in table2[3]
