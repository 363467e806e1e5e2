"""Reading one file: size limit, files that vanish, change, or cannot be read while scanned."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from _ingest_helpers import skip_reasons

import qa.ingest.files as files
from qa.indexing import build_index
from qa.ingest import scan_corpus


def test_size_limit_is_configurable(tmp_path: Path, fake_embedder) -> None:
    (tmp_path / "big.txt").write_text("word " * 400)  # 2,000 bytes
    (tmp_path / "small.txt").write_text("Small.\n")
    scan = scan_corpus(tmp_path, max_bytes=1000)
    assert [d.doc_id for d in scan.documents] == ["small.txt"]
    assert skip_reasons(scan)["big.txt"] == (
        "file is 2,000 bytes, over the 1,000-byte limit; raise it with --max-bytes"
    )
    assert [d.doc_id for d in scan_corpus(tmp_path, max_bytes=2000).documents] == ["big.txt", "small.txt"]
    report = build_index(tmp_path, tmp_path / "idx", embedder=fake_embedder, max_bytes=1000)
    assert [s.path for s in report.skipped] == ["big.txt"] and report.added == ["small.txt"]


def test_file_that_vanishes_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "gone.txt").write_text("Here now.\n")
    (tmp_path / "stays.txt").write_text("Still here.\n")
    real = files.read_file

    def delete_first(path: Path, max_bytes: int):
        if path.name == "gone.txt":
            path.unlink()  # deleted after the folder was listed, before it is read
        return real(path, max_bytes)

    monkeypatch.setattr(files, "read_file", delete_first)
    scan = scan_corpus(tmp_path)
    assert [d.doc_id for d in scan.documents] == ["stays.txt"]
    assert skip_reasons(scan) == {"gone.txt": "file vanished while being read"}


def test_file_changed_while_read_is_read_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "log.txt"
    path.write_text("First version.\n")
    real = files._read_all
    calls = []

    def write_during_first_read(f, limit):
        data = real(f, limit)
        calls.append(data)
        if len(calls) == 1:
            with open(path, "a") as out:  # another process appends while we read
                out.write("Appended line.\n")
        return data

    monkeypatch.setattr(files, "_read_all", write_during_first_read)
    scan = scan_corpus(tmp_path)
    assert len(calls) == 2
    assert scan.documents[0].text == "First version.\nAppended line.\n"
    st = path.stat()
    assert scan.stats["log.txt"] == (st.st_size, st.st_mtime_ns)


def test_file_that_keeps_changing_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "busy.txt"
    path.write_text("Start.\n")
    real = files._read_all

    def always_append(f, limit):
        data = real(f, limit)
        with open(path, "a") as out:
            out.write("more\n")
        return data

    monkeypatch.setattr(files, "_read_all", always_append)
    assert "kept changing while being read" in skip_reasons(scan_corpus(tmp_path))["busy.txt"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_is_skipped_real_permissions(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("Hidden.\n")
    (tmp_path / "ok.txt").write_text("Visible.\n")
    (tmp_path / "secret.txt").chmod(0)
    try:
        scan = scan_corpus(tmp_path)
    finally:
        (tmp_path / "secret.txt").chmod(0o644)
    assert [d.doc_id for d in scan.documents] == ["ok.txt"]
    assert "permission denied" in skip_reasons(scan)["secret.txt"]


def test_unreadable_file_is_skipped_simulated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests may run as root, where mode 000 does not stop reads: raise what the OS would.
    (tmp_path / "secret.txt").write_text("Hidden.\n")
    (tmp_path / "ok.txt").write_text("Visible.\n")

    def guarded_open(path, *args, **kwargs):
        if Path(path).name == "secret.txt":
            raise PermissionError(13, "Permission denied", str(path))
        return open(path, *args, **kwargs)

    monkeypatch.setattr(files, "open", guarded_open, raising=False)
    scan = scan_corpus(tmp_path)
    assert [d.doc_id for d in scan.documents] == ["ok.txt"]
    assert skip_reasons(scan) == {"secret.txt": "permission denied; make the file readable (chmod +r)"}


def test_fifo_is_skipped_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.txt")
    (tmp_path / "ok.txt").write_text("Visible.\n")
    scan = scan_corpus(tmp_path)
    assert [d.doc_id for d in scan.documents] == ["ok.txt"]
    assert "not a regular file" in skip_reasons(scan)["pipe.txt"]
