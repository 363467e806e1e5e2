"""Embedding backends: registry, torch vs ONNX int8 parity, and the backend recorded in the index."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qa.embedding import BACKENDS, join_pieces, load_embedder, pool_pieces, resolve_backend
from qa.errors import ModelError

TEXTS = [
    "How many seats did the Shia coalition win in the Iraqi assembly vote?",
    "DNA methylation plays an important role in biological processes in human health and disease. "
    "Recent technological advances allow unbiased whole-genome DNA methylation analysis.",
    "Ünïcode, punctuation — and numbers: 200,000 soldiers; 7.8 km/s.",
    "short",
    " ".join(["A long passage that is cut at the model's limit."] * 60),
]


def test_unknown_backend_lists_the_valid_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModelError, match=r"unknown embedding backend 'tpu'.*onnx-int8.*torch"):
        resolve_backend("tpu")
    monkeypatch.setenv("QA_BACKEND", "onnx-int8")
    assert resolve_backend(None) == "onnx-int8"
    assert resolve_backend("torch") == "torch"  # an explicit choice beats the environment
    assert set(BACKENDS) >= {"torch", "onnx", "onnx-int8"}


@pytest.fixture(scope="module")
def onnx_embedder():
    pytest.importorskip("onnxruntime")
    return load_embedder(None, backend="onnx-int8")


@pytest.fixture(scope="module")
def torch_embedder():
    return load_embedder(None, backend="torch")


def test_onnx_int8_matches_torch(onnx_embedder, torch_embedder) -> None:
    a = onnx_embedder.embed(TEXTS)
    b = torch_embedder.embed(TEXTS)
    assert a.dtype == np.float32 and a.shape == b.shape == (len(TEXTS), 384)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    cosine = (a * b).sum(axis=1)
    # int8 weights: ~0.995 on sentences and passages; a lone word is the worst case.
    assert cosine.mean() >= 0.99 and cosine.min() >= 0.98, cosine
    # The ranking a user sees depends on relative similarity: it must agree too.
    assert np.array_equal(np.argsort(-(a @ a[0])), np.argsort(-(b @ b[0])))


def test_onnx_embedder_interface(onnx_embedder, torch_embedder) -> None:
    real_embedder = torch_embedder
    assert onnx_embedder.name == real_embedder.name
    assert onnx_embedder.fingerprint() == real_embedder.fingerprint()  # same weights
    assert onnx_embedder.max_tokens == real_embedder.max_tokens == 256
    assert onnx_embedder.backend == "onnx-int8"
    for text in TEXTS:
        assert onnx_embedder.token_spans(text) == real_embedder.token_spans(text)
    assert onnx_embedder.embed([]).shape == (0, 384)
    # Order of inputs does not change a vector (batches are sorted by length inside).
    fwd = onnx_embedder.embed(TEXTS)
    rev = onnx_embedder.embed(TEXTS[::-1])[::-1]
    np.testing.assert_allclose(fwd, rev, atol=1e-5)
    assert load_embedder(None, backend="onnx-int8") is onnx_embedder  # cached per process


def test_backend_is_recorded_and_a_change_rebuilds(tmp_path: Path, corpus: Path, fake_embedder) -> None:
    from qa.index import Index
    from qa.indexing import build_index

    build_index(corpus, tmp_path / "custom", embedder=fake_embedder)
    assert Index.load(tmp_path / "custom").manifest.model.backend is None  # no `backend`: custom

    index_dir = tmp_path / "index"
    torch_like = type(fake_embedder)()
    torch_like.backend = "torch"
    build_index(corpus, index_dir, embedder=torch_like)
    assert Index.load(index_dir).manifest.model.backend == "torch"

    other = type(fake_embedder)()
    other.backend = "onnx-int8"
    report = build_index(corpus, index_dir, embedder=other)
    assert report.full_rebuild_reason == "embedding backend changed from torch to onnx-int8"
    assert report.embedded == report.passages > 0
    assert Index.load(index_dir).manifest.model.backend == "onnx-int8"
    assert build_index(corpus, index_dir, embedder=other).up_to_date


def test_default_backend_and_env_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QA_BACKEND", raising=False)
    assert resolve_backend(None) == "onnx-int8"
    monkeypatch.setenv("QA_BACKEND", "torch")
    assert resolve_backend(None) == "torch"


# -- texts in pieces: one forward pass, a vector per piece ("late chunking") -------------


def test_join_pieces_normalises_each_piece_and_records_its_span() -> None:
    text, spans = join_pieces(["Title  ", "\n", "First  sentence.", " ", "", "Second\tone."])
    assert text == "Title First sentence. Second one."
    assert [text[a:b] for a, b in spans] == ["Title", "", "First sentence.", "", "", "Second one."]


def test_pool_pieces_means_the_tokens_inside_each_span() -> None:
    tokens = np.array([[9.0, 9.0], [1.0, 0.0], [3.0, 0.0], [0.0, 2.0], [9.0, 9.0]])
    offsets = np.array([[0, 0], [0, 3], [4, 6], [7, 9], [0, 0]])  # [CLS] a b c [SEP]
    fallback = np.array([0.6, 0.8], dtype=np.float32)
    out = pool_pieces(tokens, offsets, [(0, 6), (7, 9), (20, 25), (3, 3)], fallback)
    np.testing.assert_allclose(out[0], [1.0, 0.0])  # mean of a and b, normalised
    np.testing.assert_allclose(out[1], [0.0, 1.0])
    np.testing.assert_allclose(out[2], fallback)  # cut off by the input limit
    np.testing.assert_allclose(out[3], fallback)  # empty piece


PIECES = [
    ["Harbour ferries", "\n", "The ferry leaves at nine.", " ", "Tickets cost four euros."],
    ["", "Glaciers retreat in warm summers.", " ", "Meltwater feeds the river."],
]


@pytest.mark.e2e
@pytest.mark.parametrize("backend", ["torch", "onnx", "onnx-int8"])
def test_embed_pieces_matches_embed_and_pools_each_piece(backend: str, torch_embedder) -> None:
    embedder = load_embedder(None, backend=backend)
    vectors, pieces = embedder.embed_pieces(PIECES)
    whole = embedder.embed([join_pieces(p)[0] for p in PIECES])
    # The text's vector is exactly what embed() gives for the joined text.
    np.testing.assert_allclose(vectors, whole, atol=1e-4)
    assert [len(p) for p in pieces] == [len(p) for p in PIECES]
    for v in pieces:
        np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    # A sentence's pooled vector is closest to a question about that sentence.
    q = embedder.embed(["How much is a ticket?", "When does the ferry depart?"])
    assert int(np.argmax(pieces[0][[2, 4]] @ q[0])) == 1
    assert int(np.argmax(pieces[0][[2, 4]] @ q[1])) == 0
    # And it agrees with the other backend.
    if backend != "torch":
        _, ref = torch_embedder.embed_pieces(PIECES)
        assert float((pieces[0][2] * ref[0][2]).sum()) > 0.97
