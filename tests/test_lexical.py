"""BM25Index.coverage: the share of a question's distinct terms found in each passage."""

from __future__ import annotations

import numpy as np
import pytest

from qa.lexical import BM25Index

TEXTS = [
    "The rocket engine burns liquid propellant.",
    "Bread dough rises because yeast ferments sugar.",
    "Rockets need thrust; engines give it.",
    "",
]


@pytest.fixture(scope="module")
def bm25() -> BM25Index:
    return BM25Index.build(TEXTS)


def test_coverage_counts_distinct_stemmed_terms(bm25: BM25Index) -> None:
    # Terms: rocket, engin, thrust (stemmed; "the" is a stop word).
    got = bm25.coverage("the rocket engine thrust", [0, 1, 2, 3])
    assert got == pytest.approx([2 / 3, 0.0, 1.0, 0.0])
    # A repeated term counts once.
    assert bm25.coverage("rocket rocket engines", [0]) == pytest.approx([1.0])


def test_unknown_terms_count_in_the_denominator(bm25: BM25Index) -> None:
    assert bm25.coverage("rocket zebra", [0, 2]) == pytest.approx([0.5, 0.5])
    assert bm25.coverage("zebra quantum", [0, 1]).tolist() == [0.0, 0.0]


def test_no_terms_or_no_rows_give_zeros(bm25: BM25Index) -> None:
    assert bm25.coverage("the of and", [0, 1]).tolist() == [0.0, 0.0]
    out = bm25.coverage("rocket", [])
    assert isinstance(out, np.ndarray) and out.shape == (0,)
