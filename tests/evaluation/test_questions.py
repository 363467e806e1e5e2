"""Question sets: JSONL and CSV reading, and quote validation against the indexed text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.errors import InputError
from qa.evaluation.questions import find_quote, parse_question_set, read_question_set, validate_quotes
from qa.types import Document

ROOT = Path(__file__).resolve().parents[2]
DOCS = {
    "a.txt": Document(
        doc_id="a.txt",
        title="A",
        text="Cats sleep a lot.\n\nThe cat purrs when\ncontent. Cats purr.",
        sha256="x",
    ),
    "b.txt": Document(doc_id="b.txt", title="B", text="Bread rises as yeast ferments.", sha256="y"),
}


def _jsonl(tmp_path: Path, rows: list[dict]) -> Path:
    path = tmp_path / "qs.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_jsonl_reads_answerable_and_unanswerable(tmp_path: Path) -> None:
    path = _jsonl(
        tmp_path,
        [
            {
                "id": "q1",
                "question": "Why does dough rise?",
                "answers": [{"doc": "b.txt", "quote": "yeast ferments"}],
            },
            {"id": "q2", "question": "Who won the 1930 World Cup?", "answers": []},
        ],
    )
    qs = read_question_set(path)
    assert [q.qid for q in qs] == ["q1", "q2"]
    assert qs[0].answerable and qs[0].answers[0].doc == "b.txt"
    assert not qs[1].answerable


def test_csv_groups_quotes_by_id_and_empty_doc_is_unanswerable(tmp_path: Path) -> None:
    path = tmp_path / "qs.csv"
    path.write_text(
        "id,question,doc,quote\n"
        'q1,"Do cats purr?",a.txt,"Cats purr."\n'
        "q1,,a.txt,The cat purrs\n"
        "q2,What is the capital of Peru?,,\n",
        encoding="utf-8",
    )
    qs = read_question_set(path)
    assert [q.qid for q in qs] == ["q1", "q2"]
    assert [a.quote for a in qs[0].answers] == ["Cats purr.", "The cat purrs"]
    assert qs[0].question == "Do cats purr?"
    assert not qs[1].answerable


def test_csv_and_jsonl_parse_to_the_same_questions() -> None:
    jsonl = '{"id": "q1", "question": "Q?", "answers": [{"doc": "b.txt", "quote": "yeast"}]}\n'
    csv_text = "id,question,doc,quote\nq1,Q?,b.txt,yeast\n"
    assert parse_question_set(jsonl, fmt="jsonl") == parse_question_set(csv_text, fmt="csv")


@pytest.mark.parametrize(
    ("text", "fmt", "message"),
    [
        ('{"id": "q1", "question": "Q?"}\n', "jsonl", "no 'answers' field"),
        ('{"question": "Q?", "answers": []}\n', "jsonl", "missing 'id'"),
        ("not json\n", "jsonl", ":1: invalid JSON"),
        (
            '{"id": "q1", "question": "Q", "answers": []}\n{"id": "q1", "question": "R", "answers": []}\n',
            "jsonl",
            "duplicate question id 'q1'",
        ),
        ("id,question,doc\nq1,Q,a.txt\n", "csv", "CSV header lacks ['quote']"),
        ("id,question,doc,quote\nq1,Q,a.txt,\n", "csv", "doc without a quote"),
        ("id,question,doc,quote\nq1,Q,,\nq1,Other,,\n", "csv", "two different questions"),
        ("", "jsonl", "no questions found"),
        ("x", "xml", "unknown question-set format"),
    ],
)
def test_malformed_sets_raise_input_error(text: str, fmt: str, message: str) -> None:
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_question_set(text, fmt=fmt, name="qs")


def test_find_quote_exact_all_occurrences_and_across_line_breaks() -> None:
    text = DOCS["a.txt"].text
    assert find_quote(text, "Cats") == ((0, 4), (text.index("Cats purr"), text.index("Cats purr") + 4))
    # The document wraps "when\ncontent"; a quote written with a space still matches.
    (span,) = find_quote(text, "purrs when content")
    assert text[span[0] : span[1]] == "purrs when\ncontent"
    assert find_quote(text, "dogs bark") == ()


def test_validate_quotes_locates_spans() -> None:
    qs = parse_question_set(
        '{"id": "q1", "question": "Q?", "answers": [{"doc": "b.txt", "quote": "yeast ferments"}]}\n',
        fmt="jsonl",
    )
    (q,) = validate_quotes(qs, DOCS)
    (span,) = q.answers[0].spans
    assert DOCS["b.txt"].text[span[0] : span[1]] == "yeast ferments"


def test_missing_quote_error_names_question_and_document() -> None:
    qs = parse_question_set(
        '{"id": "q7", "question": "Q?", "answers": [{"doc": "b.txt", "quote": "sourdough starter"}]}\n',
        fmt="jsonl",
    )
    with pytest.raises(
        InputError, match=r"question q7: quote 'sourdough starter' is not in document 'b.txt'"
    ):
        validate_quotes(qs, DOCS)


def test_unknown_document_error_names_question_and_document() -> None:
    qs = parse_question_set(
        '{"id": "q8", "question": "Q?", "answers": [{"doc": "nope.txt", "quote": "x"}]}\n', fmt="jsonl"
    )
    with pytest.raises(InputError, match=r"question q8: document 'nope.txt' is not in the index"):
        validate_quotes(qs, DOCS)


def test_lenient_drops_bad_quotes_and_never_makes_a_question_unanswerable() -> None:
    qs = parse_question_set(
        '{"id": "q1", "question": "Q?", "answers": [{"doc": "b.txt", "quote": "yeast"}, {"doc": "b.txt", "quote": "nope"}]}\n'
        '{"id": "q2", "question": "R?", "answers": [{"doc": "b.txt", "quote": "nope"}]}\n'
        '{"id": "q3", "question": "S?", "answers": []}\n',
        fmt="jsonl",
    )
    out = validate_quotes(qs, DOCS, lenient=True)
    assert [q.qid for q in out] == ["q1", "q3"]
    assert [a.quote for a in out[0].answers] == ["yeast"]
    assert not out[1].answerable


def test_seed_question_set_is_well_formed_and_every_quote_is_in_the_seeds() -> None:
    from qa.ingest import scan_corpus

    qs = read_question_set(ROOT / "eval" / "seed_questions.jsonl")
    docs = {d.doc_id: d for d in scan_corpus(ROOT / "seeds").documents}
    located = validate_quotes(qs, docs)
    assert len(located) == len(qs) >= 60
    assert sum(not q.answerable for q in located) >= 8
    assert all(a.spans for q in located for a in q.answers)
