"""Hits: final order, confidence, citation check, highlights and Hit building.

One highlight rule (`highlight_picks`) serves both sources of sentence scores: the
stored sentence vectors, and sentences embedded at query time for an index without them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from qa.chunking import split_sentences
from qa.citations import cite, verify
from qa.embedding import Embedder
from qa.index import Index
from qa.retrieval.candidates import passage_cosines
from qa.sentences import SentenceTable
from qa.types import Document, Highlight, Hit, Passage

__all__ = [
    "SentenceMatch",
    "build_hits",
    "confidence",
    "embedded_highlights",
    "highlight_picks",
    "hit_ranks",
    "matched_highlights",
    "order_rows",
    "sentence_matches",
    "sentence_spans",
    "stored_highlights",
]

# What SentenceTable.best gives per passage row: (best cosine, start, end, all cosines).
SentenceMatch = tuple[float, int, int, np.ndarray]

RUNNER_UP = 0.9  # a second sentence is highlighted when it scores at least this share of the best


def order_rows(scores: Mapping[int, float], passages: Sequence[Passage], k: int) -> list[int]:
    """The k best rows, ordered by (-score, passage_id) so that ties are deterministic.

    Passage ids are read only for rows that tie with another row at the cut (a table
    decodes a passage on demand, so reading every candidate's id would cost ~0.1 ms each).
    """
    by_score = sorted(scores, key=lambda row: -scores[row])
    if len(by_score) > k:
        cut = scores[by_score[k - 1]] if k > 0 else None
        by_score = [r for r in by_score if cut is not None and scores[r] >= cut]
    values = [scores[r] for r in by_score]
    tied = {
        r
        for i, r in enumerate(by_score)
        if (i and values[i - 1] == values[i]) or (i + 1 < len(values) and values[i + 1] == values[i])
    }
    if not tied:
        return by_score[:k]
    ids = {r: passages[r].passage_id for r in tied}
    return sorted(by_score, key=lambda row: (-scores[row], ids.get(row, "")))[:k]


def sentence_matches(
    sentences: SentenceTable,
    query_vector: np.ndarray,
    rows: Sequence[int],
    known: Mapping[int, SentenceMatch] | None = None,
) -> dict[int, SentenceMatch]:
    """`known` plus the sentence matches of those `rows` it lacks (rows without sentences stay out)."""
    out = dict(known or {})
    missing = [r for r in rows if r not in out]
    if missing:
        out.update(sentences.best(query_vector, missing))
    return out


def confidence(
    index: Index,
    query_vector: np.ndarray | None,
    rows: Sequence[int],
    matches: Mapping[int, SentenceMatch],
) -> float | None:
    """The answer's confidence: the best sentence cosine among `rows`, else the best passage cosine.

    With stored sentences, `matches` must cover `rows` (see `sentence_matches`); the
    passage cosine serves an index without sentence vectors. None without rows or a
    question vector.
    """
    if not rows or query_vector is None:
        return None
    if index.sentences is not None:
        return max((matches[r][0] for r in rows if r in matches), default=None)
    return float(np.max(passage_cosines(index, query_vector, rows)))


def highlight_picks(sims: np.ndarray, *, relative: float = RUNNER_UP) -> list[int]:
    """The highlight rule: the best sentence, plus the runner-up when it scores within `relative` of it.

    Args:
        sims: each sentence's cosine with the question, in passage order (not empty).
        relative: the runner-up's least share of the best score (only when the best is positive).

    Returns:
        Sentence positions, best first; ties go to the earlier sentence.
    """
    order = sorted(range(len(sims)), key=lambda j: (-sims[j], j))[:2]
    top = float(sims[order[0]])
    return [j for n, j in enumerate(order) if n == 0 or (top > 0 and sims[j] >= relative * top)]


def stored_highlights(sentences: SentenceTable, row: int, sims: np.ndarray) -> tuple[Highlight, ...]:
    """Highlights of passage `row` from its stored sentences and their cosines `sims`."""
    a, _ = sentences.range_of(row)
    table = sentences.table
    return tuple(
        Highlight(int(table[a + j, 1]), int(table[a + j, 2]), float(sims[j])) for j in highlight_picks(sims)
    )


def matched_highlights(
    sentences: SentenceTable, rows: Sequence[int], matches: Mapping[int, SentenceMatch]
) -> list[tuple[Highlight, ...]]:
    """Highlights of each row from its sentence match (none for a row without one)."""
    return [stored_highlights(sentences, row, matches[row][3]) if row in matches else () for row in rows]


def sentence_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans (document offsets) inside `text[start:end]`."""
    return split_sentences(text, start, end) or [(start, end)]


def embedded_highlights(
    query_vector: np.ndarray,
    passages: Sequence[Passage],
    documents: Mapping[str, Document],
    embedder: Embedder,
) -> list[tuple[Highlight, ...]]:
    """Highlights for an index without sentence vectors: split each passage, embed its sentences.

    Each sentence is a span of the passage (the chunker's sentence splitter), scored by
    its cosine with the question; no text is generated.

    Returns:
        Highlights per passage, best first, offsets into the document text.
    """
    spans: list[list[tuple[int, int]]] = []
    texts: list[str] = []
    for passage in passages:
        text = documents[passage.doc_id].text
        s = sentence_spans(text, passage.start, passage.end)
        spans.append(s)
        texts.extend(text[a:b] for a, b in s)
    if not texts:
        return [() for _ in passages]
    sims = embedder.embed(texts) @ np.asarray(query_vector, dtype=np.float32)
    out: list[tuple[Highlight, ...]] = []
    i = 0
    for s in spans:
        scores = sims[i : i + len(s)]
        i += len(s)
        out.append(tuple(Highlight(s[j][0], s[j][1], float(scores[j])) for j in highlight_picks(scores)))
    return out


def hit_ranks(
    signal_ranks: Mapping[int, dict[str, int]], rows: Sequence[int], final: str | None
) -> list[dict[str, int]]:
    """Each row's per-signal ranks, plus its final rank (position in `rows`, from 1) under `final`."""
    out = []
    for rank, row in enumerate(rows, start=1):
        ranks = dict(signal_ranks[row])
        if final is not None:
            ranks[final] = rank
        out.append(ranks)
    return out


def build_hits(
    index: Index,
    rows: Sequence[int],
    *,
    scores: Mapping[int, float],
    signal_scores: Mapping[int, dict[str, float]],
    ranks: Sequence[dict[str, int]],
    highlights: Sequence[tuple[Highlight, ...]] | None = None,
) -> list[Hit]:
    """Hits for `rows` (best first), each passage checked against its document first.

    Args:
        index: the snapshot searched.
        rows: passage rows, best first (rank 1 first).
        scores: row -> final score.
        signal_scores: row -> {signal: score}.
        ranks: per row of `rows`, {signal: rank}.
        highlights: per row of `rows`, its highlights (None: no highlights).

    Raises:
        CitationError: a passage is not the exact slice of its document.
    """
    marks = highlights if highlights is not None else [()] * len(rows)
    hits = []
    for rank, (row, row_ranks, row_marks) in enumerate(zip(rows, ranks, marks), start=1):
        passage = index.passages[row]
        verify(passage, index.documents.get(passage.doc_id))
        document = index.documents[passage.doc_id]  # verify raised if it is missing
        hits.append(
            Hit(
                passage=passage,
                score=scores[row],
                rank=rank,
                citation=cite(passage, document),
                scores=signal_scores[row],
                ranks=row_ranks,
                highlights=row_marks,
            )
        )
    return hits
