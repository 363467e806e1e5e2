"""Reader for Word documents (.docx): body paragraphs and tables in reading order.

Needs the `python-docx` package; the registry imports this module only when a .docx is read.
Headings are paragraphs of their own, list items are lines of one block, table rows read
"column: value; column: value". Headers, footers, footnotes, comments and text boxes are
not read.
"""

from __future__ import annotations

import io

import docx
from docx.table import Table
from docx.text.paragraph import Paragraph

from qa.ingest.archives import check_zip
from qa.ingest.blocks import join_blocks, list_lines, table_blocks
from qa.ingest.reader import Extracted, UnreadableFile, make_title

__all__ = ["reader"]


def _style(paragraph: Paragraph) -> str:
    style = paragraph.style
    return style.name or "" if style is not None else ""


def _is_heading(style: str) -> bool:
    return style == "Title" or style.startswith("Heading")


def _level(style: str) -> int:
    # "List Bullet 2" is the second level; "List Paragraph" and "List Bullet" the first.
    last = style.rsplit(" ", 1)[-1]
    return int(last) - 1 if last.isdigit() else 0


def _table_rows(table: Table) -> list[list[str]]:
    rows = []
    for row in table.rows:
        cells = row.cells
        texts: list[str] = []
        i = 0
        while i < len(cells):
            # A merged cell is returned once per grid column it spans: keep it once.
            texts.append(cells[i].text)
            i += max(cells[i].grid_span, 1)
        rows.append(texts)
    return rows


def reader(data: bytes, notes: list[str]) -> Extracted:
    """A .docx's body text; the title is its Title property, else its first heading, else its first line."""
    check_zip(data, ".docx")
    try:
        document = docx.Document(io.BytesIO(data))
        content = list(document.iter_inner_content())
        core_title = document.core_properties.title or ""
    except Exception as exc:  # noqa: BLE001 - python-docx raises many types on a damaged file
        raise UnreadableFile(f"corrupted or unreadable .docx ({type(exc).__name__}: {exc})") from None
    blocks: list[str] = []
    items: list[tuple[int, str]] = []
    first_heading = ""
    for block in content:
        if isinstance(block, Paragraph):
            style = _style(block)
            text = block.text.strip()
            if style.startswith("List"):
                items.append((_level(style), text))
                continue
            if items:
                blocks.append(list_lines(items))
                items = []
            if _is_heading(style) and text and not first_heading:
                first_heading = text
            blocks.append(text)
        else:
            if items:
                blocks.append(list_lines(items))
                items = []
            blocks.extend(table_blocks(_table_rows(block)))
    if items:
        blocks.append(list_lines(items))
    text = join_blocks(blocks)
    if not text.strip():
        raise UnreadableFile("empty file (the .docx has no text in its body)")
    title = core_title.strip() or first_heading or make_title(text, "docx")
    return Extracted(text, fmt="docx", title=title)
