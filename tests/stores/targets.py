"""Store targets: each way to run a store, made concrete for one test as a `Case`.

A target names the store and makes the settings it needs in a test's folder
(milvus-lite: a file in tmp_path). The Milvus server target exists only when
`QA_TEST_MILVUS_URI` is set: tests/stores/test_milvus_server.py starts a server in a
network namespace of its own and runs these modules there with it set.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from qa.config import StoreSettings
from qa.stores import VectorStore, build_store, open_store

# Every contract test keeps to this many vectors, so milvus-lite runs in every `make test`.
MAX_VECTORS = 5_000
SERVER_URI = os.environ.get("QA_TEST_MILVUS_URI")


@dataclass(frozen=True)
class Target:
    """One way to run a store: its name, the settings for a test folder, why it cannot run."""

    store: str
    settings: Callable[[Path], StoreSettings]
    missing: str | None = None


def _milvus_missing() -> str | None:
    for module in ("pymilvus", "milvus_lite"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (pip install 'qa[milvus]')"
    return None


TARGETS: dict[str, Target] = {
    "faiss": Target("faiss", lambda _: StoreSettings(name="faiss")),
    "exact": Target("exact", lambda _: StoreSettings(name="exact")),
    "milvus-lite": Target(
        "milvus", lambda root: StoreSettings(name="milvus", uri=str(root / "milvus.db")), _milvus_missing()
    ),
}
if SERVER_URI:
    TARGETS["milvus-server"] = Target("milvus", lambda _: StoreSettings(name="milvus", uri=SERVER_URI))


@dataclass(frozen=True)
class Case:
    """A target made concrete for one test: the store's name and settings, and the index folder."""

    name: str
    settings: StoreSettings
    root: Path

    def build(self, vectors: np.ndarray) -> VectorStore:
        assert len(vectors) <= MAX_VECTORS
        folder = self.root / "snapshot"
        folder.mkdir(parents=True, exist_ok=True)
        return build_store(vectors, folder, self.settings)

    def build_with(self, vectors: np.ndarray, **changes) -> VectorStore:
        """`build` with some settings changed (e.g. `index_type="hnsw"`)."""
        return replace(self, settings=replace(self.settings, **changes)).build(vectors)

    def reopen(self, params) -> VectorStore:
        return open_store(self.root / "snapshot", self.settings, params)
