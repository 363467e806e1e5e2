"""Evaluation: question sets, metrics, BEIR splits, reports, and the one per-configuration loop.

Modules: `questions` (question sets and quotes), `relevance` (the rule and qrels),
`metrics` (ranx and the rates), `beir` (BEIR folders), `configurations` (what `--compare`
names), `runner` (the loop), `results` (what it returns), `report` (table, JSON,
failures, plot, HTML).
The names other modules use are re-exported here.
"""

from __future__ import annotations

from qa.evaluation.configurations import (
    CONFIGURATIONS,
    Configuration,
    configure,
    parse_configurations,
    register_configuration,
)
from qa.evaluation.questions import ExpectedAnswer, Question, read_question_set, validate_quotes
from qa.evaluation.relevance import RELEVANCE_RULE, build_qrels, is_relevant
from qa.evaluation.results import ConfigurationResult, EvaluationReport, QuestionResult, Retrieved
from qa.evaluation.runner import evaluate, evaluate_beir

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
