"""Evaluation: question sets, metrics, BEIR splits, reports, and the one per-configuration loop.

Modules: `questions` (question sets and quotes), `metrics` (ranx and the rates),
`beir` (BEIR folders), `runner` (the loop), `report` (table, JSON, failures, plot, HTML).
The names other modules use are re-exported here.
"""

from __future__ import annotations

from qa.evaluation.questions import ExpectedAnswer, Question, read_question_set, validate_quotes
from qa.evaluation.runner import (
    CONFIGURATIONS,
    RELEVANCE_RULE,
    Configuration,
    ConfigurationResult,
    EvaluationReport,
    QuestionResult,
    Retrieved,
    build_qrels,
    configure,
    evaluate,
    evaluate_beir,
    is_relevant,
    parse_configurations,
    register_configuration,
)

__all__ = [
    "CONFIGURATIONS",
    "RELEVANCE_RULE",
    "Configuration",
    "ConfigurationResult",
    "EvaluationReport",
    "ExpectedAnswer",
    "Question",
    "QuestionResult",
    "Retrieved",
    "build_qrels",
    "configure",
    "evaluate",
    "evaluate_beir",
    "is_relevant",
    "parse_configurations",
    "read_question_set",
    "register_configuration",
    "validate_quotes",
]
