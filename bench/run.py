"""Run every benchmark and write docs/BENCHMARKS.md (one section each). `make bench` runs this.

Sections: Core (seed corpus: index, ask, batch), Indexing throughput (SciFact: qa index
vs the raw encoder, per backend, with nDCG@10), Search at scale (10k/100k/1M passages),
Start-up (cold ask, app ready). Each can be run alone: `bench/<name>.py`.

Run: `.venv/bin/python bench/run.py [--only core,indexing,scale,startup] [--quick]`.
--quick indexes a 1,200-abstract SciFact subset and stops at 100k passages.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DOC, write_section  # noqa: E402

ALL = ("core", "indexing", "scale", "startup")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", default=",".join(ALL), help=f"comma-separated subset of {ALL}")
    p.add_argument("--quick", action="store_true", help="SciFact subset and at most 100k passages")
    p.add_argument("--backends", default="torch,onnx-int8", help="embedding backends to compare")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="bench: %(message)s")
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(chosen) - set(ALL)
    if unknown:
        p.error(f"unknown benchmark(s) {sorted(unknown)}; choose from {ALL}")
    backends = args.backends.split(",")
    for name in chosen:
        t0 = time.perf_counter()
        if name == "core":
            from core import bench_core

            write_section("Core", bench_core())
        elif name == "indexing":
            from indexing import bench_indexing

            body = bench_indexing(backends=backends, limit=1200 if args.quick else None)
            write_section("Indexing throughput (SciFact)", body)
        elif name == "scale":
            from scale_components import bench_scale

            sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
            write_section("Search at scale", bench_scale(sizes=sizes))
        elif name == "startup":
            from startup import bench_startup

            write_section("Start-up", bench_startup(backends=backends))
        logging.warning("%s done in %.0f s; written to %s", name, time.perf_counter() - t0, DOC)
    return 0


if __name__ == "__main__":
    sys.exit(main())
