"""What the encoder reads for a passage (context + text), and passage and sentence vectors from it."""

from __future__ import annotations

import logging

import numpy as np

from qa.config import Context, IndexSettings, SentencePooling
from qa.embedding import Embedder
from qa.types import Passage

__all__ = ["context_text", "embed_passages"]

logger = logging.getLogger(__name__)


def _cut_to_tokens(text: str, embedder: Embedder, n: int) -> str:
    spans = embedder.token_spans(text)
    return text if len(spans) <= n else text[: spans[n - 1][1]]


def context_text(passage: Passage, settings: IndexSettings, embedder: Embedder | None = None) -> str:
    """The text that is embedded and BM25-indexed for a passage: context + passage."""
    ctx = ""
    if settings.context in (Context.TITLE.value, Context.HEADING.value):
        ctx = passage.title
    if settings.context == Context.HEADING.value and passage.heading and passage.heading != passage.title:
        ctx = f"{passage.title} - {passage.heading}"
    # Skip the context when the passage already starts with it (e.g. the title paragraph).
    if not ctx or passage.text.startswith(ctx):
        return passage.text
    if embedder is not None and settings.context_tokens:
        ctx = _cut_to_tokens(ctx, embedder, settings.context_tokens)
    return f"{ctx}\n{passage.text}"


def embed_passages(
    embedder: Embedder,
    passages: list[Passage],
    texts: list[str],
    sentences: list[list[tuple[int, int]]],
    settings: IndexSettings,
    *,
    show_progress: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Passage vectors (of `texts`) and the vectors of their `sentences`, in order.

    With `late` pooling each passage is read once, in pieces (context prefix, then the
    passage cut at its sentence spans), and a sentence's vector pools its tokens from
    that pass. Otherwise sentences are embedded on their own, in the same call.
    """
    n_sentences = sum(len(s) for s in sentences)
    logger.info("embedding %d passages and %d sentences with %s", len(passages), n_sentences, embedder.name)
    if not sentences:
        return embedder.embed(texts, show_progress=show_progress), np.zeros(
            (0, embedder.dimension), np.float32
        )
    if settings.sentence_pooling == SentencePooling.LATE.value:
        pieces, picks = [], []
        for p, text, spans in zip(passages, texts, sentences):
            prefix = text[: len(text) - len(p.text)]  # the context before the passage text
            parts, sentence_parts, at = [prefix], [], p.start
            for a, b in spans:
                parts.append(p.text[at - p.start : a - p.start])  # the gap (usually whitespace)
                sentence_parts.append(len(parts))
                parts.append(p.text[a - p.start : b - p.start])
                at = b
            parts.append(p.text[at - p.start :])
            pieces.append(parts)
            picks.append(sentence_parts)
        vectors, piece_vectors = embedder.embed_pieces(pieces, show_progress=show_progress)
        chosen = [pv[idx] for pv, idx in zip(piece_vectors, picks)]
        return vectors, np.concatenate(chosen) if chosen else np.zeros((0, embedder.dimension), np.float32)
    texts_all = texts + [
        p.text[a - p.start : b - p.start] for p, spans in zip(passages, sentences) for a, b in spans
    ]
    vectors = embedder.embed(texts_all, show_progress=show_progress)
    return vectors[: len(texts)], vectors[len(texts) :]
