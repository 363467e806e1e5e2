"""The vector-store contract, and the exact NumPy search every store is tested against."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from qa.config import StoreSettings

__all__ = ["Capability", "VectorStore", "exact_search", "ivf_nlist", "recall_at_k"]


class Capability:
    """Optional features a store may declare in `VectorStore.capabilities`."""

    PERSISTENT = "persistent"  # its data lives in the snapshot folder and reopens from there
    EXACT = "exact"  # searches every vector (recall 1.0)
    SERVER = "server"  # its data lives in a server or file outside the snapshot folder


@runtime_checkable
class VectorStore(Protocol):
    """Passage vectors, searchable by inner product (= cosine on normalised vectors).

    Row i of the store is passage row i of the snapshot. Searching is batch only:
    `search(q)` for one question is `search(q[None])`.
    """

    name: ClassVar[str]
    capabilities: ClassVar[frozenset[str]]

    @property
    def size(self) -> int: ...

    @property
    def dimension(self) -> int: ...

    def search(self, queries: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-n per query row, best first: float32 scores and int64 rows, both
        (len(queries), m) with m <= n; an empty slot has row -1. An empty store gives m = 0."""
        ...

    def describe(self) -> dict[str, Any]:
        """What the manifest records of this store (kind and search parameters)."""
        ...

    def files(self) -> tuple[str, ...]:
        """The files this store wrote into the snapshot folder (verified on load)."""
        ...

    def memory_bytes(self) -> int: ...

    def close(self) -> None: ...

    @classmethod
    def build(cls, vectors: np.ndarray, folder: Path, *, settings: StoreSettings) -> VectorStore:
        """Index `vectors` (float32 (n, d), L2-normalised; row i gets id i) and write it
        into the snapshot folder `folder` (or the store's own place) so `open` finds it."""
        ...

    @classmethod
    def open(cls, folder: Path, *, params: Mapping[str, Any], settings: StoreSettings) -> VectorStore:
        """Open what `build` wrote for the snapshot in `folder` (`params` is what
        `describe()` returned then)."""
        ...

    @classmethod
    def required_files(cls, params: Mapping[str, Any]) -> tuple[str, ...]:
        """Files a snapshot built by this store must contain (for the manifest check)."""
        ...


def ivf_nlist(n: int, *, train_sample: int = 100_000) -> int:
    """Inverted-file lists for `n` vectors: ~4 sqrt(n) (FAISS's guidance), with at least
    39 training points per list among `train_sample`, at most 8192."""
    return max(1, min(int(4 * np.sqrt(max(n, 1))), max(1, min(n, train_sample) // 39), 8192))


def exact_search(vectors: np.ndarray, queries: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Reference top-n by inner product with NumPy, ties broken by row id."""
    vectors = np.asarray(vectors, dtype=np.float32)
    queries = np.asarray(queries, dtype=np.float32)
    scores = queries @ vectors.T
    n = min(n, vectors.shape[0])
    out_s = np.zeros((queries.shape[0], n), np.float32)
    out_i = np.zeros((queries.shape[0], n), np.int64)
    for q in range(queries.shape[0]):
        order = np.lexsort((np.arange(vectors.shape[0]), -scores[q]))[:n]
        out_s[q], out_i[q] = scores[q, order], order
    return out_s, out_i


def recall_at_k(found: np.ndarray, exact: np.ndarray, k: int = 10) -> float:
    """Mean over queries of |found[:k] ∩ exact[:k]| / k (the ids of approximate vs exact top-k)."""
    if len(exact) == 0:
        return 1.0
    hits = [len(set(f[:k].tolist()) & set(e[:k].tolist())) / min(k, len(e)) for f, e in zip(found, exact)]
    return float(np.mean(hits))
