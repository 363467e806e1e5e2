"""Rendering: exact slices, escaping, highlights, the in-context view and Markdown export."""

from __future__ import annotations

import html
from html.parser import HTMLParser
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from qa.citations import cite
from qa.types import Answer, Document, Highlight, Hit, Passage
from qa.ui.rendering import (
    AnswerView,
    answer_html,
    answer_markdown,
    conversation_markdown,
    document_html,
    file_size,
    header_html,
    marked_html,
    plural,
    status_html,
)


class _Text(HTMLParser):
    """All text of an HTML fragment, and the text under elements with a given class."""

    def __init__(self, cls: str | None = None) -> None:
        super().__init__(convert_charrefs=True)
        self.cls = cls
        self.stack: list[bool] = []
        self.all: list[str] = []
        self.marked: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        classes = (dict(attrs).get("class") or "").split()
        if tag not in ("br", "img", "input"):
            self.stack.append(self.cls in classes)

    def handle_endtag(self, tag):
        if self.stack:
            self.stack.pop()

    def handle_data(self, data):
        self.all.append(data)
        if any(self.stack):
            self.marked.append(data)


def text_of(fragment: str, cls: str | None = None) -> tuple[str, str]:
    parser = _Text(cls)
    parser.feed(fragment)
    parser.close()
    return "".join(parser.all), "".join(parser.marked)


TEXT = (
    "# Notes <script>alert('x')</script>\n\n"
    "First paragraph & more. The best sentence is here! Trailing words.\r\n\n"
    "## Second\n\nAnother paragraph.\n"
)


def make_hit(text: str = TEXT, *, fmt: str = "md", rank: int = 1, highlights=()) -> tuple[Document, Hit]:
    doc = Document(doc_id="notes.md", title="Notes", text=text, sha256="x", size=len(text), fmt=fmt)
    start = text.index("First")
    end = text.index("Trailing words.") + len("Trailing words.")
    passage = Passage(
        passage_id="notes.md#0001",
        doc_id=doc.doc_id,
        title=doc.title,
        text=text[start:end],
        start=start,
        end=end,
        paragraph_start=2,
        paragraph_end=2,
        heading="Notes",
    )
    if not highlights:
        b = text.index("The best")
        highlights = (Highlight(b, text.index("here!") + 5, 0.9),)
    hit = Hit(
        passage=passage,
        score=0.0325,
        rank=rank,
        citation=cite(passage, doc),
        scores={"dense": 0.61, "bm25": 7.25, "fused": 0.0325},
        ranks={"dense": 1, "bm25": 2, "fused": 1},
        highlights=highlights,
    )
    return doc, hit


@given(
    st.text(min_size=0, max_size=80),
    st.lists(st.tuples(st.integers(0, 90), st.integers(0, 90), st.sampled_from(["a", "b", "c"])), max_size=5),
    st.integers(0, 50),
)
def test_marked_html_text_is_exactly_the_input(text: str, marks, offset: int) -> None:
    marks = [(offset + a, offset + b, c) for a, b, c in marks]
    out = marked_html(text, marks, offset=offset)
    assert "<script" not in out
    full, _ = text_of(out)
    assert full == text
    for a, b, c in marks:
        lo, hi = max(a, offset), min(b, offset + len(text))
        if lo < hi:
            _, under = text_of(out, c)
            assert text[lo - offset : hi - offset] in under


def test_answer_html_quotes_the_exact_slice_with_citation_and_best_sentence() -> None:
    doc, hit = make_hit()
    view = AnswerView(
        number=3, answer=Answer("q?", (hit,), answered=True), mode="hybrid", k=5, elapsed_ms=12.0
    )
    out = answer_html(view, show_scores=False)
    assert "\n" not in out and "\r" not in out  # one line: the chat renders it as one fragment
    _, quote = text_of(out, "qa-quote")
    assert quote == doc.text[hit.passage.start : hit.passage.end]
    _, best = text_of(out, "qa-best")
    h = hit.highlights[0]
    assert best == doc.text[h.start : h.end]
    _, cite_text = text_of(out, "qa-cite")
    assert cite_text == hit.label() == f"[1] notes.md ¶2, chars {hit.passage.start}-{hit.passage.end}"
    assert "qa-ref-3-1" in out
    assert "score 0.0325" in out
    assert "qa-signals" not in out
    with_scores = answer_html(view, show_scores=True)
    _, signals = text_of(with_scores, "qa-signals")
    assert "dense 0.6100" in signals and "BM25 7.2500" in signals and "fused (RRF) 0.0325" in signals


def test_document_content_is_escaped_everywhere() -> None:
    text = "<script>alert(1)</script> <img src=x onerror=alert(2)>\n\nBody text here.\n"
    doc = Document(doc_id="<b>evil</b>.txt", title="<script>t</script>", text=text, sha256="x", fmt="txt")
    passage = Passage("e#0", doc.doc_id, doc.title, text, 0, len(text), 1, 2, heading="<i>h</i>")
    hit = Hit(passage=passage, score=1.0, rank=1, citation=cite(passage, doc))
    view = AnswerView(1, Answer("<script>q</script>", (hit,), answered=True), "bm25", 5, 1.0)
    for out in (answer_html(view), document_html(doc, hit)):
        parser = _Text()
        parser.feed(out)
        assert not {"script", "img", "b", "i"} & set(parser.tags)
        assert "&lt;script&gt;" in out


def test_abstained_answer_says_so_and_collapses_low_confidence_passages() -> None:
    _, hit = make_hit()
    view = AnswerView(1, Answer("q?", (hit,), answered=False), "hybrid", 5, 3.0)
    out = answer_html(view)
    full, _ = text_of(out)
    assert full.startswith("No relevant passage found")
    assert "<details class='qa-lowconf'>" in out and " open" not in out
    _, badge = text_of(out, "qa-badge-low")
    assert badge == "low confidence"
    empty = answer_html(AnswerView(2, Answer("q?", (), answered=False), "hybrid", 5, 3.0))
    assert "No passage found" in empty


def test_document_view_highlights_passage_and_best_sentence() -> None:
    doc, hit = make_hit()
    out = document_html(doc, hit)
    full, passage = text_of(out, "qa-passage")
    body_start = full.index("# Notes")
    assert full[body_start:].startswith(doc.text[:20])
    # The legend also uses the classes; the document body follows it.
    _, body_passage = text_of(out[out.index("<div class='qa-doc ") :], "qa-passage")
    assert body_passage == doc.text[hit.passage.start : hit.passage.end]
    _, best = text_of(out[out.index("<div class='qa-doc ") :], "qa-best")
    assert best == doc.text[hit.highlights[0].start : hit.highlights[0].end]
    _, anchor = text_of(out, "qa-anchor")
    assert anchor == doc.text[hit.passage.start]
    _, headings = text_of(out, "qa-md-heading")
    assert "## Second" in headings
    # Plain text gets no Markdown styling.
    plain_doc, plain_hit = make_hit(fmt="txt")
    assert "qa-md-heading" not in document_html(plain_doc, plain_hit)


def test_long_documents_are_shown_as_a_window_around_the_passage() -> None:
    filler = ("lorem ipsum dolor sit amet\n" * 4000).rstrip("\n")
    text = filler + "\n\n" + TEXT + "\n" + filler
    doc, hit = make_hit(text)
    out = document_html(doc, hit, window=5_000)
    assert "characters before" in out and "characters after" in out
    _, body_passage = text_of(out[out.index("<div class='qa-doc ") :], "qa-passage")
    assert body_passage == hit.passage.text
    assert len(out) < 20_000


def test_markdown_export_quotes_each_passage_with_its_citation() -> None:
    doc, hit = make_hit()
    view = AnswerView(2, Answer("What is best?", (hit,), answered=True), "hybrid", 5, 3.0)
    md = answer_markdown(view)
    assert md.startswith("## 2. What is best?")
    assert f"**{hit.label()}** · score 0.0325" in md
    quoted = [line[2:] if line.startswith("> ") else "" for line in md.splitlines() if line.startswith(">")]
    assert "\n".join(quoted) == hit.text
    whole = conversation_markdown([view, AnswerView(3, Answer("Other?", (), answered=False), "bm25", 3, 1.0)])
    assert whole.startswith("# qa answers") and "## 3. Other?" in whole and "_No passage found._" in whole
    assert html.escape("<") not in md


def test_sizes_and_plurals_for_people() -> None:
    assert [file_size(n) for n in (0, 1023, 1024, 1536, 10 * 1024 * 1024, 3 * 1024**3)] == [
        "0 B",
        "1,023 B",
        "1.0 KB",
        "1.5 KB",
        "10.0 MB",
        "3072.0 MB",
    ]
    assert (plural(1, "document"), plural(0, "passage"), plural(2, "passage")) == (
        "1 document",
        "0 passages",
        "2 passages",
    )


def test_status_line_and_header_are_escaped() -> None:
    from qa.inspection import IndexStatus

    assert status_html("Done: <b>", ok=True) == "<div class='qa-ok'>Done: &lt;b&gt;</div>"
    assert status_html("Not added", ok=False).startswith("<div class='qa-error'>")
    status = IndexStatus(
        path=Path("idx"),
        built_at="2026-01-01T00:00:00+00:00",
        qa_version="0.1.0",
        model={"name": "org/<model>"},
        settings={},
        store={},
        counts={"documents": 1, "passages": 7},
        documents={},
    )
    out = header_html(status)
    assert "1 document · 7 passages · model &lt;model&gt; · index built 2026-01-01T00:00:00+00:00" in out
