"""Reader for OpenDocument text (.odt): headings, paragraphs, lists and tables in reading order.

Needs the `odfpy` package; the registry imports this module only when an .odt is read.
Headings are paragraphs of their own, list items are lines of one block, table rows read
"column: value; column: value", footnotes follow the paragraph that cites them. Tracked
deletions, headers, footers and drawings' text are not read.
"""

from __future__ import annotations

import io

from odf.element import Element
from odf.namespaces import DCNS, TABLENS, TEXTNS
from odf.opendocument import load

from qa.ingest.archives import check_zip
from qa.ingest.blocks import clean_inline, join_blocks, list_lines, table_blocks
from qa.ingest.reader import Extracted, UnreadableFile, make_title

__all__ = ["reader"]

# Elements whose text is not part of the running text.
_SKIPPED = frozenset(
    {
        (TEXTNS, "tracked-changes"),
        (TEXTNS, "sequence-decls"),
        (TEXTNS, "variable-decls"),
        (TEXTNS, "user-field-decls"),
        (TEXTNS, "note-citation"),
        (TEXTNS, "table-of-content"),
        (TEXTNS, "soft-page-break"),
        (TABLENS, "table-columns"),
        (TABLENS, "table-column"),
    }
)


def _inline(element: Element, notes: list[str]) -> str:
    """The text of a paragraph-like element; footnote bodies go to `notes` instead."""
    parts: list[str] = []
    for node in element.childNodes:
        if node.nodeType == node.TEXT_NODE:
            parts.append(str(node.data))
            continue
        if node.nodeType != node.ELEMENT_NODE:
            continue
        qname = node.qname
        if qname in _SKIPPED:
            continue
        if qname == (TEXTNS, "s"):
            parts.append(" " * int(node.getAttrNS(TEXTNS, "c") or 1))
        elif qname == (TEXTNS, "tab"):
            parts.append("\t")
        elif qname == (TEXTNS, "line-break"):
            parts.append("\n")
        elif qname == (TEXTNS, "note"):
            body = [_inline(p, notes) for p in _descendants(node, (TEXTNS, "p"))]
            notes.append(clean_inline(" ".join(body)))
        else:
            parts.append(_inline(node, notes))
    return "".join(parts)


def _descendants(element: Element, qname: tuple[str, str]) -> list[Element]:
    found = []
    for node in element.childNodes:
        if node.nodeType != node.ELEMENT_NODE:
            continue
        if node.qname == qname:
            found.append(node)
        else:
            found.extend(_descendants(node, qname))
    return found


def _line(element: Element, notes: list[str]) -> str:
    return "\n".join(clean_inline(line) for line in _inline(element, notes).split("\n"))


def _list_items(element: Element, level: int, out: list[tuple[int, str]]) -> None:
    for item in element.childNodes:
        if item.nodeType != item.ELEMENT_NODE or item.qname not in (
            (TEXTNS, "list-item"),
            (TEXTNS, "list-header"),
        ):
            continue
        for child in item.childNodes:
            if child.nodeType != child.ELEMENT_NODE:
                continue
            if child.qname == (TEXTNS, "list"):
                _list_items(child, level + 1, out)
            elif child.qname in ((TEXTNS, "p"), (TEXTNS, "h")):
                notes: list[str] = []
                out.append((level, clean_inline(_inline(child, notes))))
                out.extend((level + 1, n) for n in notes)


def _table_rows(table: Element) -> list[list[str]]:
    rows = []
    for row in _descendants(table, (TABLENS, "table-row")):
        cells = []
        for cell in row.childNodes:
            if cell.nodeType == cell.ELEMENT_NODE and cell.qname == (TABLENS, "table-cell"):
                notes: list[str] = []
                cells.append(" ".join(_inline(p, notes) for p in _descendants(cell, (TEXTNS, "p"))))
        rows.append(cells)
    return rows


class _Walk:
    def __init__(self) -> None:
        self.blocks: list[str] = []
        self.first_heading = ""

    def visit(self, element: Element) -> None:
        for node in element.childNodes:
            if node.nodeType != node.ELEMENT_NODE or node.qname in _SKIPPED:
                continue
            qname = node.qname
            if qname in ((TEXTNS, "p"), (TEXTNS, "h")):
                notes: list[str] = []
                text = _line(node, notes)
                if qname == (TEXTNS, "h") and text.strip() and not self.first_heading:
                    self.first_heading = text.strip()
                self.blocks.append(text)
                self.blocks.extend(notes)
            elif qname == (TEXTNS, "list"):
                items: list[tuple[int, str]] = []
                _list_items(node, 0, items)
                self.blocks.append(list_lines(items))
            elif qname == (TABLENS, "table"):
                self.blocks.extend(table_blocks(_table_rows(node)))
            else:
                self.visit(node)  # sections, frames, index bodies: read what they hold


def reader(data: bytes, notes: list[str]) -> Extracted:
    """An .odt's body text; the title is its title property, else its first heading, else its first line."""
    check_zip(data, ".odt")
    try:
        document = load(io.BytesIO(data))
        body = document.text
        titles = [t for t in _descendants(document.meta, (DCNS, "title"))]
        title = clean_inline(" ".join(_inline(t, []) for t in titles))
        walk = _Walk()
        walk.visit(body)
    except Exception as exc:  # noqa: BLE001 - odfpy raises many types on a damaged file
        raise UnreadableFile(f"corrupted or unreadable .odt ({type(exc).__name__}: {exc})") from None
    text = join_blocks(walk.blocks)
    if not text.strip():
        raise UnreadableFile("empty file (the .odt has no text in its body)")
    return Extracted(text, fmt="odt", title=title or walk.first_heading or make_title(text, "odt"))
