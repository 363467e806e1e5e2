"""Questions and question sets: read JSONL or CSV, and locate each expected quote in its document.

JSONL (the project's format), one question per line::

    {"id": "q1", "question": "...", "answers": [{"doc": "a.txt", "quote": "exact text"}]}
    {"id": "q2", "question": "...", "answers": []}          # unanswerable: tests abstention

CSV with the header `id,question,doc,quote`: one row per expected quote (repeat the id
for several quotes); a row with empty `doc` and `quote` is an unanswerable question.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from qa.errors import InputError
from qa.records import csv_records, jsonl_records, read_text
from qa.types import Document

__all__ = [
    "CSV_COLUMNS",
    "ExpectedAnswer",
    "Question",
    "find_quote",
    "parse_question_set",
    "read_question_set",
    "validate_quotes",
]

logger = logging.getLogger(__name__)

CSV_COLUMNS = ("id", "question", "doc", "quote")


@dataclass(frozen=True)
class ExpectedAnswer:
    """A quote that answers a question, and where it occurs in its document.

    `spans` holds the `[start, end)` character ranges of every occurrence of the quote
    in the document; it is empty until `validate_quotes` locates it.
    """

    doc: str
    quote: str
    spans: tuple[tuple[int, int], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"doc": self.doc, "quote": self.quote, "spans": [list(s) for s in self.spans]}


@dataclass(frozen=True)
class Question:
    """A question read from a file, with the line it starts on.

    In a question set, no expected answers means it is unanswerable from the corpus;
    batch input (`qa.batch`) carries no expected answers at all. The line is where the
    question came from, not part of what it is: it takes no part in equality.
    """

    qid: str
    question: str
    answers: tuple[ExpectedAnswer, ...] = field(default_factory=tuple)
    line: int = field(default=0, compare=False)
    # Batch input only: the conversation's earlier questions, oldest first (None: not given).
    history: tuple[str, ...] | None = None

    @property
    def answerable(self) -> bool:
        return bool(self.answers)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.qid, "question": self.question, "answers": [a.to_dict() for a in self.answers]}


# -- reading -----------------------------------------------------------------------


def _question_from_json(row: Any, where: str, line: int) -> Question:
    if not isinstance(row, dict):
        raise InputError(f"{where}: expected a JSON object with 'id', 'question' and 'answers'")
    qid, text, answers = row.get("id"), row.get("question"), row.get("answers")
    if qid is None or str(qid).strip() == "":
        raise InputError(f"{where}: missing 'id'; give every question a unique id")
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"{where}: question {qid!r} has no 'question' text")
    if answers is None:
        raise InputError(
            f"{where}: question {qid!r} has no 'answers' field; use [] for an unanswerable question"
        )
    if not isinstance(answers, list):
        raise InputError(f"{where}: question {qid!r}: 'answers' must be a list of {{doc, quote}} objects")
    expected = []
    for a in answers:
        if not isinstance(a, dict) or not a.get("doc") or not a.get("quote"):
            raise InputError(f"{where}: question {qid!r}: each answer needs a non-empty 'doc' and 'quote'")
        expected.append(ExpectedAnswer(doc=str(a["doc"]), quote=str(a["quote"])))
    return Question(qid=str(qid), question=text.strip(), answers=tuple(expected), line=line)


def _parse_jsonl(text: str, name: str) -> list[Question]:
    questions = []
    for record in jsonl_records(text.splitlines()):
        where = f"{name}:{record.line}"
        if record.error is not None:
            raise InputError(f"{where}: invalid JSON ({record.error}); one JSON object per line")
        questions.append(_question_from_json(record.value, where, record.line))
    return questions


def _parse_csv(text: str, name: str) -> list[Question]:
    records = csv_records(text)
    first = next(records, None)
    if first is not None and first.error is not None:
        raise InputError(f"{name}:{first.line}: malformed CSV header ({first.error})")
    header = [h.strip().lower() for h in (first.value if first is not None else [])]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise InputError(f"{name}: CSV header lacks {missing}; expected the columns {','.join(CSV_COLUMNS)}")
    texts: dict[str, str] = {}
    lines: dict[str, int] = {}
    answers: dict[str, list[ExpectedAnswer]] = {}
    for record in records:
        where = f"{name}:{record.line}"
        if record.error is not None:
            raise InputError(f"{where}: malformed CSV ({record.error})")
        if not record.value:  # a blank line
            continue
        # Missing cells read as empty; extra cells are ignored.
        row = dict(zip(header, record.value))
        qid = (row.get("id") or "").strip()
        text = (row.get("question") or "").strip()
        doc = (row.get("doc") or "").strip()
        quote = row.get("quote") or ""
        if not qid:
            raise InputError(f"{where}: empty id; give every question a unique id")
        if qid in texts and text and text != texts[qid]:
            raise InputError(f"{where}: id {qid!r} is used by two different questions; ids must be unique")
        if not text and qid not in texts:
            raise InputError(f"{where}: question {qid!r} has no question text")
        texts.setdefault(qid, text)
        lines.setdefault(qid, record.line)
        answers.setdefault(qid, [])
        if bool(doc) != bool(quote.strip()):
            raise InputError(
                f"{where}: question {qid!r} has a doc without a quote or a quote without a doc; "
                "give both, or leave both empty for an unanswerable question"
            )
        if doc:
            answers[qid].append(ExpectedAnswer(doc=doc, quote=quote))
    return [Question(qid=q, question=texts[q], answers=tuple(answers[q]), line=lines[q]) for q in texts]


def parse_question_set(text: str, *, fmt: str, name: str = "<questions>") -> list[Question]:
    """Parse a question set held in a string; `fmt` is `jsonl` or `csv`.

    Raises InputError (naming the line) on a malformed row or a duplicate id.
    """
    fmt = fmt.lower().lstrip(".")
    if fmt in ("jsonl", "json", "ndjson"):
        questions = _parse_jsonl(text, name)
    elif fmt == "csv":
        questions = _parse_csv(text, name)
    else:
        raise InputError(f"unknown question-set format {fmt!r}; use a .jsonl or .csv file")
    seen: set[str] = set()
    for q in questions:
        if q.qid in seen:
            raise InputError(f"{name}: duplicate question id {q.qid!r}; ids must be unique")
        seen.add(q.qid)
    if not questions:
        raise InputError(f"{name}: no questions found")
    return questions


def read_question_set(path: Path | str) -> list[Question]:
    """Read a `.jsonl` or `.csv` question set (the format comes from the suffix)."""
    path = Path(path)
    text = read_text(path, what="question set")
    return parse_question_set(text, fmt=path.suffix or "jsonl", name=path.name)


# -- quote validation --------------------------------------------------------------


def find_quote(text: str, quote: str) -> tuple[tuple[int, int], ...]:
    """Every `[start, end)` range where `quote` occurs in `text`.

    An exact match is tried first; failing that, runs of whitespace in the quote match
    any whitespace run in the text (a quote copied across a line break still counts).
    """
    quote = quote.strip()
    if not quote:
        return ()
    spans = []
    i = text.find(quote)
    while i >= 0:
        spans.append((i, i + len(quote)))
        i = text.find(quote, i + 1)
    if spans:
        return tuple(spans)
    pattern = r"\s+".join(re.escape(w) for w in quote.split())
    return tuple((m.start(), m.end()) for m in re.finditer(pattern, text))


def validate_quotes(
    questions: list[Question], documents: Mapping[str, Document], *, lenient: bool = False
) -> list[Question]:
    """Locate every expected quote in its indexed document.

    Returns the questions with `ExpectedAnswer.spans` filled in. A quote that is not
    found, or whose document is not in the index, raises InputError naming the
    question id and the document; with `lenient`, that answer is dropped with a
    warning, and a question left without any answer is dropped too (it must not turn
    into an "unanswerable" one).
    """
    out: list[Question] = []
    for q in questions:
        located: list[ExpectedAnswer] = []
        for a in q.answers:
            doc = documents.get(a.doc)
            if doc is None:
                problem = (
                    f"question {q.qid}: document {a.doc!r} is not in the index; "
                    "fix the 'doc' field or index that document"
                )
            else:
                spans = find_quote(doc.text, a.quote)
                if spans:
                    located.append(replace(a, spans=spans))
                    continue
                problem = (
                    f"question {q.qid}: quote {a.quote[:60]!r} is not in document {a.doc!r}; "
                    "copy the quote exactly from the document"
                )
            if not lenient:
                raise InputError(problem + " (or pass --lenient to skip it)")
            logger.warning("%s; skipped", problem)
        if q.answers and not located:
            logger.warning("question %s: none of its quotes was found; question skipped", q.qid)
            continue
        out.append(replace(q, answers=tuple(located)))
    return out
