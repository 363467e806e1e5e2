"""Old import path of `qa.evaluation.questions`: remove once cli.py imports the new one."""

from __future__ import annotations

from qa.evaluation.questions import (
    CSV_COLUMNS,
    ExpectedAnswer,
    Question,
    find_quote,
    parse_question_set,
    read_question_set,
    validate_quotes,
)

__all__ = [
    "CSV_COLUMNS",
    "ExpectedAnswer",
    "Question",
    "find_quote",
    "parse_question_set",
    "read_question_set",
    "validate_quotes",
]
