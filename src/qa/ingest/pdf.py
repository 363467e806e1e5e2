"""Reader for PDF (.pdf): readable text (see `pdf_layout`), with the offset where each page starts.

Needs the `pypdfium2` package (PDFium: the text layer with every character's box); the
registry imports this module only when a PDF is read. `extract_layout` also returns,
for every character of the text, the PDF character it came from, so the in-context
view can highlight a passage on the rendered page (`qa.ui.pdf_page`). It is
deterministic: the same bytes always give the same text and map.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from qa.ingest.pdf_layout import CELL_GAP, SOFT_HYPHEN, Line, clean_pages
from qa.ingest.reader import Extracted, UnreadableFile, make_title

__all__ = ["PdfLayout", "extract_layout", "open_pdf", "reader"]

PAGE_SEPARATOR = "\n\n"  # a page break is a paragraph break


@dataclass(frozen=True)
class PdfLayout:
    """A PDF's extracted text and where each character came from.

    Args:
        text: the document text as stored in the index.
        page_starts: offset in `text` where each page starts.
        char_index: for each character of `text`, its index in its page's PDF text
            (pypdfium2 `PdfTextPage` character index), or -1 for added spaces and breaks.
        furniture: running header/footer and page-number lines dropped, per page.
        bad_pages: 1-based numbers of pages that could not be read (left empty).
    """

    text: str
    page_starts: tuple[int, ...]
    char_index: tuple[int, ...]
    furniture: tuple[int, ...]
    bad_pages: tuple[int, ...] = ()


def open_pdf(data: bytes) -> pdfium.PdfDocument:
    """Open a PDF's bytes, or raise UnreadableFile saying why (damaged, encrypted)."""
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise UnreadableFile("encrypted PDF; save an unencrypted copy to index it") from None
        raise UnreadableFile(f"corrupted or unreadable PDF ({exc})") from None


def _page_lines(textpage: pdfium.PdfTextPage) -> list[Line]:
    """The page's text layer as lines, each with its inked characters' geometry."""
    raw = textpage.raw
    lines: list[Line] = []
    chars: list[str] = []
    index: list[int] = []
    boxes: list[tuple[float, float, float, float] | None] = []  # left, bottom, right, top

    def flush() -> None:
        while chars and chars[-1].isspace():
            chars.pop(), index.pop(), boxes.pop()
        start = 0
        while start < len(chars) and chars[start].isspace():
            start += 1
        # A glyph without a Unicode mapping comes out as a control code: show it as unknown.
        text = "".join(c if c >= " " or c in "\t" + SOFT_HYPHEN else "\ufffd" for c in chars[start:])
        inked = [b for c, b in zip(chars[start:], boxes[start:]) if b is not None and not c.isspace()]
        if text:
            x0 = min(b[0] for b in inked) if inked else 0.0
            x1 = max(b[2] for b in inked) if inked else 0.0
            bottom = statistics.median(b[1] for b in inked) if inked else 0.0
            top = max(b[3] for b in inked) if inked else 0.0
            gaps = _cell_gaps(chars[start:], boxes[start:], top - bottom)
            lines.append(Line(text, tuple(index[start:]), x0, x1, bottom, top, gaps))
        chars.clear(), index.clear(), boxes.clear()

    for i in range(textpage.count_chars()):
        ch = chr(pdfium_c.FPDFText_GetUnicode(raw, i) or 0xFFFD)
        if ch in "\r\n":
            if ch == "\n" or (chars and chars[-1] != "\r"):
                flush()
            continue
        box = None if pdfium_c.FPDFText_IsGenerated(raw, i) == 1 else textpage.get_charbox(i)
        chars.append(ch)
        index.append(i)
        boxes.append(box)
        if ch == SOFT_HYPHEN:  # pdfium joins a hyphenated line to the next: split it again
            flush()
    flush()
    return lines


def _cell_gaps(chars: list[str], boxes: list, height: float) -> tuple[int, ...]:
    """Positions of spaces between table cells: gaps far wider than the line's word spacing.

    A justified line has uniformly wide spaces; a table row has a few much wider ones.
    """
    if height <= 0:
        return ()
    spaces: list[tuple[int, float]] = []
    last_right: float | None = None
    pending: int | None = None
    for pos, (ch, box) in enumerate(zip(chars, boxes)):
        if ch.isspace():
            pending = pos if pending is None else pending
            continue
        if box is not None:
            if pending is not None and last_right is not None:
                spaces.append((pending, box[0] - last_right))
            last_right = box[2]
        pending = None
    if not spaces:
        return ()
    usual = statistics.median(w for _, w in spaces)
    return tuple(pos for pos, w in spaces if w > CELL_GAP * height and w > 2.5 * usual)


def extract_layout(data: bytes) -> PdfLayout:
    """Clean text of a PDF's bytes and the map back to its characters (raises UnreadableFile)."""
    pdf = open_pdf(data)
    try:
        pages: list[list[Line]] = []
        bad: list[int] = []
        for number in range(len(pdf)):
            try:
                page = pdf[number]
                pages.append(_page_lines(page.get_textpage()))
            except pdfium.PdfiumError:  # one damaged page should not lose the others
                pages.append([])
                bad.append(number + 1)
    finally:
        pdf.close()
    if not pages:
        raise UnreadableFile("PDF has no pages")
    if len(bad) == len(pages):
        raise UnreadableFile("corrupted PDF: no page could be read")
    cleaned = clean_pages(pages)
    starts: list[int] = []
    parts: list[str] = []
    index: list[int] = []
    pos = 0
    for page in cleaned:
        if parts:
            parts.append(PAGE_SEPARATOR)
            index.extend([-1] * len(PAGE_SEPARATOR))
            pos += len(PAGE_SEPARATOR)
        starts.append(pos)
        parts.append(page.text)
        index.extend(page.index)
        pos += len(page.text)
    text = "".join(parts)
    if not text.strip():
        raise UnreadableFile(
            f"PDF has {len(pages)} page(s) but no text layer (scanned?); run OCR on it first"
        )
    return PdfLayout(text, tuple(starts), tuple(index), tuple(p.dropped for p in cleaned), tuple(bad))


def reader(data: bytes, notes: list[str]) -> Extracted:
    """A PDF's readable text, pages separated by a blank line; the title is its first line."""
    layout = extract_layout(data)
    if layout.bad_pages:
        notes.append(f"page(s) {', '.join(map(str, layout.bad_pages))} could not be read and are left empty")
    text = layout.text
    return Extracted(text, fmt="pdf", title=make_title(text, "pdf"), page_starts=layout.page_starts)
