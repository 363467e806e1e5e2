"""Batch input: malformed lines are named by line number; --strict stops, otherwise good lines run."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

import qa.retrieval.retriever
from qa.batch import MAX_QUESTION_CHARS, BadLine, read_questions, write_answers
from qa.cli import main
from qa.errors import InputError
from qa.index import Index
from qa.indexing import build_index
from qa.retrieval import Retriever


def _write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _bad(bad: list[BadLine]) -> dict[int, str]:
    return {b.line: b.reason for b in bad}


JSONL = "\n".join(
    [
        '{"id": "a", "question": "Who was nominated prime minister?"}',  # 1 good
        '{"id": "b", "question": "unterminated',  # 2 not JSON
        "",  # 3 blank: ignored
        '["a list", "not an object"]',  # 4
        '{"id": "c", "text": "no question field"}',  # 5
        '{"id": "d", "question": 42}',  # 6
        '{"id": "e", "question": "   "}',  # 7 empty
        json.dumps({"id": "f", "question": "x" * (MAX_QUESTION_CHARS + 1)}),  # 8 too long
        '{"id": "a", "question": "Same id again?"}',  # 9 duplicate id
        '{"id": null, "question": "No id given?"}',  # 10 good, id from the line
        '{"question": "How many soldiers died?"}',  # 11 good
    ]
)


def test_jsonl_bad_lines_are_reported_with_line_numbers(tmp_path: Path) -> None:
    good, bad = read_questions(_write(tmp_path, "q.jsonl", JSONL))
    assert [(q.qid, q.line) for q in good] == [("a", 1), ("q10", 10), ("q11", 11)]
    reasons = _bad(bad)
    assert sorted(reasons) == [2, 4, 5, 6, 7, 8, 9]
    assert reasons[2].startswith("not valid JSON (Unterminated string")
    assert "expected an object" in reasons[4] and "expected an object" in reasons[5]
    assert reasons[6] == "'question' must be a string, got int"
    assert reasons[7] == "the question is empty"
    assert (
        reasons[8]
        == f"the question is {MAX_QUESTION_CHARS + 1} characters, over the limit of {MAX_QUESTION_CHARS}"
    )
    assert reasons[9] == "duplicate id 'a'"
    assert str(bad[0]) == f"line 2: {reasons[2]}"


def test_strict_stops_at_the_first_bad_line(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"q\.jsonl: line 2: not valid JSON"):
        read_questions(_write(tmp_path, "q.jsonl", JSONL), strict=True)


def test_question_length_limit_is_a_parameter(tmp_path: Path) -> None:
    path = _write(tmp_path, "q.txt", "short one\n" + "y" * 50 + "\n")
    good, bad = read_questions(path, max_chars=20)
    assert [q.question for q in good] == ["short one"]
    assert _bad(bad) == {2: "the question is 50 characters, over the limit of 20"}


CSV = (
    "id,question\n"  # 1
    'q1,"Who was nominated, in the end?"\n'  # 2 good, comma inside quotes
    "q2,too,many\n"  # 3
    'q3,"a ""quoted"" word"\n'  # 4 good
    'q4,"bad"quote\n'  # 5 stray quote
    "\n"  # 6 blank
    'q5,"spans\ntwo lines"\n'  # 7-8 good, reported at its first line
    "q6,\n"  # 9 empty
    'q7,"never closed\n'  # 10 swallows the rest
    "q8,lost\n"  # 11
)


def test_csv_bad_lines_are_reported_with_line_numbers(tmp_path: Path) -> None:
    good, bad = read_questions(_write(tmp_path, "q.csv", CSV))
    assert [(q.qid, q.question, q.line) for q in good] == [
        ("q1", "Who was nominated, in the end?", 2),
        ("q3", 'a "quoted" word', 4),
        ("q5", "spans\ntwo lines", 7),
    ]
    reasons = _bad(bad)
    assert sorted(reasons) == [3, 5, 9, 10]
    assert reasons[3] == "expected 2 fields, found 3"
    assert reasons[5].startswith("malformed CSV (',' expected after '\"'")
    assert reasons[9] == "the question is empty"
    assert reasons[10].endswith("a quote opened here is never closed)")


def test_csv_header_problems(tmp_path: Path) -> None:
    _, bad = read_questions(_write(tmp_path, "q.csv", "id,query\n1,hello\n"))
    assert bad[0].line == 1 and "must have a 'question' column" in bad[0].reason
    with pytest.raises(InputError, match="line 1"):
        read_questions(_write(tmp_path, "q.csv", "id,query\n1,hello\n"), strict=True)


def test_byte_order_mark_from_spreadsheets_is_ignored(tmp_path: Path) -> None:
    good, bad = read_questions(_write(tmp_path, "q.csv", b"\xef\xbb\xbfid,question\r\nx1,What is it?\r\n"))
    assert [(q.qid, q.question) for q in good] == [("x1", "What is it?")] and not bad
    good, bad = read_questions(_write(tmp_path, "q.jsonl", b'\xef\xbb\xbf{"question": "Why?"}\n'))
    assert [q.question for q in good] == ["Why?"] and not bad


def test_unusable_question_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        read_questions(tmp_path / "missing.jsonl")
    with pytest.raises(InputError, match="not UTF-8"):
        read_questions(_write(tmp_path, "q.txt", "café?".encode("latin-1")))
    with pytest.raises(InputError, match="unknown question file type '.xlsx'"):
        read_questions(_write(tmp_path, "q.xlsx", "x"))
    assert read_questions(_write(tmp_path, "empty.jsonl", "")) == ([], [])


def test_stdin_stream(tmp_path: Path) -> None:
    good, bad = read_questions(Path("stdin.jsonl"), stream=io.StringIO('{"question": "a?"}\nnot json\n'))
    assert [q.question for q in good] == ["a?"] and [b.line for b in bad] == [2]


# -- odd questions never crash retrieval ---------------------------------------------


def test_odd_questions_are_answered_with_exact_citations(corpus: Path, tmp_path: Path, fake_embedder) -> None:
    build_index(corpus, tmp_path / "idx", embedder=fake_embedder)
    retriever = Retriever(Index.load(tmp_path / "idx"), embedder=fake_embedder)
    odd = [
        "???",
        "the of and a",
        "🙂🙂",
        "مرحبا",
        "e\u0301\u0301",
        "\x00",
        "x" * MAX_QUESTION_CHARS,
        "a\nb\tc",
    ]
    for mode in ("hybrid", "dense", "bm25"):
        answers = retriever.ask_many(odd, k=3, mode=mode, qids=[f"q{i}" for i in range(len(odd))])
        assert len(answers) == len(odd)
        for answer in answers:
            for hit in answer.hits:
                doc = retriever.index.documents[hit.passage.doc_id]
                assert doc.text[hit.passage.start : hit.passage.end] == hit.text
    out = io.StringIO()
    assert write_answers(answers, out, "csv") == len(odd)


# -- the CLI: good lines answered, bad ones named, --strict stops ---------------------


@pytest.fixture
def shared_model(monkeypatch: pytest.MonkeyPatch, real_embedder) -> None:
    """The CLI loads the model per command; reuse the session's copy to keep tests fast."""
    monkeypatch.setattr(
        qa.retrieval.retriever, "load_embedder", lambda name=None, backend=None: real_embedder
    )


@pytest.mark.e2e
def test_cli_batch_answers_good_lines_and_names_bad_ones(
    seed_index_dir: Path, tmp_path: Path, shared_model, capsys
) -> None:
    qfile = _write(tmp_path, "q.jsonl", JSONL)
    out = tmp_path / "answers.jsonl"
    code = main(["batch", str(qfile), "--index", str(seed_index_dir), "--out", str(out), "-k", "2"])
    assert code == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["a", "q10", "q11"]
    index = Index.load(seed_index_dir)
    for row in rows:
        assert row["passages"], row
        for p in row["passages"]:
            assert index.documents[p["doc"]].text[p["start"] : p["end"]] == p["text"]
    err = capsys.readouterr().err  # the CLI logs to stderr
    assert "7 input line(s) skipped: line 2: not valid JSON" in err
    assert "line 9: duplicate id 'a'" in err


@pytest.mark.e2e
def test_cli_batch_strict_writes_nothing(seed_index_dir: Path, tmp_path: Path, shared_model, capsys) -> None:
    qfile = _write(tmp_path, "q.csv", CSV)
    out = tmp_path / "answers.csv"
    code = main(["batch", str(qfile), "--index", str(seed_index_dir), "--out", str(out), "--strict"])
    assert code == 1
    assert not out.exists() and not list(tmp_path.glob("*.partial"))
    assert "line 3: expected 2 fields, found 3" in capsys.readouterr().err


@pytest.mark.e2e
def test_cli_batch_with_only_bad_lines_fails(seed_index_dir: Path, tmp_path: Path, shared_model) -> None:
    qfile = _write(tmp_path, "q.txt", "   \n" + "z" * (MAX_QUESTION_CHARS + 5) + "\n")
    assert main(["batch", str(qfile), "--index", str(seed_index_dir)]) == 1


@pytest.mark.e2e
def test_cli_max_question_chars(seed_index_dir: Path, tmp_path: Path, shared_model, capsys) -> None:
    qfile = _write(tmp_path, "q.txt", "Who was nominated prime minister?\n" + "w " * 40 + "\n")
    out = tmp_path / "a.jsonl"
    args = ["batch", str(qfile), "--index", str(seed_index_dir), "--out", str(out), "-k", "1"]
    assert main([*args, "--max-question-chars", "50"]) == 0
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["q1"]
    assert "line 2: the question is 79 characters, over the limit of 50" in capsys.readouterr().err
    assert main(args) == 0
    assert len(out.read_text().splitlines()) == 2
