"""Uploads: safe file names, size and count limits, and the content check before anything is saved."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import qa.collection
from qa.ingest import SUPPORTED_SUFFIXES
from qa.uploads import (
    DEFAULT_UPLOAD_BYTES,
    Upload,
    UploadLimits,
    UploadRejectedError,
    check_upload,
    read_uploads,
    sanitize_filename,
)

# -- file names ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("notes.txt", "notes.txt"),
        ("../../x.txt", "x.txt"),
        ("/etc/cron.d/evil.md", "evil.md"),
        ("..\\..\\windows\\evil.md", "evil.md"),
        (".hidden.txt", "hidden.txt"),
        ("Report FINAL.TXT", "Report FINAL.txt"),
        ("a<b>|c.md", "a_b_c.md"),
        ("tab\there.txt", "tab here.txt"),
        ("nul\x00byte.txt", "nul_byte.txt"),
        ("café notes.markdown", "café notes.markdown"),
    ],
)
def test_sanitize_filename_keeps_only_a_safe_last_component(name: str, expected: str) -> None:
    assert sanitize_filename(name) == expected


@pytest.mark.parametrize("name", ["", "..", "../", "/", "....txt", "notes", "run.exe", "x.pdf.exe", ".txt"])
def test_sanitize_filename_rejects_unusable_names_and_types(name: str) -> None:
    with pytest.raises(UploadRejectedError):
        sanitize_filename(name)


def test_sanitize_filename_shortens_long_names_keeping_the_suffix() -> None:
    name = sanitize_filename("a" * 500 + ".md")
    assert name.endswith(".md") and len(name) <= 120


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(min_size=0, max_size=60), st.sampled_from([".txt", ".md", ""]))
def test_sanitized_names_never_leave_the_folder(tmp_path: Path, stem: str, suffix: str) -> None:
    try:
        name = sanitize_filename(stem + suffix)
    except UploadRejectedError:
        return
    assert "/" not in name and "\\" not in name and not name.startswith(".")
    assert (tmp_path / name).resolve().parent == tmp_path.resolve()


# -- limits and checks ----------------------------------------------------------------


def test_collection_re_exports_the_upload_names() -> None:
    assert qa.collection.Upload is Upload and qa.collection.UploadLimits is UploadLimits
    assert qa.collection.UploadRejectedError is UploadRejectedError
    assert qa.collection.sanitize_filename is sanitize_filename
    assert qa.collection.DEFAULT_UPLOAD_BYTES == DEFAULT_UPLOAD_BYTES


def test_limits_accept_every_readable_format_by_default() -> None:
    assert UploadLimits().accepted_suffixes() == SUPPORTED_SUFFIXES
    assert UploadLimits(suffixes=(".md",)).accepted_suffixes() == (".md",)
    with pytest.raises(UploadRejectedError, match=r"unsupported file type '\.txt'; upload one of \.md"):
        sanitize_filename("notes.txt", suffixes=(".md",))


def test_limits_check_count_and_size() -> None:
    limits = UploadLimits(max_bytes=10, max_files=2)
    limits.check_count(2)
    limits.check_size("a.txt", 10)
    with pytest.raises(UploadRejectedError) as err:
        limits.check_count(3)
    assert str(err.value) == "3 files in one upload; upload at most 2 at a time"
    with pytest.raises(UploadRejectedError) as err:
        limits.check_size("a.txt", 11)
    assert str(err.value) == "'a.txt' is 11 bytes, over the 10-byte upload limit; split it into smaller files"


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (Upload("../x.exe", b"text"), "unsupported file type '.exe'"),
        (Upload("big.txt", b"x" * 11), "over the 10-byte upload limit"),
        (Upload("empty.md", b"  \n"), "'empty.md' was not added: empty file"),
        (Upload("image.txt", b"\x89PNG\r\n"), "was not added: binary file"),
    ],
)
def test_check_upload_refuses_bad_name_size_or_content(upload: Upload, message: str) -> None:
    with pytest.raises(UploadRejectedError, match=message):
        check_upload(upload, UploadLimits(max_bytes=10))


def test_check_upload_returns_the_safe_name() -> None:
    assert check_upload(Upload("../../Notes.TXT", b"Some notes.\n"), UploadLimits()) == "Notes.txt"


def test_read_uploads_reads_within_the_limits(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"A.\n")
    (tmp_path / "big.txt").write_bytes(b"y" * 11)
    limits = UploadLimits(max_bytes=10, max_files=2)
    assert read_uploads([tmp_path / "a.txt"], limits=limits) == [Upload("a.txt", b"A.\n")]
    with pytest.raises(UploadRejectedError, match="'big.txt' is 11 bytes"):
        read_uploads([tmp_path / "big.txt"], limits=limits)
    with pytest.raises(UploadRejectedError, match=r"'gone.txt' could not be read \(No such file"):
        read_uploads([tmp_path / "missing"], limits=limits, names=["gone.txt"])
