"""Retriever: search an index with dense, BM25 or hybrid retrieval and return verified, cited hits."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qa.abstention import confidence_signal, load_calibration
from qa.config import IndexSettings, RetrievalMode, configured_model, default_index_dir, parse_enum
from qa.embedding import Embedder, backend_of, load_embedder
from qa.errors import ConfigError, IndexMismatchError, QAError
from qa.index import Index
from qa.retrieval.candidates import collect
from qa.retrieval.conversation import (
    DEFAULT_RULE,
    DEFAULT_WEIGHTS,
    ContextWeights,
    FollowupRule,
    QueryContext,
    context_vectors,
    contexts_for,
)
from qa.retrieval.filters import Filter, Filters, rows_per_question
from qa.retrieval.ranking import Plan, Weights, rank_candidates
from qa.storage import CURRENT, IndexStore
from qa.types import Answer, Hit

__all__ = ["BM25_WEIGHT", "COVERAGE_WEIGHT", "DEFAULT_THRESHOLD", "DENSE_WEIGHT", "Retriever"]

logger = logging.getLogger(__name__)

# Reranking weights and the abstention threshold; see docs/QUALITY.md for how they
# were chosen (on splits that are not the test splits; the threshold: the train splits
# of four collections pooled, eval/scripts/abstention.py --fit, issue #13).
DENSE_WEIGHT = 0.4
BM25_WEIGHT = 0.2
# Weight of term coverage (the share of question terms in the passage's own text) in the
# `hybrid-coverage` configuration (issue #13: chosen on the train splits of four
# collections, no worse than 0 on any; it did not hold on their test splits, so the
# default rerank does not use it: `coverage_weight=0`; docs/QUALITY.md).
COVERAGE_WEIGHT = 0.125
DEFAULT_THRESHOLD: float | None = 0.32


class Retriever:
    """Search one index. Thread-safe: a search reads one snapshot from start to end.

    Args:
        index: a loaded index.
        embedder: the index's model, or None to load it on first dense search.
        mode: default retrieval mode.
        k: default number of passages returned.
        depth: candidates taken from each signal before fusion.
        rrf_k: the reciprocal-rank-fusion constant (plain hybrid without reranking).
        rerank: rescore candidates with their best sentence (default: on for hybrid
            when the index holds sentence vectors).
        dense_weight: weight of the passage cosine against the best-sentence cosine.
        bm25_weight: weight of the BM25 score divided by the query's best BM25 score.
        coverage_weight: weight of the share of the question's terms found in the
            passage's text (default 0: not used; `COVERAGE_WEIGHT` for `hybrid-coverage`).
        threshold: abstain when the best sentence cosine is below it (None: never).
        followup_rule: when a question with history does not stand alone.
        context_weights: how much of the earlier turns a follow-up is searched with.
    """

    def __init__(
        self,
        index: Index,
        *,
        embedder: Embedder | None = None,
        mode: str | RetrievalMode = RetrievalMode.HYBRID,
        k: int = 5,
        depth: int = 100,
        rrf_k: int = 60,
        rerank: bool | None = None,
        dense_weight: float = DENSE_WEIGHT,
        bm25_weight: float = BM25_WEIGHT,
        coverage_weight: float = 0.0,
        threshold: float | None = DEFAULT_THRESHOLD,
        followup_rule: FollowupRule = DEFAULT_RULE,
        context_weights: ContextWeights = DEFAULT_WEIGHTS,
    ) -> None:
        self.index = index
        self.mode = parse_enum(RetrievalMode, mode, "mode")
        self.k = k
        self.depth = depth
        self.rrf_k = rrf_k
        self.rerank = rerank
        self.dense_weight = dense_weight
        self.bm25_weight = bm25_weight
        self.coverage_weight = coverage_weight
        self.threshold = threshold
        self.followup_rule = followup_rule
        self.context_weights = context_weights
        self._embedder = embedder
        self._embedder_lock = threading.Lock()
        self._current_stamp = self._stamp()
        if embedder is not None:
            self._check_embedder(embedder)

    @classmethod
    def open(
        cls,
        index_dir: Path | str | None = None,
        *,
        corpus_dir: Path | str | None = None,
        model: str | None = None,
        settings: IndexSettings | None = None,
        **kwargs,
    ) -> Retriever:
        """Load the index in `index_dir` and check it against the configuration.

        An explicitly configured model (argument or `QA_MODEL`) or chunk settings that
        differ from the index's raise IndexMismatchError. If `corpus_dir` is given and
        its files changed since the build, a warning names them; answers still come
        from the index as built.
        """
        index_dir = Path(index_dir) if index_dir else default_index_dir()
        index = Index.load(index_dir)
        index.check_compatible(model=configured_model(model), settings=settings)
        if "threshold" not in kwargs:
            calibration = load_calibration(
                index_dir, model=index.model_name, signal=confidence_signal(index.settings)
            )
            if calibration is not None:
                kwargs["threshold"] = calibration.threshold
        if corpus_dir is not None:
            stale = index.stale(Path(corpus_dir))
            if stale:
                logger.warning(
                    "the corpus changed since the index was built (%s); run `qa index` to update it",
                    stale.describe(),
                )
        return cls(index, **kwargs)

    # -- model -------------------------------------------------------------------

    def _check_embedder(self, embedder: Embedder) -> None:
        if embedder.name != self.index.model_name or embedder.fingerprint() != self.index.model_fingerprint:
            raise IndexMismatchError(
                f"index was built with model {self.index.model_name}, configured model is "
                f"{embedder.name} (or its weights changed); run `qa index`"
            )

    @property
    def embedder(self) -> Embedder:
        """The index's model, loaded on first use."""
        if self._embedder is None:
            with self._embedder_lock:
                if self._embedder is None:
                    # Queries go through the backend the passages were embedded with.
                    embedder = load_embedder(self.index.model_name, backend=backend_of(self.index.manifest))
                    self._check_embedder(embedder)
                    self._embedder = embedder
        return self._embedder

    def swap(self, index: Index) -> None:
        """Serve a newly built index; searches already running finish on the old one."""
        if index.model_name != self.index.model_name:
            self._embedder = None
        self.index = index

    def _stamp(self) -> int | None:
        try:
            return (self.index.path.parent / CURRENT).stat().st_mtime_ns
        except OSError:
            return None

    def refresh(self) -> bool:
        """Switch to the index folder's live snapshot if another process published a newer
        one (e.g. `qa index` while `qa serve` answers); True if it switched.

        Cheap enough to call before every request: one `stat` of `CURRENT` while nothing
        changed. A snapshot that fails to load is logged and the current one kept.
        """
        root = self.index.path.parent
        stamp = self._stamp()
        if stamp is None or stamp == self._current_stamp:
            return False
        self._current_stamp = stamp
        try:
            live = IndexStore(root).current()
            if live is None or live == self.index.path:
                return False
            index = Index.load(root)
        except QAError as exc:
            logger.warning(
                "a new snapshot in %s could not be loaded (%s); answering from %s", root, exc, self.index.path
            )
            return False
        logger.info("switching to the new snapshot %s", index.path)
        self.swap(index)
        return True

    # -- search ------------------------------------------------------------------

    def search(
        self,
        question: str,
        *,
        k: int | None = None,
        mode: str | RetrievalMode | None = None,
        rerank: bool | None = None,
        history: Sequence[str] | None = None,
        filters: Filter | None = None,
    ) -> list[Hit]:
        """The top-k passages for one question, best first (`history`: the earlier questions)."""
        return self.search_many(
            [question],
            k=k,
            mode=mode,
            rerank=rerank,
            history=None if history is None else [history],
            filters=filters,
        )[0]

    def search_many(
        self,
        questions: Sequence[str],
        *,
        k: int | None = None,
        mode: str | RetrievalMode | None = None,
        highlight: bool = False,
        rerank: bool | None = None,
        history: Sequence[Sequence[str]] | None = None,
        filters: Filters = None,
    ) -> list[list[Hit]]:
        """The top-k passages for each question, in input order.

        Hits are ordered by (-score, passage_id); `Hit.scores` / `Hit.ranks` hold each
        signal's own score and rank. With `highlight`, each hit carries its
        best-matching sentences. `history[i]` holds question i's earlier questions in
        conversation order; a question that does not stand alone is searched with them
        (`qa.retrieval.conversation`). `filters` (one Filter, or one per question) limits
        the search to some documents before the top-k is taken, so k passages come back
        whenever the allowed documents hold k; an unknown document id or folder raises
        InputError listing what exists.
        """
        results, _ = self._run(
            questions, k=k, mode=mode, highlight=highlight, rerank=rerank, history=history, filters=filters
        )
        return [hits for hits, _ in results]

    def contexts(
        self, questions: Sequence[str], history: Sequence[Sequence[str]] | None
    ) -> list[QueryContext | None]:
        """Each question's conversation context: None where it stands alone or has no history."""
        return contexts_for(questions, history, rule=self.followup_rule, weights=self.context_weights)

    def rerank_default(self, mode: RetrievalMode) -> bool:
        """Best-sentence reranking is on by default for hybrid search when the index has sentences."""
        if self.rerank is not None:
            return self.rerank and self.index.sentences is not None
        return mode is RetrievalMode.HYBRID and self.index.sentences is not None

    def _plan(
        self, *, k: int | None, mode: str | RetrievalMode | None, highlight: bool, rerank: bool | None
    ) -> Plan:
        k = self.k if k is None else k
        if k < 1:
            raise ConfigError(f"k={k} must be at least 1")
        mode = self.mode if mode is None else parse_enum(RetrievalMode, mode, "mode")
        use_rerank = self.rerank_default(mode) if rerank is None else bool(rerank)
        return Plan(mode=mode, k=k, rerank=use_rerank, highlight=highlight)

    def _run(
        self,
        questions: Sequence[str],
        *,
        k: int | None,
        mode: str | RetrievalMode | None,
        highlight: bool,
        rerank: bool | None,
        history: Sequence[Sequence[str]] | None = None,
        filters: Filters = None,
    ) -> tuple[list[tuple[list[Hit], float | None]], list[QueryContext | None]]:
        """Hits and a confidence (best sentence or passage cosine) per question, and each one's context."""
        plan = self._plan(k=k, mode=mode, highlight=highlight, rerank=rerank)
        contexts = self.contexts(questions, history)
        index = self.index  # one snapshot for the whole call
        allowed = rows_per_question(index, filters, len(questions))
        if len(index) == 0 or not questions:
            return [([], None) for _ in questions], contexts
        query_vectors: np.ndarray | None = None
        # The question vector also gives the abstention confidence.
        if plan.mode is not RetrievalMode.BM25 or plan.highlight or plan.rerank or self.threshold is not None:
            query_vectors = context_vectors(self.embedder.embed, questions, contexts)
        found = collect(
            index,
            questions,
            query_vectors,
            mode=plan.mode,
            depth=max(plan.k, self.depth),
            full_bm25=plan.rerank,
            contexts=contexts,
            allowed=allowed,
        )
        weights = Weights(
            dense=self.dense_weight, bm25=self.bm25_weight, rrf_k=self.rrf_k, coverage=self.coverage_weight
        )
        return [
            rank_candidates(index, candidates, plan, weights, embedder=lambda: self.embedder)
            for candidates in found
        ], contexts

    # -- answers -----------------------------------------------------------------

    def ask(
        self,
        question: str,
        *,
        k: int | None = None,
        mode: str | RetrievalMode | None = None,
        highlight: bool = True,
        rerank: bool | None = None,
        history: Sequence[str] | None = None,
        filters: Filter | None = None,
    ) -> Answer:
        """Search one question and wrap the hits as an Answer (with highlights by default).

        `history`: the conversation's earlier questions, oldest first (see `ask_many`).
        """
        return self.ask_many(
            [question],
            k=k,
            mode=mode,
            highlight=highlight,
            rerank=rerank,
            history=None if history is None else [history],
            filters=filters,
        )[0]

    def ask_many(
        self,
        questions: Sequence[str],
        *,
        k: int | None = None,
        mode: str | RetrievalMode | None = None,
        qids: Sequence[str | None] | None = None,
        highlight: bool = True,
        rerank: bool | None = None,
        history: Sequence[Sequence[str]] | None = None,
        filters: Filters = None,
    ) -> list[Answer]:
        """Answers for many questions, in input order.

        `answered` is False when the confidence (the best sentence's cosine with the
        question) is below the abstention threshold: nothing relevant was found. The
        closest passages are still returned. With `history` (per question, its earlier
        questions oldest first), a follow-up is read with them and `Answer.read_with`
        names the earlier questions used (empty when it stands alone). `filters` as in
        `search_many` (a filter that allows no passage gives an empty, unanswered answer).
        """
        results, contexts = self._run(
            questions, k=k, mode=mode, highlight=highlight, rerank=rerank, history=history, filters=filters
        )
        qids = list(qids) if qids is not None else [None] * len(questions)
        threshold = self.threshold
        answers = []
        for q, (hits, conf), qid, context in zip(questions, results, qids, contexts):
            answered = bool(hits) and (threshold is None or conf is None or conf >= threshold)
            read_with = None if history is None else (context.earlier if context is not None else ())
            answers.append(
                Answer(
                    question=q,
                    hits=tuple(hits),
                    answered=answered,
                    qid=qid,
                    confidence=conf,
                    read_with=read_with,
                )
            )
        return answers
