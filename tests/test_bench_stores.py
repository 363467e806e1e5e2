"""bench/stores.py's measuring code, at a tiny size: FAISS and milvus-lite through the store seam."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _bench_stores():
    """bench/stores.py, loaded by path (the name `stores` is tests/stores' package)."""
    import sys

    sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location("bench_stores", BENCH / "stores.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench_stores = _bench_stores()
LITE_MISSING = next(
    (
        f"{m} is not installed (pip install 'qa[milvus]')"
        for m in ("pymilvus", "milvus_lite")
        if importlib.util.find_spec(m) is None
    ),
    None,
)


@pytest.mark.parametrize("store,kind", [("faiss", "flat"), ("faiss", "ivfsq8"), ("lite", "flat")])
def test_measure_reports_latency_and_recall(store: str, kind: str, tmp_path: Path) -> None:
    if store == "lite" and LITE_MISSING:
        pytest.skip(LITE_MISSING)
    vectors, queries = bench_stores.generate(2_000, queries=20)
    exact = bench_stores.ground_truth(vectors, queries)
    res = bench_stores.measure(store, kind, vectors, queries, exact, folder=tmp_path / "idx", warm=2)
    assert res["n"] == 2_000 and res["store"] == store and res["kind"] == kind
    assert 0.0 <= res["recall_at_10"] <= 1.0
    if kind == "flat":
        assert res["recall_at_10"] == 1.0  # exact search finds the exact top-10
    for k in ("k10", "k100"):
        assert 0 < res[k]["p50_ms"] <= res[k]["p95_ms"]
    if store == "lite":
        assert {"insert_s", "flush_s", "load_s"} <= res.keys() and "raw_k10" in res
        assert res["describe"]["milvus_index"] == "FLAT"
        for level in ("bounded", "eventually"):  # weaker reads, timed beside Strong
            weak = res[f"raw_{level}_k10"]
            assert 0 < weak["p50_ms"] <= weak["p95_ms"] and 0.0 <= weak["recall_at_10"] <= 1.0


def test_ground_truth_is_exact_search() -> None:
    rng = np.random.default_rng(1)
    vectors = rng.standard_normal((300, 8)).astype(np.float32)
    queries = rng.standard_normal((30, 8)).astype(np.float32)
    top = bench_stores.ground_truth(vectors, queries, chunk=7)
    assert top.shape == (30, 10)
    assert (top[:, 0] == np.argmax(queries @ vectors.T, axis=1)).all()


def test_markdown_shows_weaker_consistency_reads() -> None:
    row = {
        "store": "server",
        "kind": "flat",
        "n": 1_000,
        "build_s": 1.0,
        "first_search_s": 0.01,
        "k10": {"p50_ms": 200.0, "p95_ms": 210.0},
        "k100": {"p50_ms": 201.0, "p95_ms": 220.0},
        "raw_k10": {"p50_ms": 199.0, "p95_ms": 205.0},
        "raw_k100": {"p50_ms": 198.0, "p95_ms": 204.0},
        "raw_bounded_k10": {"p50_ms": 3.5, "p95_ms": 4.0, "recall_at_10": 1.0},
        "raw_eventually_k10": {"p50_ms": 3.25, "p95_ms": 4.0, "recall_at_10": 0.5},
        "recall_at_10": 1.0,
        "peak_rss_mb": 100.0,
        "server_rss_mb": 500.0,
    }
    line = bench_stores.markdown([row]).splitlines()[-1]
    assert "3.5 (1.000) / 3.2 (0.500)" in line and "199.0 / 198.0" in line and "server 500" in line


def test_markdown_names_a_run_that_did_not_finish() -> None:
    text = bench_stores.markdown([{"store": "lite", "kind": "hnsw", "n": 100_000, "error": "over 300 s cap"}])
    assert "milvus-lite hnsw" in text and "over 300 s cap" in text
