"""Reader for tables in text (.csv, .tsv): every row as "column: value; column: value".

The first row names the columns. Every later row becomes one line that names each of
its values' columns, so any passage is self-describing wherever the chunker cuts;
rows are grouped into paragraphs of about 400 characters (a few rows each), so a
passage holds whole rows. The first paragraph lists the columns. The delimiter is
detected (comma, semicolon, tab or bar; tab for .tsv).
"""

from __future__ import annotations

import csv
import io

from qa.ingest.blocks import clean_inline, join_blocks, row_groups, row_line
from qa.ingest.decoding import decode_text
from qa.ingest.reader import Extracted, UnreadableFile

__all__ = ["comma_separated", "tab_separated"]

# Cells this long are kept, but a field over csv's default limit (128 KiB) is an error.
_FIELD_LIMIT = 1024 * 1024
_DELIMITERS = ",;\t|"


def _dialect(sample: str, default: str) -> type[csv.Dialect] | csv.Dialect:
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS)
    except csv.Error:
        return csv.excel_tab if default == "\t" else csv.excel


def _read(data: bytes, notes: list[str], *, fmt: str, default: str) -> Extracted:
    source = decode_text(data, notes)
    if not source.strip():
        raise UnreadableFile("empty file (only whitespace)")
    csv.field_size_limit(max(csv.field_size_limit(), _FIELD_LIMIT))
    dialect = csv.excel_tab if default == "\t" else _dialect(source[:65536], default)
    try:
        rows = [
            row for row in csv.reader(io.StringIO(source, newline=""), dialect) if any(c.strip() for c in row)
        ]
    except csv.Error as exc:
        raise UnreadableFile(f"not a readable {fmt.upper()} table ({exc})") from None
    if not rows:
        raise UnreadableFile("empty file (no rows)")
    header = [clean_inline(c) for c in rows[0]]
    if len(rows) == 1:
        notes.append("only a header row; the column names are the only text")
    columns = "Columns: " + ", ".join(h for h in header if h)
    widths = {len(r) for r in rows[1:]}
    if widths and max(widths) > len(header):
        notes.append(
            f"some rows have more cells than the {len(header)} columns named; extra cells are unnamed"
        )
    text = join_blocks([columns, *row_groups(row_line(header, r) for r in rows[1:])])
    return Extracted(text, fmt=fmt, title="")


def comma_separated(data: bytes, notes: list[str]) -> Extracted:
    """A .csv table (delimiter detected); it has no title of its own, so the file name is used."""
    return _read(data, notes, fmt="csv", default=",")


def tab_separated(data: bytes, notes: list[str]) -> Extracted:
    """A .tsv table (tab-separated); it has no title of its own, so the file name is used."""
    return _read(data, notes, fmt="tsv", default="\t")
