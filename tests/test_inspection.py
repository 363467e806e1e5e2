"""Inspecting an index: status (what it holds, staleness) and the full check (fake embedder)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from qa.errors import CitationError, IndexCorruptError, IndexNotFoundError
from qa.index import Index
from qa.indexing import build_index
from qa.inspection import CheckResult, check_index, document_infos, index_status


@pytest.fixture
def built(corpus: Path, tmp_path: Path, fake_embedder) -> Path:
    build_index(corpus, tmp_path / "idx", embedder=fake_embedder)
    return tmp_path / "idx"


def test_status_reports_contents_and_staleness(corpus: Path, built: Path) -> None:
    index = Index.load(built)
    status = index_status(index)
    assert status.path == index.path and status.stale is None
    assert status.n_documents == len(index.documents) == 3
    assert status.n_passages == len(index.passages)
    assert status.model_name == index.model_name
    assert status.settings == index.settings.to_dict()
    assert all("stat" not in meta for meta in status.documents.values())
    assert "stale" not in status.to_dict()
    (corpus / "cats.txt").write_text("Cats\n\nChanged.\n", encoding="utf-8")
    (corpus / "new.txt").write_text("New\n\nA new document.\n", encoding="utf-8")
    stale = index_status(index, corpus_dir=corpus)
    assert (
        stale.stale is not None and stale.stale.changed == ["cats.txt"] and stale.stale.added == ["new.txt"]
    )
    data = json.loads(json.dumps(stale.to_dict()))
    assert set(data) == {"index", "built_at", "model", "settings", "store", "counts", "documents", "stale"}
    assert data["stale"] == {"changed": ["cats.txt"], "added": ["new.txt"], "removed": []}


def test_document_infos_are_sorted_and_match_the_index(built: Path) -> None:
    index = Index.load(built)
    infos = document_infos(index)
    assert [d.doc_id for d in infos] == sorted(index.documents)
    for d in infos:
        assert d.title == index.documents[d.doc_id].title
        assert d.passages == sum(p.doc_id == d.doc_id for p in index.passages)
        assert d.size > 0 and d.indexed_at


def test_check_passes_on_an_intact_index(built: Path) -> None:
    result = check_index(built)
    index = Index.load(built)
    assert result == CheckResult(
        index=index.path,
        files=len(index.manifest.files),
        documents=len(index.documents),
        passages=len(index.passages),
    )
    assert result.to_dict()["ok"] is True


def test_check_names_the_problem(built: Path, tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError):
        check_index(tmp_path / "none")
    index = Index.load(built)
    # Move the first passage's range past its document's end.
    path = index.path / "table" / "passages.npy"
    records = np.load(path)
    records[0]["end"] = records[0]["end"] + 10**6
    np.save(path, records)
    # The file no longer matches its checksum: the load (or the citation check) refuses it.
    with pytest.raises((IndexCorruptError, CitationError)):
        check_index(built)
