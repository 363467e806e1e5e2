"""The HTML reader: visible text only, declared charsets, broken markup."""

from __future__ import annotations

from pathlib import Path

from _ingest_helpers import assert_exact, skip_reasons

from qa.ingest import extract_html, read_document, scan_corpus
from qa.ingest.html import reader
from qa.ingest.reader import Extracted

PAGE = """<!doctype html>
<html><head><title>  Tide  Tables </title>
<style>body { color: red } .secret { display: none }</style>
<script>var s = "</p><p>script text"; document.write("injected");</script>
</head>
<body>
<h1>Tides</h1>
<p>High tide comes twice a day.<br>The moon pulls the sea.</p>
<div hidden>hidden div text</div>
<noscript>please enable javascript</noscript>
<ul><li>Spring tides</li><li>Neap tides</li></ul>
<p>Fish &amp; chips &lt;b&gt; are sold at the pier.</p>
<script>alert("tail")</script>
</body></html>"""


def test_html_keeps_visible_text_only(tmp_path: Path) -> None:
    path = tmp_path / "tides.html"
    path.write_text(PAGE, encoding="utf-8")
    doc = read_document(path, "tides.html")
    assert doc.fmt == "html"
    assert doc.title == "Tide Tables"
    for hidden in ("script text", "injected", "alert", "color: red", "hidden div", "enable javascript"):
        assert hidden not in doc.text
    assert "High tide comes twice a day.\nThe moon pulls the sea." in doc.text
    # Entities are decoded once, so markup-looking text is plain text in the document.
    assert "Fish & chips <b> are sold at the pier." in doc.text
    # Block elements are paragraphs: each list item stands alone.
    assert "\n\nSpring tides\n\nNeap tides\n\n" in doc.text
    assert_exact(doc)


def test_html_declared_charset_and_htm_suffix(tmp_path: Path) -> None:
    page = '<html><head><meta charset="windows-1251"></head><body><p>Привет, мир.</p></body></html>'
    path = tmp_path / "ru.htm"
    path.write_bytes(page.encode("cp1251"))
    scan = scan_corpus(tmp_path)
    assert [d.text for d in scan.documents] == ["Привет, мир."]
    assert "windows-1251" in scan.notes[0].message


def test_html_without_visible_text_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "blank.html").write_text("<html><head><script>x()</script></head><body> </body></html>")
    assert "no visible text" in skip_reasons(scan_corpus(tmp_path))["blank.html"]


def test_extract_html_survives_broken_markup() -> None:
    text, title = extract_html("<p>one<div>two</span></p></p><b><i>three<script>never closed")
    assert text.split("\n\n") == ["one", "two", "three"]
    assert title is None


def test_html_reader_falls_back_to_the_first_line_for_a_title() -> None:
    page = b"<p>Only a paragraph<br/>and a break</p><div hidden>no</div>"
    assert reader(page, []) == Extracted(
        "Only a paragraph\nand a break", fmt="html", title="Only a paragraph"
    )
    titled = reader(b"<title> T  x </title><p>Body.</p>", [])
    assert (titled.text, titled.title) == ("Body.", "T x")


def test_html_reader_notes_the_declared_charset() -> None:
    notes: list[str] = []
    page = '<meta charset="windows-1251"><p>Привет</p>'.encode("cp1251")
    assert reader(page, notes).text == "Привет"
    assert notes == ["not UTF-8; decoded as windows-1251 (declared in the file)"]
