"""Ray Data's overhead for embedding: `map_batches` over a pool of embedder actors vs the plain loop.

The 100M-passage plan (docs/SCALE.md) names Ray Data as the engine for a cluster of
embedders. This measures what it costs on one machine: the same SciFact passages
embedded by

- the plain loop: one process, `--threads` ONNX Runtime threads, `embed` called on
  batches of `--batch-size` passages in the dataset's order (the work one actor does);
- `ray.data.from_items(...).map_batches(Embedder, concurrency=N, batch_size=32)`, each
  actor loading qa's embedder (`qa.embedding.new_embedder`, as bench/embed_workers.py
  does) with `--threads` threads and one CPU, for each N of `--concurrency`.

Every actor records when it started and finished each batch, so a run reports two
times: "embedding" from the first batch's start to the last batch's end (comparable with
the plain loop, whose model is loaded before its clock starts), and "total" from
building the dataset to the last row collected (actor start-up and model load included).
The vectors are checked against the plain loop's, row by row.

Ray tries to reach outside hosts even with usage statistics off; run it in a
loopback-only network namespace. It is not a qa dependency: install it in a separate
venv and let qa and its dependencies come from the shared one (timed, so under the lock):

    flock /tmp/qa-bench.lock unshare -n bash -c 'ip link set lo up; \
      PYTHONPATH=src:/work/main/.venv/lib/python3.11/site-packages RAY_USAGE_STATS_ENABLED=0 \
      /tmp/h3/rayvenv/bin/python bench/embed_ray.py --index DIR --passages 2000'
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import machine, table  # noqa: E402


def window(starts: Sequence[float], ends: Sequence[float]) -> float:
    """Seconds from the earliest batch start to the latest batch end."""
    if not starts:
        return 0.0
    return max(ends) - min(starts)


def row(name: str, n: int, embed_s: float, total_s: float, workers: int, plain_rate: float) -> dict[str, Any]:
    """One result row; `vs plain` compares with `workers` copies of the plain loop's rate."""
    rate = n / embed_s if embed_s > 0 else 0.0
    return {
        "run": name,
        "n": n,
        "embed_s": embed_s,
        "total_s": total_s,
        "passages_per_s": rate,
        "total_passages_per_s": n / total_s if total_s > 0 else 0.0,
        "vs_plain": rate / (workers * plain_rate) if plain_rate > 0 else 0.0,
    }


class Embedder:
    """A Ray Data actor: one qa embedder, loaded once, embedding batches of passages."""

    def __init__(self, backend: str, threads: int) -> None:
        os.environ["QA_THREADS"] = str(threads)
        from qa.embedding import new_embedder

        self.embedder = new_embedder(backend=backend)
        self.embedder.embed(["warm-up"])

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        start = time.time()
        vectors = self.embedder.embed([str(t) for t in batch["text"]])
        end = time.time()
        n = len(vectors)
        return {
            "id": batch["id"],
            "vector": vectors,
            "t0": np.full(n, start),
            "t1": np.full(n, end),
            "pid": np.full(n, os.getpid()),
        }


def plain_loop(texts: list[str], backend: str, threads: int, batch_size: int) -> tuple[np.ndarray, float]:
    """Embed `texts` in batches of `batch_size` in this process; the model is loaded first."""
    os.environ["QA_THREADS"] = str(threads)
    from qa.embedding import new_embedder

    embedder = new_embedder(backend=backend)
    embedder.embed(["warm-up"])
    start = time.time()
    parts = [embedder.embed(texts[i : i + batch_size]) for i in range(0, len(texts), batch_size)]
    return np.concatenate(parts), time.time() - start


def ray_run(
    texts: list[str], backend: str, threads: int, batch_size: int, concurrency: int
) -> tuple[np.ndarray, float, float, int]:
    """(vectors by row, embedding seconds, total seconds, actors seen) for one Ray Data run."""
    import ray

    start = time.time()
    ds = ray.data.from_items([{"id": i, "text": t} for i, t in enumerate(texts)])
    out = ds.map_batches(
        Embedder,
        fn_constructor_kwargs={"backend": backend, "threads": threads},
        concurrency=concurrency,
        batch_size=batch_size,
        num_cpus=threads,
        batch_format="numpy",
    )
    rows = out.take_all()
    total = time.time() - start
    vectors = np.zeros((len(texts), len(rows[0]["vector"])), dtype=np.float32)
    for r in rows:
        vectors[int(r["id"])] = r["vector"]
    embed = window([float(r["t0"]) for r in rows], [float(r["t1"]) for r in rows])
    return vectors, embed, total, len({int(r["pid"]) for r in rows})


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--index", type=Path, required=True, help="index folder whose passages are embedded")
    p.add_argument("--passages", type=int, default=2000)
    p.add_argument("--concurrency", default="1,2", help="actor pool sizes to run")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument(
        "--threads", type=int, default=1, help="ONNX Runtime threads per actor and in the plain loop"
    )
    p.add_argument("--backend", default="onnx-int8")
    p.add_argument("--cpus", type=int, default=os.cpu_count() or 1, help="CPUs given to ray.init")
    args = p.parse_args()

    import ray

    from qa.index import Index

    texts = [x.text for x in Index.load(args.index, verify=False).passages[: args.passages]]
    plain, plain_s = plain_loop(texts, args.backend, args.threads, args.batch_size)
    plain_rate = len(texts) / plain_s
    rows = [row("plain loop", len(texts), plain_s, plain_s, 1, plain_rate)]
    rows[0]["actors"] = 0
    rows[0]["max_abs_diff"] = 0.0
    ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
    try:
        for c in (int(x) for x in args.concurrency.split(",")):
            vectors, embed_s, total_s, actors = ray_run(texts, args.backend, args.threads, args.batch_size, c)
            r = row(f"Ray Data, concurrency={c}", len(texts), embed_s, total_s, c, plain_rate)
            r["actors"] = actors
            r["max_abs_diff"] = float(np.abs(vectors - plain).max())
            rows.append(r)
    finally:
        ray.shutdown()
    print(
        f"{machine()}; Ray {ray.__version__}; {len(texts)} passages, backend {args.backend}, "
        f"{args.threads} thread(s) per worker, batches of {args.batch_size}\n"
    )
    print(
        table(
            [
                "run",
                "actors",
                "embedding s",
                "passages/s",
                "vs plain loop x actors",
                "total s (start-up included)",
                "passages/s with start-up",
                "max |vector - plain|",
            ],
            [
                [
                    r["run"],
                    str(r["actors"]),
                    f"{r['embed_s']:.1f}",
                    f"{r['passages_per_s']:.1f}",
                    f"{r['vs_plain']:.0%}",
                    f"{r['total_s']:.1f}",
                    f"{r['total_passages_per_s']:.1f}",
                    f"{r['max_abs_diff']:.1e}",
                ]
                for r in rows
            ],
        )
    )
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
