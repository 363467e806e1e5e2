"""The PDF page in context: the cited page rendered, with the passage's own characters boxed."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

from PIL import Image

from _pdf import make_pdf
from qa.ingest import read_document
from qa.ui.pdf_page import pdf_pages_html, render_passage_pages
from qa.ui.rendering import pdf_context_html

CCOMPS = Path(__file__).resolve().parents[1] / "ingest" / "data" / "ccomps.1.pdf"
PAGES = [
    "Ferry timetable\nThe first ferry leaves at six.",
    "Winter service\nNo ferry runs on Sundays in January.\nThe harbour office closes at noon.",
]


def test_the_cited_line_is_boxed_where_it_is_drawn() -> None:
    data = make_pdf(PAGES)
    doc = read_document(Path("ferry.pdf"), "ferry.pdf", data=data)
    start = doc.text.index("No ferry runs")
    end = start + len("No ferry runs on Sundays in January.")
    (page,) = render_passage_pages(doc, data, start, end)
    assert page.number == 2
    image = Image.open(io.BytesIO(page.png))
    assert image.format == "PNG" and image.size == (918, 1188)  # 612 x 792 points at scale 1.5
    (box,) = page.boxes  # one line
    left, top, width, height = box
    # make_pdf draws line 2 of a page at x=72, baseline 720-14=706 points (of 612 x 792).
    assert abs(left - 72 / 612) < 0.01
    assert (792 - 706 - 12) / 792 < top < (792 - 706) / 792
    assert 0.3 < width < 0.7 and 0 < height < 14 / 792
    html = pdf_pages_html([page], doc.doc_id)
    assert html.count("class='qa-pdf-box'") == 1 and "data:image/png;base64," in html


def test_a_passage_over_two_pages_shows_both() -> None:
    data = make_pdf(PAGES)
    doc = read_document(Path("ferry.pdf"), "ferry.pdf", data=data)
    start = doc.text.index("The first ferry")
    end = doc.text.index("Sundays")
    pages = render_passage_pages(doc, data, start, end)
    assert [p.number for p in pages] == [1, 2]
    assert all(p.boxes for p in pages)


def test_a_real_man_page_boxes_every_line_of_its_passage() -> None:
    data = CCOMPS.read_bytes()
    doc = read_document(CCOMPS, "ccomps.1.pdf", data=data)
    quote = "−v | Counts of nodes, edges and connected components are printed."
    start = doc.text.index(quote)
    (page,) = render_passage_pages(doc, data, start, start + len(quote))
    assert page.number == 1 and len(page.boxes) == 1
    for left, top, width, height in page.boxes:
        assert 0 <= left < 1 and 0 <= top < 1 and 0 < width <= 1 - left and 0 < height < 0.05


def test_a_changed_pdf_is_shown_as_text_only() -> None:
    data = make_pdf(PAGES)
    doc = read_document(Path("ferry.pdf"), "ferry.pdf", data=data)
    edited = make_pdf(["Ferry timetable\nThe first ferry leaves at seven.", PAGES[1]])
    stale = dataclasses.replace(doc, sha256="0" * 64)  # as if indexed from other bytes
    assert render_passage_pages(stale, edited, 0, 10) == []
    html = pdf_context_html("<div class='qa-docview'>text</div>", [], doc.doc_id)
    assert "cannot be shown" in html and "<div class='qa-docview'>text</div>" in html


def test_the_best_sentence_is_boxed_on_its_own() -> None:
    data = make_pdf(PAGES)
    doc = read_document(Path("ferry.pdf"), "ferry.pdf", data=data)
    start = doc.text.index("Winter")
    sentence = doc.text.index("The harbour")
    (page,) = render_passage_pages(doc, data, start, len(doc.text), best=(sentence, len(doc.text)))
    assert len(page.boxes) == 3 and len(page.best) == 1
    assert page.best[0][1] == max(b[1] for b in page.boxes)  # the last line, lowest on the page
    assert pdf_pages_html([page], doc.doc_id).count("qa-pdf-best") == 1
