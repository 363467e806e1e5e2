"""The reader contract: what a format reader returns (`Extracted`) or raises (`UnreadableFile`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["Extracted", "Reader", "UnreadableFile", "make_title"]


class UnreadableFile(Exception):
    """Internal: a file that cannot become a Document; the message is the reason."""


@dataclass(frozen=True)
class Extracted:
    """What a reader got out of a file's bytes.

    Args:
        text: the extracted text; every stored offset indexes it.
        fmt: the format name stored with the document ("txt", "md", "html", "pdf", "rst", "docx", "odt", "epub", "pptx", "csv", "tsv", "man").
        title: the document's title ("" when it has none).
        page_starts: the character offset where each page starts (paged formats only).
    """

    text: str
    fmt: str
    title: str
    page_starts: tuple[int, ...] = ()


class Reader(Protocol):
    """Bytes of one file -> Extracted, appending caveats for the user to `notes`.

    Raises UnreadableFile (with the reason as its message) for a file that has no
    usable text, so the corpus scan can list it as skipped.
    """

    def __call__(self, data: bytes, notes: list[str]) -> Extracted: ...


def make_title(text: str, fmt: str) -> str:
    """The first non-empty line (without Markdown `#` marks), cut to 200 characters."""
    for line in text.splitlines():
        line = line.strip()
        if line:
            if fmt == "md":
                line = line.lstrip("#").strip() or line
            return line[:200]
    return ""
