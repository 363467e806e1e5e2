"""Loading an index: not found, manifest mismatches, stale corpus, corrupted files."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from qa.config import IndexSettings
from qa.errors import IndexCorruptError, IndexMismatchError, IndexNotFoundError
from qa.index import Index
from qa.indexing import build_index
from qa.retrieval import Retriever
from qa.storage import IndexStore


def test_missing_index_says_to_run_qa_index(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError, match="run `qa index`"):
        Index.load(tmp_path / "nothing")


def test_model_mismatch_names_both_models(corpus: Path, tmp_path: Path, fake_embedder) -> None:
    build_index(corpus, tmp_path / "idx", embedder=fake_embedder)
    index = Index.load(tmp_path / "idx")
    with pytest.raises(IndexMismatchError) as err:
        index.check_compatible(model="all-MiniLM-L6-v2")
    msg = str(err.value)
    assert "fake-hash-embedder" in msg and "all-MiniLM-L6-v2" in msg and "qa index" in msg


def test_settings_mismatch_names_the_setting(corpus: Path, tmp_path: Path, fake_embedder) -> None:
    build_index(corpus, tmp_path / "idx", embedder=fake_embedder)
    with pytest.raises(IndexMismatchError, match=r"max_tokens: index 192 vs configured 100.*qa index"):
        Retriever.open(tmp_path / "idx", settings=IndexSettings(max_tokens=100, min_tokens=10))


def test_embedder_with_other_weights_is_refused(corpus: Path, tmp_path: Path, fake_embedder) -> None:
    from conftest import FakeEmbedder

    build_index(corpus, tmp_path / "idx", embedder=fake_embedder)
    other = FakeEmbedder(dimension=32)
    with pytest.raises(IndexMismatchError, match="qa index"):
        Retriever(Index.load(tmp_path / "idx"), embedder=other)


def test_stale_corpus_warns_with_file_names(corpus: Path, tmp_path: Path, fake_embedder, caplog) -> None:
    build_index(corpus, tmp_path / "idx", embedder=fake_embedder)
    (corpus / "cats.txt").write_text("Cats\n\nDifferent now.\n", encoding="utf-8")
    (corpus / "extra.md").write_text("# Extra\n\nMore.\n", encoding="utf-8")
    (corpus / "sub" / "bread.txt").unlink()
    stale = Index.load(tmp_path / "idx").stale(corpus)
    assert (
        stale.changed == ["cats.txt"] and stale.added == ["extra.md"] and stale.removed == ["sub/bread.txt"]
    )
    with caplog.at_level(logging.WARNING):
        r = Retriever.open(tmp_path / "idx", corpus_dir=corpus, embedder=fake_embedder, mode="bm25")
    assert "cats.txt" in caplog.text and "run `qa index`" in caplog.text
    # Answers still come from the index as built.
    assert "small domesticated" in r.index.documents["cats.txt"].text


def test_touched_but_identical_file_is_not_stale(corpus: Path, tmp_path: Path, fake_embedder) -> None:
    build_index(corpus, tmp_path / "idx", embedder=fake_embedder)
    p = corpus / "cats.txt"
    p.write_bytes(p.read_bytes())  # new mtime, same content
    assert not Index.load(tmp_path / "idx").stale(corpus)


@pytest.mark.parametrize("victim", ["table/passages.npy", "index.faiss", "table/strings.bin"])
def test_corrupted_file_is_detected(corpus: Path, tmp_path: Path, fake_embedder, victim: str) -> None:
    build_index(corpus, tmp_path / "idx", embedder=fake_embedder)
    path = IndexStore(tmp_path / "idx").current() / victim
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IndexCorruptError, match=rf"{victim}.*qa index --rebuild"):
        Index.load(tmp_path / "idx")
    path.write_bytes(bytes(data[:10]))
    with pytest.raises(IndexCorruptError, match="truncated"):
        Index.load(tmp_path / "idx")
    # A rebuild recovers.
    report = build_index(corpus, tmp_path / "idx", embedder=fake_embedder, rebuild=True)
    assert report.snapshot is not None
    assert len(Index.load(tmp_path / "idx")) == report.passages


@pytest.mark.parametrize("follow", [True, False])
def test_stale_agrees_with_a_build_over_linked_folders(tmp_path: Path, fake_embedder, follow: bool) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "real").mkdir(parents=True)
    (corpus / "real" / "a.txt").write_text("Apples grow on trees.\n", encoding="utf-8")
    (corpus / "linked").symlink_to(corpus / "real", target_is_directory=True)
    build_index(corpus, tmp_path / "idx", embedder=fake_embedder, follow_symlinks=follow)
    index = Index.load(tmp_path / "idx")
    assert ("linked/a.txt" in index.documents) is follow
    assert not index.stale(corpus)  # nothing changed since the build, links or not
    (corpus / "real" / "b.txt").write_text("Bananas are yellow.\n", encoding="utf-8")
    assert index.stale(corpus).added == (["linked/b.txt", "real/b.txt"] if follow else ["real/b.txt"])
