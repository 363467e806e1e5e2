"""The evaluation loop: a question set or a BEIR split through a Retriever, once per configuration.

Relevance rule (question sets): a passage is relevant to a question when it comes from
the document of one of the question's expected quotes and its `[start, end)` range
covers at least half of that quote's characters (any occurrence of the quote counts).
The qrels are built at passage level from this rule: `{qid: {passage_id: 1}}`.

BEIR splits are scored at document level: a document's score is the best score of its
passages, and BEIR's own qrels judge the documents.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from qa import __version__
from qa.errors import ConfigError, InputError
from qa.evaluation.metrics import (
    RANKING_METRICS,
    abstention_rate,
    citation_exactness,
    false_abstention_rate,
    latency_percentiles,
    ranking_metrics,
)
from qa.evaluation.questions import ExpectedAnswer, Question, validate_quotes
from qa.retrieval import Retriever
from qa.timestamps import utc_now
from qa.types import Answer, Hit, Passage

if TYPE_CHECKING:
    from qa.evaluation.beir import BeirSet

__all__ = [
    "CONFIGURATIONS",
    "RELEVANCE_RULE",
    "Case",
    "Configuration",
    "ConfigurationResult",
    "EvaluationReport",
    "QuestionResult",
    "Retrieved",
    "build_qrels",
    "configure",
    "document_items",
    "evaluate",
    "evaluate_beir",
    "is_relevant",
    "parse_configurations",
    "passage_items",
    "register_configuration",
]

logger = logging.getLogger(__name__)

RELEVANCE_RULE = (
    "a passage is relevant when it comes from the quote's document and its [start, end) "
    "covers at least half of the quote's characters"
)

# Configuration name -> keyword arguments for `Retriever(index, **kwargs)`. Variants
# (rerankers, abstention thresholds) register themselves with `register_configuration`.
CONFIGURATIONS: dict[str, dict[str, Any]] = {
    "dense": {"mode": "dense"},
    "bm25": {"mode": "bm25"},
    "hybrid": {"mode": "hybrid"},  # the product default: reranked when the index has sentence vectors
    "hybrid-rrf": {"mode": "hybrid", "rerank": False},  # plain reciprocal rank fusion
}

# Passage text kept per retrieved item in failure lists (the report stays readable).
SNIPPET_CHARS = 400
# Retrieved items shown per failing question.
FAILURE_ITEMS = 3


@dataclass(frozen=True)
class Configuration:
    """A named retrieval configuration: keyword arguments for the Retriever."""

    name: str
    options: Mapping[str, Any] = field(default_factory=dict)


def register_configuration(name: str, **retriever_kwargs: Any) -> None:
    """Make `name` available to `--compare`, as `Retriever(index, **retriever_kwargs)`."""
    if not name or "," in name:
        raise ConfigError(f"configuration name {name!r} must be non-empty and without commas")
    CONFIGURATIONS[name] = dict(retriever_kwargs)


def parse_configurations(names: str | Sequence[str]) -> list[Configuration]:
    """`"dense,bm25"` (or a list of names) -> Configurations, in order, without duplicates."""
    if isinstance(names, str):
        names = names.split(",")
    out: list[Configuration] = []
    for raw in names:
        name = raw.strip().lower()
        if not name or any(c.name == name for c in out):
            continue
        if name not in CONFIGURATIONS:
            raise ConfigError(f"unknown configuration {name!r}; choose among {sorted(CONFIGURATIONS)}")
        out.append(Configuration(name, dict(CONFIGURATIONS[name])))
    if not out:
        raise ConfigError(f"no configuration given; choose among {sorted(CONFIGURATIONS)}")
    return out


def configure(base: Retriever, config: Configuration) -> Retriever:
    """A Retriever over `base`'s index and model, with `config`'s options."""
    # The abstention threshold (possibly calibrated for this index) carries over.
    options = {
        "k": base.k,
        "depth": base.depth,
        "rrf_k": base.rrf_k,
        "threshold": base.threshold,
        **config.options,
    }
    try:
        return Retriever(base.index, embedder=base.embedder, **options)
    except TypeError as exc:
        raise ConfigError(f"configuration {config.name!r} has an unknown option: {exc}") from None


# -- relevance ---------------------------------------------------------------------


def is_relevant(passage: Passage, answer: ExpectedAnswer) -> bool:
    """True if `passage` is from `answer.doc` and covers at least half of one quote occurrence."""
    if passage.doc_id != answer.doc:
        return False
    for start, end in answer.spans:
        covered = min(passage.end, end) - max(passage.start, start)
        if 2 * covered >= end - start > 0:
            return True
    return False


def build_qrels(questions: Sequence[Question], passages: Sequence[Passage]) -> dict[str, dict[str, int]]:
    """Passage-level qrels `{qid: {passage_id: 1}}` for the answerable questions.

    Quotes must be located first (`validate_quotes`). A quote that no single passage
    covers by half (it spans several passages) is logged: its question may be unfindable.
    """
    by_doc: dict[str, list[Passage]] = {}
    for p in passages:
        by_doc.setdefault(p.doc_id, []).append(p)
    qrels: dict[str, dict[str, int]] = {}
    for q in questions:
        if not q.answerable:
            continue
        rels: dict[str, int] = {}
        for a in q.answers:
            found = [p.passage_id for p in by_doc.get(a.doc, ()) if is_relevant(p, a)]
            if not found:
                logger.warning(
                    "question %s: no single passage covers half of the quote %r; it cannot be found",
                    q.qid,
                    a.quote[:60],
                )
            rels.update({pid: 1 for pid in found})
        qrels[q.qid] = rels
    return qrels


# -- results -----------------------------------------------------------------------


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


def _index_info(retriever: Retriever) -> dict[str, Any]:
    m = retriever.index.manifest
    return {
        "path": str(retriever.index.path),
        "model": m.get("model", {}).get("name"),
        "settings": m.get("settings"),
        "documents": m.get("counts", {}).get("documents"),
        "passages": m.get("counts", {}).get("passages"),
    }


def _rank_scores(ids: Sequence[str]) -> dict[str, float]:
    # Strictly decreasing scores so ranx ranks exactly as the retriever did.
    return {item: float(len(ids) - i) for i, item in enumerate(ids)}


def _timed_answers(
    retriever: Retriever,
    questions: Sequence[str],
    *,
    k: int,
    depth: int,
    progress: Callable[[int, int], None] | None,
) -> list[tuple[Answer, list[Hit], float]]:
    """Per question: the Answer a user gets (top k), the ranking (top depth), the latency.

    The latency is that of `ask(question, k=k)`, the call users make; the deeper
    ranking for the metrics comes from a separate, untimed `search`, so that
    highlighting (which `ask` does) is not paid for `depth` passages.
    """
    # Warm up (lazy model load, first-call allocations) outside the measured latencies.
    if questions:
        retriever.ask(questions[0], k=k, highlight=False)
    out = []
    for i, text in enumerate(questions):
        t0 = time.perf_counter()
        answer = retriever.ask(text, k=k, highlight=False)
        ms = (time.perf_counter() - t0) * 1000
        ranking = retriever.search(text, k=depth)
        out.append((answer, ranking, ms))
        if progress is not None:
            progress(i + 1, len(questions))
    return out


def _first_relevant(ids: Sequence[str], relevant: Mapping[str, int]) -> int | None:
    for rank, item in enumerate(ids, start=1):
        if relevant.get(item, 0) > 0:
            return rank
    return None


def _configurations(configurations: Sequence[Configuration] | str, k: int) -> list[Configuration]:
    if k < 1:
        raise ConfigError(f"k={k} must be at least 1")
    if isinstance(configurations, str):
        return parse_configurations(configurations)
    return list(configurations)


@dataclass(frozen=True)
class Case:
    """One question as the evaluation loop sees it: what to ask and what counts as found."""

    qid: str
    text: str
    answerable: bool
    expected: tuple[dict[str, Any], ...]


# A ranking of passages -> the ranked items that are judged: (item id, rank, the hit shown for it).
Items = Callable[[Sequence[Hit]], list[tuple[str, int, Hit]]]


def passage_items(ranking: Sequence[Hit]) -> list[tuple[str, int, Hit]]:
    """Passage level: each hit is an item, judged by its passage id."""
    return [(h.passage_id, h.rank, h) for h in ranking]


def document_items(ranking: Sequence[Hit], *, k: int) -> list[tuple[str, int, Hit]]:
    """Document level: the top-k documents in the order of their best passage, which is shown."""
    best: dict[str, Hit] = {}
    for h in ranking:  # best first: a document's first hit is its best passage
        best.setdefault(h.passage.doc_id, h)
    return [(doc, rank, h) for rank, (doc, h) in enumerate(list(best.items())[:k], start=1)]


def _evaluate_configuration(
    base: Retriever,
    config: Configuration,
    cases: Sequence[Case],
    *,
    qrels: Mapping[str, Mapping[str, int]],
    items: Items,
    k: int,
    depth: int,
    progress: Callable[[str, int, int], None] | None,
) -> ConfigurationResult:
    """Ask every case under one configuration; score the judged items against `qrels`.

    The run holds the answerable cases only, with rank-derived scores; abstention is
    measured on both groups, citation exactness on the top-k hits users are shown.
    """
    r = configure(base, config)
    step = (lambda done, total: progress(config.name, done, total)) if progress else None
    timed = _timed_answers(r, [c.text for c in cases], k=k, depth=depth, progress=step)
    run: dict[str, dict[str, float]] = {}
    rows, top_hits, latencies = [], [], []
    answered_yes, answered_no = [], []
    for case, (answer, ranking, ms) in zip(cases, timed):
        ranked = items(ranking)
        ids = [item_id for item_id, _, _ in ranked]
        rel = qrels.get(case.qid, {})
        top_hits.extend(answer.hits[:k])
        latencies.append(ms)
        if case.answerable:
            run[case.qid] = _rank_scores(ids)
            answered_yes.append(answer.answered)
        else:
            answered_no.append(answer.answered)
        rows.append(
            QuestionResult(
                qid=case.qid,
                question=case.text,
                answerable=case.answerable,
                answered=answer.answered,
                latency_ms=ms,
                first_relevant_rank=_first_relevant(ids, rel) if case.answerable else None,
                expected=case.expected,
                retrieved=tuple(
                    Retrieved(
                        rank=rank,
                        item_id=item_id,
                        doc=h.passage.doc_id,
                        text=h.text[:SNIPPET_CHARS],
                        score=h.score,
                        relevant=rel.get(item_id, 0) > 0,
                        start=h.passage.start,
                        end=h.passage.end,
                    )
                    for item_id, rank, h in ranked[:FAILURE_ITEMS]
                ),
            )
        )
    ranking_names = list(RANKING_METRICS) + [f"hit_rate@{k}"]
    ranking = ranking_metrics(qrels, run, ranking_names)
    metrics: dict[str, float | None] = {m: ranking[m] for m in RANKING_METRICS}
    metrics["hit_rate"] = ranking[f"hit_rate@{k}"]
    metrics["abstention_rate"] = abstention_rate(answered_no)
    metrics["false_abstention_rate"] = false_abstention_rate(answered_yes)
    metrics["citation_exactness"] = citation_exactness(top_hits, base.index.documents)
    metrics.update(latency_percentiles(latencies))
    return ConfigurationResult(config, metrics, tuple(rows))


def evaluate(
    questions: Sequence[Question],
    retriever: Retriever,
    *,
    configurations: Sequence[Configuration] | str = "hybrid",
    k: int = 10,
    depth: int = 100,
    lenient: bool = False,
    source: str = "",
    progress: Callable[[str, int, int], None] | None = None,
) -> EvaluationReport:
    """Evaluate a question set on the retriever's index, once per configuration.

    Quotes are located in the indexed documents first (InputError if one is missing,
    unless `lenient`). Each question is asked alone, so latency is per question.

    Args:
        questions: the question set (answerable and unanswerable questions).
        retriever: the base retriever; each configuration shares its index and model.
        configurations: Configurations, or names such as `"dense,bm25,hybrid"`.
        k: cut-off for the hit rate, citation exactness and failure lists.
        depth: passages retrieved per question (ranking metrics look this deep).
        lenient: skip quotes that are not found instead of failing.
        source: a label for the report (e.g. the question file).
        progress: called with (configuration, done, total) after each question.
    """
    configs = _configurations(configurations, k)
    depth = max(depth, k, 100)  # recall@100 needs 100 passages
    index = retriever.index
    located = validate_quotes(list(questions), index.documents, lenient=lenient)
    if not located:
        raise InputError(
            f"no question left to evaluate ({len(questions)} read, all skipped); fix the quotes or the file"
        )
    qrels = build_qrels(located, index.passages)
    cases = [
        Case(q.qid, q.question, q.answerable, tuple({"doc": a.doc, "quote": a.quote} for a in q.answers))
        for q in located
    ]
    results = []
    for config in configs:
        logger.info("evaluating %d questions with configuration %s", len(cases), config.name)
        results.append(
            _evaluate_configuration(
                retriever,
                config,
                cases,
                qrels=qrels,
                items=passage_items,
                k=k,
                depth=depth,
                progress=progress,
            )
        )
    answerable = sum(q.answerable for q in located)
    return EvaluationReport(
        kind="questions",
        source=source,
        level="passage",
        k=k,
        depth=depth,
        index=_index_info(retriever),
        counts={
            "questions": len(located),
            "answerable": answerable,
            "unanswerable": len(located) - answerable,
            "skipped": len(questions) - len(located),
            "relevant_passages": sum(len(v) for v in qrels.values()),
        },
        results=tuple(results),
    )


def evaluate_beir(
    beir: BeirSet,
    retriever: Retriever,
    *,
    configurations: Sequence[Configuration] | str = "hybrid",
    k: int = 10,
    depth: int = 1000,
    doc_k: int = 100,
    progress: Callable[[str, int, int], None] | None = None,
) -> EvaluationReport:
    """Evaluate a BEIR split (`qa.evaluation.beir.BeirSet`) at document level, once per configuration.

    Each query retrieves `depth` passages; they are collapsed to the top `doc_k`
    documents, a document scoring as its best passage.
    """
    configs = _configurations(configurations, k)
    depth = max(depth, doc_k, k)
    cases = [
        Case(qid, text, True, tuple({"doc": d} for d, s in beir.qrels.get(qid, {}).items() if s > 0))
        for qid, text in beir.queries.items()
    ]

    def items(ranking: Sequence[Hit]) -> list[tuple[str, int, Hit]]:
        return document_items(ranking, k=doc_k)

    results = []
    for config in configs:
        logger.info("evaluating %d BEIR queries with configuration %s", len(cases), config.name)
        results.append(
            _evaluate_configuration(
                retriever, config, cases, qrels=beir.qrels, items=items, k=k, depth=depth, progress=progress
            )
        )
    return EvaluationReport(
        kind="beir",
        source=f"{beir.folder} ({beir.split})",
        level="document",
        k=k,
        depth=depth,
        index=_index_info(retriever),
        counts={
            "questions": len(cases),
            "answerable": len(cases),
            "unanswerable": 0,
            "documents": len(beir.documents),
            "judgements": sum(len(v) for v in beir.qrels.values()),
        },
        results=tuple(results),
    )
