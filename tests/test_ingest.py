"""Ingestion: formats (txt, md, html, pdf) and every kind of bad input, file by file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import qa.ingest as ingest
from _pdf import make_pdf
from qa.chunking import chunk
from qa.citations import cite, verify
from qa.config import IndexSettings
from qa.index import Index
from qa.indexing import build_index
from qa.ingest import UnreadableFile, extract_html, read_document, scan_corpus
from qa.retrieval import Retriever

SMALL = IndexSettings(max_tokens=24, min_tokens=4, context="none")


def _reasons(scan) -> dict[str, str]:
    return {s.path: s.reason for s in scan.skipped}


def _assert_exact(doc, settings=SMALL, token_spans=None):
    from qa.chunking import whitespace_token_spans

    passages = chunk(doc, settings=settings, token_spans=token_spans or whitespace_token_spans)
    assert passages, "a document with text gives at least one passage"
    for p in passages:
        assert doc.text[p.start : p.end] == p.text
        verify(p, doc)
    return passages


# -- formats -------------------------------------------------------------------------

PAGE = """<!doctype html>
<html><head><title>  Tide  Tables </title>
<style>body { color: red } .secret { display: none }</style>
<script>var s = "</p><p>script text"; document.write("injected");</script>
</head>
<body>
<h1>Tides</h1>
<p>High tide comes twice a day.<br>The moon pulls the sea.</p>
<div hidden>hidden div text</div>
<noscript>please enable javascript</noscript>
<ul><li>Spring tides</li><li>Neap tides</li></ul>
<p>Fish &amp; chips &lt;b&gt; are sold at the pier.</p>
<script>alert("tail")</script>
</body></html>"""


def test_html_keeps_visible_text_only(tmp_path: Path) -> None:
    path = tmp_path / "tides.html"
    path.write_text(PAGE, encoding="utf-8")
    doc = read_document(path, "tides.html")
    assert doc.fmt == "html"
    assert doc.title == "Tide Tables"
    for hidden in ("script text", "injected", "alert", "color: red", "hidden div", "enable javascript"):
        assert hidden not in doc.text
    assert "High tide comes twice a day.\nThe moon pulls the sea." in doc.text
    # Entities are decoded once, so markup-looking text is plain text in the document.
    assert "Fish & chips <b> are sold at the pier." in doc.text
    # Block elements are paragraphs: each list item stands alone.
    assert "\n\nSpring tides\n\nNeap tides\n\n" in doc.text
    _assert_exact(doc)


def test_html_declared_charset_and_htm_suffix(tmp_path: Path) -> None:
    page = '<html><head><meta charset="windows-1251"></head><body><p>Привет, мир.</p></body></html>'
    path = tmp_path / "ru.htm"
    path.write_bytes(page.encode("cp1251"))
    scan = scan_corpus(tmp_path)
    assert [d.text for d in scan.documents] == ["Привет, мир."]
    assert "windows-1251" in scan.notes[0].message


def test_html_without_visible_text_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "blank.html").write_text("<html><head><script>x()</script></head><body> </body></html>")
    assert "no visible text" in _reasons(scan_corpus(tmp_path))["blank.html"]


def test_extract_html_survives_broken_markup() -> None:
    text, title = extract_html("<p>one<div>two</span></p></p><b><i>three<script>never closed")
    assert text.split("\n\n") == ["one", "two", "three"]
    assert title is None


def test_pdf_pages_are_recorded_and_cited(tmp_path: Path) -> None:
    pages = [
        "Annual report\nRevenue grew in the first quarter.",
        "Costs\nSalaries were the largest cost.",
        "Outlook (next year)\nThe board expects slower growth.",
    ]
    (tmp_path / "report.pdf").write_bytes(make_pdf(pages))
    scan = scan_corpus(tmp_path)
    (doc,) = scan.documents
    assert doc.fmt == "pdf" and doc.title == "Annual report"
    assert len(doc.page_starts) == 3 and doc.page_starts[0] == 0
    for number, word in ((1, "Revenue"), (2, "Salaries"), (3, "board")):
        assert doc.page_of(doc.text.index(word)) == number
    # One passage per page here (min_tokens=0 keeps paragraphs apart): each cites its page.
    passages = _assert_exact(doc, IndexSettings(max_tokens=24, min_tokens=0, context="none"))
    cited = {cite(p, doc).page for p in passages}
    assert cited == {1, 2, 3}
    salaries = next(p for p in passages if "Salaries" in p.text)
    assert cite(salaries, doc).label().startswith("report.pdf p.2 ")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"%PDF-1.4\n1 0 obj garbage", "corrupted"),
        (make_pdf(["Some text on the page."])[:150], "corrupted"),
        (b"%PDF-1.4\n" + os.urandom(2000), "corrupted"),
        (make_pdf([""]), "no text layer"),
    ],
    ids=["garbage", "truncated", "random", "no-text"],
)
def test_bad_pdf_is_skipped_and_the_rest_indexed(tmp_path: Path, data: bytes, reason: str) -> None:
    (tmp_path / "bad.pdf").write_bytes(data)
    (tmp_path / "good.txt").write_text("A good document.\n")
    scan = scan_corpus(tmp_path)
    assert [d.doc_id for d in scan.documents] == ["good.txt"]
    assert reason in _reasons(scan)["bad.pdf"]


def test_other_file_types_are_listed_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Text.\n")
    (tmp_path / "sheet.xlsx").write_bytes(b"PK\x03\x04...")
    (tmp_path / "README").write_text("no suffix\n")
    reasons = _reasons(scan_corpus(tmp_path))
    assert "unsupported file type '.xlsx'" in reasons["sheet.xlsx"]
    assert ".pdf" in reasons["sheet.xlsx"] and ".html" in reasons["sheet.xlsx"]
    assert "unsupported file type '(none)'" in reasons["README"]


# -- bad input -----------------------------------------------------------------------


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
    assert _reasons(scan) == {"empty.txt": reason}


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
    assert reason in _reasons(scan_corpus(tmp_path))["fake.txt"]


def test_size_limit_is_configurable(tmp_path: Path, fake_embedder) -> None:
    (tmp_path / "big.txt").write_text("word " * 400)  # 2,000 bytes
    (tmp_path / "small.txt").write_text("Small.\n")
    scan = scan_corpus(tmp_path, max_bytes=1000)
    assert [d.doc_id for d in scan.documents] == ["small.txt"]
    assert _reasons(scan)["big.txt"] == (
        "file is 2,000 bytes, over the 1,000-byte limit; raise it with --max-bytes"
    )
    assert [d.doc_id for d in scan_corpus(tmp_path, max_bytes=2000).documents] == ["big.txt", "small.txt"]
    report = build_index(tmp_path, tmp_path / "idx", embedder=fake_embedder, max_bytes=1000)
    assert [s.path for s in report.skipped] == ["big.txt"] and report.added == ["small.txt"]


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
    passages = _assert_exact(doc)
    assert "".join(p.text for p in passages).count("👩‍👩‍👧") == 1
    build_index(tmp_path / "c", tmp_path / "idx", embedder=fake_embedder)
    retriever = Retriever(Index.load(tmp_path / "idx"), embedder=fake_embedder)
    for hit in retriever.search("Hebrew שלום", k=5, mode="bm25") + retriever.search("emoji", k=5):
        assert retriever.index.documents["uni.txt"].text[hit.passage.start : hit.passage.end] == hit.text


def test_file_that_vanishes_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "gone.txt").write_text("Here now.\n")
    (tmp_path / "stays.txt").write_text("Still here.\n")
    real = ingest._read_file

    def delete_first(path: Path, max_bytes: int):
        if path.name == "gone.txt":
            path.unlink()  # deleted after the folder was listed, before it is read
        return real(path, max_bytes)

    monkeypatch.setattr(ingest, "_read_file", delete_first)
    scan = scan_corpus(tmp_path)
    assert [d.doc_id for d in scan.documents] == ["stays.txt"]
    assert _reasons(scan) == {"gone.txt": "file vanished while being read"}


def test_file_changed_while_read_is_read_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "log.txt"
    path.write_text("First version.\n")
    real = ingest._read_all
    calls = []

    def write_during_first_read(f, limit):
        data = real(f, limit)
        calls.append(data)
        if len(calls) == 1:
            with open(path, "a") as out:  # another process appends while we read
                out.write("Appended line.\n")
        return data

    monkeypatch.setattr(ingest, "_read_all", write_during_first_read)
    scan = scan_corpus(tmp_path)
    assert len(calls) == 2
    assert scan.documents[0].text == "First version.\nAppended line.\n"
    st = path.stat()
    assert scan.stats["log.txt"] == (st.st_size, st.st_mtime_ns)


def test_file_that_keeps_changing_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "busy.txt"
    path.write_text("Start.\n")
    real = ingest._read_all

    def always_append(f, limit):
        data = real(f, limit)
        with open(path, "a") as out:
            out.write("more\n")
        return data

    monkeypatch.setattr(ingest, "_read_all", always_append)
    assert "kept changing while being read" in _reasons(scan_corpus(tmp_path))["busy.txt"]


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
    assert "permission denied" in _reasons(scan)["secret.txt"]


def test_unreadable_file_is_skipped_simulated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests may run as root, where mode 000 does not stop reads: raise what the OS would.
    (tmp_path / "secret.txt").write_text("Hidden.\n")
    (tmp_path / "ok.txt").write_text("Visible.\n")

    def guarded_open(path, *args, **kwargs):
        if Path(path).name == "secret.txt":
            raise PermissionError(13, "Permission denied", str(path))
        return open(path, *args, **kwargs)

    monkeypatch.setattr(ingest, "open", guarded_open, raising=False)
    scan = scan_corpus(tmp_path)
    assert [d.doc_id for d in scan.documents] == ["ok.txt"]
    assert _reasons(scan) == {"secret.txt": "permission denied; make the file readable (chmod +r)"}


def test_unlistable_folder_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "inner.txt").write_text("Inner.\n")
    (tmp_path / "ok.txt").write_text("Visible.\n")
    real = os.scandir

    def guarded_scandir(path="."):
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", guarded_scandir)
    scan = scan_corpus(tmp_path)
    assert [d.doc_id for d in scan.documents] == ["ok.txt"]
    assert _reasons(scan) == {"locked/": "cannot list folder: Permission denied"}


def test_fifo_is_skipped_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.txt")
    (tmp_path / "ok.txt").write_text("Visible.\n")
    scan = scan_corpus(tmp_path)
    assert [d.doc_id for d in scan.documents] == ["ok.txt"]
    assert "not a regular file" in _reasons(scan)["pipe.txt"]


def test_read_document_reports_reason(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="vanished"):
        read_document(tmp_path / "missing.txt", "missing.txt")
    with pytest.raises(UnreadableFile, match="unsupported file type '.docx'"):
        read_document(tmp_path / "x.docx", "x.docx", data=b"anything")


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
