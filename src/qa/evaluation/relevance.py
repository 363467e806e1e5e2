"""The relevance rule of question sets, and the passage-level qrels it gives.

A passage is relevant to a question when it comes from the document of one of the
question's expected quotes and its `[start, end)` range covers at least half of that
quote's characters (any occurrence of the quote counts): `{qid: {passage_id: 1}}`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from qa.evaluation.questions import ExpectedAnswer, Question
from qa.types import Passage

__all__ = ["RELEVANCE_RULE", "build_qrels", "is_relevant"]

logger = logging.getLogger(__name__)

RELEVANCE_RULE = (
    "a passage is relevant when it comes from the quote's document and its [start, end) "
    "covers at least half of the quote's characters"
)

# Configuration name -> keyword arguments for `Retriever(index, **kwargs)`. Variants


def is_relevant(passage: Passage, answer: ExpectedAnswer) -> bool:
    """True if `passage` is from `answer.doc` and covers at least half of one quote occurrence."""
    if passage.doc_id != answer.doc:
        return False
    for start, end in answer.spans:
        covered = min(passage.end, end) - max(passage.start, start)
        if 2 * covered >= end - start > 0:
            return True
    return False


def build_qrels(questions: Sequence[Question], passages: Sequence[Passage]) -> dict[str, dict[str, int]]:
    """Passage-level qrels `{qid: {passage_id: 1}}` for the answerable questions.

    Quotes must be located first (`validate_quotes`). A quote that no single passage
    covers by half (it spans several passages) is logged: its question may be unfindable.
    """
    by_doc: dict[str, list[Passage]] = {}
    for p in passages:
        by_doc.setdefault(p.doc_id, []).append(p)
    qrels: dict[str, dict[str, int]] = {}
    for q in questions:
        if not q.answerable:
            continue
        rels: dict[str, int] = {}
        for a in q.answers:
            found = [p.passage_id for p in by_doc.get(a.doc, ()) if is_relevant(p, a)]
            if not found:
                logger.warning(
                    "question %s: no single passage covers half of the quote %r; it cannot be found",
                    q.qid,
                    a.quote[:60],
                )
            rels.update({pid: 1 for pid in found})
        qrels[q.qid] = rels
    return qrels
