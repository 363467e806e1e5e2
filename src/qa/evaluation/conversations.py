"""Follow-up evaluation: conversations of 2-3 turns, scored with and without conversation context.

A conversation file (eval/followups/README.md) has one conversation per line:
`{"id", "turns": [{"question", "standalone"?, "answers"}]}`. Turn 1 stands alone; a turn
with `standalone` is a follow-up, and `standalone` is its rewrite. Three groups of
turns are scored, each once without history and once with it:

- `last turn`: each conversation's last turn as asked, with the earlier questions;
- `followup`: the follow-up turns as asked, with the earlier questions as history;
- `later alone`: later turns marked `"followup": false` (a new question mid-conversation);
- `rewritten`: the rewrites, which stand alone, with the same history (context must
  not hurt them);
- `topic change`: each first turn, with the previous conversation of the file as
  history (stand-alone questions after an unrelated conversation).

Split rule: a conversation id ends in a number; odd numbers are `train`, even `test`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from qa.errors import InputError
from qa.evaluation.metrics import ranking_metrics
from qa.evaluation.questions import ExpectedAnswer, Question, validate_quotes
from qa.evaluation.relevance import build_qrels
from qa.retrieval import Retriever
from qa.retrieval.conversation import is_followup

__all__ = [
    "GROUPS",
    "Conversation",
    "Turn",
    "TurnCase",
    "detector_accuracy",
    "parse_conversations",
    "score_group",
    "split_of",
    "turn_cases",
]

GROUPS = ("last turn", "followup", "rewritten", "later alone", "topic change")
METRICS = ("recall@1", "recall@5")
_TRAILING_NUMBER = re.compile(r"(\d+)$")


@dataclass(frozen=True)
class Turn:
    question: str
    answers: tuple[ExpectedAnswer, ...]
    standalone: str | None = None
    followup: bool = True  # later turns only; `"followup": false` marks one that stands alone


@dataclass(frozen=True)
class Conversation:
    cid: str
    turns: tuple[Turn, ...]


@dataclass(frozen=True)
class TurnCase:
    """One scored question: its group, the question asked, its history and expected answers."""

    group: str
    question: Question
    history: tuple[str, ...]
    followup: bool  # what the question really is (from the file), for the detector


def split_of(cid: str) -> str:
    """`train` for an odd trailing number, `test` for an even one."""
    m = _TRAILING_NUMBER.search(cid)
    if not m:
        raise InputError(f"conversation id {cid!r} must end in a number (odd: train, even: test)")
    return "train" if int(m.group(1)) % 2 else "test"


def parse_conversations(text: str, *, name: str = "<conversations>") -> list[Conversation]:
    """Conversations from JSONL text; InputError naming the line for a malformed one."""
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            turns = tuple(
                Turn(
                    question=t["question"],
                    answers=tuple(ExpectedAnswer(doc=a["doc"], quote=a["quote"]) for a in t["answers"]),
                    standalone=t.get("standalone"),
                    followup=t.get("followup", True) is not False,
                )
                for t in row["turns"]
            )
            out.append(Conversation(cid=str(row["id"]), turns=turns))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise InputError(
                f"{name}:{n}: expected {{'id', 'turns': [{{'question', 'answers'}}]}} ({exc}); "
                "see eval/followups/README.md"
            ) from None
    return out


def turn_cases(conversations: Sequence[Conversation], *, split: str | None = None) -> list[TurnCase]:
    """The scored questions of every group (ids `<conversation>.<turn>`), for one split or all."""
    cases: list[TurnCase] = []
    previous: Conversation | None = None
    for conv in conversations:
        if split is None or split_of(conv.cid) == split:
            asked = [t.question for t in conv.turns]
            first = conv.turns[0]
            if previous is not None:
                cases.append(
                    TurnCase(
                        "topic change",
                        Question(f"{conv.cid}.1", first.question, first.answers),
                        tuple(t.question for t in previous.turns),
                        followup=False,
                    )
                )
            for n, turn in enumerate(conv.turns[1:], 2):
                history = tuple(asked[: n - 1])
                qid = f"{conv.cid}.{n}"
                asked_q = Question(qid, turn.question, turn.answers)
                if n == len(conv.turns):
                    cases.append(TurnCase("last turn", asked_q, history, turn.followup))
                cases.append(
                    TurnCase("followup" if turn.followup else "later alone", asked_q, history, turn.followup)
                )
                if turn.standalone:
                    q = Question(qid, turn.standalone, turn.answers)
                    cases.append(TurnCase("rewritten", q, history, followup=False))
        previous = conv
    return cases


def score_group(
    retriever: Retriever,
    cases: Sequence[TurnCase],
    documents: Mapping,
    *,
    with_context: bool,
    k: int = 10,
) -> dict[str, float | None]:
    """R@1 and R@5 of `cases` (one group), asked with their history or without."""
    questions = validate_quotes([c.question for c in cases], documents)
    history = [list(c.history) for c in cases] if with_context else None
    results = retriever.search_many([q.question for q in questions], k=k, history=history)
    run = {
        q.qid: {h.passage_id: 1.0 / h.rank for h in hits} for q, hits in zip(questions, results, strict=True)
    }
    return ranking_metrics(build_qrels(questions, retriever.index.passages), run, METRICS)


def detector_accuracy(cases: Sequence[TurnCase], *, retriever: Retriever) -> dict[str, float | int]:
    """How often the follow-up detector is right: on follow-ups (recall) and stand-alone questions."""
    cases = [c for c in cases if c.group != "last turn"]  # each turn counted once
    followups = [c for c in cases if c.followup]
    alone = [c for c in cases if not c.followup]
    rule = retriever.followup_rule
    caught = sum(is_followup(c.question.question, rule=rule) for c in followups)
    kept = sum(not is_followup(c.question.question, rule=rule) for c in alone)
    total = len(followups) + len(alone)
    return {
        "followups": len(followups),
        "followups_detected": caught,
        "standalone": len(alone),
        "standalone_kept": kept,
        "accuracy": (caught + kept) / total if total else 0.0,
    }
