"""The follow-up detector and the query blending (pure), and follow-ups searched end to end (real model, seeds)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from qa.errors import ConfigError
from qa.evaluation.questions import ExpectedAnswer, Question, validate_quotes
from qa.evaluation.relevance import build_qrels
from qa.retrieval.conversation import (
    ContextWeights,
    blend_bm25,
    blend_vectors,
    content_words,
    contexts_for,
    is_followup,
    query_context,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "question",
    [
        "and in May?",
        "Who replaced him?",
        "What about the British?",
        "Which party is he from?",
        "And conflicts?",
    ],
)
def test_follow_ups_are_detected(question: str) -> None:
    assert is_followup(question)


@pytest.mark.parametrize(
    "question",
    [
        "How many US soldiers died in Iraq in May?",
        "Who replaced Ibrahim al-Jaafari as the shia bloc's nominee for prime minister?",
        "Which characters may a Debian package name contain?",
    ],
)
def test_stand_alone_questions_are_kept(question: str) -> None:
    assert not is_followup(question)


def test_content_words_drop_question_and_pronoun_words() -> None:
    assert content_words("Which party is he from?") == ["party"]
    assert content_words("and in 2003?") == ["2003"]


def test_query_context_uses_previous_question_and_chains_through_follow_ups() -> None:
    weights = ContextWeights(bm25=0.4, dense=0.6, decay=0.5)
    assert query_context("Who replaced him?", [], weights=weights) is None
    assert query_context("Who was nominated prime minister of Iraq?", ["Who replaced him?"]) is None
    history = ["How many US soldiers died in Iraq in April?", "What about May?"]
    ctx = query_context("And June?", history, weights=weights)
    assert ctx is not None
    # The previous turn was itself a follow-up: the one before it is used too, at half the weight.
    assert ctx.earlier == ("What about May?", history[0])
    assert ctx.bm25_weights == pytest.approx((0.4, 0.2))
    assert ctx.dense_weights == pytest.approx((0.6, 0.3))
    # A stand-alone previous question stops the chain.
    ctx = query_context("and in May?", ["Who won the election?", history[0]])
    assert ctx is not None and ctx.earlier == (history[0],)


def test_blend_vectors_is_normalised_and_weight_zero_keeps_the_question() -> None:
    rng = np.random.default_rng(0)
    a, b = (v / np.linalg.norm(v) for v in rng.normal(size=(2, 8)).astype(np.float32))
    out = blend_vectors(a, [b], [0.5])
    assert out.dtype == np.float32 and np.linalg.norm(out) == pytest.approx(1.0, abs=1e-6)
    expected = (a + 0.5 * b) / np.linalg.norm(a + 0.5 * b)
    assert np.allclose(out, expected, atol=1e-6)
    assert np.allclose(blend_vectors(a, [b], [0.0]), a, atol=1e-6)


def test_blend_bm25_adds_weighted_scores_and_treats_missing_terms_as_zero() -> None:
    new = np.array([1.0, 0.0, 2.0], dtype=np.float32)
    prev = np.array([0.0, 4.0, 2.0], dtype=np.float32)
    assert np.allclose(blend_bm25(new, [prev], [0.5]), [1.0, 2.0, 3.0])
    assert np.allclose(blend_bm25(None, [prev], [0.5]), [0.0, 2.0, 1.0])
    assert blend_bm25(None, [None], [0.5]) is None


def test_contexts_for_checks_the_history_shape() -> None:
    assert contexts_for(["q"], None) == [None]
    with pytest.raises(ConfigError, match="one list of earlier questions per question"):
        contexts_for(["a", "b"], [["x"]])
    with pytest.raises(ConfigError, match="not a string"):
        contexts_for(["and then?"], ["How many died?"])


# -- end to end: the real model, FAISS and the seed documents --------------------------------


def _relevant_rank(retriever, question: Question, hits) -> int | None:
    (q,) = validate_quotes([question], retriever.index.documents)
    relevant = build_qrels([q], retriever.index.passages)[q.qid]
    ranks = [h.rank for h in hits if h.passage_id in relevant]
    return min(ranks) if ranks else None


def _seed_turn(cid: str, n: int) -> tuple[Question, list[str]]:
    for line in (ROOT / "eval" / "followups" / "seeds.jsonl").read_text(encoding="utf-8").splitlines():
        conversation = json.loads(line)
        if conversation["id"] == cid:
            turns = conversation["turns"]
            answers = tuple(ExpectedAnswer(a["doc"], a["quote"]) for a in turns[n - 1]["answers"])
            return Question(f"{cid}.{n}", turns[n - 1]["question"], answers), [
                t["question"] for t in turns[: n - 1]
            ]
    raise LookupError(cid)


@pytest.mark.parametrize(("cid", "n"), [("f08", 2), ("f17", 2)])
def test_follow_up_is_found_with_its_history(seed_retriever, cid: str, n: int) -> None:
    question, history = _seed_turn(cid, n)
    with_context = seed_retriever.search(question.question, k=5, history=history)
    alone = seed_retriever.search(question.question, k=5)
    rank = _relevant_rank(seed_retriever, question, with_context)
    assert rank is not None
    before = _relevant_rank(seed_retriever, question, alone)
    assert before is None or before > rank


def test_answer_records_the_earlier_turn_and_json_is_unchanged_without_history(seed_retriever) -> None:
    history = ["Who did the UIA first nominate to lead the government?"]
    answer = seed_retriever.ask("Who replaced him?", k=3, history=history)
    assert answer.read_with == tuple(history)
    assert answer.to_dict()["read_with"] == history
    plain = seed_retriever.ask("Who replaced him?", k=3)
    assert plain.read_with is None and "read_with" not in plain.to_dict()
    assert list(plain.to_dict()) == ["id", "question", "answered", "confidence", "passages"]


def test_stand_alone_question_is_searched_the_same_with_history(seed_retriever) -> None:
    question = "How many seats did the Shia coalition win in the assembly?"
    history = ["How many US soldiers died in Iraq in May?"]
    with_history = seed_retriever.ask(question, k=5, history=history)
    alone = seed_retriever.ask(question, k=5)
    assert with_history.read_with == ()
    assert [h.passage_id for h in with_history.hits] == [h.passage_id for h in alone.hits]
    assert [h.score for h in with_history.hits] == [h.score for h in alone.hits]


def test_detector_makes_no_false_follow_up_on_the_seed_first_turns() -> None:
    lines = (ROOT / "eval" / "followups" / "seeds.jsonl").read_text(encoding="utf-8").splitlines()
    first = [json.loads(line)["turns"][0]["question"] for line in lines if line.strip()]
    assert len(first) >= 30
    assert [q for q in first if is_followup(q)] == []
