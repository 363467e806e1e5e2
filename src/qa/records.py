"""Numbered records of line-based input files (JSONL, CSV, TXT): the one reader behind batch
input, question sets and BEIR files.

Each reader yields a `Record` per record with the 1-based line it starts on; a line that
cannot be decoded yields a Record with `error` set instead of raising, so each caller
decides whether that stops the file (question sets, BEIR) or skips the line (batch).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.errors import InputError

__all__ = ["BadLine", "Record", "csv_records", "jsonl_records", "read_text", "text_records"]


@dataclass(frozen=True)
class Record:
    """One record of an input file: its first line, its value, or why it could not be decoded.

    `value` is the decoded JSON value (JSONL), the list of cells (CSV) or the raw line
    (TXT); it is None when `error` is set. `column` is where a JSON error was found.
    """

    line: int
    value: Any = None
    error: str | None = None
    column: int | None = None


@dataclass(frozen=True)
class BadLine:
    """An input line that could not be used, and why."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


def read_text(path: Path | str, *, what: str) -> str:
    """The UTF-8 text of `path` (a byte-order mark dropped); InputError naming `what` if unreadable."""
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{what} {str(path)!r} does not exist; check the path") from None
    except UnicodeDecodeError:
        raise InputError(f"{what} {str(path)!r} is not UTF-8 text; re-save it as UTF-8") from None


def jsonl_records(lines: Iterable[str]) -> Iterator[Record]:
    """One Record per non-blank line: the decoded JSON value, or the decoder's message and column."""
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield Record(n, json.loads(line))
        except json.JSONDecodeError as exc:
            yield Record(n, error=exc.msg, column=exc.colno)


def csv_records(text: str, *, strict: bool = False) -> Iterator[Record]:
    """One Record per CSV row, the header included: its cells (`[]` for a blank line).

    A quoted field may span lines: `line` is the line where the row starts. With
    `strict`, a stray quote is an error Record instead of a silently merged row.
    """
    reader = csv.reader(io.StringIO(text), strict=strict)
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Record(line, error=str(exc))
            continue
        yield Record(line, cells)


def text_records(lines: Iterable[str]) -> Iterator[Record]:
    """One Record per non-blank line, its value the line as written."""
    for n, line in enumerate(lines, start=1):
        if line.strip():
            yield Record(n, line)
