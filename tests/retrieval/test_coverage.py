"""Term coverage (qa.retrieval.coverage): question terms found in a passage's own text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qa.index import Index
from qa.indexing import build_index
from qa.lexical import tokenize
from qa.retrieval.coverage import question_terms, term_coverage


@pytest.fixture
def index(corpus: Path, tmp_path: Path, fake_embedder) -> Index:
    # A long handbook: its sections become passages whose own text lacks the title.
    engines = " ".join(["The engine burns propellant to produce thrust."] * 60)
    orbits = " ".join(["Orbital velocity near Earth is about 7.8 kilometres per second."] * 60)
    (corpus / "handbook.md").write_text(
        f"# Rocket handbook\n\n## Engines\n\n{engines}\n\n## Orbits\n\n{orbits}\n", encoding="utf-8"
    )
    build_index(corpus, tmp_path / "idx", embedder=fake_embedder)
    return Index.load(tmp_path / "idx")


def _row(index: Index, needle: str) -> int:
    return next(i for i, p in enumerate(index.passages) if needle in p.text)


def test_title_and_heading_context_does_not_count(index: Index) -> None:
    # The Orbits passage's BM25 text carries "Rocket handbook - Orbits" as context; its
    # own text has "velocity" but not "rocket".
    row = _row(index, "Orbital velocity")
    assert "rocket" not in index.passages[row].text.lower()
    assert index.bm25.coverage("rocket velocity", [row]) == pytest.approx([1.0])
    assert term_coverage(index, "rocket velocity", [row]) == pytest.approx([0.5])


def test_equals_tokenizing_every_passage(index: Index) -> None:
    rows = list(range(len(index.passages)))
    for question in (
        "rocket engine thrust",
        "How fast is orbital velocity?",
        "cats sleep",
        "yeast dough rises",
    ):
        terms = question_terms(question)
        want = [len(set(terms) & set(tokenize(index.passages[r].text))) / len(terms) for r in rows]
        assert term_coverage(index, question, rows) == pytest.approx(want)


def test_unknown_terms_count_and_empty_questions_give_zeros(index: Index) -> None:
    row = _row(index, "rocket engine burns")
    # "zeppelin" is in no passage: one term of two found.
    assert term_coverage(index, "rocket zeppelin", [row]) == pytest.approx([0.5])
    got = term_coverage(index, "the of and", [row, 0])  # stop words only
    assert got.dtype == np.float64 and not got.any()
    assert term_coverage(index, "rocket", []).shape == (0,)


def test_terms_repeat_once(index: Index) -> None:
    row = _row(index, "rocket engine burns")
    assert question_terms("rocket rockets engine") == ["rocket", "engin"]
    assert term_coverage(index, "rocket rockets zeppelin", [row]) == pytest.approx([0.5])


def test_top_k_is_that_of_scoring_every_candidate(index: Index, fake_embedder) -> None:
    # Coverage is computed only for rows that can reach the top k; the top k must be the
    # first k of a search that scores every candidate.
    from qa.retrieval import COVERAGE_WEIGHT, Retriever

    retriever = Retriever(index, embedder=fake_embedder, threshold=None, coverage_weight=COVERAGE_WEIGHT)
    n = len(index.passages)
    for q in ("rocket engine thrust", "orbital velocity of a rocket", "cats and bread"):
        full = retriever.search(q, k=n, mode="hybrid")
        for k in (1, 2, 3):
            top = retriever.search(q, k=k, mode="hybrid")
            assert [h.passage_id for h in top] == [h.passage_id for h in full[:k]]
            assert [h.score for h in top] == pytest.approx([h.score for h in full[:k]])
            assert all("coverage" in h.scores for h in top)


def test_top_k_pruning_is_exact_on_the_seeds(seed_retriever, real_embedder) -> None:
    # The real model and index: 68 passages, so k=3 prunes most candidates.
    from qa.retrieval import COVERAGE_WEIGHT, Retriever

    seed_retriever = Retriever(seed_retriever.index, embedder=real_embedder, coverage_weight=COVERAGE_WEIGHT)
    questions = [
        "How many US soldiers died in May?",
        "What did the resistance distribute in Baghdad?",
        "Why is there no outcry against the war in the US?",
        "Where did two British soldiers die?",
    ]
    for q in questions:
        full = seed_retriever.search(q, k=200, mode="hybrid")
        top = seed_retriever.search(q, k=3, mode="hybrid")
        assert [h.passage_id for h in top] == [h.passage_id for h in full[:3]]
        assert [h.score for h in top] == pytest.approx([h.score for h in full[:3]])
