"""The FAISS store's own features: index kinds, the automatic choice, compressed recall, nprobe."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qa.errors import ConfigError
from qa.stores import exact_search, recall_at_k
from qa.stores.faiss import AUTO_THRESHOLD, FaissStore, IndexType, choose_index_type
from stores.vectors import clustered as _clustered


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
    small = FaissStore.create(vectors, kind="auto")
    assert small.kind is IndexType.FLAT and small.nprobe is None
    big = FaissStore.create(vectors, kind="auto", threshold=1000)
    assert big.kind is IndexType.IVFSQ8
    info = big.describe()
    assert info["type"] == "ivfsq8" and 1 <= info["nprobe"] <= info["nlist"]
    big.save(tmp_path / "index.faiss")
    loaded = FaissStore.load(tmp_path / "index.faiss", "ivfsq8")
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
    index = FaissStore.create(vectors, kind=kind)
    assert index.kind.value == kind and index.size == 8000
    _, ids = index.search(queries, 10)
    _, exact = exact_search(vectors, queries, 10)
    assert recall_at_k(ids, exact, k=10) >= 0.95


def test_ivfsq8_is_smaller_than_flat() -> None:
    vectors, _ = _clustered(np.random.default_rng(7), 5000, 64, 50)
    flat = FaissStore.create(vectors, kind="flat").memory_bytes()
    sq8 = FaissStore.create(vectors, kind="ivfsq8").memory_bytes()
    assert sq8 < flat / 2.5  # 8-bit codes vs float32, plus ids and centroids


def test_nprobe_override(monkeypatch: pytest.MonkeyPatch) -> None:
    vectors, _ = _clustered(np.random.default_rng(8), 4000, 32, 40)
    monkeypatch.setenv("QA_NPROBE", "3")
    index = FaissStore.create(vectors, kind="ivfsq8")
    assert index.nprobe == 3
    index.nprobe = 10**6  # clamped to the number of lists: then it is exact up to SQ8 rounding
    assert index.nprobe == index.describe()["nlist"]
