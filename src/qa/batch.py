"""Batch questions in (JSONL, CSV, TXT) and answers out (JSONL, CSV, TREC run)."""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import IO

from qa.errors import InputError
from qa.evaluation.questions import Question
from qa.records import BadLine, Record, csv_records, jsonl_records, read_text, text_records
from qa.retrieval.filters import Filter, merge_filters
from qa.types import Answer, Document

__all__ = [
    "MAX_QUESTION_CHARS",
    "BatchQuestion",
    "OutputFormat",
    "Question",
    "BadLine",
    "question_filters",
    "read_questions",
    "write_answers",
]

logger = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 2000
# A question's history may be as long as this many questions.
MAX_HISTORY = 10


class OutputFormat(str, Enum):
    """Batch output formats."""

    JSONL = "jsonl"
    CSV = "csv"
    TREC = "trec"


@dataclass(frozen=True)
class BatchQuestion(Question):
    """A batch question, with the filter its JSONL line asked for (None: the run's filter)."""

    filters: Filter | None = None


def _question(
    qid: str, text: object, line: int, max_chars: int, history: object = None, filters: object = None
) -> BatchQuestion | BadLine:
    """The question on `line`, or why it cannot be asked (not a string, empty, too long, bad history or filter)."""
    if not isinstance(text, str):
        return BadLine(line, f"'question' must be a string, got {type(text).__name__}")
    text = text.strip()
    if not text:
        return BadLine(line, "the question is empty")
    if len(text) > max_chars:
        return BadLine(line, f"the question is {len(text)} characters, over the limit of {max_chars}")
    try:
        flt = Filter.from_dict(filters) if filters is not None else None
    except InputError as exc:
        return BadLine(line, str(exc))
    if history is None:
        return BatchQuestion(qid, text, line=line, filters=flt or None)
    if not isinstance(history, list) or not all(isinstance(h, str) for h in history):
        return BadLine(
            line,
            '\'history\' must be a list of earlier questions, e.g. "history": ["How many died in April?"]',
        )
    if sum(len(h) for h in history) > max_chars * MAX_HISTORY:
        return BadLine(line, f"the history is longer than {MAX_HISTORY} questions of {max_chars} characters")
    return BatchQuestion(
        qid, text, line=line, history=tuple(h.strip() for h in history if h.strip()), filters=flt or None
    )


def _jsonl(records: Iterable[Record], max_chars: int) -> Iterator[Question | BadLine]:
    for record in records:
        n, obj = record.line, record.value
        if record.error is not None:
            yield BadLine(n, f"not valid JSON ({record.error} at column {record.column})")
        elif not isinstance(obj, dict) or "question" not in obj:
            yield BadLine(
                n, 'expected an object with a "question" field, e.g. {"id": "q1", "question": "..."}'
            )
        else:
            qid = obj.get("id", obj.get("qid"))
            yield _question(
                f"q{n}" if qid is None or str(qid).strip() == "" else str(qid),
                obj["question"],
                n,
                max_chars,
                obj.get("history"),
                obj.get("filters"),
            )


def _csv(records: Iterator[Record], max_chars: int) -> Iterator[Question | BadLine]:
    first = next(records, None)
    if first is None:
        return
    if first.error is not None:
        yield BadLine(1, f"malformed CSV header ({first.error})")
        return
    header = [h.strip().lower() for h in first.value]
    if "question" not in header:
        yield BadLine(1, f"the CSV header must have a 'question' column (and optionally 'id'); got {header}")
        return
    qcol, icol = header.index("question"), header.index("id") if "id" in header else None
    for record in records:
        n, row = record.line, record.value
        if record.error is not None:
            hint = "; a quote opened here is never closed" if "end of data" in record.error else ""
            yield BadLine(n, f"malformed CSV ({record.error}{hint})")
        elif not any(c.strip() for c in row):
            continue
        elif len(row) != len(header):
            yield BadLine(n, f"expected {len(header)} fields, found {len(row)}")
        else:
            qid = row[icol].strip() if icol is not None and row[icol].strip() else f"q{n}"
            yield _question(qid, row[qcol], n, max_chars)


def _txt(records: Iterable[Record], max_chars: int) -> Iterator[Question | BadLine]:
    for record in records:
        yield _question(f"q{record.line}", record.value, record.line, max_chars)


def read_questions(
    path: Path | str,
    *,
    strict: bool = False,
    max_chars: int = MAX_QUESTION_CHARS,
    stream: IO[str] | None = None,
) -> tuple[list[Question], list[BadLine]]:
    """Read questions from `.jsonl`, `.csv` or `.txt` (one question per line).

    Returns the good questions and the bad lines. With `strict`, the first bad line
    raises InputError naming its line number instead. A JSONL line may carry
    `"filters": {"doc": [...], "under": [...], "type": [...], "title": "..."}`.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    text = read_text(path, what="question file") if stream is None else stream.read()
    # Spreadsheet programs start UTF-8 files with a byte-order mark; it is not part of the header.
    text = text.removeprefix("\ufeff")
    if suffix in (".jsonl", ".json", ".ndjson"):
        items = _jsonl(jsonl_records(text.splitlines()), max_chars)
    elif suffix == ".csv":
        # strict: a stray quote is an error with a line number, not a silently merged row.
        items = _csv(csv_records(text, strict=True), max_chars)
    elif suffix in (".txt", ".text", ""):
        items = _txt(text_records(text.splitlines()), max_chars)
    else:
        raise InputError(f"unknown question file type {suffix!r}; use .jsonl, .csv or .txt")
    good: list[Question] = []
    bad: list[BadLine] = []
    seen: set[str] = set()
    for item in items:
        if isinstance(item, Question) and item.qid in seen:
            item = BadLine(item.line, f"duplicate id {item.qid!r}")
        if isinstance(item, BadLine):
            if strict:
                raise InputError(f"{path}: {item}")
            logger.warning("%s: %s", path, item)
            bad.append(item)
        else:
            seen.add(item.qid)
            good.append(item)
    return good, bad


def question_filters(
    questions: Iterable[Question],
    documents: Mapping[str, Document],
    *,
    base: Filter | None = None,
    strict: bool = False,
    path: Path | str = "<questions>",
) -> tuple[list[Question], list[Filter | None], list[BadLine]]:
    """Each question's filter (its line's fields over `base`), checked against the indexed `documents`.

    A question whose filter names an unknown document or folder becomes a BadLine (with
    `strict`, InputError); returns the questions kept, their filters and the bad lines.
    A bad `base` (the command line's filter) raises InputError: it concerns every line.
    """
    if base:
        base.check(documents)
    kept: list[Question] = []
    filters: list[Filter | None] = []
    bad: list[BadLine] = []
    for q in questions:
        own = q.filters if isinstance(q, BatchQuestion) else None
        flt = merge_filters(base, own)
        try:
            if flt is not None:
                flt.check(documents)
        except InputError as exc:
            if strict:
                raise InputError(f"{path}: line {q.line}: {exc}") from None
            logger.warning("%s: line %d: %s", path, q.line, exc)
            bad.append(BadLine(q.line, str(exc)))
            continue
        kept.append(q)
        filters.append(flt)
    return kept, filters, bad


CSV_COLUMNS = [
    "id",
    "question",
    "answered",
    "rank",
    "passage_id",
    "doc",
    "title",
    "start",
    "end",
    "score",
    "citation",
    "text",
]


def write_answers(
    answers: Iterable[Answer], out: IO[str], fmt: str | OutputFormat, *, run_tag: str = "qa"
) -> int:
    """Write answers in one format; returns the number of answers written.

    - jsonl: one object per question (see README for the schema)
    - csv: one row per passage (a question with no passage gets one empty row)
    - trec: `qid Q0 passage_id rank score run_tag`, one line per passage
    """
    fmt = OutputFormat(fmt)
    n = 0
    writer = csv.writer(out) if fmt is OutputFormat.CSV else None
    if writer is not None:
        writer.writerow(CSV_COLUMNS)
    for answer in answers:
        n += 1
        if fmt is OutputFormat.JSONL:
            out.write(json.dumps(answer.to_dict(), ensure_ascii=False) + "\n")
        elif writer is not None:  # CSV
            if not answer.hits:
                writer.writerow([answer.qid, answer.question, answer.answered] + [""] * 9)
            for hit in answer.hits:
                d = hit.to_dict()
                writer.writerow(
                    [
                        answer.qid,
                        answer.question,
                        answer.answered,
                        d["rank"],
                        d["passage_id"],
                        d["doc"],
                        d["title"],
                        d["start"],
                        d["end"],
                        d["score"],
                        d["citation"],
                        d["text"],
                    ]
                )
        else:
            for hit in answer.hits:
                # TREC columns are space-separated, so spaces in ids are escaped.
                qid = str(answer.qid).replace(" ", "%20")
                pid = hit.passage_id.replace(" ", "%20")
                out.write(f"{qid} Q0 {pid} {hit.rank} {hit.score:.6f} {run_tag}\n")
    return n
