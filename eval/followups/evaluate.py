"""Score follow-up conversations with and without conversation context (R@1, R@5), per split.

Three groups of turns (see `qa.evaluation.conversations`): follow-ups as asked, their
stand-alone rewrites asked with the same history, and first turns asked after the
previous conversation (a topic change). Each is asked without history and with it.
Also prints how often the follow-up detector is right.

Usage (from the repository root)::

    .venv/bin/python eval/followups/evaluate.py eval/followups/seeds.jsonl --corpus seeds --index /tmp/seeds-idx
    .venv/bin/python eval/followups/evaluate.py FILE --corpus DIR --index DIR --grid   # tune on train
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import sys
from pathlib import Path

from qa.errors import QAError
from qa.evaluation.conversations import (
    GROUPS,
    detector_accuracy,
    parse_conversations,
    score_group,
    turn_cases,
)
from qa.retrieval import Retriever
from qa.retrieval.conversation import ContextWeights

logger = logging.getLogger("followups.evaluate")

HERE = Path(__file__).resolve().parent
GRID = (0.0, 0.25, 0.5, 0.75, 1.0)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def evaluate(retriever: Retriever, conversations, splits: list[str | None]) -> list[dict]:
    documents = retriever.index.documents
    rows = []
    for split in splits:
        cases = turn_cases(conversations, split=split)
        for group in GROUPS:
            part = [c for c in cases if c.group == group]
            if not part:
                continue
            alone = score_group(retriever, part, documents, with_context=False)
            context = score_group(retriever, part, documents, with_context=True)
            rows.append(
                {"split": split or "all", "group": group, "n": len(part), "without": alone, "with": context}
            )
        rows.append(
            {"split": split or "all", "group": "detector", **detector_accuracy(cases, retriever=retriever)}
        )
    return rows


def table(rows: list[dict], name: str) -> str:
    out = [
        f"{name}:",
        "",
        "| split | turns | n | R@1 alone | R@1 with context | R@5 alone | R@5 with context |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r["group"] == "detector":
            continue
        a, w = r["without"], r["with"]
        out.append(
            f"| {r['split']} | {r['group']} | {r['n']} | {_fmt(a['recall@1'])} | {_fmt(w['recall@1'])} | "
            f"{_fmt(a['recall@5'])} | {_fmt(w['recall@5'])} |"
        )
    out.append("")
    for r in rows:
        if r["group"] == "detector":
            out.append(
                f"detector ({r['split']}): follow-ups detected {r['followups_detected']}/{r['followups']}, "
                f"stand-alone kept {r['standalone_kept']}/{r['standalone']}, accuracy {r['accuracy']:.3f}"
            )
    return "\n".join(out)


def grid(retriever: Retriever, conversations) -> list[tuple[float, float, float, float]]:
    """(bm25 weight, dense weight, follow-up R@5 + R@1, rewritten R@5) on the train split."""
    cases = turn_cases(conversations, split="train")
    followups = [c for c in cases if c.group == "followup"]
    rewritten = [c for c in cases if c.group == "rewritten"]
    out = []
    for w, beta in itertools.product(GRID, GRID):
        retriever.context_weights = ContextWeights(bm25=w, dense=beta)
        f = score_group(retriever, followups, retriever.index.documents, with_context=True)
        r = score_group(retriever, rewritten, retriever.index.documents, with_context=True)
        out.append((w, beta, f["recall@5"] + f["recall@1"], r["recall@5"]))
        logger.info("bm25 %.2f dense %.2f: follow-up R@1+R@5 %.3f, rewritten R@5 %.3f", *out[-1])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", nargs="?", type=Path, default=HERE / "seeds.jsonl")
    parser.add_argument(
        "--corpus", type=Path, required=True, help="the corpus folder the index was built from"
    )
    parser.add_argument("--index", type=Path, required=True, help="an index built from --corpus")
    parser.add_argument("--split", choices=["train", "test", "all", "each"], default="each")
    parser.add_argument("--bm25-weight", type=float, default=None, help="override the context BM25 weight")
    parser.add_argument("--dense-weight", type=float, default=None, help="override the context vector weight")
    parser.add_argument("--grid", action="store_true", help="try a grid of weights on the train split")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        conversations = parse_conversations(args.file.read_text(encoding="utf-8"), name=args.file.name)
        retriever = Retriever.open(args.index, corpus_dir=args.corpus)
        base = retriever.context_weights
        retriever.context_weights = ContextWeights(
            bm25=base.bm25 if args.bm25_weight is None else args.bm25_weight,
            dense=base.dense if args.dense_weight is None else args.dense_weight,
            decay=base.decay,
            max_turns=base.max_turns,
        )
        if args.grid:
            grid(retriever, conversations)
            return 0
        splits: list[str | None] = {"each": ["train", "test"], "all": [None]}.get(args.split, [args.split])
        rows = evaluate(retriever, conversations, splits)
    except (QAError, OSError) as exc:
        logger.error("error: %s", exc)
        return 1
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(table(rows, args.file.name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
