"""Filtered dense search: exact scoring of the allowed rows vs searching the store deeper.

For each store size and share of allowed rows, the median latency per question of
`filtered_dense_candidates` on both of its paths (the exact one forced by a huge
`EXACT_FILTER_ROWS`, the deep one by 0 rows and 0 share), the unfiltered store search for reference, and
the deep path's recall@depth against the exact one. Vectors are generated as in
bench/scale_components.py (topic-like 384-d unit vectors); the store is FAISS flat, or IVF-SQ8
with `--kind ivfsq8`. The allowed rows are whole random "documents" of 20 rows.

Run: `.venv/bin/python bench/filters.py [--sizes 100000,1000000] [--shares 0.001,0.01,0.1,0.5]`.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale_components import generate  # noqa: E402

from qa.retrieval import candidates  # noqa: E402
from qa.stores.faiss import FaissStore  # noqa: E402

DEPTH = 100
ROWS_PER_DOC = 20


class _Snapshot:
    """What filtered_dense_candidates reads of an Index: the store and the stored vectors."""

    def __init__(self, store: FaissStore, vectors: np.ndarray) -> None:
        self.store = store
        self._vectors = vectors

    def vector_matrix(self) -> np.ndarray:
        return self._vectors


def _median_ms(fn, queries: np.ndarray) -> tuple[float, list]:
    out, times = [], []
    for q in queries:
        t0 = time.perf_counter()
        out.append(fn(q))
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--shares", default="0.001,0.01,0.1,0.5")
    ap.add_argument("--kind", default="flat")
    ap.add_argument("--queries", type=int, default=20)
    args = ap.parse_args()
    rng = np.random.default_rng(1)
    print(
        f"| passages | store | allowed share (rows) | exact ms | deep ms | unfiltered ms | deep recall@{DEPTH} |"
    )
    print("|---|---|---|---|---|---|---|")
    for n in (int(s) for s in args.sizes.split(",")):
        vectors, queries = generate(n, queries=args.queries)
        store = FaissStore.create(vectors, kind=args.kind)
        snap = _Snapshot(store, vectors)
        unfiltered, _ = _median_ms(lambda q, store=store: store.search(q[None], DEPTH), queries)
        for share in (float(s) for s in args.shares.split(",")):
            docs = n // ROWS_PER_DOC
            picked = rng.choice(docs, size=max(1, int(docs * share)), replace=False)
            allowed = np.sort((picked[:, None] * ROWS_PER_DOC + np.arange(ROWS_PER_DOC)).ravel()).astype(
                np.int64
            )
            results = {}
            for name, limit, share_limit in (("exact", n + 1, 1.0), ("deep", 0, 0.0)):
                candidates.EXACT_FILTER_ROWS, candidates.EXACT_FILTER_SHARE = limit, share_limit
                search = functools.partial(
                    candidates.filtered_dense_candidates, snap, allowed=allowed, depth=DEPTH
                )
                results[name] = _median_ms(lambda q, search=search: search(query_vector=q), queries)
            recall = np.mean(
                [
                    len(set(d[1].tolist()) & set(e[1].tolist())) / max(1, len(e[1]))
                    for d, e in zip(results["deep"][1], results["exact"][1])
                ]
            )
            print(
                f"| {n:,} | {args.kind} | {share:g} ({len(allowed):,}) | {results['exact'][0]:.1f} | "
                f"{results['deep'][0]:.1f} | {unfiltered:.1f} | {recall:.3f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
