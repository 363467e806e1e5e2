"""Corpus folder -> Documents, with a report of every file that was skipped and why."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from qa.errors import CorpusError
from qa.types import Document

__all__ = [
    "DEFAULT_MAX_BYTES",
    "SUPPORTED_SUFFIXES",
    "CorpusScan",
    "Skipped",
    "UnreadableFile",
    "read_document",
    "scan_corpus",
    "make_title",
]

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 20 * 1024 * 1024


class UnreadableFile(Exception):
    """Internal: a file that cannot become a Document; the message is the reason."""


@dataclass(frozen=True)
class Skipped:
    """A file that was not indexed, and why."""

    path: str
    reason: str


@dataclass
class CorpusScan:
    """What a corpus folder holds: documents, and skipped files with reasons."""

    root: Path
    documents: list[Document] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    # doc_id -> (size, mtime_ns) of the source file, to spot changes without hashing.
    stats: dict[str, tuple[int, int]] = field(default_factory=dict)


def make_title(text: str, fmt: str) -> str:
    """The first non-empty line (without Markdown `#` marks), cut to 200 characters."""
    for line in text.splitlines():
        line = line.strip()
        if line:
            if fmt == "md":
                line = line.lstrip("#").strip() or line
            return line[:200]
    return ""


def _decode_text(data: bytes) -> str:
    if b"\x00" in data:
        raise UnreadableFile("binary file (contains NUL bytes); only text documents are indexed")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"not valid UTF-8 (byte {exc.start}); re-save the file as UTF-8") from None


def _read_plain(data: bytes) -> tuple[str, tuple[int, ...]]:
    return _decode_text(data), ()


Reader = Callable[[bytes], tuple[str, tuple[int, ...]]]
READERS: dict[str, tuple[str, Reader]] = {
    ".txt": ("txt", _read_plain),
    ".text": ("txt", _read_plain),
    ".md": ("md", _read_plain),
    ".markdown": ("md", _read_plain),
}
SUPPORTED_SUFFIXES = tuple(sorted(READERS))


def read_document(
    path: Path, doc_id: str, *, max_bytes: int = DEFAULT_MAX_BYTES, data: bytes | None = None
) -> Document:
    """Read one file into a Document, or raise UnreadableFile with the reason."""
    suffix = path.suffix.lower()
    if suffix not in READERS:
        raise UnreadableFile(
            f"unsupported file type {suffix or '(none)'!r}; supported: {', '.join(SUPPORTED_SUFFIXES)}"
        )
    fmt, reader = READERS[suffix]
    if data is None:
        try:
            size = path.stat().st_size
            if size > max_bytes:
                raise UnreadableFile(
                    f"file is {size:,} bytes, over the {max_bytes:,}-byte limit; raise it with --max-bytes"
                )
            data = path.read_bytes()
        except FileNotFoundError:
            raise UnreadableFile("file vanished while being read") from None
        except PermissionError:
            raise UnreadableFile("permission denied; make the file readable") from None
        except IsADirectoryError:
            raise UnreadableFile("is a directory") from None
    if len(data) > max_bytes:
        raise UnreadableFile(
            f"file is {len(data):,} bytes, over the {max_bytes:,}-byte limit; raise it with --max-bytes"
        )
    text, pages = reader(data)
    if not text.strip():
        raise UnreadableFile("empty file (no text)")
    return Document(
        doc_id=doc_id,
        title=make_title(text, fmt),
        text=text,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        size=len(data),
        fmt=fmt,
        page_starts=pages,
    )


def scan_corpus(root: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> CorpusScan:
    """Read every supported file under `root` (recursively, hidden files ignored).

    Document ids are paths relative to `root`, with `/` separators. Files that cannot
    be read are listed in `skipped` with the reason; they never stop the scan.
    """
    root = Path(root)
    if not root.is_dir():
        raise CorpusError(f"corpus folder {str(root)!r} does not exist; create it, or pass --corpus DIR")
    scan = CorpusScan(root=root)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = Path(dirpath) / name
            doc_id = path.relative_to(root).as_posix()
            try:
                st = path.stat()
                doc = read_document(path, doc_id, max_bytes=max_bytes)
            except UnreadableFile as exc:
                scan.skipped.append(Skipped(doc_id, str(exc)))
                logger.warning("skipped %s: %s", doc_id, exc)
                continue
            except OSError as exc:
                scan.skipped.append(Skipped(doc_id, f"cannot read: {exc.strerror or exc}"))
                continue
            scan.documents.append(doc)
            scan.stats[doc_id] = (st.st_size, st.st_mtime_ns)
    return scan
