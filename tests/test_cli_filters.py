"""`qa ask/batch --doc --under --type --title` and per-line "filters" in batch JSONL (real model and seeds)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.cli import main
from qa.index import Index

pytestmark = pytest.mark.e2e

DOC_A = "000_39ae44cc0e79be58.txt"
DOC_B = "004_1d47129261bda866.txt"
QUESTION = "How many US soldiers died in May?"


def _passages_of(index_dir: Path, doc_id: str) -> int:
    return sum(p.doc_id == doc_id for p in Index.load(index_dir).passages)


def test_ask_doc_filter_returns_k_passages_of_that_document_only(seed_index_dir: Path, capsys) -> None:
    k = min(4, _passages_of(seed_index_dir, DOC_A))
    code = main(["ask", QUESTION, "--index", str(seed_index_dir), "--doc", DOC_A, "-k", str(k), "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["passages"]) == k
    assert {p["doc"] for p in out["passages"]} == {DOC_A}
    text = Index.load(seed_index_dir).documents[DOC_A].text
    assert all(text[p["start"] : p["end"]] == p["text"] for p in out["passages"])


def test_ask_unknown_document_lists_the_indexed_ones(seed_index_dir: Path, capsys) -> None:
    code = main(["ask", QUESTION, "--index", str(seed_index_dir), "--doc", "nope.txt"])
    err = capsys.readouterr().err
    assert code == 1
    assert "unknown document id(s) ['nope.txt']" in err and DOC_A in err and DOC_B in err


def test_ask_type_with_no_document_is_an_empty_unanswered_answer(seed_index_dir: Path, capsys) -> None:
    code = main(["ask", QUESTION, "--index", str(seed_index_dir), "--type", "pdf", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["passages"] == [] and out["answered"] is False


def test_ask_unknown_type_is_an_error(seed_index_dir: Path, capsys) -> None:
    code = main(["ask", QUESTION, "--index", str(seed_index_dir), "--type", "docx"])
    assert code == 1 and "unknown file type 'docx'" in capsys.readouterr().err


def test_batch_line_filters_replace_the_command_line_filter(
    seed_index_dir: Path, tmp_path: Path, capsys
) -> None:
    questions = tmp_path / "q.jsonl"
    lines = [
        {"id": "run-filter", "question": QUESTION},
        {"id": "own-filter", "question": QUESTION, "filters": {"doc": [DOC_B]}},
        {"id": "unknown", "question": QUESTION, "filters": {"doc": "missing.txt"}},
        {"id": "bad-key", "question": QUESTION, "filters": {"folder": "x"}},
    ]
    questions.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    out = tmp_path / "a.jsonl"
    code = main(
        [
            "batch",
            str(questions),
            "--index",
            str(seed_index_dir),
            "--doc",
            DOC_A,
            "-k",
            "3",
            "--out",
            str(out),
        ]
    )
    err = capsys.readouterr().err
    assert code == 0
    answers = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [a["id"] for a in answers] == ["run-filter", "own-filter"]
    assert {p["doc"] for p in answers[0]["passages"]} == {DOC_A}
    assert {p["doc"] for p in answers[1]["passages"]} == {DOC_B}
    assert len(answers[0]["passages"]) == 3 and len(answers[1]["passages"]) == 3
    assert "line 3: unknown document id(s) ['missing.txt']" in err
    assert "line 4: unknown filter field(s) ['folder']" in err


def test_batch_strict_stops_at_an_unknown_document(seed_index_dir: Path, tmp_path: Path, capsys) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        json.dumps({"question": QUESTION, "filters": {"doc": "missing.txt"}}) + "\n", encoding="utf-8"
    )
    code = main(["batch", str(questions), "--index", str(seed_index_dir), "--strict"])
    assert code == 1 and "line 1: unknown document id(s)" in capsys.readouterr().err
