"""bench/embed_workers.py's layouts and how it splits the passages between processes."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))
_spec = importlib.util.spec_from_file_location("bench_embed_workers", BENCH / "embed_workers.py")
assert _spec and _spec.loader
embed_workers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(embed_workers)


def test_parse_layout() -> None:
    assert embed_workers.parse_layout("2x1") == (2, 1)
    assert embed_workers.parse_layout("1X2") == (1, 2)
    for bad in ("2", "0x1", "ax1"):
        with pytest.raises(SystemExit):
            embed_workers.parse_layout(bad)


def test_split_keeps_every_text_once() -> None:
    texts = [str(i) for i in range(7)]
    parts = embed_workers.split(texts, 2)
    assert [len(p) for p in parts] == [4, 3]
    assert sorted(sum(parts, [])) == sorted(texts)


def test_summarise_times_a_round_from_first_start_to_last_end() -> None:
    children = [
        {"tokens": 100, "rounds": [{"start": 10.0, "end": 20.0, "cpu_s": 9.0, "n": 50}]},
        {"tokens": 80, "rounds": [{"start": 11.0, "end": 30.0, "cpu_s": 11.0, "n": 40}]},
    ]
    (row,) = embed_workers.summarise("2x1", children)
    assert row["round"] == 1
    assert row["n"] == 90
    assert row["tokens"] == 180
    assert row["wall_s"] == pytest.approx(20.0)
    assert row["passages_per_s"] == pytest.approx(4.5)
    assert row["per_core"] == pytest.approx(2.25)
    assert row["per_cpu_s"] == pytest.approx(90 / 20.0)


def test_summarise_gives_one_row_per_round() -> None:
    child = {
        "tokens": 10,
        "rounds": [
            {"start": 0.0, "end": 4.0, "cpu_s": 8.0, "n": 8},
            {"start": 4.0, "end": 6.0, "cpu_s": 4.0, "n": 8},
        ],
    }
    rows = embed_workers.summarise("1x2", [child])
    assert [r["round"] for r in rows] == [1, 2]
    assert [r["passages_per_s"] for r in rows] == pytest.approx([2.0, 4.0])
    assert [r["per_core"] for r in rows] == pytest.approx([1.0, 2.0])
