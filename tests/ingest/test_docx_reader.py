"""The .docx reader: headings, paragraphs, lists and tables in order, title, exact offsets."""

from __future__ import annotations

from pathlib import Path

from _ingest_helpers import assert_exact, paragraphs_of
from _office_samples import make_docx

from qa.ingest import scan_corpus
from qa.ingest.docx import reader


def test_docx_blocks_become_paragraphs_lines_and_rows() -> None:
    extracted = reader(make_docx(), [])
    assert extracted.fmt == "docx" and extracted.title == "Lighthouse keeping"
    paragraphs = paragraphs_of(extracted.text)
    assert paragraphs == [
        "Lighthouse keeping",
        "Nightly duties",
        "The keeper trims the lamp wick every evening at sunset and winds the clockwork that turns "
        "the lens.\nThe log records the weather each hour.",
        "- Paraffin oil for the lamp\n  - Spare wicks\n- Brass polish for the lens frame",
        "Famous lights",
        "Name: Bell Rock; Height: 35 m; First lit: 1810\nName: Eddystone; Height: 49 m; First lit: 1882",
        "Fog signals sound every thirty seconds when visibility drops below two miles.",
    ]


def test_docx_title_property_wins_over_the_first_heading() -> None:
    assert reader(make_docx(core_title="Keepers' handbook"), []).title == "Keepers' handbook"


def test_docx_passages_slice_back_exactly(tmp_path: Path) -> None:
    (tmp_path / "lights.docx").write_bytes(make_docx())
    (doc,) = scan_corpus(tmp_path).documents
    assert doc.doc_id == "lights.docx" and doc.fmt == "docx"
    passages = assert_exact(doc)
    assert any("Eddystone" in p.text for p in passages)
