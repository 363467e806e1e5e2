"""Hits: deterministic order, the highlight rule, sentence matches, confidence and Hit building."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qa.config import IndexSettings
from qa.index import Index
from qa.indexing import build_index
from qa.retrieval.hits import (
    build_hits,
    confidence,
    embedded_highlights,
    highlight_picks,
    hit_ranks,
    matched_highlights,
    order_rows,
    sentence_matches,
    sentence_spans,
)
from qa.types import Passage


def _passage(pid: str) -> Passage:
    return Passage(
        passage_id=pid, doc_id="d", title="D", text="x", start=0, end=1, paragraph_start=1, paragraph_end=1
    )


def test_order_is_by_score_then_passage_id() -> None:
    passages = [_passage("c"), _passage("a"), _passage("b")]
    assert order_rows({0: 0.5, 1: 0.5, 2: 0.9}, passages, 10) == [2, 1, 0]
    assert order_rows({0: 0.5, 1: 0.5, 2: 0.9}, passages, 2) == [2, 1]
    assert order_rows({0: 0.5, 1: 0.5, 2: 0.9}, passages, 1) == [2]


def test_order_equals_a_full_sort_by_score_then_id() -> None:
    rng = np.random.default_rng(3)
    passages = [_passage(f"p{i:03d}") for i in rng.permutation(60)]
    for trial in range(200):
        scores = {int(r): float(rng.integers(0, 8)) / 8 for r in rng.choice(60, 25, replace=False)}
        k = int(rng.integers(0, 30))
        expected = sorted(scores, key=lambda r: (-scores[r], passages[r].passage_id))[:k]
        assert order_rows(scores, passages, k) == expected, trial


@pytest.mark.parametrize(
    ("sims", "picks"),
    [
        ([0.1, 0.8, 0.75], [1, 2]),  # runner-up within 90% of the best
        ([0.1, 0.8, 0.5], [1]),  # runner-up too far below
        ([0.8], [0]),
        ([0.5, 0.5, 0.5], [0, 1]),  # ties go to the earlier sentence, at most two
        ([-0.2, -0.1], [1]),  # a best that is not positive stands alone
        ([0.0, 0.0], [0]),
    ],
)
def test_highlight_rule(sims: list[float], picks: list[int]) -> None:
    assert highlight_picks(np.array(sims, np.float32)) == picks


def test_hit_ranks_add_the_final_rank() -> None:
    signal = {3: {"dense": 2}, 5: {"dense": 1, "bm25": 4}}
    assert hit_ranks(signal, [5, 3], "rerank") == [
        {"dense": 1, "bm25": 4, "rerank": 1},
        {"dense": 2, "rerank": 2},
    ]
    assert hit_ranks(signal, [5], None) == [{"dense": 1, "bm25": 4}]
    assert signal == {3: {"dense": 2}, 5: {"dense": 1, "bm25": 4}}  # copies, not the tables


def test_sentence_spans_cover_a_passage_without_sentences() -> None:
    assert sentence_spans("   ", 0, 3) == [(0, 3)]
    text = "One thing. Another thing."
    assert [text[a:b] for a, b in sentence_spans(text, 0, len(text))] == ["One thing.", "Another thing."]


@pytest.fixture
def indexes(corpus: Path, tmp_path: Path, fake_embedder) -> tuple[Index, Index]:
    build_index(corpus, tmp_path / "with", embedder=fake_embedder)
    build_index(
        corpus, tmp_path / "without", embedder=fake_embedder, settings=IndexSettings(sentence_vectors=False)
    )
    return Index.load(tmp_path / "with"), Index.load(tmp_path / "without")


def test_sentence_matches_fill_only_what_is_missing(indexes, fake_embedder) -> None:
    index, _ = indexes
    assert index.sentences is not None
    q = fake_embedder.embed(["orbital velocity"])[0]
    rows = list(range(len(index)))
    every = sentence_matches(index.sentences, q, rows)
    known = {rows[0]: every[rows[0]]}
    filled = sentence_matches(index.sentences, q, rows, known)
    assert filled.keys() == every.keys()
    assert filled[rows[0]] is every[rows[0]]
    assert known == {rows[0]: every[rows[0]]}  # not modified
    assert sentence_matches(index.sentences, q, []) == {}


def test_confidence_is_the_best_sentence_else_the_best_passage(indexes, fake_embedder) -> None:
    with_sentences, without = indexes
    q = fake_embedder.embed(["orbital velocity near earth"])[0]
    assert with_sentences.sentences is not None
    rows = [0, 1]
    matches = sentence_matches(with_sentences.sentences, q, rows)
    assert confidence(with_sentences, q, rows, matches) == max(matches[r][0] for r in rows)
    cosines = np.asarray(without.vector_matrix()[rows], np.float32) @ q
    assert confidence(without, q, rows, {}) == float(cosines.max())
    assert confidence(without, None, rows, {}) is None
    assert confidence(without, q, [], {}) is None


def test_both_highlight_sources_use_the_same_rule(indexes, fake_embedder) -> None:
    index, _ = indexes
    assert index.sentences is not None
    q = fake_embedder.embed(["Orbital velocity near Earth"])[0]
    rows = list(range(len(index)))
    matches = sentence_matches(index.sentences, q, rows)
    stored = matched_highlights(index.sentences, rows, matches)
    embedded = embedded_highlights(q, [index.passages[r] for r in rows], index.documents, fake_embedder)
    for row, marks, again in zip(rows, stored, embedded):
        sims = matches[row][3]
        assert [m.score for m in marks] == [float(sims[j]) for j in highlight_picks(sims)]
        # Both split the passage into the same sentences here, so they agree on the spans.
        assert [(m.start, m.end) for m in marks] == [(m.start, m.end) for m in again]
        text = index.documents[index.passages[row].doc_id].text
        assert all(index.passages[row].start <= m.start < m.end <= index.passages[row].end for m in marks)
        assert all(text[m.start : m.end].strip() for m in again)


def test_build_hits_ranks_from_one_and_cites(indexes) -> None:
    index, _ = indexes
    rows = [2, 0]
    hits = build_hits(
        index,
        rows,
        scores={2: 0.9, 0: 0.4},
        signal_scores={2: {"dense": 0.9}, 0: {"dense": 0.4}},
        ranks=[{"dense": 1}, {"dense": 2}],
    )
    assert [h.rank for h in hits] == [1, 2]
    assert [h.passage for h in hits] == [index.passages[2], index.passages[0]]
    assert [h.score for h in hits] == [0.9, 0.4]
    assert all(h.highlights == () for h in hits)
    assert hits[0].citation.doc_id == index.passages[2].doc_id
