"""The .odt reader: headings, paragraphs (spaces, line breaks, footnotes), lists, tables, title."""

from __future__ import annotations

from pathlib import Path

from _ingest_helpers import assert_exact, paragraphs_of
from _office_samples import make_odt

from qa.ingest import scan_corpus
from qa.ingest.odt import reader


def test_odt_blocks_become_paragraphs_lines_and_rows() -> None:
    extracted = reader(make_odt(), [])
    assert extracted.fmt == "odt" and extracted.title == "Beekeeping through the year"
    paragraphs = paragraphs_of(extracted.text)
    assert paragraphs == [
        "The colony",
        # The footnote mark is left out of the sentence; its text follows the paragraph.
        "A honey bee colony has a single queen, who lays up to two thousand eggs a day. "
        "Worker bees live about six weeks in summer.\nDrones do not sting.",
        "In early summer, at the height of the season.",
        "Equipment",
        "- A smoker to calm the bees\n- A veil and gloves",
        "Month: April; Task: Inspect the brood frames\nMonth: August; Task: Harvest the honey",
    ]


def test_odt_without_a_title_property_takes_its_first_heading() -> None:
    from odf.opendocument import OpenDocumentText
    from odf.text import H, P

    doc = OpenDocumentText()
    doc.text.addElement(P(text=""))
    doc.text.addElement(H(outlinelevel=1, text="Minutes of the meeting"))
    doc.text.addElement(P(text="The budget was approved."))
    import io

    buf = io.BytesIO()
    doc.write(buf)
    extracted = reader(buf.getvalue(), [])
    assert extracted.title == "Minutes of the meeting"
    assert extracted.text == "Minutes of the meeting\n\nThe budget was approved."


def test_odt_passages_slice_back_exactly(tmp_path: Path) -> None:
    (tmp_path / "bees.odt").write_bytes(make_odt())
    (doc,) = scan_corpus(tmp_path).documents
    assert doc.fmt == "odt" and doc.title == "Beekeeping through the year"
    assert any("Harvest the honey" in p.text for p in assert_exact(doc))
