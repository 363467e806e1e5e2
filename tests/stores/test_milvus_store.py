"""The Milvus store's own features: index kinds, one collection per snapshot, clear errors.

Runs on milvus-lite in every `make test`, and on a real server inside its network
namespace (tests/stores/test_milvus_server.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from qa.config import StoreSettings
from qa.errors import ConfigError, IndexCorruptError, IndexLockedError
from qa.stores import exact_search, recall_at_k
from stores.targets import TARGETS, Case
from stores.vectors import clustered

pytestmark = pytest.mark.skipif(
    bool(TARGETS["milvus-lite"].missing), reason=str(TARGETS["milvus-lite"].missing)
)


def test_auto_choice_and_explicit_kinds() -> None:
    from qa.stores.milvus import AUTO_THRESHOLD, IndexType, choose_index_type

    assert choose_index_type(10) is IndexType.FLAT
    assert choose_index_type(AUTO_THRESHOLD - 1) is IndexType.FLAT
    assert choose_index_type(AUTO_THRESHOLD) is IndexType.IVF
    assert choose_index_type(10, "hnsw") is IndexType.HNSW and IndexType.HNSW.milvus == "HNSW"
    assert IndexType.IVF.milvus == "IVF_FLAT" and IndexType.IVFSQ8.milvus == "IVF_SQ8"
    with pytest.raises(ConfigError, match=r"unknown Milvus index type 'ivfpq'; choose one of"):
        choose_index_type(10, "ivfpq")


@pytest.mark.parametrize("kind", ["ivf", "hnsw"])
def test_approximate_kinds_have_high_recall(milvus_case: Case, kind: str) -> None:
    rng = np.random.default_rng(11)
    vectors, queries = clustered(rng, 4000, 32, 40, queries=50)
    store = milvus_case.build_with(vectors, index_type=kind)
    info = store.describe()
    assert info["type"] == kind and info["milvus_index"] in ("IVF_FLAT", "HNSW")
    if kind == "ivf":
        assert 1 <= info["nprobe"] <= info["nlist"]
    _, ids = store.search(queries, 10)
    _, exact = exact_search(vectors, queries, 10)
    assert recall_at_k(ids, exact, k=10) >= 0.95
    reopened = milvus_case.reopen(info)
    np.testing.assert_array_equal(reopened.search(queries[:5], 10)[1], ids[:5])


def _write(corpus: Path, name: str, text: str) -> None:
    (corpus / name).write_text(text, encoding="utf-8")


def test_snapshots_keep_the_live_and_previous_collection(
    milvus_case: Case, corpus: Path, fake_embedder
) -> None:
    """Each build writes a new collection; the reader of the previous snapshot keeps working;
    older collections of this index are dropped by the next build."""
    from pymilvus import MilvusClient

    from qa.index import Index
    from qa.indexing import build_index
    from qa.stores.milvus import collection_prefix, resolve_uri

    index_dir = milvus_case.root / "index"
    build_index(corpus, index_dir, embedder=fake_embedder, store=milvus_case.settings)
    first = Index.load(index_dir)
    _write(corpus, "new.txt", "Volcanoes\n\nA volcano erupts molten rock called lava.\n")
    time.sleep(1.1)  # snapshot folders are named by the second
    build_index(corpus, index_dir, embedder=fake_embedder)  # the store comes from the manifest
    second = Index.load(index_dir)
    names = [first.manifest.store.params["collection"], second.manifest.store.params["collection"]]
    assert second.manifest.store.name == "milvus" and names[0] != names[1]

    # The first reader still searches its own (previous) snapshot.
    vectors = np.asarray(first.vector_matrix(), dtype=np.float32)
    _, ids = first.store.search(vectors, 1)
    assert ids[:, 0].tolist() == list(range(len(first.passages)))

    _write(corpus, "more.txt", "Tides\n\nThe moon's gravity raises the tides of the ocean.\n")
    time.sleep(1.1)
    build_index(corpus, index_dir, embedder=fake_embedder)
    third = Index.load(index_dir)
    uri = resolve_uri(milvus_case.settings.uri, index_dir)
    client = MilvusClient(uri=uri)
    mine = {c for c in client.list_collections() if c.startswith(collection_prefix(index_dir))}
    assert mine == {names[1], third.manifest.store.params["collection"]}
    assert len(third.passages) == third.store.size > len(first.passages)


def test_missing_collection_says_rebuild(milvus_case: Case, corpus: Path, fake_embedder) -> None:
    from pymilvus import MilvusClient

    from qa.index import Index
    from qa.indexing import build_index
    from qa.stores.milvus import resolve_uri

    index_dir = milvus_case.root / "index"
    build_index(corpus, index_dir, embedder=fake_embedder, store=milvus_case.settings)
    name = Index.load(index_dir).manifest.store.params["collection"]
    MilvusClient(uri=resolve_uri(milvus_case.settings.uri, index_dir)).drop_collection(name)
    with pytest.raises(IndexCorruptError, match=rf"collection {name} .* is missing .*qa index --rebuild"):
        Index.load(index_dir)


def test_a_second_process_on_a_lite_file_gets_a_clear_error(tmp_path: Path) -> None:
    """milvus-lite allows one process per file: the second is told so, and what to do."""
    from qa.stores.milvus import connect

    path = tmp_path / "held.db"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pymilvus import MilvusClient; MilvusClient(uri=sys.argv[1]); "
            "print('open', flush=True); time.sleep(60)",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(IndexLockedError, match=r"open in another process .*one process per file"):
            connect(str(path))
    finally:
        holder.kill()
        holder.wait(timeout=10)
    connect(str(path)).close()  # free again once the holder is gone


def test_missing_pymilvus_names_the_extra() -> None:
    code = (
        "import sys; sys.modules['pymilvus'] = None\n"
        "from qa.errors import ConfigError\nfrom qa.stores import store_class\n"
        "try:\n    store_class('milvus')\nexcept ConfigError as e:\n    print(e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=os.environ
    )
    assert "the vector store 'milvus' needs the package 'qa[milvus]'" in out.stdout
    assert "pip install 'qa[milvus]'" in out.stdout


def test_file_uri_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QA_STORE", "milvus")
    monkeypatch.setenv("QA_STORE_URI", "rel/store.db")
    settings = StoreSettings.from_env()
    assert settings == StoreSettings(name="milvus", uri=str(tmp_path / "rel" / "store.db"))
    assert StoreSettings.from_env(uri="http://127.0.0.1:19530").uri == "http://127.0.0.1:19530"


@pytest.mark.e2e
def test_seeds_on_milvus_lite_answer_like_faiss(
    tmp_path: Path, seed_retriever, real_embedder, capsys: pytest.CaptureFixture[str]
) -> None:
    """`qa index --store milvus`, then `qa ask`, batch retrieval and evaluation on the seeds:
    the same top passages and nDCG@10 as the FAISS index of the same seeds."""
    import json

    from conftest import SEEDS
    from qa.cli import main
    from qa.evaluation import evaluate, read_question_set
    from qa.index import Index
    from qa.retrieval import Retriever

    index_dir = tmp_path / "milvus-index"
    assert main(["index", "--corpus", str(SEEDS), "--index", str(index_dir), "--store", "milvus", "-q"]) == 0
    capsys.readouterr()
    manifest = Index.load(index_dir).manifest
    assert manifest.store.name == "milvus" and (index_dir / "milvus.db").is_dir()

    question = "What was the American military death toll for the month of May?"
    assert (
        main(["ask", question, "--corpus", str(SEEDS), "--index", str(index_dir), "--json", "-k", "5"]) == 0
    )
    asked = [p["passage_id"] for p in json.loads(capsys.readouterr().out)["passages"]]
    assert asked == [h.passage.passage_id for h in seed_retriever.search(question, k=5)]

    milvus = Retriever(Index.load(index_dir), embedder=real_embedder)
    questions = read_question_set(SEEDS.parent / "eval" / "seed_questions.jsonl")
    texts = [q.question for q in questions]
    for mode in ("dense", "hybrid"):
        ours = milvus.ask_many(texts, k=10, mode=mode)
        theirs = seed_retriever.ask_many(texts, k=10, mode=mode)
        assert [[h.passage.passage_id for h in a.hits] for a in ours] == [
            [h.passage.passage_id for h in a.hits] for a in theirs
        ]
    on_milvus = evaluate(questions, milvus, configurations="hybrid").metrics()["hybrid"]
    on_faiss = evaluate(questions, seed_retriever, configurations="hybrid").metrics()["hybrid"]
    assert on_milvus["ndcg@10"] == pytest.approx(on_faiss["ndcg@10"], abs=1e-9)
    assert on_milvus["ndcg@10"] > 0.5  # a real ranking, not an empty one
