"""The corpus folder: the one walk over its files, and the scan that turns them into Documents."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from qa.errors import CorpusError
from qa.ingest.documents import read_with_notes
from qa.ingest.files import DEFAULT_MAX_BYTES
from qa.ingest.reader import UnreadableFile
from qa.types import Document

__all__ = ["CorpusScan", "Duplicate", "Note", "Skipped", "iter_corpus_files", "scan_corpus"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Skipped:
    """A file that was not indexed, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class Duplicate:
    """A file not indexed because its text equals an indexed document's."""

    path: str
    same_as: str


@dataclass(frozen=True)
class Note:
    """A file that was indexed with a caveat the user should know about."""

    path: str
    message: str


@dataclass
class CorpusScan:
    """What a corpus folder holds: documents, and skipped files with reasons."""

    root: Path
    documents: list[Document] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    # doc_id -> (size, mtime_ns) of the source file, to spot changes without hashing.
    stats: dict[str, tuple[int, int]] = field(default_factory=dict)
    duplicates: list[Duplicate] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)


def iter_corpus_files(
    root: Path,
    *,
    suffixes: Collection[str] | None = None,
    onerror: Callable[[OSError], None] | None = None,
) -> Iterator[tuple[Path, str]]:
    """Every file of the corpus folder `root`, as (path, doc_id); hidden files and folders are left out.

    Files in `root` come first, then sub-folders, each by name. The document id is the
    path relative to `root` with `/` separators.

    Args:
        root: the corpus folder.
        suffixes: only files with one of these (lower-case) suffixes, in any case;
            None means every file.
        onerror: called with the error for each folder that cannot be listed
            (by default such folders are passed over silently, as `os.walk` does).
    """
    for dirpath, dirnames, filenames in os.walk(root, onerror=onerror):
        # A leading dot marks a hidden file or folder (and an upload still being written).
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = Path(dirpath) / name
            if suffixes is not None and path.suffix.lower() not in suffixes:
                continue
            yield path, path.relative_to(root).as_posix()


def scan_corpus(
    root: Path, *, max_bytes: int = DEFAULT_MAX_BYTES, prefer: Collection[str] = ()
) -> CorpusScan:
    """Read every supported file under `root` (recursively, hidden files ignored).

    Document ids are paths relative to `root`, with `/` separators. Files that cannot
    be read are listed in `skipped` with the reason; they never stop the scan. Files
    with identical text are indexed once: the copy named in `prefer` (the documents
    already indexed, so a new copy never displaces them), else the first one read
    (root files first, then sub-folders, by name); the others are in `duplicates`.
    """
    root = Path(root)
    if not root.is_dir():
        raise CorpusError(f"corpus folder {str(root)!r} does not exist; create it, or pass --corpus DIR")
    scan = CorpusScan(root=root)
    read: list[tuple[Document, list[str], os.stat_result | None]] = []

    def unlistable(exc: OSError) -> None:
        # os.walk skips folders it cannot list; say so instead of losing them silently.
        rel = Path(exc.filename).relative_to(root).as_posix() if exc.filename else "?"
        scan.skipped.append(Skipped(rel + "/", f"cannot list folder: {exc.strerror or exc}"))

    for path, doc_id in iter_corpus_files(root, onerror=unlistable):
        try:
            read.append(read_with_notes(path, doc_id, max_bytes=max_bytes, data=None))
        except UnreadableFile as exc:
            scan.skipped.append(Skipped(doc_id, str(exc)))
            logger.warning("skipped %s: %s", doc_id, exc)
    preferred = set(prefer)
    kept: dict[str, str] = {}
    for doc, _, _ in read:
        first = kept.get(doc.sha256)
        if first is None or (doc.doc_id in preferred and first not in preferred):
            kept[doc.sha256] = doc.doc_id
    for doc, notes, st in read:
        keep = kept[doc.sha256]
        if keep != doc.doc_id:
            scan.duplicates.append(Duplicate(doc.doc_id, keep))
            logger.warning("skipped %s: same text as %s", doc.doc_id, keep)
            continue
        for message in notes:
            scan.notes.append(Note(doc.doc_id, message))
            logger.warning("%s: %s", doc.doc_id, message)
        scan.documents.append(doc)
        if st is not None:
            scan.stats[doc.doc_id] = (st.st_size, st.st_mtime_ns)
    return scan
