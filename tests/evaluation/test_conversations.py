"""Follow-up evaluation: parsing conversation files, the split rule, the scored groups."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.errors import InputError
from qa.evaluation.conversations import (
    GROUPS,
    detector_accuracy,
    parse_conversations,
    score_group,
    split_of,
    turn_cases,
)

ROOT = Path(__file__).resolve().parents[2]


def _conv(cid: str, *turns: dict) -> str:
    return json.dumps({"id": cid, "turns": list(turns)})


A = {"doc": "d.txt", "quote": "x"}


def test_split_rule_odd_train_even_test() -> None:
    assert split_of("f01") == "train" and split_of("dmf12") == "test"
    with pytest.raises(InputError, match="must end in a number"):
        split_of("abc")


def test_malformed_conversation_names_its_line() -> None:
    with pytest.raises(InputError, match=r"x\.jsonl:2"):
        parse_conversations(_conv("c1", {"question": "q", "answers": [A]}) + "\n{}", name="x.jsonl")


def test_turn_cases_groups() -> None:
    text = "\n".join(
        [
            _conv(
                "c1",
                {"question": "How many died in April?", "answers": [A]},
                {"question": "and in May?", "standalone": "How many died in May?", "answers": [A]},
            ),
            _conv(
                "c2",
                {"question": "Who won?", "answers": [A]},
                {"question": "Where is Basra?", "followup": False, "answers": [A]},
                {"question": "And its size?", "standalone": "How big is Basra?", "answers": [A]},
            ),
        ]
    )
    cases = turn_cases(parse_conversations(text))
    by_group = {
        g: [(c.question.qid, c.question.question, c.history) for c in cases if c.group == g] for g in GROUPS
    }
    assert by_group["followup"] == [
        ("c1.2", "and in May?", ("How many died in April?",)),
        ("c2.3", "And its size?", ("Who won?", "Where is Basra?")),
    ]
    assert [q for q, _, _ in by_group["last turn"]] == ["c1.2", "c2.3"]
    assert by_group["rewritten"][0][1] == "How many died in May?"
    assert by_group["later alone"] == [("c2.2", "Where is Basra?", ("Who won?",))]
    # A first turn is asked after the previous conversation: a topic change.
    assert by_group["topic change"] == [("c2.1", "Who won?", ("How many died in April?", "and in May?"))]
    assert {c.question.qid for c in turn_cases(parse_conversations(text), split="test")} == {
        "c2.1",
        "c2.2",
        "c2.3",
    }


def test_seed_conversations_scored_with_and_without_context(seed_retriever) -> None:
    text = (ROOT / "eval" / "followups" / "seeds.jsonl").read_text(encoding="utf-8")
    cases = turn_cases(parse_conversations(text), split="train")
    followups = [c for c in cases if c.group == "followup"]
    documents = seed_retriever.index.documents
    alone = score_group(seed_retriever, followups, documents, with_context=False)
    context = score_group(seed_retriever, followups, documents, with_context=True)
    assert set(alone) == {"recall@1", "recall@5"}
    # The measured gain (docs/QUALITY.md): the history must help follow-ups, not just not hurt.
    assert context["recall@5"] > alone["recall@5"]
    accuracy = detector_accuracy(cases, retriever=seed_retriever)
    assert accuracy["followups"] == len(followups)
    assert 0.0 <= accuracy["accuracy"] <= 1.0
