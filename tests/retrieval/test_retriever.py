"""Retriever: modes, fusion, deterministic ties, per-signal scores, citation checks, highlights."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from qa.errors import CitationError, ConfigError
from qa.index import Index
from qa.indexing import build_index
from qa.retrieval import COVERAGE_WEIGHT, Retriever
from qa.retrieval.coverage import term_coverage


@pytest.fixture
def retriever(corpus: Path, tmp_path: Path, fake_embedder) -> Retriever:
    build_index(corpus, tmp_path / "idx", embedder=fake_embedder)
    return Retriever(Index.load(tmp_path / "idx"), embedder=fake_embedder)


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_every_mode_returns_the_same_hit_shape(retriever: Retriever, mode: str) -> None:
    hits = retriever.search("rocket engine thrust propellant", k=3, mode=mode)
    assert hits and hits[0].passage.doc_id == "rockets.md"
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    expected = {
        "dense": {"dense"},
        "bm25": {"bm25"},
        "hybrid": {"dense", "bm25", "sentence", "rerank"},
    }[mode]
    assert expected <= set(hits[0].scores)
    if mode == "hybrid":
        # Hybrid reranks the fused candidates by passage, best sentence and BM25 scores.
        assert hits[0].ranks["rerank"] == 1
        assert hits[0].score == hits[0].scores["rerank"]


def test_plain_rrf_hybrid_without_rerank(retriever: Retriever) -> None:
    hits = retriever.search("rocket engine thrust propellant", k=3, mode="hybrid", rerank=False)
    assert hits[0].ranks["fused"] == 1 and hits[0].score == hits[0].scores["fused"]
    assert "sentence" not in hits[0].scores
    expected = sum(1 / (60 + r) for name, r in hits[0].ranks.items() if name in ("dense", "bm25"))
    assert hits[0].score == pytest.approx(expected)


def test_rerank_with_coverage_is_the_documented_weighted_sum(retriever: Retriever) -> None:
    q = "rocket engine thrust propellant"
    bm25 = retriever.index.bm25.scores(q)
    retriever.coverage_weight = COVERAGE_WEIGHT  # the hybrid-coverage configuration
    hits = retriever.search(q, k=5, mode="hybrid")
    for h in hits:
        s = h.scores
        row = retriever.index.row_of(h.passage_id)
        b = bm25[row] / bm25.max()
        (c,) = term_coverage(retriever.index, q, [row])
        assert s["coverage"] == pytest.approx(c)
        a, w, cw = retriever.dense_weight, retriever.bm25_weight, retriever.coverage_weight
        want = a * s["dense"] + (1 - a) * s["sentence"] + w * b + cw * c
        assert s["rerank"] == pytest.approx(want, abs=1e-5)


def test_default_rerank_is_the_weighted_sum_without_coverage(retriever: Retriever) -> None:
    q = "rocket engine thrust propellant"
    assert retriever.coverage_weight == 0.0
    hits = retriever.search(q, k=5, mode="hybrid")
    bm25 = retriever.index.bm25.scores(q)
    for h in hits:
        s = h.scores
        assert "coverage" not in s
        b = bm25[retriever.index.row_of(h.passage_id)] / bm25.max()
        a, w = retriever.dense_weight, retriever.bm25_weight
        assert s["rerank"] == pytest.approx(a * s["dense"] + (1 - a) * s["sentence"] + w * b, abs=1e-5)


def test_dense_rerank_uses_no_lexical_signal(retriever: Retriever) -> None:
    hits = retriever.search("rocket engine thrust propellant", k=3, mode="dense", rerank=True)
    for h in hits:
        s = h.scores
        assert "coverage" not in s
        a = retriever.dense_weight
        assert s["rerank"] == pytest.approx(a * s["dense"] + (1 - a) * s["sentence"], abs=1e-5)


def test_search_is_search_many_first(retriever: Retriever) -> None:
    qs = ["how fast is orbital velocity", "what makes dough rise"]
    many = retriever.search_many(qs, k=2)
    assert [h.passage_id for h in retriever.search(qs[1], k=2)] == [h.passage_id for h in many[1]]
    assert many[1][0].passage.doc_id == "sub/bread.txt"


def test_ties_are_broken_by_passage_id(retriever: Retriever) -> None:
    # A query whose words occur nowhere gives all-zero dense ties under the fake model? Not
    # guaranteed, so build exact ties: duplicate texts in two documents.
    hits = retriever.search("cats", k=10, mode="bm25")
    keys = [(-h.score, h.passage_id) for h in hits]
    assert keys == sorted(keys)


def test_identical_passages_tie_deterministically(tmp_path: Path, fake_embedder) -> None:
    c = tmp_path / "c"
    c.mkdir()
    # Different files (trailing newlines differ, so they are not duplicates) whose
    # passages are identical.
    for n, name in enumerate(("b.txt", "a.txt", "c.txt")):
        (c / name).write_text("Same\n\nExactly the same sentence about tea." + "\n" * n, encoding="utf-8")
    build_index(c, tmp_path / "idx", embedder=fake_embedder)
    r = Retriever(Index.load(tmp_path / "idx"), embedder=fake_embedder)
    for mode in ("dense", "bm25", "hybrid"):
        hits = r.search("tea sentence", k=3, mode=mode)
        assert [h.passage.doc_id for h in hits] == ["a.txt", "b.txt", "c.txt"]


def test_hits_are_exact_slices_with_citations(retriever: Retriever) -> None:
    for h in retriever.search("cat purrs", k=5):
        doc = retriever.index.documents[h.passage.doc_id]
        assert doc.text[h.passage.start : h.passage.end] == h.text
        assert h.label().startswith(f"[{h.rank}] {h.passage.doc_id} ¶")
        assert h.label().endswith(f"chars {h.passage.start}-{h.passage.end}")


def test_tampered_passage_raises_instead_of_showing(retriever: Retriever) -> None:
    index = retriever.index
    forged = list(index.passages)  # the table derives text from the document; forge a copy
    forged[0] = replace(forged[0], text=forged[0].text + " (forged)")
    index.passages = forged
    with pytest.raises(CitationError, match="does not match"):
        for q in ["cats", "rocket", "bread"]:
            retriever.search(q, k=10)


def test_bad_k_and_mode(retriever: Retriever) -> None:
    with pytest.raises(ConfigError, match="k=0"):
        retriever.search("x", k=0)
    with pytest.raises(
        ConfigError, match=r"unknown mode 'fuzzy'; choose one of \['dense', 'bm25', 'hybrid'\]"
    ):
        retriever.search("x", mode="fuzzy")


def test_highlights_point_inside_the_passage(retriever: Retriever) -> None:
    answer = retriever.ask("Orbital velocity near Earth", k=2)
    assert answer.answered
    top = answer.hits[0]
    assert top.highlights
    doc = retriever.index.documents[top.passage.doc_id]
    for h in top.highlights:
        assert top.passage.start <= h.start < h.end <= top.passage.end
        assert doc.text[h.start : h.end].strip() == doc.text[h.start : h.end]
    assert "Orbital velocity" in doc.text[top.highlights[0].start : top.highlights[0].end]


def test_swap_serves_the_new_index(corpus: Path, tmp_path: Path, fake_embedder, retriever: Retriever) -> None:
    (corpus / "tea.txt").write_text("Tea\n\nGreen tea contains catechins.", encoding="utf-8")
    build_index(corpus, tmp_path / "idx", embedder=fake_embedder)
    assert retriever.search("catechins", k=1, mode="bm25") == []
    retriever.swap(Index.load(tmp_path / "idx"))
    assert retriever.search("catechins", k=1, mode="bm25")[0].passage.doc_id == "tea.txt"


def test_refresh_picks_up_a_snapshot_another_process_published(
    corpus: Path, tmp_path: Path, fake_embedder
) -> None:
    """A server's retriever follows `qa index` run beside it: nothing while CURRENT is
    unchanged, the new snapshot once it is published (here by a second, separate build)."""
    import subprocess
    import sys
    import textwrap

    from qa.indexing import build_index

    index_dir = tmp_path / "live"
    build_index(corpus, index_dir, embedder=fake_embedder)
    retriever = Retriever(Index.load(index_dir), embedder=fake_embedder)
    before = retriever.index.path
    assert retriever.refresh() is False
    (corpus / "otters.txt").write_text(
        "Otters\n\nSea otters hold hands while they sleep.\n", encoding="utf-8"
    )
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})
        from conftest import FakeEmbedder
        from qa.indexing import build_index
        build_index({str(corpus)!r}, {str(index_dir)!r}, embedder=FakeEmbedder())
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    assert retriever.refresh() is True
    assert retriever.index.path != before and "otters.txt" in retriever.index.documents
    hits = retriever.search("Which animals hold hands while they sleep?", k=1, mode="bm25")
    assert hits[0].passage.doc_id == "otters.txt"
    assert retriever.refresh() is False  # unchanged since
