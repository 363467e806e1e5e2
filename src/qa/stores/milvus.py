"""The Milvus store: passage vectors in one Milvus collection per snapshot, on a server or in a milvus-lite file.

pymilvus' `MilvusClient` runs the same code against a Milvus server (`http://HOST:19530`)
and against milvus-lite, an embedded file (any URI without `://`). With no URI the file
is `milvus.db` in the index folder, beside the snapshot folders (not inside one: the
snapshot's files are checksummed, and milvus-lite changes its files while it runs).

Only the ANN search lives in Milvus: collection rows are passage rows (INT64 primary key
0..n-1) with one FLOAT_VECTOR field, searched by inner product (= cosine on the
normalised vectors). The exact vectors, sentence vectors, BM25 and the passage table stay
in the snapshot folder, so reranking, highlights and fusion are the same for every store.

Snapshots stay atomic: each build writes a new collection with a unique name, recorded
in the manifest, so publishing `CURRENT` switches readers to it. A build then drops this
index folder's older collections except the live one, so a reader still searching the
previous snapshot keeps working; a reader two builds behind must reopen the index.

milvus-lite allows one process per file: while `qa serve` holds it, `qa index` or
`qa ask` in another process fail with `IndexLockedError` (a server has no such limit).

About 430 lines: besides the store itself, the milvus-lite file lock, collection
naming and the clean-up of older snapshots' collections live here, where Milvus is known.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import logging
import time
import uuid
from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pymilvus import DataType, MilvusClient, MilvusException

from qa.config import StoreSettings, parse_enum
from qa.errors import ConfigError, IndexCorruptError, IndexLockedError, StoreError
from qa.stores.base import Capability, ivf_nlist
from qa.timestamps import name_stamp

__all__ = [
    "AUTO_THRESHOLD",
    "DEFAULT_FILE",
    "IndexType",
    "MilvusStore",
    "choose_index_type",
    "collection_prefix",
    "is_local",
]

logger = logging.getLogger(__name__)
# milvus-lite runs an in-process gRPC server; pymilvus asks it for methods it does not
# implement (AllocTimestamp), and grpc logs each as an ERROR with a traceback. Noise to a
# user: the client falls back by itself.
logging.getLogger("grpc._server").setLevel(logging.CRITICAL)

# `auto` searches exactly (FLAT) below this many vectors and uses IVF_FLAT above: the
# same switch point as the FAISS store (flat search at 200k x 384 dims is tens of ms).
AUTO_THRESHOLD = 200_000
DEFAULT_FILE = "milvus.db"
ID, VECTOR = "id", "vector"
# Rows per insert request: 10k x 384 float32 is ~15 MB, under gRPC's 64 MB message limit.
INSERT_BATCH = 10_000
# Milvus' largest `limit` per search.
MAX_TOPK = 16_384
HNSW_M, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH = 32, 80, 128
# Bounded wait for a server to finish building the index of a new collection.
INDEX_WAIT_SECONDS = 600.0
# Reads see every write before them ("Strong"); the default (Bounded) may return rows
# of a collection as it was a moment ago.
CONSISTENCY = "Strong"
# Searches read at Strong consistency too, as the project requires of every Milvus read.
# Measured cost: a Strong search on a Milvus 2.3 server waits for the next time tick,
# p50 ~200 ms per query at 100k vectors vs ~27 ms at Session/Bounded, with the same
# recall@10 (bench/stores.py, docs/STORES.md "Measured"). A snapshot's collection is
# written once before `CURRENT` is published, so "Session" would be safe here; it is
# one constant away, and left for a decision with that measurement.
SEARCH_CONSISTENCY = "Strong"
_INSTALL = "pip install 'qa[milvus]'"


class IndexType(str, Enum):
    """Milvus index kinds qa can build (the value is qa's name, `milvus` Milvus' own)."""

    AUTO = "auto"
    FLAT = "flat"
    IVF = "ivf"
    IVFSQ8 = "ivfsq8"
    HNSW = "hnsw"

    @property
    def milvus(self) -> str:
        return {"flat": "FLAT", "ivf": "IVF_FLAT", "ivfsq8": "IVF_SQ8", "hnsw": "HNSW"}[self.value]


def choose_index_type(n: int, requested: str | IndexType = IndexType.AUTO) -> IndexType:
    """The index kind for `n` vectors: `requested`, or for `auto` FLAT below AUTO_THRESHOLD, IVF_FLAT above."""
    kind = parse_enum(IndexType, requested, "Milvus index type")
    if kind is not IndexType.AUTO:
        return kind
    return IndexType.FLAT if n < AUTO_THRESHOLD else IndexType.IVF


def default_nprobe(nlist: int) -> int:
    """Lists scanned per query: 20% of the lists (at least 32), as the FAISS store does."""
    from qa.stores.faiss import default_nprobe as faiss_nprobe

    return faiss_nprobe(nlist)


def is_local(uri: str) -> bool:
    """True for a milvus-lite file path, False for a server URI (`http://...`, `tcp://...`)."""
    return "://" not in uri


def resolve_uri(uri: str | None, index_root: Path) -> str:
    """The URI to connect to: a server URI as given, a file path made absolute, or the default file."""
    if not uri:
        return str((index_root / DEFAULT_FILE).resolve())
    return str(Path(uri).expanduser().resolve()) if is_local(uri) else uri


def collection_prefix(index_root: Path) -> str:
    """Collection names of one index folder start with this (several indexes may share a server)."""
    digest = hashlib.sha1(str(Path(index_root).resolve()).encode()).hexdigest()[:10]
    return f"qa_{digest}_"


def _locked(uri: str) -> bool:
    """True if another process holds milvus-lite's lock on the file `uri` (pymilvus only
    says "Open local milvus failed"; the lock is an flock on `LOCK` in its folder)."""
    lock = Path(uri) / "LOCK"
    if not lock.is_file():
        return False
    with lock.open("rb") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fh, fcntl.LOCK_UN)
    return False


def connect(uri: str) -> MilvusClient:
    """A client for `uri`, with the errors of a missing package, a locked file or an unreachable server named."""
    local = is_local(uri)
    if local and importlib.util.find_spec("milvus_lite") is None:
        raise ConfigError(
            f"a Milvus file ({uri}) needs the package 'milvus-lite', which is not installed; run {_INSTALL}"
        )
    if local:
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
    try:
        return MilvusClient(uri=uri, timeout=30)
    except Exception as exc:
        if local and _locked(uri):
            raise IndexLockedError(
                f"the milvus-lite file {uri} is open in another process (milvus-lite allows one "
                "process per file, e.g. `qa serve` holds it); stop that process and retry, or use a "
                "Milvus server (`qa index --store milvus --store-uri http://HOST:19530 --rebuild`)"
            ) from exc
        if local:
            raise StoreError(f"cannot open the milvus-lite file {uri} ({exc}); check the path") from exc
        raise StoreError(
            f"cannot connect to the Milvus server at {uri} ({exc}); start it, or fix --store-uri / QA_STORE_URI"
        ) from exc


def _live_collection(index_root: Path, uri: str) -> str | None:
    """The collection of the live snapshot of `index_root`, if it is a Milvus one at `uri`."""
    from qa.manifest import Manifest
    from qa.storage import IndexStore

    folder = IndexStore(index_root).current()
    if folder is None:
        return None
    try:
        store = Manifest.read(folder).store
    except Exception:  # an unreadable live snapshot keeps nothing alive
        return None
    if store.name != MilvusStore.name or resolve_uri(store.uri, index_root) != uri:
        return None
    name = store.params.get("collection")
    return str(name) if name else None


class MilvusStore:
    """One Milvus collection (row id = passage row, IP metric), named in the manifest."""

    name: ClassVar[str] = "milvus"
    capabilities: ClassVar[frozenset[str]] = frozenset({Capability.SERVER})

    def __init__(
        self,
        client: MilvusClient,
        *,
        uri: str,
        recorded_uri: str | None,
        collection: str,
        kind: IndexType,
        size: int,
        dimension: int,
        nlist: int | None = None,
    ) -> None:
        self._client = client
        self.uri = uri
        self._recorded_uri = recorded_uri
        self.collection = collection
        self.kind = kind
        self._size = size
        self._dimension = dimension
        self.nlist = nlist
        self.nprobe = default_nprobe(nlist) if nlist else None
        # Seconds per phase of the `build` that made this store (insert, flush, waiting
        # for a server's index, load); empty for an opened one. Read by bench/stores.py.
        self.build_phases: dict[str, float] = {}

    @property
    def size(self) -> int:
        return self._size

    @property
    def dimension(self) -> int:
        return self._dimension

    def _search_params(self, n: int) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if self.nprobe is not None:
            params["nprobe"] = self.nprobe
        elif self.kind is IndexType.HNSW:
            params["ef"] = max(HNSW_EF_SEARCH, n)  # Milvus requires ef >= limit
        return {"metric_type": "IP", "params": params}

    def search(self, queries: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-n (scores, rows) per query row, best first; missing slots have row -1."""
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        m = max(1, min(n, self.size, MAX_TOPK))
        if self.size == 0 or len(queries) == 0:
            return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
        try:
            results = self._client.search(
                self.collection,
                data=list(queries),
                anns_field=VECTOR,
                limit=m,
                search_params=self._search_params(m),
                output_fields=[ID],
                consistency_level=SEARCH_CONSISTENCY,
            )
        except MilvusException as exc:
            raise StoreError(
                f"Milvus search in collection {self.collection} at {self.uri} failed ({exc}); "
                "check the server, or run `qa index --rebuild`"
            ) from exc
        scores = np.full((len(queries), m), -np.finfo(np.float32).max, np.float32)
        rows = np.full((len(queries), m), -1, np.int64)
        for q, hits in enumerate(results):
            for r, hit in enumerate(list(hits)[:m]):
                scores[q, r] = hit["distance"]
                rows[q, r] = hit["id"]
        return scores, rows

    def describe(self) -> dict[str, Any]:
        """Collection, URI, kind and search parameters, for the manifest."""
        info: dict[str, Any] = {
            "type": self.kind.value,
            "milvus_index": self.kind.milvus,
            "collection": self.collection,
            "uri": self._recorded_uri,
            "count": self.size,
        }
        if self.nlist is not None:
            info.update(nlist=self.nlist, nprobe=self.nprobe)
        elif self.kind is IndexType.HNSW:
            info.update(M=HNSW_M, efSearch=HNSW_EF_SEARCH)
        return info

    def files(self) -> tuple[str, ...]:
        return ()

    def memory_bytes(self) -> int:
        """Bytes of vectors held in this process: all of them for milvus-lite, none for a server."""
        return self.size * self.dimension * 4 if is_local(self.uri) else 0

    def close(self) -> None:
        # A client to a milvus-lite file is shared by the process: closing one would not
        # release the file while others are open, so keep it for the process's lifetime.
        if not is_local(self.uri):
            self._client.close()

    @classmethod
    def required_files(cls, params: Mapping[str, Any]) -> tuple[str, ...]:
        str(params["collection"])  # a manifest without a collection cannot be opened
        return ()

    @classmethod
    def build(cls, vectors: np.ndarray, folder: Path, *, settings: StoreSettings) -> MilvusStore:
        """Write `vectors` into a new collection, then drop this index's collections other
        than the new and the live one.

        `folder` is the snapshot being written; its parent is the index folder.
        """
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        n, d = vectors.shape
        index_root = Path(folder).resolve().parent
        uri = resolve_uri(settings.uri, index_root)
        kind = choose_index_type(n, settings.index_type)
        client = connect(uri)
        prefix = collection_prefix(index_root)
        name = f"{prefix}{name_stamp()}_{uuid.uuid4().hex[:8]}"
        nlist = ivf_nlist(n) if kind in (IndexType.IVF, IndexType.IVFSQ8) else None
        t0 = time.perf_counter()
        phases: dict[str, float] = {}
        try:
            cls._create(client, name, d, kind, nlist)
            for a in range(0, n, INSERT_BATCH):
                part = vectors[a : a + INSERT_BATCH]
                client.insert(name, [{ID: a + i, VECTOR: v} for i, v in enumerate(part)])
            phases["insert_s"] = time.perf_counter() - t0
            client.flush(name)
            phases["flush_s"] = time.perf_counter() - t0 - phases["insert_s"]
            if not is_local(uri):
                _wait_indexed(client, name, n)
            phases["index_wait_s"] = time.perf_counter() - t0 - phases["insert_s"] - phases["flush_s"]
            client.load_collection(name)
            phases["load_s"] = time.perf_counter() - t0 - sum(phases.values())
        except MilvusException as exc:
            _drop_quietly(client, name)
            raise StoreError(f"building the Milvus collection {name} at {uri} failed ({exc})") from exc
        except BaseException:
            _drop_quietly(client, name)
            raise
        logger.info(
            "built Milvus %s collection %s over %d vectors in %.1fs",
            kind.milvus,
            name,
            n,
            time.perf_counter() - t0,
        )
        keep = {name, _live_collection(index_root, uri)}
        for old in client.list_collections():
            if old.startswith(prefix) and old not in keep:
                logger.info("dropping old Milvus collection %s", old)
                _drop_quietly(client, old)
        store = cls(
            client,
            uri=uri,
            recorded_uri=None if settings.uri is None else uri,
            collection=name,
            kind=kind,
            size=n,
            dimension=d,
            nlist=nlist,
        )
        store.build_phases = phases
        return store

    @staticmethod
    def _create(client: MilvusClient, name: str, d: int, kind: IndexType, nlist: int | None) -> None:
        schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field(ID, DataType.INT64, is_primary=True)
        schema.add_field(VECTOR, DataType.FLOAT_VECTOR, dim=d)
        params: dict[str, Any] = {}
        if nlist is not None:
            params = {"nlist": nlist}
        elif kind is IndexType.HNSW:
            params = {"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION}
        index = client.prepare_index_params()
        index.add_index(field_name=VECTOR, index_type=kind.milvus, metric_type="IP", params=params)
        client.create_collection(name, schema=schema, index_params=index, consistency_level=CONSISTENCY)

    @classmethod
    def open(cls, folder: Path, *, params: Mapping[str, Any], settings: StoreSettings) -> MilvusStore:
        """Connect to the collection the manifest names and load it for search."""
        index_root = Path(folder).resolve().parent
        recorded = params.get("uri", settings.uri)
        uri = resolve_uri(recorded, index_root)
        name = str(params["collection"])
        client = connect(uri)
        fix = "run `qa index --rebuild` to write it again"
        try:
            if not client.has_collection(name):
                raise IndexCorruptError(
                    f"the Milvus collection {name} of snapshot {folder} is missing at {uri} "
                    f"(dropped, or another server/file); {fix}"
                )
            client.load_collection(name)
            info = client.describe_collection(name)
            vector = next(f for f in info["fields"] if f["name"] == VECTOR)
            dimension = int(vector["params"]["dim"])
            rows = client.query(name, filter="", output_fields=["count(*)"], consistency_level=CONSISTENCY)
            size = int(rows[0]["count(*)"])
        except MilvusException as exc:
            raise StoreError(f"cannot read the Milvus collection {name} at {uri} ({exc}); {fix}") from exc
        kind = parse_enum(IndexType, params.get("type", "flat"), "Milvus index type")
        nlist = params.get("nlist")
        store = cls(
            client,
            uri=uri,
            recorded_uri=recorded,
            collection=name,
            kind=kind,
            size=size,
            dimension=dimension,
            nlist=int(nlist) if nlist else None,
        )
        if params.get("nprobe"):
            store.nprobe = int(params["nprobe"])
        return store


def _wait_indexed(client: MilvusClient, name: str, n: int) -> None:
    """Wait (bounded) until a server has indexed every row, so searches use the index."""
    deadline = time.monotonic() + INDEX_WAIT_SECONDS
    while True:
        info = client.describe_index(name, VECTOR)
        if n == 0 or int(info.get("indexed_rows", n)) >= n:
            return
        if time.monotonic() > deadline:
            raise StoreError(
                f"Milvus did not finish indexing collection {name} within {INDEX_WAIT_SECONDS:.0f}s "
                f"({info.get('indexed_rows')} of {n} rows); check the server's load and retry"
            )
        time.sleep(0.5)


def _drop_quietly(client: MilvusClient, name: str) -> None:
    try:
        client.drop_collection(name)
    except Exception as exc:  # cleanup only: the next build retries
        logger.warning("could not drop Milvus collection %s: %s", name, exc)
