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
