"""The columnar passage and document tables (qa.tables): round trip, lookups, old formats."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import downgrade_to_jsonl
from qa.errors import IndexCorruptError
from qa.index import Index
from qa.indexing import build_index
from qa.storage import IndexStore
from qa.tables import load_tables, save_tables, tables_from_records
from qa.types import Document, Passage


def _doc(doc_id: str, text: str, pages: tuple[int, ...] = ()) -> Document:
    return Document(
        doc_id=doc_id,
        title=doc_id.upper(),
        text=text,
        sha256="a" * 64,
        size=len(text),
        fmt="txt",
        page_starts=pages,
    )


def _passage(doc: Document, n: int, start: int, end: int, heading: str | None = None) -> Passage:
    return Passage(
        passage_id=f"{doc.doc_id}#{n:04d}",
        doc_id=doc.doc_id,
        title=doc.title,
        text=doc.text[start:end],
        start=start,
        end=end,
        paragraph_start=n + 1,
        paragraph_end=n + 1,
        heading=heading,
    )


def test_round_trip_through_files_keeps_every_field(tmp_path: Path) -> None:
    b = _doc("b/zwei.txt", "Ünïcode first. Then more text here.", pages=(0, 15))
    a = _doc("a.txt", "Alpha one. Alpha two.")
    passages = [
        _passage(b, 0, 0, 15, heading="Überschrift"),
        _passage(b, 1, 15, 35, heading="Überschrift"),
        _passage(a, 0, 0, 10),
        _passage(a, 1, 11, 21, heading="H"),
    ]
    _, _, arrays = tables_from_records([b, a], passages)
    save_tables(tmp_path, arrays)
    documents, table = load_tables(tmp_path)
    assert list(documents) == ["a.txt", "b/zwei.txt"]  # sorted by doc_id
    assert documents["b/zwei.txt"] == b and documents["a.txt"] == a
    assert list(table) == passages  # row order is the build's, not the documents'
    assert table[-1] == passages[-1] and table[1:3] == passages[1:3]
    assert [table.row_of(p.passage_id) for p in passages] == [0, 1, 2, 3]
    assert table.row_of("a.txt#0007") is None and table.row_of("nope#0000") is None
    assert list(table.rows_of("b/zwei.txt")) == [0, 1] and list(table.rows_of("x")) == []
    assert table.doc_codes().tolist() == [1, 1, 0, 0]
    assert "a.txt" in documents and "c.txt" not in documents and documents.get("c.txt") is None
    with pytest.raises(IndexError):
        table[4]


def test_writer_refuses_what_it_cannot_store_faithfully() -> None:
    a = _doc("a.txt", "Alpha one. Alpha two.")
    good = _passage(a, 0, 0, 10)
    with pytest.raises(ValueError, match="exact text"):
        tables_from_records([a], [Passage(**{**good.to_dict(), "text": "Alpha 1..."})])
    with pytest.raises(ValueError, match="not 'a.txt#NNNN'"):
        tables_from_records([a], [Passage(**{**good.to_dict(), "passage_id": "a.txt-0"})])
    with pytest.raises(ValueError, match="not in the table"):
        tables_from_records([], [good])
    b = _doc("b.txt", "Beta.")
    with pytest.raises(ValueError, match="not contiguous"):
        tables_from_records([a, b], [good, _passage(b, 0, 0, 5), _passage(a, 1, 11, 21)])


def test_malformed_table_is_a_corrupt_index(tmp_path: Path) -> None:
    a = _doc("a.txt", "Alpha one. Alpha two.")
    _, _, arrays = tables_from_records([a], [_passage(a, 0, 0, 10)])
    save_tables(tmp_path, arrays)
    np.save(tmp_path / "table" / "passages.npy", np.zeros(3, dtype=np.int64))
    with pytest.raises(IndexCorruptError, match="unexpected columns"):
        load_tables(tmp_path)


def test_a_format_4_snapshot_loads_the_same_passages_and_documents(
    corpus: Path, tmp_path: Path, fake_embedder
) -> None:
    build_index(corpus, tmp_path / "idx", embedder=fake_embedder)
    new = Index.load(tmp_path / "idx")
    passages, documents = list(new.passages), dict(new.documents)
    assert new.manifest.format == 5 and (new.path / "table" / "passages.npy").exists()
    assert not (new.path / "passages.jsonl").exists()
    del new
    downgrade_to_jsonl(IndexStore(tmp_path / "idx").current(), 4)
    old = Index.load(tmp_path / "idx")
    assert old.manifest.format == 4
    assert list(old.passages) == passages and dict(old.documents) == documents
    # A build over it reuses the old rows (only the new document is embedded) and writes format 5.
    (corpus / "new.txt").write_text("A lighthouse guides ships at night.\n", encoding="utf-8")
    report = build_index(corpus, tmp_path / "idx", embedder=fake_embedder)
    assert report.added == ["new.txt"] and report.embedded == 1
    again = Index.load(tmp_path / "idx")
    assert (
        again.manifest.format == 5
        and list(again.passages)[: len(passages)] != []
        and "new.txt" in again.documents
    )
    assert all(again.passages[again.row_of(p.passage_id)] == p for p in passages)


def test_documents_json_is_checked_on_first_use_even_when_load_skips_checksums(
    corpus: Path, tmp_path: Path, fake_embedder
) -> None:
    build_index(corpus, tmp_path / "idx", embedder=fake_embedder)
    live = IndexStore(tmp_path / "idx").current()
    path = live / "documents.json"
    path.write_text(
        path.read_text(encoding="utf-8").replace('"sha256":"', '"sha256":"f', 1)[:-1] + "", encoding="utf-8"
    )
    # Same size, other content: a load that only compares sizes (hash_limit=0) opens it...
    index = Index.load(tmp_path / "idx", hash_limit=0)
    # ... and the manifest's documents refuse it when first read.
    with pytest.raises(IndexCorruptError, match="documents.json fails its checksum"):
        dict(index.manifest.documents)
