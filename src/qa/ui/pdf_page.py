"""The PDF page in context: the cited page rendered (pypdfium2), the passage's characters boxed.

The stored text of a PDF is what `qa.ingest.pdf.extract_layout` made of it; the same
bytes give the same text again, with the PDF character behind every stored character.
So the boxes are recomputed on demand from the file in the corpus folder, and only
when its text is still exactly the indexed text (otherwise the view stays text only).
"""

from __future__ import annotations

import base64
import html
import io
import logging
from collections import OrderedDict
from dataclasses import dataclass
from threading import Lock

import pypdfium2 as pdfium

from qa.ingest.pdf import PdfLayout, extract_layout
from qa.ingest.reader import UnreadableFile
from qa.types import Document

__all__ = ["PageImage", "pdf_pages_html", "render_passage_pages"]

log = logging.getLogger(__name__)

SCALE = 1.5  # 108 dpi: sharp enough to read, about 100-250 KB of PNG per page
MAX_PAGES = 2  # a passage that spans more pages shows its first two
_CACHE_SIZE = 8
_cache: OrderedDict[tuple[str, str], PdfLayout] = OrderedDict()
_lock = Lock()


@dataclass(frozen=True)
class PageImage:
    """One rendered page and the passage's boxes on it.

    Args:
        number: the 1-based page number.
        png: the page rendered as PNG.
        boxes: (left, top, width, height) of each line of the passage, as fractions of the page.
        best: the same for the best-matching sentence.
    """

    number: int
    png: bytes
    boxes: tuple[tuple[float, float, float, float], ...]
    best: tuple[tuple[float, float, float, float], ...] = ()


def _layout(document: Document, data: bytes) -> PdfLayout | None:
    key = (document.doc_id, document.sha256)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    try:
        layout = extract_layout(data)
    except UnreadableFile as exc:
        log.warning("cannot show the pages of %s: %s", document.doc_id, exc)
        return None
    if layout.text != document.text:
        log.info("%s changed since it was indexed; showing its text only", document.doc_id)
        return None
    with _lock:
        _cache[key] = layout
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return layout


def _line_boxes(
    textpage: pdfium.PdfTextPage, indices: list[int], page_box: tuple[float, float, float, float]
) -> list[tuple[float, float, float, float]]:
    """Character boxes merged into one rectangle per line, as fractions of the page."""
    left0, bottom0, right0, top0 = page_box
    width, height = right0 - left0, top0 - bottom0
    rects: list[list[float]] = []
    for i in indices:
        x0, y0, x1, y1 = textpage.get_charbox(i)
        if x1 <= x0 or y1 <= y0:
            continue
        last = rects[-1] if rects else None
        middle = (y0 + y1) / 2  # on the same line: its middle is within the line's height
        if last is not None and last[1] - 1 <= middle <= last[3] + 1 and x0 >= last[0] - 1:
            last[2], last[3] = max(last[2], x1), max(last[3], y1)
            last[1] = min(last[1], y0)
        else:
            rects.append([x0, y0, x1, y1])
    return [
        ((x0 - left0) / width, (top0 - y1) / height, (x1 - x0) / width, (y1 - y0) / height)
        for x0, y0, x1, y1 in rects
    ]


def _span_boxes(
    layout: PdfLayout,
    textpage: pdfium.PdfTextPage,
    bbox: tuple[float, float, float, float],
    span: tuple[int, int],
    page: tuple[int, int],
) -> tuple[tuple[float, float, float, float], ...]:
    """The line boxes of text offsets `span`, cut to the offsets of one `page`."""
    lo, hi = max(span[0], page[0]), min(span[1], page[1])
    return tuple(_line_boxes(textpage, [ix for ix in layout.char_index[lo:hi] if ix >= 0], bbox))


def render_passage_pages(
    document: Document, data: bytes, start: int, end: int, *, best: tuple[int, int] | None = None
) -> list[PageImage]:
    """The pages holding `document.text[start:end]`, rendered, with the passage boxed.

    `best` (start, end) is the best-matching sentence, boxed in a stronger colour.

    Returns [] when the PDF cannot be read or its text is no longer the indexed text.
    """
    layout = _layout(document, data)
    if layout is None or not layout.page_starts:
        return []
    first = document.page_of(start) or 1
    last = document.page_of(max(start, end - 1)) or first
    ends = [*layout.page_starts[1:], len(layout.text)]
    pdf = pdfium.PdfDocument(data)
    try:
        images = []
        for number in range(first, min(last, first + MAX_PAGES - 1) + 1):
            page = pdf[number - 1]
            textpage, bbox = page.get_textpage(), page.get_bbox()
            span = (layout.page_starts[number - 1], ends[number - 1])
            buf = io.BytesIO()
            page.render(scale=SCALE).to_pil().save(buf, format="PNG", optimize=True)
            passage = _span_boxes(layout, textpage, bbox, (start, end), span)
            sentence = _span_boxes(layout, textpage, bbox, best, span) if best else ()
            images.append(PageImage(number, buf.getvalue(), passage, sentence))
        return images
    finally:
        pdf.close()


def pdf_pages_html(pages: list[PageImage], doc_id: str) -> str:
    """The rendered pages, each with the passage's boxes laid over it."""
    parts = []
    for page in pages:
        boxes = "".join(
            f"<div class='qa-pdf-box' style='left:{100 * x:.3f}%;top:{100 * y:.3f}%;"
            f"width:{100 * w:.3f}%;height:{100 * h:.3f}%'></div>"
            for x, y, w, h in page.boxes
        ) + "".join(
            f"<div class='qa-pdf-box qa-pdf-best' style='left:{100 * x:.3f}%;top:{100 * y:.3f}%;"
            f"width:{100 * w:.3f}%;height:{100 * h:.3f}%'></div>"
            for x, y, w, h in page.best
        )
        src = "data:image/png;base64," + base64.b64encode(page.png).decode("ascii")
        alt = html.escape(f"page {page.number} of {doc_id}", quote=True)
        parts.append(
            f"<figure class='qa-pdf-page' data-page='{page.number}'>"
            f"<div class='qa-pdf-canvas'><img src='{src}' alt='{alt}'>{boxes}</div>"
            f"<figcaption>page {page.number}</figcaption></figure>"
        )
    return f"<div class='qa-pdf-pages'>{''.join(parts)}</div>"
