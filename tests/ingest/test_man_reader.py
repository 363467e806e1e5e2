"""The man page reader: groff's rendering, headings as paragraphs, NAME as title, safety."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest
from _ingest_helpers import assert_exact, paragraphs_of, skip_reasons
from _office_samples import DATA

from qa.ingest import ReaderUnavailableError, UnreadableFile, man, scan_corpus

NEEDS_GROFF = pytest.mark.skipif(shutil.which("groff") is None, reason="needs groff (Debian groff-base)")

PAGE = b""".TH FERRY 1 "May 2024" "ferry 1.0" "User Commands"
.SH NAME
ferry \\- book a seat on the harbour ferry
.SH SYNOPSIS
.B ferry
[\\fB\\-n\\fR \\fIseats\\fR] \\fIdestination\\fR
.SH DESCRIPTION
.B ferry
books seats on the next boat to
.IR destination .
Boats leave every hour, from dawn until ten at night.
.SS Options
.TP
.BR \\-n ", " \\-\\-seats =\\fIN\\fR
Book \\fIN\\fR seats instead of one.
.SH EXIT STATUS
Zero when the seats were booked.
"""


@NEEDS_GROFF
def test_man_page_renders_to_readable_paragraphs() -> None:
    extracted = man.reader(PAGE, [])
    assert extracted.fmt == "man" and extracted.title == "ferry - book a seat on the harbour ferry"
    paragraphs = paragraphs_of(extracted.text)
    assert paragraphs == [
        "NAME",
        "ferry - book a seat on the harbour ferry",
        "SYNOPSIS",
        "ferry [-n seats] destination",
        "DESCRIPTION",
        "ferry books seats on the next boat to destination.  Boats leave every hour, from dawn until ten at night.",
        "Options",
        "-n, --seats=N\n       Book N seats instead of one.",
        "EXIT STATUS",
        "Zero when the seats were booked.",
    ]


@NEEDS_GROFF
def test_real_gzipped_mdoc_page_reads_with_exact_offsets(tmp_path: Path) -> None:
    (tmp_path / "scp.1.gz").write_bytes((DATA / "scp.1.gz").read_bytes())
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "scp.1").write_bytes(gzip.decompress((DATA / "scp.1.gz").read_bytes()))
    scan = scan_corpus(tmp_path)
    docs = {d.doc_id: d for d in scan.documents}
    # The plain copy renders to the same text: one document, the other a duplicate.
    assert set(docs) == {"scp.1.gz"}
    assert [(d.path, d.same_as) for d in scan.duplicates] == [("plain/scp.1", "scp.1.gz")]
    doc = docs["scp.1.gz"]
    assert doc.fmt == "man" and doc.title == "scp — OpenSSH secure file copy"
    assert doc.text.startswith("NAME\n\nscp — OpenSSH secure file copy\n\nSYNOPSIS\n\n")
    assert "\nDESCRIPTION\n\nscp copies files between hosts on a network.\n" in doc.text
    assert "SCP(1)" not in doc.text  # page header and footer are dropped
    assert_exact(doc)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"Just some notes, not troff.\n", "not a man page"),
        (b".so man1/other.1\n", "only points to another one (man1/other.1)"),
        (b".TH X 1\n.SH NAME\nx \\- y\n.so /etc/passwd\n", "reads other files"),
        (b".TH X 1\n.SH NAME\nx \\- y\n.cf /etc/passwd\n", "reads other files"),
        (b".TH X 1\n.als inc so\n.inc /etc/passwd\n", "reads other files"),
    ],
    ids=["not-troff", "so-link", "so", "cf", "alias"],
)
def test_pages_that_are_not_self_contained_man_pages_are_skipped(
    tmp_path: Path, data: bytes, reason: str
) -> None:
    (tmp_path / "x.1").write_bytes(data)
    (tmp_path / "notes.gz").write_bytes(gzip.compress(b"plain text, gzipped\n"))
    (tmp_path / "good.txt").write_text("Fine.\n")
    scan = scan_corpus(tmp_path)
    assert [d.doc_id for d in scan.documents] == ["good.txt"]
    reasons = skip_reasons(scan)
    assert reason in reasons["x.1"]
    assert reasons["notes.gz"].startswith("only gzipped man pages are read from .gz files: not a man page")


@NEEDS_GROFF
def test_the_environment_never_reaches_the_page(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_TEST_SECRET", "hunter2")
    text = man.reader(b".TH X 1\n.SH NAME\nx \\- y\n.SH S\nsecret is \\V[QA_TEST_SECRET].\n", []).text
    assert "hunter2" not in text and "secret is ." in text


@NEEDS_GROFF
def test_a_looping_page_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(man, "GROFF_TIMEOUT", 1.0)
    with pytest.raises(UnreadableFile, match="loop forever"):
        man.reader(b".TH X 1\n.SH NAME\nx\n.nr i 1\n.while \\n[i] .nop\n", [])


def test_missing_groff_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(man.shutil, "which", lambda name: None)
    with pytest.raises(ReaderUnavailableError, match="groff.*apt-get install groff-base"):
        man.reader(PAGE, [])
