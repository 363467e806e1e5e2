"""Reader for HTML (.html, .htm): the page's main content as text.

Only visible text (no scripts, styles or hidden elements), and only the content: when a
page marks its main part (`<main>`, `role="main"`), only that part; everywhere, no
navigation, menus, search boxes, site headers and footers (`<nav>`, ARIA roles
`navigation`/`banner`/`contentinfo`/`search`, and the usual class names of generated
documentation: DocBook's `navheader`/`navfooter`/`toc`, Sphinx's `related`/
`sphinxsidebar`/`footer`/`headerlink`). Headings stay paragraphs of their own; a table
row is one line, its cells separated by " | ".
"""

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
# Page furniture: skipped with everything inside it.
_CHROME_TAGS = frozenset({"nav"})
_CHROME_ROLES = frozenset({"navigation", "banner", "contentinfo", "search", "menu", "menubar", "toolbar"})
_CHROME_CLASSES = frozenset(
    "navheader navfooter toc related sphinxsidebar footer headerlink breadcrumb breadcrumbs "
    "navbar navigation menu sidebar skip-link skiplink".split()
)
_HAS_MAIN = re.compile(r"""<main[\s>]|role\s*=\s*["']?main\b""", re.IGNORECASE)
CELL_SEPARATOR = " | "


def _is_chrome(tag: str, attrs: list[tuple[str, str | None]]) -> bool:
    if tag in _CHROME_TAGS:
        return True
    for name, value in attrs:
        if name == "role" and (value or "").strip().lower() in _CHROME_ROLES:
            return True
        if name in ("class", "id") and not _CHROME_CLASSES.isdisjoint((value or "").lower().split()):
            return True
    return False


def _is_main(tag: str, attrs: list[tuple[str, str | None]]) -> bool:
    return tag == "main" or any(
        name == "role" and (value or "").strip().lower() == "main" for name, value in attrs
    )


class _VisibleText(HTMLParser):
    """Collect the text a browser would show, one paragraph per block element."""

    def __init__(self, *, only_main: bool = False, skip_chrome: bool = True) -> None:
        super().__init__(convert_charrefs=True)
        self._skip_chrome = skip_chrome
        # Outside the main part, the page is treated like a hidden element.
        self._outside_main = only_main
        self._main: list[str] = []  # the main element's tag, and tags of its name nested in it
        self._cells = 0  # cells so far in the current table row
        self._tables = 0  # open tables: inside one, only rows break lines
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
        if self._outside_main and not self._hidden and _is_main(tag, attrs):
            self._outside_main = False
            self._main.append(tag)
        elif self._main and tag == self._main[0] and tag not in _VOID_TAGS:
            self._main.append(tag)
        hidden = (
            tag in _HIDDEN_TAGS
            or any(name == "hidden" for name, _ in attrs)
            or (self._skip_chrome and _is_chrome(tag, attrs))
        )
        if self._hidden or hidden or self._outside_main:
            if tag not in _VOID_TAGS and (self._hidden or hidden):
                self._hidden.append(tag)
            return
        if tag in ("td", "th"):
            # A row is one line: its cells separated by " | ".
            self._cells += 1
            if self._cells > 1:
                self._words.append(CELL_SEPARATOR)
            return
        if tag == "tr":
            self._end_line()
            self._cells = 0
            return
        if tag == "table":
            self._end_paragraph()
            self._tables += 1
        elif tag in _BLOCK_TAGS and not self._tables:
            self._end_paragraph()
        if tag == "pre":
            self._pre += 1
        elif tag == "br":
            self._end_line()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._outside_main:
            return
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
        if self._main and tag == self._main[0]:
            self._main.pop()
            if not self._main:
                self._end_paragraph()
                self._outside_main = True
                return
        if self._outside_main:
            return
        if tag in ("td", "th"):
            return
        if tag == "tr":
            self._end_line()
            self._cells = 0
        elif tag == "pre" and self._pre:
            self._end_paragraph()
            self._pre -= 1
        elif tag == "table":
            self._tables = max(0, self._tables - 1)
            self._cells = 0
            self._end_paragraph()
        elif tag in _BLOCK_TAGS and not self._tables:
            self._end_paragraph()

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title_parts.append(data)
            return
        if self._hidden or self._outside_main:
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


def extract_html(source: str, *, main_content: bool = True) -> tuple[str, str | None]:
    """The main content of an HTML page as text (see the module docstring) and its <title>.

    Block elements become paragraphs separated by a blank line; `<br>` is a line break.
    `main_content=False` keeps all visible text (navigation, menus, footers too).
    """
    only_main = main_content and bool(_HAS_MAIN.search(source))
    parser = _VisibleText(only_main=only_main, skip_chrome=main_content)
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
