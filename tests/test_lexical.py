"""BM25 (qa.lexical): a saved index read without bm25s scores exactly as bm25s does; term coverage."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qa.lexical import BM25Index, SavedBM25, tokenize

TEXTS = [
    "Cats are small domesticated carnivores that sleep most of the day.",
    "A rocket engine burns propellant to produce thrust; rockets reach orbit.",
    "Bread is baked from flour, water and yeast; the cat sleeps by the oven.",
    "Thrust and propellant: the engine of the rocket, the rocket of the engine.",
]


def test_saved_index_scores_are_bit_identical_to_bm25s(tmp_path: Path) -> None:
    import bm25s

    BM25Index.build(TEXTS).save(tmp_path / "bm25")
    ours = BM25Index.load(tmp_path / "bm25", mmap=True)
    assert isinstance(ours._model, SavedBM25) and ours.size == len(TEXTS)
    theirs = bm25s.BM25.load(str(tmp_path / "bm25"), mmap=True)
    for query in ["sleeping cats", "rocket rocket engine thrust", "bread oven cat", "nothing matches zzz"]:
        ids = theirs.get_tokens_ids(tokenize(query))
        got = ours.scores(query)
        if not ids:
            assert got is None
            continue
        expected = theirs.get_scores_from_ids(ids)
        assert got.dtype == expected.dtype and np.array_equal(got, expected), query
    assert ours.search("rocket engine", 2)[1].tolist() == [3, 1]


def test_tokenizing_and_loading_do_not_import_bm25s(tmp_path: Path) -> None:
    BM25Index.build(TEXTS).save(tmp_path / "bm25")
    code = (
        "import sys; from qa.lexical import BM25Index, tokenize; "
        f"i = BM25Index.load({str(tmp_path / 'bm25')!r}, mmap=True); tokenize('the cats'); i.search('cats', 3); "
        "print('bm25s' in sys.modules, 'numba' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_building_from_ids_scores_as_bm25s_does_from_tokens(tmp_path: Path) -> None:
    import bm25s

    ours = BM25Index.build(TEXTS + [""])
    theirs = bm25s.BM25(k1=1.2, b=0.75)
    theirs.index([tokenize(t) or [""] for t in TEXTS + [""]], show_progress=False)
    for query in ["sleeping cats", "rocket rocket engine thrust", "bread oven cat"]:
        expected = theirs.get_scores_from_ids(theirs.get_tokens_ids(tokenize(query)))
        assert np.array_equal(ours.scores(query), expected), query


COVERAGE_TEXTS = [
    "The rocket engine burns liquid propellant.",
    "Bread dough rises because yeast ferments sugar.",
    "Rockets need thrust; engines give it.",
    "",
]


@pytest.fixture(scope="module")
def bm25() -> BM25Index:
    return BM25Index.build(COVERAGE_TEXTS)


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


def test_capitalised_stop_words_are_kept_as_acronyms() -> None:
    # "it", "is", "no" are stop words; written in capitals they are names (IT, IS therapy, NO).
    assert tokenize("Is it the IT staff? NO reply, and no IS therapy.") == [
        "it",
        "staff",
        "no",
        "repli",
        "is",
        "therapi",
    ]
    assert tokenize("The cat is on the mat") == ["cat", "mat"]
