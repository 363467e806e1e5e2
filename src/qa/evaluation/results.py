"""Evaluation results: per question, per configuration, and the whole report (its JSON form)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from qa import __version__
from qa.evaluation.configurations import Configuration
from qa.evaluation.relevance import RELEVANCE_RULE
from qa.timestamps import utc_now

__all__ = ["ConfigurationResult", "EvaluationReport", "QuestionResult", "Retrieved"]


@dataclass(frozen=True)
class Retrieved:
    """One retrieved item as shown in a failure list (a passage, or a BEIR document)."""

    rank: int
    item_id: str
    doc: str
    text: str
    score: float
    relevant: bool
    start: int | None = None
    end: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rank": self.rank,
            "id": self.item_id,
            "doc": self.doc,
            "score": round(self.score, 6),
            "relevant": self.relevant,
            "text": self.text,
        }
        if self.start is not None:
            out["start"], out["end"] = self.start, self.end
        return out


@dataclass(frozen=True)
class QuestionResult:
    """How one configuration did on one question."""

    qid: str
    question: str
    answerable: bool
    answered: bool
    latency_ms: float
    first_relevant_rank: int | None
    expected: tuple[dict[str, Any], ...]
    retrieved: tuple[Retrieved, ...]

    def failure(self, k: int) -> str | None:
        """Why this question failed at cut-off k, or None if it passed."""
        if not self.answerable:
            return "not abstained" if self.answered else None
        if not self.answered:
            return "false abstention"
        if self.first_relevant_rank is None or self.first_relevant_rank > k:
            return f"no relevant passage in the top {k}"
        return None

    def to_dict(self, *, with_retrieved: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.qid,
            "question": self.question,
            "answerable": self.answerable,
            "answered": self.answered,
            "first_relevant_rank": self.first_relevant_rank,
            "latency_ms": round(self.latency_ms, 3),
        }
        if with_retrieved:
            out["expected"] = list(self.expected)
            out["retrieved"] = [r.to_dict() for r in self.retrieved]
        return out


@dataclass(frozen=True)
class ConfigurationResult:
    """Metrics and per-question results of one configuration."""

    configuration: Configuration
    metrics: dict[str, float | None]
    questions: tuple[QuestionResult, ...]

    @property
    def name(self) -> str:
        return self.configuration.name

    def failures(self, k: int) -> list[tuple[QuestionResult, str]]:
        return [(r, why) for r in self.questions if (why := r.failure(k)) is not None]


@dataclass(frozen=True)
class EvaluationReport:
    """The outcome of evaluating one question set (or BEIR split) under several configurations."""

    kind: str  # "questions" or "beir"
    source: str
    level: str  # "passage" or "document"
    k: int
    depth: int
    index: dict[str, Any]
    counts: dict[str, int]
    results: tuple[ConfigurationResult, ...]
    created_at: str = field(default_factory=utc_now)

    def metrics(self) -> dict[str, dict[str, float | None]]:
        return {r.name: dict(r.metrics) for r in self.results}

    def to_dict(self) -> dict[str, Any]:
        """The JSON report: metrics per configuration (ranx-style keys), failures, per-question rows."""
        return {
            "qa_version": __version__,
            "created_at": self.created_at,
            "kind": self.kind,
            "source": self.source,
            "level": self.level,
            "relevance": RELEVANCE_RULE if self.kind == "questions" else "BEIR qrels (document level)",
            "k": self.k,
            "depth": self.depth,
            "index": self.index,
            "counts": self.counts,
            "metrics": {r.name: _rounded(r.metrics) for r in self.results},
            "configurations": {
                r.name: {
                    "options": dict(r.configuration.options),
                    "metrics": _rounded(r.metrics),
                    "failures": [
                        {"why": why, **q.to_dict(with_retrieved=True)} for q, why in r.failures(self.k)
                    ],
                    "questions": [q.to_dict() for q in r.questions],
                }
                for r in self.results
            },
        }


def _rounded(metrics: Mapping[str, float | None]) -> dict[str, float | None]:
    return {m: (None if v is None else round(float(v), 6)) for m, v in metrics.items()}
