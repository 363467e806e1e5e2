"""The embedder contract and the helpers every backend shares (normalisation, late pooling)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

__all__ = [
    "Embedder",
    "PieceBatch",
    "embed_in_pieces",
    "join_pieces",
    "normalize_for_model",
    "pool_pieces",
    "progress_bar",
]

_SPACES = re.compile(r"\s+")


@runtime_checkable
class Embedder(Protocol):
    """What the index needs from a model.

    `embed` returns float32 vectors of shape (n, dimension), L2-normalised, so inner
    product equals cosine similarity. `backend` names the registered backend that
    made the embedder (`qa.embedding.BACKENDS`), or is None for a custom embedder.
    """

    name: str
    dimension: int
    max_tokens: int
    backend: str | None

    def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray: ...

    def embed_pieces(
        self, texts: Sequence[Sequence[str]], *, show_progress: bool = False
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """One vector per text and one per piece of it, from one reading of the text.

        Each text is read as `join_pieces(pieces)`; its vector is what `embed` returns
        for that text, and a piece's vector pools the same pass's token vectors over
        the piece (a sentence embedded in its passage's context).
        """
        ...

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        """Character spans of the model's word pieces in `text` (no special tokens)."""
        ...

    def count_tokens(self, text: str) -> int: ...

    def fingerprint(self) -> str:
        """A hash of the weights: vectors of two fingerprints are never mixed."""
        ...


def normalize_for_model(text: str) -> str:
    """What the model reads: NFKC and collapsed whitespace. Shown text is never changed."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip()


def join_pieces(pieces: Sequence[str]) -> tuple[str, list[tuple[int, int]]]:
    """What the model reads for a text given in pieces, and where each piece lies in it.

    Each piece is normalised (`normalize_for_model`) and the pieces are joined with one
    space, so for pieces that partition a text at whitespace the result equals
    `normalize_for_model(text)`. Empty pieces get an empty span.
    """
    parts: list[str] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    for piece in pieces:
        norm = normalize_for_model(piece)
        if not norm:
            spans.append((pos, pos))
            continue
        if parts:
            pos += 1  # the joining space
        parts.append(norm)
        spans.append((pos, pos + len(norm)))
        pos += len(norm)
    return " ".join(parts), spans


def pool_pieces(
    tokens: np.ndarray, offsets: np.ndarray, spans: Sequence[tuple[int, int]], fallback: np.ndarray
) -> np.ndarray:
    """Mean of the token vectors inside each span, L2-normalised ("late chunking").

    `tokens` (n, d) and `offsets` (n, 2) are one text's token vectors and character
    offsets (special and padding tokens have an empty offset and are never inside a
    span). A span with no token (empty, or cut off by the model's input limit) gets
    `fallback`, the vector of the whole text.
    """
    out = np.empty((len(spans), tokens.shape[1]), dtype=np.float32)
    real = offsets[:, 1] > offsets[:, 0]
    for i, (start, end) in enumerate(spans):
        inside = real & (offsets[:, 0] >= start) & (offsets[:, 1] <= end)
        if end > start and inside.any():
            v = tokens[inside].mean(axis=0)
            out[i] = v / max(float(np.linalg.norm(v)), 1e-12)
        else:
            out[i] = fallback
    return out


PieceBatch = tuple[list[int], np.ndarray, Sequence[np.ndarray], Sequence[np.ndarray]]


def embed_in_pieces(
    texts: Sequence[Sequence[str]], dimension: int, run: Callable[[list[str]], Iterable[PieceBatch]]
) -> tuple[np.ndarray, list[np.ndarray]]:
    """`embed_pieces` for any backend: join each text's pieces, run the model, pool.

    `run(joined_texts)` yields batches `(rows, vectors, token_vectors, offsets)`: the
    rows of `joined_texts` in the batch, their normalised text vectors, and per row its
    token vectors and character offsets.
    """
    joined = [join_pieces(p) for p in texts]
    out = np.zeros((len(texts), dimension), dtype=np.float32)
    pieces_out: list[np.ndarray] = [np.zeros((0, dimension), np.float32)] * len(texts)
    if not texts:
        return out, pieces_out
    for rows, vectors, tokens, offsets in run([text for text, _ in joined]):
        for j, i in enumerate(rows):
            out[i] = vectors[j]
            pieces_out[i] = pool_pieces(tokens[j], offsets[j], joined[i][1], vectors[j])
    return out, pieces_out


def progress_bar(total: int, show: bool):
    """A tqdm bar over `total` texts, or None."""
    if not show:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="passage", desc="embedding")
