"""Term coverage: the share of a question's terms that a passage's own text contains.

A rerank signal (issue #13). Terms are BM25's (`qa.lexical.tokenize`: lower-cased, stop
words removed, stemmed), counted once each. Only the passage's text counts, not the
title and heading its BM25 text carries as context: a heading shared by every passage of
a section says nothing about which of them answers (measured: counting the context hurt
the seeds' train split, docs/QUALITY.md "Robust defaults across four collections").
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from qa.index import Index
from qa.lexical import distinct_terms, tokenize

__all__ = ["question_terms", "term_coverage"]

# The question's distinct BM25 terms, in order of first use.
question_terms = distinct_terms


@lru_cache(maxsize=4096)
def _context_terms(title: str, heading: str | None) -> frozenset[str]:
    return frozenset(tokenize(f"{title} {heading or ''}"))


def term_coverage(index: Index, question: str, rows: Sequence[int]) -> np.ndarray:
    """Share (0..1, float64) of the question's distinct terms found in each row's passage text.

    The BM25 matrix gives which terms each row's BM25 text holds; a term that is also in
    the row's title or heading is checked against the passage text itself, so the result
    equals `len(terms ∩ tokenize(text)) / len(terms)` while tokenizing only those few
    passages. A question term the index has never seen counts in the denominator. All
    zeros when the question has no term.
    """
    terms = question_terms(question)
    hits = index.bm25.term_hits(terms, rows)
    if not terms or not hits.any():
        return np.zeros(len(rows), dtype=np.float64)
    for i in np.flatnonzero(hits.any(axis=1)):
        p = index.passages[int(rows[i])]
        context = _context_terms(p.title, p.heading)
        shared = [j for j in np.flatnonzero(hits[i]) if terms[j] in context]
        if shared:
            text_terms = set(tokenize(p.text))
            for j in shared:
                hits[i, j] = terms[j] in text_terms
    return hits.sum(axis=1, dtype=np.float64) / len(terms)
