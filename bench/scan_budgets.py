"""Cost of the per-file extraction budgets: scanning a corpus today (main) vs with budgets.

In one run, for each corpus, the same `scan_corpus` is timed three ways, each in a fresh
process, best of --repeat:

- `main`: the code of the `main` branch (`git archive main src/qa`), readers called directly;
- `in-process`: this tree with `--max-seconds 0` (page, decompression, depth and
  character checks, no worker);
- `budgets`: this tree with the default limits (PDF and HTML read in the worker process).

Corpora: seeds/, and --docs generated small documents as .txt, as .html, and mixed
(a third each .txt/.html/.pdf). Prints a Markdown table with the ratio to `main`.

Run: `.venv/bin/python bench/scan_budgets.py [--docs 3000] [--repeat 3]`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from common import ENV, ROOT, SEEDS, machine, table  # noqa: E402

SCAN = """
import sys, time
from pathlib import Path
from qa.ingest import scan_corpus
kwargs = {}
if sys.argv[2] == "in-process":
    from qa.ingest import ExtractionLimits
    kwargs["limits"] = ExtractionLimits(seconds=0)
t0 = time.perf_counter()
scan = scan_corpus(Path(sys.argv[1]), **kwargs)
print(time.perf_counter() - t0, len(scan.documents), len(scan.skipped))
"""


def generate(folder: Path, n: int, kinds: tuple[str, ...]) -> Path:
    from _pdf import make_pdf

    folder.mkdir(parents=True)
    for i in range(n):
        kind = kinds[i % len(kinds)]
        body = f"Document {i}\n\nParagraph about topic {i % 97}: the quick brown fox number {i} jumps."
        if kind == "txt":
            (folder / f"d{i:05}.txt").write_text(body + "\n", encoding="utf-8")
        elif kind == "html":
            html = f"<html><head><title>Doc {i}</title></head><body><h1>Document {i}</h1><p>{body}</p></body></html>"
            (folder / f"d{i:05}.html").write_text(html, encoding="utf-8")
        else:
            (folder / f"d{i:05}.pdf").write_bytes(make_pdf([f"Document {i}", body.replace("\n", " ")]))
    return folder


def baseline_src(tmp: Path) -> Path:
    archive = tmp / "main.tar"
    with open(archive, "wb") as f:
        subprocess.run(["git", "-C", str(ROOT), "archive", "main", "src/qa"], stdout=f, check=True)
    with tarfile.open(archive) as t:
        t.extractall(tmp / "main", filter="data")
    return tmp / "main" / "src"


def scan_seconds(corpus: Path, mode: str, src: Path) -> tuple[float, str]:
    env = {**ENV, "PYTHONPATH": str(src)}
    out = subprocess.run(
        [sys.executable, "-c", SCAN, str(corpus), mode], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    return float(out[0]), f"{out[1]} docs, {out[2]} skipped"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--docs", type=int, default=3000, help="generated documents per corpus (default 3000)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per configuration; the best is kept")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="qa-bench-extract-") as tmp_name:
        tmp = Path(tmp_name)
        main_src, this_src = baseline_src(tmp), ROOT / "src"
        corpora = {
            "seeds/": SEEDS,
            f"{args.docs:,} .txt": generate(tmp / "txt", args.docs, ("txt",)),
            f"{args.docs:,} .html": generate(tmp / "html", args.docs, ("html",)),
            f"{args.docs:,} mixed txt/html/pdf": generate(tmp / "mixed", args.docs, ("txt", "html", "pdf")),
        }
        rows = []
        started = time.perf_counter()
        for label, corpus in corpora.items():
            best: dict[str, float] = {}
            seen = ""
            for _ in range(args.repeat):
                for mode, src in (("main", main_src), ("in-process", this_src), ("budgets", this_src)):
                    seconds, seen = scan_seconds(corpus, mode, src)
                    best[mode] = min(best.get(mode, float("inf")), seconds)
            rows.append(
                [
                    label,
                    seen,
                    f"{best['main']:.2f}",
                    f"{best['in-process']:.2f} ({best['in-process'] / best['main']:.2f}x)",
                    f"{best['budgets']:.2f} ({best['budgets'] / best['main']:.2f}x)",
                ]
            )
    print(machine())
    print(
        f"scan_corpus seconds, best of {args.repeat}; ratio to main in brackets ({time.perf_counter() - started:.0f} s)"
    )
    print(table(["corpus", "result", "main", "in-process checks", "budgets (worker)"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
