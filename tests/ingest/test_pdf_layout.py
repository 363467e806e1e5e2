"""PDF cleanup: running headers/footers and page numbers dropped, wrapped lines joined, hyphens undone,
page starts exact, and every character mapped back to the PDF character it came from."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest

from _pdf import make_pdf
from qa.ingest.pdf import PdfLayout, extract_layout
from qa.ingest.pdf_layout import Line, furniture_keys, is_mirrored, is_page_number

DATA = Path(__file__).parent / "data"
# graphviz-doc's ccomps(1) man page as PDF (Debian 12; EPL-1.0): 2 pages, running header and footer.
CCOMPS = DATA / "ccomps.1.pdf"


WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot")


def _guide(n_pages: int) -> bytes:
    pages = []
    for n in range(1, n_pages + 1):
        w = WORDS[n - 1]
        pages.append(
            "\n".join(
                [
                    "User Guide - Chapter 4 Configuration",
                    f"Section {w} explains how the scheduler keeps every queued job in a",
                    f"fixed order, so a job that waits longest ({w}) is started by the informa-",
                    f"tion service {w} as soon as a worker becomes free again later on.",
                    "",
                    f"Page {n}",
                ]
            )
        )
    return make_pdf(pages)


def _assert_maps_back(data: bytes, layout: PdfLayout) -> None:
    """Every character not added by the cleanup is the PDF character its index names."""
    pdf = pdfium.PdfDocument(data)
    ends = [*layout.page_starts[1:], len(layout.text)]
    checked = 0
    for number, (start, end) in enumerate(zip(layout.page_starts, ends)):
        textpage = pdf[number].get_textpage()
        for offset in range(start, end):
            ix = layout.char_index[offset]
            if ix >= 0:
                assert chr(pdfium_c.FPDFText_GetUnicode(textpage.raw, ix)) == layout.text[offset]
                checked += 1
    assert checked > 0.8 * len(layout.text.replace(" ", ""))
    pdf.close()


def test_running_header_footer_and_page_numbers_are_dropped() -> None:
    data = _guide(4)
    layout = extract_layout(data)
    assert "User Guide" not in layout.text
    assert "Page " not in layout.text
    assert layout.furniture == (2, 2, 2, 2)
    assert len(layout.page_starts) == 4
    for n, start in enumerate(layout.page_starts, start=1):
        assert layout.text.startswith(f"Section {WORDS[n - 1]} explains", start)
    _assert_maps_back(data, layout)


def test_wrapped_lines_are_joined_and_hyphens_undone() -> None:
    layout = extract_layout(_guide(2))
    first = layout.text[: layout.page_starts[1]].strip()
    assert first == (
        "Section alpha explains how the scheduler keeps every queued job in a fixed order, so a job "
        "that waits longest (alpha) is started by the information service alpha as soon as a worker "
        "becomes free again later on."
    )


def test_a_single_page_keeps_its_lines_as_text() -> None:
    # One page: nothing recurs, so nothing is furniture (not even "Page 1").
    layout = extract_layout(make_pdf(["Short note\n\nPage 1"]))
    assert layout.text.split() == ["Short", "note", "Page", "1"]
    assert layout.furniture == (0,)


def test_a_real_man_page_loses_its_header_and_footer() -> None:
    data = CCOMPS.read_bytes()
    layout = extract_layout(data)
    assert len(layout.page_starts) == 2 and layout.furniture == (2, 2)
    assert "General Commands Manual" not in layout.text
    assert "30 April 2011" not in layout.text
    assert layout.text.startswith("NAME\nccomps − connected components filter for graphs\nSYNOPSIS")
    # An option list is one readable row per option, its wrapped description joined.
    assert "\n−v | Counts of nodes, edges and connected components are printed.\n" in layout.text
    assert "In essence, this givesthe connected components" in layout.text  # "givesthe": the PDF's own
    # Page 2 starts where its text starts; what it holds is cited as page 2.
    page2 = layout.text[layout.page_starts[1] :]
    assert page2.startswith("OPERANDS") and "SEE ALSO" in page2
    _assert_maps_back(data, layout)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("12", True),
        ("- 12 -", True),
        ("Page 3 of 9", True),
        ("xii", True),
        ("12 monkeys", False),
        ("", False),
    ],
)
def test_page_number_lines(line: str, expected: bool) -> None:
    assert is_page_number(line) is expected


def test_man_page_header_is_mirrored() -> None:
    assert is_mirrored("DOT(1) General Commands Manual DOT(1)")
    assert not is_mirrored("the cat saw the")
    assert not is_mirrored("1 2 1")


def test_furniture_needs_half_the_pages() -> None:
    def page(*texts: str) -> list[Line]:
        return [Line(t, tuple(range(len(t)))) for t in texts]

    pages = [
        page("Manual v2, page 1", "body one"),
        page("Manual v2, page 2", "body two"),
        page("other", "body"),
    ]
    assert furniture_keys(pages) == {"manual v#, page #"}
    assert furniture_keys(pages[:1]) == set()
