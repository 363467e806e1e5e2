"""One file (or its bytes) -> one Document: size checks, the format's reader, hash and title."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import qa.ingest.files as files
from qa.ingest.files import DEFAULT_MAX_BYTES, too_big
from qa.ingest.limits import DEFAULT_LIMITS, ExtractionLimits
from qa.ingest.reader import UnreadableFile
from qa.ingest.registry import load_reader
from qa.ingest.worker import Extractor, shared_extractor
from qa.types import Document

__all__ = ["read_document", "read_with_notes"]


def read_with_notes(
    path: Path,
    doc_id: str,
    *,
    max_bytes: int,
    data: bytes | None,
    extractor: Extractor | None = None,
    limits: ExtractionLimits = DEFAULT_LIMITS,
) -> tuple[Document, list[str], os.stat_result | None]:
    """`read_document`, also returning the reader's notes and the stat of the file read.

    The stat is None when `data` was given (nothing was read from disk). The reader runs
    within `extractor`'s limits (a scan passes one Extractor for all its files); without
    one, the long-lived shared Extractor for `limits` is used.
    """
    load_reader(path.suffix)  # an unsupported type is refused before the file is read
    st = None
    if data is None:
        # Looked up on the module, so tests can stand in for the read.
        data, st = files.read_file(path, max_bytes)
    if len(data) > max_bytes:
        raise too_big(len(data), max_bytes)
    if not data:
        raise UnreadableFile("empty file (0 bytes)")
    notes: list[str] = []
    extracted = (extractor or shared_extractor(limits)).read(path.suffix, data, notes)
    if not extracted.text.strip():
        # Readers give their own, more precise reason; this keeps the contract for any reader.
        raise UnreadableFile("empty file (no text)")
    doc = Document(
        doc_id=doc_id,
        # A format with no title of its own (a CSV table) is called by its file name.
        title=(extracted.title or path.name)[:200],
        text=extracted.text,
        sha256=hashlib.sha256(extracted.text.encode("utf-8")).hexdigest(),
        size=len(data),
        fmt=extracted.fmt,
        page_starts=extracted.page_starts,
    )
    return doc, notes, st


def read_document(
    path: Path,
    doc_id: str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    data: bytes | None = None,
    limits: ExtractionLimits = DEFAULT_LIMITS,
) -> Document:
    """Read one file (or its bytes, `data`) into a Document within `limits`, or raise
    UnreadableFile with the reason (ExtractionLimitError, naming the limit, when over one)."""
    return read_with_notes(Path(path), doc_id, max_bytes=max_bytes, data=data, limits=limits)[0]
