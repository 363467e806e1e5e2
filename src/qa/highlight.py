"""Answer highlighting: the sentences of a passage that best match the question.

Each sentence is a span of the passage (found with the same sentence splitter the
chunker uses), scored by cosine similarity between its embedding and the question's.
No text is generated; highlights are offsets into the document.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from qa.chunking import split_sentences
from qa.embedding import Embedder
from qa.types import Highlight, Hit

__all__ = ["sentence_spans", "highlight_hits"]


def sentence_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans (document offsets) inside `text[start:end]`."""
    return split_sentences(text, start, end) or [(start, end)]


def highlight_hits(
    query_vector: np.ndarray,
    hits: Sequence[Hit],
    documents: dict,
    embedder: Embedder,
    *,
    top: int = 1,
    relative: float = 0.9,
) -> list[tuple[Highlight, ...]]:
    """For each hit, its best sentence plus any scoring within `relative` of it (at most `top`+1).

    Args:
        query_vector: the question's normalised embedding, shape (d,).
        hits: hits whose passages are scored.
        documents: doc_id -> Document, for the exact text.
        embedder: the index's model.
        top: sentences always kept per passage.
        relative: also keep sentences scoring at least this fraction of the best.

    Returns:
        Highlights per hit, best first, offsets into the document text.
    """
    spans: list[list[tuple[int, int]]] = []
    texts: list[str] = []
    for hit in hits:
        doc = documents[hit.passage.doc_id]
        s = sentence_spans(doc.text, hit.passage.start, hit.passage.end)
        spans.append(s)
        texts.extend(doc.text[a:b] for a, b in s)
    if not texts:
        return [() for _ in hits]
    sims = embedder.embed(texts) @ np.asarray(query_vector, dtype=np.float32)
    out: list[tuple[Highlight, ...]] = []
    i = 0
    for s in spans:
        scores = sims[i : i + len(s)]
        i += len(s)
        order = sorted(range(len(s)), key=lambda j: (-scores[j], j))
        best = float(scores[order[0]])
        keep = [
            j
            for n, j in enumerate(order)
            if n < top or (n <= top and scores[j] >= relative * best and best > 0)
        ]
        out.append(tuple(Highlight(s[j][0], s[j][1], float(scores[j])) for j in keep))
    return out
