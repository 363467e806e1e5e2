"""The .csv/.tsv reader: rows as "column: value" lines grouped into paragraphs, exact offsets."""

from __future__ import annotations

from pathlib import Path

import pytest
from _ingest_helpers import assert_exact, paragraphs_of
from _office_samples import DATA

from qa.ingest import UnreadableFile, read_document, scan_corpus
from qa.ingest.blocks import ROW_GROUP_CHARS
from qa.ingest.csv import comma_separated, tab_separated


def test_csv_rows_name_their_columns_and_the_delimiter_is_detected() -> None:
    notes: list[str] = []
    data = b'city;country;population\nParis;France;2102650\n"Lyon; ville";France;\n\nLeeds;UK;812000;extra\n'
    extracted = comma_separated(data, notes)
    assert extracted.fmt == "csv" and extracted.title == ""
    assert extracted.text == (
        "Columns: city, country, population\n\n"
        "city: Paris; country: France; population: 2102650\n"
        "city: Lyon; ville; country: France\n"
        "city: Leeds; country: UK; population: 812000; extra"
    )
    assert notes == ["some rows have more cells than the 3 columns named; extra cells are unnamed"]


def test_tsv_is_tab_separated() -> None:
    assert tab_separated(b"a b\tc\nx, y\tz\n", []).text == "Columns: a b, c\n\na b: x, y; c: z"


def test_real_csv_groups_whole_rows_and_is_named_by_its_file(tmp_path: Path) -> None:
    (tmp_path / "debian.csv").write_bytes((DATA / "debian-releases.csv").read_bytes())
    (doc,) = scan_corpus(tmp_path).documents
    assert doc.fmt == "csv" and doc.title == "debian.csv"
    paragraphs = paragraphs_of(doc.text)
    assert paragraphs[0] == "Columns: version, codename, series, created, release, eol, eol-lts, eol-elts"
    rows = [line for p in paragraphs[1:] for line in p.split("\n")]
    source_rows = (DATA / "debian-releases.csv").read_text().strip().split("\n")[1:]
    assert len(rows) == len(source_rows)  # every row, each on its own line
    assert "version: 12; codename: Bookworm; series: bookworm; created: 2021-08-14" in doc.text
    assert len(paragraphs) > 2 and all(len(p) <= ROW_GROUP_CHARS for p in paragraphs[1:])
    assert_exact(doc)


def test_empty_csv_is_refused() -> None:
    with pytest.raises(UnreadableFile, match="empty file"):
        read_document(Path("x.csv"), "x.csv", data=b",,\n , ,\n")
