"""A seeds index built with the fake embedder, and a Collection over it, for the UI tests."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import SEEDS, FakeEmbedder
from qa.collection import Collection
from qa.index import Index
from qa.indexing import build_index
from qa.retrieval import Retriever


def seeds_retriever_and_collection(root: Path) -> tuple[Retriever, Collection]:
    corpus = root / "corpus"
    shutil.copytree(SEEDS, corpus)
    embedder = FakeEmbedder()
    build_index(corpus, root / "index", embedder=embedder)
    retriever = Retriever(Index.load(root / "index"), embedder=embedder)
    collection = Collection(retriever, corpus_dir=corpus, index_dir=root / "index", embedder=FakeEmbedder())
    return retriever, collection
