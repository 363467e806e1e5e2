"""Retrieval: the Retriever and its steps (candidates, scoring, hits).

`retriever` orchestrates; `candidates` is the only caller of the vector search and
BM25 scoring; `scoring` holds the pure fusion and rerank functions; `hits` orders,
checks, highlights and builds the hits.
"""

from __future__ import annotations

from qa.retrieval.retriever import BM25_WEIGHT, DEFAULT_THRESHOLD, DENSE_WEIGHT, Retriever

__all__ = ["BM25_WEIGHT", "DEFAULT_THRESHOLD", "DENSE_WEIGHT", "Retriever"]
