"""The corpus walk and scan: hidden files, order, unlistable folders, duplicates, messy corpora."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from _ingest_helpers import assert_exact, skip_reasons

from _pdf import make_pdf
from qa.index import Index
from qa.indexing import build_index
from qa.ingest import iter_corpus_files, scan_corpus
from qa.retrieval import Retriever


def _locked_folder(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`root` holds ok.txt and a folder `locked` that cannot be listed."""
    (root / "locked").mkdir()
    (root / "locked" / "inner.txt").write_text("Inner.\n")
    (root / "ok.txt").write_text("Visible.\n")
    real = os.scandir

    def guarded_scandir(path="."):
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", guarded_scandir)


def test_unlistable_folder_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _locked_folder(tmp_path, monkeypatch)
    scan = scan_corpus(tmp_path)
    assert [d.doc_id for d in scan.documents] == ["ok.txt"]
    assert skip_reasons(scan) == {"locked/": "cannot list folder: Permission denied"}


def test_duplicates_are_indexed_once_and_reported(tmp_path: Path, fake_embedder) -> None:
    corpus = tmp_path / "c"
    (corpus / "sub").mkdir(parents=True)
    text = "The lighthouse keeper lit the lamp at dusk.\n"
    (corpus / "a.txt").write_text(text)
    (corpus / "sub" / "copy.txt").write_text(text)
    (corpus / "copy.md").write_text(text)  # same text, other format: still a duplicate
    (corpus / "other.txt").write_text("Something else entirely.\n")
    scan = scan_corpus(corpus)
    assert [d.doc_id for d in scan.documents] == ["a.txt", "other.txt"]
    assert {(d.path, d.same_as) for d in scan.duplicates} == {("copy.md", "a.txt"), ("sub/copy.txt", "a.txt")}

    report = build_index(corpus, tmp_path / "idx", embedder=fake_embedder)
    assert sorted(report.added) == ["a.txt", "other.txt"]
    assert len(report.duplicates) == 2
    assert "copy.md: duplicate of a.txt" in report.summary()
    assert report.to_dict()["duplicates"][0]["same_as"] == "a.txt"
    index = Index.load(tmp_path / "idx")
    assert set(index.documents) == {"a.txt", "other.txt"}
    # Duplicates are remembered, so the index does not look stale because of them.
    assert not index.stale(corpus)
    assert build_index(corpus, tmp_path / "idx", embedder=fake_embedder).up_to_date


def test_unusual_unicode_is_indexed_with_exact_offsets(tmp_path: Path, fake_embedder) -> None:
    text = (
        "Arabic: مرحبا بالعالم. Hebrew: שלום עולם.\n\n"
        "Combining: e\u0301 a\u0308 n\u0303 Z\u0351\u0352\u0357 and decomposed cafe\u0301.\n\n"
        "Emoji: 👩‍👩‍👧 🏳️‍🌈 🇫🇷 ok.\n\n"
        "Zero width: a\u200bb\u200dc and bidi \u202eevil\u202c marks.\n\n"
        "NUL here:\x00 and after.\n"
    )
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "uni.txt").write_text(text, encoding="utf-8")
    scan = scan_corpus(tmp_path / "c")
    (doc,) = scan.documents
    assert doc.text == text.replace("\x00", "\ufffd")  # same length: offsets match the file
    assert len(doc.text) == len(text)
    assert scan.notes[0].message == "1 NUL character(s) shown as U+FFFD"
    passages = assert_exact(doc)
    assert "".join(p.text for p in passages).count("👩‍👩‍👧") == 1
    build_index(tmp_path / "c", tmp_path / "idx", embedder=fake_embedder)
    retriever = Retriever(Index.load(tmp_path / "idx"), embedder=fake_embedder)
    for hit in retriever.search("Hebrew שלום", k=5, mode="bm25") + retriever.search("emoji", k=5):
        assert retriever.index.documents["uni.txt"].text[hit.passage.start : hit.passage.end] == hit.text


def test_messy_corpus_still_indexes_the_good_documents(tmp_path: Path, fake_embedder) -> None:
    corpus = tmp_path / "messy"
    corpus.mkdir()
    (corpus / "good.md").write_text("# Harbour\n\nBoats leave the harbour at dawn.\n")
    (corpus / "page.html").write_text("<p>Ferries cross the bay hourly.</p><script>bad()</script>")
    (corpus / "doc.pdf").write_bytes(make_pdf(["Timetable", "The last ferry leaves at ten."]))
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4 nothing useful")
    (corpus / "latin.txt").write_bytes("Le café est très bon à Paris, déjà servi.\n".encode("cp1252"))
    (corpus / "dup.md").write_text("# Harbour\n\nBoats leave the harbour at dawn.\n")
    (corpus / "notes.docx").write_bytes(b"PK\x03\x04")
    report = build_index(corpus, tmp_path / "idx", embedder=fake_embedder)
    assert sorted(report.added) == ["doc.pdf", "dup.md", "latin.txt", "page.html"]
    assert sorted(s.path for s in report.skipped) == ["broken.pdf", "empty.txt", "image.txt", "notes.docx"]
    assert [(d.path, d.same_as) for d in report.duplicates] == [("good.md", "dup.md")]
    assert [n.path for n in report.notes] == ["latin.txt"]
    index = Index.load(tmp_path / "idx")
    assert index.documents["doc.pdf"].page_starts == (0, 11)
    retriever = Retriever(index, embedder=fake_embedder)
    (hit,) = retriever.search("last ferry ten", k=1, mode="bm25")
    assert hit.passage.doc_id == "doc.pdf" and hit.citation.page == 2


def test_a_new_copy_never_displaces_the_indexed_document(tmp_path: Path, fake_embedder) -> None:
    corpus = tmp_path / "c"
    corpus.mkdir()
    text = "Tidal energy turns the rise and fall of the sea into power.\n"
    (corpus / "b.txt").write_text(text)
    build_index(corpus, tmp_path / "idx", embedder=fake_embedder)
    (corpus / "a.txt").write_text(text)  # sorts first, but b.txt is the one already indexed
    assert [d.doc_id for d in scan_corpus(corpus).documents] == ["a.txt"]
    assert [d.doc_id for d in scan_corpus(corpus, prefer={"b.txt"}).documents] == ["b.txt"]
    report = build_index(corpus, tmp_path / "idx", embedder=fake_embedder)
    assert report.embedded == 0 and [(d.path, d.same_as) for d in report.duplicates] == [("a.txt", "b.txt")]
    index = Index.load(tmp_path / "idx")
    assert set(index.documents) == {"b.txt"} and not index.stale(corpus)
    assert build_index(corpus, tmp_path / "idx", embedder=fake_embedder).up_to_date


def test_new_bad_file_is_recorded_so_the_index_is_not_stale(tmp_path: Path, fake_embedder) -> None:
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "good.txt").write_text("Good.\n")
    build_index(corpus, tmp_path / "idx", embedder=fake_embedder)
    (corpus / "empty.txt").write_bytes(b"")
    assert Index.load(tmp_path / "idx").stale(corpus).added == ["empty.txt"]
    report = build_index(corpus, tmp_path / "idx", embedder=fake_embedder)
    assert report.embedded == 0 and [s.path for s in report.skipped] == ["empty.txt"]
    assert not Index.load(tmp_path / "idx").stale(corpus)


# -- the walk ------------------------------------------------------------------------


def test_iter_corpus_files_leaves_out_hidden_files_and_goes_root_first_by_name(tmp_path: Path) -> None:
    for rel in [
        "b.txt",
        "a.md",
        "Z.TXT",
        ".hidden.txt",
        ".git/config",
        "sub/x.pdf",
        "sub/.part",
        "aa/y.txt",
        "README",
    ]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    walked = list(iter_corpus_files(tmp_path))
    assert [doc_id for _, doc_id in walked] == ["README", "Z.TXT", "a.md", "b.txt", "aa/y.txt", "sub/x.pdf"]
    assert all(path == tmp_path / doc_id for path, doc_id in walked)
    only_text = [doc_id for _, doc_id in iter_corpus_files(tmp_path, suffixes={".txt"})]
    assert only_text == ["Z.TXT", "b.txt", "aa/y.txt"]


def test_iter_corpus_files_reports_unlistable_folders_only_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _locked_folder(tmp_path, monkeypatch)
    assert [doc_id for _, doc_id in iter_corpus_files(tmp_path)] == ["ok.txt"]
    errors: list[OSError] = []
    assert [doc_id for _, doc_id in iter_corpus_files(tmp_path, onerror=errors.append)] == ["ok.txt"]
    assert [Path(e.filename).name for e in errors] == ["locked"]
