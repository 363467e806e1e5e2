"""Compare two `qa batch` JSONL runs question by question: ranked passage ids, whole JSON, scores.

Used to show a refactor changes no answer, e.g.:
    git worktree add /tmp/old <rev>; PYTHONPATH=/tmp/old/src qa batch Q --index OLD --out old.jsonl
    qa batch Q --index NEW --out new.jsonl; python bench/compare_runs.py old.jsonl new.jsonl
"""

from __future__ import annotations

import json
import sys


def main(a_path: str, b_path: str) -> None:
    a = [json.loads(line) for line in open(a_path, encoding="utf-8")]
    b = [json.loads(line) for line in open(b_path, encoding="utf-8")]
    if len(a) != len(b):
        raise SystemExit(f"{a_path} has {len(a)} answers, {b_path} {len(b)}")
    same_ids = same_json = 0
    max_diff = 0.0
    for x, y in zip(a, b):
        same_ids += [p["passage_id"] for p in x["passages"]] == [p["passage_id"] for p in y["passages"]]
        same_json += json.dumps(x, sort_keys=True) == json.dumps(y, sort_keys=True)
        for p, q in zip(x["passages"], y["passages"]):
            max_diff = max(max_diff, abs(p["score"] - q["score"]))
    print(
        f"questions {len(a)}: same ranked passage ids {same_ids}/{len(a)}, "
        f"identical JSON {same_json}/{len(a)}, max score diff {max_diff:.2e}"
    )


if __name__ == "__main__":
    main(*sys.argv[1:3])
