"""`qa ask --after` and per-line "history" in batch JSONL (real model and seeds)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.cli import main
from qa.index import Index
from qa.retrieval import Retriever

pytestmark = pytest.mark.e2e

FIRST = "Who did the UIA first nominate to lead the government?"
FOLLOWUP = "Who replaced him?"


def _library(index_dir: Path, real_embedder, question: str, history: list[str] | None) -> dict:
    retriever = Retriever(Index.load(index_dir), embedder=real_embedder)
    return retriever.ask(question, k=3, history=history).to_dict()


def test_ask_after_reads_a_follow_up_with_the_previous_question(
    seed_index_dir: Path, real_embedder, capsys
) -> None:
    code = main(["ask", FOLLOWUP, "--after", FIRST, "--index", str(seed_index_dir), "-k", "3", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["read_with"] == [FIRST]
    expected = _library(seed_index_dir, real_embedder, FOLLOWUP, [FIRST])
    assert [p["passage_id"] for p in out["passages"]] == [p["passage_id"] for p in expected["passages"]]
    alone = _library(seed_index_dir, real_embedder, FOLLOWUP, None)
    assert "read_with" not in alone  # no history given: the JSON shape is unchanged


def test_batch_history_per_line_and_lines_without_it_unchanged(
    seed_index_dir: Path, real_embedder, tmp_path: Path
) -> None:
    questions = tmp_path / "conversation.jsonl"
    questions.write_text(
        json.dumps({"id": "t1", "question": FIRST})
        + "\n"
        + json.dumps({"id": "t2", "question": FOLLOWUP, "history": [FIRST]})
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "answers.jsonl"
    assert main(["batch", str(questions), "--index", str(seed_index_dir), "-k", "3", "--out", str(out)]) == 0
    first, second = (json.loads(line) for line in out.read_text(encoding="utf-8").splitlines())
    assert "read_with" not in first
    alone = _library(seed_index_dir, real_embedder, FIRST, None)
    assert [p["passage_id"] for p in first["passages"]] == [p["passage_id"] for p in alone["passages"]]
    assert second["read_with"] == [FIRST]
    expected = _library(seed_index_dir, real_embedder, FOLLOWUP, [FIRST])
    assert [p["passage_id"] for p in second["passages"]] == [p["passage_id"] for p in expected["passages"]]
