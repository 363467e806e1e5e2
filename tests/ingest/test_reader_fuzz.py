"""Fuzz the readers: no crash on arbitrary bytes or markup, and what they extract chunks exactly."""

from __future__ import annotations

import hashlib
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _chunk_contract import TEXTS, check_passages, make_doc
from qa.config import IndexSettings
from qa.ingest import SUPPORTED_SUFFIXES, UnreadableFile, extract_html, read_document


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=2000), suffix=st.sampled_from(SUPPORTED_SUFFIXES))
def test_read_document_never_crashes_on_arbitrary_bytes(data: bytes, suffix: str) -> None:
    try:
        doc = read_document(Path("x" + suffix), "x" + suffix, data=data)
    except UnreadableFile as exc:
        assert str(exc)  # every refusal says why
        return
    assert doc.text.strip() and "\x00" not in doc.text
    assert doc.sha256 == hashlib.sha256(doc.text.encode("utf-8")).hexdigest()
    check_passages(doc, IndexSettings(max_tokens=16, min_tokens=4, context="none"))


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=3000))
def test_pdf_reader_never_crashes_on_mangled_pdfs(data: bytes) -> None:
    from _pdf import make_pdf

    # A valid PDF with random bytes spliced in: closer to real damage than pure noise.
    pdf = make_pdf(["Page one text.", "Page two text."])
    cut = len(data) % len(pdf)
    mangled = pdf[:cut] + data + pdf[cut + len(data) // 2 :]
    try:
        doc = read_document(Path("x.pdf"), "x.pdf", data=mangled)
    except UnreadableFile:
        return
    assert all(0 <= s <= len(doc.text) for s in doc.page_starts)
    check_passages(doc, IndexSettings(max_tokens=16, min_tokens=4, context="none"))


_TAGS = st.sampled_from(
    ["<p>", "</p>", "<br>", "<br/>", "<script>", "</script>", "<style>", "</style>", "<pre>", "</pre>",
     "<div hidden>", "</div>", "<li>", "<title>", "</title>", "<head>", "<body>", "&amp;", "&#0;", "&lt;",
     "<!--", "-->", "<![CDATA[", "<td>", "<"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(st.one_of(_TAGS, TEXTS), max_size=30))
def test_html_extraction_never_crashes(parts: list[str]) -> None:
    text, title = extract_html("".join(parts))
    assert isinstance(text, str) and (title is None or title.strip() == title)
    if text.strip():
        check_passages(make_doc(text, "html"), IndexSettings(max_tokens=16, min_tokens=4, context="none"))
