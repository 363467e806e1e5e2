"""Core benchmark on the seed corpus: index build, `qa ask` latency (warm and cold), batch throughput.

Run: `.venv/bin/python bench/core.py` (writes the "Core" section of docs/BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    QA,
    SEEDS,
    machine,
    median,
    ms,
    percentile,
    run,
    seed_questions,
    table,
    timed,
    write_section,
)

logger = logging.getLogger("bench.core")


def bench_core(*, repeats: int = 3, per_mode: int = 50, batch_n: int = 200) -> str:
    """Run the core benchmark and return its Markdown section body."""
    from qa.embedding import load_embedder
    from qa.indexing import build_index
    from qa.retrieval import Retriever

    questions = seed_questions()
    rows: list[list[object]] = []
    with tempfile.TemporaryDirectory(prefix="qa-bench-core-") as tmp_root:
        tmp = Path(tmp_root)

        # 1. cold index build in a fresh process: start-up + model load + build.
        cold_index = []
        for r in range(repeats):
            dt, _, _ = run([str(QA), "index", "--corpus", str(SEEDS), "--index", str(tmp / f"cold{r}"), "-q"])
            cold_index.append(dt)
        # ... and in-process, model already loaded.
        holder: dict[str, object] = {}
        load_s = timed(lambda: holder.setdefault("e", load_embedder(None)))
        embedder = holder["e"]
        warm_build = []
        report = None
        for r in range(repeats):
            out = tmp / f"warm{r}"
            dt = timed(lambda out=out: holder.__setitem__("r", build_index(SEEDS, out, embedder=embedder)))
            warm_build.append(dt)
            report = holder["r"]
        n_passages = report.passages  # type: ignore[attr-defined]
        rows.append(
            [
                "cold index build (process start, model load, build)",
                f"{median(cold_index):.2f} s",
                f"qa index --corpus seeds --index TMP (fresh folder, x{repeats})",
            ]
        )
        rows.append(["model load (in-process)", f"{load_s:.2f} s", "load_embedder()"])
        rows.append(
            [
                f"index build, model loaded ({n_passages} passages)",
                f"{median(warm_build):.2f} s",
                f"build_index(seeds, TMP, embedder=...) x{repeats}",
            ]
        )

        # 2. warm ask latency per mode, after a warm-up.
        index_dir = tmp / "cold0"
        retriever = Retriever.open(index_dir, embedder=embedder)
        for q in questions[:5]:
            retriever.ask(q)
        sample = questions[:per_mode]
        for mode in ("dense", "bm25", "hybrid"):
            lat = []
            for q in sample:
                lat.append(timed(lambda q=q, mode=mode: retriever.ask(q, mode=mode)))
            rows.append(
                [
                    f"warm ask, {mode} (p50 / p95 over {len(sample)} questions)",
                    f"{ms(percentile(lat, 50))} / {ms(percentile(lat, 95))}",
                    f"Retriever.ask(q, mode={mode!r}) (k=5, highlights on)",
                ]
            )
        # Cold ask: a new process per question, start to printed answer.
        cold_ask = []
        for q in questions[:repeats]:
            dt, out, _ = run([str(QA), "ask", q, "--index", str(index_dir), "-q"])
            if "[" not in out:
                raise RuntimeError(f"qa ask printed no cited passage: {out[:300]}")
            cold_ask.append(dt)
        rows.append(
            [
                "cold ask (process start to answer)",
                f"{median(cold_ask):.2f} s",
                f'qa ask "..." --index TMP (x{repeats})',
            ]
        )

        # 3. batch throughput, in-process and through the CLI.
        batch = [questions[i % len(questions)] for i in range(batch_n)]
        retriever.ask_many(batch[:8])
        tput = []
        for _ in range(repeats):
            dt = timed(
                lambda: [retriever.ask_many(batch[i : i + 64], k=10) for i in range(0, len(batch), 64)]
            )
            tput.append(len(batch) / dt)
        rows.append(
            [
                f"batch throughput, in-process ({batch_n} questions)",
                f"{median(tput):.1f} q/s",
                "Retriever.ask_many(64 at a time, k=10, hybrid, highlights on)",
            ]
        )
        qfile = tmp / "questions.jsonl"
        qfile.write_text(
            "".join(json.dumps({"id": f"b{i}", "question": q}) + "\n" for i, q in enumerate(batch)),
            encoding="utf-8",
        )
        cli_wall, cli_inner = [], []
        for r in range(repeats):
            dt, _, err = run(
                [
                    str(QA),
                    "batch",
                    str(qfile),
                    "--index",
                    str(index_dir),
                    "--out",
                    str(tmp / f"a{r}.jsonl"),
                    "-v",
                ]
            )
            cli_wall.append(batch_n / dt)
            m = re.search(r"answered \d+ questions in [\d.]+s \(([\d.]+) questions/s\)", err)
            if m:
                cli_inner.append(float(m.group(1)))
        inner = f" ({median(cli_inner):.1f} q/s once loaded)" if cli_inner else ""
        rows.append(
            [
                f"batch throughput, CLI ({batch_n} questions)",
                f"{median(cli_wall):.1f} q/s incl. start-up{inner}",
                "qa batch questions.jsonl --index TMP --out answers.jsonl",
            ]
        )

    body = (
        f"Machine: {machine()}.\n\n"
        f"Seed corpus: {len(list(SEEDS.iterdir()))} documents, {n_passages} passages; "
        f"questions from eval/seed_questions.jsonl. Figures are medians over {repeats} runs "
        "unless a percentile is given. Command: `.venv/bin/python bench/core.py`.\n\n"
        + table(["measure", "median", "command"], rows)
    )
    return body


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--no-write", action="store_true", help="print only; leave docs/BENCHMARKS.md alone")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    body = bench_core(repeats=args.repeats)
    print(body)
    if not args.no_write:
        write_section("Core", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
