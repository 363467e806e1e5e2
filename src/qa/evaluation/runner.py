"""The evaluation loop: a question set or a BEIR split through a Retriever, once per configuration.

Question sets are judged at passage level by the rule in `qa.evaluation.relevance`.
BEIR splits are scored at document level: a document's score is the best score of its
passages, and BEIR's own qrels judge the documents.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from qa.errors import ConfigError, InputError
from qa.evaluation.configurations import (
    Configuration,
    configure,
    parse_configurations,
)
from qa.evaluation.metrics import (
    RANKING_METRICS,
    abstention_rate,
    citation_exactness,
    false_abstention_rate,
    latency_percentiles,
    ranking_metrics,
)
from qa.evaluation.questions import Question, validate_quotes
from qa.evaluation.relevance import build_qrels
from qa.evaluation.results import ConfigurationResult, EvaluationReport, QuestionResult, Retrieved
from qa.retrieval import Retriever
from qa.types import Answer, Hit

if TYPE_CHECKING:
    from qa.evaluation.beir import BeirSet

__all__ = ["Case", "Suite", "document_items", "evaluate", "evaluate_beir", "passage_items"]

logger = logging.getLogger(__name__)


# Passage text kept per retrieved item in failure lists (the report stays readable).
SNIPPET_CHARS = 400
# Retrieved items shown per failing question.
FAILURE_ITEMS = 3


def _index_info(retriever: Retriever) -> dict[str, Any]:
    m = retriever.index.manifest
    return {
        "path": str(retriever.index.path),
        "model": m.model.name,
        "settings": m.settings.to_dict(),
        "documents": len(m.documents),
        "passages": m.passages,
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


@dataclass(frozen=True)
class Suite:
    """What one evaluation judges: the cases, their qrels, and how a ranking becomes judged items.

    `counts` adds to the report's question counts (answerable and unanswerable cases).
    """

    kind: str  # "questions" (passage level) or "beir" (document level)
    source: str
    cases: Sequence[Case]
    qrels: Mapping[str, Mapping[str, int]]
    items: Items
    counts: Mapping[str, int]


def _run(
    retriever: Retriever,
    configs: Sequence[Configuration],
    suite: Suite,
    *,
    k: int,
    depth: int,
    progress: Callable[[str, int, int], None] | None,
) -> EvaluationReport:
    """Evaluate the suite once per configuration: the loop behind `evaluate` and `evaluate_beir`."""
    cases, qrels, items, kind = suite.cases, suite.qrels, suite.items, suite.kind
    answerable = sum(c.answerable for c in cases)
    results = []
    for config in configs:
        what = "BEIR queries" if kind == "beir" else "questions"
        logger.info("evaluating %d %s with configuration %s", len(cases), what, config.name)
        results.append(
            _evaluate_configuration(
                retriever, config, cases, qrels=qrels, items=items, k=k, depth=depth, progress=progress
            )
        )
    return EvaluationReport(
        kind=kind,
        source=suite.source,
        level="document" if kind == "beir" else "passage",
        k=k,
        depth=depth,
        index=_index_info(retriever),
        counts={
            "questions": len(cases),
            "answerable": answerable,
            "unanswerable": len(cases) - answerable,
            **suite.counts,
        },
        results=tuple(results),
    )


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
    extra = {"skipped": len(questions) - len(located), "relevant_passages": sum(map(len, qrels.values()))}
    suite = Suite("questions", source, cases, qrels, passage_items, extra)
    return _run(retriever, configs, suite, k=k, depth=depth, progress=progress)


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

    extra = {"documents": len(beir.documents), "judgements": sum(map(len, beir.qrels.values()))}
    suite = Suite("beir", f"{beir.folder} ({beir.split})", cases, beir.qrels, items, extra)
    return _run(retriever, configs, suite, k=k, depth=depth, progress=progress)
