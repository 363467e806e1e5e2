"""Rank fusion of several ranked lists (reciprocal rank fusion)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["rrf"]


def rrf(
    rankings: Mapping[str, Sequence[int]], *, k: int = 60, weights: Mapping[str, float] | None = None
) -> dict[int, float]:
    """Reciprocal rank fusion: score(d) = sum_s w_s / (k + rank_s(d)), ranks from 1.

    Args:
        rankings: signal name -> row ids, best first.
        k: smoothing constant (Cormack et al. 2009 use 60).
        weights: optional weight per signal (default 1).
    """
    fused: dict[int, float] = {}
    for name, rows in rankings.items():
        w = 1.0 if weights is None else weights.get(name, 1.0)
        for rank, row in enumerate(rows, start=1):
            fused[row] = fused.get(row, 0.0) + w / (k + rank)
    return fused
