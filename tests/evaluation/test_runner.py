"""The evaluation loop's pure parts: judged items at passage and document level, one Question."""

from __future__ import annotations

from qa.citations import cite
from qa.evaluation.questions import ExpectedAnswer, Question, parse_question_set
from qa.evaluation.runner import document_items, passage_items
from qa.types import Document, Hit, Passage


def _hit(pid: str, doc_id: str, rank: int, score: float) -> Hit:
    doc = Document(doc_id=doc_id, title=doc_id, text="xx", sha256="0", size=2, fmt="txt")
    p = Passage(pid, doc_id, doc_id, "xx", 0, 2, 1, 1)
    return Hit(passage=p, score=score, rank=rank, citation=cite(p, doc))


def test_passage_items_keep_every_hit_and_its_rank() -> None:
    hits = [_hit("a#0", "a", 1, 0.9), _hit("b#0", "b", 2, 0.8)]
    assert [(i, r) for i, r, _ in passage_items(hits)] == [("a#0", 1), ("b#0", 2)]


def test_document_items_rank_documents_by_their_best_passage() -> None:
    hits = [
        _hit("a#1", "a", 1, 0.9),
        _hit("b#0", "b", 2, 0.8),
        _hit("a#0", "a", 3, 0.7),
        _hit("c#0", "c", 4, 0.6),
    ]
    items = document_items(hits, k=2)
    assert [(i, r, h.passage_id) for i, r, h in items] == [("a", 1, "a#1"), ("b", 2, "b#0")]


def test_question_line_is_where_it_came_from_not_what_it_is() -> None:
    (q,) = parse_question_set('\n{"id": "q1", "question": "Q?", "answers": []}\n', fmt="jsonl")
    assert q.line == 2
    assert q == Question("q1", "Q?", ())
    (c,) = parse_question_set("id,question,doc,quote\nq1,Q?,b.txt,yeast\n", fmt="csv")
    assert c.line == 2 and c.answers == (ExpectedAnswer("b.txt", "yeast"),)
