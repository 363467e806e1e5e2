"""Start-up: cold `qa ask`, `qa status` and the web app's time-to-ready, per embedding backend.

The seed index is built once per backend (the index records its backend and queries
go through the same one). Each figure is a fresh process: start to printed answer, or
start to the app's first HTTP 200 (the app loads the model before it serves).

Run: `.venv/bin/python bench/startup.py [--backends torch,onnx-int8] [--repeats 3]`.
"""

from __future__ import annotations

import argparse
import logging
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ENV, QA, ROOT, SEEDS, machine, median, run, seed_questions, table, write_section  # noqa: E402

logger = logging.getLogger("bench.startup")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def app_ready_seconds(index_dir: Path, *, timeout: float = 300) -> float:
    """Seconds from `qa serve` start to the first HTTP 200 on its page; the server is then stopped."""
    port = _free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [
            str(QA),
            "serve",
            "--corpus",
            str(SEEDS),
            "--index",
            str(index_dir),
            "--no-index",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while time.perf_counter() - t0 < timeout:
            if proc.poll() is not None:
                raise RuntimeError(f"qa serve exited early with code {proc.returncode}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as resp:
                    if resp.status == 200:
                        return time.perf_counter() - t0
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"qa serve not ready after {timeout}s")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def bench_startup(*, backends: list[str], repeats: int = 3) -> str:
    from qa.embedding import load_embedder
    from qa.indexing import build_index

    questions = seed_questions()
    rows = []
    with tempfile.TemporaryDirectory(prefix="qa-bench-startup-") as tmp:
        for backend in backends:
            index_dir = Path(tmp) / backend
            build_index(SEEDS, index_dir, embedder=load_embedder(None, backend=backend))
            asks, statuses, ready = [], [], []
            for r in range(repeats):
                dt, out, _ = run([str(QA), "ask", questions[r], "--index", str(index_dir), "-q"])
                if "[" not in out:
                    raise RuntimeError(f"qa ask printed no cited passage: {out[:300]}")
                asks.append(dt)
                statuses.append(run([str(QA), "status", "--index", str(index_dir), "-q"])[0])
                ready.append(app_ready_seconds(index_dir))
            rows.append(
                [
                    backend,
                    f"{median(asks):.2f} s",
                    f"{median(statuses):.2f} s",
                    f"{median(ready):.1f} s",
                ]
            )
    return (
        f"Machine: {machine()}.\n\n"
        f"Seed index; medians over {repeats} fresh processes each. `qa status` needs no model. "
        f"Command: `.venv/bin/python bench/startup.py --backends {','.join(backends)}`.\n\n"
        + table(
            [
                "index built with backend",
                "cold `qa ask` (start to answer)",
                "cold `qa status`",
                "app ready (`qa serve --no-index`, start to HTTP 200, model warm)",
            ],
            rows,
        )
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--backends", default="torch,onnx-int8")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    body = bench_startup(backends=args.backends.split(","), repeats=args.repeats)
    print(body)
    if not args.no_write:
        write_section("Start-up", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
