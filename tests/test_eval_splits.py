"""eval/scripts/splits.py: the committed seed halves are the seed set's split; SciFact train qrels."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _splits():
    spec = importlib.util.spec_from_file_location("splits", ROOT / "eval" / "scripts" / "splits.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_seed_halves_are_the_seed_sets_split(tmp_path: Path) -> None:
    splits = _splits()
    splits.write_seeds(tmp_path)
    for split in ("train", "test"):
        committed = (ROOT / "eval" / "seeds" / f"{split}.jsonl").read_text(encoding="utf-8")
        assert committed == (tmp_path / f"{split}.jsonl").read_text(encoding="utf-8"), (
            f"eval/seeds/{split}.jsonl is out of date: run python3 eval/scripts/splits.py seeds eval/seeds"
        )
    ids = {
        s: [json.loads(line)["id"] for line in (tmp_path / f"{s}.jsonl").read_text().splitlines()]
        for s in ("train", "test")
    }
    assert ids["train"] and ids["test"] and not set(ids["train"]) & set(ids["test"])
    assert all(int(i[-1]) % 2 == 1 for i in ids["train"]) and all(int(i[-1]) % 2 == 0 for i in ids["test"])


def test_scifact_train_qrels_exclude_test_claims(tmp_path: Path) -> None:
    scifact = ROOT.parent / "shared" / "benchmarks" / "scifact"
    _splits().write_scifact_train(tmp_path, scifact)
    rows = (tmp_path / "qrels" / "train.tsv").read_text().splitlines()
    assert rows[0] == "query-id\tcorpus-id\tscore"
    train = {r.split("\t")[0] for r in rows[1:]}
    test = {r.split("\t")[0] for r in (scifact / "qrels" / "test.tsv").read_text().splitlines()[1:]}
    assert len(train) == 505 and not train & test
    assert (tmp_path / "corpus.jsonl").resolve() == (scifact / "corpus.jsonl").resolve()
