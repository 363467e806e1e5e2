"""Abstention across collections (issue #13): per-question confidence features and rates.

For every collection of the development suite and each split, ask the default
Retriever every question and record cheap per-question features taken from what the
ranking already returns (no extra model call):

- `sentence`: the answer's confidence today (best sentence cosine of the returned passages);
- `passage`: the best passage cosine (`dense` score) among the returned passages;
- `bm25`: the best BM25 score among the returned passages (raw, not normalised);
- `margin`: final score of rank 1 minus rank 2;
- `agree`: 1 when the top passage is rank 1 for both dense and BM25, else 0.

Question groups per collection and split:
- `answerable`: questions with quotes (false abstention is measured on them);
- `offtopic`: the collection's own off-topic questions (seeds u001-u007; the Debian
  collections' questions without answers), the generic sets (train:
  eval/calibration_offtopic.jsonl, test: eval/offtopic_heldout.jsonl), and
  cross-collection questions: the answerable questions of an unrelated collection,
  from the same split (seeds: odd ids train, even test; SciFact: train / test claims;
  the Debian collections: train.jsonl / test.jsonl), so test questions never enter a fit. debian-manuals and tools-mixed
  overlap, so they are never crossed with each other;
- `unanswerable-ontopic`: seeds u008-u014 (reported, not counted as off-topic).

Then report, per collection and split, abstention on off-topic and false abstention on
answerable at a threshold on one feature (default: `sentence` at the Retriever's
default threshold), and with `--fit` choose the threshold of each feature on the TRAIN
splits pooled across collections by the worst collection (largest worst-collection
off-topic abstention with false abstention <= 2% on every collection), then print the
test splits once for it.

SciFact (with --scifact): answerable = train claims that cite evidence (as in
eval/scripts/tune.py) / the 300 test claims; it has no off-topic questions of its own.

Run (indexes built with `qa index`, see eval/collections/README.md):
  .venv/bin/python eval/scripts/abstention.py --seeds embeddings --scifact embeddings-beir/scifact \
      --collection debian-manuals=/tmp/abstain-idx/debian-manuals \
      --collection tools-mixed=/tmp/abstain-idx/tools-mixed \
      --features eval/reports/abstention-features.jsonl [--fit]
"""

from __future__ import annotations

import argparse
import json
import logging
import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np
from tune import SCIFACT, scifact_train

from qa.evaluation.beir import load_beir
from qa.evaluation.questions import read_question_set
from qa.retrieval import Retriever
from qa.retrieval.retriever import DEFAULT_THRESHOLD

ROOT = Path(__file__).resolve().parents[2]
EVAL = ROOT / "eval"
FEATURES = ("sentence", "passage", "bm25", "margin", "agree")
MAX_FALSE_ABSTENTION = 0.02
# Collections that share a topic and must not serve as each other's off-topic set.
OVERLAP = {frozenset({"debian-manuals", "tools-mixed"})}


def split_of(qid: str) -> str:
    """`train` for an odd trailing id number, else `test` (the seed set's convention)."""
    digits = re.findall(r"\d+", qid)
    return "train" if digits and int(digits[-1]) % 2 == 1 else "test"


# One question: (id, text, answerable).
Item = tuple[str, str, bool]


@cache
def own_questions(name: str) -> dict[str, list[Item]]:
    """A collection's own questions per split."""
    if name == "scifact":
        test = load_beir(SCIFACT)
        train, _ = scifact_train()
        return {
            "train": [(i, train[i], True) for i in sorted(train)],
            "test": [(i, test.queries[i], True) for i in sorted(test.qrels)],
        }
    if name == "seeds":
        qs = read_question_set(EVAL / "seed_questions.jsonl")
        return {
            s: [(q.qid, q.question, q.answerable) for q in qs if split_of(q.qid) == s]
            for s in ("train", "test")
        }
    base = EVAL / "collections" / name
    return {
        s: [(q.qid, q.question, q.answerable) for q in read_question_set(base / f"{s}.jsonl")]
        for s in ("train", "test")
    }


def group_of(name: str, item: Item) -> str:
    qid, _, answerable = item
    if answerable:
        return "answerable"
    if name == "seeds" and qid.startswith("u") and int(qid[1:]) >= 8:
        return "unanswerable-ontopic"
    return "offtopic"


def question_groups(name: str, others: Sequence[str]) -> dict[str, list[tuple[str, str, Item]]]:
    """split -> [(group, source, question)] for collection `name`."""
    generic = {
        "train": read_question_set(EVAL / "calibration_offtopic.jsonl"),
        "test": read_question_set(EVAL / "offtopic_heldout.jsonl"),
    }
    out: dict[str, list[tuple[str, str, Item]]] = {}
    own = own_questions(name)
    for split in ("train", "test"):
        rows = [(group_of(name, q), name, q) for q in own[split]]
        rows += [("offtopic", "generic", (q.qid, q.question, False)) for q in generic[split]]
        for other in others:
            if other == name or frozenset({name, other}) in OVERLAP:
                continue
            # Another collection's answerable questions; its splits are already disjoint.
            rows += [("offtopic", other, q) for q in own_questions(other)[split] if q[2]]
        out[split] = rows
    return out


def features(retriever: Retriever, questions: Sequence[str]) -> list[dict[str, float]]:
    """The per-question features (see the module docstring); NaN when a signal is missing."""
    out = []
    for a in retriever.ask_many(list(questions), highlight=False):
        hits = a.hits
        dense = [h.scores["dense"] for h in hits if "dense" in h.scores]
        bm25 = [h.scores["bm25"] for h in hits if "bm25" in h.scores]
        top = hits[0] if hits else None
        out.append(
            {
                "sentence": float("nan") if a.confidence is None else float(a.confidence),
                "passage": max(dense) if dense else float("nan"),
                "bm25": max(bm25) if bm25 else 0.0,
                "margin": (hits[0].score - hits[1].score) if len(hits) > 1 else float("nan"),
                "agree": float(
                    top is not None and top.ranks.get("dense") == 1 and top.ranks.get("bm25") == 1
                ),
            }
        )
    return out


def collect(indexes: dict[str, Path]) -> list[dict]:
    rows = []
    names = list(indexes)
    for name, path in indexes.items():
        retriever = Retriever.open(path, threshold=None)
        for split, items in question_groups(name, names).items():
            feats = features(retriever, [q[1] for _, _, q in items])
            for (group, source, q), f in zip(items, feats):
                rows.append(
                    {"collection": name, "split": split, "group": group, "source": source, "id": q[0], **f}
                )
        logging.info("%s: %d questions", name, sum(r["collection"] == name for r in rows))
    return rows


def rates(rows: list[dict], feature: str, threshold: float) -> tuple[float, float, int, int]:
    """(abstention on off-topic, false abstention on answerable, n off-topic, n answerable)."""
    off = np.array([r[feature] for r in rows if r["group"] == "offtopic"], dtype=float)
    ans = np.array([r[feature] for r in rows if r["group"] == "answerable"], dtype=float)
    # A missing value (NaN) abstains: nothing scored.
    abst = float(np.mean(~(off >= threshold))) if len(off) else float("nan")
    false = float(np.mean(~(ans >= threshold))) if len(ans) else float("nan")
    return abst, false, len(off), len(ans)


def table(rows: list[dict], split: str, feature: str, threshold: float) -> list[str]:
    lines = [
        f"{split}: {feature} >= {threshold:.4f}",
        "| collection | off-topic abstention | false abstention |",
    ]
    for name in dict.fromkeys(r["collection"] for r in rows):
        sel = [r for r in rows if r["collection"] == name and r["split"] == split]
        abst, false, n_off, n_ans = rates(sel, feature, threshold)
        lines.append(f"| {name} | {abst:.1%} (n={n_off}) | {false:.1%} (n={n_ans}) |")
    return lines


def fit(rows: list[dict], feature: str) -> tuple[float, float] | None:
    """The threshold on `feature` maximising the worst collection's TRAIN off-topic abstention
    with false abstention <= MAX_FALSE_ABSTENTION on every collection (None if none does)."""
    train = [r for r in rows if r["split"] == "train"]
    names = list(dict.fromkeys(r["collection"] for r in train))
    values = sorted({r[feature] for r in train if r["group"] == "answerable" and not np.isnan(r[feature])})
    best: tuple[float, float] | None = None
    for t in values:  # thresholds at answerable values: the largest admissible one is the best
        worst_abst, worst_false = 1.0, 0.0
        for name in names:
            abst, false, _, _ = rates([r for r in train if r["collection"] == name], feature, t)
            worst_abst, worst_false = min(worst_abst, abst), max(worst_false, false)
        if worst_false <= MAX_FALSE_ABSTENTION and (best is None or worst_abst > best[1]):
            best = (t, worst_abst)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=Path, help="the seeds index folder")
    parser.add_argument("--scifact", type=Path, help="the SciFact index folder (qa eval --beir)")
    parser.add_argument("--collection", action="append", default=[], help="NAME=INDEX_DIR")
    parser.add_argument("--features", type=Path, help="write the per-question features here (jsonl)")
    parser.add_argument("--load", type=Path, help="read features written by --features instead of asking")
    parser.add_argument("--feature", default="sentence", choices=FEATURES)
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument(
        "--fit", action="store_true", help="fit each feature's threshold on train, report test"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.load:
        rows = [json.loads(line) for line in args.load.read_text(encoding="utf-8").splitlines()]
    else:
        indexes = {"seeds": args.seeds} if args.seeds else {}
        if args.scifact:
            indexes["scifact"] = args.scifact
        indexes.update(dict(c.split("=", 1) for c in args.collection))
        rows = collect({k: Path(v) for k, v in indexes.items()})
        if args.features:
            args.features.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    for split in ("train", "test"):
        print("\n".join(table(rows, split, args.feature, args.threshold)), end="\n\n")
    if args.fit:
        for feature in FEATURES:
            got = fit(rows, feature)
            if got is None:
                print(f"{feature}: no threshold keeps false abstention <= 2% on every train split\n")
                continue
            t, worst = got
            print(f"{feature}: fitted on train, worst-collection train abstention {worst:.1%}")
            print("\n".join(table(rows, "test", feature, t)), end="\n\n")


if __name__ == "__main__":
    main()
