"""bench/embed_ray.py's arithmetic (Ray is not a qa dependency, so nothing here imports it)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))
_spec = importlib.util.spec_from_file_location("bench_embed_ray", BENCH / "embed_ray.py")
assert _spec and _spec.loader
embed_ray = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(embed_ray)


def test_window_spans_first_start_to_last_end() -> None:
    assert embed_ray.window([5.0, 2.0, 3.0], [6.0, 9.0, 4.0]) == pytest.approx(7.0)
    assert embed_ray.window([], []) == 0.0


def test_row_compares_with_one_plain_loop_per_actor() -> None:
    r = embed_ray.row("ray", 100, embed_s=2.0, total_s=4.0, workers=2, plain_rate=40.0)
    assert r["passages_per_s"] == pytest.approx(50.0)
    assert r["total_passages_per_s"] == pytest.approx(25.0)
    assert r["vs_plain"] == pytest.approx(50.0 / 80.0)
