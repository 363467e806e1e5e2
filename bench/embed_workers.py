"""Embedding throughput per worker: threads per process vs processes, on real SciFact passages.

The 100M-passage plan (docs/SCALE.md) needs passages/s per core and whether a core is
better spent as a thread of one process or as a process of its own. Layouts, each as
`PROCESSES x THREADS`: `1x1` (one process, one ONNX Runtime thread), `1x2` (one process,
two threads), `2x1` (two processes of one thread each, the passages split between
them). Every process loads the model first and embeds a warm-up batch; the time is from
the first process starting to embed to the last one finishing, so model load is not in it.

Passages: the first `--passages` passages of an index's live snapshot (default: a SciFact
index), embedded with `embed` at the backend's batch size.

Run (timed, so under the shared lock):
`flock /tmp/qa-bench.lock .venv/bin/python bench/embed_workers.py --index DIR --layouts 1x1,1x2,2x1`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import machine, table  # noqa: E402


def parse_layout(layout: str) -> tuple[int, int]:
    """'2x1' -> (2 processes, 1 thread each)."""
    try:
        procs, threads = (int(x) for x in layout.lower().split("x"))
    except ValueError:
        raise SystemExit(f"layout {layout!r} is not PROCESSESxTHREADS, e.g. 2x1") from None
    if procs < 1 or threads < 1:
        raise SystemExit(f"layout {layout!r} needs at least one process and one thread")
    return procs, threads


def split(texts: list[str], parts: int) -> list[list[str]]:
    """`texts` in `parts` interleaved slices (similar length mix in each)."""
    return [texts[i::parts] for i in range(parts)]


def child(args: argparse.Namespace) -> None:
    """Load the model with `--threads`, warm up, embed the texts in `--texts`, print timings."""
    from qa.embedding import new_embedder

    os.environ["QA_THREADS"] = str(args.threads)
    texts = json.loads(Path(args.texts).read_text(encoding="utf-8"))
    embedder = new_embedder(backend=args.backend)
    embedder.embed(texts[:32])
    start = time.time()
    vectors = embedder.embed(texts)
    end = time.time()
    print(json.dumps({"start": start, "end": end, "n": len(vectors)}))


def run_layout(layout: str, texts: list[str], backend: str, work: Path) -> dict[str, Any]:
    procs, threads = parse_layout(layout)
    children = []
    for i, part in enumerate(split(texts, procs)):
        path = work / f"{layout}-{i}.json"
        path.write_text(json.dumps(part), encoding="utf-8")
        cmd = [sys.executable, __file__, "--child", "--threads", str(threads), "--texts", str(path)]
        cmd += ["--backend", backend]
        env = {**os.environ, "QA_THREADS": str(threads), "OMP_NUM_THREADS": str(threads)}
        children.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env))
    results = []
    for proc in children:
        out, _ = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"layout {layout}: a child exited with {proc.returncode}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    wall = max(r["end"] for r in results) - min(r["start"] for r in results)
    n = sum(r["n"] for r in results)
    return {
        "layout": layout,
        "processes": procs,
        "threads": threads,
        "n": n,
        "wall_s": wall,
        "passages_per_s": n / wall,
        "per_core": n / wall / (procs * threads),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--index", type=Path, help="index folder whose passages are embedded")
    p.add_argument("--passages", type=int, default=2000)
    p.add_argument("--layouts", default="1x1,1x2,2x1")
    p.add_argument("--backend", default="onnx-int8")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    p.add_argument("--texts", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args)
        return
    if args.index is None:
        raise SystemExit("give --index DIR (e.g. a SciFact index built by qa eval --beir)")
    from qa.index import Index

    passages = Index.load(args.index, verify=False).passages[: args.passages]
    texts = [p.text for p in passages]
    with tempfile.TemporaryDirectory(prefix="qa-embed-") as work:
        rows = [run_layout(layout, texts, args.backend, Path(work)) for layout in args.layouts.split(",")]
    print(f"{machine()}; {len(texts)} passages, backend {args.backend}\n")
    print(
        table(
            ["layout (processes x threads)", "passages", "wall s", "passages/s", "passages/s per core"],
            [
                [
                    r["layout"],
                    str(r["n"]),
                    f"{r['wall_s']:.1f}",
                    f"{r['passages_per_s']:.1f}",
                    f"{r['per_core']:.1f}",
                ]
                for r in rows
            ],
        )
    )
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
