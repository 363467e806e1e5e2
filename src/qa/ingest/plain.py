"""Reader for plain text (.txt, .text) and Markdown (.md, .markdown): the decoded file, as it is."""

from __future__ import annotations

from qa.ingest.decoding import decode_text
from qa.ingest.reader import Extracted, UnreadableFile, make_title

__all__ = ["markdown", "text"]


def _read(data: bytes, notes: list[str], fmt: str) -> Extracted:
    content = decode_text(data, notes)
    if not content.strip():
        raise UnreadableFile("empty file (only whitespace)")
    return Extracted(content, fmt=fmt, title=make_title(content, fmt))


def text(data: bytes, notes: list[str]) -> Extracted:
    """A plain text file; the title is its first non-empty line."""
    return _read(data, notes, "txt")


def markdown(data: bytes, notes: list[str]) -> Extracted:
    """A Markdown file, kept as written; the title is its first line without `#` marks."""
    return _read(data, notes, "md")
