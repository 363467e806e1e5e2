"""bench/batch_dependence.py's batch cutting and comparison (no model loaded)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"

_spec2 = importlib.util.spec_from_file_location("bench_batch_dependence", BENCH / "batch_dependence.py")
assert _spec2 and _spec2.loader
batch_dependence = importlib.util.module_from_spec(_spec2)
_spec2.loader.exec_module(batch_dependence)


def test_cut_keeps_order_and_checks_sizes() -> None:
    texts = [str(i) for i in range(5)]
    assert batch_dependence.cut(texts, [2, 3]) == [["0", "1"], ["2", "3", "4"]]
    with pytest.raises(SystemExit):
        batch_dependence.cut(texts, [2, 2])


def test_compare_finds_a_changed_row() -> None:
    a = np.eye(3, dtype=np.float32)
    b = a.copy()
    b[1] = [0.0, 0.6, 0.8]
    r = batch_dependence.compare(a, b)
    assert r["max_abs"] == pytest.approx(0.8)
    assert r["min_cos"] == pytest.approx(0.6)
    assert batch_dependence.compare(a, a)["min_cos"] == pytest.approx(1.0)
