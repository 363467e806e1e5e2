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
from qa.ingest.limits import DEFAULT_LIMITS, ExtractionLimits
from qa.ingest.reader import UnreadableFile
from qa.ingest.worker import Extractor
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


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def iter_corpus_files(
    root: Path,
    *,
    suffixes: Collection[str] | None = None,
    onerror: Callable[[OSError], None] | None = None,
    follow_symlinks: bool = False,
    onskip: Callable[[str, str], None] | None = None,
) -> Iterator[tuple[Path, str]]:
    """Every file of the corpus folder `root`, as (path, doc_id); hidden files and folders are left out.

    Files in `root` come first, then sub-folders, each by name. The document id is the
    path relative to `root` with `/` separators. Symbolic links to files are yielded
    (the scan decides about them); links to folders are entered only with
    `follow_symlinks` and only when they resolve inside `root`, and a folder already
    walked (a link loop, or a second link to it) is never walked again, so the walk
    always ends.

    Args:
        root: the corpus folder.
        suffixes: only files with one of these (lower-case) suffixes, in any case;
            None means every file.
        onerror: called with the error for each folder that cannot be listed
            (by default such folders are passed over silently, as `os.walk` does).
        follow_symlinks: enter links to folders inside `root`.
        onskip: called with (doc_id + "/", reason) for each linked folder not entered.
    """
    real_root = os.path.realpath(root)
    seen = {real_root}
    stack = [Path(root)]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            if onerror is not None:
                onerror(exc)
            continue
        subfolders = []
        for entry in entries:
            # A leading dot marks a hidden file or folder (and an upload still being written).
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            rel = path.relative_to(root).as_posix()
            try:
                is_dir = entry.is_dir()  # follows a link
            except OSError:
                is_dir = False
            if is_dir and not entry.is_symlink():
                seen.add(os.path.realpath(path))
                subfolders.append(path)
            elif is_dir:
                target = os.path.realpath(path)
                if not follow_symlinks:
                    reason = "symbolic link to a folder, not followed; pass --follow-symlinks to index links inside the corpus"
                elif not _inside(target, real_root):
                    reason = "symbolic link to a folder outside the corpus folder, not followed"
                elif target in seen or _inside(real_root, target):
                    reason = "symbolic link to a folder already in the corpus (a link loop?), not followed"
                else:
                    seen.add(target)
                    subfolders.append(path)
                    continue
                if onskip is not None:
                    onskip(rel + "/", reason)
            elif suffixes is None or path.suffix.lower() in suffixes:
                yield path, rel
        stack.extend(reversed(subfolders))


def _link_refusal(path: Path, real_root: str, follow_symlinks: bool) -> str | None:
    """Why a linked file is not read, or None to read it."""
    if not path.is_symlink():
        return None
    if not follow_symlinks:
        return "symbolic link, not followed; pass --follow-symlinks to index links inside the corpus"
    target = os.path.realpath(path)
    if not os.path.exists(target):
        return "broken symbolic link (its target does not exist) or a link loop"
    if not _inside(target, real_root):
        return "symbolic link to a file outside the corpus folder, not followed"
    return None


def scan_corpus(
    root: Path,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    prefer: Collection[str] = (),
    limits: ExtractionLimits = DEFAULT_LIMITS,
    follow_symlinks: bool = False,
) -> CorpusScan:
    """Read every supported file under `root` (recursively, hidden files ignored).

    Each file is read within `limits` (time, pages, decompressed bytes, nesting depth,
    characters); a file over one is skipped with a reason naming the limit. Symbolic
    links are skipped with a reason unless `follow_symlinks`, which reads those that
    resolve inside `root` (links out of it are still skipped).

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

    def skip(doc_id: str, reason: str) -> None:
        scan.skipped.append(Skipped(doc_id, reason))
        logger.warning("skipped %s: %s", doc_id, reason)

    real_root = os.path.realpath(root)
    files = iter_corpus_files(root, onerror=unlistable, follow_symlinks=follow_symlinks, onskip=skip)
    with Extractor(limits) as extractor:
        for path, doc_id in files:
            refusal = _link_refusal(path, real_root, follow_symlinks)
            if refusal is not None:
                skip(doc_id, refusal)
                continue
            try:
                read.append(
                    read_with_notes(path, doc_id, max_bytes=max_bytes, data=None, extractor=extractor)
                )
            except UnreadableFile as exc:
                skip(doc_id, str(exc))
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
