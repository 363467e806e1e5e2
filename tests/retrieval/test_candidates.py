"""Candidates: each signal's rows per question, ordered deterministically, only the signals a mode needs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qa.config import RetrievalMode
from qa.index import Index
from qa.indexing import build_index
from qa.retrieval.candidates import bm25_candidates, collect, dense_candidates, passage_cosines

QUESTIONS = ["rocket engine thrust", "zebra quantum"]


@pytest.fixture
def index(corpus: Path, tmp_path: Path, fake_embedder) -> Index:
    build_index(corpus, tmp_path / "idx", embedder=fake_embedder)
    return Index.load(tmp_path / "idx")


def test_dense_candidates_drop_empty_slots_and_order_by_score_then_row(index: Index, fake_embedder) -> None:
    qv = fake_embedder.embed(QUESTIONS)
    found = dense_candidates(index, qv, depth=len(index) + 5)
    assert len(found) == len(QUESTIONS)
    for (scores, rows), q in zip(found, qv):
        assert len(rows) == len(index) and (rows >= 0).all()
        keys = list(zip((-scores).tolist(), rows.tolist()))
        assert keys == sorted(keys)
        assert scores == pytest.approx(passage_cosines(index, q, rows.tolist()), abs=1e-5)


def test_bm25_candidates_without_query_terms_are_empty() -> None:
    scores, rows = bm25_candidates(None, 10)
    assert scores.size == 0 and rows.size == 0 and rows.dtype == np.int64
    scores, rows = bm25_candidates(np.array([0.0, 2.0, 2.0, 1.0], np.float32), 2)
    assert rows.tolist() == [1, 2] and scores.tolist() == [2.0, 2.0]


@pytest.mark.parametrize(
    ("mode", "full_bm25", "signals", "has_bm25"),
    [
        (RetrievalMode.DENSE, False, ["dense"], False),
        (RetrievalMode.DENSE, True, ["dense"], True),
        (RetrievalMode.BM25, False, ["bm25"], True),
        (RetrievalMode.HYBRID, False, ["dense", "bm25"], True),
    ],
)
def test_collect_gives_the_signals_of_the_mode(
    index: Index, fake_embedder, mode: RetrievalMode, full_bm25: bool, signals: list[str], has_bm25: bool
) -> None:
    qv = fake_embedder.embed(QUESTIONS)
    found = collect(index, QUESTIONS, qv, mode=mode, depth=3, full_bm25=full_bm25)
    assert [list(c.ranked) for c in found] == [signals] * len(QUESTIONS)
    assert (found[0].bm25 is not None) == has_bm25
    assert found[1].bm25 is None  # no indexed word in the question
    assert all(len(rows) <= 3 for c in found for _, rows in c.ranked.values())
    assert np.array_equal(found[0].query_vector, qv[0])
    if "bm25" in signals:
        assert found[1].ranked["bm25"][1].size == 0
        assert found[0].ranked["bm25"][1].tolist() == bm25_candidates(found[0].bm25, 3)[1].tolist()


def test_collect_bm25_needs_no_vectors(index: Index) -> None:
    (c,) = collect(index, QUESTIONS[:1], None, mode=RetrievalMode.BM25, depth=5, full_bm25=False)
    assert c.query_vector is None and list(c.ranked) == ["bm25"]
