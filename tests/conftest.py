"""Shared fixtures: a deterministic fake embedder, isolated index folders, the real seed index."""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from qa.chunking import whitespace_token_spans

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"


class FakeEmbedder:
    """Hashed bag of words: deterministic, fast, and similar texts get similar vectors.

    Implements the qa.embedding.Embedder protocol; counts calls so tests can check
    what was (re-)embedded.
    """

    def __init__(
        self, dimension: int = 64, *, name: str = "fake-hash-embedder", max_tokens: int = 256
    ) -> None:
        self.name = name
        self.backend: str | None = None  # a custom embedder, not a registered backend
        self.dimension = dimension
        self.max_tokens = max_tokens
        self.embedded: list[str] = []
        self.fail_after: int | None = None

    def fingerprint(self) -> str:
        return hashlib.sha256(f"{self.name}/{self.dimension}".encode()).hexdigest()

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        return whitespace_token_spans(text)

    def count_tokens(self, text: str) -> int:
        return len(self.token_spans(text))

    def embed_pieces(
        self, texts: Sequence[Sequence[str]], *, show_progress: bool = False
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Whole texts as `embed` sees them; each piece's bag of words alone (its "pooled" tokens)."""
        from qa.embedding import join_pieces

        vectors = self.embed([join_pieces(p)[0] for p in texts])
        return vectors, [self._vectors(list(p)) for p in texts]

    def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        if self.fail_after is not None and len(self.embedded) + len(texts) > self.fail_after:
            raise RuntimeError("simulated crash while embedding")
        self.embedded.extend(texts)
        return self._vectors(texts)

    def _vectors(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                h = int.from_bytes(hashlib.md5(word.encode()).digest()[:4], "little")
                out[i, h % self.dimension] += 1.0 if (h >> 31) & 1 else -1.0
            norm = np.linalg.norm(out[i])
            if norm == 0:
                out[i, 0] = 1.0
            else:
                out[i] /= norm
        return out


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test touches the real embeddings/: default folders point into tmp_path."""
    monkeypatch.setenv("QA_INDEX", str(tmp_path / "qa-index"))
    monkeypatch.setenv("QA_CORPUS", str(tmp_path / "qa-corpus"))
    monkeypatch.delenv("QA_MODEL", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A small corpus folder with three documents."""
    return write_corpus(tmp_path / "corpus")


def write_corpus(root: Path) -> Path:
    """Write the three documents of the `corpus` fixture into a new folder `root`."""
    root.mkdir(parents=True)
    (root / "cats.txt").write_text(
        "Cats\n\nCats are small domesticated carnivores. They sleep most of the day.\n\n"
        "A cat purrs when it is content.\n",
        encoding="utf-8",
    )
    (root / "rockets.md").write_text(
        "# Rockets\n\n## Engines\n\nA rocket engine burns propellant to produce thrust.\n\n"
        "## Orbits\n\nOrbital velocity near Earth is about 7.8 kilometres per second.\n",
        encoding="utf-8",
    )
    (root / "sub").mkdir()
    (root / "sub" / "bread.txt").write_text(
        "Bread\n\nBread is made from flour, water and yeast. Dough rises as the yeast ferments.\n",
        encoding="utf-8",
    )
    return root


# -- the real thing: packaged model, FAISS and the seed documents ---------------------


@pytest.fixture(scope="session")
def real_embedder():
    from qa.embedding import load_embedder

    return load_embedder()


@pytest.fixture(scope="session")
def seed_index_dir(tmp_path_factory: pytest.TempPathFactory, real_embedder) -> Path:
    from qa.indexing import build_index

    index_dir = tmp_path_factory.mktemp("seed-index")
    build_index(SEEDS, index_dir, embedder=real_embedder)
    return index_dir


@pytest.fixture(scope="session")
def seed_retriever(seed_index_dir: Path, real_embedder):
    from qa.index import Index
    from qa.retrieval import Retriever

    return Retriever(Index.load(seed_index_dir), embedder=real_embedder)


@pytest.fixture
def seed_corpus_copy(tmp_path: Path) -> Path:
    dest = tmp_path / "seeds"
    shutil.copytree(SEEDS, dest)
    return dest


def downgrade_to_jsonl(live: Path, fmt: int = 4) -> None:
    """Rewrite a snapshot in the layout of formats 2-4 (passages.jsonl and documents.jsonl
    instead of table/), as an older qa wrote it, with a consistent manifest."""
    import json

    from qa.index import Index, snapshot_files, write_jsonl
    from qa.manifest import MANIFEST, content_digest

    index = Index.load_snapshot(live)
    passages = [p.to_dict() for p in index.passages]
    documents = [
        {
            "doc_id": d.doc_id,
            "title": d.title,
            "text": d.text,
            "sha256": d.sha256,
            "size": d.size,
            "fmt": d.fmt,
            "page_starts": list(d.page_starts),
        }
        for d in index.documents.values()
    ]
    del index
    shutil.rmtree(live / "table")
    for name in ("sentence_offsets.npy",):  # format 5 only
        (live / name).unlink(missing_ok=True)
    write_jsonl(live / "passages.jsonl", passages)
    write_jsonl(live / "documents.jsonl", documents)
    d = json.loads((live / MANIFEST).read_text(encoding="utf-8"))
    d["format"] = fmt
    d["documents"] = json.loads((live / "documents.json").read_text(encoding="utf-8"))
    (live / "documents.json").unlink()
    d["files"] = {rel: {"size": m.size, "sha256": m.sha256} for rel, m in snapshot_files(live).items()}
    d.pop("digest", None)
    if fmt >= 4:
        d["digest"] = content_digest(d)
    (live / MANIFEST).write_text(json.dumps(d, indent=1), encoding="utf-8")
