"""Write the follow-up turns of eval/followups/seeds.jsonl as a plain qa question set.

`--as asked` keeps each follow-up as the user typed it (it does not stand alone);
`--as standalone` uses its rewrite; `--as first` writes the first turns only. Ids are
`<conversation id>.<turn number>`, so `qa eval` reports compare turn by turn.

Usage::

    python eval/followups/flatten.py --as asked > /tmp/followups-asked.jsonl
    qa eval /tmp/followups-asked.jsonl --compare dense,bm25,hybrid-rrf,hybrid
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def flatten(lines: list[str], *, mode: str) -> list[dict]:
    rows = []
    for line in lines:
        if not line.strip():
            continue
        conversation = json.loads(line)
        for n, turn in enumerate(conversation["turns"], 1):
            if (mode == "first") != (n == 1):
                continue
            question = turn.get("standalone", turn["question"]) if mode == "standalone" else turn["question"]
            rows.append({"id": f"{conversation['id']}.{n}", "question": question, "answers": turn["answers"]})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", nargs="?", type=Path, default=HERE / "seeds.jsonl")
    parser.add_argument("--as", dest="mode", choices=["asked", "standalone", "first"], default="asked")
    args = parser.parse_args(argv)
    rows = flatten(args.file.read_text(encoding="utf-8").splitlines(), mode=args.mode)
    sys.stdout.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
