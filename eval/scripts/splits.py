"""The tuning/reporting splits of issue #13's development suite, as files `qa eval` reads.

- `seeds OUT_DIR` writes the seed questions' halves, `train.jsonl` (odd ids) and
  `test.jsonl` (even ids), from eval/seed_questions.jsonl (committed in eval/seeds/).
- `scifact OUT_DIR` writes a BEIR folder for SciFact's train claims: links to the
  benchmark's corpus.jsonl and queries.jsonl, and `qrels/train.tsv` from the train
  claims' cited evidence (the 505 claims with metadata and no test qrels; see tune.py).

Run:
  python3 eval/scripts/splits.py seeds eval/seeds
  .venv/bin/python eval/scripts/splits.py scifact /tmp/scifact-train
  .venv/bin/qa eval --beir /tmp/scifact-train --split train --beir-index embeddings-beir/scifact ...
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "eval" / "seed_questions.jsonl"
SCIFACT = ROOT.parent / "shared" / "benchmarks" / "scifact"


def split_of(qid: str) -> str:
    """`train` for an odd trailing id number, else `test` (the seed set's convention)."""
    digits = re.findall(r"\d+", qid)
    return "train" if digits and int(digits[-1]) % 2 == 1 else "test"


def seed_halves(source: Path = SEEDS) -> dict[str, list[str]]:
    """{split: [JSON line, ...]} in the source's order, lines unchanged."""
    out: dict[str, list[str]] = {"train": [], "test": []}
    for line in source.read_text(encoding="utf-8").splitlines():
        if line.strip():
            out[split_of(json.loads(line)["id"])].append(line)
    return out


def write_seeds(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for split, lines in seed_halves().items():
        (out / f"{split}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_scifact_train(out: Path, scifact: Path = SCIFACT) -> None:
    test = {line.split("\t")[0] for line in (scifact / "qrels" / "test.tsv").read_text().splitlines()[1:]}
    (out / "qrels").mkdir(parents=True, exist_ok=True)
    rows = ["query-id\tcorpus-id\tscore"]
    for line in (scifact / "queries.jsonl").read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        if q["_id"] not in test and q.get("metadata"):
            rows += [f"{q['_id']}\t{doc}\t1" for doc in q["metadata"]]
    (out / "qrels" / "train.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    for name in ("corpus.jsonl", "queries.jsonl"):
        link = out / name
        if not link.exists():
            link.symlink_to(scifact.resolve() / name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=("seeds", "scifact"))
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    if args.what == "seeds":
        write_seeds(args.out)
    else:
        write_scifact_train(args.out)
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
