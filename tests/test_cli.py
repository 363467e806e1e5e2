"""The qa command line: parsing, output formats, errors and exit codes (real model and seeds)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from qa.cli import build_parser, main

pytestmark = pytest.mark.e2e


def test_help_lists_commands_and_examples(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for cmd in ("index", "ask", "batch", "status", "serve"):
        assert cmd in out
    assert "QA_CORPUS" in out and "examples:" in out


def test_parser_defaults_and_choices() -> None:
    p = build_parser()
    args = p.parse_args(["ask", "hello"])
    assert args.k == 5 and args.mode == "hybrid" and args.question == "hello"
    args = p.parse_args(["batch", "q.csv", "-k", "3", "--format", "trec"])
    assert args.k == 3 and args.format == "trec" and args.input == Path("q.csv")
    with pytest.raises(SystemExit):
        p.parse_args(["ask", "x", "--mode", "nope"])


def test_ask_without_index_message(tmp_path: Path, capsys) -> None:
    code = main(["ask", "anything", "--index", str(tmp_path / "none")])
    err = capsys.readouterr().err
    assert code == 1 and "no index in" in err and "run `qa index` first" in err


def test_ask_json_schema(seed_index_dir: Path, capsys) -> None:
    code = main(
        [
            "ask",
            "How many American soldiers were killed in May?",
            "--index",
            str(seed_index_dir),
            "--corpus",
            "seeds",
            "--json",
            "-k",
            "3",
        ]
    )
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["question"].startswith("How many") and out["answered"] is True
    assert len(out["passages"]) == 3
    p = out["passages"][0]
    for key in (
        "rank",
        "passage_id",
        "doc",
        "title",
        "start",
        "end",
        "text",
        "score",
        "citation",
        "highlights",
    ):
        assert key in p
    doc_text = (Path(__file__).resolve().parents[1] / "seeds" / p["doc"]).read_text(encoding="utf-8")
    assert doc_text[p["start"] : p["end"]] == p["text"]
    assert p["citation"].startswith(f"[1] {p['doc']} ¶")


def test_ask_readable_output(seed_index_dir: Path, capsys) -> None:
    assert main(["ask", "helicopter shot down", "--index", str(seed_index_dir), "-k", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("[1] ") and "[2] " in out and "chars " in out and "score" in out


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "trec"])
def test_batch_formats(seed_index_dir: Path, tmp_path: Path, fmt: str) -> None:
    qfile = tmp_path / "q.jsonl"
    qfile.write_text(
        json.dumps({"id": "a", "question": "Who was dumped as prime minister nominee?"})
        + "\n"
        + json.dumps({"question": "How many deaths did US forces suffer in May?"})
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / f"out.{fmt}"
    code = main(["batch", str(qfile), "--index", str(seed_index_dir), "--out", str(out), "-k", "4"])
    assert code == 0
    text = out.read_text(encoding="utf-8")
    if fmt == "jsonl":
        rows = [json.loads(line) for line in text.splitlines()]
        assert [r["id"] for r in rows] == ["a", "q2"]
        assert all(len(r["passages"]) == 4 and r["answered"] for r in rows)
        assert set(rows[0]["passages"][0]) >= {
            "rank",
            "passage_id",
            "doc",
            "title",
            "start",
            "end",
            "text",
            "score",
            "citation",
        }
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        assert len(rows) == 8 and rows[0]["id"] == "a" and rows[0]["rank"] == "1"
    else:
        lines = [line.split() for line in text.splitlines()]
        assert len(lines) == 8 and lines[0][0] == "a" and lines[0][1] == "Q0" and lines[0][3] == "1"
        assert lines[0][5] == "qa"
    assert not list(tmp_path.glob("*.partial"))


def test_batch_txt_and_csv_inputs(seed_index_dir: Path, tmp_path: Path, capsys) -> None:
    (tmp_path / "q.txt").write_text("first question about Basra\n\nsecond about Iraq oil\n", encoding="utf-8")
    assert main(["batch", str(tmp_path / "q.txt"), "--index", str(seed_index_dir), "-k", "1"]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in rows] == ["q1", "q3"]
    (tmp_path / "q.csv").write_text("id,question\nx1,what about Basra\n", encoding="utf-8")
    assert main(["batch", str(tmp_path / "q.csv"), "--index", str(seed_index_dir), "-k", "1"]) == 0
    assert json.loads(capsys.readouterr().out)["id"] == "x1"


def test_batch_malformed_line_is_named(seed_index_dir: Path, tmp_path: Path, capsys) -> None:
    qfile = tmp_path / "q.jsonl"
    qfile.write_text('{"question": "ok one"}\n{not json}\n{"id": "z"}\n', encoding="utf-8")
    code = main(["batch", str(qfile), "--index", str(seed_index_dir), "--strict"])
    err = capsys.readouterr().err
    assert code == 1 and "line 2" in err
    code = main(["batch", str(qfile), "--index", str(seed_index_dir), "-k", "1"])
    captured = capsys.readouterr()
    assert code == 0 and len(captured.out.splitlines()) == 1
    assert "line 2" in captured.err and "line 3" in captured.err


def test_status_and_index_commands(seed_corpus_copy: Path, tmp_path: Path, capsys) -> None:
    idx = tmp_path / "idx"
    assert main(["index", "--corpus", str(seed_corpus_copy), "--index", str(idx)]) == 0
    assert "added (2)" in capsys.readouterr().out
    assert main(["index", "--corpus", str(seed_corpus_copy), "--index", str(idx)]) == 0
    assert "up to date" in capsys.readouterr().out
    (seed_corpus_copy / "004_1d47129261bda866.txt").write_text("Changed\n\nNew text.", encoding="utf-8")
    assert main(["status", "--corpus", str(seed_corpus_copy), "--index", str(idx)]) == 0
    out = capsys.readouterr().out
    assert "changed: 004_1d47129261bda866.txt" in out and "run `qa index`" in out
    assert main(["index", "--corpus", str(seed_corpus_copy), "--index", str(idx), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["changed"] == ["004_1d47129261bda866.txt"] and report["embedded"] == 1


def test_python_m_qa_runs(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "qa", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.startswith("qa ")


def test_index_sentences_option_sets_how_sentence_vectors_are_made(tmp_path: Path, real_embedder) -> None:
    from qa.index import Index

    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "ferry.txt").write_text("Ferries\n\nThe ferry leaves at nine. Tickets cost four euros.\n")
    index = tmp_path / "idx"
    assert main(["index", "-q", "--corpus", str(corpus), "--index", str(index)]) == 0
    assert Index.load(index).settings.sentence_pooling == "late"
    assert (
        main(["index", "-q", "--corpus", str(corpus), "--index", str(index), "--sentences", "separate"]) == 0
    )
    loaded = Index.load(index)
    assert loaded.settings.sentence_pooling == "separate" and loaded.sentences is not None
    assert main(["index", "-q", "--corpus", str(corpus), "--index", str(index), "--sentences", "none"]) == 0
    assert Index.load(index).sentences is None
