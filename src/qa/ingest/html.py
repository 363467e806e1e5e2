"""Reader for HTML (.html, .htm): the visible text only (no scripts, styles or hidden elements)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from qa.ingest.decoding import decode_text
from qa.ingest.reader import Extracted, UnreadableFile, make_title

__all__ = ["extract_html", "reader"]

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)

# Elements whose content a browser does not show as text.
_HIDDEN_TAGS = frozenset(
    {"script", "style", "noscript", "template", "head", "svg", "math", "iframe", "object", "canvas"}
)
_VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)
# Elements that start a new paragraph.
_BLOCK_TAGS = frozenset(
    "address article aside blockquote body caption center dd details dialog div dl dt fieldset "
    "figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr html legend li main menu nav "
    "ol p pre section summary table tbody thead tfoot tr ul".split()
)
_SPACE_RUN = re.compile(r"\s+")


class _VisibleText(HTMLParser):
    """Collect the text a browser would show, one paragraph per block element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self._lines: list[str] = []
        self._words: list[str] = []
        self._hidden: list[str] = []  # open hidden elements
        self._pre = 0
        self._in_title = False
        self.title_parts: list[str] = []

    def _end_line(self) -> None:
        line = _SPACE_RUN.sub(" ", "".join(self._words)).strip() if not self._pre else "".join(self._words)
        self._words = []
        if line.strip():
            self._lines.append(line)

    def _end_paragraph(self) -> None:
        self._end_line()
        if self._lines:
            self.paragraphs.append("\n".join(self._lines))
        self._lines = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        if tag == "body":
            self._hidden = [t for t in self._hidden if t != "head"]  # an unclosed <head> ends here
        if self._hidden or tag in _HIDDEN_TAGS or any(name == "hidden" for name, _ in attrs):
            if tag not in _VOID_TAGS:
                self._hidden.append(tag)
            return
        if tag in _BLOCK_TAGS:
            self._end_paragraph()
        if tag == "pre":
            self._pre += 1
        elif tag == "br":
            self._end_line()
        elif tag in ("td", "th"):
            self._words.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not self._hidden and tag == "br":
            self._end_line()
        elif not self._hidden and tag in _BLOCK_TAGS:
            self._end_paragraph()

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if self._hidden:
            if tag in self._hidden:
                # Close the element and anything left open inside it.
                del self._hidden[len(self._hidden) - 1 - self._hidden[::-1].index(tag) :]
            return
        if tag == "pre" and self._pre:
            self._end_paragraph()
            self._pre -= 1
        elif tag in _BLOCK_TAGS:
            self._end_paragraph()

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title_parts.append(data)
            return
        if self._hidden:
            return
        if self._pre:
            lines = data.split("\n")
            for i, line in enumerate(lines):
                if i:
                    self._end_line()
                self._words.append(line.rstrip())
        else:
            self._words.append(data)

    def close(self) -> None:
        super().close()
        self._end_paragraph()


def extract_html(source: str) -> tuple[str, str | None]:
    """The visible text of an HTML page (no scripts, styles or hidden elements) and its <title>.

    Block elements become paragraphs separated by a blank line; `<br>` is a line break.
    """
    parser = _VisibleText()
    parser.feed(source)
    parser.close()
    title = _SPACE_RUN.sub(" ", "".join(parser.title_parts)).strip() or None
    return "\n\n".join(parser.paragraphs), title


def reader(data: bytes, notes: list[str]) -> Extracted:
    """An HTML page, decoded with the charset it declares; the title is its <title> or first line."""
    m = _META_CHARSET.search(data[:4096])
    declared = m.group(1).decode("ascii", "replace") if m else None
    source = decode_text(data, notes, declared=declared)
    text, title = extract_html(source)
    if not text.strip():
        raise UnreadableFile("empty file (no visible text)")
    return Extracted(text, fmt="html", title=title or make_title(text, "html"))
