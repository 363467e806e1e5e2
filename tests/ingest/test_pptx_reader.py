"""The .pptx reader: one page per slide, titles, bullets, tables, speaker notes, exact offsets."""

from __future__ import annotations

from pathlib import Path

from _ingest_helpers import assert_exact
from _office_samples import make_pptx

from qa.citations import cite
from qa.config import IndexSettings
from qa.ingest import scan_corpus
from qa.ingest.pptx import reader


def test_pptx_slides_are_pages_with_title_text_notes_and_rows() -> None:
    extracted = reader(make_pptx(), [])
    assert extracted.fmt == "pptx" and extracted.title == "Solar power at home"
    slides = [
        extracted.text[start:end]
        for start, end in zip(extracted.page_starts, [*extracted.page_starts[1:], len(extracted.text) + 2])
    ]
    assert slides == [
        "Solar power at home\n\nA short introduction for householders\n\n",
        "How panels work\n\nSilicon cells turn sunlight into direct current\n"
        "  An inverter changes it to alternating current for the house\n\n"
        "Notes: Mention the roof installation in Leeds.\n\n",
        "Output by month\n\nMonth: June; Energy (kWh): 410\nMonth: December; Energy (kWh): 95",
    ]


def test_pptx_passages_cite_their_slide_as_the_page(tmp_path: Path) -> None:
    (tmp_path / "solar.pptx").write_bytes(make_pptx())
    (doc,) = scan_corpus(tmp_path).documents
    passages = assert_exact(doc, IndexSettings(max_tokens=24, min_tokens=0, context="none"))
    inverter = next(p for p in passages if "inverter" in p.text)
    assert cite(inverter, doc).page == 2
    assert {cite(p, doc).page for p in passages} == {1, 2, 3}
