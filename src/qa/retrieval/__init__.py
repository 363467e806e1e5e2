"""Retrieval: the Retriever and its steps (candidates, scoring, hits).

`retriever` orchestrates; `filters` turns a Filter into allowed rows; `candidates` is
the only caller of the vector search and BM25 scoring (filtered before the top-k);
`scoring` holds the pure fusion and rerank functions; `hits` orders, checks,
highlights and builds the hits.
"""

from __future__ import annotations

from qa.retrieval.filters import Filter
from qa.retrieval.retriever import BM25_WEIGHT, COVERAGE_WEIGHT, DEFAULT_THRESHOLD, DENSE_WEIGHT, Retriever

__all__ = ["BM25_WEIGHT", "COVERAGE_WEIGHT", "DEFAULT_THRESHOLD", "DENSE_WEIGHT", "Filter", "Retriever"]
