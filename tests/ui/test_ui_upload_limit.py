"""Uploads over the size limit are refused by the web server while they stream in (HTTP 413),
before they are written whole; uploads within it arrive (fake embedder, real seeds, loopback)."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import httpx
import pytest

from conftest import SEEDS, FakeEmbedder
from qa.collection import Collection
from qa.index import Index
from qa.indexing import build_index
from qa.retrieval import Retriever
from qa.ui import build_app, launch
from qa.uploads import UploadLimits

LIMIT = 100_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(tmp_path: Path):
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    embedder = FakeEmbedder()
    build_index(corpus, tmp_path / "index", embedder=embedder)
    retriever = Retriever(Index.load(tmp_path / "index"), embedder=embedder)
    collection = Collection(
        retriever,
        corpus_dir=corpus,
        index_dir=tmp_path / "index",
        embedder=FakeEmbedder(),
        limits=UploadLimits(max_bytes=LIMIT),
    )
    app = build_app(retriever, collection=collection)
    port = _free_port()
    launch(app, port=port, block=False, quiet=True, max_file_size=collection.limits.max_bytes)
    try:
        yield f"http://127.0.0.1:{port}/gradio_api/upload"
    finally:
        app.close()


def test_an_upload_over_the_limit_is_refused_with_413_while_it_streams(served: str) -> None:
    over = httpx.post(served, files={"files": ("big.txt", b"x" * (LIMIT + 1), "text/plain")}, timeout=60)
    assert over.status_code == 413
    assert f"maximum allowed size of {LIMIT} bytes" in over.text
    within = httpx.post(served, files={"files": ("ok.txt", b"y" * LIMIT, "text/plain")}, timeout=60)
    assert within.status_code == 200
    [saved] = within.json()
    assert Path(saved).stat().st_size == LIMIT
