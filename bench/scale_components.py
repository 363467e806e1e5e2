"""Search latency and memory at 10k / 100k / 1M passages: FAISS (auto index type), BM25, hybrid.

Vectors are generated, topic-like 384-d unit vectors (each near one of n/100 random
centres, cosine ~0.7 to it); queries are drawn the same way. BM25 indexes a real text
sample (SciFact abstracts) replicated to the size; queries are SciFact claims.
Query embedding uses the real model (the default backend).

Run: `.venv/bin/python bench/scale_components.py [--sizes 10000,100000,1000000]`.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import SCIFACT, machine, ms, percentile, rss_mb, table, write_section  # noqa: E402

logger = logging.getLogger("bench.scale")
DIM = 384


def generate(n: int, *, queries: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((max(1, n // 100), DIM)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)

    def draw(m: int) -> np.ndarray:
        out = np.empty((m, DIM), np.float32)
        for i in range(0, m, 100_000):  # in blocks: bounded temporary memory
            j = min(m, i + 100_000)
            x = centres[rng.integers(0, len(centres), j - i)]
            x += rng.standard_normal((j - i, DIM)).astype(np.float32) / np.sqrt(DIM)
            out[i:j] = x / np.linalg.norm(x, axis=1, keepdims=True)
        return out

    return draw(n), draw(queries)


def scifact_texts() -> tuple[list[str], list[str]]:
    texts, claims = [], []
    with (SCIFACT / "corpus.jsonl").open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            texts.append(f"{row['title']}\n{row['text']}")
    with (SCIFACT / "queries.jsonl").open(encoding="utf-8") as f:
        claims = [json.loads(line)["text"] for line in f]
    return texts, claims


def lat_stats(values: list[float]) -> str:
    return f"{ms(percentile(values, 50))} / {ms(percentile(values, 95))}"


def bench_size(n: int, embedder, texts: list[str], claims: list[str], *, nq: int = 200) -> dict:
    from qa.lexical import BM25Index, tokenize
    from qa.retrieval.scoring import rrf
    from qa.stores import exact_search, recall_at_k
    from qa.stores.faiss import FaissStore, choose_index_type

    res: dict = {"n": n}
    vectors, queries = generate(n, queries=nq)
    rss0 = rss_mb()
    t0 = time.perf_counter()
    index = FaissStore.create(vectors, kind="auto")
    res["kind"] = index.describe()
    res["faiss_build_s"] = time.perf_counter() - t0
    res["faiss_mb"] = index.memory_bytes() / 2**20
    # Recall of the auto choice against exact search (1.0 by construction for flat).
    _, exact = (
        exact_search(vectors, queries[:100], 10) if n <= 100_000 else _flat_topk(vectors, queries[:100])
    )
    _, found = index.search(queries[:100], 10)
    res["recall"] = recall_at_k(found, exact, 10)
    if choose_index_type(n) is choose_index_type(0):
        # Below the threshold also measure the compressed type, to show what `auto` avoids.
        comp = FaissStore.create(vectors, kind="ivfsq8")
        res["recall_ivfsq8"] = recall_at_k(comp.search(queries[:100], 10)[1], exact, 10)
        res["ivfsq8_mb"] = comp.memory_bytes() / 2**20
        del comp
    del vectors
    gc.collect()

    # Warm single-query latency without and with query embedding.
    for q in queries[:10]:
        index.search(q[None], 100)
    res["faiss_lat"] = [_time(lambda q=q: index.search(q[None], 100)) for q in queries]
    questions = [claims[i % len(claims)] for i in range(nq)]
    embedder.embed(questions[:5])
    res["dense_lat"] = [_time(lambda s=s: index.search(embedder.embed([s]), 100)) for s in questions]
    t0 = time.perf_counter()
    index.search(queries, 100)
    res["faiss_qps"] = len(queries) / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    index.search(embedder.embed(questions), 100)
    res["dense_qps"] = len(questions) / (time.perf_counter() - t0)

    # BM25 over the real sample replicated to n passages. Tokenised once per unique
    # text (replicas tokenise identically); tokenisation speed is reported separately.
    import bm25s

    t0 = time.perf_counter()
    toks = [tokenize(t) or [""] for t in texts]
    res["tokenize_tps"] = len(texts) / (time.perf_counter() - t0)
    corpus = [toks[i % len(toks)] for i in range(n)]
    t0 = time.perf_counter()
    model = bm25s.BM25(k1=1.2, b=0.75)
    model.index(corpus, show_progress=False)
    res["bm25_build_s"] = time.perf_counter() - t0
    del corpus
    gc.collect()
    res["bm25_mb"] = sum(a.nbytes for a in model.scores.values() if hasattr(a, "nbytes")) / 2**20
    bm25 = BM25Index(model)
    for s in questions[:5]:
        bm25.search(s, 100)
    res["bm25_lat"] = [_time(lambda s=s: bm25.search(s, 100)) for s in questions]

    # Hybrid core: embed + FAISS + BM25 + RRF (Hit objects are k-bounded, not size-bound).
    def hybrid(s: str) -> None:
        _, rows = index.search(embedder.embed([s]), 100)
        _, lrows = bm25.search(s, 100)
        rrf({"dense": rows[0][rows[0] >= 0].tolist(), "bm25": lrows.tolist()})

    res["hybrid_lat"] = [_time(lambda s=s: hybrid(s)) for s in questions]
    res["rss_delta_mb"] = rss_mb() - rss0
    logger.warning("n=%d: %s", n, {k: v for k, v in res.items() if not isinstance(v, list)})
    return res


def _flat_topk(vectors: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-10 with FAISS's flat scan (faster than NumPy's sort at 1M)."""
    import faiss

    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    return flat.search(queries, 10)


def _time(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def bench_scale(*, sizes: list[int]) -> str:
    from qa.embedding import load_embedder, resolve_backend

    embedder = load_embedder(None)
    texts, claims = scifact_texts()
    rows, bm_rows = [], []
    for n in sizes:
        r = bench_size(n, embedder, texts, claims)
        kind = r["kind"]["type"] + (
            f" (nlist {r['kind']['nlist']}, nprobe {r['kind']['nprobe']})" if "nlist" in r["kind"] else ""
        )
        extra = (
            f"; ivfsq8 would be {r['recall_ivfsq8']:.3f} / {r['ivfsq8_mb']:.0f} MB"
            if "recall_ivfsq8" in r
            else ""
        )
        rows.append(
            [
                f"{n:,}",
                kind,
                f"{r['faiss_build_s']:.1f} s",
                f"{r['faiss_mb']:.0f} MB",
                f"{r['recall']:.3f}{extra}",
                lat_stats(r["faiss_lat"]),
                lat_stats(r["dense_lat"]),
                lat_stats(r["hybrid_lat"]),
                f"{r['faiss_qps']:,.0f} / {r['dense_qps']:,.0f}",
            ]
        )
        bm_rows.append(
            [
                f"{n:,}",
                f"{r['bm25_build_s']:.1f} s (+ tokenising at {r['tokenize_tps']:,.0f} texts/s)",
                f"{r['bm25_mb']:.0f} MB",
                lat_stats(r["bm25_lat"]),
                f"{r['rss_delta_mb']:.0f} MB",
            ]
        )
        gc.collect()
    return (
        f"Machine: {machine()}.\n\n"
        "Vectors: generated 384-d unit vectors around n/100 random topic centres; queries drawn "
        "the same way (recall) or real SciFact claims embedded by the model "
        f"({resolve_backend(None)} backend). Latencies are p50 / p95 over 200 single-query "
        "searches, warm, depth 100. `auto` is exact (flat) below 200,000 passages and IVF-SQ8 above. "
        f"Command: `.venv/bin/python bench/scale_components.py --sizes {','.join(map(str, sizes))}`.\n\n"
        + table(
            [
                "passages",
                "auto index type",
                "build",
                "FAISS memory",
                "recall@10 vs exact",
                "FAISS search (no embedding)",
                "embed + FAISS",
                "hybrid (embed + FAISS + BM25 + RRF)",
                "batch q/s (no embedding / with)",
            ],
            rows,
        )
        + "\n\nBM25 (bm25s sparse index, the SciFact sample replicated):\n\n"
        + table(["passages", "build", "index memory", "search p50 / p95", "process RSS growth"], bm_rows)
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--sizes", default="10000,100000,1000000")
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    body = bench_scale(sizes=[int(s) for s in args.sizes.split(",")])
    print(body)
    if not args.no_write:
        write_section("Search at scale", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
