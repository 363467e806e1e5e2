"""Web UI latency on the seed corpus: submit a question in a real browser -> answer rendered, warm.

Builds the seed index into a temporary folder (real model), serves the app on a free
loopback port, drives headless Chromium, and measures in the page itself: from the
click on "Ask" to the frame in which the new answer is in the DOM. The library's own
`Retriever.ask` time for the same questions is measured in the same run as the
baseline, so the table shows what the web layer adds on this (shared, noisy) machine.

Run: `.venv/bin/python bench/ui_latency.py [-n 30]` (prints a Markdown table).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
QUESTIONS = ROOT / "eval" / "seed_questions.jsonl"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]

K = 5  # the UI's default number of passages

# Runs in the page: click Ask, then report the time of the first frame that shows the answer.
MEASURE_JS = """
(n) => new Promise((resolve) => {
  const t0 = performance.now();
  document.querySelector('#qa-ask').click();
  const check = () => {
    if (document.querySelectorAll('#qa-chat .qa-answer').length > n) {
      requestAnimationFrame(() => resolve(performance.now() - t0));
    } else {
      requestAnimationFrame(check);
    }
  };
  check();
})
"""


def percentile(values: list[float], p: float) -> float:
    xs = sorted(values)
    pos = (len(xs) - 1) * p / 100
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def machine() -> str:
    cpu = platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start (shared machine)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--questions", type=int, default=30, help="questions measured (default 30)")
    parser.add_argument(
        "--warmup", type=int, default=3, help="questions asked first, not measured (default 3)"
    )
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing; run `make browser` first", file=sys.stderr)
        return 1

    from playwright.sync_api import sync_playwright

    from qa.embedding import load_embedder
    from qa.index import Index
    from qa.indexing import build_index
    from qa.retrieval import Retriever
    from qa.ui import build_app, launch

    with QUESTIONS.open(encoding="utf-8") as f:
        questions = [json.loads(line)["question"] for line in f if line.strip()]
    needed = args.warmup + args.questions
    questions = (questions * (needed // len(questions) + 1))[:needed]

    tmp = Path(tempfile.mkdtemp(prefix="qa-ui-bench-"))
    try:
        embedder = load_embedder()
        build_index(SEEDS, tmp / "index", embedder=embedder)
        retriever = Retriever(Index.load(tmp / "index"), embedder=embedder)
        app = build_app(retriever)
        port = free_port()
        launch(app, port=port, block=False, quiet=True)
        browser_ms: list[float] = []
        library_ms: list[float] = []
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1440, "height": 1000})
                page.set_default_timeout(120_000)
                page.goto(f"http://127.0.0.1:{port}/", wait_until="load")
                page.wait_for_selector("#qa-question textarea")
                for i, q in enumerate(questions):
                    # The baseline right before, so both see the same load on a shared machine.
                    t0 = time.perf_counter()
                    retriever.ask(q, k=K)
                    library = (time.perf_counter() - t0) * 1000
                    page.fill("#qa-question textarea", q)
                    elapsed = float(page.evaluate(MEASURE_JS, i))
                    # Let the follow-up export step finish so it does not overlap the next question.
                    page.wait_for_timeout(150)
                    if i >= args.warmup:
                        browser_ms.append(elapsed)
                        library_ms.append(library)
                browser.close()
        finally:
            app.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    def row(name: str, xs: list[float]) -> str:
        return (
            f"| {name} | {statistics.median(xs):.0f} ms | {percentile(xs, 90):.0f} ms "
            f"| {min(xs):.0f} ms | {max(xs):.0f} ms |"
        )

    ratio = statistics.median(browser_ms) / statistics.median(library_ms)
    overhead = [b - lib for b, lib in zip(browser_ms, library_ms)]
    print(f"Web UI latency, warm: {len(browser_ms)} seed questions, k={K}, hybrid, highlights on.")
    print(f"Machine: {machine()}.\n")
    print("| measure | median | p90 | min | max |")
    print("|---|---|---|---|---|")
    print(row("browser: click Ask -> answer rendered", browser_ms))
    print(row("library: `Retriever.ask` alone (baseline)", library_ms))
    print(row("difference per question (web layer)", overhead))
    print(
        f"\nBrowser / library median ratio: {ratio:.2f}. Target: browser median under 300 ms warm; "
        "on a loaded machine compare the ratio, not the absolute figure."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
