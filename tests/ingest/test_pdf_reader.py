"""The PDF reader: page starts, citations with page numbers, damaged files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from _ingest_helpers import assert_exact, skip_reasons

from _pdf import make_pdf
from qa.citations import cite
from qa.config import IndexSettings
from qa.ingest import UnreadableFile, scan_corpus
from qa.ingest.pdf import reader


def test_pdf_pages_are_recorded_and_cited(tmp_path: Path) -> None:
    pages = [
        "Annual report\nRevenue grew in the first quarter.",
        "Costs\nSalaries were the largest cost.",
        "Outlook (next year)\nThe board expects slower growth.",
    ]
    (tmp_path / "report.pdf").write_bytes(make_pdf(pages))
    scan = scan_corpus(tmp_path)
    (doc,) = scan.documents
    assert doc.fmt == "pdf" and doc.title == "Annual report"
    assert len(doc.page_starts) == 3 and doc.page_starts[0] == 0
    for number, word in ((1, "Revenue"), (2, "Salaries"), (3, "board")):
        assert doc.page_of(doc.text.index(word)) == number
    # One passage per page here (min_tokens=0 keeps paragraphs apart): each cites its page.
    passages = assert_exact(doc, IndexSettings(max_tokens=24, min_tokens=0, context="none"))
    cited = {cite(p, doc).page for p in passages}
    assert cited == {1, 2, 3}
    salaries = next(p for p in passages if "Salaries" in p.text)
    assert cite(salaries, doc).label().startswith("report.pdf p.2 ")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"%PDF-1.4\n1 0 obj garbage", "corrupted"),
        (make_pdf(["Some text on the page."])[:150], "corrupted"),
        (b"%PDF-1.4\n" + os.urandom(2000), "corrupted"),
        (make_pdf([""]), "no text layer"),
    ],
    ids=["garbage", "truncated", "random", "no-text"],
)
def test_bad_pdf_is_skipped_and_the_rest_indexed(tmp_path: Path, data: bytes, reason: str) -> None:
    (tmp_path / "bad.pdf").write_bytes(data)
    (tmp_path / "good.txt").write_text("A good document.\n")
    scan = scan_corpus(tmp_path)
    assert [d.doc_id for d in scan.documents] == ["good.txt"]
    assert reason in skip_reasons(scan)["bad.pdf"]


def test_pdf_reader_returns_page_starts_and_the_first_line_as_title() -> None:
    extracted = reader(make_pdf(["Timetable", "The last ferry leaves at ten.", ""]), [])
    assert extracted.fmt == "pdf" and extracted.title == "Timetable"
    assert extracted.text == "Timetable\n\nThe last ferry leaves at ten.\n\n"
    assert extracted.page_starts == (0, 11, 42)


def test_pdf_reader_refuses_a_pdf_without_text() -> None:
    with pytest.raises(UnreadableFile, match=r"PDF has 2 page\(s\) but no text layer"):
        reader(make_pdf(["", ""]), [])
