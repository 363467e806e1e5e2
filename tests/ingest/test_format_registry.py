"""The new formats together: registry, lazy imports, missing packages, damaged files, uploads."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from _ingest_helpers import skip_reasons
from _office_samples import make_docx, make_epub, make_odt, make_pptx

from qa.ingest import (
    READERS,
    SUPPORTED_SUFFIXES,
    ReaderUnavailableError,
    UnreadableFile,
    read_document,
    registry,
    scan_corpus,
)
from qa.ingest.archives import check_zip
from qa.uploads import Upload, UploadLimits, UploadRejectedError, check_upload, sanitize_filename

NEW = {
    ".rst": "rst",
    ".rest": "rst",
    ".docx": "docx",
    ".odt": "odt",
    ".epub": "epub",
    ".pptx": "pptx",
    ".csv": "csv",
    ".tsv": "csv",
    ".man": "man",
    ".gz": "man",
    **{f".{n}": "man" for n in range(1, 10)},
}


def test_every_new_suffix_has_a_reader_in_its_own_module() -> None:
    for suffix, module in NEW.items():
        assert READERS[suffix].startswith(f"qa.ingest.{module}:"), suffix
        assert callable(registry.load_reader(suffix))


def test_uploads_accept_the_new_formats() -> None:
    accepted = UploadLimits().accepted_suffixes()
    assert set(NEW) <= set(accepted) and accepted == SUPPORTED_SUFFIXES
    assert sanitize_filename("Report 2024.DOCX") == "Report 2024.docx"
    assert sanitize_filename("ls.1.gz") == "ls.1.gz"


def test_importing_ingest_imports_no_format_package() -> None:
    packages = ["docx", "pptx", "odf", "ebooklib", "docutils"] + [f"qa.ingest.{m}" for m in set(NEW.values())]
    code = f"import sys, qa.ingest; sys.exit(any(m in sys.modules for m in {packages!r}))"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


@pytest.mark.parametrize(
    ("suffix", "module", "package"),
    [
        (".docx", "docx", "python-docx"),
        (".pptx", "pptx", "python-pptx"),
        (".odt", "odf", "odfpy"),
        (".epub", "ebooklib", "ebooklib"),
        (".rst", "docutils", "docutils"),
    ],
)
def test_a_missing_package_is_named_as_pip_knows_it(
    monkeypatch: pytest.MonkeyPatch, suffix: str, module: str, package: str
) -> None:
    monkeypatch.delitem(sys.modules, READERS[suffix].partition(":")[0], raising=False)
    # What an uninstalled package looks like to import (its submodules too, if already loaded).
    for name in [m for m in sys.modules if m == module or m.startswith(module + ".")] or [module]:
        monkeypatch.setitem(sys.modules, name, None)
    registry.resolve_reader.cache_clear()  # resolve the reader again now, and again after the test
    try:
        with pytest.raises(
            ReaderUnavailableError, match=rf"needs the Python package '{package}'.*pip install {package}`"
        ):
            read_document(Path(f"x{suffix}"), f"x{suffix}", data=b"anything")
    finally:
        registry.resolve_reader.cache_clear()


OFFICE = {".docx": make_docx, ".odt": make_odt, ".epub": make_epub, ".pptx": make_pptx}


@pytest.mark.parametrize("suffix", sorted(OFFICE))
@pytest.mark.parametrize("damage", ["garbage", "truncated", "not-this-format"])
def test_a_damaged_office_file_is_skipped_with_the_reason(tmp_path: Path, suffix: str, damage: str) -> None:
    if damage == "garbage":
        data = b"PK\x03\x04 junk"
    elif damage == "truncated":
        data = OFFICE[suffix]()[:400]
    else:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("hello.txt", "a zip, but not a document")
        data = buf.getvalue()
    (tmp_path / f"bad{suffix}").write_bytes(data)
    (tmp_path / "good.txt").write_text("Fine.\n")
    scan = scan_corpus(tmp_path)
    assert [d.doc_id for d in scan.documents] == ["good.txt"]
    reason = skip_reasons(scan)[f"bad{suffix}"]
    if damage == "not-this-format":
        assert reason.startswith(f"corrupted or unreadable {suffix} (")
    else:
        assert reason.startswith(f"not a valid {suffix} file (its zip container is damaged")


def test_a_zip_bomb_is_refused_before_it_is_unpacked() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", b"\0" * (2 * 1024 * 1024))
    with pytest.raises(UnreadableFile, match=r"unpacks to 2,097,152 bytes, over the 1,000-byte limit"):
        check_zip(buf.getvalue(), ".docx", max_unpacked=1000)


def test_uploads_of_each_office_format_are_read_before_they_are_saved() -> None:
    limits = UploadLimits()
    for name, data in [
        ("Lights.docx", make_docx()),
        ("bees.odt", make_odt()),
        ("tides.epub", make_epub()),
        ("solar.pptx", make_pptx()),
    ]:
        assert check_upload(Upload(name, data), limits) == name
    with pytest.raises(UploadRejectedError, match=r"'broken\.docx' was not added: not a valid \.docx file"):
        check_upload(Upload("broken.docx", b"PK\x03\x04 junk"), limits)


def test_live_upload_adds_the_new_formats_to_the_served_index(tmp_path: Path) -> None:
    from conftest import FakeEmbedder
    from qa.collection import Collection
    from qa.index import Index
    from qa.indexing import build_index
    from qa.retrieval import Retriever

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("A first document about harbours.\n")
    build_index(corpus, tmp_path / "index", embedder=FakeEmbedder())
    retriever = Retriever(Index.load(tmp_path / "index"), embedder=FakeEmbedder())
    collection = Collection(
        retriever, corpus_dir=corpus, index_dir=tmp_path / "index", embedder=FakeEmbedder()
    )
    uploads = [
        Upload("Lights.docx", make_docx()),
        Upload("solar.pptx", make_pptx()),
        Upload("releases.csv", b"version,codename\n12,Bookworm\n13,Trixie\n"),
    ]
    change = collection.add(uploads)
    assert sorted(change.added) == ["Lights.docx", "releases.csv", "solar.pptx"]
    docs = {d.doc_id: d for d in collection.documents()}
    assert (docs["Lights.docx"].fmt, docs["solar.pptx"].fmt, docs["releases.csv"].title) == (
        "docx",
        "pptx",
        "releases.csv",
    )
    hits = retriever.search("codename Trixie", k=1, mode="bm25")
    assert hits[0].passage.doc_id == "releases.csv" and "codename: Trixie" in hits[0].text
