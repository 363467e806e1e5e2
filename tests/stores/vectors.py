"""Test data for stores: random unit vectors, and topic-like clustered vectors with queries."""

from __future__ import annotations

import numpy as np


def unit(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def clustered(
    rng: np.random.Generator, n: int, d: int, clusters: int, *, queries: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Topic-like data and queries: unit vectors scattered around shared random centres.

    Each vector has cosine ~0.7 with its centre; queries are drawn the same way, as
    questions are about the topics of the collection.
    """
    centres = unit(rng, clusters, d)

    def draw(m: int) -> np.ndarray:
        x = centres[rng.integers(0, clusters, m)] + rng.standard_normal((m, d)).astype(np.float32) / np.sqrt(
            d
        )
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    return draw(n), draw(queries)
