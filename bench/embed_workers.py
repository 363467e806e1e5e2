"""Embedding throughput per worker: threads per process vs processes, on real SciFact passages.

The 100M-passage plan (docs/SCALE.md) needs passages/s per core and whether a core is
better spent as a thread of one process or as a process of its own. Layouts, each as
`PROCESSES x THREADS`: `1x1` (one process, one ONNX Runtime thread), `1x2` (one process,
two threads), `2x1` (two processes of one thread each, the passages split between
them). Every process loads the model and embeds a warm-up batch, then waits; when all
are ready they are told to start together, so model load is not in the time and no
process embeds alone while another is still loading. A layout's time runs from the
first process starting to embed to the last one finishing.

`--rounds N` embeds the same passages N times per layout and reports each round: the
first round meets every batch shape for the first time (ONNX Runtime plans memory per
shape), later rounds are the steady state a long-running worker reaches. Each round also
reports the CPU time the children used: passages per CPU second is the per-core rate
with other work on a shared machine taken out (wall-clock rates fall when another
process takes the cores; CPU time mostly does not).

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
    """Load the model with `--threads`, warm up, print "ready", wait for a line on stdin,
    then embed the texts in `--texts` `--rounds` times and print the timings as JSON."""
    os.environ["QA_THREADS"] = str(args.threads)
    from qa.embedding import new_embedder

    texts = json.loads(Path(args.texts).read_text(encoding="utf-8"))
    embedder = new_embedder(backend=args.backend)
    embedder.embed(texts[:32])
    tokens = sum(embedder.count_tokens(t) for t in texts)
    print("ready", flush=True)
    sys.stdin.readline()
    rounds = []
    for _ in range(args.rounds):
        start, cpu = time.time(), time.process_time()
        vectors = embedder.embed(texts)
        rounds.append(
            {"start": start, "end": time.time(), "cpu_s": time.process_time() - cpu, "n": len(vectors)}
        )
    print(json.dumps({"rounds": rounds, "tokens": tokens}), flush=True)


def summarise(layout: str, results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per round from the children's timings (each child: {"rounds": [...], "tokens": t})."""
    procs, threads = parse_layout(layout)
    tokens = sum(r["tokens"] for r in results)
    rows = []
    for k in range(len(results[0]["rounds"])):
        timings = [r["rounds"][k] for r in results]
        wall = max(t["end"] for t in timings) - min(t["start"] for t in timings)
        n = sum(t["n"] for t in timings)
        cpu = sum(t["cpu_s"] for t in timings)
        rows.append(
            {
                "layout": layout,
                "round": k + 1,
                "processes": procs,
                "threads": threads,
                "n": n,
                "tokens": tokens,
                "wall_s": wall,
                "passages_per_s": n / wall,
                "per_core": n / wall / (procs * threads),
                "cpu_s": cpu,
                "per_cpu_s": n / cpu if cpu > 0 else 0.0,
            }
        )
    return rows


def run_layout(
    layout: str, texts: list[str], backend: str, work: Path, rounds: int = 1
) -> list[dict[str, Any]]:
    procs, threads = parse_layout(layout)
    children = []
    for i, part in enumerate(split(texts, procs)):
        path = work / f"{layout}-{i}.json"
        path.write_text(json.dumps(part), encoding="utf-8")
        cmd = [sys.executable, __file__, "--child", "--threads", str(threads), "--texts", str(path)]
        cmd += ["--backend", backend, "--rounds", str(rounds)]
        env = {**os.environ, "QA_THREADS": str(threads), "OMP_NUM_THREADS": str(threads)}
        children.append(
            subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        )
    for proc in children:  # the barrier: every model loaded and warm before any starts
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if line.strip() != "ready":
            for other in children:
                other.kill()
            raise SystemExit(f"layout {layout}: a child failed before it was ready (exit {proc.wait()})")
    for proc in children:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    results = []
    for proc in children:
        out, _ = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"layout {layout}: a child exited with {proc.returncode}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    return summarise(layout, results)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--index", type=Path, help="index folder whose passages are embedded")
    p.add_argument("--passages", type=int, default=2000)
    p.add_argument("--layouts", default="1x1,1x2,2x1")
    p.add_argument("--backend", default="onnx-int8")
    p.add_argument("--rounds", type=int, default=1, help="embed the passages this many times per layout")
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
        rows = [
            row
            for layout in args.layouts.split(",")
            for row in run_layout(layout, texts, args.backend, Path(work), args.rounds)
        ]
    pieces = rows[0]["tokens"] / len(texts) if texts else 0.0
    print(
        f"{machine()}; {len(texts)} passages ({pieces:.0f} word pieces on average), backend {args.backend}\n"
    )
    print(
        table(
            [
                "layout (processes x threads)",
                "round",
                "passages",
                "wall s",
                "passages/s",
                "passages/s per core",
                "CPU s",
                "passages per CPU s",
            ],
            [
                [
                    r["layout"],
                    str(r["round"]),
                    str(r["n"]),
                    f"{r['wall_s']:.1f}",
                    f"{r['passages_per_s']:.1f}",
                    f"{r['per_core']:.1f}",
                    f"{r['cpu_s']:.1f}",
                    f"{r['per_cpu_s']:.1f}",
                ]
                for r in rows
            ],
        )
    )
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
