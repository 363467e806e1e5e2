"""Readable text from a PDF's lines: page furniture dropped, wrapped lines joined, hyphens undone.

Pure functions over `Line`s (one per line of a page's text layer, with its geometry);
`ingest/pdf.py` makes the lines with pypdfium2. Every output character remembers the
PDF character it came from (`-1` for the spaces and line breaks added here), so a
passage of the stored text can be mapped back to boxes on the rendered page.

What is furniture: a line among the first or last two of a page whose text, with digits
masked, recurs on at least half of the pages (running headers and footers, "Page 4 of
9"), a bare page number there ("12", "- 12 -", "Page 12", "xii"), and a man page's
header (the same word first and last: "DOT(1) General Commands Manual DOT(1)").
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Line", "PageText", "clean_pages", "furniture_keys", "is_mirrored", "is_page_number", "line_key"]

# How many lines at the top and at the bottom of a page may be running headers/footers.
EDGE_LINES = 2
# A vertical gap this many times the page's usual line spacing starts a new paragraph.
PARAGRAPH_GAP = 1.45
# A horizontal gap this many times the line height separates two table cells.
CELL_GAP = 1.8
CELL_SEPARATOR = " | "
SOFT_HYPHEN = "\x02"  # what pdfium reports for a hyphen it found at a line end
_PAGE_NUMBER = re.compile(
    r"^[-–—\s]*(?:page\s+)?(?:\d{1,4}|[ivxlcdm]{1,7})(?:\s*(?:of|/)\s*\d{1,4})?[-–—\s]*$", re.I
)
_BULLET = re.compile(r"^(?:[•◦▪‣●○∗*·–—-]\s|\(?\d{1,3}[.)]\s|\(?[a-z][.)]\s)")
_MAN_NAME = re.compile(r"^[\w.+-]+\(\w+\)$")
_SENTENCE_END = tuple(".:;!?")


@dataclass(frozen=True)
class Line:
    """One line of a page's text layer.

    Args:
        chars: the line's characters (no line break).
        index: for each character, its index in the page's PDF text (-1: added).
        x0, x1: left and right edge of the inked characters (PDF points).
        bottom, top: lowest and highest edge of the inked characters (PDF points, y up).
        gaps: positions in `chars` of spaces that are wide enough to separate table cells.
    """

    chars: str
    index: tuple[int, ...]
    x0: float = 0.0
    x1: float = 0.0
    bottom: float = 0.0
    top: float = 0.0
    gaps: tuple[int, ...] = ()

    @property
    def height(self) -> float:
        return max(0.0, self.top - self.bottom)


@dataclass(frozen=True)
class PageText:
    """A cleaned page: its text and, per character, the PDF character index (-1: added)."""

    text: str
    index: tuple[int, ...]
    dropped: int  # furniture lines removed


def line_key(text: str) -> str:
    """A line's text with digits masked and spaces collapsed: the same on every page."""
    return " ".join(re.sub(r"\d+", "#", text).lower().split())


def is_page_number(text: str) -> bool:
    """A line that holds only a page number ("12", "- 12 -", "Page 3 of 9", "xii")."""
    return bool(text.strip()) and bool(_PAGE_NUMBER.match(text.strip()))


def is_mirrored(text: str) -> bool:
    """A man-page running header: the same word first and last ("DOT(1) General Commands Manual DOT(1)")."""
    words = text.split()
    return len(words) >= 3 and words[0] == words[-1] and bool(_MAN_NAME.match(words[0]))


def _edges(lines: Sequence[Line]) -> list[Line]:
    real = [ln for ln in lines if ln.chars.strip()]
    if len(real) <= 2 * EDGE_LINES:
        return real
    return real[:EDGE_LINES] + real[-EDGE_LINES:]


def furniture_keys(pages: Sequence[Sequence[Line]]) -> set[str]:
    """The keys (`line_key`) of lines that recur at the top or bottom of at least half the pages."""
    if len(pages) < 2:
        return set()
    counts: Counter[str] = Counter()
    for lines in pages:
        counts.update({line_key(ln.chars) for ln in _edges(lines)})
    need = max(2, (len(pages) + 1) // 2)
    return {key for key, n in counts.items() if n >= need and key.strip("# ")}


def _drop_furniture(lines: Sequence[Line], keys: set[str], paged: bool) -> tuple[list[Line], int]:
    edge = {id(ln) for ln in _edges(lines)}
    kept: list[Line] = []
    dropped = 0
    for ln in lines:
        if id(ln) in edge and (
            line_key(ln.chars) in keys or is_mirrored(ln.chars) or (paged and is_page_number(ln.chars))
        ):
            dropped += 1
        elif ln.chars.strip():
            kept.append(ln)
    return kept, dropped


def _spacing(lines: Sequence[Line]) -> float:
    """The page's usual distance from one line's bottom to the next's."""
    steps = [
        a.bottom - b.bottom
        for a, b in zip(lines, lines[1:])
        if 0 < a.bottom - b.bottom < 4 * max(a.height, 1)
    ]
    return statistics.median(steps) if steps else 0.0


def _break(a: Line, b: Line, spacing: float, right: float) -> str:
    """What separates line `a` from the next line `b`: "\\n\\n", "\\n" or "" (join them)."""
    if spacing and a.bottom - b.bottom > PARAGRAPH_GAP * spacing:
        return "\n\n"
    if a.bottom - b.bottom < -max(a.height, 1):  # the next line is higher up: a new column or box
        return "\n\n"
    size = max(a.height, b.height, 1.0)
    if b.x0 < a.x0 - 2 * size:  # outdented past a first-line indent: a heading or a new item
        return "\n"
    if a.gaps and not b.gaps and b.x0 > a.x0 + size:
        return ""  # a table's last cell goes on under itself (a man page's option list)
    if a.gaps or b.gaps or _BULLET.match(b.chars.lstrip()):
        return "\n"
    if b.x0 > a.x0 + size:  # indented: a new paragraph, a nested item or code
        return "\n"
    if a.x1 < right - 4 * size and (a.chars.rstrip().endswith(_SENTENCE_END) or b.x0 < a.x0 - size / 2):
        return "\n"  # a short line that ends a sentence ends its paragraph
    if a.x1 < right - 12 * size:
        return "\n"  # far short of the margin: not wrapped by the layout
    return ""


def _emit_line(ln: Line, out: list[str], index: list[int]) -> None:
    cells = set(ln.gaps)
    for pos, (ch, ix) in enumerate(zip(ln.chars, ln.index)):
        if pos in cells:
            out.append(CELL_SEPARATOR)
            index.extend([-1] * len(CELL_SEPARATOR))
        elif ch == SOFT_HYPHEN:
            continue
        else:
            out.append(ch)
            index.append(ix)


def _join(prev: Line, nxt: Line, out: list[str], index: list[int]) -> None:
    """Join line `nxt` onto the text so far: undo the layout's hyphen, or add one space."""
    while out and out[-1] in (" ", "\t"):
        del out[-1], index[-1]
    if prev.chars.rstrip().endswith(SOFT_HYPHEN):
        return  # pdfium marked the hyphen as the layout's; it was not emitted
    first = nxt.chars.lstrip()[:1]
    if len(out) > 1 and out[-1] == "-" and out[-2].isalpha() and first.islower():
        del out[-1], index[-1]  # "informa-" + "tion"
        return
    out.append(" ")
    index.append(-1)


def _page_text(lines: Sequence[Line], right: float) -> tuple[str, tuple[int, ...]]:
    spacing = _spacing(lines)
    out: list[str] = []
    index: list[int] = []
    for i, ln in enumerate(lines):
        if i:
            sep = _break(lines[i - 1], ln, spacing, right)
            if sep:
                while out and out[-1] in (" ", "\t"):
                    del out[-1], index[-1]
                out.append(sep)
                index.extend([-1] * len(sep))
            else:
                _join(lines[i - 1], ln, out, index)
        _emit_line(ln, out, index)
    text = "".join(out)
    # Strip the page's outer spaces, keeping the index aligned.
    lead = len(text) - len(text.lstrip())
    trail = len(text.rstrip())
    return text[lead:trail], tuple(index[lead:trail])


def clean_pages(pages: Sequence[Sequence[Line]]) -> list[PageText]:
    """Each page's readable text: furniture dropped, paragraphs rebuilt, table cells marked."""
    keys = furniture_keys(pages)
    paged = len(pages) >= 2
    kept_pages = [_drop_furniture(lines, keys, paged) for lines in pages]
    widths = [ln.x1 for lines, _ in kept_pages for ln in lines if ln.x1 > ln.x0]
    # The text block's right edge: most full lines reach it.
    right = statistics.quantiles(widths, n=10)[-1] if len(widths) >= 2 else (widths[0] if widths else 0.0)
    result = []
    for lines, dropped in kept_pages:
        text, index = _page_text(lines, right)
        result.append(PageText(text, index, dropped))
    return result
