"""Exact search with NumPy: the reference store (every other store is tested against it)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from qa.config import StoreSettings
from qa.stores.base import Capability, exact_search

__all__ = ["ExactStore"]

FILE = "store-exact.npy"


class ExactStore:
    """Brute-force inner product over a memory-mapped float32 matrix."""

    name: ClassVar[str] = "exact"
    capabilities: ClassVar[frozenset[str]] = frozenset({Capability.PERSISTENT, Capability.EXACT})

    def __init__(self, vectors: np.ndarray) -> None:
        self._vectors = vectors

    @property
    def size(self) -> int:
        return int(self._vectors.shape[0])

    @property
    def dimension(self) -> int:
        return int(self._vectors.shape[1])

    def search(self, queries: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        queries = np.asarray(queries, dtype=np.float32)
        if self.size == 0:
            return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
        return exact_search(self._vectors, queries, max(1, n))

    def describe(self) -> dict[str, Any]:
        return {"type": "exact"}

    def files(self) -> tuple[str, ...]:
        return (FILE,)

    def memory_bytes(self) -> int:
        return int(self._vectors.nbytes)

    def close(self) -> None:
        pass

    @classmethod
    def build(cls, vectors: np.ndarray, folder: Path, *, settings: StoreSettings) -> ExactStore:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        np.save(folder / FILE, vectors)
        return cls(vectors)

    @classmethod
    def open(cls, folder: Path, *, params: Mapping[str, Any], settings: StoreSettings) -> ExactStore:
        return cls(np.load(folder / FILE, mmap_mode="r"))

    @classmethod
    def required_files(cls, params: Mapping[str, Any]) -> tuple[str, ...]:
        return (FILE,)
