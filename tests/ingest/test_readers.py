"""The reader registry and the text decoding every text format shares."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from _ingest_helpers import skip_reasons

from qa.ingest import (
    READERS,
    SUPPORTED_SUFFIXES,
    Extracted,
    ReaderUnavailableError,
    UnreadableFile,
    load_reader,
    make_title,
    plain,
    read_document,
    registry,
    scan_corpus,
)


def test_other_file_types_are_listed_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Text.\n")
    (tmp_path / "sheet.xlsx").write_bytes(b"PK\x03\x04...")
    (tmp_path / "README").write_text("no suffix\n")
    reasons = skip_reasons(scan_corpus(tmp_path))
    assert "unsupported file type '.xlsx'" in reasons["sheet.xlsx"]
    assert ".pdf" in reasons["sheet.xlsx"] and ".html" in reasons["sheet.xlsx"]
    assert "unsupported file type '(none)'" in reasons["README"]


def test_read_document_reports_reason(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="vanished"):
        read_document(tmp_path / "missing.txt", "missing.txt")
    with pytest.raises(UnreadableFile, match="unsupported file type '.xlsx'"):
        read_document(tmp_path / "x.xlsx", "x.xlsx", data=b"anything")


def test_non_utf8_text_is_detected_and_reported(tmp_path: Path) -> None:
    russian = "Москва — столица России. Это крупнейший город страны по численности населения.\n" * 3
    (tmp_path / "ru.txt").write_bytes(russian.encode("cp1251"))
    (tmp_path / "utf16.txt").write_bytes("Grüße aus Köln.\n".encode("utf-16"))
    scan = scan_corpus(tmp_path)
    texts = {d.doc_id: d.text for d in scan.documents}
    assert texts == {"ru.txt": russian, "utf16.txt": "Grüße aus Köln.\n"}
    notes = {n.path: n.message for n in scan.notes}
    assert "not UTF-8; decoded as cp1251" in notes["ru.txt"]
    assert "UTF-16" in notes["utf16.txt"]


def test_utf8_bom_is_dropped_without_a_note(tmp_path: Path) -> None:
    (tmp_path / "bom.md").write_bytes(b"\xef\xbb\xbf# Title\n\nBody.\n")
    scan = scan_corpus(tmp_path)
    assert scan.documents[0].text == "# Title\n\nBody.\n" and scan.documents[0].title == "Title"
    assert scan.notes == []


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"", "empty file (0 bytes)"), (b" \n\n\t \r\n", "empty file (only whitespace)")],
    ids=["zero-bytes", "whitespace"],
)
def test_empty_files_are_skipped(tmp_path: Path, content: bytes, reason: str) -> None:
    (tmp_path / "empty.txt").write_bytes(content)
    (tmp_path / "good.txt").write_text("Good.\n")
    scan = scan_corpus(tmp_path)
    assert [d.doc_id for d in scan.documents] == ["good.txt"]
    assert skip_reasons(scan) == {"empty.txt": reason}


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "binary file (a PNG image)"),
        (b"\x7fELF\x02\x01\x01" + bytes(200), "binary file (an executable)"),
        (b"%PDF-1.7\n...", "binary file (a PDF document)"),
        (bytes(range(256)) * 8, "binary"),
        (b"\x00\x01\x02\x03" * 500, "binary file (mostly control characters)"),
    ],
    ids=["png", "elf", "pdf", "all-bytes", "controls"],
)
def test_binary_file_named_txt_is_skipped(tmp_path: Path, content: bytes, reason: str) -> None:
    (tmp_path / "fake.txt").write_bytes(content)
    assert reason in skip_reasons(scan_corpus(tmp_path))["fake.txt"]


# -- the registry --------------------------------------------------------------------


def test_every_registered_reader_resolves_and_names_its_format() -> None:
    expected = {
        ".txt": "txt",
        ".text": "txt",
        ".md": "md",
        ".markdown": "md",
        ".html": "html",
        ".htm": "html",
    }
    assert SUPPORTED_SUFFIXES == tuple(sorted(READERS))
    for suffix, spec in READERS.items():
        module, _, attribute = spec.partition(":")
        assert module.startswith("qa.ingest.") and attribute, spec
        reader = load_reader(suffix)
        assert callable(reader)
        if suffix in expected:
            assert reader(b"Some text.\n", []).fmt == expected[suffix]


def test_load_reader_ignores_case_and_lists_the_supported_suffixes() -> None:
    assert load_reader(".TXT") is load_reader(".txt")
    with pytest.raises(UnreadableFile) as exc:
        load_reader(".xlsx")
    assert str(exc.value) == f"unsupported file type '.xlsx'; supported: {', '.join(SUPPORTED_SUFFIXES)}"
    with pytest.raises(UnreadableFile, match=r"unsupported file type '\(none\)'"):
        load_reader("")


def test_importing_ingest_does_not_import_optional_reader_packages() -> None:
    code = "import sys, qa.ingest; sys.exit('pypdf' in sys.modules or 'qa.ingest.pdf' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


@pytest.fixture
def fresh_registry():
    registry.resolve_reader.cache_clear()
    yield
    registry.resolve_reader.cache_clear()


def test_missing_reader_package_names_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_registry
) -> None:
    monkeypatch.delitem(sys.modules, "qa.ingest.pdf", raising=False)
    monkeypatch.setitem(sys.modules, "pypdfium2", None)  # what an uninstalled package looks like to import
    (tmp_path / "report.pdf").write_bytes(b"%PDF-1.4")
    with pytest.raises(
        ReaderUnavailableError,
        match=r"\.pdf files needs the Python package 'pypdfium2'.*pip install pypdfium2",
    ):
        scan_corpus(tmp_path)
    # Other formats never need it.
    assert read_document(Path("a.txt"), "a.txt", data=b"Text.\n").text == "Text.\n"


def test_a_registry_entry_naming_no_module_is_a_bug_not_a_missing_package(
    monkeypatch: pytest.MonkeyPatch, fresh_registry
) -> None:
    monkeypatch.setitem(registry.READERS, ".nope", "qa.ingest.no_such_reader:reader")
    with pytest.raises(ModuleNotFoundError):
        load_reader(".nope")


# -- the plain reader ----------------------------------------------------------------


def test_plain_readers_keep_the_text_and_take_the_first_line_as_title() -> None:
    assert plain.text(b"\n\n  First line  \nsecond\n", []) == Extracted(
        "\n\n  First line  \nsecond\n", fmt="txt", title="First line"
    )
    assert plain.markdown(b"### \n## Real title\nbody\n", []).title == "###"
    assert plain.markdown(b"# Title\n\nBody.\n", []).title == "Title"
    with pytest.raises(UnreadableFile, match=r"empty file \(only whitespace\)"):
        plain.text(b" \n\t", [])


def test_make_title_cuts_long_lines_and_strips_markdown_marks_only_for_md() -> None:
    assert make_title("\n  # Heading \n", "md") == "Heading"
    assert make_title("# Heading", "txt") == "# Heading"
    assert make_title("x" * 300, "txt") == "x" * 200
    assert make_title(" \n\t", "txt") == ""
