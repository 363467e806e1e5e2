"""The one line reader: numbered JSONL, CSV and TXT records, errors as records."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.errors import InputError
from qa.records import BadLine, Record, csv_records, jsonl_records, read_text, text_records


def test_jsonl_records_skip_blank_lines_and_keep_decode_errors() -> None:
    records = list(jsonl_records(['{"a": 1}', "", "  ", "{oops", "[2]"]))
    assert [r.line for r in records] == [1, 4, 5]
    assert records[0] == Record(1, {"a": 1})
    assert records[1].value is None and records[1].error and records[1].column == 2
    assert records[2].value == [2] and records[2].error is None


def test_csv_records_start_lines_blank_rows_and_strict_errors() -> None:
    text = 'id,question\n\nq1,"two\nlines"\nq2,"bad"quote\nq3,ok\n'
    loose = list(csv_records(text))
    assert [(r.line, r.value) for r in loose][:3] == [
        (1, ["id", "question"]),
        (2, []),
        (3, ["q1", "two\nlines"]),
    ]
    strict = list(csv_records(text, strict=True))
    assert strict[3].line == 5 and strict[3].error and strict[3].value is None
    assert strict[-1] == Record(6, ["q3", "ok"])


def test_text_records_are_the_non_blank_lines() -> None:
    assert list(text_records(["a", "", " b "])) == [Record(1, "a"), Record(3, " b ")]


def test_read_text_drops_the_byte_order_mark_and_names_the_problem(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_bytes(b"\xef\xbb\xbfhello")
    assert read_text(path, what="question file") == "hello"
    with pytest.raises(InputError, match="question file .* does not exist"):
        read_text(tmp_path / "missing.txt", what="question file")
    path.write_bytes("café".encode("latin-1"))
    with pytest.raises(InputError, match="question set .* is not UTF-8"):
        read_text(path, what="question set")


def test_bad_line_names_its_line() -> None:
    assert str(BadLine(3, "why")) == "line 3: why"
