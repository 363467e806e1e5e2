"""FAISS vector index over L2-normalised float32 vectors (inner product = cosine)."""

from __future__ import annotations

import logging
from enum import Enum
from pathlib import Path

import numpy as np

from qa.config import parse_enum

__all__ = ["IndexType", "VectorIndex", "choose_index_type", "exact_search"]

logger = logging.getLogger(__name__)

# Above this many vectors the default switches from exact search to a compressed index.
AUTO_THRESHOLD = 200_000


class IndexType(str, Enum):
    """FAISS index kinds qa can build."""

    AUTO = "auto"
    FLAT = "flat"
    HNSW = "hnsw"
    IVFPQ = "ivfpq"


def choose_index_type(n: int, requested: str | IndexType = IndexType.AUTO) -> IndexType:
    """Exact flat search for small collections; a compressed IVF-PQ index above the threshold."""
    kind = parse_enum(IndexType, requested, "index type")
    if kind is not IndexType.AUTO:
        return kind
    return IndexType.FLAT if n < AUTO_THRESHOLD else IndexType.IVFPQ


def exact_search(vectors: np.ndarray, queries: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Reference top-n by inner product with NumPy, ties broken by row id."""
    scores = queries @ vectors.T
    n = min(n, vectors.shape[0])
    out_s = np.zeros((queries.shape[0], n), np.float32)
    out_i = np.zeros((queries.shape[0], n), np.int64)
    for q in range(queries.shape[0]):
        order = np.lexsort((np.arange(vectors.shape[0]), -scores[q]))[:n]
        out_s[q], out_i[q] = scores[q, order], order
    return out_s, out_i


class VectorIndex:
    """A FAISS index whose vector id is the passage row."""

    def __init__(self, index, kind: IndexType) -> None:  # index: faiss.Index
        self._index = index
        self.kind = kind

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    @classmethod
    def build(cls, vectors: np.ndarray, *, kind: str | IndexType = IndexType.AUTO) -> VectorIndex:
        import faiss

        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        n, d = vectors.shape
        chosen = choose_index_type(n, kind)
        if chosen is IndexType.FLAT:
            index = faiss.IndexFlatIP(d)
        elif chosen is IndexType.HNSW:
            index = faiss.IndexHNSWFlat(d, 32, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = 80
            index.hnsw.efSearch = 128
        else:
            nlist = max(1, min(4096, int(4 * np.sqrt(max(n, 1)))))
            m = 48 if d % 48 == 0 else (32 if d % 32 == 0 else 16 if d % 16 == 0 else 8)
            quantizer = faiss.IndexFlatIP(d)
            index = faiss.IndexIVFPQ(quantizer, d, nlist, m, 8, faiss.METRIC_INNER_PRODUCT)
            train = (
                vectors
                if n <= 100_000
                else vectors[np.random.default_rng(0).choice(n, 100_000, replace=False)]
            )
            index.train(train)
            index.nprobe = min(nlist, 32)
        if n:
            index.add(vectors)
        logger.info("built %s index over %d vectors", chosen.value, n)
        return cls(index, chosen)

    def search(self, queries: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-n (scores, ids) per query row, best first; missing slots have id -1."""
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        n = max(1, min(n, self.size))
        if self.size == 0:
            return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
        scores, ids = self._index.search(queries, n)
        return scores, ids

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path, kind: str) -> VectorIndex:
        import faiss

        index = faiss.read_index(str(path))
        kind_enum = parse_enum(IndexType, kind, "index type")
        if kind_enum is IndexType.IVFPQ:
            faiss.extract_index_ivf(index).nprobe = min(faiss.extract_index_ivf(index).nlist, 32)
        elif kind_enum is IndexType.HNSW:
            index.hnsw.efSearch = 128
        return cls(index, kind_enum)
