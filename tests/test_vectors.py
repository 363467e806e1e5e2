"""FAISS index kinds against exact NumPy search; the automatic choice; compressed recall."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qa.errors import ConfigError
from qa.vectors import (
    AUTO_THRESHOLD,
    IndexType,
    VectorIndex,
    choose_index_type,
    exact_search,
    recall_at_k,
)


def _unit(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _clustered(
    rng: np.random.Generator, n: int, d: int, clusters: int, *, queries: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Topic-like data and queries: unit vectors scattered around shared random centres.

    Each vector has cosine ~0.7 with its centre; queries are drawn the same way, as
    questions are about the topics of the collection.
    """
    centres = _unit(rng, clusters, d)

    def draw(m: int) -> np.ndarray:
        x = centres[rng.integers(0, clusters, m)] + rng.standard_normal((m, d)).astype(np.float32) / np.sqrt(
            d
        )
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    return draw(n), draw(queries)


def _assert_same_topk(scores, ids, ex_scores, ex_ids, *, tol: float = 1e-5) -> None:
    """FAISS and NumPy agree up to ties: same score list, and ids differ only where scores tie."""
    np.testing.assert_allclose(scores, ex_scores, atol=tol)
    for q in range(len(ids)):
        for r in range(ids.shape[1]):
            if ids[q, r] != ex_ids[q, r]:
                tied = np.abs(ex_scores[q] - scores[q, r]) <= tol
                assert (
                    ids[q, r] in set(ex_ids[q][tied].tolist()) or abs(ex_scores[q, -1] - scores[q, r]) <= tol
                )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_flat_matches_exact_numpy_search(seed: int) -> None:
    rng = np.random.default_rng(seed)
    vectors, queries = _unit(rng, 500, 32), _unit(rng, 20, 32)
    index = VectorIndex.build(vectors, kind="flat")
    scores, ids = index.search(queries, 10)
    ex_scores, ex_ids = exact_search(vectors, queries, 10)
    _assert_same_topk(scores, ids, ex_scores, ex_ids)


def test_flat_with_exact_ties_returns_tied_rows() -> None:
    rng = np.random.default_rng(3)
    base = _unit(rng, 50, 16)
    vectors = np.concatenate([base, base])  # every vector twice: each score ties
    index = VectorIndex.build(vectors, kind="flat")
    scores, ids = index.search(base[:5], 4)
    ex_scores, ex_ids = exact_search(vectors, base[:5], 4)
    _assert_same_topk(scores, ids, ex_scores, ex_ids)
    # Both copies of the query vector come first, whatever their order.
    for q in range(5):
        assert set(ids[q, :2].tolist()) == {q, q + 50}


def test_auto_choice_switches_at_threshold() -> None:
    assert choose_index_type(10) is IndexType.FLAT
    assert choose_index_type(AUTO_THRESHOLD - 1) is IndexType.FLAT
    assert choose_index_type(AUTO_THRESHOLD) is IndexType.IVFSQ8
    assert choose_index_type(5_000_000) is IndexType.IVFSQ8
    # An explicit choice always wins.
    assert choose_index_type(10, "hnsw") is IndexType.HNSW
    assert choose_index_type(AUTO_THRESHOLD * 10, "flat") is IndexType.FLAT
    with pytest.raises(ConfigError, match="choose one of"):
        choose_index_type(10, "annoy")


def test_auto_build_uses_threshold_and_records_kind(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    vectors, _ = _clustered(rng, 3000, 32, 30)
    small = VectorIndex.build(vectors, kind="auto")
    assert small.kind is IndexType.FLAT and small.nprobe is None
    big = VectorIndex.build(vectors, kind="auto", threshold=1000)
    assert big.kind is IndexType.IVFSQ8
    info = big.describe()
    assert info["type"] == "ivfsq8" and 1 <= info["nprobe"] <= info["nlist"]
    big.save(tmp_path / "index.faiss")
    loaded = VectorIndex.load(tmp_path / "index.faiss", "ivfsq8")
    assert loaded.size == 3000 and loaded.nprobe == big.nprobe
    np.testing.assert_array_equal(loaded.search(vectors[:5], 5)[1], big.search(vectors[:5], 5)[1])


def test_recall_at_k_counts_overlap() -> None:
    exact = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    found = np.array([[4, 3, 2, 1], [5, 9, 9, 9]])
    assert recall_at_k(found, exact, k=4) == pytest.approx((1.0 + 0.25) / 2)


@pytest.mark.parametrize("kind", ["ivfsq8", "hnsw"])
def test_compressed_recall_at_10_is_high(kind: str) -> None:
    rng = np.random.default_rng(5)
    vectors, queries = _clustered(rng, 8000, 64, 80, queries=100)
    index = VectorIndex.build(vectors, kind=kind)
    assert index.kind.value == kind and index.size == 8000
    _, ids = index.search(queries, 10)
    _, exact = exact_search(vectors, queries, 10)
    assert recall_at_k(ids, exact, k=10) >= 0.95


def test_ivfsq8_is_smaller_than_flat() -> None:
    vectors, _ = _clustered(np.random.default_rng(7), 5000, 64, 50)
    flat = VectorIndex.build(vectors, kind="flat").memory_bytes()
    sq8 = VectorIndex.build(vectors, kind="ivfsq8").memory_bytes()
    assert sq8 < flat / 2.5  # 8-bit codes vs float32, plus ids and centroids


def test_nprobe_override(monkeypatch: pytest.MonkeyPatch) -> None:
    vectors, _ = _clustered(np.random.default_rng(8), 4000, 32, 40)
    monkeypatch.setenv("QA_NPROBE", "3")
    index = VectorIndex.build(vectors, kind="ivfsq8")
    assert index.nprobe == 3
    index.nprobe = 10**6  # clamped to the number of lists: then it is exact up to SQ8 rounding
    assert index.nprobe == index.describe()["nlist"]


def test_empty_index_search() -> None:
    index = VectorIndex.build(np.zeros((0, 8), np.float32), kind="flat")
    scores, ids = index.search(np.ones((2, 8), np.float32), 5)
    assert scores.shape == (2, 0) and ids.shape == (2, 0)
