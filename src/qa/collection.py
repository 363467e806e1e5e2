"""The document collection behind a live retriever: list, add and remove documents, re-index, swap.

Uploads are checked completely (name, type, size, text content; see `qa.uploads`) before anything is
written; a rejected upload changes neither the corpus folder nor the index. Accepted
files are saved into the corpus folder, indexed incrementally with `build_index`, and
the retriever is switched to the new snapshot in one assignment, so questions asked
meanwhile are answered from the previous, consistent snapshot.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from qa.embedding import Embedder
from qa.errors import InputError
from qa.index import Index
from qa.indexing import BuildReport, build_index
from qa.ingest import DEFAULT_MAX_BYTES
from qa.inspection import DocumentInfo, document_infos
from qa.retrieval import Retriever
from qa.uploads import (
    DEFAULT_UPLOAD_BYTES,
    Upload,
    UploadLimits,
    UploadRejectedError,
    check_upload,
    read_uploads,
    sanitize_filename,
)

# Upload, UploadLimits, UploadRejectedError, sanitize_filename and DEFAULT_UPLOAD_BYTES
# live in qa.uploads; they are re-exported here for code that imports them from qa.collection.
__all__ = [
    "DEFAULT_UPLOAD_BYTES",
    "Collection",
    "CollectionChange",
    "DocumentInfo",
    "Progress",
    "Upload",
    "UploadLimits",
    "UploadRejectedError",
    "sanitize_filename",
]

logger = logging.getLogger(__name__)

# Progress callback: (fraction done in [0, 1], what is happening).
Progress = Callable[[float, str], None]


@dataclass
class CollectionChange:
    """What an add or remove did: the documents touched and the index build report."""

    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    build: BuildReport | None = None

    def summary(self) -> str:
        parts = []
        for what, names in (("added", self.added), ("replaced", self.replaced), ("removed", self.removed)):
            if names:
                parts.append(f"{what} {', '.join(names)}")
        head = "; ".join(parts) or "no change"
        if self.build is not None and not self.build.up_to_date:
            head += (
                f" - index now has {self.build.passages} passages "
                f"({self.build.embedded} embedded in {self.build.seconds:.1f}s)"
            )
        return head


def _inside(root: Path, path: Path) -> bool:
    root = root.resolve()
    try:
        path.resolve().relative_to(root)
    except ValueError:
        return False
    return True


class Collection:
    """The corpus folder and the live index of one retriever, changed together.

    Writers (add, remove, sync) are serialised by a lock; readers never wait: the
    retriever keeps answering from its current snapshot until the new one is swapped in.

    Args:
        retriever: the retriever that serves questions; it is switched to each new index.
        corpus_dir: the folder uploads are saved into.
        index_dir: the retriever's index folder.
        limits: what an upload may be.
        embedder: the model used for indexing; by default a separate instance of the
            index's model, so indexing never shares a tokenizer with a running question.
    """

    def __init__(
        self,
        retriever: Retriever,
        *,
        corpus_dir: Path,
        index_dir: Path,
        limits: UploadLimits | None = None,
        embedder: Embedder | None = None,
    ) -> None:
        self.retriever = retriever
        self.corpus_dir = Path(corpus_dir)
        self.index_dir = Path(index_dir)
        self.limits = limits or UploadLimits()
        if self.limits.max_bytes > DEFAULT_MAX_BYTES:
            raise InputError(
                f"upload limit {self.limits.max_bytes:,} bytes is over the indexer's "
                f"{DEFAULT_MAX_BYTES:,}-byte file limit; lower it"
            )
        self._embedder = embedder
        self._lock = threading.Lock()

    # -- reading -------------------------------------------------------------------

    @property
    def index(self) -> Index:
        return self.retriever.index

    @property
    def busy(self) -> bool:
        """True while a writer is changing the collection."""
        return self._lock.locked()

    def documents(self) -> list[DocumentInfo]:
        """The documents of the live index, by name."""
        return document_infos(self.index)

    # -- checking uploads ---------------------------------------------------------------

    def check(self, upload: Upload) -> str:
        """Validate one upload; return the document id (file name) it would get.

        Raises:
            UploadRejectedError: bad name or type, too large, not readable text, or a
                name that cannot be saved in the corpus folder.
        """
        doc_id = check_upload(upload, self.limits)
        target = self.corpus_dir / doc_id
        if not _inside(self.corpus_dir, target) or target.is_symlink() or target.is_dir():
            raise UploadRejectedError(
                f"{upload.name!r} cannot be saved as {doc_id!r} in the corpus folder; rename it"
            )
        return doc_id

    def read_uploads(
        self, paths: Sequence[Path | str], *, names: Sequence[str] | None = None
    ) -> list[Upload]:
        """Read uploaded files from disk within this collection's limits (see `qa.uploads.read_uploads`)."""
        return read_uploads(paths, limits=self.limits, names=names)

    # -- writing -------------------------------------------------------------------

    def add(self, uploads: Sequence[Upload], *, progress: Progress | None = None) -> CollectionChange:
        """Save uploads into the corpus folder and index them incrementally.

        All files are checked first: if any is rejected, nothing is written and the
        error lists every problem. A file with the name of an existing document
        replaces it. If indexing fails, the written files are rolled back.

        Raises:
            UploadRejectedError: an upload was refused (nothing changed).
        """
        if not uploads:
            raise UploadRejectedError("no file was uploaded; choose one or more files")
        self.limits.check_count(len(uploads))
        ids: list[str] = []
        problems: list[str] = []
        for upload in uploads:
            try:
                ids.append(self.check(upload))
            except UploadRejectedError as exc:
                problems.append(str(exc))
        dupes = sorted({d for d in ids if ids.count(d) > 1})
        if dupes:
            problems.append(f"several files would be saved as {', '.join(dupes)}; rename them")
        if problems:
            raise UploadRejectedError("; ".join(problems) + " - nothing was added")

        with self._lock:
            self.corpus_dir.mkdir(parents=True, exist_ok=True)
            known = set(self.index.documents)
            previous: dict[str, bytes | None] = {}
            change = CollectionChange()
            _report(progress, 0.05, "saving files")
            try:
                for doc_id, upload in zip(ids, uploads):
                    target = self.corpus_dir / doc_id
                    previous[doc_id] = target.read_bytes() if target.is_file() else None
                    _write_atomic(target, upload.data)
                    (change.replaced if doc_id in known else change.added).append(doc_id)
                change.build = self._reindex(progress)
                skipped = {s.path: s.reason for s in change.build.skipped}
                refused = [f"{d!r}: {skipped[d]}" for d in ids if d in skipped]
                same = {d.path: d.same_as for d in change.build.duplicates}
                refused += [f"{d!r}: same text as {same[d]!r}, already indexed" for d in ids if d in same]
                if refused:
                    raise UploadRejectedError("the indexer skipped " + "; ".join(refused))
            except BaseException:
                for doc_id, data in previous.items():
                    target = self.corpus_dir / doc_id
                    if data is None:
                        target.unlink(missing_ok=True)
                    else:
                        _write_atomic(target, data)
                raise
            logger.info("collection: %s", change.summary())
            return change

    def add_files(
        self,
        paths: Sequence[Path | str],
        *,
        names: Sequence[str] | None = None,
        progress: Progress | None = None,
    ) -> CollectionChange:
        """`add` for files on disk (see `read_uploads`)."""
        return self.add(self.read_uploads(paths, names=names), progress=progress)

    def remove(self, doc_ids: Sequence[str], *, progress: Progress | None = None) -> CollectionChange:
        """Delete documents from the corpus folder and drop their passages from the index.

        Raises:
            InputError: an id is not a document of the index (nothing is removed).
        """
        doc_ids = list(dict.fromkeys(doc_ids))
        if not doc_ids:
            raise InputError("no document selected; choose the documents to remove")
        with self._lock:
            known = self.index.documents
            unknown = [d for d in doc_ids if d not in known]
            if unknown:
                raise InputError(
                    f"not in the index: {', '.join(map(repr, unknown))}; refresh the document list"
                )
            paths = [self.corpus_dir / d for d in doc_ids]
            outside = [d for d, p in zip(doc_ids, paths) if not _inside(self.corpus_dir, p)]
            if outside:
                raise InputError(f"refusing to delete files outside the corpus folder: {', '.join(outside)}")
            _report(progress, 0.05, "removing files")
            saved = {d: p.read_bytes() for d, p in zip(doc_ids, paths) if p.is_file()}
            for p in paths:
                p.unlink(missing_ok=True)
            try:
                build = self._reindex(progress)
            except BaseException:
                for d, data in saved.items():
                    _write_atomic(self.corpus_dir / d, data)
                raise
            change = CollectionChange(removed=doc_ids, build=build)
            logger.info("collection: %s", change.summary())
            return change

    def sync(self, *, progress: Progress | None = None) -> CollectionChange:
        """Re-index the corpus folder as it is now (e.g. after files were edited by hand)."""
        with self._lock:
            build = self._reindex(progress)
            return CollectionChange(
                added=list(build.added),
                replaced=list(build.changed),
                removed=list(build.removed),
                build=build,
            )

    def _writer_embedder(self) -> Embedder:
        if self._embedder is None:
            from qa.embedding import backend_of, new_embedder

            # A separate instance, on the backend the index was built with (vectors of
            # two backends are never mixed): a fast tokenizer is not safe to share with
            # a thread that is embedding a question at the same time.
            self._embedder = new_embedder(self.index.model_name, backend=backend_of(self.index.manifest))
        return self._embedder

    def _reindex(self, progress: Progress | None) -> BuildReport:
        _report(progress, 0.1, "loading the model")
        embedder = self._writer_embedder()
        _report(progress, 0.2, "indexing")
        report = build_index(
            self.corpus_dir, self.index_dir, embedder=embedder, show_progress=progress is not None
        )
        if not report.up_to_date:
            _report(progress, 0.9, "loading the new index")
            # One assignment: a question already running finishes on the old snapshot.
            self.retriever.swap(Index.load(self.index_dir))
        _report(progress, 1.0, "done")
        return report


def _report(progress: Progress | None, fraction: float, what: str) -> None:
    if progress is not None:
        progress(fraction, what)


def _write_atomic(target: Path, data: bytes) -> None:
    # A hidden temporary name: a concurrent corpus scan skips it.
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
