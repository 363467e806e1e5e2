"""Embedding checkpoints: saved chunks round-trip, other builds' and damaged chunks are dropped."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import qa.checkpoint
import qa.indexing
from qa.checkpoint import EmbeddingCheckpoint
from qa.config import IndexSettings
from qa.index import Index
from qa.indexing import build_index


def _checkpoint(root: Path, **kw) -> EmbeddingCheckpoint:
    return EmbeddingCheckpoint(
        root, fingerprint=kw.get("fingerprint", "f1"), backend=None, settings=IndexSettings()
    )


def test_saved_chunks_load_back_by_key(tmp_path: Path) -> None:
    cp = _checkpoint(tmp_path)
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((3, 4)).astype(np.float32)
    sentences = [rng.standard_normal((n, 4)).astype(np.float32) for n in (2, 0, 1)]
    keys = [cp.key(f"text {i}", [(0, i)]) for i in range(3)]
    cp.save(keys, vectors, sentences)
    loaded = cp.load()
    assert sorted(loaded) == sorted(keys)
    for i, key in enumerate(keys):
        np.testing.assert_array_equal(loaded[key][0], vectors[i])
        np.testing.assert_array_equal(loaded[key][1], sentences[i])
    assert cp.key("text 0", [(0, 0)]) != cp.key("text 0", [(0, 1)])  # spans matter


def test_other_builds_and_damaged_chunks_are_dropped(tmp_path: Path) -> None:
    old = _checkpoint(tmp_path, fingerprint="other-model")
    old.save(["k"], np.ones((1, 4), np.float32), [np.zeros((0, 4), np.float32)])
    cp = _checkpoint(tmp_path)
    cp.save(["a"], np.ones((1, 4), np.float32), [np.zeros((0, 4), np.float32)])
    damaged = cp.folder / "chunk-damaged.npz"
    damaged.write_bytes(next(cp.folder.glob("chunk-*.npz")).read_bytes()[:50])
    assert list(cp.load()) == ["a"]
    assert not old.folder.exists()  # another model's vectors are never reused


def test_a_successful_build_removes_its_checkpoints(
    corpus: Path, tmp_path: Path, fake_embedder, monkeypatch
) -> None:
    monkeypatch.setattr(qa.checkpoint, "CHECKPOINT_EVERY", 2)
    report = build_index(corpus, tmp_path / "idx", embedder=fake_embedder)
    assert report.embedded == report.passages and report.resumed == 0
    assert not (tmp_path / "idx" / ".partial").exists()


@pytest.mark.e2e
def test_chunked_embedding_gives_the_vectors_of_one_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, real_embedder
) -> None:
    """With the real int8 model, chunks hold the batches one call would: identical vectors
    (int8 activations are quantised per batch, so other batches would move them)."""
    from conftest import SEEDS

    monkeypatch.setattr(qa.checkpoint, "CHECKPOINT_EVERY", 32)  # the embedder's batch size
    build_index(SEEDS, tmp_path / "chunked", embedder=real_embedder)
    monkeypatch.setattr(qa.checkpoint, "CHECKPOINT_EVERY", 10**9)
    build_index(SEEDS, tmp_path / "whole", embedder=real_embedder)
    chunked, whole = Index.load(tmp_path / "chunked"), Index.load(tmp_path / "whole")
    assert len(chunked) > 32  # more than one chunk
    np.testing.assert_array_equal(chunked.load_vectors(), whole.load_vectors())
    np.testing.assert_array_equal(np.asarray(chunked.sentences.vectors), np.asarray(whole.sentences.vectors))
