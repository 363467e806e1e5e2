"""Retriever: dense, BM25 and hybrid search over an index, returning verified, cited hits."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from qa.abstention import confidence_signal, load_calibration
from qa.citations import cite, verify
from qa.config import IndexSettings, RetrievalMode, configured_model, default_index_dir, parse_enum
from qa.embedding import Embedder, backend_of, load_embedder
from qa.errors import ConfigError, IndexMismatchError
from qa.fusion import rrf
from qa.index import Index
from qa.lexical import top_rows
from qa.types import Answer, Highlight, Hit

__all__ = ["Retriever"]

logger = logging.getLogger(__name__)

# Reranking weights and the abstention threshold; see docs/QUALITY.md for how they
# were chosen (on splits that are not the test splits).
DENSE_WEIGHT = 0.4
BM25_WEIGHT = 0.2
DEFAULT_THRESHOLD: float | None = 0.28


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
        threshold: abstain when the best sentence cosine is below it (None: never).
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
        threshold: float | None = DEFAULT_THRESHOLD,
    ) -> None:
        self.index = index
        self.mode = parse_enum(RetrievalMode, mode, "mode")
        self.k = k
        self.depth = depth
        self.rrf_k = rrf_k
        self.rerank = rerank
        self.dense_weight = dense_weight
        self.bm25_weight = bm25_weight
        self.threshold = threshold
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

    # -- search ------------------------------------------------------------------

    def search(
        self,
        question: str,
        *,
        k: int | None = None,
        mode: str | RetrievalMode | None = None,
        rerank: bool | None = None,
    ) -> list[Hit]:
        """The top-k passages for one question, best first."""
        return self.search_many([question], k=k, mode=mode, rerank=rerank)[0]

    def search_many(
        self,
        questions: Sequence[str],
        *,
        k: int | None = None,
        mode: str | RetrievalMode | None = None,
        highlight: bool = False,
        rerank: bool | None = None,
    ) -> list[list[Hit]]:
        """The top-k passages for each question, in input order.

        Hits are ordered by (-score, passage_id); `Hit.scores` / `Hit.ranks` hold each
        signal's own score and rank. With `highlight`, each hit carries its
        best-matching sentences.
        """
        return [hits for hits, _ in self._run(questions, k=k, mode=mode, highlight=highlight, rerank=rerank)]

    def _run(
        self,
        questions: Sequence[str],
        *,
        k: int | None,
        mode: str | RetrievalMode | None,
        highlight: bool,
        rerank: bool | None,
    ) -> list[tuple[list[Hit], float | None]]:
        """Hits and a confidence (best sentence or passage cosine) per question."""
        k = self.k if k is None else k
        if k < 1:
            raise ConfigError(f"k={k} must be at least 1")
        mode = self.mode if mode is None else parse_enum(RetrievalMode, mode, "mode")
        index = self.index  # one snapshot for the whole call
        if len(index) == 0 or not questions:
            return [([], None) for _ in questions]
        use_rerank = self.rerank_default(mode) if rerank is None else bool(rerank)
        depth = max(k, self.depth)

        qv: np.ndarray | None = None
        # The question vector also gives the abstention confidence.
        if mode is not RetrievalMode.BM25 or highlight or use_rerank or self.threshold is not None:
            qv = self.embedder.embed(list(questions))
        dense: list[tuple[np.ndarray, np.ndarray]] = []
        if mode is not RetrievalMode.BM25:
            assert qv is not None
            scores, rows = index.store.search(qv, depth)
            for s, r in zip(scores, rows):
                keep = r >= 0
                s, r = s[keep], r[keep]
                # FAISS leaves the order of equal scores unspecified; make it by row.
                order = np.lexsort((r, -s))
                dense.append((s[order], r[order]))
        bm25_full: list[np.ndarray | None] = []
        if mode is not RetrievalMode.DENSE or use_rerank:
            bm25_full = [index.bm25.scores(q) for q in questions]

        out = []
        for qi in range(len(questions)):
            signals: dict[str, tuple[np.ndarray, np.ndarray]] = {}
            if dense:
                signals["dense"] = dense[qi]
            if mode is not RetrievalMode.DENSE:
                full = bm25_full[qi]
                signals["bm25"] = (
                    top_rows(full, depth) if full is not None else (np.zeros(0), np.zeros(0, np.int64))
                )
            q = qv[qi] if qv is not None else None
            full = bm25_full[qi] if bm25_full else None
            out.append(self._merge(index, signals, mode, k, q, full, use_rerank, highlight))
        return out

    def rerank_default(self, mode: RetrievalMode) -> bool:
        """Best-sentence reranking is on by default for hybrid search when the index has sentences."""
        if self.rerank is not None:
            return self.rerank and self.index.sentences is not None
        return mode is RetrievalMode.HYBRID and self.index.sentences is not None

    def _merge(
        self,
        index: Index,
        signals: dict[str, tuple[np.ndarray, np.ndarray]],
        mode: RetrievalMode,
        k: int,
        qvec: np.ndarray | None,
        bm25_full: np.ndarray | None,
        rerank: bool,
        highlight: bool,
    ) -> tuple[list[Hit], float | None]:
        per_row_scores: dict[int, dict[str, float]] = {}
        per_row_ranks: dict[int, dict[str, int]] = {}
        for name, (scores, rows) in signals.items():
            for rank, (score, row) in enumerate(zip(scores.tolist(), rows.tolist()), start=1):
                per_row_scores.setdefault(row, {})[name] = float(score)
                per_row_ranks.setdefault(row, {})[name] = rank
        candidates = sorted(per_row_scores)
        sentence_best: dict[int, tuple[float, int, int, np.ndarray]] = {}
        if qvec is not None and index.sentences is not None and (rerank or highlight):
            sentence_best = index.sentences.best(qvec, candidates if rerank else [])

        if rerank and sentence_best:
            # Weighted fusion of signals that are comparable across queries: cosines as
            # they are, BM25 divided by the query's best BM25 score.
            vectors = index.vector_matrix()
            dense_exact = np.asarray(vectors[candidates], dtype=np.float32) @ qvec
            bm25_max = float(bm25_full.max()) if bm25_full is not None and bm25_full.size else 0.0
            final = {}
            for i, row in enumerate(candidates):
                d = float(dense_exact[i])
                sent = sentence_best[row][0] if row in sentence_best else d
                b = float(bm25_full[row]) / bm25_max if bm25_max > 0 else 0.0  # type: ignore[index]
                w_b = self.bm25_weight if mode is not RetrievalMode.DENSE else 0.0
                score = self.dense_weight * d + (1 - self.dense_weight) * sent + w_b * b
                scores = per_row_scores[row]
                scores.setdefault("dense", d)
                scores["sentence"] = sent
                scores["rerank"] = score
                final[row] = score
        elif mode is RetrievalMode.HYBRID:
            final = rrf({name: rows.tolist() for name, (_, rows) in signals.items()}, k=self.rrf_k)
            for row, score in final.items():
                per_row_scores[row]["fused"] = score
        else:
            (name,) = signals
            final = {row: s[name] for row, s in per_row_scores.items()}
        ordered = sorted(final, key=lambda row: (-final[row], index.passages[row].passage_id))[:k]

        confidence: float | None = None
        if ordered and qvec is not None:
            if index.sentences is not None:
                best = (
                    sentence_best
                    if all(r in sentence_best for r in ordered)
                    else index.sentences.best(qvec, ordered)
                )
                sentence_best.update(best)
                confidence = max((best[r][0] for r in ordered if r in best), default=None)
            else:
                confidence = float(
                    np.max(np.asarray(index.vector_matrix()[ordered], dtype=np.float32) @ qvec)
                )

        hits = []
        for rank, row in enumerate(ordered, start=1):
            passage = index.passages[row]
            document = index.documents.get(passage.doc_id)
            verify(passage, document)
            ranks = dict(per_row_ranks[row])
            ranks["rerank" if rerank and sentence_best else "fused"] = rank
            if mode is not RetrievalMode.HYBRID and not rerank:
                ranks.pop("fused", None)
            marks: tuple[Highlight, ...] = ()
            if highlight and row in sentence_best:
                marks = self._highlights(index, row, sentence_best[row])
            hits.append(
                Hit(
                    passage=passage,
                    score=final[row],
                    rank=rank,
                    citation=cite(passage, document),  # type: ignore[arg-type]
                    scores=per_row_scores[row],
                    ranks=ranks,
                    highlights=marks,
                )
            )
        if highlight and qvec is not None and index.sentences is None and hits:
            from qa.highlight import highlight_hits

            marks_all = highlight_hits(qvec, hits, index.documents, self.embedder)
            hits = [replace(h, highlights=m) for h, m in zip(hits, marks_all)]
        return hits, confidence

    @staticmethod
    def _highlights(
        index: Index, row: int, best: tuple[float, int, int, np.ndarray]
    ) -> tuple[Highlight, ...]:
        """The best sentence, plus the runner-up when it scores within 90% of it."""
        assert index.sentences is not None
        a, _ = index.sentences.range_of(row)
        sims = best[3]
        order = sorted(range(len(sims)), key=lambda j: (-sims[j], j))[:2]
        top = float(sims[order[0]])
        keep = [j for n, j in enumerate(order) if n == 0 or (top > 0 and sims[j] >= 0.9 * top)]
        table = index.sentences.table
        return tuple(Highlight(int(table[a + j, 1]), int(table[a + j, 2]), float(sims[j])) for j in keep)

    # -- answers -----------------------------------------------------------------

    def ask(
        self,
        question: str,
        *,
        k: int | None = None,
        mode: str | RetrievalMode | None = None,
        highlight: bool = True,
        rerank: bool | None = None,
    ) -> Answer:
        """Search one question and wrap the hits as an Answer (with highlights by default)."""
        return self.ask_many([question], k=k, mode=mode, highlight=highlight, rerank=rerank)[0]

    def ask_many(
        self,
        questions: Sequence[str],
        *,
        k: int | None = None,
        mode: str | RetrievalMode | None = None,
        qids: Sequence[str | None] | None = None,
        highlight: bool = True,
        rerank: bool | None = None,
    ) -> list[Answer]:
        """Answers for many questions, in input order.

        `answered` is False when the confidence (the best sentence's cosine with the
        question) is below the abstention threshold: nothing relevant was found. The
        closest passages are still returned.
        """
        results = self._run(questions, k=k, mode=mode, highlight=highlight, rerank=rerank)
        qids = list(qids) if qids is not None else [None] * len(questions)
        threshold = self.threshold
        answers = []
        for q, (hits, confidence), qid in zip(questions, results, qids):
            answered = bool(hits) and (threshold is None or confidence is None or confidence >= threshold)
            answers.append(
                Answer(question=q, hits=tuple(hits), answered=answered, qid=qid, confidence=confidence)
            )
        return answers
