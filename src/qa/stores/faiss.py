"""The FAISS store: an index over L2-normalised float32 vectors (inner product = cosine).

Small collections get exact search (`flat`). Above `AUTO_THRESHOLD` vectors, `auto`
picks `ivfsq8`: an inverted file (k-means lists, only the closest `nprobe` lists are
scanned) whose vectors are stored as 8-bit scalars, 4x smaller than float32 and
nearly lossless, so recall is decided by `nprobe` alone. `ivfpq` (product
quantisation, ~8x smaller again, lower recall) and `hnsw` (graph, float32, fastest
and largest) can be asked for explicitly.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from qa.config import StoreSettings, configured_nprobe, parse_enum
from qa.stores.base import Capability, ivf_nlist

__all__ = ["AUTO_THRESHOLD", "FILE", "FaissStore", "IndexType", "choose_index_type", "default_nprobe"]

logger = logging.getLogger(__name__)

# Above this many vectors `auto` switches from exact search to a compressed index:
# flat search at 200k x 384 dims is ~300 MB and tens of milliseconds per query on 2 cores.
AUTO_THRESHOLD = 200_000
FILE = "index.faiss"
# Vectors used to train the k-means lists (and PQ codebooks) of IVF indexes.
TRAIN_SAMPLE = 100_000
HNSW_EF_SEARCH = 128
# Fewer queries than this are searched on one OpenMP thread: a single query gains
# nothing from a thread team, and on a busy machine waiting for the team to assemble
# cost 5-9x (flat search over 100k vectors: 150 ms with 2 threads, 17-32 ms with 1).
SMALL_BATCH = 16


class IndexType(str, Enum):
    """FAISS index kinds qa can build."""

    AUTO = "auto"
    FLAT = "flat"
    HNSW = "hnsw"
    IVFSQ8 = "ivfsq8"
    IVFPQ = "ivfpq"


def choose_index_type(
    n: int, requested: str | IndexType = IndexType.AUTO, *, threshold: int = AUTO_THRESHOLD
) -> IndexType:
    """The index kind for `n` vectors: `requested`, or for `auto` exact below `threshold`, IVF-SQ8 above."""
    kind = parse_enum(IndexType, requested, "index type")
    if kind is not IndexType.AUTO:
        return kind
    return IndexType.FLAT if n < threshold else IndexType.IVFSQ8


_omp_threads: int | None = None


def _default_threads() -> int:
    global _omp_threads
    if _omp_threads is None:
        import faiss

        _omp_threads = int(faiss.omp_get_max_threads())
    return _omp_threads


def _nlist(n: int) -> int:
    return ivf_nlist(n, train_sample=TRAIN_SAMPLE)


def default_nprobe(nlist: int) -> int:
    """Lists scanned per query: `QA_NPROBE`, else 20% of the lists (at least 32).

    Generous on purpose: questions need not fall inside one list, and scanning 8-bit
    codes is cheap. At 1M vectors (2564 lists), one FAISS thread on the idle 2-core
    machine, recall@10 against exact search / p50 per query: 10% of the lists 0.944-0.955
    / 3.5 ms, 15% 0.963 / 5.2 ms, 20% 0.969 / 6.9 ms, 25% 0.974 / 8.6 ms (bench/scale.py
    data, two query samples).
    """
    env = configured_nprobe()
    if env is not None:
        return max(1, min(nlist, env))
    return max(1, min(nlist, max(32, nlist // 5)))


class FaissStore:
    """A FAISS index whose vector id is the passage row, saved as `index.faiss` in the snapshot."""

    name: ClassVar[str] = "faiss"
    capabilities: ClassVar[frozenset[str]] = frozenset({Capability.PERSISTENT})

    def __init__(self, index, kind: IndexType) -> None:  # index: faiss.Index
        self._index = index
        self.kind = kind
        self._tune()

    def _tune(self) -> None:
        import faiss

        if self.kind in (IndexType.IVFSQ8, IndexType.IVFPQ):
            ivf = faiss.extract_index_ivf(self._index)
            ivf.nprobe = default_nprobe(ivf.nlist)
        elif self.kind is IndexType.HNSW:
            self._index.hnsw.efSearch = HNSW_EF_SEARCH

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    @property
    def nprobe(self) -> int | None:
        """Lists scanned per query (IVF kinds only)."""
        if self.kind not in (IndexType.IVFSQ8, IndexType.IVFPQ):
            return None
        import faiss

        return int(faiss.extract_index_ivf(self._index).nprobe)

    @nprobe.setter
    def nprobe(self, value: int) -> None:
        import faiss

        if self.kind in (IndexType.IVFSQ8, IndexType.IVFPQ):
            ivf = faiss.extract_index_ivf(self._index)
            ivf.nprobe = max(1, min(int(value), ivf.nlist))

    def memory_bytes(self) -> int:
        """Bytes the index takes when loaded (its serialised size, which FAISS holds in RAM)."""
        import faiss

        return int(faiss.serialize_index(self._index).nbytes)

    def describe(self) -> dict[str, Any]:
        """Kind and search parameters, for the manifest."""
        info: dict[str, Any] = {"type": self.kind.value}
        if self.kind in (IndexType.IVFSQ8, IndexType.IVFPQ):
            import faiss

            ivf = faiss.extract_index_ivf(self._index)
            info.update(nlist=int(ivf.nlist), nprobe=int(ivf.nprobe))
        elif self.kind is IndexType.HNSW:
            info.update(M=32, efSearch=int(self._index.hnsw.efSearch))
        return info

    def files(self) -> tuple[str, ...]:
        return (FILE,)

    def close(self) -> None:
        pass

    @classmethod
    def build(cls, vectors: np.ndarray, folder: Path, *, settings: StoreSettings) -> FaissStore:
        """Build the index kind `settings.index_type` asks for and save it in `folder`."""
        store = cls.create(vectors, kind=settings.index_type)
        store.save(folder / FILE)
        return store

    @classmethod
    def open(cls, folder: Path, *, params: Mapping[str, Any], settings: StoreSettings) -> FaissStore:
        return cls.load(folder / FILE, str(params["type"]))

    @classmethod
    def required_files(cls, params: Mapping[str, Any]) -> tuple[str, ...]:
        return (FILE,)

    @classmethod
    def create(
        cls,
        vectors: np.ndarray,
        *,
        kind: str | IndexType = IndexType.AUTO,
        threshold: int = AUTO_THRESHOLD,
    ) -> FaissStore:
        """Build an index over `vectors` (row i gets id i), in memory.

        Args:
            vectors: float32 (n, d), L2-normalised.
            kind: index kind; `auto` is exact below `threshold` vectors and IVF-SQ8 above.
            threshold: size at which `auto` switches to the compressed index.
        """
        import faiss

        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        n, d = vectors.shape
        chosen = choose_index_type(n, kind, threshold=threshold)
        if chosen is IndexType.FLAT:
            index = faiss.IndexFlatIP(d)
        elif chosen is IndexType.HNSW:
            index = faiss.IndexHNSWFlat(d, 32, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = 80
        else:
            nlist = _nlist(n)
            quantizer = faiss.IndexFlatIP(d)
            if chosen is IndexType.IVFSQ8:
                index = faiss.IndexIVFScalarQuantizer(
                    quantizer, d, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
                )
            else:
                m = next(m for m in (48, 32, 24, 16, 12, 8, 4, 2, 1) if d % m == 0)
                index = faiss.IndexIVFPQ(quantizer, d, nlist, m, 8, faiss.METRIC_INNER_PRODUCT)
            train = (
                vectors
                if n <= TRAIN_SAMPLE
                else vectors[np.sort(np.random.default_rng(0).choice(n, TRAIN_SAMPLE, replace=False))]
            )
            index.train(train)
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
        if len(queries) >= SMALL_BATCH:
            return self._index.search(queries, n)
        import faiss

        # The thread count is process-wide: restore the count FAISS started with (not
        # the current one, which a concurrent small search may have lowered).
        threads = _default_threads()
        faiss.omp_set_num_threads(1)
        try:
            return self._index.search(queries, n)
        finally:
            faiss.omp_set_num_threads(threads)

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path, kind: str) -> FaissStore:
        import faiss

        index = faiss.read_index(str(path))
        return cls(index, parse_enum(IndexType, kind, "index type"))
