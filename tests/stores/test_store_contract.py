"""The contract every registered vector store passes (one test module, parametrised over STORES).

Each store runs as one or more targets (tests/stores/targets.py): faiss, exact,
milvus-lite, and a Milvus server when tests/stores/test_milvus_server.py runs this module
inside the server's network namespace.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qa.errors import ConfigError
from qa.stores import STORES, VectorStore, exact_search, store_class
from stores.targets import TARGETS, Case


def _unit(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def assert_same_topk(scores, ids, ex_scores, ex_ids, *, tol: float = 1e-5) -> None:
    """A store and NumPy agree up to ties: same score list, and ids differ only where scores tie."""
    np.testing.assert_allclose(scores, ex_scores, atol=tol)
    for q in range(len(ids)):
        for r in range(ids.shape[1]):
            if ids[q, r] != ex_ids[q, r]:
                tied = np.abs(ex_scores[q] - scores[q, r]) <= tol
                assert (
                    ids[q, r] in set(ex_ids[q][tied].tolist()) or abs(ex_scores[q, -1] - scores[q, r]) <= tol
                )


def test_every_store_has_a_target() -> None:
    assert {t.store for t in TARGETS.values()} == set(STORES)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_search_agrees_with_exact_search(case: Case, seed: int) -> None:
    rng = np.random.default_rng(seed)
    vectors, queries = _unit(rng, 500, 32), _unit(rng, 20, 32)
    store = case.build(vectors)
    assert isinstance(store, VectorStore)
    assert store.size == 500 and store.dimension == 32
    scores, ids = store.search(queries, 10)
    assert scores.dtype == np.float32 and ids.dtype == np.int64 and ids.shape == (20, 10)
    assert_same_topk(scores, ids, *exact_search(vectors, queries, 10))


def test_exact_ties_return_the_tied_rows(case: Case) -> None:
    base = _unit(np.random.default_rng(3), 50, 16)
    vectors = np.concatenate([base, base])  # every vector twice: each score ties
    store = case.build(vectors)
    scores, ids = store.search(base[:5], 4)
    assert_same_topk(scores, ids, *exact_search(vectors, base[:5], 4))
    for q in range(5):  # both copies of the query vector come first, in either order
        assert set(ids[q, :2].tolist()) == {q, q + 50}


def test_empty_store(case: Case) -> None:
    store = case.build(np.zeros((0, 8), np.float32))
    scores, ids = store.search(np.ones((2, 8), np.float32) / np.sqrt(8), 5)
    assert store.size == 0
    assert ids.shape[0] == 2 and (ids.shape[1] == 0 or (ids == -1).all())
    reopened = case.reopen(store.describe())
    assert reopened.size == 0


def test_k_larger_than_the_store(case: Case) -> None:
    rng = np.random.default_rng(4)
    vectors = _unit(rng, 7, 16)
    store = case.build(vectors)
    scores, ids = store.search(vectors[:3], 50)
    for q in range(3):
        found = ids[q][ids[q] >= 0]
        assert sorted(found.tolist()) == list(range(7))  # every row once, none invented
        assert found[0] == q  # its own vector first
        assert np.all(np.diff(scores[q][ids[q] >= 0]) <= 1e-6)  # best first


def test_save_and_reopen_gives_the_same_results(case: Case) -> None:
    rng = np.random.default_rng(5)
    vectors, queries = _unit(rng, 300, 24), _unit(rng, 10, 24)
    store = case.build(vectors)
    before = store.search(queries, 8)
    params = store.describe()
    assert set(store.files()) == set(store_class(case.name).required_files(params))
    assert all((case.root / "snapshot" / f).is_file() for f in store.files())
    store.close()
    reopened = case.reopen(params)
    after = reopened.search(queries, 8)
    np.testing.assert_array_equal(before[1], after[1])
    np.testing.assert_allclose(before[0], after[0], atol=1e-6)


def test_rows_map_back_to_passages(case: Case, corpus: Path, fake_embedder) -> None:
    """Through a real build: searching a passage's own vector finds that passage first."""
    from qa.index import Index
    from qa.indexing import build_index

    build_index(corpus, case.root / "index", embedder=fake_embedder, store=case.settings)
    index = Index.load(case.root / "index")
    assert index.manifest.store.name == case.name
    vectors = np.asarray(index.vector_matrix(), dtype=np.float32)
    _, ids = index.store.search(vectors, 1)
    for row, found in enumerate(ids[:, 0].tolist()):
        assert index.passages[found].text == index.passages[row].text


def test_unknown_store_lists_the_valid_ones() -> None:
    with pytest.raises(
        ConfigError, match=r"unknown vector store 'annoy'; choose one of \['exact', 'faiss', 'milvus'"
    ):
        store_class("annoy")
