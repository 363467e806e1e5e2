"""Check eval/followups/seeds.jsonl: its shape, and every quote against the seed documents as qa reads them.

Each line is one conversation, `{"id", "turns": [{"question", "standalone"?, "answers"}]}`
with 2-3 turns; the first turn stands alone (no "standalone" field), every later turn
is a follow-up and carries "standalone", the same question rewritten to stand alone,
unless it is marked `"followup": false` (a later question that needs no context).
Every quote must be found in its document with qa's own `validate_quotes`.

Usage (from the repository root)::

    .venv/bin/python eval/followups/validate.py [FILE] [--corpus seeds]
    .venv/bin/python eval/followups/validate.py eval/followups/debian-manuals.jsonl \
        --corpus eval/collections/debian-manuals/corpus
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from qa.errors import QAError
from qa.evaluation.questions import parse_question_set, validate_quotes
from qa.ingest import scan_corpus

logger = logging.getLogger("followups.validate")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


class FollowupError(Exception):
    """A conversation is malformed; the message names its id and the problem."""


def turn_questions(conversation: dict, where: str) -> list[dict]:
    """One qa question row per turn (id `<conversation id>.<turn number>`), after checking the shape."""
    cid = conversation.get("id")
    turns = conversation.get("turns")
    if not isinstance(cid, str) or not isinstance(turns, list) or not 2 <= len(turns) <= 3:
        raise FollowupError(f"{where}: a conversation needs a string 'id' and 2-3 'turns'")
    rows = []
    for n, turn in enumerate(turns, 1):
        if not turn.get("question") or not turn.get("answers"):
            raise FollowupError(
                f"{where} ({cid} turn {n}): each turn needs a 'question' and at least one answer"
            )
        alone = n == 1 or turn.get("followup") is False
        if alone == ("standalone" in turn):
            raise FollowupError(
                f"{where} ({cid} turn {n}): only follow-up turns (2 and 3) carry 'standalone', and they "
                'must, unless marked "followup": false'
            )
        rows.append({"id": f"{cid}.{n}", "question": turn["question"], "answers": turn["answers"]})
    return rows


def validate(path: Path, corpus: Path) -> None:
    documents = {d.doc_id: d for d in scan_corpus(corpus).documents}
    rows: list[dict] = []
    ids: set[str] = set()
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        conversation = json.loads(line)
        if conversation.get("id") in ids:
            raise FollowupError(f"{path.name}:{lineno}: id {conversation.get('id')!r} appears twice")
        ids.add(conversation.get("id"))
        rows.extend(turn_questions(conversation, f"{path.name}:{lineno}"))
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    validate_quotes(parse_question_set(text, fmt="jsonl", name=path.name), documents)
    logger.info(
        "%s: %d conversations, %d turns, all quotes found in %s", path.name, len(ids), len(rows), corpus
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", nargs="?", type=Path, default=HERE / "seeds.jsonl")
    parser.add_argument("--corpus", type=Path, default=ROOT / "seeds")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        validate(args.file, args.corpus)
    except (FollowupError, QAError, json.JSONDecodeError) as exc:
        logger.error("error: %s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
