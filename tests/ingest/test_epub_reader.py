"""The .epub reader: chapters in spine order through the HTML text extraction, title, offsets."""

from __future__ import annotations

from pathlib import Path

from _ingest_helpers import assert_exact, paragraphs_of
from _office_samples import make_epub

from qa.ingest import scan_corpus
from qa.ingest.epub import reader


def test_epub_chapters_are_read_in_spine_order_without_the_navigation() -> None:
    extracted = reader(make_epub(), [])
    assert extracted.fmt == "epub" and extracted.title == "A Small Book of Tides"
    paragraphs = paragraphs_of(extracted.text)
    assert paragraphs == [
        "Spring tides",
        "Spring tides happen at new moon and full moon, when the sun and the moon pull in a line.",
        "Highest high water",
        "Lowest low water",
        "Neap tides",
        "Neap tides come a week later, at the quarter moons, and their range is smallest.",
    ]
    assert "hidden()" not in extracted.text


def test_epub_passages_slice_back_exactly(tmp_path: Path) -> None:
    (tmp_path / "tides.epub").write_bytes(make_epub())
    (doc,) = scan_corpus(tmp_path).documents
    assert doc.fmt == "epub" and doc.title == "A Small Book of Tides"
    assert any("quarter moons" in p.text for p in assert_exact(doc))


def test_epub_chapters_keep_all_visible_text_not_only_main_content() -> None:
    body = (
        "<section><header><h1>Chapter One: The Lock</h1></header>"
        "<p>The canal lock raises boats by four metres.</p>"
        "<nav><p>Locks on the route: Hatton, Stockton.</p></nav></section>"
    )
    assert paragraphs_of(reader(make_epub((("One", body),), title="Canals"), []).text) == [
        "Chapter One: The Lock",
        "The canal lock raises boats by four metres.",
        # A web page's <nav> is site navigation; in a book it is text the author wrote.
        "Locks on the route: Hatton, Stockton.",
    ]
