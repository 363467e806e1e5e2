"""A built index snapshot: passages, vectors, BM25, documents and the manifest that ties them.

Files of one snapshot (see `storage` for the folder layout):
    manifest.json     model identity, dimension, settings, documents, checksums
    table/            the passage and document tables (`qa.tables`): row i is vector id
                      i and BM25 document i; each document's text exactly as indexed
                      (citations slice it). Formats 2-4 kept them as passages.jsonl
                      and documents.jsonl, which still load.
    vectors.npy       float32 (n, d) L2-normalised passage vectors
    sentences.npy     int64 (m, 3): passage row, start, end of each sentence
    sentence_offsets.npy  int64 (n + 1): each passage row's first sentence (format 5)
    sentence_vectors.npy  float16 (m, d) sentence vectors
    index.faiss       the vector store's files (FAISS here; see `qa.stores`)
    bm25/             the bm25s index over the same rows

About 420 lines: loading, verifying and recovering a snapshot share one set of checks
(a damaged snapshot's error names the intact one `qa index --recover` would go back to).
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from qa.config import IndexSettings
from qa.errors import IndexCorruptError, IndexMismatchError, IndexNotFoundError
from qa.lexical import BM25Index
from qa.manifest import DOCUMENTS_FILE, FORMAT_VERSION, MANIFEST, FileMeta, Manifest
from qa.sentences import SentenceTable
from qa.storage import IndexStore, file_sha256
from qa.stores import VectorStore, open_store, store_class
from qa.tables import TABLE_FILES, DocumentTable, PassageTable, load_tables, tables_from_records
from qa.types import Document, Passage

__all__ = ["FORMAT_VERSION", "Index", "Recovery", "StaleReport", "VERIFY_HASH_LIMIT", "recover_index"]

logger = logging.getLogger(__name__)

_LOAD_LOCK = threading.RLock()

# Files up to this total size are hashed on every load; larger ones get a size check
# (hash them with `qa check`).
VERIFY_HASH_LIMIT = 512 * 1024 * 1024
# Files every snapshot has (besides its store's); a manifest that does not list them
# cannot vouch for them.
REQUIRED_FILES = frozenset({*TABLE_FILES, DOCUMENTS_FILE, "vectors.npy"})
REQUIRED_FILES_JSONL = frozenset({"passages.jsonl", "documents.jsonl", "vectors.npy"})  # formats 2-4


@dataclass
class StaleReport:
    """Corpus files that differ from what the index was built from."""

    changed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.changed or self.added or self.removed)

    def describe(self) -> str:
        parts = []
        for what, names in (("changed", self.changed), ("new", self.added), ("deleted", self.removed)):
            if names:
                shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
                parts.append(f"{what}: {shown}")
        return "; ".join(parts)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def snapshot_files(folder: Path) -> dict[str, FileMeta]:
    """Checksums of every file in a snapshot except the manifest."""
    out: dict[str, FileMeta] = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.name != MANIFEST:
            out[p.relative_to(folder).as_posix()] = FileMeta(size=p.stat().st_size, sha256=file_sha256(p))
    return out


def verify_files(folder: Path, files: Mapping[str, FileMeta], *, hash_limit: int) -> None:
    """Raise IndexCorruptError if a listed file is missing, resized or (when small) altered."""
    fix = "run `qa index --rebuild` to rebuild it"
    total = 0
    for rel, meta in files.items():
        p = folder / rel
        try:
            size = p.stat().st_size
        except FileNotFoundError:
            raise IndexCorruptError(f"index file {rel} is missing in {folder}; {fix}") from None
        if size != meta.size:
            raise IndexCorruptError(
                f"index file {rel} is {size} bytes, expected {meta.size} (truncated or altered); {fix}"
            )
        total += size
    if total > hash_limit:
        logger.info("index is %d bytes; skipped checksums on load (run `qa check`)", total)
        return
    for rel, meta in files.items():
        if file_sha256(folder / rel) != meta.sha256:
            raise IndexCorruptError(f"index file {rel} fails its checksum (corrupted); {fix}")


class Index:
    """A loaded, read-only index snapshot. Build new ones with `qa.indexing.build_index`."""

    def __init__(
        self,
        *,
        path: Path,
        manifest: Manifest,
        documents: DocumentTable,
        passages: PassageTable,
        store: VectorStore,
        bm25: BM25Index,
        sentences: SentenceTable | None = None,
    ) -> None:
        self.path = path
        self.sentences = sentences
        self.manifest = manifest
        self.documents = documents
        self.passages = passages
        self.store = store
        self.bm25 = bm25
        self.settings: IndexSettings = manifest.settings
        self.model_name: str = manifest.model.name
        self.model_fingerprint: str = manifest.model.fingerprint
        self._vector_matrix: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.passages)

    def row_of(self, passage_id: str) -> int:
        """The row of a passage id (KeyError if it is not in this snapshot)."""
        row = self.passages.row_of(passage_id)
        if row is None:
            raise KeyError(passage_id)
        return row

    @classmethod
    def load(cls, index_dir: Path, *, verify: bool = True, hash_limit: int = VERIFY_HASH_LIMIT) -> Index:
        """Load the live snapshot of `index_dir`.

        Raises:
            IndexNotFoundError: nothing was ever built there.
            IndexCorruptError: a file is missing, truncated or fails its checksum.
        """
        store = IndexStore(index_dir)
        for attempt in range(3):
            try:
                folder = store.current()
            except IndexCorruptError as exc:
                raise IndexCorruptError(f"{exc}{_recovery_hint(store, None, hash_limit)}") from None
            if folder is None:
                raise IndexNotFoundError(
                    f"no index in {str(index_dir)!r}; run `qa index` first "
                    "(or `qa index --corpus DIR --index DIR`)"
                )
            try:
                # One load at a time per process: np.load parses .npy headers with
                # ast.literal_eval, which CPython 3.11.7 can corrupt when threads run it
                # concurrently ("AST constructor recursion depth mismatch", gh-106905).
                with _LOAD_LOCK:
                    return cls._load_folder(folder, verify=verify, hash_limit=hash_limit)
            except (FileNotFoundError, IndexCorruptError) as exc:
                # A writer replaced the snapshot (and removed this one) between reading
                # CURRENT and its files: files then look missing. Read the new one.
                with contextlib.suppress(IndexCorruptError):
                    if attempt < 2 and store.current() != folder:
                        continue
                what = (
                    str(exc)
                    if isinstance(exc, IndexCorruptError)
                    else f"index snapshot {folder} is incomplete; run `qa index --rebuild`"
                )
                raise IndexCorruptError(f"{what}{_recovery_hint(store, folder, hash_limit)}") from None
        raise AssertionError("unreachable")

    @classmethod
    def _load_folder(cls, folder: Path, *, verify: bool, hash_limit: int) -> Index:
        manifest = Manifest.read(folder)
        try:
            store_files = set(store_class(manifest.store.name).required_files(manifest.store.params))
        except (KeyError, TypeError, ValueError) as exc:
            raise IndexCorruptError(
                f"{folder / MANIFEST} describes its vector store badly ({exc!r}); run `qa index --rebuild`"
            ) from None
        if verify:
            required = REQUIRED_FILES if manifest.format >= 5 else REQUIRED_FILES_JSONL
            missing = (required | store_files) - set(manifest.files)
            if missing:
                raise IndexCorruptError(
                    f"{folder / MANIFEST} does not list {', '.join(sorted(missing))}, so they cannot "
                    "be verified (damaged manifest); run `qa index --rebuild`"
                )
            verify_files(folder, manifest.files, hash_limit=hash_limit)
        try:
            if manifest.format >= 5:
                documents, passages = load_tables(folder)
            else:
                documents, passages = _jsonl_tables(folder)
            store = open_store(folder, manifest.store.settings, manifest.store.params)
            bm25 = BM25Index.load(folder / "bm25", mmap=True)
            sentences = SentenceTable.load(folder)
        except (
            json.JSONDecodeError,
            KeyError,
            TypeError,
            ValueError,
            RuntimeError,
            EOFError,
            IndexError,
        ) as exc:
            raise IndexCorruptError(
                f"index snapshot {folder} cannot be read ({exc}); run `qa index --rebuild`"
            ) from None
        if store.size != len(passages) or bm25.size not in (len(passages), 0):
            raise IndexCorruptError(
                f"index snapshot {folder} is inconsistent: {len(passages)} passages, "
                f"{store.size} vectors, {bm25.size} BM25 rows; run `qa index --rebuild`"
            )
        if sentences is not None and (
            len(sentences.vectors) != len(sentences)
            or (len(sentences.offsets) and int(sentences.offsets[-1]) != len(sentences))
            or (len(sentences) and sentences.table[-1, 0] >= len(passages))
        ):
            raise IndexCorruptError(
                f"index snapshot {folder} has an inconsistent sentence table; run `qa index --rebuild`"
            )
        index = cls(
            path=folder,
            manifest=manifest,
            documents=documents,
            passages=passages,
            store=store,
            bm25=bm25,
            sentences=sentences,
        )
        # Map the vectors now: an open mapping survives a writer removing this snapshot,
        # so a reader that loaded it keeps answering after a swap.
        index._vector_matrix = index.load_vectors()
        return index

    @classmethod
    def load_snapshot(cls, folder: Path, *, hash_limit: int = VERIFY_HASH_LIMIT) -> Index:
        """Load one snapshot folder (live or not), verifying its files.

        Raises:
            IndexCorruptError: a file is missing, truncated or fails its checksum.
            IndexMismatchError: a manifest format this qa cannot read.
        """
        try:
            with _LOAD_LOCK:
                return cls._load_folder(Path(folder), verify=True, hash_limit=hash_limit)
        except FileNotFoundError as exc:
            raise IndexCorruptError(
                f"index snapshot {folder} is incomplete ({exc.filename} is missing); run `qa index --rebuild`"
            ) from None

    def load_vectors(self) -> np.ndarray:
        """The stored passage vectors (memory-mapped), row i = passage i."""
        with _LOAD_LOCK:
            return np.load(self.path / "vectors.npy", mmap_mode="r")

    def vector_matrix(self) -> np.ndarray:
        """`load_vectors()`, opened once and kept (exact vectors for rescoring)."""
        if self._vector_matrix is None:
            self._vector_matrix = self.load_vectors()
        return self._vector_matrix

    def check_compatible(self, *, model: str | None = None, settings: IndexSettings | None = None) -> None:
        """Fail if an explicitly configured model or chunk setting differs from the index's."""
        if model is not None:
            from qa.embedding.models import resolve_model

            name, _ = resolve_model(model)
            if name != self.model_name:
                raise IndexMismatchError(
                    f"index was built with model {self.model_name}, configured model is {name}; "
                    "run `qa index` to rebuild it with the configured model"
                )
        if settings is not None and settings != self.settings:
            diff = {
                k: (v, settings.to_dict()[k])
                for k, v in self.settings.to_dict().items()
                if settings.to_dict()[k] != v
            }
            shown = ", ".join(f"{k}: index {a!r} vs configured {b!r}" for k, (a, b) in diff.items())
            raise IndexMismatchError(
                f"index was built with other chunk settings ({shown}); run `qa index` to rebuild it"
            )

    def stale(self, corpus_dir: Path) -> StaleReport:
        """Compare the corpus folder with the documents this index was built from."""
        from qa.ingest import READERS, UnreadableFile, iter_corpus_files, read_document

        report = StaleReport()
        docs = self.manifest.documents
        seen: set[str] = set()
        corpus_dir = Path(corpus_dir)
        if not corpus_dir.is_dir():
            return report
        # Walk linked folders too: a build with --follow-symlinks indexed what is in them,
        # and one without recorded each linked folder as skipped ("name/"), whose files
        # are then not new.
        skipped_folders = tuple(k for k in self.manifest.skipped if k.endswith("/"))
        for path, doc_id in iter_corpus_files(corpus_dir, suffixes=READERS, follow_symlinks=True):
            meta = docs.get(doc_id)
            if meta is None:
                if (
                    doc_id not in self.manifest.skipped
                    and doc_id not in self.manifest.duplicates
                    and not doc_id.startswith(skipped_folders)
                ):
                    report.added.append(doc_id)
                continue
            seen.add(doc_id)
            try:
                st = path.stat()
                if (st.st_size, st.st_mtime_ns) == tuple(meta.stat):
                    continue
                doc = read_document(path, doc_id)
            except (OSError, UnreadableFile):
                report.changed.append(doc_id)
                continue
            if doc.sha256 != meta.sha256:
                report.changed.append(doc_id)
        report.removed = sorted(set(docs) - seen)
        report.added.sort()
        report.changed.sort()
        return report


def _jsonl_tables(folder: Path) -> tuple[DocumentTable, PassageTable]:
    """The tables of a format 2-4 snapshot, parsed from its JSON lines into memory."""
    docs = []
    for d in read_jsonl(folder / "documents.jsonl"):
        d.pop("indexed_at", None)
        d["page_starts"] = tuple(d.get("page_starts") or ())
        docs.append(Document(**d))
    passages = [Passage.from_dict(p) for p in read_jsonl(folder / "passages.jsonl")]
    documents, table, _ = tables_from_records(docs, passages)
    return documents, table


# -- recovery --------------------------------------------------------------------------


@dataclass
class Recovery:
    """What `recover_index` did."""

    snapshot: Path  # the live snapshot now
    built_at: str
    switched: bool  # CURRENT was pointed at another snapshot
    damaged: dict[str, str] = field(default_factory=dict)  # snapshot name -> what is wrong

    def summary(self) -> str:
        if self.switched:
            head = f"recovered: the index is now snapshot {self.snapshot.name} (built {self.built_at})"
        else:
            head = f"the live snapshot {self.snapshot.name} (built {self.built_at}) is intact; nothing to do"
        lines = [head] + [f"  damaged {name}: {why}" for name, why in self.damaged.items()]
        if self.switched:
            lines.append("  run `qa index` to bring it up to date with the corpus")
        return "\n".join(lines)


def _intact_snapshots(
    store: IndexStore, *, exclude: Path | None, hash_limit: int
) -> Iterator[tuple[Path, Any]]:
    """(folder, Index or the error) for each snapshot except `exclude`, newest first."""
    for folder in store.snapshots():
        if folder == exclude:
            continue
        try:
            yield folder, Index.load_snapshot(folder, hash_limit=hash_limit)
        except (IndexCorruptError, IndexMismatchError, OSError) as exc:
            yield folder, exc


def _recovery_hint(store: IndexStore, damaged: Path | None, hash_limit: int) -> str:
    """ "; or run `qa index --recover` ..." when an intact snapshot other than `damaged` exists."""
    try:
        for folder, loaded in _intact_snapshots(store, exclude=damaged, hash_limit=hash_limit):
            if isinstance(loaded, Index):
                return (
                    f"; or run `qa index --recover` to go back to the intact snapshot {folder.name} "
                    f"(built {loaded.manifest.built_at})"
                )
    except OSError:
        pass
    return ""


def recover_index(index_dir: Path) -> Recovery:
    """Point CURRENT at the newest intact snapshot of `index_dir` (`qa index --recover`).

    Every file of a candidate is hashed, whatever its size. If the live snapshot is
    intact nothing changes; damaged snapshots are left for the next build to remove.

    Raises:
        IndexNotFoundError: no snapshot exists.
        IndexCorruptError: no snapshot is intact (rebuild).
    """
    if not Path(index_dir).is_dir():
        raise IndexNotFoundError(f"no index in {str(index_dir)!r}; run `qa index` to build one")
    store = IndexStore(index_dir)
    with store.lock():
        try:
            live = store.current()
        except IndexCorruptError as exc:
            logger.info("%s", exc)
            live = None
        damaged: dict[str, str] = {}
        candidates = ([live] if live is not None else []) + [p for p in store.snapshots() if p != live]
        if not candidates:
            raise IndexNotFoundError(f"no index snapshot in {str(index_dir)!r}; run `qa index` to build one")
        for folder in candidates:
            try:
                index = Index.load_snapshot(folder, hash_limit=sys.maxsize)
            except (IndexCorruptError, IndexMismatchError, OSError) as exc:
                damaged[folder.name] = str(exc)
                continue
            if folder != live:
                store.point_to(folder)
                logger.warning("CURRENT now names snapshot %s", folder.name)
            return Recovery(
                snapshot=folder, built_at=index.manifest.built_at, switched=folder != live, damaged=damaged
            )
    raise IndexCorruptError(
        f"no intact snapshot in {index_dir} ({len(damaged)} damaged); run `qa index --rebuild`"
    )
