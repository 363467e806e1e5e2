"""Old import path of `qa.evaluation.questions`: remove once cli.py imports the new one."""

from __future__ import annotations

from qa.evaluation.questions import read_question_set

__all__ = ["read_question_set"]
