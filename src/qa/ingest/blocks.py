"""Blocks -> document text: paragraphs apart by a blank line, lines within one, table rows as "col: value"."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

__all__ = [
    "ROW_GROUP_CHARS",
    "clean_inline",
    "join_blocks",
    "list_lines",
    "row_groups",
    "row_line",
    "table_blocks",
]

# Rows of one table (or CSV) per paragraph, up to about this many characters: with the
# column names on every row that is well under the 192 word pieces of a passage.
ROW_GROUP_CHARS = 400

_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n\s*\n")
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_inline(text: str) -> str:
    """One line of running text: whitespace runs (newlines too) become one space, ends trimmed."""
    return " ".join(_CONTROLS.sub(" ", text).split())


def _clean_block(block: str) -> str:
    # Lines keep their own indentation; a blank line inside a block would split it in two.
    block = _CONTROLS.sub(" ", block.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [line.rstrip() for line in block.split("\n")]
    return _BLANK_LINES.sub("\n", "\n".join(lines)).strip("\n")


def join_blocks(blocks: Iterable[str]) -> str:
    """The document text: non-empty blocks, each cleaned, separated by one blank line.

    A blank line is the paragraph boundary the chunker splits at, so each block
    (a heading, a paragraph, a list, a group of table rows) is its own paragraph.
    """
    return "\n\n".join(b for b in (_clean_block(block) for block in blocks) if b.strip())


def list_lines(items: Iterable[tuple[int, str]]) -> str:
    """A list as one block: each (level, text) item on its own line, "- " marked, indented by level."""
    return "\n".join(f"{'  ' * level}- {text}" for level, text in items if text)


def row_line(header: Sequence[str], row: Sequence[str]) -> str:
    """One table row, self-describing: "col: value; col: value" (empty cells left out).

    A cell with no column name (no header, or more cells than header) is shown alone.
    """
    parts = []
    for i, cell in enumerate(row):
        value = clean_inline(cell)
        if not value:
            continue
        name = clean_inline(header[i]) if i < len(header) else ""
        parts.append(f"{name}: {value}" if name else value)
    return "; ".join(parts)


def row_groups(lines: Iterable[str], *, max_chars: int = ROW_GROUP_CHARS) -> list[str]:
    """Row lines grouped into blocks of about `max_chars` characters (at least one row each)."""
    groups: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        if not line:
            continue
        if current and size + len(line) > max_chars:
            groups.append("\n".join(current))
            current, size = [], 0
        current.append(line)
        size += len(line) + 1
    if current:
        groups.append("\n".join(current))
    return groups


def table_blocks(rows: Sequence[Sequence[str]]) -> list[str]:
    """A table's rows as blocks: the first row names the columns of the others.

    A one-row table is a single tab-joined line.
    """
    rows = [r for r in rows if any(clean_inline(c) for c in r)]
    if not rows:
        return []
    if len(rows) == 1:
        return ["\t".join(clean_inline(c) for c in rows[0])]
    header = rows[0]
    return row_groups(row_line(header, r) for r in rows[1:])
