"""Index builds: incremental updates, atomic publication, manifest contents."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from qa.config import IndexSettings
from qa.errors import ConfigError
from qa.index import Index
from qa.indexing import build_index
from qa.storage import IndexStore
from qa.tables import TABLE_FILES


def test_first_build_writes_a_complete_snapshot(corpus: Path, tmp_path: Path, fake_embedder) -> None:
    report = build_index(corpus, tmp_path / "idx", embedder=fake_embedder)
    assert sorted(report.added) == ["cats.txt", "rockets.md", "sub/bread.txt"]
    assert report.embedded == report.passages > 0
    index = Index.load(tmp_path / "idx")
    m = index.manifest
    assert m.model.name == "fake-hash-embedder"
    assert m.model.fingerprint == fake_embedder.fingerprint()
    assert m.model.dimension == 64
    assert m.settings == IndexSettings()
    assert m.qa_version and m.built_at
    assert m.documents["cats.txt"].sha256 == index.documents["cats.txt"].sha256
    assert m.store.name == "faiss" and m.store.params["type"] == "flat"
    assert set(m.files) >= {"index.faiss", "vectors.npy", *TABLE_FILES}
    # Row i of the passage table is vector i.
    vectors = index.load_vectors()
    again = fake_embedder.embed([index.passages[0].text])
    assert vectors.shape == (len(index.passages), 64)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert index.store.size == len(index.passages)
    assert again.shape == (1, 64)


def test_unchanged_corpus_embeds_nothing(corpus: Path, tmp_path: Path, fake_embedder) -> None:
    build_index(corpus, tmp_path / "idx", embedder=fake_embedder)
    before = IndexStore(tmp_path / "idx").current()
    fake_embedder.embedded.clear()
    report = build_index(corpus, tmp_path / "idx", embedder=fake_embedder)
    assert report.up_to_date and fake_embedder.embedded == []
    assert IndexStore(tmp_path / "idx").current() == before


def test_changing_one_document_re_embeds_only_it(corpus: Path, tmp_path: Path, fake_embedder) -> None:
    build_index(corpus, tmp_path / "idx", embedder=fake_embedder)
    old = Index.load(tmp_path / "idx")
    old_vectors = np.array(old.load_vectors())
    (corpus / "cats.txt").write_text("Cats\n\nCats are now said to be liquid.\n", encoding="utf-8")
    fake_embedder.embedded.clear()
    report = build_index(corpus, tmp_path / "idx", embedder=fake_embedder)
    assert report.changed == ["cats.txt"] and report.added == [] and report.removed == []
    assert all("liquid" in t or "Cats" in t for t in fake_embedder.embedded)
    # One passage read once (its sentences are pooled from that pass); nothing else.
    assert report.embedded == 1
    assert fake_embedder.embedded == ["Cats Cats are now said to be liquid."]
    new = Index.load(tmp_path / "idx")
    new_vectors = new.load_vectors()
    # Unchanged documents keep exactly the same vectors.
    for i, p in enumerate(old.passages):
        if p.doc_id != "cats.txt":
            assert np.array_equal(new_vectors[new.row_of(p.passage_id)], old_vectors[i])
    assert "liquid" in new.documents["cats.txt"].text


def test_deleted_and_added_documents(corpus: Path, tmp_path: Path, fake_embedder) -> None:
    build_index(corpus, tmp_path / "idx", embedder=fake_embedder)
    (corpus / "sub" / "bread.txt").unlink()
    (corpus / "new.txt").write_text("New\n\nA brand new document about volcanoes.\n", encoding="utf-8")
    fake_embedder.embedded.clear()
    report = build_index(corpus, tmp_path / "idx", embedder=fake_embedder)
    assert report.removed == ["sub/bread.txt"] and report.added == ["new.txt"]
    index = Index.load(tmp_path / "idx")
    assert "sub/bread.txt" not in index.documents
    assert all(p.doc_id != "sub/bread.txt" for p in index.passages)
    assert any("volcanoes" in p.text for p in index.passages)
    assert "removed (1): sub/bread.txt" in report.summary()


def test_failed_build_leaves_previous_index_loadable(corpus: Path, tmp_path: Path, fake_embedder) -> None:
    build_index(corpus, tmp_path / "idx", embedder=fake_embedder)
    good = IndexStore(tmp_path / "idx").current()
    (corpus / "cats.txt").write_text("Cats\n\nChanged text.\n", encoding="utf-8")
    fake_embedder.fail_after = 0
    with pytest.raises(RuntimeError, match="simulated crash"):
        build_index(corpus, tmp_path / "idx", embedder=fake_embedder)
    assert IndexStore(tmp_path / "idx").current() == good
    index = Index.load(tmp_path / "idx")
    assert "Changed text" not in index.documents["cats.txt"].text
    # The next build cleans up the temporary folder and succeeds.
    fake_embedder.fail_after = None
    report = build_index(corpus, tmp_path / "idx", embedder=fake_embedder)
    assert not list((tmp_path / "idx").glob(".tmp-*"))
    # The new snapshot, and the one it replaced (kept for `qa index --recover`).
    assert sorted((tmp_path / "idx").glob("v-*")) == sorted([report.snapshot, good])


def test_settings_change_forces_full_rebuild(corpus: Path, tmp_path: Path, fake_embedder) -> None:
    build_index(corpus, tmp_path / "idx", embedder=fake_embedder)
    fake_embedder.embedded.clear()
    report = build_index(
        corpus,
        tmp_path / "idx",
        embedder=fake_embedder,
        settings=IndexSettings(max_tokens=100, min_tokens=10),
    )
    assert report.full_rebuild_reason == "chunk settings changed"
    assert report.embedded == report.passages
    assert Index.load(tmp_path / "idx").settings.max_tokens == 100


def test_documents_argument_indexes_in_memory_docs(tmp_path: Path, fake_embedder) -> None:
    from qa.ingest import scan_corpus

    src = tmp_path / "c"
    src.mkdir()
    (src / "a.txt").write_text("Alpha\n\nThe alpha text.", encoding="utf-8")
    docs = scan_corpus(src).documents
    report = build_index(None, tmp_path / "idx", documents=docs, embedder=fake_embedder)
    assert report.added == ["a.txt"]
    manifest = json.loads((IndexStore(tmp_path / "idx").current() / "manifest.json").read_text())
    assert manifest["counts"] == {"documents": 1, "passages": 1}


class _NoPiecesEmbedder:
    """An Embedder without embed_pieces (e.g. a user's own class)."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name, self.dimension, self.max_tokens = inner.name, inner.dimension, inner.max_tokens

    def fingerprint(self) -> str:
        return self.inner.fingerprint()

    def token_spans(self, text: str):
        return self.inner.token_spans(text)

    def embed(self, texts, *, show_progress: bool = False):
        return self.inner.embed(texts)


def test_sentence_vectors_are_pooled_from_the_passage_pass(
    corpus: Path, tmp_path: Path, fake_embedder
) -> None:
    build_index(corpus, tmp_path / "late", embedder=fake_embedder)
    late = Index.load(tmp_path / "late")
    assert late.settings.sentence_pooling == "late"
    assert late.sentences is not None and len(late.sentences) > len(late.passages)
    # The fake embedder pools a sentence as its own bag of words: the stored vector is that.
    for j in range(len(late.sentences)):
        row, a, b = (int(x) for x in late.sentences.table[j])
        text = late.documents[late.passages[row].doc_id].text[a:b]
        np.testing.assert_allclose(late.sentences.vectors[j], fake_embedder.embed([text])[0], atol=2e-3)

    # Sentences embedded alone (`separate` pooling) give each sentence's own vector too.
    build_index(
        corpus, tmp_path / "sep", embedder=fake_embedder, settings=IndexSettings(sentence_pooling="separate")
    )
    sep = Index.load(tmp_path / "sep")
    assert sep.settings.sentence_pooling == "separate"
    np.testing.assert_allclose(
        np.asarray(sep.sentences.vectors, np.float32),
        np.asarray(late.sentences.vectors, np.float32),
        atol=2e-3,
    )


def test_an_incomplete_embedder_is_refused_with_what_it_lacks(
    corpus: Path, tmp_path: Path, fake_embedder
) -> None:
    with pytest.raises(ConfigError, match="_NoPiecesEmbedder is not an embedder.*embed_pieces"):
        build_index(corpus, tmp_path / "bad", embedder=_NoPiecesEmbedder(fake_embedder))
    assert IndexStore(tmp_path / "bad").current() is None  # nothing was published


def test_indexes_from_before_pooling_was_recorded_read_as_separate() -> None:
    old = {"max_tokens": 192, "min_tokens": 64, "overlap": 1, "context": "title", "sentence_vectors": True}
    assert IndexSettings.from_dict(old).sentence_pooling == "separate"
    assert IndexSettings.from_dict({**old, "sentence_pooling": "late"}).sentence_pooling == "late"
    with pytest.raises(Exception, match="sentence pooling"):
        IndexSettings(sentence_pooling="average")
