"""Retriever: dense, BM25 and hybrid search over an index, returning verified, cited hits."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from qa.citations import cite, verify
from qa.config import IndexSettings, RetrievalMode, configured_model, default_index_dir, parse_enum
from qa.embedding import Embedder, load_embedder
from qa.errors import ConfigError, IndexMismatchError
from qa.fusion import rrf
from qa.index import Index
from qa.types import Answer, Hit

__all__ = ["Retriever"]

logger = logging.getLogger(__name__)


class Retriever:
    """Search one index. Thread-safe: a search reads one snapshot from start to end.

    Args:
        index: a loaded index.
        embedder: the index's model, or None to load it on first dense search.
        mode: default retrieval mode.
        k: default number of passages returned.
        depth: candidates taken from each signal before fusion.
        rrf_k: the reciprocal-rank-fusion constant.
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
    ) -> None:
        self.index = index
        self.mode = parse_enum(RetrievalMode, mode, "mode")
        self.k = k
        self.depth = depth
        self.rrf_k = rrf_k
        self._embedder = embedder
        self._embedder_lock = threading.Lock()
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
        index = Index.load(Path(index_dir) if index_dir else default_index_dir())
        index.check_compatible(model=configured_model(model), settings=settings)
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
                    embedder = load_embedder(self.index.model_name)
                    self._check_embedder(embedder)
                    self._embedder = embedder
        return self._embedder

    def swap(self, index: Index) -> None:
        """Serve a newly built index; searches already running finish on the old one."""
        if index.model_name != self.index.model_name:
            self._embedder = None
        self.index = index

    # -- search ------------------------------------------------------------------

    def search(
        self, question: str, *, k: int | None = None, mode: str | RetrievalMode | None = None
    ) -> list[Hit]:
        """The top-k passages for one question, best first."""
        return self.search_many([question], k=k, mode=mode)[0]

    def search_many(
        self,
        questions: Sequence[str],
        *,
        k: int | None = None,
        mode: str | RetrievalMode | None = None,
        highlight: bool = False,
    ) -> list[list[Hit]]:
        """The top-k passages for each question, in input order.

        Hits are ordered by (-score, passage_id). In hybrid mode the score is the RRF
        score; `Hit.scores` / `Hit.ranks` hold each signal's own score and rank. With
        `highlight`, each hit carries its best-matching sentences.
        """
        k = self.k if k is None else k
        if k < 1:
            raise ConfigError(f"k={k} must be at least 1")
        mode = self.mode if mode is None else parse_enum(RetrievalMode, mode, "mode")
        index = self.index  # one snapshot for the whole call
        if len(index) == 0 or not questions:
            return [[] for _ in questions]
        depth = max(k, self.depth)

        dense: list[tuple[np.ndarray, np.ndarray]] = []
        qv: np.ndarray | None = None
        if mode in (RetrievalMode.DENSE, RetrievalMode.HYBRID) or highlight:
            qv = self.embedder.embed(list(questions))
        if mode in (RetrievalMode.DENSE, RetrievalMode.HYBRID):
            assert qv is not None
            scores, rows = index.vectors.search(qv, depth)
            for s, r in zip(scores, rows):
                keep = r >= 0
                s, r = s[keep], r[keep]
                # FAISS leaves the order of equal scores unspecified; make it by row.
                order = np.lexsort((r, -s))
                dense.append((s[order], r[order]))
        lexical: list[tuple[np.ndarray, np.ndarray]] = []
        if mode in (RetrievalMode.BM25, RetrievalMode.HYBRID):
            lexical = [index.bm25.search(q, depth) for q in questions]

        results = []
        for qi in range(len(questions)):
            signals: dict[str, tuple[np.ndarray, np.ndarray]] = {}
            if dense:
                signals["dense"] = dense[qi]
            if lexical:
                signals["bm25"] = lexical[qi]
            results.append(self._merge(index, signals, mode, k))
        if highlight:
            from qa.highlight import highlight_hits

            for qi, hits in enumerate(results):
                if hits:
                    marks = highlight_hits(qv[qi], hits, index.documents, self.embedder)  # type: ignore[index]
                    results[qi] = [replace(h, highlights=m) for h, m in zip(hits, marks)]
        return results

    def _merge(
        self,
        index: Index,
        signals: dict[str, tuple[np.ndarray, np.ndarray]],
        mode: RetrievalMode,
        k: int,
    ) -> list[Hit]:
        per_row_scores: dict[int, dict[str, float]] = {}
        per_row_ranks: dict[int, dict[str, int]] = {}
        for name, (scores, rows) in signals.items():
            for rank, (score, row) in enumerate(zip(scores.tolist(), rows.tolist()), start=1):
                per_row_scores.setdefault(row, {})[name] = float(score)
                per_row_ranks.setdefault(row, {})[name] = rank
        if mode is RetrievalMode.HYBRID:
            fused = rrf({name: rows.tolist() for name, (_, rows) in signals.items()}, k=self.rrf_k)
            for row, score in fused.items():
                per_row_scores[row]["fused"] = score
            final = fused
        else:
            (name,) = signals
            final = {row: s[name] for row, s in per_row_scores.items()}
        ordered = sorted(final, key=lambda row: (-final[row], index.passages[row].passage_id))[:k]
        hits = []
        for rank, row in enumerate(ordered, start=1):
            passage = index.passages[row]
            document = index.documents.get(passage.doc_id)
            verify(passage, document)
            ranks = dict(per_row_ranks[row])
            if mode is RetrievalMode.HYBRID:
                ranks["fused"] = rank
            hits.append(
                Hit(
                    passage=passage,
                    score=final[row],
                    rank=rank,
                    citation=cite(passage, document),  # type: ignore[arg-type]
                    scores=per_row_scores[row],
                    ranks=ranks,
                )
            )
        return hits

    # -- answers -----------------------------------------------------------------

    def ask(
        self,
        question: str,
        *,
        k: int | None = None,
        mode: str | RetrievalMode | None = None,
        highlight: bool = True,
    ) -> Answer:
        """Search one question and wrap the hits as an Answer (with highlights by default)."""
        return self.ask_many([question], k=k, mode=mode, highlight=highlight)[0]

    def ask_many(
        self,
        questions: Sequence[str],
        *,
        k: int | None = None,
        mode: str | RetrievalMode | None = None,
        qids: Sequence[str | None] | None = None,
        highlight: bool = True,
    ) -> list[Answer]:
        """Answers for many questions, in input order."""
        results = self.search_many(questions, k=k, mode=mode, highlight=highlight)
        qids = list(qids) if qids is not None else [None] * len(questions)
        return [
            Answer(question=q, hits=tuple(hits), answered=bool(hits), qid=qid)
            for q, hits, qid in zip(questions, results, qids)
        ]
