"""A real snapshot at 100k / 1M (/ 10M) passages through `build_index`, searched with the default.

For each size it builds an index with `qa.indexing.build_index` from generated documents
(each a title and paragraphs of sentences drawn at random from SciFact abstracts, so BM25
sees a real vocabulary), then opens it in a fresh process and asks questions with the
**default configuration**: hybrid candidates, sentence rerank, highlights and the
abstention cut-off (`Retriever(index).ask`).

The encoder is the one slow part (57 passages/s here: 1M passages would take five hours),
so the documents' vectors are generated: `SyntheticEmbedder` gives each passage and sentence
a topic-like unit vector (near one of n/100 random centres) and splits words at whitespace
for chunking. It reports the real model's name and fingerprint, so the opened index embeds
the questions with the real model (the default backend), included in every timing.

Measured per size, each in its own process:
- build: seconds and peak RSS of `build_index` (synthetic vectors; chunking, sentence
  tables, BM25, the FAISS store (`auto`: IVF-SQ8 from 200k), writing the snapshot);
- open: `Index.load` in a fresh process with the snapshot's pages evicted from the page
  cache first (cold) and again (warm), RSS after it;
- ask: warm p50 / p95 of `Retriever.ask` over 200 SciFact claims, RSS after them;
- baseline, same run: the same snapshot rewritten as format 4 (passages.jsonl and
  documents.jsonl, what qa wrote before the columnar tables) and opened the same way.

Run: `.venv/bin/python bench/scale.py --sizes 100000,1000000` (writes `## Scale` of
docs/BENCHMARKS.md; snapshots under --work, removed unless --keep).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ENV, ROOT, SCIFACT, machine, percentile, rss_mb, table, write_section  # noqa: E402

logger = logging.getLogger("bench.scale")
DIM = 384
WORDS_PER_PARAGRAPH = 90  # one paragraph ~ one passage (max_tokens 192, whitespace words here)


class SyntheticEmbedder:
    """Generated topic-like vectors under the real model's identity (see the module doc)."""

    def __init__(self, n_topics: int, seed: int = 0) -> None:
        from qa.embedding import DEFAULT_BACKEND
        from qa.embedding.models import model_fingerprint, resolve_model

        self.name, folder = resolve_model(None)
        self._fingerprint = model_fingerprint(folder)
        self.backend = DEFAULT_BACKEND
        self.dimension = DIM
        self.max_tokens = 256
        rng = np.random.default_rng(seed)
        self._centres = rng.standard_normal((max(1, n_topics), DIM)).astype(np.float32)
        self._centres /= np.linalg.norm(self._centres, axis=1, keepdims=True)
        self._rng = rng

    def fingerprint(self) -> str:
        return self._fingerprint

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        return [m.span() for m in re.finditer(r"\S+", text)]

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def _draw(self, m: int) -> np.ndarray:
        x = self._centres[self._rng.integers(0, len(self._centres), m)]
        x = x + self._rng.standard_normal((m, DIM)).astype(np.float32) / np.sqrt(DIM)
        return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)

    def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        return self._draw(len(texts))

    def embed_pieces(
        self, texts: Sequence[Sequence[str]], *, show_progress: bool = False
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        return self._draw(len(texts)), [self._draw(len(p)) for p in texts]


def sentence_pool(limit: int = 60_000) -> list[str]:
    out: list[str] = []
    with (SCIFACT / "corpus.jsonl").open(encoding="utf-8") as f:
        for line in f:
            text = json.loads(line)["text"]
            out.extend(s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) >= 5)
            if len(out) >= limit:
                break
    return out


def documents(n_passages: int, *, per_doc: int = 10, seed: int = 1):
    """Generated documents: `per_doc` paragraphs of ~90 words each, ~n_passages in all."""
    from qa.types import Document

    pool = sentence_pool()
    lengths = np.array([len(s.split()) for s in pool])
    rng = np.random.default_rng(seed)
    n_docs = max(1, n_passages // per_doc)
    for d in range(n_docs):
        paragraphs = []
        for _ in range(per_doc):
            picked, words = [], 0
            while words < WORDS_PER_PARAGRAPH:
                i = int(rng.integers(0, len(pool)))
                picked.append(pool[i])
                words += int(lengths[i])
            paragraphs.append(" ".join(picked))
        title = f"Synthetic document {d:07d}"
        text = title + "\n\n" + "\n\n".join(paragraphs) + "\n"
        yield Document(
            doc_id=f"d{d // 1000:04d}/doc{d:07d}.txt",
            title=title,
            text=text,
            sha256=f"{d:064x}",
            size=len(text.encode()),
            fmt="txt",
        )


def ask_rss_split_mb() -> dict:
    """RSS split as the kernel counts it: anonymous (the process's own memory) and file
    (pages of memory-mapped snapshot files, shared with the page cache and reclaimable)."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("RssAnon", "RssFile"):
            out[f"ask_{key[3:].lower()}_mb"] = int(value.split()[0]) / 1024
    return out


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def do_build(n: int, folder: Path) -> dict:
    from qa.indexing import build_index

    t0 = time.perf_counter()
    docs = list(documents(n))
    gen_s = time.perf_counter() - t0
    embedder = SyntheticEmbedder(n_topics=n // 100)
    t0 = time.perf_counter()
    report = build_index(None, folder, documents=docs, embedder=embedder)
    return {
        "passages": report.passages,
        "documents": len(docs),
        "generate_s": gen_s,
        "build_s": time.perf_counter() - t0,
        "build_peak_rss_mb": peak_rss_mb(),
    }


def evict(folder: Path) -> None:
    """Drop a folder's files from the page cache (POSIX_FADV_DONTNEED), for a cold open."""
    for p in folder.rglob("*"):
        if p.is_file():
            fd = os.open(p, os.O_RDONLY)
            try:
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def do_open(folder: Path, *, questions: int, cold: bool) -> dict:
    from qa.index import Index
    from qa.storage import IndexStore

    if cold:
        evict(Path(folder))
    rss0 = rss_mb()
    t0 = time.perf_counter()
    index = Index.load(folder)
    res = {"open_s": time.perf_counter() - t0, "open_rss_mb": rss_mb(), "base_rss_mb": rss0}
    res["store"] = index.manifest.store.params.get("type")
    res["format"] = index.manifest.format
    res["on_disk_mb"] = (
        sum(p.stat().st_size for p in IndexStore(folder).current().rglob("*") if p.is_file()) / 2**20
    )
    if questions:
        from qa.retrieval import Retriever

        with (SCIFACT / "queries.jsonl").open(encoding="utf-8") as f:
            claims = [json.loads(line)["text"] for line in f][: questions + 10]
        retriever = Retriever(index)  # the default configuration
        t0 = time.perf_counter()
        retriever.ask(claims[0])
        res["first_ask_s"] = time.perf_counter() - t0
        for q in claims[1:10]:
            retriever.ask(q)
        lat, answered = [], 0
        for q in claims[10:]:
            t0 = time.perf_counter()
            answer = retriever.ask(q)
            lat.append(time.perf_counter() - t0)
            answered += answer.answered
            assert answer.hits and all(h.highlights for h in answer.hits[:1])
        res.update(p50_ms=percentile(lat, 50) * 1000, p95_ms=percentile(lat, 95) * 1000, asked=len(lat))
        res["answered"] = answered
        res["ask_rss_mb"] = rss_mb()
        res.update(ask_rss_split_mb())
    return res


def downgrade(src: Path, dst: Path) -> None:
    """Copy a snapshot and rewrite its tables as format 4 JSON lines (what older qa wrote)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import downgrade_to_jsonl
    from qa.storage import IndexStore

    shutil.copytree(src, dst)
    downgrade_to_jsonl(IndexStore(dst).current(), 4)


def child(args: list[str], timeout: float) -> dict:
    cmd = [sys.executable, __file__, *args]
    proc = subprocess.run(cmd, env={**os.environ, **ENV}, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_size(n: int, work: Path, *, questions: int, keep: bool, reuse: bool = False) -> dict:
    folder = work / f"n{n}"
    if not reuse:
        shutil.rmtree(folder, ignore_errors=True)
    res: dict = {"n": n}
    logger.info("building %d passages in %s", n, folder)
    built = work / f"n{n}.build.json"
    if reuse and built.exists() and folder.exists():
        res["build"] = json.loads(built.read_text())  # an earlier `--build` (untimed beside others)
    else:
        res["build"] = child(["--build", str(n), "--dir", str(folder)], timeout=4 * 3600)
        built.write_text(json.dumps(res["build"]))
    logger.info("built: %s", res["build"])
    res["cold"] = child(["--open", str(folder), "--questions", str(questions), "--cold"], timeout=3600)
    res["warm"] = child(["--open", str(folder), "--questions", "0"], timeout=3600)
    logger.info("format 5: %s / %s", res["cold"], res["warm"])
    legacy = work / f"n{n}-format4"
    shutil.rmtree(legacy, ignore_errors=True)
    downgrade(folder, legacy)
    res["f4_cold"] = child(["--open", str(legacy), "--questions", "0", "--cold"], timeout=3600)
    res["f4_warm"] = child(["--open", str(legacy), "--questions", "0"], timeout=3600)
    logger.info("format 4: %s / %s", res["f4_cold"], res["f4_warm"])
    shutil.rmtree(legacy, ignore_errors=True)
    if not keep:
        shutil.rmtree(folder, ignore_errors=True)
    return res


def markdown(results: list[dict], command: str) -> str:
    rows = []
    for r in results:
        b, c, w, c4, w4 = r["build"], r["cold"], r["warm"], r["f4_cold"], r["f4_warm"]
        rows.append(
            [
                f"{b['passages']:,}",
                f"{b['documents']:,}",
                c["store"],
                f"{c['on_disk_mb']:,.0f} MB",
                f"{b['build_s']:,.0f} s / {b['build_peak_rss_mb'] / 1024:.1f} GB",
                f"{c['open_s']:.2f} s / {w['open_s']:.2f} s",
                f"{c4['open_s']:.2f} s / {w4['open_s']:.2f} s ({c4['open_s'] / c['open_s']:.0f}x)",
                f"{c['open_rss_mb']:,.0f} MB (format 4: {c4['open_rss_mb']:,.0f} MB)",
                f"{c['p50_ms']:.1f} / {c['p95_ms']:.1f} ms",
                f"{c['ask_rss_mb']:,.0f} MB",
            ]
        )
    head = [
        "passages",
        "documents",
        "store",
        "on disk",
        "build (synthetic vectors) / peak RSS",
        "open cold / warm",
        "format 4 open cold / warm (ratio)",
        "RSS after open",
        "default ask p50 / p95",
        "RSS after 200 asks",
    ]
    return (
        f"Machine: {machine()}.\n\n"
        "A real snapshot built with `build_index` (generated documents of SciFact sentences, "
        "synthetic passage and sentence vectors, whitespace words for chunking), opened in a "
        "fresh process; `ask` is the default configuration (hybrid, sentence rerank, highlights, "
        "abstention) with the real model embedding each question (default backend), 200 SciFact "
        "claims after 10 warm-up questions. Cold = the snapshot's pages evicted from the page cache "
        "first. Format 4 = the same snapshot with JSON-lines tables (the layout before this change), "
        "opened the same way in the same run; RSS after open excludes the model (loaded by the first "
        f"question). Command: `{command}`.\n\n" + table(head, rows)
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="100000,1000000")
    p.add_argument("--questions", type=int, default=200)
    p.add_argument("--work", default="/tmp/qa-scale")
    p.add_argument("--keep", action="store_true", help="keep the built snapshots")
    p.add_argument(
        "--reuse",
        action="store_true",
        help="reuse a snapshot built earlier in --work (`--build N --dir WORK/nN`)",
    )
    p.add_argument("--no-write", action="store_true", help="do not write docs/BENCHMARKS.md")
    p.add_argument("--build", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--open", default=None, help=argparse.SUPPRESS)
    p.add_argument("--cold", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--dir", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("qa").setLevel(logging.WARNING)
    if args.build:
        res = do_build(args.build, Path(args.dir))
        (Path(args.dir).parent / f"n{args.build}.build.json").write_text(json.dumps(res))
        print(json.dumps(res))
        return
    if args.open:
        print(json.dumps(do_open(Path(args.open), questions=args.questions, cold=args.cold)))
        return
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    results = []
    for n in (int(s) for s in args.sizes.split(",")):
        results.append(run_size(n, work, questions=args.questions, keep=args.keep, reuse=args.reuse))
        (work / "results.json").write_text(json.dumps(results, indent=1))
    command = ".venv/bin/python bench/scale.py --sizes " + args.sizes
    body = markdown(results, command)
    print(body)
    if not args.no_write:
        write_section("Scale (issue 12)", body)


if __name__ == "__main__":
    main()
