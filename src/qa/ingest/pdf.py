"""Reader for PDF (.pdf): the text layer, with the character offset where each page starts.

Needs the `pypdf` package; the registry imports this module only when a PDF is read.
"""

from __future__ import annotations

import io
import logging

from pypdf import PdfReader

from qa.ingest.reader import Extracted, UnreadableFile, make_title

__all__ = ["reader"]


def reader(data: bytes, notes: list[str]) -> Extracted:
    """A PDF's text layer, pages separated by a blank line; the title is its first line."""
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # malformed files log a warning per object
    try:
        pdf = PdfReader(io.BytesIO(data))
        if pdf.is_encrypted and not pdf.decrypt(""):
            raise UnreadableFile("encrypted PDF; save an unencrypted copy to index it")
        n_pages = len(pdf.pages)
    except UnreadableFile:
        raise
    except Exception as exc:  # noqa: BLE001 - pypdf raises many types on a damaged file
        raise UnreadableFile(f"corrupted or unreadable PDF ({type(exc).__name__}: {exc})") from None
    pages: list[str] = []
    bad_pages: list[int] = []
    for number in range(n_pages):
        try:
            pages.append(pdf.pages[number].extract_text() or "")
        except Exception:  # noqa: BLE001 - one damaged page should not lose the others
            pages.append("")
            bad_pages.append(number + 1)
    if bad_pages and len(bad_pages) == n_pages:
        raise UnreadableFile("corrupted PDF: no page could be read")
    if bad_pages:
        notes.append(f"page(s) {', '.join(map(str, bad_pages))} could not be read and are left empty")
    starts: list[int] = []
    parts: list[str] = []
    pos = 0
    for page in pages:
        # Pages are separated by a blank line, so a page break is a paragraph break.
        page = page.strip().replace("\x00", "\ufffd")
        if parts:
            parts.append("\n\n")
            pos += 2
        starts.append(pos)
        parts.append(page)
        pos += len(page)
    text = "".join(parts)
    if pages and not text.strip():
        raise UnreadableFile(
            f"PDF has {len(pages)} page(s) but no text layer (scanned?); run OCR on it first"
        )
    if not pages:
        raise UnreadableFile("PDF has no pages")
    return Extracted(text, fmt="pdf", title=make_title(text, "pdf"), page_starts=tuple(starts))
