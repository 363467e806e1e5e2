"""bench/store_agreement.py's comparison of two indexes' rankings."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))
_spec = importlib.util.spec_from_file_location("bench_store_agreement", BENCH / "store_agreement.py")
assert _spec and _spec.loader
store_agreement = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(store_agreement)


def test_agreement_counts_identical_lists_and_overlap() -> None:
    a = [["p1", "p2"], ["p1", "p2"], ["p1", "p2"]]
    b = [["p1", "p2"], ["p2", "p1"], ["p1", "p3"]]
    res = store_agreement.agreement(a, b)
    assert res["identical"] == pytest.approx(1 / 3)  # order matters for "identical"
    assert res["overlap"] == pytest.approx((1 + 1 + 0.5) / 3)


def test_agreement_refuses_different_query_counts() -> None:
    with pytest.raises(ValueError, match="same queries"):
        store_agreement.agreement([["p1"]], [])
