"""BEIR: reading a tiny synthetic folder, its separate index, and document-level scoring."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from qa.citations import cite
from qa.config import IndexSettings
from qa.errors import InputError
from qa.evaluation import evaluate_beir
from qa.evaluation.beir import beir_index_dir, document_run, ensure_beir_index, load_beir
from qa.index import Index
from qa.retrieval import Retriever
from qa.types import Document, Hit, Passage

CORPUS = [
    {"_id": "d1", "title": "Volcanoes", "text": "Magma erupts from volcanoes as lava and ash."},
    {"_id": "d2", "title": "Glaciers", "text": "Glaciers carve valleys as the ice slowly moves downhill."},
    {"_id": "d3", "title": "Coral reefs", "text": "Coral reefs bleach when the ocean water gets too warm."},
    {"_id": "d4", "title": "Deserts", "text": "Deserts receive very little rain and have sparse plants."},
]
QUERIES = [
    {"_id": "1", "text": "lava and ash from magma", "metadata": {}},
    {"_id": "2", "text": "ice carving valleys", "metadata": {}},
    {"_id": "3", "text": "warm ocean bleach coral", "metadata": {}},
    {"_id": "9", "text": "a training query", "metadata": {}},
]


@pytest.fixture
def beir_dir(tmp_path: Path) -> Path:
    root = tmp_path / "tinybeir"
    (root / "qrels").mkdir(parents=True)
    (root / "corpus.jsonl").write_text("\n".join(json.dumps(r) for r in CORPUS) + "\n", encoding="utf-8")
    (root / "queries.jsonl").write_text("\n".join(json.dumps(r) for r in QUERIES) + "\n", encoding="utf-8")
    # BEIR's files have a header and CRLF line endings.
    (root / "qrels" / "test.tsv").write_bytes(
        b"query-id\tcorpus-id\tscore\r\n1\td1\t1\r\n2\td2\t1\r\n3\td3\t1\r\n"
    )
    return root


def test_load_beir_reads_documents_queries_and_qrels(beir_dir: Path) -> None:
    beir = load_beir(beir_dir)
    assert beir.name == "tinybeir"
    assert [d.doc_id for d in beir.documents] == ["d1", "d2", "d3", "d4"]
    # The title is part of the indexed text, separated by a blank line.
    assert beir.documents[0].text == "Volcanoes\n\nMagma erupts from volcanoes as lava and ash."
    # Only the queries judged in the split are kept (query 9 is a training query).
    assert beir.queries == {
        "1": "lava and ash from magma",
        "2": "ice carving valleys",
        "3": "warm ocean bleach coral",
    }
    assert beir.qrels == {"1": {"d1": 1}, "2": {"d2": 1}, "3": {"d3": 1}}
    assert beir_index_dir(beir) == Path("embeddings-beir") / "tinybeir"


def test_missing_file_and_unknown_query_are_input_errors(beir_dir: Path) -> None:
    with pytest.raises(InputError, match="qrels"):
        load_beir(beir_dir, split="dev")
    (beir_dir / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n77\td1\t1\n", encoding="utf-8")
    with pytest.raises(InputError, match="missing from queries.jsonl"):
        load_beir(beir_dir)


def _hit(doc_id: str, pid: str, score: float, rank: int) -> Hit:
    doc = Document(doc_id=doc_id, title=doc_id, text="x" * 10, sha256="s")
    p = Passage(pid, doc_id, doc_id, "xx", 0, 2, 1, 1)
    return Hit(passage=p, score=score, rank=rank, citation=cite(p, doc))


def test_document_run_scores_a_document_by_its_best_passage() -> None:
    hits = [
        _hit("A", "A#1", 0.9, 1),
        _hit("B", "B#0", 0.8, 2),
        _hit("A", "A#0", 0.7, 3),
        _hit("C", "C#0", 0.1, 4),
    ]
    run = document_run(hits, k=100)
    assert list(run) == ["A", "B", "C"]
    assert run["A"] > run["B"] > run["C"]
    assert list(document_run(hits, k=2)) == ["A", "B"]


def test_beir_index_is_separate_incremental_and_scored_at_document_level(
    beir_dir: Path, tmp_path: Path, fake_embedder
) -> None:
    beir = load_beir(beir_dir)
    index_dir = tmp_path / "beir-index"
    first = ensure_beir_index(beir, index_dir, embedder=fake_embedder)
    assert sorted(first.added) == ["d1", "d2", "d3", "d4"]
    # Reused as is on the second run: nothing re-embedded.
    embedded = len(fake_embedder.embedded)
    again = ensure_beir_index(beir, index_dir, embedder=fake_embedder)
    assert again.up_to_date and len(fake_embedder.embedded) == embedded

    index = Index.load(index_dir)
    for p in index.passages:
        assert index.documents[p.doc_id].text[p.start : p.end] == p.text
    retriever = Retriever(index, embedder=fake_embedder)
    report = evaluate_beir(beir, retriever, configurations="bm25,dense", k=1)
    assert report.level == "document" and report.counts["questions"] == 3
    bm25 = report.metrics()["bm25"]
    # Each query shares distinctive words with its one relevant document only.
    assert bm25["recall@1"] == pytest.approx(1.0)
    assert bm25["ndcg@10"] == pytest.approx(1.0)
    assert bm25["citation_exactness"] == 1.0
    assert bm25["abstention_rate"] is None
    for result in report.results:
        for q in result.questions:
            # Document level: the retrieved items are distinct documents.
            ids = [r.item_id for r in q.retrieved]
            assert len(ids) == len(set(ids))
    data = report.to_dict()
    assert set(data["metrics"]) == {"bm25", "dense"}
    assert "ndcg@10" in data["metrics"]["dense"] and "recall@100" in data["metrics"]["dense"]


def test_build_in_steps_embeds_each_passage_once_and_resumes(
    beir_dir: Path, tmp_path: Path, fake_embedder
) -> None:
    beir = load_beir(beir_dir)
    index_dir = tmp_path / "stepped"
    passages_only = IndexSettings(sentence_vectors=False)  # so only passages are embedded
    # Simulate an interrupted build: only the first two documents made it.
    ensure_beir_index(
        replace(beir, documents=beir.documents[:2]),
        index_dir,
        embedder=fake_embedder,
        settings=passages_only,
        step=None,
    )
    ensure_beir_index(beir, index_dir, embedder=fake_embedder, settings=passages_only, step=2)
    index = Index.load(index_dir)
    assert sorted(index.documents) == ["d1", "d2", "d3", "d4"]
    # Every passage was embedded exactly once across the two runs.
    assert len(fake_embedder.embedded) == len(index.passages)


def test_a_complete_stepped_index_is_reused_without_embedding_again(
    beir_dir: Path, tmp_path: Path, fake_embedder
) -> None:
    """Steps smaller than what is indexed are skipped, so the second run embeds nothing
    (it used to shrink the live index to the first step and embed the rest again)."""
    beir = load_beir(beir_dir)
    index_dir = tmp_path / "stepped-again"
    passages_only = IndexSettings(sentence_vectors=False)
    ensure_beir_index(beir, index_dir, embedder=fake_embedder, settings=passages_only, step=2)
    embedded = len(fake_embedder.embedded)
    snapshot = Index.load(index_dir).path
    again = ensure_beir_index(beir, index_dir, embedder=fake_embedder, settings=passages_only, step=2)
    assert again.up_to_date
    assert len(fake_embedder.embedded) == embedded
    assert Index.load(index_dir).path == snapshot  # nothing was published
