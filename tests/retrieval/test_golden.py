"""Regression: every retrieval mode gives the hits, scores, ranks, highlights and confidence recorded before the retrieval/ split.

The golden file was recorded with the pre-refactor `qa.retrieval` on the `corpus`
fixture and the FakeEmbedder, before the term-coverage rerank signal (issue #13); it
pins the weighted rerank without it (`coverage_weight=0`, the default).
Regenerate it (only for an intended change of
behaviour) with `QA_REGEN_GOLDEN=1 pytest tests/retrieval/test_golden.py`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from qa.config import IndexSettings
from qa.index import Index
from qa.indexing import build_index
from qa.retrieval import Retriever

GOLDEN = Path(__file__).parent / "data" / "golden_retrieval.json"

QUESTIONS = [
    "rocket engine thrust propellant",
    "how fast is orbital velocity",
    "what makes dough rise",
    "cat purrs",
    "cats",
    "zebra quantum",  # no indexed word: BM25 finds nothing
    "Bread is made from flour, water and yeast.",
]

SETTINGS = {
    "late": IndexSettings(),
    "separate": IndexSettings(sentence_pooling="separate"),
    "no-sentences": IndexSettings(sentence_vectors=False),
}

# Without a threshold, BM25 search skips the question vector (and the confidence).
VARIANTS: list[dict[str, Any]] = [
    {"mode": mode, "rerank": rerank, "highlight": highlight, "threshold": threshold}
    for mode in ("dense", "bm25", "hybrid")
    for rerank in (None, True, False)
    for highlight in (False, True)
    for threshold in ((0.28, None) if mode == "bm25" else (0.28,))
]


def _answers(retriever: Retriever, variant: dict[str, Any], k: int) -> list[dict[str, Any]]:
    retriever.threshold = variant["threshold"]
    answers = retriever.ask_many(
        QUESTIONS, k=k, mode=variant["mode"], rerank=variant["rerank"], highlight=variant["highlight"]
    )
    return [
        {
            "answered": a.answered,
            "confidence": a.confidence,
            "hits": [
                {
                    "passage_id": h.passage_id,
                    "score": h.score,
                    "rank": h.rank,
                    "scores": h.scores,
                    "ranks": h.ranks,
                    "highlights": [[m.start, m.end, m.score] for m in h.highlights],
                }
                for h in a.hits
            ],
        }
        for a in answers
    ]


def _record(corpus: Path, tmp_path: Path, fake_embedder) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, settings in SETTINGS.items():
        build_index(corpus, tmp_path / name, embedder=fake_embedder, settings=settings)
        retriever = Retriever(Index.load(tmp_path / name), embedder=fake_embedder, coverage_weight=0.0)
        for variant in VARIANTS:
            for k in (2, 10):
                key = f"{name}/{variant['mode']}/rerank={variant['rerank']}/highlight={variant['highlight']}"
                key += f"/threshold={variant['threshold']}/k={k}"
                out[key] = _answers(retriever, variant, k)
    return out


def _same(got: Any, want: Any, where: str) -> None:
    if isinstance(want, float) or isinstance(got, float):
        assert got == pytest.approx(want, abs=1e-6), where
    elif isinstance(want, dict):
        assert isinstance(got, dict) and list(got) == list(want), where
        for key in want:
            _same(got[key], want[key], f"{where}.{key}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), where
        for i, (g, w) in enumerate(zip(got, want)):
            _same(g, w, f"{where}[{i}]")
    else:
        assert got == want, where


def test_every_mode_matches_the_recorded_run(corpus: Path, tmp_path: Path, fake_embedder) -> None:
    got = json.loads(json.dumps(_record(corpus, tmp_path, fake_embedder)))
    if os.environ.get("QA_REGEN_GOLDEN"):
        lines = [f"{json.dumps(key)}: {json.dumps(value)}" for key, value in got.items()]
        GOLDEN.write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")
    want = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert list(got) == list(want)
    for key in want:
        _same(got[key], want[key], key)
