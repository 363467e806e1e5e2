"""Vector stores behind one seam: a new store is `stores/NAME.py` plus one line in `STORES`.

Every store implements `VectorStore` (see `base`) and passes the contract tests in
tests/stores/. Stores are imported only when chosen, so an optional dependency (such
as pymilvus) is needed only by the indexes that use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from qa.config import StoreSettings
from qa.registry import Registry
from qa.stores.base import Capability, VectorStore, exact_search, recall_at_k

__all__ = [
    "STORES",
    "Capability",
    "VectorStore",
    "build_store",
    "exact_search",
    "open_store",
    "recall_at_k",
    "store_class",
]

STORES = Registry(
    "vector store",
    {
        "faiss": "qa.stores.faiss:FaissStore",
        "exact": "qa.stores.exact:ExactStore",
        "milvus": "qa.stores.milvus:MilvusStore",
    },
    packages={"faiss": "faiss-cpu", "milvus": "qa[milvus]"},
)


def store_class(name: str) -> type[VectorStore]:
    """The store class registered as `name` (imported now)."""
    return STORES.load(name)


def build_store(vectors: np.ndarray, folder: Path, settings: StoreSettings) -> VectorStore:
    """Index `vectors` in the store `settings.name`, writing into the snapshot `folder`."""
    return store_class(settings.name).build(vectors, folder, settings=settings)


def open_store(folder: Path, settings: StoreSettings, params: Mapping[str, Any]) -> VectorStore:
    """Open the store of the snapshot in `folder` as its manifest describes it."""
    return store_class(settings.name).open(folder, params=params, settings=settings)
